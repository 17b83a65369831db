/*
 * pack.c: packing on one model (exact closed form for the standard shapes,
 * best-fit decreasing over configuration classes otherwise, per-item
 * baselines for comparison) and packing a whole fleet (model choice per
 * replica, gangs on one node, mapping configurations to GPUs and instances
 * to slices, per-node configs). See pack.h for the method.
 *
 * Invariant kept throughout: every layout stored in a pk_config or pk_gpu
 * was built with layout_fits, so it is valid for its model.
 */
#include "plan/pack.h"
#include "model/profile_order.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ fragmentation */

int pack_frag_cmp(const mig_model *m, const mig_layout *a, const mig_layout *b)
{
    unsigned order[MIG_MAX_PROFILES], n = mig_profiles_largest_first(m, true, order);
    for (unsigned i = 0; i < n; i++) {
        unsigned ra = layout_remaining(m, a, order[i]), rb = layout_remaining(m, b, order[i]);
        if (ra != rb)
            return ra > rb ? 1 : -1;
    }
    return 0;
}

int pack_best_start(const mig_model *m, const mig_layout *l, unsigned profile)
{
    const mig_gi_profile *p = &m->profiles[profile];
    int best = -1;
    mig_layout best_l;
    for (unsigned i = 0; i < p->n_starts; i++) {
        if (layout_fits(m, l, profile, p->starts[i]) != MIG_FIT_OK)
            continue;
        mig_layout t = *l;
        layout_add(&t, profile, p->starts[i]);
        if (best < 0 || pack_frag_cmp(m, &t, &best_l) > 0) {
            best = p->starts[i];
            best_l = t;
        }
    }
    return best;
}

/* ================================================================ configurations */

static int sol_add(pk_solution *s, const mig_layout *l, unsigned count, mig_error *e)
{
    if (!count)
        return 0;
    mig_layout c = *l;
    layout_sort(&c);
    for (unsigned i = 0; i < s->n; i++)
        if (layout_equal(&s->items[i].layout, &c)) {
            s->items[i].count += count;
            s->gpus += count;
            return 0;
        }
    if (s->n == s->cap) {
        unsigned nc = s->cap ? s->cap * 2 : 16;
        pk_config *ni = realloc(s->items, nc * sizeof *ni);
        if (!ni)
            return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        s->items = ni;
        s->cap = nc;
    }
    s->items[s->n].layout = c;
    s->items[s->n].count = count;
    s->n++;
    s->gpus += count;
    return 0;
}

void pk_solution_free(pk_solution *s)
{
    free(s->items);
    memset(s, 0, sizeof *s);
}

/* Place a multiset (count per profile) on one GPU, choosing the placements
 * that leave the most room for the largest profiles. Exhaustive over starts
 * (at most 7 GIs, starts ascending within a profile to skip permutations). */
typedef struct {
    const mig_model *m;
    unsigned todo[MIG_MAX_GI];
    unsigned n;
    mig_layout best;
    bool found;
} place_ctx;

static void place_rec(place_ctx *c, mig_layout *l, unsigned k, unsigned min_start)
{
    if (k == c->n) {
        if (!c->found || pack_frag_cmp(c->m, l, &c->best) > 0) {
            c->best = *l;
            c->found = true;
        }
        return;
    }
    unsigned p = c->todo[k];
    const mig_gi_profile *pr = &c->m->profiles[p];
    for (unsigned i = 0; i < pr->n_starts; i++) {
        unsigned s = pr->starts[i];
        if (s < min_start || layout_fits(c->m, l, p, s) != MIG_FIT_OK)
            continue;
        layout_add(l, p, s);
        bool next_same = k + 1 < c->n && c->todo[k + 1] == p;
        place_rec(c, l, k + 1, next_same ? s + 1 : 0);
        layout_remove(l, l->n - 1);
    }
}

static bool place_multiset(const mig_model *m, const unsigned counts[MIG_MAX_PROFILES],
                           mig_layout *out)
{
    place_ctx c = {.m = m};
    unsigned order[MIG_MAX_PROFILES];
    unsigned n = 0;
    for (unsigned p = 0; p < m->n_profiles; p++)
        order[n++] = p;
    /* largest memory first prunes soonest */
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && m->profiles[order[j]].memory_slices >
                                          m->profiles[order[j - 1]].memory_slices; j--) {
            unsigned t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < counts[order[i]]; k++) {
            if (c.n == MIG_MAX_GI)
                return false;
            c.todo[c.n++] = order[i];
        }
    mig_layout l = {0};
    place_rec(&c, &l, 0, 0);
    if (c.found)
        *out = c.best;
    return c.found;
}

/* ================================================================ bounds */

typedef enum { SH_1, SH_2, SH_3, SH_4, SH_7, SH_N } shape;

static bool starts_are(const mig_gi_profile *p, const unsigned char *s, unsigned n)
{
    if (p->n_starts != n)
        return false;
    for (unsigned i = 0; i < n; i++)
        if (p->starts[i] != s[i])
            return false;
    return true;
}

/* The standard shape of a profile, or -1. */
static int shape_of(const mig_model *m, const mig_gi_profile *p)
{
    static const unsigned char s1[] = {0, 1, 2, 3, 4, 5, 6}, s2[] = {0, 2, 4}, s3[] = {0, 4},
                               s0[] = {0};
    if (m->compute_slices != 7 || m->memory_slices != 8 || p->attr != MIG_ATTR_NONE)
        return -1;
    if (p->compute_slices == 1 && p->memory_slices == 1 && starts_are(p, s1, 7) &&
        p->instance_count >= 7)
        return SH_1;
    if (p->compute_slices == 2 && p->memory_slices == 2 && starts_are(p, s2, 3) &&
        p->instance_count >= 3)
        return SH_2;
    if (p->compute_slices == 3 && p->memory_slices == 4 && starts_are(p, s3, 2) &&
        p->instance_count >= 2)
        return SH_3;
    if (p->compute_slices == 4 && p->memory_slices == 4 && starts_are(p, s0, 1))
        return SH_4;
    if (p->compute_slices == 7 && p->memory_slices == 8 && starts_are(p, s0, 1))
        return SH_7;
    return -1;
}

/* Positions of the five shapes among the demanded profiles; false if some
 * demanded profile is not standard or two share a shape. */
static bool standard_positions(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES],
                               int pos[SH_N])
{
    for (int s = 0; s < SH_N; s++)
        pos[s] = -1;
    for (unsigned p = 0; p < m->n_profiles; p++) {
        if (!demand[p])
            continue;
        int s = shape_of(m, &m->profiles[p]);
        if (s < 0 || pos[s] >= 0)
            return false;
        pos[s] = (int)p;
    }
    return true;
}

bool pack_is_standard(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES])
{
    int pos[SH_N];
    return standard_positions(m, demand, pos);
}

