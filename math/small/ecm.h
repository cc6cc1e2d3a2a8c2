// Micro-ECM: Lenstra's elliptic curve method on Montgomery curves
// (x-only arithmetic, Suyama's parameterisation: 12 divides the group
// order), stage 1 as one Montgomery ladder over the product of all prime
// powers <= B1, stage 2 as a baby-step giant-step continuation to B2.
// Works in one- or two-limb Montgomery arithmetic (montgomery.h).
#ifndef ZFACTOR_MATH_SMALL_ECM_H_
#define ZFACTOR_MATH_SMALL_ECM_H_

#include <cstdint>
#include <vector>

#include "math/small/gcd.h"

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

// Precomputes a level. REQUIRES: 2 <= b1 <= b2 < 2^28. (Tuning tools use
// this directly; the engine uses the fixed ladder below.)
EcmLevel MakeEcmLevel(uint32_t b1, uint32_t b2);

// The levels, ascending by B1 (27 ... 100000); each is built on first use
// (thread-safe) and lives for the program. REQUIRES: 0 <= index < EcmLevelCount().
int EcmLevelCount();
const EcmLevel& GetEcmLevel(int index);
// The first level with B1 >= b1 (the last level when b1 exceeds them all).
int EcmLevelIndexFor(uint32_t b1);

