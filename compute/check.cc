#include "compute/check.h"

#include <gmpxx.h>

#include "math/small/small.h"

namespace zfactor::compute {
namespace {

// BPSW: the word-size test below 2^64 (exact there, and an order of magnitude
// quicker than GMP's, which trial-divides first), GMP's above.
bool ProbablePrime(const mpz_class& n) {
  if (mpz_fits_ulong_p(n.get_mpz_t())) return math::small::IsPrime64(n.get_ui());
  return mpz_probab_prime_p(n.get_mpz_t(), 1) != 0;
}

bool ParseDecimal(const std::string& s, mpz_class* out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  return out->set_str(s, 10) == 0;
}

std::string CheckPrimality(const std::string& n_text, const mpz_class& n, const proto::Result& r) {
  const std::string& s = r.status;
  if (!r.factors.empty()) return "an isprime result lists factors";
  if (s == "Zero") return n == 0 ? "" : "status Zero for a non-zero n";
  if (s == "U") return n == 1 ? "" : "status U for n != 1";
  if (s != "P" && s != "PRP" && s != "C") return "unknown isprime status '" + s + "'";
  if (n < 2) return "status " + s + " for n < 2";
  if (n_text.size() <= kMaxCheckedPrimeDigits) {
    const bool probable_prime = ProbablePrime(n);
    if (probable_prime != (s != "C")) return "status " + s + " disagrees with a BPSW test";
  }
  return "";
}

}  // namespace

std::string CheckResult(proto::Kind kind, const std::string& n_text, const proto::Result& r) {
  mpz_class n;
  if (!ParseDecimal(n_text, &n)) return "n is not a decimal number";
  if (kind == proto::Kind::kIsPrime) return CheckPrimality(n_text, n, r);
  const std::string& s = r.status;
  if (s == "Zero") return n == 0 && r.factors.empty() ? "" : "status Zero for a non-zero n";
  if (s == "U") return n == 1 && r.factors.empty() ? "" : "status U for n != 1";
  if (s == "C") return r.factors.empty() ? "" : "status C with factors";
  if (s != "P" && s != "PRP" && s != "FF" && s != "CF") return "unknown status '" + s + "'";

  // The factors' total size bounds the work: no p^e larger than n is ever built.
  const size_t n_bits = mpz_sizeinbase(n.get_mpz_t(), 2);
  size_t total_bits = 0;
  mpz_class product = 1, previous = 1;
  int composites = 0;
  for (const proto::Factor& f : r.factors) {
    mpz_class p;
    if (!ParseDecimal(f.p, &p)) return "factor '" + f.p + "' is not a decimal number";
    if (p <= previous) return "factors are not ascending and > 1";
    if (f.e < 1) return "factor " + f.p + " has exponent 0";
    total_bits += (mpz_sizeinbase(p.get_mpz_t(), 2) - 1) * static_cast<size_t>(f.e);
    if (total_bits > n_bits) return "the factors multiply to more than n";
    if (f.status == "C") {
      ++composites;
    } else if (f.status != "P" && f.status != "PRP") {
      return "factor " + f.p + " has unknown status '" + f.status + "'";
    } else if (f.p.size() <= kMaxCheckedPrimeDigits && !ProbablePrime(p)) {
      return "factor " + f.p + " is labelled " + f.status + " but is composite";
    }
    mpz_class power;
    mpz_pow_ui(power.get_mpz_t(), p.get_mpz_t(), f.e);
    product *= power;
    previous = p;
  }
  if (product != n) return "the factors do not multiply to n";
  if ((s == "P" || s == "PRP") &&
      (r.factors.size() != 1 || r.factors[0].e != 1 || r.factors[0].status != s)) {
    return "a " + s + " result must list n itself with status " + s;
  }
  if (s == "FF" && composites != 0) return "status FF with a composite factor";
  if (s == "CF" && composites == 0) return "status CF without a composite factor";
  return "";
}

std::string CheckAnswer(const proto::Answer& a) {
  if (a.state != proto::JobState::kDone || !a.result) return "";
  return CheckResult(a.kind, a.n, *a.result);
}

}  // namespace zfactor::compute
