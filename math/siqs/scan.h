// Finding sieve candidates: bytes of a block with the high bit set. The
// kernel is chosen once at run time for the CPU (AVX2 when present; a
// portable 64-bit-word loop always).
#ifndef ZFACTOR_MATH_SIQS_SCAN_H_
#define ZFACTOR_MATH_SIQS_SCAN_H_

#include <cstdint>
#include <vector>

namespace zfactor::math::siqs {

using ScanFn = void (*)(const uint8_t* block, uint32_t base, std::vector<uint32_t>* out);

// Appends base + j for every j < kBlockSize with block[j] >= 128.
void ScanPortable(const uint8_t* block, uint32_t base, std::vector<uint32_t>* out);
void ScanAvx2(const uint8_t* block, uint32_t base, std::vector<uint32_t>* out);  // REQUIRES: AVX2

// The fastest kernel this CPU supports, and its name ("avx2" or "portable").
ScanFn BestScan();
const char* BestScanName();

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_SCAN_H_
