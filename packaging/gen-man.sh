#!/usr/bin/env bash
# gen-man.sh: one man page per verb, made by help2man from the verb's own
# --help (and migctl.1 from `migctl --help`), so the pages cannot drift from
# the program. Run at build time by packaging/CMakeLists.txt.
#
#   packaging/gen-man.sh MIGCTL OUTDIR
# The verbs and their one-line summaries are read from `migctl --help`.
set -euo pipefail
migctl=$1
out=$2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version=$("$migctl" --version)
# help2man runs PROGRAM --help and PROGRAM --version: a wrapper per verb.
wrap() { # NAME VERB...
    local w="$tmp/$1"
    shift
    {
        echo '#!/bin/sh'
        echo "[ \"\$1\" = --version ] && exec '$migctl' --version"
        echo "exec '$migctl' $* \"\$@\""
    } >"$w"
    chmod +x "$w"
    printf '%s\n' "$w"
}

see_also() { # the other pages
    echo "[SEE ALSO]"
    echo "The project's documentation: docs/design.md, docs/apply.md, docs/config.md, docs/planner.md,"
    echo "docs/kubernetes.md in /usr/share/doc/migctl."
    printf '.BR migctl (1)'
    "$migctl" --help | sed -n '/^verbs:/,/^$/p' | awk 'NF >= 2 {print $1}' | while read -r v; do
        printf ', \n.BR migctl-%s (1)' "$v"
    done
    echo
}
see_also >"$tmp/see-also.h2m"

help2man --no-info --no-discard-stderr --version-string="${version#migctl }" \
    --name="partition NVIDIA GPUs with MIG and keep them partitioned well" \
    --include="$tmp/see-also.h2m" --output="$out/migctl.1" "$(wrap migctl)"

"$migctl" --help | sed -n '/^verbs:/,/^$/p' | awk 'NF >= 2' | while read -r verb summary; do
    help2man --no-info --no-discard-stderr --version-string="${version#migctl }" \
        --name="$summary" --include="$tmp/see-also.h2m" \
        --output="$out/migctl-$verb.1" "$(wrap "migctl-$verb" "$verb")"
done
n=$(ls "$out"/*.1 | wc -l)
echo "gen-man: $n pages in $out"
