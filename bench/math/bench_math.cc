// bench_math: prints the math engine's benchmark tables (docs/PERFORMANCE.md).
//
//   bench_math [--quick] [--seeds N] [--rows P15xP70,P20xP70,...] [--numbers FILE]
//              [--no-ecm-binary] [--own-ecm]
//   bench_math --p28xp60 [--seeds N] [--pari-seeds K] [--threads T] [--no-ecm-binary]
//   bench_math --ecm-stage1
//
// Rows: a 1000-digit prime through our BPSW, GMP's mpz_probab_prime_p(n, 24)
// and PARI's ispseudoprime (gp, same prime); then each ECM number of
// tests/data/ecm.txt split by our ECM ladder (math/ecm.h levels, no SIQS) and by
// the `ecm` binary climbing the same B1 ladder, median over seeds.
// --own-ecm replaces the ECM table by the engine's ECM against the
// self-written scalar ECM of bench/math/own_ecm.h.
// --p28xp60 prints only the p28 x p60 row instead, ours (on T threads),
// the `ecm` binary on the same ladder and PARI (long: PARI needs minutes per
// number, so it runs on the first K seeds only, default 1).
// --ecm-stage1 prints only ECM's stage 1 in IFMA lanes against libecm's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "math/ecm.h"
#include "math/factor.h"
#include "math/job.h"
#include "math/primality.h"
#include "bench/math/cpu_time.h"
#include "bench/math/ecm_stage1.h"
#include "bench/math/own_ecm.h"

namespace zfactor::math {
namespace {



double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::optional<std::string> Run(const std::string& cmd) {
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, got);
  if (pclose(pipe) == -1) return std::nullopt;
  return out;
}

double ChildrenCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_CHILDREN, &usage);
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + 1e-6 * static_cast<double>(tv.tv_usec); };
  return sec(usage.ru_utime) + sec(usage.ru_stime);
}

// CPU time per call in ms (less disturbed than wall time on a shared
// machine), median of `reps` timed calls.
template <typename F>
double MedianCpuMs(int reps, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double t0 = ThreadCpuMs();
    f();
    t.push_back(ThreadCpuMs() - t0);
  }
  return Median(t);
}

void BpswRow(bool quick) {
  mpz_class n;
  mpz_ui_pow_ui(n.get_mpz_t(), 10, 999);
  mpz_nextprime(n.get_mpz_t(), n.get_mpz_t());  // nextprime(10^999), as in gp below
  const int reps = quick ? 5 : 21;
  int sink = 0;
  const double ours = MedianCpuMs(reps, [&] { sink += IsBpswProbablePrime(n); });
  const double gmp = MedianCpuMs(reps, [&] {
    sink += mpz_probab_prime_p(n.get_mpz_t(), 24);
    asm volatile("" : : "r"(sink) : "memory");  // GMP declares it pure: keep every call
  });
  if (sink != 2 * reps) std::printf("!! a test said composite\n");
  std::string pari = "n/a (gp missing)";
  // gp's gettime() is CPU time too; mean over the same number of calls.
  const std::string script = "n=nextprime(10^999);gettime();for(i=1," + std::to_string(reps) +
                             ",ispseudoprime(n));print(gettime()/" + std::to_string(reps) + ".)";
  if (auto out = Run("echo '" + script + "' | " ZF_GP_PATH " -q 2>/dev/null")) {
    if (!out->empty()) pari = std::to_string(std::atof(out->c_str())).substr(0, 5) + " ms (mean)";
  }
  std::printf("| 1000-digit prime nextprime(10^999), BPSW, CPU ms per test | %.1f ms | GMP"
              " mpz_probab_prime_p(n,24) %.1f ms; PARI ispseudoprime %s | <= 25 ms |\n",
              ours, gmp, pari.c_str());
}

struct EcmNumber {
  std::string name;
  int digits = 0;
  mpz_class n, p;
};

std::vector<EcmNumber> ReadNumbers(const std::string& path) {
  std::vector<EcmNumber> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    EcmNumber r;
    std::string n, p;
    if (ss >> r.name >> r.digits >> n >> p) {
      r.n = mpz_class(n);
      r.p = mpz_class(p);
      rows.push_back(r);
    }
  }
  return rows;
}

