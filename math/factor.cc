// The strategy ladder: trial division, perfect powers, then per cofactor
// primality or a splitting algorithm chosen by size, until every factor is
// prime or the budget runs out. Every answer is verified before it leaves.
#include "math/factor.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <optional>
#include <utility>

#include "math/ecm.h"
#include "math/job.h"
#include "math/perfect_power.h"
#include "math/pm1.h"
#include "math/primality.h"
#include "math/proof.h"
#include "math/trial.h"
#include "math/siqs/siqs.h"
#include "math/small/small.h"

namespace zfactor::math {
namespace {

const mpz_class& TwoTo64() {
  static const mpz_class v = mpz_class(1) << 64;
  return v;
}

// Certainty for n that passed BPSW: BPSW is deterministic below 2^64; above,
// an N-1 proof is attempted where it is cheap.
Certainty PrimeCertainty(const mpz_class& n, const Job& job) {
  if (n < TwoTo64()) return Certainty::kProven;
  return ProvePrimeNminus1(n, job) ? Certainty::kProven : Certainty::kProbable;
}

// "2e3", "25e4", "11e6": B1 the way GMP-ECM users write it.
std::string B1Name(double b1) {
  auto m = static_cast<uint64_t>(b1);
  int k = 0;
  while (m >= 10 && m % 10 == 0) {
    m /= 10;
    ++k;
  }
  return std::to_string(m) + "e" + std::to_string(k);
}

// A composite waiting to be split, with the work already spent on it (which
// its divisors inherit: a factor ECM missed in n is missed in n's divisors).
struct Work {
  mpz_class c;
  unsigned exponent = 1;
  size_t ecm_levels_done = 0;
  bool pm1_done = false;
};

// Cofactors of at most this many digits go to SIQS.
constexpr size_t kSiqsMaxDigits = 100;
// ECM before SIQS: levels whose factor size is at most this share of the
// cofactor's digits, and at least the first level. 0.31 is the usual ratio;
// from kDeepPretestDigits on, SIQS time grows faster than an ECM level's
// (measured: SIQS 92 s CPU at 80 digits, 1273 s at 90; the 30-digit level,
// 430 curves at B1 = 25e4, ~100 s at 88 digits), so the ratio rises to take
// in the 30-digit level there (a p28 x p60 otherwise waits ~15 min for SIQS).
constexpr double kSiqsPretestRatio = 0.31;
constexpr size_t kDeepPretestDigits = 85;
constexpr double kDeepPretestRatio = 0.35;

class Ladder {
 public:
  explicit Ladder(Job* job) : job_(job), next_sigma_(uint64_t{job->budget().seed} * 1000003u) {}

  // One rung after another until a non-trivial factor of w.c appears:
  //   <= 128 bits: the word-size engine (math/small);
  //   else p-1 once, then ECM levels (math/ecm.h) up to ~0.31 x digits (0.35
  //   from 85 digits) when
  //   SIQS will follow (cofactors <= 100 digits, budget.use_siqs), SIQS, and
  //   the remaining ECM levels up to budget.ecm_max_b1.
  // Returns nullopt when the budget is spent or the job is stopped.
  // REQUIRES: w.c odd composite, not a perfect power, no prime factor < kTrialLimit.
  std::optional<mpz_class> Split(Work& w) {
    const mpz_class& c = w.c;
    const size_t bits = mpz_sizeinbase(c.get_mpz_t(), 2);
    if (bits <= 128) return SplitSmall(c, bits);
    const size_t digits = mpz_sizeinbase(c.get_mpz_t(), 10);
    if (!w.pm1_done) {
      w.pm1_done = true;
      const double by_size = digits < 40 ? 1e4 : digits <= 60 ? 5e4 : 2e5;
      const auto b1 = static_cast<uint32_t>(std::max(1e3, std::min(by_size, job_->budget().ecm_max_b1)));
      job_->Note("p-1 B1=" + B1Name(b1) + " B2=" + B1Name(100.0 * b1));
      if (auto d = PollardPm1(c, b1, 100 * b1, *job_)) return d;
    }
    bool siqs = job_->budget().use_siqs && digits <= kSiqsMaxDigits;
    const double pretest = (digits >= kDeepPretestDigits ? kDeepPretestRatio : kSiqsPretestRatio) *
                           static_cast<double>(digits);
    for (; w.ecm_levels_done < std::size(kEcmLevels); ++w.ecm_levels_done) {
      const EcmLevel& level = kEcmLevels[w.ecm_levels_done];
      if (level.b1 > job_->budget().ecm_max_b1 || job_->Stopped()) break;
      if (siqs && w.ecm_levels_done > 0 && level.digits > pretest) {
        if (auto d = RunSiqs(c)) return d;
        siqs = false;
        if (job_->Stopped()) return std::nullopt;
      }
      if (auto d = RunEcmLevel(c, level)) return d;
    }
    if (siqs && !job_->Stopped()) return RunSiqs(c);
    return std::nullopt;
  }

