#!/usr/bin/env bats
# plan.bats: `migctl plan` and `migctl replan` end to end: decisions and
# packing of the field guide's cases on an H100 and an H200 node (--json
# contract), emitted configs that `migctl apply` accepts and builds on a
# simulated node of the same fleet, online placement (--add) that moves
# nothing, replan with 0 and 1 drains, --live, and bad input with file:line:col.

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    EX="$MIGCTL_SOURCE_DIR/examples"
}

decision() { # JSON, workload -> "kind profile"
    jq -r --arg w "$2" '.decisions[] | select(.workload == $w) | "\(.kind) \(.profile)"' <<<"$1"
}

@test "plan and replan have --help" {
    run "$MIGCTL" plan --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--emit-config DIR"* ]]
    run "$MIGCTL" replan --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"fewest GPUs drained"* ]]
}

@test "plan --json on an H100 node: decisions with reasons, layouts, bound" {
    run -0 "$MIGCTL" plan -w "$EX/workloads-field-guide.yaml" -f "$EX/fleet-h100.yaml" --json
    j="$output"
    [ "$(decision "$j" inference-12gb)" = "mig 1g.20gb" ]
    [ "$(decision "$j" finetune-7b)" = "mig 3g.40gb" ]
    [ "$(decision "$j" train-13b-bf16)" = "whole-gpu whole" ]
    [ "$(decision "$j" nvlink-p2p-job)" = "whole-gpu whole" ]
    [ "$(decision "$j" llama-70b-int4)" = "whole-gpu whole" ]
    [ "$(decision "$j" team-notebooks)" = "mps mps" ]
    # every decision has a reason in words
    [ "$(jq '[.decisions[] | select((.reason | length) < 20)] | length' <<<"$j")" -eq 0 ]
    used=$(jq .gpus_used <<<"$j")
    lb=$(jq .lower_bound <<<"$j")
    [ "$lb" -le "$used" ]
    [ "$used" -le 8 ]
    [ "$(jq '.gpus | length' <<<"$j")" -eq "$used" ]
    [ "$(jq -r '.gpus[0] | "\(.node) \(.index) \(.model)"' <<<"$j")" = "h100-node 0 H100-SXM5-80GB" ]
    # the p2p job got two whole GPUs, never a slice
    [ "$(jq '[.gpus[] | select(.use == "whole-gpu") | .workloads[] | select(.workload == "nvlink-p2p-job")] | length' <<<"$j")" -eq 2 ]
    # 7 replicas of 12 GB on 1g.20gb slices, each named with its placement
    [ "$(jq '[.gpus[].workloads[] | select(.workload == "inference-12gb") | .placement] | map(select(startswith("1g.20gb@"))) | length' <<<"$j")" -eq 7 ]
    [ "$(jq .unplaced <<<"$j")" -eq 0 ]
}

@test "plan on an H200 node decides per model: 1g.18gb, 3g.71gb" {
    run -0 "$MIGCTL" plan -w "$EX/workloads-field-guide.yaml" -f "$EX/fleet-h200.yaml" --json
    [ "$(decision "$output" inference-12gb)" = "mig 1g.18gb" ]
    [ "$(decision "$output" finetune-7b)" = "mig 3g.71gb" ]
    [ "$(decision "$output" train-13b-bf16)" = "whole-gpu whole" ]
}

@test "plan text output shows reasons and the packing summary" {
    run -0 "$MIGCTL" plan -w "$EX/workloads-field-guide.yaml" -f "$EX/fleet-h100.yaml"
    [[ "$output" == *"needs NVLink/PCIe peer-to-peer"* ]]
    [[ "$output" == *"throughput per GPU is better on the whole card: 1000 vs 200"* ]]
    [[ "$output" == *"lower bound"* ]]
    [[ "$output" == *"h100-node/0"* ]]
}

