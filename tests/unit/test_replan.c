/*
 * test_replan.c: online placement and replanning over fleets with running
 * instances.
 *
 * - The examples: the demand that fits idle instances needs 0 drains and 0
 *   operations; one more 3g.40gb needs exactly one drain, and the running
 *   instance that can stay is not touched.
 * - Property (random fleets): `plan --add` never destroys, moves or flips
 *   anything; every layout after a replan is valid; a running instance on
 *   a GPU that is not drained is still there; a GPU counts as drained
 *   exactly when a busy instance on it is destroyed or its mode flips.
 * - Zero drains when the demand fits: the demand is built from instances
 *   that were just shown to fit beside the running ones (every GPU gets a
 *   random extra set placed with layout_fits), so a drain-free plan exists
 *   and replan must find one.
 * - Minimal drains: on small random fleets an independent brute force
 *   (every drain set by size, every assignment of the demand and the
 *   displaced work to GPUs, every placement) finds the least number of GPUs
 *   to drain; replan must equal it, proven, with its bound equal; the greedy
 *   fallback for large fleets stays within one (mig-scheduling.md 6.4(b)).
 *   (tests/unit/test_replan_exact.c checks moved work and operations too,
 *   against a GLPK model.)
 * - The issue-9 scenarios (tests/data/replan/): running work never moved
 *   when idle GPUs do, a mode flip of idle GPUs for whole-GPU jobs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/workload.h"
#include "plan/replan.h"
#include "model/layout.h"

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static void load(const char *w, const char *f, wl_file *wf, fl_fleet *fl)
{
    const char *src = getenv("MIGCTL_SOURCE_DIR");
    assert_non_null(src);
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/examples/%s", src, w);
    snprintf(b, sizeof b, "%s/examples/%s", src, f);
    mig_error e = {0};
    if (wl_parse_file(a, wf, &e) < 0 || fl_parse_file(b, fl, &e) < 0)
        fail_msg("%s", e.msg);
}

static void test_example_fits_without_drain(void **state)
{
    (void)state;
    wl_file wf;
    fl_fleet f;
    rp_plan p;
    mig_error e = {0};
    load("workloads-replan.yaml", "fleet-h100-running.yaml", &wf, &f);
    assert_int_equal(replan_plan(&wf, &f, &p, &e), 0);
    assert_int_equal(p.n_drained, 0);
    assert_int_equal(p.unplaced, 0);
    /* 5 replicas run already (labelled); 3 more small-infer take idle 1g */
    assert_int_equal(p.satisfied, 5);
    assert_int_equal(p.reused, 3);
    assert_int_equal(p.n_ops, 0);
    rp_plan_free(&p);
    fl_free(&f);
    wl_free(&wf);
}

static void test_example_grow_one_drain(void **state)
{
    (void)state;
    wl_file wf;
    fl_fleet f;
    rp_plan p;
    mig_error e = {0};
    load("workloads-replan-grow.yaml", "fleet-h100-running.yaml", &wf, &f);
    assert_int_equal(replan_plan(&wf, &f, &p, &e), 0);
    assert_int_equal(p.unplaced, 0);
    /* no free 3g slot: GPU 3 keeps an unlabelled 2g@2 and 3g@4 busy, GPU 0
     * a busy 2g@0 and 3g@4, GPU 1 a busy 4g@0, GPU 2 a whole-GPU job */
    assert_int_equal(p.n_drained, 1);
    assert_int_equal(p.n_nodes_drained, 1);
    for (unsigned i = 0; i < p.n_ops; i++)
        if (p.ops[i].busy)
            assert_true(p.drained[p.ops[i].gpu]);
    rp_plan_free(&p);
    fl_free(&f);
    wl_free(&wf);
}

/* ---------------------------------------------------------------- random fleets */

/* A random valid layout of base profiles on m, some GIs busy. */
static void random_gpu(const mig_model *m, unsigned *seed, fl_gpu *g)
{
    memset(&g->layout, 0, sizeof g->layout);
    memset(g->busy, 0, sizeof g->busy);
    unsigned tries = lcg(seed) % 8;
    for (unsigned t = 0; t < tries; t++) {
        unsigned p = lcg(seed) % m->n_profiles;
        if (m->profiles[p].attr != MIG_ATTR_NONE)
            continue;
        const mig_gi_profile *pr = &m->profiles[p];
        unsigned s = pr->starts[lcg(seed) % pr->n_starts];
        if (layout_fits(m, &g->layout, p, s) == MIG_FIT_OK) {
            g->busy[g->layout.n] = lcg(seed) % 2;
            layout_add(&g->layout, p, s);
        }
    }
}

