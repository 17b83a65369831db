#!/usr/bin/env bats
# models.bats: `migctl models`, the catalogue's GPU models. Offline, so both
# backends answer the same. Model names are the issue's; identities of the
# H100 and H200 are checked against the hardware readings in tests/data.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    HW="$MIGCTL_TEST_DATA/hardware"
}

ISSUE_MODELS="A30-24GB A100-SXM4-40GB A100-SXM4-80GB A100-PCIE-80GB H100-SXM5-80GB H100-PCIE-80GB
H100-NVL-94GB GH200-96GB GH200-144GB H200-SXM-141GB H200-NVL-141GB B200-180GB GB200-186GB RTX-PRO-6000-96GB"

@test "the table lists every model of the issue, one row each" {
    run "$MIGCTL" models
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == MODEL* ]]
    [ "${#lines[@]}" -eq 15 ]
    for m in $ISSUE_MODELS; do
        [ "$(grep -c "^$m " <<<"$output")" -eq 1 ]
    done
    grep -qE '^H100-SXM5-80GB +NVIDIA H100 80GB HBM3 +Hopper +81559 MiB +132 +7c/8m +7 +0x233010DE' <<<"$output"
    grep -qE '^A30-24GB +NVIDIA A30 +Ampere .* 4c/4m +4 +0x20B710DE$' <<<"$output"
}

@test "--json: the same models, with the identities the real H100 and H200 report" {
    run "$MIGCTL" models --json
    [ "$status" -eq 0 ]
    json="$output"
    diff <(jq -r '.models[].name' <<<"$json" | sort) <(tr -s ' \n' '\n\n' <<<"$ISSUE_MODELS" | sed '/^$/d' | sort)
    for pair in "H100-SXM5-80GB h100-80gb-hbm3" "H200-SXM-141GB h200-141gb"; do
        set -- $pair
        dev=$(jq '.devices[0]' "$HW/$2.nvml.json")
        m=$(jq --arg n "$1" '.models[] | select(.name == $n)' <<<"$json")
        [ "$(jq -r .nvml_name <<<"$m")" = "$(jq -r .name <<<"$dev")" ]
        [ "$(jq -r .memory_bytes <<<"$m")" = "$(jq -r .mem_total <<<"$dev")" ]
        [ "$(jq -r '.pci_device_ids[0] | ascii_downcase' <<<"$m")" = "$(jq -r .pci_device_id <<<"$dev")" ]
        [ "$(jq -r .gpm <<<"$m")" = true ]
        [ "$(jq -r .arch <<<"$m")" = Hopper ]
    done
    # Slices and limits as reference/mig-profiles.md states them.
    [ "$(jq -c '.models[] | select(.name == "A30-24GB") | [.memory_slices, .compute_slices, .max_gpu_instances]' <<<"$json")" = '[4,4,4]' ]
    [ "$(jq -c '.models[] | select(.name == "RTX-PRO-6000-96GB") | [.memory_slices, .compute_slices, .max_gpu_instances]' <<<"$json")" = '[12,4,4]' ]
    [ "$(jq -c '.models[] | select(.name == "B200-180GB") | [.memory_slices, .compute_slices, .max_gpu_instances]' <<<"$json")" = '[8,7,7]' ]
    # Inferred numbers are declared.
    jq -e '.models[] | select(.name == "B200-180GB") | .source | test("INFERRED")' <<<"$json" >/dev/null
}

@test "each model's profile list agrees with 'migctl profiles --model'" {
    run "$MIGCTL" models --json
    [ "$status" -eq 0 ]
    json="$output"
    for m in $ISSUE_MODELS; do
        diff <(jq -c --arg n "$m" '.models[] | select(.name == $n) | .profiles' <<<"$json") \
             <("$MIGCTL" profiles --model "$m" --json | jq -c '[.gpu_instance_profiles[].name]')
    done
}

@test "--help exits 0; bad arguments exit 2" {
    run "$MIGCTL" models --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--json"* ]]
    run "$MIGCTL" models --bogus
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl models: unknown option '--bogus'" ]
    run "$MIGCTL" models H100
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl models: unexpected argument 'H100'" ]
}
