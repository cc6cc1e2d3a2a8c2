// The square-root step: for each dependency, X = prod Y_i and
// S = sqrt(prod (Y_i^2 - kN)) mod n; gcd(X - S, n) may split n.
#ifndef ZFACTOR_MATH_SIQS_SQRT_H_
#define ZFACTOR_MATH_SIQS_SQRT_H_

#include <gmpxx.h>

#include <optional>
#include <vector>

#include "math/siqs/factor_base.h"
#include "math/siqs/filter.h"
#include "math/siqs/relation_batch.h"

namespace zfactor::math::siqs {

// Tries every dependency in turn; returns the first non-trivial factor of fb.n.
std::optional<mpz_class> SquareRoot(const FactorBase& fb, const std::vector<Relation>& rels,
                                    const Matrix& m, const std::vector<uint64_t>& deps);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_SQRT_H_
