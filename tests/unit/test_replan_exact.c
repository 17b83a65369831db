/*
 * test_replan_exact.c: replan against an independent exact solver.
 *
 * The oracle is a MILP written here with GLPK (not CBC, not the planner's
 * column model, no planner code): per GPU a binary per placement
 * (profile@start) with memory-slice, instance-count and max-GI rows read
 * from the catalogue, binaries for MIG off / whole-GPU use / MIG on, and a
 * drain binary forced by every busy placement that is absent from the
 * final layout and by every used mode flip. Its lexicographic optimum
 * (unplaced, then drains, then moved compute slices, then operations) is
 * compared with replan on several hundred random small fleets with running
 * work (labelled and unlabelled busy instances, idle instances, idle MIG-off
 * GPUs, whole-GPU jobs running and demanded): unplaced, drains, moved work
 * and operations must equal the optimum every time, and the printed drain
 * bound must never exceed it. When the demand cannot be placed entirely,
 * replan moves no running work (docs/planner.md): the oracle then solves
 * with every busy instance held in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glpk.h>

#include "config/workload.h"
#include "model/catalogue.h"
#include "plan/replan.h"

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

/* ---------------------------------------------------------------- random instances */

#define MAXG 4

typedef struct {
    fl_fleet f;
    unsigned replicas[MIG_MAX_PROFILES]; /* pinned workload "w<p>" per profile */
    unsigned whole;                      /* replicas of "big" (70 GiB, all compute) */
} scenario;

static bool base_profile(const mig_model *m, unsigned p)
{
    return m->profiles[p].attr == MIG_ATTR_NONE && m->profiles[p].compute_slices < m->compute_slices;
}

/* Add p@s to g if the memory slices are free and caps allow (the oracle's
 * own rule, from the catalogue). */
static bool try_add(const mig_model *m, fl_gpu *g, unsigned p, unsigned s)
{
    unsigned used = 0, count = 0;
    for (unsigned i = 0; i < g->layout.n; i++) {
        const mig_gi_profile *x = &m->profiles[g->layout.gi[i].profile];
        used |= ((1u << x->memory_slices) - 1) << g->layout.gi[i].start;
        count += g->layout.gi[i].profile == p;
    }
    unsigned mine = ((1u << m->profiles[p].memory_slices) - 1) << s;
    if ((used & mine) || count >= m->profiles[p].instance_count || g->layout.n >= m->max_gis)
        return false;
    g->layout.gi[g->layout.n].profile = (unsigned char)p;
    g->layout.gi[g->layout.n].start = (unsigned char)s;
    g->layout.n++;
    return true;
}

static void make(const mig_model *m, unsigned *seed, scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    fl_fleet *f = &sc->f;
    unsigned n = 2 + lcg(seed) % (MAXG - 1);
    f->nodes = calloc(1, sizeof *f->nodes);
    f->gpus = calloc(n, sizeof *f->gpus);
    assert_non_null(f->nodes);
    assert_non_null(f->gpus);
    f->n_nodes = 1;
    f->n_gpus = n;
    snprintf(f->nodes[0].name, sizeof f->nodes[0].name, "n");
    f->nodes[0].n_gpus = n;
    for (unsigned i = 0; i < n; i++) {
        fl_gpu *g = &f->gpus[i];
        g->model = m;
        g->index = i;
        g->has_state = true;
        g->mig_enabled = true;
        unsigned kind = lcg(seed) % 10;
        if (kind == 0) { /* idle, MIG off */
            g->mig_enabled = false;
            continue;
        }
        if (kind == 1) { /* a whole-GPU job runs */
            g->mig_enabled = false;
            g->whole_busy = true;
            if (lcg(seed) % 2)
                snprintf(g->whole_running, sizeof g->whole_running, "big");
            continue;
        }
        unsigned tries = 2 + lcg(seed) % 6;
        for (unsigned t = 0; t < tries; t++) {
            unsigned p = lcg(seed) % m->n_profiles;
            if (!base_profile(m, p))
                continue;
            unsigned s = m->profiles[p].starts[lcg(seed) % m->profiles[p].n_starts];
            unsigned at = g->layout.n;
            if (try_add(m, g, p, s) && lcg(seed) % 3) {
                g->busy[at] = true;
                if (lcg(seed) % 3)
                    snprintf(g->running[at], sizeof g->running[at], "w%u", p);
            }
        }
    }
    for (unsigned k = 0; k < 1 + lcg(seed) % 7; k++) {
        unsigned p = lcg(seed) % m->n_profiles;
        if (base_profile(m, p))
            sc->replicas[p]++;
    }
    /* the labelled running work is usually part of the demand */
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < f->gpus[i].layout.n; j++)
            if (f->gpus[i].running[j][0] && lcg(seed) % 3)
                sc->replicas[f->gpus[i].layout.gi[j].profile]++;
    sc->whole = lcg(seed) % 4 == 0 ? 1 + lcg(seed) % 2 : 0;
}

