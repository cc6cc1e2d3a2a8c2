#include "math/siqs/sqrt.h"

#include <map>

namespace zfactor::math::siqs {

std::optional<mpz_class> SquareRoot(const FactorBase& fb, const std::vector<Relation>& rels,
                                    const Matrix& m, const std::vector<uint64_t>& deps) {
  const mpz_class& n = fb.n;
  uint64_t present = 0;
  for (uint64_t d : deps) present |= d;
  for (int bit = 0; bit < 64; ++bit) {
    if (!(present >> bit & 1)) continue;
    std::vector<uint32_t> exponent(fb.size(), 0);
    std::map<uint64_t, uint32_t> large;
    mpz_class x = 1;
    for (size_t c = 0; c < m.cols.size(); ++c) {
      if (!(deps[c] >> bit & 1)) continue;
      for (uint32_t id : m.col_rels[c]) {
        const Relation& r = rels[id];
        x = x * r.y % n;
        for (uint32_t f : r.factors) ++exponent[f];
        if (r.large_prime != 1) ++large[r.large_prime];
        if (r.large_prime2 != 1) ++large[r.large_prime2];
      }
    }
    bool square = true;
    mpz_class s = 1, pe;
    for (uint32_t i = 0; i < fb.size() && square; ++i) {
      if (exponent[i] & 1) square = false;
      if (i == 0 || exponent[i] == 0) continue;
      mpz_class p = fb.prime[i];
      mpz_powm_ui(pe.get_mpz_t(), p.get_mpz_t(), exponent[i] / 2, n.get_mpz_t());
      s = s * pe % n;
    }
    for (const auto& [prime, count] : large) {
      if (count & 1) square = false;
      mpz_class p = mpz_class(std::to_string(prime));
      mpz_powm_ui(pe.get_mpz_t(), p.get_mpz_t(), count / 2, n.get_mpz_t());
      s = s * pe % n;
    }
    if (!square) continue;  // cannot happen for a checked dependency; never trust it blindly
    mpz_class diff = x - s, g;
    mpz_gcd(g.get_mpz_t(), diff.get_mpz_t(), n.get_mpz_t());
    if (g > 1 && g < n) return g;
  }
  return std::nullopt;
}

}  // namespace zfactor::math::siqs
