#include "math/siqs/filter.h"

#include <algorithm>
#include <numeric>

namespace zfactor::math::siqs {

void RemoveDuplicates(std::vector<Relation>* rels) {
  for (Relation& r : *rels) r.y = abs(r.y);
  std::vector<uint32_t> order(rels->size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return cmp((*rels)[a].y, (*rels)[b].y) < 0; });
  std::vector<bool> keep(rels->size(), true);
  for (size_t k = 1; k < order.size(); ++k) {
    if ((*rels)[order[k]].y == (*rels)[order[k - 1]].y) keep[order[k]] = false;
  }
  size_t out = 0;
  for (size_t k = 0; k < rels->size(); ++k) {
    if (!keep[k]) continue;
    if (out != k) (*rels)[out] = std::move((*rels)[k]);
    ++out;
  }
  rels->resize(out);
}

namespace {

// Odd-exponent factor-base indices of the product of the given relations.
std::vector<uint32_t> OddPrimes(const std::vector<Relation>& rels, const std::vector<uint32_t>& ids) {
  std::vector<uint32_t> all;
  for (uint32_t id : ids) all.insert(all.end(), rels[id].factors.begin(), rels[id].factors.end());
  std::sort(all.begin(), all.end());
  std::vector<uint32_t> odd;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    if ((j - i) & 1) odd.push_back(all[i]);
    i = j;
  }
  return odd;
}

}  // namespace

Matrix BuildMatrix(const FactorBase& fb, const std::vector<Relation>& rels, uint32_t excess) {
  Matrix m;
  // Fulls are columns alone; partials sharing a large prime pair with the first of their group.
  std::vector<uint32_t> partial;
  for (uint32_t i = 0; i < rels.size(); ++i) {
    if (rels[i].large_prime == 1) {
      m.col_rels.push_back({i});
    } else {
      partial.push_back(i);
    }
  }
  std::sort(partial.begin(), partial.end(),
            [&](uint32_t a, uint32_t b) { return rels[a].large_prime < rels[b].large_prime; });
  for (size_t i = 0; i < partial.size();) {
    size_t j = i + 1;
    while (j < partial.size() && rels[partial[j]].large_prime == rels[partial[i]].large_prime) {
      m.col_rels.push_back({partial[i], partial[j]});
      ++j;
    }
    i = j;
  }
  for (const auto& ids : m.col_rels) m.cols.push_back(OddPrimes(rels, ids));

  // Singleton removal and excess trimming until stable.
  std::vector<uint32_t> weight(fb.size());
  std::vector<bool> alive(m.cols.size(), true);
  for (;;) {
    std::fill(weight.begin(), weight.end(), 0);
    size_t live_cols = 0;
    for (size_t c = 0; c < m.cols.size(); ++c) {
      if (!alive[c]) continue;
      ++live_cols;
      for (uint32_t r : m.cols[c]) ++weight[r];
    }
    const size_t live_rows = static_cast<size_t>(std::count_if(weight.begin(), weight.end(), [](uint32_t w) { return w > 0; }));
    bool changed = false;
    for (size_t c = 0; c < m.cols.size(); ++c) {
      if (!alive[c]) continue;
      for (uint32_t r : m.cols[c]) {
        if (weight[r] == 1) {
          alive[c] = false;
          changed = true;
          break;
        }
      }
    }
    if (changed) continue;
    if (live_cols > live_rows + excess) {
      // Drop the heaviest surplus columns; they cost the most in the linear algebra.
      std::vector<uint32_t> live;
      for (uint32_t c = 0; c < m.cols.size(); ++c) {
        if (alive[c]) live.push_back(c);
      }
      std::stable_sort(live.begin(), live.end(),
                       [&](uint32_t a, uint32_t b) { return m.cols[a].size() > m.cols[b].size(); });
      for (size_t k = 0; k < live_cols - live_rows - excess; ++k) alive[live[k]] = false;
      continue;
    }
    break;
  }
  std::vector<uint32_t> renumber(fb.size(), UINT32_MAX);
  Matrix out;
  for (size_t c = 0; c < m.cols.size(); ++c) {
    if (!alive[c]) continue;
    std::vector<uint32_t> col = m.cols[c];
    for (uint32_t& r : col) {
      if (renumber[r] == UINT32_MAX) renumber[r] = out.nrows++;
      r = renumber[r];
    }
    out.cols.push_back(std::move(col));
    out.col_rels.push_back(std::move(m.col_rels[c]));
  }
  return out;
}

}  // namespace zfactor::math::siqs
