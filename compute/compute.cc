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

namespace {

proto::StatusOr<mpz_class> Parse(const std::string& n) {
  mpz_class value;
  if (value.set_str(n, 10) != 0 || value < 0) {
    return proto::MakeError(proto::ErrorCode::kBadNumber, "not a non-negative decimal: " + n);
  }
  return value;
}

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Primality answers carry no factors; a composite is just "C".
proto::Result PrimalityResult(const mpz_class& n, math::Verdict v) {
  proto::Result result;
  result.status = math::VerdictName(v);
  // Above 2^64 a P verdict means the engine completed an N-1 proof.
  const bool proven_big = v == math::Verdict::kPrime && mpz_sizeinbase(n.get_mpz_t(), 2) > 64;
  result.effort = proven_big ? "bpsw; N-1 proof" : "bpsw";
  return result;
}

}  // namespace

proto::StatusOr<std::optional<proto::Result>> IsPrimeWithoutProof(const std::string& n) {
  auto value = Parse(n);
  if (!value.ok()) return value.error();
  const auto start = std::chrono::steady_clock::now();
  const math::Verdict v = math::TestPrimalityWithoutProof(value.value());
  if (v == math::Verdict::kProbablePrime && math::PrimalityProofTried(value.value())) {
    return std::optional<proto::Result>();
  }
  proto::Result result = PrimalityResult(value.value(), v);
  result.ms = MsSince(start);
  return std::optional<proto::Result>(std::move(result));
}

proto::StatusOr<proto::Result> Compute(proto::Kind kind, const std::string& n,
                                       const math::Budget& budget, const math::Hooks& hooks,
                                       bool* cancelled) {
  auto parsed = Parse(n);
  if (!parsed.ok()) return parsed.error();
  const mpz_class& value = parsed.value();
  const auto start = std::chrono::steady_clock::now();
  proto::Result result;
  if (kind == proto::Kind::kIsPrime) {
    result = PrimalityResult(value, math::TestPrimality(value));
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
  result.ms = MsSince(start);
  return result;
}

}  // namespace zfactor::compute
