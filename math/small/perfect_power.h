// Perfect-power detection for cofactors with no small prime factors.
#ifndef ZFACTOR_MATH_SMALL_PERFECT_POWER_H_
#define ZFACTOR_MATH_SMALL_PERFECT_POWER_H_

#include <cstdint>

#include "math/small/int128.h"

namespace zfactor::math::small {

// When n = r^k with k >= 2 prime, returns k and sets *root = r; else returns 1.
// Only exponents with min_base^k <= n are tried, so pass the trial-division
// limit as min_base (the smallest possible prime factor of n).
// REQUIRES: n >= 2, min_base >= 2.
int PerfectPower128(u128 n, uint64_t min_base, u128* root);

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_PERFECT_POWER_H_
