// The B1/B2 ladder of micro-ECM and its shared precomputation: the stage-1
// multiplier and the stage-2 prime-pair plan. Each level is built on first use.
#include <array>
#include <mutex>

#include "math/small/ecm.h"

namespace zfactor::math::small {
namespace {

struct Bounds {
  uint32_t b1, b2;
};

// Small levels serve 64-bit inputs (factors of 16-32 bits); the rest serve
// two-limb inputs with factors up to ~64 bits.
constexpr std::array<Bounds, 24> kBounds = {{
    {27, 1350},       {47, 2350},       {70, 3500},        {85, 4250},         {125, 6250},
    {150, 7500},      {200, 10000},     {300, 15000},      {450, 22500},       {600, 30000},
    {800, 40000},     {1000, 50000},    {1300, 65000},     {1700, 85000},      {2200, 110000},
    {3000, 150000},   {4000, 200000},   {5500, 275000},    {7500, 375000},     {11000, 550000},
    {25000, 1250000}, {50000, 2500000}, {100000, 5000000}, {250000, 12500000},
}};

std::vector<bool> PrimeFlags(uint32_t limit) {
  std::vector<bool> prime(limit + 1, true);
  prime[0] = false;
  if (limit >= 1) prime[1] = false;
  for (uint64_t p = 2; p * p <= limit; ++p) {
    if (!prime[p]) continue;
    for (uint64_t q = p * p; q <= limit; q += p) prime[q] = false;
  }
  return prime;
}

uint32_t GcdU32(uint32_t a, uint32_t b) {
  while (b != 0) {
    const uint32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

}  // namespace

EcmLevel MakeEcmLevel(uint32_t b1, uint32_t b2, uint32_t d) {
  const Bounds bounds{b1, b2};
  EcmLevel level;
  level.b1 = bounds.b1;
  level.b2 = bounds.b2;
  const std::vector<bool> prime = PrimeFlags(bounds.b2);

  // Stage-1 multiplier: prod over p <= B1 of the largest p^e <= B1.
  std::vector<uint64_t>& k = level.multiplier;
  k.assign(1, 1);
  for (uint32_t p = 2; p <= bounds.b1; ++p) {
    if (!prime[p]) continue;
    uint64_t pe = p;
    while (pe * p <= bounds.b1) pe *= p;
    uint64_t carry = 0;
    for (uint64_t& limb : k) {
      const u128 t = static_cast<u128>(limb) * pe + carry;
      limb = Lo64(t);
      carry = Hi64(t);
    }
    if (carry != 0) k.push_back(carry);
  }
  level.multiplier_bits = 64 * static_cast<int>(k.size() - 1) + BitLength64(k.back());

  // Stage-2 plan: every prime p in (B1, B2] as k*d +- j, j a baby step.
  // With normalised giant steps (ecm.h) the larger d wins from B2 ~ 2000 on.
  if (d == 0) d = bounds.b2 < 2000 ? 60 : 210;
  level.d = d;
  std::vector<int> index_of(d / 2, -1);
  for (uint32_t j = 1; j < d / 2; j += 2) {
    if (GcdU32(j, d) != 1) continue;
    index_of[j] = static_cast<int>(level.baby.size());
    level.baby.push_back(j);
  }
  level.first_giant = bounds.b1 / d > 0 ? bounds.b1 / d : 1;
  const uint32_t last_giant = (bounds.b2 + d / 2) / d;
  level.pair_masks.assign(last_giant - level.first_giant + 1, 0);
  for (uint32_t p = bounds.b1 + 1; p <= bounds.b2; ++p) {
    if (!prime[p]) continue;
    const uint32_t kk = (p + d / 2) / d;
    if (kk < level.first_giant) continue;  // only primes just above a tiny B1
    const uint32_t j = kk * d > p ? kk * d - p : p - kk * d;
    level.pair_masks[kk - level.first_giant] |= 1u << index_of[j];
  }
  return level;
}

int EcmLevelCount() { return static_cast<int>(kBounds.size()); }

const EcmLevel& GetEcmLevel(int index) {
  static std::array<std::once_flag, kBounds.size()> once;
  static std::array<EcmLevel, kBounds.size()> levels;
  std::call_once(once[index],
                 [index] { levels[index] = MakeEcmLevel(kBounds[index].b1, kBounds[index].b2); });
  return levels[index];
}

int EcmLevelIndexFor(uint32_t b1) {
  for (int i = 0; i < EcmLevelCount(); ++i) {
    if (kBounds[i].b1 >= b1) return i;
  }
  return EcmLevelCount() - 1;
}

}  // namespace zfactor::math::small
