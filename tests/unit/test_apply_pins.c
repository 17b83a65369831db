/*
 * test_apply_pins.c: tests that pin behaviour of the apply side that the
 * rest of the suite let drift (issue 13, "What the tests miss": each test
 * here kills a mutation that survived every other test; scripts/mutate.sh
 * lists them).
 *
 *  - Rollback on a node of two GPUs, with a config for GPU 0 only and an
 *    injected failure, reports GPU 0 alone as restored: GPU 1 was never
 *    touched, and a report naming it would tell an operator that a GPU they
 *    did not ask about was changed and changed back.
 *  - needs_reset for a non-Ampere GPU whose mode change is already pending
 *    (the other suites cover it on an A100 only).
 *  - The reconcile tie-breaks: of two equal-cost instances, the one listed
 *    first is kept (the walk keeps before it destroys, GI by GI, and a later
 *    leaf replaces the best only when strictly better); an idle instance goes
 *    before a busy one under --force, whatever their order.
 *  - operations = 2 x destroyed + (desired instances - current instances), the
 *    identity that makes an "operations" criterion after "destroyed"
 *    pointless (reconcile.c's compare_cost).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apply/apply.h"
#include "apply/reconcile.h"
#include "gpu/sim.h"
#include "util/nvml_rc.h"

#include "tests/unit/apply_fixture.h"

/* Fail the nth backend call that changes something (the simulator's fault). */
static void fail_nth_op(unsigned n)
{
    mig_error e = {0};
    sim_state *s = sim_open(state_path, true, &e);
    if (!s)
        fail_msg("sim_open: %s", e.msg);
    s->fail_op = n;
    s->fail_rc = NVML_ERROR_UNKNOWN;
    check(sim_commit(s, &e), &e, "sim_commit");
    sim_close(s);
}

static const char *two_gpu_config = "version: v1\n"
                                    "mig-configs:\n"
                                    "  on:\n"
                                    "    - devices: all\n"
                                    "      mig-enabled: true\n"
                                    "      mig-devices: {}\n"
                                    "  gpu0:\n"
                                    "    - devices: [0]\n"
                                    "      mig-enabled: true\n"
                                    "      mig-devices:\n"
                                    "        \"3g.40gb\": 2\n";

static void test_rollback_names_only_touched_gpus(void **st)
{
    (void)st;
    sim_reinit("2xH100-SXM5-80GB");
    apply_report r;
    apply_options o = base_options();
    assert_int_equal(run_apply(two_gpu_config, "on", &o, &r), APPLY_APPLIED);
    fail_nth_op(3); /* create-gi, create-ci, then the second create-gi fails */
    memset(&r, 0, sizeof r);
    assert_int_equal(run_apply(two_gpu_config, "gpu0", &o, &r), APPLY_FAILED);
    assert_true(r.rolled_back);
    assert_true(r.restored);
    assert_int_equal(r.n_gpus, 2);
    assert_int_equal(r.gpus[0].index, 0);
    assert_string_equal(r.gpus[0].status, "restored");
    assert_int_equal(r.gpus[1].index, 1);
    assert_string_equal(r.gpus[1].status, "untouched");
    assert_non_null(strstr(r.error.msg, "rolled back: GPU 0 restored to the previous layout"));
    assert_null(strstr(r.error.msg, "GPU 1"));
    /* and the JSON says the same */
    json_t *doc = apply_report_json(NULL, &r);
    json_t *gpus = json_object_get(doc, "gpus");
    assert_int_equal(json_array_size(gpus), 2);
    unsigned restored = 0;
    for (size_t i = 0; i < json_array_size(gpus); i++)
        restored += strcmp(json_string_value(json_object_get(json_array_get(gpus, i), "status")),
                           "restored") == 0;
    assert_int_equal(restored, 1);
    json_decref(doc);
}

/* ------------------------------------------------------------ needs_reset */

static mig_gpu_state bare_gpu(const char *model, bool current, bool pending)
{
    mig_gpu_state g;
    memset(&g, 0, sizeof g);
    g.model = mig_model_by_name(model);
    assert_non_null(g.model);
    snprintf(g.name, sizeof g.name, "%s", g.model->nvml_name);
    g.mig_capable = true;
    g.mig_current = current;
    g.mig_pending = pending;
    return g;
}

static mig_gpu_plan plan_one(const mig_gpu_state *g, bool enable, mig_plan *p)
{
    mig_desired_gpu d = {.selected = true, .mig_enabled = enable};
    mig_gpu_plan gp;
    mig_error e = {0};
    memset(p, 0, sizeof *p);
    assert_int_equal(reconcile_gpu(g, &d, false, p, &gp, &e), 0);
    return gp;
}

