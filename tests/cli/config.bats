#!/usr/bin/env bats
# config.bats: mig-parted v1 configs through the CLI: `generate-config`
# (its labels and counts checked against NVIDIA's own config-default.yaml,
# and every generated layout applied to simulated GPUs), and the parser's
# errors as a user meets them (exit 2, file:line:col, what was expected).

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    CONFIGS="$MIGCTL_TEST_DATA/configs"
}

# config-default.yaml's H100-80GB labels and counts, transcribed by hand.
H100_LABELS='["all-1g.10gb","all-1g.10gb.me","all-1g.20gb","all-2g.20gb","all-3g.40gb","all-4g.40gb","all-7g.80gb","all-balanced","all-disabled","all-enabled"]'

@test "generate-config --help exits 0" {
    run "$MIGCTL" generate-config --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: migctl generate-config"* ]]
    [[ "$output" == *"--model"* ]]
}

@test "generate-config --model H100: NVIDIA's labels and counts" {
    run "$MIGCTL" generate-config --model H100-SXM5-80GB -o json
    [ "$status" -eq 0 ]
    [ "$(jq -c '."mig-configs" | keys' <<<"$output")" = "$H100_LABELS" ]
    c='."mig-configs"'
    [ "$(jq -c "$c.\"all-balanced\"[0].\"mig-devices\"" <<<"$output")" = '{"1g.10gb":2,"2g.20gb":1,"3g.40gb":1}' ]
    [ "$(jq -c "$c.\"all-1g.10gb\"[0].\"mig-devices\"" <<<"$output")" = '{"1g.10gb":7}' ]
    [ "$(jq -c "$c.\"all-1g.10gb.me\"[0].\"mig-devices\"" <<<"$output")" = '{"1g.10gb+me":1}' ]
    [ "$(jq -c "$c.\"all-1g.20gb\"[0].\"mig-devices\"" <<<"$output")" = '{"1g.20gb":4}' ]
    [ "$(jq -c "$c.\"all-2g.20gb\"[0].\"mig-devices\"" <<<"$output")" = '{"2g.20gb":3}' ]
    [ "$(jq -c "$c.\"all-3g.40gb\"[0].\"mig-devices\"" <<<"$output")" = '{"3g.40gb":2}' ]
    [ "$(jq -c "$c.\"all-disabled\"" <<<"$output")" = '[{"devices":"all","mig-enabled":false}]' ]
    [ "$(jq -c "$c.\"all-enabled\"" <<<"$output")" = '[{"devices":"all","mig-enabled":true,"mig-devices":{}}]' ]
    # one model: no device-filter anywhere
    [ "$(jq '[.. | objects | has("device-filter")] | any' <<<"$output")" = false ]
}

@test "generate-config without --model uses the GPUs present" {
    run "$MIGCTL" generate-config
    [ "$status" -eq 0 ]
    [ "$output" = "$("$MIGCTL" generate-config --model H100-SXM5-80GB)" ]
}

@test "every generated layout applies on the simulated GPUs and exports back" {
    "$MIGCTL" generate-config --output "$BATS_TEST_TMPDIR/gen.yaml"
    labels=$("$MIGCTL" generate-config -o json | jq -r '."mig-configs" | keys[]')
    for label in $labels; do
        run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/gen.yaml" -c "$label"
        [ "$status" -eq 0 ] || { echo "apply $label: $output"; false; }
        want=$("$MIGCTL" generate-config -o json | jq -c ".\"mig-configs\".\"$label\"[0] | {e: .\"mig-enabled\", d: (.\"mig-devices\" // {})}")
        got=$("$MIGCTL" export -o json | jq -c '."mig-configs".current[0] | {e: ."mig-enabled", d: (."mig-devices" // {})}')
        [ "$got" = "$want" ] || { echo "$label: want $want got $got"; false; }
    done
}

@test "several models: device-filters, one entry per distinct count" {
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB,1xA100-SXM4-40GB --force >/dev/null
    run "$MIGCTL" generate-config -o json
    [ "$status" -eq 0 ]
    # all-1g.10gb: 7 on H100 (0x233010DE), 4 on A100-40GB (0x20B010DE), as in config-default.yaml
    e=$(jq -c '."mig-configs"."all-1g.10gb"' <<<"$output")
    [ "$(jq length <<<"$e")" -eq 2 ]
    [ "$(jq -c '[.[] | select(."device-filter" | index("0x233010DE")) | ."mig-devices"]' <<<"$e")" = '[{"1g.10gb":7}]' ]
    [ "$(jq -c '[.[] | select(."device-filter" | index("0x20B010DE")) | ."mig-devices"]' <<<"$e")" = '[{"1g.10gb":4}]' ]
    b=$(jq -c '."mig-configs"."all-balanced"' <<<"$output")
    [ "$(jq -c '[.[] | select(."device-filter" | index("0x20B010DE")) | ."mig-devices"]' <<<"$b")" = '[{"1g.5gb":2,"2g.10gb":1,"3g.20gb":1}]' ]
    # the same as naming the models
    [ "$output" = "$("$MIGCTL" generate-config -o json --model H100-SXM5-80GB --model A100-SXM4-40GB)" ]
}

@test "generate-config: unknown model and bad options exit 2" {
    run "$MIGCTL" generate-config --model H900
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown model 'H900'"* ]]
    run "$MIGCTL" generate-config -o toml
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl generate-config: unknown output format 'toml'; expected yaml or json" ]
    run "$MIGCTL" generate-config stray
    [ "$status" -eq 2 ]
    [ "${lines[0]}" = "migctl generate-config: unexpected argument 'stray'" ]
}

@test "NVIDIA's config-default.yaml is accepted unchanged" {
    run "$MIGCTL" apply --dry-run -f "$CONFIGS/config-default.yaml" -c all-balanced
    [ "$status" -eq 0 ]
    run "$MIGCTL" apply -f "$CONFIGS/config-default.yaml" -c all-balanced
    [ "$status" -eq 0 ]
    [ "$("$MIGCTL" export -o json | jq -c '."mig-configs".current[0]."mig-devices"')" = '{"1g.10gb":2,"2g.20gb":1,"3g.40gb":1}' ]
}

@test "a config error exits 2 naming file:line:col and what was expected" {
    run "$MIGCTL" apply --dry-run -f "$CONFIGS/invalid/devices-bare-int.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"devices-bare-int.yaml:4:16: devices: 7 is a single index; expected \"all\" or a list such as [7]"* ]]
    [ "$(grep -c . <<<"$output")" -eq 1 ]
    run "$MIGCTL" apply --dry-run -f "$CONFIGS/invalid/yaml-syntax.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"yaml-syntax.yaml:5:18: YAML syntax error"* ]]
    run "$MIGCTL" apply --dry-run -f "$CONFIGS/invalid/unknown-entry-key.yaml"
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown-entry-key.yaml:6:7: unknown key 'mig-device'"* ]]
}

@test "every invalid corpus file is refused with exit 2 and a position, none crash" {
    for f in "$CONFIGS"/invalid/*.yaml; do
        run "$MIGCTL" apply --dry-run -f "$f"
        [ "$status" -eq 2 ] || { echo "$f: status $status: $output"; false; }
        [[ "$output" == *"$(basename "$f"):"* ]] || { echo "$f: $output"; false; }
    done
}

@test "a config read from standard input reports <stdin> positions" {
    run bash -c "printf 'version: v3\nmig-configs: {}\n' | '$MIGCTL' apply --dry-run -f -"
    [ "$status" -eq 2 ]
    [[ "$output" == *"<stdin>:1:10: version is 'v3'; expected v1"* ]]
}
