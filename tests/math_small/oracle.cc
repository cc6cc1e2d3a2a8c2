#include "tests/math_small/oracle.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "math/small/small.h"

namespace zfactor::math::small::testing {

u128 RandomBits(std::mt19937_64& rng, int bits) {
  u128 x = Make128(rng(), rng());
  if (bits < 128) x &= (static_cast<u128>(1) << bits) - 1;
  return x | (static_cast<u128>(1) << (bits - 1));
}

u128 RandomPrime(std::mt19937_64& rng, int bits) {
  while (true) {
    const u128 p = RandomBits(rng, bits) | (bits > 1 ? 1 : 0);
    if (IsProbablePrime128(p)) return p;
  }
}

bool AskGp(const std::vector<u128>& numbers, std::vector<GpAnswer>* answers, std::string* error) {
  char dir_template[] = "/tmp/zf_math_small_XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) {
    *error = "mkdtemp failed";
    return false;
  }
  const std::string input = std::string(dir) + "/numbers.txt";
  const std::string script = std::string(dir) + "/oracle.gp";
  {
    std::ofstream f(input);
    for (u128 n : numbers) f << ToString128(n) << "\n";
  }
  {
    std::ofstream f(script);
    f << "v = readvec(\"" << input << "\");\n"
      << "for (i = 1, #v, n = v[i]; f = factor(n); s = Str(isprime(n), \" \", ispseudoprime(n));"
         " for (j = 1, #f~, s = Str(s, \" \", f[j, 1], \"^\", f[j, 2])); print(s));\n"
      << "quit\n";
  }
  const std::string command = "gp -q -f --default parisizemax=1000000000 " + script +
                               " </dev/null 2>&1";
  std::string output;
  bool ran = false;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, got);
    const int status = pclose(pipe);
    ran = status == 0;
    if (!ran) *error = "gp failed (status " + std::to_string(status) + "): " + output.substr(0, 300);
  } else {
    *error = "cannot start gp";
  }
  std::remove(input.c_str());
  std::remove(script.c_str());
  rmdir(dir);
  if (!ran) return false;

  answers->clear();
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    GpAnswer a;
    int prime = -1, pseudo = -1;
    if (!(words >> prime >> pseudo)) {
      *error = "unparsable gp line: " + line;
      return false;
    }
    a.is_prime = prime == 1;
    a.is_pseudoprime = pseudo == 1;
    std::string term;
    while (words >> term) {
      const size_t caret = term.find('^');
      u128 p = 0, e = 0;
      if (caret == std::string::npos || !Parse128(term.substr(0, caret), &p) ||
          !Parse128(term.substr(caret + 1), &e)) {
        *error = "unparsable gp factor: " + term;
        return false;
      }
      for (u128 k = 0; k < e; ++k) a.factors.push_back(p);
    }
    answers->push_back(a);
  }
  if (answers->size() != numbers.size()) {
    *error = "gp answered " + std::to_string(answers->size()) + " of " +
             std::to_string(numbers.size()) + " numbers: " + output.substr(0, 300);
    return false;
  }
  return true;
}

}  // namespace zfactor::math::small::testing