static void test_needs_reset_hopper_with_pending_change(void **st)
{
    (void)st;
    mig_plan p;
    /* An H100 whose MIG-on is pending (it was held when asked): the mode op
     * is already done, only a reset makes it current. */
    mig_gpu_state g = bare_gpu("H100-SXM5-80GB", false, true);
    mig_gpu_plan gp = plan_one(&g, true, &p);
    assert_false(gp.mode_change);
    assert_true(gp.needs_reset);
    assert_int_equal(gp.status, MIG_GPU_CHANGE);
    assert_int_equal(gp.n_ops, 0);
    mig_plan_free(&p);
    /* The same GPU with nothing pending: Hopper applies a mode change at
     * once, so set-mode and no reset. */
    g = bare_gpu("H100-SXM5-80GB", false, false);
    gp = plan_one(&g, true, &p);
    assert_true(gp.mode_change);
    assert_false(gp.needs_reset);
    assert_int_equal(gp.n_ops, 1);
    mig_plan_free(&p);
    /* Pending off on a Hopper GPU with MIG on now, desired off: a reset. */
    g = bare_gpu("H200-SXM-141GB", true, false);
    gp = plan_one(&g, false, &p);
    assert_false(gp.mode_change);
    assert_true(gp.needs_reset);
    mig_plan_free(&p);
    /* Cancelling a pending change needs no reset on any architecture. */
    g = bare_gpu("H100-SXM5-80GB", false, true);
    gp = plan_one(&g, false, &p);
    assert_true(gp.mode_change);
    assert_false(gp.needs_reset);
    mig_plan_free(&p);
}

/* ------------------------------------------------------------ tie-breaks */

/* H100 GPU 0 with MIG on and one 1g.10gb GI (with its CI) at each start. */
static void gis_at(const unsigned *starts, unsigned n)
{
    sim_reinit("1xH100-SXM5-80GB");
    mig_error e = {0};
    mig_backend *b = open_backend();
    bool pending;
    int why;
    check(b->ops->set_mode(b, 0, true, &pending, &why, &e), &e, "set_mode");
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    const mig_gi_profile *p = mig_profile_by_name(m, "1g.10gb");
    for (unsigned i = 0; i < n; i++) {
        unsigned gi, ci;
        check(b->ops->create_gi(b, 0, p->id, (int)starts[i], &gi, &e), &e, "create_gi");
        mig_ci_profile cp;
        assert_true(mig_ci_default(m, p, &cp));
        check(b->ops->create_ci(b, 0, gi, cp.id, 0, &ci, &e), &e, "create_ci");
    }
    backend_close(b);
}

static const char *one_1g = "version: v1\n"
                            "mig-configs:\n"
                            "  t:\n"
                            "    - devices: all\n"
                            "      mig-enabled: true\n"
                            "      mig-devices:\n"
                            "        \"1g.10gb\": 1\n";

/* The plan for one_1g; returns the start of the GI it destroys. */
static unsigned destroyed_start(bool force)
{
    parsed_config pc;
    parse_config(one_1g, "t", &pc);
    mig_backend *b = open_backend();
    apply_options o = base_options();
    o.dry_run = true;
    o.force = force;
    apply_session s;
    mig_error e = {0};
    check(apply_prepare(b, pc.c, &o, &s, &e), &e, "apply_prepare");
    unsigned n_destroy = 0, start = 99;
    for (unsigned i = 0; i < s.plan.n_ops; i++)
        if (s.plan.ops[i].kind == MIG_OP_DESTROY_GI) {
            n_destroy++;
            start = s.plan.ops[i].start;
        }
    assert_int_equal(n_destroy, 1);
    assert_int_equal(s.plan.gpus[0].status, MIG_GPU_CHANGE);
    apply_session_free(&s);
    backend_close(b);
    cfg_free(&pc.f);
    return start;
}

/* The GI listed first by the driver, by start. */
static unsigned first_listed_start(void)
{
    mig_gpu_state g;
    read_gpu(0, &g);
    assert_int_equal(g.n_gi, 2);
    return g.gi[0].start;
}

