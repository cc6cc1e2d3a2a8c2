// SIQS against PARI/GP's factorint on the balanced semiprimes of tests/data.
// Usage: bench_siqs [--digits 40,50,60] [--numbers K] [--no-pari] [--threads N] [--verbose]
// (--numbers K: only the first K known semiprimes of each size, default 3)
//        bench_siqs --n NUMBER [--threads N]
//        bench_siqs --n NUMBER --sieve-a K [--reps R]
// Tuning overrides (siqs::Options, 0 = the built-in table) for any form:
//        [--fb F] [--blocks B] [--lp-mult L] [--fudge BITS] [--small P] [--dlp E]
// The last form times only sieving (A indices 0..K-1, no linear algebra),
// best of R runs: a steady figure for comparing sieve kernels.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench/siqs/bench_numbers.h"
#include "math/siqs/siqs.h"

namespace {

using zfactor::math::siqs::Options;
using zfactor::math::siqs::Stats;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Seconds per number for PARI/GP's factorint, timed inside gp; empty if gp fails.
std::vector<double> PariSeconds(const std::vector<mpz_class>& numbers) {
  const std::string script = "/tmp/zf_bench_siqs_" + std::to_string(getpid()) + ".gp";
  {
    std::ofstream out(script);
    out << "default(parisizemax, 2000000000);\n";
    for (const mpz_class& n : numbers)
      out << "gettime(); factorint(" << n.get_str() << "); print(gettime());\n";
    out << "quit;\n";
  }
  std::vector<double> seconds;
  FILE* gp = popen(("gp -q " + script + " 2>/dev/null").c_str(), "r");
  if (gp == nullptr) return seconds;
  char line[256];
  while (std::fgets(line, sizeof line, gp) != nullptr) seconds.push_back(std::atof(line) / 1000.0);
  pclose(gp);
  std::remove(script.c_str());
  if (seconds.size() != numbers.size()) seconds.clear();
  return seconds;
}

// Process CPU seconds (all threads): what gp's gettime() measures on its side.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

// Wall seconds, or -1 on failure; *cpu gets the CPU seconds.
double RunOne(const mpz_class& n, const Options& options, bool verbose, Stats* stats, double* cpu) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  const auto f = zfactor::math::siqs::FindFactor(n, options, {}, stats);
  *cpu = CpuSeconds() - cpu_start;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const bool ok = f && *f > 1 && *f < n && mpz_divisible_p(n.get_mpz_t(), f->get_mpz_t());
  if (verbose || !ok) {
    std::printf(
        "  %s: %s %.3fs (cpu %.3fs) k=%u fb=%zu polys=%zu fulls=%zu partials=%zu (doubles %zu) "
        "cols=%zu sieve=%.3fs la=%.3fs peak_bytes=%.1fMB\n",
        n.get_str().c_str(), ok ? f->get_str().c_str() : "FAILED", s, *cpu, stats->multiplier,
        stats->fb_size, stats->polynomials, stats->fulls, stats->partials, stats->doubles,
        stats->matrix_cols, stats->sieve_seconds, stats->linalg_seconds, stats->peak_bytes / 1e6);
    std::fflush(stdout);
  }
  return ok ? s : -1;
}

