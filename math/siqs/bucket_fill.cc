#include "math/siqs/bucket_fill.h"

#include <immintrin.h>

#include <algorithm>

#include "math/siqs/params.h"

namespace zfactor::math::siqs {

void FillPortable(const FillRun& run, uint32_t** ptr) {
  const uint32_t dummy = run.num_blocks;
  for (uint32_t i = run.begin; i < run.end; ++i) {
    if (run.logp[i] == 0) continue;
    const uint32_t p = run.prime[i];
    const uint32_t tag = i << kBlockBits;
    uint32_t a = run.root1[i], b = run.root2[i];
    // A root starts below p, so its first hits - 1 steps land inside the
    // interval for sure; only the last one needs a check (a branch-free one).
    for (uint32_t t = 1; t < run.hits; ++t) {
      *ptr[a >> kBlockBits]++ = tag | (a & (kBlockSize - 1));
      *ptr[b >> kBlockBits]++ = tag | (b & (kBlockSize - 1));
      a += p;
      b += p;
    }
    // The interval is dummy << kBlockBits, so the min sends exactly the misses to `dummy`.
    const uint32_t ba = std::min(a >> kBlockBits, dummy);
    *ptr[ba] = tag | (a & (kBlockSize - 1));
    ptr[ba] += ba != dummy;
    const uint32_t bb = std::min(b >> kBlockBits, dummy);
    *ptr[bb] = tag | (b & (kBlockSize - 1));
    ptr[bb] += bb != dummy;
  }
}

namespace {

// All 16 lanes. The maskz_ forms of the intrinsics are used with it because
// GCC 12 warns (maybe-uninitialized) inside the unmasked ones.
constexpr __mmask16 kAll = 0xFFFF;

// Appends the lanes of entry_a / entry_b selected by hit_a / hit_b to their
// blocks' buckets: per distinct block among the lanes of both, one compress
// and one full-width store per vector (the store's spare lanes land in the
// bucket's slack and are overwritten later).
__attribute__((target("avx512f"))) inline void Scatter(__m512i entry_a, __m512i block_a,
                                                       __mmask16 hit_a, __m512i entry_b,
                                                       __m512i block_b, __mmask16 hit_b,
                                                       uint32_t** ptr) {
  alignas(64) uint32_t blocks[32];
  _mm512_store_si512(blocks, block_a);
  _mm512_store_si512(blocks + 16, block_b);
  uint32_t hit = static_cast<uint32_t>(hit_a) | static_cast<uint32_t>(hit_b) << 16;
  while (hit != 0) {
    const uint32_t b = blocks[__builtin_ctz(hit)];
    const __m512i want = _mm512_set1_epi32(static_cast<int>(b));
    const __mmask16 same_a =
        _mm512_mask_cmpeq_epi32_mask(static_cast<__mmask16>(hit), block_a, want);
    const __mmask16 same_b =
        _mm512_mask_cmpeq_epi32_mask(static_cast<__mmask16>(hit >> 16), block_b, want);
    uint32_t* out = ptr[b];
    _mm512_storeu_si512(out, _mm512_maskz_compress_epi32(same_a, entry_a));
    out += __builtin_popcount(same_a);
    _mm512_storeu_si512(out, _mm512_maskz_compress_epi32(same_b, entry_b));
    ptr[b] = out + __builtin_popcount(same_b);
    hit &= ~(static_cast<uint32_t>(same_a) | static_cast<uint32_t>(same_b) << 16);
  }
}

// The bytes of the `valid` lanes from p (none read past them).
__attribute__((target("avx512f"))) inline __m128i LoadBytes(const uint8_t* p, __mmask16 valid) {
  if (valid == kAll) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  alignas(16) uint8_t bytes[16] = {};
  for (int k = 0; valid >> k != 0; ++k) bytes[k] = p[k];
  return _mm_load_si128(reinterpret_cast<const __m128i*>(bytes));
}

}  // namespace

__attribute__((target("avx512f"))) void FillAvx512(const FillRun& run, uint32_t** ptr) {
  const __m512i interval = _mm512_set1_epi32(static_cast<int>(run.num_blocks << kBlockBits));
  const __m512i offset_mask = _mm512_set1_epi32(kBlockSize - 1);
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // 16 primes a step; the last step of a run masks off the lanes past its end.
  for (uint32_t i = run.begin; i < run.end; i += 16) {
    const __mmask16 valid =
        run.end - i >= 16 ? kAll : static_cast<__mmask16>((1u << (run.end - i)) - 1);
    const __m512i p = _mm512_maskz_loadu_epi32(valid, run.prime + i);
    __m512i a = _mm512_maskz_loadu_epi32(valid, run.root1 + i);
    __m512i b = _mm512_maskz_loadu_epi32(valid, run.root2 + i);
    const __m512i lp = _mm512_maskz_cvtepu8_epi32(valid, LoadBytes(run.logp + i, valid));
    const __mmask16 sieved = _mm512_test_epi32_mask(lp, lp);
    const __m512i tag = _mm512_maskz_slli_epi32(
        kAll, _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(i)), lanes), kBlockBits);
    for (uint32_t t = 0; t < run.hits; ++t) {
      Scatter(_mm512_or_si512(tag, _mm512_and_si512(a, offset_mask)),
              _mm512_maskz_srli_epi32(kAll, a, kBlockBits),
              _mm512_mask_cmplt_epu32_mask(sieved, a, interval),
              _mm512_or_si512(tag, _mm512_and_si512(b, offset_mask)),
              _mm512_maskz_srli_epi32(kAll, b, kBlockBits),
              _mm512_mask_cmplt_epu32_mask(sieved, b, interval), ptr);
      a = _mm512_add_epi32(a, p);
      b = _mm512_add_epi32(b, p);
    }
  }
}

FillFn BestFill() {
  static const FillFn best = __builtin_cpu_supports("avx512f") ? FillAvx512 : FillPortable;
  return best;
}

const char* BestFillName() { return BestFill() == FillAvx512 ? "avx512" : "portable"; }

}  // namespace zfactor::math::siqs
