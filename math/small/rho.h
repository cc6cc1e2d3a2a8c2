// Pollard-Brent rho in Montgomery arithmetic with batched gcds. Finds a prime
// factor p after about sqrt(p) iterations, so it is the tool for factors up
// to ~2^24; larger ones go to micro-ECM (ecm.h).
#ifndef ZFACTOR_MATH_SMALL_RHO_H_
#define ZFACTOR_MATH_SMALL_RHO_H_

#include <cstdint>

#include "math/small/gcd.h"

namespace zfactor::math::small {

// Brent's walk: round r (1, 2, 4, ...) fixes x at the current y, advances y
// r steps, then compares x with each of the next r values of y.
template <typename W>
struct RhoWalk {
  W x, y;
  uint64_t r = 1;      // this round's length
  uint64_t k = 0;      // comparisons made in this round
  uint64_t steps = 0;  // evaluations of x^2 + c so far
};

// Advances the walk to its next comparison and returns x - y there.
template <typename Arith, typename W = typename Arith::Word>
[[gnu::always_inline]] inline W NextRhoDifference(const Arith& m, W c, RhoWalk<W>* w) {
  if (w->k == w->r) {
    w->r *= 2;
    w->k = 0;
  }
  if (w->k == 0) {
    w->x = w->y;
    for (uint64_t i = 0; i < w->r; ++i) w->y = m.Add(m.Sqr(w->y), c);
    w->steps += w->r;
  }
  w->y = m.Add(m.Sqr(w->y), c);
  ++w->k;
  ++w->steps;
  return m.Sub(w->x, w->y);
}

// Iterates y -> y^2 + c (in Montgomery form; c selects the map) from y0 = c.
// Returns a factor d with 1 < d < n, or 0 when max_iterations ran out (checked
// at the end of a round) or the cycle closed mod n first.
// REQUIRES: n = m.n() odd composite, 0 < c < n.
//
// The differences are multiplied together and one gcd is taken per kBatch of
// them, across Brent's short first rounds too (a gcd costs about as much as
// 30 steps). A batch whose gcd is n closed two factors at once: it is replayed
// from its first comparison with a gcd per step.
template <typename Arith>
typename Arith::Word RhoBrent(const Arith& m, typename Arith::Word c, uint64_t max_iterations) {
  using W = typename Arith::Word;
  constexpr int kBatch = 64;
  const W n = m.n();
  RhoWalk<W> walk{c, c};
  RhoWalk<W> batch_start = walk;
  W q = m.One();
  int pending = 0;
  while (true) {
    q = m.Mul(q, NextRhoDifference(m, c, &walk));
    const bool last = walk.k == walk.r && walk.steps >= max_iterations;
    if (++pending < kBatch && !last) continue;
    W g = Gcd<W>(q, n);
    if (g == n) {
      do {
        g = Gcd<W>(NextRhoDifference(m, c, &batch_start), n);
      } while (g == 1);
      return g == n ? 0 : g;
    }
    if (g != 1) return g;
    if (last) return 0;
    pending = 0;
    batch_start = walk;
  }
}

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_RHO_H_
