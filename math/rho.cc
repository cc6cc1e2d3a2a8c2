#include "math/rho.h"

namespace zfactor::math {

std::optional<mpz_class> PollardRho(const mpz_class& n, unsigned long c, uint64_t max_iterations,
                                    const Job& job) {
  constexpr uint64_t kBatch = 128;  // steps between gcds (and cancel polls)
  mpz_class y = 2, x, ys, q = 1, g = 1, t;
  const mpz_ptr N = const_cast<mpz_ptr>(n.get_mpz_t());
  auto step = [&](mpz_class& z) {
    mpz_mul(z.get_mpz_t(), z.get_mpz_t(), z.get_mpz_t());
    mpz_add_ui(z.get_mpz_t(), z.get_mpz_t(), c);
    mpz_mod(z.get_mpz_t(), z.get_mpz_t(), N);
  };
  uint64_t done = 0;
  for (uint64_t r = 1; g == 1; r *= 2) {
    x = y;
    for (uint64_t i = 0; i < r; ++i) step(y);
    for (uint64_t k = 0; k < r && g == 1; k += kBatch) {
      if (job.Stopped() || done >= max_iterations) return std::nullopt;
      ys = y;
      const uint64_t m = std::min(kBatch, r - k);
      for (uint64_t i = 0; i < m; ++i) {
        step(y);
        t = x - y;
        mpz_mul(q.get_mpz_t(), q.get_mpz_t(), t.get_mpz_t());
        mpz_mod(q.get_mpz_t(), q.get_mpz_t(), N);
      }
      done += m;
      mpz_gcd(g.get_mpz_t(), q.get_mpz_t(), N);
    }
  }
  if (g == n) {  // the batch overshot: retrace it one step at a time
    do {
      step(ys);
      t = x - ys;
      mpz_gcd(g.get_mpz_t(), t.get_mpz_t(), N);
    } while (g == 1);
  }
  if (g == n) return std::nullopt;
  return g;
}

}  // namespace zfactor::math