static unsigned ceil_div(unsigned long long a, unsigned long long b)
{
    return (unsigned)((a + b - 1) / b);
}

unsigned pack_lower_bound(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES])
{
    unsigned long long c = 0, mem = 0;
    for (unsigned p = 0; p < m->n_profiles; p++) {
        c += (unsigned long long)demand[p] * m->profiles[p].compute_slices;
        mem += (unsigned long long)demand[p] * m->profiles[p].memory_slices;
    }
    unsigned lb = ceil_div(c, m->compute_slices);
    unsigned lm = ceil_div(mem, m->memory_slices);
    if (lm > lb)
        lb = lm;
    /* per-profile caps: each GPU holds at most layout_remaining(empty, p) */
    mig_layout empty = {0};
    for (unsigned p = 0; p < m->n_profiles; p++) {
        unsigned per = layout_remaining(m, &empty, p);
        if (demand[p] && per && ceil_div(demand[p], per) > lb)
            lb = ceil_div(demand[p], per);
    }
    int pos[SH_N];
    if (standard_positions(m, demand, pos)) {
        unsigned n[SH_N];
        for (int s = 0; s < SH_N; s++)
            n[s] = pos[s] >= 0 ? demand[pos[s]] : 0;
        /* mig-scheduling.md 3.2: one 4g+ per GPU, at most two of {3g, 4g} */
        unsigned s = n[SH_4];
        if (ceil_div(n[SH_3] + n[SH_4], 2) > s)
            s = ceil_div(n[SH_3] + n[SH_4], 2);
        if (ceil_div(n[SH_2], 3) > s)
            s = ceil_div(n[SH_2], 3);
        if (ceil_div(n[SH_1], 7) > s)
            s = ceil_div(n[SH_1], 7);
        if (n[SH_7] + s > lb)
            lb = n[SH_7] + s;
    }
    return lb;
}

/* ================================================================ exact (standard shapes) */

typedef struct {
    unsigned long long total;
    unsigned a, b, k;
} exact_choice;

/* GPUs for t bins that hold a 3g beside a 4g (a of them) or a 3g (b). */
static exact_choice exact_eval(const unsigned n[SH_N], unsigned t)
{
    exact_choice c = {.total = ~0ULL};
    unsigned a = n[SH_4] < t ? n[SH_4] : t, b = t - a;
    if ((unsigned long long)a + 2ULL * b > n[SH_3])
        return c;
    unsigned long long r4 = n[SH_4] - a, r3 = n[SH_3] - a - 2ULL * b;
    unsigned long long slots2 = r4 + 2 * r3, units = 3 * r4 + 4 * r3;
    unsigned long long in2 = n[SH_2] < slots2 ? n[SH_2] : slots2, left2 = n[SH_2] - in2;
    unsigned long long free1 = units - 2 * in2, left1 = n[SH_1] > free1 ? n[SH_1] - free1 : 0;
    unsigned long long k = (left2 + 2) / 3, k2 = (2 * left2 + left1 + 6) / 7;
    if (k2 > k)
        k = k2;
    c.total = n[SH_7] + n[SH_4] + b + r3 + k;
    c.a = a;
    c.b = b;
    c.k = (unsigned)k;
    return c;
}

typedef struct {
    unsigned cnt[SH_N];
} bin_content;

/* Add `count` bins of one content, converting shapes to profile positions. */
static int add_content(const mig_model *m, const int pos[SH_N], const bin_content *bc,
                       unsigned count, pk_solution *s, mig_error *e)
{
    if (!count)
        return 0;
    unsigned counts[MIG_MAX_PROFILES] = {0};
    for (int sh = 0; sh < SH_N; sh++)
        if (bc->cnt[sh])
            counts[pos[sh]] += bc->cnt[sh];
    mig_layout l;
    if (!place_multiset(m, counts, &l))
        return mig_fail(e, MIG_ERR_SYSTEM, "internal: a standard configuration did not place");
    return sol_add(s, &l, count, e);
}

/* Fill `nbins` bins that already hold `base` with up to cap2 2g each and
 * 1g into the free units; identical bins are added in runs. */
static int fill_bins(const mig_model *m, const int pos[SH_N], bin_content base, unsigned nbins,
                     unsigned cap2, unsigned units, unsigned *left2, unsigned *left1,
                     pk_solution *s, mig_error *e)
{
    while (nbins) {
        bin_content bc = base;
        bc.cnt[SH_2] = *left2 < cap2 ? *left2 : cap2;
        unsigned free1 = units - 2 * bc.cnt[SH_2];
        bc.cnt[SH_1] = *left1 < free1 ? *left1 : free1;
        /* how many bins in a row get exactly this content */
        unsigned run = nbins;
        if (bc.cnt[SH_2] && *left2 / bc.cnt[SH_2] < run)
            run = *left2 / bc.cnt[SH_2];
        if (bc.cnt[SH_1] && *left1 / bc.cnt[SH_1] < run)
            run = *left1 / bc.cnt[SH_1];
        if (!run)
            run = 1;
        if (add_content(m, pos, &bc, run, s, e) < 0)
            return -1;
        *left2 -= bc.cnt[SH_2] * run;
        *left1 -= bc.cnt[SH_1] * run;
        nbins -= run;
    }
    return 0;
}

static int pack_exact(const mig_model *m, const int pos[SH_N], const unsigned n[SH_N],
                      pk_solution *s, mig_error *e)
{
    exact_choice best = exact_eval(n, 0);
    for (unsigned t = 1; t <= n[SH_3]; t++) {
        exact_choice c = exact_eval(n, t);
        if (c.total == ~0ULL)
            break; /* a + 2b only grows with t */
        if (c.total < best.total)
            best = c;
    }
    unsigned left2 = n[SH_2], left1 = n[SH_1];
    bin_content bc = {{0}};
    bc.cnt[SH_7] = 1;
    if (add_content(m, pos, &bc, n[SH_7], s, e) < 0)
        return -1;
    bin_content c43 = {{0}}, c33 = {{0}}, c4 = {{0}}, c3 = {{0}}, c0 = {{0}};
    c43.cnt[SH_4] = c43.cnt[SH_3] = 1;
    c33.cnt[SH_3] = 2;
    c4.cnt[SH_4] = 1;
    c3.cnt[SH_3] = 1;
    if (add_content(m, pos, &c43, best.a, s, e) < 0 || add_content(m, pos, &c33, best.b, s, e) < 0)
        return -1;
    unsigned r4 = n[SH_4] - best.a, r3 = n[SH_3] - best.a - 2 * best.b;
    if (fill_bins(m, pos, c4, r4, 1, 3, &left2, &left1, s, e) < 0 ||
        fill_bins(m, pos, c3, r3, 2, 4, &left2, &left1, s, e) < 0 ||
        fill_bins(m, pos, c0, best.k, 3, 7, &left2, &left1, s, e) < 0)
        return -1;
    if (left1 || left2)
        return mig_fail(e, MIG_ERR_SYSTEM, "internal: exact packing left %u 2g and %u 1g", left2,
                        left1);
    s->exact = true;
    return 0;
}

