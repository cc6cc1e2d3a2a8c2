// SIQS polynomials Q(x) = (Ax + B)^2 - kN = A * (Ax^2 + 2Bx + C).
// A is a product of s factor-base primes near sqrt(2kN)/M; the 2^(s-1)
// B values for one A are visited in Gray-code order so each switch costs
// one addition per factor-base prime.
#ifndef ZFACTOR_MATH_SIQS_POLY_H_
#define ZFACTOR_MATH_SIQS_POLY_H_

#include <gmpxx.h>

#include <cstdint>
#include <vector>

#include "math/siqs/factor_base.h"

namespace zfactor::math::siqs {

struct APoly {
  mpz_class a;
  std::vector<uint32_t> factors;   // factor-base indices of A's primes
  std::vector<mpz_class> b_terms;  // B_j with B_j^2 = kN mod q_j, B_j = 0 mod A/q_j
};

// Picks A deterministically from (seed, index): read-only, shared by threads.
class ASelector {
 public:
  ASelector(const FactorBase& fb, uint32_t half_width);
  APoly Make(uint64_t seed, uint64_t index) const;
  uint32_t num_factors() const { return s_; }

 private:
  const FactorBase& fb_;
  mpz_class target_;
  uint32_t s_ = 1;
  uint32_t lo_ = 0, hi_ = 0;  // index range for the s-1 random primes
};

// One thread's current polynomial: B, C and the sieve roots of every sieved prime.
class PolyState {
 public:
  PolyState(const FactorBase& fb, uint32_t half_width);
  // Starts the first B polynomial of `a`.
  void StartA(const APoly& a);
  // Number of B polynomials for the current A.
  uint32_t NumB() const { return 1u << (a_.factors.size() - 1); }
  // Advances to B polynomial i (1 <= i < NumB(), called in order).
  void NextB(uint32_t i);

  const APoly& a() const { return a_; }
  const mpz_class& b() const { return b_; }
  const mpz_class& c() const { return c_; }
  uint32_t half_width() const { return m_; }
  // Sieve offsets (x + M) mod p of the two roots; logp is 0 for A's primes.
  const std::vector<uint32_t>& root1() const { return root1_; }
  const std::vector<uint32_t>& root2() const { return root2_; }
  const std::vector<uint8_t>& logp() const { return logp_; }
  bool IsAFactor(uint32_t i) const { return logp_[i] == 0; }
  size_t bytes() const;

 private:
  const FactorBase& fb_;
  uint32_t m_;
  APoly a_;
  mpz_class b_, c_;
  std::vector<int> sign_;
  std::vector<uint32_t> root1_, root2_;
  std::vector<uint32_t> bainv_;  // [j * fb.size() + i] = 2 B_j / A mod p_i
  std::vector<uint8_t> logp_;
};

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_POLY_H_
