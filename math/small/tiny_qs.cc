#include "math/small/tiny_qs.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <unordered_map>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "math/small/bpsw.h"
#include "math/small/cpu.h"
#include "math/small/gcd.h"
#include "math/small/montgomery.h"
#include "math/small/primes.h"

namespace zfactor::math::small {
namespace {

struct Params {
  int max_bits;            // for n of at most this many bits
  uint32_t fb_size;        // primes in the factor base (2 included)
  uint32_t half_width;     // M: x runs over [-M, M)
  uint32_t lp_multiplier;  // large primes up to lp_multiplier * largest fb prime
  int fudge_bits;          // threshold slack below log2(max |Q(x)|)
};

// Chosen by timing balanced semiprimes of each size, then refined by
// instruction counts (bench/small/tune_qs under cachegrind: timings on the
// shared machine were too noisy to separate them). From 96 bits the fudge
// rose by 2 once candidates got cheap (alternating tune_qs runs: 128 bits
// 5% faster, 100 bits 3%).
constexpr Params kParams[] = {
    {72, 60, 4096, 20, 14},   {80, 120, 8192, 30, 18},  {88, 130, 8192, 30, 18},
    {96, 150, 8192, 40, 25},  {104, 220, 8192, 50, 25}, {112, 300, 8192, 60, 27},
    {120, 380, 8192, 70, 28}, {128, 450, 8192, 70, 30},
};

// Sieve offsets must stay below 2^17 for RootTable's reciprocals.
constexpr bool WidthsFitReciprocals() {
  for (const Params& p : kParams) {
    if (2 * p.half_width > (1u << 17)) return false;
  }
  return true;
}
static_assert(WidthsFitReciprocals(), "RootTable needs sieve offsets below 2^17");

// First fb primes below this are not sieved (their log is in the fudge).
constexpr uint32_t kSieveMinPrime = 30;
// Primes above width / kManyStepsPerRoot are sieved with a fixed number of
// steps per root (tune_qs at 128 bits: width / 8 to width / 24 equally good).
constexpr uint32_t kManyStepsPerRoot = 16;
// A's primes sit this many bits below the largest factor-base prime. (At 128
// bits 2.5 makes A of six primes, 32 polynomials per A, where 1.5 made five
// and 16: 7% more polynomials, but half the per-A set-up with its modular
// inverse per factor-base prime; tune_qs 4% faster.)
constexpr double kPolyPrimeGapBits = 2.5;
// Dependencies beyond the rank we aim for; each splits n with probability 1/2.
constexpr uint32_t kExtraRelations = 24;
constexpr uint16_t kMaxPolyPrimes = 10;
// Times more relations are gathered when no dependency split n.
constexpr int kSolveRounds = 4;

uint32_t MulMod32(uint32_t a, uint32_t b, uint32_t p) {
  return static_cast<uint32_t>(static_cast<uint64_t>(a) * b % p);
}

uint32_t PowMod32(uint32_t b, uint32_t e, uint32_t p) {
  uint32_t r = 1;
  for (; e != 0; e >>= 1) {
    if (e & 1) r = MulMod32(r, b, p);
    b = MulMod32(b, b, p);
  }
  return r;
}

// REQUIRES: gcd(a, p) == 1, p prime.
uint32_t InvMod32(uint32_t a, uint32_t p) {
  uint32_t inv = 0;
  InverseOrGcd<uint32_t>(a % p, p, &inv);
  return inv;
}

// A square root of a (a quadratic residue) mod an odd prime p: Tonelli-Shanks.
uint32_t SqrtMod32(uint32_t a, uint32_t p) {
  if (a == 0) return 0;
  uint32_t q = p - 1;
  int s = 0;
  while ((q & 1) == 0) {
    q >>= 1;
    ++s;
  }
  uint32_t z = 2;
  while (PowMod32(z, (p - 1) / 2, p) != p - 1) ++z;
  uint32_t m = static_cast<uint32_t>(s);
  uint32_t c = PowMod32(z, q, p);
  uint32_t t = PowMod32(a, q, p);
  uint32_t r = PowMod32(a, (q + 1) / 2, p);
  while (t != 1) {
    uint32_t i = 0;
    for (uint32_t t2 = t; t2 != 1; t2 = MulMod32(t2, t2, p)) ++i;
    uint32_t b = c;
    for (uint32_t k = 0; k + i + 1 < m; ++k) b = MulMod32(b, b, p);
    m = i;
    c = MulMod32(b, b, p);
    t = MulMod32(t, c, p);
    r = MulMod32(r, b, p);
  }
  return r;
}

struct FbPrime {
  uint32_t p;
  uint32_t sqrt_n;   // sqrt(n) mod p
  uint32_t m_mod_p;  // M mod p
  uint8_t logp;
  bool divides_k;         // p | k: one root, not sieved, never in A
  uint16_t sieve_rounds;  // ceil(width / 4p): SievePolynomial's steps of 4p per root
};

// Which factor-base primes divide Q(x) at sieve offset i: those with i mod
// p_k equal to one of their two roots, i mod p_k = i - p_k ((i r_k) >> 32)
// with r_k = ceil(2^32 / p_k), exact for i < 2^17. Roots of the prime 2 and
// of the padding are 2^32 - 1 and never match.
struct RootTable {
  const uint32_t* primes;
  const uint32_t* recips;  // ceil(2^32 / p)
  const uint32_t* root1;   // sieve offsets of the two roots, this polynomial
  const uint32_t* root2;
  uint32_t padded_size;  // a multiple of kRootLanes
};
constexpr uint32_t kRootLanes = 16;

// Portable: flags per prime, then the set ones, eight flags at a time.
// Returns the number of hits.
uint32_t MatchingRoots(uint32_t i, const RootTable& t, uint8_t* flags, uint32_t* hits) {
  // Plain locals: through t, every byte stored to flags could alias them,
  // and the loop would not vectorise.
  const uint32_t *primes = t.primes, *recips = t.recips, *root1 = t.root1, *root2 = t.root2;
  const uint32_t size = t.padded_size;
  for (uint32_t k = 0; k < size; ++k) {
    const uint32_t quotient = static_cast<uint32_t>((static_cast<uint64_t>(i) * recips[k]) >> 32);
    const uint32_t r = i - primes[k] * quotient;
    flags[k] = static_cast<uint8_t>((r == root1[k]) | (r == root2[k]));
  }
  uint32_t count = 0;
  for (uint32_t k0 = 0; k0 < size; k0 += 8) {
    uint64_t word;
    std::memcpy(&word, flags + k0, 8);
    for (; word != 0; word &= word - 1) {
      hits[count++] = k0 + __builtin_ctzll(word) / 8;
    }
  }
  return count;
}

#if defined(__x86_64__)
// The same test on sixteen primes per AVX-512 instruction, straight to hits
// without a branch per hit (they are few and unpredictable): each vector's
// hits are packed to the front of a register and all sixteen lanes stored.
// REQUIRES: hits has room for the hits plus kRootLanes.
__attribute__((target("avx512f"))) uint32_t MatchingRootsAvx512(uint32_t i, const RootTable& t,
                                                                uint32_t* hits) {
  const __m512i offset = _mm512_set1_epi32(static_cast<int>(i));
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  uint32_t count = 0;
  for (uint32_t k0 = 0; k0 < t.padded_size; k0 += kRootLanes) {
    const __m512i recip = _mm512_loadu_si512(t.recips + k0);
    // (i r) >> 32 per 32-bit lane: even lanes from the low halves of the
    // 64-bit lanes, odd lanes from the high halves. (The maskz forms with an
    // all-ones mask: GCC 12 warns about the undefined pass-through of the
    // plain ones.)
    const __m512i even =
        _mm512_maskz_srli_epi64(0xFF, _mm512_maskz_mul_epu32(0xFF, offset, recip), 32);
    const __m512i odd =
        _mm512_maskz_mul_epu32(0xFF, offset, _mm512_maskz_srli_epi64(0xFF, recip, 32));
    const __m512i quotient = _mm512_mask_blend_epi32(0xAAAA, even, odd);
    const __m512i r =
        _mm512_sub_epi32(offset, _mm512_mullo_epi32(_mm512_loadu_si512(t.primes + k0), quotient));
    const __mmask16 mask = _mm512_cmpeq_epi32_mask(r, _mm512_loadu_si512(t.root1 + k0)) |
                           _mm512_cmpeq_epi32_mask(r, _mm512_loadu_si512(t.root2 + k0));
    const __m512i k = _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int>(k0)));
    _mm512_storeu_si512(hits + count, _mm512_maskz_compress_epi32(mask, k));
    count += static_cast<uint32_t>(__builtin_popcount(mask));
  }
  return count;
}
#endif