static void make_fleet(const mig_model *m, unsigned n, unsigned *seed, fl_fleet *f)
{
    memset(f, 0, sizeof *f);
    f->nodes = calloc(2, sizeof *f->nodes);
    f->gpus = calloc(n, sizeof *f->gpus);
    assert_non_null(f->nodes);
    assert_non_null(f->gpus);
    f->n_nodes = 2;
    snprintf(f->nodes[0].name, sizeof f->nodes[0].name, "a");
    snprintf(f->nodes[1].name, sizeof f->nodes[1].name, "b");
    f->nodes[0].n_gpus = n / 2;
    f->nodes[1].first_gpu = n / 2;
    f->nodes[1].n_gpus = n - n / 2;
    f->n_gpus = n;
    for (unsigned i = 0; i < n; i++) {
        fl_gpu *g = &f->gpus[i];
        g->model = m;
        g->node = i < n / 2 ? 0 : 1;
        g->index = i < n / 2 ? i : i - n / 2;
        g->has_state = true;
        g->mig_enabled = true;
        random_gpu(m, seed, g);
    }
}

/* Workloads pinned to the profiles in count[]. */
static void pinned_demand(const mig_model *m, const unsigned count[MIG_MAX_PROFILES], wl_file *wf)
{
    char y[4096];
    size_t u = (size_t)snprintf(y, sizeof y, "workloads:\n");
    unsigned n = 0;
    for (unsigned p = 0; p < m->n_profiles; p++)
        if (count[p]) {
            u += (size_t)snprintf(y + u, sizeof y - u, "  - {name: w%u, replicas: %u, profile: %s}\n",
                                  p, count[p], m->profiles[p].name);
            n++;
        }
    if (!n)
        snprintf(y + u, sizeof y - u, "  - {name: none, replicas: 0, profile: %s}\n",
                 m->profiles[0].name);
    mig_error e = {0};
    if (wl_parse_string(y, strlen(y), "demand.yaml", wf, &e) < 0)
        fail_msg("%s", e.msg);
}

/* Every original GI of g kept with the same profile and start? */
static bool keeps_all(const fl_gpu *g, const pk_gpu *after, bool busy_only)
{
    for (unsigned i = 0; i < g->layout.n; i++) {
        if (busy_only && !g->busy[i])
            continue;
        bool found = false;
        for (unsigned j = 0; j < after->layout.n; j++)
            found |= after->layout.gi[j].profile == g->layout.gi[i].profile &&
                     after->layout.gi[j].start == g->layout.gi[i].start;
        if (!found)
            return false;
    }
    return true;
}

static void check_replan(const fl_fleet *f, const rp_plan *p, bool add)
{
    for (unsigned g = 0; g < f->n_gpus; g++) {
        unsigned bad;
        if (p->after[g].use == PK_GPU_MIG)
            assert_int_equal(layout_check(f->gpus[g].model, &p->after[g].layout, &bad),
                             MIG_FIT_OK);
        if (add)
            assert_true(keeps_all(&f->gpus[g], &p->after[g], false));
        if (!p->drained[g])
            assert_true(keeps_all(&f->gpus[g], &p->after[g], true));
        bool busy_destroyed = false;
        for (unsigned k = 0; k < p->n_ops; k++)
            if (p->ops[k].gpu == g && p->ops[k].busy)
                busy_destroyed = true;
        if (busy_destroyed)
            assert_true(p->drained[g]);
    }
    if (add) {
        assert_int_equal(p->n_drained, 0);
        for (unsigned k = 0; k < p->n_ops; k++)
            assert_true(!strcmp(p->ops[k].op, "create-gi") || !strcmp(p->ops[k].op, "create-ci"));
    }
    for (unsigned i = 0; i < p->n_place; i++) {
        const rp_place *x = &p->place[i];
        if (x->gpu < 0 || x->gi < 0)
            continue;
        assert_true(x->gi < p->after[x->gpu].layout.n);
        for (unsigned j = 0; j < i; j++)
            assert_false(p->place[j].gpu == x->gpu && p->place[j].gi == x->gi);
    }
}

