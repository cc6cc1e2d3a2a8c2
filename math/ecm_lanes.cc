#include "math/ecm_lanes.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "math/ecm_lanes_kernel.h"
#include "math/small/cpu.h"
#include "math/trial.h"

namespace zfactor::math::ecm_lanes {
namespace {

using kernel::kLimbBits;
using kernel::kMaxLimbs;

// Ladder steps between two polls of the stop flag: 1-4 ms from 3 to 10 limbs.
constexpr uint64_t kStepsPerPoll = 4096;

int LimbsFor(const mpz_class& n) {
  const int bits = static_cast<int>(mpz_sizeinbase(n.get_mpz_t(), 2)) + kernel::kHeadroomBits;
  return std::max(2, (bits + kLimbBits - 1) / kLimbBits);
}

// v (0 <= v < 2^(52 limbs)) in limbs of 52 bits, least significant first,
// written to out[0], out[stride], ...
void ToLimbs(const mpz_class& v, int limbs, uint64_t* out, int stride) {
  mpz_class rest = v;
  for (int i = 0; i < limbs; ++i) {
    mpz_class limb;
    mpz_fdiv_r_2exp(limb.get_mpz_t(), rest.get_mpz_t(), kLimbBits);
    out[i * stride] = mpz_get_ui(limb.get_mpz_t());
    mpz_fdiv_q_2exp(rest.get_mpz_t(), rest.get_mpz_t(), kLimbBits);
  }
}

mpz_class FromLimbs(const uint64_t* in, int limbs, int stride) {
  mpz_class v = 0;
  for (int i = limbs - 1; i >= 0; --i) {
    mpz_mul_2exp(v.get_mpz_t(), v.get_mpz_t(), kLimbBits);
    v += static_cast<unsigned long>(in[i * stride]);
  }
  return v;
}

kernel::Modulus MakeModulus(const mpz_class& n) {
  kernel::Modulus m;
  m.limbs = LimbsFor(n);
  ToLimbs(n, m.limbs, m.n, 1);
  ToLimbs(2 * n, m.limbs, m.two_n, 1);
  ToLimbs(4 * n, m.limbs, m.four_n, 1);
  const mpz_class base = mpz_class(1) << kLimbBits;
  mpz_class inv;
  mpz_invert(inv.get_mpz_t(), n.get_mpz_t(), base.get_mpz_t());
  m.neg_inv = mpz_get_ui(mpz_class(base - inv).get_mpz_t()) & (base.get_ui() - 1);
  return m;
}

}  // namespace

bool Available(const mpz_class& n) {
#if defined(ZF_IFMA_KERNEL)
  return small::UseAvx512Ifma() && mpz_odd_p(n.get_mpz_t()) && n > 1 && LimbsFor(n) <= kMaxLimbs;
#else
  (void)n;
  return false;  // the kernel is built on x86-64 only
#endif
}

mpz_class CurveA(const mpz_class& n, uint32_t t) {
  mpz_class inv;
  mpz_invert(inv.get_mpz_t(), mpz_class(mpz_class(1) << kLimbBits).get_mpz_t(), n.get_mpz_t());
  mpz_class a = 4 * mpz_class(t) * t * inv - 2;
  mpz_mod(a.get_mpz_t(), a.get_mpz_t(), n.get_mpz_t());
  return a;
}

mpz_class Stage1Multiplier(double b1) {
  const auto limit = static_cast<uint32_t>(std::min(b1, 4e9));
  // Multiplied pairwise up a tree, so that GMP multiplies numbers of similar
  // size (a running product would cost quadratic time at large b1).
  std::vector<mpz_class> level;
  for (const uint32_t p : SievePrimes(limit + 1)) {
    uint64_t q = p;
    while (q * p <= limit) q *= p;
    level.emplace_back(static_cast<unsigned long>(q));
  }
  if (level.empty()) return 1;
  while (level.size() > 1) {
    std::vector<mpz_class> up;
    for (size_t i = 0; i + 1 < level.size(); i += 2) up.push_back(level[i] * level[i + 1]);
    if (level.size() % 2 == 1) up.push_back(level.back());
    level.swap(up);
  }
  return level[0];
}

bool Stage1(const mpz_class& n, const mpz_class& k, const uint32_t* t, int count, const Job& job,
            Stage1Result* out) {
  const kernel::Modulus m = MakeModulus(n);
  // Lanes past count run a copy of the first curve and are ignored.
  kernel::Ladder ladder;
  for (int l = 0; l < kernel::kLanes; ++l) {
    const uint32_t tl = t[l < count ? l : 0];
    ladder.d_word[l] = uint64_t{tl} * tl;
    // Montgomery form values stand for value / R: any common factor of X and
    // Z is harmless, so P = (2 : 1) and 2P = (9 : 8 (2A + 5)) are stored as is.
    const mpz_class z2 = 8 * (2 * CurveA(n, tl) + 5) % n;
    ToLimbs(2, m.limbs, &ladder.x[0][0][l], kernel::kLanes);
    ToLimbs(1, m.limbs, &ladder.z[0][0][l], kernel::kLanes);
    ToLimbs(9, m.limbs, &ladder.x[1][0][l], kernel::kLanes);
    ToLimbs(z2, m.limbs, &ladder.z[1][0][l], kernel::kLanes);
  }
  // The ladder starts at j = 1, k's top bit.
  const uint64_t* words = reinterpret_cast<const uint64_t*>(mpz_limbs_read(k.get_mpz_t()));
  static_assert(sizeof(mp_limb_t) == sizeof(uint64_t), "k is read as 64-bit words");
  for (uint64_t hi = mpz_sizeinbase(k.get_mpz_t(), 2) - 1; hi > 0;) {
    if (job.Stopped()) return false;
    const uint64_t lo = hi > kStepsPerPoll ? hi - kStepsPerPoll : 0;
#if defined(ZF_IFMA_KERNEL)
    kernel::Run(m, &ladder, words, hi, lo);
#endif
    hi = lo;
  }
  for (int l = 0; l < count; ++l) {
    const mpz_class x = FromLimbs(&ladder.x[0][0][l], m.limbs, kernel::kLanes);
    const mpz_class z = FromLimbs(&ladder.z[0][0][l], m.limbs, kernel::kLanes);
    Stage1Result& r = out[l];
    mpz_gcd(r.factor.get_mpz_t(), z.get_mpz_t(), n.get_mpz_t());
    if (r.factor > 1 && r.factor < n) continue;
    r.factor = 0;
    if (mpz_invert(r.x.get_mpz_t(), z.get_mpz_t(), n.get_mpz_t()) == 0) {
      r.x = 0;  // Z = 0 mod n: the curve found every factor at once
      continue;
    }
    r.x = r.x * x % n;
  }
  return true;
}

}  // namespace zfactor::math::ecm_lanes
