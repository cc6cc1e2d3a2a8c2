#include "math/siqs/cofactor.h"

#include <algorithm>
#include <numeric>

#include "math/small/bpsw.h"
#include "math/small/ecm.h"
#include "math/small/montgomery.h"

namespace zfactor::math::siqs {
namespace {

__extension__ typedef unsigned __int128 u128;

uint64_t MulMod(uint64_t a, uint64_t b, uint64_t n) {
  return static_cast<uint64_t>(static_cast<u128>(a) * b % n);
}

uint64_t PowMod64(uint64_t a, uint64_t e, uint64_t n) {
  uint64_t r = 1;
  a %= n;
  while (e != 0) {
    if (e & 1) r = MulMod(r, a, n);
    a = MulMod(a, a, n);
    e >>= 1;
  }
  return r;
}

// Montgomery multiplication modulo an odd n < 2^63 (R = 2^64).
class Montgomery {
 public:
  explicit Montgomery(uint64_t n) : n_(n) {
    uint64_t inv = n;
    for (int i = 0; i < 5; ++i) inv *= 2 - n * inv;  // n * inv = 1 mod 2^64
    neg_inv_ = 0 - inv;
  }
  uint64_t Mul(uint64_t a, uint64_t b) const {
    const u128 t = static_cast<u128>(a) * b;
    const uint64_t m = static_cast<uint64_t>(t) * neg_inv_;
    const uint64_t r = static_cast<uint64_t>((t + static_cast<u128>(m) * n_) >> 64);
    return r >= n_ ? r - n_ : r;
  }

 private:
  uint64_t n_;
  uint64_t neg_inv_;
};

uint64_t Rho(uint64_t n, uint64_t c) {
  const Montgomery mont(n);
  auto f = [&](uint64_t x) {
    uint64_t y = mont.Mul(x, x) + c;
    return y >= n ? y - n : y;
  };
  constexpr uint64_t kBatch = 64;
  constexpr uint64_t kMaxSteps = 1u << 18;
  uint64_t y = 2, x = 2, ys = 2, q = 1, g = 1;
  for (uint64_t r = 1; g == 1 && r <= kMaxSteps; r *= 2) {
    x = y;
    for (uint64_t i = 0; i < r; ++i) y = f(y);
    for (uint64_t k = 0; k < r && g == 1; k += kBatch) {
      ys = y;
      for (uint64_t i = 0; i < std::min(kBatch, r - k); ++i) {
        y = f(y);
        q = mont.Mul(q, x > y ? x - y : y - x);
      }
      g = std::gcd(q, n);
    }
  }
  if (g == n) {
    // The batch overshot: step one at a time from the batch start.
    do {
      ys = f(ys);
      g = std::gcd(x > ys ? x - ys : ys - x, n);
    } while (g == 1);
  }
  return (g == 1 || g == n) ? 0 : g;
}

}  // namespace

bool IsPrime64(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t p : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    if (n % p == 0) return n == p;
  }
  uint64_t d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  for (uint64_t a : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    uint64_t x = PowMod64(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int i = 1; i < s && composite; ++i) {
      x = MulMod(x, x, n);
      if (x == n - 1) composite = false;
    }
    if (composite) return false;
  }
  return true;
}

namespace {

// Micro-ECM (math/small) on a composite whose prime factors all exceed 7:
// up to kEcmBatches batches of two curves, B1 chosen by the size of n (its
// smaller factor has at most half the bits), moving up one level every
// kBatchesPerLevel batches. Returns a factor or 0.
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

uint64_t Ecm(uint64_t n) {
  using small::Mont64;
  const Mont64 m(n);
  int level = small::EcmLevelIndexFor(EcmFirstB1(small::BitLength64(n)));
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
// beats ECM.
constexpr int kRhoMaxBits = 36;

}  // namespace

uint64_t SplitComposite64(uint64_t n) {
  if ((n & 1) == 0) return 2;
  for (uint64_t p : {3, 5, 7}) {
    if (n % p == 0) return p;
  }
  if (small::BitLength64(n) > kRhoMaxBits) {
    if (const uint64_t d = Ecm(n); d != 0) return d;
  }
  for (uint64_t c = 1; c < 6; ++c) {
    const uint64_t g = Rho(n, c);
    if (g != 0) return g;
  }
  return 0;
}

bool ProbablePrime64(uint64_t n) { return small::StrongFermatBase2(small::Mont64(n)); }

uint64_t SplitLargePrimes(uint64_t n) {
  if (small::BitLength64(n) <= kRhoMaxBits) return Rho(n, 1);
  return Ecm(n);
}

}  // namespace zfactor::math::siqs
