#!/usr/bin/env bats
# robustness.bats: the attacks of issue 10 kept as tests (docs/robustness.md).
# A link at every path migctl writes leaves its target untouched; FIFOs,
# devices and directories given as --journal or --sim are refused at once;
# outputs keep their modes under umask 000; an unprivileged user can neither
# block nor redirect root's lock, and gets the same exit code from create and
# apply --dry-run; applies killed at random points converge without losing a
# busy instance; concurrent writers never tear the state file. Runs once per
# backend (sim, and nvml over the shim).

bats_require_minimum_version 1.5.0

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    NODE="$MIGCTL_TEST_DATA/apply/node.yaml"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB >/dev/null
    VICTIM="$BATS_TEST_TMPDIR/victim"
    printf 'root only\n' >"$VICTIM"
    chmod 600 "$VICTIM"
}

victim_untouched() {
    [ "$(cat "$VICTIM")" = "root only" ]
    [ "$(stat -c %a "$VICTIM")" = 600 ]
}

now_ms() { date +%s%3N; }

# ------------------------------------------------------------ links

@test "a link at every path migctl writes is replaced or refused, never followed" {
    d="$BATS_TEST_TMPDIR"
    # export --output and generate-config --output: the link is replaced
    ln -s "$VICTIM" "$d/export.yaml"
    "$MIGCTL" export --output "$d/export.yaml" >/dev/null
    victim_untouched
    [ ! -L "$d/export.yaml" ] && grep -q "mig-configs" "$d/export.yaml"
    ln -s "$VICTIM" "$d/generated.yaml"
    "$MIGCTL" generate-config --output "$d/generated.yaml" >/dev/null
    victim_untouched
    [ ! -L "$d/generated.yaml" ]
    # the old predictable temp names, pre-made as links, are not used
    for pid in $(seq $$ $(($$ + 50))); do ln -sf "$VICTIM" "$d/journal.json.tmp.$pid"; done
    # the journal: a link there is not read as one, and is moved aside, not
    # followed, by --discard-journal
    ln -s "$VICTIM" "$d/journal.json"
    run "$MIGCTL" apply -f "$NODE" -c balanced --journal "$d/journal.json"
    [ "$status" -eq 2 ]
    [[ "$output" == *"symbolic link"* ]]
    run "$MIGCTL" apply -f "$NODE" -c balanced --journal "$d/journal.json" --discard-journal
    [ "$status" -eq 0 ]
    victim_untouched
    [ -L "$d/journal.json.discarded" ] && [ ! -e "$d/journal.json" ]
    # a link planted while no journal exists is replaced when one is written:
    # an apply killed mid-way leaves a real journal where the link was
    "$MIGCTL" sim fault --kill-op 2 >/dev/null
    ln -s "$VICTIM" "$d/journal.json"
    run "$MIGCTL" apply -f "$NODE" -c four-small --journal "$d/journal.json" --discard-journal
    "$MIGCTL" sim fault --clear >/dev/null
    victim_untouched
    [ ! -L "$d/journal.json" ] && jq -e '.version == 1' "$d/journal.json" >/dev/null
    # plan --emit-config: a link at <node>.yaml is replaced
    mkdir "$d/emit"
    ln -s "$VICTIM" "$d/emit/node-a.yaml"
    printf 'nodes:\n  - {name: node-a, gpus: [{model: H100-SXM5-80GB, count: 1}]}\n' >"$d/fleet.yaml"
    printf 'workloads:\n  - {name: w, replicas: 2, memory: 10GB, compute: 1/7}\n' >"$d/wl.yaml"
    "$MIGCTL" plan -w "$d/wl.yaml" -f "$d/fleet.yaml" --emit-config "$d/emit" >/dev/null
    victim_untouched
    [ ! -L "$d/emit/node-a.yaml" ] && grep -q "mig-configs" "$d/emit/node-a.yaml"
    # a link as the emit directory itself is refused
    ln -s "$d/elsewhere" "$d/emit-link"
    mkdir "$d/elsewhere"
    run "$MIGCTL" plan -w "$d/wl.yaml" -f "$d/fleet.yaml" --emit-config "$d/emit-link"
    [ "$status" -ne 0 ]
    [ -z "$(ls "$d/elsewhere")" ]
    # the simulator's state: sim init --force replaces a link at the path
    ln -s "$VICTIM" "$d/linked-state.json"
    "$MIGCTL" --sim "$d/linked-state.json" sim init --gpus 1xA30-24GB --force >/dev/null
    victim_untouched
    [ ! -L "$d/linked-state.json" ]
    # the locks: a link at apply's lock or the simulator's lock is refused
    ln -s "$VICTIM" "$d/apply-link.lock"
    run "$MIGCTL" apply -f "$NODE" -c four-small --lock "$d/apply-link.lock"
    [ "$status" -eq 2 ]
    [[ "$output" == *"symbolic link"* ]]
    victim_untouched
    # create, destroy and mode fail closed the same way (they used to go on)
    before=$(cksum <"$MIGCTL_SIM_STATE")
    for verb in "create -i 1 1g.10gb" "destroy -i 0 --gi 1" "mode -i 1 off"; do
        run env MIGCTL_LOCK="$d/apply-link.lock" "$MIGCTL" $verb
        [ "$status" -eq 2 ]
        [[ "$output" == *"refusing the lock $d/apply-link.lock: it is a symbolic link"* ]]
    done
    [ "$(cksum <"$MIGCTL_SIM_STATE")" = "$before" ]
    victim_untouched
    rm -f "$MIGCTL_SIM_STATE.lock"
    ln -s "$VICTIM" "$MIGCTL_SIM_STATE.lock"
    run "$MIGCTL" --backend sim create -i 0 1g.10gb
    [ "$status" -eq 2 ]
    victim_untouched
    rm -f "$d"/journal.json.tmp.*
}

