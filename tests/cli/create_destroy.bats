#!/usr/bin/env bats
# create_destroy.bats: `migctl create` and `migctl destroy` on a simulated
# 2x H100 node, on both backends: nvidia-smi-like lines, the driver's auto
# placement, stopping at the first failure, busy instances refused, and every
# bad input of issue 2 answered with one line, exit 2, and an unchanged file.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
}

checksum() { sha256sum "$MIGCTL_SIM_STATE" | cut -d' ' -f1; }
gis() { "$MIGCTL" status -i "${1:-0}" --json | jq -c '[.gpus[0].gpu_instances[] | {id, p: .profile, s: .placement.start, ci: (.compute_instances | length)}]'; }

@test "create and destroy --help" {
    run "$MIGCTL" create --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"PROFILE[@START]"* ]]
    run "$MIGCTL" destroy --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--force"* ]]
}

@test "create with -C prints nvidia-smi-like lines and the state follows" {
    run "$MIGCTL" create -i 0 3g.40gb@4 -C
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "Created GPU instance ID  2 on GPU  0 using profile 3g.40gb (ID  9) at 4:4" ]
    [ "${lines[1]}" = "Created compute instance ID  0 on GPU  0 GPU instance ID  2 using profile 3g.40gb (ID  2)" ]
    [ "$(gis)" = '[{"id":2,"p":"3g.40gb","s":4,"ci":1}]' ]
}

@test "profiles by numeric id; auto placement follows the driver (1g: 6,4,5,0,1,2,3)" {
    run "$MIGCTL" create -i 0 19 19 19 19 19 19 19
    [ "$status" -eq 0 ]
    # GI ids in creation order, as nvidia-smi showed them on an H100
    [ "$(grep -o 'instance ID *[0-9]*' <<<"$output" | awk '{print $3}' | tr '\n' ' ')" = "13 11 12 7 8 9 10 " ]
    [ "$(grep -o 'at [0-9]:1' <<<"$output" | tr '\n' ' ')" = "at 6:1 at 4:1 at 5:1 at 0:1 at 1:1 at 2:1 at 3:1 " ]
    run "$MIGCTL" create -i 0 1g.10gb
    [ "$status" -eq 3 ]
    [[ "$output" == *"nvmlDeviceCreateGpuInstance: Insufficient Resources"* ]]
}

@test "the first failure stops the run; what was created stays (the -cgi 19,19,14,9 quirk)" {
    run "$MIGCTL" create -i 0 1g.10gb 1g.10gb 2g.20gb 3g.40gb 1g.10gb
    [ "$status" -eq 3 ]
    [ "$(grep -c '^Created GPU instance' <<<"$output")" -eq 3 ]
    grep -q "create 3g.40gb: nvmlDeviceCreateGpuInstance: Insufficient Resources" <<<"$output"
    [ "$(gis | jq length)" -eq 3 ]
}

@test "an overlapping placement is refused by the driver: exit 3, NVML's message, state unchanged" {
    "$MIGCTL" create -i 0 3g.40gb@4 >/dev/null
    before=$(checksum)
    run "$MIGCTL" create -i 0 2g.20gb@4
    [ "$status" -eq 3 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"create 2g.20gb@4: nvmlDeviceCreateGpuInstanceWithPlacement: Insufficient Resources"* ]]
    [ "$(checksum)" = "$before" ]
}

@test "bad input: one line, exit 2, nothing created" {
    "$MIGCTL" create -i 0 1g.10gb >/dev/null
    before=$(checksum)
    for args in "5g.50gb" "3x.40gb" "1c.3g.40gb" "3g.40gb@2" "2g.20gb@1" "3g.40gb@" "77" "1g.10gb 3g.40gb@3"; do
        run "$MIGCTL" create -i 0 $args
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "$(checksum)" = "$before" ]
    done
    run "$MIGCTL" create -i 0 3g.40gb@2
    [[ "$output" == *"placement not allowed"*"0, 4"* ]]
    run "$MIGCTL" create -i 0 5g.50gb
    [[ "$output" == *"no profile"*"3g.40gb"* ]]
    run "$MIGCTL" create -i 0 1c.3g.40gb
    [[ "$output" == *"compute-instance profile"* ]]
    run "$MIGCTL" create -i 7 3g.40gb
    [ "$status" -eq 2 ]
    [[ "$output" == *"GPU index 7 out of range"* ]]
    run "$MIGCTL" create 3g.40gb
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl create: -i N (the GPU) is required" ]
    [ "$(checksum)" = "$before" ]
}

@test "create with MIG off: the driver's Not Supported and what to do" {
    before=$(checksum)
    run "$MIGCTL" create -i 1 3g.40gb
    [ "$status" -eq 3 ]
    [[ "$output" == *"nvmlDeviceCreateGpuInstance: Not Supported"* ]]
    [[ "$output" == *"migctl mode -i 1 on"* ]]
    [ "$(checksum)" = "$before" ]
}

@test "create --json lists what was created" {
    run "$MIGCTL" create -i 0 4g.40gb 3g.40gb -C --json
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.created[] | [.id, .profile, .placement.start, .placement.size]]' <<<"$output")" = '[[1,"4g.40gb",0,4],[2,"3g.40gb",4,4]]' ]
    [[ "$(jq -r '.created[1].compute_instances[0].uuid' <<<"$output")" == MIG-* ]]
    [ "$(jq -r .error <<<"$output")" = null ]
}

