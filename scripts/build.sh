#!/usr/bin/env bash
# Configures and builds zfactor into ./build (or $ZF_BUILD_DIR) with Ninja.
# Extra arguments go to the CMake configure step, e.g. -DZF_SANITIZE=address,undefined.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${ZF_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZF_WERROR=ON "$@"
cmake --build "$build_dir" -j "$(nproc)"