/* ================================================================ greedy (any profiles) */

/* Is a fuller than b (compute, then memory used)? */
static int fuller_cmp(const mig_model *m, const mig_layout *a, const mig_layout *b)
{
    unsigned ca = layout_compute_used(m, a), cb = layout_compute_used(m, b);
    if (ca != cb)
        return ca > cb ? 1 : -1;
    unsigned ma = layout_memory_used(m, a), mb = layout_memory_used(m, b);
    if (ma != mb)
        return ma > mb ? 1 : -1;
    return 0;
}

static int pack_greedy(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES],
                       pk_solution *s, mig_error *e)
{
    unsigned order[MIG_MAX_PROFILES], n = 0;
    for (unsigned p = 0; p < m->n_profiles; p++)
        if (demand[p])
            order[n++] = p;
    mig_layout empty = {0};
    /* largest first (compute, then memory); among equals the one fewer fit
     * on a GPU (a +me profile: one per GPU) first, while GPUs have room */
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0; j--) {
            const mig_gi_profile *a = &m->profiles[order[j - 1]], *b = &m->profiles[order[j]];
            unsigned ca = layout_remaining(m, &empty, order[j - 1]),
                     cb = layout_remaining(m, &empty, order[j]);
            bool before = b->compute_slices > a->compute_slices ||
                          (b->compute_slices == a->compute_slices &&
                           (b->memory_slices > a->memory_slices ||
                            (b->memory_slices == a->memory_slices && cb < ca)));
            if (!before)
                break;
            unsigned t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (unsigned i = 0; i < n; i++) {
        unsigned p = order[i], left = demand[p];
        while (left) {
            int best = -1;
            mig_layout best_l;
            for (unsigned c = 0; c < s->n; c++) {
                if (!s->items[c].count)
                    continue;
                int st = pack_best_start(m, &s->items[c].layout, p);
                if (st < 0)
                    continue;
                mig_layout t = s->items[c].layout;
                layout_add(&t, p, (unsigned)st);
                int f = best < 0 ? 1 : fuller_cmp(m, &t, &best_l);
                if (f > 0 || (f == 0 && pack_frag_cmp(m, &t, &best_l) > 0)) {
                    best = (int)c;
                    best_l = t;
                }
            }
            if (best >= 0) {
                unsigned move = s->items[best].count < left ? s->items[best].count : left;
                s->items[best].count -= move;
                s->gpus -= move;
                if (sol_add(s, &best_l, move, e) < 0)
                    return -1;
                left -= move;
                continue;
            }
            /* open new GPUs full of p (and one with the remainder), so the
             * free room stays together on the last GPU */
            unsigned per = layout_remaining(m, &empty, p);
            if (!per)
                return mig_fail(e, MIG_ERR_INPUT, "%s cannot be created on an empty %s",
                                m->profiles[p].name, m->name);
            unsigned counts[MIG_MAX_PROFILES] = {0};
            mig_layout full, rest;
            counts[p] = left < per ? left : per;
            if (!place_multiset(m, counts, &full))
                return mig_fail(e, MIG_ERR_SYSTEM, "internal: %u x %s do not place", counts[p],
                                m->profiles[p].name);
            unsigned n_full = left / counts[p];
            if (sol_add(s, &full, n_full, e) < 0)
                return -1;
            left -= n_full * counts[p];
            if (left) {
                counts[p] = left;
                if (!place_multiset(m, counts, &rest) || sol_add(s, &rest, 1, e) < 0)
                    return mig_fail(e, MIG_ERR_SYSTEM, "internal: %u x %s do not place", left,
                                    m->profiles[p].name);
                left = 0;
            }
        }
    }
    /* drop emptied classes */
    unsigned w = 0;
    for (unsigned c = 0; c < s->n; c++)
        if (s->items[c].count)
            s->items[w++] = s->items[c];
    s->n = w;
    return 0;
}

/* ---- greedy over configurations (cutting-stock style) ----
 * The maximal layouts of the demanded profiles are the configurations. Take
 * the one that covers the most remaining demand, weighted by each slice's
 * share of the GPU (compute/C + memory/M), as many times as it stays fully
 * used; repeat. It pairs what the item-by-item greedy keeps apart, e.g. a
 * 1g.20gb@6 with six 1g.10gb (the 1g.10gb alone strand memory slice 7). */

typedef struct {
    unsigned n, cap;
    mig_layout *l;
} layout_list;

static int collect_layout(const mig_layout *l, void *vctx)
{
    layout_list *ll = vctx;
    if (ll->n == ll->cap) {
        unsigned nc = ll->cap ? ll->cap * 2 : 64;
        mig_layout *nl = realloc(ll->l, nc * sizeof *nl);
        if (!nl)
            return -1;
        ll->l = nl;
        ll->cap = nc;
    }
    ll->l[ll->n++] = *l;
    return 0;
}

