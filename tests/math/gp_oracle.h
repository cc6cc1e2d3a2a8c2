// PARI/GP's answers (tests/support/gp.h) on mpz_class numbers, for the math
// engine's oracle tests.
#ifndef ZFACTOR_TESTS_MATH_GP_ORACLE_H_
#define ZFACTOR_TESTS_MATH_GP_ORACLE_H_

#include <gmpxx.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/gp.h"

namespace zfactor::math::testing {

struct GpAnswer {
  std::vector<std::pair<mpz_class, unsigned>> factors;  // factorint(n)
  bool isprime = false;                                 // proven by gp
  bool ispseudoprime = false;
};

// gp's answers for `ns`; nullopt (with *error) when gp cannot answer, which
// the caller turns into a test failure.
inline std::optional<std::vector<GpAnswer>> AskGp(const std::vector<mpz_class>& ns,
                                                  std::string* error) {
  std::vector<std::string> decimal;
  for (const mpz_class& n : ns) decimal.push_back(n.get_str());
  const auto answers = support::AskGpFactorizations(decimal, error);
  if (!answers) return std::nullopt;
  std::vector<GpAnswer> out;
  for (const support::GpFactorization& a : *answers) {
    GpAnswer g;
    g.isprime = a.isprime;
    g.ispseudoprime = a.ispseudoprime;
    for (const auto& [p, e] : a.factors) g.factors.emplace_back(mpz_class(p), e);
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace zfactor::math::testing

#endif  // ZFACTOR_TESTS_MATH_GP_ORACLE_H_
