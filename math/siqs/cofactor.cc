#include "math/siqs/cofactor.h"

#include <algorithm>
#include <numeric>

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

uint64_t SplitComposite64(uint64_t n) {
  if ((n & 1) == 0) return 2;
  for (uint64_t c = 1; c < 6; ++c) {
    const uint64_t g = Rho(n, c);
    if (g != 0) return g;
  }
  return 0;
}

}  // namespace zfactor::math::siqs
