#!/usr/bin/env bash
# bench.sh: build the benchmarks in Release and run every one; each prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMIGCTL_WERROR=OFF >/dev/null
cmake --build build-release
for b in build-release/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" "$@"
  echo
done
echo "== migctl plan/replan, whole process (scripts/bench-cli.sh)"
scripts/bench-cli.sh build-release/migctl build-release/bench/gen_inputs
