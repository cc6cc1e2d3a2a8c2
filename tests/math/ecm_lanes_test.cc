// ECM stage 1 in IFMA lanes against libecm's own stage 1 on the same curves.
#include "math/ecm_lanes.h"

#include <ecm.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "math/job.h"
#include "tests/math/numbers.h"
#include "tests/support/gp.h"

namespace zfactor::math {
namespace {

using testing::NextPrime;
using testing::Pow10;

// libecm's stage 1 alone (B2 = B1) on parametrization 1 with sigma 64 t:
// the point x(k P) it ends with (in p->x), or the factor it found.
struct Libecm {
  mpz_class factor, x;
};
Libecm LibecmStage1(const mpz_class& n, double b1, uint32_t t) {
  ecm_params p;
  ecm_init(p);
  p->param = ECM_PARAM_BATCH_SQUARE;
  mpz_set_ui(p->sigma, 64ul * t);
  mpz_set_d(p->B2, b1);
  Libecm r;
  if (ecm_factor(r.factor.get_mpz_t(), const_cast<mpz_ptr>(n.get_mpz_t()), b1, p) == 0) {
    r.factor = 0;
    r.x = mpz_class(p->x);
  }
  ecm_clear(p);
  return r;
}

class EcmLanes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ecm_lanes::Available(NextPrime(Pow10(50)) * NextPrime(Pow10(60)))) {
      GTEST_SKIP() << "no AVX-512 IFMA here (or ZFACTOR_NO_AVX512 is set)";
    }
  }

  // Stage 1 of eight curves in lanes and in libecm; every lane must agree.
  // Returns how many found a factor.
  int ExpectLibecmsPoints(const mpz_class& n, double b1, const uint32_t (&t)[ecm_lanes::kLanes],
                          int count) {
    const Budget budget;
    const Hooks hooks;
    const Job job(budget, hooks);
    ecm_lanes::Stage1Result out[ecm_lanes::kLanes];
    EXPECT_TRUE(ecm_lanes::Stage1(n, ecm_lanes::Stage1Multiplier(b1), t, count, job, out));
    int found = 0;
    for (int l = 0; l < count; ++l) {
      found += out[l].factor != 0;
      const Libecm want = LibecmStage1(n, b1, t[l]);
      EXPECT_EQ(out[l].factor, want.factor) << "n " << n << ", t " << t[l];
      EXPECT_EQ(out[l].x, want.x) << "n " << n << ", t " << t[l];
    }
    return found;
  }
};

TEST_F(EcmLanes, Stage1GivesLibecmsPointsOnEverySize) {
  // Semiprimes from 100 bits (two limbs) to 514 bits (ten, the most), with
  // the extreme parameters among the curves.
  std::mt19937_64 rng(2026);
  gmp_randclass gmp(gmp_randinit_default);
  gmp.seed(7);
  for (const int bits : {100, 150, 200, 292, 330, 400, 460, 514}) {
    mpz_class n;
    do {
      const mpz_class p = NextPrime(gmp.get_z_bits(bits / 2));
      n = p * NextPrime(gmp.get_z_bits(bits - bits / 2));
    } while (mpz_sizeinbase(n.get_mpz_t(), 2) != static_cast<size_t>(bits));
    ASSERT_TRUE(ecm_lanes::Available(n)) << bits << " bits";
    uint32_t t[ecm_lanes::kLanes] = {1, ecm_lanes::kMaxParameter};
    for (int l = 2; l < ecm_lanes::kLanes; ++l) t[l] = 1 + rng() % ecm_lanes::kMaxParameter;
    EXPECT_EQ(ExpectLibecmsPoints(n, 3000, t, ecm_lanes::kLanes), 0);
  }
  EXPECT_FALSE(ecm_lanes::Available(NextPrime(mpz_class(1) << 514) * 3));
}

TEST_F(EcmLanes, Stage1FindsWhatLibecmFinds) {
  // Factors of 6 and 8 digits: group orders mod them are often 2000-smooth,
  // so some lanes find a factor in stage 1 and some do not; fewer curves
  // than lanes.
  const mpz_class n = NextPrime(Pow10(5) * 3) * NextPrime(Pow10(7) * 2) * NextPrime(Pow10(40));
  const uint32_t t[ecm_lanes::kLanes] = {11, 12, 13, 14, 15, 16, 17};
  const int found = ExpectLibecmsPoints(n, 2000, t, 7);
  EXPECT_GT(found, 0);
  EXPECT_LT(found, 7);
}

TEST_F(EcmLanes, Stage1StopsWhenTheJobStops) {
  std::atomic<bool> cancel{true};
  Hooks hooks;
  hooks.cancel = &cancel;
  const Budget budget;
  const Job job(budget, hooks);
  const mpz_class n = NextPrime(Pow10(50)) * NextPrime(Pow10(60));
  const uint32_t t[ecm_lanes::kLanes] = {1};
  ecm_lanes::Stage1Result out[ecm_lanes::kLanes];
  EXPECT_FALSE(ecm_lanes::Stage1(n, ecm_lanes::Stage1Multiplier(1e6), t, 1, job, out));
}

