#!/usr/bin/env bats
# mig_parted_dropin.bats: migctl run under the name nvidia-mig-parted (a
# symlink in the test's own temp dir) answers mig-parted v0.13.1's verbs,
# flags and environment variables with its messages and exit codes (every
# failure 1, a logrus "level=fatal" line on stderr), so a node's scripts
# switch with nothing changed. The config is NVIDIA's own
# config-default.yaml. Both backends (over the shim with MIGCTL_BACKEND=nvml).

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    ln -s "$MIGCTL" "$BATS_TEST_TMPDIR/nvidia-mig-parted"
    MP="$BATS_TEST_TMPDIR/nvidia-mig-parted"
    CFG="$MIGCTL_SOURCE_DIR/tests/data/configs/config-default.yaml"
    unset MIG_PARTED_CONFIG_FILE MIG_PARTED_SELECTED_CONFIG MIG_PARTED_HOOKS_FILE MIG_PARTED_DEBUG \
        MIG_PARTED_MODE_CHANGE_ONLY MIG_PARTED_VALID_CONFIG MIG_PARTED_SKIP_RESET
}

counts() { "$MIGCTL" status --json | jq -c '[.gpus[] | [.gpu_instances[].profile] | sort]'; }

@test "apply, assert and export with mig-parted's flags; the same messages and exit codes" {
    run --separate-stderr "$MP" assert -f "$CFG" -c all-1g.10gb
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'level=fatal msg="Assertion failure: selected configuration not currently applied"'* ]]
    run "$MP" apply --config-file "$CFG" --selected-config all-1g.10gb
    [ "$status" -eq 0 ]
    [ "$output" = "MIG configuration applied successfully" ]
    [ "$(counts)" = '[["1g.10gb","1g.10gb","1g.10gb","1g.10gb","1g.10gb","1g.10gb","1g.10gb"],["1g.10gb","1g.10gb","1g.10gb","1g.10gb","1g.10gb","1g.10gb","1g.10gb"]]' ]
    run "$MP" assert -f "$CFG" -c all-1g.10gb
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    # nothing to do is a success with the same line
    run "$MP" apply -f "$CFG" -c all-1g.10gb
    [ "$status" -eq 0 ]
    [ "$output" = "MIG configuration applied successfully" ]
    # export: yaml by default, json with -o, the label with -l
    run "$MP" export
    [ "$status" -eq 0 ]
    [[ "$output" == *"current:"* && "$output" == *'"1g.10gb": 7'* ]]
    run "$MP" export -o json -l mine
    [ "$status" -eq 0 ]
    [ "$(jq -r '."mig-configs".mine[0]."mig-devices"."1g.10gb"' <<<"$output")" = 7 ]
    # and the exported file asserts under mig-parted's name too
    "$MP" export -l mine >"$BATS_TEST_TMPDIR/exp.yaml"
    run "$MP" assert -f "$BATS_TEST_TMPDIR/exp.yaml"
    [ "$status" -eq 0 ]
}

@test "the environment: MIG_PARTED_CONFIG_FILE, _SELECTED_CONFIG, _HOOKS_FILE, _DEBUG; a flag wins" {
    printf 'version: v1\nhooks:\n  apply-start:\n    - command: sh\n      args: ["-c", "echo started >%s/hook.out"]\n' \
        "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/hooks.yaml"
    export MIG_PARTED_CONFIG_FILE="$CFG" MIG_PARTED_SELECTED_CONFIG=all-balanced \
        MIG_PARTED_HOOKS_FILE="$BATS_TEST_TMPDIR/hooks.yaml"
    run "$MP" apply
    [ "$status" -eq 0 ]
    [ "$output" = "MIG configuration applied successfully" ]
    [ "$(cat "$BATS_TEST_TMPDIR/hook.out")" = started ]
    run "$MP" assert
    [ "$status" -eq 0 ]
    # -c on the command line beats the variable
    run "$MP" assert -c all-3g.40gb
    [ "$status" -eq 1 ]
    # MIG_PARTED_DEBUG=true shows debug lines (and migctl's plan) on stderr only
    MIG_PARTED_DEBUG=true run --separate-stderr "$MP" apply -c all-3g.40gb
    [ "$status" -eq 0 ]
    [ "$output" = "MIG configuration applied successfully" ]
    [[ "$stderr" == *"level=debug"* ]]
    [[ "$stderr" == *"Plan for config 'all-3g.40gb'"* ]]
    # -d as a global flag does the same
    run --separate-stderr "$MP" -d assert -c all-3g.40gb
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"level=debug"* ]]
    # a bool variable that is not a bool is refused, as urfave/cli does
    MIG_PARTED_DEBUG=maybe run "$MP" assert
    [ "$status" -eq 1 ]
}

