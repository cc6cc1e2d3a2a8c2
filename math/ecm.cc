#include "math/ecm.h"

#include <ecm.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "math/ecm_lanes.h"

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

// The curve of curve number `sigma`: parameter t of ecm_lanes.h, which is
// libecm's parametrization 1 with sigma 64 t.
uint32_t Parameter(uint64_t sigma) {
  return static_cast<uint32_t>(sigma % ecm_lanes::kMaxParameter) + 1;
}

// Runs libecm on `curve`, with p's curve and starting point already set, and
// returns the proper factor it found. libecm polls StopAsap throughout, but
// for its batch stage 1.
std::optional<mpz_class> RunLibecm(const mpz_class& n, double b1, ecm_params_ptr p,
                                   const Curve& curve) {
  p->method = ECM_ECM;
  // Not libecm's special arithmetic for n of the form 2^k +- c: it is not
  // thread-safe. Curves on two threads aborted inside it (an assertion in
  // its Schoenhage-Strassen code, and heap-use-after-free under ASan) on
  // 2^128 + 1 in client_tests.
  p->repr = ECM_MOD_NOBASE2;
  p->stop_asap = StopAsap;
  const Curve saved = tl_curve;
  tl_curve = curve;
  mpz_class f;
  const int rc = ecm_factor(f.get_mpz_t(), const_cast<mpz_ptr>(n.get_mpz_t()), b1, p);
  tl_curve = saved;
  if (rc <= 0 || f <= 1 || f >= n) return std::nullopt;
  return f;
}

// Both stages in libecm.
std::optional<mpz_class> RunCurve(const mpz_class& n, double b1, uint64_t sigma,
                                  const Curve& curve) {
  if (curve.job->Stopped()) return std::nullopt;
  EcmParams params;
  ecm_params_ptr p = params.get();
  // libecm's batch stage 1 (parametrization 1, ~1.4x faster) never polls
  // stop_asap; the classic one (Suyama, parametrization 0) polls it
  // throughout. Batch only where stage 1 is short enough to wait for.
  const double limbs = static_cast<double>(mpz_size(n.get_mpz_t()));
  if (b1 * limbs * limbs <= kBatchStage1Work) {
    p->param = ECM_PARAM_BATCH_SQUARE;
    mpz_set_ui(p->sigma, 64ul * Parameter(sigma));
  } else {
    p->param = ECM_PARAM_SUYAMA;
    mpz_set_ui(p->sigma, static_cast<unsigned long>(sigma % ((1ul << 32) - 2) + 2));
  }
  return RunLibecm(n, b1, p, curve);
}

// libecm's stage 2 from the lanes' stage 1 of the curve of parameter t.
std::optional<mpz_class> FinishCurve(const mpz_class& n, double b1, uint32_t t,
                                     const ecm_lanes::Stage1Result& stage1, const Curve& curve) {
  if (stage1.factor > 1) return stage1.factor;
  if (stage1.x == 0 || curve.job->Stopped()) return std::nullopt;
  EcmParams params;
  ecm_params_ptr p = params.get();
  p->sigma_is_A = 1;
  mpz_set(p->sigma, ecm_lanes::CurveA(n, t).get_mpz_t());
  mpz_set(p->x, stage1.x.get_mpz_t());
  p->B1done = b1;
  return RunLibecm(n, b1, p, curve);
}

// B2 / B1 of the lanes' stage 2 (ecm_lanes.h): GMP-ECM's -v estimates put the
// expected time to a 35-digit factor lowest near 50-100 for this machine's
// costs (docs/PERFORMANCE.md).
constexpr double kLaneStage2Ratio = 100;

// Whether the lanes run stage 2 at b1 (else libecm does, at its default B2).
bool LaneStage2(double b1) {
  return b1 >= 1155 && b1 * kLaneStage2Ratio <= ecm_lanes::Stage2Plan::kMaxStage2Bound;
}

// Curves in lanes: stage 1 in lanes, stage 2 in lanes too with a plan (for
// B2 = kLaneStage2Ratio B1), else in libecm one curve at a time.
class LaneCurves {
 public:
  // k: ecm_lanes::Stage1Multiplier(b1). n, k and plan must outlive this;
  // libecm takes n non-const, so no other thread may use this n.
  LaneCurves(const mpz_class& n, double b1, const mpz_class& k, const ecm_lanes::Stage2Plan* plan)
      : n_(n), b1_(b1), k_(k), plan_(plan) {}

  // Runs stage 1, and stage 2 where the lanes do it, on the curves with
  // sigmas first .. first + count - 1 (count <= kLanes); false if the job
  // stopped them.
  bool Run(uint64_t first, int count, const Job& job) {
    for (int i = 0; i < count; ++i) t_[i] = Parameter(first + static_cast<uint64_t>(i));
    if (!ecm_lanes::Stage1(n_, k_, t_, count, job, stage1_)) return false;
    if (plan_ == nullptr) return true;
    mpz_class x[ecm_lanes::kLanes];  // 0 where stage 1 found a factor: Stage2 skips those
    for (int i = 0; i < count; ++i) x[i] = stage1_[i].x;
    return ecm_lanes::Stage2(n_, *plan_, t_, x, count, job, stage2_);
  }

