#!/usr/bin/env bats
# backend.bats: the two backends agree. The same state file is read through
# the simulator backend directly and through the nvml backend over the shim
# (build/shim/libnvidia-ml.so.1, $MIGCTL_NVML_LIB): `status --json` and
# `profiles -i 0 --json` must be identical but for "backend", and the same
# bad operations must fail with the same message and exit code. Also: which
# backend answered is said, and a library that is missing, is not NVML or
# lacks symbols gives a clear error, never a crash.
#
# Every test names its backend explicitly, so the ctest pass with
# MIGCTL_BACKEND=sim would only repeat the nvml pass: it is skipped there.

setup() {
    [ "${MIGCTL_BACKEND:-}" != sim ] ||
        skip "names both backends itself: runs once, in the nvml pass"
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    [ -f "$MIGCTL_NVML_LIB" ] || skip "no shim library at '$MIGCTL_NVML_LIB'"
}

# A state with GIs, CIs (full and partial), a busy instance and MIG off on GPU 1.
populate() {
    "$MIGCTL" --backend sim mode -i 0 on >/dev/null
    "$MIGCTL" --backend sim create -i 0 3g.40gb@4 2g.20gb@0 1g.10gb -C >/dev/null
    "$MIGCTL" --backend sim sim procs -i 0 --gi 2 --start >/dev/null
}

# Run a command on one backend; keep stdout and stderr apart.
on() {
    local backend=$1
    shift
    local rc=0
    "$MIGCTL" --backend "$backend" "$@" >"$BATS_TEST_TMPDIR/out.$backend" \
        2>"$BATS_TEST_TMPDIR/err.$backend" || rc=$?
    echo "$rc" >"$BATS_TEST_TMPDIR/rc.$backend"
}

# The same command on both backends: same exit code, stdout and stderr.
same_on_both() {
    on sim "$@"
    on nvml "$@"
    diff "$BATS_TEST_TMPDIR/rc.sim" "$BATS_TEST_TMPDIR/rc.nvml"
    diff "$BATS_TEST_TMPDIR/err.sim" "$BATS_TEST_TMPDIR/err.nvml"
    diff <(sed 's/\bnvml\b/BACKEND/; s/\bsim\b/BACKEND/' "$BATS_TEST_TMPDIR/out.sim") \
         <(sed 's/\bnvml\b/BACKEND/; s/\bsim\b/BACKEND/' "$BATS_TEST_TMPDIR/out.nvml")
}

@test "status --json is identical on both backends but for the backend field" {
    populate
    run "$MIGCTL" --backend sim status --json
    [ "$status" -eq 0 ]
    sim_json="$output"
    run "$MIGCTL" --backend nvml status --json
    [ "$status" -eq 0 ]
    nvml_json="$output"
    [ "$(jq -r .backend <<<"$sim_json")" = sim ]
    [ "$(jq -r .backend <<<"$nvml_json")" = nvml ]
    # the state really has what the comparison is about
    [ "$(jq '.gpus[0].gpu_instances | length' <<<"$nvml_json")" -eq 3 ]
    [ "$(jq '[.gpus[0].gpu_instances[].compute_instances[] | select(.busy)] | length' \
        <<<"$nvml_json")" -eq 1 ]
    [ "$(jq -r '.gpus[0].gpu_instances[0].compute_instances[0].uuid' <<<"$nvml_json" | cut -c1-4)" = MIG- ]
    [ "$(jq '.gpus[1].mig.current' <<<"$nvml_json")" = false ]
    diff <(jq -S 'del(.backend)' <<<"$sim_json") <(jq -S 'del(.backend)' <<<"$nvml_json")
}

@test "profiles -i 0 --json is identical on both backends, with MIG on and off" {
    populate
    for gpu in 0 1; do
        run "$MIGCTL" --backend sim profiles -i "$gpu" --json
        [ "$status" -eq 0 ]
        sim_json="$output"
        run "$MIGCTL" --backend nvml profiles -i "$gpu" --json
        [ "$status" -eq 0 ]
        nvml_json="$output"
        [ "$(jq '.gpu_instance_profiles | length' <<<"$nvml_json")" -eq 7 ]
        diff <(jq -S 'del(.backend)' <<<"$sim_json") <(jq -S 'del(.backend)' <<<"$nvml_json")
    done
}

