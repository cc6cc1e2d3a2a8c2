// ECM stage 1 on eight curves at once, in AVX-512 IFMA lanes (internal to
// the math engine: ecm.cc runs it, then hands each curve to libecm's stage 2).
//
// Why: libecm's stage 1 computes one curve at a time on 64-bit limbs with
// scalar multiplications (about 40 ns per product mod a 292-bit n on this
// machine). With IFMA (vpmadd52{lo,hi}uq), one vector instruction does eight
// 52x52-bit multiply-adds, so eight curves side by side, one per 64-bit lane,
// share each instruction. docs/PERFORMANCE.md has the measured gain.
//
// The curves are GMP-ECM's parametrization 1, By^2 = x^3 + (4d - 2) x^2 + x
// from x = 2, with d = t^2 / 2^52 mod n for a parameter t < 2^26: libecm's
// sigma = 64 t gives the same curve (its d is sigma^2 / 2^64), so the lanes
// and libecm's own stage 1 compute the same points. d is a word divided by
// 2^52, so multiplying by it costs one reduction step instead of a product.
#ifndef ZFACTOR_MATH_ECM_LANES_H_
#define ZFACTOR_MATH_ECM_LANES_H_

#include <gmpxx.h>

#include <cstdint>

#include "math/job.h"

namespace zfactor::math::ecm_lanes {

constexpr int kLanes = 8;

// Curve parameters t run from 1 to kMaxParameter (t^2 must fit 52 bits).
constexpr uint32_t kMaxParameter = (uint32_t{1} << 26) - 1;

// True when this CPU runs the IFMA kernel (UseAvx512Ifma(), so
// ZFACTOR_NO_AVX512 turns it off) and n is odd and small enough for it
// (at most 514 bits).
bool Available(const mpz_class& n);

// A = 4 t^2 / 2^52 - 2 mod n, the curve of parameter t.
mpz_class CurveA(const mpz_class& n, uint32_t t);

// The stage-1 multiplier: the product over primes p <= b1 of the largest
// power of p not above b1.
mpz_class Stage1Multiplier(double b1);

struct Stage1Result {
  mpz_class factor;  // gcd(Z(k P), n) when it is proper, else 0
  mpz_class x;       // else x(k P) mod n, stage 2's start; 0 when Z(k P) = 0 mod n
};

// Stage 1 (k P from P = (2 : 1)) on the curves of parameters t[0 .. count),
// count <= kLanes. Polls job.Stopped() every few milliseconds and returns
// false as soon as it is set (out is then unspecified).
// REQUIRES: Available(n), 1 <= t[i] <= kMaxParameter, k >= 2.
bool Stage1(const mpz_class& n, const mpz_class& k, const uint32_t* t, int count, const Job& job,
            Stage1Result* out);

}  // namespace zfactor::math::ecm_lanes

#endif  // ZFACTOR_MATH_ECM_LANES_H_
