#include "math/perfect_power.h"

#include "math/trial.h"

namespace zfactor::math {

bool PerfectPower(const mpz_class& n, mpz_class* root, unsigned* exponent) {
  if (!mpz_perfect_power_p(n.get_mpz_t())) return false;
  // n = r^k: peel prime exponents one at a time until no root is exact, so k
  // ends up maximal and r is not itself a perfect power.
  mpz_class r = n;
  unsigned k = 1;
  bool progress = true;
  while (progress) {
    progress = false;
    const size_t bits = mpz_sizeinbase(r.get_mpz_t(), 2);
    for (uint32_t p : SmallPrimes()) {
      if (p > bits) break;
      mpz_class t;
      if (mpz_root(t.get_mpz_t(), r.get_mpz_t(), p) != 0) {
        r = t;
        k *= p;
        progress = true;
        break;
      }
    }
  }
  if (k == 1) return false;
  *root = r;
  *exponent = k;
  return true;
}

}  // namespace zfactor::math
