// Property tests: the engine against PARI/GP on seeded random inputs.
#include <gtest/gtest.h>

#include "math/factor.h"
#include "tests/math/gp_oracle.h"

namespace zfactor::math {
namespace {

using testing::AskGp;

unsigned Below(gmp_randclass& rng, unsigned long bound) {
  return static_cast<unsigned>(mpz_class(rng.get_z_range(bound)).get_ui());
}

mpz_class RandomPrime(gmp_randclass& rng, unsigned bits) {
  mpz_class p;
  do {
    mpz_class r = rng.get_z_bits(bits);
    mpz_setbit(r.get_mpz_t(), bits - 1);
    mpz_nextprime(p.get_mpz_t(), r.get_mpz_t());
  } while (mpz_sizeinbase(p.get_mpz_t(), 2) != bits);
  return p;
}

// `count` random numbers of 1..max_bits bits, then `count` products of one
// prime of up to big_bits bits with 1-3 primes (some squared) of up to
// small_bits bits: the small ones are what rho, p-1 and ECM must find.
std::vector<mpz_class> Inputs(unsigned long seed, int count, unsigned max_bits, unsigned big_bits,
                              unsigned small_bits) {
  gmp_randclass rng(gmp_randinit_mt);
  rng.seed(seed);
  std::vector<mpz_class> ns;
  for (int i = 0; i < count; ++i) ns.push_back(rng.get_z_bits(1 + Below(rng, max_bits)));
  for (int i = 0; i < count; ++i) {
    mpz_class n = RandomPrime(rng, 2 + Below(rng, big_bits - 1));
    const int parts = 1 + static_cast<int>(Below(rng, 3));
    for (int k = 0; k < parts; ++k) {
      mpz_class p = RandomPrime(rng, 2 + Below(rng, small_bits - 1));
      n *= p;
      if (Below(rng, 4) == 0) n *= p;
    }
    ns.push_back(n);
  }
  return ns;
}

void CheckAgainstGp(const std::vector<mpz_class>& ns) {
  std::string error;
  auto answers = AskGp(ns, &error);
  ASSERT_TRUE(answers.has_value()) << "PARI/GP is required (apt-get install pari-gp): " << error;
  std::vector<mpz_class> proven;
  for (size_t i = 0; i < ns.size(); ++i) {
    const mpz_class& n = ns[i];
    const auto& gp = (*answers)[i];
    Factorization f = Factor(n);
    SCOPED_TRACE("n = " + n.get_str() + ", verdict " + VerdictName(f.verdict) + ", effort " + f.effort);
    ASSERT_TRUE(VerifyFactorization(f));
    Verdict v = TestPrimality(n);
    if (n < 2) continue;
    EXPECT_EQ(v == Verdict::kPrime || v == Verdict::kProbablePrime, gp.ispseudoprime);
    if (v == Verdict::kPrime || f.verdict == Verdict::kPrime) {
      EXPECT_TRUE(gp.isprime);
    }
    ASSERT_TRUE(f.verdict == Verdict::kPrime || f.verdict == Verdict::kProbablePrime ||
                f.verdict == Verdict::kFullyFactored);
    ASSERT_EQ(f.factors.size(), gp.factors.size());
    for (size_t k = 0; k < f.factors.size(); ++k) {
      EXPECT_EQ(f.factors[k].p, gp.factors[k].first);
      EXPECT_EQ(f.factors[k].exponent, gp.factors[k].second);
      if (f.factors[k].certainty == Certainty::kProven) proven.push_back(f.factors[k].p);
    }
  }
  // Every factor labelled P must be one gp's isprime proves.
  auto checked = AskGp(proven, &error);
  ASSERT_TRUE(checked.has_value()) << error;
  for (size_t i = 0; i < proven.size(); ++i) {
    EXPECT_TRUE((*checked)[i].isprime) << proven[i] << " labelled P but gp's isprime disagrees";
  }
}

TEST(Oracle, RandomAndConstructed) { CheckAgainstGp(Inputs(1, 60, 160, 130, 50)); }

TEST(Oracle, SlowWiderRange) {
  for (unsigned long seed = 100; seed < 103; ++seed) CheckAgainstGp(Inputs(seed, 40, 180, 150, 66));
}

}  // namespace
}  // namespace zfactor::math
