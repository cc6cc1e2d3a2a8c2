#include "math/siqs/linalg.h"

#include <gtest/gtest.h>

#include <random>

#include "math/siqs/bucket_fill.h"
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

// Runs each fill kernel over the same roots; the buckets must hold the same
// entries (the order inside a bucket may differ).
TEST(Scan, FillKernelsAgree) {
  std::mt19937_64 rng(9);
  constexpr uint32_t kBlocks = 6, kPrimes = 300, kFirst = 5;
  std::vector<uint32_t> prime(kFirst + kPrimes), root1(prime.size()), root2(prime.size());
  std::vector<uint8_t> logp(prime.size(), 15);
  for (uint32_t i = kFirst; i < prime.size(); ++i) {
    prime[i] = 8192 + static_cast<uint32_t>(rng() % 400000);
    root1[i] = static_cast<uint32_t>(rng() % prime[i]);
    root2[i] = static_cast<uint32_t>(rng() % prime[i]);
    if (rng() % 20 == 0) logp[i] = 0;  // one of A's primes: not sieved
  }
  const uint32_t interval = kBlocks * kBlockSize;
  auto fill = [&](FillFn kernel) {
    std::vector<std::vector<uint32_t>> buckets(kBlocks + 1, std::vector<uint32_t>(4096));
    std::vector<uint32_t*> ptr;
    for (auto& b : buckets) ptr.push_back(b.data());
    // One run per hit count, as the sieve groups them.
    for (uint32_t hits = 1; hits <= interval / 8192 + 1; ++hits) {
      std::vector<uint32_t> order;
      for (uint32_t i = kFirst; i < prime.size(); ++i) {
        if ((interval + prime[i] - 1) / prime[i] == hits) order.push_back(i);
      }
      // Runs are contiguous index ranges: give this hit count its own copy of the arrays.
      std::vector<uint32_t> p2(kFirst), r1(kFirst), r2(kFirst);
      std::vector<uint8_t> l2(kFirst);
      for (uint32_t i : order) {
        p2.push_back(prime[i]);
        r1.push_back(root1[i]);
        r2.push_back(root2[i]);
        l2.push_back(logp[i]);
      }
      const FillRun run{r1.data(), r2.data(), l2.data(), p2.data(), kFirst,
                        static_cast<uint32_t>(p2.size()), hits, kBlocks};
      kernel(run, ptr.data());
    }
    std::vector<std::vector<uint32_t>> out(kBlocks);
    for (uint32_t b = 0; b < kBlocks; ++b) {
      out[b].assign(buckets[b].data(), ptr[b]);
      std::sort(out[b].begin(), out[b].end());
    }
    return out;
  };
  // Expected: every hit of every sieved root, by brute force.
  std::vector<std::vector<uint32_t>> want(kBlocks);
  size_t total = 0;
  for (uint32_t hits = 1; hits <= interval / 8192 + 1; ++hits) {
    uint32_t index = kFirst;  // the index the entry carries: position in this hit count's run
    for (uint32_t i = kFirst; i < prime.size(); ++i) {
      if ((interval + prime[i] - 1) / prime[i] != hits) continue;
      for (uint32_t r : {root1[i], root2[i]}) {
        for (uint32_t x = r; logp[i] != 0 && x < interval; x += prime[i]) {
          want[x >> kBlockBits].push_back(index << kBlockBits | (x & (kBlockSize - 1)));
          ++total;
        }
      }
      ++index;
    }
  }
  for (auto& b : want) std::sort(b.begin(), b.end());
  // Entries of different hit counts share index values; compare as sorted multisets.
  const auto portable = fill(FillPortable);
  EXPECT_EQ(portable, want);
  EXPECT_GT(total, 1000u);
  EXPECT_EQ(fill(BestFill()), portable) << BestFillName();
  if (__builtin_cpu_supports("avx512f")) {
    EXPECT_EQ(fill(FillAvx512), portable);
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