 private:
  std::optional<mpz_class> SplitSmall(const mpz_class& c, size_t bits) {
    job_->Note("word-size engine");
    if (bits <= 64) {
      std::vector<uint64_t> out;
      small::Factor64(mpz_get_ui(c.get_mpz_t()), &out);
      if (out.size() >= 2) return mpz_class(static_cast<unsigned long>(out[0]));
      return std::nullopt;
    }
    std::vector<small::u128> out;
    const small::u128 lo = mpz_get_ui(c.get_mpz_t());
    const small::u128 hi = mpz_class(c >> 64).get_ui();
    small::Factor128((hi << 64) | lo, &out, job_->hooks());
    if (out.empty()) return std::nullopt;
    mpz_class d = mpz_class(static_cast<unsigned long>(out[0] >> 64)) << 64;
    d += static_cast<unsigned long>(static_cast<uint64_t>(out[0]));
    if (d > 1 && d < c) return d;
    return std::nullopt;
  }

  std::optional<mpz_class> RunEcmLevel(const mpz_class& c, const EcmLevel& level) {
    const int curves =
        std::max(1, static_cast<int>(std::lround(LevelCurves(c, level) * job_->budget().ecm_curve_fraction)));
    const std::string key = "ECM B1=" + B1Name(level.b1);
    int run = 0;
    auto d = EcmCurves(c, level.b1, curves, job_->budget().threads, &next_sigma_, *job_, &run);
    curves_run_[key] += run;
    const int total = curves_run_[key];
    if (total > 0) job_->Set(key, key + " x " + std::to_string(total) + (total == 1 ? " curve" : " curves"));
    return d;
  }

  std::optional<mpz_class> RunSiqs(const mpz_class& c) {
    siqs::Options options;
    options.threads = job_->budget().threads;
    options.seed = job_->budget().seed;
    options.deadline = job_->deadline();
    siqs::Stats stats;
    auto d = siqs::FindFactor(c, options, job_->hooks(), &stats);
    std::string note = "SIQS " + std::to_string(c.get_str().size()) + " digits";
    if (options.threads > 1) note += " on " + std::to_string(options.threads) + " threads";
    note += " (";
    if (stats.stopped) {
      note += std::to_string(stats.fulls) + " full, " + std::to_string(stats.partials) +
              " partial relations) (stopped: " +
              (job_->hooks().Cancelled() ? "cancelled)" : "time budget)");
    } else {
      note += std::to_string(stats.relations) + " relations)";
    }
    job_->Note(note);
    return d;
  }

