#!/usr/bin/env bats
# metrics.bats: telemetry over both backends (sim, and nvml over the shim):
# `sim load` and `sim health` script the simulator, `top --once --json`
# reports the scripted figures per instance, `status` and `top` mark an
# unhealthy GPU with its whole fault domain and nothing else, `top` drawn in
# a real terminal (tmux) is read back, `profile` recommends by the method in
# docs/metrics.md and its emitted workload plans, and `top --json` agrees
# with the exporter on one sample.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB,1xA100-SXM4-40GB >/dev/null
}

teardown() {
    if [ -f "$BATS_TEST_TMPDIR/exporter.pid" ]; then
        kill "$(cat "$BATS_TEST_TMPDIR/exporter.pid")" 2>/dev/null || true
        wait 2>/dev/null || true
    fi
    if [ -n "${TMUX_SOCK:-}" ]; then
        tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
    fi
}

# GPU 0: 3g.40gb@4 (GI 2), 2g.20gb@0 (GI 3), 1g.10gb@2 with CIs; GPU 1 MIG off.
partition() {
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" create -i 0 3g.40gb@4 2g.20gb@0 1g.10gb@2 -C >/dev/null
}

gi_of() { # profile -> GI id on GPU 0
    "$MIGCTL" status -i 0 --json | jq -r --arg p "$1" '.gpus[0].gpu_instances[] | select(.profile == $p) | .id'
}

@test "top, exporter, profile, sim load and sim health have --help" {
    for v in top exporter profile; do
        run "$MIGCTL" "$v" --help
        [ "$status" -eq 0 ]
        [[ "$output" == *"usage: migctl $v"* ]]
    done
    run "$MIGCTL" sim load --help
    [[ "$output" == *"usage: migctl sim load"* ]]
    run "$MIGCTL" sim health --help
    [[ "$output" == *"usage: migctl sim health"* ]]
    run "$MIGCTL" top --bogus
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown option '--bogus'"* ]]
}

@test "sim load: scripted figures per instance in top --json, idle ones at zero" {
    partition
    gi3=$(gi_of 3g.40gb)
    gi2=$(gi_of 2g.20gb)
    "$MIGCTL" sim load -i 0 --gi "$gi3" --sm 0.75 --occupancy 0.5 --tensor 0.25 --dram 0.4 --memory 12GiB >/dev/null
    run "$MIGCTL" top --once --json
    [ "$status" -eq 0 ]
    j=$output
    sel='.gpus[0].gpu_instances[] | select(.id == '"$gi3"')'
    [ "$(jq -r "$sel | .metrics.sm_active" <<<"$j")" = 0.75 ]
    [ "$(jq -r "$sel | .metrics.sm_occupancy" <<<"$j")" = 0.5 ]
    [ "$(jq -r "$sel | .metrics.tensor_active" <<<"$j")" = 0.25 ]
    [ "$(jq -r "$sel | .metrics.dram_active" <<<"$j")" = 0.4 ]
    [ "$(jq -r "$sel | .memory.used_mib" <<<"$j")" = 12288 ]
    [ "$(jq -r "$sel | .memory.total_mib" <<<"$j")" = 40448 ]
    [ "$(jq -r "$sel | .bandwidth_share" <<<"$j")" = 0.5 ]
    # the process sim load started, named by its slice, with the memory
    [ "$(jq -r "$sel | .compute_instances[0].processes | length" <<<"$j")" = 1 ]
    [ "$(jq -r "$sel | .compute_instances[0].processes[0].memory_mib" <<<"$j")" = 12288 ]
    sel2='.gpus[0].gpu_instances[] | select(.id == '"$gi2"')'
    [ "$(jq -r "$sel2 | .metrics.sm_active" <<<"$j")" = 0 ]
    [ "$(jq -r "$sel2 | .busy" <<<"$j")" = false ]
    # whole GPU: the 3g's SMs weighted by 3/7 compute slices, bandwidth by 4/8
    awk -v v="$(jq -r '.gpus[0].metrics.sm_active' <<<"$j")" 'BEGIN { exit !(v > 0.3213 && v < 0.3215) }'
    [ "$(jq -r '.gpus[0].metrics.dram_active' <<<"$j")" = 0.2 ]
    # an A100 has no GPM: unsupported, not zero
    [ "$(jq -r '.gpus[2].metrics.sm_active' <<<"$j")" = unsupported ]
    [ "$(jq -r '.gpus[2].memory.total_mib' <<<"$j")" = 40960 ]
}

