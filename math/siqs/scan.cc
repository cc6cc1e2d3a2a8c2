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

}  // namespace zfactor::math::siqs
