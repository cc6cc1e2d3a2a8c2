// Micro-ECM: Lenstra's elliptic curve method on Montgomery curves
// (x-only arithmetic, Suyama's parameterisation: 12 divides the group
// order), stage 1 as one Montgomery ladder over the product of all prime
// powers <= B1, stage 2 as a baby-step giant-step continuation to B2 with
// baby and giant steps normalised by batched inversions (one multiplication
// per prime pair). Several curves can run side by side in one call.
// Works in one- or two-limb Montgomery arithmetic (montgomery.h; below 2^60
// on Mont64Lazy), and eight curves at once in AVX-512 IFMA lanes (ecm_ifma.h).
#ifndef ZFACTOR_MATH_SMALL_ECM_H_
#define ZFACTOR_MATH_SMALL_ECM_H_

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "math/small/gcd.h"
#include "math/small/montgomery.h"

namespace zfactor::math::small {

// One B1/B2 choice with everything the curves share precomputed.
struct EcmLevel {
  uint32_t b1 = 0;
  uint32_t b2 = 0;
  std::vector<uint64_t> multiplier;  // prod of p^e <= B1, little-endian limbs
  int multiplier_bits = 0;
  uint32_t d = 0;              // giant step; 60 or 210
  std::vector<uint32_t> baby;  // odd j < d/2 coprime to d
  uint32_t first_giant = 0;    // giant steps k = first_giant, first_giant + 1, ...
  std::vector<uint32_t>
      pair_masks;  // bit i of [k - first_giant]: k*d +- baby[i] is a prime in (B1, B2]
};

// Precomputes a level with giant step d (60 or 210; 0 picks by B2).
// REQUIRES: 2 <= b1 <= b2 < 2^28. (Tuning tools use this directly; the
// engine uses the fixed ladder below.)
EcmLevel MakeEcmLevel(uint32_t b1, uint32_t b2, uint32_t d = 0);

// The levels, ascending by B1 (27 ... 100000); each is built on first use
// (thread-safe) and lives for the program. REQUIRES: 0 <= index < EcmLevelCount().
int EcmLevelCount();
const EcmLevel& GetEcmLevel(int index);
// The first level with B1 >= b1 (the last level when b1 exceeds them all).
int EcmLevelIndexFor(uint32_t b1);

namespace ecm_internal {
// The scalar type of an arithmetic: what m.n() returns (a factor's type).
template <typename Arith>
using Scalar = decltype(std::declval<const Arith&>().n());

template <typename W>
struct Point {
  W x, z;
};

// 2P, with a24 = (A + 2) / 4.
template <typename Arith, typename W = typename Arith::Word>
[[gnu::always_inline]] inline Point<W> Dbl(const Arith& m, const Point<W>& p, W a24) {
  const W s = m.Sqr(m.Add(p.x, p.z));
  const W d = m.Sqr(m.Sub(p.x, p.z));
  const W t = m.Sub(s, d);
  return {m.Mul(s, d), m.Mul(t, m.Add(d, m.Mul(a24, t)))};
}

// P + Q given P - Q.
template <typename Arith, typename W = typename Arith::Word>
[[gnu::always_inline]] inline Point<W> Add(const Arith& m, const Point<W>& p, const Point<W>& q,
                                           const Point<W>& diff) {
  const W u = m.Mul(m.Sub(p.x, p.z), m.Add(q.x, q.z));
  const W v = m.Mul(m.Add(p.x, p.z), m.Sub(q.x, q.z));
  return {m.Mul(diff.z, m.Sqr(m.Add(u, v))), m.Mul(diff.x, m.Sqr(m.Sub(u, v)))};
}

// P + Q given P - Q = (x_diff : 1).
template <typename Arith, typename W = typename Arith::Word>
[[gnu::always_inline]] inline Point<W> AddNormalized(const Arith& m, const Point<W>& p,
                                                     const Point<W>& q, W x_diff) {
  const W u = m.Mul(m.Sub(p.x, p.z), m.Add(q.x, q.z));
  const W v = m.Mul(m.Add(p.x, p.z), m.Sub(q.x, q.z));
  return {m.Sqr(m.Add(u, v)), m.Mul(x_diff, m.Sqr(m.Sub(u, v)))};
}

// Returns [k]P and [k+1]P by the Montgomery ladder. REQUIRES: k >= 1.
template <typename Arith, typename W = typename Arith::Word>
void Ladder(const Arith& m, const Point<W>& p, uint64_t k, W a24, Point<W>* kp, Point<W>* k1p) {
  Point<W> r0 = p, r1 = Dbl(m, p, a24);
  for (int i = BitLength64(k) - 2; i >= 0; --i) {
    if ((k >> i) & 1) {
      r0 = Add(m, r1, r0, p);
      r1 = Dbl(m, r1, a24);
    } else {
      r1 = Add(m, r1, r0, p);
      r0 = Dbl(m, r0, a24);
    }
  }
  *kp = r0;
  *k1p = r1;
}

// Exchanges *a and *b when bit == 1 (bit is 0 or 1), without branching.
template <typename W>
[[gnu::always_inline]] inline void ConditionalSwap(uint64_t bit, Point<W>* a, Point<W>* b) {
  const W mask = W{0} - static_cast<W>(bit);
  const W tx = (a->x ^ b->x) & mask, tz = (a->z ^ b->z) & mask;
  a->x ^= tx;
  b->x ^= tx;
  a->z ^= tz;
  b->z ^= tz;
}

template <typename W>
W Nontrivial(W g, W n) {
  return (g > 1 && g < n) ? g : 0;
}

// *inv = 1 / x in m's form, when gcd(x, n) = 1; returns that gcd.
template <typename Arith, typename W = typename Arith::Word>
W InvertOne(const Arith& m, W x, W* inv) {
  W plain = 0;
  const W g = InverseOrGcd<W>(m.FromMont(x), m.n(), &plain);
  if (g == 1) *inv = m.ToMont(plain);
  return g;
}

// Inverts a[0..count) with one inversion (Montgomery's trick). Returns
// gcd(prod a, n); inv[] holds the inverses only when it is 1. The running
// products alternate between two chains (even and odd slots), so that each
// product waits on the one before the last, not the last: both sweeps are
// chains of dependent products, bound by their latency.
template <typename Arith, typename W = typename Arith::Word>
Scalar<Arith> BatchInverse(const Arith& m, const W* a, W* inv, int count) {
  W running[2] = {m.One(), m.One()};
  for (int i = 0; i < count; ++i) {
    inv[i] = running[i & 1];  // product of the earlier slots of i's chain
    running[i & 1] = m.Mul(running[i & 1], a[i]);
  }
  W r;  // 1 / (running[0] running[1])
  if (const auto g = InvertOne(m, m.Mul(running[0], running[1]), &r); g != 1) return g;
  W chain_inverse[2] = {m.Mul(r, running[1]), m.Mul(r, running[0])};
  for (int i = count; i-- > 0;) {
    inv[i] = m.Mul(inv[i], chain_inverse[i & 1]);
    chain_inverse[i & 1] = m.Mul(chain_inverse[i & 1], a[i]);
  }
  return 1;
}

// The first proper gcd(v[i], n), or 0.
template <typename Arith, typename W = typename Arith::Word>
W FirstFactor(const Arith& m, const W* v, int count) {
  for (int i = 0; i < count; ++i) {
    if (const W f = Nontrivial(Gcd<W>(v[i], m.n()), m.n()); f != 0) return f;
  }
  return 0;
}

// gcd(prod v[l], n) when it is a proper factor; otherwise the first proper
// gcd(v[l], n); otherwise 0. (A lane whose value vanishes mod n says nothing.)
template <typename Arith, int kLanes, typename W = typename Arith::Word>
W LaneFactor(const Arith& m, const W (&v)[kLanes]) {
  const W n = m.n();
  W product = v[0];
  for (int l = 1; l < kLanes; ++l) product = m.Mul(product, v[l]);
  const W g = Gcd<W>(product, n);
  if (g == 1) return 0;
  if (g != n) return g;
  for (int l = 0; l < kLanes; ++l) {
    if (const W f = Nontrivial(Gcd<W>(v[l], n), n); f != 0) return f;
  }
  return 0;
}

// Suyama's curves for sigma = first_sigma + l, l < kLanes: a24[l] and the
// starting x0[l] (Z = 1), in m's Montgomery form. Returns 1 when every lane
// has its curve; a factor d, 1 < d < n, found on the way; or 0 when no curve
// could be set up. (Lanes whose curve is singular mod n run junk.)
template <typename Arith, int kLanes, typename W = typename Arith::Word>
W SuyamaCurves(const Arith& m, uint64_t first_sigma, W (&a24)[kLanes], W (&x0)[kLanes]) {
  const W n = m.n();
  // Curves and points from sigma: u = s^2 - 5, v = 4s, x0 = u^3 / v^3,
  // a24 = (v - u)^3 (3u + v) / (16 u^3 v); one inversion serves all lanes.
  W den[kLanes], x_num[kLanes], a_num[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    const W s = m.ToMont(static_cast<W>(first_sigma + static_cast<uint64_t>(l)));
    const W u = m.Sub(m.Sqr(s), m.ToMont(5));
    const W v = m.Add(m.Add(s, s), m.Add(s, s));
    const W u3 = m.Mul(m.Sqr(u), u);
    const W v3 = m.Mul(m.Sqr(v), v);
    W sixteen_u3v = m.Mul(u3, v);
    for (int i = 0; i < 4; ++i) sixteen_u3v = m.Add(sixteen_u3v, sixteen_u3v);
    den[l] = m.Mul(sixteen_u3v, v3);
    const W vmu = m.Sub(v, u);
    const W three_u_plus_v = m.Add(m.Add(m.Add(u, u), u), v);
    a_num[l] = m.Mul(m.Mul(m.Mul(m.Sqr(vmu), vmu), three_u_plus_v), v3);
    x_num[l] = m.Mul(u3, sixteen_u3v);
  }
  W den_inv[kLanes];
  if (const W g = BatchInverse(m, den, den_inv, kLanes); g != 1) {
    if (g != n) return g;
    // Some lane's denominator vanishes mod n (or two lanes split n between
    // them): a proper factor if any lane has one, else those lanes run junk.
    for (int l = 0; l < kLanes; ++l) {
      const W gl = Gcd<W>(m.FromMont(den[l]), n);
      if (gl != 1 && gl != n) return gl;
      if (gl == n) den[l] = m.One();
    }
    if (BatchInverse(m, den, den_inv, kLanes) != 1) return 0;
  }
  for (int l = 0; l < kLanes; ++l) {
    a24[l] = m.Mul(a_num[l], den_inv[l]);
    x0[l] = m.Mul(x_num[l], den_inv[l]);
  }
  return 1;
}

}  // namespace ecm_internal

// Stages 1 and 2 on kLanes curves side by side, given each lane's a24 and
// starting x0 (Z = 1) in m's form. Returns a factor d with 1 < d < n, or 0.
// Arith is Mont64, Mont128, or an arithmetic whose Word holds several curves
// at once (ecm_ifma.h); the helpers called unqualified below (ConditionalSwap,
// LaneFactor, FirstFactor, and InvertOne inside BatchInverse) are found by
// argument-dependent lookup for such an arithmetic, and are ecm_internal's for
// the scalar ones.
template <typename Arith, int kLanes, typename W = typename Arith::Word>
ecm_internal::Scalar<Arith> EcmStages(const Arith& m, const W (&a24)[kLanes], const W (&x0)[kLanes],
                                      const EcmLevel& level) {
  using namespace ecm_internal;  // NOLINT: see above
  // Stage 1: the ladder over the bits of the multiplier, base points (x0 : 1).
  // Branch-free: the multiplier's bits are random, so a branch per bit would
  // be mispredicted half the time. Swap (r0, r1) when the bit changes, then
  // always step (r0, r1) -> (2 r0, r0 + r1).
  Point<W> r0[kLanes], r1[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    r0[l] = {x0[l], m.One()};
    r1[l] = Dbl(m, r0[l], a24[l]);
  }
  uint64_t swapped = 0;
  for (int i = level.multiplier_bits - 2; i >= 0; --i) {
    const uint64_t bit = (level.multiplier[i >> 6] >> (i & 63)) & 1;
    const uint64_t flip = bit ^ swapped;
    swapped = bit;
    for (int l = 0; l < kLanes; ++l) {
      ConditionalSwap(flip, &r0[l], &r1[l]);
      r1[l] = AddNormalized(m, r1[l], r0[l], x0[l]);
      r0[l] = Dbl(m, r0[l], a24[l]);
    }
  }
  Point<W> q[kLanes];
  W qz[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    ConditionalSwap(swapped, &r0[l], &r1[l]);
    q[l] = r0[l];
    qz[l] = q[l].z;
  }
  if (const auto f = LaneFactor(m, qz); f != 0) return f;
  if (level.b2 <= level.b1) return 0;

  // Stage 2. Baby steps: the odd multiples jQ, j = 1, 3, ..., d/2 + 1.
  constexpr int kMaxOdd = 210 / 4 + 1;
  constexpr int kMaxBabies = 24;
  const uint32_t half = level.d / 2;
  const int odd_count = static_cast<int>(half / 2 + 1);
  // odd[i] = (2i + 1)Q: up to 7Q by steps of 2Q, then by steps of 4Q, which
  // makes two independent chains (even and odd i) instead of one.
  Point<W> odd[kLanes][kMaxOdd];
  Point<W> q2[kLanes], q4[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    q2[l] = Dbl(m, q[l], a24[l]);
    q4[l] = Dbl(m, q2[l], a24[l]);
    odd[l][0] = q[l];
    odd[l][1] = Add(m, q2[l], q[l], q[l]);
  }
  for (int i = 2; i < odd_count; ++i) {
    for (int l = 0; l < kLanes; ++l) {
      odd[l][i] = i < 4 ? Add(m, odd[l][i - 1], q2[l], odd[l][i - 2])
                        : Add(m, odd[l][i - 2], q4[l], odd[l][i - 4]);
    }
  }
  // dQ = 2 (d/2)Q when d/2 is odd, else (d/2 + 1)Q + (d/2 - 1)Q (difference 2Q).
  // Each lane multiplies into kAcc accumulators in turn: one running product
  // would chain every multiplication on the previous one's latency.
  constexpr int kAcc = 4;
  Point<W> g[kLanes], g_next[kLanes], dq[kLanes];
  W acc[kAcc][kLanes];
  for (int l = 0; l < kLanes; ++l) {
    dq[l] = (half & 1) ? Dbl(m, odd[l][half / 2], a24[l])
                       : Add(m, odd[l][half / 2], odd[l][half / 2 - 1], q2[l]);
    Ladder(m, dq[l], level.first_giant, a24[l], &g[l], &g_next[l]);
    for (int a = 0; a < kAcc; ++a) acc[a][l] = m.One();
  }
  unsigned turn = 0;
  // Giant steps kdQ in chunks. Each chunk is normalised to (x : 1) with one
  // inversion (the first chunk together with the baby steps), so that each
  // prime pair costs one multiplication: x(G) - x(B) vanishes mod p when
  // (k d +- j) Q = 0 mod p.
  constexpr int kChunk = kLanes <= 2 ? 64 : 128 / kLanes;
  const int babies = static_cast<int>(level.baby.size());  // <= kMaxBabies
  const int giants = static_cast<int>(level.pair_masks.size());
  W baby_x[kLanes][kMaxBabies];
  for (int k0 = 0; k0 == 0 || k0 < giants; k0 += kChunk) {
    // Slots: [0, first) the baby steps (first chunk only), then the giants.
    const int first = k0 == 0 ? kLanes * babies : 0;
    const int count = std::min(kChunk, giants - k0);
    W x[kLanes * (kMaxBabies + kChunk)],
        z[kLanes * (kMaxBabies + kChunk)] = {}, z_inv[kLanes * (kMaxBabies + kChunk)];
    for (int l = 0; l < kLanes && first != 0; ++l) {
      for (int i = 0; i < babies; ++i) {
        x[l * babies + i] = odd[l][level.baby[i] / 2].x;
        z[l * babies + i] = odd[l][level.baby[i] / 2].z;
      }
    }
    for (int k = 0; k < count; ++k) {
      for (int l = 0; l < kLanes; ++l) {
        x[first + k * kLanes + l] = g[l].x;
        z[first + k * kLanes + l] = g[l].z;
        const Point<W> next = Add(m, g_next[l], dq[l], g[l]);
        g[l] = g_next[l];
        g_next[l] = next;
      }
    }
    const int slots = first + kLanes * count;
    if (BatchInverse(m, z, z_inv, slots) != 1) return FirstFactor(m, z, slots);
    for (int i = 0; i < first; ++i) baby_x[i / babies][i % babies] = m.Mul(x[i], z_inv[i]);
    for (int k = 0; k < count; ++k) {
      W gxn[kLanes];
      for (int l = 0; l < kLanes; ++l) {
        gxn[l] = m.Mul(x[first + k * kLanes + l], z_inv[first + k * kLanes + l]);
      }
      for (uint32_t mask = level.pair_masks[k0 + k]; mask != 0; mask &= mask - 1, ++turn) {
        const int i = __builtin_ctz(mask);
        W* a = acc[turn % kAcc];
        for (int l = 0; l < kLanes; ++l) a[l] = m.Mul(a[l], m.Sub(gxn[l], baby_x[l][i]));
      }
    }
  }
  for (int a = 1; a < kAcc; ++a) {
    for (int l = 0; l < kLanes; ++l) acc[0][l] = m.Mul(acc[0][l], acc[a][l]);
  }
  return LaneFactor(m, acc[0]);
}

// Runs kLanes curves side by side, Suyama's sigma = first_sigma, first_sigma
// + 1, ... (>= 6), at `level`. The curves share the stage-1 multiplier and the
// stage-2 plan, so their independent arithmetic can overlap in the CPU
// (measured with bench/small/tune_ecm: two lanes cost 10-20% less per curve
// than one; more gain nothing once the multiplier is saturated). Returns a factor
// d with 1 < d < n, or 0 when none of the curves found one.
// REQUIRES: n = m.n() odd, composite, with no prime factor below 7;
// 1 <= kLanes <= 8.
template <typename Arith, int kLanes>
typename Arith::Word EcmCurves(const Arith& m, uint64_t first_sigma, const EcmLevel& level) {
  static_assert(kLanes >= 1 && kLanes <= 8, "lanes");
  using W = typename Arith::Word;
  W a24[kLanes], x0[kLanes];
  const W status = ecm_internal::SuyamaCurves<Arith, kLanes>(m, first_sigma, a24, x0);
  if (status != 1) return status;
  // Below 2^60 the same stages run on the lazy arithmetic (montgomery.h):
  // the same residues up to multiples of n, so the same gcds and answer.
  if constexpr (std::is_same_v<Arith, Mont64>) {
    if (m.n() < Mont64Lazy::kLimit)
      return EcmStages<Mont64Lazy, kLanes>(Mont64Lazy(m), a24, x0, level);
  }
  return EcmStages<Arith, kLanes>(m, a24, x0, level);
}

// One curve: EcmCurves with a single lane.
template <typename Arith>
typename Arith::Word EcmCurve(const Arith& m, uint64_t sigma, const EcmLevel& level) {
  return EcmCurves<Arith, 1>(m, sigma, level);
}

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_ECM_H_
