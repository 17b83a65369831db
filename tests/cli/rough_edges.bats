#!/usr/bin/env bats
# rough_edges.bats: the rough edges of issue 12 item 7, each as it should
# be now: non-UTF-8 bytes reported where they are, a config pin at a start
# the profile lacks and workload profile typos as bad input with their
# position, --emit-config into a folder that cannot exist as bad input,
# sim procs --count 0 refused, sim show --json, 'migctl help VERB', and
# every simulated node with its own GPU UUIDs and bus ids.

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    T="$BATS_TEST_TMPDIR"
}

@test "a byte that is not UTF-8 is reported at its line and column, not 1:1" {
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: all\n      mig-enabled: true # caf\xe9\n' >"$T/c.yaml"
    run "$MIGCTL" assert -f "$T/c.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"c.yaml:5:30:"* ]]
    printf 'version: v1\nhooks:\n  apply-start: [] # \xff\n' >"$T/h.yaml"
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: all\n      mig-enabled: false\n' >"$T/ok.yaml"
    run "$MIGCTL" apply -f "$T/ok.yaml" -k "$T/h.yaml" --dry-run
    [ "$status" -eq 2 ]
    [[ "$output" == *"h.yaml:3:21:"* ]]
    printf 'workloads:\n  - name: a\n    memory: 1GB # \xc3\n' >"$T/w.yaml"
    run "$MIGCTL" plan -w "$T/w.yaml" -f "$MIGCTL_SOURCE_DIR/examples/fleet-h100.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"w.yaml:3:"* && "$output" != *"w.yaml:1:1:"* ]]
}

@test "a config pin at a start the profile does not have: exit 2, the key's position, the valid starts" {
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: [0]\n      mig-enabled: true\n      mig-devices:\n        "3g.40gb@2": 1\n' >"$T/pin.yaml"
    for verb in "apply --dry-run" "apply" "assert"; do
        run "$MIGCTL" $verb -f "$T/pin.yaml"
        [ "$status" -eq 2 ]
        [[ "$output" == *"pin.yaml:7:9: '3g.40gb@2': placement not allowed: 3g.40gb can start only at 0, 4"* ]]
    done
    # the same wording as create
    "$MIGCTL" mode -i 0 on >/dev/null
    run "$MIGCTL" create -i 0 3g.40gb@2
    [ "$status" -eq 2 ]
    [[ "$output" == *"can start only at 0, 4"* ]]
}

@test "workload typos are bad input with a position: profile: 5g.10gb, throughput: {5g.10gb: 3}" {
    F="$MIGCTL_SOURCE_DIR/examples/fleet-h100.yaml"
    printf 'workloads:\n  - name: a\n    memory: 5GB\n    profile: 5g.10gb\n' >"$T/w1.yaml"
    run "$MIGCTL" plan -w "$T/w1.yaml" -f "$F"
    [ "$status" -eq 2 ]
    [[ "$output" == *"w1.yaml:2:5: workload 'a': profile '5g.10gb' is not a MIG profile"* ]]
    printf 'workloads:\n  - name: b\n    memory: 5GB\n    throughput: {1g.10gb: 2, 5g.10gb: 3}\n' >"$T/w2.yaml"
    for verb in plan replan; do
        run "$MIGCTL" $verb -w "$T/w2.yaml" -f "$F"
        [ "$status" -eq 2 ]
        [[ "$output" == *"w2.yaml:4:30: workload 'b': throughput for '5g.10gb'"* ]]
    done
    # a figure for another model's profile is no typo (one file, several fleets)
    printf 'workloads:\n  - name: c\n    memory: 5GB\n    throughput: {1g.10gb: 2, 4g.71gb: 3}\n' >"$T/w3.yaml"
    run "$MIGCTL" plan -w "$T/w3.yaml" -f "$F"
    [ "$status" -eq 0 ]
}

