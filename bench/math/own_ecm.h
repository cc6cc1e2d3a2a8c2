// A self-written ECM kept as the benchmark's challenger to libecm (see
// docs/PERFORMANCE.md): Montgomery curves with Suyama's parametrization,
// stage 1 by one Montgomery ladder per prime power <= B1, stage 2 by the
// baby-step giant-step continuation to B2 (D = 2310), all in Montgomery
// arithmetic on limbs (math/montgomery.h).
#ifndef ZFACTOR_BENCH_MATH_OWN_ECM_H_
#define ZFACTOR_BENCH_MATH_OWN_ECM_H_

#include <gmpxx.h>

#include <cstdint>
#include <optional>

namespace zfactor::math::bench {

// One curve (sigma >= 6). Returns a non-trivial factor of n or nullopt.
// REQUIRES: n odd composite, b1 < b2 < 2^32.
std::optional<mpz_class> OwnEcmCurve(const mpz_class& n, uint32_t b1, uint32_t b2, uint64_t sigma);

}  // namespace zfactor::math::bench

#endif  // ZFACTOR_BENCH_MATH_OWN_ECM_H_
