#include "math/siqs/cofactor.h"

#include "math/small/bpsw.h"
#include "math/small/ecm.h"
#include "math/small/montgomery.h"
#include "math/small/rho.h"

namespace zfactor::math::siqs {
namespace {

using small::Mont64;

// Micro-ECM (math/small) on a composite whose prime factors all exceed 7:
// up to kEcmBatches batches of two curves, B1 chosen by the size of n (its
// smaller factor has at most half the bits), moving up one level every
// kBatchesPerLevel batches. Fewer curves than math/small's own ladder
// (factor_small.cc), which must always split: here a cofactor that resists
// costs only its relation. Returns a factor or 0.
constexpr int kEcmBatches = 8;
constexpr int kBatchesPerLevel = 3;
constexpr uint64_t kFirstSigma = 7;

uint32_t EcmFirstB1(int bits) {
  if (bits <= 40) return 27;
  if (bits <= 44) return 47;
  if (bits <= 48) return 70;
  if (bits <= 52) return 85;
  if (bits <= 56) return 125;
  return 150;
}

uint64_t Ecm(const Mont64& m) {
  int level = small::EcmLevelIndexFor(EcmFirstB1(small::BitLength64(m.n())));
  uint64_t sigma = kFirstSigma;
  for (int batch = 0; batch < kEcmBatches; ++batch) {
    if (batch > 0 && batch % kBatchesPerLevel == 0 && level + 1 < small::EcmLevelCount()) ++level;
    const uint64_t d = small::EcmCurves<Mont64, 2>(m, sigma, small::GetEcmLevel(level));
    if (d != 0) return d;
    sigma += 2;
  }
  return 0;
}

// Up to this size (smaller factor below 2^18: rho needs some 2^9 steps) rho
// beats ECM; it gets up to kRhoSteps steps.
constexpr int kRhoMaxBits = 36;
constexpr uint64_t kRhoSteps = 1u << 20;

}  // namespace

bool ProbablePrime64(uint64_t n) { return small::StrongFermatBase2(Mont64(n)); }

uint64_t SplitLargePrimes(uint64_t n) {
  // The square of a large prime: rho may close mod p and mod p^2 together.
  if (const uint64_t r = small::Isqrt64(n); r * r == n) return r;
  const Mont64 m(n);
  if (small::BitLength64(n) <= kRhoMaxBits) return small::RhoBrent(m, m.ToMont(1), kRhoSteps);
  return Ecm(m);
}

}  // namespace zfactor::math::siqs
