/*
 * test_apply.c: apply over the simulator, end to end through the engine:
 *  - fail at every step: the Nth operation fails (sim fail_op = N); the
 *    apply reports failed and every GPU is back in its ORIGINAL layout
 *    (same mode, same GI placements, same CI profiles and placements);
 *  - kill at every step: the apply runs in a child SIGKILLed right after
 *    its Nth operation (sim kill_op = N); its journal is left behind; a
 *    second apply converges to the desired layout, busy instances intact,
 *    and no instance the first plan meant to keep is lost (checked by UUID);
 *  - Ampere/Hopper mode changes held by processes: pending-reset, --reset;
 *  - hooks around a real apply; the lock serialising two appliers; the
 *    journal round trip.
 * Layouts are compared through a description built here (sorted
 * "profile@start{ci@start...}" strings), not through apply's own helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply/apply.h"
#include "apply/lock.h"
#include "gpu/sim.h"
#include "util/nvml_rc.h"

#include "tests/unit/apply_fixture.h"

/* ------------------------------------------------------------ helpers */

static void arm(unsigned fail_op, unsigned kill_op)
{
    mig_error e = {0};
    sim_state *s = sim_open(state_path, true, &e);
    if (!s)
        fail_msg("sim_open: %s", e.msg);
    s->fail_op = fail_op;
    s->fail_rc = NVML_ERROR_UNKNOWN;
    s->kill_op = kill_op;
    check(sim_commit(s, &e), &e, "sim_commit");
    sim_close(s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "on/on: 2g.20gb@0{2g.20gb@0} 3g.40gb@4{...}" with GIs and CIs sorted:
 * what "the same layout" means (ids and UUIDs left out on purpose). */
static void describe(const mig_gpu_state *g, char *out, size_t len)
{
    char items[MIG_MAX_GI][256];
    char *ptrs[MIG_MAX_GI];
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        const mig_gi_profile *p = mig_profile_by_id(g->model, gi->profile_id);
        char cis[MIG_MAX_CI][64];
        char *cptr[MIG_MAX_CI];
        for (unsigned j = 0; j < gi->n_ci; j++) {
            char name[64];
            ci_state_name(g->model, gi, &gi->ci[j], name, sizeof name);
            snprintf(cis[j], sizeof cis[j], "%.40s@%u", name, gi->ci[j].start);
            cptr[j] = cis[j];
        }
        qsort(cptr, gi->n_ci, sizeof cptr[0], cmp_str);
        size_t n = (size_t)snprintf(items[i], sizeof items[i], "%s@%u{", p ? p->name : "?",
                                    gi->start);
        for (unsigned j = 0; j < gi->n_ci && n < sizeof items[i]; j++)
            n += (size_t)snprintf(items[i] + n, sizeof items[i] - n, "%s%s", j ? "," : "",
                                  cptr[j]);
        if (n < sizeof items[i])
            snprintf(items[i] + n, sizeof items[i] - n, "}");
        ptrs[i] = items[i];
    }
    qsort(ptrs, g->n_gi, sizeof ptrs[0], cmp_str);
    size_t n = (size_t)snprintf(out, len, "%s/%s:", g->mig_current ? "on" : "off",
                                g->mig_pending ? "on" : "off");
    for (unsigned i = 0; i < g->n_gi && n < len; i++)
        n += (size_t)snprintf(out + n, len - n, " %s", ptrs[i]);
}

/* The profile names of the GIs, sorted, comma-joined; each GI must hold
 * exactly one CI spanning it (what a plain "3g.40gb: 1" key asks for). */
static void profile_multiset(const mig_gpu_state *g, char *out, size_t len)
{
    const char *names[MIG_MAX_GI];
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_profile *p = mig_profile_by_id(g->model, g->gi[i].profile_id);
        assert_non_null(p);
        assert_int_equal(g->gi[i].n_ci, 1);
        assert_int_equal(g->gi[i].ci[0].slices, p->compute_slices);
        names[i] = p->name;
    }
    qsort(names, g->n_gi, sizeof names[0], cmp_str);
    size_t n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < g->n_gi && n < len; i++)
        n += (size_t)snprintf(out + n, len - n, "%s%s", i ? "," : "", names[i]);
}

