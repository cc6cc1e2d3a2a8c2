// `zfactor ... --local`: the math engine in this process, with answers shaped
// like the service's so they print the same way.
#ifndef ZFACTOR_CLIENT_CLI_LOCAL_H_
#define ZFACTOR_CLIENT_CLI_LOCAL_H_

#include <gmpxx.h>

#include <functional>
#include <string>

#include "proto/messages.h"

namespace zfactor::client {

struct LocalOptions {
  int threads = 1;
  double max_seconds = 0;  // 0: no cap
  // Called from the computing threads (one at a time) as the engine reports
  // a stage and its fraction done, or a factor split off; may be empty.
  std::function<void(const std::string& stage, double fraction)> on_progress;
  std::function<void(const mpz_class& factor)> on_factor;
};

// math::Factor(n) as a done ANSWER (kind factor, source inline).
// REQUIRES: n is a canonical decimal (as the CLI's parser returns it).
proto::Answer LocalFactor(const std::string& n, const LocalOptions& options);

// math::TestPrimality(n) as a done ANSWER (kind isprime, source inline).
// REQUIRES: n is a canonical decimal.
proto::Answer LocalIsPrime(const std::string& n);

}  // namespace zfactor::client

#endif  // ZFACTOR_CLIENT_CLI_LOCAL_H_
