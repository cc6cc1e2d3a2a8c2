// Probable-prime tests on GMP integers (internal to the math engine).
#ifndef ZFACTOR_MATH_PRIMALITY_H_
#define ZFACTOR_MATH_PRIMALITY_H_

#include <gmpxx.h>

namespace zfactor::math {

// Strong probable-prime test to base a. REQUIRES: n odd, n > 3, 1 < a < n-1.
bool IsStrongProbablePrime(const mpz_class& n, unsigned long a);

// Strong Lucas probable-prime test with Selfridge's parameters (method A).
// REQUIRES: n odd, n > 3.
bool IsStrongLucasProbablePrime(const mpz_class& n);

// Baillie-PSW: strong base-2 Miller-Rabin plus strong Lucas-Selfridge, after a
// few small trial divisions. Deterministic (no pseudoprimes) for n < 2^64.
// REQUIRES: n >= 0.
bool IsBpswProbablePrime(const mpz_class& n);

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_PRIMALITY_H_
