#!/usr/bin/env bash
# doc-examples.sh: the example outputs in the docs are the program's own.
#
# A fenced block preceded by a line
#     <!-- example: ARGS -->
# must be exactly what `migctl ARGS` prints on standard output, and one preceded by
#     <!-- example: ARGS | file NAME -->
# exactly the file NAME that the command writes into $OUT (ARGS may use $OUT, a temp
# directory), and one preceded by
#     <!-- example: ARGS | with prompt -->
# the line "$ migctl ARGS" followed by what it prints. Commands run from the repository root with no GPU backend state of their
# own (a fresh simulator file), so they only read the examples/ inputs.
#
#   scripts/doc-examples.sh [--update] [MIGCTL] [FILE.md ...]
# Without --update: exit 1 and a diff when a block differs. With --update: rewrite
# the blocks. Default MIGCTL: build/migctl; default files: docs/planner.md,
# docs/kubernetes.md, README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

update=false
if [ "${1:-}" = "--update" ]; then update=true; shift; fi
migctl=${1:-build/migctl}
[ $# -gt 0 ] && shift
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(docs/planner.md docs/kubernetes.md README.md)
migctl=$(cd "$(dirname "$migctl")" && pwd)/$(basename "$migctl")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MIGCTL_SIM_STATE="$tmp/state.json" MIGCTL_BACKEND=sim NO_COLOR=1

failed=0
for doc in "${files[@]}"; do
    out_doc="$tmp/doc.md"
    : >"$out_doc"
    n=0
    pending=""
    skip=false
    while IFS= read -r line || [ -n "$line" ]; do
        if $skip; then
            # inside a block being replaced: drop lines up to the closing fence
            if [ "$line" = '```' ]; then
                skip=false
                printf '%s\n' "$line" >>"$out_doc"
            fi
            continue
        fi
        printf '%s\n' "$line" >>"$out_doc"
        if [[ "$line" =~ ^\<!--\ example:\ (.*)\ --\>$ ]]; then
            pending=${BASH_REMATCH[1]}
            continue
        fi
        if [ -n "$pending" ] && [[ "$line" == '```'* ]]; then
            n=$((n + 1))
            args=${pending%% | file *}
            want_file=""
            [ "$args" != "$pending" ] && want_file=${pending##* | file }
            prompt=false
            if [[ "$args" == *' | with prompt' ]]; then
                args=${args% | with prompt}
                prompt=true
            fi
            rm -rf "$tmp/out"
            mkdir -p "$tmp/out"
            OUT="$tmp/out"
            # shellcheck disable=SC2086 # ARGS is a word list by design
            eval "set -- $args"
            set +e
            "$migctl" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
            set -e
            if [ -n "$want_file" ]; then
                cp "$OUT/$want_file" "$tmp/got"
            elif $prompt; then
                { printf '$ migctl %s\n' "$args"; cat "$tmp/stdout"; } >"$tmp/got"
            else
                cp "$tmp/stdout" "$tmp/got"
            fi
            cat "$tmp/got" >>"$out_doc"
            skip=true
            pending=""
            continue
        fi
        pending="" # a marker applies only to the block right below it
    done <"$doc"
    if ! diff -u "$doc" "$out_doc" >"$tmp/diff"; then
        if $update; then
            cp "$out_doc" "$doc"
            echo "doc-examples: $doc: updated $n example(s)"
        else
            cat "$tmp/diff"
            echo "doc-examples: $doc: examples differ from the program (run scripts/doc-examples.sh --update)" >&2
            failed=1
        fi
    else
        echo "doc-examples: $doc: $n example(s) match"
    fi
done
exit $failed
