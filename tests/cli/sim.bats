#!/usr/bin/env bats
# sim.bats: `migctl sim` (init, procs, fault, reboot, show). These verbs work
# on the state file directly, but what they set up (busy instances, injected
# failures, kills) is observed through the selected backend, so the file
# runs meaningfully on both.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
}

checksum() { sha256sum "$MIGCTL_SIM_STATE" | cut -d' ' -f1; }

@test "sim --help lists the subcommands" {
    run "$MIGCTL" sim --help
    [ "$status" -eq 0 ]
    for sub in init procs fault reboot show; do
        [[ "$output" == *"migctl sim $sub"* ]]
    done
    run "$MIGCTL" sim procs --help
    [ "$status" -eq 0 ]
    run "$MIGCTL" sim
    [ "$status" -eq 2 ]
    [[ "${lines[0]}" == "usage: migctl sim init"* ]]
    run "$MIGCTL" sim frobnicate
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl sim: unknown subcommand 'frobnicate' (init, procs, fault, reboot, show, load, health)" ]
}

@test "init makes a node with MIG off; show prints it" {
    run "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB,A100-SXM4-40GB
    [ "$status" -eq 0 ]
    [[ "$output" == *"3 simulated GPUs"* ]]
    run "$MIGCTL" sim show
    [ "$status" -eq 0 ]
    [ "$(jq -r .version <<<"$output")" -eq 1 ]
    [ "$(jq -c '[.gpus[].model]' <<<"$output")" = '["H100-SXM5-80GB","H100-SXM5-80GB","A100-SXM4-40GB"]' ]
    [ "$(jq -c '[.gpus[].mig.current] | unique' <<<"$output")" = '[false]' ]
    [ "$(jq -r '[.gpus[].uuid] | unique | length' <<<"$output")" -eq 3 ]
    [ "$(jq -r '.gpus[2].pci_device_id' <<<"$output")" = 0x20B010DE ]
    run "$MIGCTL" status --json
    [ "$(jq '.gpus | length' <<<"$output")" -eq 3 ]
}

@test "init refuses to overwrite without --force" {
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    before=$(checksum)
    run "$MIGCTL" sim init --gpus 8xH100-SXM5-80GB
    [ "$status" -eq 1 ]
    [[ "$output" == *"--force"* ]]
    [ "$(checksum)" = "$before" ]
    run "$MIGCTL" sim init --gpus 8xH100-SXM5-80GB --force
    [ "$status" -eq 0 ]
    [ "$("$MIGCTL" sim show | jq '.gpus | length')" -eq 8 ]
}

@test "init: an unknown model or a bad spec is bad input and writes nothing" {
    for spec in 2xH900-80GB 0xH100-SXM5-80GB 65xH100-SXM5-80GB "" 2yH100-SXM5-80GB; do
        run "$MIGCTL" sim init --gpus "$spec"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [ ! -e "$MIGCTL_SIM_STATE" ]
    done
    run "$MIGCTL" sim init --gpus 2xH900-80GB
    [[ "$output" == *"unknown GPU model 'H900-80GB'"*"H100-SXM5-80GB"* ]]
    run "$MIGCTL" sim init
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl sim init: --gpus SPEC is required (e.g. 8xH100-SXM5-80GB)" ]
}

@test "no state file named: exit 2 with a hint" {
    unset MIGCTL_SIM_STATE
    run "$MIGCTL" sim show
    [ "$status" -eq 2 ]
    [[ "$output" == *"MIGCTL_SIM_STATE"* ]]
    run "$MIGCTL" --sim "$BATS_TEST_TMPDIR/none.json" sim show
    [ "$status" -eq 2 ]
    [[ "$output" == *"migctl sim init"* ]]
}

@test "--sim FILE names the state file" {
    other="$BATS_TEST_TMPDIR/other.json"
    run "$MIGCTL" --sim "$other" sim init --gpus 3xA30-24GB
    [ "$status" -eq 0 ]
    [ -e "$other" ]
    [ ! -e "$MIGCTL_SIM_STATE" ]
    [ "$("$MIGCTL" sim show --sim "$other" | jq '.gpus | length')" -eq 3 ]
}

@test "procs make an instance busy, and stop" {
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb -C >/dev/null
    run "$MIGCTL" sim procs -i 0 --gi 2 --start --count 2
    [ "$status" -eq 0 ]
    [[ "$output" == *"compute instance 0: 2 simulated processes"* ]]
    [ "$("$MIGCTL" status --json | jq -r '.gpus[0].gpu_instances[0].compute_instances[0].busy')" = true ]
    [ "$("$MIGCTL" sim show | jq '.gpus[0].gpu_instances[0].compute_instances[0].procs | length')" -eq 2 ]
    run "$MIGCTL" sim procs -i 0 --gi 2 --ci 0 --stop --count 1
    [ "$status" -eq 0 ]
    [ "$("$MIGCTL" sim show | jq '.gpus[0].gpu_instances[0].compute_instances[0].procs | length')" -eq 1 ]
    "$MIGCTL" sim procs -i 0 --gi 2 --stop >/dev/null
    [ "$("$MIGCTL" status --json | jq -r '.gpus[0].gpu_instances[0].compute_instances[0].busy')" = false ]
}

