#!/usr/bin/env bats
# smi_habits.bats: what operators type out of nvidia-smi habit works in
# migctl (issue 12 item 2), one test per habit, on both backends: the
# listings (-L, -lgi, -lci, -lcip, -lcipp) as nvidia-smi prints them, --smi over
# several GPUs or models, -i with a UUID or a PCI bus id, comma lists, a
# hint towards '@' for nvidia-smi's ':start', compute instances in existing
# GPU instances (-cci), destroy-all, mode on every GPU, the pids on each
# slice, and what is still free when a create does not fit.

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB,1xA100-SXM4-40GB >/dev/null
}

uuid_of() { "$MIGCTL" status --json | jq -r ".gpus[$1].uuid"; }
bus_of() { "$MIGCTL" status --json | jq -r ".gpus[$1].bus_id"; }
gis_of() { "$MIGCTL" status -i "$1" --json | jq -c '[.gpus[0].gpu_instances[] | .profile] | sort'; }

@test "list: GPUs and MIG devices with UUIDs, as nvidia-smi -L" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 -C 3g.40gb 1g.10gb >/dev/null
    run "$MIGCTL" list
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: $(uuid_of 0))" ]
    mig=$("$MIGCTL" status -i 0 --json | jq -r '.gpus[0].gpu_instances[] | select(.profile=="3g.40gb") | .compute_instances[0].uuid')
    grep -qx "  MIG 3g.40gb     Device  [01]: (UUID: $mig)" <<<"$output"
    grep -qx "  MIG 1g.10gb     Device  [01]: (UUID: MIG-.*)" <<<"$output"
    [ "${lines[3]}" = "GPU 1: NVIDIA H100 80GB HBM3 (UUID: $(uuid_of 1))" ]
    [[ "${lines[4]}" == "GPU 2: NVIDIA A100-SXM4-40GB (UUID: GPU-"* ]]
    run "$MIGCTL" list --json
    [ "$(jq '.gpus[0].mig_devices | length' <<<"$output")" -eq 2 ]
    [ "$(jq -r '.gpus[0].mig_devices[] | select(.profile=="3g.40gb") | .uuid' <<<"$output")" = "$mig" ]
}

@test "list -lgi: GPU instances, nvidia-smi's box table column for column" {
    run "$MIGCTL" list -lgi
    [ "$output" = "No MIG-enabled devices found." ]
    "$MIGCTL" mode -i 0 on >/dev/null
    run "$MIGCTL" list -lgi
    [ "$output" = "No GPU instances found: Not Found" ]
    "$MIGCTL" create -i 0 -C 3g.40gb@4 1g.10gb@0 >/dev/null
    run "$MIGCTL" list -lgi
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "+---------------------------------------------------------+" ]
    [ "${lines[2]}" = "| GPU   Name               Profile  Instance   Placement  |" ]
    # one block per GI, sorted as -lgip sorts profiles (1g before 3g)
    [[ "${lines[5]}" =~ ^\|\ \ \ 0\ \ MIG\ 1g\.10gb\ {11}19\ {7,8}[0-9]+\ {10}0:1\ {5}\|$ ]]
    [[ "${lines[7]}" =~ ^\|\ \ \ 0\ \ MIG\ 3g\.40gb\ {12}9\ {7,8}[0-9]+\ {10}4:4\ {5}\|$ ]]
    for l in "${lines[@]}"; do [ "${#l}" -eq 59 ]; done
    run "$MIGCTL" list --gi --json
    [ "$(jq -c '[.gpu_instances[] | [.profile, .placement.start]]' <<<"$output")" = '[["1g.10gb",0],["3g.40gb",4]]' ]
}

