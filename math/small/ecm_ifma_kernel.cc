// The AVX-512 IFMA arithmetic for micro-ECM and ecm.h's EcmStages run on it
// (ecm_ifma.h says why). This is the only file compiled with -mavx512f
// -mavx512ifma, and it runs only after HaveIfma(): it instantiates no template
// that another file instantiates (its types live in an anonymous namespace),
// and calls the scalar helpers of ecm_ifma.cc for everything else.
#include <immintrin.h>

// GCC 12's AVX-512 shift intrinsics start from an "undefined" vector that its
// own -Wuninitialized then reports (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "math/small/ecm_ifma.h"

namespace zfactor::math::small::ifma_internal {
namespace {

constexpr int kLimbBits = 52;
constexpr uint64_t kLimbMask = (uint64_t{1} << kLimbBits) - 1;

// Eight residues, lane by lane lo + hi * 2^52 with lo < 2^52. A value stands
// for (value / 2^104) mod n; products leave values below 2n, sums and
// differences below 4n (MontIfma's contract).
struct V {
  __m512i lo, hi;
};

V FromLanes(const uint64_t (&x)[kIfmaLanes]) {
  const __m512i v = _mm512_loadu_si512(x);
  return {_mm512_and_si512(v, _mm512_set1_epi64(kLimbMask)), _mm512_srli_epi64(v, kLimbBits)};
}

V Broadcast(uint64_t x) {
  return {_mm512_set1_epi64(static_cast<int64_t>(x & kLimbMask)),
          _mm512_set1_epi64(static_cast<int64_t>(x >> kLimbBits))};
}

// The lanes' values reduced mod n.
void ToLanes(const V& v, uint64_t n, uint64_t (&out)[kIfmaLanes]) {
  alignas(64) uint64_t lo[kIfmaLanes], hi[kIfmaLanes];
  _mm512_store_si512(lo, v.lo);
  _mm512_store_si512(hi, v.hi);
  for (int l = 0; l < kIfmaLanes; ++l) {
    u128 value = (static_cast<u128>(hi[l]) << kLimbBits) + lo[l];  // < 4n
    while (value >= n) value -= n;
    out[l] = static_cast<uint64_t>(value);
  }
}

// Montgomery arithmetic with R = 2^104 on eight lanes, ecm.h's interface.
// Lazy: Mul accepts inputs below 4n (< 2^66) and returns (a b + m n) / R <
// n + 16 n^2 / 2^104 < 2n, so Add and Sub need no reduction: Add returns a +
// b, Sub a - b + 2n (REQUIRES: b < 2n; in ecm.h every subtrahend is a product
// or One).
class MontIfma {
 public:
  using Word = V;

  explicit MontIfma(const Constants& c)
      : n_(c.n),
        n0_(_mm512_set1_epi64(static_cast<int64_t>(c.n & kLimbMask))),
        n1_(_mm512_set1_epi64(static_cast<int64_t>(c.n >> kLimbBits))),
        neg_inv0_(_mm512_set1_epi64(static_cast<int64_t>(c.neg_inv104 & kLimbMask))),
        neg_inv1_(_mm512_set1_epi64(static_cast<int64_t>(c.neg_inv104 >> kLimbBits))),
        mask_(_mm512_set1_epi64(kLimbMask)),
        // 2n + 2^52 - 2^52: a low limb that cannot go negative, and a high
        // limb that pays for it.
        two_n_lo_(_mm512_set1_epi64(static_cast<int64_t>(
            ((2 * static_cast<u128>(c.n)) & kLimbMask) + (uint64_t{1} << kLimbBits)))),
        two_n_hi_(_mm512_set1_epi64(static_cast<int64_t>(
            static_cast<uint64_t>((2 * static_cast<u128>(c.n)) >> kLimbBits) - 1))),
        one_(Broadcast(c.one)),
        fix_inverse_(Broadcast(c.fix_inverse)) {}

