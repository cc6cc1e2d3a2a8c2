// Self-initialising quadratic sieve: the math engine's tool for 40-100 digit
// composites with no small factors. Called by the strategy ladder in
// math/factor.cc; usable on its own by tests and benchmarks.
#ifndef ZFACTOR_MATH_SIQS_SIQS_H_
#define ZFACTOR_MATH_SIQS_SIQS_H_

#include <gmpxx.h>

#include <cstddef>
#include <optional>
#include <string>

#include "math/factor.h"

namespace zfactor::math::siqs {

struct Options {
  int threads = 1;
  unsigned seed = 1;  // polynomial selection randomness; fixed for reproducible runs
};

struct Stats {
  size_t relations = 0;        // full + combined partial relations used
  size_t polynomials = 0;      // B-polynomials sieved
  size_t peak_bytes = 0;       // peak memory the sieve held
  double seconds = 0;
};

// Returns a non-trivial factor of n, or nullopt when cancelled or when n is
// not a candidate (prime, perfect power, or out of the supported size range).
// REQUIRES: n odd composite with no prime factor below the factor-base bound
// is the intended input; other inputs are handled but not efficiently.
std::optional<mpz_class> FindFactor(const mpz_class& n, const Options& options, const Hooks& hooks,
                                    Stats* stats = nullptr);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_SIQS_H_
