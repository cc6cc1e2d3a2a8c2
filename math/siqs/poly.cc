#include "math/siqs/poly.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace zfactor::math::siqs {
namespace {

// Natural logarithm of a positive mpz.
double LogMpz(const mpz_class& x) {
  long exp = 0;
  const double d = mpz_get_d_2exp(&exp, x.get_mpz_t());
  return std::log(d) + static_cast<double>(exp) * std::log(2.0);
}

// The clones' load-time resolver would run before ThreadSanitizer's runtime
// is up (and crash in its instrumentation), so a TSan build goes without.
#if defined(__SANITIZE_THREAD__)
#define ZF_SIMD_CLONES
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ZF_SIMD_CLONES
#endif
#endif
#ifndef ZF_SIMD_CLONES
#define ZF_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

// r = (r + d) mod p, or (r - d) mod p when `subtract`, for both roots of n
// primes (REQUIRES: r, d < p). A hot loop: compiled for AVX-512 and AVX2 as
// well as the baseline, the best picked at load time.
ZF_SIMD_CLONES void ShiftRoots(const uint32_t* prime, const uint32_t* delta, uint32_t n,
                               uint32_t* root1, uint32_t* root2, bool subtract) {
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t p = prime[k];
    const uint32_t d = subtract ? p - delta[k] : delta[k];
    const uint32_t r1 = root1[k] + d;
    const uint32_t r2 = root2[k] + d;
    root1[k] = r1 >= p ? r1 - p : r1;
    root2[k] = r2 >= p ? r2 - p : r2;
  }
}

}  // namespace

ASelector::ASelector(const FactorBase& fb, uint32_t half_width) : fb_(fb) {
  mpz_class two_kn = 2 * fb.kn;
  mpz_sqrt(target_.get_mpz_t(), two_kn.get_mpz_t());
  target_ /= half_width;
  if (target_ < 2) target_ = 2;
  const double log_target = LogMpz(target_);
  const uint32_t first = std::max(fb.first_sieved, fb.first_sorted);
  const uint32_t usable = fb.size() - first;
  // Prefer A factors of about 2000 (many B values per A, cheap root updates);
  // never above the middle of the usable factor base.
  const double cap = std::min(2000.0, static_cast<double>(fb.prime[first + usable / 2]));
  s_ = std::max<uint32_t>(1, static_cast<uint32_t>(std::ceil(log_target / std::log(cap))));
  const double avg = std::exp(log_target / s_);
  auto index_of = [&](double v) {
    const auto begin = fb.prime.begin() + first;
    return static_cast<uint32_t>(std::lower_bound(begin, fb.prime.end(), static_cast<uint32_t>(v)) -
                                 fb.prime.begin());
  };
  lo_ = std::max(first, index_of(avg / 1.6));
  hi_ = std::min(fb.size() - 1, std::max(index_of(avg * 1.6), lo_ + 4 * s_));
  if (hi_ <= lo_ + s_) lo_ = first;
}

APoly ASelector::Make(uint64_t seed, uint64_t index) const {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + index * 0xD1B54A32D192ED03ull + 1);
  const uint32_t first = std::max(fb_.first_sieved, fb_.first_sorted);
  APoly best;
  double best_err = 1e300;
  const double log_target = LogMpz(target_);
  for (int attempt = 0; attempt < 30; ++attempt) {
    std::vector<uint32_t> chosen;
    mpz_class product = 1;
    while (chosen.size() + 1 < s_) {
      // mt19937_64's output is fixed by the standard (a distribution's is not),
      // so every siever maps an A index to the same A.
      const uint32_t i = lo_ + static_cast<uint32_t>(rng() % (hi_ - lo_ + 1));
      if (std::find(chosen.begin(), chosen.end(), i) != chosen.end()) continue;
      chosen.push_back(i);
      product *= fb_.prime[i];
    }
    // Last factor: the prime closest to target / product.
    mpz_class need_z = target_ / product;
    const double need = need_z.get_d();
    auto it = std::lower_bound(fb_.prime.begin() + first, fb_.prime.end(),
                               static_cast<uint32_t>(std::min(need, 4e9)));
    uint32_t idx = static_cast<uint32_t>(it - fb_.prime.begin());
    if (idx >= fb_.size()) idx = fb_.size() - 1;
    if (idx > first && need - fb_.prime[idx - 1] < fb_.prime[idx] - need) --idx;
    while (std::find(chosen.begin(), chosen.end(), idx) != chosen.end()) {
      idx = (idx + 1 < fb_.size()) ? idx + 1 : first;
    }
    chosen.push_back(idx);
    product *= fb_.prime[idx];
    const double err = std::fabs(LogMpz(product) - log_target);
    if (err < best_err) {
      best_err = err;
      best.a = product;
      best.factors = chosen;
    }
    if (err < 0.5) break;
  }
  std::sort(best.factors.begin(), best.factors.end());
  for (uint32_t idx : best.factors) {
    const uint32_t q = fb_.prime[idx];
    mpz_class a_q = best.a / q;
    const uint32_t a_q_mod = static_cast<uint32_t>(mpz_fdiv_ui(a_q.get_mpz_t(), q));
    uint32_t g =
        static_cast<uint32_t>(static_cast<uint64_t>(fb_.sqrt_kn[idx]) * InvMod(a_q_mod, q) % q);
    if (g > q / 2) g = q - g;
    best.b_terms.push_back(a_q * g);
  }
  return best;
}

