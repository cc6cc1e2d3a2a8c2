#include "math/siqs/linalg.h"

#include <gtest/gtest.h>

#include <random>

#include "math/siqs/params.h"
#include "math/siqs/scan.h"

namespace zfactor::math::siqs {
namespace {

// A random sparse matrix shaped like a QS matrix: a few dense rows, the rest sparse.
Matrix RandomMatrix(uint32_t rows, uint32_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Matrix m;
  m.nrows = rows;
  for (uint32_t c = 0; c < cols; ++c) {
    std::vector<uint32_t> col;
    for (uint32_t r = 0; r < 4; ++r) {
      if (rng() & 1) col.push_back(r);
    }
    for (int k = 0; k < 12; ++k) col.push_back(4 + static_cast<uint32_t>(rng() % (rows - 4)));
    std::sort(col.begin(), col.end());
    col.erase(std::unique(col.begin(), col.end()), col.end());
    m.cols.push_back(col);
    m.col_rels.push_back({c});
  }
  return m;
}

TEST(Linalg, DenseFindsDependencies) {
  const Matrix m = RandomMatrix(300, 340, 1);
  std::vector<uint64_t> deps = DenseDependencies(m);
  EXPECT_GE(KeepValidDependencies(m, &deps), 32);
}

TEST(Linalg, BlockLanczosFindsDependencies) {
  const Matrix m = RandomMatrix(3000, 3064, 2);
  std::vector<uint64_t> deps;
  for (uint64_t seed = 1; seed < 4 && deps.empty(); ++seed) deps = BlockLanczos(m, seed);
  ASSERT_FALSE(deps.empty());
  EXPECT_GE(KeepValidDependencies(m, &deps), 16);
}

TEST(Scan, KernelsAgree) {
  std::mt19937_64 rng(3);
  std::vector<uint8_t> block(kBlockSize);
  for (uint8_t& b : block) b = (rng() % 97 == 0) ? 0x80 | (rng() & 0x7F) : rng() & 0x7F;
  block[0] = 0xFF;
  block[kBlockSize - 1] = 0x80;
  std::vector<uint32_t> portable, best;
  ScanPortable(block.data(), 1000, &portable);
  BestScan()(block.data(), 1000, &best);
  EXPECT_EQ(portable, best) << BestScanName();
  ASSERT_FALSE(portable.empty());
  EXPECT_EQ(portable.front(), 1000u);
  EXPECT_EQ(portable.back(), 1000u + kBlockSize - 1);
  if (__builtin_cpu_supports("avx2")) {
    std::vector<uint32_t> avx2;
    ScanAvx2(block.data(), 1000, &avx2);
    EXPECT_EQ(portable, avx2);
  }
}

TEST(Scan, MatchKernelsAgree) {
  std::mt19937_64 rng(5);
  // Lengths around the vector widths, offsets that occur several times, once and never.
  for (uint32_t n : {0u, 1u, 15u, 16u, 31u, 32u, 33u, 1000u, 4099u}) {
    std::vector<uint32_t> entries(n);
    for (uint32_t& e : entries) e = static_cast<uint32_t>(rng() % 5000) << kBlockBits | rng() % 64;
    if (n > 0) entries[n - 1] = 7u << kBlockBits | 100;
    for (uint32_t offset : {0u, 5u, 63u, 100u, kBlockSize - 1}) {
      std::vector<uint32_t> want;
      for (uint32_t e : entries) {
        if ((e & (kBlockSize - 1)) == offset) want.push_back(e);
      }
      std::vector<uint32_t> portable, best;
      MatchPortable(entries.data(), n, offset, &portable);
      BestMatch()(entries.data(), n, offset, &best);
      EXPECT_EQ(portable, want) << n << " " << offset;
      EXPECT_EQ(best, want) << BestMatchName() << " " << n << " " << offset;
      if (__builtin_cpu_supports("avx2")) {
        std::vector<uint32_t> avx2;
        MatchAvx2(entries.data(), n, offset, &avx2);
        EXPECT_EQ(avx2, want) << n << " " << offset;
      }
      if (__builtin_cpu_supports("avx512f")) {
        std::vector<uint32_t> avx512;
        MatchAvx512(entries.data(), n, offset, &avx512);
        EXPECT_EQ(avx512, want) << n << " " << offset;
      }
    }
  }
}

}  // namespace
}  // namespace zfactor::math::siqs
