#!/usr/bin/env bats
# apply.bats: `migctl apply` on a simulated node, through whichever backend
# MIGCTL_BACKEND names (sim, or nvml over the shim): dry run, --json shapes,
# idempotence, busy refusal, --force, Ampere pending + --reset, NVIDIA's
# config-default.yaml on a mixed node, rollback on an injected failure,
# convergence after a kill, the lock, and hooks.

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    NODE="$MIGCTL_TEST_DATA/apply/node.yaml"
    JOURNAL="$MIGCTL_SIM_STATE.journal"
}

init() {
    "$MIGCTL" sim init --gpus "$1" >/dev/null
}

# "profile@start ..." of GPU $1, sorted
layout() {
    "$MIGCTL" status --json | jq -r --argjson i "$1" \
        '[.gpus[$i].gpu_instances[] | "\(.profile)@\(.placement.start)"] | sort | join(" ")'
}

# profile names of GPU $1, sorted
profiles() {
    "$MIGCTL" status --json | jq -r --argjson i "$1" \
        '[.gpus[$i].gpu_instances[] | .profile] | sort | join(" ")'
}

gi_id_at() { # GPU, start
    "$MIGCTL" status --json | jq -r --argjson i "$1" --argjson s "$2" \
        '.gpus[$i].gpu_instances[] | select(.placement.start == $s) | .id'
}

# the node as the backend reports it
node_state() {
    "$MIGCTL" status --json | jq -S -c '.gpus'
}

@test "apply --help describes the flags" {
    run "$MIGCTL" apply --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--dry-run"* ]]
    [[ "$output" == *"--reset"* ]]
    [[ "$output" == *"--hook-timeout"* ]]
}

@test "apply without a config file is a usage error" {
    init 1xH100-SXM5-80GB
    run "$MIGCTL" apply
    [ "$status" -eq 2 ]
    [[ "$output" == *"-f FILE"* ]]
}

@test "a profile the model lacks is bad input with file:line:col; nothing changes" {
    init 1xA100-SXM4-40GB
    before=$(sha256sum "$MIGCTL_SIM_STATE")
    run "$MIGCTL" apply -f "$NODE" -c balanced
    [ "$status" -eq 2 ]
    [[ "$output" == *"node.yaml:"[0-9]*":"[0-9]*": no profile '"*"' on A100-SXM4-40GB"* ]]
    [ "$(sha256sum "$MIGCTL_SIM_STATE")" = "$before" ]
    # --json still prints one document
    run --separate-stderr "$MIGCTL" apply -f "$NODE" -c balanced --json
    [ "$status" -eq 2 ]
    echo "$output" | jq -e '.result == "failed" and (.error | contains("A100-SXM4-40GB"))'
}

@test "dry run prints the plan and leaves the state file byte for byte" {
    init 2xH100-SXM5-80GB
    before=$(sha256sum "$MIGCTL_SIM_STATE")
    run "$MIGCTL" apply -f "$NODE" -c balanced --dry-run
    [ "$status" -eq 0 ]
    [[ "$output" == *"create-gi"* ]]
    [[ "$output" == *"nothing changed"* ]]
    [ "$(sha256sum "$MIGCTL_SIM_STATE")" = "$before" ]
    [ ! -e "$JOURNAL" ]
    run --separate-stderr "$MIGCTL" apply -f "$NODE" -c balanced --dry-run --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .result)" = dry-run ]
    [ "$(echo "$output" | jq '.operations | length')" -eq 18 ]
    [ "$(sha256sum "$MIGCTL_SIM_STATE")" = "$before" ]
}

@test "--json has the issue's shape; a second apply is unchanged with zero operations" {
    init 2xH100-SXM5-80GB
    run --separate-stderr "$MIGCTL" apply -f "$NODE" -c balanced --json
    [ "$status" -eq 0 ]
    echo "$output" | jq -e '.result == "applied" and .rolled_back == false'
    # 2 GPUs x (set-mode + 4 GIs + 4 CIs)
    [ "$(echo "$output" | jq '.operations | length')" -eq 18 ]
    echo "$output" | jq -e '[.operations[].op] - ["set-mode","destroy-ci","destroy-gi","create-gi","create-ci"] == []'
    echo "$output" | jq -e '[.operations[] | select(.op == "create-gi")] | length == 8 and all(has("gpu") and (.profile|type) == "string" and (.placement.start|type) == "number" and (.placement.size|type) == "number")'
    echo "$output" | jq -e '[.gpus[] | .index, .status] == [0, "applied", 1, "applied"]'
    # progress went to stderr, not into the JSON
    [[ "$stderr" == *"[1/18] GPU 0: set-mode on ... ok"* ]]
    [ "$(layout 0)" = "1g.10gb@2 1g.10gb@3 2g.20gb@0 3g.40gb@4" ]

    run --separate-stderr "$MIGCTL" apply -f "$NODE" -c balanced --json
    [ "$status" -eq 0 ]
    echo "$output" | jq -e '.result == "unchanged" and (.operations | length) == 0'
}

