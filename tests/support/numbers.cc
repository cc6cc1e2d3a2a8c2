#include "tests/support/numbers.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace zfactor::support {

int SharedSemiprime::size_class() const {
  if (name.size() < 2 || name[0] != 'C') return 0;
  return std::atoi(name.c_str() + 1);  // stops at the '_'
}

std::string SharedNumbersDir() { return ZF_NUMBERS_DIR; }

std::vector<SharedSemiprime> ReadSharedSemiprimes() {
  std::vector<SharedSemiprime> out;
  std::ifstream in(SharedNumbersDir() + "/semiprimes.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    SharedSemiprime s;
    if (fields >> s.name >> s.digits >> s.n >> s.p >> s.q) out.push_back(std::move(s));
  }
  return out;
}

std::optional<SharedSemiprime> FindSharedSemiprime(const std::string& name) {
  for (SharedSemiprime& s : ReadSharedSemiprimes()) {
    if (s.name == name) return std::move(s);
  }
  return std::nullopt;
}

}  // namespace zfactor::support
