// Pollard-Brent rho in Montgomery arithmetic with batched gcds. Finds a prime
// factor p after about sqrt(p) iterations, so it is the tool for factors up
// to ~2^24; larger ones go to micro-ECM (ecm.h).
#ifndef ZFACTOR_MATH_SMALL_RHO_H_
#define ZFACTOR_MATH_SMALL_RHO_H_

#include <algorithm>
#include <cstdint>

#include "math/small/gcd.h"

namespace zfactor::math::small {

// Iterates x -> x^2 + c (in Montgomery form; c selects the map) from x0 = c.
// Returns a factor d with 1 < d < n, or 0 when max_iterations ran out or the
// cycle closed mod n first. REQUIRES: n = m.n() odd composite, 0 < c < n.
template <typename Arith>
typename Arith::Word RhoBrent(const Arith& m, typename Arith::Word c, uint64_t max_iterations) {
  using W = typename Arith::Word;
  constexpr uint64_t kBatch = 64;  // differences multiplied together per gcd
  const W n = m.n();
  W y = c, x = c, ys = c;
  W q = m.One();
  W g = 1;
  uint64_t done = 0;
  for (uint64_t r = 1; g == 1; r *= 2) {
    x = y;
    for (uint64_t i = 0; i < r; ++i) y = m.Add(m.Sqr(y), c);
    done += r;
    for (uint64_t k = 0; k < r && g == 1; k += kBatch) {
      ys = y;
      const uint64_t steps = std::min(kBatch, r - k);
      for (uint64_t i = 0; i < steps; ++i) {
        y = m.Add(m.Sqr(y), c);
        q = m.Mul(q, m.Sub(x, y));
      }
      done += steps;
      g = Gcd<W>(q, n);
    }
    if (g == 1 && done >= max_iterations) return 0;
  }
  if (g == n) {
    // The batch overshot: replay it one step at a time.
    do {
      ys = m.Add(m.Sqr(ys), c);
      g = Gcd<W>(m.Sub(x, ys), n);
    } while (g == 1);
  }
  return g == n ? 0 : g;
}

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_RHO_H_