// (A x + B)^2 - n = A Q(x); the relation keeps |A x + B| mod n and the
// factorisation of A Q(x) over the factor base (indices, with repetition).
struct Relation {
  u128 y;                         // |A x + B| mod n (or a product of two, combined)
  bool negative;                  // sign of Q(x) (parity, combined)
  u128 large_prime;               // 1, or a prime whose square divides the combined product
  std::vector<uint16_t> factors;  // fb indices
};

class Sieve {
 public:
  Sieve(u128 n, uint32_t k, const Params& params, const Hooks& hooks, bool use_avx512,
        TinyQsStats* stats)
      : n_(n),
        k_(k),
        params_(params),
        hooks_(hooks),
        use_avx512_(use_avx512),
        stats_(stats),
        mont_(n) {}

  u128 Run();

 private:
  // Returns a factor found while building the factor base (p | n), else 0.
  u128 BuildFactorBase();
  bool ChoosePolyPrimes();
  void SievePolynomial(const i128& b, const i128& c);
  void Candidate(uint32_t i, const i128& b, const i128& c);
  // Fills hits_ with the fb primes (k >= 1) whose roots match i; returns their count.
  uint32_t DividingPrimes(uint32_t i);
  u128 Solve();

  // (kn - b^2) / a, exact. REQUIRES: b^2 < kn, a | kn - b^2, result < 2^128.
  u128 KnMinusSquareOver(u128 b, uint64_t a) const;
  double Log2Kn() const { return std::log2(static_cast<double>(n_)) + std::log2(k_); }

