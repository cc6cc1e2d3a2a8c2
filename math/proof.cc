#include "math/proof.h"

#include <algorithm>

#include "math/trial.h"

namespace zfactor::math {
namespace {

// True when x >= 0 is a perfect square.
bool IsSquare(const mpz_class& x) { return x >= 0 && mpz_perfect_square_p(x.get_mpz_t()) != 0; }

// Pocklington's condition for the prime q | n-1: some base a with
// a^(n-1) = 1 (mod n) and gcd(a^((n-1)/q) - 1, n) = 1.
bool PocklingtonWitness(const mpz_class& n, const mpz_class& q) {
  const mpz_class nm1 = n - 1;
  const mpz_class e = nm1 / q;
  mpz_class b, g, full;
  for (uint32_t a : SmallPrimes()) {
    if (a > 200) break;
    const mpz_class base = a;
    mpz_powm(b.get_mpz_t(), base.get_mpz_t(), e.get_mpz_t(), n.get_mpz_t());
    mpz_powm(full.get_mpz_t(), b.get_mpz_t(), q.get_mpz_t(), n.get_mpz_t());
    if (full != 1) return false;  // n is not prime after all
    g = b - 1;
    mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), n.get_mpz_t());
    if (g == 1) return true;
    if (g != n) return false;  // a factor of n: not prime
  }
  return false;
}

}  // namespace

bool ProvePrimeNminus1(const mpz_class& n, const Job& job) {
  if (mpz_sizeinbase(n.get_mpz_t(), 10) > kProofMaxDigits || job.Stopped()) return false;
  Budget budget;
  // Nested proofs (of the primes in n-1) share this deadline.
  budget.max_seconds = std::min(kProofSeconds, job.SecondsLeft());
  if (budget.max_seconds <= 0) return false;
  budget.ecm_max_b1 = 11e3;
  budget.use_siqs = false;
  budget.seed = job.budget().seed;
  const mpz_class nm1 = n - 1;
  // Cancel and proof of life carry over; factors and progress of n - 1 are
  // not n's, so the caller's reporting hooks do not.
  Hooks hooks;
  hooks.cancel = job.hooks().cancel;
  hooks.polls = job.hooks().polls;
  const Factorization f = Factor(nm1, budget, hooks);
  if (f.cancelled) return false;

  mpz_class F = 1;
  for (const PrimeFactor& pf : f.factors) {
    if (pf.certainty != Certainty::kProven) continue;
    if (!PocklingtonWitness(n, pf.p)) return false;
    mpz_class power;
    mpz_pow_ui(power.get_mpz_t(), pf.p.get_mpz_t(), pf.exponent);
    F *= power;
  }
  // Every prime factor of n is now 1 mod F.
  const mpz_class F2 = F * F;
  if (F2 > n) return true;
  if (F2 * F <= n) return false;
  // n composite => n = (aF+1)(bF+1) with ab < F, a+b <= F, and
  // (n-1)/F = ab F + (a+b) = c2 F + c1, so (a+b, ab) is (c1, c2) or (c1+F, c2-1).
  const mpz_class R = nm1 / F;
  const mpz_class c2 = R / F, c1 = R % F;
  if (IsSquare(c1 * c1 - 4 * c2)) return false;
  if (c2 >= 1 && IsSquare((c1 + F) * (c1 + F) - 4 * (c2 - 1))) return false;
  return true;
}

}  // namespace zfactor::math
