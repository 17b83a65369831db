#!/usr/bin/env bats
# assert.bats: `migctl assert` on a simulated node of two H100s, read
# through whichever backend the run uses (sim, or nvml over the shim).
# Exit 0 when every GPU the config selects matches, 1 with a per-GPU drift
# report, 2 on bad input with file:line:col; GPUs the config does not
# select are ignored; --placements also compares pinned placements.

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" mode -i 1 on >/dev/null
    CFG="$BATS_TEST_TMPDIR/config.yaml"
}

# A config named "c" with one entry: $1 = devices, $2 = mig-devices lines.
config() {
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: %s\n      mig-enabled: true\n      mig-devices:\n%s\n' \
        "$1" "$2" >"$CFG"
}

balanced='        "1g.10gb": 2
        "2g.20gb": 1
        "3g.40gb": 1'

@test "a matching GPU asserts: exit 0, GPUs the config does not name are ignored" {
    "$MIGCTL" create -i 0 -C 3g.40gb 2g.20gb 1g.10gb 1g.10gb >/dev/null
    "$MIGCTL" create -i 1 -C 7g.80gb >/dev/null
    config "[0]" "$balanced"
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 0 ]
    [[ "$output" == *"GPU 0: ok (2x1g.10gb + 1x2g.20gb + 1x3g.40gb)"* ]]
    [[ "$output" != *"GPU 1"* ]]
    # The same counts on every GPU do not hold: GPU 1 has a 7g.
    config "all" "$balanced"
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 1 ]
    [[ "$output" == *"GPU 0: ok"* ]]
    [[ "$output" == *"GPU 1: has 1x7g.80gb, wants 2x1g.10gb + 1x2g.20gb + 1x3g.40gb"* ]]
}

@test "drift: exit 1 with the per-GPU report of the issue" {
    "$MIGCTL" create -i 0 -C 1g.10gb 1g.10gb 1g.10gb 1g.10gb 1g.10gb 1g.10gb 1g.10gb >/dev/null
    config "[0]" "$balanced"
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 1 ]
    [[ "$output" == *"GPU 0: has 7x1g.10gb, wants 2x1g.10gb + 1x2g.20gb + 1x3g.40gb"* ]]
    [[ "$output" == *"1 of 1 selected GPU drifts"* ]]
    run "$MIGCTL" assert -f "$CFG" --json
    [ "$status" -eq 1 ]
    [ "$(jq -r .result <<<"$output")" = drift ]
    [ "$(jq -r '.gpus[0].match' <<<"$output")" = false ]
    [ "$(jq -r '.gpus[0].has' <<<"$output")" = "7x1g.10gb" ]
    [ "$(jq -r '.gpus[1].selected' <<<"$output")" = false ]
}

@test "--placements tells placements apart that counts do not" {
    "$MIGCTL" create -i 0 -C 3g.40gb@0 >/dev/null
    config "[0]" '        "3g.40gb@4": 1'
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 0 ]
    run "$MIGCTL" assert -f "$CFG" --placements
    [ "$status" -eq 1 ]
    [[ "$output" == *"GPU 0: placements differ: has 3g.40gb@0; wants 3g.40gb@4"* ]]
    config "[0]" '        "3g.40gb@0": 1'
    run "$MIGCTL" assert -f "$CFG" --placements --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .result <<<"$output")" = match ]
    [ "$(jq -r .placements <<<"$output")" = true ]
}

@test "MIG mode differences and configs that select no GPU" {
    printf 'version: v1\nmig-configs:\n  off:\n    - devices: [1]\n      mig-enabled: false\n  none:\n    - devices: [5]\n      mig-enabled: false\n' >"$CFG"
    run "$MIGCTL" assert -f "$CFG" -c off
    [ "$status" -eq 1 ]
    [[ "$output" == *"GPU 1: MIG mode is on, wants off"* ]]
    "$MIGCTL" mode -i 1 off >/dev/null
    run "$MIGCTL" assert -f "$CFG" -c off
    [ "$status" -eq 0 ]
    run "$MIGCTL" assert -f "$CFG" -c none
    [ "$status" -eq 1 ]
    [[ "$output" == *"selects no GPU"* ]]
}

@test "busy instances are only read: assert changes nothing" {
    "$MIGCTL" create -i 0 -C 4g.40gb >/dev/null
    "$MIGCTL" sim procs -i 0 --gi 1 --start >/dev/null
    before=$("$MIGCTL" status --json | jq -c '.gpus[0].gpu_instances')
    config "[0]" "$balanced"
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 1 ]
    [[ "$output" == *"GPU 0: has 1x4g.40gb, wants"* ]]
    [ "$("$MIGCTL" status --json | jq -c '.gpus[0].gpu_instances')" = "$before" ]
}

@test "a layout that cannot exist is drift naming the conflicting keys" {
    config "[0]" '        "3g.40gb": 2
        "4g.40gb": 1'
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 1 ]
    [[ "$output" == *'GPU 0: impossible: cannot fit on H100-SXM5-80GB: "3g.40gb": 2 (7:9) + "4g.40gb": 1 (8:9)'* ]]
}

