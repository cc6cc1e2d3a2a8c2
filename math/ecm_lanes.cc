#include "math/ecm_lanes.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "math/ecm_lanes_kernel.h"
#include "math/small/cpu.h"
#include "math/trial.h"

namespace zfactor::math::ecm_lanes {
namespace {

using kernel::kLimbBits;
using kernel::kMaxLimbs;

// Ladder steps between two polls of the stop flag: 1-4 ms from 3 to 10 limbs.
constexpr uint64_t kStepsPerPoll = 4096;
// Stage 2's giant steps between two polls: ~100 terms each, 1-5 ms in all.
constexpr uint64_t kGiantsPerPoll = 256;

int LimbsFor(const mpz_class& n) {
  const int bits = static_cast<int>(mpz_sizeinbase(n.get_mpz_t(), 2)) + kernel::kHeadroomBits;
  return std::max(2, (bits + kLimbBits - 1) / kLimbBits);
}

// v (0 <= v < 2^(52 limbs)) in limbs of 52 bits, least significant first,
// written to out[0], out[stride], ...
void ToLimbs(const mpz_class& v, int limbs, uint64_t* out, int stride) {
  mpz_class rest = v;
  for (int i = 0; i < limbs; ++i) {
    mpz_class limb;
    mpz_fdiv_r_2exp(limb.get_mpz_t(), rest.get_mpz_t(), kLimbBits);
    out[i * stride] = mpz_get_ui(limb.get_mpz_t());
    mpz_fdiv_q_2exp(rest.get_mpz_t(), rest.get_mpz_t(), kLimbBits);
  }
}

mpz_class FromLimbs(const uint64_t* in, int limbs, int stride) {
  mpz_class v = 0;
  for (int i = limbs - 1; i >= 0; --i) {
    mpz_mul_2exp(v.get_mpz_t(), v.get_mpz_t(), kLimbBits);
    v += static_cast<unsigned long>(in[i * stride]);
  }
  return v;
}

kernel::Modulus MakeModulus(const mpz_class& n) {
  kernel::Modulus m;
  m.limbs = LimbsFor(n);
  ToLimbs(n, m.limbs, m.n, 1);
  ToLimbs(2 * n, m.limbs, m.two_n, 1);
  ToLimbs(4 * n, m.limbs, m.four_n, 1);
  const mpz_class base = mpz_class(1) << kLimbBits;
  mpz_class inv;
  mpz_invert(inv.get_mpz_t(), n.get_mpz_t(), base.get_mpz_t());
  m.neg_inv = mpz_get_ui(mpz_class(base - inv).get_mpz_t()) & (base.get_ui() - 1);
  return m;
}

}  // namespace

bool Available(const mpz_class& n) {
#if defined(ZF_IFMA_KERNEL)
  return small::UseAvx512Ifma() && mpz_odd_p(n.get_mpz_t()) && n > 1 && LimbsFor(n) <= kMaxLimbs;
#else
  (void)n;
  return false;  // the kernel is built on x86-64 only
#endif
}

mpz_class CurveA(const mpz_class& n, uint32_t t) {
  mpz_class inv;
  mpz_invert(inv.get_mpz_t(), mpz_class(mpz_class(1) << kLimbBits).get_mpz_t(), n.get_mpz_t());
  mpz_class a = 4 * mpz_class(t) * t * inv - 2;
  mpz_mod(a.get_mpz_t(), a.get_mpz_t(), n.get_mpz_t());
  return a;
}

mpz_class Stage1Multiplier(double b1) {
  const auto limit = static_cast<uint32_t>(std::min(b1, 4e9));
  // Multiplied pairwise up a tree, so that GMP multiplies numbers of similar
  // size (a running product would cost quadratic time at large b1).
  std::vector<mpz_class> level;
  for (const uint32_t p : SievePrimes(limit + 1)) {
    uint64_t q = p;
    while (q * p <= limit) q *= p;
    level.emplace_back(static_cast<unsigned long>(q));
  }
  if (level.empty()) return 1;
  while (level.size() > 1) {
    std::vector<mpz_class> up;
    for (size_t i = 0; i + 1 < level.size(); i += 2) up.push_back(level[i] * level[i + 1]);
    if (level.size() % 2 == 1) up.push_back(level.back());
    level.swap(up);
  }
  return level[0];
}

bool Stage1(const mpz_class& n, const mpz_class& k, const uint32_t* t, int count, const Job& job,
            Stage1Result* out) {
  const kernel::Modulus m = MakeModulus(n);
  // Lanes past count run a copy of the first curve and are ignored.
  kernel::Ladder ladder;
  for (int l = 0; l < kernel::kLanes; ++l) {
    const uint32_t tl = t[l < count ? l : 0];
    ladder.d_word[l] = uint64_t{tl} * tl;
    // Montgomery form values stand for value / R: any common factor of X and
    // Z is harmless, so P = (2 : 1) and 2P = (9 : 8 (2A + 5)) are stored as is.
    const mpz_class z2 = 8 * (2 * CurveA(n, tl) + 5) % n;
    ToLimbs(2, m.limbs, &ladder.x[0][0][l], kernel::kLanes);
    ToLimbs(1, m.limbs, &ladder.z[0][0][l], kernel::kLanes);
    ToLimbs(9, m.limbs, &ladder.x[1][0][l], kernel::kLanes);
    ToLimbs(z2, m.limbs, &ladder.z[1][0][l], kernel::kLanes);
  }
  // The ladder starts at j = 1, k's top bit.
  const uint64_t* words = reinterpret_cast<const uint64_t*>(mpz_limbs_read(k.get_mpz_t()));
  static_assert(sizeof(mp_limb_t) == sizeof(uint64_t), "k is read as 64-bit words");
  for (uint64_t hi = mpz_sizeinbase(k.get_mpz_t(), 2) - 1; hi > 0;) {
    if (job.Stopped()) return false;
    const uint64_t lo = hi > kStepsPerPoll ? hi - kStepsPerPoll : 0;
#if defined(ZF_IFMA_KERNEL)
    kernel::Run(m, &ladder, words, hi, lo);
#endif
    hi = lo;
  }
  for (int l = 0; l < count; ++l) {
    const mpz_class x = FromLimbs(&ladder.x[0][0][l], m.limbs, kernel::kLanes);
    const mpz_class z = FromLimbs(&ladder.z[0][0][l], m.limbs, kernel::kLanes);
    Stage1Result& r = out[l];
    mpz_gcd(r.factor.get_mpz_t(), z.get_mpz_t(), n.get_mpz_t());
    if (r.factor > 1 && r.factor < n) {
      r.x = 0;
      continue;
    }
    r.factor = 0;
    if (mpz_invert(r.x.get_mpz_t(), z.get_mpz_t(), n.get_mpz_t()) == 0) {
      r.x = 0;  // Z = 0 mod n: the curve found every factor at once
      continue;
    }
    r.x = r.x * x % n;
  }
  return true;
}

Stage2Plan::Stage2Plan(double b1, double b2) {
  std::vector<int> index(kD / 2, -1);
  for (uint32_t j = 1; j < kD / 2; j += 2) {
    if (std::gcd(j, kD) != 1) continue;
    index[j] = static_cast<int>(babies_.size());
    babies_.push_back(static_cast<uint16_t>(j));
  }
  words_ = static_cast<int>((babies_.size() + 63) / 64);
  // Prime q belongs to giant step m = round(q / D), baby j = |q - m D|
  // (odd, coprime to D and below D / 2 for every prime q > 11).
  const auto lo = static_cast<uint64_t>(b1) + 1, hi = static_cast<uint64_t>(b2);
  first_giant_ = (lo + kD / 2) / kD;
  giants_ = (hi + kD / 2) / kD - first_giant_ + 1;
  bits_.assign(giants_ * static_cast<uint64_t>(words_), 0);
  // A segmented sieve of Eratosthenes over [lo, hi].
  const std::vector<uint32_t> base = SievePrimes(static_cast<uint32_t>(std::sqrt(b2)) + 2);
  constexpr uint64_t kSegment = uint64_t{1} << 18;
  std::vector<uint8_t> composite;
  for (uint64_t start = lo; start <= hi; start += kSegment) {
    const uint64_t end = std::min(hi + 1, start + kSegment);
    composite.assign(end - start, 0);
    for (const uint32_t p : base) {
      const uint64_t square = uint64_t{p} * p;
      if (square >= end) break;
      for (uint64_t v = std::max(square, (start + p - 1) / p * p); v < end; v += p) {
        composite[v - start] = 1;
      }
    }
    for (uint64_t q = start; q < end; ++q) {
      if (composite[q - start] != 0) continue;
      const uint64_t m = (q + kD / 2) / kD;
      const uint64_t j = q > m * kD ? q - m * kD : m * kD - q;
      const int b = index[j];
      bits_[(m - first_giant_) * static_cast<uint64_t>(words_) + static_cast<uint64_t>(b / 64)] |=
          uint64_t{1} << (b % 64);
    }
  }
}

bool Stage2(const mpz_class& n, const Stage2Plan& plan, const uint32_t* t, const mpz_class* x,
            int count, const Job& job, mpz_class* factor) {
  const kernel::Modulus m = MakeModulus(n);
  const mpz_class r = (mpz_class(1) << (kLimbBits * m.limbs)) % n;  // R mod n
  auto state = std::make_unique<kernel::Stage2State>();
  bool live[kernel::kLanes] = {};
  for (int l = 0; l < kernel::kLanes; ++l) {
    live[l] = l < count && x[l] != 0;
    if (l < count) factor[l] = 0;
    // Dead lanes run curve 0 from x = 2, and are ignored.
    const uint32_t tl = l < count ? t[l] : t[0];
    state->d_word[l] = uint64_t{tl} * tl;
    ToLimbs((live[l] ? x[l] : mpz_class(2)) * r % n, m.limbs, &state->q_x[0][l], kernel::kLanes);
    ToLimbs(r, m.limbs, &state->q_z[0][l], kernel::kLanes);
  }
  const std::vector<uint16_t>& baby_j = plan.babies();
  const int babies = static_cast<int>(baby_j.size());
  std::vector<kernel::LaneNumber> baby_x(static_cast<size_t>(babies)),
      baby_z(static_cast<size_t>(babies));
#if defined(ZF_IFMA_KERNEL)
  kernel::Stage2Start(m, plan.d(), baby_j.data(), babies, plan.first_giant(), baby_x.data(),
                      baby_z.data(), state.get());
#endif
  // The babies' affine x, lane by lane, with one inversion for all of a
  // lane's babies (Montgomery's trick); x R for the kernel's form.
  std::vector<mpz_class> z(static_cast<size_t>(babies)), prefix(static_cast<size_t>(babies));
  for (int l = 0; l < count; ++l) {
    if (!live[l]) continue;
    for (int b = 0; b < babies; ++b) {
      z[b] = FromLimbs(&baby_z[b][0][l], m.limbs, kernel::kLanes) % n;
      prefix[b] = b == 0 ? z[b] : mpz_class(prefix[b - 1] * z[b] % n);
    }
    mpz_class inv;
    if (mpz_invert(inv.get_mpz_t(), prefix.back().get_mpz_t(), n.get_mpz_t()) == 0) {
      // Some j Q is the point at infinity mod a prime of n: its Z shares it.
      live[l] = false;
      for (int b = 0; b < babies && factor[l] == 0; ++b) {
        mpz_class g;
        mpz_gcd(g.get_mpz_t(), z[b].get_mpz_t(), n.get_mpz_t());
        if (g > 1 && g < n) factor[l] = g;
      }
      continue;
    }
    for (int b = babies - 1; b >= 0; --b) {
      const mpz_class z_inv = b == 0 ? inv : mpz_class(inv * prefix[b - 1] % n);
      if (b > 0) inv = inv * z[b] % n;
      const mpz_class xb = FromLimbs(&baby_x[b][0][l], m.limbs, kernel::kLanes);
      ToLimbs(xb * z_inv % n * r % n, m.limbs, &baby_x[b][0][l], kernel::kLanes);
    }
  }
  for (uint64_t g = 0; g < plan.giants(); g += kGiantsPerPoll) {
    if (job.Stopped()) return false;
#if defined(ZF_IFMA_KERNEL)
    kernel::Stage2Giants(m, baby_x.data(), plan.bits(g), plan.words(),
                         std::min(kGiantsPerPoll, plan.giants() - g), state.get());
#endif
  }
  for (int l = 0; l < count; ++l) {
    if (!live[l]) continue;
    const mpz_class acc = FromLimbs(&state->acc[0][l], m.limbs, kernel::kLanes);
    mpz_gcd(factor[l].get_mpz_t(), acc.get_mpz_t(), n.get_mpz_t());
    if (factor[l] == n) factor[l] = 0;  // every prime at once: the curve tells nothing
    if (factor[l] == 1) factor[l] = 0;
  }
  return true;
}

}  // namespace zfactor::math::ecm_lanes
