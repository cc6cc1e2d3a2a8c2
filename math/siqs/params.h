// Sieve parameters per input size. The table in params.cc is the output of
// bench/siqs/siqs_tune; ParamsForDigits interpolates between its rows.
#ifndef ZFACTOR_MATH_SIQS_PARAMS_H_
#define ZFACTOR_MATH_SIQS_PARAMS_H_

#include <cstdint>

namespace zfactor::math::siqs {

// Sieve block: one L1 data cache worth of byte counters.
inline constexpr uint32_t kBlockBits = 15;
inline constexpr uint32_t kBlockSize = 1u << kBlockBits;
// Primes from here up are bucket sieved (at most one hit per root per block).
inline constexpr uint32_t kBucketMinPrime = 1u << 13;
// Primes from here to kBucketMinPrime hit a block a few times per root; they
// are sieved with a fixed-trip, branch-free loop (a data-dependent loop exit
// would cost a branch miss per prime per block).
inline constexpr uint32_t kFewHitsMinPrime = 1u << 12;
// Bucket entries pack a factor-base index above the block offset.
inline constexpr uint32_t kMaxFactorBase = 1u << (32 - kBlockBits);

struct Params {
  int digits = 0;
  uint32_t fb_size = 0;      // factor-base entries, including -1 and 2
  uint32_t blocks = 0;       // sieve blocks per side: M = blocks * kBlockSize
  uint32_t lp_mult = 0;      // large-prime bound = lp_mult * largest factor-base prime
  double fudge_bits = 0;     // threshold slack for unsieved small primes, in bits
  uint32_t small_prime = 0;  // primes below this are not sieved (small-prime variation)
  double dlp_exponent = 0;   // 0: single large prime; e > 1: cofactors below lp_bound^e
                             // are split into two large primes (and the threshold drops)
};

// The parameters for an n of `digits` decimal digits (clamped to the table).
Params ParamsForDigits(int digits);

// The built-in table (for siqs_tune to print next to its measurements).
const Params* ParamTable(int* rows);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_PARAMS_H_
