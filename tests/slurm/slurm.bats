#!/usr/bin/env bats
# slurm.bats: migctl's Slurm verbs against real daemons (slurmctld, slurmd,
# munged from scripts/slurm-sandbox.sh) on one node with 4 simulated H100s:
# typed MIG gres jobs see their slices by MIG UUID, MPS jobs run on the MPS
# GPU, a reconfiguration keeps a running job and its slice, add-only drains
# nothing, and an injected fault ends with the old layout, gres, node idle.
# Needs root (mknod, slurmd); skipped otherwise.

setup_file() {
    if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null; then
        return 0
    fi
    export SB="$BATS_FILE_TMPDIR/sb"
    eval "$(MIGCTL="$MIGCTL" "$MIGCTL_SOURCE_DIR/scripts/slurm-sandbox.sh" start "$SB" 1 --gpus 4xH100-SXM5-80GB)"
    export SLURM_CONF MIGCTL_SLURM_NODE_DIR MIGCTL_SLURM_CTLD_RESTART
    cat >"$SB/layout-a.yaml" <<'EOF'
version: v1
mig-configs:
  a:
  - devices: [0]
    mig-enabled: true
    mig-devices: {"1g.10gb": 2, "3g.40gb": 1}
  - devices: [1]
    mig-enabled: true
    mig-devices: {"1g.10gb": 4}
  - devices: [3]
    mig-enabled: false
    mps: true
EOF
    "$MIGCTL" slurm reconfigure --node gpu1 -f "$SB/layout-a.yaml" --timeout 30 >"$SB/setup.log" 2>&1
}

teardown_file() {
    [ -n "${SB:-}" ] || return 0
    scancel --full $(squeue -h -o %A) 2>/dev/null || true
    "$MIGCTL_SOURCE_DIR/scripts/slurm-sandbox.sh" stop "$SB"
    # Jobs of this file are gone with the daemons.
    return 0
}

setup() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (mknod, slurmd)"
    command -v slurmctld >/dev/null || skip "slurmctld not installed"
}

# No job outlives its test, even a failed one: the next test starts idle.
teardown() {
    [ -n "${SB:-}" ] || return 0
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null || true)
    [ -n "$jobs" ] || return 0
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.1; done
    "$MIGCTL" sim fault --clear --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" >/dev/null 2>&1 || true
}

status_uuids() { "$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" status --json | jq -r '.. | .uuid? // empty'; }
node_field() { scontrol show node gpu1 | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
wait_state() { # wait_state JOBID STATE
    for _ in $(seq 100); do [ "$(squeue -h -j "$1" -o %T 2>/dev/null)" = "$2" ] && return 0; sleep 0.1; done
    return 1
}

@test "slurm --help and every subcommand's --help; unknown options named" {
    run "$MIGCTL" slurm --help
    [ "$status" -eq 0 ]
    for s in gres task-prolog reconfigure rollout; do
        [[ "$output" == *"migctl slurm $s"* ]]
        run "$MIGCTL" slurm "$s" --help
        [ "$status" -eq 0 ]
    done
    run "$MIGCTL" slurm gres --frobnicate
    [ "$status" -eq 2 ]
    [[ "$output" == *"--frobnicate"* ]]
    run "$MIGCTL" slurm reconfigure -f x.yaml
    [ "$status" -eq 2 ]
    [[ "$output" == *"--node"* ]]
}

@test "setup reconfiguration registered the layout's Gres" {
    grep -q "reconfigured" "$SB/setup.log"
    gres=$(node_field Gres)
    [[ "$gres" == *"gpu:1g.10gb:6"* ]]
    [[ "$gres" == *"gpu:3g.40gb:1"* ]]
    [[ "$gres" == *"gpu:H100-SXM5-80GB:2"* ]]
    # 4 GPUs x 7 slots, always: the spares keep the count.
    run "$MIGCTL" slurm gres --node gpu1 --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq '[.entries[] | select(.name=="gpu")] | length')" -eq 28 ]
    [ "$(echo "$output" | jq -r '.gres')" = "$(sed -n 's/^NodeName=gpu1 .*Gres=\([^ ]*\).*/\1/p' "$SLURM_CONF")" ]
    # Every MIG record's UUID is a MIG device of the node.
    for u in $(echo "$output" | jq -r '.entries[] | select(.gi != null) | .uuid'); do
        status_uuids | grep -qx "$u"
    done
}

