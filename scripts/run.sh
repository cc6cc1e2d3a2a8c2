#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts the full local stack
# (broker, gateway, workers as separate processes on loopback), factors real
# numbers through the `zfactor` CLI, then stops the stack.
#
#   scripts/run.sh           run the demo and stop
#   scripts/run.sh --serve   keep the stack running until Ctrl-C (clients use tcp://127.0.0.1:5555)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh > /dev/null
bin=${ZF_BUILD_DIR:-build}/bin

state=$(mktemp -d)
cleanup() {
  if [ -n "${stack_pid:-}" ] && kill -0 "$stack_pid" 2>/dev/null; then
    kill -TERM "$stack_pid"
    wait "$stack_pid" || true
  fi
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${1:-}" = "--serve" ]; then
  echo "zfactor: serving on tcp://127.0.0.1:5555 (metrics: gateway :9100, broker :9101, worker :9102); Ctrl-C stops it"
  "$bin/zfactor-stack" --cache "$state/cache.db" --journal "$state/journal.db" \
    --listen tcp://127.0.0.1:5555 &
  stack_pid=$!
  wait "$stack_pid"
  exit 0
fi

# Demo: OS-picked ports, so it never collides with a running service.
"$bin/zfactor-stack" --port-base 0 --cache "$state/cache.db" --journal "$state/journal.db" \
  --ready-file "$state/ready" \
  2> "$state/stack.log" &
stack_pid=$!
for _ in $(seq 1 200); do
  [ -s "$state/ready" ] && break
  kill -0 "$stack_pid" 2>/dev/null || { cat "$state/stack.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$state/ready" ] || { echo "run.sh: the stack did not come up" >&2; cat "$state/stack.log" >&2; exit 1; }
endpoint=$(sed -n 's/^listen=//p' "$state/ready")
zf() { echo "\$ zfactor $*"; "$bin/zfactor" --endpoint "$endpoint" "$@"; }

echo "zfactor stack up; clients connect to $endpoint"
zf factor 2^128+1                                  # F7, a queued job (above 2^64)
zf factor 1234567890123456789 600851475143 97      # small: answered inline
semiprime=$(awk '$1=="C40_1" {print $3}' tests/data/semiprimes.txt)
zf factor "$semiprime"                             # a 40-digit semiprime through the queue
zf factor 2^128+1                                  # again: from the result cache
zf isprime 10^999+7                                # a 1000-digit prime
zf isprime 2^127-1 2^127+1
zf stats
echo "stopping the stack"
