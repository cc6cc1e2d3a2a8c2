// Finding sieve candidates (bytes of a block with the high bit set) and the
// bucket entries that hit one candidate. Kernels are chosen once at run time
// for the CPU (AVX-512 / AVX2 when present; a portable loop always).
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

// Appends every entries[k] (k < n) whose low kBlockBits bits equal `offset`
// (a bucket entry is factor-base index << kBlockBits | offset in the block).
using MatchFn = void (*)(const uint32_t* entries, uint32_t n, uint32_t offset,
                         std::vector<uint32_t>* out);
void MatchPortable(const uint32_t* entries, uint32_t n, uint32_t offset,
                   std::vector<uint32_t>* out);
void MatchAvx2(const uint32_t* entries, uint32_t n, uint32_t offset,
               std::vector<uint32_t>* out);  // REQUIRES: AVX2
void MatchAvx512(const uint32_t* entries, uint32_t n, uint32_t offset,
                 std::vector<uint32_t>* out);  // REQUIRES: AVX-512F

// The fastest match kernel this CPU supports, and its name.
MatchFn BestMatch();
const char* BestMatchName();

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_SCAN_H_