  uint64_t n() const { return n_; }
  V One() const { return one_; }
  // Times InvertLanes' inverses, in one product, gives kernel-form inverses.
  V FixInverse() const { return fix_inverse_; }

  V Add(const V& a, const V& b) const {
    const __m512i lo = _mm512_add_epi64(a.lo, b.lo);
    return {_mm512_and_si512(lo, mask_),
            _mm512_add_epi64(_mm512_add_epi64(a.hi, b.hi), _mm512_srli_epi64(lo, kLimbBits))};
  }

  V Sub(const V& a, const V& b) const {
    const __m512i lo = _mm512_sub_epi64(_mm512_add_epi64(a.lo, two_n_lo_), b.lo);
    const __m512i hi = _mm512_sub_epi64(_mm512_add_epi64(a.hi, two_n_hi_), b.hi);
    return {_mm512_and_si512(lo, mask_), _mm512_add_epi64(hi, _mm512_srli_epi64(lo, kLimbBits))};
  }

  // a b / 2^104 mod n by Montgomery's REDC with a 104-bit m: t = a b, m =
  // -t / n mod 2^104, (t + m n) / 2^104. All products of a step are
  // independent and summed by plain adds, so the critical path is three
  // multiply-adds deep plus the carries (latency is what bounds the ladder).
  // Bounds: a, b < 2^66 make a1 b1 < 2^28 (no high half); sums of a few
  // 52-bit halves fit a 64-bit lane; IFMA reads only a lane's low 52 bits,
  // which is all that m1 and the carries into it need.
  V Mul(const V& a, const V& b) const {
    const __m512i z = _mm512_setzero_si512();
    // t = t0 + t1 2^52 + t2 2^104 (limbs not yet carried).
    const __m512i t0 = _mm512_madd52lo_epu64(z, a.lo, b.lo);
    const __m512i t1 =
        _mm512_add_epi64(_mm512_madd52hi_epu64(_mm512_madd52lo_epu64(z, a.lo, b.hi), a.lo, b.lo),
                         _mm512_madd52lo_epu64(z, a.hi, b.lo));
    const __m512i t2 =
        _mm512_add_epi64(_mm512_madd52lo_epu64(_mm512_madd52hi_epu64(z, a.lo, b.hi), a.hi, b.hi),
                         _mm512_madd52hi_epu64(z, a.hi, b.lo));
    return Reduce(t0, t1, t2);
  }

  // a^2, with the cross product a0 a1 taken once and doubled: five
  // multiply-adds instead of seven.
  V Sqr(const V& a) const {
    const __m512i z = _mm512_setzero_si512();
    const __m512i t0 = _mm512_madd52lo_epu64(z, a.lo, a.lo);
    const __m512i cross_lo = _mm512_madd52lo_epu64(z, a.lo, a.hi);
    const __m512i cross_hi = _mm512_madd52hi_epu64(z, a.lo, a.hi);
    const __m512i t1 = _mm512_madd52hi_epu64(_mm512_add_epi64(cross_lo, cross_lo), a.lo, a.lo);
    const __m512i t2 = _mm512_madd52lo_epu64(_mm512_add_epi64(cross_hi, cross_hi), a.hi, a.hi);
    return Reduce(t0, t1, t2);
  }

