#include "math/primality.h"

#include "math/montgomery.h"
#include "math/small/small.h"
#include "math/trial.h"

namespace zfactor::math {
namespace {

void Reduce(mpz_class& x, const mpz_class& n) { mpz_mod(x.get_mpz_t(), x.get_mpz_t(), n.get_mpz_t()); }

}  // namespace

bool IsStrongProbablePrime(const mpz_class& n, unsigned long a) {
  mpz_class nm1 = n - 1;
  const mp_bitcnt_t s = mpz_scan1(nm1.get_mpz_t(), 0);
  const mpz_class d = nm1 >> s;
  MontgomeryMpn m(n);
  MontgomeryMpn::Residue x;
  if (a == 2) {
    // Left-to-right powering where "multiply by the base" is a doubling.
    x = m.To(1);
    for (long bit = static_cast<long>(mpz_sizeinbase(d.get_mpz_t(), 2)) - 1; bit >= 0; --bit) {
      m.Sqr(x, x);
      if (mpz_tstbit(d.get_mpz_t(), bit)) m.Double(x);
    }
  } else {
    mpz_class y, base = a;
    mpz_powm(y.get_mpz_t(), base.get_mpz_t(), d.get_mpz_t(), n.get_mpz_t());
    x = m.To(y);
  }
  const MontgomeryMpn::Residue one = m.To(1), minus_one = m.To(nm1);
  if (m.Equal(x, one) || m.Equal(x, minus_one)) return true;
  for (mp_bitcnt_t r = 1; r < s; ++r) {
    m.Sqr(x, x);
    if (m.Equal(x, minus_one)) return true;
    if (m.Equal(x, one)) return false;
  }
  return false;
}

bool IsStrongLucasProbablePrime(const mpz_class& n) {
  // Selfridge: first D in 5, -7, 9, -11, ... with (D/n) = -1; P = 1, Q = (1-D)/4.
  long d_abs = 5;
  long sign = 1;
  long D = 0;
  for (int tries = 0;; ++tries) {
    D = sign * d_abs;
    mpz_class dz = D;
    int j = mpz_jacobi(dz.get_mpz_t(), n.get_mpz_t());
    if (j == -1) break;
    if (j == 0 && n != d_abs) return false;  // D shares a factor with n
    if (tries == 10 && mpz_perfect_square_p(n.get_mpz_t())) return false;
    d_abs += 2;
    sign = -sign;
  }
  // Work with the Q = 1 sequence V_m(P', 1), P' = P^2/Q - 2, which satisfies
  // V_m(P', 1) = V_2m(P, Q) / Q^m. With n + 1 = d 2^s the strong test's
  // conditions become:
  //   V_{d 2^r}(P, Q) == 0, 1 <= r < s   <=>  V_{d 2^(r-1)}(P', 1) == 0
  //   V_d(P, Q) == 0                     <=>  V_d(P', 1) == -2
  //   U_d(P, Q) == 0                     <=>  V_d(P', 1) == 2
  // (the last two because V_d(P,Q)^2 = Q^d (V_d(P',1) + 2) and
  // D U_d(P,Q)^2 = Q^d (V_d(P',1) - 2); exact for n with no square factor, and
  // a square factor p^2 passes base-2 Miller-Rabin only for a Wieferich p).
  // The Q = 1 ladder costs one product and one square per bit instead of
  // three operations with Q^k.
  mpz_class q = (1 - D) / 4;
  Reduce(q, n);
  mpz_class p1;
  if (mpz_invert(p1.get_mpz_t(), q.get_mpz_t(), n.get_mpz_t()) == 0) return false;
  p1 -= 2;
  Reduce(p1, n);
  mpz_class np1 = n + 1;
  const mp_bitcnt_t s = mpz_scan1(np1.get_mpz_t(), 0);
  const mpz_class d = np1 >> s;

  // Ladder on (V_k, V_{k+1}) from k = 0, in Montgomery form.
  MontgomeryMpn m(n);
  const MontgomeryMpn::Residue two = m.To(2), pm = m.To(p1);
  MontgomeryMpn::Residue vk = two, vk1 = pm;
  for (long bit = static_cast<long>(mpz_sizeinbase(d.get_mpz_t(), 2)) - 1; bit >= 0; --bit) {
    if (mpz_tstbit(d.get_mpz_t(), bit)) {
      m.Mul(vk, vk, vk1);  // V_{2k+1} = V_k V_{k+1} - P'
      m.Sub(vk, vk, pm);
      m.Sqr(vk1, vk1);  // V_{2k+2} = V_{k+1}^2 - 2
      m.Sub(vk1, vk1, two);
    } else {
      m.Mul(vk1, vk, vk1);
      m.Sub(vk1, vk1, pm);
      m.Sqr(vk, vk);
      m.Sub(vk, vk, two);
    }
  }
  const MontgomeryMpn::Residue zero(m.size(), 0), minus_two = m.To(n - 2);
  if (m.Equal(vk, two) || m.Equal(vk, minus_two)) return true;
  for (mp_bitcnt_t r = 1; r < s; ++r) {
    if (m.Equal(vk, zero)) return true;
    m.Sqr(vk, vk);
    m.Sub(vk, vk, two);
  }
  return false;
}

bool IsBpswProbablePrime(const mpz_class& n) {
  if (n < 2) return false;
  // Below 2^64 the word-size BPSW gives the same (exact) answer in a fraction
  // of the time: no multi-precision trial division, Montgomery in registers.
  if (mpz_fits_ulong_p(n.get_mpz_t())) return small::IsPrime64(n.get_ui());
  // Trial division below 2^12 rejects most composites cheaply and removes the
  // squares of the Wieferich primes 1093 and 3511, the only primes below
  // 6.7e15 whose square can survive base-2 Miller-Rabin; that makes the
  // Lucas ladder below agree with the textbook strong Lucas test on every
  // n < 2^64 (see IsStrongLucasProbablePrime).
  constexpr uint32_t kPrecheckBound = 1u << 12;
  unsigned long next = 0;
  for (uint32_t p : SmallPrimes()) {
    next = p;
    if (p >= kPrecheckBound) break;
    if (n == p) return true;
    if (mpz_divisible_ui_p(n.get_mpz_t(), p)) return false;
  }
  if (n < next * next) return true;
  return IsStrongProbablePrime(n, 2) && IsStrongLucasProbablePrime(n);
}

}  // namespace zfactor::math