@test "load follows processes: stopping them makes the instance idle" {
    partition
    gi=$(gi_of 2g.20gb)
    "$MIGCTL" sim load -i 0 --gi "$gi" --sm 0.6 --dram 0.3 >/dev/null
    run "$MIGCTL" top --once --json -i 0
    [ "$(jq -r ".gpus[0].gpu_instances[] | select(.id == $gi) | .metrics.sm_active" <<<"$output")" = 0.6 ]
    "$MIGCTL" sim procs -i 0 --gi "$gi" --stop >/dev/null
    run "$MIGCTL" top --once --json -i 0
    [ "$(jq -r ".gpus[0].gpu_instances[] | select(.id == $gi) | .metrics.sm_active" <<<"$output")" = 0 ]
    [ "$(jq -r ".gpus[0].gpu_instances[] | select(.id == $gi) | .memory.used_mib" <<<"$output")" = 0 ]
}

@test "sim load refuses a missing instance and a bad fraction" {
    partition
    run "$MIGCTL" sim load -i 0 --gi 13 --sm 0.5
    [ "$status" -eq 2 ]
    [[ "$output" == *"no GPU instance 13"* ]]
    run "$MIGCTL" sim load -i 0 --gi 2 --sm 1.5
    [ "$status" -eq 2 ]
    run "$MIGCTL" sim load -i 0 --sm 0.5
    [ "$status" -eq 2 ]
    [[ "$output" == *"MIG mode"* ]]
}

@test "an ECC event on one GPU: status names every instance and process on it, none elsewhere" {
    partition
    "$MIGCTL" sim procs -i 0 --gi "$(gi_of 3g.40gb)" --start >/dev/null
    "$MIGCTL" sim procs -i 0 --gi "$(gi_of 1g.10gb)" --start --count 2 >/dev/null
    "$MIGCTL" sim procs -i 1 --start >/dev/null
    "$MIGCTL" sim health -i 0 --ecc-dbe 3 >/dev/null
    run "$MIGCTL" status --json
    [ "$status" -eq 0 ]
    j=$output
    [ "$(jq -r '.gpus[0].health.healthy' <<<"$j")" = false ]
    [[ "$(jq -r '.gpus[0].health.why' <<<"$j")" == "3 uncorrectable ECC errors"* ]]
    [ "$(jq -r '.gpus[1].health.healthy' <<<"$j")" = true ]
    [ "$(jq -r '.gpus[2].health.healthy' <<<"$j")" = true ]
    [ "$(jq '.gpus[1].health | has("fault_domain")' <<<"$j")" = false ]
    # every MIG UUID of GPU 0, and exactly them
    diff <(jq -r '.gpus[0].gpu_instances[].compute_instances[].uuid' <<<"$j" | sort) \
         <(jq -r '.gpus[0].health.fault_domain.gpu_instances[].mig_uuids[]' <<<"$j" | sort)
    [ "$(jq '.gpus[0].health.fault_domain.processes | length' <<<"$j")" -eq 3 ]
    run "$MIGCTL" status
    [ "$(grep -c UNHEALTHY <<<"$output")" -eq 1 ]
    line=$(grep UNHEALTHY <<<"$output")
    for u in $(jq -r '.gpus[0].gpu_instances[].compute_instances[].uuid' <<<"$j"); do
        [[ "$line" == *"$u"* ]]
    done
    gpu1_pid=$(jq -r '.gpus[1].processes[0].pid' <<<"$("$MIGCTL" top --once --json -i 1)")
    [[ "$line" != *"$gpu1_pid"* ]]
    run "$MIGCTL" top --once -i 0 --no-color
    [[ "$output" == *"UNHEALTHY"* ]]
    [[ "$output" == *"fault domain"* ]]
    "$MIGCTL" sim health -i 0 --clear >/dev/null
    run "$MIGCTL" status --json
    [ "$(jq -r '.gpus[0].health.healthy' <<<"$output")" = true ]
}

@test "row remapping trouble makes a GPU unhealthy" {
    "$MIGCTL" sim health -i 1 --remap-pending >/dev/null
    run "$MIGCTL" status --json
    [ "$(jq -r '.gpus[1].health.healthy' <<<"$output")" = false ]
    [[ "$(jq -r '.gpus[1].health.why' <<<"$output")" == *"row remap pending"* ]]
    [ "$(jq -r '.gpus[0].health.healthy' <<<"$output")" = true ]
}

