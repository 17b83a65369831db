#!/usr/bin/env bats
# render.bats: one renderer (cli/render.c) for every slot map. `status` and
# `apply --dry-run` draw the same GPU with the same cells: the same index
# line, and box edges ('[' and ']') at the same columns in status's bar and
# the plan's "before" bar (issue 13 item 1; they used to draw a 4-slice A30
# with 18 and 12 columns per slice). And no ANSI escape below cli/.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
}

# The columns of the box edges of a bar line, as "7 42 43 60 ...".
edges() {
    awk '{ s = ""; for (i = 1; i <= length($0); i++) { c = substr($0, i, 1);
           if (c == "[" || c == "]") s = s " " i } print s }' <<<"$1"
}

same_cells() {
    local model=$1 profiles=$2 target=$3
    "$MIGCTL" sim init --force --gpus "1x$model" >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 -C $profiles >/dev/null
    cat >"$BATS_TEST_TMPDIR/c.yaml" <<YAML
version: v1
mig-configs:
  target:
    - devices: all
      mig-enabled: true
      mig-devices:
        $target
YAML
    run "$MIGCTL" status
    [ "$status" -eq 0 ]
    local s_index s_bar p_index p_before p_after
    s_index=$(grep -m1 -E '^ {7}0 ' <<<"$output")
    s_bar=$(grep -m1 -E '^ {7}\[' <<<"$output")
    run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/c.yaml" --dry-run
    [ "$status" -eq 0 ]
    p_index=$(grep -m1 -E '^ {7}0 ' <<<"$output")
    p_before=$(grep -m1 '^before ' <<<"$output")
    p_after=$(grep -m1 '^after  ' <<<"$output")
    [ -n "$s_bar" ] && [ -n "$p_before" ] && [ -n "$p_after" ]
    [ "$s_index" = "$p_index" ]
    [ "${#s_bar}" -eq "${#p_before}" ]
    [ "${#s_bar}" -eq "${#p_after}" ]
    [ "$(edges "$s_bar")" = "$(edges "$p_before")" ] || {
        echo "status: $s_bar"; echo "plan:   $p_before"; false; }
}

@test "an A30 (4 slices): status and apply --dry-run draw the same cells" {
    same_cells A30-24GB "2g.12gb 1g.6gb" '"2g.12gb": 2'
    # 18 columns per slice in both
    run "$MIGCTL" status
    grep -qE '^ {7}0 {17}1 {17}2 {17}3$' <<<"$output"
}

@test "an H100 (8 slices) and an A100 also draw the same cells in both" {
    same_cells H100-SXM5-80GB "3g.40gb 1g.10gb 1g.10gb" '"7g.80gb": 1'
    same_cells A100-SXM4-40GB "4g.20gb 2g.10gb" '"1g.5gb": 7'
}

@test "no ANSI escape outside cli/, and no getenv/setenv below cli/ outside the shim" {
    [ -n "$MIGCTL_SOURCE_DIR" ] || skip "MIGCTL_SOURCE_DIR not set"
    cd "$MIGCTL_SOURCE_DIR"
    run grep -rlE '\\033|\\x1b|\\e\[' util model gpu config plan apply
    [ "$status" -eq 1 ] || { echo "$output"; false; }
    run grep -rlE '\b(getenv|setenv|secure_getenv|putenv)\(' util model gpu config plan
    [ "$status" -eq 1 ] || { echo "$output"; false; }
}
