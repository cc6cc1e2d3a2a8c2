// Measures SIQS over a grid of parameters per size and prints the fastest
// as rows of the table in math/siqs/params.cc.
// Usage: siqs_tune [--digits 40,50,60] [--numbers K] [--fb-scale 0.7,1,1.4]
//                  [--blocks-delta -1,0,1] [--lp 0] [--fudge-delta -1,0,1] [--small 0] [--dlp 0]
//                  [--reps R] [--first J]
// Each configuration runs on K (default 1) known semiprimes of the size,
// starting with the J-th (default 1); the score is their total CPU time (one
// thread), each number's time the fastest of R (default 1) runs: on a shared
// machine the neighbours only ever add time. Zero/deltas are relative to the
// built-in row, so rerunning around the printed table refines it.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/siqs/bench_numbers.h"
#include "math/siqs/params.h"
#include "math/siqs/siqs.h"

namespace {

// Process CPU time: the machine is shared, so wall time would measure the neighbours.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

std::vector<double> ParseDoubles(const std::string& s) {
  std::vector<double> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = s.find(',', pos);
    out.push_back(std::stod(s.substr(pos, comma - pos)));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using zfactor::math::siqs::Options;
  using zfactor::math::siqs::Params;
  std::vector<int> digits = {40, 50, 60};
  int count = 1;
  int reps = 1;
  int first = 1;
  std::vector<double> fb_scale = {0.7, 1.0, 1.4}, blocks_delta = {-1, 0, 1}, lp = {0},
                      fudge_delta = {-1, 0, 1}, small = {0}, dlp = {0};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i], value = argv[i + 1];
    if (arg == "--digits") {
      digits = zfactor::bench::ParseList(value);
    } else if (arg == "--numbers") {
      count = std::stoi(value);
    } else if (arg == "--reps") {
      reps = std::max(1, std::stoi(value));
    } else if (arg == "--first") {
      first = std::max(1, std::stoi(value));
    } else if (arg == "--fb-scale") {
      fb_scale = ParseDoubles(value);
    } else if (arg == "--blocks-delta") {
      blocks_delta = ParseDoubles(value);
    } else if (arg == "--lp") {
      lp = ParseDoubles(value);
    } else if (arg == "--dlp") {
      dlp = ParseDoubles(value);
    } else if (arg == "--small") {
      small = ParseDoubles(value);
    } else if (arg == "--fudge-delta") {
      fudge_delta = ParseDoubles(value);
    } else {
      std::fprintf(stderr, "unknown option %s\n", arg.c_str());
      return 2;
    }
  }
  const auto numbers = zfactor::bench::LoadSemiprimes();
  std::vector<Params> best_rows;
  for (int d : digits) {
    const auto it = numbers.find(d);
    if (it == numbers.end()) continue;
    const Params base = zfactor::math::siqs::ParamsForDigits(d);
    Params best = base;
    double best_time = 1e300;
    for (double fs : fb_scale) {
      for (double bd : blocks_delta) {
        for (double l : lp) {
          for (double fd : fudge_delta) {
            for (double sp : small) {
              for (double de : dlp) {
                Params p = base;
                p.fb_size = static_cast<uint32_t>(base.fb_size * fs);
                p.blocks = static_cast<uint32_t>(std::max(1.0, base.blocks + bd));
                if (l > 0) p.lp_mult = static_cast<uint32_t>(l);
                p.fudge_bits = base.fudge_bits + fd;
                if (sp > 0) p.small_prime = static_cast<uint32_t>(sp);
                if (de != 0) p.dlp_exponent = de < 0 ? 0 : de;
                Options options;
                options.fb_size = p.fb_size;
                options.blocks = p.blocks;
                options.lp_mult = p.lp_mult;
                options.fudge_bits = p.fudge_bits;
                options.small_prime = p.small_prime;
                options.dlp_exponent = p.dlp_exponent > 0 ? p.dlp_exponent : -1;
                double total = 0;
                bool ok = true;
                for (int k = first - 1; k < first - 1 + count && k < static_cast<int>(it->second.size());
                     ++k) {
                  const mpz_class& n = it->second[k];
                  double fastest = 1e300;
                  for (int r = 0; r < reps; ++r) {
                    const double start = CpuSeconds();
                    const auto f = zfactor::math::siqs::FindFactor(n, options, {});
                    fastest = std::min(fastest, CpuSeconds() - start);
                    ok = ok && f && mpz_divisible_p(n.get_mpz_t(), f->get_mpz_t());
                  }
                  total += fastest;
                }
                std::printf(
                    "C%d fb=%u blocks=%u lp_mult=%u fudge=%.1f small=%u dlp=%.2f: %.3fs%s\n", d,
                    p.fb_size, p.blocks, p.lp_mult, p.fudge_bits, p.small_prime, p.dlp_exponent,
                    total, ok ? "" : " FAILED");
                std::fflush(stdout);
                if (ok && total < best_time) {
                  best_time = total;
                  best = p;
                }
              }
            }
          }
        }
      }
    }
    best.digits = d;
    best_rows.push_back(best);
  }
  std::printf(
      "\n// digits, fb_size, blocks per side, lp_mult, fudge_bits, small_prime, dlp_exponent "
      "(siqs_tune)\n");
  for (const Params& p : best_rows) {
    std::printf("{%d, %u, %u, %u, %.1f, %u, %.2f},\n", p.digits, p.fb_size, p.blocks, p.lp_mult,
                p.fudge_bits, p.small_prime, p.dlp_exponent);
  }
  return 0;
}