@test "free capacity and stranded slices" {
    "$MIGCTL" mode -i 0 on >/dev/null
    # two 3g.40gb: 6 of 7 compute slices, all 8 memory slices: 1 compute slice stranded
    "$MIGCTL" create -i 0 3g.40gb@0 3g.40gb@4 -C >/dev/null
    run "$MIGCTL" top --once --json -i 0
    [ "$(jq -r '.gpus[0].slices.stranded_compute' <<<"$output")" = 1 ]
    [ "$(jq -r '.gpus[0].slices.stranded_memory' <<<"$output")" = 0 ]
    [ "$(jq -r '.gpus[0].free_capacity["1g.10gb"]' <<<"$output")" = 0 ]
    "$MIGCTL" mode -i 1 on >/dev/null
    "$MIGCTL" create -i 1 3g.40gb@4 -C >/dev/null
    run "$MIGCTL" top --once --json -i 1
    [ "$(jq -r '.gpus[0].free_capacity["3g.40gb"]' <<<"$output")" = 1 ]
    [ "$(jq -r '.gpus[0].free_capacity["1g.10gb"]' <<<"$output")" = 4 ]
    [ "$(jq -r '.gpus[0].slices.stranded_compute' <<<"$output")" = 0 ]
}

@test "top in a real terminal: drawn in place, read back from the screen, q quits" {
    command -v tmux >/dev/null || skip "no tmux"
    partition
    "$MIGCTL" sim load -i 0 --gi "$(gi_of 3g.40gb)" --sm 0.9 --dram 0.5 --memory 8GiB >/dev/null
    TMUX_SOCK="$BATS_TEST_TMPDIR/tmux.sock"
    tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -x 160 -y 40 \
        "MIGCTL_SIM_STATE='$MIGCTL_SIM_STATE' MIGCTL_BACKEND='$MIGCTL_BACKEND' MIGCTL_NVML_LIB='$MIGCTL_NVML_LIB' '$MIGCTL' top --interval 0.3; echo TOP-EXITED \$?; sleep 30"
    screen=""
    for _ in $(seq 50); do
        screen=$(tmux -S "$TMUX_SOCK" capture-pane -p)
        [[ "$screen" == *"3g.40gb"*"q quits"* ]] && break
        sleep 0.1
    done
    [[ "$screen" == *"migctl top"* ]]
    grep -E '^  [0-9]+ +3g\.40gb +4:4 +\[#########  *\]  90% \[#####  *\]  50% of 4/8' <<<"$screen"
    grep -E '^GPU 1  H100-SXM5-80GB  MIG off' <<<"$screen"
    # drawn in place: one header, not a scroll of frames
    sleep 0.8
    screen=$(tmux -S "$TMUX_SOCK" capture-pane -p)
    [ "$(grep -c '^migctl top' <<<"$screen")" -eq 1 ]
    # a change shows on the next refresh
    "$MIGCTL" sim load -i 0 --gi "$(gi_of 3g.40gb)" --sm 0.2 --dram 0.5 --memory 8GiB >/dev/null
    for _ in $(seq 30); do
        screen=$(tmux -S "$TMUX_SOCK" capture-pane -p)
        grep -qE '3g\.40gb +4:4 +\[## +\]  20%' <<<"$screen" && break
        sleep 0.1
    done
    grep -E '3g\.40gb +4:4 +\[## +\]  20%' <<<"$screen"
    tmux -S "$TMUX_SOCK" send-keys q
    for _ in $(seq 30); do
        screen=$(tmux -S "$TMUX_SOCK" capture-pane -p)
        [[ "$screen" == *"TOP-EXITED 0"* ]] && break
        sleep 0.1
    done
    [[ "$screen" == *"TOP-EXITED 0"* ]]
}

# A scripted workload: on GPU 1 (MIG off) it holds MEM and keeps SM/DRAM busy for a second.
workload() {
    cat >"$BATS_TEST_TMPDIR/$1.sh" <<SH
#!/bin/sh
echo "\$CUDA_VISIBLE_DEVICES" >"$BATS_TEST_TMPDIR/$1.cvd"
"$MIGCTL" sim load -i 1 --sm $2 --dram $3 --memory $4 >/dev/null
sleep 0.7
"$MIGCTL" sim procs -i 1 --stop >/dev/null
"$MIGCTL" sim load -i 1 --clear >/dev/null
SH
    chmod +x "$BATS_TEST_TMPDIR/$1.sh"
}

