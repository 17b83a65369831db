#!/usr/bin/env bats
# user.bats: the CLI as a demanding operator meets it: bad options answered
# in one line, stdin named as such, a closed pipe that does not break an
# apply. Runs once per backend (sim, and nvml over the shim).

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/state.json"
    "$MIGCTL" sim init --gpus 2xH100-SXM5-80GB,1xA100-SXM4-40GB >/dev/null
}

# Exactly: "migctl VERB: MESSAGE" and "Try 'migctl VERB --help'.", nothing else.
one_usage_line() {
    local verb="$1" msg="$2"
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 2 ]
    [ "${lines[0]}" = "migctl $verb: $msg" ]
    [ "${lines[1]}" = "Try 'migctl $verb --help'." ]
}

@test "an option without its value is named in one line, not called unknown" {
    run "$MIGCTL" status -i
    one_usage_line status "-i needs a value"
    run "$MIGCTL" create -i
    one_usage_line create "-i needs a value"
    run "$MIGCTL" destroy -i 0 --gi
    one_usage_line destroy "--gi needs a value"
    run "$MIGCTL" mode -i
    one_usage_line mode "-i needs a value"
    run "$MIGCTL" sim init --gpus
    one_usage_line "sim init" "--gpus needs a value"
    run "$MIGCTL" sim procs -i 0 --count
    one_usage_line "sim procs" "--count needs a value"
    run "$MIGCTL" sim fault --fail-op
    one_usage_line "sim fault" "--fail-op needs a value"
}

@test "an unknown option is named in one line" {
    run "$MIGCTL" status --bogus
    one_usage_line status "unknown option '--bogus'"
    run "$MIGCTL" status -z
    one_usage_line status "unknown option '-z'"
    run "$MIGCTL" create -i 0 -Cx 1g.10gb
    one_usage_line create "unknown option '-x'"
    run "$MIGCTL" destroy -i 0 --gi 1 --nope
    one_usage_line destroy "unknown option '--nope'"
    run "$MIGCTL" mode -i 0 --bogus on
    one_usage_line mode "unknown option '--bogus'"
    run "$MIGCTL" sim init --gpus 1xA30-24GB --bogus
    one_usage_line "sim init" "unknown option '--bogus'"
    run "$MIGCTL" sim procs -q
    one_usage_line "sim procs" "unknown option '-q'"
    run "$MIGCTL" sim fault --nope
    one_usage_line "sim fault" "unknown option '--nope'"
}

@test "mode: an extra word is named as such, not 'say on or off'" {
    run "$MIGCTL" mode -i 0 on off
    one_usage_line mode "unexpected argument 'off'"
    run "$MIGCTL" mode -i 0 --reset on
    one_usage_line mode "--reset takes no on/off, not 'on'"
    run "$MIGCTL" mode -i 0
    one_usage_line mode "say on or off"
    run "$MIGCTL" status -i 0 --json
    [ "$status" -eq 0 ]
    [[ "$output" == *'"current": false'* ]]
}

@test "apply -f -: an error in the config read from stdin says <stdin>:line:col" {
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n        "2g.20gb": 1\n' >"$BATS_TEST_TMPDIR/c.yaml"
    run "$MIGCTL" apply -f - --dry-run <"$BATS_TEST_TMPDIR/c.yaml"
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == "migctl: apply: <stdin>:7:9: no profile '2g.20gb' on A100-SXM4-40GB"* ]]
    run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/c.yaml" --dry-run
    [ "$status" -eq 2 ]
    [[ "${lines[0]}" == "migctl: apply: $BATS_TEST_TMPDIR/c.yaml:7:9: no profile '2g.20gb'"* ]]
}

# Run "$@" with its stdout a pipe whose reader is already gone, SIGPIPE at
# its default action (as under a shell's `| head`), deterministically.
closed_stdout() {
    perl -e 'pipe(my $r, my $w) or die; close $r; open(STDOUT, ">&", $w) or die;
             $SIG{PIPE} = "DEFAULT"; exec @ARGV or die' -- "$@"
}

