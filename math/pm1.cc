#include "math/pm1.h"

#include <cmath>
#include <vector>

#include "math/trial.h"

namespace zfactor::math {
namespace {

constexpr unsigned kStage1Batch = 4096;  // exponent bits per powm (and per stop poll)
constexpr unsigned kStage2Batch = 2048;  // primes per gcd in stage 2 (and per stop poll)
constexpr uint32_t kMaxGap = 512;         // table of x^gap for prime gaps up to this

// A gcd of n means every prime factor turned up at once: no split.
std::optional<mpz_class> Split(const mpz_class& g, const mpz_class& n) {
  if (g > 1 && g < n) return g;
  return std::nullopt;
}

}  // namespace

std::optional<mpz_class> PollardPm1(const mpz_class& n, uint32_t b1, uint32_t b2, const Job& job) {
  const std::vector<uint32_t> primes = SievePrimes(b2 + 1);
  const mpz_srcptr N = n.get_mpz_t();
  mpz_class x = 3, g, e = 1;
  // Stage 1: x = 3^E with E the product of the largest powers p^k <= b1.
  size_t i = 0;
  for (; i < primes.size() && primes[i] <= b1; ++i) {
    uint64_t q = primes[i];
    while (q * primes[i] <= b1) q *= primes[i];
    mpz_mul_ui(e.get_mpz_t(), e.get_mpz_t(), static_cast<unsigned long>(q));
    if (mpz_sizeinbase(e.get_mpz_t(), 2) >= kStage1Batch) {
      if (job.Stopped()) return std::nullopt;
      mpz_powm(x.get_mpz_t(), x.get_mpz_t(), e.get_mpz_t(), N);
      e = 1;
    }
  }
  mpz_powm(x.get_mpz_t(), x.get_mpz_t(), e.get_mpz_t(), N);
  g = x - 1;
  mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), N);
  if (g != 1) return Split(g, n);

  // Stage 2: for each prime q in (b1, b2], accumulate (x^q - 1); x^q is
  // stepped from the previous prime's power by a table of x^gap.
  if (i >= primes.size()) return std::nullopt;
  std::vector<mpz_class> step(kMaxGap / 2 + 1);
  mpz_class x2;
  mpz_powm_ui(x2.get_mpz_t(), x.get_mpz_t(), 2, N);
  step[1] = x2;
  for (size_t k = 2; k < step.size(); ++k) {
    step[k] = step[k - 1] * x2;
    mpz_mod(step[k].get_mpz_t(), step[k].get_mpz_t(), N);
  }
  mpz_class y, acc = 1, t;
  const size_t first = i;
  mpz_powm_ui(y.get_mpz_t(), x.get_mpz_t(), primes[first], N);
  for (size_t j = first; j < primes.size(); ++j) {
    if (j > first) {
      const uint32_t gap = primes[j] - primes[j - 1];
      if (gap <= kMaxGap) {
        y *= step[gap / 2];
      } else {
        mpz_powm_ui(t.get_mpz_t(), x.get_mpz_t(), gap, N);
        y *= t;
      }
      mpz_mod(y.get_mpz_t(), y.get_mpz_t(), N);
    }
    t = y - 1;
    acc *= t;
    mpz_mod(acc.get_mpz_t(), acc.get_mpz_t(), N);
    if ((j - first) % kStage2Batch == kStage2Batch - 1 || j + 1 == primes.size()) {
      mpz_gcd(g.get_mpz_t(), acc.get_mpz_t(), N);
      if (g != 1) return Split(g, n);
      if (job.Stopped()) return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace zfactor::math