@test "the nvml backend derives the same names and numbers as the offline catalogue" {
    run "$MIGCTL" --backend nvml profiles -i 0 --json
    [ "$status" -eq 0 ]
    live="$output"
    run "$MIGCTL" profiles --model H100-SXM5-80GB --json
    [ "$status" -eq 0 ]
    filter='[.gpu_instance_profiles[] | {name, id, index, compute_slices, memory_slices,
             memory_mib, sm_count, instance_count, placements}]'
    diff <(jq -S "$filter" <<<"$live") <(jq -S "$filter" <<<"$output")
}

@test "every catalogue model: profiles and status agree on both backends" {
    models=$("$MIGCTL" models --json | jq -r '.models[].name')
    [ "$(wc -w <<<"$models")" -ge 14 ]
    spec=$(for m in $models; do printf '1x%s,' "$m"; done)
    "$MIGCTL" sim init --force --gpus "${spec%,}" >/dev/null
    i=0
    for m in $models; do
        "$MIGCTL" --backend sim mode -i "$i" on >/dev/null
        # two of the smallest profile, each with its default compute instance
        first=$("$MIGCTL" profiles --model "$m" --json | jq -r '.gpu_instance_profiles[0].name')
        "$MIGCTL" --backend sim create -i "$i" "$first" "$first" -C >/dev/null
        diff <("$MIGCTL" --backend sim profiles -i "$i" --json | jq -S 'del(.backend)') \
             <("$MIGCTL" --backend nvml profiles -i "$i" --json | jq -S 'del(.backend)')
        i=$((i + 1))
    done
    diff <("$MIGCTL" --backend sim status --json | jq -S 'del(.backend)') \
         <("$MIGCTL" --backend nvml status --json | jq -S 'del(.backend)')
}

@test "overlap: same error and exit code on both backends" {
    populate
    same_on_both create -i 0 2g.20gb@4
    grep -q 'nvmlDeviceCreateGpuInstanceWithPlacement: Insufficient Resources' \
        "$BATS_TEST_TMPDIR/err.nvml"
    [ "$(cat "$BATS_TEST_TMPDIR/rc.nvml")" -eq 3 ]
}

@test "placement not in the list: same error and exit code on both backends" {
    populate
    same_on_both create -i 0 3g.40gb@2
    [ "$(cat "$BATS_TEST_TMPDIR/rc.nvml")" -ne 0 ]
}

@test "GPU index out of range: same error and exit code on both backends" {
    same_on_both status -i 7
    [ "$(cat "$BATS_TEST_TMPDIR/rc.nvml")" -ne 0 ]
    same_on_both create -i 7 1g.10gb
    [ "$(cat "$BATS_TEST_TMPDIR/rc.nvml")" -ne 0 ]
}

@test "destroying a GPU instance whose compute instance is busy: same on both" {
    populate
    same_on_both destroy -i 0 --gi 2 --force
    grep -q 'In use by another client' "$BATS_TEST_TMPDIR/err.nvml"
    [ "$(cat "$BATS_TEST_TMPDIR/rc.nvml")" -ne 0 ]
}

@test "MIG off: same error and exit code on both backends" {
    populate
    same_on_both create -i 1 1g.10gb
    grep -q 'nvmlDeviceCreateGpuInstance: Not Supported' "$BATS_TEST_TMPDIR/err.nvml"
    [ "$(cat "$BATS_TEST_TMPDIR/rc.nvml")" -eq 3 ]
}

@test "a change made through one backend is seen by the other" {
    "$MIGCTL" --backend nvml mode -i 1 on >/dev/null
    "$MIGCTL" --backend nvml create -i 1 4g.40gb -C >/dev/null
    run "$MIGCTL" --backend sim status -i 1 --json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.gpus[0].gpu_instances[0].profile' <<<"$output")" = 4g.40gb ]
    "$MIGCTL" --backend sim destroy -i 1 --gi "$(jq '.gpus[0].gpu_instances[0].id' <<<"$output")" >/dev/null
    run "$MIGCTL" --backend nvml status -i 1 --json
    [ "$(jq '.gpus[0].gpu_instances | length' <<<"$output")" -eq 0 ]
}

@test "a corrupt state file reads the same through the shim" {
    echo '{"version": 1, "gpus": [' >"$MIGCTL_SIM_STATE"
    before=$(sha256sum "$MIGCTL_SIM_STATE")
    same_on_both status
    [ "$(cat "$BATS_TEST_TMPDIR/rc.nvml")" -eq 2 ]
    grep -q "$MIGCTL_SIM_STATE" "$BATS_TEST_TMPDIR/err.nvml"
    [ "$(sha256sum "$MIGCTL_SIM_STATE")" = "$before" ]
}

