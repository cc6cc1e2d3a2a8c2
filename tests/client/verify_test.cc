#include "client/verify.h"

#include <gtest/gtest.h>

namespace zfactor::client {
namespace {

proto::Answer Factored(const std::string& n, const std::string& status,
                       std::vector<proto::Factor> factors) {
  proto::Answer a;
  a.n = n;
  a.kind = proto::Kind::kFactor;
  a.state = proto::JobState::kDone;
  a.result = proto::Result{status, std::move(factors), "", 0};
  return a;
}

TEST(VerifyTest, AcceptsConsistentAnswers) {
  EXPECT_EQ(CheckAnswer(Factored("12", "FF", {{"2", 2, "P"}, {"3", 1, "P"}})), "");
  EXPECT_EQ(CheckAnswer(Factored("97", "P", {{"97", 1, "P"}})), "");
  EXPECT_EQ(CheckAnswer(Factored("1234", "CF", {{"2", 1, "P"}, {"617", 1, "C"}})), "");
  EXPECT_EQ(CheckAnswer(Factored("1", "U", {})), "");
  EXPECT_EQ(CheckAnswer(Factored("0", "Zero", {})), "");
  EXPECT_EQ(CheckAnswer(Factored("15", "C", {})), "");
}

TEST(VerifyTest, RejectsInconsistentAnswers) {
  EXPECT_NE(CheckAnswer(Factored("12", "FF", {{"2", 1, "P"}, {"3", 1, "P"}})), "");  // product 6
  EXPECT_NE(CheckAnswer(Factored("12", "FF", {{"3", 1, "P"}, {"2", 2, "P"}})),
            "");  // not ascending
  EXPECT_NE(CheckAnswer(Factored("12", "FF", {{"2", 2, "P"}, {"3", 1, "C"}})), "");  // FF with C
  EXPECT_NE(CheckAnswer(Factored("12", "CF", {{"2", 2, "P"}, {"3", 1, "P"}})), "");  // CF without C
  EXPECT_NE(CheckAnswer(Factored("12", "P", {{"12", 1, "P"}})), "");     // 12 is not prime
  EXPECT_NE(CheckAnswer(Factored("91", "FF", {{"91", 1, "PRP"}})), "");  // 91 = 7 * 13
  EXPECT_NE(CheckAnswer(Factored("1", "FF", {{"1", 1, "P"}})), "");      // factor 1
  EXPECT_NE(CheckAnswer(Factored("7", "Zero", {})), "");
  EXPECT_NE(CheckAnswer(Factored("7", "XX", {})), "");
  EXPECT_NE(CheckAnswer(Factored("12", "FF", {{"2", 2, "P"}, {"3", 1, "Q"}})), "");
  // A huge exponent is refused before anything is multiplied out.
  EXPECT_NE(CheckAnswer(Factored("12", "FF", {{"2", 4000000000u, "P"}})), "");
}

TEST(VerifyTest, ChecksPrimalityAnswers) {
  auto prime = [](const std::string& n, const std::string& status) {
    proto::Answer a = Factored(n, status, {});
    a.kind = proto::Kind::kIsPrime;
    return a;
  };
  EXPECT_EQ(CheckAnswer(prime("97", "P")), "");
  EXPECT_EQ(CheckAnswer(prime("91", "C")), "");
  EXPECT_EQ(CheckAnswer(prime("1", "U")), "");
  EXPECT_EQ(CheckAnswer(prime("0", "Zero")), "");
  EXPECT_NE(CheckAnswer(prime("1", "P")), "");
  EXPECT_NE(CheckAnswer(prime("5", "FF")), "");
  EXPECT_NE(CheckAnswer(prime("91", "P")), "");   // 7 * 13
  EXPECT_NE(CheckAnswer(prime("97", "C")), "");
  proto::Answer with_factors = prime("97", "P");
  with_factors.result->factors = {{"97", 1, "P"}};
  EXPECT_NE(CheckAnswer(with_factors), "");
}

}  // namespace
}  // namespace zfactor::client
