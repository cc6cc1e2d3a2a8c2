// The SIQS driver: per-number setup, multi-threaded sieving by A index,
// then filtering, linear algebra and square roots until n splits.
#include "math/siqs/siqs.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

#include "math/siqs/factor_base.h"
#include "math/siqs/filter.h"
#include "math/siqs/linalg.h"
#include "math/siqs/params.h"
#include "math/siqs/poly.h"
#include "math/siqs/relations.h"
#include "math/siqs/sieve.h"
#include "math/siqs/sqrt.h"
#include "math/siqs/tdiv.h"

namespace zfactor::math::siqs {
namespace {

constexpr int kMinDigits = 18;
constexpr int kMaxDigits = 125;
constexpr uint32_t kExcess = 64;

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int Digits(const mpz_class& n) { return static_cast<int>(n.get_str().size()); }

// True once the caller cancelled or the deadline has passed.
bool Stopped(const Options& options, const Hooks& hooks) {
  return hooks.Cancelled() || (options.deadline && Clock::now() >= *options.deadline);
}

// Everything about one number that the sieving threads share read-only.
struct Setup {
  Params params;
  FactorBase fb;
  uint32_t half_width = 0;
  uint8_t threshold = 0;
  uint64_t lp_bound = 0;
  uint64_t double_bound = 0;  // 0: no double large primes
  std::unique_ptr<ASelector> selector;
};

// Cheap checks before sieving. Returns true when n is settled without
// sieving: *factor then holds a factor (even n, perfect powers) or stays
// empty (n < 4, primes, sizes outside [kMinDigits, kMaxDigits]).
bool Screen(const mpz_class& n, std::optional<mpz_class>* factor) {
  if (n < 4) return true;
  if (mpz_even_p(n.get_mpz_t())) {
    *factor = 2;
    return true;
  }
  if (mpz_perfect_power_p(n.get_mpz_t())) {
    mpz_class root;
    for (unsigned long e = 2; e < mpz_sizeinbase(n.get_mpz_t(), 2); ++e) {
      if (mpz_root(root.get_mpz_t(), n.get_mpz_t(), e)) {
        *factor = root;
        return true;
      }
    }
  }
  if (mpz_probab_prime_p(n.get_mpz_t(), 30) > 0) return true;
  const int digits = Digits(n);
  return digits < kMinDigits || digits > kMaxDigits;
}

// Builds the setup; a small factor found on the way goes to *divisor.
std::unique_ptr<Setup> MakeSetup(const mpz_class& n, const Options& options, uint32_t* divisor) {
  auto setup = std::make_unique<Setup>();
  Params& p = setup->params;
  p = ParamsForDigits(Digits(n));
  if (options.fb_size != 0) p.fb_size = std::min(options.fb_size, kMaxFactorBase - 1);
  if (options.blocks != 0) p.blocks = options.blocks;
  if (options.lp_mult != 0) p.lp_mult = options.lp_mult;
  if (options.fudge_bits != 0) p.fudge_bits = options.fudge_bits;
  if (options.small_prime != 0) p.small_prime = options.small_prime;
  if (options.dlp_exponent != 0) p.dlp_exponent = std::max(0.0, options.dlp_exponent);
  const uint32_t k = ChooseMultiplier(n);
  auto fb = BuildFactorBase(n, k, p.fb_size, p.small_prime, divisor);
  if (!fb) return nullptr;
  setup->fb = std::move(*fb);
  setup->half_width = p.blocks * kBlockSize;
  setup->lp_bound = static_cast<uint64_t>(p.lp_mult) * setup->fb.largest();
  // Largest |Q(x)/A| over the interval is about M sqrt(kN/2).
  const double log2_qmax =
      std::log2(static_cast<double>(setup->half_width)) +
      0.5 * (static_cast<double>(mpz_sizeinbase(setup->fb.kn.get_mpz_t(), 2)) - 1.0);
  const double log2_lp = std::log2(static_cast<double>(setup->lp_bound));
  if (p.dlp_exponent > 1) {
    setup->double_bound =
        static_cast<uint64_t>(std::exp2(std::min(62.0, p.dlp_exponent * log2_lp)));
  }
  const double bits = log2_qmax - std::max(1.0, p.dlp_exponent) * log2_lp - p.fudge_bits;
  const double scale = bits > 100 ? 100 / bits : 1.0;
  SetLogScale(setup->fb, scale);
  setup->threshold = static_cast<uint8_t>(std::clamp(std::lround(bits * scale), 8L, 120L));
  setup->selector = std::make_unique<ASelector>(setup->fb, setup->half_width);
  return setup;
}

// State shared by the sieving threads of one run.
struct SieveRun {
  const Setup* setup = nullptr;
  const Options* options = nullptr;
  const Hooks* hooks = nullptr;
  std::atomic<uint64_t> next_a{0};
  uint64_t end_a = UINT64_MAX;
  std::atomic<bool> stop{false};
  std::atomic<bool> interrupted{false};  // a thread saw Stopped(): cancelled or past the deadline
  std::atomic<size_t> polynomials{0};