namespace ecm_internal {

template <typename W>
struct Point {
  W x, z;
};

// 2P, with a24 = (A + 2) / 4.
template <typename Arith, typename W = typename Arith::Word>
inline Point<W> Dbl(const Arith& m, const Point<W>& p, W a24) {
  const W s = m.Sqr(m.Add(p.x, p.z));
  const W d = m.Sqr(m.Sub(p.x, p.z));
  const W t = m.Sub(s, d);
  return {m.Mul(s, d), m.Mul(t, m.Add(d, m.Mul(a24, t)))};
}

// P + Q given P - Q.
template <typename Arith, typename W = typename Arith::Word>
inline Point<W> Add(const Arith& m, const Point<W>& p, const Point<W>& q, const Point<W>& diff) {
  const W u = m.Mul(m.Sub(p.x, p.z), m.Add(q.x, q.z));
  const W v = m.Mul(m.Add(p.x, p.z), m.Sub(q.x, q.z));
  return {m.Mul(diff.z, m.Sqr(m.Add(u, v))), m.Mul(diff.x, m.Sqr(m.Sub(u, v)))};
}

// P + Q given P - Q = (x_diff : 1).
template <typename Arith, typename W = typename Arith::Word>
inline Point<W> AddNormalized(const Arith& m, const Point<W>& p, const Point<W>& q, W x_diff) {
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
inline void ConditionalSwap(W bit, Point<W>* a, Point<W>* b) {
  const W mask = 0 - bit;
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

}  // namespace ecm_internal

// Runs one curve, Suyama's sigma = `sigma` (>= 6), at `level`. Returns a factor
// d with 1 < d < n, or 0 when this curve found none.
// REQUIRES: n = m.n() odd, composite, with no prime factor below 7.
template <typename Arith>
typename Arith::Word EcmCurve(const Arith& m, uint64_t sigma, const EcmLevel& level) {
  using W = typename Arith::Word;
  using ecm_internal::Point;
  namespace ei = ecm_internal;
  const W n = m.n();

  // Curve and point from sigma: u = s^2 - 5, v = 4s, x0 = u^3 / v^3,
  // a24 = (v - u)^3 (3u + v) / (16 u^3 v); one inversion gives both.
  const W s = m.ToMont(static_cast<W>(sigma));
  const W five = m.ToMont(5);
  const W u = m.Sub(m.Sqr(s), five);
  const W v = m.Add(m.Add(s, s), m.Add(s, s));
  const W u3 = m.Mul(m.Sqr(u), u);
  const W v3 = m.Mul(m.Sqr(v), v);
  W sixteen_u3v = m.Mul(u3, v);
  for (int i = 0; i < 4; ++i) sixteen_u3v = m.Add(sixteen_u3v, sixteen_u3v);
  const W den = m.Mul(sixteen_u3v, v3);
  W den_inv_plain = 0;
  const W g0 = InverseOrGcd<W>(m.FromMont(den), n, &den_inv_plain);
  if (g0 != 1) return ei::Nontrivial(g0, n);
  const W den_inv = m.ToMont(den_inv_plain);
  const W vmu = m.Sub(v, u);
  const W three_u_plus_v = m.Add(m.Add(m.Add(u, u), u), v);
  const W a24 = m.Mul(m.Mul(m.Mul(m.Sqr(vmu), vmu), three_u_plus_v), m.Mul(v3, den_inv));
  const W x0 = m.Mul(u3, m.Mul(sixteen_u3v, den_inv));

  // Stage 1: ladder over the bits of the multiplier, base point (x0 : 1).
  const Point<W> p{x0, m.One()};
  // Branch-free: the multiplier's bits are random, so a branch per bit would
  // be mispredicted half the time. Swap (r0, r1) when the bit changes, then
  // always step (r0, r1) -> (2 r0, r0 + r1).
  Point<W> r0 = p, r1 = ei::Dbl(m, p, a24);
  W swapped = 0;
  for (int i = level.multiplier_bits - 2; i >= 0; --i) {
    const W bit = static_cast<W>((level.multiplier[i >> 6] >> (i & 63)) & 1);
    ei::ConditionalSwap(bit ^ swapped, &r0, &r1);
    swapped = bit;
    r1 = ei::AddNormalized(m, r1, r0, x0);
    r0 = ei::Dbl(m, r0, a24);
  }
  ei::ConditionalSwap(swapped, &r0, &r1);
  const Point<W> q = r0;
  const W g1 = Gcd<W>(q.z, n);
  if (g1 != 1) return ei::Nontrivial(g1, n);
  if (level.b2 <= level.b1) return 0;

  // Stage 2. Baby steps: the odd multiples jQ, j = 1, 3, ..., d/2 + 1.
  const uint32_t half = level.d / 2;
  std::vector<Point<W>> odd(half / 2 + 1);
  const Point<W> q2 = ei::Dbl(m, q, a24);
  odd[0] = q;
  odd[1] = ei::Add(m, q2, q, q);
  for (size_t i = 2; i < odd.size(); ++i) odd[i] = ei::Add(m, odd[i - 1], q2, odd[i - 2]);
  // Normalise the baby steps to (x : 1) with one inversion (Montgomery's
  // trick), so each prime pair costs two multiplications below.
  const size_t babies = level.baby.size();  // <= 24
  W prefix[32];
  W running = m.One();
  for (size_t i = 0; i < babies; ++i) {
    prefix[i] = running;
    running = m.Mul(running, odd[level.baby[i] / 2].z);
  }
  W inv_plain = 0;
  const W g2 = InverseOrGcd<W>(m.FromMont(running), n, &inv_plain);
  if (g2 != 1) return ei::Nontrivial(g2, n);
  W inv = m.ToMont(inv_plain);  // 1 / (z_0 ... z_{b-1})
  W baby_x[32];
  for (size_t i = babies; i-- > 0;) {
    const Point<W>& b = odd[level.baby[i] / 2];
    baby_x[i] = m.Mul(b.x, m.Mul(inv, prefix[i]));  // x / z
    inv = m.Mul(inv, b.z);
  }
  // dQ = 2 (d/2)Q when d/2 is odd, else (d/2 + 1)Q + (d/2 - 1)Q (difference 2Q).
  const Point<W> dq = (half & 1) ? ei::Dbl(m, odd[half / 2], a24)
                                 : ei::Add(m, odd[half / 2], odd[half / 2 - 1], q2);
  Point<W> g, g_next;
  ei::Ladder(m, dq, level.first_giant, a24, &g, &g_next);
  W acc = m.One();
  for (size_t k = 0; k < level.pair_masks.size(); ++k) {
    // gx - bx gz vanishes mod p when x(G) = x(B) mod p, i.e. (k d +- j) Q = 0.
    for (uint32_t mask = level.pair_masks[k]; mask != 0; mask &= mask - 1) {
      const int i = __builtin_ctz(mask);
      acc = m.Mul(acc, m.Sub(g.x, m.Mul(baby_x[i], g.z)));
    }
    const Point<W> next = ei::Add(m, g_next, dq, g);
    g = g_next;
    g_next = next;
  }
  return ei::Nontrivial(Gcd<W>(acc, n), n);
}

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_ECM_H_
