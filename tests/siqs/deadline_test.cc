// SIQS honours a wall-clock deadline, both called directly and as the
// strategy ladder's last rung under Budget::max_seconds. The assertions are
// on results (no factor, C verdict, the effort note), never on elapsed time.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "math/factor.h"
#include "math/siqs/siqs.h"
#include "tests/support/numbers.h"

namespace zfactor::math {
namespace {

mpz_class Semiprime(const std::string& name) {
  const auto s = support::FindSemiprime(name);
  if (!s) {
    ADD_FAILURE() << "missing " << name << " in " << support::NumbersDir();
    return 0;
  }
  return mpz_class(s->n);
}

TEST(SiqsDeadline, PassedDeadlineStopsTheRun) {
  siqs::Options options;
  options.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  siqs::Stats stats;
  EXPECT_FALSE(siqs::FindFactor(Semiprime("C70_1"), options, Hooks{}, &stats).has_value());
  EXPECT_TRUE(stats.stopped);
  EXPECT_GT(stats.polynomials, 0u);  // it did sieve before the deadline
}

TEST(SiqsDeadline, FutureDeadlineDoesNotStopASmallRun) {
  siqs::Options options;
  options.deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
  siqs::Stats stats;
  const mpz_class n = Semiprime("C40_1");
  const auto f = siqs::FindFactor(n, options, Hooks{}, &stats);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(mpz_divisible_p(n.get_mpz_t(), f->get_mpz_t()));
  EXPECT_FALSE(stats.stopped);
}

// The reported case: Factor with a time budget on a C70 ran SIQS to the end.
// Whichever rung the deadline falls in, the answer is C with the budget named.
Factorization FactorUnderBudget(const Budget& budget) {
  const mpz_class n = Semiprime("C70_1");
  Factorization f = Factor(n, budget);
  EXPECT_EQ(f.verdict, Verdict::kComposite) << f.effort;
  EXPECT_TRUE(f.factors.empty());
  EXPECT_FALSE(f.withheld);
  EXPECT_FALSE(f.cancelled);
  EXPECT_NE(f.effort.find("time budget exhausted"), std::string::npos) << f.effort;
  return f;
}

TEST(SiqsDeadline, LadderBudgetStopsSiqs) {
  Budget budget;
  budget.max_seconds = 1;
  budget.ecm_max_b1 = 2000;  // straight to SIQS, which then runs into the deadline
  const Factorization f = FactorUnderBudget(budget);
  EXPECT_NE(f.effort.find("SIQS "), std::string::npos) << f.effort;
  EXPECT_NE(f.effort.find("(stopped: time budget)"), std::string::npos) << f.effort;
}

// With the default ladder the deadline may fall in ECM (a slow machine) or in
// SIQS; either way the job stops, and a SIQS that did start says it was stopped.
TEST(SiqsDeadline, LadderBudgetStopsTheDefaultLadder) {
  Budget budget;
  budget.max_seconds = 1;
  const Factorization f = FactorUnderBudget(budget);
  if (f.effort.find("SIQS ") != std::string::npos) {
    EXPECT_NE(f.effort.find("(stopped: time budget)"), std::string::npos) << f.effort;
  }
}

}  // namespace
}  // namespace zfactor::math