// Our ladder: the engine's ECM levels in order, until a factor appears.
// Returns CPU seconds.
double OurEcmSeconds(const mpz_class& n, unsigned seed, std::string* where) {
  Budget budget;
  Hooks hooks;
  Job job(budget, hooks);
  uint64_t sigma = uint64_t{seed} * 1000003u;
  int total = 0;
  const double t0 = ThreadCpuMs();
  for (const EcmLevel& level : kEcmLevels) {
    int run = 0;
    auto d = EcmCurves(n, level.b1, LevelCurves(n, level), 1, &sigma, job, &run);
    total += run;
    if (d) {
      *where = std::to_string(static_cast<long>(level.b1)) + "/" + std::to_string(total);
      return 1e-3 * (ThreadCpuMs() - t0);
    }
  }
  *where = "none";
  return 1e-3 * (ThreadCpuMs() - t0);
}

// The `ecm` binary on the same ladder: one process per level, -one stops at
// the first factor. Its curves are random (no seed option). Returns the CPU
// seconds of the ecm processes.
double EcmBinarySeconds(const mpz_class& n, const mpz_class& p, std::string* where) {
  int total = 0;
  const double t0 = ChildrenCpuSeconds();
  for (const EcmLevel& level : kEcmLevels) {
    const std::string cmd = "echo " + n.get_str() + " | " ZF_ECM_PATH " -q -one -c " +
                            std::to_string(level.curves) + " " + std::to_string(static_cast<long>(level.b1));
    auto out = Run(cmd + " 2>/dev/null");
    if (!out) break;
    total += level.curves;
    if (out->find(p.get_str()) != std::string::npos) {
      *where = std::to_string(static_cast<long>(level.b1)) + "/<=" + std::to_string(total);
      return ChildrenCpuSeconds() - t0;
    }
  }
  *where = "none";
  return ChildrenCpuSeconds() - t0;
}

// The self-written ECM (bench/math/own_ecm.h) on the same ladder, B2 = 100 B1.
double OwnEcmSeconds(const mpz_class& n, unsigned seed, std::string* where) {
  uint64_t sigma = 6 + uint64_t{seed} * 1000003u;
  int total = 0;
  const double t0 = ThreadCpuMs();
  for (const EcmLevel& level : kEcmLevels) {
    const auto b1 = static_cast<uint32_t>(level.b1);
    for (int i = 0; i < level.curves; ++i) {
      ++total;
      if (bench::OwnEcmCurve(n, b1, 100 * b1, sigma++)) {
        *where = std::to_string(b1) + "/" + std::to_string(total);
        return 1e-3 * (ThreadCpuMs() - t0);
      }
    }
  }
  *where = "none";
  return 1e-3 * (ThreadCpuMs() - t0);
}

// The engine's ECM (EcmCurve: IFMA lanes where the CPU has them, else
// libecm) against the self-written scalar ECM: ms per curve at each B1, and
// the median time to split each number.
void OwnVsLibecmRows(const std::vector<EcmNumber>& numbers, int seeds) {
  const EcmNumber& first = numbers.front();
  std::printf("\n| B1 (on %s) | engine CPU ms/curve | own scalar ECM CPU ms/curve (B2 = 100 B1) |\n|---|---|---|\n",
              first.name.c_str());
  Budget budget;
  Hooks hooks;
  Job job(budget, hooks);
  for (double b1 : {11e3, 5e4}) {
    constexpr int kCurves = 8;
    double t0 = ThreadCpuMs();
    for (int i = 0; i < kCurves; ++i) EcmCurve(first.n, b1, 1000 + i, job);
    const double lib = (ThreadCpuMs() - t0) / kCurves;
    t0 = ThreadCpuMs();
    for (int i = 0; i < kCurves; ++i) {
      bench::OwnEcmCurve(first.n, static_cast<uint32_t>(b1), static_cast<uint32_t>(100 * b1), 1000 + i);
    }
    const double own = (ThreadCpuMs() - t0) / kCurves;
    std::printf("| %.0f | %.1f | %.1f |\n", b1, lib, own);
  }
  std::printf("\n| number | engine ladder: median CPU s | own scalar ECM ladder: median CPU s | per-seed own (CPU s, B1/curves) |\n"
              "|---|---|---|---|\n");
  for (const auto& row : numbers) {
    std::vector<double> lib, own;
    std::string detail;
    for (int s = 1; s <= seeds; ++s) {
      std::string where;
      lib.push_back(OurEcmSeconds(row.n, static_cast<unsigned>(s), &where));
      own.push_back(OwnEcmSeconds(row.n, static_cast<unsigned>(s), &where));
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%.1f (%s)", detail.empty() ? "" : ", ", own.back(), where.c_str());
      detail += buf;
    }
    std::printf("| %s | %.2f | %.2f | %s |\n", row.name.c_str(), Median(lib), Median(own), detail.c_str());
    std::fflush(stdout);
  }
}

