#include "client/expr.h"

#include <gtest/gtest.h>

#include <string>

namespace zfactor::client {
namespace {

mpz_class Eval(const std::string& text) {
  ExprResult r = EvaluateExpression(text);
  EXPECT_TRUE(r.ok) << text << ": " << r.error.message;
  return r.value;
}

ExprError EvalError(const std::string& text, std::size_t max_digits = kDefaultMaxExprDigits) {
  ExprResult r = EvaluateExpression(text, max_digits);
  EXPECT_FALSE(r.ok) << text << " evaluated to " << r.value.get_str();
  return r.error;
}

TEST(ExprTest, Literals) {
  EXPECT_EQ(Eval("0"), 0);
  EXPECT_EQ(Eval("12345678901234567890123"), mpz_class("12345678901234567890123"));
  EXPECT_EQ(Eval("  42  "), 42);
  EXPECT_EQ(Eval("007"), 7);
}

TEST(ExprTest, PrecedenceAndAssociativity) {
  EXPECT_EQ(Eval("2+3*4"), 14);
  EXPECT_EQ(Eval("(2+3)*4"), 20);
  EXPECT_EQ(Eval("10-4-3"), 3);
  EXPECT_EQ(Eval("2^3^2"), 512);  // right-associative
  EXPECT_EQ(Eval("-2^2"), -4);    // unary minus binds looser than ^
  EXPECT_EQ(Eval("(-2)^3"), -8);
  EXPECT_EQ(Eval("(-1)^4"), 1);
  EXPECT_EQ(Eval("2^-(-3)"), 8);
  EXPECT_EQ(Eval("100/5/2"), 10);
  EXPECT_EQ(Eval("0^0"), 1);
  EXPECT_EQ(Eval("1^99999999999999999999"), 1);
}

TEST(ExprTest, BigExpressions) {
  EXPECT_EQ(Eval("2^128+1"), mpz_class("340282366920938463463374607431768211457"));
  mpz_class m61 = (mpz_class(1) << 61) - 1;
  mpz_class m89 = (mpz_class(1) << 89) - 1;
  EXPECT_EQ(Eval("(2^61-1)*(2^89-1)"), m61 * m89);
  EXPECT_EQ(Eval("10^50-3").get_str(), std::string(49, '9') + "7");
  EXPECT_EQ(Eval("(2^61-1)*(2^89-1)/(2^89-1)"), m61);
}

TEST(ExprTest, ErrorsPointAtThePosition) {
  ExprError e = EvalError("2^3+)");
  EXPECT_EQ(e.position, 4u);
  EXPECT_NE(e.message.find("unexpected ')'"), std::string::npos) << e.message;

  e = EvalError("(1+2");
  EXPECT_EQ(e.position, 4u);
  EXPECT_NE(e.message.find("missing ')'"), std::string::npos) << e.message;

  e = EvalError("12 34");
  EXPECT_EQ(e.position, 3u);

  e = EvalError("7/2");
  EXPECT_EQ(e.position, 1u);
  EXPECT_NE(e.message.find("inexact"), std::string::npos) << e.message;

  e = EvalError("1+7/0");
  EXPECT_EQ(e.position, 3u);
  EXPECT_NE(e.message.find("division by zero"), std::string::npos);

  e = EvalError("2^-1");
  EXPECT_EQ(e.position, 2u);
  EXPECT_NE(e.message.find("negative exponent"), std::string::npos);

  e = EvalError("");
  EXPECT_EQ(e.position, 0u);
  e = EvalError("   ");
  EXPECT_NE(e.message.find("empty"), std::string::npos);

  e = EvalError("3+");
  EXPECT_EQ(e.position, 2u);
  e = EvalError("abc");
  EXPECT_EQ(e.position, 0u);
  e = EvalError("2**3");
  EXPECT_EQ(e.position, 2u);
  e = EvalError("0x10");
  EXPECT_EQ(e.position, 1u);
}

TEST(ExprTest, SizeCapStopsBeforeComputing) {
  // Would need ~3.3e10 bits; must fail fast at the '^'.
  ExprError e = EvalError("10^10^10");
  EXPECT_EQ(e.position, 2u);
  EXPECT_NE(e.message.find("exceed"), std::string::npos) << e.message;
  EvalError("2^99999999999999999999999");

  // The cap is exact on the final value.
  EXPECT_TRUE(EvaluateExpression("10^5-1", 5).ok);  // 99999: 5 digits
  EvalError("10^5", 5);                             // 100000: 6 digits
  EvalError("123456", 5);                           // literal too long
  EvalError("(10^3)*(10^3)", 5);
  EXPECT_TRUE(EvaluateExpression("(10^2)*(10^2)", 5).ok);
}

TEST(ExprTest, FormatShowsCaret) {
  ExprError e = EvalError("2^3+)");
  EXPECT_EQ(FormatExprError("2^3+)", e),
            "error: unexpected ')', expected a number or '(' at column 5\n  2^3+)\n      ^");
}

}  // namespace
}  // namespace zfactor::client
