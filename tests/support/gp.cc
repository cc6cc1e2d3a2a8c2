#include "tests/support/gp.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

namespace zfactor::support {

std::optional<std::string> RunGp(const std::string& program, std::string* error) {
  char dir_template[] = "/tmp/zf_gp_XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) {
    *error = "mkdtemp failed";
    return std::nullopt;
  }
  const std::string script = std::string(dir) + "/oracle.gp";
  const std::string errors = std::string(dir) + "/stderr";
  {
    std::ofstream f(script);
    f << program << "\nquit\n";
  }
  // A 256 MB stack from the start (ellorder and factorint on 200-bit
  // numbers may need more than gp's default), allowed to grow to 1 GB.
  const std::string command =
      "gp -q -f --default parisize=268435456 --default parisizemax=1000000000 " + script +
      " </dev/null 2>" + errors;
  std::optional<std::string> output;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    std::string out;
    char buffer[4096];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, got);
    const int status = pclose(pipe);
    if (status == 0) {
      output = std::move(out);
    } else {
      std::ifstream err(errors);
      const std::string text((std::istreambuf_iterator<char>(err)),
                             std::istreambuf_iterator<char>());
      *error = "gp failed (status " + std::to_string(status) +
               "; is pari-gp installed?): " + text.substr(0, 300) + out.substr(0, 300);
    }
  } else {
    *error = "cannot start gp";
  }
  std::remove(errors.c_str());
  std::remove(script.c_str());
  rmdir(dir);
  return output;
}

std::optional<std::vector<GpFactorization>> AskGpFactorizations(
    const std::vector<std::string>& numbers, std::string* error) {
  std::ostringstream program;
  program << "g(n) = my(f = factorint(n)); print1(isprime(n), \" \", ispseudoprime(n));"
             " for (i = 1, #f~, print1(\" \", f[i, 1], \" \", f[i, 2])); print(\"\");\n";
  for (const std::string& n : numbers) program << "g(" << n << ");\n";
  const std::optional<std::string> output = RunGp(program.str(), error);
  if (!output) return std::nullopt;

  std::vector<GpFactorization> answers;
  std::istringstream lines(*output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    int prime = -1, pseudo = -1;
    if (!(words >> prime >> pseudo) || prime < 0 || prime > 1 || pseudo < 0 || pseudo > 1) {
      *error = "unparsable gp line: " + line;
      return std::nullopt;
    }
    GpFactorization a;
    a.isprime = prime == 1;
    a.ispseudoprime = pseudo == 1;
    std::string p;
    unsigned e = 0;
    while (words >> p >> e) a.factors.emplace_back(p, e);
    if (!words.eof()) {
      *error = "unparsable gp factors: " + line;
      return std::nullopt;
    }
    answers.push_back(std::move(a));
  }
  if (answers.size() != numbers.size()) {
    *error = "gp answered " + std::to_string(answers.size()) + " of " +
             std::to_string(numbers.size()) + " numbers: " + output->substr(0, 300);
    return std::nullopt;
  }
  return answers;
}

}  // namespace zfactor::support
