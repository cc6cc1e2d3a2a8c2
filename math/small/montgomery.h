// Montgomery arithmetic modulo an odd n, for one-limb (u64) and two-limb
// (u128) moduli. Both classes share one interface so that the algorithms
// (BPSW, rho, ECM) are written once as templates:
//
//   using Word;                       the element and modulus type
//   explicit Arith(Word n);           REQUIRES: n odd, n >= 3
//   Word n(), One(), ToMont(x), FromMont(a), Canonical(a)
//   Word Add(a, b), Sub(a, b), Mul(a, b), Sqr(a), Half(a)
//
// Elements are residues a * R mod n in [0, n), with R = 2^64 or 2^128.
// Add/Sub/Half/equality therefore work on them directly. (Mont64Lazy's are
// not canonical; Canonical(a) gives the [0, n) representative, for equality.)
#ifndef ZFACTOR_MATH_SMALL_MONTGOMERY_H_
#define ZFACTOR_MATH_SMALL_MONTGOMERY_H_

#include <cstdint>

#include "math/small/int128.h"

namespace zfactor::math::small {

class Mont64 {
 public:
  using Word = uint64_t;

  explicit Mont64(uint64_t n) : n_(n) {
    uint64_t inv = (3 * n) ^ 2;  // correct to 5 bits
    for (int i = 0; i < 4; ++i) inv *= 2 - n * inv;
    inv_ = inv;
    one_ = (0 - n) % n;
    r2_ = static_cast<uint64_t>(static_cast<u128>(one_) * one_ % n);
  }

  uint64_t n() const { return n_; }
  uint64_t One() const { return one_; }
  uint64_t ToMont(uint64_t x) const { return Mul(x % n_, r2_); }
  uint64_t FromMont(uint64_t a) const { return Reduce(0, a); }
  uint64_t Canonical(uint64_t a) const { return a; }

  // Branch-free (the outcome of the comparison is a coin toss, so a branch
  // would be mispredicted half the time): a + b = a - (n - b), plus n on borrow.
  uint64_t Add(uint64_t a, uint64_t b) const {
    const uint64_t nb = n_ - b;
    return a - nb + (n_ & (0 - static_cast<uint64_t>(a < nb)));
  }
  uint64_t Sub(uint64_t a, uint64_t b) const {
    return a - b + (n_ & (0 - static_cast<uint64_t>(a < b)));
  }
  uint64_t Mul(uint64_t a, uint64_t b) const {
    const u128 t = static_cast<u128>(a) * b;
    return Reduce(Hi64(t), Lo64(t));
  }
  uint64_t Sqr(uint64_t a) const { return Mul(a, a); }
  // a b / 2^64 mod n in [0, 2n), without the final correction: exact when
  // a b < 2^64 n (hi < n), which Mont64Lazy guarantees.
  uint64_t MulLazy(uint64_t a, uint64_t b) const {
    const u128 t = static_cast<u128>(a) * b;
    const uint64_t mh = Hi64(static_cast<u128>(Lo64(t) * inv_) * n_);
    return Hi64(t) - mh + n_;
  }
  // a / 2 mod n.
  uint64_t Half(uint64_t a) const { return (a & 1) ? (a >> 1) + (n_ >> 1) + 1 : a >> 1; }

 private:
  // (hi * 2^64 + lo) / 2^64 mod n, for hi < n.
  uint64_t Reduce(uint64_t hi, uint64_t lo) const {
    const uint64_t m = lo * inv_;
    const uint64_t mh = Hi64(static_cast<u128>(m) * n_);
    return Sub(hi, mh);  // branch-free: a branch here is a coin toss too
  }

  uint64_t n_;
  uint64_t inv_;  // n^-1 mod 2^64
  uint64_t one_;  // 2^64 mod n
  uint64_t r2_;   // 2^128 mod n
};

// Mont64's arithmetic for n < 2^60, "lazy": residues are kept in [0, 2n),
// sums and differences below 4n, and since 16 n^2 < 2^64 n a product of two
// such values reduces to [0, 2n) without a final correction. Add is one
// addition and Sub two, against four or five ALU operations each in Mont64,
// where the scalar ECM ladder is bound by the integer ALUs.
//
// Values are not canonical: equality tests do not work, gcds with n do.
// Same R = 2^64 as Mont64, so Mont64 residues are valid inputs.
// REQUIRES of callers: a subtrahend below 2n (a product, One() or a Mont64
// residue) and product inputs below 4n.
class Mont64Lazy {
 public:
  using Word = uint64_t;
  static constexpr uint64_t kLimit = uint64_t{1} << 60;  // n must be below

  // REQUIRES: m.n() < kLimit.
  explicit Mont64Lazy(const Mont64& m) : m_(m), two_n_(2 * m.n()) {}

  uint64_t n() const { return m_.n(); }
  uint64_t One() const { return m_.One(); }
  uint64_t ToMont(uint64_t x) const { return m_.ToMont(x); }
  uint64_t FromMont(uint64_t a) const { return m_.FromMont(a % m_.n()); }
  // From [0, 4n) to [0, n).
  uint64_t Canonical(uint64_t a) const {
    a -= two_n_ & (0 - static_cast<uint64_t>(a >= two_n_));
    return a - (m_.n() & (0 - static_cast<uint64_t>(a >= m_.n())));
  }

  uint64_t Add(uint64_t a, uint64_t b) const { return a + b; }
  uint64_t Sub(uint64_t a, uint64_t b) const { return a - b + two_n_; }
  uint64_t Mul(uint64_t a, uint64_t b) const { return m_.MulLazy(a, b); }
  uint64_t Sqr(uint64_t a) const { return Mul(a, a); }

 private:
  Mont64 m_;
  uint64_t two_n_;
};

class Mont128 {
 public:
  using Word = u128;

  explicit Mont128(u128 n) : n_(n) {
    u128 inv = (3 * n) ^ 2;
    for (int i = 0; i < 5; ++i) inv *= 2 - n * inv;
    inv_ = inv;
    one_ = (0 - n) % n;
    u128 r2 = one_;  // doubling 128 times turns R into R^2 (mod n)
    for (int i = 0; i < 128; ++i) r2 = Add(r2, r2);
    r2_ = r2;
  }

  u128 n() const { return n_; }
  u128 One() const { return one_; }
  u128 ToMont(u128 x) const { return Mul(x % n_, r2_); }
  u128 FromMont(u128 a) const { return Reduce(0, a); }
  u128 Canonical(u128 a) const { return a; }

  u128 Add(u128 a, u128 b) const {
    const u128 nb = n_ - b;
    return a - nb + (n_ & (0 - static_cast<u128>(a < nb)));
  }
  u128 Sub(u128 a, u128 b) const { return a - b + (n_ & (0 - static_cast<u128>(a < b))); }
  u128 Mul(u128 a, u128 b) const {
    u128 hi, lo;
    Mul256(a, b, &hi, &lo);
    return Reduce(hi, lo);
  }
  u128 Sqr(u128 a) const { return Mul(a, a); }
  u128 Half(u128 a) const { return (a & 1) ? (a >> 1) + (n_ >> 1) + 1 : a >> 1; }

 private:
  u128 Reduce(u128 hi, u128 lo) const {
    const u128 m = lo * inv_;
    u128 mh, ml;
    Mul256(m, n_, &mh, &ml);
    return hi >= mh ? hi - mh : hi - mh + n_;
  }

  u128 n_;
  u128 inv_;
  u128 one_;
  u128 r2_;
};

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_MONTGOMERY_H_
