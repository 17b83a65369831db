#!/usr/bin/env bats
# prometheus.bats: the exporter under a real Prometheus server (Debian's
# prometheus, started here on a free loopback port with its own data dir and
# a 1 s scrape interval, stopped after): a simulated node of 8 GPUs with
# mixed layouts and scripted load per instance; Prometheus' HTTP API must
# return every instance's series with the scripted values and the
# dcgm-exporter labels. Also: promtool check metrics on the output, and a
# load test of 200 concurrent scrapes on loopback, all answered, with the
# latency percentiles and CPU time per scrape printed (docs/benchmarks.md).

setup() {
    command -v prometheus >/dev/null || skip "no prometheus (scripts/install-deps.sh installs it)"
    command -v curl >/dev/null || skip "no curl"
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    "$MIGCTL" sim init --gpus 6xH100-SXM5-80GB,2xH200-SXM-141GB >/dev/null
}

teardown() {
    for p in prometheus exporter; do
        if [ -f "$BATS_TEST_TMPDIR/$p.pid" ]; then
            kill "$(cat "$BATS_TEST_TMPDIR/$p.pid")" 2>/dev/null || true
        fi
    done
    wait 2>/dev/null || true
}

free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Mixed layouts; GPU 3 stays whole (MIG off), GPU 7 is MIG on and empty.
node() {
    local i
    for i in 0 1 2 4 5 6 7; do "$MIGCTL" mode -i "$i" on >/dev/null; done
    "$MIGCTL" create -i 0 -C 1g.10gb 1g.10gb 1g.10gb 1g.10gb 1g.10gb 1g.10gb 1g.10gb >/dev/null
    "$MIGCTL" create -i 1 -C 3g.40gb@0 3g.40gb@4 >/dev/null
    "$MIGCTL" create -i 2 -C 4g.40gb@0 2g.20gb@4 1g.10gb@6 >/dev/null
    "$MIGCTL" create -i 4 -C 1g.20gb 1g.20gb 1g.20gb 1g.20gb >/dev/null
    "$MIGCTL" create -i 5 -C 7g.80gb >/dev/null
    "$MIGCTL" create -i 6 -C 3g.71gb@4 2g.35gb@0 1g.18gb@2 >/dev/null
    # scripted load: instance k of GPU g gets sm (g*10+k+1)%, dram (90-g*10-k)%, g*1000+k*100+500 MiB
    : >"$BATS_TEST_TMPDIR/expected"
    "$MIGCTL" status --json >"$BATS_TEST_TMPDIR/status.json"
    while read -r g gi prof k; do
        sm=$(awk -v g="$g" -v k="$k" 'BEGIN { printf "%.2f", (g * 10 + k + 1) / 100 }')
        dram=$(awk -v g="$g" -v k="$k" 'BEGIN { printf "%.2f", (90 - g * 10 - k) / 100 }')
        mem=$((g * 1000 + k * 100 + 500))
        "$MIGCTL" sim load -i "$g" --gi "$gi" --sm "$sm" --dram "$dram" --memory "${mem}MiB" >/dev/null
        echo "$g $gi $prof $sm $dram $mem" >>"$BATS_TEST_TMPDIR/expected"
    done < <(jq -r '.gpus[] | .index as $g | [.gpu_instances | to_entries[] | "\($g) \(.value.id) \(.value.profile) \(.key)"] | .[]' \
        "$BATS_TEST_TMPDIR/status.json")
    "$MIGCTL" sim load -i 3 --sm 0.66 --dram 0.33 --memory 7000MiB >/dev/null
}

start_exporter() { # interval
    "$MIGCTL" exporter --listen 127.0.0.1:0 --interval "$1" >"$BATS_TEST_TMPDIR/exporter.out" \
        2>"$BATS_TEST_TMPDIR/exporter.err" &
    echo $! >"$BATS_TEST_TMPDIR/exporter.pid"
    for _ in $(seq 100); do grep -q listening "$BATS_TEST_TMPDIR/exporter.out" && break; sleep 0.1; done
    EXPORTER_PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$BATS_TEST_TMPDIR/exporter.out")
    [ -n "$EXPORTER_PORT" ]
}

