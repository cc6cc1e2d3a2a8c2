// CPU time of the calling thread, for bench_math's tables (less disturbed by
// other load than wall time).
#ifndef ZFACTOR_BENCH_MATH_CPU_TIME_H_
#define ZFACTOR_BENCH_MATH_CPU_TIME_H_

#include <time.h>

namespace zfactor::math {

inline double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return 1e3 * static_cast<double>(ts.tv_sec) + 1e-6 * static_cast<double>(ts.tv_nsec);
}

}  // namespace zfactor::math

#endif  // ZFACTOR_BENCH_MATH_CPU_TIME_H_