static void demand_file(const mig_model *m, const scenario *sc, wl_file *wf)
{
    char y[4096];
    size_t u = (size_t)snprintf(y, sizeof y, "workloads:\n");
    for (unsigned p = 0; p < m->n_profiles; p++)
        u += (size_t)snprintf(y + u, sizeof y - u,
                              "  - {name: w%u, replicas: %u, profile: %s}\n", p, sc->replicas[p],
                              m->profiles[p].name);
    snprintf(y + u, sizeof y - u, "  - {name: big, replicas: %u, memory: 70GiB, compute: 7/7}\n",
             sc->whole);
    mig_error e = {0};
    if (wl_parse_string(y, strlen(y), "demand.yaml", wf, &e) < 0)
        fail_msg("%s", e.msg);
}

/* ---------------------------------------------------------------- the oracle */

typedef struct {
    unsigned unplaced, drains, moved, ops;
} cost;

typedef struct {
    glp_prob *lp;
    int *ia, *ja;
    double *ar;
    int nnz, cap;
} mat;

static void put(mat *mt, int r, int c, double v)
{
    if (mt->nnz + 1 >= mt->cap) {
        mt->cap = mt->cap ? mt->cap * 2 : 1024;
        mt->ia = realloc(mt->ia, (size_t)mt->cap * sizeof *mt->ia);
        mt->ja = realloc(mt->ja, (size_t)mt->cap * sizeof *mt->ja);
        mt->ar = realloc(mt->ar, (size_t)mt->cap * sizeof *mt->ar);
        assert_non_null(mt->ia);
        assert_non_null(mt->ja);
        assert_non_null(mt->ar);
    }
    mt->nnz++;
    mt->ia[mt->nnz] = r;
    mt->ja[mt->nnz] = c;
    mt->ar[mt->nnz] = v;
}

static int row(mat *mt, int type, double lo, double hi)
{
    int r = glp_add_rows(mt->lp, 1);
    glp_set_row_bnds(mt->lp, r, type, lo, hi);
    return r;
}

static int col(mat *mt, int kind, double ub)
{
    int c = glp_add_cols(mt->lp, 1);
    glp_set_col_kind(mt->lp, c, kind);
    glp_set_col_bnds(mt->lp, c, ub > 0 ? GLP_DB : GLP_FX, 0, ub > 0 ? ub : 0);
    return c;
}

