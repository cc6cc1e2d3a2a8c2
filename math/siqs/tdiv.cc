#include "math/siqs/tdiv.h"

#include <algorithm>

#include "math/siqs/cofactor.h"

namespace zfactor::math::siqs {

namespace {
// offset < 2^22 and p < 2^15: (offset * reciprocal) >> 42 is offset / p exactly.
constexpr int kReciprocalShift = 42;
}  // namespace

TrialDivider::TrialDivider(const FactorBase& fb, uint64_t large_prime_bound, uint64_t double_bound)
    : fb_(fb),
      lp_bound_(large_prime_bound),
      double_bound_(double_bound),
      prime_squared_(uint64_t{fb.largest()} * fb.largest()),
      reciprocal_(fb.first_bucket),
      found_(fb.first_bucket + 1) {
  for (uint32_t i = fb.first_sieved; i < fb.first_bucket; ++i) {
    reciprocal_[i] = (uint64_t{1} << kReciprocalShift) / fb.prime[i] + 1;
  }
}

void TrialDivider::DivideOut(uint32_t index, Relation* out) {
  const uint32_t p = fb_.prime[index];
  while (mpz_divisible_ui_p(q_.get_mpz_t(), p)) {
    mpz_divexact_ui(q_.get_mpz_t(), q_.get_mpz_t(), p);
    out->factors.push_back(index);
  }
}

bool TrialDivider::Divide(const PolyState& poly, const BlockSieve& sieve, uint32_t offset,
                          Relation* out) {
  out->factors.clear();
  out->large_prime = 1;
  out->large_prime2 = 1;
  const long x = static_cast<long>(offset) - static_cast<long>(poly.half_width());
  out->y = poly.a().a * x + poly.b();
  q_ = out->y * out->y - fb_.kn;
  mpz_divexact(q_.get_mpz_t(), q_.get_mpz_t(), poly.a().a.get_mpz_t());
  if (sgn(q_) == 0) return false;
  if (sgn(q_) < 0) {
    out->factors.push_back(0);
    q_ = -q_;
  }
  for (uint32_t idx : poly.a().factors) {
    out->factors.push_back(idx);
    DivideOut(idx, out);
  }
  const mp_bitcnt_t twos = mpz_scan1(q_.get_mpz_t(), 0);
  out->factors.insert(out->factors.end(), twos, 1);
  mpz_tdiv_q_2exp(q_.get_mpz_t(), q_.get_mpz_t(), twos);
  for (uint32_t i = 2; i < fb_.first_sieved; ++i) DivideOut(i, out);

  const uint32_t* root1 = poly.root1().data();
  const uint32_t* root2 = poly.root2().data();
  const uint32_t* prime = fb_.prime.data();
  const uint64_t* reciprocal = reciprocal_.data();
  // Collect the medium primes whose roots match first (a tight loop), then divide.
  uint32_t* found = found_.data();
  uint32_t num_found = 0;
  const uint32_t end = fb_.first_bucket;
  for (uint32_t i = fb_.first_sieved; i < end; ++i) {
    const uint32_t r =
        offset - static_cast<uint32_t>((offset * reciprocal[i]) >> kReciprocalShift) * prime[i];
    found[num_found] = i;
    num_found += (r == root1[i]) | (r == root2[i]);
  }
  for (uint32_t k = 0; k < num_found; ++k) {
    if (!poly.IsAFactor(found[k])) DivideOut(found[k], out);
  }
  const auto& hits = sieve.large_hits();
  auto it = std::lower_bound(hits.begin(), hits.end(), std::make_pair(offset, uint32_t{0}));
  for (; it != hits.end() && it->first == offset; ++it) DivideOut(it->second, out);
  if (q_ == 1) return true;
  if (!mpz_fits_ulong_p(q_.get_mpz_t())) return false;
  const uint64_t cofactor = q_.get_ui();
  if (cofactor < lp_bound_) {
    out->large_prime = cofactor;
    return true;
  }
  // No prime factor of the cofactor is below the largest factor-base prime,
  // so below its square the cofactor is a prime (too large to use).
  if (cofactor >= double_bound_ || cofactor < prime_squared_ || ProbablePrime64(cofactor))
    return false;
  const uint64_t f = SplitLargePrimes(cofactor);
  if (f == 0) return false;
  const uint64_t g = cofactor / f;
  if (f >= lp_bound_ || g >= lp_bound_) return false;
  out->large_prime = std::min(f, g);
  out->large_prime2 = std::max(f, g);
  return true;
}

}  // namespace zfactor::math::siqs
