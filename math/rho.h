// Pollard's rho (Brent's variant) on GMP integers (internal to the math engine).
#ifndef ZFACTOR_MATH_RHO_H_
#define ZFACTOR_MATH_RHO_H_

#include <gmpxx.h>

#include <cstdint>
#include <optional>

#include "math/job.h"

namespace zfactor::math {

// Iterates x -> x^2 + c mod n for at most `max_iterations` steps. Returns a
// non-trivial factor of n, or nullopt (iterations exhausted, cycle without a
// split, or job.Stopped()). REQUIRES: n odd composite, not a perfect power.
std::optional<mpz_class> PollardRho(const mpz_class& n, unsigned long c, uint64_t max_iterations,
                                    const Job& job);

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_RHO_H_
