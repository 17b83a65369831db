#!/usr/bin/env bash
# fuzz.sh: build every fuzz/fuzz_*.c as a libFuzzer binary (clang,
# -DMIGCTL_FUZZ=ON, AddressSanitizer + UBSan) in build-fuzz/ and run each for
# N seconds (default 30) over a scratch copy of its seed corpus
# (fuzz/corpus/<name>/), with fuzz/<name>.dict as a dictionary when there is
# one. New crashes are left in build-fuzz/crashes/<name>/;
# the exit status is non-zero if any target crashed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 60 config
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
build=build-fuzz

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is needed (libFuzzer)" >&2
  exit 2
fi

CC=clang cmake -S . -B "$build" -G Ninja -DMIGCTL_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
  -DMIGCTL_SANITIZE=address,undefined >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    targets+=("${name#fuzz_}")
  done
fi

status=0
for t in "${targets[@]}"; do
  cmake --build "$build" --target "fuzz_$t" >/dev/null
  work="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$work" "$crashes"
  [ -d "fuzz/corpus/$t" ] && cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  echo "== fuzz_$t for ${seconds}s"
  if ! "$build/fuzz/fuzz_$t" "${dict[@]}" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" "$work" \
      2>"$build/fuzz_$t.log"; then
    echo "fuzz_$t: crashed; inputs in $crashes, log in $build/fuzz_$t.log" >&2
    tail -n 30 "$build/fuzz_$t.log" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/fuzz_$t.log" || true
  fi
done
exit $status
