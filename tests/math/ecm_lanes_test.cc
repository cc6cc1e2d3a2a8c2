// ECM stage 1 in IFMA lanes against libecm's own stage 1 on the same curves.
#include "math/ecm_lanes.h"

#include <ecm.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>

#include "math/job.h"
#include "tests/math/numbers.h"

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

TEST(EcmLanesMultiplier, IsTheProductOfTheLargestPrimePowers) {
  EXPECT_EQ(ecm_lanes::Stage1Multiplier(1), 1);
  EXPECT_EQ(ecm_lanes::Stage1Multiplier(10), 8 * 9 * 5 * 7);
  EXPECT_EQ(ecm_lanes::Stage1Multiplier(11), 8 * 9 * 5 * 7 * 11);
  EXPECT_EQ(ecm_lanes::Stage1Multiplier(30),
            mpz_class(16) * 27 * 25 * 7 * 11 * 13 * 17 * 19 * 23 * 29);
}

}  // namespace
}  // namespace zfactor::math
