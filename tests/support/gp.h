// PARI/GP (Debian `pari-gp`) as the independent oracle of the math tests:
// one `gp` process per batch of questions, its answers read from stdout.
#ifndef ZFACTOR_TESTS_SUPPORT_GP_H_
#define ZFACTOR_TESTS_SUPPORT_GP_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zfactor::support {

// Runs a gp program (no trailing `quit` needed) and returns what it printed
// on stdout. gp's stderr (warnings such as "increasing stack size") is kept
// apart and shown in *error only when gp fails or cannot be started.
std::optional<std::string> RunGp(const std::string& program, std::string* error);

// What gp says about one integer n >= 1.
struct GpFactorization {
  bool isprime = false;                                   // isprime(n): proven
  bool ispseudoprime = false;                             // ispseudoprime(n): BPSW
  std::vector<std::pair<std::string, unsigned>> factors;  // factorint(n), ascending, decimal
};

// Asks gp about every number (decimal strings) in one run. nullopt (with
// *error) when gp is missing, fails, or answers something unparsable.
std::optional<std::vector<GpFactorization>> AskGpFactorizations(
    const std::vector<std::string>& numbers, std::string* error);

}  // namespace zfactor::support

#endif  // ZFACTOR_TESTS_SUPPORT_GP_H_