@test "profile: a compute-bound and a bandwidth-bound workload get different profiles, and plan" {
    workload compute 0.30 0.05 4GiB
    workload bandwidth 0.10 0.20 6GiB
    run "$MIGCTL" profile -i 1 --interval 0.1 --json --emit-workload "$BATS_TEST_TMPDIR/c.yaml" -- "$BATS_TEST_TMPDIR/compute.sh"
    [ "$status" -eq 0 ]
    c=$output
    run "$MIGCTL" profile -i 1 --interval 0.1 --json --emit-workload "$BATS_TEST_TMPDIR/b.yaml" -- "$BATS_TEST_TMPDIR/bandwidth.sh"
    [ "$status" -eq 0 ]
    b=$output
    # CMD ran with GPU 1 named in CUDA_VISIBLE_DEVICES
    [ "$(cat "$BATS_TEST_TMPDIR/compute.cvd")" = "$("$MIGCTL" status --json | jq -r '.gpus[1].uuid')" ]
    # measured what was scripted
    [ "$(jq -r .measured.sm_active <<<"$c")" = 0.3 ]
    [ "$(jq -r .measured.dram_active <<<"$c")" = 0.05 ]
    [ "$(jq -r .measured.peak_memory_mib <<<"$c")" = 4096 ]
    [ "$(jq -r .measured.dram_active <<<"$b")" = 0.2 ]
    # the method: 30% of the SMs needs 3g (60/132 SMs); 20% of the bandwidth with
    # 10% of the SMs fits 1g.20gb (2/8 memory slices, 16/132 SMs)
    [ "$(jq -r .recommended <<<"$c")" = 3g.40gb ]
    [ "$(jq -r .recommended <<<"$b")" = 1g.20gb ]
    [ "$(jq -r '.predictions[] | select(.profile == "2g.20gb") | .bound' <<<"$c")" = compute ]
    [ "$(jq -r '.predictions[] | select(.profile == "1g.10gb") | .bound' <<<"$b")" = bandwidth ]
    # the emitted workloads plan
    grep -q 'throughput: {1g.10gb: ' "$BATS_TEST_TMPDIR/c.yaml"
    grep -q 'bandwidth-bound: true' "$BATS_TEST_TMPDIR/b.yaml"
    printf 'nodes:\n  - name: n1\n    gpus:\n      - {model: H100-SXM5-80GB, count: 1}\n' >"$BATS_TEST_TMPDIR/fleet.yaml"
    run "$MIGCTL" plan -w "$BATS_TEST_TMPDIR/c.yaml" -f "$BATS_TEST_TMPDIR/fleet.yaml" --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.unplaced' <<<"$output")" = 0 ]
    run "$MIGCTL" plan -w "$BATS_TEST_TMPDIR/b.yaml" -f "$BATS_TEST_TMPDIR/fleet.yaml" --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.unplaced' <<<"$output")" = 0 ]
}

@test "profile: a workload needing the whole card is told MIG is wrong; no GPM, no guess" {
    workload big 0.97 0.90 20GiB
    run "$MIGCTL" profile -i 1 --interval 0.1 --json -- "$BATS_TEST_TMPDIR/big.sh"
    [ "$status" -eq 0 ]
    [ "$(jq -r .recommended <<<"$output")" = null ]
    [[ "$(jq -r .verdict <<<"$output")" == "MIG is the wrong answer"* ]]
    run "$MIGCTL" profile -i 2 --interval 0.1 -- true
    [ "$status" -eq 2 ]
    [[ "$output" == *"does not report SM activity"* ]]
}

