#!/usr/bin/env bash
# demo.sh: the main job, from a fresh Debian machine. Installs what migctl
# needs, builds it, and partitions a node:
#  - with no NVIDIA GPU (no loadable libnvidia-ml.so.1), on the built-in
#    simulator: an 8x H100 node is created, partitioned with
#    scripts/demo-node.yaml (dry run first, then for real, then again to show
#    it is idempotent), and drawn;
#  - on a real GPU node it only reads: status and profiles, nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake -S . -B build -G Ninja >/dev/null
# Quiet when it works; the compiler's and linker's errors (ninja prints them
# on stdout) when it does not.
if ! cmake --build build >build/demo-build.log 2>&1; then
  grep -E "error|FAILED" -A4 build/demo-build.log | head -40 >&2
  echo "demo: the build failed (whole log: build/demo-build.log)" >&2
  exit 1
fi
M=build/migctl

if [ "${MIGCTL_BACKEND:-}" != sim ] && $M --backend nvml status >/dev/null 2>&1; then
  echo "== A real GPU answers through NVML: read-only tour"
  $M --backend nvml status
  $M --backend nvml profiles -i 0
  exit 0
fi

export MIGCTL_BACKEND=sim
# The simulated node lives in build/ (a directory of this user's own): apply
# keeps its lock beside the state file and refuses a directory others can
# write to, such as /tmp (docs/apply.md, "The lock").
export MIGCTL_SIM_STATE="${MIGCTL_SIM_STATE:-$PWD/build/demo-node.json}"
echo "== No GPU here: simulating an 8x H100 node in $MIGCTL_SIM_STATE"
$M sim init --gpus 8xH100-SXM5-80GB --force
echo
echo "== What the config asks for, before anything changes (dry run)"
$M apply -f scripts/demo-node.yaml -c demo --dry-run
echo
echo "== Apply it"
$M apply -f scripts/demo-node.yaml -c demo
echo
echo "== The node now"
$M status
echo
echo "== Apply again: nothing to do"
$M apply -f scripts/demo-node.yaml -c demo
$M assert -f scripts/demo-node.yaml -c demo --placements && echo "assert: the node matches the config"
