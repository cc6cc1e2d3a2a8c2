#include "math/primality.h"

namespace zfactor::math {
namespace {

// x <- x / 2 mod n, n odd.
void HalveMod(mpz_class& x, const mpz_class& n) {
  if (mpz_odd_p(x.get_mpz_t())) x += n;
  mpz_fdiv_q_2exp(x.get_mpz_t(), x.get_mpz_t(), 1);
}

void Reduce(mpz_class& x, const mpz_class& n) { mpz_mod(x.get_mpz_t(), x.get_mpz_t(), n.get_mpz_t()); }

}  // namespace

bool IsStrongProbablePrime(const mpz_class& n, unsigned long a) {
  mpz_class nm1 = n - 1;
  mp_bitcnt_t s = mpz_scan1(nm1.get_mpz_t(), 0);
  mpz_class d = nm1 >> s;
  mpz_class x;
  mpz_class base = a;
  mpz_powm(x.get_mpz_t(), base.get_mpz_t(), d.get_mpz_t(), n.get_mpz_t());
  if (x == 1 || x == nm1) return true;
  for (mp_bitcnt_t r = 1; r < s; ++r) {
    x = x * x;
    Reduce(x, n);
    if (x == nm1) return true;
    if (x == 1) return false;
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
  const long Q = (1 - D) / 4;
  mpz_class np1 = n + 1;
  mp_bitcnt_t s = mpz_scan1(np1.get_mpz_t(), 0);
  mpz_class d = np1 >> s;

  // Left-to-right binary chain for U_k, V_k, Q^k (mod n), P = 1.
  mpz_class u = 1, v = 1, qk = Q, t;
  Reduce(qk, n);
  const mpz_class dd = D;
  for (long bit = static_cast<long>(mpz_sizeinbase(d.get_mpz_t(), 2)) - 2; bit >= 0; --bit) {
    u = u * v;
    Reduce(u, n);
    v = v * v - 2 * qk;
    Reduce(v, n);
    qk = qk * qk;
    Reduce(qk, n);
    if (mpz_tstbit(d.get_mpz_t(), bit)) {
      t = u + v;  // U_{k+1} = (P U_k + V_k) / 2
      HalveMod(t, n);
      v = dd * u + v;  // V_{k+1} = (D U_k + P V_k) / 2
      Reduce(v, n);
      HalveMod(v, n);
      u = t;
      Reduce(u, n);
      qk = qk * Q;
      Reduce(qk, n);
    }
  }
  if (u == 0 || v == 0) return true;
  for (mp_bitcnt_t r = 1; r < s; ++r) {
    v = v * v - 2 * qk;
    Reduce(v, n);
    if (v == 0) return true;
    qk = qk * qk;
    Reduce(qk, n);
  }
  return false;
}

bool IsBpswProbablePrime(const mpz_class& n) {
  if (n < 2) return false;
  static const unsigned kSmall[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47};
  for (unsigned p : kSmall) {
    if (n == p) return true;
    if (mpz_divisible_ui_p(n.get_mpz_t(), p)) return false;
  }
  if (n < 53 * 53) return true;
  return IsStrongProbablePrime(n, 2) && IsStrongLucasProbablePrime(n);
}

}  // namespace zfactor::math
