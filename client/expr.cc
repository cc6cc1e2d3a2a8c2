#include "client/expr.h"

#include <cctype>
#include <climits>
#include <cmath>
#include <optional>
#include <utility>

namespace zfactor::client {
namespace {

// Recursive-descent evaluator; the first error wins and stops evaluation.
class Parser {
 public:
  Parser(const std::string& text, std::size_t max_digits)
      : text_(text),
        max_digits_(max_digits),
        // Any value with at most max_digits digits has at most this many bits.
        max_bits_(static_cast<std::size_t>(
                      std::ceil(static_cast<double>(max_digits) * 3.321928094887362)) +
                  1) {}

  ExprResult Run() {
    ExprResult out;
    SkipSpace();
    if (pos_ == text_.size()) {
      Fail(pos_, "empty expression");
      out.error = error_;
      return out;
    }
    std::optional<mpz_class> v = Expr();
    if (v && pos_ != text_.size()) {
      Fail(pos_, Unexpected());
      v.reset();
    }
    if (v && !FitsDigits(*v)) {
      Fail(0, "result has more than " + std::to_string(max_digits_) + " digits");
      v.reset();
    }
    if (!v) {
      out.error = error_;
      return out;
    }
    out.ok = true;
    out.value = std::move(*v);
    return out;
  }

 private:
  std::optional<mpz_class> Expr() {
    std::optional<mpz_class> lhs = Term();
    while (lhs) {
      SkipSpace();
      if (!Peek('+') && !Peek('-')) break;
      const char op = text_[pos_++];
      std::optional<mpz_class> rhs = Term();
      if (!rhs) return std::nullopt;
      if (op == '+') {
        *lhs += *rhs;
      } else {
        *lhs -= *rhs;
      }
    }
    return lhs;
  }

  std::optional<mpz_class> Term() {
    std::optional<mpz_class> lhs = Unary();
    while (lhs) {
      SkipSpace();
      if (!Peek('*') && !Peek('/')) break;
      const std::size_t op_pos = pos_;
      const char op = text_[pos_++];
      std::optional<mpz_class> rhs = Unary();
      if (!rhs) return std::nullopt;
      if (op == '*') {
        if (Bits(*lhs) + Bits(*rhs) > max_bits_ + 1) {
          return Fail(op_pos, "product would exceed " + std::to_string(max_digits_) + " digits");
        }
        *lhs *= *rhs;
      } else {
        if (*rhs == 0) return Fail(op_pos, "division by zero");
        if (!mpz_divisible_p(lhs->get_mpz_t(), rhs->get_mpz_t())) {
          return Fail(op_pos, "inexact division: " + lhs->get_str() + " is not a multiple of " +
                                  rhs->get_str());
        }
        mpz_divexact(lhs->get_mpz_t(), lhs->get_mpz_t(), rhs->get_mpz_t());
      }
    }
    return lhs;
  }

  std::optional<mpz_class> Unary() {
    SkipSpace();
    if (Peek('-') || Peek('+')) {
      const char op = text_[pos_++];
      std::optional<mpz_class> v = Unary();
      if (v && op == '-') *v = -*v;
      return v;
    }
    return Power();
  }

  std::optional<mpz_class> Power() {
    std::optional<mpz_class> base = Primary();
    if (!base) return base;
    SkipSpace();
    if (!Peek('^')) return base;
    const std::size_t op_pos = pos_++;
    const std::size_t exp_pos = NextTokenPos();
    std::optional<mpz_class> exp = Unary();  // right-associative: 2^3^2 == 2^9
    if (!exp) return std::nullopt;
    if (*exp < 0) return Fail(exp_pos, "negative exponent");
    const mpz_class abs_base = abs(*base);
    if (abs_base <= 1 || *exp == 0) {
      // 0^e, 1^e, (-1)^e and b^0 never grow.
      mpz_class r = (*exp == 0) ? mpz_class(1) : *base;
      if (*base < 0 && mpz_even_p(exp->get_mpz_t())) r = 1;
      return r;
    }
    // log2|base| * exp bounds the result's size; check it before computing.
    long base_exp2 = 0;
    const double mant = mpz_get_d_2exp(&base_exp2, abs_base.get_mpz_t());
    const double log2_base = static_cast<double>(base_exp2 - 1) + std::log2(2 * mant);
    if (!exp->fits_ulong_p() || log2_base * exp->get_d() > static_cast<double>(max_bits_)) {
      return Fail(op_pos, "power would exceed " + std::to_string(max_digits_) + " digits");
    }
    mpz_class r;
    mpz_pow_ui(r.get_mpz_t(), base->get_mpz_t(), exp->get_ui());
    return r;
  }

  std::optional<mpz_class> Primary() {
    SkipSpace();
    if (pos_ == text_.size()) return Fail(pos_, "expected a number or '(' at end of input");
    if (Peek('(')) {
      const std::size_t open = pos_++;
      std::optional<mpz_class> v = Expr();
      if (!v) return v;
      SkipSpace();
      if (!Peek(')')) {
        return Fail(pos_, "missing ')' to close '(' at column " + std::to_string(open + 1));
      }
      ++pos_;
      return v;
    }
    if (std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (pos_ - start > max_digits_) {
        return Fail(start, "literal has more than " + std::to_string(max_digits_) + " digits");
      }
      return mpz_class(text_.substr(start, pos_ - start), 10);
    }
    return Fail(pos_, Unexpected() + ", expected a number or '('");
  }

  bool FitsDigits(const mpz_class& v) const {
    const std::size_t approx = mpz_sizeinbase(v.get_mpz_t(), 10);  // exact or one too big
    if (approx <= max_digits_) return true;
    if (approx > max_digits_ + 1) return false;
    return mpz_class(abs(v)).get_str().size() <= max_digits_;
  }

  static std::size_t Bits(const mpz_class& v) { return mpz_sizeinbase(v.get_mpz_t(), 2); }

  std::string Unexpected() const {
    const unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (std::isprint(c)) return std::string("unexpected '") + text_[pos_] + "'";
    return "unexpected byte " + std::to_string(static_cast<int>(c));
  }

  std::size_t NextTokenPos() {
    SkipSpace();
    return pos_;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  std::nullopt_t Fail(std::size_t position, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_ = ExprError{position, std::move(message)};
    }
    return std::nullopt;
  }

  const std::string& text_;
  const std::size_t max_digits_;
  const std::size_t max_bits_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  ExprError error_;
};

}  // namespace

ExprResult EvaluateExpression(const std::string& text, std::size_t max_digits) {
  return Parser(text, max_digits).Run();
}

std::string FormatExprError(const std::string& text, const ExprError& error) {
  std::string out =
      "error: " + error.message + " at column " + std::to_string(error.position + 1) + "\n";
  out += "  " + text + "\n";
  out += "  " + std::string(error.position, ' ') + "^";
  return out;
}

}  // namespace zfactor::client
