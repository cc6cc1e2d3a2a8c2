// Baillie-PSW: a strong Fermat test to base 2 followed by a strong Lucas test
// with Selfridge's parameters (method A). No composite below 2^64 passes it.
#ifndef ZFACTOR_MATH_SMALL_BPSW_H_
#define ZFACTOR_MATH_SMALL_BPSW_H_

#include <cstdint>

#include "math/small/int128.h"
#include "math/small/montgomery.h"

namespace zfactor::math::small {

inline int TrailingZeros(uint64_t x) { return __builtin_ctzll(x); }
inline int TrailingZeros(u128 x) {
  return Lo64(x) != 0 ? __builtin_ctzll(Lo64(x)) : 64 + __builtin_ctzll(Hi64(x));
}
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
  if (x == one || x == minus_one) return true;
  for (int r = 1; r < s; ++r) {
    x = m.Sqr(x);
    if (x == minus_one) return true;
    if (x == one) return false;
  }
  return false;
}

// Strong Lucas probable prime with P = 1, Q = (1 - D) / 4 and D the first of
// 5, -7, 9, -11, ... with (D / n) = -1. REQUIRES: n = m.n() odd, not a
// multiple of 3 (so n + 1 cannot overflow), n > 3.
template <typename Arith>
bool StrongLucasSelfridge(const Arith& m) {
  using W = typename Arith::Word;
  const W n = m.n();
  int64_t d_signed = 5;
  for (int tries = 0;; ++tries) {
    const uint64_t abs_d = static_cast<uint64_t>(d_signed < 0 ? -d_signed : d_signed);
    const W d_mod_n = d_signed < 0 ? n - static_cast<W>(abs_d) % n : static_cast<W>(abs_d) % n;
    const int j = Jacobi<W>(d_mod_n, n);
    if (j == -1) break;
    if (j == 0 && static_cast<W>(abs_d) != n) return false;  // |D| shares a factor with n
    if (tries == 8 && IsSquare(n)) return false;             // no such D exists for squares
    d_signed = d_signed < 0 ? -d_signed + 2 : -(d_signed + 2);
  }
  const int64_t q_signed = (1 - d_signed) / 4;
  auto to_residue = [&](int64_t v) {
    const W a = static_cast<W>(static_cast<uint64_t>(v < 0 ? -v : v)) % n;
    return m.ToMont(v < 0 && a != 0 ? n - a : a);
  };
  const W dm = to_residue(d_signed);
  const W qm = to_residue(q_signed);

  const W k = n + 1;
  const int s = TrailingZeros(k);
  const W odd = k >> s;
  W u = m.One();
  W v = m.One();  // V_1 = P = 1
  W qk = qm;
  for (int i = BitLength(odd) - 2; i >= 0; --i) {
    u = m.Mul(u, v);
    v = m.Sub(m.Sqr(v), m.Add(qk, qk));
    qk = m.Sqr(qk);
    if ((odd >> i) & 1) {
      const W u_next = m.Half(m.Add(u, v));
      v = m.Half(m.Add(m.Mul(dm, u), v));
      u = u_next;
      qk = m.Mul(qk, qm);
    }
  }
  if (u == 0 || v == 0) return true;
  for (int r = 1; r < s; ++r) {
    v = m.Sub(m.Sqr(v), m.Add(qk, qk));
    if (v == 0) return true;
    qk = m.Sqr(qk);
  }
  return false;
}

// BPSW for n with no prime factor below 53. REQUIRES: n odd, n > 53^2.
template <typename Arith>
bool BpswNoSmallFactors(const Arith& m) {
  return StrongFermatBase2(m) && StrongLucasSelfridge(m);
}

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_BPSW_H_