static void test_property_add_and_replan(void **state)
{
    (void)state;
    const char *models[] = {"H100-SXM5-80GB", "H200-SXM-141GB", "A30-24GB"};
    unsigned seed = 4242;
    for (int t = 0; t < 200; t++) {
        const mig_model *m = mig_model_by_name(models[t % 3]);
        fl_fleet f;
        make_fleet(m, 2 + lcg(&seed) % 7, &seed, &f);
        unsigned count[MIG_MAX_PROFILES] = {0};
        for (unsigned k = 0; k < 1 + lcg(&seed) % 6; k++) {
            unsigned p = lcg(&seed) % m->n_profiles;
            if (m->profiles[p].attr == MIG_ATTR_NONE &&
                m->profiles[p].compute_slices < m->compute_slices)
                count[p]++;
        }
        wl_file wf;
        pinned_demand(m, count, &wf);
        rp_plan p;
        mig_error e = {0};
        assert_int_equal(replan_add(&wf, &f, &p, &e), 0);
        check_replan(&f, &p, true);
        rp_plan_free(&p);
        assert_int_equal(replan_plan(&wf, &f, &p, &e), 0);
        check_replan(&f, &p, false);
        rp_plan_free(&p);
        wl_free(&wf);
        fl_free(&f);
    }
}

static void test_zero_drains_when_demand_fits(void **state)
{
    (void)state;
    const char *models[] = {"H100-SXM5-80GB", "A100-SXM4-40GB", "A30-24GB"};
    unsigned seed = 777, total = 0;
    for (int t = 0; t < 400; t++) {
        const mig_model *m = mig_model_by_name(models[t % 3]);
        fl_fleet f;
        make_fleet(m, 1 + lcg(&seed) % 6, &seed, &f);
        /* extra instances that provably fit beside the busy ones */
        unsigned count[MIG_MAX_PROFILES] = {0};
        for (unsigned g = 0; g < f.n_gpus; g++) {
            mig_layout kept = {0};
            for (unsigned i = 0; i < f.gpus[g].layout.n; i++)
                if (f.gpus[g].busy[i])
                    layout_add(&kept, f.gpus[g].layout.gi[i].profile, f.gpus[g].layout.gi[i].start);
            for (unsigned k = 0; k < 6; k++) {
                unsigned p = lcg(&seed) % m->n_profiles;
                const mig_gi_profile *pr = &m->profiles[p];
                if (pr->attr != MIG_ATTR_NONE || pr->compute_slices == m->compute_slices)
                    continue;
                unsigned s = pr->starts[lcg(&seed) % pr->n_starts];
                if (layout_fits(m, &kept, p, s) == MIG_FIT_OK) {
                    layout_add(&kept, p, s);
                    count[p]++;
                    total++;
                }
            }
        }
        wl_file wf;
        pinned_demand(m, count, &wf);
        rp_plan p;
        mig_error e = {0};
        assert_int_equal(replan_plan(&wf, &f, &p, &e), 0);
        check_replan(&f, &p, false);
        if ((p.n_drained || p.unplaced) && getenv("DUMP")) {
            for (unsigned g = 0; g < f.n_gpus; g++) {
                char buf[256];
                layout_format(m, &f.gpus[g].layout, buf, sizeof buf);
                fprintf(stderr, "gpu %u: %s busy:", g, buf);
                for (unsigned i = 0; i < f.gpus[g].layout.n; i++)
                    fprintf(stderr, " %d", f.gpus[g].busy[i]);
                fprintf(stderr, "\n");
            }
            for (unsigned q = 0; q < m->n_profiles; q++)
                if (count[q])
                    fprintf(stderr, "demand %s x%u\n", m->profiles[q].name, count[q]);
        }
        if (p.n_drained || p.unplaced)
            fail_msg("trial %d on %s: a drain-free plan exists, replan drained %u and left %u",
                     t, m->name, p.n_drained, p.unplaced);
        rp_plan_free(&p);
        wl_free(&wf);
        fl_free(&f);
    }
    assert_true(total > 300);
}

