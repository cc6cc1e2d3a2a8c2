// Client-side sanity checks of answers from the service: a wrong
// factorization must never be printed as if it were right. The check itself
// is the one every receiver applies (compute/check.h).
#ifndef ZFACTOR_CLIENT_VERIFY_H_
#define ZFACTOR_CLIENT_VERIFY_H_

#include "compute/check.h"

namespace zfactor::client {

using compute::CheckAnswer;
using compute::kMaxCheckedPrimeDigits;

}  // namespace zfactor::client

#endif  // ZFACTOR_CLIENT_VERIFY_H_
