#include "math/trial.h"

namespace zfactor::math {

std::vector<uint32_t> SievePrimes(uint32_t limit) {
  std::vector<uint32_t> primes;
  if (limit <= 2) return primes;
  std::vector<bool> composite(limit, false);
  for (uint32_t i = 2; i < limit; ++i) {
    if (composite[i]) continue;
    primes.push_back(i);
    for (uint64_t j = static_cast<uint64_t>(i) * i; j < limit; j += i) composite[j] = true;
  }
  return primes;
}

const std::vector<uint32_t>& SmallPrimes() {
  static const std::vector<uint32_t> primes = SievePrimes(kTrialLimit);
  return primes;
}

void TrialDivide(mpz_class* n, uint32_t bound, std::vector<std::pair<uint32_t, unsigned>>* found) {
  mpz_ptr m = n->get_mpz_t();
  for (uint32_t p : SmallPrimes()) {
    if (p >= bound) break;
    if (mpz_cmp_ui(m, 1) == 0) break;
    // Once p^2 > n, what is left is 1 or a prime.
    if (mpz_cmp_ui(m, static_cast<unsigned long>(p) * p) < 0) {
      if (mpz_cmp_ui(m, bound) < 0) {
        found->emplace_back(static_cast<uint32_t>(mpz_get_ui(m)), 1);
        mpz_set_ui(m, 1);
      }
      break;
    }
    if (!mpz_divisible_ui_p(m, p)) continue;
    unsigned e = 0;
    while (mpz_divisible_ui_p(m, p)) {
      mpz_divexact_ui(m, m, p);
      ++e;
    }
    found->emplace_back(p, e);
  }
}

}  // namespace zfactor::math