static int pack_by_configs(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES],
                           int variant, pk_solution *s, mig_error *e)
{
    bool allowed[MIG_MAX_PROFILES] = {0};
    double w[MIG_MAX_PROFILES] = {0};
    unsigned rem[MIG_MAX_PROFILES];
    for (unsigned p = 0; p < m->n_profiles; p++) {
        allowed[p] = demand[p] > 0;
        rem[p] = demand[p];
        double wc = (double)m->profiles[p].compute_slices / m->compute_slices,
               wm = (double)m->profiles[p].memory_slices / m->memory_slices;
        w[p] = variant / 2 == 0 ? wc + wm : variant / 2 == 1 ? wm : wc;
    }
    layout_list ll = {0};
    if (layout_enumerate_maximal(m, allowed, collect_layout, &ll) < 0) {
        free(ll.l);
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    int rc = 0;
    for (;;) {
        int best = -1;
        double best_v = 0;
        for (unsigned cc = 0; cc < ll.n; cc++) {
            unsigned c = variant % 2 ? ll.n - 1 - cc : cc; /* ties: first or last */
            double v = 0;
            for (unsigned p = 0; p < m->n_profiles; p++) {
                unsigned k = layout_count(&ll.l[c], p);
                v += (k < rem[p] ? k : rem[p]) * w[p];
            }
            if (v > best_v + 1e-12) {
                best_v = v;
                best = (int)c;
            }
        }
        if (best < 0)
            break;
        /* the used part of the configuration, and how often it stays full */
        mig_layout use = {0};
        unsigned taken[MIG_MAX_PROFILES] = {0}, times = ~0u;
        for (unsigned i = 0; i < ll.l[best].n; i++) {
            unsigned p = ll.l[best].gi[i].profile;
            if (taken[p] < rem[p]) {
                taken[p]++;
                layout_add(&use, p, ll.l[best].gi[i].start);
            }
        }
        for (unsigned p = 0; p < m->n_profiles; p++)
            if (taken[p] && rem[p] / taken[p] < times)
                times = rem[p] / taken[p];
        if (times == 0 || times == ~0u)
            times = 1;
        /* a partly used configuration only once: the rest may pair better */
        for (unsigned p = 0; p < m->n_profiles; p++)
            if (taken[p] < layout_count(&ll.l[best], p))
                times = 1;
        if ((rc = sol_add(s, &use, times, e)) < 0)
            break;
        for (unsigned p = 0; p < m->n_profiles; p++)
            rem[p] -= taken[p] * times;
    }
    free(ll.l);
    return rc;
}

/* ---- configuration LP bound ----
 * min sum x_c subject to sum_c count_c[p] x_c >= demand[p], x >= 0, over the
 * maximal layouts c of the demanded profiles (Gilmore-Gomory). Solved as its
 * dual, max sum demand[p] y_p subject to sum_p count_c[p] y_p <= 1, y >= 0,
 * by a dense tableau simplex (Bland's rule). Any feasible y bounds the optimum
 * from below (weak duality), so the y found is scaled back into feasibility
 * before use: rounding can only make the bound weaker, never wrong. */

#define LP_MAX_ROWS 512

double pack_config_lp(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES])
{
    bool allowed[MIG_MAX_PROFILES] = {0};
    unsigned cols[MIG_MAX_PROFILES], n = 0;
    for (unsigned p = 0; p < m->n_profiles; p++)
        if (demand[p]) {
            allowed[p] = true;
            cols[n++] = p;
        }
    if (!n)
        return 0;
    layout_list ll = {0};
    if (layout_enumerate_maximal(m, allowed, collect_layout, &ll) < 0 || !ll.n || ll.n > LP_MAX_ROWS) {
        free(ll.l);
        return 0;
    }
    unsigned rows = ll.n, width = n + rows + 1; /* y, slacks, rhs */
    double *t = calloc((size_t)(rows + 1) * width, sizeof *t);
    int *basis = calloc(rows, sizeof *basis);
    double bound = 0;
    if (!t || !basis)
        goto done;
#define T(r, c) t[(size_t)(r) * width + (c)]
    for (unsigned r = 0; r < rows; r++) {
        for (unsigned j = 0; j < n; j++)
            T(r, j) = layout_count(&ll.l[r], cols[j]);
        T(r, n + r) = 1;
        T(r, width - 1) = 1;
        basis[r] = (int)(n + r);
    }
    for (unsigned j = 0; j < n; j++)
        T(rows, j) = -(double)demand[cols[j]]; /* objective row: reduced costs */
    for (unsigned iter = 0; iter < 10000; iter++) {
        int enter = -1;
        for (unsigned j = 0; j < width - 1; j++)
            if (T(rows, j) < -1e-9) {
                enter = (int)j; /* Bland: lowest index */
                break;
            }
        if (enter < 0)
            break;
        int leave = -1;
        double best = 0;
        for (unsigned r = 0; r < rows; r++)
            if (T(r, enter) > 1e-12) {
                double ratio = T(r, width - 1) / T(r, enter);
                if (leave < 0 || ratio < best - 1e-12 ||
                    (ratio < best + 1e-12 && basis[r] < basis[leave])) {
                    leave = (int)r;
                    best = ratio;
                }
            }
        if (leave < 0)
            break; /* unbounded cannot happen: every y_p appears in some row */
        double piv = T(leave, enter);
        for (unsigned c = 0; c < width; c++)
            T(leave, c) /= piv;
        for (unsigned r = 0; r <= rows; r++) {
            if ((int)r == leave || T(r, enter) == 0)
                continue;
            double f = T(r, enter);
            for (unsigned c = 0; c < width; c++)
                T(r, c) -= f * T(leave, c);
        }
        basis[leave] = enter;
    }
    /* read y, make it feasible, evaluate */
    double y[MIG_MAX_PROFILES] = {0};
    for (unsigned r = 0; r < rows; r++)
        if (basis[r] < (int)n)
            y[basis[r]] = T(r, width - 1) > 0 ? T(r, width - 1) : 0;
    double worst = 0, obj = 0;
    for (unsigned r = 0; r < rows; r++) {
        double lhs = 0;
        for (unsigned j = 0; j < n; j++)
            lhs += layout_count(&ll.l[r], cols[j]) * y[j];
        if (lhs > worst)
            worst = lhs;
    }
    for (unsigned j = 0; j < n; j++)
        obj += demand[cols[j]] * y[j];
    if (worst > 0)
        bound = obj / (worst > 1 ? worst : 1);
#undef T
done:
    free(t);
    free(basis);
    free(ll.l);
    return bound;
}

int pack_model(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES], pk_solution *out,
               mig_error *e)
{
    memset(out, 0, sizeof *out);
    out->lower_bound = pack_lower_bound(m, demand);
    int pos[SH_N];
    int rc;
    if (standard_positions(m, demand, pos)) {
        unsigned n[SH_N];
        for (int s = 0; s < SH_N; s++)
            n[s] = pos[s] >= 0 ? demand[pos[s]] : 0;
        rc = pack_exact(m, pos, n, out, e);
    } else {
        /* the item greedy, then the configuration greedy under six weightings
         * and tie orders; keep the fewest GPUs */
        rc = pack_greedy(m, demand, out, e);
        if (rc == 0 && out->gpus > out->lower_bound) {
            unsigned lp = (unsigned)ceil(pack_config_lp(m, demand) - 1e-6);
            if (lp > out->lower_bound)
                out->lower_bound = lp;
        }
        for (int v = 0; rc == 0 && v < 6 && out->gpus > out->lower_bound; v++) {
            pk_solution alt = {0};
            if (pack_by_configs(m, demand, v, &alt, e) == 0 && alt.gpus < out->gpus) {
                alt.lower_bound = out->lower_bound;
                pk_solution_free(out);
                *out = alt;
            } else {
                pk_solution_free(&alt);
            }
        }
        mig_error_clear(e);
        if (rc == 0 && out->gpus == out->lower_bound)
            out->exact = true;
    }
    if (rc < 0)
        pk_solution_free(out);
    return rc;
}

/* ================================================================ baselines */

