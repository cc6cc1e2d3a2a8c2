// Perfect-power detection (internal to the math engine).
#ifndef ZFACTOR_MATH_PERFECT_POWER_H_
#define ZFACTOR_MATH_PERFECT_POWER_H_

#include <gmpxx.h>

namespace zfactor::math {

// If n = r^k with k >= 2 maximal, sets *root = r, *exponent = k and returns
// true; otherwise returns false. REQUIRES: n >= 2.
bool PerfectPower(const mpz_class& n, mpz_class* root, unsigned* exponent);

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_PERFECT_POWER_H_
