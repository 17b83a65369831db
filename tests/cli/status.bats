#!/usr/bin/env bats
# status.bats: `migctl status`, the table and the JSON (docs/design.md's shape),
# on a simulated 2x H100 node. Runs once per backend (sim, and nvml over the
# shim): both must answer the same.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
}

checksum() { sha256sum "$MIGCTL_SIM_STATE" | cut -d' ' -f1; }

# GPU 0: MIG on, a busy 3g.40gb at 4 and an idle 2g.20gb at 0 (both with CIs).
partition() {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb@4 2g.20gb@0 -C >/dev/null
    "$MIGCTL" sim procs -i 0 --gi 2 --start --count 2 >/dev/null
}

@test "status --help describes the verb" {
    run "$MIGCTL" status --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: migctl status"* ]]
    [[ "$output" == *"--json"* ]]
}

@test "a fresh node: backend named first, every GPU with MIG off" {
    run "$MIGCTL" status
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "Backend: $MIGCTL_BACKEND"* ]]
    [[ "$output" == *"GPU 0  NVIDIA H100 80GB HBM3"* ]]
    [[ "$output" == *"GPU 1  NVIDIA H100 80GB HBM3"* ]]
    [ "$(grep -c 'MIG off' <<<"$output")" -eq 2 ]
    [ "$(grep -c 'GPU-' <<<"$output")" -eq 2 ]
}

@test "status --json has docs/design.md's shape" {
    run "$MIGCTL" status --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .backend <<<"$output")" = "$MIGCTL_BACKEND" ]
    [ "$(jq '.gpus | length' <<<"$output")" -eq 2 ]
    [ "$(jq -r '.gpus[1].index' <<<"$output")" -eq 1 ]
    [ "$(jq -r '.gpus[0].name' <<<"$output")" = "NVIDIA H100 80GB HBM3" ]
    [ "$(jq -r '.gpus[0].model' <<<"$output")" = "H100-SXM5-80GB" ]
    [ "$(jq -r '.gpus[0].pci_device_id' <<<"$output")" = "0x233010DE" ]
    [[ "$(jq -r '.gpus[0].uuid' <<<"$output")" == GPU-* ]]
    [ "$(jq -r '.gpus[0].uuid' <<<"$output")" != "$(jq -r '.gpus[1].uuid' <<<"$output")" ]
    [ "$(jq '.gpus[0].mig' <<<"$output" | jq -c .)" = '{"current":false,"pending":false}' ]
    [ "$(jq '.gpus[0].gpu_instances | length' <<<"$output")" -eq 0 ]
}

@test "instances, UUIDs and busy state in the JSON" {
    partition
    run "$MIGCTL" status --json
    [ "$status" -eq 0 ]
    json="$output"
    [ "$(jq -c '.gpus[0].mig' <<<"$json")" = '{"current":true,"pending":true}' ]
    [ "$(jq '.gpus[0].gpu_instances | length' <<<"$json")" -eq 2 ]
    # listed by GI id: 2g@0 is GI 3, 3g@4 is GI 2 (canonical ids)
    [ "$(jq -c '[.gpus[0].gpu_instances[].id]' <<<"$json")" = '[2,3]' ]
    gi='.gpus[0].gpu_instances[0]'
    [ "$(jq -r "$gi.profile" <<<"$json")" = 3g.40gb ]
    [ "$(jq -r "$gi.profile_id" <<<"$json")" -eq 9 ]
    [ "$(jq -c "$gi.placement" <<<"$json")" = '{"start":4,"size":4}' ]
    [ "$(jq -r "$gi.compute_instances[0].profile" <<<"$json")" = 3g.40gb ]
    [ "$(jq -r "$gi.compute_instances[0].busy" <<<"$json")" = true ]
    [[ "$(jq -r "$gi.compute_instances[0].uuid" <<<"$json")" == MIG-* ]]
    [ "$(jq -r '.gpus[0].gpu_instances[1].compute_instances[0].busy' <<<"$json")" = false ]
    [ "$(jq -r '.gpus[0].gpu_instances[1].placement.start' <<<"$json")" -eq 0 ]
    # every MIG UUID distinct
    [ "$(jq -r '[.gpus[].gpu_instances[].compute_instances[].uuid] | unique | length' <<<"$json")" -eq 2 ]
    [ "$(jq -c '.gpus[1].gpu_instances' <<<"$json")" = '[]' ]
}

@test "the table draws the slot map and lists instances with their UUIDs" {
    partition
    run "$MIGCTL" status -i 0
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "Backend: $MIGCTL_BACKEND"* ]]
    [[ "$output" == *"MIG on"* ]]
    [[ "$output" == *"GI 2"* ]]
    [[ "$output" != *"GPU 1 "* ]]
    uuid=$("$MIGCTL" status --json | jq -r '.gpus[0].gpu_instances[0].compute_instances[0].uuid')
    grep -q "$uuid  busy (2 processes: pid [0-9]*, [0-9]*)" <<<"$output"
    grep -q "GI  3  2g.20gb .*at 0:2" <<<"$output"
    grep -q "GI  2  3g.40gb .*at 4:4" <<<"$output"
}

@test "-i N out of range is bad input" {
    before=$(checksum)
    run "$MIGCTL" status -i 2
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"GPU index 2 out of range"* ]]
    run "$MIGCTL" status -i x
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl status: -i needs GPU indexes, UUIDs or PCI bus ids, not 'x'" ]
    [ "$(checksum)" = "$before" ]
}

@test "a corrupt state file: one-line error, never a crash, file unchanged" {
    for bad in '{"version": 1, "gpus": [' 'garbage' \
        '{"version":1,"gpus":[{"model":"H100-SXM5-80GB","mig":{"current":true},"gpu_instances":[{"id":2,"profile_id":9,"start":4},{"id":5,"profile_id":14,"start":4}]}]}' \
        '{"version":1,"gpus":[{"model":"X100-80GB"}]}'; do
        printf '%s' "$bad" >"$MIGCTL_SIM_STATE"
        before=$(checksum)
        run "$MIGCTL" status
        [ "$status" -ge 1 ] && [ "$status" -le 3 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "$(checksum)" = "$before" ]
        if [ "$MIGCTL_BACKEND" = sim ]; then
            [ "$status" -eq 2 ]
            [[ "$output" == *"$MIGCTL_SIM_STATE"* ]]
        fi
    done
}

@test "a missing state file says how to make one" {
    rm -f "$MIGCTL_SIM_STATE"
    run "$MIGCTL" status
    [ "$status" -ge 1 ] && [ "$status" -le 3 ]
    [ ! -e "$MIGCTL_SIM_STATE" ]
    if [ "$MIGCTL_BACKEND" = sim ]; then
        [ "$status" -eq 2 ]
        [[ "$output" == *"migctl sim init"* ]]
    fi
}

@test "with no GPU and no state file, status says why NVML failed and how to start a simulator" {
  unset MIGCTL_SIM_STATE MIGCTL_BACKEND
  MIGCTL_NVML_LIB=/nonexistent/libnvidia-ml.so.1 run "$MIGCTL" status
  [ "$status" -eq 2 ]
  [[ "$output" == *"no GPU through NVML"*"/nonexistent/libnvidia-ml.so.1"* ]]
  [[ "$output" == *"migctl sim init"* ]]
  [ "${#lines[@]}" -eq 1 ]
}

@test "a directory given as the state file is bad input that says so" {
  export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR"
  run "$MIGCTL" status
  [ "$status" -eq 2 ]
  [[ "$output" == *"is a directory"* ]]
}