  std::mutex mu;
  std::vector<Relation> relations;  // GUARDED_BY(mu)
  RelationCounter counter;          // GUARDED_BY(mu)
  size_t relation_bytes = 0;        // GUARDED_BY(mu)
  size_t needed = SIZE_MAX;         // GUARDED_BY(mu)
  size_t scratch_bytes = 0;         // GUARDED_BY(mu)
};

void Flush(SieveRun& run, std::vector<Relation>* local) {
  std::lock_guard<std::mutex> lock(run.mu);
  for (Relation& r : *local) {
    run.counter.Add(r);
    run.relation_bytes += RelationBytes(r);
    run.relations.push_back(std::move(r));
  }
  local->clear();
  const size_t usable = run.counter.Usable();
  if (run.needed != SIZE_MAX && run.hooks->on_progress) {
    run.hooks->on_progress(
        "siqs", std::min(1.0, static_cast<double>(usable) / static_cast<double>(run.needed)));
  }
  if (usable >= run.needed) run.stop = true;
}

void SieveWorker(SieveRun& run) {
  const Setup& s = *run.setup;
  PolyState poly(s.fb, s.half_width);
  BlockSieve sieve(s.fb, s.params.blocks);
  TrialDivider tdiv(s.fb, s.lp_bound, s.double_bound);
  std::vector<uint32_t> candidates;
  std::vector<Relation> local;
  Relation rel;
  bool first_a = true;
  while (!run.stop) {
    const uint64_t a_index = run.next_a.fetch_add(1);
    if (a_index >= run.end_a) break;
    poly.StartA(s.selector->Make(run.options->seed, a_index));
    if (first_a) {
      std::lock_guard<std::mutex> lock(run.mu);
      run.scratch_bytes += poly.bytes() + sieve.bytes();
      first_a = false;
    }
    const uint32_t num_b = poly.NumB();
    for (uint32_t i = 0; i < num_b; ++i) {
      if (Stopped(*run.options, *run.hooks)) {
        run.interrupted = true;
        run.stop = true;
        return;
      }
      if (run.stop && run.end_a == UINT64_MAX) break;
      if (i > 0) poly.NextB(i);
      candidates.clear();
      sieve.Run(poly, s.threshold, &candidates);
      for (uint32_t offset : candidates) {
        if (tdiv.Divide(poly, sieve, offset, &rel) && VerifyRelation(s.fb, rel))
          local.push_back(rel);
      }
      ++run.polynomials;
      if ((i & 15) == 15 && !local.empty()) Flush(run, &local);
    }
    Flush(run, &local);
  }
}

// Sieves with options.threads threads until run.stop (or the A range ends).
void Sieve(SieveRun& run) {
  const int threads = std::max(1, run.options->threads);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(SieveWorker, std::ref(run));
  SieveWorker(run);
  for (std::thread& t : pool) t.join();
}

// Filtering, linear algebra and square roots over the relations gathered so far.
std::optional<mpz_class> Finish(const Setup& s, std::vector<Relation>* rels, uint64_t seed,
                                const StopFn& stopped, Stats* stats, size_t* matrix_bytes) {
  RemoveDuplicates(rels);
  const Matrix m = BuildMatrix(s.fb, *rels, kExcess);
  size_t bytes = 0;
  for (const auto& c : m.cols) bytes += c.capacity() * 4 + 64;
  *matrix_bytes = bytes + m.cols.size() * 8 * 8;
  if (stats != nullptr) {
    stats->relations = m.cols.size();
    stats->matrix_cols = m.cols.size();
  }
  if (m.cols.size() <= m.nrows) return std::nullopt;
  const std::vector<uint64_t> deps = FindDependencies(m, seed, stopped);
  if (deps.empty()) return std::nullopt;
  return SquareRoot(s.fb, *rels, m, deps);
}

}  // namespace

std::optional<mpz_class> FindFactor(const mpz_class& n, const Options& options, const Hooks& hooks,
                                    Stats* stats) {
  const auto start = Clock::now();
  Stats local_stats;
  if (stats == nullptr) stats = &local_stats;
  *stats = Stats{};
  std::optional<mpz_class> factor;
  if (Screen(n, &factor)) return factor;
  uint32_t divisor = 0;
  const std::unique_ptr<Setup> setup = MakeSetup(n, options, &divisor);
  if (!setup) return mpz_class(divisor);
  stats->fb_size = setup->fb.size();
  stats->multiplier = setup->fb.multiplier;

  SieveRun run;
  run.setup = setup.get();
  run.options = &options;
  run.hooks = &hooks;
  run.needed = setup->fb.size() + kExcess;
  for (int round = 0; round < 8; ++round) {
    const auto sieve_start = Clock::now();
    run.stop = false;
    Sieve(run);
    stats->sieve_seconds += SecondsSince(sieve_start);
    stats->polynomials = run.polynomials;
    stats->fulls = run.counter.fulls();
    stats->partials = run.counter.partials();
    stats->doubles = run.counter.doubles();
    if (run.interrupted) break;
    const auto la_start = Clock::now();
    // No sieving threads run now: the back end works on the shared store in place.
    std::vector<Relation>& rels = run.relations;
    size_t matrix_bytes = 0;
    factor = Finish(*setup, &rels, options.seed + round,
                    [&options, &hooks] { return Stopped(options, hooks); }, stats, &matrix_bytes);
    stats->linalg_seconds += SecondsSince(la_start);
    stats->peak_bytes =
        std::max(stats->peak_bytes, run.scratch_bytes + run.relation_bytes + matrix_bytes);
    if (factor || Stopped(options, hooks)) break;
    // Not enough independent relations (or every dependency was trivial): sieve 5% more.
    run.needed += run.needed / 20 + 16;
  }
  stats->seconds = SecondsSince(start);
  stats->stopped = !factor && (run.interrupted || Stopped(options, hooks));
  if (factor &&
      (*factor <= 1 || *factor >= n || !mpz_divisible_p(n.get_mpz_t(), factor->get_mpz_t()))) {
    return std::nullopt;
  }
  return factor;
}

std::optional<RelationBatch> SieveRange(const mpz_class& n, const Options& options,
                                        uint64_t first_a, uint64_t num_a, const Hooks& hooks,
                                        Stats* stats) {
  std::optional<mpz_class> factor;
  if (Screen(n, &factor)) return std::nullopt;
  uint32_t divisor = 0;
  const std::unique_ptr<Setup> setup = MakeSetup(n, options, &divisor);
  if (!setup) return std::nullopt;
  SieveRun run;
  run.setup = setup.get();
  run.options = &options;
  run.hooks = &hooks;
  run.next_a = first_a;
  run.end_a = first_a + num_a;
  Sieve(run);
  if (run.interrupted) return std::nullopt;
  if (stats != nullptr) {
    stats->polynomials = run.polynomials;
    stats->fulls = run.counter.fulls();
    stats->partials = run.counter.partials();
    stats->doubles = run.counter.doubles();
    stats->peak_bytes = run.scratch_bytes + run.relation_bytes;
  }
  RelationBatch batch;
  batch.n = n;
  batch.multiplier = setup->fb.multiplier;
  batch.fb_size = setup->fb.size();
  batch.first_a = first_a;
  batch.num_a = num_a;
  batch.relations = std::move(run.relations);
  return batch;
}

std::optional<mpz_class> FactorFromBatches(const mpz_class& n, const Options& options,
                                           const std::vector<RelationBatch>& batches,
                                           Stats* stats) {
  std::optional<mpz_class> factor;
  if (Screen(n, &factor)) return factor;
  uint32_t divisor = 0;
  const std::unique_ptr<Setup> setup = MakeSetup(n, options, &divisor);
  if (!setup) return mpz_class(divisor);
  std::vector<Relation> rels;
  for (const RelationBatch& batch : batches) {
    if (batch.n != n || batch.multiplier != setup->fb.multiplier ||
        batch.fb_size != setup->fb.size())
      continue;
    for (const Relation& r : batch.relations) {
      if (VerifyRelation(setup->fb, r)) rels.push_back(r);
    }
  }
  size_t matrix_bytes = 0;
  factor = Finish(*setup, &rels, options.seed, {}, stats, &matrix_bytes);
  if (factor &&
      (*factor <= 1 || *factor >= n || !mpz_divisible_p(n.get_mpz_t(), factor->get_mpz_t()))) {
    return std::nullopt;
  }
  return factor;
}

}  // namespace zfactor::math::siqs
