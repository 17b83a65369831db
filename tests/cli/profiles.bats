#!/usr/bin/env bats
# profiles.bats: `migctl profiles`, offline (--model, the catalogue) and live
# (-i N, through the backend). The offline output is checked against the
# readings taken off a real H100 and H200 (tests/data/hardware/, parsed here
# with jq, sed and awk; no number retyped); the live output against the
# offline one, on whichever backend this run uses (sim, or nvml over the shim).

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    HW="$MIGCTL_TEST_DATA/hardware"
}

# The -lgip profile rows and -lgipp placement lines of nvidia-smi output,
# without the box's separator lines or anything else around them.
smi_rows() {
    grep -E '^\|  +[0-9]+  MIG |^\| +[0-9]+ +[0-9]+ +[0-9]+ +\|$|^GPU +[0-9]+ Profile ID' "$@"
}

# Each profile from the NVML reading, in the JSON contract's field names.
NVML_AS_CONTRACT='[.devices[0].gi_profiles[] | select(has("error") | not)
    | {name: (.name | ltrimstr("MIG ")), id, index: .profile_index, compute_slices: .sliceCount,
       memory_mib: .memorySizeMB, sm_count: .multiprocessorCount, instance_count: .instanceCount,
       copy_engines: .copyEngineCount, decoders: .decoderCount, encoders: .encoderCount,
       jpeg: .jpegCount, ofa: .ofaCount}] | sort_by(.id)'
OURS_AS_CONTRACT='[.gpu_instance_profiles[]
    | {name, id, index, compute_slices, memory_mib, sm_count, instance_count,
       copy_engines, decoders, encoders, jpeg, ofa}] | sort_by(.id)'

# "id start,start,... size" per -lgipp line, in order.
lgipp_placements() {
    sed -nE 's/^GPU +[0-9]+ Profile ID +([0-9]+) Placements? *: *\{([0-9,]+)\}:([0-9]+)$/\1 \2 \3/p' "$1"
}
JSON_PLACEMENTS='.gpu_instance_profiles[] | "\(.id) \([.placements[].start | tostring] | join(",")) \(.placements[0].size)"'

@test "--smi reproduces nvidia-smi mig -lgip/-lgipp of the real H100, row for row" {
    run "$MIGCTL" profiles --model H100-SXM5-80GB --smi
    [ "$status" -eq 0 ]
    diff <(smi_rows <<<"$output") <(smi_rows "$HW/h100-80gb-hbm3.nvidia-smi-mig.txt")
    # 7 profiles, two rows each, and 7 placement lines: nothing was filtered away.
    [ "$(smi_rows <<<"$output" | wc -l)" -eq 21 ]
}

@test "--smi reproduces the real H200 output byte for byte (minus its query line)" {
    run "$MIGCTL" profiles --model H200-SXM-141GB --smi
    [ "$status" -eq 0 ]
    diff <(printf '%s\n' "$output") <(tail -n +2 "$HW/h200-141gb.nvidia-smi-mig.txt")
}

@test "--json equals the NVML readings field by field, H100 and H200" {
    for pair in "H100-SXM5-80GB h100-80gb-hbm3" "H200-SXM-141GB h200-141gb"; do
        set -- $pair
        run "$MIGCTL" profiles --model "$1" --json
        [ "$status" -eq 0 ]
        [ "$(jq -r .model <<<"$output")" = "$1" ]
        diff <(jq -S "$OURS_AS_CONTRACT" <<<"$output") <(jq -S "$NVML_AS_CONTRACT" "$HW/$2.nvml.json")
        # Placements and their order equal the -lgipp lines of the same GPU.
        diff <(jq -r "$JSON_PLACEMENTS" <<<"$output") <(lgipp_placements "$HW/$2.nvidia-smi-mig.txt")
        # memory_slices is the placement size.
        [ "$(jq '[.gpu_instance_profiles[] | .memory_slices == .placements[0].size] | all' <<<"$output")" = true ]
    done
}

@test "--json carries every field of the docs/design.md contract" {
    run "$MIGCTL" profiles --model A100-SXM4-40GB --json
    [ "$status" -eq 0 ]
    keys='["compute_slices","copy_engines","decoders","encoders","id","index","instance_count","jpeg",
           "memory_mib","memory_slices","name","ofa","placements","sm_count"]'
    [ "$(jq --argjson k "$keys" '[.gpu_instance_profiles[] | keys as $have | $k - $have | length == 0] | all' <<<"$output")" = true ]
    # Offline output has no live fields.
    [ "$(jq '[.gpu_instance_profiles[] | has("free")] | any' <<<"$output")" = false ]
    [ "$(jq 'has("backend")' <<<"$output")" = false ]
}