unsigned pack_baseline(const mig_model *m, const unsigned char *profiles, size_t n,
                       pk_baseline how)
{
    size_t cap = 64, used = 0;
    mig_layout *bins = calloc(cap, sizeof *bins);
    if (!bins)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned p = profiles[i];
        long best = -1;
        unsigned best_c = 0;
        for (size_t b = 0; b < used; b++) {
            if (layout_auto_start(m, &bins[b], p) < 0)
                continue;
            if (how == PK_FIRST_FIT) {
                best = (long)b;
                break;
            }
            unsigned c = layout_compute_used(m, &bins[b]);
            if (best < 0 || c > best_c) {
                best = (long)b;
                best_c = c;
            }
        }
        if (best < 0) {
            if (used == cap) {
                mig_layout *nb = realloc(bins, (cap *= 2) * sizeof *nb);
                if (!nb) {
                    free(bins);
                    return 0;
                }
                bins = nb;
            }
            memset(&bins[used], 0, sizeof bins[used]);
            best = (long)used++;
        }
        int st = layout_auto_start(m, &bins[best], p);
        if (st >= 0)
            layout_add(&bins[best], p, (unsigned)st);
    }
    free(bins);
    return (unsigned)used;
}

/* ================================================================ fleet */

unsigned pack_fleet_models(const fl_fleet *f, const mig_model *out[PK_MAX_MODELS])
{
    unsigned n = 0;
    for (unsigned i = 0; i < f->n_gpus; i++) {
        bool seen = false;
        for (unsigned k = 0; k < n; k++)
            seen |= out[k] == f->gpus[i].model;
        if (!seen && n < PK_MAX_MODELS)
            out[n++] = f->gpus[i].model;
    }
    return n;
}

int pack_model_index(const pk_plan *p, const mig_model *m)
{
    for (unsigned k = 0; k < p->n_models; k++)
        if (p->models[k] == m)
            return (int)k;
    return -1;
}

static const adv_decision *dec(const pk_plan *p, unsigned w, unsigned k)
{
    return adv_at(p->decisions, p->n_models, w, k);
}

static double cost_of(const adv_decision *d)
{
    if (d->kind == ADV_UNPLACED || !d->per_gpu)
        return INFINITY;
    if (d->kind == ADV_WHOLE)
        return (double)d->gpus;
    return 1.0 / d->per_gpu;
}

/* ---- MPS bins: first-fit decreasing on (compute, memory, clients) ---- */

typedef struct {
    double c, m;
    unsigned n;
} mps_bin;

static int cmp_mps_desc(const void *a, const void *b, void *ctx)
{
    const pk_plan *p = ctx;
    const pk_instance *x = &p->inst[*(const unsigned *)a], *y = &p->inst[*(const unsigned *)b];
    const adv_decision *dx = dec(p, x->workload, (unsigned)x->model),
                       *dy = dec(p, y->workload, (unsigned)y->model);
    double sx = fmax(dx->compute_share, dx->memory_share),
           sy = fmax(dy->compute_share, dy->memory_share);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return x->workload != y->workload ? (x->workload < y->workload ? -1 : 1)
                                      : (x->replica < y->replica ? -1 : 1);
}

/* Assign MPS instances (indices) to bins; bin_of[i] gets a bin number.
 * Returns the number of bins, or -1. */
static long mps_pack(const pk_plan *p, unsigned *idx, unsigned n, unsigned *bin_of,
                     mps_bin **bins_out)
{
    qsort_r(idx, n, sizeof *idx, cmp_mps_desc, (void *)p);
    size_t cap = 16, used = 0, first_open = 0;
    mps_bin *bins = calloc(cap, sizeof *bins);
    if (!bins)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        const pk_instance *in = &p->inst[idx[i]];
        const adv_decision *d = dec(p, in->workload, (unsigned)in->model);
        size_t b = first_open;
        for (; b < used; b++)
            if (bins[b].c + d->compute_share <= 1.0 + 1e-9 &&
                bins[b].m + d->memory_share <= 1.0 + 1e-9 && bins[b].n < ADV_MPS_MAX_CLIENTS)
                break;
        if (b == used) {
            if (used == cap) {
                mps_bin *nb = realloc(bins, (cap *= 2) * sizeof *nb);
                if (!nb) {
                    free(bins);
                    return -1;
                }
                bins = nb;
            }
            memset(&bins[used++], 0, sizeof *bins);
        }
        bins[b].c += d->compute_share;
        bins[b].m += d->memory_share;
        bins[b].n++;
        bin_of[i] = (unsigned)b;
        /* bins nearly full never take another item of this size or larger */
        while (first_open < used && bins[first_open].n >= ADV_MPS_MAX_CLIENTS)
            first_open++;
    }
    *bins_out = bins;
    return (long)used;
}

/* ---- per-model accounting used while choosing models ---- */

typedef struct {
    unsigned *on;     /* [w * n_models + k]: replicas of w sent to model k */
    unsigned *avail;  /* GPUs of model k in the fleet */
} choice_state;

/* GPUs model k needs for what is sent to it (whole + MIG + MPS estimate). */
static unsigned model_need(const pk_plan *p, const choice_state *cs, unsigned k, mig_error *e)
{
    unsigned need = 0, demand[MIG_MAX_PROFILES] = {0};
    double mc = 0, mm = 0;
    for (unsigned w = 0; w < p->wf->n; w++) {
        unsigned r = cs->on[w * p->n_models + k];
        const adv_decision *d = dec(p, w, k);
        if (!r)
            continue;
        if (d->kind == ADV_WHOLE)
            need += r * d->gpus;
        else if (d->kind == ADV_MIG)
            demand[d->profile] += r;
        else if (d->kind == ADV_MPS) {
            mc += r * d->compute_share;
            mm += r * d->memory_share;
        }
    }
    pk_solution s;
    if (pack_model(p->models[k], demand, &s, e) == 0) {
        need += s.gpus;
        pk_solution_free(&s);
    }
    need += (unsigned)ceil(fmax(mc, mm) - 1e-9);
    return need;
}

/* Move replicas off models that would overflow to the next-cheapest model
 * with room: smallest extra cost first. Bounded rounds; leftovers overflow
 * and end up unplaced when GPUs run out. */
