// Scattering the roots of bucket-sieved primes into per-block buckets: the
// sieve's largest cost. Kernels are chosen once at run time for the CPU
// (AVX-512 when present; a portable loop always). Internal to the sieve.
#ifndef ZFACTOR_MATH_SIQS_BUCKET_FILL_H_
#define ZFACTOR_MATH_SIQS_BUCKET_FILL_H_

#include <cstdint>

namespace zfactor::math::siqs {

// One run of bucket primes: factor-base indices [begin, end), each with at
// most `hits` = ceil(interval / p) hits per root in the interval of
// num_blocks blocks. root1/root2/logp/prime are indexed by factor-base index;
// primes with logp 0 are skipped. For every hit offset x of a root of prime
// i, appends (i << kBlockBits) | (x mod kBlockSize) at ptr[x >> kBlockBits]
// and advances that pointer. ptr[num_blocks] is a scratch slot that may be
// written and is left in place. REQUIRES: every root < its prime; each
// bucket has kFillSlack writable entries past its last hit.
struct FillRun {
  const uint32_t* root1;
  const uint32_t* root2;
  const uint8_t* logp;
  const uint32_t* prime;
  uint32_t begin, end, hits, num_blocks;
};
inline constexpr uint32_t kFillSlack = 16;

using FillFn = void (*)(const FillRun& run, uint32_t** ptr);
void FillPortable(const FillRun& run, uint32_t** ptr);
void FillAvx512(const FillRun& run, uint32_t** ptr);  // REQUIRES: AVX-512F

// The fastest fill kernel this CPU supports, and its name.
FillFn BestFill();
const char* BestFillName();

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_BUCKET_FILL_H_