@test "emitted configs parse, apply on a simulated node and then assert" {
    "$MIGCTL" sim init --gpus 8xH100-SXM5-80GB >/dev/null
    run -0 "$MIGCTL" plan -w "$EX/workloads-field-guide.yaml" -f "$EX/fleet-h100.yaml" \
        --emit-config "$BATS_TEST_TMPDIR/out" --json
    plan="$output"
    cfg="$BATS_TEST_TMPDIR/out/h100-node.yaml"
    [ -f "$cfg" ]
    grep -q 'version: v1' "$cfg"
    run -0 "$MIGCTL" apply -f "$cfg" --dry-run
    run -0 "$MIGCTL" apply -f "$cfg"
    run -0 "$MIGCTL" assert -f "$cfg"
    # the GPUs hold exactly the planned layouts
    for i in $(jq -r '.gpus[] | select(.use == "mig") | .index' <<<"$plan"); do
        want=$(jq -r --argjson i "$i" '.gpus[] | select(.index == $i) | .layout | sort | join(" ")' <<<"$plan")
        got=$("$MIGCTL" status --json | jq -r --argjson i "$i" \
            '[.gpus[$i].gpu_instances[] | "\(.profile)@\(.placement.start)"] | sort | join(" ")')
        [ "$want" = "$got" ]
    done
}

@test "a mixed fleet gets one config per node" {
    run -0 "$MIGCTL" plan -w "$EX/workloads-mix.yaml" -f "$EX/fleet-mix.yaml" \
        --emit-config "$BATS_TEST_TMPDIR/mix" --json
    [ "$(jq '.lower_bound <= .gpus_used' <<<"$output")" = "true" ]
    [ -f "$BATS_TEST_TMPDIR/mix/h100-01.yaml" ]
    [ -f "$BATS_TEST_TMPDIR/mix/h200-01.yaml" ]
    "$MIGCTL" sim init --gpus 8xH200-SXM-141GB >/dev/null
    run -0 "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/mix/h200-01.yaml" --dry-run
}

@test "a fleet too small: exit 1 and the unplaced instances listed" {
    run -1 "$MIGCTL" plan -w "$EX/workloads-mix.yaml" -f "$EX/fleet-h100.yaml" --json
    [ "$(jq '.unplaced > 0' <<<"$output")" = "true" ]
    [ "$(jq -r '.unplaced_instances[0].why' <<<"$output")" = "the fleet is full" ]
}

@test "plan --add places arrivals into free slots without moving anything" {
    run -0 "$MIGCTL" plan --add "$EX/arrivals.yaml" -f "$EX/fleet-h100-running.yaml" --json
    [ "$(jq .placed <<<"$output")" -eq 4 ]
    [ "$(jq -r '.placements[] | select(.workload == "new-video") | .placement' <<<"$output")" = "1g.10gb+me@1" ]
    [ "$(jq .unplaced <<<"$output")" -eq 0 ]
    # every GPU still has every instance it had
    run -0 "$MIGCTL" plan --add "$EX/arrivals.yaml" -f "$EX/fleet-h100-running.yaml" --json
    [ "$(jq -r '.gpus[] | select(.index == 1) | .layout | index("4g.40gb@0") != null' <<<"$output")" = "true" ]
}

@test "replan: demand that fits idle instances drains nothing" {
    run -0 "$MIGCTL" replan -w "$EX/workloads-replan.yaml" -f "$EX/fleet-h100-running.yaml" --json
    [ "$(jq .gpus_drained <<<"$output")" -eq 0 ]
    [ "$(jq .operations <<<"$output")" -eq 0 ]
    [ "$(jq .already_running <<<"$output")" -eq 5 ]
}

@test "replan: one more 3g.40gb drains one GPU and names what moves" {
    run -0 "$MIGCTL" replan -w "$EX/workloads-replan-grow.yaml" -f "$EX/fleet-h100-running.yaml" --json
    [ "$(jq .gpus_drained <<<"$output")" -eq 1 ]
    [ "$(jq -r '.drain_nodes | join(",")' <<<"$output")" = "h100-a" ]
    [ "$(jq '.affected | length' <<<"$output")" -ge 1 ]
    [ "$(jq '[.gpus[] | select(.drained) | .ops[] | select(.busy)] | length' <<<"$output")" -ge 1 ]
    run -0 "$MIGCTL" replan -w "$EX/workloads-replan-grow.yaml" -f "$EX/fleet-h100-running.yaml" \
        --emit-config "$BATS_TEST_TMPDIR/re"
    [ -f "$BATS_TEST_TMPDIR/re/h100-a.yaml" ]
}

