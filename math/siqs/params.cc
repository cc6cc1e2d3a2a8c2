#include "math/siqs/params.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace zfactor::math::siqs {
namespace {

// digits, fb_size, blocks per side, lp_mult, fudge_bits, small_prime, dlp_exponent.
// Rows 30-60: the output of
//   siqs_tune --digits 30,40,50,60 --numbers 2 --fb-scale 0.7,1,1.4 --blocks-delta 0,1
//   --fudge-delta -2,0,2
// Row 70: SLP vs DLP measured once each on C70_1 (siqs_tune --digits 70 --numbers 1 --dlp -1 | --lp
// 40 --fudge-delta -12 --dlp 1.7: 14.7 s vs 13.8 s CPU, within noise). Row 75 pins what the
// 70-80 interpolation gave before row 80 changed (one 75-digit semiprime: 18.9 s CPU; the new
// row 80 interpolated there, lp_mult 300, fudge 12.5, dlp 1.9: 23.3 s). Row 80: a sweep on C80_1
// (lp_mult 40-400, dlp 1.7-2.0, fudge 3-9, fb 20000-32000, blocks 3-5) and checks on C80_2/3
// with bench_siqs --n: lp_mult 200, dlp 1.9, fudge 7, 4 blocks took C80_2 from 88.5 s to
// 66.7 s CPU (row 80 before: 40, 1.7, 6, 5 blocks).
// Rows 20, 90 and 100 are extrapolated, not measured (90/100 take row 80's large-prime
// settings); the double-large-prime variation is switched on from 73 digits. See docs/SIQS.md.
constexpr Params kTable[] = {
    {20, 80, 1, 20, 4.0, 20, 0},         {30, 200, 1, 30, 6.0, 24, 0},
    {40, 350, 1, 40, 12.0, 30, 0},       {50, 2100, 1, 100, 14.0, 60, 0},
    {60, 5880, 2, 400, 18.0, 100, 0},    {70, 12000, 3, 400, 18.0, 100, 0},
    {75, 18330, 4, 220, 12.0, 110, 1.7}, {80, 28000, 4, 200, 7.0, 120, 1.9},
    {90, 50000, 8, 200, 7.0, 150, 1.9},  {100, 80000, 10, 200, 7.0, 150, 1.9},
};

}  // namespace

const Params* ParamTable(int* rows) {
  *rows = static_cast<int>(std::size(kTable));
  return kTable;
}

Params ParamsForDigits(int digits) {
  constexpr int kRows = static_cast<int>(std::size(kTable));
  if (digits <= kTable[0].digits) return kTable[0];
  if (digits >= kTable[kRows - 1].digits) return kTable[kRows - 1];
  int i = 0;
  while (kTable[i + 1].digits < digits) ++i;
  const Params& lo = kTable[i];
  const Params& hi = kTable[i + 1];
  const double t = static_cast<double>(digits - lo.digits) / (hi.digits - lo.digits);
  auto mix = [t](double a, double b) { return a + t * (b - a); };
  Params p;
  p.digits = digits;
  // Factor-base size grows geometrically; interpolate its logarithm.
  p.fb_size =
      static_cast<uint32_t>(std::lround(std::exp(mix(std::log(lo.fb_size), std::log(hi.fb_size)))));
  p.blocks = static_cast<uint32_t>(std::lround(mix(lo.blocks, hi.blocks)));
  p.lp_mult = static_cast<uint32_t>(std::lround(mix(lo.lp_mult, hi.lp_mult)));
  p.fudge_bits = mix(lo.fudge_bits, hi.fudge_bits);
  p.small_prime = static_cast<uint32_t>(std::lround(mix(lo.small_prime, hi.small_prime)));
  p.dlp_exponent = t < 0.5 ? lo.dlp_exponent : hi.dlp_exponent;
  p.fb_size = std::min(p.fb_size, kMaxFactorBase - 1);
  return p;
}

}  // namespace zfactor::math::siqs
