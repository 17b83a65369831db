#!/usr/bin/env bats
# inputs.bats: every YAML input goes through one bounded reader
# (config/yamldoc.c over util/fileio.c; issue 13 item 3, issue 10 items 4
# and 5). -f CONFIG (apply, assert), -w WORKLOADS and -f FLEET (plan) and
# --hooks (apply) each refuse, in under a second, with exit 2 and a message
# that names the file and what is wrong:
#   a FIFO (no writer: a reader that blocked would hang forever),
#   /dev/zero (endless), a 100k-deep nesting, a 100 MB file (sparse).
# And the scalar rules are the same in every reader: a leading zero and a
# boolean in another case are refused alike.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    T="$BATS_TEST_TMPDIR"
    mkfifo "$T/fifo"
    # 100000 levels of flow lists: 200 kB, far under the size limit, so only
    # the depth limit can stop it.
    head -c 100000 /dev/zero | tr '\0' '[' >"$T/deep.yaml"
    truncate -s 100M "$T/big.yaml"
    cat >"$T/config.yaml" <<'YAML'
version: v1
mig-configs:
  all-disabled:
    - devices: all
      mig-enabled: false
YAML
    EX="$MIGCTL_SOURCE_DIR/examples"
}

# run the command; it must exit 2 within a second and say `words` on stderr.
refused_fast() {
    local words=$1
    shift
    local t0 t1
    t0=$(date +%s%N)
    run timeout 10 "$@"
    t1=$(date +%s%N)
    [ "$status" -eq 2 ] || { echo "exit $status: $output"; false; }
    [ $(((t1 - t0) / 1000000)) -lt 1000 ] || { echo "took $(((t1 - t0) / 1000000)) ms"; false; }
    [[ "$output" == *"$words"* ]] || { echo "no '$words' in: $output"; false; }
}

# Each bad input against each reader, with the words its refusal must carry.
bad_inputs() {
    local reader=$1
    shift
    refused_fast "$reader $T/fifo: is a FIFO, not a regular file" "$@" "$T/fifo"
    refused_fast "$reader /dev/zero: is a character device, not a regular file" "$@" /dev/zero
    refused_fast "$T/deep.yaml:1:33: nesting deeper than 32 levels" "$@" "$T/deep.yaml"
    refused_fast "$reader $T/big.yaml: 104857600 bytes, more than the limit of 4194304" "$@" "$T/big.yaml"
}

@test "-f CONFIG (apply and assert): FIFO, /dev/zero, 100k-deep, 100 MB refused fast" {
    bad_inputs "config file" "$MIGCTL" apply --dry-run -f
    bad_inputs "config file" "$MIGCTL" assert -f
}

@test "-w WORKLOADS (plan): FIFO, /dev/zero, 100k-deep, 100 MB refused fast" {
    bad_inputs "workloads file" "$MIGCTL" plan -f "$EX/fleet-h100.yaml" -w
}

@test "-f FLEET (plan): FIFO, /dev/zero, 100k-deep, 100 MB refused fast" {
    bad_inputs "fleet file" "$MIGCTL" plan -w "$EX/workloads-mix.yaml" -f
}

@test "--hooks (apply): FIFO, /dev/zero, 100k-deep, 100 MB refused fast" {
    bad_inputs "hooks file" "$MIGCTL" apply --dry-run -f "$T/config.yaml" --hooks
}

@test "a leading zero is refused alike in a config count, replicas and a fleet count" {
    cat >"$T/c.yaml" <<'YAML'
version: v1
mig-configs:
  x:
    - devices: all
      mig-enabled: true
      mig-devices:
        "1g.10gb": 07
YAML
    run "$MIGCTL" apply --dry-run -f "$T/c.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"$T/c.yaml:7:20: the count of 1g.10gb '07' has a leading zero; expected a decimal integer"* ]]
    printf 'workloads:\n  - name: a\n    replicas: 010\n' >"$T/w.yaml"
    run "$MIGCTL" plan -w "$T/w.yaml" -f "$EX/fleet-h100.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"$T/w.yaml:3:15: replicas '010' has a leading zero; expected a decimal integer"* ]]
    printf 'nodes:\n  - name: n\n    gpus:\n      - {model: H100-SXM5-80GB, count: 02}\n' >"$T/f.yaml"
    run "$MIGCTL" plan -w "$EX/workloads-mix.yaml" -f "$T/f.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"$T/f.yaml:4:40: count '02' has a leading zero; expected a decimal integer"* ]]
}

@test "booleans one way: tRuE is refused in a config and in workloads, True accepted in both" {
    sed 's/mig-enabled: false/mig-enabled: fAlSe/' "$T/config.yaml" >"$T/c.yaml"
    run "$MIGCTL" apply --dry-run -f "$T/c.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"$T/c.yaml:5:20: mig-enabled is 'fAlSe'; expected true or false"* ]]
    printf 'workloads:\n  - {name: a, memory: 5GiB, p2p: tRuE}\n' >"$T/w.yaml"
    run "$MIGCTL" plan -w "$T/w.yaml" -f "$EX/fleet-h100.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"$T/w.yaml:2:34: p2p is 'tRuE'; expected true or false"* ]]
    printf 'workloads:\n  - {name: a, memory: 5GiB, p2p: True}\n' >"$T/w.yaml"
    run "$MIGCTL" plan -w "$T/w.yaml" -f "$EX/fleet-h100.yaml"
    [ "$status" -eq 0 ]
}
