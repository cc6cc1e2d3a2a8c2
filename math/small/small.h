// The word-size factoring core: primality and complete factorization of
// integers below 2^64 and 2^128 in machine arithmetic (Montgomery form),
// without GMP. The strategy per size (see factor_small.cc): trial division by
// sieved primes, perfect powers, BPSW, then Pollard-Brent rho for small
// factors, micro-ECM for the rest, and for two-limb numbers whose factors
// resist a few curves a small quadratic sieve (tiny_qs.h).
//
// Deterministic: fixed seeds and curve parameters, so every run gives the same
// answers in the same time. Thread-safe: no mutable shared state.
#ifndef ZFACTOR_MATH_SMALL_SMALL_H_
#define ZFACTOR_MATH_SMALL_SMALL_H_

#include <cstdint>
#include <vector>

#include "math/factor.h"
#include "math/small/int128.h"

namespace zfactor::math::small {

// Exact for every n < 2^64 (BPSW has no counterexample in that range).
bool IsPrime64(uint64_t n);

// BPSW on two-limb numbers: exact for n < 2^64, probable prime above.
bool IsProbablePrime128(u128 n);

// Appends the prime factors of n, with multiplicity, ascending, to *out.
// REQUIRES: n >= 1 (n == 1 appends nothing).
void Factor64(uint64_t n, std::vector<uint64_t>* out);

// Appends the prime factors of n (each passes BPSW), with multiplicity,
// ascending, to *out. Returns false only when hooks.Cancelled() stopped it;
// *out then holds the primes found so far (ascending) and the caller
// re-derives the cofactor. Polls hooks.Cancelled() between ECM curves and
// sieve polynomials (well under 10 ms apart). REQUIRES: n >= 1.
bool Factor128(u128 n, std::vector<u128>* out, const Hooks& hooks);

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_SMALL_H_