  // Curve i's factor: from Run's stages, or from libecm's stage 2.
  std::optional<mpz_class> Finish(int i, const Curve& curve) const {
    if (stage1_[i].factor > 1) return stage1_[i].factor;
    if (plan_ != nullptr) {
      if (stage2_[i] > 1) return stage2_[i];
      return std::nullopt;
    }
    return FinishCurve(n_, b1_, t_[i], stage1_[i], curve);
  }

 private:
  const mpz_class& n_;
  const double b1_;
  const mpz_class& k_;
  const ecm_lanes::Stage2Plan* plan_;
  uint32_t t_[ecm_lanes::kLanes] = {};
  ecm_lanes::Stage1Result stage1_[ecm_lanes::kLanes];
  mpz_class stage2_[ecm_lanes::kLanes];
};

// What the lanes need for a level at b1, built once and shared by threads.
struct LaneLevel {
  explicit LaneLevel(double b1) : k(ecm_lanes::Stage1Multiplier(b1)) {
    if (LaneStage2(b1)) plan.emplace(b1, b1 * kLaneStage2Ratio);
  }
  const ecm_lanes::Stage2Plan* Plan() const { return plan ? &*plan : nullptr; }
  mpz_class k;
  std::optional<ecm_lanes::Stage2Plan> plan;
};

}  // namespace

int LevelCurves(const mpz_class& n, const EcmLevel& level) {
  return ecm_lanes::Available(n) && LaneStage2(level.b1) ? level.lane_curves : level.curves;
}

std::optional<mpz_class> EcmCurve(const mpz_class& n, double b1, uint64_t sigma, const Job& job) {
  const Curve curve{&job, nullptr, 0};
  if (!ecm_lanes::Available(n)) return RunCurve(n, b1, sigma, curve);
  const LaneLevel level(b1);
  LaneCurves lanes(n, b1, level.k, level.Plan());
  if (!lanes.Run(sigma, 1, job)) return std::nullopt;
  return lanes.Finish(0, curve);
}

std::optional<mpz_class> EcmCurves(const mpz_class& n, double b1, int curves, int threads,
                                   uint64_t* next_sigma, const Job& job, int* curves_run) {
  // Curve i has sigma first + i, whichever thread runs it. Threads take
  // batches of curves: one curve for libecm alone, a vector of them for the
  // lanes, whose stage 2 runs in the lanes too or, in libecm, one curve after
  // the other. A factor from curve
  // i stops the curves after i (libecm polls StopAsap), but the curves before
  // i run to their end, and the factor of the lowest such curve is the
  // answer: the same as one thread running them in order.
  const bool use_lanes = ecm_lanes::Available(n);
  const int batch = use_lanes ? ecm_lanes::kLanes : 1;
  std::optional<LaneLevel> level;
  if (use_lanes) level.emplace(b1);
  const uint64_t first = *next_sigma;
  std::atomic<int> next{0};
  std::atomic<int> winner{curves};  // lowest curve index with a factor so far
  std::mutex mu;                    // guards `found` and serialises progress reports
  std::optional<mpz_class> found;
  int done = 0;  // GUARDED_BY(mu)
  auto run = [&] {
    const mpz_class own_n = n;  // libecm takes n non-const: no thread shares it
    std::optional<LaneCurves> lanes;
    if (use_lanes) lanes.emplace(own_n, b1, level->k, level->Plan());
    for (int i = next.fetch_add(batch); i < winner.load() && !job.Stopped();
         i = next.fetch_add(batch)) {
      const int count = std::min(batch, curves - i);
      if (lanes && !lanes->Run(first + static_cast<uint64_t>(i), count, job)) break;
      for (int c = i; c < i + count && c < winner.load(); ++c) {
        const Curve curve{&job, &winner, c};
        auto d = lanes ? lanes->Finish(c - i, curve)
                       : RunCurve(own_n, b1, first + static_cast<uint64_t>(c), curve);
        std::lock_guard<std::mutex> lock(mu);
        ++done;
        job.Progress("ecm", static_cast<double>(done) / curves);
        if (d && c < winner.load()) {
          winner.store(c);
          found = std::move(d);
        }
      }
    }
  };
  std::vector<std::thread> pool;
  const int batches = (curves + batch - 1) / batch;
  for (int t = 1; t < std::min(threads, batches); ++t) pool.emplace_back(run);
  run();
  for (std::thread& t : pool) t.join();
  const int w = winner.load();
  *curves_run = found ? w + 1 : done;
  *next_sigma = first + static_cast<uint64_t>(*curves_run);
  return found;
}

}  // namespace zfactor::math
