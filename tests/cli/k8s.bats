#!/usr/bin/env bats
# k8s.bats: the Kubernetes side. `migctl k8s labels` against the labels
# gpu-feature-discovery publishes on a real H100 node (mixed strategy, values
# as posted from a cluster) and the single strategy's valid and invalid
# cases; `plan/replan --emit-config DIR --emit-k8s`: the ConfigMap and node
# labels are read by kubectl offline (no API server), and the config inside
# the ConfigMap, selected by the node's nvidia.com/mig.config label, applies
# with migctl on a simulated node and then asserts.

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    EX="$MIGCTL_SOURCE_DIR/examples"
}

label() { # JSON, key -> value
    jq -r --arg k "$2" '.labels[$k] // "absent"' <<<"$1"
}

# kubectl with no server: --local parses the manifest and prints it back.
kparse() { # FILE, jsonpath
    kubectl label --local --dry-run=client -f "$1" migctl-test=parsed -o jsonpath="$2"
}

@test "k8s labels --help; bad strategy and unknown options exit 2" {
    run -0 "$MIGCTL" k8s labels --help
    [[ "$output" == *"nvidia.com/mig-<profile>.count"* ]]
    run -0 "$MIGCTL" k8s --help
    run -2 "$MIGCTL" k8s labels --strategy none
    [[ "$output" == *"mixed or single"* ]]
    run -2 "$MIGCTL" k8s labels --bogus
    [[ "$output" == *"--bogus"* ]]
    run -2 "$MIGCTL" k8s frobnicate
    [[ "$output" == *"frobnicate"* ]]
}

@test "mixed: the labels GFD publishes for an H100's MIG devices, value for value" {
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" mode -i 1 on >/dev/null
    "$MIGCTL" create -i 0 1g.10gb@0 1g.10gb@1 2g.20gb@2 3g.40gb@4 -C >/dev/null
    "$MIGCTL" create -i 1 1g.10gb+me@6 -C >/dev/null
    run -0 "$MIGCTL" k8s labels --json
    j="$output"
    [ "$(label "$j" nvidia.com/mig.strategy)" = mixed ]
    [ "$(label "$j" nvidia.com/mig.capable)" = true ]
    # As gpu-feature-discovery labels a real H100 80GB HBM3 node.
    [ "$(label "$j" nvidia.com/mig-1g.10gb.count)" = 2 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.memory)" = 9984 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.multiprocessors)" = 16 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.product)" = NVIDIA-H100-80GB-HBM3-MIG-1g.10gb ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.engines.copy)" = 1 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.engines.decoder)" = 1 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.engines.encoder)" = 0 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.engines.jpeg)" = 1 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.engines.ofa)" = 0 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.replicas)" = 1 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.sharing-strategy)" = none ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.slices.gi)" = 1 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.slices.ci)" = 1 ]
    [ "$(label "$j" nvidia.com/mig-2g.20gb.memory)" = 20096 ]
    [ "$(label "$j" nvidia.com/mig-2g.20gb.engines.copy)" = 2 ]
    [ "$(label "$j" nvidia.com/mig-2g.20gb.slices.gi)" = 2 ]
    [ "$(label "$j" nvidia.com/mig-3g.40gb.multiprocessors)" = 60 ]
    # '+' is not allowed in a resource name or label: the plugin writes '.'.
    [ "$(label "$j" nvidia.com/mig-1g.10gb.me.count)" = 1 ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.me.engines.ofa)" = 1 ]
    [ "$(jq -c .resources <<<"$j")" = \
      '{"nvidia.com/gpu":0,"nvidia.com/mig-1g.10gb":2,"nvidia.com/mig-1g.10gb.me":1,"nvidia.com/mig-2g.20gb":1,"nvidia.com/mig-3g.40gb":1}' ]
    # 13 labels per device type, plus mig.capable and mig.strategy.
    [ "$(jq '.labels | length' <<<"$j")" -eq $((4 * 13 + 2)) ]
    # The text form prints the same labels as key=value.
    run -0 "$MIGCTL" k8s labels
    [[ "$output" == *"  nvidia.com/mig-1g.10gb.count=2"* ]]
    grep -qE '^  nvidia.com/mig-3g.40gb +1$' <<<"$output"
    # Every label is a valid Kubernetes label (kubectl checks key and value).
    args=$(jq -r '.labels | to_entries[] | "\(.key)=\(.value)"' <<<"$j")
    printf 'apiVersion: v1\nkind: Node\nmetadata:\n  name: node-a\n' >"$BATS_TEST_TMPDIR/node.yaml"
    run -0 kubectl label --local --dry-run=client -f "$BATS_TEST_TMPDIR/node.yaml" $args -o json
    [ "$(jq -r '.metadata.labels["nvidia.com/mig-1g.10gb.me.count"]' <<<"$output")" = 1 ]
}

