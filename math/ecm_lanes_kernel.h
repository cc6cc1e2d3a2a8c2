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

// One residue per lane: limb i of lane l at [i][l].
using LaneNumber = uint64_t[kMaxLimbs][kLanes];

// The ladder's state for eight curves (lane l is curve l): the points j P and
// (j + 1) P in Montgomery form (values times R mod n, below 4n, limbs of 52
// bits), limb i of lane l at [i][l]; and each curve's word w, whose curve has
// d = (A + 2) / 4 = w / 2^52 mod n. The base point P is (2 : 1) on every curve.
struct Ladder {
  LaneNumber x[2] = {};
  LaneNumber z[2] = {};
  uint64_t d_word[kLanes] = {};
};

// Reads bits hi - 1 down to lo of k (64-bit words, least significant first)
// into the ladder: (j P, (j + 1) P) becomes (j' P, (j' + 1) P) with
// j' = j 2^(hi - lo) + (those bits).
void Run(const Modulus& m, Ladder* ladder, const uint64_t* k, uint64_t hi, uint64_t lo);

// Stage 2 for eight curves (the baby-step giant-step continuation): from
// Q = k P, giant points G_m = m D Q for m = m0, m0 + 1, ..., and for each the
// product of X_G - x_j Z_G over the baby steps j (odd, coprime to D, below
// D / 2) for which m D - j or m D + j is a prime of the range: a prime
// q = m D +- j divides the order of Q mod p exactly when G_m = +-j Q mod p,
// which makes the term 0 mod p. Same Montgomery form as Ladder.
struct Stage2State {
  uint64_t d_word[kLanes] = {};         // as in Ladder
  LaneNumber q_x = {}, q_z = {};        // Q, set before Stage2Start
  LaneNumber dq_x = {}, dq_z = {};      // D Q
  LaneNumber g_x[2] = {}, g_z[2] = {};  // the next two giant points G_m, G_m+1
  LaneNumber acc = {};                  // the product of the terms so far
};

// Computes j Q for the `babies` values baby_j (ascending, odd, below d / 2;
// d = 2 mod 4) into baby_x / baby_z, and D Q and G_m0, G_m0+1 (m0 =
// first_giant >= 1); sets acc to 1.
void Stage2Start(const Modulus& m, uint32_t d, const uint16_t* baby_j, int babies,
                 uint64_t first_giant, LaneNumber* baby_x, LaneNumber* baby_z, Stage2State* s);

// Takes `giants` giant steps: at each, multiplies acc by X_G - x_j Z_G for
// the babies b whose bit is set in the step's `words` words of `bits` (bit b
// of word b / 64), then moves G on by D Q. baby_x[b] holds baby b's affine
// x in Montgomery form (x R mod n, below n).
void Stage2Giants(const Modulus& m, const LaneNumber* baby_x, const uint64_t* bits, int words,
                  uint64_t giants, Stage2State* s);

}  // namespace zfactor::math::ecm_lanes::kernel

#endif  // ZFACTOR_MATH_ECM_LANES_KERNEL_H_
