// Known answers for the factoring ladder.
#include "math/factor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "math/ecm.h"
#include "math/job.h"
#include "tests/math/numbers.h"

namespace zfactor::math {
namespace {

using testing::NextPrime;
using testing::Pow10;
using testing::Z;

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
  EXPECT_EQ(Render(Factor(Z("9746347772161"))),
            "FF: 7(P) 11(P) 13(P) 17(P) 19(P) 31(P) 37(P) 41(P) 641(P)");
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

// The N-1 proof of a large prime factor factors p - 1 with the engine; those
// factors are not n's and must not reach on_factor.
TEST(Factor, StreamsOnlyFactorsOfN) {
  mpz_class p;
  const mpz_class start = Z("1000000000000000000000000000000");
  mpz_nextprime(p.get_mpz_t(), start.get_mpz_t());
  const mpz_class n = 1000003 * p;
  std::vector<mpz_class> seen;
  Hooks hooks;
  hooks.on_factor = [&](const mpz_class& d) { seen.push_back(d); };
  const Factorization f = Factor(n, {}, hooks);
  ASSERT_EQ(f.verdict, Verdict::kFullyFactored);
  ASSERT_EQ(f.factors.size(), 2u);
  EXPECT_EQ(f.factors[1].certainty, Certainty::kProven);  // the N-1 proof ran
  ASSERT_FALSE(seen.empty());
  for (const auto& d : seen) EXPECT_TRUE(mpz_divisible_p(n.get_mpz_t(), d.get_mpz_t())) << d;
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

TEST(Factor, FermatNumbers) {
  const mpz_class f7 = (mpz_class(1) << 128) + 1;
  EXPECT_EQ(Render(Factor(f7)), "FF: 59649589127497217(P) 5704689200685129054721(P)");
  Budget budget;
  budget.max_seconds = 120;
  const mpz_class f8 = (mpz_class(1) << 256) + 1;
  Factorization f = Factor(f8, budget);
  ASSERT_EQ(f.verdict, Verdict::kFullyFactored) << f.effort;
  ASSERT_EQ(f.factors.size(), 2u);
  EXPECT_EQ(f.factors[0].p, Z("1238926361552897"));
  EXPECT_EQ(f.factors[1].p, f8 / Z("1238926361552897"));
}

TEST(Factor, MersenneNumbers) {
  EXPECT_EQ(Render(Factor((mpz_class(1) << 67) - 1)), "FF: 193707721(P) 761838257287(P)");
  EXPECT_EQ(Render(Factor((mpz_class(1) << 101) - 1)),
            "FF: 7432339208719(P) 341117531003194129(P)");
  const mpz_class m127 = (mpz_class(1) << 127) - 1;
  EXPECT_EQ(Render(Factor(m127)), "P: " + m127.get_str() + "(P)");
}

// 30-digit times 40-digit primes: beyond the small ECM levels.
mpz_class HardSemiprime() { return NextPrime(Pow10(29) * 3) * NextPrime(Pow10(39) * 7); }

TEST(Factor, EcmCurveWithFixedSigmaFindsKnownFactor) {
  const mpz_class p = Z("424264068712061");
  const mpz_class n = p * NextPrime(Pow10(40));
  const Budget budget;
  const Hooks hooks;
  const Job job(budget, hooks);
  // The same curve on the same number always gives the same answer.
  for (int run = 0; run < 2; ++run) {
    auto d = EcmCurve(n, 11e3, 13, job);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, p);
    EXPECT_FALSE(EcmCurve(n, 11e3, 1, job).has_value());
  }
}

TEST(Factor, EcmCurvesOnThreadsGiveTheOneThreadAnswer) {
  // Two factors within reach of B1 = 2000, so which curve finds what matters.
  const mpz_class n = NextPrime(Pow10(9) * 3) * NextPrime(Pow10(10) * 7) * NextPrime(Pow10(40));
  const Budget budget;
  const Hooks hooks;
  const Job job(budget, hooks);
  int found = 0;
  for (uint64_t start = 1; start <= 60; start += 6) {
    uint64_t sigma1 = start;
    int run1 = 0;
    const auto d1 = EcmCurves(n, 2000, 25, 1, &sigma1, job, &run1);
    found += d1.has_value();
    for (int threads : {2, 3}) {
      uint64_t sigma = start;
      int run = 0;
      const auto d = EcmCurves(n, 2000, 25, threads, &sigma, job, &run);
      EXPECT_EQ(d, d1) << "start " << start << ", " << threads << " threads";
      EXPECT_EQ(run, run1) << "start " << start << ", " << threads << " threads";
      EXPECT_EQ(sigma, sigma1) << "start " << start << ", " << threads << " threads";
    }
  }
  EXPECT_GE(found, 5) << "the curves should find a 10-digit factor most of the time";
  // No factor in reach: every curve runs, on every thread count alike.
  for (int threads : {1, 3}) {
    uint64_t sigma = 100;
    int run = 0;
    EXPECT_FALSE(EcmCurves(HardSemiprime(), 2000, 7, threads, &sigma, job, &run));
    EXPECT_EQ(run, 7);
    EXPECT_EQ(sigma, 107u);
  }
}

TEST(Factor, JobThreadsDoNotChangeTheAnswerOrTheEffort) {
  // Factors of 14, 16 and 18 digits next to a 50-digit prime: several ECM levels.
  const mpz_class n = NextPrime(Pow10(13) * 4) * NextPrime(Pow10(15) * 3) *
                      NextPrime(Pow10(17) * 2) * NextPrime(Pow10(49) * 9);
  Budget one;
  one.use_siqs = false;
  Budget two = one;
  two.threads = 2;
  const Factorization a = Factor(n, one);
  const Factorization b = Factor(n, two);
  EXPECT_EQ(a.verdict, Verdict::kFullyFactored);
  EXPECT_EQ(Render(b), Render(a));
  EXPECT_EQ(b.effort, a.effort);
  EXPECT_NE(a.effort.find("ECM B1="), std::string::npos) << a.effort;
}

TEST(Factor, CancelStopsALargeEcmCurve) {
  // B1 = 3e6 on 95 digits: seconds of stage 1, which must poll the flag.
  const mpz_class n = NextPrime(Pow10(24) * 5) * NextPrime(Pow10(69) * 6);
  std::atomic<bool> cancel{false};
  Hooks hooks;
  hooks.cancel = &cancel;
  const Budget budget;
  const Job job(budget, hooks);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  EXPECT_FALSE(EcmCurve(n, 3e6, 77, job).has_value());
  canceller.join();
  EXPECT_TRUE(job.Stopped());
}

TEST(Factor, EcmBudgetExhaustionGivesComposite) {
  Budget budget;
  budget.use_siqs = false;
  budget.ecm_max_b1 = 2e3;
  Factorization f = Factor(HardSemiprime(), budget);
  EXPECT_EQ(f.verdict, Verdict::kComposite);
  EXPECT_TRUE(f.factors.empty());
  EXPECT_NE(f.effort.find("ECM B1=2e3 x 25 curves"), std::string::npos) << f.effort;
  EXPECT_FALSE(f.cancelled);

  // With a small factor split off first the answer is CF.
  f = Factor(HardSemiprime() * 1000003, budget);
  EXPECT_EQ(f.verdict, Verdict::kPartlyFactored);
  ASSERT_EQ(f.factors.size(), 2u);
  EXPECT_EQ(Render(f), "CF: 1000003(P) " + HardSemiprime().get_str() + "(C)");
}

TEST(Factor, TimeBudgetExhaustionGivesCompositeNotAHang) {
  Budget budget;
  budget.use_siqs = false;
  budget.max_seconds = 1;
  Factorization f = Factor(HardSemiprime() * 101, budget);
  EXPECT_EQ(f.verdict, Verdict::kPartlyFactored);
  EXPECT_NE(f.effort.find("time budget exhausted"), std::string::npos) << f.effort;
}

TEST(Factor, CancelFlagStopsALongJob) {
  std::atomic<bool> cancel{false};
  Hooks hooks;
  hooks.cancel = &cancel;
  Budget budget;
  budget.use_siqs = false;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  Factorization f = Factor(HardSemiprime(), budget, hooks);
  canceller.join();
  EXPECT_TRUE(f.cancelled);
  EXPECT_EQ(f.verdict, Verdict::kComposite);
}

// From 2^64 to 2^128 the word-size engine answers directly; cancelled before
// it starts, the answer is still verified and says what is left.
TEST(Factor, TwoWordNumbersAnswerCompletelyOrWhatIsLeftWhenCancelled) {
  const mpz_class p = NextPrime(Z("18446744073709551557") * 3);  // ~2^65.6
  const mpz_class q = NextPrime(Z("4294967291") * 7);            // ~2^35
  const mpz_class n = 11 * 11 * q * p;                           // ~2^107
  Factorization whole = Factor(n);
  ASSERT_EQ(whole.verdict, Verdict::kFullyFactored) << whole.effort;
  ASSERT_EQ(whole.factors.size(), 3u);
  EXPECT_EQ(whole.factors[0].p, 11);
  EXPECT_EQ(whole.factors[0].exponent, 2u);
  EXPECT_EQ(whole.factors[1].p, q);
  EXPECT_EQ(whole.factors[2].p, p);
  EXPECT_EQ(whole.factors[2].certainty, Certainty::kProven) << "N-1 proves a 66-bit prime";
  EXPECT_EQ(whole.effort.find("word-size engine"), 0u) << whole.effort;

  std::atomic<bool> cancel{true};
  Hooks hooks;
  hooks.cancel = &cancel;
  Factorization cut = Factor(q * p, {}, hooks);
  EXPECT_TRUE(VerifyFactorization(cut));
  EXPECT_FALSE(cut.withheld);
  if (cut.verdict != Verdict::kFullyFactored) {
    EXPECT_TRUE(cut.cancelled);
    EXPECT_EQ(cut.verdict, Verdict::kComposite);
  }
}

}  // namespace
}  // namespace zfactor::math
