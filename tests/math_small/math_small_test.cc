// Word-size engine: known answers, a brute-force sieve cross-check and a
// seeded property test against PARI/GP.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "math/small/bpsw.h"
#include "math/small/cpu.h"
#include "math/small/ecm.h"
#include "math/small/ecm_ifma.h"
#include "math/small/gcd.h"
#include "math/small/montgomery.h"
#include "math/small/rho.h"
#include "math/small/small.h"
#include "math/small/tiny_qs.h"
#include "tests/math_small/oracle.h"

namespace zfactor::math::small {
namespace {

using testing::ExpectAgreesWithGp;
using testing::MixedInputs;
using testing::RandomPrime;

std::vector<uint64_t> F64(uint64_t n) {
  std::vector<uint64_t> out;
  Factor64(n, &out);
  return out;
}

std::vector<u128> F128(u128 n) {
  std::vector<u128> out;
  EXPECT_TRUE(Factor128(n, &out, Hooks{}));
  return out;
}

u128 EuclidGcd(u128 a, u128 b) {
  while (b != 0) a = std::exchange(b, a % b);
  return a;
}

// The branch-free binary gcd against Euclid (one and two limbs), on edges,
// shared powers of two and random pairs with planted common factors.
TEST(Gcd, MatchesEuclid) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values = {0, 1, 2, 3, 4, 6, 12, 1ull << 63, ~0ull, ~0ull - 1};
  for (int i = 0; i < 2000; ++i) {
    const uint64_t common = rng() >> (rng() % 64);
    values.push_back((rng() >> (rng() % 64)) * (common | 1) << (rng() % 8));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const uint64_t a = values[i], b = values[(i * 7 + 3) % values.size()];
    ASSERT_EQ(Gcd<uint64_t>(a, b), std::gcd(a, b)) << a << " " << b;
    const u128 wa = Make128(rng(), a), wb = Make128(rng() >> 40, b);
    const u128 c = static_cast<u128>(rng() | 1) << (rng() % 4);
    EXPECT_EQ(Gcd<u128>(wa * c, wb * c), EuclidGcd(wa * c, wb * c))
        << ToString128(wa) << " " << ToString128(wb);
  }
}

// Rho on products of two primes small enough that both often close in the
// same gcd batch (the replay path): always a proper factor or 0, and some
// map always finds one. Also with a budget too short for most.
TEST(Rho, SplitsSmallSemiprimesIncludingWhenABatchClosesBoth) {
  std::vector<uint64_t> primes;
  for (uint64_t p = 601; p < 1200; p += 2) {
    if (IsPrime64(p)) primes.push_back(p);
  }
  for (size_t i = 0; i + 1 < primes.size(); i += 3) {
    const uint64_t p = primes[i], q = primes[i + 1], n = p * q;
    const Mont64 m(n);
    uint64_t d = 0;
    for (uint64_t c = 1; d == 0 && c < 50; ++c) {
      d = RhoBrent(m, m.ToMont(c), ~0ull);
    }
    EXPECT_TRUE(d == p || d == q) << n << " -> " << d;
    const uint64_t short_run = RhoBrent(m, m.ToMont(1), 4);
    EXPECT_TRUE(short_run == 0 || short_run == p || short_run == q) << n;
  }
}

// The strong Lucas test from its definition: U_k, V_k and Q^k by the
// doubling formulas (Crandall & Pomerance, Algorithm 3.6.7), Selfridge's D.
template <typename Arith>
bool TextbookStrongLucas(const Arith& m) {
  using W = typename Arith::Word;
  const W n = m.n();
  int64_t d = 5;
  while (true) {
    const W abs_d = static_cast<W>(d < 0 ? -d : d) % n;
    const int j = Jacobi<W>(d < 0 ? n - abs_d : abs_d, n);
    if (j == -1) break;
    if (j == 0 && static_cast<W>(d < 0 ? -d : d) != n) return false;
    if (d > 1000 && IsSquare(n)) return false;
    d = d < 0 ? -d + 2 : -(d + 2);
  }
  auto residue = [&](int64_t v) {
    const W a = static_cast<W>(v < 0 ? -v : v) % n;
    return m.ToMont(v < 0 && a != 0 ? n - a : a);
  };
  const W dm = residue(d), qm = residue((1 - d) / 4);
  const W k = n + 1;
  const int s = TrailingZeros(k);
  const W odd = k >> s;
  W u = m.One(), v = m.One(), qk = qm;  // U_1 = 1, V_1 = P = 1, Q^1
  for (int i = BitLength(odd) - 2; i >= 0; --i) {
    u = m.Mul(u, v);                     // U_2k = U_k V_k
    v = m.Sub(m.Sqr(v), m.Add(qk, qk));  // V_2k = V_k^2 - 2 Q^k
    qk = m.Sqr(qk);
    if ((odd >> i) & 1) {                  // k -> k + 1 with P = 1
      const W u1 = m.Half(m.Add(u, v));    // U_k+1 = (U_k + V_k) / 2
      v = m.Half(m.Add(m.Mul(dm, u), v));  // V_k+1 = (D U_k + V_k) / 2
      u = u1;
      qk = m.Mul(qk, qm);
    }
  }
  if (u == 0 || v == 0) return true;
  for (int r = 1; r < s; ++r) {
    v = m.Sub(m.Sqr(v), m.Add(qk, qk));
    if (v == 0) return true;
    qk = m.Sqr(qk);
  }
  return false;
}

bool Squarefree(uint64_t n) {
  for (uint64_t p = 2; p * p <= n; ++p) {
    if (n % (p * p) == 0) return false;
  }
  return true;
}

// The Q = 1 ladder of bpsw.h gives the textbook answer on squarefree n:
// every such odd n below 2^17 not divisible by 3 (primes and the Lucas
// pseudoprimes 5459, 5777, 10877, ... among them), and seeded primes and
// products of distinct primes of one and two limbs.
TEST(Bpsw, LucasLadderMatchesTheTextbookTestOnSquarefreeNumbers) {
  int pseudoprimes = 0;
  for (uint64_t n = 5; n < (1u << 17); n += 2) {
    if (n % 3 == 0 || !Squarefree(n)) continue;
    const Mont64 m(n);
    const bool textbook = TextbookStrongLucas(m);
    ASSERT_EQ(StrongLucasSelfridge(m), textbook) << n;
    if (textbook && !IsPrime64(n)) ++pseudoprimes;
  }
  EXPECT_GT(pseudoprimes, 5);  // the comparison saw composites that pass
  std::mt19937_64 rng(3);
  for (int i = 0; i < 3000; ++i) {
    const int bits = 3 + static_cast<int>(rng() % 60);
    const u128 p = RandomPrime(rng, bits), q = RandomPrime(rng, 2 + static_cast<int>(rng() % 62));
    for (const u128 n : {p, p * q}) {
      if (n % 3 == 0 || n < 5 || (n == p * q && p == q)) continue;
      if (Hi64(n) == 0) {
        ASSERT_EQ(StrongLucasSelfridge(Mont64(Lo64(n))), TextbookStrongLucas(Mont64(Lo64(n))))
            << ToString128(n);
      } else {
        ASSERT_EQ(StrongLucasSelfridge(Mont128(n)), TextbookStrongLucas(Mont128(n)))
            << ToString128(n);
      }
    }
  }
}

// Below 2^60 BpswNoSmallFactors runs both ladders on Mont64Lazy: the same
// answers as on Mont64, checked on every odd n < 2^17 (the base-2 strong
// pseudoprimes 2047, 3277, 4033, ... and the Lucas ones among them) and on
// seeded primes and composites up to just below 2^60.
TEST(Bpsw, LazyLaddersGiveMont64sAnswers) {
  int fermat_liars = 0;
  auto check = [&](uint64_t n) {
    const Mont64 m(n);
    const Mont64Lazy lazy(m);
    const bool fermat = StrongFermatBase2(m);
    ASSERT_EQ(StrongFermatBase2(lazy), fermat) << n;
    if (fermat && !IsPrime64(n)) ++fermat_liars;
    if (n % 3 != 0 && n > 3) {
      ASSERT_EQ(StrongLucasSelfridge(lazy), StrongLucasSelfridge(m)) << n;
    }
  };
  for (uint64_t n = 3; n < (1u << 17); n += 2) check(n);
  EXPECT_GT(fermat_liars, 5);
  std::mt19937_64 rng(60);
  for (int i = 0; i < 3000; ++i) {
    const int bits = 20 + static_cast<int>(rng() % 41);  // 20..60
    const uint64_t top = (Mont64Lazy::kLimit - 1) >> (60 - bits);
    const uint64_t n = (top - rng() % (top / 4)) | 1;  // odd, just below 2^bits
    check(n);
    const uint64_t p = Lo64(RandomPrime(rng, bits));
    if (p < Mont64Lazy::kLimit) check(p);
  }
}

// Squares of the Wieferich primes pass the base-2 test; BPSW still rejects
// them and their multiples, and accepts 3511 itself.
TEST(Bpsw, WieferichSquaresAreComposite) {
  for (const uint64_t n :
       {1093ull * 1093, 3511ull * 3511, 1093ull * 1093 * 3511 * 3511, 1093ull * 1093 * 1000003}) {
    EXPECT_FALSE(IsPrime64(n)) << n;
  }
  EXPECT_TRUE(StrongFermatBase2(Mont64(1093ull * 1093)));
  EXPECT_TRUE(IsPrime64(3511));
}

TEST(IsPrime64, SmallNumbers) {
  EXPECT_FALSE(IsPrime64(0));
  EXPECT_FALSE(IsPrime64(1));
  EXPECT_TRUE(IsPrime64(2));
  EXPECT_TRUE(IsPrime64(3));
  EXPECT_FALSE(IsPrime64(4));
  EXPECT_TRUE(IsPrime64(5));
  EXPECT_FALSE(IsPrime64(9));
  EXPECT_TRUE(IsPrime64(53));
  EXPECT_FALSE(IsPrime64(2809));  // 53^2: the first square past the screening primes
  EXPECT_TRUE(IsPrime64(2819));
}

TEST(IsPrime64, PseudoprimesAreComposite) {
  // Carmichael numbers.
  for (uint64_t n :
       {561ull, 1105ull, 1729ull, 41041ull, 825265ull, 321197185ull, 3825123056546413051ull}) {
    EXPECT_FALSE(IsPrime64(n)) << n;
  }
  // Strong pseudoprimes to base 2, and to many bases.
  for (uint64_t n : {2047ull, 3277ull, 4033ull, 4681ull, 8321ull, 3215031751ull, 2152302898747ull,
                     3474749660383ull, 341550071728321ull, 3825123056546413051ull}) {
    EXPECT_FALSE(IsPrime64(n)) << n;
  }
  // Strong Lucas pseudoprimes (Selfridge parameters).
  for (uint64_t n : {5459ull, 5777ull, 10877ull, 16109ull, 18971ull, 22499ull, 24569ull}) {
    EXPECT_FALSE(IsPrime64(n)) << n;
  }
}

TEST(IsPrime64, EdgesAndKnownPrimes) {
  EXPECT_TRUE(IsPrime64(4294967291ull));  // largest prime < 2^32
  EXPECT_TRUE(IsPrime64(4294967311ull));  // smallest prime > 2^32
  EXPECT_FALSE(IsPrime64(4294967296ull));
  EXPECT_FALSE(IsPrime64(4294967297ull));  // F5 = 641 * 6700417
  EXPECT_TRUE(IsPrime64(2147483647ull));   // 2^31 - 1
  EXPECT_TRUE(IsPrime64((1ull << 61) - 1));
  EXPECT_FALSE(IsPrime64((1ull << 59) - 1));
  EXPECT_TRUE(IsPrime64(18446744073709551557ull));  // largest prime < 2^64
  EXPECT_FALSE(IsPrime64(18446744073709551615ull));
  EXPECT_FALSE(IsPrime64(18446744073709551557ull - 2));
  EXPECT_FALSE(IsPrime64(4294967291ull * 4294967291ull));
  EXPECT_FALSE(IsPrime64(2097143ull * 2097143ull * 2097143ull));
}

TEST(IsPrime64, MatchesSieveBelow2To20) { testing::ExpectIsPrime64MatchesSieve(1u << 20); }

TEST(IsProbablePrime128, KnownValues) {
  const u128 two64 = static_cast<u128>(1) << 64;
  EXPECT_TRUE(IsProbablePrime128(18446744073709551557ull));
  EXPECT_FALSE(IsProbablePrime128(two64));
  EXPECT_FALSE(IsProbablePrime128(two64 + 1));
  EXPECT_TRUE(IsProbablePrime128(two64 + 13));  // smallest prime > 2^64
  EXPECT_TRUE(IsProbablePrime128((static_cast<u128>(1) << 127) - 1));
  EXPECT_FALSE(IsProbablePrime128(~static_cast<u128>(0)));
  const u128 p = 18446744073709551557ull, q = 18446744073709551533ull;
  EXPECT_FALSE(IsProbablePrime128(p * p));
  EXPECT_FALSE(IsProbablePrime128(p * q));
  EXPECT_FALSE(IsProbablePrime128(static_cast<u128>(3825123056546413051ull) * 1000003));
}

TEST(Factor64, KnownAnswers) {
  EXPECT_EQ(F64(1), (std::vector<uint64_t>{}));
  EXPECT_EQ(F64(2), (std::vector<uint64_t>{2}));
  EXPECT_EQ(F64(3), (std::vector<uint64_t>{3}));
  EXPECT_EQ(F64(4), (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(F64(3215031751ull), (std::vector<uint64_t>{151, 751, 28351}));
  EXPECT_EQ(F64(3825123056546413051ull), (std::vector<uint64_t>{149491, 747451, 34233211}));
  EXPECT_EQ(F64(321197185ull), (std::vector<uint64_t>{5, 19, 23, 29, 37, 137}));
  EXPECT_EQ(F64(18446744073709551615ull),
            (std::vector<uint64_t>{3, 5, 17, 257, 641, 65537, 6700417}));
  EXPECT_EQ(F64(18446744073709551557ull), (std::vector<uint64_t>{18446744073709551557ull}));
  EXPECT_EQ(F64(1ull << 63), std::vector<uint64_t>(63, 2));
  EXPECT_EQ(F64(4294967297ull), (std::vector<uint64_t>{641, 6700417}));
  EXPECT_EQ(F64((1ull << 59) - 1), (std::vector<uint64_t>{179951, 3203431780337ull}));
  EXPECT_EQ(F64((1ull << 62) - 1), (std::vector<uint64_t>{3, 715827883, 2147483647}));
  EXPECT_EQ(F64(4294967291ull * 4294967291ull),
            (std::vector<uint64_t>{4294967291ull, 4294967291ull}));
  EXPECT_EQ(F64(4294967291ull * 4294967279ull),
            (std::vector<uint64_t>{4294967279ull, 4294967291ull}));
  EXPECT_EQ(F64(2097143ull * 2097143ull * 2097143ull),
            (std::vector<uint64_t>{2097143, 2097143, 2097143}));
  EXPECT_EQ(F64(65537ull * 65537ull * 65537ull), std::vector<uint64_t>(3, 65537));
  EXPECT_EQ(F64(1021ull * 1021 * 1021 * 1021 * 1021 * 1021), std::vector<uint64_t>(6, 1021));
}

TEST(Factor64, EverythingBelow2To16MatchesSmallestFactorSieve) {
  constexpr uint32_t kLimit = 1u << 16;
  std::vector<uint32_t> spf(kLimit, 0);
  for (uint32_t p = 2; p < kLimit; ++p) {
    if (spf[p] != 0) continue;
    for (uint32_t q = p; q < kLimit; q += p) {
      if (spf[q] == 0) spf[q] = p;
    }
  }
  for (uint32_t n = 1; n < kLimit; ++n) {
    std::vector<uint64_t> expected;
    for (uint32_t m = n; m > 1; m /= spf[m]) expected.push_back(spf[m]);
    ASSERT_EQ(F64(n), expected) << n;
  }
}

TEST(Factor64, AppendsAfterExistingContent) {
  std::vector<uint64_t> out = {99};
  Factor64(12, &out);
  EXPECT_EQ(out, (std::vector<uint64_t>{99, 2, 2, 3}));
}

TEST(Factor128, KnownAnswers) {
  const u128 two64 = static_cast<u128>(1) << 64;
  EXPECT_EQ(F128(1), (std::vector<u128>{}));
  EXPECT_EQ(F128(two64), std::vector<u128>(64, 2));
  EXPECT_EQ(F128(two64 + 1), (std::vector<u128>{274177, 67280421310721ull}));
  EXPECT_EQ(F128(two64 + 13), (std::vector<u128>{two64 + 13}));
  EXPECT_EQ(F128(two64 - 1), (std::vector<u128>{3, 5, 17, 257, 641, 65537, 6700417}));
  EXPECT_EQ(F128(~static_cast<u128>(0)),
            (std::vector<u128>{3, 5, 17, 257, 641, 65537, 274177, 6700417, 67280421310721ull}));
  const u128 m127 = (static_cast<u128>(1) << 127) - 1;
  EXPECT_EQ(F128(m127), (std::vector<u128>{m127}));
  const u128 p = 18446744073709551557ull, q = 18446744073709551533ull;
  EXPECT_EQ(F128(p * p), (std::vector<u128>{p, p}));
  EXPECT_EQ(F128(static_cast<u128>(3825123056546413051ull) * 3),
            (std::vector<u128>{3, 149491, 747451, 34233211}));
  const u128 cube = static_cast<u128>(2097143) * 2097143 * 2097143 * 2097143 * 2097143;
  EXPECT_EQ(F128(cube), std::vector<u128>(5, 2097143));
  EXPECT_EQ(F128(p * 3 * 5 * 7), (std::vector<u128>{3, 5, 7, p}));
  EXPECT_EQ(F128(q * 4294967291ull), (std::vector<u128>{4294967291ull, q}));
}

TEST(Factor128, BalancedSemiprimeOfTwo64BitPrimes) {
  const u128 p = 18446744073709551557ull, q = 18446744073709551533ull;
  EXPECT_EQ(F128(p * q), (std::vector<u128>{q, p}));
}

TEST(Factor128, CancelStopsAndKeepsPrimesFound) {
  std::atomic<bool> cancel{true};
  Hooks hooks;
  hooks.cancel = &cancel;
  const u128 p = 18446744073709551557ull, q = 18446744073709551533ull;
  std::vector<u128> out;
  EXPECT_FALSE(Factor128(p * q, &out, hooks));
  EXPECT_TRUE(out.empty());
  // Trial division runs before the first poll: its primes are kept.
  const u128 p58 = 288230376151711717ull, p57 = 144115188075855859ull;
  EXPECT_FALSE(Factor128(1000 * p58 * p57, &out, hooks));
  EXPECT_EQ(out, (std::vector<u128>{2, 2, 2, 5, 5, 5}));
  // Without the flag set the same call finishes.
  cancel = false;
  out.clear();
  EXPECT_TRUE(Factor128(1000 * p58 * p57, &out, hooks));
  EXPECT_EQ(out, (std::vector<u128>{2, 2, 2, 5, 5, 5, p57, p58}));
}

TEST(TinyQs, SplitsBalancedSemiprimesOfEverySize) {
  std::mt19937_64 rng(7);
  for (int bits : {66, 72, 80, 88, 96, 104, 112, 120, 126, 128}) {
    const u128 p = RandomPrime(rng, bits / 2), q = RandomPrime(rng, bits - bits / 2);
    const u128 d = TinyQsFactor(p * q, Hooks{});
    EXPECT_TRUE(d == p || d == q) << bits << " bits: " << ToString128(p * q) << " -> "
                                  << ToString128(d);
  }
}

// Near 2^128 the Knuth-Schroeppel multiplier k makes kn wider than 128 bits
// (most of these numbers get k > 1): the sieve must still split n itself.
TEST(TinyQs, SplitsSemiprimesNear2To128) {
  std::mt19937_64 rng(128);
  for (int i = 0; i < 16; ++i) {
    const u128 p = RandomPrime(rng, 64), q = RandomPrime(rng, 64);
    if (p == q) continue;
    const u128 d = TinyQsFactor(p * q, Hooks{});
    EXPECT_TRUE(d == p || d == q) << ToString128(p * q) << " -> " << ToString128(d);
  }
}

// The AVX-512 candidate test must find exactly the primes the portable one
// does: any difference changes which relations are kept, so the counts differ.
TEST(TinyQs, Avx512CandidateTestDoesTheSameWork) {
  if (!UseAvx512()) GTEST_SKIP() << "no AVX-512 here (or ZFACTOR_NO_AVX512 is set)";
  std::mt19937_64 rng(11);
  for (int bits : {70, 84, 98, 112, 127}) {
    const u128 n = RandomPrime(rng, bits / 2) * RandomPrime(rng, bits - bits / 2);
    TinyQsStats portable, avx512;
    const u128 d = tiny_qs_internal::Factor(n, Hooks{}, false, &portable);
    EXPECT_EQ(tiny_qs_internal::Factor(n, Hooks{}, true, &avx512), d) << bits;
    EXPECT_TRUE(d > 1 && d < n && n % d == 0) << bits;
    EXPECT_GT(portable.full_relations, 0u) << bits;
    EXPECT_EQ(portable.polynomials, avx512.polynomials) << bits;
    EXPECT_EQ(portable.candidates, avx512.candidates) << bits;
    EXPECT_EQ(portable.full_relations, avx512.full_relations) << bits;
    EXPECT_EQ(portable.partial_relations, avx512.partial_relations) << bits;
  }
}

TEST(TinyQs, CancelledReturnsZero) {
  std::atomic<bool> cancel{true};
  Hooks hooks;
  hooks.cancel = &cancel;
  const u128 p = 18446744073709551557ull, q = 18446744073709551533ull;
  EXPECT_EQ(TinyQsFactor(p * q, hooks), 0u);
}

TEST(Ecm, FixedSigmaFindsKnownFactor) {
  // gp: the order of sigma 38's point mod 4294967279 is 2^3 3 5 13 17 71 2281
  // (B1 = 125 with stage 2 to 6250 finds it; stage 1 alone does not), and mod
  // 4294967291 it is 2^9 3^3 97 3203 (2^9 > B1: not found).
  const uint64_t p = 4294967291ull, q = 4294967279ull;
  const Mont64 m(p * q);
  EXPECT_EQ(EcmCurve(m, 38, MakeEcmLevel(125, 6250)), q);
  EXPECT_EQ(EcmCurve(m, 38, MakeEcmLevel(125, 125)), 0u);
  EXPECT_EQ(EcmCurve(m, 37, MakeEcmLevel(125, 6250)), 0u);
  // Two-limb: sigma 172 mod 2^40 + 15 has order 2^3 3^5 5 13 19 157 2917.
  const u128 big = 18446744073709551557ull, small = 1099511627791ull;
  EXPECT_EQ(EcmCurve(Mont128(big * small), 172, MakeEcmLevel(300, 15000)), small);
}

// Largest e with r^e <= b1 (0 when r > b1).
int MaxExponent(u128 r, uint32_t b1) {
  int e = 0;
  for (u128 x = r; x <= b1; x *= r) ++e;
  return e;
}

// Stage 1 to B1 and stage 2 to B2 certainly reach a point of this order.
bool CertainlyFound(const std::vector<testing::PrimePower>& order, uint32_t b1, uint32_t b2) {
  bool stage2_prime = false;
  for (const testing::PrimePower& pp : order) {
    if (pp.prime <= b1 && pp.exponent <= MaxExponent(pp.prime, b1)) continue;
    if (pp.prime > b1 && pp.prime <= b2 && pp.exponent == 1 && !stage2_prime) {
      stage2_prime = true;
      continue;
    }
    return false;
  }
  return true;
}

// Every multiple of the point the curve computes is below B2 + d: an order
// with a larger prime factor is never reached.
bool PossiblyFound(const std::vector<testing::PrimePower>& order, const EcmLevel& level) {
  for (const testing::PrimePower& pp : order) {
    if (pp.prime > level.b2 + level.d) return false;
  }
  return true;
}

// Each curve's outcome against the group orders gp computes: a curve whose
// point order mod p is (B1, B2)-smooth must find p unless q might be found
// too, and a curve that can reach neither order must find nothing. The same
// for two curves run side by side.
template <typename Arith>
void ExpectCurvesMatchGroupOrders(int p_bits, int q_bits, uint32_t b1, uint32_t b2, int seed) {
  std::mt19937_64 rng(seed);
  const EcmLevel level = MakeEcmLevel(b1, b2);
  constexpr uint64_t kFirst = 7, kSigmas = 12;
  std::vector<std::pair<u128, u128>> pairs;
  std::vector<testing::SuyamaQuery> queries;
  for (int i = 0; i < 12; ++i) {
    const u128 p = RandomPrime(rng, p_bits), q = RandomPrime(rng, q_bits);
    if (p == q) continue;
    pairs.push_back({p, q});
    for (uint64_t s = kFirst; s < kFirst + kSigmas; ++s) {
      queries.push_back({p, s});
      queries.push_back({q, s});
    }
  }
  std::vector<std::vector<testing::PrimePower>> orders;
  std::string error;
  ASSERT_TRUE(testing::AskGpSuyamaOrders(queries, &orders, &error)) << error;
  int certain = 0, impossible = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto [p, q] = pairs[i];
    const Arith m(static_cast<typename Arith::Word>(p * q));
    auto order_p = [&](uint64_t s) { return orders[(i * kSigmas + (s - kFirst)) * 2]; };
    auto order_q = [&](uint64_t s) { return orders[(i * kSigmas + (s - kFirst)) * 2 + 1]; };
    for (uint64_t s = kFirst; s < kFirst + kSigmas; ++s) {
      const u128 found = EcmCurve(m, s, level);
      const std::string where = ToString128(p) + " * " + ToString128(q) + ", sigma " +
                                std::to_string(s) + ": found " + ToString128(found);
      EXPECT_TRUE(found == 0 || found == p || found == q) << where;
      const bool maybe_p = PossiblyFound(order_p(s), level);
      const bool maybe_q = PossiblyFound(order_q(s), level);
      if (CertainlyFound(order_p(s), b1, b2) && !maybe_q) {
        ++certain;
        EXPECT_EQ(found, p) << where;
      }
      if (CertainlyFound(order_q(s), b1, b2) && !maybe_p) {
        ++certain;
        EXPECT_EQ(found, q) << where;
      }
      if (!maybe_p && !maybe_q) {
        ++impossible;
        EXPECT_EQ(found, 0u) << where;
      }
      if (s % 2 == 1) {
        // Lanes s and s + 1 together.
        const u128 both = EcmCurves<Arith, 2>(m, s, level);
        EXPECT_TRUE(both == 0 || both == p || both == q) << where;
        const bool maybe_q2 = maybe_q || PossiblyFound(order_q(s + 1), level);
        const bool maybe_p2 = maybe_p || PossiblyFound(order_p(s + 1), level);
        if ((CertainlyFound(order_p(s), b1, b2) || CertainlyFound(order_p(s + 1), b1, b2)) &&
            !maybe_q2) {
          EXPECT_EQ(both, p) << where << " (two lanes)";
        }
        if (!maybe_p2 && !maybe_q2) {
          EXPECT_EQ(both, 0u) << where << " (two lanes)";
        }
      }
    }
  }
  // The check must have had something to check.
  EXPECT_GE(certain, 5);
  EXPECT_GE(impossible, 5);

  // The eight sigmas kFirst ... kFirst + 7 in AVX-512 IFMA lanes.
  if constexpr (std::is_same_v<Arith, Mont64>) {
    if (!HaveIfma()) return;
    int checked = 0;
    for (size_t i = 0; i < pairs.size(); ++i) {
      const auto [p, q] = pairs[i];
      const Mont64 m(static_cast<uint64_t>(p * q));
      bool certain_p = false, certain_q = false, maybe_p = false, maybe_q = false;
      for (uint64_t s = kFirst; s < kFirst + kIfmaLanes; ++s) {
        const auto& order_p = orders[(i * kSigmas + (s - kFirst)) * 2];
        const auto& order_q = orders[(i * kSigmas + (s - kFirst)) * 2 + 1];
        certain_p |= CertainlyFound(order_p, b1, b2);
        certain_q |= CertainlyFound(order_q, b1, b2);
        maybe_p |= PossiblyFound(order_p, level);
        maybe_q |= PossiblyFound(order_q, level);
      }
      const uint64_t found = EcmCurvesIfma(m, kFirst, level);
      const std::string where =
          ToString128(p) + " * " + ToString128(q) + " (IFMA lanes): found " + std::to_string(found);
      EXPECT_TRUE(found == 0 || found == p || found == q) << where;
      if (certain_p && !maybe_q) {
        EXPECT_EQ(found, p) << where;
      }
      if (certain_q && !maybe_p) {
        EXPECT_EQ(found, q) << where;
      }
      if (!maybe_p && !maybe_q) {
        EXPECT_EQ(found, 0u) << where;
      }
      checked += (certain_p && !maybe_q) || (certain_q && !maybe_p) || (!maybe_p && !maybe_q);
    }
    EXPECT_GE(checked, 3);
  }
}

TEST(Ecm, OneLimbCurvesMatchGroupOrdersFromGp) {
  ExpectCurvesMatchGroupOrders<Mont64>(22, 40, 47, 2350, 1);
  ExpectCurvesMatchGroupOrders<Mont64>(26, 36, 27, 1350, 2);  // d = 60
  ExpectCurvesMatchGroupOrders<Mont64>(30, 33, 125, 6250, 3);
  // Below 2^60: EcmCurves runs on Mont64Lazy.
  ExpectCurvesMatchGroupOrders<Mont64>(18, 40, 27, 1350, 4);
  ExpectCurvesMatchGroupOrders<Mont64>(22, 34, 47, 2350, 5);
}

// The lazy arithmetic's products: below 2n for inputs below 4n, and congruent
// to Mont64's, up to n just under 2^60 (where 16 n^2 nears 2^64 n).
TEST(Mont64Lazy, ProductsStayBelowTwoNAndAgreeWithMont64) {
  std::mt19937_64 rng(602);
  for (int i = 0; i < 20000; ++i) {
    const int bits = 3 + static_cast<int>(rng() % 58);  // n of 3 ... 60 bits
    uint64_t n = (rng() >> (64 - bits)) | 1 | (uint64_t{1} << (bits - 1));
    if (i % 100 == 0) n = Mont64Lazy::kLimit - 1;
    if (n < 3) continue;
    const Mont64 m(n);
    const Mont64Lazy lazy(m);
    const uint64_t a = rng() % (4 * n), b = rng() % (4 * n);
    const uint64_t p = lazy.Mul(a, b);
    ASSERT_LT(p, 2 * n) << n << ": " << a << " * " << b;
    ASSERT_EQ(p % n, m.Mul(a % n, b % n)) << n << ": " << a << " * " << b;
    const uint64_t c = rng() % (2 * n);
    ASSERT_EQ(lazy.Sub(a % (2 * n), c) % n, m.Sub(a % n, c % n)) << n;
  }
}

// EcmStages on Mont64Lazy gives exactly Mont64's answers (the same residues
// up to multiples of n, so the same gcds in the same order).
TEST(Ecm, LazyStagesGiveMont64sAnswer) {
  std::mt19937_64 rng(603);
  int found = 0;
  for (int i = 0; i < 600; ++i) {
    const int bits = 24 + static_cast<int>(rng() % 36);  // 24 ... 59
    const int a = 10 + static_cast<int>(rng() % static_cast<uint64_t>(bits / 2 - 9));
    const uint64_t n = static_cast<uint64_t>(RandomPrime(rng, a) * RandomPrime(rng, bits - a));
    if (n >= Mont64Lazy::kLimit) continue;
    const Mont64 m(n);
    const EcmLevel& level = GetEcmLevel(static_cast<int>(rng() % 10));
    uint64_t a24[2], x0[2];
    if (ecm_internal::SuyamaCurves<Mont64, 2>(m, 7 + rng() % 500, a24, x0) != 1) continue;
    const uint64_t full = EcmStages<Mont64, 2>(m, a24, x0, level);
    const uint64_t lazy = EcmStages<Mont64Lazy, 2>(Mont64Lazy(m), a24, x0, level);
    ASSERT_EQ(lazy, full) << n << " at B1 " << level.b1;
    found += full != 0;
  }
  EXPECT_GE(found, 100);
}

// The IFMA kernel's arithmetic is lazy (values up to 4n in 52-bit limbs) and
// its answers must be those of the scalar code on the same eight curves: both
// find a factor or neither does, the factor is proper, and it is the same one
// but where a degenerate batch scans its lanes in another order. Moduli of 20
// to 64 bits (the top of the range stresses the bounds), two or three prime
// factors, every level up to B1 = 1000 (d = 60 and d = 210).
TEST(Ecm, IfmaLanesGiveTheScalarAnswer) {
  if (!HaveIfma()) GTEST_SKIP() << "this CPU has no AVX-512 IFMA";
  std::mt19937_64 rng(20261203);
  int found = 0, same = 0, total = 0;
  for (int i = 0; i < 1500; ++i) {
    const int bits = 20 + static_cast<int>(rng() % 45);  // 20 ... 64
    uint64_t n;
    if (i % 50 == 0) {
      n = 4294967291ull * 4294967279ull;    // the two largest 32-bit primes: n near 2^64
    } else if (i % 3 == 0 && bits >= 30) {  // three factors, the smallest of 7 ... bits/3 bits
      const int a = 7 + static_cast<int>(rng() % static_cast<uint64_t>(bits / 3 - 6));
      n = static_cast<uint64_t>(RandomPrime(rng, a) * RandomPrime(rng, a) *
                                RandomPrime(rng, bits - 2 * a));
    } else {  // two factors, the smaller of 10 ... bits/2 bits
      const int a = 10 + static_cast<int>(rng() % static_cast<uint64_t>(bits / 2 - 9));
      n = static_cast<uint64_t>(RandomPrime(rng, a) * RandomPrime(rng, bits - a));
    }
    const Mont64 m(n);
    const EcmLevel& level = GetEcmLevel(static_cast<int>(rng() % 12));
    const uint64_t sigma = 7 + rng() % 1000;
    const uint64_t scalar = EcmCurves<Mont64, kIfmaLanes>(m, sigma, level);
    const uint64_t lanes = EcmCurvesIfma(m, sigma, level);
    ++total;
    const std::string where =
        std::to_string(n) + ", sigma " + std::to_string(sigma) + ", B1 " + std::to_string(level.b1);
    ASSERT_EQ(scalar == 0, lanes == 0) << where;
    if (lanes != 0) {
      ++found;
      EXPECT_TRUE(lanes > 1 && lanes < n && n % lanes == 0) << where << ": " << lanes;
    }
    same += scalar == lanes;
  }
  EXPECT_GE(found, total / 2);
  EXPECT_GE(same, total * 99 / 100);
}

TEST(Ecm, TwoLimbCurvesMatchGroupOrdersFromGp) {
  ExpectCurvesMatchGroupOrders<Mont128>(28, 66, 300, 15000, 4);
}

// Random numbers of every size 1..128 bits, constructed semiprimes and
// powers, all checked factor-by-factor against gp.
TEST(Oracle, AgreesWithPariOnSeededInputs) { ExpectAgreesWithGp(MixedInputs(20261123, 1)); }

}  // namespace
}  // namespace zfactor::math::small