@test "--lock naming the simulator's own lock or state file never deadlocks" {
    run timeout 10 "$MIGCTL" apply -f "$NODE" -c pinned --lock "$MIGCTL_SIM_STATE.lock"
    [ "$status" -eq 0 ]
    run timeout 10 "$MIGCTL" apply -f "$NODE" -c four-small --lock "$MIGCTL_SIM_STATE"
    [ "$status" -eq 2 ] # refused: the lock would be the state file
    [[ "$output" == *"is the simulator state file"* ]]
    run timeout 10 "$MIGCTL" apply -f "$NODE" -c four-small --journal "$MIGCTL_SIM_STATE"
    [ "$status" -eq 2 ]
    run -0 env MIGCTL_LOCK="$MIGCTL_SIM_STATE.lock" timeout 10 "$MIGCTL" mode -i 1 on
    "$MIGCTL" status --json | jq -e '.gpus[1].mig.current == true' >/dev/null
}

# ------------------------------------------------------------ hostile inputs

@test "a FIFO, /dev/zero or a directory as --journal or --sim is refused at once (exit 2)" {
    mkfifo "$BATS_TEST_TMPDIR/fifo"
    for bad in "$BATS_TEST_TMPDIR/fifo" /dev/zero "$BATS_TEST_TMPDIR"; do
        t0=$(now_ms)
        run timeout 5 "$MIGCTL" apply -f "$NODE" -c balanced --journal "$bad"
        [ "$status" -eq 2 ]
        [ $(($(now_ms) - t0)) -lt 1000 ]
        t0=$(now_ms)
        run timeout 5 "$MIGCTL" --sim "$bad" status
        [ "$status" -eq 2 ]
        [[ "$output" == *"not a regular file"* || "$output" == *"is a directory"* ]]
        [ $(($(now_ms) - t0)) -lt 1000 ]
    done
    [ ! -e "$BATS_TEST_TMPDIR/fifo.lock" ] # refused before any lock was made beside it
}

