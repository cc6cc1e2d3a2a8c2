// The interface between ecm_lanes.cc and its AVX-512 IFMA kernel
// (ecm_lanes_kernel.cc): plain arrays only, so that the kernel, the one file
// built for AVX-512, shares no inline code with the rest of the engine.
#ifndef ZFACTOR_MATH_ECM_LANES_KERNEL_H_
#define ZFACTOR_MATH_ECM_LANES_KERNEL_H_

#include <cstdint>

namespace zfactor::math::ecm_lanes::kernel {

constexpr int kLanes = 8;         // curves per vector: 64-bit lanes of 512 bits
constexpr int kLimbBits = 52;     // IFMA multiplies 52-bit halves
constexpr int kMaxLimbs = 10;     // moduli up to 52 * 10 - kHeadroomBits bits
constexpr int kHeadroomBits = 6;  // n < 2^(52 limbs - 6): see Arith in the kernel

// n in limbs of 52 bits, least significant first, and the constants of its
// Montgomery arithmetic with R = 2^(52 limbs).
struct Modulus {
  int limbs = 0;  // 2 .. kMaxLimbs
  uint64_t n[kMaxLimbs] = {};
  uint64_t two_n[kMaxLimbs] = {};   // 2n, normalised the same way
  uint64_t four_n[kMaxLimbs] = {};  // 4n
  uint64_t neg_inv = 0;             // -n^-1 mod 2^52
};

// The ladder's state for eight curves (lane l is curve l): the points j P and
// (j + 1) P in Montgomery form (values times R mod n, below 4n, limbs of 52
// bits), limb i of lane l at [i][l]; and each curve's word w, whose curve has
// d = (A + 2) / 4 = w / 2^52 mod n. The base point P is (2 : 1) on every curve.
struct Ladder {
  uint64_t x[2][kMaxLimbs][kLanes] = {};
  uint64_t z[2][kMaxLimbs][kLanes] = {};
  uint64_t d_word[kLanes] = {};
};

// Reads bits hi - 1 down to lo of k (64-bit words, least significant first)
// into the ladder: (j P, (j + 1) P) becomes (j' P, (j' + 1) P) with
// j' = j 2^(hi - lo) + (those bits).
void Run(const Modulus& m, Ladder* ladder, const uint64_t* k, uint64_t hi, uint64_t lo);

}  // namespace zfactor::math::ecm_lanes::kernel

#endif  // ZFACTOR_MATH_ECM_LANES_KERNEL_H_