@test "procs: bad places and flags are bad input" {
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb >/dev/null
    before=$(checksum)
    while IFS='|' read -r args msg; do
        run "$MIGCTL" sim procs $args
        [ "$status" -eq 2 ]
        [ "${lines[0]}" = "$msg" ] || { echo "procs $args: ${lines[0]}"; false; }
        [ "$(checksum)" = "$before" ]
    done <<'EOF'
-i 0 --gi 2 --start|migctl: sim procs: GPU instance 2 on GPU 0 has no compute instance for a process to run on
-i 0 --gi 9 --start|migctl: sim procs: GPU 0 has no GPU instance 9
-i 3 --start|migctl: sim procs: GPU index 3 out of range (1 GPU: 0-0)
-i 0 --ci 0 --start|migctl sim procs: --ci needs --gi
-i 0 --start --stop|migctl sim procs: give exactly one of --start and --stop
-i 0|migctl sim procs: give exactly one of --start and --stop
--start|migctl sim procs: -i N (the GPU) is required
-i 0 --start --count x|migctl sim procs: --count needs a non-negative integer, not 'x'
EOF
    run "$MIGCTL" sim procs -i 0 --gi 2 --start
    [[ "$output" == *"no compute instance"* ]]
}

@test "fault --fail-op: the Nth operation fails with the chosen code, once" {
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    run "$MIGCTL" sim fault --fail-op 2 --rc IN_USE
    [ "$status" -eq 0 ]
    run "$MIGCTL" create -i 0 1g.10gb
    [ "$status" -eq 0 ]
    run "$MIGCTL" create -i 0 1g.10gb
    [ "$status" -eq 3 ]
    [[ "$output" == *"nvmlDeviceCreateGpuInstance: In use by another client"* ]]
    run "$MIGCTL" create -i 0 1g.10gb
    [ "$status" -eq 0 ]
    [ "$("$MIGCTL" status --json | jq '.gpus[0].gpu_instances | length')" -eq 2 ]
    [ "$("$MIGCTL" sim show | jq .fault.fail_op)" -eq 0 ]
    "$MIGCTL" sim fault --fail-op 1 >/dev/null
    run "$MIGCTL" destroy -i 0 --gi 13
    [ "$status" -eq 3 ]
    [[ "$output" == *"nvmlGpuInstanceDestroy: Unknown Error"* ]]
}

@test "fault --kill-op: the process is killed right after the operation is committed" {
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" sim fault --kill-op 2 >/dev/null
    run "$MIGCTL" create -i 0 1g.10gb 1g.10gb 1g.10gb
    [ "$status" -eq 137 ]
    [ "$("$MIGCTL" status --json | jq '.gpus[0].gpu_instances | length')" -eq 2 ]
    [ "$("$MIGCTL" sim show | jq .fault.kill_op)" -eq 0 ]
    run "$MIGCTL" create -i 0 1g.10gb
    [ "$status" -eq 0 ]
}

@test "fault: --clear, and bad values" {
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    "$MIGCTL" sim fault --fail-op 3 --rc 23 --kill-op 4 >/dev/null
    [ "$("$MIGCTL" sim show | jq -c .fault)" = '{"fail_op":3,"fail_rc":23,"kill_op":4}' ]
    "$MIGCTL" sim fault --clear >/dev/null
    [ "$("$MIGCTL" sim show | jq -c .fault)" = '{"fail_op":0,"fail_rc":999,"kill_op":0}' ]
    before=$(checksum)
    while IFS='|' read -r args msg; do
        run "$MIGCTL" sim fault $args
        [ "$status" -eq 2 ]
        [ "${lines[0]}" = "$msg" ] || { echo "fault $args: ${lines[0]}"; false; }
    done <<'EOF'
--fail-op 1 --rc NOPE|migctl sim fault: --rc needs an NVML error code or name (e.g. 19 or IN_USE), not 'NOPE'
--fail-op 1 --rc 0|migctl sim fault: --rc needs an NVML error code or name (e.g. 19 or IN_USE), not '0'
--rc IN_USE|migctl sim fault: give --fail-op N, --kill-op N or --clear
|migctl sim fault: give --fail-op N, --kill-op N or --clear
--fail-op -1|migctl sim fault: --fail-op needs a non-negative integer, not '-1'
EOF
    [ "$(checksum)" = "$before" ]
}

@test "reboot: instances and processes gone; Hopper loses MIG mode, Ampere keeps it" {
    "$MIGCTL" sim init --gpus H100-SXM5-80GB,A100-SXM4-40GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" mode -i 1 on >/dev/null
    "$MIGCTL" create -i 0 7g.80gb -C >/dev/null
    "$MIGCTL" create -i 1 7g.40gb -C >/dev/null
    "$MIGCTL" sim procs -i 1 --gi 0 --start >/dev/null
    run "$MIGCTL" sim reboot
    [ "$status" -eq 0 ]
    run "$MIGCTL" status --json
    [ "$(jq -c '[.gpus[] | .mig.current]' <<<"$output")" = '[false,true]' ]
    [ "$(jq '[.gpus[].gpu_instances[]] | length' <<<"$output")" -eq 0 ]
}

@test "swizzled GI ids do not follow placements" {
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB --swizzled >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    run "$MIGCTL" create -i 0 1g.10gb 1g.10gb 3g.40gb@0 --json
    [ "$status" -eq 0 ]
    # canonical would be 13 (slot 6), 11 (slot 4), 1 (0:4)
    [ "$(jq -c '[.created[] | [.id, .placement.start]]' <<<"$output")" = '[[7,6],[8,4],[1,0]]' ]
}

@test "a corrupt state file is reported by the sim verbs and left alone" {
    printf '{"version": 1, "gpus": [{"model": "H100-SXM5-80GB", "procs": [' >"$MIGCTL_SIM_STATE"
    before=$(checksum)
    for sub in show reboot "procs -i 0 --start" "fault --clear"; do
        run "$MIGCTL" sim $sub
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == *"$MIGCTL_SIM_STATE"* ]]
    done
    [ "$(checksum)" = "$before" ]
}