@test "single: one device type on every GPU is nvidia.com/gpu; anything else is INVALID, exit 1" {
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" mode -i 1 on >/dev/null
    "$MIGCTL" create -i 0 1g.10gb 1g.10gb 1g.10gb -C >/dev/null
    "$MIGCTL" create -i 1 1g.10gb 1g.10gb -C >/dev/null
    run -0 "$MIGCTL" k8s labels --strategy single --json
    j="$output"
    [ "$(jq .valid <<<"$j")" = true ]
    [ "$(label "$j" nvidia.com/gpu.product)" = NVIDIA-H100-80GB-HBM3-MIG-1g.10gb ]
    [ "$(label "$j" nvidia.com/gpu.count)" = 5 ]
    [ "$(label "$j" nvidia.com/gpu.memory)" = 9984 ]
    [ "$(label "$j" nvidia.com/gpu.multiprocessors)" = 16 ]
    [ "$(label "$j" nvidia.com/gpu.slices.gi)" = 1 ]
    [ "$(label "$j" nvidia.com/mig.strategy)" = single ]
    [ "$(label "$j" nvidia.com/mig-1g.10gb.count)" = absent ]
    [ "$(jq -c .resources <<<"$j")" = '{"nvidia.com/gpu":5}' ]
    # A second device type: GFD labels the product MIG-INVALID, nothing is advertised.
    "$MIGCTL" create -i 1 2g.20gb -C >/dev/null
    run -1 "$MIGCTL" k8s labels --strategy single --json
    j="$output"
    [ "$(jq .valid <<<"$j")" = false ]
    [[ "$(jq -r .problem <<<"$j")" == *"more than one MIG device type"* ]]
    [ "$(label "$j" nvidia.com/gpu.product)" = NVIDIA-H100-80GB-HBM3-MIG-INVALID ]
    [ "$(jq -c .resources <<<"$j")" = '{"nvidia.com/gpu":0}' ]
    # The same node under mixed is fine.
    run -0 "$MIGCTL" k8s labels --json
    [ "$(jq -c .resources <<<"$output")" = '{"nvidia.com/gpu":0,"nvidia.com/mig-1g.10gb":5,"nvidia.com/mig-2g.20gb":1}' ]
}

@test "single on a node with MIG on one GPU and off on another is INVALID" {
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb -C >/dev/null
    run -1 "$MIGCTL" k8s labels --strategy single
    [[ "$output" == *"NVIDIA-H100-80GB-HBM3-MIG-INVALID"* ]]
    [[ "$output" == *"MIG on every GPU"* ]]
    # No GPU in MIG mode: whole GPUs.
    "$MIGCTL" sim init --force --gpus 2xH100-SXM5-80GB >/dev/null
    run -0 "$MIGCTL" k8s labels --strategy single --json
    [ "$(jq -c .resources <<<"$output")" = '{"nvidia.com/gpu":2}' ]
}