@test "typed jobs see distinct MIG UUIDs that status lists" {
    small=$(srun -w gpu1 --gres=gpu:1g.10gb:1 printenv CUDA_VISIBLE_DEVICES)
    big=$(srun -w gpu1 --gres=gpu:3g.40gb:1 printenv CUDA_VISIBLE_DEVICES)
    two=$(srun -w gpu1 --gres=gpu:1g.10gb:2 printenv CUDA_VISIBLE_DEVICES)
    [[ "$small" == MIG-* ]]
    [[ "$big" == MIG-* ]]
    [[ "$two" == MIG-*,MIG-* ]]
    [ "$small" != "$big" ]
    [ "${two%%,*}" != "${two##*,}" ]
    for u in "$small" "$big" "${two%%,*}" "${two##*,}"; do
        status_uuids | grep -qx "$u"
    done
    # The 3g slice is the one status calls 3g.40gb.
    "$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" status | grep "$big" | grep -q 3g.40gb
    # Two jobs at once get different slices.
    id1=$(sbatch --parsable -w gpu1 --gres=gpu:1g.10gb:1 -o "$SB/j1.out" --wrap 'echo $CUDA_VISIBLE_DEVICES; sleep 3')
    id2=$(sbatch --parsable -w gpu1 --gres=gpu:1g.10gb:1 -o "$SB/j2.out" --wrap 'echo $CUDA_VISIBLE_DEVICES; sleep 3')
    wait_state "$id1" RUNNING
    wait_state "$id2" RUNNING
    sleep 0.5
    [ "$(cat "$SB/j1.out")" != "$(cat "$SB/j2.out")" ]
    [[ "$(cat "$SB/j1.out")" == MIG-* ]]
    scancel "$id1" "$id2"
}

@test "a profile the node lacks is refused by Slurm; a busy profile stays pending with its reason" {
    # Slurm 22.05 refuses at submission a type that no node of the
    # partition has configured (it never queues it).
    run sbatch --parsable -w gpu1 --gres=gpu:2g.20gb:1 --wrap true
    [ "$status" -ne 0 ]
    [[ "$output" == *"Requested node configuration is not available"* ]]
    # More slices than the node has: pending (Resources), not run.
    id=$(sbatch --parsable -w gpu1 --gres=gpu:3g.40gb:1 --wrap 'sleep 20')
    wait_state "$id" RUNNING
    id2=$(sbatch --parsable -w gpu1 --gres=gpu:3g.40gb:1 --wrap true)
    sleep 1.5
    [ "$(squeue -h -j "$id2" -o %T)" = PENDING ]
    reason=$(squeue -h -j "$id2" -o %r)
    echo "reason: $reason"
    [[ "$reason" == Resources || "$reason" == Priority ]]
    scancel "$id" "$id2"
}

@test "an MPS job runs on the GPU planned for MPS" {
    out=$(srun -w gpu1 --gres=mps:25 bash -c 'echo $CUDA_VISIBLE_DEVICES $CUDA_MPS_ACTIVE_THREAD_PERCENTAGE')
    gpu3=$("$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" status --json | jq -r '.gpus[3].uuid')
    [ "$out" = "$gpu3 25" ]
}

@test "reconfiguring GPU 1 keeps a long job on GPU 0 running on its slice" {
    id=$(sbatch --parsable -w gpu1 --gres=gpu:3g.40gb:1 -o "$SB/long.out" --wrap 'echo $CUDA_VISIBLE_DEVICES; sleep 60')
    wait_state "$id" RUNNING
    sleep 0.5
    slice=$(cat "$SB/long.out")
    [[ "$slice" == MIG-* ]]
    sed 's/{"1g.10gb": 4}/{"2g.20gb": 2, "1g.10gb": 1}/' "$SB/layout-a.yaml" >"$SB/layout-b.yaml"
    # gres -f predicts the Gres before the apply (and changes nothing).
    predicted=$("$MIGCTL" slurm gres --node gpu1 -f "$SB/layout-b.yaml" --json | jq -r .gres | tr , '\n' | grep '^gpu:' | sort)
    [[ "$predicted" == *"gpu:2g.20gb:2"* ]]
    [[ "$(node_field Gres)" != *"2g.20gb"* ]]
    rc=0; output=$("$MIGCTL" slurm reconfigure --node gpu1 -f "$SB/layout-b.yaml" --timeout 30 --json 2>"$SB/err") || rc=$?
    status=$rc
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .result)" = reconfigured ]
    [ "$(echo "$output" | jq -c .gpus_changed)" = "[1]" ]
    [ "$(squeue -h -j "$id" -o %T)" = RUNNING ]
    status_uuids | grep -qx "$slice"
    [[ "$(node_field Gres)" == *"gpu:2g.20gb:2"* ]]
    # (slurmctld adds mps:<type>:N items of its own on an MPS node.)
    [ "$(node_field Gres | tr , '\n' | grep '^gpu:' | sort)" = "$predicted" ]
    [[ "$(node_field State)" != *DRAIN* ]]
    # slurmctld still accounts the job on its own slice: its IDX names the
    # record whose UUID the job was given.
    idx=$(scontrol show job -d "$id" | grep -o 'IDX:[0-9]*' | head -1 | cut -d: -f2)
    [ "$("$MIGCTL" slurm gres --node gpu1 --json | jq -r --argjson i "$idx" '.entries[] | select(.name=="gpu" and .index==$i) | .uuid')" = "$slice" ]
    out=$(srun -w gpu1 --gres=gpu:2g.20gb:2 printenv CUDA_VISIBLE_DEVICES)
    [[ "$out" == MIG-*,MIG-* ]]
    for u in ${out//,/ }; do
        "$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" status | grep "$u" | grep -q 2g.20gb
    done
    scancel "$id"
}