static void test_add_uses_free_slot_keeping_large_profiles(void **state)
{
    (void)state;
    /* GPU 0: 3g@4 busy, the rest free. One 1g arrival must not go to slot
     * 0..3 in a way that kills the free 3g@0... every 1g there kills 3g@0,
     * so it prefers GPU 1 (7 free 1g slots after a 4g) when that costs no
     * larger profile. */
    const char *fy = "nodes:\n  - name: n\n    gpus:\n"
                     "      - {model: H100-SXM5-80GB, layout: [\"3g.40gb@4\"], busy: [\"3g.40gb@4\"]}\n"
                     "      - {model: H100-SXM5-80GB, layout: [\"4g.40gb@0\"], busy: [\"4g.40gb@0\"]}\n";
    const char *wy = "workloads:\n  - {name: a, profile: 1g.10gb}\n";
    wl_file wf;
    fl_fleet f;
    mig_error e = {0};
    assert_int_equal(wl_parse_string(wy, strlen(wy), "w", &wf, &e), 0);
    assert_int_equal(fl_parse_string(fy, strlen(fy), "f", &f, &e), 0);
    rp_plan p;
    assert_int_equal(replan_add(&wf, &f, &p, &e), 0);
    assert_int_equal(p.n_place, 1);
    /* on GPU 1 a 1g loses only 1g capacity; on GPU 0 it would lose the 3g@0 */
    assert_int_equal(p.place[0].gpu, 1);
    check_replan(&f, &p, true);
    rp_plan_free(&p);
    fl_free(&f);
    wl_free(&wf);
}

static void test_add_repair_never_destroys_idle(void **state)
{
    (void)state;
    /* GPU 1's two idle 2g.12gb are reused by the first arrivals; the +me
     * arrivals then need the pair repair, which re-split the reused slices
     * and put a 2g.12gb+me over an idle original (destroyed it) in --add. */
    const char *fy = "nodes:\n  - name: n\n    gpus:\n"
                     "      - {model: A30-24GB}\n"
                     "      - {model: A30-24GB, layout: [\"2g.12gb@0\", \"2g.12gb@2\"]}\n";
    const char *wy = "workloads:\n  - {name: a, replicas: 2, profile: 2g.12gb}\n"
                     "  - {name: b, replicas: 2, profile: 2g.12gb+me}\n";
    wl_file wf;
    fl_fleet f;
    mig_error e = {0};
    assert_int_equal(wl_parse_string(wy, strlen(wy), "w", &wf, &e), 0);
    assert_int_equal(fl_parse_string(fy, strlen(fy), "f", &f, &e), 0);
    rp_plan p;
    assert_int_equal(replan_add(&wf, &f, &p, &e), 0);
    check_replan(&f, &p, true);
    assert_int_equal(p.destroyed, 0);
    rp_plan_free(&p);
    fl_free(&f);
    wl_free(&wf);
}


/* ---------------------------------------------------------------- brute force */

/* Independent of engine/: can these profiles (by position) all be placed on
 * the GPU beside `fixed`? Exhaustive over starts. */
static bool bf_fits(const mig_model *m, mig_layout *l, const unsigned *prof, unsigned n)
{
    if (!n)
        return true;
    const mig_gi_profile *pr = &m->profiles[prof[0]];
    for (unsigned i = 0; i < pr->n_starts; i++) {
        if (layout_fits(m, l, prof[0], pr->starts[i]) != MIG_FIT_OK)
            continue;
        layout_add(l, prof[0], pr->starts[i]);
        bool ok = bf_fits(m, l, prof + 1, n - 1);
        layout_remove(l, l->n - 1);
        if (ok)
            return true;
    }
    return false;
}

typedef struct {
    const mig_model *m;
    unsigned n_gpus;
    mig_layout fixed[8];
    unsigned items[32], n_items;
    unsigned on[8][32], n_on[8];
} bf_assign;

/* Every assignment of items to GPUs (items in order, each GPU's set checked
 * as soon as it grows). */
