// A small self-initialising quadratic sieve for two-limb composites whose
// factors are too large for micro-ECM (balanced 80-128-bit semiprimes).
// Everything is in machine arithmetic: Q(x) in 128-bit integers, the square
// root step in Montgomery arithmetic mod n, dense GF(2) elimination (the
// factor base stays below a few hundred primes). Single large prime variation.
#ifndef ZFACTOR_MATH_SMALL_TINY_QS_H_
#define ZFACTOR_MATH_SMALL_TINY_QS_H_

#include <cstdint>

#include "math/factor.h"
#include "math/small/int128.h"

namespace zfactor::math::small {

// Returns a factor d with 1 < d < n, or 0 when cancelled or when it failed
// (too few dependencies split n; the caller then falls back to ECM).
// Deterministic: the polynomial choice uses a fixed seed.
// REQUIRES: n odd, composite, not a perfect power, 2^40 <= n < 2^128.
u128 TinyQsFactor(u128 n, const Hooks& hooks);

// What one run did; the work is a function of n alone, whichever kernel ran.
struct TinyQsStats {
  uint64_t polynomials = 0;        // sieved
  uint64_t candidates = 0;         // sieve offsets past the threshold
  uint64_t full_relations = 0;     // candidates smooth over the factor base
  uint64_t partial_relations = 0;  // smooth but for one large prime not seen before
                                   // (a second one with that prime is combined)
};

namespace tiny_qs_internal {

// TinyQsFactor with the candidate test's kernel chosen by the caller
// (use_avx512 is ignored off x86-64; REQUIRES: UseAvx512() on x86-64 when
// true), adding to *stats. For tests and tune_qs.
u128 Factor(u128 n, const Hooks& hooks, bool use_avx512, TinyQsStats* stats);

}  // namespace tiny_qs_internal

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_TINY_QS_H_
