// Test helpers: seeded inputs and PARI/GP (the independent oracle) driven
// through one `gp` process per batch.
#ifndef ZFACTOR_TESTS_MATH_SMALL_ORACLE_H_
#define ZFACTOR_TESTS_MATH_SMALL_ORACLE_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "math/small/int128.h"

namespace zfactor::math::small::testing {

// What gp says about one number.
struct GpAnswer {
  bool is_prime = false;        // isprime(n): proven
  bool is_pseudoprime = false;  // ispseudoprime(n): BPSW
  std::vector<u128> factors;    // factor(n), with multiplicity, ascending
};

// Runs gp once over all numbers. Returns false (with *error set) when gp is
// missing or its output cannot be parsed.
bool AskGp(const std::vector<u128>& numbers, std::vector<GpAnswer>* answers, std::string* error);

// The order of the starting point of the ECM curve with Suyama's parameter
// sigma modulo the prime p (ecm.h's parameterisation), factored by gp.
struct SuyamaQuery {
  u128 p;
  uint64_t sigma;
};
struct PrimePower {
  u128 prime;
  int exponent;
};
bool AskGpSuyamaOrders(const std::vector<SuyamaQuery>& queries,
                       std::vector<std::vector<PrimePower>>* orders, std::string* error);

// A uniformly random number with exactly `bits` bits (bits in 1..128).
u128 RandomBits(std::mt19937_64& rng, int bits);
// A random BPSW-prime with exactly `bits` bits (bits in 2..128).
u128 RandomPrime(std::mt19937_64& rng, int bits);

// Seeded test inputs: `scale` x 8 random numbers of each size 1..128 bits,
// semiprimes (word-size, two-limb with a small factor, and `scale` x 2
// balanced ones of 66..128 bits), prime powers, and numbers around 2^32 and 2^64.
std::vector<u128> MixedInputs(uint64_t seed, int scale);

// Asks gp about every number and checks Factor128 (and Factor64 below 2^64)
// factor by factor, IsProbablePrime128 against ispseudoprime and IsPrime64
// against isprime. Fails (never skips) when gp is missing.
void ExpectAgreesWithGp(const std::vector<u128>& numbers);

// Checks IsPrime64(n) against a sieve of Eratosthenes for every n < limit.
void ExpectIsPrime64MatchesSieve(uint32_t limit);

}  // namespace zfactor::math::small::testing

#endif  // ZFACTOR_TESTS_MATH_SMALL_ORACLE_H_