@test "apply into a closed pipe (| head) finishes the transaction: no stale journal" {
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: [0, 1]\n      mig-enabled: true\n      mig-devices:\n        "1g.10gb": 2\n        "2g.20gb": 1\n        "3g.40gb": 1\n' >"$BATS_TEST_TMPDIR/c.yaml"
    run closed_stdout "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/c.yaml"
    [ "$status" -eq 0 ]
    [ ! -e "$MIGCTL_SIM_STATE.journal" ]
    run "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/c.yaml" --placements
    [ "$status" -eq 0 ]
    run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/c.yaml"
    [ "$status" -eq 0 ]
    [[ "$output" != *"interrupted"* ]]
    [[ "$output" == *"already applied"* ]]
    # --json: the same
    "$MIGCTL" sim reboot >/dev/null
    run closed_stdout "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/c.yaml" --json
    [ "$status" -eq 0 ]
    [ ! -e "$MIGCTL_SIM_STATE.journal" ]
    run "$MIGCTL" assert -f "$BATS_TEST_TMPDIR/c.yaml"
    [ "$status" -eq 0 ]
}

@test "a read verb into a closed pipe dies quietly and leaves the node as it was" {
    before=$(sha256sum "$MIGCTL_SIM_STATE")
    run closed_stdout "$MIGCTL" status
    [ "$status" -eq 0 ] || [ "$status" -eq 141 ] # nothing to say, or SIGPIPE
    [ -z "$output" ]
    [ "$(sha256sum "$MIGCTL_SIM_STATE")" = "$before" ]
    run "$MIGCTL" status --json
    [ "$status" -eq 0 ]
}

@test "sim fault refuses values the state file could not be read back with" {
    run "$MIGCTL" sim fault --fail-op 4294967295
    one_usage_line "sim fault" "--fail-op goes up to 1000000, not '4294967295'"
    run "$MIGCTL" sim fault --kill-op 2000000
    one_usage_line "sim fault" "--kill-op goes up to 1000000, not '2000000'"
    run "$MIGCTL" sim fault --fail-op 1 --rc 200000
    [ "$status" -eq 2 ]
    [[ "${lines[0]}" == "migctl sim fault: --rc needs an NVML error code or name"* ]]
    # the node still opens, and the largest accepted values do too
    run "$MIGCTL" status --json
    [ "$status" -eq 0 ]
    run "$MIGCTL" sim fault --fail-op 1000000 --rc 100000 --kill-op 1000000
    [ "$status" -eq 0 ]
    [[ "$output" == *"fail with NVML return code 100000"* ]]
    run "$MIGCTL" status --json
    [ "$status" -eq 0 ]
    run "$MIGCTL" sim fault --clear
    [ "$status" -eq 0 ]
}

@test "sim procs: an instance id past INT_MAX is refused, not taken for the whole GPU" {
    run "$MIGCTL" sim procs -i 0 --gi 4294967295 --start
    one_usage_line "sim procs" "--gi needs an instance id, not '4294967295'"
    run "$MIGCTL" sim procs -i 0 --gi 1 --ci 2147483648 --start
    one_usage_line "sim procs" "--ci needs an instance id, not '2147483648'"
    run "$MIGCTL" status -i 0 --json
    [ "$status" -eq 0 ]
    [[ "$output" != *'"busy": true'* ]]
    run "$MIGCTL" status -i 0
    [[ "$output" == *"whole GPU, idle"* ]]
}

