#include "math/siqs/sieve.h"

#include <algorithm>
#include <cstring>

#include "math/siqs/scan.h"

namespace zfactor::math::siqs {

BlockSieve::BlockSieve(const FactorBase& fb, uint32_t blocks_per_side)
    : fb_(fb),
      num_blocks_(2 * blocks_per_side),
      interval_(2 * blocks_per_side * kBlockSize),
      cap_(8),
      block_(kBlockSize + 8),
      count_(num_blocks_ + 1),
      next_(2 * static_cast<size_t>(fb.first_bucket)),
      scan_(BestScan()) {
  for (uint32_t i = fb.first_bucket; i < fb.size(); ++i) cap_ += 2 * (kBlockSize / fb.prime[i] + 1);
  for (uint32_t i = fb.first_bucket; i < fb.size(); ++i) {
    const uint32_t hits = (interval_ + fb.prime[i] - 1) / fb.prime[i];
    if (groups_.empty() || groups_.back().second != hits) groups_.emplace_back(i, hits);
    groups_.back().first = i + 1;
  }
  first_few_hits_ = fb.first_sieved;
  while (first_few_hits_ < fb.first_bucket && fb.prime[first_few_hits_] < kFewHitsMinPrime)
    ++first_few_hits_;
  steps_.resize(fb.first_bucket);
  for (uint32_t i = first_few_hits_; i < fb.first_bucket; ++i) {
    steps_[i] = static_cast<uint8_t>((kBlockSize + fb.prime[i] - 1) / fb.prime[i]);
  }
  store_.resize(cap_ * (num_blocks_ + 1));
}

void BlockSieve::FillBuckets(const PolyState& poly) {
  std::fill(count_.begin(), count_.end(), 0);
  const uint32_t* r1s = poly.root1().data();
  const uint32_t* r2s = poly.root2().data();
  const uint8_t* logp = poly.logp().data();
  const uint32_t* prime = fb_.prime.data();
  uint32_t* store = store_.data();
  uint32_t* count = count_.data();
  const size_t cap = cap_;
  const uint32_t interval = interval_;
  const uint32_t dummy = num_blocks_;  // count[dummy] stays 0: misses overwrite one slot
  // Primes are grouped by the most hits a root can have in the interval, so
  // each group runs a fixed-trip, branch-free loop.
  uint32_t i = fb_.first_bucket;
  for (const auto& [group_end, hits] : groups_) {
    for (; i < group_end; ++i) {
      if (logp[i] == 0) continue;
      const uint32_t p = prime[i];
      const uint32_t tag = i << kBlockBits;
      uint32_t a = r1s[i], b = r2s[i];
      for (uint32_t t = 0; t < hits; ++t) {
        const uint32_t ba = a < interval ? a >> kBlockBits : dummy;
        store[ba * cap + count[ba]] = tag | (a & (kBlockSize - 1));
        count[ba] += a < interval;
        const uint32_t bb = b < interval ? b >> kBlockBits : dummy;
        store[bb * cap + count[bb]] = tag | (b & (kBlockSize - 1));
        count[bb] += b < interval;
        a += p;
        b += p;
      }
    }
  }
  count[dummy] = 0;
}

void BlockSieve::SieveBlock(const PolyState& poly, uint32_t block) {
  // Locals, not members: byte stores may alias anything, so members would be reloaded.
  uint8_t* const s = block_.data();
  const uint8_t* const logp = poly.logp().data();
  const uint32_t* const prime = fb_.prime.data();
  uint32_t* const next = next_.data();
  const uint32_t end = first_few_hits_;
  for (uint32_t i = fb_.first_sieved; i < end; ++i) {
    const uint8_t lp = logp[i];
    const uint32_t p = prime[i];
    uint32_t a = next[2 * i], b = next[2 * i + 1];
    if (a > b) std::swap(a, b);
    // Both roots advance by p; interleave while both are inside.
    while (b < kBlockSize) {
      s[a] += lp;
      s[b] += lp;
      a += p;
      b += p;
    }
    if (a < kBlockSize) {
      s[a] += lp;
      a += p;
    }
    next[2 * i] = a - kBlockSize;
    next[2 * i + 1] = b - kBlockSize;
  }
  // Misses land on the pad byte at s[kBlockSize].
  const uint8_t* const steps = steps_.data();
  for (uint32_t i = first_few_hits_; i < fb_.first_bucket; ++i) {
    const uint8_t lp = logp[i];
    const uint32_t p = prime[i];
    uint32_t a = next[2 * i], b = next[2 * i + 1];
    for (uint32_t t = steps[i]; t != 0; --t) {
      s[a < kBlockSize ? a : kBlockSize] += lp;
      s[b < kBlockSize ? b : kBlockSize] += lp;
      a += a < kBlockSize ? p : 0;
      b += b < kBlockSize ? p : 0;
    }
    next[2 * i] = a - kBlockSize;
    next[2 * i + 1] = b - kBlockSize;
  }
  const uint32_t* const entries = bucket(block);
  const uint32_t n = count_[block];
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t e = entries[k];
    s[e & (kBlockSize - 1)] += logp[e >> kBlockBits];
  }
}

void BlockSieve::Run(const PolyState& poly, uint8_t threshold, std::vector<uint32_t>* candidates) {
  FillBuckets(poly);
  for (uint32_t i = fb_.first_sieved; i < fb_.first_bucket; ++i) {
    next_[2 * i] = poly.root1()[i];
    next_[2 * i + 1] = poly.root2()[i];
  }
  const uint8_t init = static_cast<uint8_t>(128 - threshold);
  hits_.clear();
  for (uint32_t block = 0; block < num_blocks_; ++block) {
    std::memset(block_.data(), init, kBlockSize);
    SieveBlock(poly, block);
    const uint8_t* s = block_.data();
    const size_t before = candidates->size();
    scan_(s, block * kBlockSize, candidates);
    if (candidates->size() == before) continue;
    // Resieve the bucket: keep the entries that land on a candidate.
    const size_t first_hit = hits_.size();
    const uint32_t* entries = bucket(block);
    const uint32_t n = count_[block];
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t e = entries[k];
      if (s[e & (kBlockSize - 1)] & 0x80) {
        hits_.emplace_back(block * kBlockSize + (e & (kBlockSize - 1)), e >> kBlockBits);
      }
    }
    std::sort(hits_.begin() + first_hit, hits_.end());
  }
}

}  // namespace zfactor::math::siqs