static void rebalance(pk_plan *p, choice_state *cs, mig_error *e)
{
    unsigned K = p->n_models;
    for (unsigned round = 0; round < 64 * K; round++) {
        unsigned need[PK_MAX_MODELS];
        for (unsigned k = 0; k < K; k++)
            need[k] = model_need(p, cs, k, e);
        int over = -1;
        for (unsigned k = 0; k < K && over < 0; k++)
            if (need[k] > cs->avail[k])
                over = (int)k;
        if (over < 0)
            return;
        int bw = -1, bk = -1;
        double regret = INFINITY;
        for (unsigned w = 0; w < p->wf->n; w++) {
            if (!cs->on[w * K + (unsigned)over])
                continue;
            for (unsigned k = 0; k < K; k++) {
                if ((int)k == over || need[k] >= cs->avail[k])
                    continue;
                double r = cost_of(dec(p, w, k)) - cost_of(dec(p, w, (unsigned)over));
                if (isfinite(cost_of(dec(p, w, k))) && r < regret) {
                    regret = r;
                    bw = (int)w;
                    bk = (int)k;
                }
            }
        }
        if (bw < 0)
            return;
        const adv_decision *from = dec(p, (unsigned)bw, (unsigned)over);
        const adv_decision *to = dec(p, (unsigned)bw, (unsigned)bk);
        unsigned excess = need[over] - cs->avail[over];
        unsigned room = cs->avail[bk] - need[bk];
        unsigned q = excess * (from->kind == ADV_WHOLE ? 1 : from->per_gpu);
        unsigned q_room = room * (to->kind == ADV_WHOLE ? 1 : to->per_gpu);
        if (q > q_room)
            q = q_room;
        unsigned *src = &cs->on[(unsigned)bw * K + (unsigned)over];
        if (q > *src)
            q = *src;
        if (!q)
            q = 1;
        *src -= q;
        cs->on[(unsigned)bw * K + (unsigned)bk] += q;
    }
}

static int choose_models(pk_plan *p, choice_state *cs, mig_error *e)
{
    unsigned K = p->n_models;
    cs->on = calloc((size_t)p->wf->n * K + 1, sizeof *cs->on);
    cs->avail = calloc(K, sizeof *cs->avail);
    if (!cs->on || !cs->avail)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = 0; i < p->fleet->n_gpus; i++)
        cs->avail[pack_model_index(p, p->fleet->gpus[i].model)]++;
    for (unsigned w = 0; w < p->wf->n; w++) {
        int best = -1;
        for (unsigned k = 0; k < K; k++) {
            double c = cost_of(dec(p, w, k));
            if (!isfinite(c))
                continue;
            if (best < 0 || c < cost_of(dec(p, w, (unsigned)best)) ||
                (c == cost_of(dec(p, w, (unsigned)best)) && cs->avail[k] > cs->avail[best]))
                best = (int)k;
        }
        if (best >= 0)
            cs->on[w * K + (unsigned)best] = p->wf->items[w].replicas;
    }
    if (K > 1)
        rebalance(p, cs, e);
    mig_error_clear(e);
    return 0;
}

/* ---- mapping onto the fleet ---- */

typedef struct {
    unsigned *gpus; /* fleet GPU indices of one model, in fleet order */
    unsigned n, next;
} gpu_pool;

static int pool_take(pk_plan *p, gpu_pool *pool)
{
    while (pool->next < pool->n && p->gpus[pool->gpus[pool->next]].use != PK_GPU_FREE)
        pool->next++;
    return pool->next < pool->n ? (int)pool->gpus[pool->next++] : -1;
}

/* A gang of g whole GPUs on one node: the first node with enough free. */
static bool take_gang(pk_plan *p, const mig_model *m, unsigned g, int *out)
{
    const fl_fleet *f = p->fleet;
    for (unsigned nd = 0; nd < f->n_nodes; nd++) {
        unsigned got = 0;
        for (unsigned i = 0; i < f->nodes[nd].n_gpus && got < g; i++) {
            unsigned gi = f->nodes[nd].first_gpu + i;
            if (f->gpus[gi].model == m && p->gpus[gi].use == PK_GPU_FREE)
                out[got++] = (int)gi;
        }
        if (got == g)
            return true;
    }
    return false;
}

/* place_model's four jobs, each at its seam: whole GPUs and gangs (and
 * the demand the other steps take), MIG slices, MPS bins, and whether the
 * model's part is proven optimal. */

/* Whole-GPU replicas of model k onto free GPUs (gangs on one node); count
 * the MIG demand per profile and collect the MPS instances into idx. */
static void place_whole(pk_plan *p, unsigned k, gpu_pool *pool,
                        unsigned demand[MIG_MAX_PROFILES], unsigned *idx, unsigned *n_mps)
{
    const mig_model *m = p->models[k];
    for (unsigned i = 0; i < p->n_inst; i++) {
        pk_instance *in = &p->inst[i];
        if (in->model != (int)k)
            continue;
        const adv_decision *d = dec(p, in->workload, k);
        if (d->kind == ADV_WHOLE && in->part == 0) {
            int g[WL_MAX_GPUS];
            bool ok = d->gpus > 1 ? take_gang(p, m, d->gpus, g) : (g[0] = pool_take(p, pool)) >= 0;
            for (unsigned j = 0; ok && j < d->gpus; j++) {
                p->gpus[g[j]].use = PK_GPU_WHOLE;
                in[j].gpu = g[j];
            }
        } else if (d->kind == ADV_MIG) {
            demand[d->profile]++;
        } else if (d->kind == ADV_MPS) {
            idx[(*n_mps)++] = i;
        }
    }
}

/* The packed configurations onto free GPUs of the pool, and every MIG
 * instance of model k its slice (in instance order per profile). */
static void place_mig(pk_plan *p, unsigned k, gpu_pool *pool, const pk_solution *sol)
{
    unsigned cursor[MIG_MAX_PROFILES] = {0};
    for (unsigned c = 0; c < sol->n; c++)
        for (unsigned r = 0; r < sol->items[c].count; r++) {
            int g = pool_take(p, pool);
            if (g < 0)
                return;
            p->gpus[g].use = PK_GPU_MIG;
            p->gpus[g].layout = sol->items[c].layout;
            const mig_layout *l = &p->gpus[g].layout;
            for (unsigned s = 0; s < l->n; s++) {
                unsigned prof = l->gi[s].profile;
                for (; cursor[prof] < p->n_inst; cursor[prof]++) {
                    pk_instance *in = &p->inst[cursor[prof]];
                    const adv_decision *d = in->model == (int)k ? dec(p, in->workload, k) : NULL;
                    if (d && d->kind == ADV_MIG && d->profile == (int)prof && in->gpu < 0)
                        break;
                }
                if (cursor[prof] < p->n_inst) {
                    p->inst[cursor[prof]].gpu = g;
                    p->inst[cursor[prof]].gi = (int)s;
                }
            }
        }
}

/* MPS instances idx[0..n) into bins, bins onto free GPUs; the bin count,
 * or -1 (out of memory). */
