// Trial division by sieved small primes (internal to the math engine).
#ifndef ZFACTOR_MATH_TRIAL_H_
#define ZFACTOR_MATH_TRIAL_H_

#include <gmpxx.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace zfactor::math {

// Primes below `limit`, by a sieve of Eratosthenes.
std::vector<uint32_t> SievePrimes(uint32_t limit);

// The primes below kTrialLimit, sieved once on first use. Thread-safe.
inline constexpr uint32_t kTrialLimit = 1u << 16;
const std::vector<uint32_t>& SmallPrimes();

// Divides out of *n every prime p < bound (bound <= kTrialLimit), appending
// (p, exponent) to *found in ascending order. REQUIRES: *n >= 1.
void TrialDivide(mpz_class* n, uint32_t bound, std::vector<std::pair<uint32_t, unsigned>>* found);

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_TRIAL_H_