@test "plan --emit-config into a folder that cannot exist is bad input (exit 2)" {
    touch "$T/file"
    for dir in "$T/no/such/dir" "$T/file/sub"; do
        run "$MIGCTL" plan -w "$MIGCTL_SOURCE_DIR/examples/workloads-field-guide.yaml" \
            -f "$MIGCTL_SOURCE_DIR/examples/fleet-h100.yaml" --emit-config "$dir"
        [ "$status" -eq 2 ]
    done
}

@test "sim procs --count 0 is refused and starts or stops nothing" {
    "$MIGCTL" sim procs -i 0 --start --count 2 >/dev/null
    run "$MIGCTL" sim procs -i 0 --start --count 0
    [ "$status" -eq 2 ]
    run "$MIGCTL" sim procs -i 0 --stop --count 0
    [ "$status" -eq 2 ]
    [ "$("$MIGCTL" status -i 0 --json | jq .gpus[0].procs)" -eq 2 ]
}

@test "sim show --json is the state as JSON; migctl help VERB is the verb's help" {
    run "$MIGCTL" sim show --json
    [ "$status" -eq 0 ]
    [ "$(jq '.gpus | length' <<<"$output")" -eq 2 ]
    run "$MIGCTL" help status
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "usage: migctl status"* ]]
    run "$MIGCTL" help create
    [[ "${lines[0]}" == "usage: migctl create"* ]]
}

@test "every simulated node has its own GPU UUIDs and bus ids; the model takes part" {
    "$MIGCTL" sim init --sim "$T/a.json" --gpus 2xH100-SXM5-80GB >/dev/null
    "$MIGCTL" sim init --sim "$T/b.json" --gpus 1xH100-SXM5-80GB,1xA100-SXM4-40GB >/dev/null
    a=$("$MIGCTL" status --sim "$T/a.json" --json | jq -c '[.gpus[].uuid]')
    b=$("$MIGCTL" status --sim "$T/b.json" --json | jq -c '[.gpus[].uuid]')
    [ "$(jq -n --argjson a "$a" --argjson b "$b" '[$a[], $b[]] | unique | length')" -eq 4 ]
    # within a node, bus ids differ; a node keeps its identities
    [ "$("$MIGCTL" status --sim "$T/a.json" --json | jq '[.gpus[].bus_id] | unique | length')" -eq 2 ]
    [ "$("$MIGCTL" status --sim "$T/a.json" --json | jq -c '[.gpus[].uuid]')" = "$a" ]
    # a uuids: selector written for node a selects nothing on node b
    u=$(jq -r '.[1]' <<<"$a")
    printf 'version: v1\nmig-configs:\n  c:\n    - uuids: ["%s"]\n      mig-enabled: true\n      mig-devices: {}\n' "$u" >"$T/u.yaml"
    run --separate-stderr "$MIGCTL" apply --sim "$T/b.json" -f "$T/u.yaml" --json
    [ "$(jq -r '[.gpus[].status] | unique | join(",")' <<<"$output")" = untouched ]
    run --separate-stderr "$MIGCTL" apply --sim "$T/a.json" -f "$T/u.yaml" --json
    [ "$(jq -r '.gpus[1].status' <<<"$output")" = applied ]
    # compute instances too: the same creation on two nodes gives different UUIDs
    for n in a b; do
        "$MIGCTL" mode --sim "$T/$n.json" -i 0 on >/dev/null
        "$MIGCTL" create --sim "$T/$n.json" -i 0 -C 7g.80gb >/dev/null
    done
    ma=$("$MIGCTL" list --sim "$T/a.json" --json | jq -r '.gpus[0].mig_devices[0].uuid')
    mb=$("$MIGCTL" list --sim "$T/b.json" --json | jq -r '.gpus[0].mig_devices[0].uuid')
    [[ "$ma" == MIG-* && "$mb" == MIG-* && "$ma" != "$mb" ]]
}
