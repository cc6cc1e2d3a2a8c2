// The factor base: -1, 2, the odd primes dividing the Knuth-Schroeppel
// multiplier k, then the odd primes p with (kN/p) = 1 in ascending order.
// Read-only once built; shared by all sieving threads.
#ifndef ZFACTOR_MATH_SIQS_FACTOR_BASE_H_
#define ZFACTOR_MATH_SIQS_FACTOR_BASE_H_

#include <gmpxx.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace zfactor::math::siqs {

// The Knuth-Schroeppel multiplier k <= 73 maximising the expected
// contribution of small primes to Q(x) = x^2 - kN. REQUIRES: n odd.
uint32_t ChooseMultiplier(const mpz_class& n);

struct FactorBase {
  mpz_class n;
  uint32_t multiplier = 1;
  mpz_class kn;
  std::vector<uint32_t> prime;    // [0] is 1 and stands for -1
  std::vector<uint32_t> sqrt_kn;  // sqrt(kN) mod p (0 for primes dividing kN)
  std::vector<uint8_t> logp;      // round(log2 p)
  uint32_t first_sorted = 0;      // entries from here on are ascending, QR, coprime to k
  uint32_t first_sieved = 0;      // first entry the sieve touches (small-prime variation)
  uint32_t first_bucket = 0;      // first entry with p >= kBucketMinPrime (bucket sieved)

  uint32_t size() const { return static_cast<uint32_t>(prime.size()); }
  uint32_t largest() const { return prime.back(); }
};

// Builds a factor base of `size` entries for n*multiplier, not sieving
// primes below `small_prime`. If a factor-base candidate divides n, returns
// nullopt and stores it in *divisor.
std::optional<FactorBase> BuildFactorBase(const mpz_class& n, uint32_t multiplier, uint32_t size,
                                          uint32_t small_prime, uint32_t* divisor);

// Rescales logp to round(log2(p) * scale) so the sieve threshold fits a byte.
void SetLogScale(FactorBase& fb, double scale);

// x^e mod m and the modular inverse of a (REQUIRES: gcd(a, m) = 1) for 32-bit m.
uint32_t PowMod(uint32_t x, uint32_t e, uint32_t m);
uint32_t InvMod(uint32_t a, uint32_t m);
// A square root of a mod the odd prime p (REQUIRES: a a QR mod p).
uint32_t SqrtMod(uint32_t a, uint32_t p);

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_FACTOR_BASE_H_
