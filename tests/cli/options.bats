#!/usr/bin/env bats
# options.bats: one option path for every verb (issue 13 item 2). A bad
# option is named in the error, whatever verb and whatever form (a lone -Z, a
# cluster -Zq, a long --bogus), and a missing value names the option; every
# usage error exits 2 and points at the verb's --help. Before the verbs shared
# cli_option_error, seven of them named the verb itself ("unknown option
# 'export'") for a cluster.

setup() {
    export MIGCTL_SIM_STATE="$BATS_TEST_TMPDIR/sim.json"
    "$MIGCTL" sim init --gpus 1xA30-24GB >/dev/null
}

VERBS="models profiles layouts status mode create destroy apply assert export generate-config plan replan"

@test "every verb names -Z, in a cluster and alone, and --bogus" {
    for v in $VERBS; do
        for arg in -Zq -Z --bogus; do
            run "$MIGCTL" $v $arg
            [ "$status" -eq 2 ] || { echo "$v $arg: exit $status"; false; }
            want="unknown option '$arg'"
            [ "$arg" = -Zq ] && want="unknown option '-Z'"
            [ "${lines[0]}" = "migctl $v: $want" ] || { echo "$v $arg: ${lines[0]}"; false; }
            [ "${lines[1]}" = "Try 'migctl $v --help'." ]
        done
    done
}

@test "the sim subcommands name the bad option too" {
    for s in init procs fault; do
        run "$MIGCTL" sim $s -Zq
        [ "$status" -eq 2 ]
        [ "${lines[0]}" = "migctl sim $s: unknown option '-Z'" ]
    done
}

@test "a missing value names the option, for every verb that takes one" {
    for pair in "profiles -m" "layouts -m" "status -i" "mode -i" "create -i" "destroy -i" \
        "apply -f" "assert -f" "export -o" "generate-config -m" "plan -w" "replan -w"; do
        set -- $pair
        run "$MIGCTL" $1 $2
        [ "$status" -eq 2 ]
        [ "${lines[0]}" = "migctl $1: $2 needs a value" ] || { echo "$pair: ${lines[0]}"; false; }
    done
}

@test "--help exits 0 for every verb and prints its usage on stdout" {
    for v in $VERBS; do
        run "$MIGCTL" $v --help
        [ "$status" -eq 0 ]
        [[ "$output" == *"usage: migctl $v"* ]] || { echo "$v: ${lines[0]}"; false; }
    done
}
