// Baillie-PSW: a strong Fermat test to base 2 followed by a strong Lucas test
// with Selfridge's parameters (method A). No composite below 2^64 passes it.
#ifndef ZFACTOR_MATH_SMALL_BPSW_H_
#define ZFACTOR_MATH_SMALL_BPSW_H_

#include <cstdint>
#include <type_traits>

#include "math/small/gcd.h"
#include "math/small/int128.h"
#include "math/small/montgomery.h"

namespace zfactor::math::small {

inline int BitLength(uint64_t x) { return BitLength64(x); }
inline int BitLength(u128 x) { return BitLength128(x); }
inline bool IsSquare(uint64_t n) {
  const uint64_t r = Isqrt64(n);
  return r * r == n;
}
inline bool IsSquare(u128 n) {
  const u128 r = Isqrt128(n);
  return r * r == n;
}

// Jacobi symbol (a / n). REQUIRES: n odd.
template <typename W>
int Jacobi(W a, W n) {
  a %= n;
  int t = 1;
  while (a != 0) {
    const int z = TrailingZeros(a);
    a >>= z;
    const unsigned r = static_cast<unsigned>(n & 7);
    if ((z & 1) && (r == 3 || r == 5)) t = -t;
    const W tmp = a;
    a = n;
    n = tmp;
    if ((a & 3) == 3 && (n & 3) == 3) t = -t;
    a %= n;
  }
  return n == 1 ? t : 0;
}

// Strong probable prime to base 2. REQUIRES: n = m.n() odd, n > 2.
// Arith may be lazy (Mont64Lazy): values are made canonical before they are
// compared.
template <typename Arith>
bool StrongFermatBase2(const Arith& m) {
  using W = typename Arith::Word;
  const W n = m.n();
  const W d = (n - 1) >> TrailingZeros(n - 1);
  const int s = TrailingZeros(n - 1);
  const W one = m.One();
  const W minus_one = n - one;
  // 2^d by left-to-right squaring; multiplying by the base is a doubling.
  W x = one;
  for (int i = BitLength(d) - 1; i >= 0; --i) {
    x = m.Sqr(x);
    if ((d >> i) & 1) x = m.Add(x, x);
  }
  x = m.Canonical(x);
  if (x == one || x == minus_one) return true;
  for (int r = 1; r < s; ++r) {
    x = m.Canonical(m.Sqr(x));
    if (x == minus_one) return true;
    if (x == one) return false;
  }
  return false;
}

// Strong Lucas probable prime with P = 1, Q = (1 - D) / 4 and D the first of
// 5, -7, 9, -11, ... with (D / n) = -1 (Selfridge's method A), for squarefree
// n exactly the textbook test. REQUIRES: n = m.n() odd, not a multiple of 3
// (so n + 1 cannot overflow), n > 3.
//
// It runs on the Q = 1 sequence V_m(P', 1), P' = P^2/Q - 2, for which
// V_m(P', 1) = V_2m(P, Q) / Q^m. With n + 1 = d 2^s the strong conditions are
//   U_d(P, Q) == 0              <=>  V_d(P', 1) == 2
//   V_d(P, Q) == 0              <=>  V_d(P', 1) == -2
//   V_(d 2^r)(P, Q) == 0        <=>  V_(d 2^(r-1))(P', 1) == 0,  1 <= r < s
// because D U_d(P,Q)^2 = Q^d (V_d(P',1) - 2) and V_d(P,Q)^2 = Q^d (V_d(P',1) + 2):
// the first two are exact when n is squarefree. (math/primality.cc runs the
// same ladder on GMP numbers.) A ladder step is one product and one square;
// U_k with Q^k costs four products and a branch on each bit.
template <typename Arith>
bool StrongLucasSelfridge(const Arith& m) {
  using W = typename Arith::Word;
  const W n = m.n();
  auto mod_n = [n](int64_t v) {  // v mod n in [0, n), for small v
    const W a = static_cast<W>(static_cast<uint64_t>(v < 0 ? -v : v)) % n;
    return v < 0 && a != 0 ? n - a : a;
  };
  int64_t d_signed = 5;
  for (int tries = 0;; ++tries) {
    const int j = Jacobi<W>(mod_n(d_signed), n);
    if (j == -1) break;
    const W abs_d = static_cast<W>(static_cast<uint64_t>(d_signed < 0 ? -d_signed : d_signed));
    if (j == 0 && abs_d != n) return false;       // |D| shares a factor with n
    if (tries == 8 && IsSquare(n)) return false;  // no such D exists for squares
    d_signed = d_signed < 0 ? -d_signed + 2 : -(d_signed + 2);
  }
  const int64_t q_signed = (1 - d_signed) / 4;
  W q_inverse = 0;
  // Q shares a factor with n: composite.
  if (InverseOrGcd<W>(mod_n(q_signed), n, &q_inverse) != 1) return false;
  const W two = m.ToMont(2);
  const W p1 = m.Canonical(m.Sub(m.ToMont(q_inverse), two));  // P' = 1/Q - 2

  // Ladder on (V_k, V_k+1) from k = 0 over the bits of d, without branches:
  // (a, b) is (V_k, V_k+1), swapped while the current bit is 1, and a step
  // maps it to (a^2 - 2, a b - P').
  const W k = n + 1;
  const int s = TrailingZeros(k);
  const W d = k >> s;
  W a = two, b = p1;
  W swapped = 0;
  for (int i = BitLength(d) - 1; i >= 0; --i) {
    const W bit = (d >> i) & 1;
    const W mask = 0 - (bit ^ swapped);
    swapped = bit;
    const W t = (a ^ b) & mask;
    a ^= t;
    b ^= t;
    b = m.Sub(m.Mul(a, b), p1);
    a = m.Sub(m.Sqr(a), two);
  }
  W v = m.Canonical(swapped ? b : a);  // V_d(P', 1)
  if (v == two || v == n - two) return true;
  for (int r = 1; r < s; ++r) {
    if (v == 0) return true;
    v = m.Canonical(m.Sub(m.Sqr(v), two));
  }
  return false;
}

namespace bpsw_internal {

template <typename Arith>
bool BpswNoSmallFactors(const Arith& m) {
  using W = typename Arith::Word;
  const W n = m.n();
  if (!StrongFermatBase2(m)) return false;
  for (const W wieferich : {W{1093}, W{3511}}) {
    if (n % wieferich == 0) return n == wieferich;
  }
  return StrongLucasSelfridge(m);
}

}  // namespace bpsw_internal

// BPSW for n with no prime factor below 53. REQUIRES: n odd, n > 53^2.
// A square factor p^2 survives the base-2 test only for a Wieferich prime p;
// below 2^64 those are 1093 and 3511 (none other below 6.7e15), and they are
// screened out here, so the squarefree-exact Lucas ladder gives the textbook
// BPSW answer for every n < 2^64. Below 2^60 both ladders run on the lazy
// arithmetic (montgomery.h), whose shorter chains make a test on a prime
// about 30% faster.
template <typename Arith>
bool BpswNoSmallFactors(const Arith& m) {
  if constexpr (std::is_same_v<Arith, Mont64>) {
    if (m.n() < Mont64Lazy::kLimit) return bpsw_internal::BpswNoSmallFactors(Mont64Lazy(m));
  }
  return bpsw_internal::BpswNoSmallFactors(m);
}

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_BPSW_H_
