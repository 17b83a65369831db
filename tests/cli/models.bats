#!/usr/bin/env bats
# models.bats: `migctl models`, the catalogue's GPU models. Offline, so both
# backends answer the same. Model names are the issue's; identities of the
# H100 and H200 are checked against the hardware readings in tests/data.

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    HW="$MIGCTL_TEST_DATA/hardware"
}

ISSUE_MODELS="A30-24GB A100-SXM4-40GB A100-SXM4-80GB A100-PCIE-80GB H100-SXM5-80GB H100-PCIE-80GB
H100-NVL-94GB GH200-96GB GH200-144GB H200-SXM-141GB H200-NVL-141GB B200-180GB GB200-186GB RTX-PRO-6000-96GB
RTX-PRO-6000-WS-96GB RTX-PRO-6000-MAXQ-96GB H100-SXM5-94GB H20-96GB B300-269GB GB300-278GB
RTX-PRO-5000-48GB RTX-PRO-4500-32GB"

@test "the table lists every model of the issue, one row each" {
    run "$MIGCTL" models
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == MODEL* ]]
    [ "${#lines[@]}" -eq 23 ]
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

@test "issue 12: every GPU the MIG guide lists is known, each inferred value declared" {
    run -0 "$MIGCTL" models --json
    json="$output"
    # The guide's 'Supported GPUs' products, by the name NVML reports (or, for the
    # H100 SXM5 94GB, the PCI id pci.ids gives it).
    for pci in 0x2BB110DE 0x2BB410DE 0x2BB510DE 0x233910DE 0x232910DE 0x318210DE 0x31C210DE; do
        [ "$(jq --arg p "$pci" '[.models[] | select(.pci_device_ids | index($p))] | length' <<<"$json")" -eq 1 ]
    done
    for n in "NVIDIA RTX PRO 5000 Blackwell" "NVIDIA RTX PRO 4500 Blackwell" "NVIDIA H20" "NVIDIA B300 SXM6 AC"; do
        [ "$(jq --arg n "$n" '[.models[] | select(.nvml_name == $n)] | length' <<<"$json")" -eq 1 ]
    done
    # 0x20B6 is pci.ids' "GA100 [PG506-232]", an Ampere board: not a GH200.
    [ "$(jq '[.models[] | select(.pci_device_ids | index("0x20B610DE"))] | length' <<<"$json")" -eq 0 ]
    # Every row says where its numbers come from; rows not read off hardware say
    # which values are inferred.
    [ "$(jq '[.models[] | select((.source | test("nothing inferred|INFERRED|inferred")) | not)] | length' <<<"$json")" -eq 0 ]
    for m in RTX-PRO-6000-WS-96GB H100-SXM5-94GB H20-96GB B300-269GB GB300-278GB RTX-PRO-5000-48GB RTX-PRO-4500-32GB; do
        jq -e --arg m "$m" '.models[] | select(.name == $m) | .source | test("INFERRED")' <<<"$json" >/dev/null
    done
    # Profiles and counts the guide and mig-parted's configs give.
    run -0 "$MIGCTL" profiles --model B300-269GB --json
    [ "$(jq -c '[.gpu_instance_profiles[] | "\(.name)x\(.instance_count)"]' <<<"$output")" = \
      '["1g.34gbx7","1g.34gb+mex1","1g.67gbx4","2g.67gbx3","3g.135gbx2","4g.135gbx1","7g.269gbx1"]' ]
    run -0 "$MIGCTL" profiles --model RTX-PRO-5000-48GB --json
    [ "$(jq -r '[.gpu_instance_profiles[].name] | join(" ")' <<<"$output")" = \
      "1g.24gb 1g.24gb+me 1g.24gb+gfx 1g.24gb+me.all 1g.24gb-me 2g.48gb 2g.48gb+gfx" ]
    # A model with no known PCI id says so in the table.
    run -0 "$MIGCTL" models
    grep -qE '^RTX-PRO-4500-32GB .* unknown \(matched by NVML name\)$' <<<"$output"
}

@test "new models work end to end on the simulator: a layout applies and asserts" {
    # (a 2-slice GPU has no all-balanced: 2x1g + 1x2g needs 4 compute slices)
    for mc in RTX-PRO-6000-WS-96GB:all-balanced H20-96GB:all-balanced B300-269GB:all-balanced \
              GB300-278GB:all-balanced RTX-PRO-5000-48GB:all-1g.24gb RTX-PRO-4500-32GB:all-1g.16gb; do
        m=${mc%%:*} c=${mc#*:}
        "$MIGCTL" sim init --force --gpus "1x$m" >/dev/null
        "$MIGCTL" generate-config --model "$m" >"$BATS_TEST_TMPDIR/g.yaml"
        run -0 "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/g.yaml" -c "$c"
        run -0 "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/g.yaml" -c "$c"
        [ "$("$MIGCTL" status --json | jq -r '.gpus[0].model')" = "$m" ]
    done
}
