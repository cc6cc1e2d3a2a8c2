// Known answers for the factoring ladder.
#include "math/factor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace zfactor::math {
namespace {

mpz_class Z(const char* s) { return mpz_class(s); }

std::string Render(const Factorization& f) {
  std::string s = std::string(VerdictName(f.verdict)) + ":";
  for (const auto& pf : f.factors) {
    s += " " + pf.p.get_str();
    if (pf.exponent > 1) s += "^" + std::to_string(pf.exponent);
    s += std::string("(") + CertaintyName(pf.certainty) + ")";
  }
  return s;
}

TEST(Factor, ZeroAndOne) {
  EXPECT_EQ(Render(Factor(0)), "Zero:");
  EXPECT_EQ(Render(Factor(1)), "U:");
}

TEST(Factor, SmallNumbers) {
  EXPECT_EQ(Render(Factor(2)), "P: 2(P)");
  EXPECT_EQ(Render(Factor(4)), "FF: 2^2(P)");
  EXPECT_EQ(Render(Factor(360)), "FF: 2^3(P) 3^2(P) 5(P)");
  EXPECT_EQ(Render(Factor(65537)), "P: 65537(P)");
  EXPECT_EQ(Render(Factor(Z("4294967297"))), "FF: 641(P) 6700417(P)");  // F5
}

TEST(Factor, WordBoundaries) {
  EXPECT_EQ(Render(Factor(Z("4294967295"))), "FF: 3(P) 5(P) 17(P) 257(P) 65537(P)");
  EXPECT_EQ(Render(Factor(Z("4294967296"))), "FF: 2^32(P)");
  EXPECT_EQ(Render(Factor(Z("18446744073709551615"))),
            "FF: 3(P) 5(P) 17(P) 257(P) 641(P) 65537(P) 6700417(P)");
  EXPECT_EQ(Render(Factor(Z("18446744073709551617"))), "FF: 274177(P) 67280421310721(P)");  // F6
  EXPECT_EQ(Render(Factor(Z("18446744073709551557"))), "P: 18446744073709551557(P)");
}

TEST(Factor, PerfectPowersAndNearMisses) {
  EXPECT_EQ(Render(Factor(Z("1000000000000000000000000000000"))), "FF: 2^30(P) 5^30(P)");
  mpz_class p = Z("1000000007");
  EXPECT_EQ(Render(Factor(p * p)), "FF: 1000000007^2(P)");
  EXPECT_EQ(Render(Factor(p * p * p)), "FF: 1000000007^3(P)");
  EXPECT_EQ(Render(Factor(p * p - 1)), Render(Factor(Z("1000000014000000048"))));
  mpz_class big = Z("18446744073709551629");  // smallest prime > 2^64, proven by N-1
  EXPECT_EQ(Render(Factor(big * big)), "FF: 18446744073709551629^2(P)");
  mpz_class m521 = (mpz_class(1) << 521) - 1;  // too big for the N-1 proof: probable
  EXPECT_EQ(Render(Factor(m521 * m521 * m521)), "FF: " + m521.get_str() + "^3(PRP)");
  mpz_class q = Z("4294967311");
  EXPECT_EQ(Render(Factor(q * q * q * q * q * q)), "FF: 4294967311^6(P)");
}

TEST(Factor, CarmichaelNumbers) {
  EXPECT_EQ(Render(Factor(561)), "FF: 3(P) 11(P) 17(P)");
  EXPECT_EQ(Render(Factor(Z("9746347772161"))), "FF: 7(P) 11(P) 13(P) 17(P) 19(P) 31(P) 37(P) 41(P) 641(P)");
}

TEST(Factor, StreamsFactorsThroughHooks) {
  std::vector<mpz_class> seen;
  Hooks hooks;
  hooks.on_factor = [&](const mpz_class& d) { seen.push_back(d); };
  Factorization f = Factor(Z("18446744073709551617"), {}, hooks);
  EXPECT_EQ(f.verdict, Verdict::kFullyFactored);
  ASSERT_FALSE(seen.empty());
  for (const auto& d : seen) EXPECT_TRUE(mpz_divisible_p(f.n.get_mpz_t(), d.get_mpz_t()));
}

TEST(Factor, VerifyRejectsWrongAnswers) {
  Factorization f = Factor(Z("4294967297"));
  ASSERT_TRUE(VerifyFactorization(f));
  Factorization wrong = f;
  wrong.factors[0].p = 643;
  EXPECT_FALSE(VerifyFactorization(wrong));
  Factorization mislabelled = f;
  mislabelled.verdict = Verdict::kPartlyFactored;
  EXPECT_FALSE(VerifyFactorization(mislabelled));
  Factorization composite_as_prime;
  composite_as_prime.n = 561;
  composite_as_prime.verdict = Verdict::kProbablePrime;
  composite_as_prime.factors = {{561, 1, Certainty::kProbable}};
  EXPECT_FALSE(VerifyFactorization(composite_as_prime));
}

}  // namespace
}  // namespace zfactor::math