// Whether stage 2 must find p: the order o of Q = k P mod p divides m D - j
// or m D + j for a term (m, j) of the plan (G_m = +-j Q exactly then).
bool PlanCovers(const ecm_lanes::Stage2Plan& plan, uint64_t o) {
  for (uint64_t i = 0; i < plan.giants(); ++i) {
    const uint64_t md = (plan.first_giant() + i) * plan.d();
    for (size_t b = 0; b < plan.babies().size(); ++b) {
      if ((plan.bits(i)[b / 64] >> (b % 64) & 1) == 0) continue;
      const uint64_t j = plan.babies()[b];
      if ((md - j) % o == 0 || (md + j) % o == 0) return true;
    }
  }
  return false;
}

TEST_F(EcmLanes, Stage2FindsExactlyWhatThePointOrdersPredict) {
  // p of 32 bits beside a 50-digit prime. PARI gives the order of P = (2 :
  // 1) mod p on each curve; stage 1 must find p exactly when the order
  // divides k, else stage 2 exactly when the order of k P divides one of the
  // plan's m D +- j.
  const mpz_class p = NextPrime(mpz_class(3000000000u));
  const mpz_class n = p * NextPrime(Pow10(49) * 3);
  constexpr double kB1 = 2000, kB2 = 2e5;
  constexpr int kCurves = 64;
  std::ostringstream program;
  program << "p = " << p << ";\n"
          << "for(t = 1, " << kCurves << ", d = Mod(t^2, p) / 2^52; A = 4 * d - 2; b = 4 * A + 10; "
          << "E = ellinit([0, A / b, 0, 1 / b^2, 0]); print(ellorder(E, [2 / b, 1 / b])));\n";
  std::string error;
  const auto out = support::RunGp(program.str(), &error);
  ASSERT_TRUE(out.has_value()) << error;
  std::istringstream orders(*out);

  const mpz_class k = ecm_lanes::Stage1Multiplier(kB1);
  const ecm_lanes::Stage2Plan plan(kB1, kB2);
  const Budget budget;
  const Hooks hooks;
  const Job job(budget, hooks);
  int in_stage1 = 0, in_stage2 = 0;
  for (uint32_t first = 1; first <= kCurves; first += ecm_lanes::kLanes) {
    uint32_t t[ecm_lanes::kLanes];
    mpz_class x[ecm_lanes::kLanes], found[ecm_lanes::kLanes];
    ecm_lanes::Stage1Result s1[ecm_lanes::kLanes];
    for (int l = 0; l < ecm_lanes::kLanes; ++l) t[l] = first + static_cast<uint32_t>(l);
    ASSERT_TRUE(ecm_lanes::Stage1(n, k, t, ecm_lanes::kLanes, job, s1));
    for (int l = 0; l < ecm_lanes::kLanes; ++l) x[l] = s1[l].factor != 0 ? mpz_class(0) : s1[l].x;
    ASSERT_TRUE(ecm_lanes::Stage2(n, plan, t, x, ecm_lanes::kLanes, job, found));
    for (int l = 0; l < ecm_lanes::kLanes; ++l) {
      mpz_class order;
      ASSERT_TRUE(orders >> order) << *out;
      const bool stage1 = mpz_divisible_p(k.get_mpz_t(), order.get_mpz_t()) != 0;
      EXPECT_EQ(s1[l].factor, stage1 ? p : 0) << "t " << t[l] << ", order " << order;
      if (stage1) {
        ++in_stage1;
        continue;
      }
      mpz_class g, q_order;
      mpz_gcd(g.get_mpz_t(), order.get_mpz_t(), k.get_mpz_t());
      q_order = order / g;
      const bool stage2 = q_order.fits_ulong_p() && PlanCovers(plan, q_order.get_ui());
      in_stage2 += stage2;
      EXPECT_EQ(found[l], stage2 ? p : 0) << "t " << t[l] << ", order of Q " << q_order;
    }
  }
  // The sizes are chosen so that both stages have work to show.
  EXPECT_GE(in_stage1, 2);
  EXPECT_GE(in_stage2, 4);
}

TEST(EcmLanesMultiplier, IsTheProductOfTheLargestPrimePowers) {
  EXPECT_EQ(ecm_lanes::Stage1Multiplier(1), 1);
  EXPECT_EQ(ecm_lanes::Stage1Multiplier(10), 8 * 9 * 5 * 7);
  EXPECT_EQ(ecm_lanes::Stage1Multiplier(11), 8 * 9 * 5 * 7 * 11);
  EXPECT_EQ(ecm_lanes::Stage1Multiplier(30),
            mpz_class(16) * 27 * 25 * 7 * 11 * 13 * 17 * 19 * 23 * 29);
}

}  // namespace
}  // namespace zfactor::math
