#include "tests/support/numbers.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace zfactor::support {

int KnownSemiprime::size_class() const {
  if (name.size() < 2 || name[0] != 'C') return 0;
  return std::atoi(name.c_str() + 1);  // stops at the '_'
}

std::string NumbersDir() { return ZF_NUMBERS_DIR; }

std::vector<KnownSemiprime> ReadSemiprimes() {
  std::vector<KnownSemiprime> out;
  std::ifstream in(NumbersDir() + "/semiprimes.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    KnownSemiprime s;
    if (fields >> s.name >> s.digits >> s.n >> s.p >> s.q) out.push_back(std::move(s));
  }
  return out;
}

std::optional<KnownSemiprime> FindSemiprime(const std::string& name) {
  for (KnownSemiprime& s : ReadSemiprimes()) {
    if (s.name == name) return std::move(s);
  }
  return std::nullopt;
}

}  // namespace zfactor::support
