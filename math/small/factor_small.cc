// The strategy ladder for word-size inputs (after FLINT's fmpz_factor):
//   trial division -> prime? -> perfect power? -> split (rho, micro-ECM and,
//   for two-limb numbers, the tiny quadratic sieve) -> recurse on both parts.
// Every factor appended is prime (exact below 2^64, BPSW above).
#include <algorithm>
#include <iterator>

#include "math/small/bpsw.h"
#include "math/small/ecm.h"
#include "math/small/ecm_ifma.h"
#include "math/small/montgomery.h"
#include "math/small/perfect_power.h"
#include "math/small/rho.h"
#include "math/small/small.h"
#include "math/small/tiny_qs.h"
#include "math/small/trial_division.h"

namespace zfactor::math::small {
namespace {

// Trial division removes primes below these; cofactors then have no factor
// below them, so anything below their square is prime.
constexpr uint32_t kTrialLimit64 = 1u << 9;
constexpr uint32_t kTrialLimit128 = 1u << 12;
// Cofactors up to this many bits are split by rho alone; larger ones by
// micro-ECM. (Chosen with bench/small/tune_ecm: ECM overtakes rho at factors
// of ~18 bits.)
constexpr int kRhoMaxBits64 = 36;
// The first sigma; each further curve uses the next integer.
constexpr uint64_t kFirstSigma = 7;
// Curves run side by side (ecm.h); 2 keeps the multipliers busy while
// wasting little work when the first curve already succeeds.
constexpr int kLanes64 = 2;

// First ECM B1 for a 64-bit cofactor of the given size (its smallest factor
// has at most half the bits), and how many curves to run before moving up a
// level (a multiple of kLanes64 and of kIfmaLanes). In AVX-512 IFMA lanes
// (ecm_ifma.h) a curve costs less than half as much, which moves the best
// start for the largest cofactors down to B1 = 150 (bench/small/tune_ecm).
uint32_t EcmStartB1(int bits, bool ifma) {
  if (bits <= 40) return 27;
  if (bits <= 44) return 47;
  if (bits <= 48) return 70;
  if (bits <= 54) return 85;
  if (bits <= 58) return 125;
  if (bits <= 61) return 150;
  return ifma ? 150 : 200;
}
constexpr int kCurvesPerLevel64 = 8;

// A factor d, 1 < d < n, of an odd composite n < 2^64 that is not a perfect
// power and has no prime factor below kTrialLimit64.
uint64_t Split64(const Mont64& m) {
  const uint64_t n = m.n();
  if (BitLength64(n) <= kRhoMaxBits64) {
    for (uint64_t c = 1;; ++c) {
      const uint64_t d = RhoBrent(m, m.ToMont(c), ~0ull);
      if (d != 0) return d;
    }
  }
  // From 2^60 up, batches of eight curves in IFMA lanes where the CPU has
  // them; below, scalar curves run on Mont64Lazy (ecm.h) and beat the lanes
  // (bench_small, best of 3: random row 4.95 us with lanes from B1 = 125 at
  // every size, 4.43 us without them below 2^60).
  const bool ifma = HaveIfma() && n >= Mont64Lazy::kLimit;
  uint64_t sigma = kFirstSigma;
  // A first look for small factors: one curve at the lowest level, whatever
  // the size of n. Random cofactors mostly have one, and this finds it for
  // less than the 256-step rho it replaced (bench_small, best of 3: random
  // row 6.5 -> 5.5 us; a first pair of curves instead of one costs the 32x32
  // row 1.3 us and gains the random row nothing).
  if (const uint64_t d = EcmCurve(m, sigma, GetEcmLevel(0)); d != 0) return d;
  ++sigma;
  int level = EcmLevelIndexFor(EcmStartB1(BitLength64(n), ifma));
  int level_curves = level == 0 ? 1 : 0;
  for (int curves = 0; curves < 16 * kCurvesPerLevel64;) {
    if (level_curves >= kCurvesPerLevel64 && level + 1 < EcmLevelCount()) {
      ++level;
      level_curves = 0;
    }
    const EcmLevel& at = GetEcmLevel(level);
    const uint64_t d =
        ifma ? EcmCurvesIfma(m, sigma, at) : EcmCurves<Mont64, kLanes64>(m, sigma, at);
    if (d != 0) return d;
    const int lanes = ifma ? kIfmaLanes : kLanes64;
    sigma += static_cast<uint64_t>(lanes);
    curves += lanes;
    level_curves += lanes;
  }
  // Not reached in practice; rho always finishes.
  for (uint64_t c = 1;; ++c) {
    const uint64_t d = RhoBrent(m, m.ToMont(c), ~0ull);
    if (d != 0) return d;
  }
}

// Appends the prime factors of n (no prime factor below kTrialLimit64), unsorted.
void FactorCofactor64(uint64_t n, std::vector<uint64_t>* out) {
  if (n == 1) return;
  if (n < static_cast<uint64_t>(kTrialLimit64) * kTrialLimit64) {
    out->push_back(n);
    return;
  }
  const Mont64 m(n);
  if (BpswNoSmallFactors(m)) {
    out->push_back(n);
    return;
  }
  u128 root;
  const int k = PerfectPower128(n, kTrialLimit64, &root);
  if (k > 1) {
    std::vector<uint64_t> root_factors;
    FactorCofactor64(Lo64(root), &root_factors);
    for (int i = 0; i < k; ++i) out->insert(out->end(), root_factors.begin(), root_factors.end());
    return;
  }
  const uint64_t d = Split64(m);
  FactorCofactor64(d, out);
  FactorCofactor64(n / d, out);
}

// Two-limb cofactors: rho for factors below ~2^22, a few ECM curves for
// factors up to ~32 bits (cheap next to a sieve run), then the quadratic
// sieve, whose time depends only on the size of n. Measured at 128 bits:
// ECM needs ~0.1 ms for a 24-bit factor, ~0.5 ms for 32 bits, ~5 ms for 40
// bits; the sieve ~13 ms.
constexpr uint64_t kRhoIterations128 = 1u << 12;
struct Stage {
  uint32_t b1;
  int curves;
};
constexpr Stage kEcmBeforeSieve[] = {{150, 3}, {300, 6}};
constexpr int kSmallSieveBits = 96;  // below this only the first stage runs
// When the sieve fails (no dependency split n; not seen in testing), ECM
// carries on alone; the last stage repeats.
constexpr Stage kEcmAfterSieve[] = {
    {450, 8},   {800, 12},   {1300, 16},   {2200, 24},   {3000, 32},
    {5500, 48}, {11000, 80}, {25000, 160}, {50000, 300}, {100000, 1000000},
};

// Runs stage.curves curves per stage; returns a factor, or 0 (none found or cancelled).
template <size_t N>
u128 RunEcm(const Mont128& m, const Stage (&stages)[N], size_t count, uint64_t* sigma,
            const Hooks& hooks) {
  for (size_t s = 0; s < count && s < N; ++s) {
    const EcmLevel& level = GetEcmLevel(EcmLevelIndexFor(stages[s].b1));
    for (int c = 0; c < stages[s].curves; ++c) {
      if (hooks.Cancelled()) return 0;
      const u128 f = EcmCurve(m, (*sigma)++, level);
      if (f != 0) return f;
    }
  }
  return 0;
}

// A factor d, 1 < d < n, of an odd composite n >= 2^64 that is not a perfect
// power and has no prime factor below kTrialLimit128; 0 when cancelled.
u128 Split128(const Mont128& m, const Hooks& hooks) {
  if (hooks.Cancelled()) return 0;
  const u128 n = m.n();
  if (const u128 d = RhoBrent(m, m.ToMont(1), kRhoIterations128); d != 0) return d;
  uint64_t sigma = kFirstSigma;
  const size_t stages = BitLength128(n) < kSmallSieveBits ? 1 : std::size(kEcmBeforeSieve);
  if (const u128 d = RunEcm(m, kEcmBeforeSieve, stages, &sigma, hooks); d != 0) return d;
  if (hooks.Cancelled()) return 0;
  if (const u128 d = TinyQsFactor(n, hooks); d != 0) return d;
  while (!hooks.Cancelled()) {
    if (const u128 d = RunEcm(m, kEcmAfterSieve, std::size(kEcmAfterSieve), &sigma, hooks);
        d != 0) {
      return d;
    }
  }
  return 0;
}

// Appends the prime factors of n (no prime factor below kTrialLimit128),
// unsorted. Returns false when cancelled.
bool FactorCofactor128(u128 n, std::vector<u128>* out, const Hooks& hooks) {
  if (n == 1) return true;
  if (Hi64(n) == 0) {
    std::vector<uint64_t> f;
    FactorCofactor64(Lo64(n), &f);
    out->insert(out->end(), f.begin(), f.end());
    return true;
  }
  const Mont128 m(n);
  if (BpswNoSmallFactors(m)) {
    out->push_back(n);
    return true;
  }
  u128 root;
  const int k = PerfectPower128(n, kTrialLimit128, &root);
  if (k > 1) {
    std::vector<u128> root_factors;
    if (!FactorCofactor128(root, &root_factors, hooks)) {
      out->insert(out->end(), root_factors.begin(), root_factors.end());
      return false;
    }
    for (int i = 0; i < k; ++i) out->insert(out->end(), root_factors.begin(), root_factors.end());
    return true;
  }
  const u128 d = Split128(m, hooks);
  if (d == 0) return false;
  if (hooks.on_factor) hooks.on_factor(mpz_class(ToString128(d)));
  return FactorCofactor128(d, out, hooks) && FactorCofactor128(n / d, out, hooks);
}

}  // namespace

void Factor64(uint64_t n, std::vector<uint64_t>* out) {
  const size_t first = out->size();
  const uint64_t cofactor = TrialDivide64(n, kTrialLimit64, out);
  FactorCofactor64(cofactor, out);
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
}

bool Factor128(u128 n, std::vector<u128>* out, const Hooks& hooks) {
  const size_t first = out->size();
  bool finished = true;
  if (Hi64(n) == 0) {
    std::vector<uint64_t> f;
    Factor64(Lo64(n), &f);
    out->insert(out->end(), f.begin(), f.end());
  } else {
    const u128 cofactor = TrialDivide128(n, kTrialLimit128, out);
    finished = FactorCofactor128(cofactor, out, hooks);
  }
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
  return finished;
}

}  // namespace zfactor::math::small