@test "a 100 MB or 100k-deep state file or journal is refused, in under a second" {
    truncate -s 100M "$BATS_TEST_TMPDIR/big"
    t0=$(now_ms)
    run timeout 5 "$MIGCTL" --sim "$BATS_TEST_TMPDIR/big" status
    [ "$status" -eq 2 ]
    [[ "$output" == *"limit"* ]]
    run timeout 5 "$MIGCTL" apply -f "$NODE" -c balanced --journal "$BATS_TEST_TMPDIR/big"
    [ "$status" -eq 2 ]
    [[ "$output" == *"limit"* ]]
    [ $(($(now_ms) - t0)) -lt 1000 ]
    head -c 100000 /dev/zero | tr '\0' '[' >"$BATS_TEST_TMPDIR/deep"
    t0=$(now_ms)
    run timeout 5 "$MIGCTL" --sim "$BATS_TEST_TMPDIR/deep" status
    [ "$status" -eq 2 ]
    [[ "$output" == *"depth"* ]]
    run timeout 5 "$MIGCTL" apply -f "$NODE" -c balanced --journal "$BATS_TEST_TMPDIR/deep"
    [ "$status" -eq 2 ]
    [[ "$output" == *"depth"* ]]
    [ $(($(now_ms) - t0)) -lt 1000 ]
}

@test "an unreadable journal: status says so, apply refuses, --discard-journal moves it aside" {
    printf '{"version": 1, "pid": tru' >"$MIGCTL_SIM_STATE.journal"
    run "$MIGCTL" status
    [[ "$output" == *"Journal: $MIGCTL_SIM_STATE.journal cannot be read"*"--discard-journal"* ]]
    "$MIGCTL" status --json | jq -e '.journal.readable == false and (.journal.error | length > 0)' >/dev/null
    run "$MIGCTL" apply -f "$NODE" -c balanced
    [ "$status" -eq 2 ]
    [[ "$output" == *"a journal is in the way"*"--discard-journal"* ]]
    run "$MIGCTL" apply -f "$NODE" -c balanced --dry-run --discard-journal
    [ "$status" -eq 0 ]
    [ -e "$MIGCTL_SIM_STATE.journal" ] # a dry run changes nothing
    run "$MIGCTL" apply -f "$NODE" -c balanced --discard-journal
    [ "$status" -eq 0 ]
    [[ "$output" == *"discarded the unreadable journal"* ]]
    [ ! -e "$MIGCTL_SIM_STATE.journal" ]
    [ "$(cat "$MIGCTL_SIM_STATE.journal.discarded")" = '{"version": 1, "pid": tru' ]
    "$MIGCTL" status --json | jq -e '.journal == null' >/dev/null
}

@test "umask 000 gives no world-writable output" {
    d="$BATS_TEST_TMPDIR"
    printf 'nodes:\n  - {name: n1, gpus: [{model: H100-SXM5-80GB, count: 1}]}\n' >"$d/fleet.yaml"
    printf 'workloads:\n  - {name: w, replicas: 2, memory: 10GB, compute: 1/7}\n' >"$d/wl.yaml"
    (
        umask 000
        "$MIGCTL" export --output "$d/out.yaml" >/dev/null
        "$MIGCTL" generate-config --output "$d/gen.yaml" >/dev/null
        "$MIGCTL" plan -w "$d/wl.yaml" -f "$d/fleet.yaml" --emit-config "$d/emitted" >/dev/null
        "$MIGCTL" --sim "$d/s2.json" sim init --gpus 1xA30-24GB >/dev/null
        "$MIGCTL" --sim "$d/s2.json" create -i 0 1g.6gb >/dev/null 2>&1 || true
    )
    [ "$(stat -c %a "$d/out.yaml")" = 644 ]
    [ "$(stat -c %a "$d/gen.yaml")" = 644 ]
    [ "$(stat -c %a "$d/emitted")" = 755 ]
    [ "$(stat -c %a "$d/emitted/n1.yaml")" = 644 ]
    [ "$(stat -c %a "$d/s2.json")" = 644 ]
    [ "$(stat -c %a "$d/s2.json.lock")" = 600 ]
    [ "$(stat -c %a "$d/s2.json.apply.lock")" = 600 ]
}