@test "status says which backend answered" {
    run "$MIGCTL" --backend nvml status
    [ "$status" -eq 0 ]
    grep -qi 'backend: nvml' <<<"$output"
    run "$MIGCTL" --backend sim status
    grep -qi 'backend: sim' <<<"$output"
}

@test "nvml backend: a library that does not load is a backend error, not a crash" {
    MIGCTL_NVML_LIB="$BATS_TEST_TMPDIR/nope/libnvidia-ml.so.1" run "$MIGCTL" --backend nvml status
    [ "$status" -eq 3 ]
    grep -q 'cannot load NVML' <<<"$output"
    [ "$(wc -l <<<"$output")" -eq 1 ]
    # without --backend: a named state file means the simulator, and says so
    MIGCTL_NVML_LIB="$BATS_TEST_TMPDIR/nope/libnvidia-ml.so.1" MIGCTL_BACKEND= \
        run "$MIGCTL" status --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .backend <<<"$output")" = sim ]
    # and with none, NVML not loading falls through to the simulator's own hint
    MIGCTL_NVML_LIB="$BATS_TEST_TMPDIR/nope/libnvidia-ml.so.1" MIGCTL_BACKEND= \
        MIGCTL_SIM_STATE= run "$MIGCTL" status
    [ "$status" -eq 2 ]
    grep -q 'migctl sim init' <<<"$output"
}

@test "nvml backend: a library that is not NVML is refused by name" {
    libc=$(ldconfig -p 2>/dev/null | awk '/libc\.so\.6 /{print $NF; exit}')
    [ -n "$libc" ] || skip "no libc.so.6 path from ldconfig"
    MIGCTL_NVML_LIB="$libc" run "$MIGCTL" --backend nvml status
    [ "$status" -eq 3 ]
    grep -q 'no symbol nvmlInit_v2' <<<"$output"
}

@test "nvml backend: an old driver lacking a symbol gives 'not available on this driver'" {
    command -v cc >/dev/null || skip "no C compiler to build a partial NVML"
    # An NVML with init, count and handles only: everything else is missing.
    cat >"$BATS_TEST_TMPDIR/partial.c" <<'EOF'
int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetCount_v2(unsigned *n) { *n = 1; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **h) { static int d; *h = &d; return i ? 2 : 0; }
EOF
    cc -shared -fPIC -o "$BATS_TEST_TMPDIR/libpartial.so" "$BATS_TEST_TMPDIR/partial.c"
    MIGCTL_NVML_LIB="$BATS_TEST_TMPDIR/libpartial.so" run "$MIGCTL" --backend nvml status
    [ "$status" -eq 3 ]
    grep -q 'nvmlDeviceGetName: Function Not Found (not available on this driver)' <<<"$output"
    MIGCTL_NVML_LIB="$BATS_TEST_TMPDIR/libpartial.so" run "$MIGCTL" --backend nvml profiles -i 0 --json
    [ "$status" -eq 3 ]
    grep -q 'Function Not Found' <<<"$output"
}

# A stand-in nvidia-smi for scripts/check-real-gpu.sh: `mig -lgip`/`-lgipp`
# print the recorded H100 output (tests/data/hardware), `-q` prints the
# identity lines in nvidia-smi's -q layout with the simulated GPU's values.
fake_nvidia_smi() {
    local status_json=$1 bin="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$bin"
    local rec="$MIGCTL_TEST_DATA/hardware/h100-80gb-hbm3.nvidia-smi-mig.txt"
    grep '^|' "$rec" >"$bin/lgip.txt"
    grep '^GPU' "$rec" >"$bin/lgipp.txt"
    jq -r '.gpus[0] |
        "    Product Name                          : \(.name)",
        "    GPU UUID                              : \(.uuid)",
        "    MIG Mode",
        "        Current                           : \(if .mig.current then "Enabled" else "Disabled" end)",
        "        Pending                           : \(if .mig.pending then "Enabled" else "Disabled" end)",
        "    PCI",
        "        Bus Id                            : \(.bus_id)",
        "        Device Id                         : \(.pci_device_id)"' \
        <<<"$status_json" >"$bin/q.txt"
    cat >"$bin/nvidia-smi" <<SH
#!/bin/sh
case "\$*" in
*-lgipp*) cat "$bin/lgipp.txt" ;;
*-lgip*) cat "$bin/lgip.txt" ;;
*-q*) cat "$bin/q.txt" ;;
*) echo "fake nvidia-smi: unexpected \$*" >&2; exit 9 ;;
esac
SH
    chmod +x "$bin/nvidia-smi"
}

