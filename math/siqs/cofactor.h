// Splitting the 64-bit cofactor left after trial division into two large
// primes (double-large-prime variation), with math/small's word-size
// arithmetic: a base-2 probable-prime test, Pollard-Brent rho for small
// cofactors and micro-ECM for larger ones.
#ifndef ZFACTOR_MATH_SIQS_COFACTOR_H_
#define ZFACTOR_MATH_SIQS_COFACTOR_H_

#include <cstdint>

namespace zfactor::math::siqs {

// Strong probable prime to base 2 (every prime passes; composites that pass
// are rare). REQUIRES: n odd, n > 2.
bool ProbablePrime64(uint64_t n);

// The sieve's quick split of a cofactor whose prime factors all lie above
// the factor base: rho up to 36 bits, else up to 16 micro-ECM curves.
// A non-trivial factor, or 0 (the caller drops the relation).
// REQUIRES: n odd composite < 2^62, no prime factor below 7.
uint64_t SplitLargePrimes(uint64_t n);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_COFACTOR_H_
