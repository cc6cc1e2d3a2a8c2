// 128-bit helpers for the word-size engine: the u128 type (spelled so that
// -Wpedantic accepts it), full 128x128 products, integer roots.
#ifndef ZFACTOR_MATH_SMALL_INT128_H_
#define ZFACTOR_MATH_SMALL_INT128_H_

#include <cmath>
#include <cstdint>
#include <string>

namespace zfactor::math::small {

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;

inline uint64_t Lo64(u128 x) { return static_cast<uint64_t>(x); }
inline uint64_t Hi64(u128 x) { return static_cast<uint64_t>(x >> 64); }
inline u128 Make128(uint64_t hi, uint64_t lo) { return (static_cast<u128>(hi) << 64) | lo; }

// Number of trailing zero bits. REQUIRES: x != 0.
inline int TrailingZeros(uint64_t x) { return __builtin_ctzll(x); }
inline int TrailingZeros(u128 x) {
  return Lo64(x) != 0 ? __builtin_ctzll(Lo64(x)) : 64 + __builtin_ctzll(Hi64(x));
}
// Number of significant bits of x (0 for x == 0).
inline int BitLength64(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }
inline int BitLength128(u128 x) {
  return Hi64(x) != 0 ? 64 + BitLength64(Hi64(x)) : BitLength64(Lo64(x));
}

// Full product a * b = hi * 2^128 + lo.
inline void Mul256(u128 a, u128 b, u128* hi, u128* lo) {
  const uint64_t a0 = Lo64(a), a1 = Hi64(a), b0 = Lo64(b), b1 = Hi64(b);
  const u128 p00 = static_cast<u128>(a0) * b0;
  const u128 p01 = static_cast<u128>(a0) * b1;
  const u128 p10 = static_cast<u128>(a1) * b0;
  const u128 p11 = static_cast<u128>(a1) * b1;
  const u128 mid = (p00 >> 64) + Lo64(p01) + Lo64(p10);  // < 3 * 2^64
  *lo = (mid << 64) | Lo64(p00);
  *hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
}

// floor(sqrt(n)).
inline uint64_t Isqrt64(uint64_t n) {
  uint64_t r = static_cast<uint64_t>(std::sqrt(static_cast<double>(n)));
  // The double estimate is within a few units; fix it exactly (r <= 2^32).
  while (r > 0 && (r > 0xFFFFFFFFull || r * r > n)) --r;
  while (r < 0xFFFFFFFFull && (r + 1) * (r + 1) <= n) ++r;
  return r;
}

inline uint64_t Isqrt128(u128 n) {
  if (Hi64(n) == 0) return Isqrt64(Lo64(n));
  // Newton from an over-estimate converges monotonically down to floor(sqrt(n)).
  const int bits = BitLength128(n);
  u128 x = static_cast<u128>(1) << ((bits + 1) / 2);  // > sqrt(n), <= 2^64
  while (true) {
    const u128 y = (x + n / x) >> 1;
    if (y >= x) break;
    x = y;
  }
  return static_cast<uint64_t>(x);
}

// floor(n^(1/k)) for k >= 2.
inline uint64_t IRoot128(u128 n, int k) {
  if (n == 0) return 0;
  if (k == 2) return Isqrt128(n);
  const int bits = BitLength128(n);
  double est = std::pow(static_cast<double>(n), 1.0 / k);
  uint64_t r = est >= 18446744073709551615.0 ? ~0ull : static_cast<uint64_t>(est);
  // Returns true when r^k <= n, without overflow.
  auto fits = [&](uint64_t x) {
    if (x == 0) return true;
    if (BitLength64(x) > (bits + k - 1) / k + 1) return false;
    u128 acc = 1;
    for (int i = 0; i < k; ++i) {
      if (acc > (~static_cast<u128>(0)) / x) return false;
      acc *= x;
    }
    return acc <= n;
  };
  while (r > 0 && !fits(r)) --r;
  while (fits(r + 1)) ++r;
  return r;
}

// Decimal text of x (for tests, benchmarks and messages).
inline std::string ToString128(u128 x) {
  if (x == 0) return "0";
  std::string s;
  while (x != 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(x % 10)));
    x /= 10;
  }
  return s;
}

// Parses decimal digits; false on empty input, a non-digit or overflow.
inline bool Parse128(const std::string& text, u128* out) {
  if (text.empty()) return false;
  u128 v = 0;
  const u128 max = ~static_cast<u128>(0);
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const unsigned d = static_cast<unsigned>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_INT128_H_
