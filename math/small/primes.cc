#include "math/small/primes.h"

namespace zfactor::math::small {
namespace {

std::vector<SmallPrime> Sieve() {
  std::vector<bool> composite(kSmallPrimeLimit, false);
  std::vector<SmallPrime> primes;
  for (uint64_t p = 3; p < kSmallPrimeLimit; p += 2) {
    if (composite[p]) continue;
    for (uint64_t q = p * p; q < kSmallPrimeLimit; q += 2 * p) composite[q] = true;
    SmallPrime sp;
    sp.p = p;
    u128 inv = (3 * static_cast<u128>(p)) ^ 2;  // correct to 5 bits; Newton doubles that
    for (int i = 0; i < 5; ++i) inv *= 2 - p * inv;
    sp.inv128 = inv;
    sp.inv64 = Lo64(inv);
    sp.lim64 = ~0ull / p;
    sp.lim128 = ~static_cast<u128>(0) / p;
    primes.push_back(sp);
  }
  return primes;
}

}  // namespace

const std::vector<SmallPrime>& OddPrimes() {
  static const std::vector<SmallPrime> primes = Sieve();
  return primes;
}

}  // namespace zfactor::math::small