# ------------------------------------------------------------ another user

# Run as the test user, with a clean environment apart from migctl's.
as_user() {
    setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --clear-groups \
        env -i PATH=/usr/bin:/bin HOME="$USER_HOME" MIGCTL_BACKEND="$MIGCTL_BACKEND" \
        MIGCTL_NVML_LIB="$U_NVML" "$@"
}

user_setup() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (useradd)"
    command -v useradd >/dev/null && command -v setpriv >/dev/null || skip "no useradd/setpriv"
    TEST_USER="migt$$$RANDOM"
    TEST_USER=${TEST_USER:0:30}
    useradd --no-create-home --shell /usr/sbin/nologin "$TEST_USER"
    USER_HOME=$(mktemp -d /tmp/migctl-user.XXXXXX)
    chown "$TEST_USER:" "$USER_HOME"
    chmod 700 "$USER_HOME"
    # copies the user can reach wherever the build is (a checkout under
    # /root is not): migctl (migcore is linked in), the shim, the config
    SHARE=$(mktemp -d /tmp/migctl-share.XXXXXX)
    chmod 755 "$SHARE"
    cp "$MIGCTL" "$SHARE/migctl"
    cp "$NODE" "$SHARE/node.yaml"
    U_MIGCTL="$SHARE/migctl" U_NODE="$SHARE/node.yaml" U_NVML=
    if [ -n "${MIGCTL_NVML_LIB:-}" ] && [ -f "$MIGCTL_NVML_LIB" ]; then
        cp "$MIGCTL_NVML_LIB" "$SHARE/libnvidia-ml.so.1"
        U_NVML="$SHARE/libnvidia-ml.so.1"
    fi
    chmod -R a+rX "$SHARE"
    as_user "$U_MIGCTL" --help >/dev/null 2>&1 || {
        user_cleanup
        skip "the build is not reachable by another user"
    }
}

user_cleanup() {
    [ -n "${TEST_USER:-}" ] || return 0
    if [ -n "${HOLDER:-}" ]; then
        kill "$HOLDER" 2>/dev/null || true
        wait "$HOLDER" 2>/dev/null || true
    fi
    # the decoy the user may have created at the old default
    [ "$(stat -c %U /run/lock/migctl.lock 2>/dev/null)" = "$TEST_USER" ] && rm -f /run/lock/migctl.lock
    userdel "$TEST_USER" 2>/dev/null || true
    rm -rf "$USER_HOME" "$SHARE"
    TEST_USER=
}

teardown() {
    user_cleanup # also when a test failed half-way
}

