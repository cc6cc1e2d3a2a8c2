// The AVX-512 IFMA kernel of ecm_lanes.h: Montgomery arithmetic on L limbs of
// 52 bits, eight residues per limb vector, and ECM's two stages on it. This
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

// 2p from p's X + Z and X - Z: X = AA BB, Z = E (BB + d E) with E = AA - BB.
// Bounds, as for every point here: coordinates below 4n in, below 2n out.
template <int L>
void DoubleFrom(const Arith<L>& m, __m512i d_word, const Num<L>& plus, const Num<L>& minus,
                Point<L>* out) {
  Num<L> aa, bb, e, t;
  m.Mul(plus, plus, &aa);
  m.Mul(minus, minus, &bb);
  m.Mul(aa, bb, &out->x);
  m.Sub2n(aa, bb, &e);
  m.MulWord(e, d_word, &t);
  m.Add(bb, t, &t);
  m.Mul(e, t, &out->z);
}

template <int L>
void Double(const Arith<L>& m, __m512i d_word, const Point<L>& p, Point<L>* out) {
  Num<L> plus, minus;
  m.Add(p.x, p.z, &plus);
  m.Sub4n(p.x, p.z, &minus);
  DoubleFrom(m, d_word, plus, minus, out);
}

// p + q from p - q = diff: X = Z_diff (da + cb)^2, Z = X_diff (da - cb)^2.
// out may be p or q, not diff.
template <int L>
void DiffAdd(const Arith<L>& m, const Point<L>& p, const Point<L>& q, const Point<L>& diff,
             Point<L>* out) {
  Num<L> p_plus, p_minus, q_plus, q_minus, da, cb, u, v;
  m.Add(p.x, p.z, &p_plus);
  m.Sub4n(p.x, p.z, &p_minus);
  m.Add(q.x, q.z, &q_plus);
  m.Sub4n(q.x, q.z, &q_minus);
  m.Mul(p_minus, q_plus, &da);
  m.Mul(p_plus, q_minus, &cb);
  m.Add(da, cb, &u);
  m.Sub2n(da, cb, &v);
  m.Mul(u, u, &u);
  m.Mul(v, v, &v);
  m.Mul(diff.z, u, &out->x);
  m.Mul(diff.x, v, &out->z);
}

// The stage-1 ladder step for base point (2 : 1): sum <- sum + dbl (whose
// difference is the base point), dbl <- 2 dbl. DiffAdd with Z_diff = 1 and
// X_diff = 2, sharing dbl's X + Z and X - Z with the doubling.
template <int L>
void LadderStep(const Arith<L>& m, __m512i d_word, Point<L>* sum, Point<L>* dbl) {
  Num<L> s_plus, s_minus, d_plus, d_minus, da, cb, u, v, t;
  m.Add(sum->x, sum->z, &s_plus);
  m.Sub4n(sum->x, sum->z, &s_minus);
  m.Add(dbl->x, dbl->z, &d_plus);
  m.Sub4n(dbl->x, dbl->z, &d_minus);
  m.Mul(s_minus, d_plus, &da);
  m.Mul(s_plus, d_minus, &cb);
  m.Add(da, cb, &u);
  m.Sub2n(da, cb, &v);
  m.Mul(u, u, &sum->x);
  m.Mul(v, v, &t);
  m.Add(t, t, &sum->z);
  DoubleFrom(m, d_word, d_plus, d_minus, dbl);
}

template <int L>
void Load(const LaneNumber& src, Num<L>* x) {
  for (int i = 0; i < L; ++i) x->v[i] = _mm512_loadu_si512(src[i]);
}

template <int L>
void Store(const Num<L>& x, LaneNumber& dst) {
  for (int i = 0; i < L; ++i) _mm512_storeu_si512(dst[i], x.v[i]);
}

template <int L>
void Load(const LaneNumber& x, const LaneNumber& z, Point<L>* p) {
  Load(x, &p->x);
  Load(z, &p->z);
}

template <int L>
void Store(const Point<L>& p, LaneNumber& x, LaneNumber& z) {
  Store(p.x, x);
  Store(p.z, z);
}

// Bits hi - 1 down to lo of k (64-bit words, least significant first).
template <int L>
void RunLadder(const Modulus& mod, Ladder* ladder, const uint64_t* k, uint64_t hi, uint64_t lo) {
  const Arith<L> m(mod);
  const __m512i d_word = _mm512_loadu_si512(ladder->d_word);
  Point<L> p[2];  // p[0] = j P, p[1] = (j + 1) P for the bits read so far
  for (int i = 0; i < 2; ++i) Load(ladder->x[i], ladder->z[i], &p[i]);
  for (uint64_t b = hi; b-- > lo;) {
    const int bit = static_cast<int>((k[b / 64] >> (b % 64)) & 1);
    // bit 1: p0 <- p0 + p1, p1 <- 2 p1; bit 0: p1 <- p0 + p1, p0 <- 2 p0.
    LadderStep(m, d_word, &p[1 - bit], &p[bit]);
  }
  for (int i = 0; i < 2; ++i) Store(p[i], ladder->x[i], ladder->z[i]);
}

