// bench_small: the word-size engine against GNU coreutils `factor` and
// PARI/GP `factorint` on the same seeded inputs, in one run.
//
//   bench_small [--quick] [--no-reference] [--rows 1,2,3] [--passes K]
//
// Prints one table row per workload: CPU microseconds per number for each
// tool (CPU time, not wall time, so that other load on the machine distorts
// the comparison less). Reference tools run on a prefix of the inputs (they
// are slower); their start-up cost is excluded (gp times itself with
// gettime(), which counts CPU time; factor's empty run is subtracted).
// Every figure is the median of K timed passes over the same inputs (default
// 3): on a shared virtual machine one pass can move by 10-20%.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bench/small/bench_util.h"
#include "math/small/small.h"

namespace {

using zfactor::bench::CpuNow;
using zfactor::bench::RandomPrime;
using zfactor::math::small::Factor128;
using zfactor::math::small::Factor64;
using zfactor::math::small::IsProbablePrime128;
using zfactor::math::small::ToString128;
using zfactor::math::small::u128;

// CPU seconds used by this process.
// CPU seconds used by waited-for children (and their children).
double ChildrenCpuNow() {
  rusage usage;
  getrusage(RUSAGE_CHILDREN, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + 1e-6 * static_cast<double>(tv.tv_usec);
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Workload {
  std::string name;
  std::vector<u128> numbers;
  size_t coreutils_count;  // 0: skipped
  size_t gp_count;
};

std::string WriteNumbers(const std::vector<u128>& numbers, size_t count) {
  char path[] = "/tmp/zf_bench_small_XXXXXX";
  const int fd = mkstemp(path);
  if (fd >= 0) close(fd);
  std::ofstream f(path);
  for (size_t i = 0; i < count && i < numbers.size(); ++i) f << ToString128(numbers[i]) << "\n";
  return path;
}

// CPU seconds a shell command used, or -1 when it failed.
double TimeCommand(const std::string& command) {
  const double start = ChildrenCpuNow();
  const int status = std::system(command.c_str());
  const double elapsed = ChildrenCpuNow() - start;
  return status == 0 ? elapsed : -1;
}

// The median of `passes` calls of time(), or -1 when one failed.
template <typename F>
double MedianOf(int passes, F time) {
  std::vector<double> t;
  for (int i = 0; i < passes; ++i) {
    t.push_back(time());
    if (t.back() < 0) return -1;
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Microseconds per number for coreutils factor, or -1.
double CoreutilsMicros(const std::vector<u128>& numbers, size_t count) {
  const std::string file = WriteNumbers(numbers, count);
  const double empty = TimeCommand("/usr/bin/factor < /dev/null > /dev/null");
  const double full = TimeCommand("/usr/bin/factor < " + file + " > /dev/null");
  std::remove(file.c_str());
  if (empty < 0 || full < 0) return -1;
  return (full - empty) * 1e6 / static_cast<double>(count);
}

// Microseconds per number for gp's factorint, timed inside gp, or -1.
double GpMicros(const std::vector<u128>& numbers, size_t count) {
  const std::string file = WriteNumbers(numbers, count);
  const std::string script = file + ".gp";
  {
    std::ofstream f(script);
    f << "v = readvec(\"" << file << "\"); gettime(); s = 0;\n"
      << "for (i = 1, #v, s += #factorint(v[i])~); t = gettime(); print(t, \" \", s);\nquit\n";
  }
  double micros = -1;
  if (FILE* pipe = popen(("gp -q -f " + script + " </dev/null 2>/dev/null").c_str(), "r")) {
    double ms = 0;
    long factors = 0;
    if (std::fscanf(pipe, "%lf %ld", &ms, &factors) == 2) {
      micros = ms * 1e3 / static_cast<double>(count);
    }
    if (pclose(pipe) != 0) micros = -1;
  }
  std::remove(file.c_str());
  std::remove(script.c_str());
  return micros;
}

// Microseconds per number for our engine; counts wrong answers in *errors.
double OurMicros(const std::vector<u128>& numbers, int* errors) {
  std::vector<uint64_t> f64;
  std::vector<u128> f128;
  u128 checksum = 0;
  const zfactor::math::Hooks hooks;
  const double start = CpuNow();
  for (u128 n : numbers) {
    if ((n >> 64) == 0) {
      f64.clear();
      Factor64(static_cast<uint64_t>(n), &f64);
      for (uint64_t p : f64) checksum += p;
    } else {
      f128.clear();
      Factor128(n, &f128, hooks);
      for (u128 p : f128) checksum += p;
    }
  }
  const double elapsed = CpuNow() - start;
  // Keeps the loop observable; also a cheap sanity check of the results.
  asm volatile("" : : "r"(static_cast<uint64_t>(checksum)) : "memory");
  *errors = 0;
  for (u128 n : numbers) {
    f128.clear();
    Factor128(n, &f128, hooks);
    u128 product = 1;
    for (u128 p : f128) {
      product *= p;
      if (!IsProbablePrime128(p)) ++*errors;
    }
    if (product != n) ++*errors;
  }
  return elapsed * 1e6 / static_cast<double>(numbers.size());
}

std::string Cell(double micros, size_t count) {
  if (count == 0) return "skipped (>10 s each)";
  if (micros < 0) return "failed";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f (n=%zu)", micros, count);
  return buffer;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, reference = true;
  int passes = 3;
  std::string rows = "123";  // which workloads to run, by number
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--no-reference") == 0) {
      reference = false;
    } else if (std::strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
      rows = argv[++i];
    } else if (std::strcmp(argv[i], "--passes") == 0 && i + 1 < argc &&
               std::atoi(argv[i + 1]) > 0) {
      passes = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--no-reference] [--rows 1,2,3] [--passes K]\n",
                   argv[0]);
      return 2;
    }
  }
  const size_t scale = quick ? 10 : 1;
  std::mt19937_64 rng(42);
  std::vector<Workload> workloads;
  {
    Workload w{"random 64-bit numbers", {}, 20000 / scale, 5000 / scale};
    for (size_t i = 0; i < 100000 / scale; ++i) w.numbers.push_back(rng());
    workloads.push_back(w);
  }
  {
    Workload w{"semiprimes 32x32 bits", {}, 500 / scale, 1000 / scale};
    for (size_t i = 0; i < 10000 / scale; ++i) {
      w.numbers.push_back(RandomPrime(rng, 32) * RandomPrime(rng, 32));
    }
    workloads.push_back(w);
  }
  {
    Workload w{"semiprimes 64x64 bits", {}, 0, 50 / scale};
    for (size_t i = 0; i < 200 / scale; ++i) {
      w.numbers.push_back(RandomPrime(rng, 64) * RandomPrime(rng, 64));
    }
    workloads.push_back(w);
  }

  std::printf(
      "| work | zfactor small (CPU us/number) | zfactor small on gp's inputs | GNU factor (CPU "
      "us/number) | PARI factorint (CPU us/number) |\n");
  std::printf("|---|---|---|---|---|\n");
  int total_errors = 0;
  for (size_t row = 0; row < workloads.size(); ++row) {
    const Workload& w = workloads[row];
    if (rows.find(static_cast<char>('1' + row)) == std::string::npos) continue;
    int errors = 0;
    const double ours = MedianOf(passes, [&] { return OurMicros(w.numbers, &errors); });
    total_errors += errors;
    std::string coreutils = "not run", gp = "not run", ours_on_gp_inputs = "not run";
    if (reference) {
      coreutils =
          Cell(w.coreutils_count
                   ? MedianOf(passes, [&] { return CoreutilsMicros(w.numbers, w.coreutils_count); })
                   : 0,
               w.coreutils_count);
      gp = Cell(MedianOf(passes, [&] { return GpMicros(w.numbers, w.gp_count); }), w.gp_count);
      // The same numbers gp had, timed right after it: load on a shared
      // machine drifts, so this is the like-for-like figure.
      const std::vector<u128> prefix(w.numbers.begin(),
                                     w.numbers.begin() + static_cast<std::ptrdiff_t>(w.gp_count));
      int prefix_errors = 0;
      ours_on_gp_inputs =
          Cell(MedianOf(passes, [&] { return OurMicros(prefix, &prefix_errors); }), prefix.size());
      total_errors += prefix_errors;
    }
    std::printf("| %zu %s | %s | %s | %s | %s |\n", w.numbers.size(), w.name.c_str(),
                Cell(ours, w.numbers.size()).c_str(), ours_on_gp_inputs.c_str(), coreutils.c_str(),
                gp.c_str());
    std::fflush(stdout);
  }
  if (total_errors != 0) std::printf("WRONG ANSWERS: %d\n", total_errors);
  return total_errors == 0 ? 0 : 1;
}