static long place_mps(pk_plan *p, unsigned k, gpu_pool *pool, unsigned *idx, unsigned n,
                      unsigned *bin_of)
{
    mps_bin *bins = NULL;
    long nb = mps_pack(p, idx, n, bin_of, &bins);
    free(bins);
    if (nb < 0)
        return -1;
    int *bin_gpu = calloc((size_t)nb + 1, sizeof *bin_gpu);
    if (!bin_gpu)
        return -1;
    for (long b = 0; b < nb; b++) {
        bin_gpu[b] = pool_take(p, pool);
        if (bin_gpu[b] >= 0)
            p->gpus[bin_gpu[b]].use = PK_GPU_MPS;
    }
    for (unsigned i = 0; i < n; i++) {
        int g = bin_gpu[bin_of[i]];
        pk_instance *in = &p->inst[idx[i]];
        if (g < 0)
            continue;
        const adv_decision *d = dec(p, in->workload, k);
        in->gpu = g;
        p->gpus[g].mps_compute += d->compute_share;
        p->gpus[g].mps_memory += d->memory_share;
        p->gpus[g].mps_clients++;
    }
    free(bin_gpu);
    return nb;
}

/* Is the MPS packing at its bound (summed shares, client cap)? */
static bool mps_at_bound(const pk_plan *p, unsigned k, const unsigned *idx, unsigned n, long nb)
{
    double mc = 0, mm = 0;
    for (unsigned i = 0; i < n; i++) {
        const adv_decision *d = dec(p, p->inst[idx[i]].workload, k);
        mc += d->compute_share;
        mm += d->memory_share;
    }
    long lb = (long)ceil(fmax(mc, mm) - 1e-9);
    if ((long)ceil_div(n, ADV_MPS_MAX_CLIENTS) > lb)
        lb = (long)ceil_div(n, ADV_MPS_MAX_CLIENTS);
    return nb == lb;
}

static int place_model(pk_plan *p, unsigned k, mig_error *e)
{
    const mig_model *m = p->models[k];
    gpu_pool pool = {.gpus = calloc(p->fleet->n_gpus + 1, sizeof(unsigned))};
    unsigned *idx = calloc(p->n_inst + 1, sizeof *idx), *bin_of = calloc(p->n_inst + 1, sizeof *bin_of);
    int rc = -1;
    pk_solution sol = {0};
    if (!pool.gpus || !idx || !bin_of) {
        mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        goto done;
    }
    for (unsigned i = 0; i < p->fleet->n_gpus; i++)
        if (p->fleet->gpus[i].model == m)
            pool.gpus[pool.n++] = i;
    unsigned demand[MIG_MAX_PROFILES] = {0}, n_mps = 0;
    place_whole(p, k, &pool, demand, idx, &n_mps);
    if (pack_model(m, demand, &sol, e) < 0)
        goto done;
    place_mig(p, k, &pool, &sol);
    long nb = place_mps(p, k, &pool, idx, n_mps, bin_of);
    if (nb < 0) {
        mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        goto done;
    }
    p->exact = p->exact && sol.exact && mps_at_bound(p, k, idx, n_mps, nb);
    rc = 0;
done:
    pk_solution_free(&sol);
    free(pool.gpus);
    free(idx);
    free(bin_of);
    return rc;
}

static int make_instances(pk_plan *p, const choice_state *cs, mig_error *e)
{
    size_t n = 0;
    for (unsigned w = 0; w < p->wf->n; w++) {
        const wl_workload *wl = &p->wf->items[w];
        n += (size_t)wl->replicas * (wl->p2p || wl->gpus > 1 ? wl->gpus : 1);
    }
    p->inst = calloc(n + 1, sizeof *p->inst);
    if (!p->inst)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned w = 0; w < p->wf->n; w++) {
        const wl_workload *wl = &p->wf->items[w];
        unsigned parts = wl->p2p || wl->gpus > 1 ? wl->gpus : 1, r = 0;
        for (unsigned k = 0; k <= p->n_models; k++) {
            unsigned on = k < p->n_models ? cs->on[w * p->n_models + k] : wl->replicas - r;
            for (unsigned j = 0; j < on && r < wl->replicas; j++, r++)
                for (unsigned part = 0; part < parts; part++)
                    p->inst[p->n_inst++] = (pk_instance){.workload = w, .replica = r, .part = part,
                                                         .gpu = -1, .gi = -1,
                                                         .model = k < p->n_models ? (int)k : -1};
        }
    }
    return 0;
}

/* Lower bound over the placed instances: per instance the least share of a
 * GPU any model could give it (compute and memory separately); on one model
 * also whole + MPS + the MIG structural bound, all on disjoint GPUs. */
static void plan_bounds(pk_plan *p, mig_error *e)
{
    double sc = 0, sm = 0, mps_c = 0, mps_m = 0;
    unsigned whole = 0, demand[MIG_MAX_PROFILES] = {0};
    bool one_model = true;
    for (unsigned i = 0; i < p->n_inst; i++) {
        const pk_instance *in = &p->inst[i];
        if (in->gpu < 0)
            continue;
        one_model &= in->model == p->inst[0].model;
        double bc = INFINITY, bm = INFINITY;
        for (unsigned k = 0; k < p->n_models; k++) {
            const adv_decision *d = dec(p, in->workload, k);
            if (d->kind == ADV_UNPLACED)
                continue;
            double c = d->kind == ADV_WHOLE ? 1.0 : d->compute_share;
            double m = d->kind == ADV_WHOLE ? 1.0 : d->memory_share;
            bc = fmin(bc, c);
            bm = fmin(bm, m);
        }
        sc += bc;
        sm += bm;
        const adv_decision *d = dec(p, in->workload, (unsigned)in->model);
        if (d->kind == ADV_WHOLE)
            whole++;
        else if (d->kind == ADV_MIG)
            demand[d->profile]++;
        else {
            mps_c += d->compute_share;
            mps_m += d->memory_share;
        }
    }
    unsigned lb = (unsigned)ceil(fmax(sc, sm) - 1e-9);
    if (one_model && p->n_inst && p->inst[0].model >= 0) {
        const mig_model *m = p->models[p->inst[0].model];
        unsigned mig_lb = pack_lower_bound(m, demand);
        if (!pack_is_standard(m, demand)) { /* the exact packer needs no LP */
            unsigned lp = (unsigned)ceil(pack_config_lp(m, demand) - 1e-6);
            if (lp > mig_lb)
                mig_lb = lp;
        }
        unsigned add = whole + (unsigned)ceil(fmax(mps_c, mps_m) - 1e-9) + mig_lb;
        if (add > lb)
            lb = add;
    }
    p->lower_bound = lb;
    (void)e;
}

static void plan_stats(pk_plan *p)
{
    for (unsigned g = 0; g < p->fleet->n_gpus; g++) {
        const pk_gpu *pg = &p->gpus[g];
        const mig_model *m = p->fleet->gpus[g].model;
        if (pg->use == PK_GPU_FREE)
            continue;
        p->gpus_used++;
        if (pg->use != PK_GPU_MIG)
            continue;
        p->mig_gpus++;
        p->compute_used += layout_compute_used(m, &pg->layout);
        p->memory_used += layout_memory_used(m, &pg->layout);
        p->compute_total += m->compute_slices;
        p->memory_total += m->memory_slices;
    }
    for (unsigned i = 0; i < p->n_inst; i++) {
        const pk_instance *in = &p->inst[i];
        if (in->model >= 0)
            p->one_per_gpu++;
        if (in->gpu < 0) {
            p->unplaced++;
            if (in->model < 0)
                p->unplaceable++;
        }
    }
    if (p->unplaced)
        p->exact = false;
}

