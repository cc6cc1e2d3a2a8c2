// Micro-ECM on AVX-512 IFMA: eight curves at once, one in each 64-bit lane
// of a 512-bit register, for moduli below 2^64.
//
// Why: on the word-size path a Montgomery product costs three 64-bit
// multiplications plus carry handling, and the scalar ladder is bound by the
// integer ALUs (llvm-mca: ~60 cycles per curve and ladder step) while the
// vector units sit idle. With IFMA (vpmadd52{lo,hi}uq, 52x52-bit products) a
// product modulo n < 2^64 is 17 multiply-adds on two 52-bit limbs for eight
// lanes at once: measured here, 0.30 ns per lane and product against 0.95 ns
// for the best scalar code.
//
// The algorithm is ecm.h's, unchanged: EcmStages runs on an arithmetic whose
// element holds eight residues. The arithmetic is lazy (R = 2^104, far above
// n, so sums and differences need no reduction before the next product), and
// every residue is the scalar code's times a unit, so the curves, the gcds
// and the answers are those of EcmCurves<Mont64, 8>.
//
// Build note: the kernel (ecm_ifma_kernel.cc) is the only file compiled with
// -mavx512f -mavx512ifma. It must instantiate nothing that other files also
// instantiate (an inline function emitted there could be the copy the linker
// keeps); everything scalar it needs is a plain function defined here.
#ifndef ZFACTOR_MATH_SMALL_ECM_IFMA_H_
#define ZFACTOR_MATH_SMALL_ECM_IFMA_H_

#include <cstdint>

#include "math/small/ecm.h"
#include "math/small/montgomery.h"

namespace zfactor::math::small {

constexpr int kIfmaLanes = 8;

// True when the IFMA kernel is built and may run: UseAvx512Ifma() (cpu.h;
// ZFACTOR_NO_AVX512 in the environment keeps the scalar path).
bool HaveIfma();

// EcmCurves<Mont64, 8>(m, first_sigma, level) computed in IFMA lanes: the
// same eight curves (sigma = first_sigma ... first_sigma + 7) and, but for
// which of two factors a rare degenerate case reports, the same answer.
// REQUIRES: HaveIfma(), and EcmCurves' requirements.
uint64_t EcmCurvesIfma(const Mont64& m, uint64_t first_sigma, const EcmLevel& level);

namespace ifma_internal {

// What the kernel needs of n, as plain residues mod n.
struct Constants {
  uint64_t n = 0;
  u128 neg_inv104 = 0;       // -n^-1 mod 2^104
  uint64_t one = 0;          // 2^104 mod n: 1 in the kernel's form
  uint64_t from_mont64 = 0;  // 2^144 mod n: times a Mont64 residue gives the kernel's form
  uint64_t fix_inverse = 0;  // 2^184 mod n: see InvertLanes
};

// The kernel (ecm_ifma_kernel.cc): EcmStages on eight lanes; a24 and x0 in
// Mont64 form.
uint64_t Stages(const Constants& c, const uint64_t (&a24)[kIfmaLanes],
                const uint64_t (&x0)[kIfmaLanes], const EcmLevel& level);

// Scalar helpers the kernel calls, on residues mod n (any unit multiple of the
// kernel's values: gcds do not see units).
// ecm_internal::LaneFactor over eight lanes.
uint64_t LaneFactor(uint64_t n, const uint64_t (&v)[kIfmaLanes]);
// The first proper gcd(v[i], n), or 0.
uint64_t FirstFactor(uint64_t n, const uint64_t* v, int count);
// Inverts the eight lanes' values with one inversion. Returns gcd(prod v, n);
// when it is 1, the kernel's product of inv[l] and 2^184 mod n is the
// kernel-form inverse of the kernel-form value v[l].
uint64_t InvertLanes(uint64_t n, const uint64_t (&v)[kIfmaLanes], uint64_t (&inv)[kIfmaLanes]);

}  // namespace ifma_internal
}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_ECM_IFMA_H_
