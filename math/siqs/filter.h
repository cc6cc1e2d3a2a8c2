// Filtering: drop duplicate relations, combine partial relations along cycles
// of the large-prime graph, remove singletons and trim excess, yielding the
// GF(2) matrix.
#ifndef ZFACTOR_MATH_SIQS_FILTER_H_
#define ZFACTOR_MATH_SIQS_FILTER_H_

#include <cstdint>
#include <vector>

#include "math/siqs/factor_base.h"
#include "math/siqs/relation_batch.h"

namespace zfactor::math::siqs {

// Column c combines relations col_rels[c]; its odd-exponent primes are the
// (renumbered, 0..nrows-1) row indices cols[c].
struct Matrix {
  uint32_t nrows = 0;
  std::vector<std::vector<uint32_t>> cols;
  std::vector<std::vector<uint32_t>> col_rels;
};

// Removes relations whose |Y| repeats (same relation from two polynomials or two sievers).
void RemoveDuplicates(std::vector<Relation>* rels);

// Builds the filtered matrix; keeps at most nrows + excess columns.
Matrix BuildMatrix(const FactorBase& fb, const std::vector<Relation>& rels, uint32_t excess);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_FILTER_H_