@test "destroy --gi destroys its compute instances, then the GPU instance" {
    "$MIGCTL" create -i 0 3g.40gb@4 4g.40gb@0 -C >/dev/null
    run "$MIGCTL" destroy -i 0 --gi 2
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "Destroyed compute instance ID  0 from GPU  0 GPU instance ID  2" ]
    [ "${lines[1]}" = "Destroyed GPU instance ID  2 from GPU  0" ]
    [ "$(gis)" = '[{"id":1,"p":"4g.40gb","s":0,"ci":1}]' ]
    run "$MIGCTL" destroy -i 0 --gi 1 --ci 0
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [ "$(gis)" = '[{"id":1,"p":"4g.40gb","s":0,"ci":0}]' ]
    run "$MIGCTL" destroy -i 0 --gi 1 --json
    [ "$status" -eq 0 ]
    [ "$(jq -c .destroyed <<<"$output")" = '[{"gi":1,"ci":null}]' ]
    [ "$(gis)" = '[]' ]
}

@test "a busy instance is refused; --force does not stop processes" {
    "$MIGCTL" create -i 0 2g.20gb -C >/dev/null
    "$MIGCTL" sim procs -i 0 --gi 5 --start >/dev/null
    before=$(checksum)
    run "$MIGCTL" destroy -i 0 --gi 5
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"busy"* ]]
    [ "$(checksum)" = "$before" ]
    run "$MIGCTL" destroy -i 0 --gi 5 --ci 0 --force
    [ "$status" -eq 3 ]
    [[ "$output" == *"nvmlComputeInstanceDestroy: In use by another client"* ]]
    [[ "$output" == *"--force does not stop processes"* ]]
    [ "$(gis)" = '[{"id":5,"p":"2g.20gb","s":4,"ci":1}]' ]
    "$MIGCTL" sim procs -i 0 --gi 5 --stop >/dev/null
    run "$MIGCTL" destroy -i 0 --gi 5
    [ "$status" -eq 0 ]
    [ "$(gis)" = '[]' ]
}

@test "destroy: unknown instances and missing arguments are bad input" {
    "$MIGCTL" create -i 0 3g.40gb@4 -C >/dev/null
    before=$(checksum)
    run "$MIGCTL" destroy -i 0 --gi 9
    [ "$status" -eq 2 ]
    [[ "$output" == *"GPU 0 has no GPU instance 9 (it has: 2)"* ]]
    run "$MIGCTL" destroy -i 0 --gi 2 --ci 3
    [ "$status" -eq 2 ]
    [[ "$output" == *"has no compute instance 3"* ]]
    run "$MIGCTL" destroy -i 4 --gi 2
    [ "$status" -eq 2 ]
    [[ "$output" == *"GPU index 4 out of range"* ]]
    run "$MIGCTL" destroy -i 0
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl destroy: -i GPU and --gi ID (or --all) are required" ]
    [ "$(checksum)" = "$before" ]
}

@test "create waits while an apply holds the lock, then goes on" {
    before=$(cksum < "$MIGCTL_SIM_STATE")
    lock="$MIGCTL_SIM_STATE.apply.lock"
    # Hold apply's lock the way a running apply does (flock on the same file).
    exec 9>"$lock"
    flock -n 9
    "$MIGCTL" create -i 0 1g.10gb >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
    creator=$!
    for i in $(seq 50); do grep -q "waiting for the lock" "$BATS_TEST_TMPDIR/err" && break; sleep 0.1; done
    grep -q "migctl: create: waiting for the lock" "$BATS_TEST_TMPDIR/err"
    [ "$(cksum < "$MIGCTL_SIM_STATE")" = "$before" ] # nothing changed while it waited
    kill -0 "$creator"
    flock -u 9
    exec 9>&-
    wait "$creator"
    [ "$("$MIGCTL" status --json | jq '.gpus[0].gpu_instances | length')" -eq 1 ]
}

@test "create, destroy and mode take --lock FILE as apply does" {
    own="$BATS_TEST_TMPDIR/locks"
    mkdir -m 0700 "$own"
    # the default lock held elsewhere does not stop a create given another one
    run flock "$MIGCTL_SIM_STATE.apply.lock" timeout 10 "$MIGCTL" create -i 0 1g.10gb \
        --lock "$own/apply.lock"
    [ "$status" -eq 0 ]
    [ -f "$own/apply.lock" ]
    # a lock in a directory anyone may write to is refused by every changing verb
    open="$BATS_TEST_TMPDIR/open"
    mkdir -m 0777 "$open"
    chmod 0777 "$open"
    before=$(checksum)
    for args in "create -i 0 1g.10gb" "destroy -i 0 --all" "mode -i 1 on"; do
        run "$MIGCTL" $args --lock "$open/apply.lock"
        [ "$status" -eq 2 ]
        [[ "$output" == *"refusing the lock directory $open: writable by everyone"* ]] ||
            { echo "$args: $output"; false; }
    done
    [ "$(checksum)" = "$before" ]
    [ ! -e "$open/apply.lock" ]
}