@test "replan --live: a whole-GPU job fits an idle MIG-off GPU, a slice needs a mode flip" {
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    printf 'workloads:\n  - {name: t, memory: 78GB}\n' >"$BATS_TEST_TMPDIR/w1.yaml"
    run -0 "$MIGCTL" replan -w "$BATS_TEST_TMPDIR/w1.yaml" --live --json
    [ "$(jq .gpus_drained <<<"$output")" -eq 0 ]
    printf 'workloads:\n  - {name: s, memory: 8GiB}\n' >"$BATS_TEST_TMPDIR/w2.yaml"
    run -0 "$MIGCTL" replan -w "$BATS_TEST_TMPDIR/w2.yaml" --live --json
    [ "$(jq .mode_changes <<<"$output")" -eq 1 ]
    [ "$(jq .gpus_drained <<<"$output")" -eq 1 ]
}

@test "bad input: one line with file:line:col, exit 2" {
    printf 'workloads:\n  - name: a\n    colour: red\n' >"$BATS_TEST_TMPDIR/bad.yaml"
    run -2 "$MIGCTL" plan -w "$BATS_TEST_TMPDIR/bad.yaml" -f "$EX/fleet-h100.yaml"
    [[ "$output" == *"bad.yaml:3:5: unknown key 'colour'"* ]]
    [ "${#lines[@]}" -eq 1 ]
    printf 'nodes:\n  - {name: n, gpus: [{model: Z100}]}\n' >"$BATS_TEST_TMPDIR/badf.yaml"
    run -2 "$MIGCTL" plan -w "$EX/arrivals.yaml" -f "$BATS_TEST_TMPDIR/badf.yaml"
    [[ "$output" == *"badf.yaml:2:"*"unknown GPU model 'Z100'"* ]]
    run -2 "$MIGCTL" plan -w "$EX/arrivals.yaml"
    [[ "$output" == *"-f FLEET or --live"* ]]
    run -2 "$MIGCTL" plan -w /nonexistent.yaml -f "$EX/fleet-h100.yaml"
    run -2 "$MIGCTL" replan -f "$EX/fleet-h100.yaml"
}

@test "a directory given as the workloads file is bad input that says so" {
  run "$MIGCTL" plan -w "$BATS_TEST_TMPDIR" -f "$MIGCTL_SOURCE_DIR/examples/fleet-h100.yaml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"is a directory"* ]]
}

@test "a demand of more than two million instances in all is refused at the workload that crosses it" {
  f="$BATS_TEST_TMPDIR/big.yaml"
  printf 'workloads:\n' > "$f"
  for w in a b c; do printf '  - name: %s\n    replicas: 1000000\n    memory: 1GiB\n' "$w" >> "$f"; done
  run "$MIGCTL" plan -w "$f" -f "$MIGCTL_SOURCE_DIR/examples/fleet-h100.yaml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"big.yaml:8:5: more than 2000000 instances"* ]]
}

# ---- issue 9: exact replan, bounds, "optimal" on mixed fleets

@test "replan moves no running work when an idle GPU will do (four H100s, two busy)" {
    D="$MIGCTL_SOURCE_DIR/tests/data/replan"
    run -0 "$MIGCTL" replan -w "$D/workloads-jobs-big.yaml" -f "$D/fleet-four-h100.yaml" --json
    [ "$(jq .gpus_drained <<<"$output")" -eq 1 ]
    [ "$(jq .moved_slices <<<"$output")" -eq 0 ]
    [ "$(jq '.affected | length' <<<"$output")" -eq 0 ]
    [ "$(jq '.drain_gpus[0].index >= 2' <<<"$output")" = true ]   # an idle GPU, not 0 or 1
    [ "$(jq .drain_lower_bound <<<"$output")" -eq 1 ]
    [ "$(jq .optimal <<<"$output")" = true ]
    [ "$(jq -r .method <<<"$output")" = exact ]
    [ "$(jq .already_running <<<"$output")" -eq 2 ]
    run -0 "$MIGCTL" replan -w "$D/workloads-jobs-big.yaml" -f "$D/fleet-four-h100.yaml"
    [[ "$output" == *"Drain lower bound: 1 (drains optimal); running work moved: 0 compute slices; plan optimal"* ]]
    [[ "$output" != *"Running work affected"* ]]
}

