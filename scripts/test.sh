#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it. Installs dependencies, builds
# with -Werror, runs every test (unit, CLI on both backends, shim ABI test,
# fuzz corpus replay), checks an -O3 build compiles without warnings, then
# builds again under AddressSanitizer + UBSan and runs everything again, then
# builds the .deb and checks it installed in a clean root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (-Werror) and test"
cmake -S . -B build -G Ninja -DMIGCTL_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build optimised (-O3 -Werror: its warnings differ from -O2's)"
cmake -S . -B build-release -G Ninja -DMIGCTL_WERROR=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$jobs"

echo "== build under AddressSanitizer + UBSan and test"
cmake -S . -B build-asan -G Ninja -DMIGCTL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
  -DMIGCTL_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== package: build the .deb, install it into a clean root (dpkg --root) and check it"
deb=$(scripts/package.sh | tail -n 1)
tests/package/check-package.sh "$deb"

echo "== fuzz every target briefly (library instrumented; fails on a crash)"
scripts/fuzz.sh "${MIGCTL_CI_FUZZ_SECONDS:-10}"