@test "--emit-k8s: kubectl reads the ConfigMap and labels offline; the labelled config applies" {
    out="$BATS_TEST_TMPDIR/out"
    run -0 "$MIGCTL" plan -w "$EX/workloads-field-guide.yaml" -f "$EX/fleet-h100.yaml" \
        --emit-config "$out" --emit-k8s --json
    plan="$output"
    [ -f "$out/k8s-mig-config.yaml" ] && [ -f "$out/k8s-node-labels.yaml" ]
    [ -x "$out/k8s-label-nodes.sh" ]
    # kubectl parses the ConfigMap and gives back the config inside it.
    [ "$(kparse "$out/k8s-mig-config.yaml" '{.kind}/{.metadata.name}')" = ConfigMap/migctl-mig-config ]
    kparse "$out/k8s-mig-config.yaml" '{.data.config\.yaml}' >"$BATS_TEST_TMPDIR/config.yaml"
    # ... and the node's label names the config to select.
    sel=$(kparse "$out/k8s-node-labels.yaml" '{.metadata.labels.nvidia\.com/mig\.config}')
    [ "$sel" = migctl-h100-node ]
    [ "$(kparse "$out/k8s-node-labels.yaml" '{.kind}/{.metadata.name}')" = Node/h100-node ]
    # mig-parted (which the mig-manager runs) rejects pinned keys: counts only.
    ! grep -q '@' "$BATS_TEST_TMPDIR/config.yaml"
    # The selected config applies on a node of the plan's GPUs and asserts.
    "$MIGCTL" sim init --gpus 8xH100-SXM5-80GB >/dev/null
    run -0 "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/config.yaml" -c "$sel"
    run -0 "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/config.yaml" -c "$sel"
    # Every GPU holds the profiles the plan gave it (placements may differ).
    for i in $(jq -r '.gpus[] | select(.use == "mig") | .index' <<<"$plan"); do
        want=$(jq -r --argjson i "$i" '.gpus[] | select(.index == $i) | [.layout[] | sub("@.*"; "")] | sort | join(" ")' <<<"$plan")
        got=$("$MIGCTL" status --json | jq -r --argjson i "$i" '[.gpus[$i].gpu_instances[].profile] | sort | join(" ")')
        [ "$want" = "$got" ]
    done
    # The label script runs kubectl label once per node with that value.
    mkdir "$BATS_TEST_TMPDIR/bin"
    printf '#!/bin/sh\necho "$*" >>"%s"\n' "$BATS_TEST_TMPDIR/kubectl.log" >"$BATS_TEST_TMPDIR/bin/kubectl"
    chmod +x "$BATS_TEST_TMPDIR/bin/kubectl"
    PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$out/k8s-label-nodes.sh"
    [ "$(cat "$BATS_TEST_TMPDIR/kubectl.log")" = "label node --overwrite h100-node nvidia.com/mig.config=migctl-h100-node" ]
}

@test "--emit-k8s on a mixed fleet: one config per node, each applies on its node" {
    out="$BATS_TEST_TMPDIR/mix"
    run -0 "$MIGCTL" plan -w "$EX/workloads-mix.yaml" -f "$EX/fleet-mix.yaml" --emit-config "$out" --emit-k8s
    kparse "$out/k8s-mig-config.yaml" '{.data.config\.yaml}' >"$BATS_TEST_TMPDIR/config.yaml"
    # kubectl applies the jsonpath to each object of the file in turn.
    nodes=$(kparse "$out/k8s-node-labels.yaml" '{.metadata.name}={.metadata.labels.nvidia\.com/mig\.config}{"\n"}')
    [ "$(grep -c . <<<"$nodes")" -eq "$(ls "$out" | grep -c '^h[0-9a-z-]*\.yaml$')" ]
    grep -qx 'h200-01=migctl-h200-01' <<<"$nodes"
    "$MIGCTL" sim init --gpus 8xH200-SXM-141GB >/dev/null
    run -0 "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/config.yaml" -c migctl-h200-01
    run -0 "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/config.yaml" -c migctl-h200-01
}

@test "replan --emit-k8s writes the layouts after the plan" {
    out="$BATS_TEST_TMPDIR/re"
    run -0 "$MIGCTL" replan -w "$EX/workloads-replan.yaml" -f "$EX/fleet-h100-running.yaml" \
        --emit-config "$out" --emit-k8s
    kparse "$out/k8s-mig-config.yaml" '{.data.config\.yaml}' >"$BATS_TEST_TMPDIR/config.yaml"
    run -0 "$MIGCTL" assert --help
    grep -q 'migctl-' "$BATS_TEST_TMPDIR/config.yaml"
    run -2 "$MIGCTL" replan -w "$EX/workloads-replan.yaml" -f "$EX/fleet-h100-running.yaml" --emit-k8s
    [[ "$output" == *"--emit-k8s needs --emit-config"* ]]
}

@test "--emit-k8s refuses a node name Kubernetes would refuse, before writing anything" {
    printf 'nodes:\n  - name: GPU_Node\n    gpus:\n      - {model: H100-SXM5-80GB, count: 1}\n' \
        >"$BATS_TEST_TMPDIR/fleet.yaml"
    run -2 "$MIGCTL" plan -w "$EX/workloads-field-guide.yaml" -f "$BATS_TEST_TMPDIR/fleet.yaml" \
        --emit-config "$BATS_TEST_TMPDIR/bad" --emit-k8s
    [[ "$output" == *"GPU_Node"*"not a Kubernetes node name"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/bad/k8s-mig-config.yaml" ]
    [ ! -e "$BATS_TEST_TMPDIR/bad/GPU_Node.yaml" ]
    run -2 "$MIGCTL" plan -w "$EX/workloads-field-guide.yaml" -f "$EX/fleet-h100.yaml" --emit-k8s
    [[ "$output" == *"--emit-k8s needs --emit-config"* ]]
}
