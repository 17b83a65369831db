#!/usr/bin/env bash
# fuzz.sh: build every fuzz/fuzz_*.c as a libFuzzer binary (clang,
# -DMIGCTL_FUZZ=ON, AddressSanitizer + UBSan, the library itself instrumented
# with -fsanitize=fuzzer-no-link; see fuzz/CMakeLists.txt) in build-fuzz/ and
# run each for N seconds (default 30) over a scratch copy of its seed corpus
# (fuzz/corpus/<name>/), with fuzz/<name>.dict as its dictionary. Prints one
# line per target: executions, and libFuzzer's final coverage (cov: edges,
# ft: features). New crashes are left in build-fuzz/crashes/<name>/; the exit
# status is non-zero if any target crashed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 60 config
#
# CI (scripts/test.sh) runs `scripts/fuzz.sh 10`: every target briefly.
# The long run is `scripts/fuzz.sh 3600`. Environment:
#   FUZZ_LIB=OFF     instrument the harnesses only (the old, nearly blind
#                    build; for comparing coverage), in build-fuzz-blind/
#   FUZZ_FRESH=1     start from the seed corpus, not the one grown by
#                    earlier runs
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
lib=${FUZZ_LIB:-ON}
build=build-fuzz
[ "$lib" = ON ] || build=build-fuzz-blind

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is needed (libFuzzer)" >&2
  exit 2
fi

CC=clang cmake -S . -B "$build" -G Ninja -DMIGCTL_FUZZ=ON -DMIGCTL_FUZZ_LIB="$lib" \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    targets+=("${name#fuzz_}")
  done
fi

if ! cmake --build "$build" --target "${targets[@]/#/fuzz_}" >"$build/build.log" 2>&1; then
  grep -E "error|FAILED" -A4 "$build/build.log" | head -40 >&2
  echo "fuzz.sh: building the fuzz targets failed (whole log: $build/build.log)" >&2
  exit 1
fi

status=0
printf '%-14s %10s %7s %7s\n' target execs cov ft
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  crashes="$build/crashes/$t"
  [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$work"
  mkdir -p "$work" "$crashes"
  [ -d "fuzz/corpus/$t" ] && cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  log="$build/fuzz_$t.log"
  if ! ASAN_OPTIONS=detect_leaks=1 "$build/fuzz/fuzz_$t" "${dict[@]}" \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "$work" 2>"$log"; then
    echo "fuzz_$t: crashed; inputs in $crashes, log in $log" >&2
    tail -n 30 "$log" >&2
    status=1
    continue
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  # the last status line libFuzzer printed: "#N  DONE  cov: C ft: F ..."
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  printf '%-14s %10s %7s %7s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}"
done
exit $status
