// tune_qs: mean CPU time of the tiny quadratic sieve alone (tiny_qs.h) on
// balanced semiprimes of a chosen size, for tuning its parameter table.
//
//   tune_qs BITS COUNT [SEED [ROUNDS]]
//
// Prints the best round, and what one round did per number (polynomials,
// candidates, relations). Under `valgrind --tool=cachegrind` (ROUNDS = 1) the
// instruction count is a noise-free measure for comparing parameters.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

#include "bench/small/bench_util.h"
#include "math/small/cpu.h"
#include "math/small/small.h"
#include "math/small/tiny_qs.h"

namespace {

using namespace zfactor::math::small;
using zfactor::bench::CpuNow;
using zfactor::bench::RandomPrime;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s BITS COUNT [SEED [ROUNDS]]\n", argv[0]);
    return 2;
  }
  const int bits = std::atoi(argv[1]), count = std::atoi(argv[2]);
  std::mt19937_64 rng(argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 5);
  std::vector<u128> numbers;
  for (int i = 0; i < count; ++i) {
    numbers.push_back(RandomPrime(rng, bits / 2) * RandomPrime(rng, bits - bits / 2));
  }
  // The minimum over rounds: on a shared machine, load only ever adds time.
  const int kRounds = argc > 4 ? std::atoi(argv[4]) : 5;
  int failures = 0;
  double best = 1e300;
  const zfactor::math::Hooks hooks;
  TinyQsStats stats;
  for (int round = 0; round < kRounds; ++round) {
    const double start = CpuNow();
    for (u128 n : numbers) {
      const u128 d = tiny_qs_internal::Factor(n, hooks, UseAvx512(), &stats);
      if (d <= 1 || d >= n || n % d != 0) ++failures;
    }
    best = std::min(best, CpuNow() - start);
  }
  std::printf("%d-bit semiprimes: %.1f us each (best of %d rounds), %d failures\n", bits,
              best * 1e6 / count, kRounds, failures);
  const double per_number = 1.0 / (static_cast<double>(count) * kRounds);
  std::printf(
      "per number: %.0f polynomials, %.0f candidates, %.0f full and %.0f partial relations\n",
      stats.polynomials * per_number, stats.candidates * per_number,
      stats.full_relations * per_number, stats.partial_relations * per_number);
  return failures == 0 ? 0 : 1;
}
