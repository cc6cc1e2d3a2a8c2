#include "math/siqs/siqs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "math/siqs/factor_base.h"

namespace zfactor::math::siqs {
namespace {

// name -> n from ../shared/numbers/semiprimes.txt ("name digits n p q").
std::map<std::string, mpz_class> Semiprimes() {
  std::map<std::string, mpz_class> out;
  std::ifstream in(std::string(ZF_NUMBERS_DIR) + "/semiprimes.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, digits, n;
    fields >> name >> digits >> n;
    out[name] = mpz_class(n);
  }
  return out;
}

void ExpectSplits(const mpz_class& n, int threads = 1) {
  Options options;
  options.threads = threads;
  Stats stats;
  const std::optional<mpz_class> f = FindFactor(n, options, Hooks{}, &stats);
  ASSERT_TRUE(f.has_value()) << n;
  EXPECT_GT(*f, 1);
  EXPECT_LT(*f, n);
  EXPECT_TRUE(mpz_divisible_p(n.get_mpz_t(), f->get_mpz_t())) << n << " " << *f;
}

TEST(Siqs, SplitsSharedSemiprimes) {
  const auto numbers = Semiprimes();
  ASSERT_FALSE(numbers.empty()) << "missing " << ZF_NUMBERS_DIR;
  for (const char* name : {"C30_1", "C40_1", "C40_2", "C40_3", "C50_1", "C50_2"}) {
    SCOPED_TRACE(name);
    ExpectSplits(numbers.at(name));
  }
}

TEST(Siqs, SplitsC60) { ExpectSplits(Semiprimes().at("C60_1")); }

TEST(Siqs, SplitsWithTwoThreads) { ExpectSplits(Semiprimes().at("C50_3"), 2); }

TEST(SiqsSlow, SplitsC70) { ExpectSplits(Semiprimes().at("C70_1")); }

}  // namespace
}  // namespace zfactor::math::siqs
