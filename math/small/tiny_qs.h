// A small self-initialising quadratic sieve for two-limb composites whose
// factors are too large for micro-ECM (balanced 80-128-bit semiprimes).
// Everything is in machine arithmetic: Q(x) in 128-bit integers, the square
// root step in Montgomery arithmetic mod n, dense GF(2) elimination (the
// factor base stays below a few hundred primes). Single large prime variation.
#ifndef ZFACTOR_MATH_SMALL_TINY_QS_H_
#define ZFACTOR_MATH_SMALL_TINY_QS_H_

#include "math/factor.h"
#include "math/small/int128.h"

namespace zfactor::math::small {

// Returns a factor d with 1 < d < n, or 0 when cancelled or when it failed
// (too few dependencies split n; the caller then falls back to ECM).
// Deterministic: the polynomial choice uses a fixed seed.
// REQUIRES: n odd, composite, not a perfect power, 2^40 <= n < 2^128.
u128 TinyQsFactor(u128 n, const Hooks& hooks);

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_TINY_QS_H_
