// Trial division by the sieved odd primes (primes.h), division-free.
#ifndef ZFACTOR_MATH_SMALL_TRIAL_DIVISION_H_
#define ZFACTOR_MATH_SMALL_TRIAL_DIVISION_H_

#include <cstdint>
#include <vector>

#include "math/small/int128.h"

namespace zfactor::math::small {

// Divides out every prime p < limit (2 included) from n, appending each with
// multiplicity, ascending, to *out. Stops early once p^2 > the cofactor (then
// a cofactor > 1 is prime and is appended too, and 1 is returned). Returns
// the cofactor, whose prime factors are all >= limit.
// REQUIRES: n >= 1, limit <= kSmallPrimeLimit.
uint64_t TrialDivide64(uint64_t n, uint32_t limit, std::vector<uint64_t>* out);
u128 TrialDivide128(u128 n, uint32_t limit, std::vector<u128>* out);

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_TRIAL_DIVISION_H_