@test "another user can neither hold nor plant root's lock, nor redirect root's writes" {
    user_setup
    # root's node: state in a directory the user may read but not write
    root_dir="$BATS_TEST_TMPDIR/root-node"
    mkdir -m 755 "$root_dir"
    export MIGCTL_SIM_STATE="$root_dir/state.json"
    "$MIGCTL" sim init --gpus 1xH100-SXM5-80GB >/dev/null
    "$MIGCTL" apply -f "$NODE" -c balanced >/dev/null # creates the lock, 0600
    [ "$(stat -c %a "$MIGCTL_SIM_STATE.apply.lock")" = 600 ]
    # the user cannot open root's lock to hold it ...
    run as_user flock -n "$MIGCTL_SIM_STATE.apply.lock" true
    [ "$status" -ne 0 ]
    # ... nor take the legacy lock path from root: it is no longer used
    as_user sh -c "ln -sf $VICTIM /tmp/$TEST_USER.lock" || true
    as_user sh -c "exec 9>>/run/lock/migctl.lock; flock -n 9; exec sleep 30" >/dev/null 2>&1 3>&- &
    HOLDER=$! # setpriv, env and sh all exec: this pid is the sleep holding the lock
    # root's apply goes on, not waiting (--no-wait fails at once if it had to)
    run timeout 10 "$MIGCTL" apply -f "$NODE" -c four-small --no-wait
    [ "$status" -eq 0 ]
    # a lock path in a directory others may write is refused, nothing created
    run "$MIGCTL" apply -f "$NODE" -c balanced --lock "/tmp/$TEST_USER.lock"
    [ "$status" -eq 2 ]
    [[ "$output" == *"writable by everyone"* ]]
    victim_untouched
    # a lock file the user made in the user's own directory is refused by root
    as_user sh -c "touch $USER_HOME/planted.lock"
    run "$MIGCTL" apply -f "$NODE" -c balanced --lock "$USER_HOME/planted.lock"
    [ "$status" -eq 3 ]
    [[ "$output" == *"owned by uid"* ]]
    kill "$HOLDER" 2>/dev/null || true
    wait "$HOLDER" 2>/dev/null || true
    HOLDER=
    rm -f "/tmp/$TEST_USER.lock"
    # the same missing permission, the same exit code: create and apply --dry-run
    run as_user env MIGCTL_SIM_STATE="$MIGCTL_SIM_STATE" "$U_MIGCTL" create -i 0 1g.10gb
    create_status=$status
    [[ "$output" == *"migctl: create: "*"lock directory $root_dir"* ]]
    run as_user env MIGCTL_SIM_STATE="$MIGCTL_SIM_STATE" "$U_MIGCTL" apply -f "$U_NODE" -c balanced --dry-run
    [ "$status" -eq "$create_status" ]
    [ "$status" -eq 3 ]
    [[ "$output" == *"migctl: apply: "*"lock directory $root_dir"* ]]
    # the owner of a simulated node may lock it: the user's own node works
    run as_user env MIGCTL_SIM_STATE="$USER_HOME/state.json" sh -c \
        "'$U_MIGCTL' sim init --gpus 1xH100-SXM5-80GB && '$U_MIGCTL' apply -f '$U_NODE' -c pinned && '$U_MIGCTL' create -i 0 1g.10gb"
    [ "$status" -eq 0 ]
    [ "$(stat -c %U "$USER_HOME/state.json.apply.lock")" = "$TEST_USER" ]
}

# ------------------------------------------------------------ kill and concurrency

# "profile@start ..." of GPU $1, sorted
profiles() {
    "$MIGCTL" status --json | jq -r --argjson i "$1" \
        '[.gpus[$i].gpu_instances[] | .profile] | sort | join(" ")'
}

@test "applies killed at random points converge and never lose a busy instance" {
    "$MIGCTL" apply -f "$NODE" -c balanced >/dev/null
    # a busy 3g.40gb on each GPU: both configs keep it, so no apply may touch it
    busy0=$("$MIGCTL" status --json | jq -r '.gpus[0].gpu_instances[] | select(.profile == "3g.40gb") | .id')
    busy1=$("$MIGCTL" status --json | jq -r '.gpus[1].gpu_instances[] | select(.profile == "3g.40gb") | .id')
    "$MIGCTL" sim procs -i 0 --gi "$busy0" --start >/dev/null
    "$MIGCTL" sim procs -i 1 --gi "$busy1" --start >/dev/null
    iterations=${MIGCTL_KILL_ITERATIONS:-25}
    configs=(four-small balanced)
    signals=(KILL TERM KILL INT)
    interrupted=0
    for i in $(seq "$iterations"); do
        want=${configs[$((i % 2))]}
        "$MIGCTL" apply -f "$NODE" -c "$want" >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 6))$((RANDOM % 10))"
        kill -"${signals[$((i % 4))]}" "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        if [ -e "$MIGCTL_SIM_STATE.journal" ]; then
            interrupted=$((interrupted + 1))
            # status says a journal is there, and what it records
            if [ "$interrupted" -eq 1 ]; then
                "$MIGCTL" status --json | jq -e --arg c "$want" \
                    '.journal.readable and .journal.config.name == $c and .journal.operations > 0' >/dev/null
                "$MIGCTL" status | grep -q "^Journal: $MIGCTL_SIM_STATE.journal: an apply (pid"
            fi
        fi
        # the rerun converges to the config, whatever state the kill left
        run "$MIGCTL" apply -f "$NODE" -c "$want"
        [ "$status" -eq 0 ] || { echo "iteration $i ($want): $output"; false; }
        [ ! -e "$MIGCTL_SIM_STATE.journal" ]
        for g in 0 1; do
            case $want in
            balanced) [ "$(profiles $g)" = "1g.10gb 1g.10gb 2g.20gb 3g.40gb" ] ;;
            four-small) [ "$(profiles $g)" = "1g.10gb 1g.10gb 1g.10gb 1g.10gb 3g.40gb" ] ;;
            esac
        done
        "$MIGCTL" status --json | jq -e --argjson a "$busy0" --argjson b "$busy1" \
            '([.gpus[0].gpu_instances[] | select(.id == $a and .profile == "3g.40gb")] | length == 1) and
             ([.gpus[1].gpu_instances[] | select(.id == $b and .profile == "3g.40gb")] | length == 1)' >/dev/null
    done
    echo "# kill test ($MIGCTL_BACKEND): $iterations applies killed, $interrupted left a journal; all converged, busy instances kept" >&3
    [ "$interrupted" -gt 0 ] # some kills did land mid-apply
}

