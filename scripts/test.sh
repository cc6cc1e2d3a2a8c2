#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test
# (including those labelled `slow`; skip them locally with
# `ctest --test-dir build -LE slow`).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/install-deps.sh
scripts/build.sh

export ZF_SHARED_DIR=${ZF_SHARED_DIR:-$(cd .. && pwd)/shared}
ctest --test-dir "${ZF_BUILD_DIR:-build}" --output-on-failure -j 2 --timeout 1200

echo "test.sh: finished in $(( $(date +%s) - start )) s"