PolyState::PolyState(const FactorBase& fb, uint32_t half_width)
    : fb_(fb), m_(half_width), root1_(fb.size()), root2_(fb.size()), bainv_(), logp_(fb.logp) {}

size_t PolyState::bytes() const {
  return (root1_.size() + root2_.size() + bainv_.size()) * sizeof(uint32_t) + logp_.size();
}

void PolyState::StartA(const APoly& a) {
  a_ = a;
  const uint32_t s = static_cast<uint32_t>(a.factors.size());
  const uint32_t size = fb_.size();
  b_ = 0;
  for (const mpz_class& t : a.b_terms) b_ += t;
  sign_.assign(s, 1);
  c_ = b_ * b_ - fb_.kn;
  mpz_divexact(c_.get_mpz_t(), c_.get_mpz_t(), a_.a.get_mpz_t());
  bainv_.assign(static_cast<size_t>(s) * size, 0);
  logp_ = fb_.logp;
  for (uint32_t idx : a.factors) logp_[idx] = 0;
  std::vector<uint32_t> b_mod(s);
  for (uint32_t i = fb_.first_sieved; i < size; ++i) {
    const uint32_t p = fb_.prime[i];
    if (logp_[i] == 0) {
      root1_[i] = root2_[i] = 0;
      continue;
    }
    const uint32_t ainv = InvMod(static_cast<uint32_t>(mpz_fdiv_ui(a_.a.get_mpz_t(), p)), p);
    uint64_t bsum = 0;
    for (uint32_t j = 0; j < s; ++j) {
      const uint64_t bj = mpz_fdiv_ui(a.b_terms[j].get_mpz_t(), p);
      bsum += bj;
      bainv_[static_cast<size_t>(j) * size + i] = static_cast<uint32_t>(2 * bj * ainv % p);
    }
    const uint64_t bm = bsum % p;
    const uint64_t t = fb_.sqrt_kn[i];
    const uint64_t shift = m_ % p;
    root1_[i] = static_cast<uint32_t>(((t + p - bm) * ainv + shift) % p);
    root2_[i] = static_cast<uint32_t>(((2 * p - t - bm) * ainv + shift) % p);
  }
}

void PolyState::NextB(uint32_t i) {
  uint32_t v = 0;
  while (((i >> v) & 1) == 0) ++v;
  const uint32_t size = fb_.size();
  const uint32_t* delta = &bainv_[static_cast<size_t>(v) * size];
  const uint32_t first = fb_.first_sieved;
  if (sign_[v] > 0) {
    // B -> B - 2 B_v moves every root by +2 B_v / A.
    b_ -= 2 * a_.b_terms[v];
    sign_[v] = -1;
    ShiftRoots(fb_.prime.data() + first, delta + first, size - first, root1_.data() + first,
               root2_.data() + first, /*subtract=*/false);
  } else {
    b_ += 2 * a_.b_terms[v];
    sign_[v] = 1;
    ShiftRoots(fb_.prime.data() + first, delta + first, size - first, root1_.data() + first,
               root2_.data() + first, /*subtract=*/true);
  }
  c_ = b_ * b_ - fb_.kn;
  mpz_divexact(c_.get_mpz_t(), c_.get_mpz_t(), a_.a.get_mpz_t());
}

}  // namespace zfactor::math::siqs
