// bench_math --ecm-stage1: ECM stage 1 in IFMA lanes against libecm's.
#ifndef ZFACTOR_BENCH_MATH_ECM_STAGE1_H_
#define ZFACTOR_BENCH_MATH_ECM_STAGE1_H_

namespace zfactor::math {

// Prints, per size of n and B1, the CPU ms per curve of stage 1 in the lanes
// (eight curves at once) and in libecm (parametrization 1, the same curves),
// and of stage 2 after it: libecm's at its default B2, the lanes' at 100 B1. Returns false if the lanes' points and
// libecm's differ (or the CPU has no IFMA).
bool EcmStage1Rows();

}  // namespace zfactor::math

#endif  // ZFACTOR_BENCH_MATH_ECM_STAGE1_H_