 private:
  // (t0 + t1 2^52 + t2 2^104) / 2^104 mod n, below 2n, for t < 2^132.
  V Reduce(__m512i t0, __m512i t1, __m512i t2) const {
    const __m512i z = _mm512_setzero_si512();
    // m = t (-1/n) mod 2^104; m1 is exact only in its low 52 bits.
    const __m512i m0 = _mm512_madd52lo_epu64(z, t0, neg_inv0_);
    const __m512i m1 = _mm512_add_epi64(
        _mm512_madd52hi_epu64(_mm512_madd52lo_epu64(z, t0, neg_inv1_), t0, neg_inv0_),
        _mm512_madd52lo_epu64(z, t1, neg_inv0_));
    // u = t + m n, whose low 104 bits vanish; the result is u / 2^104.
    const __m512i u0 = _mm512_madd52lo_epu64(t0, m0, n0_);
    const __m512i u1 =
        _mm512_add_epi64(_mm512_madd52lo_epu64(_mm512_madd52hi_epu64(t1, m0, n0_), m0, n1_),
                         _mm512_madd52lo_epu64(_mm512_srli_epi64(u0, kLimbBits), m1, n0_));
    const __m512i u2 =
        _mm512_add_epi64(_mm512_madd52lo_epu64(_mm512_madd52hi_epu64(t2, m0, n1_), m1, n1_),
                         _mm512_madd52hi_epu64(_mm512_srli_epi64(u1, kLimbBits), m1, n0_));
    const __m512i u3 = _mm512_madd52hi_epu64(_mm512_srli_epi64(u2, kLimbBits), m1, n1_);
    return {_mm512_and_si512(u2, mask_), u3};
  }

  uint64_t n_;
  __m512i n0_, n1_, neg_inv0_, neg_inv1_, mask_, two_n_lo_, two_n_hi_;
  V one_, fix_inverse_;
};

using ecm_internal::Point;

// ecm.h's helpers for eight-lane words, found by argument-dependent lookup.

void ConditionalSwap(uint64_t bit, Point<V>* a, Point<V>* b) {
  const __mmask8 k = static_cast<__mmask8>(0 - bit);  // all lanes or none
  auto swap = [k](__m512i* x, __m512i* y) {
    const __m512i nx = _mm512_mask_blend_epi64(k, *x, *y);
    *y = _mm512_mask_blend_epi64(k, *y, *x);
    *x = nx;
  };
  swap(&a->x.lo, &b->x.lo);
  swap(&a->x.hi, &b->x.hi);
  swap(&a->z.lo, &b->z.lo);
  swap(&a->z.hi, &b->z.hi);
}

uint64_t LaneFactor(const MontIfma& m, const V (&v)[1]) {
  uint64_t lanes[kIfmaLanes];
  ToLanes(v[0], m.n(), lanes);
  return ifma_internal::LaneFactor(m.n(), lanes);
}

// Slot by slot, lane by lane.
uint64_t FirstFactor(const MontIfma& m, const V* v, int count) {
  for (int i = 0; i < count; ++i) {
    uint64_t lanes[kIfmaLanes];
    ToLanes(v[i], m.n(), lanes);
    if (const uint64_t f = ifma_internal::FirstFactor(m.n(), lanes, kIfmaLanes); f != 0) return f;
  }
  return 0;
}

// 1 / x lane by lane, with one scalar inversion for all lanes.
uint64_t InvertOne(const MontIfma& m, const V& x, V* inv) {
  uint64_t lanes[kIfmaLanes], inverses[kIfmaLanes];
  ToLanes(x, m.n(), lanes);
  if (const uint64_t g = InvertLanes(m.n(), lanes, inverses); g != 1) return g;
  *inv = m.Mul(FromLanes(inverses), m.FixInverse());
  return 1;
}

}  // namespace

uint64_t Stages(const Constants& c, const uint64_t (&a24)[kIfmaLanes],
                const uint64_t (&x0)[kIfmaLanes], const EcmLevel& level) {
  const MontIfma m(c);
  // Mont64 residues carry 2^64; the kernel's carry 2^104 = 2^64 * 2^144 / 2^104.
  const V from_mont64 = Broadcast(c.from_mont64);
  const V a24v[1] = {m.Mul(FromLanes(a24), from_mont64)};
  const V x0v[1] = {m.Mul(FromLanes(x0), from_mont64)};
  return EcmStages<MontIfma, 1>(m, a24v, x0v, level);
}

}  // namespace zfactor::math::small::ifma_internal
