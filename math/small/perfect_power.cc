#include "math/small/perfect_power.h"

#include "math/small/primes.h"

namespace zfactor::math::small {

int PerfectPower128(u128 n, uint64_t min_base, u128* root) {
  const int bits = BitLength128(n);
  const int base_bits = BitLength64(min_base) - 1;  // min_base >= 2^base_bits
  const std::vector<SmallPrime>& odd_primes = OddPrimes();
  for (size_t i = 0;; ++i) {
    const int k = i == 0 ? 2 : static_cast<int>(odd_primes[i - 1].p);  // prime exponents
    if (k * base_bits > bits) break;
    const uint64_t r = IRoot128(n, k);
    u128 p = 1;
    for (int e = 0; e < k; ++e) p *= r;  // r^k <= n: no overflow
    if (p == n) {
      *root = r;
      return k;
    }
  }
  return 1;
}

}  // namespace zfactor::math::small
