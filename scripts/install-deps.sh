#!/usr/bin/env bash
# install-deps.sh: install the Debian packages migctl needs to build and test.
# Idempotent and fast when everything is already there (no apt-get at all).
#
#   scripts/install-deps.sh          everything: the build and every test (scripts/test.sh)
#   scripts/install-deps.sh build    only what building migctl needs (scripts/demo.sh), so the
#                                    main job does not depend on the test services' packages
set -euo pipefail

BUILD_PACKAGES=(
  gcc cmake ninja-build pkg-config   # toolchain
  libyaml-dev libjansson-dev         # config (YAML) and state/JSON
  libmicrohttpd-dev                  # exporter HTTP server
  coinor-libcbc-dev zlib1g-dev       # replan MILP (CBC, EPL-2.0; its pkg-config names -lz)
)
PACKAGES=(
  "${BUILD_PACKAGES[@]}"
  libcmocka-dev bats jq              # unit and CLI tests
  clang                              # fuzzers (libFuzzer)
  $(command -v kubectl >/dev/null || echo kubernetes-client)  # kubectl: k8s manifests parsed offline
  help2man dpkg-dev man-db zsh systemd  # the .deb: man pages, shlibdeps, and its checks
  prometheus curl tmux               # metrics tests: a real Prometheus, scrapes, top on a terminal
  libclang-rt-14-dev                 # libFuzzer and sanitizer runtimes for clang (CI's fuzz step)
  libglpk-dev                        # replan test oracle (GLPK, test only)
  slurmctld slurmd slurm-client munge  # Slurm sandbox (scripts/slurm-sandbox.sh, tests/slurm)
)

case "${1:-all}" in
  build) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
  all) ;;
  *) echo "usage: scripts/install-deps.sh [build|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One retry: a mirror hiccup or a dpkg step interrupted half way (dpkg
# --configure -a finishes it) should not fail a fresh machine's first run.
for try in 1 2; do
  if $SUDO apt-get update -qq >"$log" 2>&1 &&
     DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
       "${missing[@]}" >>"$log" 2>&1; then
    exit 0
  fi
  echo "install-deps: apt-get failed (try $try of 2):" >&2
  grep -E "^(E:|dpkg: error|Errors were encountered)" -A3 "$log" | head -20 >&2 || tail -n 20 "$log" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO dpkg --configure -a >>"$log" 2>&1 || true
done
exit 1
