// Relation checks and large-prime bookkeeping (internal).
#ifndef ZFACTOR_MATH_SIQS_RELATIONS_H_
#define ZFACTOR_MATH_SIQS_RELATIONS_H_

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "math/siqs/factor_base.h"
#include "math/siqs/relation_batch.h"

namespace zfactor::math::siqs {

// True when Y^2 - kN equals the relation's factorisation.
bool VerifyRelation(const FactorBase& fb, const Relation& r);

// Counts full relations and large-prime cycles as relations arrive
// (union-find over the graph whose vertices are large primes and 1).
class RelationCounter {
 public:
  void Add(const Relation& r);
  // Full relations plus independent cycles among the partial relations.
  size_t Usable() const { return fulls_ + cycles_; }
  size_t fulls() const { return fulls_; }
  size_t partials() const { return partials_; }
  size_t doubles() const { return doubles_; }

 private:
  uint32_t Vertex(uint64_t prime);
  uint32_t Find(uint32_t v);

  std::unordered_map<uint64_t, uint32_t> vertex_;
  std::vector<uint32_t> parent_;
  size_t fulls_ = 0, partials_ = 0, doubles_ = 0, cycles_ = 0;
};

// Heap bytes a relation holds (for Stats::peak_bytes).
size_t RelationBytes(const Relation& r);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_RELATIONS_H_