@test "changing one instance keeps the others (by UUID)" {
    init 1xH100-SXM5-80GB
    "$MIGCTL" apply -f "$NODE" -c balanced >/dev/null
    keep=$("$MIGCTL" status --json | jq -r '.gpus[0].gpu_instances[] | select(.profile == "3g.40gb") | .compute_instances[0].uuid')
    run --separate-stderr "$MIGCTL" apply -f "$NODE" -c four-small --json
    [ "$status" -eq 0 ]
    # only the 2g goes: destroy-ci + destroy-gi, then two 1g GIs and their CIs
    [ "$(echo "$output" | jq '.operations | length')" -eq 6 ]
    [ "$(profiles 0)" = "1g.10gb 1g.10gb 1g.10gb 1g.10gb 3g.40gb" ]
    "$MIGCTL" status --json | jq -e --arg u "$keep" '[.gpus[0].gpu_instances[].compute_instances[].uuid] | index($u) != null'
}

@test "busy instances: refused before anything is touched; --force cannot kill processes" {
    init 2xH100-SXM5-80GB
    "$MIGCTL" apply -f "$NODE" -c balanced >/dev/null
    "$MIGCTL" sim procs -i 1 --gi "$(gi_id_at 1 4)" --start >/dev/null
    before=$(node_state)
    run "$MIGCTL" apply -f "$NODE" -c off
    [ "$status" -eq 1 ]
    [[ "$output" == *"GPU 1"*"--force"* ]]
    # GPU 0 could have changed, but nothing is touched when any GPU is refused
    [ "$(node_state)" = "$before" ]
    run --separate-stderr "$MIGCTL" apply -f "$NODE" -c off --json
    [ "$status" -eq 1 ]
    echo "$output" | jq -e '.result == "refused" and .gpus[1].status == "blocked"'

    # With --force the plan destroys it, the driver answers In use, and the
    # apply rolls back every GPU it touched.
    run "$MIGCTL" apply -f "$NODE" -c off --force
    [ "$status" -eq 3 ]
    [[ "$output" == *"In use by another client"* ]]
    [[ "$output" == *"rolled back"* ]]
    [ "$(layout 0)" = "1g.10gb@2 1g.10gb@3 2g.20gb@0 3g.40gb@4" ]
    [ "$(layout 1)" = "1g.10gb@2 1g.10gb@3 2g.20gb@0 3g.40gb@4" ]
    [ ! -e "$JOURNAL" ]
}

@test "Ampere: a held GPU stays pending; --reset resets only that GPU once released" {
    init 2xA100-SXM4-40GB
    "$MIGCTL" sim procs -i 1 --start >/dev/null
    run "$MIGCTL" apply -f "$MIGCTL_TEST_DATA/apply/a100.yaml"
    [ "$status" -eq 1 ]
    [[ "$output" == *"GPU 1"*"pending"*"--reset"* ]]
    [ "$(profiles 0)" = "1g.5gb 1g.5gb 2g.10gb 3g.20gb" ]
    [ "$(profiles 1)" = "" ]
    "$MIGCTL" status --json | jq -e '.gpus[1].mig == {"current": false, "pending": true}'

    run --separate-stderr "$MIGCTL" apply -f "$MIGCTL_TEST_DATA/apply/a100.yaml" --json
    [ "$status" -eq 1 ]
    echo "$output" | jq -e '.result == "pending-reset" and .gpus[1].status == "pending-reset"'

    "$MIGCTL" sim procs -i 1 --stop >/dev/null
    run --separate-stderr "$MIGCTL" apply -f "$MIGCTL_TEST_DATA/apply/a100.yaml" --reset --json
    [ "$status" -eq 0 ]
    echo "$output" | jq -e '.result == "applied" and .resets == [1]'
    [ "$(profiles 1)" = "1g.5gb 1g.5gb 2g.10gb 3g.20gb" ]
}

