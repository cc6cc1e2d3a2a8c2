// IsPrime64 / IsProbablePrime128: trial division by the first odd primes,
// then BPSW (bpsw.h) in Montgomery arithmetic of the right width.
#include "math/small/bpsw.h"
#include "math/small/montgomery.h"
#include "math/small/primes.h"
#include "math/small/small.h"

namespace zfactor::math::small {
namespace {

// Odd primes 3..47 screen candidates before BPSW; 53^2 bounds what they prove.
constexpr int kScreenPrimes = 14;
constexpr uint64_t kScreenProves = 53 * 53;

}  // namespace

bool IsPrime64(uint64_t n) {
  if (n < 2) return false;
  if ((n & 1) == 0) return n == 2;
  const std::vector<SmallPrime>& primes = OddPrimes();
  for (int i = 0; i < kScreenPrimes; ++i) {
    if (Divides64(primes[i], n)) return n == primes[i].p;
  }
  if (n < kScreenProves) return n > 1;
  return BpswNoSmallFactors(Mont64(n));
}

bool IsProbablePrime128(u128 n) {
  if (Hi64(n) == 0) return IsPrime64(Lo64(n));
  if ((n & 1) == 0) return false;
  const std::vector<SmallPrime>& primes = OddPrimes();
  for (int i = 0; i < kScreenPrimes; ++i) {
    if (Divides128(primes[i], n)) return false;
  }
  return BpswNoSmallFactors(Mont128(n));
}

}  // namespace zfactor::math::small
