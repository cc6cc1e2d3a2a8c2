// The known semiprimes (tests/support/numbers.h) by size class, for the SIQS benchmarks.
#ifndef ZFACTOR_BENCH_SIQS_BENCH_NUMBERS_H_
#define ZFACTOR_BENCH_SIQS_BENCH_NUMBERS_H_

#include <gmpxx.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/numbers.h"

namespace zfactor::bench {

// Size class (30, 40, ... from the name "C60_2") -> the numbers of that class.
inline std::map<int, std::vector<mpz_class>> LoadSemiprimes() {
  std::map<int, std::vector<mpz_class>> out;
  for (const support::KnownSemiprime& s : support::ReadSemiprimes()) {
    if (s.size_class() > 0) out[s.size_class()].emplace_back(s.n);
  }
  return out;
}

inline std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

}  // namespace zfactor::bench

#endif  // ZFACTOR_BENCH_SIQS_BENCH_NUMBERS_H_