@test "list -lci: compute instances with their placement in the GPU instance" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb@4 >/dev/null
    gi=$("$MIGCTL" status -i 0 --json | jq -r '.gpus[0].gpu_instances[0].id')
    "$MIGCTL" create -i 0 --gi "$gi" 1c.3g.40gb,1c.3g.40gb >/dev/null
    run "$MIGCTL" list -lci -i 0
    [ "$status" -eq 0 ]
    [ "${lines[2]}" = "| GPU     GPU       Name             Profile   Instance   Placement  |" ]
    [ "$(grep -c "MIG 1c.3g.40gb" <<<"$output")" -eq 2 ]
    grep -q "^|   0 *$gi       MIG 1c.3g.40gb       0         [0-9]          [0-9]:1     |$" <<<"$output"
    for l in "${lines[@]}"; do [ "${#l}" -eq 70 ]; done
}

@test "list -lcip: compute-instance profiles per GPU instance, free counts, '*' on the default" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb@4 >/dev/null
    gi=$("$MIGCTL" status -i 0 --json | jq -r '.gpus[0].gpu_instances[0].id')
    "$MIGCTL" create -i 0 --gi "$gi" 1c.3g.40gb >/dev/null
    run "$MIGCTL" list -lcip -i 0 -gi "$gi"
    [ "$status" -eq 0 ]
    [[ "$output" == *"| Compute instance profiles:"* ]]
    # one 1c taken: two more fit; the 2c still fits once; the full 3g no longer
    grep -q "MIG 1c.3g.40gb       0      2/3  " <<<"$output"
    grep -q "MIG 2c.3g.40gb       1      1/1  " <<<"$output"
    grep -q "MIG 3g.40gb          2\*     0/1  " <<<"$output"
    for l in "${lines[@]}"; do [ "${#l}" -eq 88 ]; done
    run "$MIGCTL" list --cip --json -i 0
    [ "$(jq -r '.compute_instance_profiles[] | select(.default) | .profile' <<<"$output")" = 3g.40gb ]
    # -lcipp: every placement of each CI profile in the GI, as -lgipp prints GI placements
    run "$MIGCTL" list -lcipp -i 0
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "GPU  0 GI  $gi Profile ID  0 Placements: {0,1,2}:1" ]
    [ "${lines[1]}" = "GPU  0 GI  $gi Profile ID  1 Placement : {0}:2" ]
    [ "${lines[2]}" = "GPU  0 GI  $gi Profile ID  2 Placement : {0}:3" ]
}

@test "--smi for several GPUs and models: one -lgip table, then every -lgipp line" {
    run "$MIGCTL" profiles --smi
    [ "$status" -eq 0 ]
    [ "$(grep -c '^|   [0-2]  MIG ' <<<"$output")" -eq $((7 + 7 + 7)) ]
    [ "$(grep -c '^GPU  2 Profile ID' <<<"$output")" -eq 7 ]
    [ "$(grep -c '^+---' <<<"$output")" -eq $((1 + 7 + 7 + 7)) ]
    run "$MIGCTL" profiles -i 0,2 --smi
    [ "$(grep -c '^GPU  1 ' <<<"$output")" -eq 0 ]
    [ "$(grep -c '^GPU  2 Profile ID' <<<"$output")" -eq 7 ]
    run "$MIGCTL" profiles --model A30-24GB,H100-SXM5-80GB --json
    [ "$(jq -c '[.profiles[].model]' <<<"$output")" = '["A30-24GB","H100-SXM5-80GB"]' ]
}

