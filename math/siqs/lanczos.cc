// Montgomery's block Lanczos over GF(2) with 64-bit blocks ("A block
// Lanczos algorithm for finding dependencies over GF(2)", EUROCRYPT 1995).
// Solves A x = A y for A = B^T B and random y; x - y and the final block are
// combined so that B annihilates them.
#include <algorithm>
#include <array>
#include <random>

#include "math/siqs/linalg.h"

namespace zfactor::math::siqs {
namespace {

using Block = std::vector<uint64_t>;     // n x 64 bits, one word per row
using Small = std::array<uint64_t, 64>;  // 64 x 64 bits, one word per row

Small Identity() {
  Small s{};
  for (int i = 0; i < 64; ++i) s[i] = 1ull << i;
  return s;
}

// w = B^T B v, through the nrows-long scratch.
void MulA(const Matrix& m, const Block& v, Block* scratch, Block* w) {
  std::fill(scratch->begin(), scratch->end(), 0);
  for (size_t c = 0; c < m.cols.size(); ++c) {
    const uint64_t x = v[c];
    for (uint32_t r : m.cols[c]) (*scratch)[r] ^= x;
  }
  for (size_t c = 0; c < m.cols.size(); ++c) {
    uint64_t acc = 0;
    for (uint32_t r : m.cols[c]) acc ^= (*scratch)[r];
    (*w)[c] = acc;
  }
}

// x^T y (64 x 64).
Small InnerProduct(const Block& x, const Block& y) {
  std::vector<uint64_t> table(8 * 256, 0);
  for (size_t r = 0; r < x.size(); ++r) {
    uint64_t xv = x[r];
    const uint64_t yv = y[r];
    for (int k = 0; k < 8; ++k, xv >>= 8) table[k * 256 + (xv & 0xFF)] ^= yv;
  }
  Small out{};
  for (int k = 0; k < 8; ++k) {
    for (int b = 0; b < 8; ++b) {
      uint64_t acc = 0;
      for (int j = 0; j < 256; ++j) {
        if (j >> b & 1) acc ^= table[k * 256 + j];
      }
      out[8 * k + b] = acc;
    }
  }
  return out;
}

// Tables for multiplying a block by a 64 x 64 matrix byte by byte.
struct MulTable {
  std::vector<uint64_t> t = std::vector<uint64_t>(8 * 256);
  explicit MulTable(const Small& s) {
    for (int k = 0; k < 8; ++k) {
      for (int j = 0; j < 256; ++j) {
        uint64_t acc = 0;
        for (int b = 0; b < 8; ++b) {
          if (j >> b & 1) acc ^= s[8 * k + b];
        }
        t[k * 256 + j] = acc;
      }
    }
  }
  uint64_t Apply(uint64_t x) const {
    uint64_t acc = 0;
    for (int k = 0; k < 8; ++k, x >>= 8) acc ^= t[k * 256 + (x & 0xFF)];
    return acc;
  }
};

// out ^= x * s
void MulAddSmall(const Block& x, const Small& s, Block* out) {
  const MulTable table(s);
  for (size_t r = 0; r < x.size(); ++r) (*out)[r] ^= table.Apply(x[r]);
}

Small MulSmall(const Small& a, const Small& b) {
  Small out{};
  for (int i = 0; i < 64; ++i) {
    uint64_t acc = 0;
    for (uint64_t row = a[i]; row != 0; row &= row - 1) acc ^= b[__builtin_ctzll(row)];
    out[i] = acc;
  }
  return out;
}

Small AddSmall(const Small& a, const Small& b) {
  Small out;
  for (int i = 0; i < 64; ++i) out[i] = a[i] ^ b[i];
  return out;
}

Small MaskColumns(const Small& a, uint64_t mask) {
  Small out;
  for (int i = 0; i < 64; ++i) out[i] = a[i] & mask;
  return out;
}

// Montgomery's choice of S_i and Winv_i = S_i (S_i^T T S_i)^-1 S_i^T, given
// T = v^T A v and the previous selection. Returns false if T is singular in
// a way the method cannot absorb.
bool SelectColumns(const Small& t, uint64_t last_mask, Small* winv, uint64_t* mask) {
  std::array<uint64_t, 64> left, right;
  for (int i = 0; i < 64; ++i) {
    left[i] = t[i];
    right[i] = 1ull << i;
  }
  std::array<int, 64> order;
  int k = 0;
  for (int i = 0; i < 64; ++i) {
    if (!(last_mask >> i & 1)) order[k++] = i;
  }
  for (int i = 0; i < 64; ++i) {
    if (last_mask >> i & 1) order[k++] = i;
  }
  *mask = 0;
  for (int i = 0; i < 64; ++i) {
    const int ci = order[i];
    const uint64_t bit = 1ull << ci;
    for (int j = i; j < 64; ++j) {
      if (left[order[j]] & bit) {
        std::swap(left[ci], left[order[j]]);
        std::swap(right[ci], right[order[j]]);
        break;
      }
    }
    if (left[ci] & bit) {
      for (int j = 0; j < 64; ++j) {
        if (j != ci && (left[j] & bit)) {
          left[j] ^= left[ci];
          right[j] ^= right[ci];
        }
      }
      *mask |= bit;
      continue;
    }
    for (int j = i; j < 64; ++j) {
      if (right[order[j]] & bit) {
        std::swap(left[ci], left[order[j]]);
        std::swap(right[ci], right[order[j]]);
        break;
      }
    }
    if (!(right[ci] & bit)) return false;
    for (int j = 0; j < 64; ++j) {
      if (j != ci && (right[j] & bit)) {
        left[j] ^= left[ci];
        right[j] ^= right[ci];
      }
    }
    left[ci] = right[ci] = 0;
  }
  for (int i = 0; i < 64; ++i) (*winv)[i] = right[i];
  // Montgomery's condition: every column left out last time must be chosen now.
  return *mask != 0 && (*mask | last_mask) == ~0ull;
}

}  // namespace

std::vector<uint64_t> BlockLanczos(const Matrix& m, uint64_t seed, const StopFn& stopped) {
  const size_t n = m.cols.size();
  std::mt19937_64 rng(seed);
  Block y(n), b(n), scratch(m.nrows);
  for (uint64_t& w : y) w = rng();
  MulA(m, y, &scratch, &b);

  Block x(n, 0), v = b, v1(n, 0), v2(n, 0), av(n), next(n);
  Small winv1{}, winv2{}, vav1{}, vaav1{};
  uint64_t mask1 = ~0ull;
  const size_t max_iter = n / 60 + 100;
  size_t iter = 0;
  for (;; ++iter) {
    if (iter > max_iter || (stopped && stopped())) return {};
    MulA(m, v, &scratch, &av);
    const Small vav = InnerProduct(v, av);
    if (std::all_of(vav.begin(), vav.end(), [](uint64_t w) { return w == 0; })) break;
    const Small vaav = InnerProduct(av, av);
    Small winv;
    uint64_t mask;
    if (!SelectColumns(vav, mask1, &winv, &mask)) return {};
    // x += v Winv (v^T b)
    MulAddSmall(v, MulSmall(winv, InnerProduct(v, b)), &x);
    // v_{i+1} = A v S S^T + v D + v1 E + v2 F
    const Small d = AddSmall(Identity(), MulSmall(winv, AddSmall(MaskColumns(vaav, mask), vav)));
    const Small e = MulSmall(winv1, MaskColumns(vav, mask));
    const Small f =
        MaskColumns(MulSmall(MulSmall(winv2, AddSmall(Identity(), MulSmall(vav1, winv1))),
                             AddSmall(MaskColumns(vaav1, mask1), vav1)),
                    mask);
    for (size_t r = 0; r < n; ++r) next[r] = av[r] & mask;
    MulAddSmall(v, d, &next);
    MulAddSmall(v1, e, &next);
    MulAddSmall(v2, f, &next);
    v2.swap(v1);
    v1.swap(v);
    v.swap(next);
    winv2 = winv1;
    winv1 = winv;
    vav1 = vav;
    vaav1 = vaav;
    mask1 = mask;
  }

  // Combine z = [x + y | v] so that B z U = 0: eliminate over the 128 columns of B z.
  Block xy(n);
  for (size_t r = 0; r < n; ++r) xy[r] = x[r] ^ y[r];
  const size_t row_words = (m.nrows + 63) / 64;
  // cols128[j] is column j of B [xy | v] as an nrows-bit vector, plus a 128-bit history.
  std::vector<std::vector<uint64_t>> bz(128, std::vector<uint64_t>(row_words + 2, 0));
  for (size_t c = 0; c < n; ++c) {
    for (uint32_t r : m.cols[c]) {
      for (uint64_t w = xy[c]; w != 0; w &= w - 1)
        bz[__builtin_ctzll(w)][r / 64] ^= 1ull << (r % 64);
      for (uint64_t w = v[c]; w != 0; w &= w - 1)
        bz[64 + __builtin_ctzll(w)][r / 64] ^= 1ull << (r % 64);
    }
  }
  for (int j = 0; j < 128; ++j) bz[j][row_words + j / 64] = 1ull << (j % 64);
  std::vector<std::pair<size_t, int>> basis;  // (pivot bit, column)
  std::vector<std::array<uint64_t, 2>> combos;
  for (int j = 0; j < 128; ++j) {
    std::vector<uint64_t>& u = bz[j];
    for (const auto& [pivot, col] : basis) {
      if (u[pivot / 64] >> (pivot % 64) & 1) {
        for (size_t k = 0; k < u.size(); ++k) u[k] ^= bz[col][k];
      }
    }
    size_t pivot = SIZE_MAX;
    for (size_t k = 0; k < row_words; ++k) {
      if (u[k] != 0) {
        pivot = k * 64 + __builtin_ctzll(u[k]);
        break;
      }
    }
    if (pivot == SIZE_MAX) {
      combos.push_back({u[row_words], u[row_words + 1]});
    } else {
      basis.emplace_back(pivot, j);
    }
  }
  std::vector<uint64_t> deps(n, 0);
  int found = 0;
  for (const auto& combo : combos) {
    if (found == 64) break;
    const uint64_t bit = 1ull << found;
    bool nonzero = false;
    for (size_t c = 0; c < n; ++c) {
      const int parity = __builtin_parityll(xy[c] & combo[0]) ^ __builtin_parityll(v[c] & combo[1]);
      if (parity) {
        deps[c] |= bit;
        nonzero = true;
      }
    }
    if (nonzero) {
      ++found;
    } else {
      for (uint64_t& d : deps) d &= ~bit;
    }
  }
  return deps;
}

}  // namespace zfactor::math::siqs
