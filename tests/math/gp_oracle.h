// PARI/GP as an independent oracle for the math tests: one `gp -q` run per
// batch of inputs, read back line by line.
#ifndef ZFACTOR_TESTS_MATH_GP_ORACLE_H_
#define ZFACTOR_TESTS_MATH_GP_ORACLE_H_

#include <gmpxx.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace zfactor::math::testing {

struct GpAnswer {
  std::vector<std::pair<mpz_class, unsigned>> factors;  // factorint(n)
  bool isprime = false;                                  // proven by gp
  bool ispseudoprime = false;
};

// Runs gp on `ns`; nullopt when gp cannot be run (the caller fails the test).
inline std::optional<std::vector<GpAnswer>> AskGp(const std::vector<mpz_class>& ns) {
  char path[] = "/tmp/zf_math_gp_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return std::nullopt;
  close(fd);
  {
    std::ofstream script(path);
    script << "default(parisize, 1<<28);\n"
              "g(n)=my(f=factorint(n));print1(isprime(n),\" \",ispseudoprime(n));"
              "for(i=1,#f~,print1(\" \",f[i,1],\" \",f[i,2]));print(\"\");\n";
    for (const auto& n : ns) script << "g(" << n.get_str() << ");\n";
    script << "quit\n";
  }
  std::string cmd = std::string(ZF_GP_PATH) + " -q -f " + path + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    unlink(path);
    return std::nullopt;
  }
  std::string out;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, got);
  const int status = pclose(pipe);
  unlink(path);
  if (status != 0) return std::nullopt;
  std::vector<GpAnswer> answers;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    GpAnswer a;
    int ip = 0, ipp = 0;
    in >> ip >> ipp;
    a.isprime = ip != 0;
    a.ispseudoprime = ipp != 0;
    std::string p;
    unsigned e;
    while (in >> p >> e) a.factors.emplace_back(mpz_class(p), e);
    answers.push_back(std::move(a));
  }
  if (answers.size() != ns.size()) return std::nullopt;
  return answers;
}

}  // namespace zfactor::math::testing

#endif  // ZFACTOR_TESTS_MATH_GP_ORACLE_H_