static bool bf_assign_rec(bf_assign *a, unsigned k)
{
    if (k == a->n_items)
        return true;
    for (unsigned g = 0; g < a->n_gpus; g++) {
        a->on[g][a->n_on[g]++] = a->items[k];
        mig_layout l = a->fixed[g];
        bool ok = bf_fits(a->m, &l, a->on[g], a->n_on[g]) && bf_assign_rec(a, k + 1);
        a->n_on[g]--;
        if (ok)
            return true;
    }
    return false;
}

/* Least number of GPUs to drain (all of their busy instances re-placed) so
 * that the demand and the displaced work fit; n_gpus + 1 if none does. */
static unsigned bf_min_drains(const fl_fleet *f, const unsigned count[MIG_MAX_PROFILES])
{
    const mig_model *m = f->gpus[0].model;
    for (unsigned size = 0; size <= f->n_gpus; size++)
        for (unsigned mask = 0; mask < (1u << f->n_gpus); mask++) {
            if ((unsigned)__builtin_popcount(mask) != size)
                continue;
            bf_assign a = {.m = m, .n_gpus = f->n_gpus};
            for (unsigned p = 0; p < m->n_profiles; p++)
                for (unsigned k = 0; k < count[p]; k++)
                    a.items[a.n_items++] = p;
            for (unsigned g = 0; g < f->n_gpus; g++)
                for (unsigned i = 0; i < f->gpus[g].layout.n; i++) {
                    if (!f->gpus[g].busy[i])
                        continue;
                    if (mask & (1u << g))
                        a.items[a.n_items++] = f->gpus[g].layout.gi[i].profile;
                    else
                        layout_add(&a.fixed[g], f->gpus[g].layout.gi[i].profile,
                                   f->gpus[g].layout.gi[i].start);
                }
            if (bf_assign_rec(&a, 0))
                return size;
        }
    return f->n_gpus + 1;
}

static void test_drains_minimal(void **state)
{
    (void)state;
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    unsigned seed = 99, checked = 0, with_drains = 0, greedy_above = 0;
    for (int t = 0; t < 500; t++) {
        fl_fleet f;
        make_fleet(m, 2 + lcg(&seed) % 3, &seed, &f);
        unsigned count[MIG_MAX_PROFILES] = {0}, n = 1 + lcg(&seed) % 4;
        for (unsigned k = 0; k < n; k++) {
            unsigned p = lcg(&seed) % m->n_profiles;
            if (m->profiles[p].attr == MIG_ATTR_NONE &&
                m->profiles[p].compute_slices < m->compute_slices)
                count[p]++;
        }
        unsigned best = bf_min_drains(&f, count);
        wl_file wf;
        pinned_demand(m, count, &wf);
        rp_plan p, gp;
        mig_error e = {0};
        assert_int_equal(replan_plan(&wf, &f, &p, &e), 0);
        assert_int_equal(replan_plan_greedy(&wf, &f, &gp, &e), 0);
        check_replan(&f, &p, false);
        check_replan(&f, &gp, false);
        if (best > f.n_gpus) {
            assert_true(p.unplaced > 0); /* nothing fits even fully drained */
            assert_int_equal(p.moved_slices, 0); /* and no running work moves for it */
        } else {
            if (p.unplaced)
                fail_msg("trial %d: feasible with %u drains, replan left %u unplaced", t, best,
                         p.unplaced);
            /* the exact plan: the minimum, proven, with its bound equal */
            if (p.n_drained != best)
                fail_msg("trial %d: %u drains, minimum %u", t, p.n_drained, best);
            assert_true(p.optimal);
            assert_true(p.drains_optimal);
            assert_int_equal(p.drain_bound, best);
            /* the greedy fallback (large fleets) keeps the published bar,
             * mig-scheduling.md 6.4(b): at most the minimum + 1 */
            if (!gp.unplaced) {
                assert_true(gp.n_drained <= best + 1);
                greedy_above += gp.n_drained > best;
            }
            /* what a large fleet gets: the better of the greedy plan and
             * the pooled model's plan, whose drains are the exact minimum,
             * with that minimum as the bound */
            rp_options no_exact = {.no_exact = true};
            rp_plan bp;
            assert_int_equal(replan_plan_opts(&wf, &f, &no_exact, &bp, &e), 0);
            check_replan(&f, &bp, false);
            assert_int_equal(bp.unplaced, 0);
            assert_int_equal(bp.n_drained, best);
            assert_int_equal(bp.drain_bound, best);
            assert_true(bp.drains_optimal);
            rp_plan_free(&bp);
            with_drains += best > 0;
            checked++;
        }
        rp_plan_free(&p);
        rp_plan_free(&gp);
        wl_free(&wf);
        fl_free(&f);
    }
    print_message("drains vs brute-force minimum: %u feasible cases (%u need drains): exact every "
                  "time; greedy fallback one above in %u\n", checked, with_drains, greedy_above);
    assert_true(with_drains > 10);
}