  u128 n_;
  uint32_t k_;  // the multiplier: the sieve works on kn, relations hold mod n
  Params params_;
  const Hooks& hooks_;
  bool use_avx512_;
  TinyQsStats* stats_;  // never null
  Mont128 mont_;
  std::vector<FbPrime> fb_;
  std::vector<uint32_t> primes_;  // fb_[k].p, contiguous
  std::vector<double> log2p_;     // log2(fb_[k].p)
  uint64_t a_ = 0;
  std::vector<uint32_t> a_indices_;
  std::vector<uint64_t> used_a_;
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  // Per polynomial: sieve start offsets of the two roots, per fb prime.
  std::vector<uint32_t> root1_, root2_;
  std::vector<uint32_t> ainv_;
  std::vector<uint32_t> recips_;              // RootTable's, padded like primes_
  std::vector<uint8_t> flags_;                // Candidate's scratch: fb prime k divides Q(x)
  std::vector<uint32_t> hits_;                // Candidate's scratch: those k
  std::vector<uint16_t> factors_;             // Candidate's scratch: its fb factors
  std::vector<SmallPrime> divisors_;          // fb_[k]'s division-free test (not for 2)
  std::vector<std::vector<uint32_t>> delta_;  // [j][fb index]: 2 B_j / A mod p
  std::vector<uint8_t> sieve_;
  uint8_t threshold_init_ = 0;
  uint32_t first_sieved_ = 1;  // fb index of the first prime >= kSieveMinPrime
  uint64_t large_prime_bound_ = 0;
  std::vector<Relation> relations_;                  // full and combined
  std::unordered_map<uint64_t, Relation> partials_;  // by large prime
};

u128 Sieve::BuildFactorBase() {
  fb_.push_back({2, 1, 0, 1, false, 0});
  divisors_.push_back({});
  for (const SmallPrime& sp : OddPrimes()) {
    if (fb_.size() >= params_.fb_size) break;
    const uint32_t p = static_cast<uint32_t>(sp.p);
    const uint32_t n_mod_p = static_cast<uint32_t>(n_ % p);
    if (n_mod_p == 0) return p;
    const uint32_t r = MulMod32(k_ % p, n_mod_p, p);  // kn mod p
    if (r != 0 && PowMod32(r, (p - 1) / 2, p) != 1) continue;
    FbPrime f;
    f.p = p;
    f.sqrt_n = r == 0 ? 0 : SqrtMod32(r, p);
    f.m_mod_p = params_.half_width % p;
    f.logp = static_cast<uint8_t>(std::lround(std::log2(static_cast<double>(p))));
    f.divides_k = r == 0;
    f.sieve_rounds = static_cast<uint16_t>((2 * params_.half_width + 4 * p - 1) / (4 * p));
    fb_.push_back(f);
    divisors_.push_back(sp);
  }
  params_.fb_size = static_cast<uint32_t>(fb_.size());
  for (const FbPrime& f : fb_) log2p_.push_back(std::log2(static_cast<double>(f.p)));
  while (first_sieved_ < fb_.size() && fb_[first_sieved_].p < kSieveMinPrime) ++first_sieved_;
  large_prime_bound_ = static_cast<uint64_t>(fb_.back().p) * params_.lp_multiplier;
  // Threshold: log2 of the largest |Q(x)| ~ M sqrt(n / 2), less the slack.
  const double log_q = std::log2(static_cast<double>(params_.half_width)) + 0.5 * (Log2Kn() - 1);
  const int threshold = std::max(8, static_cast<int>(log_q) - params_.fudge_bits);
  threshold_init_ = static_cast<uint8_t>(std::max(0, 128 - threshold));
  return 0;
}