@test "--ci lists the compute-instance profiles of nvidia-smi -lcip per GI" {
    run "$MIGCTL" profiles --model H100-SXM5-80GB --json --ci
    [ "$status" -eq 0 ]
    # reference/mig-profiles.md section 3: a 3g GI offers 1c (id 0, 3 of them), 2c (id 1), 3g (id 2, default).
    [ "$(jq -c '.gpu_instance_profiles[] | select(.name == "3g.40gb") | [.compute_instance_profiles[] | [.id, .name, .instance_count, .default]]' <<<"$output")" \
      = '[[0,"1c.3g.40gb",3,false],[1,"2c.3g.40gb",1,false],[2,"3g.40gb",1,true]]' ]
    # A 4g GI has no 3c; a 7g GI has 3c at 0 and 4.
    [ "$(jq -c '.gpu_instance_profiles[] | select(.name == "4g.40gb") | [.compute_instance_profiles[].id]' <<<"$output")" = '[0,1,3]' ]
    [ "$(jq -c '.gpu_instance_profiles[] | select(.name == "7g.80gb") | .compute_instance_profiles[] | select(.id == 2) | [.placements[].start]' <<<"$output")" = '[0,4]' ]
    run "$MIGCTL" profiles --model H100-SXM5-80GB --ci
    [ "$status" -eq 0 ]
    grep -qE '^ +ci 2 +3c\.7g\.80gb ' <<<"$output"
}

@test "the table shows every profile of the model with its placements" {
    run "$MIGCTL" profiles --model RTX-PRO-6000-96GB
    [ "$status" -eq 0 ]
    grep -q '^RTX-PRO-6000-96GB: NVIDIA RTX PRO 6000 Blackwell Server Edition, Blackwell' <<<"$output"
    [ "$(grep -cE '^[0-9]g\.[0-9]+gb' <<<"$output")" -eq 11 ]
    # 12 placement units (reference/mig-profiles.md 2.12).
    grep -qE '^1g\.24gb\+me\.all +65 .*\{0,3,6,9\}:3$' <<<"$output"
    grep -qE '^4g\.96gb +0 .*\{0\}:12$' <<<"$output"
}

@test "model names match case-insensitively, and NVML names work too" {
    run "$MIGCTL" profiles --model h100-sxm5-80gb --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .model <<<"$output")" = H100-SXM5-80GB ]
    run "$MIGCTL" profiles --model "NVIDIA H200" --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .model <<<"$output")" = H200-SXM-141GB ]
}

@test "bad input: one line naming the problem, exit 2" {
    run "$MIGCTL" profiles --model H900-SXM
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"unknown model 'H900-SXM'"* ]]
    [[ "$output" == *"H100-SXM5-80GB"* ]]   # lists the known models
    run "$MIGCTL" profiles
    [ "$status" -eq 2 ]
    [[ "$output" == *"--model"* ]]
    run "$MIGCTL" profiles --model H100-SXM5-80GB -i 0
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl profiles: --model and -i exclude each other" ]
    run "$MIGCTL" profiles --model H100-SXM5-80GB --json --smi
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl profiles: --json and --smi exclude each other" ]
    run "$MIGCTL" profiles -i zero
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl profiles: -i needs GPU indexes, UUIDs or PCI bus ids, got 'zero'" ]
    run "$MIGCTL" profiles --model H100-SXM5-80GB --bogus
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl profiles: unknown option '--bogus'" ]
    run "$MIGCTL" profiles --model
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl profiles: --model needs a value" ]
    run "$MIGCTL" profiles --model H100-SXM5-80GB extra
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl profiles: unexpected argument 'extra'" ]
}

@test "--help says what the verb does, exit 0" {
    run "$MIGCTL" profiles --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--model NAME"* ]]
    [[ "$output" == *"-i GPUS"* ]]
    [[ "$output" == *"--smi"* ]]
}

@test "-i 0 on a simulated H100 lists the catalogue's profiles, all free" {
    run "$MIGCTL" profiles --model H100-SXM5-80GB --json
    [ "$status" -eq 0 ]
    offline="$output"
    run "$MIGCTL" profiles -i 0 --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .backend <<<"$output")" = "$MIGCTL_BACKEND" ]
    [ "$(jq -r .model <<<"$output")" = H100-SXM5-80GB ]
    diff <(jq -S '.gpu_instance_profiles | map(del(.free))' <<<"$output") \
         <(jq -S '.gpu_instance_profiles' <<<"$offline")
    [ "$(jq '[.gpu_instance_profiles[] | .free == .instance_count] | all' <<<"$output")" = true ]
    # The nvidia-smi form of a fresh live GPU is the offline one.
    diff <("$MIGCTL" profiles -i 1 --smi | sed 's/^|   1  /|   0  /; s/^GPU  1 /GPU  0 /') \
         <("$MIGCTL" profiles --model H100-SXM5-80GB --smi)
}

@test "-i N: free counts follow what is created" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb@4 >/dev/null
    run "$MIGCTL" profiles -i 0 --json
    [ "$status" -eq 0 ]
    # With slices 4-7 taken: 1g at 0-3, 1g.20gb at 0 and 2, 2g at 0 and 2, one more 3g, the 4g, no 7g.
    [ "$(jq -c '[.gpu_instance_profiles[] | [.name, .free]]' <<<"$output")" \
      = '[["1g.10gb",4],["1g.10gb+me",1],["1g.20gb",2],["2g.20gb",2],["3g.40gb",1],["4g.40gb",1],["7g.80gb",0]]' ]
    run "$MIGCTL" profiles -i 0 --smi
    [ "$status" -eq 0 ]
    grep -qE '^\|   0  MIG 7g\.80gb +0 +0/1 ' <<<"$output"
    # The other GPU is untouched.
    run "$MIGCTL" profiles -i 1 --json
    [ "$(jq '[.gpu_instance_profiles[] | .free == .instance_count] | all' <<<"$output")" = true ]
}

@test "-i out of range: exit 2 naming the GPU count" {
    run "$MIGCTL" profiles -i 2
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"GPU index 2 out of range"* ]]
}
