/*
 * test_pack.c: the packer against an independent brute force.
 *
 * The brute force here shares no code with plan/pack.c: it takes the
 * one-GPU configurations from the layout enumeration (every maximal layout
 * of the allowed profiles, as a multiset of profile counts) and computes the
 * optimum by dynamic programming over demand vectors:
 *     OPT(v) = 0 if v = 0, else 1 + min over configurations c of OPT(max(v - c, 0))
 * (taking a maximal configuration and clipping at zero covers every subset
 * of it). pack_model must hit OPT exactly on the five standard profiles and
 * every layout it emits must be valid (layout_check) and hold exactly the
 * demand. With the double-memory 1g (1g.20gb) it must stay >= OPT (sanity)
 * and within one GPU of it; the fleet-level packer keeps its hard rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "config/migparted.h"
#include "config/workload.h"
#include "plan/pack.h"
#include "model/catalogue.h"
#include "model/layout.h"

/* ---------------------------------------------------------------- brute force */

#define BF_DIMS 6
static const unsigned bf_max[BF_DIMS] = {9, 5, 4, 3, 2, 4}; /* caps per dimension */

typedef struct {
    const mig_model *m;
    int pos[BF_DIMS];           /* profile position per dimension, -1 unused */
    unsigned n_conf;
    unsigned conf[128][BF_DIMS];
} bf_ctx;

static int bf_visit(const mig_layout *l, void *vctx)
{
    bf_ctx *c = vctx;
    unsigned v[BF_DIMS] = {0};
    for (unsigned i = 0; i < l->n; i++)
        for (int d = 0; d < BF_DIMS; d++)
            if (c->pos[d] == (int)l->gi[i].profile)
                v[d]++;
    for (unsigned k = 0; k < c->n_conf; k++)
        if (!memcmp(c->conf[k], v, sizeof v))
            return 0;
    assert_true(c->n_conf < 128);
    memcpy(c->conf[c->n_conf++], v, sizeof v);
    return 0;
}

static unsigned bf_index(const unsigned v[BF_DIMS])
{
    unsigned idx = 0;
    for (int d = 0; d < BF_DIMS; d++)
        idx = idx * (bf_max[d] + 1) + v[d];
    return idx;
}

static unsigned bf_states(void)
{
    unsigned n = 1;
    for (int d = 0; d < BF_DIMS; d++)
        n *= bf_max[d] + 1;
    return n;
}

static unsigned bf_opt(const bf_ctx *c, unsigned *memo, const unsigned v[BF_DIMS])
{
    unsigned idx = bf_index(v);
    if (memo[idx] != ~0u)
        return memo[idx];
    bool zero = true;
    for (int d = 0; d < BF_DIMS; d++)
        zero &= v[d] == 0;
    if (zero)
        return memo[idx] = 0;
    unsigned best = ~0u;
    for (unsigned k = 0; k < c->n_conf; k++) {
        unsigned r[BF_DIMS];
        bool progress = false;
        for (int d = 0; d < BF_DIMS; d++) {
            r[d] = v[d] > c->conf[k][d] ? v[d] - c->conf[k][d] : 0;
            progress |= r[d] != v[d];
        }
        if (!progress)
            continue;
        unsigned o = 1 + bf_opt(c, memo, r);
        if (o < best)
            best = o;
    }
    return memo[idx] = best;
}

/* Dimensions: 1g, 2g, 3g, 4g, 7g (standard) and the double-memory 1g. */
static void bf_setup(bf_ctx *c, const mig_model *m, bool with_double)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    for (int d = 0; d < BF_DIMS; d++)
        c->pos[d] = -1;
    for (unsigned p = 0; p < m->n_profiles; p++) {
        const mig_gi_profile *pr = &m->profiles[p];
        if (pr->attr != MIG_ATTR_NONE)
            continue;
        int d = -1;
        if (pr->compute_slices == 1 && pr->memory_slices == 1)
            d = 0;
        else if (pr->compute_slices == 2)
            d = 1;
        else if (pr->compute_slices == 3)
            d = 2;
        else if (pr->compute_slices == 4)
            d = 3;
        else if (pr->compute_slices == 7)
            d = 4;
        else if (pr->compute_slices == 1 && pr->memory_slices == 2 && with_double)
            d = 5;
        if (d >= 0)
            c->pos[d] = (int)p;
    }
    bool allowed[MIG_MAX_PROFILES] = {0};
    for (int d = 0; d < BF_DIMS; d++)
        if (c->pos[d] >= 0)
            allowed[c->pos[d]] = true;
    layout_enumerate_maximal(m, allowed, bf_visit, c);
}

