#include "math/siqs/siqs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

#include "math/siqs/cofactor.h"
#include "math/siqs/factor_base.h"
#include "tests/support/numbers.h"

namespace zfactor::math::siqs {
namespace {

// name -> n of the known semiprimes (tests/support/numbers.h).
std::map<std::string, mpz_class> Semiprimes() {
  std::map<std::string, mpz_class> out;
  for (const support::KnownSemiprime& s : support::ReadSemiprimes()) {
    out[s.name] = mpz_class(s.n);
  }
  return out;
}

void ExpectSplits(const mpz_class& n, int threads = 1) {
  Options options;
  options.threads = threads;
  Stats stats;
  const std::optional<mpz_class> f = FindFactor(n, options, Hooks{}, &stats);
  ASSERT_TRUE(f.has_value()) << n;
  EXPECT_GT(*f, 1);
  EXPECT_LT(*f, n);
  EXPECT_TRUE(mpz_divisible_p(n.get_mpz_t(), f->get_mpz_t())) << n << " " << *f;
}

TEST(Siqs, SplitsKnownSemiprimes) {
  const auto numbers = Semiprimes();
  ASSERT_FALSE(numbers.empty()) << "missing " << support::NumbersDir();
  for (const char* name : {"C30_1", "C40_1", "C40_2", "C40_3", "C50_1", "C50_2"}) {
    SCOPED_TRACE(name);
    ExpectSplits(numbers.at(name));
  }
}

TEST(Siqs, MultipliersDifferAcrossTestNumbers) {
  // The known-answer numbers above exercise several Knuth-Schroeppel multipliers.
  const auto numbers = Semiprimes();
  std::set<uint32_t> multipliers;
  for (const char* name : {"C30_1", "C40_1", "C40_2", "C40_3", "C50_1", "C50_2"}) {
    multipliers.insert(ChooseMultiplier(numbers.at(name)));
  }
  EXPECT_GE(multipliers.size(), 4u);
}

TEST(Siqs, SplitsRepeatedFactor) {
  mpz_class p, q;
  mpz_nextprime(p.get_mpz_t(), mpz_class("100000000000007").get_mpz_t());
  mpz_nextprime(q.get_mpz_t(), mpz_class("3000000000000000").get_mpz_t());
  ExpectSplits(p * p * q);
}

TEST(Siqs, PrimeGivesNothing) {
  mpz_class p;
  mpz_nextprime(p.get_mpz_t(),
                mpz_class("1000000000000000000000000000000000000000000").get_mpz_t());
  Stats stats;
  EXPECT_FALSE(FindFactor(p, Options{}, Hooks{}, &stats).has_value());
}

TEST(Siqs, PerfectPowers) {
  mpz_class p;
  mpz_nextprime(p.get_mpz_t(), mpz_class("1000000000000000000000037").get_mpz_t());
  const auto f = FindFactor(p * p, Options{}, Hooks{});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(*f, p);
  const auto g = FindFactor(p * p * p, Options{}, Hooks{});
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(*g, p);
}

TEST(Siqs, SmallAndEvenInputs) {
  EXPECT_FALSE(FindFactor(mpz_class(1), Options{}, Hooks{}).has_value());
  EXPECT_FALSE(FindFactor(mpz_class(3), Options{}, Hooks{}).has_value());
  EXPECT_EQ(FindFactor(mpz_class("200000000000000000000000000000000000000002"), Options{}, Hooks{}),
            mpz_class(2));
  // A factor-base prime dividing n is found while building the factor base.
  const mpz_class n = mpz_class(1009) * Semiprimes().at("C40_1");
  const auto f = FindFactor(n, Options{}, Hooks{});
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(mpz_divisible_p(n.get_mpz_t(), f->get_mpz_t()));
  EXPECT_GT(*f, 1);
  EXPECT_LT(*f, n);
}

TEST(Siqs, CancelStopsPromptly) {
  std::atomic<bool> cancel{true};
  Hooks hooks;
  hooks.cancel = &cancel;
  EXPECT_FALSE(FindFactor(Semiprimes().at("C60_2"), Options{}, hooks).has_value());
}

TEST(Siqs, CancelFromProgressCallback) {
  std::atomic<bool> cancel{false};
  std::vector<double> fractions;
  Hooks hooks;
  hooks.cancel = &cancel;
  hooks.on_progress = [&](const std::string& stage, double fraction) {
    EXPECT_EQ(stage, "siqs");
    fractions.push_back(fraction);
    if (fraction > 0.3) cancel = true;
  };
  EXPECT_FALSE(FindFactor(Semiprimes().at("C60_2"), Options{}, hooks).has_value());
  ASSERT_FALSE(fractions.empty());
  EXPECT_LT(fractions.back(), 0.5);
  EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
}

TEST(Siqs, ReportsStats) {
  Stats stats;
  ASSERT_TRUE(FindFactor(Semiprimes().at("C40_2"), Options{}, Hooks{}, &stats).has_value());
  EXPECT_GT(stats.peak_bytes, 0u);
  EXPECT_GT(stats.polynomials, 0u);
  EXPECT_GT(stats.relations, stats.fb_size / 2);
}

TEST(Siqs, SplitAndMergeARanges) {
  // Two "machines" sieve interleaved A ranges; their serialised batches are
  // merged until the relations suffice.
  const mpz_class n = Semiprimes().at("C40_3");
  Options options;
  std::vector<RelationBatch> machine[2];
  std::optional<mpz_class> f;
  constexpr uint64_t kChunk = 4;
  for (uint64_t chunk = 0; chunk < 200 && !f; ++chunk) {
    const auto batch = SieveRange(n, options, chunk * kChunk, kChunk, Hooks{});
    ASSERT_TRUE(batch.has_value());
    EXPECT_EQ(batch->first_a, chunk * kChunk);
    machine[chunk % 2].push_back(*batch);
    if (chunk < 2) continue;
    std::vector<RelationBatch> received;
    for (const auto& m : machine) {
      for (const auto& b : m) {
        const auto parsed = RelationBatch::Parse(b.Serialize());
        ASSERT_TRUE(parsed.has_value());
        received.push_back(*parsed);
      }
    }
    f = FactorFromBatches(n, options, received);
  }
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(mpz_divisible_p(n.get_mpz_t(), f->get_mpz_t()));
  EXPECT_GT(*f, 1);
  EXPECT_LT(*f, n);
}

TEST(Siqs, MergeIgnoresBatchesForOtherNumbers) {
  const auto numbers = Semiprimes();
  const auto other = SieveRange(numbers.at("C40_1"), Options{}, 0, 200, Hooks{});
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(FactorFromBatches(numbers.at("C40_2"), Options{}, {*other}).has_value());
  // The same relations do factor their own number.
  const auto own = FactorFromBatches(numbers.at("C40_1"), Options{}, {*other});
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(mpz_divisible_p(numbers.at("C40_1").get_mpz_t(), own->get_mpz_t()));
}

TEST(Siqs, SplitsSeededRandomSemiprimes) {
  gmp_randclass rng(gmp_randinit_default);
  rng.seed(20261123);
  for (int bits : {110, 124, 140, 150}) {
    mpz_class p, q;
    const mpz_class a = rng.get_z_bits(bits / 2) | (mpz_class(1) << (bits / 2 - 1));
    const mpz_class b = rng.get_z_bits(bits - bits / 2) | (mpz_class(1) << (bits - bits / 2 - 1));
    mpz_nextprime(p.get_mpz_t(), a.get_mpz_t());
    mpz_nextprime(q.get_mpz_t(), b.get_mpz_t());
    SCOPED_TRACE(bits);
    const mpz_class n = p * q;
    const auto f = FindFactor(n, Options{}, Hooks{});
    ASSERT_TRUE(f.has_value());
    EXPECT_TRUE(*f == p || *f == q) << n << " " << *f;
  }
}

TEST(Siqs, DoubleLargePrimeVariationSplits) {
  Options options;
  options.dlp_exponent = 1.7;
  options.lp_mult = 30;
  options.fudge_bits = 6;
  for (const char* name : {"C50_1", "C50_3"}) {
    SCOPED_TRACE(name);
    const mpz_class n = Semiprimes().at(name);
    Stats stats;
    const auto f = FindFactor(n, options, Hooks{}, &stats);
    ASSERT_TRUE(f.has_value());
    EXPECT_GT(*f, 1);
    EXPECT_LT(*f, n);
    EXPECT_TRUE(mpz_divisible_p(n.get_mpz_t(), f->get_mpz_t()));
    EXPECT_GT(stats.doubles, 0u);
  }
}

TEST(Cofactor, SplitsProductsOfTwoPrimes) {
  const uint64_t p = 1000000007, q = 2147483647;
  const uint64_t f = SplitLargePrimes(p * q);
  EXPECT_TRUE(f == p || f == q) << f;
  const uint64_t g = SplitLargePrimes(65537ull * 65537ull);
  EXPECT_EQ(g, 65537u);
}

TEST(Cofactor, DoubleLargePrimeSplit) {
  EXPECT_TRUE(ProbablePrime64(1000000007));
  EXPECT_TRUE(ProbablePrime64(18446744073709551557ull));
  EXPECT_FALSE(ProbablePrime64(1000000007ull * 998244353ull));
  EXPECT_FALSE(ProbablePrime64(65537ull * 65537ull));
  // Cofactors as the 80-100 digit sieve sees them: two primes of 19-28 bits
  // (rho below 37 bits, micro-ECM above).
  int split = 0, tried = 0;
  for (uint64_t p : {524309ull, 1048583ull, 4194319ull, 16777259ull}) {
    for (uint64_t q : {786433ull, 3145739ull, 50331653ull, 201326611ull}) {
      const uint64_t n = p * q;
      ++tried;
      const uint64_t f = SplitLargePrimes(n);
      if (f == 0) continue;
      EXPECT_TRUE(f == p || f == q) << n << " " << f;
      ++split;
    }
  }
  // The split may give up (the sieve then drops the relation), but rarely.
  EXPECT_GE(split, tried - 1);
}

TEST(Siqs, SplitsC60) { ExpectSplits(Semiprimes().at("C60_1")); }

TEST(Siqs, SplitsWithTwoThreads) { ExpectSplits(Semiprimes().at("C50_3"), 2); }

TEST(SiqsSlow, SplitsC70) { ExpectSplits(Semiprimes().at("C70_1")); }

}  // namespace
}  // namespace zfactor::math::siqs