@test "NVIDIA's config-default.yaml all-balanced on a mixed node gives each model its layout" {
    init 1xH100-SXM5-80GB,1xA100-SXM4-40GB,1xA30-24GB
    run "$MIGCTL" apply -f "$MIGCTL_TEST_DATA/configs/config-default.yaml" -c all-balanced
    [ "$status" -eq 0 ]
    [ "$(profiles 0)" = "1g.10gb 1g.10gb 2g.20gb 3g.40gb" ]
    [ "$(profiles 1)" = "1g.5gb 1g.5gb 2g.10gb 3g.20gb" ]
    [ "$(profiles 2)" = "1g.6gb 1g.6gb 2g.12gb" ]
    run --separate-stderr "$MIGCTL" apply -f "$MIGCTL_TEST_DATA/configs/config-default.yaml" -c all-balanced --json
    [ "$status" -eq 0 ]
    echo "$output" | jq -e '.result == "unchanged"'
}

@test "an injected failure rolls back to the previous placements" {
    init 1xH100-SXM5-80GB
    "$MIGCTL" apply -f "$NODE" -c balanced >/dev/null
    before=$(layout 0)
    "$MIGCTL" sim fault --fail-op 4 >/dev/null
    run "$MIGCTL" apply -f "$NODE" -c pinned
    [ "$status" -eq 3 ]
    [[ "$output" == *"Unknown Error"* ]]
    [[ "$output" == *"rolled back: GPU 0 restored"* ]]
    [ "$(layout 0)" = "$before" ]
    [ ! -e "$JOURNAL" ]
}

@test "an apply killed mid-way is finished by the next one" {
    init 1xH100-SXM5-80GB
    "$MIGCTL" sim fault --kill-op 3 >/dev/null
    run "$MIGCTL" apply -f "$NODE" -c balanced
    [ "$status" -eq 137 ]
    [ -e "$JOURNAL" ]
    run "$MIGCTL" apply -f "$NODE" -c balanced
    [ "$status" -eq 0 ]
    # op 3 was committed, the journal had recorded 2 when the kill came
    [[ "$output" == *"was interrupted with 2 of 9 operations recorded done"* ]]
    [ "$(profiles 0)" = "1g.10gb 1g.10gb 2g.20gb 3g.40gb" ]
    [ ! -e "$JOURNAL" ]
}

@test "two applies are serialised by the lock; --no-wait fails at once" {
    init 1xH100-SXM5-80GB
    tmp="$BATS_TEST_TMPDIR"
    printf 'version: v1\nhooks:\n  apply-start:\n    - command: sh\n      args: ["-c", "touch %s/started; sleep 2"]\n' \
        "$tmp" >"$tmp/hooks.yaml"
    "$MIGCTL" apply -f "$NODE" -c balanced -k "$tmp/hooks.yaml" >"$tmp/first.out" 2>&1 &
    first=$!
    for _ in $(seq 100); do [ -e "$tmp/started" ] && break; sleep 0.05; done
    [ -e "$tmp/started" ]
    run "$MIGCTL" apply -f "$NODE" -c four-small --no-wait
    [ "$status" -eq 1 ]
    # the holder is named from the kernel's lock table: the first apply
    [[ "$output" == *"another migctl (pid $first) holds the lock"* ]]
    run "$MIGCTL" apply -f "$NODE" -c four-small
    [ "$status" -eq 0 ]
    [[ "$output" == *"waiting for the lock"* ]]
    wait "$first"
    # the second apply planned from the first one's result
    [ "$(profiles 0)" = "1g.10gb 1g.10gb 1g.10gb 1g.10gb 3g.40gb" ]
    grep -q "MIG configuration applied" "$tmp/first.out"
}

@test "hooks see PATH, the affected GPUs and the operations; a failing hook aborts" {
    init 2xH100-SXM5-80GB
    tmp="$BATS_TEST_TMPDIR"
    {
        echo 'version: v1'
        echo 'hooks:'
        echo '  pre-apply-config:'
        echo '    - command: sh'
        echo "      workdir: $tmp"
        echo '      args: ["-c", "printf %s \"$PATH\" > path; printf %s \"$MIGCTL_GPUS\" > gpus; printf %s \"$MIGCTL_OPERATIONS\" > ops; printf %s \"$MIG_PARTED_SELECTED_CONFIG\" > sel"]'
        echo '  apply-exit:'
        echo '    - command: sh'
        echo "      workdir: $tmp"
        echo '      args: ["-c", "printf %s \"$MIGCTL_RESULT\" > result"]'
    } >"$tmp/hooks.yaml"
    run "$MIGCTL" apply -f "$NODE" -c pinned -k "$tmp/hooks.yaml"
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/path")" = "$PATH" ]
    [ "$(cat "$tmp/gpus")" = "0" ]
    [ "$(cat "$tmp/sel")" = "pinned" ]
    grep -qx '0 create-gi 3g.40gb 0 4' "$tmp/ops"
    grep -qx '0 create-gi 1g.10gb 6 1' "$tmp/ops"
    [ "$(cat "$tmp/result")" = "applied" ]

    printf 'version: v1\nhooks:\n  pre-apply-config:\n    - command: sh\n      args: ["-c", "exit 7"]\n' >"$tmp/bad.yaml"
    before=$(node_state)
    run "$MIGCTL" apply -f "$NODE" -c balanced -k "$tmp/bad.yaml"
    [ "$status" -eq 3 ]
    [[ "$output" == *"pre-apply-config #1 (sh) exited with status 7"* ]]
    [ "$(node_state)" = "$before" ]
}

