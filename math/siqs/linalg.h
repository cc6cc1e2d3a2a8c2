// GF(2) null space of the relation matrix. A result has one 64-bit word per
// column: bit d set means the column belongs to dependency d. Every returned
// dependency has been checked to sum to the zero vector.
#ifndef ZFACTOR_MATH_SIQS_LINALG_H_
#define ZFACTOR_MATH_SIQS_LINALG_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "math/siqs/filter.h"

namespace zfactor::math::siqs {

// Dense Gaussian elimination: O(cols^2 * (rows + cols) / 64); small matrices only.
std::vector<uint64_t> DenseDependencies(const Matrix& m);

// Polled once per block Lanczos iteration; true abandons the run. Empty: never.
using StopFn = std::function<bool()>;

// Montgomery's block Lanczos (64-bit blocks). Empty on a breakdown (a
// different seed usually succeeds) or when stopped() reads true.
std::vector<uint64_t> BlockLanczos(const Matrix& m, uint64_t seed, const StopFn& stopped = {});

// Dense elimination for small matrices, block Lanczos (with retries) otherwise.
std::vector<uint64_t> FindDependencies(const Matrix& m, uint64_t seed, const StopFn& stopped = {});

// Clears the bits of dependencies that do not sum to zero; returns how many remain.
int KeepValidDependencies(const Matrix& m, std::vector<uint64_t>* deps);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_LINALG_H_
