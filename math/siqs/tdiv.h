// Trial division of sieve candidates. Small primes are divided directly;
// medium primes are tested by comparing x mod p with the polynomial's roots;
// bucket-sieved primes are read back from the candidate's block bucket.
#ifndef ZFACTOR_MATH_SIQS_TDIV_H_
#define ZFACTOR_MATH_SIQS_TDIV_H_

#include <gmpxx.h>

#include <cstdint>
#include <vector>

#include "math/siqs/factor_base.h"
#include "math/siqs/poly.h"
#include "math/siqs/relation_batch.h"
#include "math/siqs/sieve.h"

namespace zfactor::math::siqs {

class TrialDivider {
 public:
  // Cofactors below large_prime_bound are single large primes; composite
  // cofactors below double_bound (0: none) that split into two primes below
  // large_prime_bound give double-large-prime relations.
  TrialDivider(const FactorBase& fb, uint64_t large_prime_bound, uint64_t double_bound);

  // Factors Q at sieve offset `offset` of the current polynomial. Returns
  // true and fills *out for a full relation or one with one or two large primes.
  bool Divide(const PolyState& poly, const BlockSieve& sieve, uint32_t offset, Relation* out);

 private:
  void DivideOut(uint32_t index, Relation* out);

  const FactorBase& fb_;
  uint64_t lp_bound_;
  uint64_t double_bound_;
  uint64_t prime_squared_;  // (largest factor-base prime)^2
  mpz_class q_;
  std::vector<uint64_t> reciprocal_;  // floor(2^42 / p) + 1 for the block-sieved primes
  std::vector<uint32_t> found_;       // scratch: medium primes whose root matches
};

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_TDIV_H_