@test "check-real-gpu.sh agrees with the recorded H100 nvidia-smi output, and notices a difference" {
    command -v jq >/dev/null || skip "no jq"
    "$MIGCTL" sim init --force --gpus 1xH100-SXM5-80GB >/dev/null
    fake_nvidia_smi "$("$MIGCTL" --backend nvml status --json)"
    PATH="$BATS_TEST_TMPDIR/bin:$PATH" run "$MIGCTL_SOURCE_DIR/scripts/check-real-gpu.sh" \
        --migctl "$MIGCTL"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^ok ' <<<"$output")" -eq 3 ]
    # one 1g.10gb taken: "Free" no longer matches the recording's 7/7
    "$MIGCTL" --backend sim mode -i 0 on >/dev/null
    "$MIGCTL" --backend sim create -i 0 1g.10gb >/dev/null
    PATH="$BATS_TEST_TMPDIR/bin:$PATH" run "$MIGCTL_SOURCE_DIR/scripts/check-real-gpu.sh" \
        --migctl "$MIGCTL"
    [ "$status" -eq 1 ]
    grep -q '^FAIL mig -lgip' <<<"$output"
    grep -q '^FAIL -q identity' <<<"$output" # MIG mode is on now, the fake -q says off
}

@test "concurrent creates through the shim: exactly the seven that fit succeed" {
    "$MIGCTL" --backend nvml mode -i 0 on >/dev/null
    for k in 1 2 3 4 5 6 7 8 9; do
        ( "$MIGCTL" --backend nvml create -i 0 1g.10gb >/dev/null 2>"$BATS_TEST_TMPDIR/c$k.err"
          echo $? >"$BATS_TEST_TMPDIR/c$k.rc" ) &
    done
    wait
    [ "$(cat "$BATS_TEST_TMPDIR"/c*.rc | grep -c '^0$')" -eq 7 ]
    [ "$(cat "$BATS_TEST_TMPDIR"/c*.err | grep -c 'Insufficient Resources')" -eq 2 ]
    run "$MIGCTL" --backend nvml status -i 0 --json
    [ "$status" -eq 0 ]
    [ "$(jq '[.gpus[0].gpu_instances[].placement.start] | unique | length' <<<"$output")" -eq 7 ]
    [ "$(jq '[.gpus[0].gpu_instances[].id] | unique | length' <<<"$output")" -eq 7 ]
}

# The shim built as a driver before R525 (build/shim/r520/): no
# nvmlGpuInstanceCreateComputeInstanceWithPlacement, which apply asks for.
@test "a driver before R525: apply creates compute instances without the placement call" {
    old="$(dirname "$MIGCTL_NVML_LIB")/r520/libnvidia-ml.so.1"
    [ -f "$old" ] || skip "no pre-R525 shim at '$old'"
    "$MIGCTL" sim init --force --gpus 1xH100-SXM5-80GB >/dev/null
    MIGCTL_NVML_LIB="$old" run "$MIGCTL" --backend nvml apply -f "$MIGCTL_TEST_DATA/apply/node.yaml" \
        -c balanced
    [ "$status" -eq 0 ]
    run "$MIGCTL" --backend sim status --json
    [ "$(jq '[.gpus[0].gpu_instances[].compute_instances[]] | length' <<<"$output")" -eq 4 ]
    # a compute instance the driver would place elsewhere: refused, rolled back
    cat >"$BATS_TEST_TMPDIR/ci.yaml" <<'YAML'
version: v1
mig-configs:
  split:
    - devices: all
      mig-enabled: true
      mig-devices:
        "1c.4g.40gb": 2
        "2c.4g.40gb": 1
YAML
    "$MIGCTL" sim init --force --gpus 1xH100-SXM5-80GB >/dev/null
    MIGCTL_NVML_LIB="$old" run "$MIGCTL" --backend nvml apply -f "$BATS_TEST_TMPDIR/ci.yaml" -c split
    ! grep -q 'Function Not Found' <<<"$output"
    if [ "$status" -ne 0 ]; then
        [ "$status" -eq 3 ]
        grep -q 'not available on this driver (before R525), and the driver placed' <<<"$output"
        run "$MIGCTL" --backend sim status --json
        [ "$(jq '.gpus[0].mig.current' <<<"$output")" = false ]
    fi
}

