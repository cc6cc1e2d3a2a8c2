// The scalar side of the IFMA micro-ECM (ecm_ifma.h): the CPU check, the
// curves and constants for each call, and the gcds and inversions the kernel
// asks for. Compiled with the project's ordinary flags.
#include "math/small/ecm_ifma.h"

#include "math/small/cpu.h"

namespace zfactor::math::small {
namespace {

// a * b mod n for plain residues: Mul gives a b / 2^64, ToMont multiplies by 2^64.
uint64_t MulMod(const Mont64& m, uint64_t a, uint64_t b) { return m.ToMont(m.Mul(a, b)); }

ifma_internal::Constants MakeConstants(const Mont64& m) {
  const uint64_t n = m.n();
  u128 inv = (3 * n) ^ 2;  // n^-1 mod 2^128 by Newton's iteration, as in Mont128
  for (int i = 0; i < 5; ++i) inv *= 2 - n * inv;
  ifma_internal::Constants c;
  c.n = n;
  c.neg_inv104 = (0 - inv) & ((u128{1} << 104) - 1);
  const uint64_t r64 = m.One();  // 2^64 mod n
  const uint64_t r128 = MulMod(m, r64, r64);
  c.one = MulMod(m, r64, (uint64_t{1} << 40) % n);                    // 2^104
  c.from_mont64 = MulMod(m, r128, (uint64_t{1} << 16) % n);           // 2^144
  c.fix_inverse = MulMod(m, c.from_mont64, (uint64_t{1} << 40) % n);  // 2^184
  return c;
}

}  // namespace

#if defined(ZF_IFMA_KERNEL)

bool HaveIfma() { return UseAvx512Ifma(); }

uint64_t EcmCurvesIfma(const Mont64& m, uint64_t first_sigma, const EcmLevel& level) {
  uint64_t a24[kIfmaLanes], x0[kIfmaLanes];
  const uint64_t status = ecm_internal::SuyamaCurves<Mont64, kIfmaLanes>(m, first_sigma, a24, x0);
  if (status != 1) return status;
  return ifma_internal::Stages(MakeConstants(m), a24, x0, level);
}

#else  // no kernel on this architecture

bool HaveIfma() { return false; }

uint64_t EcmCurvesIfma(const Mont64& m, uint64_t first_sigma, const EcmLevel& level) {
  return EcmCurves<Mont64, kIfmaLanes>(m, first_sigma, level);
}

#endif

namespace ifma_internal {

uint64_t LaneFactor(uint64_t n, const uint64_t (&v)[kIfmaLanes]) {
  return ecm_internal::LaneFactor<Mont64, kIfmaLanes>(Mont64(n), v);
}

uint64_t FirstFactor(uint64_t n, const uint64_t* v, int count) {
  return ecm_internal::FirstFactor(Mont64(n), v, count);
}

uint64_t InvertLanes(uint64_t n, const uint64_t (&v)[kIfmaLanes], uint64_t (&inv)[kIfmaLanes]) {
  // BatchInverse reads v[l] as Mont64 residues e = v / 2^64 and returns
  // 2^64 / e = 2^128 / v; the kernel wants 2^208 / v = that * 2^184 / 2^104.
  return ecm_internal::BatchInverse(Mont64(n), v, inv, kIfmaLanes);
}

}  // namespace ifma_internal
}  // namespace zfactor::math::small