@test "-i takes an index, a UUID or a PCI bus id, in every verb" {
    u=$(uuid_of 1)
    bus=$(bus_of 1)
    short=${bus#00000000:}
    run "$MIGCTL" mode -i "$u" on
    [ "$status" -eq 0 ]
    [[ "$output" == *"GPU 1"* ]]
    run "$MIGCTL" create -i "$bus" -C 2g.20gb
    [ "$status" -eq 0 ]
    [ "$(gis_of 1)" = '["2g.20gb"]' ]
    [ "$("$MIGCTL" status -i "$short" --json | jq -r '.gpus[0].index')" = 1 ]
    [ "$("$MIGCTL" status -i "${short,,}" --json | jq -r '.gpus[0].index')" = 1 ]
    [ "$("$MIGCTL" profiles -i "$u" --json | jq -r '.gpu')" = 1 ]
    [ "$("$MIGCTL" list -i "$u" --json | jq -r '.gpus[0].index')" = 1 ]
    gi=$("$MIGCTL" status -i 1 --json | jq -r '.gpus[0].gpu_instances[0].id')
    run "$MIGCTL" sim procs -i "$u" --gi "$gi" --start
    [ "$status" -eq 0 ]
    "$MIGCTL" sim procs -i "$bus" --gi "$gi" --stop >/dev/null
    run "$MIGCTL" destroy -i "$u" --gi "$gi"
    [ "$status" -eq 0 ]
    [ "$(gis_of 1)" = '[]' ]
    # what matches nothing is bad input naming it
    run "$MIGCTL" status -i GPU-00000000-0000-0000-0000-000000000000
    [ "$status" -eq 2 ]
    [[ "$output" == *"no GPU has UUID"* ]]
    run "$MIGCTL" status -i 0000:99:00.0
    [ "$status" -eq 2 ]
    run "$MIGCTL" create -i 0,1 1g.10gb
    [ "$status" -eq 2 ]
}

@test "comma lists: profiles as nvidia-smi takes them, --gi 2,3" {
    "$MIGCTL" mode -i 0 on >/dev/null
    run "$MIGCTL" create -i 0 -C 1g.10gb,1g.10gb 2g.20gb
    [ "$status" -eq 0 ]
    [ "$(gis_of 0)" = '["1g.10gb","1g.10gb","2g.20gb"]' ]
    ids=$("$MIGCTL" status -i 0 --json | jq -r '[.gpus[0].gpu_instances[] | select(.profile=="1g.10gb") | .id] | join(",")')
    run "$MIGCTL" destroy -i 0 --gi "$ids"
    [ "$status" -eq 0 ]
    [ "$(gis_of 0)" = '["2g.20gb"]' ]
    run "$MIGCTL" status -i 0,2 --json
    [ "$(jq -c '[.gpus[].index]' <<<"$output")" = '[0,2]' ]
}

@test "nvidia-smi's 1g.10gb:2 gets a pointer to migctl's 1g.10gb@2, and nothing is created" {
    "$MIGCTL" mode -i 0 on >/dev/null
    run "$MIGCTL" create -i 0 1g.10gb:2
    [ "$status" -eq 2 ]
    [[ "$output" == *"'@'"* && "$output" == *"1g.10gb@2"* ]]
    [ "$(gis_of 0)" = '[]' ]
}

@test "create --gi: compute instances in an existing GPU instance, as nvidia-smi mig -cci -gi" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb 2g.20gb >/dev/null
    ids=$("$MIGCTL" status -i 0 --json | jq -r '[.gpus[0].gpu_instances[].id] | join(",")')
    # no profile: each GI's default CI
    run "$MIGCTL" create -i 0 --gi "$ids"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 2 ]
    [[ "$output" == *"using profile 3g.40gb (ID  2)"* && "$output" == *"using profile 2g.20gb (ID  1)"* ]]
    # a CI profile the GI cannot hold: bad input, nothing created
    gi3=$("$MIGCTL" status -i 0 --json | jq -r '.gpus[0].gpu_instances[] | select(.profile=="2g.20gb") | .id')
    before=$("$MIGCTL" status -i 0 --json | jq -c '[.gpus[0].gpu_instances[].compute_instances | length]')
    run "$MIGCTL" create -i 0 --gi "$gi3" 1c.3g.40gb
    [ "$status" -eq 2 ]
    [ "$("$MIGCTL" status -i 0 --json | jq -c '[.gpus[0].gpu_instances[].compute_instances | length]')" = "$before" ]
    run "$MIGCTL" create -i 0 --gi 99
    [ "$status" -eq 2 ]
    # -C with --gi reads as nvidia-smi's -cci: one more compute instance
    "$MIGCTL" destroy -i 0 --gi "$gi3" --ci 0 >/dev/null
    run "$MIGCTL" create -i 0 -C --gi "$gi3" 1c.2g.20gb
    [ "$status" -eq 0 ]
    [ "$("$MIGCTL" status -i 0 --json | jq -r ".gpus[0].gpu_instances[] | select(.id==$gi3) | .compute_instances[0].profile")" = 1c.2g.20gb ]
}

