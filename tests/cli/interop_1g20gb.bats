#!/usr/bin/env bats
# interop_1g20gb.bats: a compute instance that spans its whole GPU instance
# is one device whatever its CI profile id. mig-parted creates CI profile 0
# (NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE) inside each 1g.20gb GPU instance
# where migctl's default is 7 (1_SLICE_REV1); assert, export and apply must
# accept mig-parted's node as it is. Run on both backends (over the shim the
# CI is created through nvmlGpuInstanceCreateComputeInstance, as mig-parted
# does).

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    CFG="$BATS_TEST_TMPDIR/config.yaml"
    printf 'version: v1\nmig-configs:\n  all-1g.20gb:\n    - devices: [0]\n      mig-enabled: true\n      mig-devices:\n        "1g.20gb": 4\n' >"$CFG"
    # mig-parted's node: four 1g.20gb GIs, each with a CI of profile 0.
    "$MIGCTL" create -i 0 1g.20gb 1g.20gb 1g.20gb 1g.20gb >/dev/null
    gis=$("$MIGCTL" status -i 0 --json | jq -r '[.gpus[0].gpu_instances[].id] | join(",")')
    run "$MIGCTL" create -i 0 --gi "$gis" 0
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 4 ]
    [[ "$output" == *"using profile 1g.20gb (ID  0)"* ]]
}

@test "mig-parted's 1g.20gb node (CI profile 0) passes assert -c all-1g.20gb" {
    [ "$("$MIGCTL" status -i 0 --json | jq '[.gpus[0].gpu_instances[].compute_instances[].profile_id] | unique')" = "$(jq -n '[0]')" ]
    run "$MIGCTL" assert -f "$CFG" -c all-1g.20gb
    [ "$status" -eq 0 ]
    [[ "$output" == *"GPU 0: ok (4x1g.20gb)"* ]]
}

@test "apply on mig-parted's 1g.20gb node plans zero operations and changes nothing" {
    before=$("$MIGCTL" status -i 0 --json | jq -c '[.gpus[0].gpu_instances[].compute_instances[].uuid]')
    run --separate-stderr "$MIGCTL" apply -f "$CFG" -c all-1g.20gb --json
    [ "$status" -eq 0 ]
    [ "$(jq '.operations | length' <<<"$output")" -eq 0 ]
    [ "$(jq -r .result <<<"$output")" = unchanged ]
    run "$MIGCTL" apply -f "$CFG" -c all-1g.20gb
    [ "$status" -eq 0 ]
    [[ "$output" == *"0 operations"* ]]
    [ "$("$MIGCTL" status -i 0 --json | jq -c '[.gpus[0].gpu_instances[].compute_instances[].uuid]')" = "$before" ]
}

@test "export of mig-parted's 1g.20gb node asserts against the node" {
    "$MIGCTL" export -f "$BATS_TEST_TMPDIR/exp.yaml"
    grep -q '"1g.20gb": 4' "$BATS_TEST_TMPDIR/exp.yaml"
    run "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/exp.yaml" -c current
    [ "$status" -eq 0 ]
}

@test "a CI that does not span its GI is still told apart (1c.3g.40gb vs 3g.40gb)" {
    "$MIGCTL" sim init --force --gpus 1xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb >/dev/null
    gi=$("$MIGCTL" status -i 0 --json | jq -r '.gpus[0].gpu_instances[0].id')
    "$MIGCTL" create -i 0 --gi "$gi" 1c.3g.40gb >/dev/null
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n        "3g.40gb": 1\n' >"$CFG"
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 1 ]
}
