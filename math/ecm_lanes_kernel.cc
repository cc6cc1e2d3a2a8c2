// The AVX-512 IFMA ladder of ecm_lanes.h: Montgomery arithmetic on L limbs of
// 52 bits, eight residues per limb vector, and the stage-1 ladder on it. This
// is the only file of zfactor_math compiled with -mavx512f -mavx512ifma, and
// it runs only after UseAvx512Ifma(): it includes no header whose inline
// functions or templates other files also instantiate (its own types live in
// an anonymous namespace), so no AVX-512 copy of a shared function can be the
// one the linker keeps.
#include <immintrin.h>

// GCC 12's AVX-512 shift intrinsics start from an "undefined" vector that its
// own -Wuninitialized then reports (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "math/ecm_lanes_kernel.h"

namespace zfactor::math::ecm_lanes::kernel {
namespace {

constexpr uint64_t kLimbMask = (uint64_t{1} << kLimbBits) - 1;

// Eight residues of L limbs: limb i of every lane in v[i]. Normalised (every
// limb below 2^52) wherever a product reads it; IFMA sees only a lane's low
// 52 bits.
template <int L>
struct Num {
  __m512i v[L];
};

// Montgomery arithmetic mod n with R = 2^(52 L) on eight lanes. Lazy, as in
// the micro-ECM kernel: with n < R / 64 (kHeadroomBits), Mul accepts inputs
// below 8n and returns (a b + m n) / R < 64 n^2 / R + n < 2n, so sums and
// differences of a few products need no reduction.
template <int L>
class Arith {
 public:
  explicit Arith(const Modulus& m)
      : neg_inv_(_mm512_set1_epi64(static_cast<int64_t>(m.neg_inv))),
        mask_(_mm512_set1_epi64(static_cast<int64_t>(kLimbMask))) {
    for (int i = 0; i < L; ++i) {
      n_[i] = _mm512_set1_epi64(static_cast<int64_t>(m.n[i]));
      two_n_[i] = _mm512_set1_epi64(static_cast<int64_t>(m.two_n[i]));
      four_n_[i] = _mm512_set1_epi64(static_cast<int64_t>(m.four_n[i]));
    }
  }

  // a b / R mod n, below 2n. REQUIRES: a, b normalised and below 8n.
  // Operand scanning: for each limb of a, add a_i b, then the multiple q n
  // that clears the lowest limb (q = -t / n mod 2^52), and drop that limb.
  // The columns hold at most 4L sums of 52-bit halves, far below 2^64.
  void Mul(const Num<L>& a, const Num<L>& b, Num<L>* r) const {
    __m512i acc[L + 1];
    for (int j = 0; j <= L; ++j) acc[j] = _mm512_setzero_si512();
    for (int i = 0; i < L; ++i) {
      for (int j = 0; j < L; ++j) acc[j] = _mm512_madd52lo_epu64(acc[j], a.v[i], b.v[j]);
      for (int j = 0; j < L; ++j) acc[j + 1] = _mm512_madd52hi_epu64(acc[j + 1], a.v[i], b.v[j]);
      Reduce(acc);
    }
    Carry(acc, r);
  }

  // a w / 2^52 mod n for a word w < 2^52, below a + n: one step of the
  // reduction. With a in Montgomery form this multiplies the residue by w /
  // 2^52 mod n, the curve constant d of ecm_lanes.h.
  void MulWord(const Num<L>& a, __m512i w, Num<L>* r) const {
    __m512i acc[L + 1];
    acc[0] = _mm512_setzero_si512();
    for (int j = 0; j < L; ++j)
      acc[j + 1] = _mm512_madd52hi_epu64(_mm512_setzero_si512(), a.v[j], w);
    for (int j = 0; j < L; ++j) acc[j] = _mm512_madd52lo_epu64(acc[j], a.v[j], w);
    Reduce(acc);
    Carry(acc, r);
  }

  // a + b, normalised.
  void Add(const Num<L>& a, const Num<L>& b, Num<L>* r) const {
    for (int i = 0; i < L; ++i) r->v[i] = _mm512_add_epi64(a.v[i], b.v[i]);
    Normalise(r);
  }

  // a - b + 2n (REQUIRES: b < 2n), or + 4n (REQUIRES: b < 4n); normalised.
  void Sub2n(const Num<L>& a, const Num<L>& b, Num<L>* r) const { SubPlus(a, b, two_n_, r); }
  void Sub4n(const Num<L>& a, const Num<L>& b, Num<L>* r) const { SubPlus(a, b, four_n_, r); }

 private:
  // One reduction step on the columns acc[0..L]: adds q n with q = -acc[0] /
  // n mod 2^52, carries acc[0] (now 0 mod 2^52) into acc[1] and shifts the
  // columns down one limb.
  void Reduce(__m512i (&acc)[L + 1]) const {
    const __m512i q = _mm512_madd52lo_epu64(_mm512_setzero_si512(), acc[0], neg_inv_);
    for (int j = 0; j < L; ++j) acc[j] = _mm512_madd52lo_epu64(acc[j], q, n_[j]);
    for (int j = 0; j < L; ++j) acc[j + 1] = _mm512_madd52hi_epu64(acc[j + 1], q, n_[j]);
    acc[1] = _mm512_add_epi64(acc[1], _mm512_srli_epi64(acc[0], kLimbBits));
    for (int j = 0; j < L; ++j) acc[j] = acc[j + 1];
    acc[L] = _mm512_setzero_si512();
  }

