#!/usr/bin/env bats
# fleet.bats: a 16-node Slurm sandbox; a plan --emit-config folder rolled out
# with --max-unavailable 2. A sampler watches sinfo the whole time: never
# more than 2 nodes drained; every node ends with its planned layout
# (migctl assert) and the matching Gres. Needs root; skipped otherwise.

setup_file() {
    if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null; then
        return 0
    fi
    export SB="$BATS_FILE_TMPDIR/sb"
    eval "$(MIGCTL="$MIGCTL" "$MIGCTL_SOURCE_DIR/scripts/slurm-sandbox.sh" start "$SB" 16)"
    export SLURM_CONF MIGCTL_SLURM_NODE_DIR MIGCTL_SLURM_CTLD_RESTART
}

teardown_file() {
    [ -n "${SB:-}" ] || return 0
    "$MIGCTL_SOURCE_DIR/scripts/slurm-sandbox.sh" stop "$SB"
}

setup() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (mknod, slurmd)"
    command -v slurmctld >/dev/null || skip "slurmctld not installed"
}

@test "rollout of a 16-node plan, never more than 2 drained at once" {
    "$MIGCTL" plan -w "$MIGCTL_TEST_DATA/slurm/workloads16.yaml" -f "$MIGCTL_TEST_DATA/slurm/fleet16.yaml" \
        --emit-config "$SB/plan" >/dev/null
    n=$(ls "$SB/plan" | wc -l)
    [ "$n" -ge 10 ]
    ( while :; do sinfo -h -N -t drain,draining,drained -o %N 2>/dev/null | sort -u | wc -l; sleep 0.1; done ) >"$SB/drained" &
    sampler=$!
    rc=0
    "$MIGCTL" slurm rollout --plan "$SB/plan" --max-unavailable 2 --timeout 60 >"$SB/summary" 2>"$SB/err" || rc=$?
    kill "$sampler"
    cat "$SB/summary" "$SB/err"
    if [ "$rc" -ne 0 ]; then
        # The failed nodes' step logs, for the CI output.
        for l in $(sed -n 's/.*its log: //p' "$SB/err"); do echo "== $l"; cat "$l"; rm -f "$l"; done
        tail -20 "$SB/log/slurmctld.log"
    fi
    [ "$rc" -eq 0 ]
    [ "$(grep -c reconfigured "$SB/summary")" -eq "$n" ]
    max=$(sort -n "$SB/drained" | tail -1)
    echo "most drained at once: $max (samples: $(wc -l <"$SB/drained"))"
    [ "$max" -le 2 ]
    [ "$max" -ge 1 ]
    for f in "$SB"/plan/*.yaml; do
        node=$(basename "$f" .yaml)
        "$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/$node.json" assert -f "$f" --placements
        want=$("$MIGCTL" slurm gres --node "$node" --json | jq -r .gres)
        have=$(scontrol show node "$node" | tr ' ' '\n' | sed -n 's/^Gres=//p')
        [ -n "$want" ]
        [[ "$have" == "$want"* ]] || [[ "$have" == *"gpu:"* && "$want" == *mps* ]]
        for item in $(echo "$want" | tr ',' ' '); do
            [[ "$item" == mps:* ]] || [[ ",$have," == *",$item,"* ]]
        done
        [[ "$(scontrol show node "$node" | grep -o 'State=[^ ]*')" != *DRAIN* ]]
    done
}

# Drop one instance key from the first mig-devices map that has two or more:
# the node then lacks one instance of its plan, which the rollout only adds.
drop_one() {
    awk 'BEGIN { done = 0 }
         { lines[NR] = $0 }
         END {
             for (i = 1; i <= NR; i++) {
                 if (!done && lines[i] ~ /^ +"[^"]+@[0-9]+": 1$/ && lines[i+1] ~ /^ +"[^"]+@[0-9]+": 1$/) { done = 1; continue }
                 print lines[i]
             }
         }' "$1"
}

@test "second rollout: unchanged nodes untouched, add-only first without drain, --keep-going past a failure" {
    [ -d "$SB/plan" ] || skip "needs the first rollout"
    nodes=($(ls "$SB/plan" | sed 's/\.yaml$//' | sort))
    a=${nodes[0]} b=${nodes[1]} c=${nodes[2]} d=${nodes[3]}
    # a, b, c lack one instance of their plan; d has MIG off everywhere.
    for n in "$a" "$b" "$c"; do
        drop_one "$SB/plan/$n.yaml" >"$SB/$n-less.yaml"
        ! cmp -s "$SB/plan/$n.yaml" "$SB/$n-less.yaml"
        "$MIGCTL" slurm reconfigure --node "$n" -f "$SB/$n-less.yaml" --timeout 30 >/dev/null 2>&1
    done
    printf 'version: v1\nmig-configs:\n  off:\n  - devices: all\n    mig-enabled: false\n' >"$SB/off.yaml"
    "$MIGCTL" slurm reconfigure --node "$d" -f "$SB/off.yaml" --timeout 30 >/dev/null 2>&1
    # c's next GPU operation fails.
    "$MIGCTL" sim fault --fail-op 1 --sim "$MIGCTL_SLURM_NODE_DIR/$c.json"
    c_before=$("$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/$c.json" export --placements)

    rc=0
    "$MIGCTL" slurm rollout --plan "$SB/plan" --max-unavailable 2 --keep-going --timeout 30 --json \
        >"$SB/r2.json" 2>"$SB/r2.err" || rc=$?
    cat "$SB/r2.json" "$SB/r2.err"
    [ "$rc" -eq 3 ]
    res() { jq -r --arg n "$1" '.nodes[] | select(.node==$n) | .'"$2" "$SB/r2.json"; }
    [ "$(res "$a" result)" = reconfigured ]
    [ "$(res "$a" drained)" = false ]
    [ "$(res "$b" result)" = reconfigured ]
    [ "$(res "$c" result)" = failed ]
    [ "$(res "$d" result)" = reconfigured ]
    [ "$(res "$d" drained)" = true ]
    # Every other node was already as planned: nothing to do, no drain.
    for n in "${nodes[@]:4}"; do
        [ "$(res "$n" result)" = unchanged ]
        [ "$(res "$n" drained)" = false ]
    done
    # The node that needs a drain started after every node that needs none.
    d_at=$(res "$d" started_at)
    latest_nodrain=$(jq '[.nodes[] | select(.drain == false) | .started_at] | max' "$SB/r2.json")
    awk -v d="$d_at" -v m="$latest_nodrain" 'BEGIN { exit !(d >= m) }'
    # The failed node kept its layout; the others match their plan.
    [ "$("$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/$c.json" export --placements)" = "$c_before" ]
    for n in "$a" "$b" "$d"; do
        "$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/$n.json" assert -f "$SB/plan/$n.yaml" --placements
    done
    # The rollout keeps a failed node's log (and its folder) for the operator.
    log=$(sed -n 's/.*its log: //p' "$SB/r2.err" | head -1)
    [ -f "$log" ]
    grep -q "apply" "$log"
    rm -rf "$(dirname "$log")"
}
