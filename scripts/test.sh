#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test
# (including those labelled `slow`; skip them locally with
# `ctest --test-dir build -LE slow`), then the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, a short libFuzzer run, and
# the threaded tests under ThreadSanitizer. ZF_SKIP_SANITIZERS=1 skips all
# but the first part.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/install-deps.sh
scripts/build.sh
echo "test.sh: build done after $(( $(date +%s) - start )) s"
ctest --test-dir "${ZF_BUILD_DIR:-build}" --output-on-failure -j 2 --timeout 1200
echo "test.sh: main suite done after $(( $(date +%s) - start )) s"

if [ "${ZF_SKIP_SANITIZERS:-0}" != 1 ]; then
  # Unit-test binaries of the components that parse untrusted input or run
  # the event loops; the math has its own oracle tests in the main suite, and
  # only its ECM, which keeps its own buffers and threads around libecm, runs
  # here too (in the IFMA lanes where the CPU has them, and on libecm alone).
  san_targets=(proto_tests core_tests cache_tests gateway_tests broker_tests worker_tests client_tests)
  cmake -S . -B build-san -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DZF_SANITIZE=address,undefined -DZF_FUZZ=ON -DZF_WERROR=ON > /dev/null
  cmake --build build-san -j 2 --target "${san_targets[@]}" math_tests proto_fuzz gateway_fuzz
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  for t in "${san_targets[@]}"; do
    echo "test.sh: $t under ASan/UBSan"
    (cd build-san && "bin/$t" --gtest_brief=1)
  done
  echo "test.sh: ECM under ASan/UBSan"
  (cd build-san && bin/math_tests --gtest_brief=1 --gtest_filter='EcmLanes*:Factor.*Ecm*')
  (cd build-san && ZFACTOR_NO_AVX512=1 bin/math_tests --gtest_brief=1 --gtest_filter='Factor.*Ecm*')
  ctest --test-dir build-san -L fuzz --output-on-failure

  # ThreadSanitizer on the code that runs threads of its own: ECM curves and
  # SIQS sieving on several threads, the worker's I/O and compute threads,
  # the gateway's compute threads and the cache's writer thread.
  # libzmq is not instrumented, so what happens inside it is suppressed.
  cmake -S . -B build-tsan -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DZF_SANITIZE=thread -DZF_WERROR=ON > /dev/null
  cmake --build build-tsan -j 2 --target math_tests siqs_tests worker_tests gateway_tests cache_tests
  export TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp"
  echo "test.sh: threaded tests under TSan"
  (cd build-tsan && bin/math_tests --gtest_brief=1 --gtest_filter='Factor.EcmCurvesOnThreads*:Factor.JobThreads*')
  (cd build-tsan && bin/siqs_tests --gtest_brief=1 --gtest_filter='Siqs.SplitsWithTwoThreads:Siqs.Cancel*')
  (cd build-tsan && bin/worker_tests --gtest_brief=1)
  (cd build-tsan && bin/gateway_tests --gtest_brief=1)
  (cd build-tsan && bin/cache_tests --gtest_brief=1)
  echo "test.sh: sanitizers and fuzzing done after $(( $(date +%s) - start )) s"
fi
echo "test.sh: finished in $(( $(date +%s) - start )) s"
