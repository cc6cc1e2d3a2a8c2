// Wire-level consistency check of an answer: what every receiver of a result
// (the gateway before caching, the CLI before printing, tests) applies, so a
// wrong factorization is never stored or shown as if it were right.
// Depends on proto, GMP and the word-size engine (math/small) only.
#ifndef ZFACTOR_COMPUTE_CHECK_H_
#define ZFACTOR_COMPUTE_CHECK_H_

#include <cstddef>
#include <string>

#include "proto/messages.h"

namespace zfactor::compute {

// Factor results: factors ascending, each > 1, exponents >= 1, the product of
// p^e equals n, statuses agree with the result status (P/PRP lists [n]; FF has
// no "C" factor; CF has one; U is n = 1, Zero is n = 0, C has no factors), and
// every P/PRP factor of at most kMaxCheckedPrimeDigits digits passes a BPSW
// test (the worker holds the proof; this catches lies and corruption).
// isprime results: no factors, status P/PRP/C/U/Zero agreeing with n = 0, 1,
// and, for n of at most kMaxCheckedPrimeDigits digits, with a BPSW test of n.
// The digit bound keeps one check to about 25 ms on the gateway's loop.
// Returns an empty string when consistent, else what is wrong.
inline constexpr std::size_t kMaxCheckedPrimeDigits = 1000;
std::string CheckResult(proto::Kind kind, const std::string& n, const proto::Result& result);

// CheckResult for a done ANSWER; other answers (not done) are accepted.
std::string CheckAnswer(const proto::Answer& answer);

}  // namespace zfactor::compute

#endif  // ZFACTOR_COMPUTE_CHECK_H_