start_prometheus() {
    local tries
    for tries in 1 2 3; do
        PROM_PORT=$(free_port)
        mkdir -p "$BATS_TEST_TMPDIR/prom"
        cat >"$BATS_TEST_TMPDIR/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: migctl
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ["127.0.0.1:$EXPORTER_PORT"]
YML
        prometheus --config.file="$BATS_TEST_TMPDIR/prom/prometheus.yml" \
            --storage.tsdb.path="$BATS_TEST_TMPDIR/prom/data" \
            --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=error \
            >"$BATS_TEST_TMPDIR/prom/log" 2>&1 &
        echo $! >"$BATS_TEST_TMPDIR/prometheus.pid"
        for _ in $(seq 100); do
            curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null && return 0
            kill -0 "$(cat "$BATS_TEST_TMPDIR/prometheus.pid")" 2>/dev/null || break
            sleep 0.1
        done
        kill "$(cat "$BATS_TEST_TMPDIR/prometheus.pid")" 2>/dev/null || true
        wait "$(cat "$BATS_TEST_TMPDIR/prometheus.pid")" 2>/dev/null || true
    done
    cat "$BATS_TEST_TMPDIR/prom/log" >&2
    return 1
}

query() { # PromQL -> "labels... value" lines via jq filter $2
    curl -sf --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" | jq -r "$2"
}

@test "Prometheus scrapes every instance's series with the scripted values and labels" {
    node
    start_exporter 0.5
    start_prometheus
    n=$(wc -l <"$BATS_TEST_TMPDIR/expected")
    [ "$n" -eq 20 ]
    for _ in $(seq 100); do
        got=$(query 'count(DCGM_FI_PROF_SM_ACTIVE{GPU_I_ID!=""})' '.data.result[0].value[1] // 0')
        [ "$got" = "$n" ] && break
        sleep 0.2
    done
    [ "$got" = "$n" ]
    f='.data.result[] | "\(.metric.gpu) \(.metric.GPU_I_ID) \(.metric.GPU_I_PROFILE) \(.value[1])"'
    query 'DCGM_FI_PROF_SM_ACTIVE{GPU_I_ID!=""}' "$f" | sort >"$BATS_TEST_TMPDIR/sm"
    query 'DCGM_FI_PROF_DRAM_ACTIVE{GPU_I_ID!=""}' "$f" | sort >"$BATS_TEST_TMPDIR/dram"
    query 'DCGM_FI_DEV_FB_USED{GPU_I_ID!=""}' "$f" | sort >"$BATS_TEST_TMPDIR/fb"
    diff <(awk '{ printf "%s %s %s %.2f\n", $1, $2, $3, $4 }' "$BATS_TEST_TMPDIR/sm") \
         <(awk '{ print $1, $2, $3, $4 }' "$BATS_TEST_TMPDIR/expected" | sort)
    diff <(awk '{ printf "%s %s %s %.2f\n", $1, $2, $3, $4 }' "$BATS_TEST_TMPDIR/dram") \
         <(awk '{ print $1, $2, $3, $5 }' "$BATS_TEST_TMPDIR/expected" | sort)
    diff "$BATS_TEST_TMPDIR/fb" <(awk '{ print $1, $2, $3, $6 }' "$BATS_TEST_TMPDIR/expected" | sort)
    # dcgm-exporter's labels on an instance series
    labels=$(query 'DCGM_FI_PROF_SM_ACTIVE{gpu="6",GPU_I_PROFILE="3g.71gb"}' '.data.result[0].metric')
    [ "$(jq -r .modelName <<<"$labels")" = "NVIDIA H200" ]
    [ "$(jq -r .UUID <<<"$labels")" = "$(jq -r '.gpus[6].uuid' "$BATS_TEST_TMPDIR/status.json")" ]
    [ "$(jq -r .device <<<"$labels")" = nvidia6 ]
    [ "$(jq -r .pci_bus_id <<<"$labels")" = "$(jq -r '.gpus[6].bus_id' "$BATS_TEST_TMPDIR/status.json")" ]
    [ "$(jq -r .Hostname <<<"$labels")" = "$(hostname)" ]
    # the whole GPU with MIG off: GPU-level series, no instance labels
    [ "$(query 'DCGM_FI_PROF_SM_ACTIVE{gpu="3"}' '.data.result[0].value[1]')" = 0.66 ]
    [ "$(query 'DCGM_FI_PROF_SM_ACTIVE{gpu="3"}' '.data.result[0].metric | has("GPU_I_ID")')" = false ]
    # the layout: one info series per MIG device, UUID and placement as in status
    diff <(query 'migctl_instance_info' '.data.result[] | "\(.metric.gpu) \(.metric.GPU_I_ID) \(.metric.placement_start):\(.metric.placement_size) \(.metric.mig_uuid)"' | sort) \
         <(jq -r '.gpus[] | .index as $g | .gpu_instances[] | "\($g) \(.id) \(.placement.start):\(.placement.size) \(.compute_instances[0].uuid)"' "$BATS_TEST_TMPDIR/status.json" | sort)
    # free capacity and stranded slices: GPU 7 empty fits one 7g; GPU 1 strands a compute slice
    [ "$(query 'migctl_gpu_free_capacity{gpu="7",profile="7g.141gb"}' '.data.result[0].value[1]')" = 1 ]
    [ "$(query 'migctl_gpu_stranded_compute_slices{gpu="1"}' '.data.result[0].value[1]')" = 1 ]
    [ "$(query 'count(migctl_instance_busy == 1)' '.data.result[0].value[1]')" = 20 ]
    # promtool accepts the exposition; its only remark is the camelCase of dcgm-exporter's own modelName label
    if command -v promtool >/dev/null; then
        curl -sf "http://127.0.0.1:$EXPORTER_PORT/metrics" >"$BATS_TEST_TMPDIR/metrics.txt"
        run promtool check metrics <"$BATS_TEST_TMPDIR/metrics.txt"
        [ -z "$(grep -v "label names should be written in 'snake_case' not 'camelCase'" <<<"$output")" ]
        sed 's/modelName=/model_name=/g' "$BATS_TEST_TMPDIR/metrics.txt" | promtool check metrics
    fi
}

