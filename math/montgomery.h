// Montgomery arithmetic on GMP limbs for one fixed odd modulus (internal to
// the math engine): products reduced by REDC instead of division, which is
// what makes the big-number probable-prime tests fast.
#ifndef ZFACTOR_MATH_MONTGOMERY_H_
#define ZFACTOR_MATH_MONTGOMERY_H_

#include <gmpxx.h>

#include <vector>

namespace zfactor::math {

// Residues are vectors of exactly size() limbs holding a R mod n, R = 2^(64 size()).
// Not thread-safe (scratch space); one instance per thread.
class MontgomeryMpn {
 public:
  using Residue = std::vector<mp_limb_t>;

  // REQUIRES: n odd, n > 1.
  explicit MontgomeryMpn(const mpz_class& n);

  size_t size() const { return k_; }
  Residue To(const mpz_class& x) const;  // x mod n into Montgomery form
  mpz_class From(const Residue& a) const;
  bool Equal(const Residue& a, const Residue& b) const { return mpn_cmp(a.data(), b.data(), k_) == 0; }

  void Mul(Residue& r, const Residue& a, const Residue& b);  // r = a b / R; r may alias a or b
  void Sqr(Residue& r, const Residue& a);                    // r = a^2 / R; r may alias a
  void Add(Residue& r, const Residue& a, const Residue& b) const;  // r = a + b mod n
  void Sub(Residue& r, const Residue& a, const Residue& b) const;  // r = a - b mod n
  void Double(Residue& r) const;                                  // r = 2 r mod n

 private:
  void Redc(Residue& r);  // r = scratch_ / R, reduced below n

  size_t k_;
  std::vector<mp_limb_t> n_;
  mp_limb_t ninv_;  // -n^-1 mod 2^64
  mpz_class modulus_;
  std::vector<mp_limb_t> scratch_;  // 2k limbs
};

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_MONTGOMERY_H_
