#include "math/siqs/sieve.h"

#include <algorithm>
#include <cstring>

#include "math/siqs/bucket_fill.h"
#include "math/siqs/scan.h"

namespace zfactor::math::siqs {

BlockSieve::BlockSieve(const FactorBase& fb, uint32_t blocks_per_side)
    : fb_(fb),
      num_blocks_(2 * blocks_per_side),
      interval_(2 * blocks_per_side * kBlockSize),
      cap_(8),
      block_(kBlockSize + 8),
      count_(num_blocks_),
      ptr_(num_blocks_ + 1),
      next_(2 * static_cast<size_t>(fb.first_bucket)),
      scan_(BestScan()),
      match_(BestMatch()),
      fill_(BestFill()) {
  for (uint32_t i = fb.first_bucket; i < fb.size(); ++i) cap_ += 2 * (kBlockSize / fb.prime[i] + 1);
  cap_ += kFillSlack;
  // Runs of bucket primes with the same hit count and the same logarithm.
  for (uint32_t i = fb.first_bucket; i < fb.size(); ++i) {
    const uint32_t hits = (interval_ + fb.prime[i] - 1) / fb.prime[i];
    const bool new_log = seg_logp_.empty() || seg_logp_.back() != fb.logp[i];
    if (new_log) seg_logp_.push_back(fb.logp[i]);
    if (new_log || runs_.empty() || runs_.back().hits != hits) {
      runs_.push_back({i, hits, static_cast<uint32_t>(seg_logp_.size() - 1)});
    }
    runs_.back().end = i + 1;
  }
  seg_end_.resize(seg_logp_.size() * num_blocks_);
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
  // One write pointer per bucket; bucket num_blocks_ is the kernels' scratch slot.
  uint32_t** ptr = ptr_.data();
  for (uint32_t b = 0; b <= num_blocks_; ++b) ptr[b] = &store_[static_cast<size_t>(b) * cap_];
  FillRun run{poly.root1().data(), poly.root2().data(), poly.logp().data(), fb_.prime.data(),
              fb_.first_bucket, 0, 0, num_blocks_};
  // Runs go up in factor-base order, so each bucket holds its entries grouped
  // by logarithm; where a logarithm's runs end, the bucket fill levels are noted.
  for (size_t r = 0; r < runs_.size(); ++r) {
    run.end = runs_[r].end;
    run.hits = runs_[r].hits;
    fill_(run, ptr);
    run.begin = run.end;
    if (r + 1 == runs_.size() || runs_[r + 1].segment != runs_[r].segment) {
      uint32_t* ends = &seg_end_[runs_[r].segment * num_blocks_];
      for (uint32_t b = 0; b < num_blocks_; ++b) {
        ends[b] = static_cast<uint32_t>(ptr[b] - bucket(b));
      }
    }
  }
  for (uint32_t b = 0; b < num_blocks_; ++b) {
    count_[b] = static_cast<uint32_t>(ptr[b] - bucket(b));
  }
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
      // Masks, not conditionals: the compiler would make those branches.
      a += p & (0u - static_cast<uint32_t>(a < kBlockSize));
      b += p & (0u - static_cast<uint32_t>(b < kBlockSize));
    }
    next[2 * i] = a - kBlockSize;
    next[2 * i + 1] = b - kBlockSize;
  }
  // Bucket entries, one logarithm per segment.
  const uint32_t* const entries = bucket(block);
  uint32_t k = 0;
  for (size_t seg = 0; seg < seg_logp_.size(); ++seg) {
    const uint8_t lp = seg_logp_[seg];
    const uint32_t seg_end = seg_end_[seg * num_blocks_ + block];
#pragma GCC unroll 8
    for (; k < seg_end; ++k) s[entries[k] & (kBlockSize - 1)] += lp;
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
    // The bucket entries that land on a candidate: with few candidates, one
    // vectorised pass over the bucket per candidate; with many, one pass
    // over the bucket testing the candidate bit.
    const uint32_t* entries = bucket(block);
    const uint32_t n = count_[block];
    if (candidates->size() - before <= kMatchPasses) {
      for (size_t c = before; c < candidates->size(); ++c) {
        const uint32_t offset = (*candidates)[c];
        matched_.clear();
        match_(entries, n, offset & (kBlockSize - 1), &matched_);
        for (uint32_t e : matched_) hits_.emplace_back(offset, e >> kBlockBits);
      }
      continue;
    }
    const size_t first_hit = hits_.size();
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
