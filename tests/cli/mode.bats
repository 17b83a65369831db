#!/usr/bin/env bats
# mode.bats: `migctl mode`, Hopper vs Ampere semantics (reference/mig-profiles.md
# section 5): no holder -> the change takes effect (Ampere through the
# driver's own reset); a process holding the GPU -> pending, with what holds
# it and how to finish; --reset; refusals. Both backends.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    "$MIGCTL" sim init --gpus H100-SXM5-80GB,A100-SXM4-40GB >/dev/null
}

checksum() { sha256sum "$MIGCTL_SIM_STATE" | cut -d' ' -f1; }
mig() { "$MIGCTL" status -i "$1" --json | jq -c '.gpus[0].mig'; }

@test "mode --help" {
    run "$MIGCTL" mode --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--reset"* ]]
}

@test "Hopper switches at once, without a reset" {
    run "$MIGCTL" mode -i 0 on
    [ "$status" -eq 0 ]
    [[ "$output" == "Enabled MIG mode on GPU 0"*"no reset needed"* ]]
    [ "$(mig 0)" = '{"current":true,"pending":true}' ]
    run "$MIGCTL" mode -i 0 on
    [ "$status" -eq 0 ]
    [[ "$output" == *"already on"* ]]
    run "$MIGCTL" mode -i 0 off
    [ "$status" -eq 0 ]
    [[ "$output" == "Disabled MIG mode on GPU 0"* ]]
    [ "$(mig 0)" = '{"current":false,"pending":false}' ]
}

@test "Ampere: the driver resets the GPU itself when nothing holds it" {
    run "$MIGCTL" mode -i 1 on
    [ "$status" -eq 0 ]
    [[ "$output" == *"reset the GPU"* ]]
    [ "$(mig 1)" = '{"current":true,"pending":true}' ]
}

@test "a process holding the GPU leaves the change pending, on either arch" {
    for gpu in 0 1; do
        "$MIGCTL" sim procs -i $gpu --start >/dev/null
        run "$MIGCTL" mode -i $gpu on
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "Warning: MIG mode is in pending enable state for GPU $gpu"*"In use by another client" ]]
        [[ "${lines[1]}" == "1 process holds the GPU"*"migctl mode -i $gpu --reset"* ]]
        [ "$(mig $gpu)" = '{"current":false,"pending":true}' ]
        run "$MIGCTL" mode -i $gpu --reset
        [ "$status" -eq 3 ]
        [[ "$output" == *"nvmlDeviceResetGpu: In use by another client"* ]]
        "$MIGCTL" sim procs -i $gpu --stop >/dev/null
        run "$MIGCTL" mode -i $gpu --reset
        [ "$status" -eq 0 ]
        [[ "$output" == "Reset GPU $gpu"*"MIG mode on" ]]
        [ "$(mig $gpu)" = '{"current":true,"pending":true}' ]
    done
}

@test "mode --json says whether it took effect and why not" {
    "$MIGCTL" sim procs -i 0 --start --count 3 >/dev/null
    run "$MIGCTL" mode -i 0 on --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .took_effect <<<"$output")" = false ]
    [ "$(jq -r .why <<<"$output")" = NVML_ERROR_IN_USE ]
    [ "$(jq -r .holders.procs <<<"$output")" -eq 3 ]
    [ "$(jq -c .mig <<<"$output")" = '{"current":false,"pending":true}' ]
    run "$MIGCTL" mode -i 1 on --json
    [ "$(jq -r .took_effect <<<"$output")" = true ]
    [ "$(jq -r .why <<<"$output")" = null ]
}

@test "off with GPU instances is refused; --reset with instances needs --force" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb -C >/dev/null
    before=$(checksum)
    run "$MIGCTL" mode -i 0 off
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"1 GPU instance"* ]]
    run "$MIGCTL" mode -i 0 --reset
    [ "$status" -eq 1 ]
    [[ "$output" == *"--force"* ]]
    [ "$(checksum)" = "$before" ]
    run "$MIGCTL" mode -i 0 --reset --force
    [ "$status" -eq 0 ]
    [ "$("$MIGCTL" status -i 0 --json | jq '.gpus[0].gpu_instances | length')" -eq 0 ]
    [ "$(mig 0)" = '{"current":true,"pending":true}' ]
}

@test "bad input: one line, exit 2, state unchanged" {
    before=$(checksum)
    while IFS='|' read -r args msg; do
        run "$MIGCTL" mode $args
        [ "$status" -eq 2 ]
        [ "${lines[0]}" = "$msg" ] || { echo "mode $args: ${lines[0]}"; false; }
    done <<'EOF'
-i 0 maybe|migctl mode: 'maybe' is not on or off
-i 0|migctl mode: say on or off
-i 5 on|migctl: mode: GPU index 5 out of range (2 GPUs: 0-1)
-i x on|migctl mode: -i needs GPU indexes, UUIDs or PCI bus ids, or 'all', not 'x'
-i 0 on --force|migctl mode: --force goes with --reset
-i 0 --reset on|migctl mode: --reset takes no on/off, not 'on'
EOF
    run "$MIGCTL" mode -i 5 on
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"GPU index 5 out of range"* ]]
    [ "$(checksum)" = "$before" ]
}
