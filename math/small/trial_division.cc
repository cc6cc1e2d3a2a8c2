#include "math/small/trial_division.h"

#include "math/small/int128.h"
#include "math/small/primes.h"

namespace zfactor::math::small {

uint64_t TrialDivide64(uint64_t n, uint32_t limit, std::vector<uint64_t>* out) {
  if (n == 0) return 0;
  const int twos = TrailingZeros(n);
  out->insert(out->end(), twos, 2);
  n >>= twos;
  for (const SmallPrime& sp : OddPrimes()) {
    if (sp.p >= limit) break;
    if (sp.p * sp.p > n) {
      if (n > 1) out->push_back(n);
      return 1;
    }
    while (Divides64(sp, n)) {
      n *= sp.inv64;  // exact division
      out->push_back(sp.p);
    }
  }
  return n;
}

u128 TrialDivide128(u128 n, uint32_t limit, std::vector<u128>* out) {
  if (n == 0) return 0;
  const int twos = TrailingZeros(n);
  out->insert(out->end(), twos, 2);
  n >>= twos;
  for (const SmallPrime& sp : OddPrimes()) {
    if (sp.p >= limit) break;
    if (Hi64(n) == 0 && sp.p * sp.p > Lo64(n)) {
      if (n > 1) out->push_back(n);
      return 1;
    }
    while (Divides128(sp, n)) {
      n *= sp.inv128;
      out->push_back(sp.p);
    }
  }
  return n;
}

}  // namespace zfactor::math::small