# A real driver has no reset call: migctl runs `nvidia-smi -r -i <bus id>`,
# which refuses a GPU that any NVML client holds, this process included. The
# stand-in nvidia-smi refuses likewise while migctl has NVML initialised, and
# otherwise resets the simulated GPU.
@test "a reset through nvidia-smi: migctl lets go of NVML for it, and goes on after" {
    old="$(dirname "$MIGCTL_NVML_LIB")/r520/libnvidia-ml.so.1"
    [ -f "$old" ] || skip "no pre-R525 shim at '$old'"
    "$MIGCTL" sim init --force --gpus 1xA100-SXM4-40GB >/dev/null
    "$MIGCTL" --backend sim sim procs -i 0 --start >/dev/null
    "$MIGCTL" --backend sim mode -i 0 on >/dev/null # pending: a process holds the GPU
    "$MIGCTL" --backend sim sim procs -i 0 --stop >/dev/null
    [ "$("$MIGCTL" --backend sim status --json | jq '.gpus[0].mig.current')" = false ]
    bin="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$bin"
    export MIGSIM_INIT_LOG="$BATS_TEST_TMPDIR/init.log" MIGSIM_SHUTDOWN_LOG="$BATS_TEST_TMPDIR/down.log"
    : >"$MIGSIM_INIT_LOG"
    : >"$MIGSIM_SHUTDOWN_LOG"
    cat >"$bin/nvidia-smi" <<SH
#!/bin/sh
echo "\$*" >>"$bin/calls"
held=\$(( \$(grep -c "^nvmlInit \$PPID\\$" "\$MIGSIM_INIT_LOG") - \$(grep -c "^nvmlShutdown \$PPID\\$" "\$MIGSIM_SHUTDOWN_LOG") ))
if [ "\$held" -ne 0 ]; then
    echo "GPU is currently in use by another process."
    exit 255
fi
MIGCTL_LOCK="$BATS_TEST_TMPDIR/stand-in.lock" exec "$MIGCTL" --backend sim mode -i 0 --reset --force >/dev/null
SH
    chmod +x "$bin/nvidia-smi"
    cat >"$BATS_TEST_TMPDIR/two.yaml" <<'YAML'
version: v1
mig-configs:
  two:
    - devices: all
      mig-enabled: true
      mig-devices:
        "3g.20gb": 2
YAML
    PATH="$bin:$PATH" MIGCTL_NVML_LIB="$old" run "$MIGCTL" --backend nvml apply \
        -f "$BATS_TEST_TMPDIR/two.yaml" -c two --reset
    [ "$status" -eq 0 ]
    grep -q -- '^-r -i 00000000:' "$bin/calls"
    run "$MIGCTL" --backend sim status --json
    [ "$(jq '.gpus[0].mig.current' <<<"$output")" = true ]
    [ "$(jq '.gpus[0].gpu_instances | length' <<<"$output")" -eq 2 ]
}

@test "a driver that cannot list processes: every instance counts as busy, nothing is destroyed without --force" {
    "$MIGCTL" sim init --force --gpus 1xH100-SXM5-80GB >/dev/null
    "$MIGCTL" --backend sim mode -i 0 on >/dev/null
    "$MIGCTL" --backend sim create -i 0 3g.40gb@4 2g.20gb@0 -C >/dev/null
    export MIGSIM_NO_PROCESS_LIST=1
    run "$MIGCTL" --backend nvml status --json
    [ "$status" -eq 0 ]
    [ "$(jq '[.gpus[0].gpu_instances[].compute_instances[] | select(.busy and .procs_known == false)] | length' <<<"$output")" -eq 2 ]
    run "$MIGCTL" --backend nvml status
    [[ "$output" == *"busy? (the driver cannot list processes"* ]]
    printf 'version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      mig-devices: {"1g.10gb": 7}\n' >"$BATS_TEST_TMPDIR/a.yaml"
    before=$(cksum <"$MIGCTL_SIM_STATE")
    run "$MIGCTL" --backend nvml apply -f "$BATS_TEST_TMPDIR/a.yaml"
    [ "$status" -eq 1 ]
    [[ "$output" == *"may run processes (the driver cannot list them)"* ]]
    run "$MIGCTL" --backend nvml destroy -i 0 --gi 2
    [ "$status" -eq 1 ]
    [[ "$output" == *"may be busy"* ]]
    [ "$(cksum <"$MIGCTL_SIM_STATE")" = "$before" ]
    run "$MIGCTL" --backend nvml destroy -i 0 --gi 2 --force
    [ "$status" -eq 0 ]
}
