// The strategy ladder: trial division, perfect powers, then per cofactor
// primality or a splitting algorithm chosen by size, until every factor is
// prime or the budget runs out. Every answer is verified before it leaves.
#include "math/factor.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "math/perfect_power.h"
#include "math/primality.h"
#include "math/rho.h"
#include "math/trial.h"

namespace zfactor::math {
namespace {

using Clock = std::chrono::steady_clock;

// Per-call state: budget, hooks, deadline and the effort log.
class Job {
 public:
  Job(const Budget& budget, const Hooks& hooks) : budget_(budget), hooks_(hooks) {
    if (budget.max_seconds > 0) {
      deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(budget.max_seconds));
    }
  }
  const Budget& budget() const { return budget_; }
  const Hooks& hooks() const { return hooks_; }
  bool TimeUp() const { return deadline_ && Clock::now() >= *deadline_; }
  bool Stopped() const { return hooks_.Cancelled() || TimeUp(); }
  void Note(const std::string& what) {
    if (std::find(effort_.begin(), effort_.end(), what) == effort_.end()) effort_.push_back(what);
  }
  std::string Effort() const {
    std::string s;
    for (const auto& e : effort_) s += (s.empty() ? "" : "; ") + e;
    return s;
  }

 private:
  const Budget& budget_;
  const Hooks& hooks_;
  std::optional<Clock::time_point> deadline_;
  std::vector<std::string> effort_;
};

const mpz_class& TwoTo64() {
  static const mpz_class v = mpz_class(1) << 64;
  return v;
}

// Certainty for n that passed BPSW.
Certainty PrimeCertainty(const mpz_class& n) {
  return n < TwoTo64() ? Certainty::kProven : Certainty::kProbable;
}

// One rung after another until a non-trivial factor of c appears.
// REQUIRES: c odd composite, not a perfect power, no prime factor < kTrialLimit.
std::optional<mpz_class> Split(const mpz_class& c, Job* job) {
  const size_t bits = mpz_sizeinbase(c.get_mpz_t(), 2);
  // Rho finds factors up to ~2^(2*log2(iterations)); keep it for small inputs.
  const uint64_t iterations = bits <= 64 ? (1u << 22) : (1u << 20);
  for (unsigned long c0 = 1; c0 <= 3; ++c0) {
    if (job->Stopped()) return std::nullopt;
    job->Note("rho");
    if (auto d = PollardRho(c, c0, iterations, job->hooks())) return d;
  }
  return std::nullopt;
}

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
    return bad;
  }
  return f;
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

Verdict TestPrimality(const mpz_class& n) {
  if (n == 0) return Verdict::kZero;
  if (n == 1) return Verdict::kUnit;
  if (!IsBpswProbablePrime(n)) return Verdict::kComposite;
  return PrimeCertainty(n) == Certainty::kProven ? Verdict::kPrime : Verdict::kProbablePrime;
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
  Job job(budget, hooks);
  std::map<mpz_class, Found> primes;
  std::map<mpz_class, unsigned> stuck;  // composites the budget did not split
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

  std::vector<std::pair<mpz_class, unsigned>> work;
  if (m > 1) work.emplace_back(m, 1);
  while (!work.empty()) {
    while (!work.empty()) {
      auto [c, e] = work.back();
      work.pop_back();
      if (c == 1) continue;
      mpz_class root;
      unsigned k = 0;
      if (PerfectPower(c, &root, &k)) {
        job.Note("perfect power");
        report(root);
        work.emplace_back(root, e * k);
        continue;
      }
      if (IsBpswProbablePrime(c)) {
        add_prime(c, e, PrimeCertainty(c));
        continue;
      }
      std::optional<mpz_class> d = Split(c, &job);
      if (!d) {
        stuck[c] += e;
        continue;
      }
      report(*d);
      work.emplace_back(c / *d, e);
      work.emplace_back(*d, e);
    }
    // Refine what is stuck against known primes and against each other, so
    // the composites listed are coprime to everything else in the answer.
    std::vector<std::pair<mpz_class, unsigned>> left(stuck.begin(), stuck.end());
    stuck.clear();
    for (size_t i = 0; i < left.size(); ++i) {
      bool split = false;
      for (const auto& [p, fp] : primes) {
        if (mpz_divisible_p(left[i].first.get_mpz_t(), p.get_mpz_t())) {
          work.emplace_back(p, left[i].second);
          work.emplace_back(left[i].first / p, left[i].second);
          split = true;
          break;
        }
      }
      for (size_t j = i + 1; j < left.size() && !split; ++j) {
        mpz_class g = gcd(left[i].first, left[j].first);
        if (g == 1) continue;
        if (g == left[i].first && g == left[j].first) {  // same composite twice
          left[j].second += left[i].second;
        } else {  // a = g (a/g), b = g (b/g): queue all four pieces
          for (size_t x : {i, j}) {
            work.emplace_back(g, left[x].second);
            work.emplace_back(left[x].first / g, left[x].second);
          }
          left.erase(left.begin() + static_cast<std::ptrdiff_t>(j));
        }
        split = true;
      }
      if (!split) stuck[left[i].first] += left[i].second;
    }
  }

  for (const auto& [p, fp] : primes) f.factors.push_back({p, fp.exponent, fp.certainty});
  for (const auto& [c, e] : stuck) f.factors.push_back({c, e, Certainty::kComposite});
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