@test "top --once --json and the exporter agree on one sample" {
    partition
    "$MIGCTL" sim load -i 0 --gi "$(gi_of 3g.40gb)" --sm 0.35 --dram 0.45 --occupancy 0.2 --memory 3GiB >/dev/null
    "$MIGCTL" sim load -i 0 --gi "$(gi_of 1g.10gb)" --sm 0.9 --dram 0.8 --memory 5000MiB >/dev/null
    "$MIGCTL" exporter --listen 127.0.0.1:0 --interval 0.3 >"$BATS_TEST_TMPDIR/exporter.out" 2>"$BATS_TEST_TMPDIR/exporter.err" &
    echo $! >"$BATS_TEST_TMPDIR/exporter.pid"
    for _ in $(seq 50); do grep -q listening "$BATS_TEST_TMPDIR/exporter.out" && break; sleep 0.1; done
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$BATS_TEST_TMPDIR/exporter.out")
    [ -n "$port" ]
    m=$(curl -sf "http://127.0.0.1:$port/metrics")
    j=$("$MIGCTL" top --once --json)
    # every instance's activity and memory, from both
    n=0
    while read -r gi prof; do
        for pair in DCGM_FI_PROF_SM_ACTIVE:sm_active DCGM_FI_PROF_DRAM_ACTIVE:dram_active DCGM_FI_PROF_SM_OCCUPANCY:sm_occupancy; do
            name=${pair%%:*} key=${pair#*:}
            want=$(jq -r ".gpus[0].gpu_instances[] | select(.id == $gi) | .metrics.$key" <<<"$j")
            got=$(grep "^$name{gpu=\"0\"," <<<"$m" | grep "GPU_I_ID=\"$gi\"" | awk '{print $NF}')
            [ -n "$got" ]
            awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 == b + 0) }' 
            n=$((n + 1))
        done
        want=$(jq -r ".gpus[0].gpu_instances[] | select(.id == $gi) | .memory.used_mib" <<<"$j")
        got=$(grep '^DCGM_FI_DEV_FB_USED{gpu="0",' <<<"$m" | grep "GPU_I_ID=\"$gi\"" | grep "GPU_I_PROFILE=\"$prof\"" | awk '{print $NF}')
        [ "$got" = "$want" ]
    done < <(jq -r '.gpus[0].gpu_instances[] | "\(.id) \(.profile)"' <<<"$j")
    [ "$n" -eq 9 ]
    # the layout series: one per MIG device, with placement and UUID
    for u in $(jq -r '.gpus[0].gpu_instances[].compute_instances[].uuid' <<<"$j"); do
        grep -q "^migctl_instance_info{.*mig_uuid=\"$u\"} 1" <<<"$m"
    done
    grep -q 'migctl_instance_info{gpu="0",.*GPU_I_PROFILE="3g.40gb",.*placement_start="4",placement_size="4"' <<<"$m"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" = 404 ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" = 405 ]
}

@test "exporter: an Xid on one GPU shows on it alone; a driver error is a metric, not a dead exporter" {
    partition
    "$MIGCTL" sim procs -i 0 --gi "$(gi_of 2g.20gb)" --start >/dev/null
    "$MIGCTL" sim procs -i 1 --start >/dev/null
    "$MIGCTL" exporter --listen 127.0.0.1:0 --interval 0.2 >"$BATS_TEST_TMPDIR/exporter.out" 2>"$BATS_TEST_TMPDIR/exporter.err" &
    echo $! >"$BATS_TEST_TMPDIR/exporter.pid"
    for _ in $(seq 50); do grep -q listening "$BATS_TEST_TMPDIR/exporter.out" && break; sleep 0.1; done
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$BATS_TEST_TMPDIR/exporter.out")
    url="http://127.0.0.1:$port/metrics"
    "$MIGCTL" sim health -i 0 --xid 79 >/dev/null
    for _ in $(seq 30); do
        m=$(curl -sf "$url")
        grep -q '^DCGM_FI_DEV_XID_ERRORS{gpu="0",.*} 79$' <<<"$m" && break
        sleep 0.1
    done
    grep -q '^DCGM_FI_DEV_XID_ERRORS{gpu="0",.*} 79$' <<<"$m"
    grep -q '^DCGM_FI_DEV_XID_ERRORS{gpu="1",.*} 0$' <<<"$m"
    grep -q '^migctl_gpu_healthy{gpu="0",.*} 0$' <<<"$m"
    grep -q '^migctl_gpu_healthy{gpu="1",.*} 1$' <<<"$m"
    # every instance of GPU 0 in the fault domain, none of another GPU
    [ "$(grep -c '^migctl_instance_fault_domain_unhealthy{gpu="0",.*} 1$' <<<"$m")" -eq 3 ]
    [ "$(grep -c '^migctl_instance_fault_domain_unhealthy{gpu="[12]",.*} 1$' <<<"$m")" -eq 0 ]
    # and every process on it (one on GPU 0's 2g.20gb, one on the whole GPU 1), none elsewhere
    pid0=$(jq -r '.gpus[0].processes[0].pid' <<<"$("$MIGCTL" top --once --json -i 0)")
    grep -q "^migctl_process_fault_domain_unhealthy{gpu=\"0\",.*pid=\"$pid0\"} 1$" <<<"$m"
    [ "$(grep -c '^migctl_process_fault_domain_unhealthy{.*} 1$' <<<"$m")" -eq 1 ]
    [ "$(grep -c '^migctl_process_fault_domain_unhealthy{gpu="1",.*} 0$' <<<"$m")" -eq 1 ]
    "$MIGCTL" sim health -i 1 --ecc-dbe 1 >/dev/null
    for _ in $(seq 30); do
        m=$(curl -sf "$url")
        grep -q '^DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{gpu="1",.*} 1$' <<<"$m" && break
        sleep 0.1
    done
    grep -q '^DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{gpu="1",.*} 1$' <<<"$m"
    grep -q '^DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{gpu="0",.*} 0$' <<<"$m"
    # the driver fails (the state file behind it is damaged): still serving
    cp "$MIGCTL_SIM_STATE" "$BATS_TEST_TMPDIR/good.json"
    echo '{"version": 1, "gpus": [' >"$MIGCTL_SIM_STATE"
    for _ in $(seq 30); do
        m=$(curl -sf "$url") || true
        grep -q '^migctl_up 0$' <<<"$m" && break
        sleep 0.1
    done
    grep -q '^migctl_up 0$' <<<"$m"
    ! grep -q '^DCGM_FI_PROF_SM_ACTIVE' <<<"$m"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 503 ]
    grep -q 'sample failed' "$BATS_TEST_TMPDIR/exporter.err"
    cp "$BATS_TEST_TMPDIR/good.json" "$MIGCTL_SIM_STATE"
    for _ in $(seq 30); do
        m=$(curl -sf "$url")
        grep -q '^migctl_up 1$' <<<"$m" && break
        sleep 0.1
    done
    grep -q '^migctl_up 1$' <<<"$m"
    kill "$(cat "$BATS_TEST_TMPDIR/exporter.pid")"
    wait "$(cat "$BATS_TEST_TMPDIR/exporter.pid")"
    rm "$BATS_TEST_TMPDIR/exporter.pid"
}