@test "--mode-only, --valid-config, --skip-reset" {
    run "$MP" assert -f "$CFG" -c all-enabled --mode-only
    [ "$status" -eq 1 ]
    run "$MP" apply -f "$CFG" -c all-balanced -m
    [ "$status" -eq 0 ]
    [ "$output" = "MIG configuration applied successfully" ]
    # the mode changed, no instance was created
    [ "$("$MIGCTL" status --json | jq -c '[.gpus[] | .mig.current, (.gpu_instances | length)]')" = '[true,0,true,0]' ]
    run "$MP" assert -f "$CFG" -c all-balanced -m
    [ "$status" -eq 0 ]
    [ "$output" = "Selected MIG mode settings from configuration currently applied" ]
    run "$MP" assert -f "$CFG" -c all-balanced
    [ "$status" -eq 1 ]
    MIG_PARTED_MODE_CHANGE_ONLY=true run "$MP" assert -f "$CFG" -c all-balanced
    [ "$status" -eq 0 ]
    run "$MP" assert -f "$CFG" -c all-balanced --valid-config
    [ "$status" -eq 0 ]
    [ "$output" = "Selected MIG configuration is valid" ]
    MIG_PARTED_VALID_CONFIG=1 run "$MP" assert -f "$CFG" -c all-balanced
    [ "$status" -eq 0 ]
    [ "$output" = "Selected MIG configuration is valid" ]
    run "$MP" apply -f "$CFG" -c all-balanced --skip-reset
    [ "$status" -eq 0 ]
    run "$MP" assert -f "$CFG" -c all-balanced
    [ "$status" -eq 0 ]
}

@test "failures exit 1 with mig-parted's messages; an unknown profile is refused (stricter than mig-parted)" {
    run --separate-stderr "$MP" apply -f "$CFG" -c no-such-config
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'level=fatal msg="Error selecting MIG config: selected mig-config not present: no-such-config"'* ]]
    run --separate-stderr "$MP" apply -f "$CFG"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"missing required flag 'selected-config' when more than one config available"* ]]
    run --separate-stderr "$MP" apply -c all-balanced
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"missing required flag 'config-file'"* ]]
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: all\n      mig-enabled: yes-please\n' >"$BATS_TEST_TMPDIR/bad.yaml"
    run --separate-stderr "$MP" apply -f "$BATS_TEST_TMPDIR/bad.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'level=fatal msg="Error parsing config file: '* ]]
    # mig-parted reports success for 5g.10gb and changes nothing; migctl refuses
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n        "5g.10gb": 1\n' >"$BATS_TEST_TMPDIR/typo.yaml"
    before=$(counts)
    run --separate-stderr "$MP" apply -f "$BATS_TEST_TMPDIR/typo.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"5g.10gb"* ]]
    [ "$(counts)" = "$before" ]
    run "$MP" assert -f "$BATS_TEST_TMPDIR/typo.yaml" --valid-config
    [ "$status" -eq 1 ]
    # unknown flags and verbs
    run --separate-stderr "$MP" apply --frobnicate
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"flag provided but not defined: --frobnicate"* ]]
    run "$MP" export -o xml
    [ "$status" -eq 1 ]
}