/* ---------------------------------------------------------------- helpers */

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

/* Every layout valid, and the profiles add up to the demand exactly. */
static void check_solution(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES],
                           const pk_solution *s)
{
    unsigned got[MIG_MAX_PROFILES] = {0}, gpus = 0;
    for (unsigned i = 0; i < s->n; i++) {
        unsigned bad;
        assert_int_equal(layout_check(m, &s->items[i].layout, &bad), MIG_FIT_OK);
        assert_true(s->items[i].count > 0);
        for (unsigned g = 0; g < s->items[i].layout.n; g++)
            got[s->items[i].layout.gi[g].profile] += s->items[i].count;
        gpus += s->items[i].count;
    }
    assert_int_equal(gpus, s->gpus);
    for (unsigned p = 0; p < m->n_profiles; p++)
        assert_int_equal(got[p], demand[p]);
    assert_true(s->lower_bound <= s->gpus);
}

static void random_vs_brute_force(const char *model, bool with_double, unsigned trials,
                                  unsigned *equal, unsigned *total)
{
    const mig_model *m = mig_model_by_name(model);
    assert_non_null(m);
    static bf_ctx c;
    bf_setup(&c, m, with_double);
    assert_true(c.n_conf >= 10);
    unsigned *memo = malloc(bf_states() * sizeof *memo);
    assert_non_null(memo);
    memset(memo, 0xff, bf_states() * sizeof *memo);
    unsigned seed = 12345u + (with_double ? 7u : 0u), lp_tighter = 0;
    *equal = *total = 0;
    for (unsigned t = 0; t < trials; t++) {
        unsigned v[BF_DIMS] = {0}, demand[MIG_MAX_PROFILES] = {0};
        for (int d = 0; d < BF_DIMS; d++)
            if (c.pos[d] >= 0) {
                v[d] = lcg(&seed) % (bf_max[d] + 1);
                demand[c.pos[d]] = v[d];
            }
        unsigned opt = bf_opt(&c, memo, v);
        pk_solution s;
        mig_error e = {0};
        assert_int_equal(pack_model(m, demand, &s, &e), 0);
        check_solution(m, demand, &s);
        assert_true(s.lower_bound <= opt);
        if (!with_double) {
            if (s.gpus != opt)
                fail_msg("%s demand 1g=%u 2g=%u 3g=%u 4g=%u 7g=%u: packed %u GPUs, optimum %u",
                         model, v[0], v[1], v[2], v[3], v[4], s.gpus, opt);
            assert_true(s.exact);
        } else {
            assert_true(s.gpus >= opt);
            assert_true(s.gpus <= opt + 1);
        }
        *equal += s.gpus == opt;
        (*total)++;
        if (s.lower_bound > pack_lower_bound(m, demand))
            lp_tighter++;
        pk_solution_free(&s);
    }
    free(memo);
    if (with_double)
        print_message("%s: configuration LP raised the bound on %u of %u\n", model, lp_tighter,
                      *total);
}

/* ---------------------------------------------------------------- tests */

static void test_exact_matches_brute_force_h100(void **state)
{
    (void)state;
    unsigned eq, n;
    random_vs_brute_force("H100-SXM5-80GB", false, 1000, &eq, &n);
    assert_int_equal(eq, n);
}

static void test_exact_matches_brute_force_other_models(void **state)
{
    (void)state;
    unsigned eq, n;
    random_vs_brute_force("H200-SXM-141GB", false, 300, &eq, &n);
    assert_int_equal(eq, n);
    random_vs_brute_force("A100-SXM4-40GB", false, 300, &eq, &n);
    assert_int_equal(eq, n);
}

