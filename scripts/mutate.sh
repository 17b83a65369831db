#!/usr/bin/env bash
# mutate.sh: mutation testing. For each mutation in scripts/mutations.txt:
# apply it to its file (a literal replacement), rebuild, run the ctest subset
# the line names, expect a failure ("killed"), restore the file. Prints one
# table row per mutation and exits 1 if any mutation survived, no longer
# applies (STALE) or does not compile (NOBUILD), 0 when every one was killed.
#
#   scripts/mutate.sh [BUILD_DIR] [ID ...]
#
# BUILD_DIR (default build-mutate) is configured like CI's first build when
# it does not exist. The sources are restored after each mutation and on any
# exit (a trap), and the build is brought back to the real sources at the
# end. Needs bash, cmake, ninja, ctest and perl (perl-base, always present on
# Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-mutate}
shift || true
only=("$@")
list=scripts/mutations.txt
jobs=$(nproc 2>/dev/null || echo 2)

if [ ! -f "$build/build.ninja" ]; then
    cmake -S . -B "$build" -G Ninja -DMIGCTL_WERROR=ON >/dev/null
fi
echo "== baseline: build and the subsets must pass unmutated"
cmake --build "$build" -j"$jobs" >/dev/null
all=$(awk -F'\t' '!/^#/ && NF >= 5 { printf "%s%s", sep, $5; sep = "|" }' "$list")
if ! ctest --test-dir "$build" -R "$all" -j"$jobs" >/dev/null 2>&1; then
    echo "mutate.sh: the tests fail without any mutation; fix that first" >&2
    exit 2
fi

backup=$(mktemp -d)
restore_file=""
restore() {
    if [ -n "$restore_file" ]; then
        # a plain copy, so the file is newer than the mutated objects and the
        # next build recompiles it (cp -p would keep the old time and leave
        # the mutant in the build)
        cp "$backup/orig" "$restore_file"
        restore_file=""
    fi
}
trap 'restore; rm -rf "$backup"' EXIT
trap 'exit 130' INT TERM

printf '%-24s %-20s %-8s %6s  %s\n' MUTATION FILE RESULT SECONDS WHAT
killed=0 bad=0
while IFS=$'\t' read -r id file from to tests what; do
    [[ -z "$id" || "$id" == \#* ]] && continue
    if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " == *" $id "* ]]; then
        continue
    fi
    start=$SECONDS
    cp -p "$file" "$backup/orig"
    restore_file=$file
    FROM=$from TO=$to perl -0777 -i -pe '
        BEGIN { ($f, $t) = ($ENV{FROM}, $ENV{TO}); s/\\n/\n/g for $f, $t; }
        s/\Q$f\E/$t/;' "$file"
    if cmp -s "$file" "$backup/orig"; then
        result=STALE
    elif ! cmake --build "$build" -j"$jobs" >/dev/null 2>&1; then
        result=NOBUILD # a mutation must compile to say anything about the tests
    elif ctest --test-dir "$build" -R "$tests" -j"$jobs" >/dev/null 2>&1; then
        result=SURVIVED
    else
        result=killed
    fi
    restore
    [ "$result" = killed ] && killed=$((killed + 1)) || bad=$((bad + 1))
    printf '%-24s %-20s %-8s %6d  %s\n' "$id" "$file" "$result" $((SECONDS - start)) "$what"
done <"$list"
echo "== rebuilding the real sources"
cmake --build "$build" -j"$jobs" >/dev/null
echo "$killed killed, $bad survived, stale or not building"
[ "$bad" -eq 0 ]
