/*
 * test_engine_review.c: targeted cases for the engine's safety and
 * exactness that the broad suites (test_apply, test_reconcile) do not reach:
 *  - an Ampere GPU whose MIG disable awaits a reset while it still holds
 *    instances: apply --reset must destroy them first and reset after, not
 *    reset first (which wipes them) and then fail on the destroys;
 *  - cancelling a pending disable needs no reset, and the plan says so;
 *  - a failure after apply --reset reset a GPU is a complete rollback;
 *  - hooks when migctl was started with SIGCHLD ignored.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply/apply.h"
#include "gpu/sim.h"
#include "util/nvml_rc.h"

#include "tests/unit/apply_fixture.h"

#define HDR "version: v1\nmig-configs:\n"

static const char *const cfg_a30 =
    HDR "  off:\n    - devices: all\n      mig-enabled: false\n"
        "  on:\n    - devices: all\n      mig-enabled: true\n"
        "      mig-devices: {\"2g.12gb\": 2}\n";

/* ------------------------------------------------------------ pending disable */

/* An A30 held by a process: "off" destroys its instances and leaves the
 * disable pending. An instance is then created by hand (MIG is still
 * current). With the GPU released, apply "off" --reset must end with MIG off
 * and succeed: the instances are destroyed, then the GPU reset. */
static void test_pending_disable_with_instances_then_reset(void **st)
{
    (void)st;
    sim_reinit("1xA30-24GB");
    apply_options o = base_options();
    apply_report r;
    assert_int_equal(run_apply(cfg_a30, "on", &o, &r), APPLY_APPLIED);
    procs(0, -1, true);
    assert_int_equal(run_apply(cfg_a30, "off", &o, &r), APPLY_PENDING_RESET);
    mig_gpu_state g;
    read_gpu(0, &g);
    assert_true(g.mig_current);
    assert_false(g.mig_pending);
    assert_int_equal(g.n_gi, 0);

    mig_backend *b = open_backend();
    mig_error e = {0};
    unsigned gi = 0, ci = 0;
    check(b->ops->create_gi(b, 0, 14 /* 1g.6gb */, 0, &gi, &e), &e, "create_gi");
    check(b->ops->create_ci(b, 0, gi, 0, 0, &ci, &e), &e, "create_ci");
    backend_close(b);
    procs(0, -1, false);

    /* Without --reset: still pending, nothing destroyed. */
    assert_int_equal(run_apply(cfg_a30, "off", &o, &r), APPLY_PENDING_RESET);
    read_gpu(0, &g);
    assert_int_equal(g.n_gi, 1);

    o.reset = true;
    apply_result res = run_apply(cfg_a30, "off", &o, &r);
    if (res != APPLY_APPLIED)
        fail_msg("apply off --reset: %s: %s", apply_result_name(res), r.error.msg);
    assert_int_equal(r.n_resets, 1);
    assert_false(r.rolled_back);
    read_gpu(0, &g);
    assert_false(g.mig_current);
    assert_false(g.mig_pending);
    assert_int_equal(g.n_gi, 0);
    assert_int_equal(access(journal_path, F_OK), -1);
}

/* ------------------------------------------------------------ needs_reset */

/* An A30 with MIG on and a disable pending (held when "off" was applied):
 * applying "on" again only cancels the pending request; the mode does not
 * change, so no reset is needed and the plan must not say one is. */
static void test_cancelled_pending_disable_needs_no_reset(void **st)
{
    (void)st;
    const mig_model *m = mig_model_by_name("A30-24GB");
    assert_non_null(m);
    mig_gpu_state g;
    memset(&g, 0, sizeof g);
    g.model = m;
    g.mig_capable = true;
    g.mig_current = true;
    g.mig_pending = false;
    mig_desired_gpu on = {.selected = true, .mig_enabled = true};
    mig_plan p = {0};
    mig_gpu_plan gp;
    mig_error e = {0};
    assert_int_equal(reconcile_gpu(&g, &on, false, &p, &gp, &e), 0);
    assert_true(gp.mode_change);
    assert_int_equal(gp.n_ops, 1);
    assert_false(gp.needs_reset);
    mig_plan_free(&p);

    /* The same GPU asked for "off": the disable is already pending and still
     * needs its reset. */
    mig_desired_gpu off = {.selected = true, .mig_enabled = false};
    mig_plan p2 = {0};
    assert_int_equal(reconcile_gpu(&g, &off, false, &p2, &gp, &e), 0);
    assert_false(gp.mode_change);
    assert_true(gp.needs_reset);
    mig_plan_free(&p2);

    /* End to end: the apply goes through with no reset, and says none. */
    sim_reinit("1xA30-24GB");
    apply_options o = base_options();
    apply_report r;
    assert_int_equal(run_apply(cfg_a30, "on", &o, &r), APPLY_APPLIED);
    procs(0, -1, true);
    assert_int_equal(run_apply(cfg_a30, "off", &o, &r), APPLY_PENDING_RESET);
    parsed_config pc;
    check(cfg_parse_string(cfg_a30, strlen(cfg_a30), "test.yaml", &pc.f, &e), &e, "parse");
    pc.c = cfg_select(&pc.f, "on", &e);
    assert_non_null(pc.c);
    mig_backend *b = open_backend();
    apply_session s;
    check(apply_prepare(b, pc.c, &o, &s, &e), &e, "apply_prepare");
    assert_false(s.plan.gpus[0].needs_reset);
    apply_execute(b, &s, &o, &r);
    assert_int_equal(r.result, APPLY_APPLIED);
    assert_int_equal(r.n_resets, 0);
    apply_session_free(&s);
    backend_close(b);
    cfg_free(&pc.f);
}

