#include "math/primality.h"

#include <gtest/gtest.h>

#include "math/factor.h"
#include "math/trial.h"

namespace zfactor::math {
namespace {

mpz_class Z(const char* s) { return mpz_class(s); }

TEST(Primality, AgreesWithSieveBelowLimit) {
  const auto& primes = SmallPrimes();
  size_t next = 0;
  for (uint32_t n = 0; n < kTrialLimit; ++n) {
    const bool is_prime = next < primes.size() && primes[next] == n;
    if (is_prime) ++next;
    ASSERT_EQ(IsBpswProbablePrime(n), is_prime) << n;
  }
}

TEST(Primality, StrongPseudoprimesToBase2AreRejected) {
  // Strong pseudoprimes to base 2 (OEIS A001262) and to many bases.
  for (const char* s : {"2047", "3277", "4033", "4681", "8321", "3215031751", "2152302898747",
                        "3474749660383", "341550071728321", "3825123056546413051",
                        "318665857834031151167461",
                        "3317044064679887385961981"}) {
    EXPECT_TRUE(IsStrongProbablePrime(Z(s), 2)) << s;
    EXPECT_FALSE(IsBpswProbablePrime(Z(s))) << s;
  }
}

TEST(Primality, LucasPseudoprimesAreRejectedByMillerRabin) {
  // Strong Lucas-Selfridge pseudoprimes (OEIS A217255).
  for (unsigned long n : {5459ul, 5777ul, 10877ul, 16109ul, 18971ul, 22499ul, 24569ul}) {
    EXPECT_TRUE(IsStrongLucasProbablePrime(mpz_class(n))) << n;
    EXPECT_FALSE(IsBpswProbablePrime(mpz_class(n))) << n;
  }
}

TEST(Primality, CarmichaelNumbers) {
  for (const char* s : {"561", "1105", "1729", "2465", "2821", "6601", "8911", "41041", "825265",
                        "321197185", "5394826801", "232250619601", "9746347772161"}) {
    EXPECT_FALSE(IsBpswProbablePrime(Z(s))) << s;
    EXPECT_EQ(TestPrimality(Z(s)), Verdict::kComposite) << s;
  }
}

TEST(Primality, VerdictsAroundWordBoundaries) {
  EXPECT_EQ(TestPrimality(0), Verdict::kZero);
  EXPECT_EQ(TestPrimality(1), Verdict::kUnit);
  EXPECT_EQ(TestPrimality(2), Verdict::kPrime);
  EXPECT_EQ(TestPrimality(Z("4294967291")), Verdict::kPrime);  // largest prime < 2^32
  EXPECT_EQ(TestPrimality(Z("4294967311")), Verdict::kPrime);  // smallest prime > 2^32
  EXPECT_EQ(TestPrimality(Z("18446744073709551557")), Verdict::kPrime);  // < 2^64
  EXPECT_EQ(TestPrimality(Z("18446744073709551615")), Verdict::kComposite);
  // The smallest prime above 2^64 is probable unless proven; never proven by BPSW alone.
  EXPECT_NE(TestPrimality(Z("18446744073709551629")), Verdict::kComposite);
  EXPECT_EQ(TestPrimality(Z("340282366920938463463374607431768211297")), Verdict::kProbablePrime);
  EXPECT_EQ(TestPrimality(Z("340282366920938463463374607431768211457")), Verdict::kComposite);  // F7
}

TEST(Primality, MersennePrimesAndComposites) {
  for (unsigned e : {61u, 89u, 107u, 127u, 521u, 607u, 1279u}) {
    mpz_class m = (mpz_class(1) << e) - 1;
    EXPECT_TRUE(IsBpswProbablePrime(m)) << e;
  }
  for (unsigned e : {67u, 101u, 137u, 523u}) {
    mpz_class m = (mpz_class(1) << e) - 1;
    EXPECT_FALSE(IsBpswProbablePrime(m)) << e;
  }
}

}  // namespace
}  // namespace zfactor::math
