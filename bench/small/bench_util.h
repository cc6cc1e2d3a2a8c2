// Shared by the word-size benchmarks (bench_small, tune_ecm, tune_qs): the
// process's CPU clock and seeded random primes.
#ifndef ZFACTOR_BENCH_SMALL_BENCH_UTIL_H_
#define ZFACTOR_BENCH_SMALL_BENCH_UTIL_H_

#include <ctime>
#include <random>

#include "math/small/small.h"

namespace zfactor::bench {

// CPU seconds used by this process so far.
inline double CpuNow() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// A random (BPSW) prime of exactly `bits` bits, 2 <= bits <= 128.
inline math::small::u128 RandomPrime(std::mt19937_64& rng, int bits) {
  using math::small::u128;
  while (true) {
    u128 x = (static_cast<u128>(rng()) << 64) | rng();
    if (bits < 128) x &= (static_cast<u128>(1) << bits) - 1;
    x |= (static_cast<u128>(1) << (bits - 1)) | 1;
    if (math::small::IsProbablePrime128(x)) return x;
  }
}

}  // namespace zfactor::bench

#endif  // ZFACTOR_BENCH_SMALL_BENCH_UTIL_H_
