#include "math/siqs/filter.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <utility>

namespace zfactor::math::siqs {

void RemoveDuplicates(std::vector<Relation>* rels) {
  for (Relation& r : *rels) r.y = abs(r.y);
  std::vector<uint32_t> order(rels->size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return cmp((*rels)[a].y, (*rels)[b].y) < 0; });
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
std::vector<uint32_t> OddPrimes(const std::vector<Relation>& rels,
                                const std::vector<uint32_t>& ids) {
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

// Vertices are large primes and 1 (vertex 0); each partial relation is an
// edge. A spanning forest is grown by union-find; every other edge closes a
// cycle (itself plus the forest path between its ends), and the relations on
// a cycle multiply to a product in which every large prime appears squared.
void AddCycleColumns(const std::vector<Relation>& rels, const std::vector<uint32_t>& partial,
                     std::vector<std::vector<uint32_t>>* columns) {
  std::unordered_map<uint64_t, uint32_t> id{{1, 0}};
  auto vertex = [&](uint64_t prime) {
    return id.emplace(prime, static_cast<uint32_t>(id.size())).first->second;
  };
  struct Edge {
    uint32_t u, v, rel;
  };
  std::vector<Edge> edges;
  for (uint32_t r : partial)
    edges.push_back({vertex(rels[r].large_prime), vertex(rels[r].large_prime2), r});
  const uint32_t nv = static_cast<uint32_t>(id.size());
  std::vector<uint32_t> root(nv);
  std::iota(root.begin(), root.end(), 0);
  auto find = [&](uint32_t v) {
    while (root[v] != v) v = root[v] = root[root[v]];
    return v;
  };
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> tree(nv);  // (neighbour, relation)
  std::vector<Edge> closing;
  for (const Edge& e : edges) {
    const uint32_t a = find(e.u), b = find(e.v);
    if (a == b) {
      closing.push_back(e);
    } else {
      root[a] = b;
      tree[e.u].emplace_back(e.v, e.rel);
      tree[e.v].emplace_back(e.u, e.rel);
    }
  }
  if (closing.empty()) return;
  // Parent pointers and depths by breadth-first search over the forest.
  std::vector<uint32_t> up(nv, UINT32_MAX), up_rel(nv, 0), depth(nv, 0);
  std::vector<uint32_t> queue;
  for (uint32_t start = 0; start < nv; ++start) {
    if (up[start] != UINT32_MAX) continue;
    up[start] = start;
    queue.assign(1, start);
    for (size_t k = 0; k < queue.size(); ++k) {
      const uint32_t v = queue[k];
      for (const auto& [w, rel] : tree[v]) {
        if (up[w] != UINT32_MAX) continue;
        up[w] = v;
        up_rel[w] = rel;
        depth[w] = depth[v] + 1;
        queue.push_back(w);
      }
    }
  }
  for (const Edge& e : closing) {
    std::vector<uint32_t> cycle = {e.rel};
    uint32_t a = e.u, b = e.v;
    while (a != b) {
      if (depth[a] >= depth[b]) {
        cycle.push_back(up_rel[a]);
        a = up[a];
      } else {
        cycle.push_back(up_rel[b]);
        b = up[b];
      }
    }
    columns->push_back(std::move(cycle));
  }
}

// Drops from `partial` the relations that cannot lie on a cycle: those with a
// large prime (other than 1) that no other remaining relation has, repeatedly
// (leaves of the large-prime graph). Most partial relations are such leaves,
// so the graph built next is a fraction of the size; the cycles are the same.
void RemoveLeaves(const std::vector<Relation>& rels, std::vector<uint32_t>* partial) {
  // Vertices: the distinct large primes (1 included), by binary search.
  std::vector<uint64_t> primes;
  primes.reserve(2 * partial->size() + 1);
  primes.push_back(1);
  for (uint32_t r : *partial) {
    primes.push_back(rels[r].large_prime);
    primes.push_back(rels[r].large_prime2);
  }
  std::sort(primes.begin(), primes.end());
  primes.erase(std::unique(primes.begin(), primes.end()), primes.end());
  auto vertex = [&](uint64_t p) {
    return static_cast<uint32_t>(std::lower_bound(primes.begin(), primes.end(), p) -
                                 primes.begin());
  };
  const size_t count = partial->size();
  std::vector<std::pair<uint32_t, uint32_t>> ends(count);
  std::vector<uint32_t> degree(primes.size(), 0);
  for (size_t k = 0; k < count; ++k) {
    const uint32_t r = (*partial)[k];
    ends[k] = {vertex(rels[r].large_prime), vertex(rels[r].large_prime2)};
    ++degree[ends[k].first];
    ++degree[ends[k].second];
  }
  degree[0] = UINT32_MAX;  // the vertex 1 is never a leaf
  std::vector<bool> alive(count, true);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t k = 0; k < count; ++k) {
      if (!alive[k] || (degree[ends[k].first] != 1 && degree[ends[k].second] != 1)) continue;
      alive[k] = false;
      changed = true;
      --degree[ends[k].first];
      --degree[ends[k].second];
    }
  }
  size_t out = 0;
  for (size_t k = 0; k < count; ++k) {
    if (alive[k]) (*partial)[out++] = (*partial)[k];
  }
  partial->resize(out);
}

}  // namespace

Matrix BuildMatrix(const FactorBase& fb, const std::vector<Relation>& rels, uint32_t excess) {
  Matrix m;
  // Fulls are columns alone; partial relations combine along cycles of the large-prime graph.
  std::vector<uint32_t> partial;
  for (uint32_t i = 0; i < rels.size(); ++i) {
    if (rels[i].full()) {
      m.col_rels.push_back({i});
    } else {
      partial.push_back(i);
    }
  }
  RemoveLeaves(rels, &partial);
  AddCycleColumns(rels, partial, &m.col_rels);
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
    const size_t live_rows = static_cast<size_t>(
        std::count_if(weight.begin(), weight.end(), [](uint32_t w) { return w > 0; }));
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
