// Dense Gaussian elimination over GF(2), and the dispatch between it and block Lanczos.
#include <algorithm>

#include "math/siqs/linalg.h"

namespace zfactor::math::siqs {

int KeepValidDependencies(const Matrix& m, std::vector<uint64_t>* deps) {
  if (deps->size() != m.cols.size()) return 0;
  std::vector<uint64_t> sum(m.nrows, 0);
  uint64_t used = 0;
  for (size_t c = 0; c < m.cols.size(); ++c) {
    used |= (*deps)[c];
    for (uint32_t r : m.cols[c]) sum[r] ^= (*deps)[c];
  }
  uint64_t bad = 0;
  for (uint64_t s : sum) bad |= s;
  const uint64_t good = used & ~bad;
  for (uint64_t& d : *deps) d &= good;
  return __builtin_popcountll(good);
}

std::vector<uint64_t> DenseDependencies(const Matrix& m) {
  const size_t n = m.cols.size();
  const size_t row_words = (m.nrows + 63) / 64;
  const size_t hist_words = (n + 63) / 64;
  const size_t width = row_words + hist_words;
  std::vector<uint64_t> bits(n * width, 0);
  for (size_t c = 0; c < n; ++c) {
    uint64_t* v = &bits[c * width];
    for (uint32_t r : m.cols[c]) v[r / 64] ^= 1ull << (r % 64);
    v[row_words + c / 64] |= 1ull << (c % 64);
  }
  std::vector<bool> pivot_used(n, false);
  for (uint32_t r = 0; r < m.nrows; ++r) {
    const size_t w = r / 64;
    const uint64_t bit = 1ull << (r % 64);
    size_t pivot = n;
    for (size_t c = 0; c < n; ++c) {
      if (!pivot_used[c] && (bits[c * width + w] & bit)) {
        pivot = c;
        break;
      }
    }
    if (pivot == n) continue;
    pivot_used[pivot] = true;
    const uint64_t* pv = &bits[pivot * width];
    for (size_t c = 0; c < n; ++c) {
      if (c == pivot || !(bits[c * width + w] & bit)) continue;
      uint64_t* v = &bits[c * width];
      for (size_t k = w; k < width; ++k) v[k] ^= pv[k];
    }
  }
  std::vector<uint64_t> deps(n, 0);
  int found = 0;
  for (size_t c = 0; c < n && found < 64; ++c) {
    if (pivot_used[c]) continue;
    const uint64_t* v = &bits[c * width];
    if (std::any_of(v, v + row_words, [](uint64_t x) { return x != 0; })) continue;
    for (size_t k = 0; k < n; ++k) {
      if (v[row_words + k / 64] >> (k % 64) & 1) deps[k] |= 1ull << found;
    }
    ++found;
  }
  KeepValidDependencies(m, &deps);
  return deps;
}

std::vector<uint64_t> FindDependencies(const Matrix& m, uint64_t seed, const StopFn& stopped) {
  constexpr size_t kDenseLimit = 1000;
  if (m.cols.size() <= kDenseLimit) return DenseDependencies(m);
  for (uint64_t attempt = 0; attempt < 4 && !(stopped && stopped()); ++attempt) {
    std::vector<uint64_t> deps = BlockLanczos(m, seed + attempt, stopped);
    if (KeepValidDependencies(m, &deps) > 0) return deps;
  }
  return {};
}

}  // namespace zfactor::math::siqs
