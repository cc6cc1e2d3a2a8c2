#include "math/siqs/scan.h"

#include <immintrin.h>

#include <cstring>

#include "math/siqs/params.h"

namespace zfactor::math::siqs {

void ScanPortable(const uint8_t* block, uint32_t base, std::vector<uint32_t>* out) {
  for (uint32_t j = 0; j < kBlockSize; j += 8) {
    uint64_t word;
    std::memcpy(&word, block + j, 8);
    if ((word & 0x8080808080808080ull) == 0) continue;
    for (uint32_t k = 0; k < 8; ++k) {
      if (block[j + k] & 0x80) out->push_back(base + j + k);
    }
  }
}

__attribute__((target("avx2"))) void ScanAvx2(const uint8_t* block, uint32_t base,
                                              std::vector<uint32_t>* out) {
  for (uint32_t j = 0; j < kBlockSize; j += 128) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + j));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + j + 32));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + j + 64));
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + j + 96));
    const __m256i any = _mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, d));
    if (_mm256_movemask_epi8(any) == 0) continue;
    const __m256i parts[4] = {a, b, c, d};
    for (uint32_t k = 0; k < 4; ++k) {
      for (uint32_t mask = static_cast<uint32_t>(_mm256_movemask_epi8(parts[k])); mask != 0;
           mask &= mask - 1) {
        out->push_back(base + j + 32 * k + static_cast<uint32_t>(__builtin_ctz(mask)));
      }
    }
  }
}

ScanFn BestScan() {
  static const ScanFn best = __builtin_cpu_supports("avx2") ? ScanAvx2 : ScanPortable;
  return best;
}

const char* BestScanName() { return BestScan() == ScanAvx2 ? "avx2" : "portable"; }

void MatchPortable(const uint32_t* entries, uint32_t n, uint32_t offset,
                   std::vector<uint32_t>* out) {
  for (uint32_t k = 0; k < n; ++k) {
    if ((entries[k] & (kBlockSize - 1)) == offset) out->push_back(entries[k]);
  }
}

__attribute__((target("avx2"))) void MatchAvx2(const uint32_t* entries, uint32_t n,
                                               uint32_t offset, std::vector<uint32_t>* out) {
  const __m256i mask = _mm256_set1_epi32(kBlockSize - 1);
  const __m256i want = _mm256_set1_epi32(static_cast<int>(offset));
  uint32_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(entries + k));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(entries + k + 8));
    const __m256i ea = _mm256_cmpeq_epi32(_mm256_and_si256(a, mask), want);
    const __m256i eb = _mm256_cmpeq_epi32(_mm256_and_si256(b, mask), want);
    if (_mm256_testz_si256(_mm256_or_si256(ea, eb), _mm256_or_si256(ea, eb))) continue;
    const uint32_t bits = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(ea))) |
                          static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(eb))) << 8;
    for (uint32_t m = bits; m != 0; m &= m - 1) {
      out->push_back(entries[k + static_cast<uint32_t>(__builtin_ctz(m))]);
    }
  }
  MatchPortable(entries + k, n - k, offset, out);
}

__attribute__((target("avx512f"))) void MatchAvx512(const uint32_t* entries, uint32_t n,
                                                    uint32_t offset, std::vector<uint32_t>* out) {
  const __m512i mask = _mm512_set1_epi32(kBlockSize - 1);
  const __m512i want = _mm512_set1_epi32(static_cast<int>(offset));
  uint32_t k = 0;
  for (; k + 32 <= n; k += 32) {
    const __m512i a = _mm512_loadu_si512(entries + k);
    const __m512i b = _mm512_loadu_si512(entries + k + 16);
    const uint32_t bits =
        static_cast<uint32_t>(_mm512_cmpeq_epi32_mask(_mm512_and_si512(a, mask), want)) |
        static_cast<uint32_t>(_mm512_cmpeq_epi32_mask(_mm512_and_si512(b, mask), want)) << 16;
    for (uint32_t m = bits; m != 0; m &= m - 1) {
      out->push_back(entries[k + static_cast<uint32_t>(__builtin_ctz(m))]);
    }
  }
  MatchPortable(entries + k, n - k, offset, out);
}

MatchFn BestMatch() {
  static const MatchFn best = __builtin_cpu_supports("avx512f") ? MatchAvx512
                              : __builtin_cpu_supports("avx2")  ? MatchAvx2
                                                                : MatchPortable;
  return best;
}

const char* BestMatchName() {
  return BestMatch() == MatchAvx512 ? "avx512" : BestMatch() == MatchAvx2 ? "avx2" : "portable";
}

}  // namespace zfactor::math::siqs
