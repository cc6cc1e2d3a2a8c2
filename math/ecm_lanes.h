// ECM on eight curves at once, in AVX-512 IFMA lanes (internal to the math
// engine: ecm.cc runs stage 1 here, then stage 2 here or in libecm).
//
// Why: libecm computes one curve at a time on 64-bit limbs with scalar
// multiplications (about 40 ns per product mod a 292-bit n on this machine).
// With IFMA (vpmadd52{lo,hi}uq), one vector instruction does eight 52x52-bit
// multiply-adds, so eight curves side by side, one per 64-bit lane, share
// each instruction. docs/PERFORMANCE.md has the measured gain (stage 1 8-15x
// libecm's).
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
#include <vector>

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
  mpz_class x;       // x(k P) mod n, stage 2's start; 0 with a factor or when Z(k P) = 0 mod n
};

// Stage 1 (k P from P = (2 : 1)) on the curves of parameters t[0 .. count),
// count <= kLanes. Polls job.Stopped() every few milliseconds and returns
// false as soon as it is set (out is then unspecified).
// REQUIRES: Available(n), 1 <= t[i] <= kMaxParameter, k >= 2.
bool Stage1(const mpz_class& n, const mpz_class& k, const uint32_t* t, int count, const Job& job,
            Stage1Result* out);

// Stage 2 in the lanes: the baby-step giant-step continuation with D = 2310
// (ecm_lanes_kernel.h says what it computes), two products per prime pair,
// for primes in (b1, b2]. Its cost grows linearly with b2, against about
// sqrt(b2) for libecm's FFT continuation, so it pays for b2 of about 100 b1,
// the ratio ecm.cc uses: there the lanes do a curve's whole stage 2 in a
// fraction of libecm's time at its default b2 of 500-1000 b1.
//
// The plan says which terms each giant step multiplies: one bit per baby
// step, (b2 - b1) / 2310 x 240 bits in all (4 MB at b2 = 3e8). It depends on
// b1 and b2 only, so the curves of a level share one.
class Stage2Plan {
 public:
  // REQUIRES: 1155 <= b1 < b2 <= kMaxStage2Bound.
  Stage2Plan(double b1, double b2);
  static constexpr double kMaxStage2Bound = 1e9;

  uint32_t d() const { return kD; }
  const std::vector<uint16_t>& babies() const { return babies_; }
  uint64_t first_giant() const { return first_giant_; }
  uint64_t giants() const { return giants_; }
  int words() const { return words_; }
  // The term bits of giant step i (of giants()), words() words.
  const uint64_t* bits(uint64_t i) const {
    return bits_.data() + i * static_cast<uint64_t>(words_);
  }

 private:
  static constexpr uint32_t kD = 2310;  // 2 * 3 * 5 * 7 * 11: 240 babies
  std::vector<uint16_t> babies_;        // odd j < kD / 2 coprime to kD
  uint64_t first_giant_ = 0;
  uint64_t giants_ = 0;
  int words_ = 0;
  std::vector<uint64_t> bits_;
};

// Stage 2 of the curves of parameters t[0 .. count) from their stage-1 points
// x[i] (Stage1Result::x; lanes with x[i] = 0 are skipped): factor[i] gets the
// proper factor curve i found, else 0. Polls job.Stopped() every few
// milliseconds and returns false as soon as it is set.
// REQUIRES: Available(n), as Stage1.
bool Stage2(const mpz_class& n, const Stage2Plan& plan, const uint32_t* t, const mpz_class* x,
            int count, const Job& job, mpz_class* factor);

}  // namespace zfactor::math::ecm_lanes

#endif  // ZFACTOR_MATH_ECM_LANES_H_
