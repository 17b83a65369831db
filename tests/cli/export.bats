#!/usr/bin/env bats
# export.bats: `migctl export`, the live layout as a v1 config. The layouts
# are made with `mode` and `create` and read back with `status --json`, so the
# expectations come from the GPUs, not from export's own code; the strongest
# check is the round trip: export, wipe the GPUs, apply the export, export
# again, and get the same file.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
}

# GPU 0: 3g@4, 2g@0, 1g@2 (each with its default CI); GPU 1: 7g.
make_layout() {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" mode -i 1 on >/dev/null
    "$MIGCTL" create -i 0 -C 3g.40gb@4 2g.20gb@0 1g.10gb@2 >/dev/null
    "$MIGCTL" create -i 1 -C 7g.80gb >/dev/null
}

@test "--help describes the verb and exits 0" {
    run "$MIGCTL" export --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: migctl export"* ]]
    [[ "$output" == *"--placements"* ]]
}

@test "GPUs with MIG off export as one all-disabled entry labelled current" {
    run "$MIGCTL" export -o json
    [ "$status" -eq 0 ]
    [ "$(jq -c '."mig-configs" | keys' <<<"$output")" = '["current"]' ]
    [ "$(jq -c '."mig-configs".current' <<<"$output")" = '[{"devices":"all","mig-enabled":false}]' ]
    [ "$(jq -r .version <<<"$output")" = v1 ]
}

@test "different layouts get one entry per GPU with the counts status shows" {
    make_layout
    run "$MIGCTL" export --json
    [ "$status" -eq 0 ]
    entries=$(jq -c '."mig-configs".current' <<<"$output")
    [ "$(jq length <<<"$entries")" -eq 2 ]
    [ "$(jq -c '.[0].devices' <<<"$entries")" = '[0]' ]
    [ "$(jq -c '.[1].devices' <<<"$entries")" = '[1]' ]
    # the profile counts, compared with the GIs status reports on each GPU
    status_json=$("$MIGCTL" status --json)
    for i in 0 1; do
        want=$(jq -c "[.gpus[$i].gpu_instances[].profile] | group_by(.) | map({(.[0]): length}) | add" <<<"$status_json")
        got=$(jq -c ".[$i].\"mig-devices\" | to_entries | sort_by(.key) | from_entries" <<<"$entries")
        [ "$got" = "$want" ]
    done
    # no device-filter: one model only
    [ "$(jq '[.[] | has("device-filter")] | any' <<<"$entries")" = false ]
}

@test "--placements pins every GPU instance where status says it is" {
    make_layout
    run "$MIGCTL" export --placements -o json
    [ "$status" -eq 0 ]
    want=$("$MIGCTL" status --json | jq -c '[.gpus[0].gpu_instances[] | "\(.profile)@\(.placement.start)"] | sort')
    got=$(jq -c '[."mig-configs".current[0]."mig-devices" | keys[]] | sort' <<<"$output")
    [ "$got" = "$want" ]
    [ "$got" = '["1g.10gb@2","2g.20gb@0","3g.40gb@4"]' ]
}

@test "identical layouts merge into devices: all (YAML output)" {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" mode -i 1 on >/dev/null
    "$MIGCTL" create -i 0 -C 4g.40gb 3g.40gb >/dev/null
    "$MIGCTL" create -i 1 -C 3g.40gb 4g.40gb >/dev/null
    run "$MIGCTL" export
    [ "$status" -eq 0 ]
    [ "$(grep -c -- '- devices: all' <<<"$output")" -eq 1 ]
    grep -q '"3g.40gb": 1' <<<"$output"
    grep -q '"4g.40gb": 1' <<<"$output"
    [ "${lines[0]}" = "version: v1" ]
}

@test "export, wipe, apply, export again: the same config (counts and placements)" {
    make_layout
    for flag in "" --placements; do
        "$MIGCTL" export $flag --output "$BATS_TEST_TMPDIR/before.yaml"
        cp "$MIGCTL_SIM_STATE" "$BATS_TEST_TMPDIR/keep.json"
        "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB --force >/dev/null
        run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/before.yaml"
        [ "$status" -eq 0 ]
        run "$MIGCTL" export $flag
        [ "$status" -eq 0 ]
        [ "$output" = "$(cat "$BATS_TEST_TMPDIR/before.yaml")" ]
        cp "$BATS_TEST_TMPDIR/keep.json" "$MIGCTL_SIM_STATE"
    done
    # applying its own export to the original GPUs changes nothing
    out=$("$MIGCTL" apply --json -f "$BATS_TEST_TMPDIR/before.yaml" 2>/dev/null)
    [ "$(jq -r .result <<<"$out")" = unchanged ]
}