@test "plan --emit-config: a node name with a '/' is refused, nothing written outside DIR" {
    printf 'nodes:\n  - name: "../escaped"\n    gpus:\n      - {model: H100-SXM5-80GB, count: 1}\n' >"$BATS_TEST_TMPDIR/fleet.yaml"
    printf 'workloads:\n  - name: w\n    memory: 8GiB\n    compute: 1/7\n    isolation: required\n' >"$BATS_TEST_TMPDIR/w.yaml"
    run "$MIGCTL" plan -w "$BATS_TEST_TMPDIR/w.yaml" -f "$BATS_TEST_TMPDIR/fleet.yaml" \
        --emit-config "$BATS_TEST_TMPDIR/out"
    [ "$status" -eq 2 ]
    [[ "$output" == *"node name '../escaped' has a '/'"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/escaped.yaml" ]
    [ ! -e "$BATS_TEST_TMPDIR/out" ]
    # without --emit-config the name is only printed
    run "$MIGCTL" plan -w "$BATS_TEST_TMPDIR/w.yaml" -f "$BATS_TEST_TMPDIR/fleet.yaml"
    [ "$status" -eq 0 ]
    [[ "$output" == *"../escaped/0"* ]]
}

# Run a command on a pseudo-terminal (script(1), util-linux), output on stdout.
on_tty() { env -u NO_COLOR script -qec "$*" /dev/null; }

@test "colour only on a terminal, and NO_COLOR (non-empty, per no-color.org) or --no-color turn it off" {
    command -v script >/dev/null || skip "no script(1)"
    esc=$'\e['
    run "$MIGCTL" layouts --model A30-24GB
    [[ "$output" != *"$esc"* ]]
    run on_tty "$MIGCTL" layouts --model A30-24GB
    [[ "$output" == *"$esc"* ]]
    run env NO_COLOR=1 script -qec "$MIGCTL layouts --model A30-24GB" /dev/null
    [[ "$output" != *"$esc"* ]]
    run env NO_COLOR= script -qec "$MIGCTL layouts --model A30-24GB" /dev/null
    [[ "$output" == *"$esc"* ]]
    run on_tty "$MIGCTL" --no-color layouts --model A30-24GB
    [[ "$output" != *"$esc"* ]]
}

@test "apply: a broken journal is named as the journal, not as a place in the config" {
    printf 'version: v1\nmig-configs:\n  c:\n    - devices: [0]\n      mig-enabled: true\n      mig-devices:\n        "7g.80gb": 1\n' >"$BATS_TEST_TMPDIR/c.yaml"
    echo junk >"$BATS_TEST_TMPDIR/j.json"
    run "$MIGCTL" apply -f "$BATS_TEST_TMPDIR/c.yaml" --journal "$BATS_TEST_TMPDIR/j.json"
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == "migctl: apply: a journal is in the way"*"$BATS_TEST_TMPDIR/j.json:1:"* ]]
    [[ "${lines[0]}" != *"c.yaml"* ]]
}

@test "plan/replan: -w and -f cannot both be standard input; a missing value is named" {
    run "$MIGCTL" plan -w - -f - <"$MIGCTL_SOURCE_DIR/examples/workloads-field-guide.yaml"
    one_usage_line plan "only one of -w and -f can read standard input ('-')"
    run "$MIGCTL" plan --add - -f - </dev/null
    one_usage_line plan "only one of --add and -f can read standard input ('-')"
    run "$MIGCTL" replan -w - -f - </dev/null
    one_usage_line replan "only one of -w and -f can read standard input ('-')"
    run "$MIGCTL" plan -w
    one_usage_line plan "-w needs a value"
    run "$MIGCTL" replan -w x -f y --emit-config
    one_usage_line replan "--emit-config needs a value"
    # one of them from stdin is fine
    run "$MIGCTL" plan -w - -f "$MIGCTL_SOURCE_DIR/examples/fleet-h100.yaml" \
        <"$MIGCTL_SOURCE_DIR/examples/workloads-field-guide.yaml"
    [ "$status" -eq 0 ]
    [[ "$output" == *"lower bound 8"* ]]
}

@test "mode --reset on an Ampere GPU held by one process says it holds it" {
    "$MIGCTL" sim procs -i 2 --start >/dev/null
    run "$MIGCTL" mode -i 2 on
    [ "$status" -eq 0 ]
    [[ "$output" == *"1 process holds the GPU; stop it"* ]]
    run "$MIGCTL" mode -i 2 --reset
    [ "$status" -eq 3 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == "migctl: mode: GPU 2: reset (1 process holds the GPU): nvmlDeviceResetGpu: "* ]]
}

@test "export / generate-config --output -: standard output, not a file named '-'" {
    cd "$BATS_TEST_TMPDIR"
    run "$MIGCTL" export --output -
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "version: v1" ]
    [ ! -e "$BATS_TEST_TMPDIR/-" ]
    run "$MIGCTL" generate-config --model A30-24GB -f - --json
    [ "$status" -eq 0 ]
    [[ "$output" == *'"version": "v1"'* ]]
    [ ! -e "$BATS_TEST_TMPDIR/-" ]
    run "$MIGCTL" export --output "$BATS_TEST_TMPDIR/out.yaml"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$(head -1 "$BATS_TEST_TMPDIR/out.yaml")" = "version: v1" ]
}
