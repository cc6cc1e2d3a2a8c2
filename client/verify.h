// Client-side sanity checks of answers from the service: a wrong
// factorization must never be printed as if it were right.
#ifndef ZFACTOR_CLIENT_VERIFY_H_
#define ZFACTOR_CLIENT_VERIFY_H_

#include <cstddef>
#include <string>

#include "proto/messages.h"

namespace zfactor::client {

// For a done factor ANSWER: factors ascending, each > 1, exponents >= 1, the
// product of p^e equals n, statuses agree with the result status (P/PRP is
// [n]; FF has no "C" factor; CF has one; U is n = 1, Zero is n = 0, C has no
// factors), and every P/PRP factor of at most kMaxCheckedPrimeDigits digits
// passes GMP's BPSW test (the service holds the proof; this catches lies).
// Returns an empty string when consistent, else what is wrong.
// Other answers (not done, or isprime) are accepted as they are.
inline constexpr std::size_t kMaxCheckedPrimeDigits = 3000;
std::string CheckAnswer(const proto::Answer& answer);

}  // namespace zfactor::client

#endif  // ZFACTOR_CLIENT_VERIFY_H_