static void test_greedy_with_double_memory_1g(void **state)
{
    (void)state;
    unsigned eq, n;
    random_vs_brute_force("H100-SXM5-80GB", true, 500, &eq, &n);
    print_message("with 1g.20gb: %u of %u random demands packed at the optimum\n", eq, n);
    assert_true(eq * 10 >= n * 8); /* at least 80% optimal; the rest within one GPU */
}

/* The configuration LP never exceeds the brute-force optimum (5,000 small
 * demands with 1g.20gb), and on larger demands where the simple bounds sit
 * below the packing it raises them. */
static void test_lp_bound(void **state)
{
    (void)state;
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    static bf_ctx c;
    bf_setup(&c, m, true);
    unsigned *memo = malloc(bf_states() * sizeof *memo);
    assert_non_null(memo);
    memset(memo, 0xff, bf_states() * sizeof *memo);
    unsigned seed = 4711, loose = 0, tighter = 0, lp_above_simple = 0;
    for (int t = 0; t < 5000; t++) {
        unsigned v[BF_DIMS] = {0}, demand[MIG_MAX_PROFILES] = {0};
        for (int d = 0; d < BF_DIMS; d++)
            if (c.pos[d] >= 0)
                demand[c.pos[d]] = v[d] = lcg(&seed) % (bf_max[d] + 1);
        double lp = pack_config_lp(m, demand);
        unsigned opt = bf_opt(&c, memo, v);
        assert_true(lp <= opt + 1e-6);
        lp_above_simple += ceil(lp - 1e-6) > pack_lower_bound(m, demand);
    }
    free(memo);
    const char *names[] = {"1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb", "1g.20gb"};
    for (int t = 0; t < 5000; t++) {
        unsigned demand[MIG_MAX_PROFILES] = {0};
        for (int k = 0; k < 6; k++)
            demand[mig_profile_pos(m, mig_profile_by_name(m, names[k]))] = lcg(&seed) % 6;
        pk_solution s;
        mig_error e = {0};
        assert_int_equal(pack_model(m, demand, &s, &e), 0);
        assert_true(s.lower_bound <= s.gpus);
        unsigned simple = pack_lower_bound(m, demand);
        if (s.gpus > simple) {
            loose++;
            tighter += s.lower_bound > simple;
        }
        pk_solution_free(&s);
    }
    print_message("LP above the simple bounds on %u small demands; packing above the simple "
                  "bounds on %u larger ones, LP raised %u of them to prove optimality\n",
                  lp_above_simple, loose, tighter);
    assert_true(loose > 0 && tighter * 2 >= loose);
}