@test "bad input exits 2 with file:line:col" {
    config "[0]" '        "1g.10gb": 1
        "1g.5gb": 2'
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 2 ]
    [[ "$output" == *"$CFG:8:9: "*"1g.5gb"* ]]
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: [0]\n      mig-enabled: true\n      bogus: 1\n      mig-devices: {}\n' >"$CFG"
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 2 ]
    [[ "$output" == *"$CFG:6:"* ]]
    run "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/missing.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"config file $BATS_TEST_TMPDIR/missing.yaml: No such file or directory"* ]]
    run "$MIGCTL" assert
    [ "$status" -eq 2 ]
    [[ "$output" == *"-f FILE is required"* ]]
    run "$MIGCTL" assert -f "$CFG" --bogus
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl assert: unknown option '--bogus'" ]
}

@test "config from standard input, named configs, --help" {
    "$MIGCTL" create -i 0 -C 7g.80gb >/dev/null
    printf 'version: v1\nmig-configs:\n  a:\n    - devices: [0]\n      mig-enabled: true\n      mig-devices: {"7g.80gb": 1}\n  b:\n    - devices: [0]\n      mig-enabled: true\n      mig-devices: {"1g.10gb": 7}\n' >"$CFG"
    run "$MIGCTL" assert -f - -c a <"$CFG"
    [ "$status" -eq 0 ]
    run "$MIGCTL" assert -f "$CFG" -c b
    [ "$status" -eq 1 ]
    run "$MIGCTL" assert -f "$CFG"
    [ "$status" -eq 2 ]
    [[ "$output" == *"has 2 configs"* ]]
    run "$MIGCTL" assert --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: migctl assert -f FILE"* ]]
}

@test "apply and assert agree on compute-instance keys and pins" {
    data="$MIGCTL_TEST_DATA/reconcile/ci-keys.yaml"
    lock=(--journal "$BATS_TEST_TMPDIR/journal" --lock "$BATS_TEST_TMPDIR/lock")
    run "$MIGCTL" assert -f "$data" -c mixed
    [ "$status" -eq 1 ]
    run "$MIGCTL" apply -f "$data" -c mixed "${lock[@]}"
    [ "$status" -eq 0 ]
    run "$MIGCTL" assert -f "$data" -c mixed --placements
    [ "$status" -eq 0 ]
    [[ "$output" == *"GPU 0: ok (1x1g.10gb + 2x1c.2g.20gb + 1x3g.40gb)"* ]]
    [[ "$output" == *"GPU 1: ok (2x1c.7g.80gb + 1x2c.7g.80gb + 1x3c.7g.80gb)"* ]]
    # One 2g GI holds both 1c CIs, one 7g GI holds all four.
    [ "$("$MIGCTL" status --json | jq '[.gpus[0].gpu_instances[] | select(.profile == "2g.20gb")] | length')" -eq 1 ]
    [ "$("$MIGCTL" status --json | jq '.gpus[1].gpu_instances[0].compute_instances | length')" -eq 4 ]
    out=$("$MIGCTL" apply -f "$data" -c mixed --json "${lock[@]}" 2>/dev/null)
    [ "$(jq -r .result <<<"$out")" = unchanged ]
    [ "$(jq '.operations | length' <<<"$out")" -eq 0 ]
    # "moved" has the same counts: only --placements sees the difference.
    run "$MIGCTL" assert -f "$data" -c moved
    [ "$status" -eq 0 ]
    run "$MIGCTL" assert -f "$data" -c moved --placements
    [ "$status" -eq 1 ]
    [[ "$output" == *"placements differ: has "*"3g.40gb@0"*"wants 3g.40gb@4"* ]]
}

@test "a config whose entries both select one GPU is refused by assert and apply, naming both lines" {
  cat > "$BATS_TEST_TMPDIR/overlap.yaml" <<'YAML'
version: v1
mig-configs:
  x:
    - devices: all
      mig-enabled: true
      mig-devices: {"1g.10gb": 7}
    - devices: [0]
      mig-enabled: false
YAML
  run "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/overlap.yaml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"overlap.yaml"*"lines 4 and 7 both select GPU 0"* ]]
  before=$(cksum < "$MIGCTL_SIM_STATE")
  run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/overlap.yaml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"lines 4 and 7 both select GPU 0"* ]]
  [ "$(cksum < "$MIGCTL_SIM_STATE")" = "$before" ]
}

@test "apply and assert warn about selectors that name GPUs this node does not have" {
  cat > "$BATS_TEST_TMPDIR/far.yaml" <<'YAML'
version: v1
mig-configs:
  x:
    - devices: [0, 5]
      mig-enabled: true
      mig-devices: {"3g.40gb": 2}
    - uuids: ["GPU-00000000-0000-0000-0000-000000000000"]
      mig-enabled: false
YAML
  run --separate-stderr "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/far.yaml"
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"warning: $BATS_TEST_TMPDIR/far.yaml:4:"*"devices names GPU 5; this node has 2 GPUs"* ]]
  [[ "$stderr" == *"far.yaml:7:"*"no GPU of this node has UUID GPU-00000000"* ]]
  run --separate-stderr "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/far.yaml"
  [ "$status" -eq 0 ]
  [[ "$stderr" == *"devices names GPU 5"* ]]
  run "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/far.yaml"
  [ "$status" -eq 0 ]
}
