#include "client/cli/local.h"

#include "compute/compute.h"

namespace zfactor::client {
namespace {

// The same bridge the worker and the gateway use, so --local answers are
// computed and verified exactly as the service's are.
proto::Answer Run(proto::Kind kind, const std::string& n, const math::Budget& budget,
                  const math::Hooks& hooks = {}) {
  proto::Answer a;
  a.n = n;
  a.kind = kind;
  a.source = proto::Source::kInline;
  auto result = compute::Compute(kind, a.n, budget, hooks);
  if (result.ok()) {
    a.state = proto::JobState::kDone;
    a.result = std::move(result).value();
  } else {
    a.state = proto::JobState::kFailed;
    a.error = result.error();
  }
  return a;
}

}  // namespace

proto::Answer LocalFactor(const std::string& n, const LocalOptions& options) {
  math::Budget budget;
  budget.threads = options.threads;
  budget.max_seconds = options.max_seconds;
  math::Hooks hooks;
  hooks.on_progress = options.on_progress;
  hooks.on_factor = options.on_factor;
  return Run(proto::Kind::kFactor, n, budget, hooks);
}

proto::Answer LocalIsPrime(const std::string& n) { return Run(proto::Kind::kIsPrime, n, {}); }

}  // namespace zfactor::client