@test "compute instances export as CI-profile keys and round-trip through apply" {
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: [0]\n      mig-enabled: true\n      mig-devices:\n        "1c.3g.40gb": 1\n        "2c.3g.40gb": 1\n        "3g.40gb": 1\n' >"$BATS_TEST_TMPDIR/ci.yaml"
    run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/ci.yaml"
    [ "$status" -eq 0 ]
    run "$MIGCTL" export -o json
    [ "$status" -eq 0 ]
    [ "$(jq -c '."mig-configs".current[0]."mig-devices"' <<<"$output")" = '{"1c.3g.40gb":1,"2c.3g.40gb":1,"3g.40gb":1}' ]
    # placements keep the two CIs in the GI they share, wherever status puts it
    start=$("$MIGCTL" status --json | jq '.gpus[0].gpu_instances[] | select(.compute_instances | length == 2) | .placement.start')
    "$MIGCTL" export --placements -o json >"$BATS_TEST_TMPDIR/p.json"
    [ "$(jq ".\"mig-configs\".current[0].\"mig-devices\".\"1c.3g.40gb@$start\"" "$BATS_TEST_TMPDIR/p.json")" = 1 ]
    [ "$(jq ".\"mig-configs\".current[0].\"mig-devices\".\"2c.3g.40gb@$start\"" "$BATS_TEST_TMPDIR/p.json")" = 1 ]
    out=$("$MIGCTL" apply --json -f "$BATS_TEST_TMPDIR/p.json" 2>/dev/null)
    [ "$(jq -r .result <<<"$out")" = unchanged ]
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB --force >/dev/null
    run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/p.json"
    [ "$status" -eq 0 ]
    [ "$("$MIGCTL" export --placements -o json)" = "$(cat "$BATS_TEST_TMPDIR/p.json")" ]
}

@test "several models: partial entries carry the device-filter status reports" {
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB,1xA100-SXM4-40GB --force >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 -C 7g.80gb >/dev/null
    run "$MIGCTL" export -o json
    [ "$status" -eq 0 ]
    ids=$("$MIGCTL" status --json | jq -c '[.gpus[].pci_device_id]')
    [ "$(jq -c '[."mig-configs".current[]."device-filter"[0]]' <<<"$output")" = "$ids" ]
    [ "$(jq -c '[."mig-configs".current[]."mig-enabled"]' <<<"$output")" = '[true,false]' ]
}

@test "-l names the config; --output writes what stdout would show" {
    make_layout
    run "$MIGCTL" export -l node-7 --output "$BATS_TEST_TMPDIR/out.yaml"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    grep -q '^  node-7:$' "$BATS_TEST_TMPDIR/out.yaml"
    [ "$("$MIGCTL" export -l node-7)" = "$(cat "$BATS_TEST_TMPDIR/out.yaml")" ]
}

@test "bad options: exit 2 with a usage message" {
    run "$MIGCTL" export -o xml
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown output format 'xml'; expected yaml or json"* ]]
    run "$MIGCTL" export --frobnicate
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown option '--frobnicate'"* ]]
    run "$MIGCTL" export extra
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl export: unexpected argument 'extra'" ]
    run "$MIGCTL" export -l ""
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl export: empty config label" ]
    run "$MIGCTL" export --output
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl export: --output needs a value" ]
}

@test "an unwritable --output fails cleanly and leaves no file" {
    run "$MIGCTL" export --output "$BATS_TEST_TMPDIR/no/such/dir/out.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"cannot write"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/no/such/dir/out.yaml" ]
}

@test "a missing simulator state is an error, not an empty config" {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/missing.json"
    run "$MIGCTL" export
    [ "$status" -ne 0 ]
    [[ "$output" == *"missing.json"* ]]
    [[ "$output" != *"version: v1"* ]]
}

@test "export --output replaces the file whole and leaves no temporary file beside it" {
  echo "old content" > "$BATS_TEST_TMPDIR/out.yaml"
  run "$MIGCTL" export --output "$BATS_TEST_TMPDIR/out.yaml"
  [ "$status" -eq 0 ]
  grep -q "^version: v1" "$BATS_TEST_TMPDIR/out.yaml"
  ! grep -q "old content" "$BATS_TEST_TMPDIR/out.yaml"
  [ -z "$(ls "$BATS_TEST_TMPDIR" | grep '\.tmp\.')" ]
}