static bool has_ci_uuid(const mig_gpu_state *g, const char *uuid)
{
    for (unsigned i = 0; i < g->n_gi; i++)
        for (unsigned j = 0; j < g->gi[i].n_ci; j++)
            if (strcmp(g->gi[i].ci[j].uuid, uuid) == 0)
                return true;
    return false;
}

static bool file_exists(const char *p)
{
    return access(p, F_OK) == 0;
}

static void apply_ok(const char *yaml, const char *name)
{
    apply_options o = base_options();
    apply_report r;
    apply_result res = run_apply(yaml, name, &o, &r);
    if (res != APPLY_APPLIED && res != APPLY_UNCHANGED)
        fail_msg("apply %s: %s: %s", name, apply_result_name(res), r.error.msg);
}

static char *read_file(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void write_file(const char *p, const char *buf, size_t len)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* ------------------------------------------------------------ configs */

#define HDR "version: v1\nmig-configs:\n"

static const char *const cfg_h100 =
    HDR "  off:\n    - devices: all\n      mig-enabled: false\n"
        "  balanced:\n    - devices: all\n      mig-enabled: true\n"
        "      mig-devices: {\"1g.10gb\": 2, \"2g.20gb\": 1, \"3g.40gb\": 1}\n"
        "  four-small:\n    - devices: all\n      mig-enabled: true\n"
        "      mig-devices: {\"1g.10gb\": 4, \"3g.40gb\": 1}\n";

/* GPU 0 an H100, GPU 1 an A100-40GB: each its own balanced layout. */
static const char *const cfg_mixed =
    HDR "  off:\n    - devices: all\n      mig-enabled: false\n"
        "  balanced:\n"
        "    - devices: [0]\n      mig-enabled: true\n"
        "      mig-devices: {\"1g.10gb\": 2, \"2g.20gb\": 1, \"3g.40gb\": 1}\n"
        "    - devices: [1]\n      mig-enabled: true\n"
        "      mig-devices: {\"1g.5gb\": 2, \"2g.10gb\": 1, \"3g.20gb\": 1}\n";

typedef struct {
    const char *name;
    const char *spec;          /* sim init */
    const char *yaml;
    const char *from, *to;     /* configs */
    int busy_gi_start;         /* GPU 0: make the GI at this start busy; -1 none */
    const char *expect[2];     /* per GPU: sorted GI profile names after `to` */
} transition;

static const transition transitions[] = {
    {"off->balanced", "1xH100-SXM5-80GB", NULL, "off", "balanced", -1,
     {"1g.10gb,1g.10gb,2g.20gb,3g.40gb"}},
    {"balanced->four-small (3g busy)", "1xH100-SXM5-80GB", NULL, "balanced", "four-small", 4,
     {"1g.10gb,1g.10gb,1g.10gb,1g.10gb,3g.40gb"}},
    {"balanced->off", "1xH100-SXM5-80GB", NULL, "balanced", "off", -1, {""}},
    {"mixed off->balanced", "1xH100-SXM5-80GB,1xA100-SXM4-40GB", NULL, "off", "balanced", -1,
     {"1g.10gb,1g.10gb,2g.20gb,3g.40gb", "1g.5gb,1g.5gb,2g.10gb,3g.20gb"}},
};

static const char *yaml_of(const transition *t)
{
    return t->yaml ? t->yaml : strchr(t->spec, ',') ? cfg_mixed : cfg_h100;
}

/* Bring the node to t->from (with the busy GI), return its state file. */
static char *prepare_from(const transition *t, size_t *len)
{
    sim_reinit(t->spec);
    apply_ok(yaml_of(t), t->from);
    if (t->busy_gi_start >= 0) {
        mig_gpu_state g;
        read_gpu(0, &g);
        for (unsigned i = 0; i < g.n_gi; i++)
            if ((int)g.gi[i].start == t->busy_gi_start)
                procs(0, (int)g.gi[i].id, true);
    }
    return read_file(state_path, len);
}

typedef struct {
    unsigned n_ops;
    unsigned n_gpus;
    mig_gpu_state before[2];
    char destroyed[32][MIG_UUID_LEN]; /* CI uuids the plan destroys */
    unsigned n_destroyed;
} plan_facts;

static void plan_of(const transition *t, plan_facts *pf)
{
    memset(pf, 0, sizeof *pf);
    parsed_config pc;
    parse_config(yaml_of(t), t->to, &pc);
    mig_backend *b = open_backend();
    apply_options o = base_options();
    o.dry_run = true;
    apply_session s;
    mig_error e = {0};
    check(apply_prepare(b, pc.c, &o, &s, &e), &e, "apply_prepare");
    pf->n_ops = s.plan.n_ops;
    pf->n_gpus = s.n_gpus;
    for (unsigned i = 0; i < s.n_gpus && i < 2; i++)
        pf->before[i] = s.before[i];
    for (unsigned i = 0; i < s.plan.n_ops; i++) {
        const mig_op *op = &s.plan.ops[i];
        if (op->kind != MIG_OP_DESTROY_CI)
            continue;
        const mig_gi_state *gi = gpu_state_find_gi(&s.before[op->gpu], op->gi_id);
        assert_non_null(gi);
        for (unsigned j = 0; j < gi->n_ci; j++)
            if (gi->ci[j].id == op->ci_id)
                snprintf(pf->destroyed[pf->n_destroyed++], MIG_UUID_LEN, "%s", gi->ci[j].uuid);
    }
    apply_session_free(&s);
    backend_close(b);
    cfg_free(&pc.f);
}

static bool meant_to_destroy(const plan_facts *pf, const char *uuid)
{
    for (unsigned i = 0; i < pf->n_destroyed; i++)
        if (strcmp(pf->destroyed[i], uuid) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------ fail at every step */

static void fail_at_every_step(const transition *t)
{
    size_t len;
    char *orig = prepare_from(t, &len);
    plan_facts pf;
    plan_of(t, &pf);
    assert_true(pf.n_ops > 0);
    for (unsigned k = 1; k <= pf.n_ops; k++) {
        write_file(state_path, orig, len);
        arm(k, 0);
        apply_options o = base_options();
        apply_report r;
        apply_result res = run_apply(yaml_of(t), t->to, &o, &r);
        if (res != APPLY_FAILED)
            fail_msg("%s, fail at %u/%u: result %s", t->name, k, pf.n_ops, apply_result_name(res));
        assert_int_equal(apply_exit_code(&r), 3);
        assert_true(r.rolled_back);
        assert_true(r.restored);
        assert_int_equal(r.n_done, k - 1);
        assert_non_null(strstr(r.error.msg, "Unknown Error")); /* NVML's own words */
        assert_false(file_exists(journal_path));
        for (unsigned gpu = 0; gpu < pf.n_gpus; gpu++) {
            mig_gpu_state now;
            read_gpu(gpu, &now);
            char want[2048], have[2048];
            describe(&pf.before[gpu], want, sizeof want);
            describe(&now, have, sizeof have);
            if (strcmp(want, have) != 0)
                fail_msg("%s, fail at %u/%u, GPU %u:\n  was %s\n  now %s", t->name, k, pf.n_ops,
                         gpu, want, have);
            for (unsigned i = 0; i < pf.before[gpu].n_gi; i++)
                for (unsigned j = 0; j < pf.before[gpu].gi[i].n_ci; j++)
                    if (pf.before[gpu].gi[i].ci[j].n_procs)
                        assert_true(has_ci_uuid(&now, pf.before[gpu].gi[i].ci[j].uuid));
        }
    }
    free(orig);
}

static void test_fail_at_every_step(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
        fail_at_every_step(&transitions[i]);
}

/* ------------------------------------------------------------ kill at every step */

static void apply_in_child_killed_at(const transition *t, unsigned k, unsigned n)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        parsed_config pc;
        mig_error e;
        if (cfg_parse_string(yaml_of(t), strlen(yaml_of(t)), "t.yaml", &pc.f, &e) < 0 ||
            !(pc.c = cfg_select(&pc.f, t->to, &e)))
            _exit(2);
        mig_backend *b = NULL;
        if (sim_backend_open(state_path, &b, &e) < 0)
            _exit(2);
        apply_options o = base_options();
        apply_report r;
        apply_run(b, pc.c, &o, &r);
        _exit(0); /* not reached when the kill fires */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("%s: the apply was not killed at op %u/%u (status %#x)", t->name, k, n, status);
}

static void kill_at_every_step(const transition *t)
{
    size_t len;
    char *orig = prepare_from(t, &len);
    plan_facts pf;
    plan_of(t, &pf);
    for (unsigned k = 1; k <= pf.n_ops; k++) {
        write_file(state_path, orig, len);
        unlink(journal_path);
        arm(0, k);
        apply_in_child_killed_at(t, k, pf.n_ops);
        assert_true(file_exists(journal_path)); /* the killed apply's record */

        apply_options o = base_options();
        apply_report r;
        apply_result res = run_apply(yaml_of(t), t->to, &o, &r);
        if (res != APPLY_APPLIED && res != APPLY_UNCHANGED)
            fail_msg("%s, rerun after kill at %u/%u: %s: %s", t->name, k, pf.n_ops,
                     apply_result_name(res), r.error.msg);
        assert_false(file_exists(journal_path)); /* converged: stale journal dropped */
        for (unsigned gpu = 0; gpu < pf.n_gpus; gpu++) {
            mig_gpu_state now;
            read_gpu(gpu, &now);
            char have[512];
            profile_multiset(&now, have, sizeof have);
            if (strcmp(have, t->expect[gpu]) != 0)
                fail_msg("%s, kill at %u/%u, GPU %u: has {%s}, wants {%s}", t->name, k, pf.n_ops,
                         gpu, have, t->expect[gpu]);
            /* nothing lost that the plan meant to keep (busy ones included) */
            for (unsigned i = 0; i < pf.before[gpu].n_gi; i++)
                for (unsigned j = 0; j < pf.before[gpu].gi[i].n_ci; j++) {
                    const char *uuid = pf.before[gpu].gi[i].ci[j].uuid;
                    if (!meant_to_destroy(&pf, uuid) && !has_ci_uuid(&now, uuid))
                        fail_msg("%s, kill at %u/%u: GPU %u lost %s, which the plan kept",
                                 t->name, k, pf.n_ops, gpu, uuid);
                }
        }
    }
    free(orig);
}

/* Fail at op k, then die during the rollback (right after its first
 * restore op): the journal says "rollback", and the next apply still
 * converges to the desired layout with the busy instance untouched. */
static void kill_during_rollback(const transition *t)
{
    size_t len;
    char *orig = prepare_from(t, &len);
    plan_facts pf;
    plan_of(t, &pf);
    for (unsigned k = 2; k <= pf.n_ops; k++) {
        write_file(state_path, orig, len);
        unlink(journal_path);
        /* A failed op does not count towards kill_op: the kth counted op is
         * the first restore op. */
        arm(k, k);
        apply_in_child_killed_at(t, k, pf.n_ops);
        mig_journal *j = calloc(1, sizeof *j);
        bool exists = false;
        mig_error e = {0};
        check(journal_read(journal_path, j, &exists, &e), &e, "journal_read");
        assert_true(exists);
        assert_string_equal(j->phase, "rollback");
        assert_int_equal(j->done, k - 1);
        free(j);

        apply_options o = base_options();
        apply_report r;
        apply_result res = run_apply(yaml_of(t), t->to, &o, &r);
        if (res != APPLY_APPLIED)
            fail_msg("%s, rerun after a kill in the rollback of op %u: %s: %s", t->name, k,
                     apply_result_name(res), r.error.msg);
        mig_gpu_state now;
        read_gpu(0, &now);
        char have[512];
        profile_multiset(&now, have, sizeof have);
        assert_string_equal(have, t->expect[0]);
        for (unsigned i = 0; i < pf.before[0].n_gi; i++)
            for (unsigned jj = 0; jj < pf.before[0].gi[i].n_ci; jj++)
                if (pf.before[0].gi[i].ci[jj].n_procs)
                    assert_true(has_ci_uuid(&now, pf.before[0].gi[i].ci[jj].uuid));
        assert_false(file_exists(journal_path));
    }
    free(orig);
}

static void test_kill_during_rollback(void **st)
{
    (void)st;
    kill_during_rollback(&transitions[1]); /* balanced with a busy 3g -> four-small */
}

static void test_kill_at_every_step(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
        kill_at_every_step(&transitions[i]);
}

/* ------------------------------------------------------------ signals */

/* A progress callback that raises the cancel flag when the apply starts
 * operation 3, as a SIGTERM arriving during that operation would. */
static volatile sig_atomic_t cancel_flag;

static void cancel_on_op3(void *ctx, const apply_progress *ev)
{
    (void)ctx;
    if (ev->kind == APPLY_EV_OP_START && ev->index == 2)
        cancel_flag = SIGTERM;
}

static void test_signal_stops_and_rolls_back(void **st)
{
    (void)st;
    sim_reinit("1xH100-SXM5-80GB");
    apply_ok(cfg_h100, "balanced");
    mig_gpu_state before, after;
    read_gpu(0, &before);
    cancel_flag = 0;
    apply_options o = base_options();
    o.on_progress = cancel_on_op3;
    o.cancel = &cancel_flag;
    apply_report r;
    assert_int_equal(run_apply(cfg_h100, "off", &o, &r), APPLY_FAILED);
    assert_int_equal(r.n_done, 3); /* the op under way finished; no fourth started */
    assert_non_null(strstr(r.error.msg, "interrupted by a signal after 3 of 9"));
    assert_true(r.rolled_back && r.restored);
    read_gpu(0, &after);
    char d1[1024], d2[1024];
    describe(&before, d1, sizeof d1);
    describe(&after, d2, sizeof d2);
    assert_string_equal(d1, d2);
}

/* ------------------------------------------------------------ basics */

static void test_second_apply_is_unchanged(void **st)
{
    (void)st;
    sim_reinit("2xH100-SXM5-80GB");
    apply_options o = base_options();
    apply_report r;
    assert_int_equal(run_apply(cfg_h100, "balanced", &o, &r), APPLY_APPLIED);
    assert_int_equal(r.n_done, 18);
    assert_int_equal(run_apply(cfg_h100, "balanced", &o, &r), APPLY_UNCHANGED);
    assert_int_equal(r.n_done, 0);
    assert_int_equal(apply_exit_code(&r), 0);
}

static void test_dry_run_changes_nothing(void **st)
{
    (void)st;
    sim_reinit("1xH100-SXM5-80GB");
    size_t l1, l2;
    char *a = read_file(state_path, &l1);
    apply_options o = base_options();
    o.dry_run = true;
    apply_report r;
    assert_int_equal(run_apply(cfg_h100, "balanced", &o, &r), APPLY_DRY_RUN);
    char *b = read_file(state_path, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    assert_false(file_exists(journal_path));
    free(a);
    free(b);
}

static void test_busy_refused_before_anything(void **st)
{
    (void)st;
    sim_reinit("2xH100-SXM5-80GB");
    apply_ok(cfg_h100, "balanced");
    mig_gpu_state g;
    read_gpu(1, &g);
    procs(1, (int)g.gi[0].id, true);
    size_t l1, l2;
    char *a = read_file(state_path, &l1);
    apply_options o = base_options();
    apply_report r;
    /* GPU 0 could change, but GPU 1 is blocked: nothing at all is touched. */
    assert_int_equal(run_apply(cfg_h100, "off", &o, &r), APPLY_REFUSED);
    assert_int_equal(apply_exit_code(&r), 1);
    assert_non_null(strstr(r.error.msg, "GPU 1"));
    char *b = read_file(state_path, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    free(a);
    free(b);
}

/* ------------------------------------------------------------ mode and reset */

static const char *const cfg_a100 =
    HDR "  balanced:\n"
        "    - devices: all\n      mig-enabled: true\n"
        "      mig-devices: {\"1g.5gb\": 2, \"2g.10gb\": 1, \"3g.20gb\": 1}\n";

static void test_ampere_pending_then_reset(void **st)
{
    (void)st;
    sim_reinit("2xA100-SXM4-40GB");
    procs(1, -1, true); /* something holds GPU 1: its mode change stays pending */
    apply_options o = base_options();
    apply_report r;
    assert_int_equal(run_apply(cfg_a100, "balanced", &o, &r), APPLY_PENDING_RESET);
    assert_int_equal(apply_exit_code(&r), 1);
    assert_string_equal(r.gpus[0].status, "applied");
    assert_string_equal(r.gpus[1].status, "pending-reset");
    assert_non_null(strstr(r.gpus[1].reason, "--reset"));
    assert_non_null(strstr(r.gpus[1].reason, "1 process"));
    mig_gpu_state g;
    read_gpu(1, &g);
    assert_false(g.mig_current);
    assert_true(g.mig_pending);
    assert_int_equal(g.n_gi, 0);
    char have[256];
    read_gpu(0, &g);
    profile_multiset(&g, have, sizeof have);
    assert_string_equal(have, "1g.5gb,1g.5gb,2g.10gb,3g.20gb");

    /* Still held: the reset is refused (IN_USE), and the failed apply leaves
     * GPU 1 as it found it: mode on pending a reset, no instances. */
    o.reset = true;
    assert_int_equal(run_apply(cfg_a100, "balanced", &o, &r), APPLY_FAILED);
    assert_int_equal(apply_exit_code(&r), 3);
    assert_non_null(strstr(r.error.msg, "In use by another client"));
    read_gpu(1, &g);
    assert_false(g.mig_current);
    assert_true(g.mig_pending);
    assert_int_equal(g.n_gi, 0);

    /* Released: --reset resets GPU 1, only it, and the layout follows. */
    procs(1, -1, false);
    assert_int_equal(run_apply(cfg_a100, "balanced", &o, &r), APPLY_APPLIED);
    assert_int_equal(r.n_resets, 1);
    assert_int_equal(r.resets[0], 1);
    read_gpu(1, &g);
    assert_true(g.mig_current);
    profile_multiset(&g, have, sizeof have);
    assert_string_equal(have, "1g.5gb,1g.5gb,2g.10gb,3g.20gb");
}

static void test_pending_from_earlier_apply_needs_reset(void **st)
{
    (void)st;
    sim_reinit("1xA100-SXM4-40GB");
    procs(0, -1, true);
    apply_options o = base_options();
    apply_report r;
    assert_int_equal(run_apply(cfg_a100, "balanced", &o, &r), APPLY_PENDING_RESET);
    procs(0, -1, false);
    /* The mode request is already "on, pending": only a reset makes it current. */
    assert_int_equal(run_apply(cfg_a100, "balanced", &o, &r), APPLY_PENDING_RESET);
    assert_int_equal(r.n_resets, 0);
    o.reset = true;
    assert_int_equal(run_apply(cfg_a100, "balanced", &o, &r), APPLY_APPLIED);
    assert_int_equal(r.n_resets, 1);
    assert_int_equal(r.resets[0], 0);
    mig_gpu_state g;
    read_gpu(0, &g);
    assert_true(g.mig_current);
    char have[256];
    profile_multiset(&g, have, sizeof have);
    assert_string_equal(have, "1g.5gb,1g.5gb,2g.10gb,3g.20gb");
}

/* ------------------------------------------------------------ hooks in an apply */

static const char *hooks_yaml(char *buf, size_t len, const char *start_cmd, const char *exit_cmd)
{
    snprintf(buf, len,
             "version: v1\nhooks:\n"
             "  apply-start:\n    - {command: sh, args: [-c, '%s'], workdir: %s}\n"
             "  pre-apply-mode:\n    - {command: sh, args: [-c, 'touch pre-mode'], workdir: %s}\n"
             "  pre-apply-config:\n"
             "    - {command: sh, args: [-c, 'printf %%s \"$MIGCTL_GPUS\" > gpus; "
             "printf %%s \"$MIGCTL_OPERATIONS\" > ops; printf %%s \"$MIG_PARTED_SELECTED_CONFIG\" > "
             "sel'], workdir: %s}\n"
             "  apply-exit:\n    - {command: sh, args: [-c, 'printf %%s \"$MIGCTL_RESULT\" > "
             "result; %s'], workdir: %s}\n",
             start_cmd, dir, dir, dir, exit_cmd, dir);
    return buf;
}

static void slurp(const char *name, char *buf, size_t len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    buf[0] = '\0';
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void remove_markers(void)
{
    const char *names[] = {"pre-mode", "gpus", "ops", "sel", "result"};
    char p[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
}

static apply_result apply_with_hooks(const char *start_cmd, const char *exit_cmd,
                                     const char *config, apply_report *r)
{
    char y[2048];
    hooks_file h;
    mig_error e = {0};
    hooks_yaml(y, sizeof y, start_cmd, exit_cmd);
    check(hooks_parse_string(y, strlen(y), "hooks.yaml", &h, &e), &e, "hooks parse");
    apply_options o = base_options();
    o.hooks = &h;
    o.config_name = config;
    remove_markers();
    apply_result res = run_apply(cfg_h100, config, &o, r);
    hooks_free(&h);
    return res;
}

static void test_hooks_around_apply(void **st)
{
    (void)st;
    sim_reinit("2xH100-SXM5-80GB");
    apply_report r;
    char buf[4096];
    char p[512];

    assert_int_equal(apply_with_hooks("true", "true", "balanced", &r), APPLY_APPLIED);
    snprintf(p, sizeof p, "%s/pre-mode", dir);
    assert_true(file_exists(p));
    slurp("gpus", buf, sizeof buf);
    assert_string_equal(buf, "0,1");
    slurp("sel", buf, sizeof buf);
    assert_string_equal(buf, "balanced");
    slurp("ops", buf, sizeof buf);
    unsigned lines = 0;
    for (char *c = buf; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 18); /* one line per planned op */
    assert_non_null(strstr(buf, "0 set-mode on"));
    assert_non_null(strstr(buf, "1 create-gi 3g.40gb "));
    slurp("result", buf, sizeof buf);
    assert_string_equal(buf, "applied");

    /* Nothing to do: apply-start and apply-exit run, the pre-apply hooks do not. */
    assert_int_equal(apply_with_hooks("true", "true", "balanced", &r), APPLY_UNCHANGED);
    assert_false(file_exists(p));
    slurp("result", buf, sizeof buf);
    assert_string_equal(buf, "unchanged");

    /* apply-start fails: nothing changes, apply-exit still runs. */
    mig_gpu_state before, after;
    read_gpu(0, &before);
    assert_int_equal(apply_with_hooks("exit 4", "true", "four-small", &r), APPLY_FAILED);
    assert_non_null(strstr(r.error.msg, "apply-start"));
    assert_int_equal(r.n_done, 0);
    read_gpu(0, &after);
    char d1[1024], d2[1024];
    describe(&before, d1, sizeof d1);
    describe(&after, d2, sizeof d2);
    assert_string_equal(d1, d2);
    slurp("result", buf, sizeof buf);
    assert_string_equal(buf, "failed");

    /* apply-exit fails: the changes stay, but the apply is a failure. */
    assert_int_equal(apply_with_hooks("true", "exit 5", "four-small", &r), APPLY_FAILED);
    assert_non_null(strstr(r.error.msg, "apply-exit"));
    assert_false(r.rolled_back);
    read_gpu(0, &after);
    char have[256];
    profile_multiset(&after, have, sizeof have);
    assert_string_equal(have, "1g.10gb,1g.10gb,1g.10gb,1g.10gb,3g.40gb");
}

/* ------------------------------------------------------------ lock */

/* The waiter's callback tells the holder to let go, so the test needs no
 * sleeps: the holder keeps the lock exactly until someone waits for it. */
typedef struct {
    long holder;
    int release_fd;
} wait_ctx;

static void on_wait(const char *path, long holder, void *ctx)
{
    (void)path;
    wait_ctx *w = ctx;
    w->holder = holder;
    if (write(w->release_fd, "r", 1) != 1)
        w->holder = -2;
}

static void test_lock_serialises(void **st)
{
    (void)st;
    char lock_path[512];
    snprintf(lock_path, sizeof lock_path, "%s/apply.lock", dir);
    int locked[2], release[2];
    assert_int_equal(pipe(locked), 0);
    assert_int_equal(pipe(release), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd;
        char c;
        mig_error e;
        lock_options lo = {.path = lock_path, .wait = true};
        if (lock_acquire(&lo, &fd, &e) < 0)
            _exit(1);
        if (write(locked[1], "x", 1) != 1 || read(release[0], &c, 1) != 1)
            _exit(1);
        _exit(0); /* dying drops the lock */
    }
    char c;
    assert_int_equal(read(locked[0], &c, 1), 1);
    int fd = -1;
    mig_error e = {0};
    lock_options nowait = {.path = lock_path, .wait = false};
    assert_int_equal(lock_acquire(&nowait, &fd, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_REFUSED);
    char want[64];
    snprintf(want, sizeof want, "pid %ld", (long)pid);
    assert_non_null(strstr(e.msg, want));
    wait_ctx w = {-1, release[1]};
    lock_options waiting = {.path = lock_path, .wait = true, .on_wait = on_wait, .ctx = &w};
    assert_int_equal(lock_acquire(&waiting, &fd, &e), 0);
    assert_int_equal(w.holder, (long)pid); /* we waited, and knew for whom */
    int status;
    /* The holder let go by exiting (its lock dies with its descriptors,
     * a moment before it can be reaped). */
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    lock_release(fd);
    close(locked[0]);
    close(locked[1]);
    close(release[0]);
    close(release[1]);
}

/* Two appliers racing on one node, each under the lock: both succeed, and
 * the node ends in exactly one of the two layouts. */
static void test_two_applies_serialise(void **st)
{
    (void)st;
    sim_reinit("2xH100-SXM5-80GB");
    char lock_path[512];
    snprintf(lock_path, sizeof lock_path, "%s/apply.lock", dir);
    const char *configs[2] = {"balanced", "four-small"};
    pid_t pids[2];
    fflush(NULL);
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            int fd;
            mig_error e;
            lock_options lo = {.path = lock_path, .wait = true};
            if (lock_acquire(&lo, &fd, &e) < 0)
                _exit(10);
            apply_options o = base_options();
            apply_report r;
            apply_result res = run_apply(cfg_h100, configs[i], &o, &r);
            lock_release(fd);
            _exit(res == APPLY_APPLIED ? 0 : 20 + (int)res);
        }
    }
    for (int i = 0; i < 2; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    char g0[256], g1[256];
    mig_gpu_state g;
    read_gpu(0, &g);
    profile_multiset(&g, g0, sizeof g0);
    read_gpu(1, &g);
    profile_multiset(&g, g1, sizeof g1);
    assert_string_equal(g0, g1);
    assert_true(strcmp(g0, "1g.10gb,1g.10gb,2g.20gb,3g.40gb") == 0 ||
                strcmp(g0, "1g.10gb,1g.10gb,1g.10gb,1g.10gb,3g.40gb") == 0);
}

/* ------------------------------------------------------------ journal */

static void test_journal_round_trip(void **st)
{
    (void)st;
    sim_reinit("1xH100-SXM5-80GB");
    apply_ok(cfg_h100, "balanced");
    mig_journal *j = calloc(1, sizeof *j), *back = calloc(1, sizeof *back);
    j->pid = 42;
    snprintf(j->config_file, sizeof j->config_file, "/etc/migctl/config.yaml");
    snprintf(j->config_name, sizeof j->config_name, "balanced");
    j->done = 3;
    j->n_before = 1;
    read_gpu(0, &j->before[0]);
    mig_plan plan = {0};
    mig_error e = {0};
    char path[600];
    snprintf(path, sizeof path, "%s/sub/journal.json", dir); /* parent made on demand */
    check(journal_write(path, j, &plan, &e), &e, "journal_write");
    bool exists = false;
    check(journal_read(path, back, &exists, &e), &e, "journal_read");
    assert_true(exists);
    assert_int_equal(back->pid, 42);
    assert_string_equal(back->config_name, "balanced");
    assert_int_equal(back->done, 3);
    assert_int_equal(back->n_before, 1);
    char d1[1024], d2[1024];
    describe(&j->before[0], d1, sizeof d1);
    describe(&back->before[0], d2, sizeof d2);
    assert_string_equal(d1, d2);
    check(journal_remove(path, &e), &e, "journal_remove");
    check(journal_read(path, back, &exists, &e), &e, "journal_read");
    assert_false(exists);

    /* Something that is not a journal where the journal goes: refuse, keep it. */
    write_file(journal_path, "not json", 8);
    parsed_config pc;
    parse_config(cfg_h100, "off", &pc);
    mig_backend *b = open_backend();
    apply_options o = base_options();
    apply_session s;
    assert_int_equal(apply_prepare(b, pc.c, &o, &s, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, journal_path));
    apply_session_free(&s);
    backend_close(b);
    cfg_free(&pc.f);
    assert_true(file_exists(journal_path));
    free(j);
    free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_second_apply_is_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_refused_before_anything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_at_every_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_at_every_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_during_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ampere_pending_then_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_from_earlier_apply_needs_reset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hooks_around_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_serialises, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_applies_serialise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_stops_and_rolls_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
