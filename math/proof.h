// Primality proofs by the N-1 method (internal to the math engine).
#ifndef ZFACTOR_MATH_PROOF_H_
#define ZFACTOR_MATH_PROOF_H_

#include <gmpxx.h>

#include "math/job.h"

namespace zfactor::math {

// Proofs are attempted for numbers of at most this many digits, within at
// most kProofSeconds (and the caller's own budget and cancel flag).
inline constexpr size_t kProofMaxDigits = 100;
inline constexpr double kProofSeconds = 2.0;

// Tries to prove n prime: factors n-1 = F R with the engine itself (ECM to
// B1 = 11e3, no SIQS), keeping in F only prime powers whose primes are
// themselves proven (recursively), then checks Pocklington's condition for
// every prime q | F (some a with a^(n-1) = 1 and gcd(a^((n-1)/q) - 1, n) = 1,
// so every prime factor of n is 1 mod F) and concludes
//   F^2 > n: n is prime (Pocklington);
//   F^3 > n: n is prime unless n = (aF+1)(bF+1), which is ruled out by
//            checking that neither candidate (a+b, ab) from the base-F digits
//            of (n-1)/F gives a square discriminant (Brillhart-Lehmer-Selfridge).
// Returns true only when such a proof was completed; false means "not
// proven", never "composite". REQUIRES: n odd, n > 2^64, n passed BPSW.
bool ProvePrimeNminus1(const mpz_class& n, const Job& job);

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_PROOF_H_
