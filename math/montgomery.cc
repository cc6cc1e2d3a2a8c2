#include "math/montgomery.h"

namespace zfactor::math {

MontgomeryMpn::MontgomeryMpn(const mpz_class& n)
    : k_(mpz_size(n.get_mpz_t())), n_(k_), modulus_(n), scratch_(2 * k_) {
  mpn_copyi(n_.data(), mpz_limbs_read(n.get_mpz_t()), static_cast<mp_size_t>(k_));
  mp_limb_t inv = 1;  // Newton: each step doubles the correct low bits
  for (int i = 0; i < 7; ++i) inv *= 2 - n_[0] * inv;
  ninv_ = -inv;
}

MontgomeryMpn::Residue MontgomeryMpn::To(const mpz_class& x) const {
  mpz_class t = x;
  mpz_mul_2exp(t.get_mpz_t(), t.get_mpz_t(), 64 * k_);
  mpz_mod(t.get_mpz_t(), t.get_mpz_t(), modulus_.get_mpz_t());
  Residue r(k_, 0);
  mpn_copyi(r.data(), mpz_limbs_read(t.get_mpz_t()), static_cast<mp_size_t>(mpz_size(t.get_mpz_t())));
  return r;
}

mpz_class MontgomeryMpn::From(const Residue& a) const {
  mpz_class t;
  mpz_import(t.get_mpz_t(), k_, -1, sizeof(mp_limb_t), 0, 0, a.data());
  mpz_class rinv = mpz_class(1) << (64 * k_);
  mpz_invert(rinv.get_mpz_t(), rinv.get_mpz_t(), modulus_.get_mpz_t());
  t *= rinv;
  mpz_mod(t.get_mpz_t(), t.get_mpz_t(), modulus_.get_mpz_t());
  return t;
}

void MontgomeryMpn::Redc(Residue& r) {
  const mp_size_t k = static_cast<mp_size_t>(k_);
  mp_limb_t* t = scratch_.data();
  // Clear one low limb per step; the carry out of step i is parked in t[i]
  // (which the step zeroed) and added to the high half at the end.
  for (mp_size_t i = 0; i < k; ++i) {
    const mp_limb_t u = t[i] * ninv_;
    t[i] = mpn_addmul_1(t + i, n_.data(), k, u);
  }
  const mp_limb_t carry = mpn_add_n(r.data(), t + k, t, k);
  if (carry != 0 || mpn_cmp(r.data(), n_.data(), k) >= 0) mpn_sub_n(r.data(), r.data(), n_.data(), k);
}

void MontgomeryMpn::Mul(Residue& r, const Residue& a, const Residue& b) {
  if (&a == &b) return Sqr(r, a);
  mpn_mul_n(scratch_.data(), a.data(), b.data(), static_cast<mp_size_t>(k_));
  Redc(r);
}

void MontgomeryMpn::Sqr(Residue& r, const Residue& a) {
  mpn_sqr(scratch_.data(), a.data(), static_cast<mp_size_t>(k_));
  Redc(r);
}

void MontgomeryMpn::Add(Residue& r, const Residue& a, const Residue& b) const {
  const mp_size_t k = static_cast<mp_size_t>(k_);
  const mp_limb_t carry = mpn_add_n(r.data(), a.data(), b.data(), k);
  if (carry != 0 || mpn_cmp(r.data(), n_.data(), k) >= 0) mpn_sub_n(r.data(), r.data(), n_.data(), k);
}

void MontgomeryMpn::Sub(Residue& r, const Residue& a, const Residue& b) const {
  const mp_size_t k = static_cast<mp_size_t>(k_);
  if (mpn_sub_n(r.data(), a.data(), b.data(), k) != 0) mpn_add_n(r.data(), r.data(), n_.data(), k);
}

void MontgomeryMpn::Double(Residue& r) const {
  const mp_size_t k = static_cast<mp_size_t>(k_);
  const mp_limb_t carry = mpn_lshift(r.data(), r.data(), k, 1);
  if (carry != 0 || mpn_cmp(r.data(), n_.data(), k) >= 0) mpn_sub_n(r.data(), r.data(), n_.data(), k);
}

}  // namespace zfactor::math
