// The elliptic curve method (internal to the math engine). Where the CPU has
// AVX-512 IFMA and n has at most 514 bits, eight curves at once run in
// vector lanes (ecm_lanes.h): stage 1 always, and stage 2 to B2 = 100 B1 for
// 1155 <= B1 <= 1e7; GMP-ECM's libecm runs stage 2 above that, and both
// stages elsewhere, on the same curves. docs/PERFORMANCE.md says why.
#ifndef ZFACTOR_MATH_ECM_H_
#define ZFACTOR_MATH_ECM_H_

#include <gmpxx.h>

#include <cstdint>
#include <optional>

#include "math/job.h"

namespace zfactor::math {

// One ECM curve with stage-1 bound b1; stage 2 to 100 b1 in the lanes, or
// to libecm's default bound (about 100-1000 x b1, FFT continuation).
// `sigma` selects the curve (Montgomery form: GMP-ECM's parametrization 1,
// except that libecm alone uses Suyama's parametrization 0 where its batch
// stage 1, which never polls the stop flag, would be long); the same sigma,
// b1 and n give the same result on the same CPU. Returns a non-trivial
// factor of n, or nullopt when the curve found none or job.Stopped()
// interrupted it (polled within stage 1, within the lanes' stage 2, and
// before libecm's; libecm's stage 2 itself runs to its end).
// REQUIRES: n odd composite > 1.
std::optional<mpz_class> EcmCurve(const mpz_class& n, double b1, uint64_t sigma, const Job& job);

// Runs up to `curves` curves at b1 with sigmas *next_sigma, *next_sigma + 1,
// ... on up to `threads` threads, reporting progress as stage "ecm". Stops at
// the first factor found or when job.Stopped(). The answer does not depend on
// `threads`: it is the factor of the lowest-numbered curve that finds one,
// and *curves_run (how many curves count as run: through that curve, else
// all that ran, one interrupted in libecm included but not a batch stopped
// in the lanes' stage 1) and the advance of *next_sigma
// are what one thread running the curves in order would give.
std::optional<mpz_class> EcmCurves(const mpz_class& n, double b1, int curves, int threads,
                                   uint64_t* next_sigma, const Job& job, int* curves_run);

// The B1 levels the ladder climbs: `curves` curves at `b1` find a factor of
// `digits` digits with probability about 1 - 1/e (GMP-ECM's table, for
// libecm's default B2 of 70-1000 x B1). `lane_curves` is the count for the
// lanes' stage 2, whose B2 is 100 x B1: curves x GMP-ECM's own estimate
// (`ecm -v`, parametrization 1, 35-digit column) of how many more curves
// that B2 needs (1.2x at 11e3, 1.38x at 5e4, 1.53x at 25e4, 1.72x at 1e6,
// 1.85x at 3e6; none at 2e3, where the default B2 is below 100 x B1). Each
// of those curves costs far less (docs/PERFORMANCE.md).
struct EcmLevel {
  int digits;
  double b1;
  int curves;
  int lane_curves;
};
inline constexpr EcmLevel kEcmLevels[] = {
    {15, 2e3, 25, 25},        {20, 11e3, 90, 108},    {25, 5e4, 200, 276},
    {30, 25e4, 430, 658},     {35, 1e6, 900, 1548},   {40, 3e6, 2350, 4348},
    {45, 11e6, 4480, 4480},   {50, 43e6, 7550, 7550}, {55, 11e7, 17770, 17770},
    {60, 26e7, 42000, 42000},
};

// The level's curve count for n: lane_curves where EcmCurves runs stage 2
// in the lanes (AVX-512 IFMA, n up to 514 bits, 1155 <= b1 <= 1e7), else
// curves.
int LevelCurves(const mpz_class& n, const EcmLevel& level);

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_ECM_H_
