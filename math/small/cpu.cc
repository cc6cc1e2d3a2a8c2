#include "math/small/cpu.h"

#include <cstdlib>

namespace zfactor::math::small {

bool UseAvx512() {
#if defined(__x86_64__)
  static const bool use =
      __builtin_cpu_supports("avx512f") && std::getenv("ZFACTOR_NO_AVX512") == nullptr;
  return use;
#else
  return false;
#endif
}

bool UseAvx512Ifma() {
#if defined(__x86_64__)
  static const bool use = UseAvx512() && __builtin_cpu_supports("avx512ifma");
  return use;
#else
  return false;
#endif
}

}  // namespace zfactor::math::small
