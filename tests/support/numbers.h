// The test and benchmark numbers kept in the repository
// (tests/data/semiprimes.txt: "name digits n p q" lines, '#' comments; the
// .gp file beside it regenerates it), read one way by the tests and the
// benchmarks.
#ifndef ZFACTOR_TESTS_SUPPORT_NUMBERS_H_
#define ZFACTOR_TESTS_SUPPORT_NUMBERS_H_

#include <optional>
#include <string>
#include <vector>

namespace zfactor::support {

struct KnownSemiprime {
  std::string name;  // "C60_2": size class 60, second number
  int digits = 0;
  std::string n, p, q;  // decimal, n = p q

  int size_class() const;  // 60 for "C60_2"; 0 for a name not of that form
};

// The directory tests/data of the source tree.
std::string NumbersDir();

// Every line of semiprimes.txt in file order; empty when the file is missing.
std::vector<KnownSemiprime> ReadSemiprimes();

// The number called `name`, or nullopt.
std::optional<KnownSemiprime> FindSemiprime(const std::string& name);

}  // namespace zfactor::support

#endif  // ZFACTOR_TESTS_SUPPORT_NUMBERS_H_
