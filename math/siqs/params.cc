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
// 40
// --fudge-delta -12 --dlp 1.7: 14.7 s vs 13.8 s CPU, within noise). Row 80: C80_1 once with this
// row (135.6 s CPU) and once single-large-prime (siqs_tune --digits 80 --numbers 1 --fb-scale 1
// --blocks-delta 0 --lp 400 --fudge-delta 12 --dlp -1: 142.2 s CPU). Rows 20, 90 and 100 are
// extrapolated, not measured; the double-large-prime variation is switched on from 75 digits.
// See docs/SIQS.md.
constexpr Params kTable[] = {
    {20, 80, 1, 20, 4.0, 20, 0},         {30, 200, 1, 30, 6.0, 24, 0},
    {40, 350, 1, 40, 12.0, 30, 0},       {50, 2100, 1, 100, 14.0, 60, 0},
    {60, 5880, 2, 400, 18.0, 100, 0},    {70, 12000, 3, 400, 18.0, 100, 0},
    {80, 28000, 5, 40, 6.0, 120, 1.7},   {90, 50000, 8, 40, 6.0, 150, 1.7},
    {100, 80000, 10, 40, 6.0, 150, 1.7},
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