@test "replan switches idle GPUs to MIG off for whole-GPU jobs and moves nothing" {
    D="$MIGCTL_SOURCE_DIR/tests/data/replan"
    run -0 "$MIGCTL" replan -w "$D/workloads-job-two-whole.yaml" -f "$D/fleet-three-h100.yaml" --json
    [ "$(jq .unplaced <<<"$output")" -eq 0 ]
    [ "$(jq .gpus_drained <<<"$output")" -eq 2 ]
    [ "$(jq -c '[.drain_gpus[].index]' <<<"$output")" = "[1,2]" ]
    [ "$(jq .moved_slices <<<"$output")" -eq 0 ]
    [ "$(jq .mode_changes <<<"$output")" -eq 2 ]
    [ "$(jq .optimal <<<"$output")" = true ]
    run -0 "$MIGCTL" replan -w "$D/workloads-job-one-whole.yaml" -f "$D/fleet-three-h100.yaml" --json
    [ "$(jq .gpus_drained <<<"$output")" -eq 1 ]
    [ "$(jq '.drain_gpus[0].index' <<<"$output")" -ne 0 ]   # not the busy GPU
    [ "$(jq .moved_slices <<<"$output")" -eq 0 ]
}

@test "replan --live on 8 H100s with busy 3g on GPUs 0 and 1 drains idle GPUs only" {
    "$MIGCTL" sim init --gpus 8xH100-SXM5-80GB >/dev/null
    for i in 0 1 2 3 4 5 6 7; do "$MIGCTL" mode -i "$i" on >/dev/null; done
    for i in 0 1; do
        "$MIGCTL" create -i "$i" 3g.40gb@4 -C >/dev/null
        "$MIGCTL" sim procs -i "$i" --gi 2 --start >/dev/null
    done
    printf 'workloads:\n  - {name: big, replicas: 2, memory: 70GiB, compute: 7/7}\n  - {name: small, replicas: 3, profile: 3g.40gb}\n' >"$BATS_TEST_TMPDIR/w.yaml"
    run -0 "$MIGCTL" replan -w "$BATS_TEST_TMPDIR/w.yaml" --live --json
    [ "$(jq .gpus_drained <<<"$output")" -eq 2 ]
    [ "$(jq '[.drain_gpus[].index | select(. < 2)] | length' <<<"$output")" -eq 0 ]
    [ "$(jq .moved_slices <<<"$output")" -eq 0 ]
    [ "$(jq '.affected | length' <<<"$output")" -eq 0 ]
    [ "$(jq .drain_lower_bound <<<"$output")" -eq 2 ]
    [ "$(jq .optimal <<<"$output")" = true ]
}

@test "plan says optimal on a mixed fleet when it meets the bound" {
    run -0 "$MIGCTL" plan -w "$EX/workloads-field-guide.yaml" -f "$EX/fleet-mixed.yaml" --json
    [ "$(jq '.gpus_used == .lower_bound' <<<"$output")" = true ]
    [ "$(jq .optimal <<<"$output")" = true ]
    [ "$(jq '[.gpus[].model] | unique | length' <<<"$output")" -gt 1 ]
    run -0 "$MIGCTL" plan -w "$EX/workloads-field-guide.yaml" -f "$EX/fleet-mixed.yaml"
    [[ "$output" == *"lower bound 7 (optimal)"* ]]
}

@test "plan and replan share their options: unknown ones named, --time-limit checked" {
    run -2 "$MIGCTL" plan -Z
    [[ "$output" == *"unknown option '-Z'"* ]]
    run -2 "$MIGCTL" replan -Z
    [[ "$output" == *"unknown option '-Z'"* ]]
    run -2 "$MIGCTL" replan --bogus -w x -f y
    [[ "$output" == *"unknown option '--bogus'"* ]]
    run -2 "$MIGCTL" replan -w "$EX/workloads-replan.yaml" -f "$EX/fleet-h100-running.yaml" --time-limit 0
    [[ "$output" == *"--time-limit wants seconds"* ]]
    run -2 "$MIGCTL" replan -w "$EX/workloads-replan.yaml" -f "$EX/fleet-h100-running.yaml" --add x
    [[ "$output" == *"unknown option '--add'"* ]]
    run -0 "$MIGCTL" replan -w "$EX/workloads-replan.yaml" -f "$EX/fleet-h100-running.yaml" --time-limit 2 --json
    [ "$(jq .optimal <<<"$output")" = true ]
}