@test "destroy --all: every GPU instance; a busy one refuses the whole run without --force" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 -C 3g.40gb 2g.20gb 1g.10gb >/dev/null
    gi=$("$MIGCTL" status -i 0 --json | jq -r '.gpus[0].gpu_instances[] | select(.profile=="2g.20gb") | .id')
    "$MIGCTL" sim procs -i 0 --gi "$gi" --start >/dev/null
    run "$MIGCTL" destroy -i 0 --all
    [ "$status" -eq 1 ]
    [[ "$output" == *"busy"* ]]
    [ "$(gis_of 0)" = '["1g.10gb","2g.20gb","3g.40gb"]' ]
    "$MIGCTL" sim procs -i 0 --gi "$gi" --stop >/dev/null
    run "$MIGCTL" destroy -i 0 --all
    [ "$status" -eq 0 ]
    [ "$(grep -c '^Destroyed GPU instance' <<<"$output")" -eq 3 ]
    [ "$(gis_of 0)" = '[]' ]
    run "$MIGCTL" destroy -i 0 --all
    [ "$status" -eq 0 ]
}

@test "mode with no -i (or -i all) sets every GPU, as nvidia-smi -mig 1" {
    run "$MIGCTL" mode on
    [ "$status" -eq 0 ]
    [ "$(grep -c '^Enabled MIG mode on GPU' <<<"$output")" -eq 3 ]
    [ "$("$MIGCTL" status --json | jq -c '[.gpus[].mig.current]')" = '[true,true,true]' ]
    run "$MIGCTL" mode -i all off --json
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.gpus[].mig.current]' <<<"$output")" = '[false,false,false]' ]
    run "$MIGCTL" mode -i 0,2 on
    [ "$("$MIGCTL" status --json | jq -c '[.gpus[].mig.current]')" = '[true,false,true]' ]
}

@test "status and status --json show which pids run on which slice" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 -C 3g.40gb 1g.10gb >/dev/null
    gi=$("$MIGCTL" status -i 0 --json | jq -r '.gpus[0].gpu_instances[] | select(.profile=="3g.40gb") | .id')
    "$MIGCTL" sim procs -i 0 --gi "$gi" --start --count 2 >/dev/null
    "$MIGCTL" sim procs -i 1 --start >/dev/null
    run "$MIGCTL" status --json
    pids=$(jq -c ".gpus[0].gpu_instances[] | select(.id==$gi) | .compute_instances[0].pids" <<<"$output")
    [ "$(jq length <<<"$pids")" -eq 2 ]
    [ "$(jq -c ".gpus[0].gpu_instances[] | select(.id!=$gi) | .compute_instances[0].pids" <<<"$output")" = '[]' ]
    [ "$(jq '.gpus[1].pids | length' <<<"$output")" -eq 1 ]
    p1=$(jq '.[0]' <<<"$pids")
    p2=$(jq '.[1]' <<<"$pids")
    [ "$p1" != "$p2" ]
    run "$MIGCTL" status -i 0
    [[ "$output" == *"busy (2 processes: pid $p1, $p2)"* ]]
    run "$MIGCTL" status -i 1
    [[ "$output" == *"1 process: pid "*" on the whole GPU"* ]]
}

@test "create on a full GPU says what is still free" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 -C 3g.40gb@4 2g.20gb@0 1g.10gb@2 >/dev/null
    run "$MIGCTL" create -i 0 2g.20gb
    [ "$status" -eq 3 ]
    [[ "$output" == *"Insufficient Resources; still free on GPU 0: "*"1x 1g.10gb"* ]]
    [[ "$output" != *"2g.20gb,"* ]]
    "$MIGCTL" create -i 0 1g.10gb >/dev/null
    run "$MIGCTL" create -i 0 1g.10gb
    [ "$status" -eq 3 ]
    [[ "$output" == *"nothing is free on GPU 0"* ]]
}