@test "a dry run prints the plan and the Slurm steps, and changes nothing" {
    before=$("$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" export --placements)
    gres=$(node_field Gres)
    conf=$(cat "$(dirname "$SLURM_CONF")/gres.conf")
    run "$MIGCTL" slurm reconfigure --node gpu1 -f "$SB/layout-a.yaml" --dry-run
    [ "$status" -eq 0 ]
    [[ "$output" == *"Plan for node gpu1"* ]]
    [[ "$output" == *"drain gpu1"* ]]
    [[ "$output" == *"restart slurmctld"* ]]
    [[ "$output" == *"would drain the node"* ]]
    [ "$("$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" export --placements)" = "$before" ]
    [ "$(node_field Gres)" = "$gres" ]
    [ "$(cat "$(dirname "$SLURM_CONF")/gres.conf")" = "$conf" ]
    [[ "$(node_field State)" != *DRAIN* ]]
}

@test "an add-only change drains nothing" {
    sed 's/mig-devices: {"1g.10gb": 2, "3g.40gb": 1}/mig-devices: {"1g.10gb": 4, "3g.40gb": 1}/' "$SB/layout-b.yaml" >"$SB/layout-c.yaml"
    ( while :; do scontrol show node gpu1 | grep -o 'State=[^ ]*' ; sleep 0.05; done ) >"$SB/states" 2>/dev/null &
    sampler=$!
    rc=0; output=$("$MIGCTL" slurm reconfigure --node gpu1 -f "$SB/layout-c.yaml" --timeout 30 --json 2>"$SB/err") || rc=$?
    status=$rc
    kill "$sampler"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .drain)" = false ]
    [ "$(echo "$output" | jq -r .drained)" = false ]
    [ "$(echo "$output" | jq '[.steps[] | select(.step=="drain")] | length')" -eq 0 ]
    [ -s "$SB/states" ]
    ! grep -q DRAIN "$SB/states"
    [[ "$(node_field Gres)" == *"gpu:1g.10gb:5"* ]]
}

@test "a fault half way leaves the old layout, the old gres, the node resumed and idle" {
    before=$("$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" export --placements)
    gres_before=$(node_field Gres)
    gres_conf="$(dirname "$SLURM_CONF")/gres.conf"
    types_before=$(grep -o 'Type=[^ ]*' "$gres_conf")
    "$MIGCTL" sim fault --fail-op 3 --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json"
    rc=0; output=$("$MIGCTL" slurm reconfigure --node gpu1 -f "$SB/layout-a.yaml" --timeout 30 --json 2>"$SB/err") || rc=$?
    status=$rc
    echo "$output"
    [ "$status" -eq 3 ]
    [ "$(echo "$output" | jq -r .drained)" = false ]
    echo "$output" | jq -e '.steps[] | select(.step=="drain")' >/dev/null
    echo "$output" | jq -e '.steps[] | select(.step=="resume")' >/dev/null
    [ "$("$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" export --placements)" = "$before" ]
    [ "$(node_field Gres)" = "$gres_before" ]
    # The same records in the same order, naming the instances as they now
    # are (the rollback re-creates destroyed instances, with new UUIDs).
    [ "$(grep -o 'Type=[^ ]*' "$gres_conf")" = "$types_before" ]
    for u in $(grep -o 'uuid=MIG-[^ ]*' "$gres_conf" | cut -d= -f2); do
        status_uuids | grep -qx "$u"
    done
    for _ in $(seq 50); do [ "$(node_field State)" = IDLE ] && break; sleep 0.1; done
    node_field State
    [ "$(node_field State)" = IDLE ]
}

@test "waiting for a job on a GPU that changes times out: node resumed, layout unchanged" {
    id=$(sbatch --parsable -w gpu1 --gres=gpu:3g.40gb:1 --wrap 'sleep 60')
    wait_state "$id" RUNNING
    before=$("$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" export --placements)
    # GPU 0 (the job's) changes: the job holds it past the timeout.
    sed 's/{"1g.10gb": 4, "3g.40gb": 1}/{"7g.80gb": 1}/' "$SB/layout-c.yaml" >"$SB/layout-d.yaml"
    rc=0; output=$("$MIGCTL" slurm reconfigure --node gpu1 -f "$SB/layout-d.yaml" --timeout 2 --json 2>"$SB/err") || rc=$?
    status=$rc
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jq -r .result)" = timeout ]
    [ "$(squeue -h -j "$id" -o %T)" = RUNNING ]
    [ "$("$MIGCTL" --sim "$MIGCTL_SLURM_NODE_DIR/gpu1.json" export --placements)" = "$before" ]
    [[ "$(node_field State)" != *DRAIN* ]]
    scancel "$id"
}
