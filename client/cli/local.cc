#include "client/cli/local.h"

#include <chrono>

#include "math/factor.h"

namespace zfactor::client {
namespace {

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

proto::Answer DoneAnswer(const mpz_class& n, proto::Kind kind) {
  proto::Answer a;
  a.n = n.get_str();
  a.kind = kind;
  a.state = proto::JobState::kDone;
  a.source = proto::Source::kInline;
  a.result.emplace();
  return a;
}

}  // namespace

proto::Answer LocalFactor(const mpz_class& n, const LocalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  math::Budget budget;
  budget.threads = options.threads;
  budget.max_seconds = options.max_seconds;
  const math::Factorization f = math::Factor(n, budget);
  proto::Answer a = DoneAnswer(n, proto::Kind::kFactor);
  a.result->status = math::VerdictName(f.verdict);
  for (const math::PrimeFactor& pf : f.factors) {
    a.result->factors.push_back(
        proto::Factor{pf.p.get_str(), pf.exponent, math::CertaintyName(pf.certainty)});
  }
  a.result->effort = f.effort;
  a.result->ms = MsSince(start);
  return a;
}

proto::Answer LocalIsPrime(const mpz_class& n) {
  const auto start = std::chrono::steady_clock::now();
  const math::Verdict v = math::TestPrimality(n);
  proto::Answer a = DoneAnswer(n, proto::Kind::kIsPrime);
  a.result->status = math::VerdictName(v);
  a.result->effort = "math::TestPrimality";
  a.result->ms = MsSince(start);
  return a;
}

}  // namespace zfactor::client