  void Carry(const __m512i (&acc)[L + 1], Num<L>* r) const {
    for (int i = 0; i < L; ++i) r->v[i] = acc[i];
    Normalise(r);
  }

  void SubPlus(const Num<L>& a, const Num<L>& b, const __m512i (&k_n)[L], Num<L>* r) const {
    for (int i = 0; i < L; ++i)
      r->v[i] = _mm512_sub_epi64(_mm512_add_epi64(a.v[i], k_n[i]), b.v[i]);
    Normalise(r);
  }

  // Carries signed limbs up; the value must be non-negative and below 2^(52 L).
  void Normalise(Num<L>* x) const {
    for (int i = 0; i + 1 < L; ++i) {
      x->v[i + 1] = _mm512_add_epi64(x->v[i + 1], _mm512_srai_epi64(x->v[i], kLimbBits));
      x->v[i] = _mm512_and_si512(x->v[i], mask_);
    }
  }

  __m512i n_[L], two_n_[L], four_n_[L];
  __m512i neg_inv_, mask_;
};

// A point (X : Z) on each lane's curve, Montgomery's x-only coordinates.
template <int L>
struct Point {
  Num<L> x, z;
};

// The ladder step for base point (2 : 1): sum <- sum + dbl (whose difference
// is the base point), dbl <- 2 dbl. Bounds: coordinates below 4n on entry
// and exit (sums below 8n are the largest product inputs).
template <int L>
void LadderStep(const Arith<L>& m, __m512i d_word, Point<L>* sum, Point<L>* dbl) {
  Num<L> s_plus, s_minus, d_plus, d_minus, da, cb, u, v, aa, bb, e, t;
  m.Add(sum->x, sum->z, &s_plus);
  m.Sub4n(sum->x, sum->z, &s_minus);
  m.Add(dbl->x, dbl->z, &d_plus);
  m.Sub4n(dbl->x, dbl->z, &d_minus);
  // Differential addition: X = Z_base (da + cb)^2, Z = X_base (da - cb)^2.
  m.Mul(s_minus, d_plus, &da);
  m.Mul(s_plus, d_minus, &cb);
  m.Add(da, cb, &u);
  m.Sub2n(da, cb, &v);
  m.Mul(u, u, &sum->x);
  m.Mul(v, v, &t);
  m.Add(t, t, &sum->z);
  // Doubling: X = AA BB, Z = E (BB + d E) with E = AA - BB.
  m.Mul(d_plus, d_plus, &aa);
  m.Mul(d_minus, d_minus, &bb);
  m.Mul(aa, bb, &dbl->x);
  m.Sub2n(aa, bb, &e);
  m.MulWord(e, d_word, &t);
  m.Add(bb, t, &t);
  m.Mul(e, t, &dbl->z);
}

template <int L>
void Load(const uint64_t (&src)[kMaxLimbs][kLanes], Num<L>* x) {
  for (int i = 0; i < L; ++i) x->v[i] = _mm512_loadu_si512(src[i]);
}

template <int L>
void Store(const Num<L>& x, uint64_t (&dst)[kMaxLimbs][kLanes]) {
  for (int i = 0; i < L; ++i) _mm512_storeu_si512(dst[i], x.v[i]);
}

// Bits hi - 1 down to lo of k (64-bit words, least significant first).
template <int L>
void RunLadder(const Modulus& mod, Ladder* ladder, const uint64_t* k, uint64_t hi, uint64_t lo) {
  const Arith<L> m(mod);
  const __m512i d_word = _mm512_loadu_si512(ladder->d_word);
  Point<L> p[2];  // p[0] = j P, p[1] = (j + 1) P for the bits read so far
  for (int i = 0; i < 2; ++i) {
    Load(ladder->x[i], &p[i].x);
    Load(ladder->z[i], &p[i].z);
  }
  for (uint64_t b = hi; b-- > lo;) {
    const int bit = static_cast<int>((k[b / 64] >> (b % 64)) & 1);
    // bit 1: p0 <- p0 + p1, p1 <- 2 p1; bit 0: p1 <- p0 + p1, p0 <- 2 p0.
    LadderStep(m, d_word, &p[1 - bit], &p[bit]);
  }
  for (int i = 0; i < 2; ++i) {
    Store(p[i].x, ladder->x[i]);
    Store(p[i].z, ladder->z[i]);
  }
}

}  // namespace

void Run(const Modulus& mod, Ladder* ladder, const uint64_t* k, uint64_t hi, uint64_t lo) {
  switch (mod.limbs) {
    case 2:
      return RunLadder<2>(mod, ladder, k, hi, lo);
    case 3:
      return RunLadder<3>(mod, ladder, k, hi, lo);
    case 4:
      return RunLadder<4>(mod, ladder, k, hi, lo);
    case 5:
      return RunLadder<5>(mod, ladder, k, hi, lo);
    case 6:
      return RunLadder<6>(mod, ladder, k, hi, lo);
    case 7:
      return RunLadder<7>(mod, ladder, k, hi, lo);
    case 8:
      return RunLadder<8>(mod, ladder, k, hi, lo);
    case 9:
      return RunLadder<9>(mod, ladder, k, hi, lo);
    case 10:
      return RunLadder<10>(mod, ladder, k, hi, lo);
    default:
      __builtin_trap();  // ecm_lanes.cc never asks for another size
  }
}

}  // namespace zfactor::math::ecm_lanes::kernel
