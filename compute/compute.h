// The one bridge from the math engine to the wire: runs math on one number
// and returns a verified proto::Result. Used by the worker's compute threads,
// the gateway's inline path and `zfactor factor --local`, so all three give
// byte-identical answers.
#ifndef ZFACTOR_COMPUTE_COMPUTE_H_
#define ZFACTOR_COMPUTE_COMPUTE_H_

#include <optional>
#include <string>

#include "math/factor.h"
#include "proto/error.h"
#include "proto/messages.h"

namespace zfactor::compute {

// REQUIRES: `n` is a canonical decimal (proto::ValidateNumber accepted it).
// Returns kInternal if the engine's answer fails verification (a bug: the
// wrong answer is never returned). A cancelled factorization returns the
// partial result the engine had (CF or C) and sets *cancelled when given.
proto::StatusOr<proto::Result> Compute(proto::Kind kind, const std::string& n,
                                       const math::Budget& budget = {},
                                       const math::Hooks& hooks = {}, bool* cancelled = nullptr);

// isprime at the cost of one BPSW test, for callers that must stay quick
// (the gateway's inline path): the answer Compute gives when it needs no
// primality proof (n composite, below 2^64, or too large to prove), or
// nullopt for a probable prime Compute would try to prove (send it to a worker).
proto::StatusOr<std::optional<proto::Result>> IsPrimeWithoutProof(const std::string& n);

// The wire form of a verified factorization.
proto::Result ToWire(const math::Factorization& f);

}  // namespace zfactor::compute

#endif  // ZFACTOR_COMPUTE_COMPUTE_H_
