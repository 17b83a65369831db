#!/usr/bin/env bash
# package.sh: build migctl's Debian package with CPack.
#
#   scripts/package.sh [OUTDIR]      (default OUTDIR: build-pkg)
#
# Configures its own build directory (Release, -Werror, installed under /usr),
# builds only what the package holds (migctl, the shim, the man pages: not the
# tests, fuzzers or benchmarks), and runs cpack. Prints the path of the .deb.
# packaging/CMakeLists.txt says what goes where.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
out=${1:-build-pkg}
cmake -S . -B "$out" -G Ninja -DMIGCTL_WERROR=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build "$out" --target migctl nvml_shim man
rm -f "$out"/migctl_*.deb
(cd "$out" && cpack -G DEB >/dev/null)
deb=$(ls "$out"/migctl_*.deb)
echo "$deb"