int pack_plan(const wl_file *wf, const fl_fleet *fleet, pk_plan *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    out->wf = wf;
    out->fleet = fleet;
    out->exact = true;
    out->n_models = pack_fleet_models(fleet, out->models);
    out->decisions = calloc((size_t)wf->n * out->n_models + 1, sizeof *out->decisions);
    out->gpus = calloc(fleet->n_gpus + 1, sizeof *out->gpus);
    if (!out->decisions || !out->gpus) {
        pk_plan_free(out);
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    advise_all(wf, out->models, out->n_models, out->decisions);
    choice_state cs = {0};
    int rc = choose_models(out, &cs, e);
    if (rc == 0)
        rc = make_instances(out, &cs, e);
    unsigned used_models = 0;
    for (unsigned k = 0; rc == 0 && k < out->n_models; k++) {
        bool any = false;
        for (unsigned w = 0; w < wf->n; w++)
            any |= cs.on[w * out->n_models + k] > 0;
        used_models += any;
        if (any)
            rc = place_model(out, k, e);
    }
    free(cs.on);
    free(cs.avail);
    if (rc < 0) {
        pk_plan_free(out);
        return -1;
    }
    /* On several models the per-model optima need not add up to the
     * fleet's optimum, so the per-model proofs alone do not carry over ... */
    if (used_models > 1)
        out->exact = false;
    plan_stats(out);
    plan_bounds(out, e);
    if (out->exact && out->gpus_used < out->lower_bound)
        out->exact = false; /* cannot happen; keeps the claim honest */
    /* ... but a plan that meets the fleet-wide lower bound is optimal
     * whatever the fleet: no plan uses fewer GPUs than a valid bound. */
    if (!out->unplaced && out->gpus_used == out->lower_bound)
        out->exact = true;
    return 0;
}

void pk_plan_free(pk_plan *p)
{
    free(p->decisions);
    free(p->gpus);
    free(p->inst);
    memset(p, 0, sizeof *p);
}

/* ================================================================ output */

unsigned pack_layout_names(const mig_model *m, const mig_layout *l,
                           char names[MIG_MAX_GI][MIG_NAME_LEN + 4])
{
    mig_layout s = *l;
    layout_sort(&s);
    for (unsigned i = 0; i < s.n; i++)
        snprintf(names[i], MIG_NAME_LEN + 4, "%s@%u", m->profiles[s.gi[i].profile].name,
                 s.gi[i].start);
    return s.n;
}

/* A GPU's content as text, to group identical GPUs into one entry. */
static void gpu_signature(const fl_fleet *f, const pk_gpu *g, unsigned gi, char *buf, size_t len)
{
    if (g->use != PK_GPU_MIG) {
        /* MPS GPUs get their own entry (mps: true, for migctl slurm gres). */
        snprintf(buf, len, "%s|%s", f->gpus[gi].model->name, g->use == PK_GPU_MPS ? "mps" : "off");
        return;
    }
    char names[MIG_MAX_GI][MIG_NAME_LEN + 4];
    unsigned n = pack_layout_names(f->gpus[gi].model, &g->layout, names);
    size_t u = (size_t)snprintf(buf, len, "%s|", f->gpus[gi].model->name);
    for (unsigned i = 0; i < n && u < len; i++)
        u += (size_t)snprintf(buf + u, len - u, "%s,", names[i]);
}

static int fill_entry(const fl_fleet *f, const pk_gpu *g, unsigned gi, cfg_entry *en,
                      mig_error *e)
{
    en->has_devices = true;
    en->mig_enabled = g->use == PK_GPU_MIG;
    en->mps = g->use == PK_GPU_MPS;
    if (!en->mig_enabled)
        return 0;
    const mig_model *m = f->gpus[gi].model;
    char names[MIG_MAX_GI][MIG_NAME_LEN + 4];
    unsigned n = pack_layout_names(m, &g->layout, names);
    en->devices = calloc(n + 1, sizeof *en->devices);
    if (!en->devices)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    mig_layout s = g->layout;
    layout_sort(&s);
    for (unsigned i = 0; i < n; i++) {
        cfg_mig_device *d = &en->devices[en->n_devices++];
        snprintf(d->key, sizeof d->key, "%.40s", names[i]);
        if (mig_profile_name_parse(m->profiles[s.gi[i].profile].name, &d->name, e) < 0)
            return -1;
        d->start = s.gi[i].start;
        d->count = 1;
    }
    return 0;
}

int pack_node_config(const fl_fleet *f, const pk_gpu *gpus, unsigned node, const char *label,
                     cfg_file *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    const fl_node *nd = &f->nodes[node];
    out->path = strdup(nd->name);
    out->configs = calloc(1, sizeof *out->configs);
    char **sigs = calloc(nd->n_gpus + 1, sizeof *sigs);
    if (!out->path || !out->configs || !sigs)
        goto nomem;
    out->n_configs = 1;
    cfg_config *c = &out->configs[0];
    c->name = strdup(label ? label : "migctl-plan");
    c->entries = calloc(nd->n_gpus + 1, sizeof *c->entries);
    if (!c->name || !c->entries)
        goto nomem;
    for (unsigned i = 0; i < nd->n_gpus; i++) {
        unsigned gi = nd->first_gpu + i;
        if (gpus[gi].use == PK_GPU_FREE)
            continue;
        char sig[512];
        gpu_signature(f, &gpus[gi], gi, sig, sizeof sig);
        unsigned en = 0;
        while (en < c->n_entries && strcmp(sigs[en], sig))
            en++;
        if (en == c->n_entries) {
            if (!(sigs[en] = strdup(sig)))
                goto nomem;
            c->entries[en].indices = calloc(nd->n_gpus, sizeof(unsigned));
            c->n_entries++;
            if (!c->entries[en].indices)
                goto nomem;
            if (fill_entry(f, &gpus[gi], gi, &c->entries[en], e) < 0)
                goto fail;
        }
        cfg_entry *ent = &c->entries[en];
        ent->indices[ent->n_indices++] = f->gpus[gi].index;
    }
    for (unsigned i = 0; i < c->n_entries; i++)
        free(sigs[i]);
    free(sigs);
    return 0;
nomem:
    mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
fail:
    if (sigs)
        for (unsigned i = 0; i < nd->n_gpus; i++)
            free(sigs[i]);
    free(sigs);
    cfg_free(out);
    return -1;
}