@test "concurrent creates, destroys and applies never tear the state file" {
    "$MIGCTL" apply -f "$NODE" -c off >/dev/null
    "$MIGCTL" mode -i 0 on >/dev/null
    "$MIGCTL" mode -i 1 on >/dev/null
    d="$BATS_TEST_TMPDIR"
    rounds=${MIGCTL_CONCURRENCY_ROUNDS:-2}
    # GPU 1: creates and destroys racing each other; GPU 0: creates racing applies
    (for _ in $(seq $((6 * rounds))); do "$MIGCTL" create -i 0 1g.10gb >/dev/null 2>&1; done) &
    a=$!
    (for r in $(seq "$rounds"); do
        for _ in $(seq 6); do "$MIGCTL" create -i 1 1g.10gb >/dev/null 2>&1; done
        [ "$r" -lt "$rounds" ] && for id in $("$MIGCTL" status --json | jq '.gpus[1].gpu_instances[].id'); do
            "$MIGCTL" destroy -i 1 --gi "$id" >/dev/null 2>&1
        done
    done) &
    b=$!
    (for _ in $(seq $((3 * rounds))); do "$MIGCTL" apply -f "$NODE" -c pinned >/dev/null 2>&1; done) &
    c=$!
    # snapshots while they run: every one must be a whole, valid state
    snaps=0
    while kill -0 "$a" 2>/dev/null || kill -0 "$b" 2>/dev/null || kill -0 "$c" 2>/dev/null; do
        cat "$MIGCTL_SIM_STATE" >"$d/snap.$snaps" # one open: the old or the new inode, whole
        snaps=$((snaps + 1))
    done
    wait "$a" "$b" "$c" || true
    mkdir "$d/snaps" && mv "$d"/snap.* "$d/snaps/"
    # one jq over all of them: a torn file fails to parse, and fails this
    jq -s -e 'length > 0 and (map(.version == 1 and (.gpus | length == 2)) | all)' "$d"/snaps/* >/dev/null
    echo "# concurrency ($MIGCTL_BACKEND): $((15 * rounds)) creates and applies (and the destroys between rounds) in 3 processes, $snaps snapshots of the state file, all whole" >&3
    [ "$snaps" -gt 0 ]
    run "$MIGCTL" status --json
    [ "$status" -eq 0 ]
    # every create either happened or was refused for want of room: GPU 1
    # has no pinned config and ends with 6 more 1g.10gb, GPU 0 as the last
    # apply or create left it, a valid layout either way
    [ "$(jq '.gpus[1].gpu_instances | length' <<<"$output")" -ge 6 ]
    "$MIGCTL" apply -f "$NODE" -c pinned --dry-run >/dev/null
}
