// Sieving one polynomial over [-M, M) in L1-sized blocks. Primes below
// kBucketMinPrime are sieved block by block; larger ones are first scattered into
// per-block buckets (factor-base index + offset), which trial division reuses.
// One BlockSieve per thread: it is the thread's scratch.
#ifndef ZFACTOR_MATH_SIQS_SIEVE_H_
#define ZFACTOR_MATH_SIQS_SIEVE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "math/siqs/bucket_fill.h"
#include "math/siqs/factor_base.h"
#include "math/siqs/params.h"
#include "math/siqs/poly.h"

namespace zfactor::math::siqs {

class BlockSieve {
 public:
  BlockSieve(const FactorBase& fb, uint32_t blocks_per_side);

  // Sieves the current polynomial of `poly`; appends to *candidates the
  // offsets x + M whose summed logarithms reach `threshold` (< 128).
  void Run(const PolyState& poly, uint8_t threshold, std::vector<uint32_t>* candidates);

  // Bucket-sieved primes that hit a candidate in the last Run: (offset, factor-base index),
  // in offset order. Trial division reads these instead of dividing by every large prime.
  const std::vector<std::pair<uint32_t, uint32_t>>& large_hits() const { return hits_; }
  size_t bytes() const {
    return store_.size() * sizeof(uint32_t) + block_.size() + next_.size() * 4;
  }

 private:
  void FillBuckets(const PolyState& poly);
  void SieveBlock(const PolyState& poly, uint32_t block);
  const uint32_t* bucket(uint32_t block) const {
    return &store_[static_cast<size_t>(block) * cap_];
  }

  const FactorBase& fb_;
  uint32_t num_blocks_;
  uint32_t interval_;
  size_t cap_;  // entries per bucket: an upper bound on one block's hits
  std::vector<uint8_t> block_;
  std::vector<uint32_t> store_;
  std::vector<uint32_t> count_;    // entries per bucket after FillBuckets
  std::vector<uint32_t*> ptr_;     // FillBuckets scratch: write pointer per bucket
  struct PrimeRun {
    uint32_t end;      // one past the run's last factor-base index
    uint32_t hits;     // most hits a root of these primes can have in the interval
    uint32_t segment;  // index into seg_logp_
  };
  std::vector<PrimeRun> runs_;           // bucket primes with equal hits and logarithm, ascending
  std::vector<uint8_t> seg_logp_;   // per segment (primes with one logarithm): that logarithm
  std::vector<uint32_t> seg_end_;   // [segment * blocks + block]: bucket fill after the segment
  uint32_t first_few_hits_;     // first factor-base index with p >= kFewHitsMinPrime
  std::vector<uint8_t> steps_;  // per few-hits prime: ceil(kBlockSize / p)
  std::vector<uint32_t>
      next_;  // per block-sieved prime: next offsets of both roots, relative to block
  std::vector<std::pair<uint32_t, uint32_t>> hits_;
  // Up to this many candidates in a block, their bucket hits are found by
  // one match pass each; above it, by one pass testing every entry.
  static constexpr size_t kMatchPasses = 4;
  std::vector<uint32_t> matched_;  // Run scratch: entries hitting one candidate
  void (*scan_)(const uint8_t*, uint32_t, std::vector<uint32_t>*);
  void (*match_)(const uint32_t*, uint32_t, uint32_t, std::vector<uint32_t>*);
  FillFn fill_;
};

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_SIEVE_H_