void EcmRows(const std::vector<EcmNumber>& numbers, int seeds, bool with_binary) {
  std::printf("\n| number | digits | ours (the engine, in-process): median CPU s | ecm binary: median CPU s |"
              " per-seed ours (CPU s, B1/curves) | per-seed ecm binary (CPU s, B1/<=curves) |\n"
              "|---|---|---|---|---|---|\n");
  for (const auto& row : numbers) {
    std::vector<double> ours, theirs;
    std::string detail, detail_binary = with_binary ? "" : "not run";
    auto append = [](std::string* to, double t, const std::string& where) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%.1f (%s)", to->empty() ? "" : ", ", t, where.c_str());
      *to += buf;
    };
    for (int s = 1; s <= seeds; ++s) {
      std::string where;
      ours.push_back(OurEcmSeconds(row.n, static_cast<unsigned>(s), &where));
      append(&detail, ours.back(), where);
      if (with_binary) {
        theirs.push_back(EcmBinarySeconds(row.n, row.p, &where));
        append(&detail_binary, theirs.back(), where);
      }
    }
    std::string ref = "not run";
    if (with_binary) ref = std::to_string(Median(theirs)).substr(0, 6);
    std::printf("| %s | %d | %.2f | %s | %s | %s |\n", row.name.c_str(), row.digits, Median(ours), ref.c_str(),
                detail.c_str(), detail_binary.c_str());
    std::fflush(stdout);
  }
}

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// The p28 x p60 row (88 digits). Seed s makes p = nextprime(a random
// 28-digit number) and q = nextprime(a random 60-digit one). Ours: the
// engine's Factor() with ECM only (Budget::use_siqs = false: by default the
// engine hands an 88-digit cofactor to SIQS after the 30-digit ECM level,
// ~12 min at this size) on `threads` threads, CPU seconds of this process and
// wall seconds. The `ecm` binary: the same B1 ladder (EcmBinarySeconds), CPU
// seconds. PARI: factorint in gp, timed by gp's gettime() (CPU), on the first
// pari_seeds numbers.
void P28xP60Row(int seeds, int pari_seeds, bool with_binary, int threads) {
  std::vector<double> ours, ours_wall, binary, pari;
  std::string detail, binary_detail, pari_detail;
  int wrong = 0;
  char buf[200];
  for (int s = 1; s <= seeds; ++s) {
    gmp_randclass rng(gmp_randinit_default);
    rng.seed(static_cast<unsigned long>(s));
    auto random_prime = [&](int digits) {
      mpz_class low, p;
      mpz_ui_pow_ui(low.get_mpz_t(), 10, static_cast<unsigned long>(digits - 1));
      const mpz_class r = low + rng.get_z_range(9 * low);
      mpz_nextprime(p.get_mpz_t(), r.get_mpz_t());
      return p;
    };
    const mpz_class p = random_prime(28), q = random_prime(60), n = p * q;
    Budget budget;
    budget.use_siqs = false;
    budget.seed = static_cast<unsigned>(s);
    budget.threads = threads;
    const double t0 = ProcessCpuSeconds();
    const auto wall0 = std::chrono::steady_clock::now();
    const Factorization f = Factor(n, budget);
    ours.push_back(ProcessCpuSeconds() - t0);
    ours_wall.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count());
    const bool right = f.verdict == Verdict::kFullyFactored && f.factors.size() == 2 &&
                       f.factors[0].p == p && f.factors[1].p == q;
    if (!right) ++wrong;
    // The effort string lists every step; the last ECM level tells where it split.
    const size_t last = f.effort.rfind("ECM B1=");
    const std::string where = last == std::string::npos ? f.effort : f.effort.substr(last);
    std::snprintf(buf, sizeof buf, "%s%.1f (%s%s)", detail.empty() ? "" : ", ", ours.back(),
                  where.c_str(), right ? "" : "; WRONG or unfinished");
    detail += buf;
    if (with_binary) {
      std::string binary_where;
      binary.push_back(EcmBinarySeconds(n, p, &binary_where));
      std::snprintf(buf, sizeof buf, "%s%.1f (%s)", binary_detail.empty() ? "" : ", ",
                    binary.back(), binary_where.c_str());
      binary_detail += buf;
    }
    if (s <= pari_seeds) {
      const std::string script = "n=" + n.get_str() + ";gettime();f=factorint(n);print(gettime(),\" \",#f~)";
      double seconds = -1;
      if (auto out = Run("echo '" + script + "' | " ZF_GP_PATH
                         " -q --default parisizemax=2000000000 2>/dev/null")) {
        double ms = 0;
        int count = 0;
        if (std::sscanf(out->c_str(), "%lf %d", &ms, &count) == 2 && count == 2) seconds = ms / 1e3;
      }
      pari.push_back(seconds);
      std::snprintf(buf, sizeof buf, "%s%.1f", pari_detail.empty() ? "" : ", ", seconds);
      pari_detail += buf;
    }
    std::fprintf(stderr, "seed %d: ours %.1f s CPU, %.1f s wall%s%s\n", s, ours.back(),
                 ours_wall.back(),
                 with_binary ? (", ecm " + std::to_string(binary.back()) + " s").c_str() : "",
                 s <= pari_seeds ? (", PARI " + std::to_string(pari.back()) + " s").c_str() : "");
  }
  auto median_or = [](const std::vector<double>& v, const char* none) {
    if (v.empty()) return std::string(none);
    char m[32];
    std::snprintf(m, sizeof m, "%.1f", Median(v));
    return std::string(m);
  };
  std::printf(
      "\n| work | ours: median CPU s (%d seeds) | ours: median wall s (%d thread%s) |"
      " `ecm` binary: median CPU s | PARI factorint: median CPU s (%d seeds) | target |"
      " ours per seed (CPU s, last ECM level) | `ecm` per seed (CPU s, B1 / <= curves) |"
      " PARI per seed (CPU s) |\n|---|---|---|---|---|---|---|---|---|\n",
      seeds, threads, threads == 1 ? "" : "s", static_cast<int>(pari.size()));
  std::printf(
      "| p28 x p60 (88 digits), time to split | %s | %s | %s | %s | <= 40 s | %s | %s | %s |\n",
      median_or(ours, "").c_str(), median_or(ours_wall, "").c_str(),
      median_or(binary, "not run").c_str(), median_or(pari, "not run").c_str(), detail.c_str(),
      binary_detail.empty() ? "not run" : binary_detail.c_str(),
      pari_detail.empty() ? "not run" : pari_detail.c_str());
  if (wrong != 0) std::printf("WRONG OR UNFINISHED: %d\n", wrong);
}

}  // namespace
}  // namespace zfactor::math

