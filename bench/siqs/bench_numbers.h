// Reads ../shared/numbers/semiprimes.txt ("name digits n p q") for the SIQS benchmarks.
#ifndef ZFACTOR_BENCH_SIQS_BENCH_NUMBERS_H_
#define ZFACTOR_BENCH_SIQS_BENCH_NUMBERS_H_

#include <gmpxx.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace zfactor::bench {

// Size class (30, 40, ... from the name "C60_2") -> the numbers of that class.
inline std::map<int, std::vector<mpz_class>> LoadSemiprimes() {
  std::map<int, std::vector<mpz_class>> out;
  std::ifstream in(std::string(ZF_NUMBERS_DIR) + "/semiprimes.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, digits, n;
    fields >> name >> digits >> n;
    if (name.size() < 2 || name[0] != 'C') continue;
    out[std::stoi(name.substr(1))].emplace_back(n);
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
