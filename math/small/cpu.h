// Which optional instruction sets the word-size kernels may use. Each kernel
// that needs one is compiled for it alone and runs only when this says so;
// otherwise the portable code runs, which gives the same answers.
#ifndef ZFACTOR_MATH_SMALL_CPU_H_
#define ZFACTOR_MATH_SMALL_CPU_H_

namespace zfactor::math::small {

// True when this CPU has AVX-512F (asked once) and the environment does not
// set ZFACTOR_NO_AVX512 (to measure or test the portable code).
bool UseAvx512();

// UseAvx512(), and the CPU has AVX-512 IFMA (52-bit multiply-add).
bool UseAvx512Ifma();

}  // namespace zfactor::math::small

#endif  // ZFACTOR_MATH_SMALL_CPU_H_