/* Solve the lexicographic optimum; hold: every busy instance stays. */
static cost oracle(const mig_model *m, const scenario *sc, bool hold)
{
    const fl_fleet *f = &sc->f;
    unsigned G = f->n_gpus;
    /* which running instances count as replicas: labelled with a workload
     * whose profile matches, in fleet order, while it has replicas left */
    unsigned have[MIG_MAX_PROFILES] = {0}, have_big = 0;
    bool counts[MAXG][MIG_MAX_GI + 1] = {{0}};
    for (unsigned g = 0; g < G; g++) {
        const fl_gpu *x = &f->gpus[g];
        for (unsigned i = 0; i < x->layout.n; i++) {
            unsigned p = x->layout.gi[i].profile;
            char want[16];
            snprintf(want, sizeof want, "w%u", p);
            if (x->busy[i] && !strcmp(x->running[i], want) && have[p] < sc->replicas[p]) {
                have[p]++;
                counts[g][i] = true;
            }
        }
        if (x->whole_busy && !strcmp(x->whole_running, "big") && have_big < sc->whole) {
            have_big++;
            counts[g][MIG_MAX_GI] = true;
        }
    }
    /* instances that must exist per profile: the demand, plus running work
     * that is not one of its replicas */
    unsigned need[MIG_MAX_PROFILES], need_whole = sc->whole;
    memcpy(need, sc->replicas, sizeof need);
    for (unsigned g = 0; g < G; g++) {
        const fl_gpu *x = &f->gpus[g];
        for (unsigned i = 0; i < x->layout.n; i++)
            need[x->layout.gi[i].profile] += x->busy[i] && !counts[g][i];
        need_whole += x->whole_busy && !counts[g][MIG_MAX_GI];
    }

    cost best = {0};
    double stage1 = 0;
    for (int stage = 1; stage <= 2; stage++) {
        mat mt = {.lp = glp_create_prob()};
        glp_set_obj_dir(mt.lp, GLP_MIN);
        int a[MAXG][64], nq = 0;
        unsigned qp[64], qs[64];
        for (unsigned p = 0; p < m->n_profiles; p++)
            if (base_profile(m, p))
                for (unsigned s = 0; s < m->profiles[p].n_starts; s++) {
                    qp[nq] = p;
                    qs[nq++] = m->profiles[p].starts[s];
                }
        int off[MAXG], on[MAXG], whole[MAXG], dr[MAXG];
        int r_p[MIG_MAX_PROFILES], r_whole;
        int u_p[MIG_MAX_PROFILES], u_whole;
        double w_unplaced = G + 1, max_ops = 0;
        for (unsigned g = 0; g < G; g++)
            max_ops += 2 * f->gpus[g].layout.n + 2 * 8 + 1;
        double w_moved = max_ops + 1;
        /* objective pieces are collected per column */
        double *o1 = calloc(4096, sizeof *o1), *o2 = calloc(4096, sizeof *o2);
        assert_non_null(o1);
        assert_non_null(o2);
        double ops_const = 0, moved_const = 0;
        for (unsigned p = 0; p < m->n_profiles; p++) {
            r_p[p] = row(&mt, GLP_LO, need[p], 0);
            u_p[p] = col(&mt, GLP_IV, need[p]);
            put(&mt, r_p[p], u_p[p], 1);
            o1[u_p[p]] = w_unplaced;
        }
        r_whole = row(&mt, GLP_LO, need_whole, 0);
        u_whole = col(&mt, GLP_IV, need_whole);
        put(&mt, r_whole, u_whole, 1);
        o1[u_whole] = w_unplaced;
        for (unsigned g = 0; g < G; g++) {
            const fl_gpu *x = &f->gpus[g];
            off[g] = col(&mt, GLP_BV, 1);
            on[g] = col(&mt, GLP_BV, 1);
            whole[g] = col(&mt, GLP_BV, 1);
            dr[g] = col(&mt, GLP_BV, 1);
            o1[dr[g]] = 1;
            /* exactly one mode */
            int r = row(&mt, GLP_FX, 1, 1);
            put(&mt, r, off[g], 1);
            put(&mt, r, on[g], 1);
            /* whole use needs MIG off */
            r = row(&mt, GLP_UP, 0, 0);
            put(&mt, r, whole[g], 1);
            put(&mt, r, off[g], -1);
            put(&mt, r_whole, whole[g], 1);
            int r_gis = row(&mt, GLP_UP, 0, 0); /* sum a <= max_gis * on */
            put(&mt, r_gis, on[g], -(double)m->max_gis);
            int r_mem[8];
            for (unsigned j = 0; j < m->memory_slices; j++) {
                r_mem[j] = row(&mt, GLP_UP, 0, 0);
                put(&mt, r_mem[j], on[g], -1);
            }
            int r_cap[MIG_MAX_PROFILES];
            for (unsigned p = 0; p < m->n_profiles; p++) {
                r_cap[p] = row(&mt, GLP_UP, 0, 0);
                put(&mt, r_cap[p], on[g], -(double)m->profiles[p].instance_count);
            }
            for (int q = 0; q < nq; q++) {
                a[g][q] = col(&mt, GLP_BV, 1);
                put(&mt, r_gis, a[g][q], 1);
                for (unsigned j = 0; j < m->profiles[qp[q]].memory_slices; j++)
                    put(&mt, r_mem[qs[q] + j], a[g][q], 1);
                put(&mt, r_cap[qp[q]], a[g][q], 1);
                put(&mt, r_p[qp[q]], a[g][q], 1);
                bool orig = false;
                for (unsigned i = 0; i < x->layout.n && x->mig_enabled; i++)
                    orig |= x->layout.gi[i].profile == qp[q] && x->layout.gi[i].start == qs[q];
                if (!orig)
                    o2[a[g][q]] += 2; /* create-gi + create-ci */
                if (!x->mig_enabled) { /* a used flip: drain */
                    int rr = row(&mt, GLP_UP, 0, 0);
                    put(&mt, rr, a[g][q], 1);
                    put(&mt, rr, dr[g], -1);
                }
            }
            /* originals: destroyed unless the placement stays; busy ones not
             * kept drain the GPU and move their slices */
            for (unsigned i = 0; i < x->layout.n; i++) {
                int q = 0;
                while (!(qp[q] == x->layout.gi[i].profile && qs[q] == x->layout.gi[i].start))
                    q++;
                ops_const += 2;
                o2[a[g][q]] -= 2;
                if (!x->busy[i])
                    continue;
                unsigned sl = m->profiles[qp[q]].compute_slices;
                moved_const += sl;
                o2[a[g][q]] -= w_moved * sl;
                int rr = row(&mt, GLP_LO, 1, 0); /* dr + a >= 1 */
                put(&mt, rr, dr[g], 1);
                put(&mt, rr, a[g][q], 1);
                if (hold)
                    glp_set_col_bnds(mt.lp, a[g][q], GLP_FX, 1, 1);
            }
            if (x->mig_enabled) { /* MIG off is only worth it for a whole job: a used flip */
                int rr = row(&mt, GLP_UP, 0, 0);
                put(&mt, rr, off[g], 1);
                put(&mt, rr, whole[g], -1);
                rr = row(&mt, GLP_UP, 0, 0);
                put(&mt, rr, off[g], 1);
                put(&mt, rr, dr[g], -1);
                o2[off[g]] += 1; /* set-mode */
            } else {
                o2[on[g]] += 1;
                int rr = row(&mt, GLP_UP, 0, 0); /* on only if used: on <= sum a */
                put(&mt, rr, on[g], 1);
                for (int q = 0; q < nq; q++)
                    put(&mt, rr, a[g][q], -1);
            }
            if (x->whole_busy) { /* the job stays only as the card's whole use */
                moved_const += m->compute_slices;
                o2[whole[g]] -= w_moved * m->compute_slices;
                int rr = row(&mt, GLP_LO, 1, 0);
                put(&mt, rr, dr[g], 1);
                put(&mt, rr, whole[g], 1);
                if (hold)
                    glp_set_col_bnds(mt.lp, whole[g], GLP_FX, 1, 1);
            }
        }
        int ncols = glp_get_num_cols(mt.lp);
        assert_true(ncols < 4096);
        if (stage == 2) { /* hold stage 1's optimum */
            int rr = row(&mt, GLP_UP, 0, stage1 + 0.5);
            for (int c = 1; c <= ncols; c++)
                if (o1[c] != 0)
                    put(&mt, rr, c, o1[c]);
        }
        for (int c = 1; c <= ncols; c++)
            glp_set_obj_coef(mt.lp, c, stage == 1 ? o1[c] : o2[c]);
        glp_load_matrix(mt.lp, mt.nnz, mt.ia, mt.ja, mt.ar);
        glp_iocp parm;
        glp_init_iocp(&parm);
        parm.presolve = GLP_ON;
        parm.msg_lev = GLP_MSG_OFF;
        assert_int_equal(glp_intopt(mt.lp, &parm), 0);
        assert_int_equal(glp_mip_status(mt.lp), GLP_OPT);
        if (stage == 1) {
            stage1 = glp_mip_obj_val(mt.lp);
        } else {
            unsigned un = 0, dn = 0;
            for (unsigned p = 0; p < m->n_profiles; p++)
                un += (unsigned)(glp_mip_col_val(mt.lp, u_p[p]) + 0.5);
            un += (unsigned)(glp_mip_col_val(mt.lp, u_whole) + 0.5);
            for (unsigned g = 0; g < G; g++)
                dn += (unsigned)(glp_mip_col_val(mt.lp, dr[g]) + 0.5);
            double v2 = glp_mip_obj_val(mt.lp) + w_moved * moved_const + ops_const;
            unsigned long long iv = (unsigned long long)(v2 + 0.5);
            best.unplaced = un;
            best.drains = dn;
            best.moved = (unsigned)(iv / (unsigned long long)w_moved);
            best.ops = (unsigned)(iv % (unsigned long long)w_moved);
        }
        free(o1);
        free(o2);
        free(mt.ia);
        free(mt.ja);
        free(mt.ar);
        glp_delete_prob(mt.lp);
    }
    return best;
}