/* ---------------------------------------------------------------- issue 9 scenarios */

static void load_data(const char *w, const char *f, wl_file *wf, fl_fleet *fl)
{
    const char *src = getenv("MIGCTL_SOURCE_DIR");
    assert_non_null(src);
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/tests/data/replan/%s", src, w);
    snprintf(b, sizeof b, "%s/tests/data/replan/%s", src, f);
    mig_error e = {0};
    if (wl_parse_file(a, wf, &e) < 0 || fl_parse_file(b, fl, &e) < 0)
        fail_msg("%s", e.msg);
}

/* Four H100s, GPUs 0 and 1 run job-a and job-b: the whole-GPU job takes an
 * idle GPU (one drain: its mode flips), running work stays. */
static void test_scenario_idle_gpu_not_running_work(void **state)
{
    (void)state;
    wl_file wf;
    fl_fleet f;
    rp_plan p;
    mig_error e = {0};
    load_data("workloads-jobs-big.yaml", "fleet-four-h100.yaml", &wf, &f);
    assert_int_equal(replan_plan(&wf, &f, &p, &e), 0);
    assert_int_equal(p.unplaced, 0);
    assert_int_equal(p.n_drained, 1);
    assert_false(p.drained[0]);
    assert_false(p.drained[1]);
    assert_int_equal(p.moved_slices, 0);
    assert_int_equal(p.n_affected, 0);
    assert_int_equal(p.satisfied, 2);
    assert_int_equal(p.drain_bound, 1);
    assert_true(p.optimal);
    check_replan(&f, &p, false);
    rp_plan_free(&p);
    fl_free(&f);
    wl_free(&wf);
}

/* Three H100s laid out 3g+3g, one busy: two whole-GPU jobs take the two idle
 * GPUs (MIG off), one takes one; nothing moves, nothing is left out. */
static void test_scenario_mode_flip_for_whole_jobs(void **state)
{
    (void)state;
    const char *files[] = {"workloads-job-two-whole.yaml", "workloads-job-one-whole.yaml"};
    for (unsigned i = 0; i < 2; i++) {
        wl_file wf;
        fl_fleet f;
        rp_plan p;
        mig_error e = {0};
        load_data(files[i], "fleet-three-h100.yaml", &wf, &f);
        assert_int_equal(replan_plan(&wf, &f, &p, &e), 0);
        assert_int_equal(p.unplaced, 0);
        assert_int_equal(p.n_drained, 2 - i);
        assert_false(p.drained[0]);
        assert_int_equal(p.moved_slices, 0);
        assert_int_equal(p.n_mode_changes, 2 - i);
        assert_int_equal(p.drain_bound, 2 - i);
        assert_true(p.optimal);
        check_replan(&f, &p, false);
        /* the greedy fallback alone got this wrong (issue 9): kept as a
         * witness that the exact model is what decides */
        rp_plan g;
        assert_int_equal(replan_plan_greedy(&wf, &f, &g, &e), 0);
        assert_true(g.unplaced > 0 || g.moved_slices > 0 || g.n_drained > p.n_drained);
        rp_plan_free(&g);
        rp_plan_free(&p);
        fl_free(&f);
        wl_free(&wf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_fits_without_drain),
        cmocka_unit_test(test_example_grow_one_drain),
        cmocka_unit_test(test_property_add_and_replan),
        cmocka_unit_test(test_zero_drains_when_demand_fits),
        cmocka_unit_test(test_add_uses_free_slot_keeping_large_profiles),
        cmocka_unit_test(test_add_repair_never_destroys_idle),
        cmocka_unit_test(test_drains_minimal),
        cmocka_unit_test(test_scenario_idle_gpu_not_running_work),
        cmocka_unit_test(test_scenario_mode_flip_for_whole_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
