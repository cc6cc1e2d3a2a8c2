#include "math/ecm.h"

#include <ecm.h>

namespace zfactor::math {
namespace {

// B1 x (limbs of n)^2 up to which the batch stage 1 is used: about 0.25 s of
// stage 1 on this machine (24 ms at B1 = 5e4 on 5 limbs).
constexpr double kBatchStage1Work = 1.3e7;

// libecm's stop callback takes no argument: the job being run by this thread.
thread_local const Job* tl_job = nullptr;

int StopAsap() { return tl_job != nullptr && tl_job->Stopped() ? 1 : 0; }

// RAII for libecm's parameter block.
class EcmParams {
 public:
  EcmParams() { ecm_init(p_); }
  ~EcmParams() { ecm_clear(p_); }
  EcmParams(const EcmParams&) = delete;
  EcmParams& operator=(const EcmParams&) = delete;
  ecm_params_ptr get() { return p_; }

 private:
  ecm_params p_;
};

}  // namespace

std::optional<mpz_class> EcmCurve(const mpz_class& n, double b1, uint64_t sigma, const Job& job) {
  if (job.Stopped()) return std::nullopt;
  EcmParams params;
  ecm_params_ptr p = params.get();
  p->method = ECM_ECM;
  // libecm's batch stage 1 (parametrization 1, ~1.4x faster) never polls
  // stop_asap; the classic one (Suyama, parametrization 0) polls it
  // throughout. Batch only where stage 1 is short enough to wait for.
  const double limbs = static_cast<double>(mpz_size(n.get_mpz_t()));
  p->param = b1 * limbs * limbs <= kBatchStage1Work ? 1 : 0;
  mpz_set_ui(p->sigma, static_cast<unsigned long>(sigma % ((1ul << 32) - 2) + 2));
  p->stop_asap = StopAsap;
  const Job* saved = tl_job;
  tl_job = &job;
  mpz_class f;
  const int rc = ecm_factor(f.get_mpz_t(), const_cast<mpz_ptr>(n.get_mpz_t()), b1, p);
  tl_job = saved;
  if (rc <= 0 || f <= 1 || f >= n) return std::nullopt;
  return f;
}

std::optional<mpz_class> EcmCurves(const mpz_class& n, double b1, int curves, uint64_t* next_sigma,
                                   const Job& job, int* curves_run) {
  *curves_run = 0;
  for (int i = 0; i < curves && !job.Stopped(); ++i) {
    auto d = EcmCurve(n, b1, (*next_sigma)++, job);
    ++*curves_run;
    job.Progress("ecm", static_cast<double>(i + 1) / curves);
    if (d) return d;
  }
  return std::nullopt;
}

}  // namespace zfactor::math