@test "--valid-config with no GPU to ask (no driver, no simulator) checks the file alone" {
    run env -u MIGCTL_SIM_STATE MIGCTL_BACKEND=sim "$MP" assert -f "$CFG" -c all-balanced --valid-config
    [ "$status" -eq 0 ]
    [ "$output" = "Selected MIG configuration is valid" ]
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n        "5g.10gb": 1\n' >"$BATS_TEST_TMPDIR/typo.yaml"
    run --separate-stderr env -u MIGCTL_SIM_STATE MIGCTL_BACKEND=sim "$MP" assert -f "$BATS_TEST_TMPDIR/typo.yaml" --valid-config
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"typo.yaml:7:9: '5g.10gb' is a profile of no GPU model"* ]]
    # without --valid-config a GPU is needed: mig-parted's NVML error, exit 1
    run env -u MIGCTL_SIM_STATE MIGCTL_BACKEND=sim "$MP" assert -f "$CFG" -c all-balanced
    [ "$status" -eq 1 ]
}

@test "a config that selects no GPU: apply succeeds, assert fails (as mig-parted)" {
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: [7]\n      mig-enabled: true\n      mig-devices:\n        "7g.80gb": 1\n' >"$BATS_TEST_TMPDIR/none.yaml"
    run "$MP" apply -f "$BATS_TEST_TMPDIR/none.yaml"
    [ "$status" -eq 0 ]
    run "$MP" assert -f "$BATS_TEST_TMPDIR/none.yaml"
    [ "$status" -eq 1 ]
}

@test "a busy instance in the way: exit 1 and nothing destroyed" {
    "$MP" apply -f "$CFG" -c all-3g.40gb >/dev/null
    gi=$("$MIGCTL" status -i 0 --json | jq -r '.gpus[0].gpu_instances[0].id')
    "$MIGCTL" sim procs -i 0 --gi "$gi" --start >/dev/null
    before=$(counts)
    run --separate-stderr "$MP" apply -f "$CFG" -c all-1g.10gb
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"level=fatal"* ]]
    [ "$(counts)" = "$before" ]
}

@test "checkpoint and restore: mig-parted's JSON format, back to the saved layout" {
    "$MP" apply -f "$CFG" -c all-balanced >/dev/null
    before=$(counts)
    run "$MP" checkpoint -f "$BATS_TEST_TMPDIR/ck.json"
    [ "$status" -eq 0 ]
    [ "$(jq -r .Version "$BATS_TEST_TMPDIR/ck.json")" = v1 ]
    [ "$(jq '.MigState.Devices | length' "$BATS_TEST_TMPDIR/ck.json")" -eq 2 ]
    [ "$(jq -r '.MigState.Devices[0].UUID' "$BATS_TEST_TMPDIR/ck.json")" = "$("$MIGCTL" status --json | jq -r '.gpus[0].uuid')" ]
    # ProfileID is NVML's profile index: 3g.40gb is index 2, 1g.10gb index 0
    [ "$(jq -c '[.MigState.Devices[0].GpuInstances[].ProfileID] | sort' "$BATS_TEST_TMPDIR/ck.json")" = '[0,0,1,2]' ]
    "$MP" apply -f "$CFG" -c all-7g.80gb >/dev/null
    [ "$(counts)" != "$before" ]
    run "$MP" restore -f "$BATS_TEST_TMPDIR/ck.json"
    [ "$status" -eq 0 ]
    [ "$(counts)" = "$before" ]
}

@test "migctl mig-parted VERB is the same drop-in" {
    run "$MIGCTL" mig-parted apply -f "$CFG" -c all-2g.20gb
    [ "$status" -eq 0 ]
    [ "$output" = "MIG configuration applied successfully" ]
    run "$MIGCTL" mig-parted assert -f "$CFG" -c all-2g.20gb
    [ "$status" -eq 0 ]
    run "$MP" --version
    [ "$status" -eq 0 ]
    [[ "$output" == *"0.13.1"* ]]
}
