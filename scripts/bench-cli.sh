#!/usr/bin/env bash
# bench-cli.sh: the planner as a user runs it, process start to exit:
# `migctl plan`, `plan --add` and `replan` on generated inputs (bench/gen_inputs.c),
# text and --json, median wall time of RUNS runs and the peak RSS of one.
# Usage: scripts/bench-cli.sh MIGCTL GEN_INPUTS [RUNS]   (scripts/bench.sh calls it)
set -euo pipefail
MIGCTL=$1 GEN=$2 RUNS=${3:-5}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

median_ms() { # command... -> median wall ms over RUNS runs (output discarded)
    local i t0 t1 all=()
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        all+=($(((t1 - t0) / 1000000)))
    done
    printf '%s\n' "${all[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

rss_mib() { # command... -> peak RSS in MiB (needs GNU time), or "-"
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$T/rss" "$@" >/dev/null 2>&1 || true
        echo $(($(tail -n 1 "$T/rss") / 1024))
    else
        echo -
    fi
}

result() { # command... -> what it found, from its --json
    "$@" --json 2>/dev/null | jq -r 'if has("gpus_drained") then
        "\(.gpus_drained) drained (bound \(.drain_lower_bound)), \(.moved_slices) slices moved, \(.operations) ops, \(.unplaced) unplaced, \(.method)\(if .optimal then ", optimal" else "" end)"
      elif has("gpus_used") then "\(.gpus_used) GPUs (bound \(.lower_bound))\(if .optimal then ", optimal" else "" end)"
      else "\(.placed) placed, \(.unplaced) not placed" end'
}

row() { # label, command...
    local label=$1
    shift
    printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$(median_ms "$@")" \
        "$(median_ms "$@" --json)" "$(rss_mib "$@")" "$(rss_mib "$@" --json)" "$(result "$@")"
}

mkdir -p "$T/p100k" "$T/p1m" "$T/r1k" "$T/r1kd" "$T/r64a" "$T/r64b" "$T/r64c"
"$GEN" plan 100000 8 6000 "$T/p100k"      # 100,000 instances, 6,000 nodes of 8 H100 (48,000 GPUs)
"$GEN" plan 1000000 4096 100 "$T/p1m"     # 1,000,000 instances, 100 nodes of 4,096 (409,600 GPUs)
"$GEN" replan 5000 1000 7 "$T/r1k"        # 5,000 workloads, 1,000 running H100s
"$GEN" replan 3300 1000 7 "$T/r1kd"       # 3,300 workloads: drains needed
"$GEN" replan 215 64 1 "$T/r64a"          # 64 running GPUs, drains needed
"$GEN" replan 235 64 2 "$T/r64b"
"$GEN" replan 230 64 7 "$T/r64c"
{ echo "workloads:"; grep "new-" "$T/r1k/workloads.yaml" | sed -n "1,1000p"; } >"$T/r1k/arrivals.yaml"

echo "| command (whole process) | text ms | --json ms | text MiB | --json MiB | result |"
echo "|---|---|---|---|---|---|"
row "plan, 100,000 instances on 48,000 GPUs" "$MIGCTL" plan -w "$T/p100k/workloads.yaml" -f "$T/p100k/fleet.yaml"
row "plan, 1,000,000 instances on 409,600 GPUs" "$MIGCTL" plan -w "$T/p1m/workloads.yaml" -f "$T/p1m/fleet.yaml"
row "plan --add, 1,000 arrivals on 1,000 running GPUs" "$MIGCTL" plan --add "$T/r1k/arrivals.yaml" -f "$T/r1k/fleet.yaml"
row "plan --add, 100,000 arrivals on 48,000 free GPUs" "$MIGCTL" plan --add "$T/p100k/workloads.yaml" -f "$T/p100k/fleet.yaml"
row "replan, 100,000 instances on 48,000 free GPUs" "$MIGCTL" replan -w "$T/p100k/workloads.yaml" -f "$T/p100k/fleet.yaml"
row "replan, 5,000 workloads on 1,000 running GPUs" "$MIGCTL" replan -w "$T/r1k/workloads.yaml" -f "$T/r1k/fleet.yaml"
row "replan, 3,300 workloads on 1,000 GPUs, drains needed" "$MIGCTL" replan -w "$T/r1kd/workloads.yaml" -f "$T/r1kd/fleet.yaml"
for r in r64a r64b r64c; do
    row "replan, $(grep -c name: "$T/$r/workloads.yaml") workloads on 64 running GPUs" "$MIGCTL" replan -w "$T/$r/workloads.yaml" -f "$T/$r/fleet.yaml"
done