template <int L>
void Stage2StartL(const Modulus& mod, uint32_t d, const uint16_t* baby_j, int babies,
                  uint64_t first_giant, LaneNumber* baby_x, LaneNumber* baby_z, Stage2State* s) {
  const Arith<L> m(mod);
  const __m512i d_word = _mm512_loadu_si512(s->d_word);
  Point<L> q, q2;
  Load(s->q_x, s->q_z, &q);
  Double(m, d_word, q, &q2);
  // Odd multiples j Q up to d / 2, each from the one before: (j + 2) Q =
  // j Q + 2Q, whose difference is (j - 2) Q (for j = 1, -Q: the same x).
  Point<L> prev = q, cur = q;
  int next = 0;
  for (uint32_t j = 1;; j += 2) {
    if (next < babies && baby_j[next] == j) {
      Store(cur, baby_x[next], baby_z[next]);
      ++next;
    }
    if (j == d / 2) break;
    Point<L> up;
    DiffAdd(m, cur, q2, prev, &up);
    prev = cur;
    cur = up;
  }
  // D Q = 2 (d / 2) Q; then G_m0 and G_m0+1 by a ladder on m0 with base D Q.
  Point<L> dq, g[2];
  Double(m, d_word, cur, &dq);
  g[0] = dq;
  Double(m, d_word, dq, &g[1]);
  for (int b = 62 - __builtin_clzll(first_giant); b >= 0; --b) {
    const int bit = static_cast<int>((first_giant >> b) & 1);
    DiffAdd(m, g[0], g[1], dq, &g[1 - bit]);
    Double(m, d_word, g[bit], &g[bit]);
  }
  Store(dq, s->dq_x, s->dq_z);
  for (int i = 0; i < 2; ++i) Store(g[i], s->g_x[i], s->g_z[i]);
  for (int i = 0; i < L; ++i) {
    for (int l = 0; l < kLanes; ++l) s->acc[i][l] = i == 0 ? 1 : 0;
  }
}

template <int L>
void Stage2GiantsL(const Modulus& mod, const LaneNumber* baby_x, const uint64_t* bits, int words,
                   uint64_t giants, Stage2State* s) {
  const Arith<L> m(mod);
  Point<L> dq, g, g_next;
  Load(s->dq_x, s->dq_z, &dq);
  Load(s->g_x[0], s->g_z[0], &g);
  Load(s->g_x[1], s->g_z[1], &g_next);
  // Two accumulators, so that consecutive terms do not wait for each other.
  Num<L> acc[2], x, t;
  Load(s->acc, &acc[0]);
  for (int i = 0; i < L; ++i) acc[1].v[i] = _mm512_setzero_si512();
  acc[1].v[0] = _mm512_set1_epi64(1);
  int which = 0;
  for (uint64_t step = 0; step < giants; ++step, bits += words) {
    for (int w = 0; w < words; ++w) {
      for (uint64_t set = bits[w]; set != 0; set &= set - 1) {
        const int b = 64 * w + __builtin_ctzll(set);
        // X_G - x_j Z_G: zero mod p exactly when G = +-j Q mod p.
        Load(baby_x[b], &x);
        m.Mul(x, g.z, &t);
        m.Sub2n(g.x, t, &t);
        m.Mul(acc[which], t, &acc[which]);
        which ^= 1;
      }
    }
    Point<L> after;
    DiffAdd(m, g_next, dq, g, &after);
    g = g_next;
    g_next = after;
  }
  m.Mul(acc[0], acc[1], &acc[0]);
  Store(acc[0], s->acc);
  Store(g, s->g_x[0], s->g_z[0]);
  Store(g_next, s->g_x[1], s->g_z[1]);
}

}  // namespace

// Calls F<L>(args...) for the modulus' limb count.
#define ZF_DISPATCH_LIMBS(limbs, F, ...)      \
  switch (limbs) {                            \
    case 2:                                   \
      return F<2>(__VA_ARGS__);               \
    case 3:                                   \
      return F<3>(__VA_ARGS__);               \
    case 4:                                   \
      return F<4>(__VA_ARGS__);               \
    case 5:                                   \
      return F<5>(__VA_ARGS__);               \
    case 6:                                   \
      return F<6>(__VA_ARGS__);               \
    case 7:                                   \
      return F<7>(__VA_ARGS__);               \
    case 8:                                   \
      return F<8>(__VA_ARGS__);               \
    case 9:                                   \
      return F<9>(__VA_ARGS__);               \
    case 10:                                  \
      return F<10>(__VA_ARGS__);              \
    default:                                  \
      __builtin_trap(); /* never asked for */ \
  }

void Run(const Modulus& mod, Ladder* ladder, const uint64_t* k, uint64_t hi, uint64_t lo) {
  ZF_DISPATCH_LIMBS(mod.limbs, RunLadder, mod, ladder, k, hi, lo)
}

void Stage2Start(const Modulus& mod, uint32_t d, const uint16_t* baby_j, int babies,
                 uint64_t first_giant, LaneNumber* baby_x, LaneNumber* baby_z, Stage2State* s) {
  ZF_DISPATCH_LIMBS(mod.limbs, Stage2StartL, mod, d, baby_j, babies, first_giant, baby_x, baby_z, s)
}

void Stage2Giants(const Modulus& mod, const LaneNumber* baby_x, const uint64_t* bits, int words,
                  uint64_t giants, Stage2State* s) {
  ZF_DISPATCH_LIMBS(mod.limbs, Stage2GiantsL, mod, baby_x, bits, words, giants, s)
}

#undef ZF_DISPATCH_LIMBS

}  // namespace zfactor::math::ecm_lanes::kernel