static void test_large_demand_exact_and_fast(void **state)
{
    (void)state;
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    unsigned demand[MIG_MAX_PROFILES] = {0};
    /* 100,000 instances over the five standard profiles */
    const char *names[] = {"1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"};
    const unsigned counts[] = {40000, 25000, 15000, 12000, 8000};
    for (int i = 0; i < 5; i++)
        demand[mig_profile_pos(m, mig_profile_by_name(m, names[i]))] = counts[i];
    pk_solution s;
    mig_error e = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pack_model(m, demand, &s, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    check_solution(m, demand, &s);
    /* exact: the closed form claims the optimum (checked against a brute
     * force on small demands elsewhere in this file) ... */
    assert_true(s.exact);
    assert_true(s.gpus >= s.lower_bound);
    /* 8000 7g + 12000 4g each need a GPU; 15000 3g pair with 4g first */
    assert_true(s.gpus >= 8000 + 12000);
    /* ... and at the compute bound here (239,000 slices / 7), so provably
     * optimal by arithmetic alone, whatever the closed form did */
    assert_int_equal(s.gpus, (8000 * 7 + 12000 * 4 + 15000 * 3 + 25000 * 2 + 40000 + 6) / 7);
    /* fast: the closed form is O(number of 3g), about 0.1 ms here; 100 ms
     * leaves room for sanitizers and a loaded machine, and still fails a
     * per-instance search */
    print_message("pack_model, 100000 instances: %.3f ms, %u GPUs\n", ms, s.gpus);
    assert_true(ms < 100);
    pk_solution_free(&s);
}

/* The bound's strength, not only its validity: for random standard demands
 * it must reach each of its terms (compute, memory, per-profile caps, and the
 * structural n7 + max(n4, ceil((n3+n4)/2), ceil(n2/3), ceil(n1/7))), each
 * computed here from the catalogue. A weakened term (2g per GPU over 4
 * instead of 3, say) falls below one of them on some demand. */
static void test_lower_bound_strength(void **state)
{
    (void)state;
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    const char *names[] = {"1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"};
    const unsigned comp[] = {1, 2, 3, 4, 7}, mem[] = {1, 2, 4, 4, 8}, per[] = {7, 3, 2, 1, 1};
    int pos[5];
    for (int i = 0; i < 5; i++)
        pos[i] = mig_profile_pos(m, mig_profile_by_name(m, names[i]));
    unsigned seed = 31337, structural_decides = 0;
    for (int t = 0; t < 2000; t++) {
        unsigned demand[MIG_MAX_PROFILES] = {0}, n[5];
        unsigned long c = 0, mm = 0, lb = 0;
        for (int i = 0; i < 5; i++) {
            seed = seed * 1103515245u + 12345u;
            n[i] = (seed >> 16) % 9;
            demand[pos[i]] = n[i];
            c += n[i] * comp[i];
            mm += n[i] * mem[i];
            unsigned cap = (n[i] + per[i] - 1) / per[i];
            lb = cap > lb ? cap : lb;
        }
        unsigned long lc = (c + 6) / 7, lm = (mm + 7) / 8;
        unsigned long s = n[3];
        unsigned long a = (n[2] + n[3] + 1) / 2, b = (n[1] + 2) / 3, d = (n[0] + 6) / 7;
        s = a > s ? a : s;
        s = b > s ? b : s;
        s = d > s ? d : s;
        unsigned long st = n[4] + s;
        unsigned got = pack_lower_bound(m, demand);
        assert_true(got >= lc && got >= lm && got >= lb && got >= st);
        structural_decides += st > lc && st > lm && st > lb;
    }
    /* the structural term alone decides often enough to be tested */
    assert_true(structural_decides > 100);
    /* and a case where only the 2g term does: two 7g and seven 2g need
     * 2 + ceil(7/3) = 5 GPUs; compute says 4, memory 4, caps 3 */
    unsigned demand[MIG_MAX_PROFILES] = {0};
    demand[pos[4]] = 2;
    demand[pos[1]] = 7;
    assert_int_equal(pack_lower_bound(m, demand), 5);
}

static void test_lower_bound_structural(void **state)
{
    (void)state;
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    unsigned demand[MIG_MAX_PROFILES] = {0};
    /* three 4g: compute says 2 GPUs (12/7), but one 4g per GPU makes it 3 */
    demand[mig_profile_pos(m, mig_profile_by_name(m, "4g.40gb"))] = 3;
    assert_int_equal(pack_lower_bound(m, demand), 3);
    demand[mig_profile_pos(m, mig_profile_by_name(m, "4g.40gb"))] = 0;
    /* three 3g: memory 12/8 -> 2 */
    demand[mig_profile_pos(m, mig_profile_by_name(m, "3g.40gb"))] = 3;
    assert_int_equal(pack_lower_bound(m, demand), 2);
}

static void test_greedy_other_geometry_valid(void **state)
{
    (void)state;
    const char *models[] = {"A30-24GB", "RTX-PRO-6000-96GB"};
    for (int k = 0; k < 2; k++) {
        const mig_model *m = mig_model_by_name(models[k]);
        assert_non_null(m);
        unsigned seed = 99;
        for (int t = 0; t < 200; t++) {
            unsigned demand[MIG_MAX_PROFILES] = {0};
            for (unsigned p = 0; p < m->n_profiles; p++)
                if (m->profiles[p].attr == MIG_ATTR_NONE)
                    demand[p] = lcg(&seed) % 5;
            pk_solution s;
            mig_error e = {0};
            assert_int_equal(pack_model(m, demand, &s, &e), 0);
            check_solution(m, demand, &s);
            pk_solution_free(&s);
        }
    }
}

static void test_baselines_never_beat_exact(void **state)
{
    (void)state;
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    const char *names[] = {"1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"};
    unsigned char items[400];
    unsigned seed = 7;
    for (int t = 0; t < 50; t++) {
        unsigned demand[MIG_MAX_PROFILES] = {0};
        size_t n = 1 + lcg(&seed) % 400;
        for (size_t i = 0; i < n; i++) {
            int pos = mig_profile_pos(m, mig_profile_by_name(m, names[lcg(&seed) % 5]));
            items[i] = (unsigned char)pos;
            demand[pos]++;
        }
        pk_solution s;
        mig_error e = {0};
        assert_int_equal(pack_model(m, demand, &s, &e), 0);
        assert_true(pack_baseline(m, items, n, PK_FIRST_FIT) >= s.gpus);
        assert_true(pack_baseline(m, items, n, PK_BEST_FIT) >= s.gpus);
        pk_solution_free(&s);
    }
}

/* ---------------------------------------------------------------- fleet */

static void parse_both(const char *wy, const char *fy, wl_file *wf, fl_fleet *f)
{
    mig_error e = {0};
    if (wl_parse_string(wy, strlen(wy), "w.yaml", wf, &e) < 0)
        fail_msg("%s", e.msg);
    if (fl_parse_string(fy, strlen(fy), "f.yaml", f, &e) < 0)
        fail_msg("%s", e.msg);
}

/* Hard rules, validity, bounds and emitted configs of a fleet plan. */
static void check_plan(const pk_plan *p)
{
    for (unsigned g = 0; g < p->fleet->n_gpus; g++) {
        unsigned bad;
        if (p->gpus[g].use == PK_GPU_MIG)
            assert_int_equal(layout_check(p->fleet->gpus[g].model, &p->gpus[g].layout, &bad),
                             MIG_FIT_OK);
        if (p->gpus[g].use == PK_GPU_MPS) {
            assert_true(p->gpus[g].mps_compute <= 1.0 + 1e-9);
            assert_true(p->gpus[g].mps_memory <= 1.0 + 1e-9);
        }
    }
    for (unsigned i = 0; i < p->n_inst; i++) {
        const pk_instance *in = &p->inst[i];
        const wl_workload *w = &p->wf->items[in->workload];
        if (in->gpu < 0)
            continue;
        pk_gpu_use u = p->gpus[in->gpu].use;
        if (w->p2p)
            assert_int_equal(u, PK_GPU_WHOLE);
        if (w->isolation == WL_ISO_REQUIRED)
            assert_true(u != PK_GPU_MPS);
        if (u == PK_GPU_MIG) {
            assert_true(in->gi >= 0 && in->gi < p->gpus[in->gpu].layout.n);
            /* no two instances share a slice */
            for (unsigned j = 0; j < i; j++)
                assert_false(p->inst[j].gpu == in->gpu && p->inst[j].gi == in->gi);
        }
    }
    assert_true(p->lower_bound <= p->gpus_used);
    for (unsigned nd = 0; nd < p->fleet->n_nodes; nd++) {
        cfg_file cf, back;
        mig_error e = {0};
        assert_int_equal(pack_node_config(p->fleet, p->gpus, nd, "t", &cf, &e), 0);
        if (!cf.configs[0].n_entries) {
            cfg_free(&cf);
            continue;
        }
        char *buf = NULL;
        size_t len = 0;
        FILE *mf = open_memstream(&buf, &len);
        assert_int_equal(cfg_emit_yaml(mf, &cf, &e), 0);
        fclose(mf);
        if (cfg_parse_string(buf, len, "emitted.yaml", &back, &e) < 0)
            fail_msg("emitted config does not parse: %s\n%s", e.msg, buf);
        assert_true(cfg_equal(&cf, &back));
        cfg_free(&back);
        cfg_free(&cf);
        free(buf);
    }
}

static void test_fleet_field_guide(void **state)
{
    (void)state;
    const char *src = getenv("MIGCTL_SOURCE_DIR");
    assert_non_null(src);
    char wpath[4096], fpath[4096];
    snprintf(wpath, sizeof wpath, "%s/examples/workloads-field-guide.yaml", src);
    const char *fleets[] = {"fleet-h100.yaml", "fleet-h200.yaml", "fleet-mixed.yaml"};
    for (int i = 0; i < 3; i++) {
        snprintf(fpath, sizeof fpath, "%s/examples/%s", src, fleets[i]);
        wl_file wf;
        fl_fleet f;
        pk_plan p;
        mig_error e = {0};
        assert_int_equal(wl_parse_file(wpath, &wf, &e), 0);
        if (fl_parse_file(fpath, &f, &e) < 0)
            fail_msg("%s", e.msg);
        assert_int_equal(pack_plan(&wf, &f, &p, &e), 0);
        check_plan(&p);
        assert_int_equal(p.unplaced, 0);
        pk_plan_free(&p);
        fl_free(&f);
        wl_free(&wf);
    }
}

static void test_fleet_property_random(void **state)
{
    (void)state;
    unsigned seed = 2024;
    const char *models[] = {"H100-SXM5-80GB", "H200-SXM-141GB", "A100-SXM4-40GB", "A30-24GB"};
    const char *iso[] = {"required", "preferred", "none"};
    for (int t = 0; t < 150; t++) {
        char wy[8192], fy[2048];
        size_t u = (size_t)snprintf(wy, sizeof wy, "workloads:\n");
        unsigned nw = 1 + lcg(&seed) % 8;
        for (unsigned i = 0; i < nw; i++) {
            bool gang = lcg(&seed) % 5 == 0;
            char compute[32] = "";
            if (!gang)
                snprintf(compute, sizeof compute, ", compute: %u%%", 1 + lcg(&seed) % 100);
            u += (size_t)snprintf(wy + u, sizeof wy - u,
                                  "  - {name: w%u, replicas: %u, memory: %uGiB%s, "
                                  "isolation: %s, p2p: %s%s}\n",
                                  i, 1 + lcg(&seed) % 9, 1 + lcg(&seed) % 90, compute,
                                  iso[lcg(&seed) % 3], lcg(&seed) % 6 == 0 ? "true" : "false",
                                  gang ? ", gpus: 2" : "");
        }
        size_t v = (size_t)snprintf(fy, sizeof fy, "nodes:\n");
        unsigned nn = 1 + lcg(&seed) % 3;
        for (unsigned n = 0; n < nn; n++)
            v += (size_t)snprintf(fy + v, sizeof fy - v,
                                  "  - {name: n%u, gpus: [{model: %s, count: %u}, {model: %s, "
                                  "count: %u}]}\n",
                                  n, models[lcg(&seed) % 4], lcg(&seed) % 9,
                                  models[lcg(&seed) % 4], 1 + lcg(&seed) % 8);
        wl_file wf;
        fl_fleet f;
        pk_plan p;
        mig_error e = {0};
        parse_both(wy, fy, &wf, &f);
        assert_int_equal(pack_plan(&wf, &f, &p, &e), 0);
        check_plan(&p);
        pk_plan_free(&p);
        fl_free(&f);
        wl_free(&wf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_matches_brute_force_h100),
        cmocka_unit_test(test_exact_matches_brute_force_other_models),
        cmocka_unit_test(test_greedy_with_double_memory_1g),
        cmocka_unit_test(test_lp_bound),
        cmocka_unit_test(test_large_demand_exact_and_fast),
        cmocka_unit_test(test_lower_bound_structural),
        cmocka_unit_test(test_lower_bound_strength),
        cmocka_unit_test(test_greedy_other_geometry_valid),
        cmocka_unit_test(test_baselines_never_beat_exact),
        cmocka_unit_test(test_fleet_field_guide),
        cmocka_unit_test(test_fleet_property_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
