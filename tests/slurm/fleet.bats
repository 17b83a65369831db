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