// Picks A = product of fb primes close to sqrt(2n) / M, not used before.
bool Sieve::ChoosePolyPrimes() {
  const double log_target =
      0.5 * (Log2Kn() + 1) - std::log2(static_cast<double>(params_.half_width));
  // s primes of about prime_bits bits each, comfortably inside the factor base.
  const double top_bits = std::log2(static_cast<double>(fb_.back().p)) - kPolyPrimeGapBits;
  const int s = std::clamp(static_cast<int>(std::ceil(log_target / top_bits)), 2,
                           static_cast<int>(kMaxPolyPrimes));
  const double prime_bits = log_target / s;
  // Candidates: fb primes within ~1.5 bits of that (all sieved primes if too few).
  uint32_t first_sieved = 1;
  while (first_sieved < fb_.size() && fb_[first_sieved].p < kSieveMinPrime) ++first_sieved;
  uint32_t lo = first_sieved, hi = static_cast<uint32_t>(fb_.size());
  while (lo < hi && log2p_[lo] < prime_bits - 1.5) ++lo;
  while (hi > lo && log2p_[hi - 1] > prime_bits + 1.5) --hi;
  if (hi - lo < static_cast<uint32_t>(s) + 4) {
    lo = first_sieved;
    hi = static_cast<uint32_t>(fb_.size());
  }
  if (hi - lo < static_cast<uint32_t>(s) + 2) return false;
  for (int attempt = 0; attempt < 100; ++attempt) {
    a_indices_.clear();
    double log_a = 0;
    while (static_cast<int>(a_indices_.size()) < s - 1) {
      rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull;
      const uint32_t idx = lo + static_cast<uint32_t>((rng_ >> 33) % (hi - lo));
      if (fb_[idx].divides_k) continue;
      if (std::find(a_indices_.begin(), a_indices_.end(), idx) != a_indices_.end()) continue;
      a_indices_.push_back(idx);
      log_a += log2p_[idx];
    }
    // The last prime brings A closest to the target.
    const double want = log_target - log_a;
    uint32_t best = 0;
    double best_err = 1e9;
    for (uint32_t idx = 1; idx < fb_.size(); ++idx) {
      if (fb_[idx].p < kSieveMinPrime || fb_[idx].divides_k) continue;
      if (std::find(a_indices_.begin(), a_indices_.end(), idx) != a_indices_.end()) continue;
      const double err = std::fabs(log2p_[idx] - want);
      if (err < best_err) {
        best_err = err;
        best = idx;
      }
    }
    if (best == 0) continue;
    a_indices_.push_back(best);
    std::sort(a_indices_.begin(), a_indices_.end());
    uint64_t a = 1;
    for (uint32_t idx : a_indices_) a *= fb_[idx].p;
    if (std::find(used_a_.begin(), used_a_.end(), a) != used_a_.end()) continue;
    used_a_.push_back(a);
    a_ = a;
    return true;
  }
  return false;
}