@test "exporter: bad --listen and a lone --desired are usage errors" {
    run "$MIGCTL" exporter --listen 9400
    [ "$status" -eq 2 ]
    run "$MIGCTL" exporter --desired x.yaml
    [ "$status" -eq 2 ]
    [[ "$output" == *"go together"* ]]
}

@test "the exporter's systemd unit verifies" {
    command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
    unit="$BATS_TEST_TMPDIR/migctl-exporter.service"
    sed "s|/usr/local/bin/migctl|$MIGCTL|" "$MIGCTL_SOURCE_DIR/deploy/migctl-exporter.service" >"$unit"
    run systemd-analyze verify "$unit"
    [ "$status" -eq 0 ]
    grep -q '^ExecStart=.* exporter --listen ${MIGCTL_EXPORTER_LISTEN}' "$unit"
    grep -q '^Environment=MIGCTL_EXPORTER_LISTEN=127.0.0.1:9400$' "$unit"
}

@test "exporter --desired: migctl_gpu_drift per GPU" {
    partition
    "$MIGCTL" mode -i 1 on >/dev/null
    "$MIGCTL" create -i 1 -C 3g.40gb@0 3g.40gb@4 >/dev/null
    cat >"$BATS_TEST_TMPDIR/want.yaml" <<'YML'
version: v1
mig-configs:
  two-3g:
    - devices: [0, 1]
      mig-enabled: true
      mig-devices:
        "3g.40gb": 2
YML
    "$MIGCTL" exporter --listen 127.0.0.1:0 --interval 5 --desired "$BATS_TEST_TMPDIR/want.yaml" -c two-3g \
        >"$BATS_TEST_TMPDIR/exporter.out" 2>"$BATS_TEST_TMPDIR/exporter.err" &
    echo $! >"$BATS_TEST_TMPDIR/exporter.pid"
    for _ in $(seq 50); do grep -q listening "$BATS_TEST_TMPDIR/exporter.out" && break; sleep 0.1; done
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$BATS_TEST_TMPDIR/exporter.out")
    m=$(curl -sf "http://127.0.0.1:$port/metrics")
    grep -q '^migctl_gpu_drift{gpu="0",.*} 1$' <<<"$m"
    grep -q '^migctl_gpu_drift{gpu="1",.*} 0$' <<<"$m"
    ! grep -q '^migctl_gpu_drift{gpu="2",' <<<"$m" # not selected by the config
    run "$MIGCTL" exporter --desired "$BATS_TEST_TMPDIR/want.yaml" -c nope --listen 127.0.0.1:0
    [ "$status" -eq 2 ]
}
