#include "math/siqs/factor_base.h"

#include <algorithm>
#include <cmath>

#include "math/siqs/params.h"

namespace zfactor::math::siqs {

uint32_t PowMod(uint32_t x, uint32_t e, uint32_t m) {
  uint64_t result = 1 % m;
  uint64_t base = x % m;
  while (e != 0) {
    if (e & 1) result = result * base % m;
    base = base * base % m;
    e >>= 1;
  }
  return static_cast<uint32_t>(result);
}

uint32_t InvMod(uint32_t a, uint32_t m) {
  int64_t t = 0, new_t = 1;
  int64_t r = m, new_r = a % m;
  while (new_r != 0) {
    const int64_t q = r / new_r;
    std::swap(t, new_t);
    new_t -= q * t;
    std::swap(r, new_r);
    new_r -= q * r;
  }
  if (t < 0) t += m;
  return static_cast<uint32_t>(t);
}

uint32_t SqrtMod(uint32_t a, uint32_t p) {
  a %= p;
  if (a == 0 || p == 2) return a;
  if (p % 4 == 3) return PowMod(a, (p + 1) / 4, p);
  // Tonelli-Shanks.
  uint32_t q = p - 1, s = 0;
  while ((q & 1) == 0) {
    q >>= 1;
    ++s;
  }
  uint32_t z = 2;
  while (PowMod(z, (p - 1) / 2, p) != p - 1) ++z;
  uint64_t c = PowMod(z, q, p);
  uint64_t x = PowMod(a, (q + 1) / 2, p);
  uint64_t t = PowMod(a, q, p);
  uint32_t m = s;
  while (t != 1) {
    uint32_t i = 0;
    uint64_t t2 = t;
    while (t2 != 1) {
      t2 = t2 * t2 % p;
      ++i;
    }
    uint64_t b = c;
    for (uint32_t j = 0; j + i + 1 < m; ++j) b = b * b % p;
    x = x * b % p;
    c = b * b % p;
    t = t * c % p;
    m = i;
  }
  return static_cast<uint32_t>(x);
}

namespace {

std::vector<uint32_t> OddPrimesBelow(uint32_t limit) {
  std::vector<bool> composite(limit, false);
  std::vector<uint32_t> primes;
  for (uint32_t i = 3; i < limit; i += 2) {
    if (composite[i]) continue;
    primes.push_back(i);
    for (uint64_t j = static_cast<uint64_t>(i) * i; j < limit; j += 2 * i) composite[j] = true;
  }
  return primes;
}

void Append(FactorBase& fb, uint32_t p, uint32_t root) {
  fb.prime.push_back(p);
  fb.sqrt_kn.push_back(root);
  fb.logp.push_back(static_cast<uint8_t>(std::lround(std::log2(static_cast<double>(p)))));
}

}  // namespace

void SetLogScale(FactorBase& fb, double scale) {
  for (uint32_t i = 0; i < fb.size(); ++i) {
    const double l = i == 0 ? 0.0 : std::log2(static_cast<double>(fb.prime[i])) * scale;
    fb.logp[i] = static_cast<uint8_t>(std::max(1L, std::lround(l)));
  }
}

std::optional<FactorBase> BuildFactorBase(const mpz_class& n, uint32_t multiplier, uint32_t size,
                                          uint32_t small_prime, uint32_t* divisor) {
  FactorBase fb;
  fb.n = n;
  fb.multiplier = multiplier;
  fb.kn = n * multiplier;
  size = std::max<uint32_t>(size, 16);
  Append(fb, 1, 0);  // -1
  Append(fb, 2, static_cast<uint32_t>(mpz_fdiv_ui(fb.kn.get_mpz_t(), 2)));
  for (uint32_t p = 3; p <= multiplier; p += 2) {
    if (multiplier % p != 0) continue;
    if (mpz_divisible_ui_p(n.get_mpz_t(), p) && mpz_cmp_ui(n.get_mpz_t(), p) != 0) {
      *divisor = p;
      return std::nullopt;
    }
    Append(fb, p, 0);
  }
  fb.first_sorted = fb.size();
  uint32_t limit = std::max<uint32_t>(1000, static_cast<uint32_t>(size * std::log(size + 2.0) * 3));
  for (;;) {
    fb.prime.resize(fb.first_sorted);
    fb.sqrt_kn.resize(fb.first_sorted);
    fb.logp.resize(fb.first_sorted);
    for (uint32_t p : OddPrimesBelow(limit)) {
      if (fb.size() >= size) break;
      if (multiplier % p == 0) continue;
      if (mpz_divisible_ui_p(n.get_mpz_t(), p) && mpz_cmp_ui(n.get_mpz_t(), p) != 0) {
        *divisor = p;
        return std::nullopt;
      }
      const uint32_t r = static_cast<uint32_t>(mpz_fdiv_ui(fb.kn.get_mpz_t(), p));
      if (r == 0 || PowMod(r, (p - 1) / 2, p) != 1) continue;
      Append(fb, p, SqrtMod(r, p));
    }
    if (fb.size() >= size) break;
    limit *= 2;
  }
  fb.first_sieved = fb.first_sorted;
  while (fb.first_sieved < fb.size() && fb.prime[fb.first_sieved] < small_prime) ++fb.first_sieved;
  fb.first_bucket = fb.first_sieved;
  while (fb.first_bucket < fb.size() && fb.prime[fb.first_bucket] < kBucketMinPrime)
    ++fb.first_bucket;
  return fb;
}

}  // namespace zfactor::math::siqs
