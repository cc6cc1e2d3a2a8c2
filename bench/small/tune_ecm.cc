// tune_ecm: how micro-ECM levels fare on semiprimes of chosen factor sizes,
// for choosing the B1/B2 table in ecm_levels.cc and the curve counts in
// factor_small.cc. Prints one row per (B1, B2): mean curves until a split,
// CPU microseconds per curve and per split (ECM alone, no rho).
//
//   [LANES=1|2|4|8|ifma] tune_ecm PBITS QBITS COUNT B1:B2[:D]|rho|sigmas:B1:B2:LAST ...
// (LANES=ifma: EcmCurvesIfma, eight curves per call; one-limb numbers only.)
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "bench/small/bench_util.h"
#include "math/small/bpsw.h"
#include "math/small/ecm.h"
#include "math/small/ecm_ifma.h"
#include "math/small/montgomery.h"
#include "math/small/rho.h"
#include "math/small/small.h"

namespace {

using namespace zfactor::math::small;
using zfactor::bench::CpuNow;
using zfactor::bench::RandomPrime;

// kLanes curves per call: EcmCurves<Arith, kLanes>, or with kIfma the eight
// AVX-512 IFMA lanes of EcmCurvesIfma.
template <typename Arith, int kLanes, bool kIfma = false>
void Run(const std::vector<u128>& numbers, const EcmLevel& level) {
  uint64_t curves = 0;
  int failures = 0;
  const double start = CpuNow();
  for (u128 n : numbers) {
    const Arith m(static_cast<typename Arith::Word>(n));
    uint64_t sigma = 7;
    int c = 0;
    for (; c < 2000; ++c) {
      if constexpr (kIfma) {
        if (EcmCurvesIfma(m, sigma, level) != 0) break;
      } else {
        if (EcmCurves<Arith, kLanes>(m, sigma, level) != 0) break;
      }
      sigma += kLanes;
    }
    if (c == 2000) ++failures;
    curves += static_cast<uint64_t>(c + 1) * kLanes;
  }
  const double us = (CpuNow() - start) * 1e6;
  std::printf("| %u | %u | %.2f | %.3f | %.2f | %d |\n", level.b1, level.b2,
              static_cast<double>(curves) / static_cast<double>(numbers.size()),
              us / static_cast<double>(curves), us / static_cast<double>(numbers.size()), failures);
}

// Pollard-Brent rho alone, for comparison.
void RunRho(const std::vector<u128>& numbers) {
  const double start = CpuNow();
  uint64_t found = 0;
  for (u128 n : numbers) {
    const Mont64 m(static_cast<uint64_t>(n));
    uint64_t d = 0;
    for (uint64_t c = 1; d == 0; ++c) d = RhoBrent(m, m.ToMont(c), ~0ull);
    found += d;
  }
  const double us = (CpuNow() - start) * 1e6;
  asm volatile("" : : "r"(found) : "memory");  // keeps the loop
  std::printf("| rho | - | - | - | %.2f | 0 |\n", us / static_cast<double>(numbers.size()));
}

// Success rate of single curves per sigma (which sigmas make better curves).
void RunSigmas(const std::vector<u128>& numbers, const EcmLevel& level, uint64_t last) {
  std::printf("| sigma | splits | rate |\n|---|---|---|\n");
  for (uint64_t sigma = 6; sigma <= last; ++sigma) {
    int splits = 0;
    for (u128 n : numbers) {
      const Mont64 m(static_cast<uint64_t>(n));
      if (EcmCurve(m, sigma, level) != 0) ++splits;
    }
    std::printf("| %llu | %d | %.4f |\n", static_cast<unsigned long long>(sigma), splits,
                static_cast<double>(splits) / static_cast<double>(numbers.size()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: [LANES=4] %s PBITS QBITS COUNT B1:B2[:D] ...\n", argv[0]);
    return 2;
  }
  const int pbits = std::atoi(argv[1]), qbits = std::atoi(argv[2]);
  const int count = std::atoi(argv[3]);
  const char* lanes_env = std::getenv("LANES");
  const bool ifma = lanes_env != nullptr && std::string(lanes_env) == "ifma";
  const int lanes = lanes_env ? std::atoi(lanes_env) : 4;
  const char* seed_env = std::getenv("SEED");
  std::mt19937_64 rng(seed_env ? std::strtoull(seed_env, nullptr, 10) : 1234);
  std::vector<u128> numbers;
  for (int i = 0; i < count; ++i)
    numbers.push_back(RandomPrime(rng, pbits) * RandomPrime(rng, qbits));
  std::printf("%d-bit x %d-bit semiprimes, %d of them\n", pbits, qbits, count);
  std::printf(
      "| B1 | B2 | curves/split | us/curve | us/split | failures |\n|---|---|---|---|---|---|\n");
  for (int i = 4; i < argc; ++i) {
    unsigned sb1 = 0, sb2 = 0, slast = 0;
    if (std::sscanf(argv[i], "sigmas:%u:%u:%u", &sb1, &sb2, &slast) == 3) {
      RunSigmas(numbers, MakeEcmLevel(sb1, sb2), slast);
      continue;
    }
    if (std::string(argv[i]) == "rho") {
      RunRho(numbers);
      continue;
    }
    unsigned b1 = 0, b2 = 0, d = 0;
    if (std::sscanf(argv[i], "%u:%u:%u", &b1, &b2, &d) < 2) return 2;
    const EcmLevel level = MakeEcmLevel(b1, b2, d);
    const bool wide = pbits + qbits > 64;
    if (ifma) {
      if (wide || !HaveIfma()) {
        std::fprintf(stderr, "LANES=ifma needs one-limb numbers and an AVX-512 IFMA CPU\n");
        return 2;
      }
      Run<Mont64, kIfmaLanes, true>(numbers, level);
      continue;
    }
    switch (lanes) {
      case 1:
        wide ? Run<Mont128, 1>(numbers, level) : Run<Mont64, 1>(numbers, level);
        break;
      case 2:
        wide ? Run<Mont128, 2>(numbers, level) : Run<Mont64, 2>(numbers, level);
        break;
      case 4:
        wide ? Run<Mont128, 4>(numbers, level) : Run<Mont64, 4>(numbers, level);
        break;
      default:
        wide ? Run<Mont128, 8>(numbers, level) : Run<Mont64, 8>(numbers, level);
        break;
    }
  }
  return 0;
}