void Sieve::SievePolynomial(const i128& b, const i128& c) {
  const uint32_t width = 2 * params_.half_width;
  std::memset(sieve_.data(), threshold_init_, width);
  uint8_t* s = sieve_.data();
  // Plain locals and pointers: the byte stores into s may alias anything, so
  // member reads inside the loop would be repeated for every store.
  const FbPrime* fb = fb_.data();
  const uint32_t* ainv = ainv_.data();
  const uint32_t* root1 = root1_.data();
  const uint32_t* root2 = root2_.data();
  const uint32_t fb_size = static_cast<uint32_t>(fb_.size());
  uint32_t k = first_sieved_;
  // Small primes: many steps per root, so the loop exits mispredict rarely.
  for (; k < fb_size && fb[k].p <= width / kManyStepsPerRoot; ++k) {
    const uint32_t p = fb[k].p;
    if (ainv[k] == 0 || fb[k].divides_k) continue;
    const uint8_t logp = fb[k].logp;
    uint32_t i1 = std::min(root1[k], root2[k]), i2 = std::max(root1[k], root2[k]);
    // Both roots advance together while the larger stays in range, two
    // steps of p per iteration while both fit.
    for (; i2 + p < width; i1 += 2 * p, i2 += 2 * p) {
      s[i1] += logp;
      s[i2] += logp;
      s[i1 + p] += logp;
      s[i2 + p] += logp;
    }
    // Left: i1, i2 and i1 + p (i1 < i2 < i1 + p, i2 + p >= width), each if
    // below width; without a branch, the rest going to the spare byte.
    s[std::min(i1, width)] += logp;
    s[std::min(i2, width)] += logp;
    s[std::min(i1 + p, width)] += logp;
  }
  // Larger primes: a root r < p hits r + j p for j < ceil(width / p) at
  // most. Steps go four at a time, the same number for every root of a
  // prime (and of its neighbours), the ones past the end landing in the
  // spare byte s[width], so no branch depends on the root.
  for (; k < fb_size; ++k) {
    const uint32_t p = fb[k].p;
    if (ainv[k] == 0 || fb[k].divides_k) continue;
    const uint8_t logp = fb[k].logp;
    uint32_t i1 = root1[k], i2 = root2[k];
    for (uint32_t j = 0; j < fb[k].sieve_rounds; ++j, i1 += 4 * p, i2 += 4 * p) {
      s[std::min(i1, width)] += logp;
      s[std::min(i2, width)] += logp;
      s[std::min(i1 + p, width)] += logp;
      s[std::min(i2 + p, width)] += logp;
      s[std::min(i1 + 2 * p, width)] += logp;
      s[std::min(i2 + 2 * p, width)] += logp;
      s[std::min(i1 + 3 * p, width)] += logp;
      s[std::min(i2 + 3 * p, width)] += logp;
    }
  }
  // Candidates have the top bit set; test 32 bytes at a time.
  for (uint32_t i = 0; i < width; i += 32) {
    uint64_t w[4];
    std::memcpy(w, s + i, 32);
    if (((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull) == 0) continue;
    for (uint32_t j = 0; j < 32; ++j) {
      if (s[i + j] & 0x80) {
        ++stats_->candidates;
        Candidate(i + j, b, c);
      }
    }
  }
}

uint32_t Sieve::DividingPrimes(uint32_t i) {
  const RootTable table{primes_.data(), recips_.data(), root1_.data(), root2_.data(),
                        static_cast<uint32_t>(primes_.size())};
#if defined(__x86_64__)
  if (use_avx512_) return MatchingRootsAvx512(i, table, hits_.data());
#endif
  return MatchingRoots(i, table, flags_.data(), hits_.data());
}

void Sieve::Candidate(uint32_t i, const i128& b, const i128& c) {
  const i128 x = static_cast<i128>(i) - params_.half_width;
  const i128 q = (static_cast<i128>(a_) * x + 2 * b) * x + c;
  if (q == 0) return;
  u128 v = static_cast<u128>(q < 0 ? -q : q);
  factors_.assign(a_indices_.begin(), a_indices_.end());
  const int twos = TrailingZeros(v);
  v >>= twos;
  factors_.insert(factors_.end(), twos, 0);
  // The fb primes that divide Q(x): those whose roots match i mod p, then
  // the primes of A (their roots are unused; they may divide Q(x) again).
  uint32_t hit_count = DividingPrimes(i);
  for (uint32_t idx : a_indices_) hits_[hit_count++] = idx;
  for (uint32_t h = 0; h < hit_count; ++h) {
    const uint32_t k = hits_[h];
    // v / p exactly while p divides v: v p^-1 mod 2^w (primes.h), in one
    // word once v fits (the hits come smallest first, so it soon does).
    const SmallPrime& d = divisors_[k];
    if (Hi64(v) == 0) {
      uint64_t v64 = Lo64(v);
      for (uint64_t quotient; (quotient = v64 * d.inv64) <= d.lim64; v64 = quotient) {
        factors_.push_back(static_cast<uint16_t>(k));
      }
      v = v64;
    } else {
      for (u128 quotient; (quotient = v * d.inv128) <= d.lim128; v = quotient) {
        factors_.push_back(static_cast<uint16_t>(k));
      }
    }
  }
  if (v != 1 && v >= large_prime_bound_) return;
  const i128 ax_b = static_cast<i128>(a_) * x + b;
  Relation rel{static_cast<u128>(ax_b < 0 ? -ax_b : ax_b) % n_, q < 0, 1, factors_};
  if (v == 1) {
    ++stats_->full_relations;
    relations_.push_back(std::move(rel));
    return;
  }
  // v < (largest fb prime)^2 and has no fb factor: a prime outside the base.
  const uint64_t lp = Lo64(v);
  auto it = partials_.find(lp);
  if (it == partials_.end()) {
    ++stats_->partial_relations;
    partials_.emplace(lp, std::move(rel));
    return;
  }
  const Relation& other = it->second;
  if (other.y == rel.y) return;  // the same relation seen from another polynomial
  Relation combined;
  combined.y = mont_.FromMont(mont_.Mul(mont_.ToMont(rel.y), mont_.ToMont(other.y)));
  combined.negative = rel.negative != other.negative;
  combined.large_prime = lp;
  combined.factors = std::move(rel.factors);
  combined.factors.insert(combined.factors.end(), other.factors.begin(), other.factors.end());
  relations_.push_back(std::move(combined));
}

u128 Sieve::KnMinusSquareOver(u128 b, uint64_t a) const {
  // kn as a 192-bit number hi:lo, less b^2, then long division by a.
  const u128 t0 = static_cast<u128>(Lo64(n_)) * k_, t1 = static_cast<u128>(Hi64(n_)) * k_;
  u128 lo = t0 + (t1 << 64);
  uint64_t hi = Hi64(t1) + (lo < t0 ? 1 : 0);
  const u128 b2 = b * b;
  if (lo < b2) --hi;
  lo -= b2;
  const u128 top = Make128(hi, Hi64(lo));
  const u128 q1 = top / a, r1 = top % a;
  const u128 q0 = Make128(Lo64(r1), Lo64(lo)) / a;
  return (q1 << 64) + q0;
}

u128 Sieve::Run() {
  if (const u128 f = BuildFactorBase(); f != 0) return f;
  const uint32_t fb_size = static_cast<uint32_t>(fb_.size());
  uint32_t wanted = fb_size + 1 + kExtraRelations;
  sieve_.assign(2 * params_.half_width + 8, 0);
  // RootTable's arrays, padded to whole vectors with entries that never match.
  const uint32_t padded = (fb_size + kRootLanes - 1) / kRootLanes * kRootLanes;
  primes_.assign(padded, 1);
  recips_.assign(padded, 0);
  root1_.assign(padded, UINT32_MAX);
  root2_.assign(padded, UINT32_MAX);
  for (uint32_t k = 0; k < fb_size; ++k) {
    const uint32_t p = fb_[k].p;
    primes_[k] = p;
    recips_[k] = static_cast<uint32_t>(((uint64_t{1} << 32) + p - 1) / p);
  }
  flags_.assign(padded, 0);
  hits_.assign(padded + kRootLanes + kMaxPolyPrimes, 0);
  ainv_.assign(fb_size, 0);
  for (int round = 0; round < kSolveRounds; ++round, wanted += kExtraRelations) {
    while (relations_.size() < wanted) {
      if (hooks_.Cancelled()) return 0;
      if (!ChoosePolyPrimes()) return 0;
      const int s = static_cast<int>(a_indices_.size());
      // B_j = (A / q_j) * (sqrt(n) (A / q_j)^-1 mod q_j), so (sum +-B_j)^2 = n mod A.
      std::vector<uint64_t> bj(s);
      i128 b = 0;
      for (int j = 0; j < s; ++j) {
        const uint32_t q = fb_[a_indices_[j]].p;
        const uint64_t a_over_q = a_ / q;
        uint32_t gamma = MulMod32(fb_[a_indices_[j]].sqrt_n,
                                  InvMod32(static_cast<uint32_t>(a_over_q % q), q), q);
        if (gamma > q / 2) gamma = q - gamma;
        bj[j] = a_over_q * gamma;
        b += bj[j];
      }
      delta_.assign(s, std::vector<uint32_t>(fb_size, 0));
      for (uint32_t k = 1; k < fb_size; ++k) {
        const uint32_t p = fb_[k].p;
        const uint32_t a_mod_p = static_cast<uint32_t>(a_ % p);
        if (a_mod_p == 0) {
          ainv_[k] = 0;  // q_j: divides A, handled in trial division
          continue;
        }
        ainv_[k] = InvMod32(a_mod_p, p);
        // b = sum of the B_j here: positive and below 5A < 2^62.
        const uint32_t b_mod_p = static_cast<uint32_t>(static_cast<uint64_t>(b) % p);
        const uint32_t t = fb_[k].sqrt_n;
        const uint32_t m = fb_[k].m_mod_p;
        root1_[k] = (MulMod32(ainv_[k], (t + p - b_mod_p) % p, p) + m) % p;
        root2_[k] = (MulMod32(ainv_[k], (2 * p - t - b_mod_p) % p, p) + m) % p;
        for (int j = 0; j < s; ++j) {
          delta_[j][k] = MulMod32(ainv_[k], static_cast<uint32_t>(2 * bj[j] % p), p);
        }
      }
      const uint32_t polys = 1u << (s - 1);
      for (uint32_t i = 0; i < polys && relations_.size() < wanted; ++i) {
        if (i > 0) {
          // Gray code: flip the sign of B_v; roots move by -+ 2 B_v / A.
          const int v = __builtin_ctz(i) + 1;
          const bool now_negative = ((i ^ (i >> 1)) >> (v - 1)) & 1;
          if (now_negative) {
            b -= 2 * static_cast<i128>(bj[v]);
          } else {
            b += 2 * static_cast<i128>(bj[v]);
          }
          // Branch-free over plain arrays so the compiler can vectorise it.
          // (Roots of A's primes move too; nothing reads them.)
          const uint32_t* primes = primes_.data();
          const uint32_t* delta = delta_[v].data();
          uint32_t* r1 = root1_.data();
          uint32_t* r2 = root2_.data();
          for (uint32_t k = 1; k < fb_size; ++k) {
            const uint32_t p = primes[k];
            const uint32_t add = now_negative ? delta[k] : p - delta[k];
            const uint32_t x1 = r1[k] + add, x2 = r2[k] + add;
            r1[k] = x1 >= p ? x1 - p : x1;
            r2[k] = x2 >= p ? x2 - p : x2;
          }
        }
        // C = (B^2 - kn) / A, negative: |B| < sqrt(kn).
        const u128 abs_b = static_cast<u128>(b < 0 ? -b : b);
        const i128 c = -static_cast<i128>(KnMinusSquareOver(abs_b, a_));
        ++stats_->polynomials;
        SievePolynomial(b, c);
      }
    }
    if (const u128 g = Solve(); g != 0) return g;
  }
  return 0;
}

// Gaussian elimination over GF(2), then a square root per dependency.
u128 Sieve::Solve() {
  const size_t cols = fb_.size() + 1;  // column 0: the sign
  const size_t mat_words = (cols + 63) / 64;
  // The exponent vectors mod 2, one row per relation.
  std::vector<uint64_t> vectors(relations_.size() * mat_words, 0);
  for (size_t r = 0; r < relations_.size(); ++r) {
    uint64_t* row = &vectors[r * mat_words];
    if (relations_[r].negative) row[0] ^= 1;
    for (uint16_t k : relations_[r].factors) row[(k + 1) / 64] ^= 1ull << ((k + 1) % 64);
  }
  // A relation with a column no other relation has is in no dependency: drop
  // such singletons until none is left (a drop can make new ones). At 128
  // bits this takes ~5% of the rows off the elimination.
  std::vector<uint32_t> weight(cols, 0);
  auto for_each_column = [&](size_t r, auto&& f) {
    for (size_t w = 0; w < mat_words; ++w) {
      for (uint64_t bits = vectors[r * mat_words + w]; bits != 0; bits &= bits - 1) {
        f(w * 64 + __builtin_ctzll(bits));
      }
    }
  };
  for (size_t r = 0; r < relations_.size(); ++r) for_each_column(r, [&](size_t c) { ++weight[c]; });
  std::vector<uint32_t> kept(relations_.size());  // relation index per matrix row
  for (size_t r = 0; r < kept.size(); ++r) kept[r] = static_cast<uint32_t>(r);
  for (bool dropped = true; dropped;) {
    dropped = false;
    size_t out = 0;
    for (const uint32_t r : kept) {
      bool singleton = false;
      for_each_column(r, [&](size_t c) { singleton |= weight[c] == 1; });
      if (singleton) {
        for_each_column(r, [&](size_t c) { --weight[c]; });
        dropped = true;
      } else {
        kept[out++] = r;
      }
    }
    kept.resize(out);
  }
  // Gaussian elimination on [vectors | identity], the two halves apart so
  // that the pivot search reads only the first (one cache line per row).
  // Columns from the sparse end (large primes) first: their pivots meet few
  // rows, and the dense columns of the small primes come last, when few rows
  // are left below the pivots.
  const size_t rows = kept.size();
  const size_t id_words = (rows + 63) / 64;
  std::vector<uint64_t> m(rows * mat_words), id(rows * id_words, 0);
  for (size_t r = 0; r < rows; ++r) {
    std::copy_n(&vectors[kept[r] * mat_words], mat_words, &m[r * mat_words]);
    id[r * id_words + r / 64] |= 1ull << (r % 64);
  }
  size_t pivot_row = 0;
  for (size_t c = cols; c-- > 0 && pivot_row < rows;) {
    const size_t w = c / 64;
    const uint64_t bit = 1ull << (c % 64);
    size_t r = pivot_row;
    while (r < rows && !(m[r * mat_words + w] & bit)) ++r;
    if (r == rows) continue;
    if (r != pivot_row) {
      std::swap_ranges(&m[r * mat_words], &m[(r + 1) * mat_words], &m[pivot_row * mat_words]);
      std::swap_ranges(&id[r * id_words], &id[(r + 1) * id_words], &id[pivot_row * id_words]);
    }
    const uint64_t* pm = &m[pivot_row * mat_words];
    const uint64_t* pid = &id[pivot_row * id_words];
    // Forward elimination only: the rows left over past the rank are zero in
    // the matrix part, which is all the dependencies need.
    for (size_t o = pivot_row + 1; o < rows; ++o) {
      uint64_t* om = &m[o * mat_words];
      if (!(om[w] & bit)) continue;
      // Rows below the pivot are zero right of column c.
      for (size_t k = 0; k <= w; ++k) om[k] ^= pm[k];
      uint64_t* oid = &id[o * id_words];
      for (size_t k = 0; k < id_words; ++k) oid[k] ^= pid[k];
    }
    ++pivot_row;
  }
  std::vector<uint32_t> exponent(fb_.size());
  for (size_t r = pivot_row; r < rows; ++r) {
    if (hooks_.Cancelled()) return 0;
    const uint64_t* dependency = &id[r * id_words];
    std::fill(exponent.begin(), exponent.end(), 0);
    u128 x = mont_.One(), y = mont_.One();
    for (size_t k = 0; k < rows; ++k) {
      if (!((dependency[k / 64] >> (k % 64)) & 1)) continue;
      const Relation& rel = relations_[kept[k]];
      x = mont_.Mul(x, mont_.ToMont(rel.y));
      if (rel.large_prime != 1) y = mont_.Mul(y, mont_.ToMont(rel.large_prime));
      for (uint16_t f : rel.factors) ++exponent[f];
    }
    bool even = true;
    for (size_t k = 0; k < fb_.size(); ++k) {
      if (exponent[k] & 1) even = false;
      const u128 p = mont_.ToMont(fb_[k].p);
      for (uint32_t e = 0; e < exponent[k] / 2; ++e) y = mont_.Mul(y, p);
    }
    if (!even) continue;  // cannot happen for a true dependency; be safe
    const u128 xs = mont_.FromMont(x), ys = mont_.FromMont(y);
    for (const u128 diff : {mont_.Sub(xs, ys), mont_.Add(xs, ys)}) {
      const u128 g = Gcd<u128>(diff, n_);
      if (g > 1 && g < n_) return g;
    }
  }
  return 0;
}

// Knuth-Schroeppel: the multiplier k for which the sieve on kn expects the
// most help from small primes (each prime p with kn a square mod p divides
// Q(x) twice per p values of x), less the cost of kn being larger.
uint32_t ChooseMultiplier(u128 n) {
  static constexpr uint32_t kCandidates[] = {1,  3,  5,  7,  11, 13, 15, 17, 19, 21, 23,
                                             29, 31, 33, 35, 37, 39, 41, 43, 47, 51, 53,
                                             55, 57, 59, 61, 65, 67, 69, 71, 73};
  constexpr uint32_t kScorePrimeLimit = 1000;
  // Per prime p not dividing n: log p, and the Legendre symbol (n / p).
  struct ScorePrime {
    uint32_t p;
    double log_p;
    int n_symbol;
  };
  std::vector<ScorePrime> primes;
  for (const SmallPrime& sp : OddPrimes()) {
    if (sp.p >= kScorePrimeLimit) break;
    const uint32_t n_mod = static_cast<uint32_t>(n % sp.p);
    if (n_mod == 0) continue;  // a factor: trial division finds it
    primes.push_back({static_cast<uint32_t>(sp.p), std::log(static_cast<double>(sp.p)),
                      Jacobi<uint64_t>(n_mod, sp.p)});
  }
  uint32_t best = 1;
  double best_score = -1e9;
  for (const uint32_t k : kCandidates) {
    double score = -0.5 * std::log(static_cast<double>(k));
    switch (static_cast<uint32_t>((k * static_cast<uint32_t>(n & 7)) & 7)) {
      case 1:
        score += 2 * std::log(2.0);
        break;
      case 5:
        score += std::log(2.0);
        break;
      default:
        score += 0.5 * std::log(2.0);
        break;  // 3 or 7
    }
    for (const ScorePrime& sp : primes) {
      const uint32_t k_mod = k % sp.p;
      if (k_mod == 0) {
        score += sp.log_p / sp.p;
      } else if (Jacobi<uint64_t>(k_mod, sp.p) * sp.n_symbol == 1) {  // (kn / p) = 1
        score += 2 * sp.log_p / (sp.p - 1);
      }
    }
    if (score > best_score) {
      best_score = score;
      best = k;
    }
  }
  return best;
}

}  // namespace

u128 TinyQsFactor(u128 n, const Hooks& hooks) {
  TinyQsStats stats;
  return tiny_qs_internal::Factor(n, hooks, UseAvx512(), &stats);
}

namespace tiny_qs_internal {

u128 Factor(u128 n, const Hooks& hooks, bool use_avx512, TinyQsStats* stats) {
#if !defined(__x86_64__)
  use_avx512 = false;
#endif
  const int bits = BitLength128(n);
  const Params* params = &kParams[std::size(kParams) - 1];
  for (const Params& p : kParams) {
    if (bits <= p.max_bits) {
      params = &p;
      break;
    }
  }
  Sieve sieve(n, ChooseMultiplier(n), *params, hooks, use_avx512, stats);
  return sieve.Run();
}

}  // namespace tiny_qs_internal

}  // namespace zfactor::math::small
