#!/usr/bin/env bash
# Installs, from Debian's packages, whatever zfactor needs that is missing.
# Safe to run repeatedly: when everything is present it does nothing.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config git
  # libraries
  libzmq3-dev cppzmq-dev libgmp-dev libmsgpack-cxx-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libsqlite3-dev libecm-dev
  # test oracles and reference tools (PARI/GP, GMP-ECM's ecm, coreutils factor)
  pari-gp gmp-ecm coreutils
  # sanitizer and libFuzzer builds
  clang libclang-rt-14-dev
  # the Python client's dependencies (no PyPI: Debian's packages)
  python3 python3-zmq python3-msgpack
  # network namespaces for the multi-host test
  iproute2 procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or install them) and try again" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
