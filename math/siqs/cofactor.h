// Splitting the 64-bit cofactor left after trial division into two large
// primes (double-large-prime variation): a deterministic primality test and
// Pollard-Brent rho in Montgomery arithmetic.
#ifndef ZFACTOR_MATH_SIQS_COFACTOR_H_
#define ZFACTOR_MATH_SIQS_COFACTOR_H_

#include <cstdint>

namespace zfactor::math::siqs {

// Deterministic Miller-Rabin for n < 2^64.
bool IsPrime64(uint64_t n);

// A non-trivial factor of the odd composite n < 2^62, or 0 if rho gave up.
uint64_t SplitComposite64(uint64_t n);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_COFACTOR_H_
