#include "math/ecm.h"

#include <ecm.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace zfactor::math {
namespace {

// B1 x (limbs of n)^2 up to which the batch stage 1 is used: about 0.25 s of
// stage 1 on this machine (24 ms at B1 = 5e4 on 5 limbs).
constexpr double kBatchStage1Work = 1.3e7;

// What libecm's stop callback (it takes no argument) asks about the curve
// this thread runs: its job, and, among curves run in parallel, whether a
// lower-numbered curve already found a factor, which makes this one moot.
struct Curve {
  const Job* job = nullptr;
  const std::atomic<int>* winner = nullptr;  // lowest curve index with a factor, or null
  int index = 0;
};
thread_local Curve tl_curve;

int StopAsap() {
  const Curve& c = tl_curve;
  if (c.winner != nullptr && c.winner->load(std::memory_order_relaxed) < c.index) return 1;
  return c.job != nullptr && c.job->Stopped() ? 1 : 0;
}

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

std::optional<mpz_class> RunCurve(const mpz_class& n, double b1, uint64_t sigma,
                                  const Curve& curve) {
  const Job& job = *curve.job;
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
  const Curve saved = tl_curve;
  tl_curve = curve;
  mpz_class f;
  const int rc = ecm_factor(f.get_mpz_t(), const_cast<mpz_ptr>(n.get_mpz_t()), b1, p);
  tl_curve = saved;
  if (rc <= 0 || f <= 1 || f >= n) return std::nullopt;
  return f;
}

}  // namespace

std::optional<mpz_class> EcmCurve(const mpz_class& n, double b1, uint64_t sigma, const Job& job) {
  return RunCurve(n, b1, sigma, Curve{&job, nullptr, 0});
}

std::optional<mpz_class> EcmCurves(const mpz_class& n, double b1, int curves, int threads,
                                   uint64_t* next_sigma, const Job& job, int* curves_run) {
  // Curve i has sigma first + i, whichever thread runs it. A factor from curve
  // i stops the curves after i (libecm polls StopAsap), but the curves before
  // i run to their end, and the factor of the lowest such curve is the
  // answer: the same as one thread running them in order.
  const uint64_t first = *next_sigma;
  std::atomic<int> next{0};
  std::atomic<int> winner{curves};  // lowest curve index with a factor so far
  std::mutex mu;                    // guards `found` and serialises progress reports
  std::optional<mpz_class> found;
  int done = 0;  // GUARDED_BY(mu)
  auto run = [&] {
    const mpz_class own_n = n;  // libecm takes n non-const: no thread shares it
    for (int i = next.fetch_add(1); i < winner.load() && !job.Stopped(); i = next.fetch_add(1)) {
      auto d = RunCurve(own_n, b1, first + static_cast<uint64_t>(i), Curve{&job, &winner, i});
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      job.Progress("ecm", static_cast<double>(done) / curves);
      if (d && i < winner.load()) {
        winner.store(i);
        found = std::move(d);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min(threads, curves); ++t) pool.emplace_back(run);
  run();
  for (std::thread& t : pool) t.join();
  const int w = winner.load();
  *curves_run = found ? w + 1 : done;
  *next_sigma = first + static_cast<uint64_t>(*curves_run);
  return found;
}

}  // namespace zfactor::math