@test "a hook past --hook-timeout is killed and fails the apply" {
    init 1xH100-SXM5-80GB
    printf 'version: v1\nhooks:\n  apply-start:\n    - command: sleep\n      args: ["30"]\n' >"$BATS_TEST_TMPDIR/slow.yaml"
    SECONDS=0
    run "$MIGCTL" apply -f "$NODE" -c balanced -k "$BATS_TEST_TMPDIR/slow.yaml" --hook-timeout 1
    [ "$status" -eq 3 ]
    [[ "$output" == *"timed out"* ]]
    [ "$SECONDS" -lt 10 ]
    [ "$(profiles 0)" = "" ]
}

@test "a bad hooks file is bad input with file:line:col" {
    init 1xH100-SXM5-80GB
    printf 'version: v1\nhooks:\n  apply-begin: []\n' >"$BATS_TEST_TMPDIR/h.yaml"
    run "$MIGCTL" apply -f "$NODE" -c balanced -k "$BATS_TEST_TMPDIR/h.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"h.yaml:3:3: unknown hook 'apply-begin'"* ]]
}

@test "SIGTERM during an apply stops it and leaves the node as it was" {
    init 1xH100-SXM5-80GB
    "$MIGCTL" apply -f "$NODE" -c balanced >/dev/null
    before=$(node_state)
    tmp="$BATS_TEST_TMPDIR"
    printf 'version: v1\nhooks:\n  pre-apply-config:\n    - command: sh\n      args: ["-c", "touch %s/started; sleep 30"]\n  apply-exit:\n    - command: sh\n      args: ["-c", "printf %%s \\"$MIGCTL_RESULT\\" > %s/result"]\n' \
        "$tmp" "$tmp" >"$tmp/hooks.yaml"
    "$MIGCTL" apply -f "$NODE" -c four-small -k "$tmp/hooks.yaml" >"$tmp/out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -e "$tmp/started" ] && break; sleep 0.05; done
    [ -e "$tmp/started" ]
    SECONDS=0
    kill -TERM "$pid"
    st=0
    wait "$pid" || st=$?
    [ "$st" -eq 3 ]
    [ "$SECONDS" -lt 10 ]
    grep -q "interrupted by a signal" "$tmp/out"
    [ "$(cat "$tmp/result")" = "failed" ]
    [ "$(node_state)" = "$before" ]
}

@test "an apply of many operations initialises NVML once (nvml backend over the shim)" {
    [ "$MIGCTL_BACKEND" = nvml ] || skip "counts nvmlInit calls in the shim"
    init 4xH100-SXM5-80GB
    export MIGSIM_INIT_LOG="$BATS_TEST_TMPDIR/init.log"
    run --separate-stderr "$MIGCTL" apply -f "$MIGCTL_SOURCE_DIR/scripts/demo-node.yaml" -c demo --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq '.operations | length')" -gt 20 ]
    [ "$(wc -l < "$MIGSIM_INIT_LOG")" -eq 1 ]
}

@test "a failed reset on Ampere rolls back to the pending state, not to MIG on" {
    init 1xA100-SXM4-40GB
    "$MIGCTL" sim procs -i 0 --start >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" sim procs -i 0 --stop >/dev/null
    printf 'version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      mig-devices: {"3g.20gb": 2}\n' > "$BATS_TEST_TMPDIR/a.yaml"
    "$MIGCTL" sim fault --fail-op 1 --rc IN_USE >/dev/null
    run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/a.yaml" --reset
    [ "$status" -eq 3 ]
    [[ "$output" == *"restored to the previous layout"* ]]
    [ "$("$MIGCTL" status --json | jq -c '.gpus[0].mig')" = '{"current":false,"pending":true}' ]
    [ ! -e "$JOURNAL" ]
}