/* ------------------------------------------------------------ hooks */

/* migctl started with SIGCHLD ignored (a launcher's SIG_IGN survives exec):
 * a hook that exits 0 must still count as a success, a failing one as a
 * failure, and the caller's disposition must be back afterwards. */
static void test_hooks_with_sigchld_ignored(void **st)
{
    (void)st;
    static const char *const text =
        "version: v1\nhooks:\n"
        "  apply-start:\n    - command: sh\n      args: [\"-c\", \"exit 0\"]\n"
        "  apply-exit:\n    - command: sh\n      args: [\"-c\", \"exit 3\"]\n";
    hooks_file h;
    mig_error e = {0};
    check(hooks_parse_string(text, strlen(text), "hooks.yaml", &h, &e), &e, "hooks_parse_string");
    struct sigaction ign = {.sa_handler = SIG_IGN}, old, now;
    sigemptyset(&ign.sa_mask);
    assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
    hook_run_options o = {.timeout_ms = 5000};
    int ok = hooks_run(&h, HOOK_APPLY_START, &o, &e);
    char msg[sizeof e.msg];
    snprintf(msg, sizeof msg, "%s", e.msg);
    mig_error e2 = {0};
    int bad = hooks_run(&h, HOOK_APPLY_EXIT, &o, &e2);
    sigaction(SIGCHLD, NULL, &now);
    sigaction(SIGCHLD, &old, NULL);
    hooks_free(&h);
    if (ok != 0)
        fail_msg("apply-start hook failed: %s", msg);
    assert_int_equal(bad, -1);
    assert_non_null(strstr(e2.msg, "exited with status 3"));
    assert_true(now.sa_handler == SIG_IGN);
}

/* ------------------------------------------------------------ rollback after a reset */

static void arm_fail(unsigned fail_op)
{
    mig_error e = {0};
    sim_state *s = sim_open(state_path, true, &e);
    if (!s)
        fail_msg("sim_open: %s", e.msg);
    s->fail_op = fail_op;
    s->fail_rc = NVML_ERROR_UNKNOWN;
    check(sim_commit(s, &e), &e, "sim_commit");
    sim_close(s);
}

/* An A30 left with MIG on pending a reset, then released: apply --reset
 * resets it and an operation after the reset fails. The rollback destroys
 * what was created; the reset itself cannot be undone (MIG on is now
 * current), and that is not an incomplete rollback: restored, journal
 * gone, exit 3, and a rerun converges. */
static void test_failure_after_reset_is_restored(void **st)
{
    (void)st;
    sim_reinit("1xA30-24GB");
    procs(0, -1, true);
    apply_options o = base_options();
    apply_report r;
    assert_int_equal(run_apply(cfg_a30, "on", &o, &r), APPLY_PENDING_RESET);
    procs(0, -1, false);
    o.reset = true;
    arm_fail(2); /* the first operation after the reset */
    assert_int_equal(run_apply(cfg_a30, "on", &o, &r), APPLY_FAILED);
    assert_int_equal(apply_exit_code(&r), 3);
    assert_int_equal(r.n_resets, 1);
    assert_true(r.rolled_back);
    if (!r.restored)
        fail_msg("not restored: %s (%s)", r.error.msg, r.gpus[0].reason);
    assert_string_equal(r.gpus[0].status, "restored");
    assert_null(strstr(r.error.msg, "INCOMPLETE"));
    assert_int_equal(access(journal_path, F_OK), -1);
    mig_gpu_state g;
    read_gpu(0, &g);
    assert_true(g.mig_current);
    assert_true(g.mig_pending);
    assert_int_equal(g.n_gi, 0);
    o.reset = false;
    assert_int_equal(run_apply(cfg_a30, "on", &o, &r), APPLY_APPLIED);
    read_gpu(0, &g);
    assert_int_equal(g.n_gi, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failure_after_reset_is_restored, setup, teardown),
        cmocka_unit_test(test_hooks_with_sigchld_ignored),
        cmocka_unit_test_setup_teardown(test_cancelled_pending_disable_needs_no_reset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pending_disable_with_instances_then_reset, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