/* ---------------------------------------------------------------- the test */

static void test_replan_equals_independent_milp(void **state)
{
    (void)state;
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    assert_non_null(m);
    unsigned seed = 90210, with_drains = 0, with_moves = 0, unplaced = 0, n = 300;
    for (unsigned t = 0; t < n; t++) {
        scenario sc;
        make(m, &seed, &sc);
        wl_file wf;
        demand_file(m, &sc, &wf);
        rp_plan p;
        mig_error e = {0};
        assert_int_equal(replan_plan(&wf, &sc.f, &p, &e), 0);
        cost best = oracle(m, &sc, false);
        if (best.unplaced)
            best = oracle(m, &sc, true);
        if (p.unplaced != best.unplaced || p.n_drained != best.drains ||
            p.moved_slices != best.moved || p.n_ops != best.ops)
            fail_msg("case %u: replan unplaced %u drains %u moved %u ops %u, optimum %u %u %u %u",
                     t, p.unplaced, p.n_drained, p.moved_slices, p.n_ops, best.unplaced,
                     best.drains, best.moved, best.ops);
        assert_true(p.drain_bound <= best.drains);
        assert_true(p.optimal);
        with_drains += best.drains > 0;
        with_moves += best.moved > 0;
        unplaced += best.unplaced > 0;
        rp_plan_free(&p);
        wl_free(&wf);
        free(sc.f.nodes);
        free(sc.f.gpus);
    }
    printf("replan vs GLPK: %u fleets, %u need drains, %u move running work, %u cannot place "
           "everything: equal every time\n", n, with_drains, with_moves, unplaced);
    fflush(stdout);
    /* the random fleets must exercise what they are meant to */
    assert_true(with_drains >= n / 10);
    assert_true(with_moves >= n / 20);
}

int main(void)
{
    glp_term_out(GLP_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replan_equals_independent_milp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
