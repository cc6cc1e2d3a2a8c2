// Self-initialising quadratic sieve: the math engine's tool for 40-100 digit
// composites with no small factors. Called by the strategy ladder in
// math/factor.cc; usable on its own by tests and benchmarks.
#ifndef ZFACTOR_MATH_SIQS_SIQS_H_
#define ZFACTOR_MATH_SIQS_SIQS_H_

#include <gmpxx.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "math/factor.h"
#include "math/siqs/relation_batch.h"

namespace zfactor::math::siqs {

struct Options {
  int threads = 1;
  unsigned seed = 1;  // polynomial selection randomness; fixed for reproducible runs
  // Wall-clock deadline: polled like Hooks::Cancelled() (before every
  // B-polynomial and every block Lanczos iteration); once passed the run
  // returns nullopt with Stats::stopped set. Unset: no deadline.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Tuning overrides (0 = use the built-in table): bench/siqs/siqs_tune only.
  uint32_t fb_size = 0;
  uint32_t blocks = 0;
  uint32_t lp_mult = 0;
  double fudge_bits = 0;
  uint32_t small_prime = 0;
  double dlp_exponent = 0;  // < 0: single large prime only
};

struct Stats {
  size_t relations = 0;    // full + combined partial relations used
  size_t polynomials = 0;  // B-polynomials sieved
  size_t peak_bytes = 0;   // peak memory the sieve held
  double seconds = 0;
  size_t fulls = 0;     // full relations collected
  size_t partials = 0;  // relations with one or two large primes collected
  size_t doubles = 0;   // of which with two large primes
  size_t fb_size = 0;
  size_t matrix_cols = 0;
  double sieve_seconds = 0;
  double linalg_seconds = 0;
  uint32_t multiplier = 1;
  bool stopped = false;  // ended by Hooks::Cancelled() or Options::deadline, not by a result
};

// Returns a non-trivial factor of n, or nullopt when cancelled, past
// options.deadline, or when n is
// not a candidate (prime, perfect power, or out of the supported size range).
// REQUIRES: n odd composite with no prime factor below the factor-base bound
// is the intended input; other inputs are handled but not efficiently.
std::optional<mpz_class> FindFactor(const mpz_class& n, const Options& options, const Hooks& hooks,
                                    Stats* stats = nullptr);

// The seam for sieving one number on several machines. Polynomials are
// numbered by their A index; the factor base and the A for an index depend
// only on n and options.seed, so sievers that agree on those produce
// compatible batches.
//
// Sieves every polynomial with A index in [first_a, first_a + num_a).
// nullopt when cancelled, past options.deadline, or n is not a candidate
// (see FindFactor).
std::optional<RelationBatch> SieveRange(const mpz_class& n, const Options& options,
                                        uint64_t first_a, uint64_t num_a, const Hooks& hooks,
                                        Stats* stats = nullptr);

// Merges batches (each relation re-verified; incompatible batches and
// duplicate relations dropped), runs filtering, linear algebra and the
// square root. nullopt when the relations do not yet suffice.
std::optional<mpz_class> FactorFromBatches(const mpz_class& n, const Options& options,
                                           const std::vector<RelationBatch>& batches,
                                           Stats* stats = nullptr);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_SIQS_H_
