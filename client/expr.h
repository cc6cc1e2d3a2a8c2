// Integer expressions for the command line: "2^128+1", "10^50-3",
// "(2^61-1)*(2^89-1)".
//
// Grammar (usual precedence, '^' binds tightest and is right-associative,
// unary minus binds looser than '^' so -2^2 == -4):
//   expr    = term *( ("+" / "-") term )
//   term    = unary *( ("*" / "/") unary )
//   unary   = ("-" / "+") unary / power
//   power   = primary [ "^" unary ]
//   primary = 1*DIGIT / "(" expr ")"
// Whitespace between tokens is ignored. '/' is exact division: an inexact
// quotient or a division by zero is an error, as is a negative exponent.
#ifndef ZFACTOR_CLIENT_EXPR_H_
#define ZFACTOR_CLIENT_EXPR_H_

#include <gmpxx.h>

#include <cstddef>
#include <string>

namespace zfactor::client {

// Default cap on the size of any value computed while evaluating.
inline constexpr std::size_t kDefaultMaxExprDigits = 100000;

struct ExprError {
  std::size_t position = 0;  // 0-based byte offset into the input
  std::string message;
};

// The value of an expression, or where and why it failed.
struct ExprResult {
  bool ok = false;
  mpz_class value;
  ExprError error;  // meaningful when !ok
};

// Evaluates `text`. No value (intermediate or final) may exceed `max_digits`
// decimal digits; sizes are checked before a power or product is computed, so
// "10^10^10" fails fast instead of exhausting memory. Negative results are
// allowed here (callers that need n >= 0 check the sign).
ExprResult EvaluateExpression(const std::string& text,
                              std::size_t max_digits = kDefaultMaxExprDigits);

// A multi-line message: the error, the input, and a caret under the position.
//   error: unexpected ')' at column 5
//     2^3+)
//         ^
std::string FormatExprError(const std::string& text, const ExprError& error);

}  // namespace zfactor::client

#endif  // ZFACTOR_CLIENT_EXPR_H_