static void test_tie_equal_cost_keeps_the_first_listed(void **st)
{
    (void)st;
    /* Two idle 1g.10gb, at 0 and at 1, and a config for one: keeping either
     * costs the same (one GI and its CI destroyed) and leaves the same
     * capacity, so the walk's order decides: the first GI listed is kept,
     * the other goes. */
    gis_at((unsigned[]){0, 1}, 2);
    unsigned first = first_listed_start();
    assert_int_equal(destroyed_start(false), first == 0 ? 1 : 0);
    /* created in the other order, the listing (and so the choice) follows */
    gis_at((unsigned[]){1, 0}, 2);
    first = first_listed_start();
    assert_int_equal(destroyed_start(false), first == 0 ? 1 : 0);
}

static void test_tie_force_destroys_idle_before_busy(void **st)
{
    (void)st;
    /* The same two GIs, the first listed one busy: without --force the busy
     * one must stay, and with --force it still stays (an idle one is
     * preferred), whichever of them is listed first. */
    for (unsigned busy_first = 0; busy_first < 2; busy_first++) {
        gis_at((unsigned[]){0, 1}, 2);
        mig_gpu_state g;
        read_gpu(0, &g);
        unsigned busy_idx = busy_first ? 0 : 1;
        procs(0, (int)g.gi[busy_idx].id, true);
        unsigned busy_start = g.gi[busy_idx].start, idle_start = g.gi[1 - busy_idx].start;
        assert_int_equal(destroyed_start(false), idle_start);
        assert_int_equal(destroyed_start(true), idle_start);
        (void)busy_start;
    }
}

/* ------------------------------------------------------------ operations identity */

static unsigned instances(const mig_gpu_state *g)
{
    unsigned n = 0;
    for (unsigned i = 0; g->mig_current && i < g->n_gi; i++)
        n += 1 + g->gi[i].n_ci;
    return n;
}

static void test_operations_are_twice_destroyed_plus_constant(void **st)
{
    (void)st;
    static const char *cfg = "version: v1\n"
                             "mig-configs:\n"
                             "  a:\n"
                             "    - devices: all\n"
                             "      mig-enabled: true\n"
                             "      mig-devices: {\"3g.40gb\": 1, \"2g.20gb\": 1, \"1g.10gb\": 2}\n"
                             "  b:\n"
                             "    - devices: all\n"
                             "      mig-enabled: true\n"
                             "      mig-devices: {\"1g.10gb\": 7}\n"
                             "  c:\n"
                             "    - devices: all\n"
                             "      mig-enabled: true\n"
                             "      mig-devices: {\"4g.40gb\": 1, \"1c.3g.40gb\": 3}\n"
                             "  d:\n"
                             "    - devices: all\n"
                             "      mig-enabled: true\n"
                             "      mig-devices: {\"2g.20gb\": 3, \"1g.10gb\": 1}\n";
    const char *names[] = {"a", "b", "c", "d"};
    sim_reinit("1xH100-SXM5-80GB");
    apply_options o = base_options();
    apply_report r;
    unsigned checked = 0;
    for (unsigned from = 0; from < 4; from++)
        for (unsigned to = 0; to < 4; to++) {
            assert_int_equal(run_apply(cfg, names[from], &o, &r) == APPLY_FAILED, 0);
            mig_gpu_state before;
            read_gpu(0, &before);
            /* desired instances: what the target config holds once applied */
            parsed_config pc;
            parse_config(cfg, names[to], &pc);
            mig_backend *b = open_backend();
            apply_options dry = base_options();
            dry.dry_run = true;
            apply_session s;
            mig_error e = {0};
            check(apply_prepare(b, pc.c, &dry, &s, &e), &e, "apply_prepare");
            unsigned destroyed = 0, created = 0;
            for (unsigned i = 0; i < s.plan.n_ops; i++) {
                mig_op_kind k = s.plan.ops[i].kind;
                destroyed += k == MIG_OP_DESTROY_GI || k == MIG_OP_DESTROY_CI;
                created += k == MIG_OP_CREATE_GI || k == MIG_OP_CREATE_CI;
            }
            apply_session_free(&s);
            backend_close(b);
            cfg_free(&pc.f);
            assert_int_equal(run_apply(cfg, names[to], &o, &r) == APPLY_FAILED, 0);
            mig_gpu_state after;
            read_gpu(0, &after);
            assert_int_equal(destroyed + created,
                             2 * destroyed + instances(&after) - instances(&before));
            checked++;
        }
    assert_int_equal(checked, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback_names_only_touched_gpus, setup, teardown),
        cmocka_unit_test(test_needs_reset_hopper_with_pending_change),
        cmocka_unit_test_setup_teardown(test_tie_equal_cost_keeps_the_first_listed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tie_force_destroys_idle_before_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operations_are_twice_destroyed_plus_constant, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
