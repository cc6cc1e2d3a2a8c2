// Small helpers the math tests share for building inputs.
#ifndef ZFACTOR_TESTS_MATH_NUMBERS_H_
#define ZFACTOR_TESTS_MATH_NUMBERS_H_

#include <gmpxx.h>

namespace zfactor::math::testing {

inline mpz_class Z(const char* s) { return mpz_class(s); }

// The smallest prime > x (GMP's probable-prime search).
inline mpz_class NextPrime(const mpz_class& x) {
  mpz_class p;
  mpz_nextprime(p.get_mpz_t(), x.get_mpz_t());
  return p;
}

inline mpz_class Pow10(unsigned long e) {
  mpz_class x;
  mpz_ui_pow_ui(x.get_mpz_t(), 10, e);
  return x;
}

}  // namespace zfactor::math::testing

#endif  // ZFACTOR_TESTS_MATH_NUMBERS_H_