@test "200 concurrent scrapes on loopback are all answered" {
    node
    start_exporter 3600 # one sample at start: the window measures scrapes alone
    url="http://127.0.0.1:$EXPORTER_PORT/metrics"
    size=$(curl -sf "$url" | wc -c)
    [ "$size" -gt 10000 ]
    pid=$(cat "$BATS_TEST_TMPDIR/exporter.pid")
    : >"$BATS_TEST_TMPDIR/curl.cfg"
    for _ in $(seq 200); do
        printf 'url = "%s"\noutput = "/dev/null"\n' "$url" >>"$BATS_TEST_TMPDIR/curl.cfg"
    done
    # CPU time of all the exporter's threads, in ns (schedstat: the pool's threads stay)
    cpu() { cat /proc/"$pid"/task/*/schedstat | awk '{ s += $1 } END { printf "%d", s }'; }
    cpu0=$(cpu)
    curl -s --parallel --parallel-immediate --parallel-max 200 -K "$BATS_TEST_TMPDIR/curl.cfg" \
        -w '%{http_code} %{size_download} %{time_total}\n' >"$BATS_TEST_TMPDIR/results"
    cpu1=$(cpu)
    [ "$(wc -l <"$BATS_TEST_TMPDIR/results")" -eq 200 ]
    [ "$(awk -v s="$size" '$1 == 200 && $2 == s' "$BATS_TEST_TMPDIR/results" | wc -l)" -eq 200 ]
    sort -n -k3 "$BATS_TEST_TMPDIR/results" | awk -v c="$((cpu1 - cpu0))" -v s="$size" '
        { l[NR] = $3 * 1000 }
        END { printf "# bench: 200 concurrent scrapes of %d bytes: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; exporter CPU %.3f ms per scrape\n",
              s, l[int(NR * 0.5)], l[int(NR * 0.9)], l[int(NR * 0.99)], l[NR], c / 1e6 / NR }' >&3
}
