#include "tests/math_small/oracle.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <utility>

#include "math/small/small.h"
#include "tests/support/gp.h"

namespace zfactor::math::small::testing {

u128 RandomBits(std::mt19937_64& rng, int bits) {
  u128 x = Make128(rng(), rng());
  if (bits < 128) x &= (static_cast<u128>(1) << bits) - 1;
  return x | (static_cast<u128>(1) << (bits - 1));
}

u128 RandomPrime(std::mt19937_64& rng, int bits) {
  while (true) {
    const u128 p = RandomBits(rng, bits) | (bits > 1 ? 1 : 0);
    if (IsProbablePrime128(p)) return p;
  }
}

bool AskGp(const std::vector<u128>& numbers, std::vector<GpAnswer>* answers, std::string* error) {
  std::vector<std::string> decimal;
  for (const u128 n : numbers) decimal.push_back(ToString128(n));
  const auto gp = support::AskGpFactorizations(decimal, error);
  if (!gp) return false;
  answers->clear();
  for (const support::GpFactorization& f : *gp) {
    GpAnswer a;
    a.is_prime = f.isprime;
    a.is_pseudoprime = f.ispseudoprime;
    for (const auto& [prime, exponent] : f.factors) {
      u128 p = 0;
      if (!Parse128(prime, &p)) {
        *error = "unparsable gp factor: " + prime;
        return false;
      }
      a.factors.insert(a.factors.end(), exponent, p);
    }
    answers->push_back(std::move(a));
  }
  return true;
}

bool AskGpSuyamaOrders(const std::vector<SuyamaQuery>& queries,
                       std::vector<std::vector<PrimePower>>* orders, std::string* error) {
  std::ostringstream program;
  // The Montgomery curve B y^2 = x^3 + A x^2 + x of Suyama's sigma, through
  // (x0, 1) with B = x0^3 + A x0^2 + x0, in Weierstrass form (X, Y) = (B x, B^2 y).
  program << "o(p, s) = my(K = Mod(1, p), u = K * (s^2 - 5), v = K * 4 * s, x = u^3 / v^3,"
             " A = (v - u)^3 * (3 * u + v) / (4 * u^3 * v) - 2, b = x^3 + A * x^2 + x,"
             " E = ellinit([0, b * A, 0, b^2, 0], K)); ellorder(E, [x * b, b^2]);\n"
          << "q = [";
  for (size_t i = 0; i < queries.size(); ++i) {
    program << (i ? ";" : "") << ToString128(queries[i].p) << "," << queries[i].sigma;
  }
  program << "];\n"
          << "for (i = 1, #q~, f = factor(o(q[i, 1], q[i, 2])); s = \"o\";"
             " for (j = 1, #f~, s = Str(s, \" \", f[j, 1], \" \", f[j, 2])); print(s));";
  const std::optional<std::string> output = support::RunGp(program.str(), error);
  if (!output) return false;
  orders->clear();
  std::istringstream lines(*output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string tag;
    if (!(words >> tag) || tag != "o") {
      *error = "unparsable gp line: " + line;
      return false;
    }
    std::vector<PrimePower> order;
    std::string prime, exponent;
    while (words >> prime >> exponent) {
      PrimePower pp;
      if (!Parse128(prime, &pp.prime)) {
        *error = "unparsable gp prime: " + prime;
        return false;
      }
      pp.exponent = std::atoi(exponent.c_str());
      order.push_back(pp);
    }
    orders->push_back(order);
  }
  if (orders->size() != queries.size()) {
    *error = "gp answered " + std::to_string(orders->size()) + " of " +
             std::to_string(queries.size()) + " queries: " + output->substr(0, 300);
    return false;
  }
  return true;
}

std::vector<u128> MixedInputs(uint64_t seed, int scale) {
  std::mt19937_64 rng(seed);
  std::vector<u128> numbers;
  for (int bits = 1; bits <= 128; ++bits) {
    for (int i = 0; i < 8 * scale; ++i) numbers.push_back(RandomBits(rng, bits));
  }
  for (int a = 8; a <= 32; a += 4) {  // word-size semiprimes
    for (int i = 0; i < 20 * scale; ++i) {
      numbers.push_back(RandomPrime(rng, a) * RandomPrime(rng, 64 - a));
    }
  }
  for (int a = 16; a <= 44; a += 4) {  // two-limb semiprimes with a findable small factor
    for (int i = 0; i < 8 * scale; ++i) {
      numbers.push_back(RandomPrime(rng, a) * RandomPrime(rng, 60 + (i * 7) % (68 - a) + 1));
    }
  }
  for (int i = 0; i < 2 * scale; ++i) {  // balanced two-limb semiprimes: the sieve's work
    for (int bits = 66; bits <= 128; bits += 6) {
      numbers.push_back(RandomPrime(rng, bits / 2) * RandomPrime(rng, bits - bits / 2));
    }
  }
  for (int i = 0; i < 40 * scale; ++i) {  // prime powers
    const int k = 2 + i % 5;
    const u128 p = RandomPrime(rng, 120 / k - i % 7);
    u128 n = 1;
    for (int e = 0; e < k; ++e) n *= p;
    numbers.push_back(n);
  }
  for (int d = -20; d <= 20; ++d) {  // around 2^32 and 2^64
    numbers.push_back(static_cast<u128>((1ll << 32) + d));
    numbers.push_back((static_cast<u128>(1) << 64) + static_cast<u128>(static_cast<i128>(d)));
  }
  return numbers;
}

void ExpectAgreesWithGp(const std::vector<u128>& numbers) {
  std::vector<GpAnswer> answers;
  std::string error;
  ASSERT_TRUE(AskGp(numbers, &answers, &error)) << error;
  for (size_t i = 0; i < numbers.size(); ++i) {
    const u128 n = numbers[i];
    const GpAnswer& gp = answers[i];
    std::vector<u128> ours;
    ASSERT_TRUE(Factor128(n, &ours, Hooks{}));
    ASSERT_EQ(ours, gp.factors) << ToString128(n);
    EXPECT_EQ(IsProbablePrime128(n), gp.is_pseudoprime) << ToString128(n);
    if (Hi64(n) == 0) {
      EXPECT_EQ(IsPrime64(Lo64(n)), gp.is_prime) << ToString128(n);
      std::vector<uint64_t> ours64;
      Factor64(Lo64(n), &ours64);
      ASSERT_EQ(std::vector<u128>(ours64.begin(), ours64.end()), gp.factors) << ToString128(n);
    }
  }
}

void ExpectIsPrime64MatchesSieve(uint32_t limit) {
  std::vector<bool> prime(limit, true);
  prime[0] = prime[1] = false;
  for (uint32_t p = 2; p * p < limit; ++p) {
    if (!prime[p]) continue;
    for (uint32_t q = p * p; q < limit; q += p) prime[q] = false;
  }
  for (uint32_t n = 0; n < limit; ++n) ASSERT_EQ(IsPrime64(n), prime[n]) << n;
}

}  // namespace zfactor::math::small::testing