  Job* job_;
  uint64_t next_sigma_;                    // curve choice: seed-derived, one per curve
  std::map<std::string, int> curves_run_;  // per B1 level, across all cofactors
};

struct Found {
  unsigned exponent = 0;
  Certainty certainty = Certainty::kProbable;
};

Factorization Finish(Factorization f) {
  if (!VerifyFactorization(f)) {
    Factorization bad;
    bad.n = f.n;
    bad.verdict = Verdict::kComposite;
    bad.effort = f.effort + "; internal verification failed, answer withheld";
    bad.cancelled = f.cancelled;
    bad.withheld = true;
    return bad;
  }
  return f;
}

// Below 2^64 the word-size engine factors completely in microseconds, with
// no budget or hooks to honour; every factor it returns is proven (BPSW is
// exact there).
Factorization FactorWord(const mpz_class& n) {
  Factorization f;
  f.n = n;
  std::vector<uint64_t> primes;
  small::Factor64(n.get_ui(), &primes);
  for (size_t i = 0; i < primes.size();) {
    size_t j = i;
    while (j < primes.size() && primes[j] == primes[i]) ++j;
    f.factors.push_back({mpz_class(static_cast<unsigned long>(primes[i])),
                         static_cast<unsigned>(j - i), Certainty::kProven});
    i = j;
  }
  const bool single = f.factors.size() == 1 && f.factors[0].exponent == 1;
  f.verdict = single ? Verdict::kPrime : Verdict::kFullyFactored;
  f.effort = "word-size engine";
  return Finish(std::move(f));
}

mpz_class FromU128(small::u128 v) {
  mpz_class out = mpz_class(static_cast<unsigned long>(static_cast<uint64_t>(v >> 64))) << 64;
  out += static_cast<unsigned long>(static_cast<uint64_t>(v));
  return out;
}

// From 2^64 to 2^128 the word-size engine's two-limb path factors completely
// in at most milliseconds (it polls hooks.Cancelled() between curves and
// sieve polynomials). Prime factors above 2^64 get the usual proof attempt.
Factorization FactorTwoWords(const mpz_class& n, const Budget& budget, const Hooks& hooks) {
  Factorization f;
  f.n = n;
  Job job(budget, hooks);
  job.Note("word-size engine");
  std::vector<small::u128> primes;
  const small::u128 value = (small::u128{mpz_class(n >> 64).get_ui()} << 64) | mpz_get_ui(n.get_mpz_t());
  const bool complete = small::Factor128(value, &primes, hooks);
  small::u128 rest = value;
  for (size_t i = 0; i < primes.size();) {
    size_t j = i;
    while (j < primes.size() && primes[j] == primes[i]) ++j;
    unsigned exponent = 0;
    while (rest % primes[i] == 0) {
      rest /= primes[i];
      ++exponent;
    }
    const mpz_class p = FromU128(primes[i]);
    if (hooks.on_factor && p != n) hooks.on_factor(p);
    f.factors.push_back({p, exponent, PrimeCertainty(p, job)});
    i = j;
  }
  if (rest > 1) {  // cancelled before the end: what is left, coprime to the primes found
    const mpz_class r = FromU128(rest);
    f.factors.push_back(
        {r, 1, IsBpswProbablePrime(r) ? PrimeCertainty(r, job) : Certainty::kComposite});
    std::sort(f.factors.begin(), f.factors.end(),
              [](const PrimeFactor& a, const PrimeFactor& b) { return a.p < b.p; });
  }
  const bool stuck = std::any_of(f.factors.begin(), f.factors.end(), [](const PrimeFactor& p) {
    return p.certainty == Certainty::kComposite;
  });
  const bool single = f.factors.size() == 1 && f.factors[0].exponent == 1;
  if (!stuck) {
    f.verdict = !single ? Verdict::kFullyFactored
                : f.factors[0].certainty == Certainty::kProven ? Verdict::kPrime
                                                               : Verdict::kProbablePrime;
  } else if (single) {
    f.verdict = Verdict::kComposite;
    f.factors.clear();
  } else {
    f.verdict = Verdict::kPartlyFactored;
  }
  f.cancelled = stuck && !complete;
  f.effort = job.Effort();
  return Finish(std::move(f));
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kZero: return "Zero";
    case Verdict::kUnit: return "U";
    case Verdict::kPrime: return "P";
    case Verdict::kProbablePrime: return "PRP";
    case Verdict::kFullyFactored: return "FF";
    case Verdict::kPartlyFactored: return "CF";
    case Verdict::kComposite: return "C";
  }
  return "?";
}

const char* CertaintyName(Certainty c) {
  switch (c) {
    case Certainty::kProven: return "P";
    case Certainty::kProbable: return "PRP";
    case Certainty::kComposite: return "C";
  }
  return "?";
}

Verdict TestPrimalityWithoutProof(const mpz_class& n) {
  if (n == 0) return Verdict::kZero;
  if (n == 1) return Verdict::kUnit;
  if (!IsBpswProbablePrime(n)) return Verdict::kComposite;
  return n < TwoTo64() ? Verdict::kPrime : Verdict::kProbablePrime;
}

bool PrimalityProofTried(const mpz_class& n) {
  return n >= TwoTo64() && mpz_sizeinbase(n.get_mpz_t(), 10) <= kProofMaxDigits;
}

Verdict TestPrimality(const mpz_class& n) {
  const Verdict quick = TestPrimalityWithoutProof(n);
  if (quick != Verdict::kProbablePrime) return quick;
  const Budget budget;
  const Hooks hooks;
  const Job job(budget, hooks);
  return ProvePrimeNminus1(n, job) ? Verdict::kPrime : Verdict::kProbablePrime;
}

Factorization Factor(const mpz_class& n, const Budget& budget, const Hooks& hooks) {
  Factorization f;
  f.n = n;
  if (n == 0) {
    f.verdict = Verdict::kZero;
    return f;
  }
  if (n == 1) {
    f.verdict = Verdict::kUnit;
    return f;
  }
  if (n < TwoTo64()) return FactorWord(n);
  if (mpz_sizeinbase(n.get_mpz_t(), 2) <= 128) return FactorTwoWords(n, budget, hooks);
  Job job(budget, hooks);
  std::map<mpz_class, Found> primes;
  std::map<mpz_class, Work> stuck;  // composites the budget did not split
  auto add_prime = [&](const mpz_class& p, unsigned e, Certainty c) {
    Found& fp = primes[p];
    fp.exponent += e;
    if (c == Certainty::kProven) fp.certainty = c;
  };
  auto report = [&](const mpz_class& d) {
    if (hooks.on_factor && d != n) hooks.on_factor(d);
  };

  mpz_class m = n;
  std::vector<std::pair<uint32_t, unsigned>> small;
  TrialDivide(&m, kTrialLimit, &small);
  job.Note("trial division to " + std::to_string(kTrialLimit));
  for (const auto& [p, e] : small) {
    add_prime(p, e, Certainty::kProven);
    report(p);
  }

  Ladder ladder(&job);
  std::vector<Work> work;
  if (m > 1) work.push_back({m, 1});
  while (!work.empty()) {
    while (!work.empty()) {
      Work w = std::move(work.back());
      work.pop_back();
      const mpz_class& c = w.c;
      const unsigned e = w.exponent;
      if (c == 1) continue;
      mpz_class root;
      unsigned k = 0;
      if (PerfectPower(c, &root, &k)) {
        job.Note("perfect power");
        report(root);
        work.push_back({root, e * k, w.ecm_levels_done, w.pm1_done});
        continue;
      }
      if (IsBpswProbablePrime(c)) {
        add_prime(c, e, PrimeCertainty(c, job));
        continue;
      }
      std::optional<mpz_class> d = ladder.Split(w);
      // Every method's answer is checked once, here: a non-divisor never
      // reaches the (truncating) division below.
      if (d && (*d <= 1 || *d >= c || !mpz_divisible_p(c.get_mpz_t(), d->get_mpz_t()))) d.reset();
      if (!d) {
        auto [it, fresh] = stuck.emplace(c, w);
        if (!fresh) it->second.exponent += e;
        continue;
      }
      report(*d);
      work.push_back({c / *d, e, w.ecm_levels_done, w.pm1_done});
      work.push_back({*d, e, w.ecm_levels_done, w.pm1_done});
    }
    // Refine what is stuck against known primes and against each other, so
    // the composites listed are coprime to everything else in the answer.
    // Pieces inherit the effort spent on the composite they came from.
    std::vector<Work> left;
    for (auto& [c, w] : stuck) left.push_back(std::move(w));
    stuck.clear();
    auto piece = [&](const mpz_class& c, const Work& from) {
      work.push_back({c, from.exponent, from.ecm_levels_done, from.pm1_done});
    };
    for (size_t i = 0; i < left.size(); ++i) {
      bool split = false;
      for (const auto& [p, fp] : primes) {
        if (mpz_divisible_p(left[i].c.get_mpz_t(), p.get_mpz_t())) {
          piece(p, left[i]);
          piece(left[i].c / p, left[i]);
          split = true;
          break;
        }
      }
      for (size_t j = i + 1; j < left.size() && !split; ++j) {
        const mpz_class g = gcd(left[i].c, left[j].c);
        if (g == 1) continue;
        for (size_t x : {i, j}) {  // a = g (a/g), b = g (b/g)
          piece(g, left[x]);
          piece(left[x].c / g, left[x]);
        }
        left.erase(left.begin() + static_cast<std::ptrdiff_t>(j));
        split = true;
      }
      if (!split) stuck.emplace(left[i].c, std::move(left[i]));
    }
  }

  for (const auto& [p, fp] : primes) f.factors.push_back({p, fp.exponent, fp.certainty});
  for (const auto& [c, w] : stuck) f.factors.push_back({c, w.exponent, Certainty::kComposite});
  std::sort(f.factors.begin(), f.factors.end(),
            [](const PrimeFactor& a, const PrimeFactor& b) { return a.p < b.p; });
  if (stuck.empty()) {
    if (f.factors.size() == 1 && f.factors[0].exponent == 1) {
      f.verdict = f.factors[0].certainty == Certainty::kProven ? Verdict::kPrime : Verdict::kProbablePrime;
    } else {
      f.verdict = Verdict::kFullyFactored;
    }
  } else if (f.factors.size() == 1 && f.factors[0].exponent == 1) {
    f.verdict = Verdict::kComposite;
    f.factors.clear();
  } else {
    f.verdict = Verdict::kPartlyFactored;
  }
  f.cancelled = !stuck.empty() && hooks.Cancelled();
  if (!stuck.empty() && job.TimeUp()) job.Note("time budget exhausted");
  f.effort = job.Effort();
  return Finish(std::move(f));
}

bool VerifyFactorization(const Factorization& f) {
  const mpz_class& n = f.n;
  if (n < 0) return false;
  if (n == 0) return f.verdict == Verdict::kZero && f.factors.empty();
  if (n == 1) return f.verdict == Verdict::kUnit && f.factors.empty();
  if (f.verdict == Verdict::kZero || f.verdict == Verdict::kUnit) return false;
  const bool n_prp = IsBpswProbablePrime(n);
  if (f.verdict == Verdict::kComposite) return f.factors.empty() && !n_prp;
  if (f.factors.empty()) return false;
  mpz_class product = 1;
  bool any_composite = false;
  for (size_t i = 0; i < f.factors.size(); ++i) {
    const PrimeFactor& pf = f.factors[i];
    if (pf.exponent == 0 || pf.p < 2) return false;
    if (i > 0 && !(f.factors[i - 1].p < pf.p)) return false;
    const bool prp = IsBpswProbablePrime(pf.p);
    if (pf.certainty == Certainty::kComposite) {
      if (prp) return false;
      any_composite = true;
    } else if (!prp) {
      return false;
    }
    mpz_class power;
    mpz_pow_ui(power.get_mpz_t(), pf.p.get_mpz_t(), pf.exponent);
    product *= power;
  }
  if (product != n) return false;
  const bool single = f.factors.size() == 1 && f.factors[0].exponent == 1;
  switch (f.verdict) {
    case Verdict::kPrime: return single && f.factors[0].certainty == Certainty::kProven;
    case Verdict::kProbablePrime: return single && f.factors[0].certainty == Certainty::kProbable;
    case Verdict::kFullyFactored: return !single && !any_composite;
    case Verdict::kPartlyFactored: return !single && any_composite;
    default: return false;
  }
}

}  // namespace zfactor::math
