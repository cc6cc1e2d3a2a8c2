#include "math/primality.h"

#include <gtest/gtest.h>

#include "math/factor.h"
#include "math/trial.h"
#include "tests/math/gp_oracle.h"
#include "tests/math/numbers.h"

namespace zfactor::math {
namespace {

using testing::NextPrime;
using testing::Z;

// The strong Lucas-Selfridge test straight from its definition (U_k, V_k and
// Q^k by the doubling formulas, mpz arithmetic): the reference for the
// engine's Q = 1 Montgomery ladder.
bool ReferenceStrongLucas(const mpz_class& n) {
  long D = 5;
  for (;;) {
    mpz_class dz = D;
    const int j = mpz_jacobi(dz.get_mpz_t(), n.get_mpz_t());
    if (j == -1) break;
    if (j == 0 && n != (D < 0 ? -D : D)) return false;
    if (mpz_perfect_square_p(n.get_mpz_t())) return false;
    D = D > 0 ? -(D + 2) : -D + 2;
  }
  const mpz_class Q = (1 - D) / 4;
  mpz_class np1 = n + 1;
  const mp_bitcnt_t s = mpz_scan1(np1.get_mpz_t(), 0);
  const mpz_class d = np1 >> s;
  auto mod = [&](mpz_class x) {
    mpz_mod(x.get_mpz_t(), x.get_mpz_t(), n.get_mpz_t());
    return x;
  };
  auto half = [&](mpz_class x) {
    x = mod(x);
    if (mpz_odd_p(x.get_mpz_t())) x += n;
    return mpz_class(x / 2);
  };
  mpz_class u = 1, v = 1, qk = mod(Q);
  for (long bit = static_cast<long>(mpz_sizeinbase(d.get_mpz_t(), 2)) - 2; bit >= 0; --bit) {
    u = mod(u * v);
    v = mod(v * v - 2 * qk);
    qk = mod(qk * qk);
    if (mpz_tstbit(d.get_mpz_t(), bit)) {
      mpz_class u2 = half(u + v);
      v = half(D * u + v);
      u = u2;
      qk = mod(qk * Q);
    }
  }
  if (u == 0 || v == 0) return true;
  for (mp_bitcnt_t r = 1; r < s; ++r) {
    v = mod(v * v - 2 * qk);
    if (v == 0) return true;
    qk = mod(qk * qk);
  }
  return false;
}

bool Squarefree(unsigned long n) {
  for (unsigned long p = 2; p * p <= n; ++p) {
    if (n % (p * p) == 0) return false;
  }
  return true;
}

TEST(Primality, LucasLadderMatchesDefinitionOnAllSmallOddNumbers) {
  // The ladder is exact for squarefree n; with base-2 Miller-Rabin in front it
  // is exact unless p^2 | n for a Wieferich prime p (1093, 3511, then none
  // below 6.7e15), and BPSW divides those out first.
  for (unsigned long n = 5; n < 300000; n += 2) {
    const mpz_class z(n);
    if (mpz_perfect_square_p(z.get_mpz_t())) continue;
    const bool mr = IsStrongProbablePrime(z, 2);
    if (Squarefree(n)) {
      ASSERT_EQ(IsStrongLucasProbablePrime(z), ReferenceStrongLucas(z)) << n;
    } else {
      if (n % (1093 * 1093) == 0 || n % (3511 * 3511) == 0) continue;
      ASSERT_EQ(mr && IsStrongLucasProbablePrime(z), mr && ReferenceStrongLucas(z)) << n;
    }
  }
}

TEST(Primality, LucasLadderMatchesDefinitionOnBigNumbers) {
  gmp_randclass rng(gmp_randinit_mt);
  rng.seed(7);
  for (int i = 0; i < 400; ++i) {
    mpz_class n = rng.get_z_bits(64 + 4 * static_cast<unsigned>(i % 100));
    n |= 1;
    if (i % 2 == 0) mpz_nextprime(n.get_mpz_t(), n.get_mpz_t());
    if (n < 7 || mpz_perfect_square_p(n.get_mpz_t())) continue;
    ASSERT_EQ(IsStrongLucasProbablePrime(n), ReferenceStrongLucas(n)) << n;
  }
  // Lucas pseudoprimes and products of primes with equal Jacobi patterns.
  for (const char* s : {"5459", "5777", "10877", "16109", "18971", "22499", "24569", "25199",
                        "40309", "58519", "75077", "97439", "100127", "113573", "115639"}) {
    ASSERT_EQ(IsStrongLucasProbablePrime(Z(s)), ReferenceStrongLucas(Z(s))) << s;
  }
}

TEST(Primality, MillerRabinMatchesGmpPowm) {
  gmp_randclass rng(gmp_randinit_mt);
  rng.seed(11);
  for (int i = 0; i < 200; ++i) {
    mpz_class n = rng.get_z_bits(8 + 4 * static_cast<unsigned>(i));
    n |= 1;
    if (n < 7) continue;
    if (i % 3 == 0) mpz_nextprime(n.get_mpz_t(), n.get_mpz_t());
    for (unsigned long a : {2ul, 3ul}) {
      // Definition: a^d == 1 or a^(d 2^r) == -1 for some r < s.
      mpz_class nm1 = n - 1, x, base = a;
      const mp_bitcnt_t s = mpz_scan1(nm1.get_mpz_t(), 0);
      mpz_class d = nm1 >> s;
      mpz_powm(x.get_mpz_t(), base.get_mpz_t(), d.get_mpz_t(), n.get_mpz_t());
      bool expect = x == 1 || x == nm1;
      for (mp_bitcnt_t r = 1; r < s && !expect; ++r) {
        x = x * x % n;
        expect = x == nm1;
      }
      ASSERT_EQ(IsStrongProbablePrime(n, a), expect) << n << " base " << a;
    }
  }
}

TEST(Primality, BpswRejectsWieferichSquares) {
  // 1093^2 and 3511^2 are base-2 strong pseudoprimes' building blocks.
  for (unsigned long p : {1093ul, 3511ul}) {
    EXPECT_TRUE(IsStrongProbablePrime(mpz_class(p * p), 2)) << p;
    EXPECT_FALSE(IsBpswProbablePrime(mpz_class(p * p))) << p;
  }
}

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
  EXPECT_EQ(TestPrimality(Z("340282366920938463463374607431768211297")), Verdict::kPrime);
  EXPECT_EQ(TestPrimality(Z("340282366920938463463374607431768211457")), Verdict::kComposite);  // F7
}

TEST(Primality, WithoutProofIsBpswAloneAndSaysWhenAProofWouldBeTried) {
  EXPECT_EQ(TestPrimalityWithoutProof(0), Verdict::kZero);
  EXPECT_EQ(TestPrimalityWithoutProof(1), Verdict::kUnit);
  EXPECT_EQ(TestPrimalityWithoutProof(Z("18446744073709551557")), Verdict::kPrime);
  EXPECT_FALSE(PrimalityProofTried(Z("18446744073709551557")));  // < 2^64: BPSW is exact
  const mpz_class p128("340282366920938463463374607431768211297");
  EXPECT_EQ(TestPrimalityWithoutProof(p128), Verdict::kProbablePrime);
  EXPECT_TRUE(PrimalityProofTried(p128));
  EXPECT_EQ(TestPrimality(p128), Verdict::kPrime);  // the proof is what makes it P
  EXPECT_EQ(TestPrimalityWithoutProof(Z("340282366920938463463374607431768211457")),
            Verdict::kComposite);
  mpz_class big;
  mpz_ui_pow_ui(big.get_mpz_t(), 10, 120);
  mpz_nextprime(big.get_mpz_t(), big.get_mpz_t());
  EXPECT_FALSE(PrimalityProofTried(big)) << "above 100 digits no proof is tried";
  EXPECT_EQ(TestPrimalityWithoutProof(big), TestPrimality(big));
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

// The first prime of the form k * base + 1, k = 1, 2, ...
mpz_class PrimeOneAbove(const mpz_class& base) {
  for (unsigned long k = 1;; ++k) {
    mpz_class n = base * k + 1;
    if (mpz_probab_prime_p(n.get_mpz_t(), 30)) return n;
  }
}

TEST(Proof, ProvesPrimesWhoseNMinus1Factors) {
  std::vector<mpz_class> proven;
  // Pocklington: n-1 = k 2^200, fully factored.
  proven.push_back(PrimeOneAbove(mpz_class(1) << 200));
  // Brillhart-Lehmer-Selfridge: n-1 = k 2^140 h (99 digits), h a product of two 90-bit
  // primes that ECM to B1 = 11e3 will not find: N^(1/3) < F < N^(1/2).
  const mpz_class h = NextPrime(mpz_class(3) << 88) * NextPrime(mpz_class(5) << 88);
  proven.push_back(PrimeOneAbove(h << 140));
  proven.push_back((mpz_class(1) << 127) - 1);  // M127
  for (const auto& n : proven) EXPECT_EQ(TestPrimality(n), Verdict::kPrime) << n;
  std::string error;
  auto gp = testing::AskGp(proven, &error);
  ASSERT_TRUE(gp.has_value()) << "PARI/GP is required: " << error;
  for (size_t i = 0; i < proven.size(); ++i) EXPECT_TRUE((*gp)[i].isprime) << proven[i];
}

TEST(Proof, LeavesPrimesWithHardNMinus1Probable) {
  // n-1 = 2 k q r with q, r 40-digit primes: no cheap N-1 proof exists.
  const mpz_class q = NextPrime(mpz_class("3141592653589793238462643383279502884197"));
  const mpz_class r = NextPrime(mpz_class("2718281828459045235360287471352662497757"));
  const mpz_class n = PrimeOneAbove(2 * q * r);
  EXPECT_EQ(TestPrimality(n), Verdict::kProbablePrime) << n;
  // Beyond kProofMaxDigits nothing is attempted.
  EXPECT_EQ(TestPrimality((mpz_class(1) << 521) - 1), Verdict::kProbablePrime);
}

}  // namespace
}  // namespace zfactor::math
