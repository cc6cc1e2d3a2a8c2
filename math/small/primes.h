// The odd primes below kSmallPrimeLimit, sieved once at first use, with the
// constants for division-free divisibility tests: p | n exactly when
// n * p^-1 (mod 2^w) <= (2^w - 1) / p.
#ifndef ZFACTOR_MATH_SMALL_PRIMES_H_
#define ZFACTOR_MATH_SMALL_PRIMES_H_

#include <cstdint>
#include <vector>

#include "math/small/int128.h"

namespace zfactor::math::small {

inline constexpr uint32_t kSmallPrimeLimit = 1u << 16;

struct SmallPrime {
  uint64_t p;
  uint64_t inv64;  // p^-1 mod 2^64
  uint64_t lim64;  // (2^64 - 1) / p
  u128 inv128;     // p^-1 mod 2^128
  u128 lim128;     // (2^128 - 1) / p
};

// Odd primes 3, 5, 7, ... < kSmallPrimeLimit, ascending. Thread-safe.
const std::vector<SmallPrime>& OddPrimes();

inline bool Divides64(const SmallPrime& sp, uint64_t n) { return n * sp.inv64 <= sp.lim64; }
inline bool Divides128(const SmallPrime& sp, u128 n) { return n * sp.inv128 <= sp.lim128; }

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_PRIMES_H_
