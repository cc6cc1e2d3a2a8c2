// Knuth-Schroeppel multiplier selection.
#include <cmath>
#include <cstdint>
#include <vector>

#include "math/siqs/factor_base.h"

namespace zfactor::math::siqs {

uint32_t ChooseMultiplier(const mpz_class& n) {
  static constexpr uint32_t kCandidates[] = {
      1,  2,  3,  5,  6,  7,  10, 11, 13, 14, 15, 17, 19, 21, 22, 23, 26, 29, 30, 31, 33, 34, 35,
      37, 38, 39, 41, 42, 43, 46, 47, 51, 53, 55, 57, 58, 59, 61, 62, 65, 66, 67, 69, 70, 73};
  constexpr uint32_t kPrimeLimit = 2000;
  std::vector<uint32_t> primes;
  for (uint32_t p = 3; p < kPrimeLimit; p += 2) {
    bool is_prime = true;
    for (uint32_t d = 3; d * d <= p; d += 2) {
      if (p % d == 0) {
        is_prime = false;
        break;
      }
    }
    if (is_prime) primes.push_back(p);
  }
  const uint32_t n_mod8 = static_cast<uint32_t>(mpz_fdiv_ui(n.get_mpz_t(), 8));
  uint32_t best = 1;
  double best_score = -1e300;
  for (uint32_t k : kCandidates) {
    double score = -0.5 * std::log(static_cast<double>(k));
    const uint32_t kn8 = (k * n_mod8) % 8;
    if (kn8 == 1) {
      score += 2 * std::log(2.0);
    } else if (kn8 == 5) {
      score += std::log(2.0);
    } else {
      score += 0.5 * std::log(2.0);
    }
    for (uint32_t p : primes) {
      const double lp = std::log(static_cast<double>(p));
      if (k % p == 0) {
        score += lp / p;
        continue;
      }
      const uint32_t r =
          static_cast<uint32_t>((static_cast<uint64_t>(mpz_fdiv_ui(n.get_mpz_t(), p)) * k) % p);
      if (r == 0) continue;  // p divides n: found by the factor-base build
      if (PowMod(r, (p - 1) / 2, p) == 1) score += 2 * lp / (p - 1);
    }
    if (score > best_score) {
      best_score = score;
      best = k;
    }
  }
  return best;
}

}  // namespace zfactor::math::siqs