// Sieves A indices [0, num_a) of n `reps` times; prints the fastest run's rate.
int SieveOnly(const mpz_class& n, const Options& options, uint64_t num_a, int reps) {
  double best = 1e300;
  Stats stats;
  for (int r = 0; r < reps; ++r) {
    const double cpu_start = CpuSeconds();
    const auto batch = zfactor::math::siqs::SieveRange(n, options, 0, num_a, {}, &stats);
    const double cpu = CpuSeconds() - cpu_start;
    if (!batch) {
      std::printf("sieve-only: %s not a SIQS candidate\n", n.get_str().c_str());
      return 1;
    }
    best = std::min(best, cpu);
  }
  std::printf(
      "sieve-only %zu digits, %llu A: best cpu %.3fs of %d, polys=%zu fulls=%zu partials=%zu "
      "(doubles %zu), %.0f rels/cpu-s\n",
      n.get_str().size(), static_cast<unsigned long long>(num_a), best, reps, stats.polynomials,
      stats.fulls, stats.partials, stats.doubles, (stats.fulls + stats.partials) / best);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> digits = {40, 50, 60};
  bool pari = true, verbose = false;
  Options options;
  std::string single;
  uint64_t sieve_a = 0;
  size_t per_size = 3;
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--digits" && i + 1 < argc) {
      digits = zfactor::bench::ParseList(argv[++i]);
    } else if (arg == "--no-pari") {
      pari = false;
    } else if (arg == "--threads" && i + 1 < argc) {
      options.threads = std::atoi(argv[++i]);
    } else if (arg == "--n" && i + 1 < argc) {
      single = argv[++i];
    } else if (arg == "--sieve-a" && i + 1 < argc) {
      sieve_a = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--numbers" && i + 1 < argc) {
      per_size = static_cast<size_t>(std::max(1, std::atoi(argv[++i])));
    } else if (arg == "--fb" && i + 1 < argc) {
      options.fb_size = static_cast<uint32_t>(std::atoi(argv[++i]));
    } else if (arg == "--blocks" && i + 1 < argc) {
      options.blocks = static_cast<uint32_t>(std::atoi(argv[++i]));
    } else if (arg == "--lp-mult" && i + 1 < argc) {
      options.lp_mult = static_cast<uint32_t>(std::atoi(argv[++i]));
    } else if (arg == "--fudge" && i + 1 < argc) {
      options.fudge_bits = std::atof(argv[++i]);
    } else if (arg == "--small" && i + 1 < argc) {
      options.small_prime = static_cast<uint32_t>(std::atoi(argv[++i]));
    } else if (arg == "--dlp" && i + 1 < argc) {
      options.dlp_exponent = std::atof(argv[++i]);
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--verbose") {
      verbose = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--digits 40,50,60] [--numbers K] [--no-pari] [--threads N] [--verbose] [--n N "
                   "[--sieve-a K [--reps R]]] [--fb F] [--blocks B] [--lp-mult L] [--fudge BITS] "
                   "[--small P] [--dlp E]\n",
                   argv[0]);
      return 2;
    }
  }
  if (!single.empty() && sieve_a > 0) return SieveOnly(mpz_class(single), options, sieve_a, reps);
  if (!single.empty()) {
    Stats stats;
    double cpu = 0;
    return RunOne(mpz_class(single), options, true, &stats, &cpu) < 0 ? 1 : 0;
  }
  const auto numbers = zfactor::bench::LoadSemiprimes();
  std::printf("SIQS, %d thread(s); median of the first %zu known semiprimes per size\n",
              options.threads, per_size);
  std::printf(
      "wall = elapsed; cpu = process CPU time; PARI = factorint timed by gp's gettime() (CPU "
      "time);\n");
  std::printf("ratio = ours cpu / PARI. peak RSS is the process high-water mark so far.\n");
  std::printf(
      "| digits | ours median wall s | ours median cpu s | PARI median s | ratio | peak_bytes MB | "
      "peak RSS MB |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int d : digits) {
    auto it = numbers.find(d);
    if (it == numbers.end()) continue;
    std::vector<double> ours, ours_cpu;
    size_t peak = 0;
    bool failed = false;
    std::vector<mpz_class> chosen(it->second.begin(),
                                  it->second.begin() + std::min(per_size, it->second.size()));
    for (const mpz_class& n : chosen) {
      Stats stats;
      double cpu = 0;
      const double s = RunOne(n, options, verbose, &stats, &cpu);
      if (s < 0) failed = true;
      ours.push_back(s);
      ours_cpu.push_back(cpu);
      peak = std::max(peak, stats.peak_bytes);
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double ours_median = Median(ours);
    const double cpu_median = Median(ours_cpu);
    std::string pari_cell = "-", ratio_cell = "-";
    if (pari) {
      const std::vector<double> p = PariSeconds(chosen);
      if (!p.empty()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.3f", Median(p));
        pari_cell = buf;
        std::snprintf(buf, sizeof buf, "%.2f", cpu_median / Median(p));
        ratio_cell = buf;
      }
    }
    std::printf("| %d | %.3f%s | %.3f | %s | %s | %.1f | %.1f |\n", d, ours_median,
                failed ? " (FAILED)" : "", cpu_median, pari_cell.c_str(), ratio_cell.c_str(),
                peak / 1e6, usage.ru_maxrss / 1024.0);
    std::fflush(stdout);
  }
  return 0;
}
