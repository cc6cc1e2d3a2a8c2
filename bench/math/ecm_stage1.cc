#include "bench/math/ecm_stage1.h"

#include <ecm.h>
#include <gmpxx.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "bench/math/cpu_time.h"
#include "math/ecm_lanes.h"
#include "math/job.h"

namespace zfactor::math {
namespace {

// A product of two primes of bits / 2 bits, seeded.
mpz_class Semiprime(int bits) {
  gmp_randclass rng(gmp_randinit_default);
  rng.seed(static_cast<unsigned long>(bits));
  mpz_class n;
  do {
    mpz_class p = rng.get_z_bits(bits / 2), q = rng.get_z_bits(bits - bits / 2);
    mpz_nextprime(p.get_mpz_t(), p.get_mpz_t());
    mpz_nextprime(q.get_mpz_t(), q.get_mpz_t());
    n = p * q;
  } while (mpz_sizeinbase(n.get_mpz_t(), 2) != static_cast<size_t>(bits));
  return n;
}

// libecm on one curve: stage 1 only (x_out gets its point) when x_in is null,
// else stage 2 only, from x_in on the curve of A. Returns the factor found,
// or 0.
mpz_class Libecm(const mpz_class& n, double b1, uint32_t t, const mpz_class* x_in,
                 mpz_class* x_out) {
  ecm_params p;
  ecm_init(p);
  if (x_in == nullptr) {
    p->param = ECM_PARAM_BATCH_SQUARE;
    mpz_set_ui(p->sigma, 64ul * t);
    mpz_set_d(p->B2, b1);
  } else {
    p->sigma_is_A = 1;
    mpz_set(p->sigma, ecm_lanes::CurveA(n, t).get_mpz_t());
    mpz_set(p->x, x_in->get_mpz_t());
    p->B1done = b1;
  }
  mpz_class f;
  if (ecm_factor(f.get_mpz_t(), const_cast<mpz_ptr>(n.get_mpz_t()), b1, p) <= 0) f = 0;
  if (x_out != nullptr) *x_out = mpz_class(p->x);
  ecm_clear(p);
  return f;
}

}  // namespace

bool EcmStage1Rows() {
  const int kBits[] = {150, 200, 292, 330, 400, 510};
  const double kB1[] = {5e4, 25e4};
  const Budget budget;
  const Hooks hooks;
  const Job job(budget, hooks);
  std::printf(
      "| n bits | B1 | lanes: stage 1 ms/curve | libecm: stage 1 ms/curve | lanes faster | libecm "
      "stage 2 (default B2) ms/curve | lanes: stage 2 (B2 = 100 B1) ms/curve "
      "|\n|---|---|---|---|---|---|---|\n");
  bool same = true;
  for (const int bits : kBits) {
    const mpz_class n = Semiprime(bits);
    if (!ecm_lanes::Available(n)) {
      std::printf("no AVX-512 IFMA on this CPU (or ZFACTOR_NO_AVX512 is set)\n");
      return false;
    }
    for (const double b1 : kB1) {
      uint32_t t[ecm_lanes::kLanes];
      for (int l = 0; l < ecm_lanes::kLanes; ++l) t[l] = 1000 + 7 * static_cast<uint32_t>(l);
      ecm_lanes::Stage1Result lanes[ecm_lanes::kLanes];
      const mpz_class k = ecm_lanes::Stage1Multiplier(b1);
      double t0 = ThreadCpuMs();
      ecm_lanes::Stage1(n, k, t, ecm_lanes::kLanes, job, lanes);
      const double lanes_ms = (ThreadCpuMs() - t0) / ecm_lanes::kLanes;
      double libecm_ms = 0, stage2_ms = 0;
      int stage2_runs = 0;
      for (int l = 0; l < ecm_lanes::kLanes; ++l) {
        mpz_class x;
        t0 = ThreadCpuMs();
        const mpz_class f = Libecm(n, b1, t[l], nullptr, &x);
        const double t1 = ThreadCpuMs();
        libecm_ms += t1 - t0;
        // A factor found in stage 1 must be the same; else the point.
        if (f != lanes[l].factor || (f == 0 && x != lanes[l].x)) {
          std::printf("%d bits, B1 %.0f, t %u: the lanes' point differs from libecm's\n", bits, b1,
                      t[l]);
          same = false;
        }
        if (stage2_runs < 2 && f == 0) {  // stage 2 is the same work on every curve
          Libecm(n, b1, t[l], &lanes[l].x, nullptr);
          stage2_ms += ThreadCpuMs() - t1;
          ++stage2_runs;
        }
      }
      libecm_ms /= ecm_lanes::kLanes;
      const ecm_lanes::Stage2Plan plan(b1, 100 * b1);
      mpz_class x[ecm_lanes::kLanes], found[ecm_lanes::kLanes];
      for (int l = 0; l < ecm_lanes::kLanes; ++l) x[l] = lanes[l].x;
      t0 = ThreadCpuMs();
      ecm_lanes::Stage2(n, plan, t, x, ecm_lanes::kLanes, job, found);
      const double lanes_stage2_ms = (ThreadCpuMs() - t0) / ecm_lanes::kLanes;
      std::printf("| %d | %.0f | %.2f | %.2f | %.1fx | %.1f | %.1f |\n", bits, b1, lanes_ms,
                  libecm_ms, libecm_ms / lanes_ms, stage2_ms / std::max(1, stage2_runs),
                  lanes_stage2_ms);
      std::fflush(stdout);
    }
  }
  std::printf(same ? "every lane's point equals libecm's\n" : "POINTS DIFFER\n");
  return same;
}

}  // namespace zfactor::math
