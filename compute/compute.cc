#include "compute/compute.h"

#include <chrono>

#include "compute/check.h"

namespace zfactor::compute {

proto::Result ToWire(const math::Factorization& f) {
  proto::Result r;
  r.status = math::VerdictName(f.verdict);
  for (const math::PrimeFactor& p : f.factors) {
    r.factors.push_back(proto::Factor{p.p.get_str(), p.exponent, math::CertaintyName(p.certainty)});
  }
  r.effort = f.effort;
  return r;
}

proto::StatusOr<proto::Result> Compute(proto::Kind kind, const std::string& n,
                                       const math::Budget& budget, const math::Hooks& hooks,
                                       bool* cancelled) {
  mpz_class value;
  if (value.set_str(n, 10) != 0 || value < 0) {
    return proto::MakeError(proto::ErrorCode::kBadNumber, "not a non-negative decimal: " + n);
  }
  auto start = std::chrono::steady_clock::now();
  proto::Result result;
  if (kind == proto::Kind::kIsPrime) {
    math::Verdict v = math::TestPrimality(value);
    // Primality answers carry no factors; a composite is just "C".
    result.status = math::VerdictName(v);
    // Above 2^64 a P verdict means the engine completed an N-1 proof.
    const bool proven_big = v == math::Verdict::kPrime && mpz_sizeinbase(value.get_mpz_t(), 2) > 64;
    result.effort = proven_big ? "bpsw; N-1 proof" : "bpsw";
    if (cancelled) *cancelled = false;
  } else {
    math::Factorization f = math::Factor(value, budget, hooks);
    if (f.withheld || !math::VerifyFactorization(f)) {
      return proto::MakeError(proto::ErrorCode::kInternal,
                              "factorization of " + n + " failed verification");
    }
    result = ToWire(f);
    if (cancelled) *cancelled = f.cancelled;
    // The same wire-level check every receiver applies; it must never fail here.
    if (std::string problem = CheckResult(kind, n, result); !problem.empty()) {
      return proto::MakeError(proto::ErrorCode::kInternal,
                              "answer for " + n + " is inconsistent: " + problem);
    }
  }
  result.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count();
  return result;
}

}  // namespace zfactor::compute