int main(int argc, char** argv) {
  using namespace zfactor::math;
  bool quick = false, with_binary = true, own_ecm = false, p28xp60 = false;
  int seeds = 7, pari_seeds = 1, threads = 1;
  std::string numbers_path = std::string(ZF_NUMBERS_DIR) + "/ecm.txt";
  std::string rows;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--own-ecm") {
      own_ecm = true;
    } else if (a == "--p28xp60") {
      p28xp60 = true;
    } else if (a == "--ecm-stage1") {
      return EcmStage1Rows() ? 0 : 1;
    } else if (a == "--pari-seeds" && i + 1 < argc) {
      pari_seeds = std::max(0, std::atoi(argv[++i]));
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--no-ecm-binary") {
      with_binary = false;
    } else if (a == "--seeds" && i + 1 < argc) {
      seeds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--rows" && i + 1 < argc) {
      rows = argv[++i];
    } else if (a == "--numbers" && i + 1 < argc) {
      numbers_path = argv[++i];
    } else {
      std::fprintf(
          stderr,
          "usage: bench_math [--quick] [--seeds N] [--rows A,B] [--numbers FILE] [--no-ecm-binary]"
          " [--own-ecm] | --p28xp60 [--seeds N] [--pari-seeds K] [--threads T] "
          "[--no-ecm-binary] | --ecm-stage1\n");
      return 2;
    }
  }
  if (p28xp60) {
    P28xP60Row(seeds, pari_seeds, with_binary, threads);
    return 0;
  }
  if (quick && rows.empty()) rows = "P15xP70,P20xP70";
  std::printf("| work | ours | reference | target |\n|---|---|---|---|\n");
  BpswRow(quick);
  std::vector<EcmNumber> selected;
  for (const auto& r : ReadNumbers(numbers_path)) {
    if (rows.empty() || ("," + rows + ",").find("," + r.name + ",") != std::string::npos) selected.push_back(r);
  }
  if (selected.empty()) {
    std::fprintf(stderr, "no ECM numbers selected from %s\n", numbers_path.c_str());
    return 1;
  }
  if (own_ecm) {
    OwnVsLibecmRows(selected, seeds);
  } else {
    EcmRows(selected, seeds, with_binary);
  }
  return 0;
}
