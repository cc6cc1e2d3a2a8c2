// Longer runs of the word-size engine checks (ctest label `slow`).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "math/small/small.h"
#include "tests/math_small/oracle.h"

namespace zfactor::math::small {
namespace {

TEST(OracleSlow, AgreesWithPariOnFiveTimesMoreInputs) {
  testing::ExpectAgreesWithGp(testing::MixedInputs(777, 5));
}

TEST(IsPrime64Slow, MatchesSieveBelow2To24) {
  testing::ExpectIsPrime64MatchesSieve(1u << 24);
}

// Products of random primes of every split of 64 bits: product and primality.
TEST(Factor64Slow, RandomSemiprimesAndTriples) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 20000; ++i) {
    const int a = 2 + i % 31;
    const int b = 2 + (i / 31) % (62 - a);
    const uint64_t p = static_cast<uint64_t>(testing::RandomPrime(rng, a));
    const uint64_t q = static_cast<uint64_t>(testing::RandomPrime(rng, b));
    const u128 wide = static_cast<u128>(p) * q * (i % 3 == 0 ? 3 : 1);
    if (Hi64(wide) != 0) continue;
    const uint64_t n = Lo64(wide);
    std::vector<uint64_t> f;
    Factor64(n, &f);
    uint64_t product = 1;
    for (uint64_t x : f) {
      ASSERT_TRUE(IsPrime64(x)) << x << " from " << n;
      product *= x;
    }
    ASSERT_EQ(product, n);
    ASSERT_TRUE(std::is_sorted(f.begin(), f.end())) << n;
  }
}

}  // namespace
}  // namespace zfactor::math::small
