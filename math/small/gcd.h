// gcd and modular inverse on one- and two-limb words.
#ifndef ZFACTOR_MATH_SMALL_GCD_H_
#define ZFACTOR_MATH_SMALL_GCD_H_

#include <cstdint>

#include "math/small/int128.h"

namespace zfactor::math::small {

// Binary gcd; Gcd(0, b) == b. Branch-free inside the loop: which of the two
// is larger is a coin toss, so a branch on it would be mispredicted half the
// time. |b - a| has the trailing zeros of b - a, so the shift does not wait
// for the absolute value.
template <typename W>
W Gcd(W a, W b) {
  if (a == 0) return b;
  if (b == 0) return a;
  const int shift = TrailingZeros(a | b);
  a >>= TrailingZeros(a);
  b >>= TrailingZeros(b);
  while (a != b) {  // both odd
    const W diff = b - a;
    const int zeros = TrailingZeros(diff);
    const W smaller = a < b ? a : b;
    b = (a < b ? diff : a - b) >> zeros;
    a = smaller;
  }
  return a << shift;
}

// Returns gcd(a, n); when it is 1, *inverse = a^-1 mod n. REQUIRES: n > 1.
template <typename W>
W InverseOrGcd(W a, W n, W* inverse) {
  // Extended Euclid on magnitudes: the coefficients of a alternate in sign.
  W r0 = n, r1 = a % n;
  W t0 = 0, t1 = 1;
  bool t0_positive = false;  // sign of the coefficient of a in r0 (r0 = +-t0 * a mod n)
  while (r1 != 0) {
    const W q = r0 / r1;
    const W r2 = r0 - q * r1;
    const W t2 = t0 + q * t1;
    r0 = r1;
    r1 = r2;
    t0 = t1;
    t1 = t2;
    t0_positive = !t0_positive;
  }
  // The signs alternate: after the first step r0 = a with coefficient +1.
  if (r0 == 1) *inverse = t0_positive ? t0 % n : (n - t0 % n) % n;
  return r0;
}

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_GCD_H_
