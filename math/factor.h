// The math engine's public interface: primality and factorization of
// non-negative integers, with every answer verified before it is returned.
//
// No sockets, no threads of its own beyond what an algorithm is asked to use:
// callers (the worker, the gateway's inline path, `zfactor factor --local`)
// own scheduling. Thread-safe: independent calls may run concurrently.
#ifndef ZFACTOR_MATH_FACTOR_H_
#define ZFACTOR_MATH_FACTOR_H_

#include <gmpxx.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace zfactor::math {

// How sure we are that a number is prime.
enum class Certainty {
  kProven,     // a proof was completed (deterministic test below 2^64, or a certificate)
  kProbable,   // passed BPSW but no proof was attempted or completed
  kComposite,  // known composite, not split further (only in a partial factorization)
};

// What is known about n as a whole, after factordb's model.
enum class Verdict {
  kZero,            // "Zero": n == 0
  kUnit,            // "U": n == 1
  kPrime,           // "P": n is proven prime
  kProbablePrime,   // "PRP": n is a probable prime
  kFullyFactored,   // "FF": composite; every factor is P or PRP
  kPartlyFactored,  // "CF": composite; some factors known, a composite cofactor remains
  kComposite,       // "C": composite; no non-trivial factor known
};

// The wire/display name of a verdict: "Zero", "U", "P", "PRP", "FF", "CF", "C".
const char* VerdictName(Verdict v);
// "P", "PRP" or "C".
const char* CertaintyName(Certainty c);

struct PrimeFactor {
  mpz_class p;
  unsigned exponent = 1;
  Certainty certainty = Certainty::kProven;
};

// Caller-side control of a long computation. All members are optional.
struct Hooks {
  // Polled by long-running algorithms (at least every ~100 ms of work);
  // when it reads true the computation stops and returns what it has.
  const std::atomic<bool>* cancel = nullptr;
  // Called when a non-trivial factor (not necessarily prime) is split off.
  std::function<void(const mpz_class& factor)> on_factor;
  // Called now and then with a stage name ("ecm", "siqs", ...) and a
  // fraction done in [0, 1] (or -1 when unknown). With Budget::threads > 1
  // it may be called from an algorithm's helper threads, one call at a time.
  std::function<void(const std::string& stage, double fraction)> on_progress;
  // Counts every poll of the cancel flag: proof of life for a watchdog (the
  // worker reports a job as progressing while this count moves).
  std::atomic<uint64_t>* polls = nullptr;

  bool Cancelled() const {
    if (polls != nullptr) polls->fetch_add(1, std::memory_order_relaxed);
    return cancel != nullptr && cancel->load(std::memory_order_relaxed);
  }
};

// How much work one factorization may spend. When the budget runs out the
// answer is CF or C with what was found so far; never a hang.
struct Budget {
  double max_seconds = 0;       // wall-clock cap for the whole job; 0 = no cap
  double ecm_max_b1 = 11e6;     // largest ECM B1 level tried (45-digit factors); caps p-1 B1 too
  bool use_siqs = true;         // hand 40-100 digit cofactors to SIQS
  int threads = 1;              // threads an algorithm may use (ECM curves, SIQS sieving)
  // Share of each B1 level's standard curve count (math/ecm.h kEcmLevels)
  // that is run; 1 = the full count, which finds a factor of the level's
  // size with probability about 1 - 1/e.
  double ecm_curve_fraction = 1.0;
  unsigned seed = 1;            // ECM curve choice and SIQS polynomials: same seed, same run
};

struct Factorization {
  mpz_class n;
  Verdict verdict = Verdict::kComposite;
  // Ascending by p, each p once with its exponent. For kPrime/kProbablePrime
  // this is {n^1}; for kZero and kUnit it is empty; for kPartlyFactored the
  // composite cofactors are listed with Certainty::kComposite; for
  // kComposite it is empty.
  std::vector<PrimeFactor> factors;
  std::string effort;      // human-readable work done, e.g. "rho; ECM B1=250e3 x 120 curves"
  bool cancelled = false;  // stopped by Hooks::cancel before finishing
  // The engine's own answer failed verification (a bug): it was replaced by
  // C with no factors. Callers must report an error, not this result.
  bool withheld = false;
};

// Factor n >= 0. The result is verified (VerifyFactorization) before return.
// REQUIRES: n >= 0.
Factorization Factor(const mpz_class& n, const Budget& budget = {}, const Hooks& hooks = {});

// Primality only: kZero, kUnit, kPrime, kProbablePrime or kComposite.
// kPrime means proven: BPSW below 2^64, above it an N-1 (Pocklington /
// Brillhart-Lehmer-Selfridge) proof, tried for n of at most 100 digits and
// for at most ~2 s; otherwise a BPSW pass is kProbablePrime.
// REQUIRES: n >= 0.
Verdict TestPrimality(const mpz_class& n);

// TestPrimality without the proof: one BPSW test. kPrime below 2^64, and
// kProbablePrime above it even where TestPrimality would try a proof.
// REQUIRES: n >= 0.
Verdict TestPrimalityWithoutProof(const mpz_class& n);
// True when TestPrimality tries to prove a probable prime n (n >= 2^64 and
// at most 100 digits), i.e. when it may cost more than a BPSW test.
bool PrimalityProofTried(const mpz_class& n);

// True when the product of factors equals n, every prime-labelled factor
// passes BPSW, and the verdict agrees with the factor labels.
bool VerifyFactorization(const Factorization& f);

}  // namespace zfactor::math

#endif  // ZFACTOR_MATH_FACTOR_H_
