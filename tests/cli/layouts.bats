#!/usr/bin/env bats
# layouts.bats: `migctl layouts`, the maximal layouts of a model. The verb is
# offline (catalogue only), so it answers the same on both backends; the
# state file is made anyway so that nothing here depends on a real GPU.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null 2>&1 || true
}

@test "--count, --json count, the numbered drawings and the JSON list agree" {
    run "$MIGCTL" layouts --model A100-SXM4-40GB --count
    [ "$status" -eq 0 ]
    count="$output"
    [ "$count" -gt 0 ]
    run "$MIGCTL" layouts --model A100-SXM4-40GB --json
    [ "$status" -eq 0 ]
    [ "$(jq .count <<<"$output")" -eq "$count" ]
    [ "$(jq '.layouts | length' <<<"$output")" -eq "$count" ]
    [ "$(jq -r .model <<<"$output")" = A100-SXM4-40GB ]
    run "$MIGCTL" layouts --model A100-SXM4-40GB
    [ "$status" -eq 0 ]
    [ "$(grep -c '^#[0-9]' <<<"$output")" -eq "$count" ]
    grep -q "^A100-SXM4-40GB: $count maximal layouts" <<<"$output"
}

@test "every JSON layout is valid: no overlap, within the GPU, listed only once" {
    run "$MIGCTL" layouts --model H100-SXM5-80GB --json
    [ "$status" -eq 0 ]
    json="$output"
    # No two GIs of a layout share a memory slice.
    overlapping=$(jq '[.layouts[] | [.gpu_instances[] | range(.start; .start + .size)]
                       | (length != (unique | length))] | any' <<<"$json")
    [ "$overlapping" = false ]
    [ "$(jq '[.layouts[] | .compute_used <= 7 and .memory_used <= 8] | all' <<<"$json")" = true ]
    # memory_used is the slices the instances cover.
    [ "$(jq '[.layouts[] | .memory_used == ([.gpu_instances[].size] | add)] | all' <<<"$json")" = true ]
    total=$(jq '.layouts | length' <<<"$json")
    distinct=$(jq '[.layouts[] | .gpu_instances | sort_by(.start)] | unique | length' <<<"$json")
    [ "$total" -eq "$distinct" ]
    # Base profiles only by default.
    [ "$(jq '[.layouts[].gpu_instances[].profile | test("[+-]")] | any' <<<"$json")" = false ]
}

@test "the drawing shows the cells of a layout" {
    run "$MIGCTL" layouts --model A100-SXM4-40GB --profiles 1g.5gb
    [ "$status" -eq 0 ]
    [ "$(grep -c '^#[0-9]' <<<"$output")" -eq 1 ]
    grep -q '^#1  7x1g.5gb   compute 7/7   memory 7/8$' <<<"$output"
    grep -qF '[ 1g.5gb][ 1g.5gb][ 1g.5gb][ 1g.5gb][ 1g.5gb][ 1g.5gb][ 1g.5gb][ free  ]' <<<"$output"
    grep -qE '^ +0 +1 +2 +3 +4 +5 +6 +7$' <<<"$output"
    run "$MIGCTL" layouts --model H100-SXM5-80GB --profiles 4g.40gb,3g.40gb
    [ "$status" -eq 0 ]
    grep -q '1x3g.40gb + 1x4g.40gb' <<<"$output"
    grep -qE '\[ 4g\.40gb +\]\[ 3g\.40gb +\]' <<<"$output"
    ! grep -q $'\033' <<<"$output"
}

@test "--all-profiles adds the variants; drawings of 4- and 12-unit GPUs fit the screen" {
    base=$("$MIGCTL" layouts --model RTX-PRO-6000-96GB --count)
    all=$("$MIGCTL" layouts --model RTX-PRO-6000-96GB --all-profiles --count)
    [ "$all" -gt "$base" ]
    run "$MIGCTL" layouts --model RTX-PRO-6000-96GB --all-profiles
    [ "$status" -eq 0 ]
    grep -q '+me.all' <<<"$output"
    # The drawn lines (indented) stay under 110 columns.
    [ "$(awk '/^ / { if (length($0) > max) max = length($0) } END { print max }' <<<"$output")" -lt 110 ]
    run "$MIGCTL" layouts --model A30-24GB
    [ "$status" -eq 0 ]
    grep -qF '[ 4g.24gb' <<<"$output"
}

@test "bad model, bad profile and bad flags: one line, exit 2" {
    run "$MIGCTL" layouts --model NO-SUCH-GPU
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"unknown model 'NO-SUCH-GPU'"* ]]
    run "$MIGCTL" layouts --model H100-SXM5-80GB --profiles 1g.10gb,5g.50gb
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"no profile '5g.50gb'"* ]]
    run "$MIGCTL" layouts --model H100-SXM5-80GB --profiles ,
    [ "$status" -eq 2 ]
    [[ "$output" == *"H100-SXM5-80GB has no profile ''"* ]]
    run "$MIGCTL" layouts
    [ "$status" -eq 2 ]
    [[ "$output" == *"--model"* ]]
    run "$MIGCTL" layouts --model H100-SXM5-80GB --all-profiles --profiles 1g.10gb
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl layouts: --all-profiles and --profiles exclude each other" ]
    run "$MIGCTL" layouts --model H100-SXM5-80GB --bogus
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl layouts: unknown option '--bogus'" ]
    run "$MIGCTL" layouts --model
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl layouts: --model needs a value" ]
}

@test "--help" {
    run "$MIGCTL" layouts --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: migctl layouts --model NAME"* ]]
}
