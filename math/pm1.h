// Pollard's p-1 with a prime-by-prime stage 2 (internal to the math engine).
#ifndef ZFACTOR_MATH_PM1_H_
#define ZFACTOR_MATH_PM1_H_

#include <gmpxx.h>

#include <optional>

#include "math/job.h"

namespace zfactor::math {

// Finds a prime p | n when p-1 is b1-smooth except for at most one prime
// factor below b2. Returns a non-trivial factor of n, or nullopt (none found,
// all factors found at once, or job.Stopped()). REQUIRES: n odd composite,
// 2 <= b1 <= b2 < 2^32.
std::optional<mpz_class> PollardPm1(const mpz_class& n, uint32_t b1, uint32_t b2, const Job& job);

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_PM1_H_
