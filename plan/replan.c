/*
 * replan.c: online placement (`plan --add`) and replanning with the fewest
 * drains (`replan`) over a fleet with current layouts and busy instances.
 *
 * One trial = a set D of GPUs allowed to be drained. Every other GPU keeps
 * its busy instances where they are; items (new replicas, and the running
 * instances of GPUs in D) are placed largest first into those GPUs: an idle
 * instance of the same profile first (no operation), else the placement
 * that destroys the fewest idle instances (only `replan` may destroy idle
 * ones), then loses the least capacity for the largest profiles, then the
 * fullest GPU. What is left is packed from scratch (plan/pack) onto the
 * GPUs in D as blank GPUs. D grows one GPU per round, greedily: of the
 * cheapest candidates (least running work), the first that makes
 * everything fit, else the one that leaves the least unplaced. Greedy, so
 * the drain count is not proven minimal; it is 0 whenever the demand fits
 * free slots and idle instances, and the tests check it against a brute
 * force on small fleets.
 *
 * Per-GPU scores are cached per profile and recomputed only for the GPU
 * that just changed, so a trial costs O(items x GPUs) comparisons.
 */
#include "plan/replan.h"
#include "plan/replan_milp.h"
#include "model/profile_order.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- items */

typedef struct {
    int workload;            /* -1: a moved instance with no workload label */
    unsigned replica, parts;
    int fixed_model;         /* >= 0: must stay on this model (moved, unlabelled) */
    adv_decision fixed;      /* its decision then */
    bool moved;
    int origin_gpu, origin_gi; /* moved: where it runs now */
    char label[200];
} item;

typedef struct {
    rp_plan *p;
    bool add_only;           /* plan --add: destroy nothing */
    unsigned n_items, cap_items;
    item *items;
    int *label_w;            /* [gpu * (MIG_MAX_GI + 1) + gi]: workload of a busy GI's
                                label (gi = MIG_MAX_GI: the whole GPU), -1 none */
    /* per trial */
    bool *in_d;              /* GPU is in the drain set */
    unsigned *order;         /* drain candidates, cheapest first */
    unsigned n_order;
} ctx;

static const adv_decision *dec_of(const ctx *c, const item *it, unsigned k)
{
    if (it->fixed_model >= 0)
        return (unsigned)it->fixed_model == k ? &it->fixed : NULL;
    return adv_at(c->p->decisions, c->p->n_models, (unsigned)it->workload, k);
}

static int model_of(const rp_plan *p, const mig_model *m)
{
    for (unsigned k = 0; k < p->n_models; k++)
        if (p->models[k] == m)
            return (int)k;
    return -1;
}

static double share_of(const adv_decision *d)
{
    if (!d || d->kind == ADV_UNPLACED)
        return INFINITY;
    return d->kind == ADV_WHOLE ? (double)d->gpus : fmax(d->compute_share, d->memory_share);
}

static int push_item(ctx *c, const item *it, mig_error *e)
{
    if (c->n_items == c->cap_items) {
        unsigned nc = c->cap_items ? c->cap_items * 2 : 64;
        item *ni = realloc(c->items, nc * sizeof *ni);
        if (!ni)
            return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        c->items = ni;
        c->cap_items = nc;
    }
    c->items[c->n_items++] = *it;
    return 0;
}

/* ---------------------------------------------------------------- GPU state */

typedef struct {
    bool mig;
    mig_layout layout;          /* current GIs (kept originals + new) */
    int orig[MIG_MAX_GI];       /* per layout GI: index in the fleet layout, -1 = new */
    bool reused[MIG_MAX_GI];    /* per layout GI: an idle original given to an item */
    bool destroyed[MIG_MAX_GI]; /* per fleet GI: idle original destroyed */
    pk_gpu_use use;
    double mps_c, mps_m;
    unsigned mps_n;
    unsigned version;
} wgpu;

static void wgpu_reset(wgpu *w, const fl_gpu *g, bool blank)
{
    memset(w, 0, sizeof *w);
    w->mig = g->mig_enabled;
    if (blank)
        return;
    w->layout = g->layout;
    for (unsigned i = 0; i < g->layout.n; i++)
        w->orig[i] = (int)i;
    if (g->mig_enabled)
        w->use = g->layout.n ? PK_GPU_MIG : PK_GPU_FREE;
    else
        w->use = g->whole_busy ? PK_GPU_WHOLE : PK_GPU_FREE;
}

static bool gi_idle_free(const fl_gpu *g, const wgpu *w, unsigned i)
{
    return w->orig[i] >= 0 && !g->busy[w->orig[i]] && !w->reused[i];
}

/* ---------------------------------------------------------------- scoring */

#define SCORE_LEN (2 + MIG_MAX_PROFILES + 2)

typedef struct {
    bool ok;
    int start;      /* -1 with reuse >= 0 */
    int reuse;      /* layout GI index of an idle instance to take */
    unsigned destroy_mask; /* layout GI indices of idle instances to destroy */
    int key[SCORE_LEN];
} cand;

static int cmp_key(const int *a, const int *b)
{
    for (int i = 0; i < SCORE_LEN; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

/* Best way to add one GI of profile p to GPU g (smaller key = better). */
static cand score_mig(const ctx *c, unsigned gi_fleet, const wgpu *w, unsigned p)
{
    const fl_gpu *g = &c->p->fleet->gpus[gi_fleet];
    const mig_model *m = g->model;
    cand best = {.ok = false, .reuse = -1, .start = -1};
    if (!w->mig)
        return best;
    for (unsigned i = 0; i < w->layout.n; i++)
        if (w->layout.gi[i].profile == p && gi_idle_free(g, w, i)) {
            best.ok = true;
            best.reuse = (int)i;
            memset(best.key, 0, sizeof best.key);
            best.key[SCORE_LEN - 1] = (int)gi_fleet;
            return best;
        }
    unsigned order[MIG_MAX_PROFILES], no = mig_profiles_largest_first(m, true, order);
    unsigned before[MIG_MAX_PROFILES];
    for (unsigned q = 0; q < no; q++)
        before[q] = layout_remaining(m, &w->layout, order[q]);
    const mig_gi_profile *pr = &m->profiles[p];
    for (unsigned si = 0; si < pr->n_starts; si++) {
        unsigned s = pr->starts[si], lo = s, hi = s + pr->memory_slices;
        mig_layout l = {0};
        unsigned mask = 0, n_destroy = 0;
        for (unsigned i = 0; i < w->layout.n; i++) {
            const mig_gi_place *x = &w->layout.gi[i];
            unsigned xlo = x->start, xhi = x->start + m->profiles[x->profile].memory_slices;
            bool overlap = xlo < hi && lo < xhi;
            if (overlap && gi_idle_free(g, w, i) && !c->add_only) {
                mask |= 1u << i;
                n_destroy++;
                continue;
            }
            layout_add(&l, x->profile, x->start);
        }
        if (layout_fits(m, &l, p, s) != MIG_FIT_OK)
            continue;
        layout_add(&l, p, s);
        cand cd = {.ok = true, .start = (int)s, .reuse = -1, .destroy_mask = mask};
        cd.key[0] = 1;
        cd.key[1] = (int)n_destroy;
        for (unsigned q = 0; q < no; q++) {
            int after = (int)layout_remaining(m, &l, order[q]);
            cd.key[2 + q] = (int)before[q] - after; /* capacity lost */
        }
        cd.key[2 + MIG_MAX_PROFILES] = -(int)layout_compute_used(m, &l); /* fuller first */
        cd.key[SCORE_LEN - 1] = (int)gi_fleet;
        if (!best.ok || cmp_key(cd.key, best.key) < 0)
            best = cd;
    }
    return best;
}

static void apply_mig(wgpu *w, const cand *cd, unsigned p, int *gi_out)
{
    if (cd->reuse >= 0) {
        w->reused[cd->reuse] = true;
        *gi_out = cd->reuse;
    } else {
        mig_layout l = {0};
        int orig[MIG_MAX_GI];
        bool reused[MIG_MAX_GI];
        for (unsigned i = 0; i < w->layout.n; i++) {
            if (cd->destroy_mask & (1u << i)) {
                w->destroyed[w->orig[i]] = true;
                continue;
            }
            orig[l.n] = w->orig[i];
            reused[l.n] = w->reused[i];
            layout_add(&l, w->layout.gi[i].profile, w->layout.gi[i].start);
        }
        orig[l.n] = -1;
        reused[l.n] = true;
        *gi_out = l.n;
        layout_add(&l, p, (unsigned)cd->start);
        w->layout = l;
        memcpy(w->orig, orig, sizeof orig);
        memcpy(w->reused, reused, sizeof reused);
    }
    w->use = PK_GPU_MIG;
    w->version++;
}

/* ---------------------------------------------------------------- one trial */

typedef struct {
    wgpu *w;
    cand *cache;          /* [gpu * MIG_MAX_PROFILES + p] */
    unsigned *cache_ver;  /* version + 1 the entry was computed at, 0 = never */
    int *item_gpu, *item_gi;
    unsigned leftover;
    double left_share;    /* summed size of what found no place */
    unsigned repairs;     /* repair attempts in this trial */
    struct pheap *heaps;  /* [model * MIG_MAX_PROFILES + profile], per trial */
    bool heap_off;        /* a heap could not grow: scan every GPU instead */
} trial;

#define CACHE_BLANK 0x40000000u /* added to the versions of drained GPUs */

static const cand *cached(const ctx *c, trial *t, unsigned g, unsigned p)
{
    size_t k = (size_t)g * MIG_MAX_PROFILES + p;
    unsigned key = t->w[g].version + (c->in_d[g] ? CACHE_BLANK : 0) + 1;
    if (t->cache_ver[k] != key) {
        t->cache[k] = score_mig(c, g, &t->w[g], p);
        t->cache_ver[k] = key;
    }
    return &t->cache[k];
}

/* ---------------------------------------------------------------- best GPU per profile
 * Each item takes the GPU whose score for its profile is least. Scanning
 * every GPU per item made a trial O(items x GPUs); instead each (model,
 * profile) keeps a binary heap of scores, built on first use in a trial. A
 * GPU that changes gets its new scores pushed; entries of an older version
 * are dropped when they reach the top. Scores end with the GPU index, so the
 * heap's minimum is exactly the scan's. */

typedef struct {
    int key[SCORE_LEN];
    unsigned g, ver;
} hentry;

struct pheap {
    hentry *a;
    unsigned n, cap;
    bool built;
};

static int h_push(struct pheap *h, const hentry *e)
{
    if (h->n == h->cap) {
        unsigned nc = h->cap ? h->cap * 2 : 64;
        hentry *na = realloc(h->a, nc * sizeof *na);
        if (!na)
            return -1;
        h->a = na;
        h->cap = nc;
    }
    unsigned i = h->n++;
    while (i && cmp_key(e->key, h->a[(i - 1) / 2].key) < 0) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = *e;
    return 0;
}

static void h_pop(struct pheap *h)
{
    hentry last = h->a[--h->n];
    unsigned i = 0;
    for (;;) {
        unsigned l = 2 * i + 1, m = i;
        const hentry *mv = &last;
        if (l < h->n && cmp_key(h->a[l].key, mv->key) < 0) {
            m = l;
            mv = &h->a[l];
        }
        if (l + 1 < h->n && cmp_key(h->a[l + 1].key, mv->key) < 0)
            m = l + 1;
        if (m == i)
            break;
        h->a[i] = h->a[m];
        i = m;
    }
    if (h->n)
        h->a[i] = last;
}

static void heap_push_gpu(const ctx *c, trial *t, struct pheap *h, unsigned g, unsigned p)
{
    const cand *cd = cached(c, t, g, p);
    if (!cd->ok)
        return;
    hentry e = {.g = g, .ver = t->w[g].version};
    memcpy(e.key, cd->key, sizeof e.key);
    if (h_push(h, &e) < 0)
        t->heap_off = true;
}

/* GPU g changed: its current scores into the heaps built for its model. */
static void heap_touch(const ctx *c, trial *t, unsigned g)
{
    int k = model_of(c->p, c->p->fleet->gpus[g].model);
    if (t->heap_off || k < 0 || c->in_d[g])
        return;
    for (unsigned p = 0; p < MIG_MAX_PROFILES; p++) {
        struct pheap *h = &t->heaps[(unsigned)k * MIG_MAX_PROFILES + p];
        if (h->built)
            heap_push_gpu(c, t, h, g, p);
    }
}

/* The GPU (not drained) of model k with the least score for profile p, and
 * that score; -1 if none takes it. */
static int heap_best(const ctx *c, trial *t, unsigned k, unsigned p, const cand **bc)
{
    const fl_fleet *f = c->p->fleet;
    struct pheap *h = &t->heaps[k * MIG_MAX_PROFILES + p];
    if (!h->built) {
        h->built = true;
        h->n = 0;
        for (unsigned g = 0; g < f->n_gpus; g++)
            if (!c->in_d[g] && f->gpus[g].model == c->p->models[k])
                heap_push_gpu(c, t, h, g, p);
    }
    while (h->n) {
        const hentry *top = &h->a[0];
        if (top->ver != t->w[top->g].version) {
            h_pop(h); /* superseded by a newer entry of the same GPU */
            continue;
        }
        *bc = cached(c, t, top->g, p);
        return (int)top->g;
    }
    return -1;
}

/* ---------------------------------------------------------------- repair */

#define REPAIR_MAX_ITEMS 12
#define REPAIR_MAX_PAIRS 256
#define REPAIR_MAX_TRIES 64 /* repairs per trial: bounds the worst case */

/* The fixed part of GPU g: busy originals, plus (plan --add) every idle
 * one, handed out or not: --add may not destroy any, so the items that took
 * one stay on it and are not re-split (items_on leaves them out). */
static void fixed_layout(const ctx *c, const trial *t, unsigned g, mig_layout *out)
{
    const fl_gpu *fg = &c->p->fleet->gpus[g];
    const wgpu *w = &t->w[g];
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < w->layout.n; i++) {
        int o = w->orig[i];
        if (o >= 0 && (fg->busy[o] || c->add_only))
            layout_add(out, w->layout.gi[i].profile, w->layout.gi[i].start);
    }
}

/* Place profiles prof[0..n) beside `l` (starts out), exhaustively; starts
 * of idle originals of the same profile are tried first so they are kept. */
static bool fit_set(const mig_model *m, mig_layout *l, const unsigned *prof, unsigned n,
                    unsigned k, int *starts, const fl_gpu *fg)
{
    if (k == n)
        return true;
    const mig_gi_profile *pr = &m->profiles[prof[k]];
    for (int pass = 0; pass < 2; pass++)
        for (unsigned si = 0; si < pr->n_starts; si++) {
            unsigned s = pr->starts[si];
            bool idle_here = false;
            for (unsigned i = 0; i < fg->layout.n; i++)
                idle_here |= !fg->busy[i] && fg->layout.gi[i].profile == prof[k] &&
                             fg->layout.gi[i].start == s;
            if (idle_here != (pass == 0) || layout_fits(m, l, prof[k], s) != MIG_FIT_OK)
                continue;
            layout_add(l, prof[k], s);
            starts[k] = (int)s;
            if (fit_set(m, l, prof, n, k + 1, starts, fg))
                return true;
            layout_remove(l, l->n - 1);
        }
    return false;
}

/* Rebuild GPU g as its fixed part plus the given items at the given starts. */
static void rebuild(const ctx *c, trial *t, unsigned g, const unsigned *items,
                    const unsigned *prof, const int *starts, unsigned n)
{
    const fl_gpu *fg = &c->p->fleet->gpus[g];
    wgpu *w = &t->w[g];
    mig_layout l = {0};
    int orig[MIG_MAX_GI];
    bool reused[MIG_MAX_GI] = {0}, kept[MIG_MAX_GI] = {0};
    for (unsigned i = 0; i < w->layout.n; i++) {
        int o = w->orig[i];
        if (o >= 0 && (fg->busy[o] || c->add_only)) {
            orig[l.n] = o;
            reused[l.n] = c->add_only && w->reused[i]; /* its item stays on it */
            kept[o] = true;
            layout_add(&l, w->layout.gi[i].profile, w->layout.gi[i].start);
        }
    }
    for (unsigned k = 0; k < n; k++) {
        int o = -1;
        for (unsigned i = 0; i < fg->layout.n; i++)
            if (!fg->busy[i] && !kept[i] && fg->layout.gi[i].profile == prof[k] &&
                fg->layout.gi[i].start == (unsigned)starts[k])
                o = (int)i;
        if (o >= 0)
            kept[o] = true;
        orig[l.n] = o;
        reused[l.n] = true;
        layout_add(&l, prof[k], (unsigned)starts[k]);
        t->item_gpu[items[k]] = (int)g;
        t->item_gi[items[k]] = starts[k];
    }
    for (unsigned i = 0; i < fg->layout.n; i++)
        w->destroyed[i] = !fg->busy[i] && !kept[i];
    w->layout = l;
    memcpy(w->orig, orig, sizeof orig);
    memcpy(w->reused, reused, sizeof reused);
    w->use = PK_GPU_MIG;
    w->version++;
}

/* MIG items placed on GPU g in this trial (with their profile on model k);
 * head/next: the items per GPU as lists, built once per repair. */
static unsigned items_on(const ctx *c, const trial *t, const int *head, const int *next,
                         unsigned g, unsigned k, unsigned *out, unsigned *prof, unsigned max)
{
    unsigned n = 0;
    for (int ii = head[g]; ii >= 0; ii = next[ii]) {
        unsigned i = (unsigned)ii;
        if (t->item_gpu[i] != (int)g || t->item_gi[i] < 0)
            continue;
        if (c->add_only) { /* on an idle original: part of the fixed layout */
            const wgpu *w = &t->w[g];
            bool on_orig = false;
            for (unsigned j = 0; j < w->layout.n; j++)
                on_orig |= w->layout.gi[j].start == (unsigned)t->item_gi[i] && w->orig[j] >= 0;
            if (on_orig)
                continue;
        }
        const adv_decision *d = dec_of(c, &c->items[i], k);
        if (!d || d->kind != ADV_MIG || n == max)
            return max + 1;
        out[n] = i;
        prof[n++] = (unsigned)d->profile;
    }
    return n;
}

static bool repair_lists(const ctx *c, trial *t, unsigned i, const unsigned *ks, unsigned nk,
                         const int *head, const int *next);

/* Item i found no slot: try to re-split what was placed on a pair of GPUs
 * of its model, plus i, between the two (exhaustive over the splits). */
static bool repair_pair(const ctx *c, trial *t, unsigned i, const unsigned *ks, unsigned nk)
{
    const fl_fleet *f = c->p->fleet;
    if (t->repairs++ >= REPAIR_MAX_TRIES)
        return false;
    int *head = malloc((f->n_gpus + 1) * sizeof *head), *next = malloc((c->n_items + 1) * sizeof *next);
    if (!head || !next) {
        free(head);
        free(next);
        return false;
    }
    for (unsigned g = 0; g < f->n_gpus; g++)
        head[g] = -1;
    for (unsigned k = c->n_items; k-- > 0;)
        if (t->item_gpu[k] >= 0) {
            next[k] = head[t->item_gpu[k]];
            head[t->item_gpu[k]] = (int)k;
        }
    bool done = repair_lists(c, t, i, ks, nk, head, next);
    free(head);
    free(next);
    return done;
}

static bool repair_lists(const ctx *c, trial *t, unsigned i, const unsigned *ks, unsigned nk,
                         const int *head, const int *next)
{
    const fl_fleet *f = c->p->fleet;
    unsigned pairs = 0;
    for (unsigned a = 0; a < nk; a++) {
        const adv_decision *d = dec_of(c, &c->items[i], ks[a]);
        if (d->kind != ADV_MIG)
            continue;
        const mig_model *m = c->p->models[ks[a]];
        for (unsigned g1 = 0; g1 < f->n_gpus; g1++) {
            if (c->in_d[g1] || f->gpus[g1].model != m || !t->w[g1].mig)
                continue;
            mig_layout fx1;
            fixed_layout(c, t, g1, &fx1);
            if (layout_remaining(m, &fx1, (unsigned)d->profile) == 0)
                continue; /* even emptied, g1 cannot take i */
            for (unsigned g2 = 0; g2 < f->n_gpus && pairs < REPAIR_MAX_PAIRS; g2++) {
                if (g2 == g1 || c->in_d[g2] || f->gpus[g2].model != m || !t->w[g2].mig)
                    continue;
                pairs++;
                unsigned it[2 * REPAIR_MAX_ITEMS + 2], pr[2 * REPAIR_MAX_ITEMS + 2];
                unsigned n1 = items_on(c, t, head, next, g1, ks[a], it, pr, REPAIR_MAX_ITEMS);
                if (n1 > REPAIR_MAX_ITEMS || !n1)
                    continue;
                unsigned n2 = items_on(c, t, head, next, g2, ks[a], it + n1, pr + n1,
                                       REPAIR_MAX_ITEMS);
                if (n2 > REPAIR_MAX_ITEMS || n1 + n2 + 1 > REPAIR_MAX_ITEMS)
                    continue;
                unsigned n = n1 + n2;
                it[n] = i;
                pr[n++] = (unsigned)d->profile;
                mig_layout fx2;
                fixed_layout(c, t, g2, &fx2);
                for (unsigned mask = 0; mask < (1u << n); mask++) {
                    if (!(mask & (1u << (n - 1))))
                        continue; /* i goes to g1: the pair is tried both ways */
                    unsigned s1[2 * REPAIR_MAX_ITEMS + 2], p1[2 * REPAIR_MAX_ITEMS + 2],
                        s2[2 * REPAIR_MAX_ITEMS + 2], p2[2 * REPAIR_MAX_ITEMS + 2], a1 = 0, a2 = 0;
                    for (unsigned b = 0; b < n; b++) {
                        if (mask & (1u << b)) {
                            s1[a1] = it[b];
                            p1[a1++] = pr[b];
                        } else {
                            s2[a2] = it[b];
                            p2[a2++] = pr[b];
                        }
                    }
                    int st1[MIG_MAX_GI * 2], st2[MIG_MAX_GI * 2];
                    mig_layout l1 = fx1, l2 = fx2;
                    if (a1 > MIG_MAX_GI || a2 > MIG_MAX_GI ||
                        !fit_set(m, &l1, p1, a1, 0, st1, &f->gpus[g1]) ||
                        !fit_set(m, &l2, p2, a2, 0, st2, &f->gpus[g2]))
                        continue;
                    rebuild(c, t, g1, s1, p1, st1, a1);
                    rebuild(c, t, g2, s2, p2, st2, a2);
                    heap_touch(c, t, g1);
                    heap_touch(c, t, g2);
                    return true;
                }
            }
        }
    }
    return false;
}

/* Place item i on a non-drained GPU; false if none takes it. */
static bool place_free(const ctx *c, trial *t, unsigned i)
{
    const item *it = &c->items[i];
    const rp_plan *p = c->p;
    const fl_fleet *f = p->fleet;
    /* models by cost for this item */
    unsigned ks[PK_MAX_MODELS], nk = 0;
    for (unsigned k = 0; k < p->n_models; k++)
        if (dec_of(c, it, k) && dec_of(c, it, k)->kind != ADV_UNPLACED)
            ks[nk++] = k;
    for (unsigned a = 1; a < nk; a++)
        for (unsigned b = a; b > 0 && share_of(dec_of(c, it, ks[b])) <
                                          share_of(dec_of(c, it, ks[b - 1])); b--) {
            unsigned x = ks[b];
            ks[b] = ks[b - 1];
            ks[b - 1] = x;
        }
    for (unsigned a = 0; a < nk; a++) {
        const adv_decision *d = dec_of(c, it, ks[a]);
        const mig_model *m = p->models[ks[a]];
        if (d->kind == ADV_MIG) {
            int best = -1;
            const cand *bc = NULL;
            if (!t->heap_off)
                best = heap_best(c, t, ks[a], (unsigned)d->profile, &bc);
            for (unsigned g = 0; t->heap_off && g < f->n_gpus; g++) {
                if (c->in_d[g] || f->gpus[g].model != m)
                    continue;
                const cand *cd = cached(c, t, g, (unsigned)d->profile);
                if (cd->ok && (!bc || cmp_key(cd->key, bc->key) < 0)) {
                    bc = cd;
                    best = (int)g;
                }
            }
            if (best >= 0) {
                cand cd = *bc;
                int gi;
                apply_mig(&t->w[best], &cd, (unsigned)d->profile, &gi);
                t->item_gi[i] = t->w[best].layout.gi[gi].start; /* a start: indices shift */
                t->item_gpu[i] = best;
                heap_touch(c, t, (unsigned)best);
                return true;
            }
        } else if (d->kind == ADV_WHOLE) {
            /* whole GPUs with MIG off and nothing on them, parts on one node */
            for (unsigned nd = 0; nd < f->n_nodes; nd++) {
                int got[WL_MAX_GPUS];
                unsigned n = 0;
                for (unsigned j = 0; j < f->nodes[nd].n_gpus && n < it->parts; j++) {
                    unsigned g = f->nodes[nd].first_gpu + j;
                    if (!c->in_d[g] && f->gpus[g].model == m && !t->w[g].mig &&
                        t->w[g].use == PK_GPU_FREE)
                        got[n++] = (int)g;
                }
                if (n == it->parts) {
                    for (unsigned j = 0; j < n; j++) {
                        t->w[got[j]].use = PK_GPU_WHOLE;
                        t->w[got[j]].version++;
                    }
                    t->item_gpu[i] = got[0];
                    t->item_gi[i] = -1;
                    return true;
                }
            }
        } else if (d->kind == ADV_MPS) {
            for (unsigned g = 0; g < f->n_gpus; g++) {
                wgpu *w = &t->w[g];
                if (c->in_d[g] || f->gpus[g].model != m || w->mig)
                    continue;
                bool room = w->use == PK_GPU_FREE ||
                            (w->use == PK_GPU_MPS && w->mps_c + d->compute_share <= 1 + 1e-9 &&
                             w->mps_m + d->memory_share <= 1 + 1e-9 &&
                             w->mps_n < ADV_MPS_MAX_CLIENTS);
                if (!room)
                    continue;
                w->use = PK_GPU_MPS;
                w->mps_c += d->compute_share;
                w->mps_m += d->memory_share;
                w->mps_n++;
                w->version++;
                t->item_gpu[i] = (int)g;
                t->item_gi[i] = -1;
                return true;
            }
        }
    }
    return repair_pair(c, t, i, ks, nk);
}

/* The next blank GPU of D with model m at or after *pos, or -1. */
static int next_blank(const ctx *c, const trial *t, const mig_model *m, unsigned *pos)
{
    const fl_fleet *f = c->p->fleet;
    while (*pos < f->n_gpus &&
           !(c->in_d[*pos] && f->gpus[*pos].model == m && t->w[*pos].use == PK_GPU_FREE))
        (*pos)++;
    return *pos < f->n_gpus ? (int)(*pos)++ : -1;
}

/* `parts` blank GPUs of model m on one node for a whole-GPU item; -1 if none. */
static int take_blank_whole(const ctx *c, trial *t, const mig_model *m, unsigned parts)
{
    const fl_fleet *f = c->p->fleet;
    for (unsigned nd = 0; nd < f->n_nodes; nd++) {
        int got[WL_MAX_GPUS];
        unsigned n = 0;
        for (unsigned j = 0; j < f->nodes[nd].n_gpus && n < parts; j++) {
            unsigned g = f->nodes[nd].first_gpu + j;
            if (c->in_d[g] && f->gpus[g].model == m && t->w[g].use == PK_GPU_FREE)
                got[n++] = (int)g;
        }
        if (n < parts)
            continue;
        for (unsigned j = 0; j < n; j++) {
            t->w[got[j]].mig = false;
            t->w[got[j]].use = PK_GPU_WHOLE;
        }
        return got[0];
    }
    return -1;
}

/* The cheapest model for an item among those with blank GPUs, or -1. */
static int blank_model(const ctx *c, const item *it, const bool *has_blank)
{
    int kb = -1;
    for (unsigned k = 0; k < c->p->n_models; k++) {
        const adv_decision *d = dec_of(c, it, k);
        if (d && d->kind != ADV_UNPLACED && has_blank[k] &&
            (kb < 0 || share_of(d) < share_of(dec_of(c, it, (unsigned)kb))))
            kb = (int)k;
    }
    return kb;
}

/* Pack the leftovers from scratch onto the blank GPUs of D, as far as they
 * go (whole GPUs first, then MIG configurations, then MPS). True when every
 * leftover got a place. */
static bool place_blank(const ctx *c, trial *t, const unsigned *left, unsigned n_left)
{
    const rp_plan *p = c->p;
    const fl_fleet *f = p->fleet;
    bool has_blank[PK_MAX_MODELS] = {0};
    for (unsigned g = 0; g < f->n_gpus; g++)
        if (c->in_d[g])
            has_blank[model_of(p, f->gpus[g].model)] = true;
    for (unsigned k = 0; k < p->n_models; k++) {
        const mig_model *m = p->models[k];
        unsigned demand[MIG_MAX_PROFILES] = {0}, gpos = 0;
        for (unsigned a = 0; a < n_left; a++) {
            unsigned ii = left[a];
            if (blank_model(c, &c->items[ii], has_blank) != (int)k)
                continue;
            const adv_decision *d = dec_of(c, &c->items[ii], k);
            if (d->kind == ADV_MIG)
                demand[d->profile]++;
            else if (d->kind == ADV_WHOLE) {
                t->item_gpu[ii] = take_blank_whole(c, t, m, c->items[ii].parts);
                t->item_gi[ii] = -1;
            }
        }
        pk_solution s;
        mig_error e = {0};
        if (pack_model(m, demand, &s, &e) < 0)
            continue;
        for (unsigned ci = 0; ci < s.n; ci++)
            for (unsigned r = 0; r < s.items[ci].count; r++) {
                int g = next_blank(c, t, m, &gpos);
                if (g < 0)
                    break;
                wgpu *w = &t->w[g];
                w->mig = true;
                w->use = PK_GPU_MIG;
                w->layout = s.items[ci].layout;
                for (unsigned x = 0; x < MIG_MAX_GI; x++) {
                    w->orig[x] = -1;
                    w->reused[x] = x < w->layout.n;
                }
                w->version++;
                /* hand the slices to MIG leftovers of this model */
                for (unsigned x = 0; x < w->layout.n; x++)
                    for (unsigned a = 0; a < n_left; a++) {
                        unsigned ii = left[a];
                        const adv_decision *d = dec_of(c, &c->items[ii], k);
                        if (t->item_gpu[ii] < 0 && d && d->kind == ADV_MIG &&
                            d->profile == (int)w->layout.gi[x].profile &&
                            blank_model(c, &c->items[ii], has_blank) == (int)k) {
                            t->item_gpu[ii] = g;
                            t->item_gi[ii] = w->layout.gi[x].start;
                            break;
                        }
                    }
            }
        pk_solution_free(&s);
        for (unsigned a = 0; a < n_left; a++) {
            unsigned ii = left[a];
            const adv_decision *d = dec_of(c, &c->items[ii], k);
            if (t->item_gpu[ii] >= 0 || !d || d->kind != ADV_MPS ||
                blank_model(c, &c->items[ii], has_blank) != (int)k)
                continue;
            for (unsigned g = 0; g < f->n_gpus && t->item_gpu[ii] < 0; g++) {
                wgpu *w = &t->w[g];
                bool fresh = w->use == PK_GPU_FREE;
                if (!c->in_d[g] || f->gpus[g].model != m ||
                    !(fresh || (w->use == PK_GPU_MPS && !w->mig)) ||
                    w->mps_c + d->compute_share > 1 + 1e-9 ||
                    w->mps_m + d->memory_share > 1 + 1e-9 || w->mps_n >= ADV_MPS_MAX_CLIENTS)
                    continue;
                w->mig = false;
                w->use = PK_GPU_MPS;
                w->mps_c += d->compute_share;
                w->mps_m += d->memory_share;
                w->mps_n++;
                t->item_gpu[ii] = (int)g;
                t->item_gi[ii] = -1;
            }
        }
    }
    bool all = true;
    for (unsigned a = 0; a < n_left; a++)
        all &= t->item_gpu[left[a]] >= 0;
    return all;
}

/* ---------------------------------------------------------------- demand */

/* Build the items for drain set in_d: replicas not satisfied by labelled
 * busy instances outside D, plus the running instances of D. */
static int build_items(ctx *c, mig_error *e)
{
    rp_plan *p = c->p;
    const fl_fleet *f = p->fleet;
    c->n_items = 0;
    p->satisfied = 0;
    unsigned *have = calloc(p->wf->n + 1, sizeof *have);
    if (!have)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned g = 0; g < f->n_gpus; g++) {
        const fl_gpu *fg = &f->gpus[g];
        int k = model_of(p, fg->model);
        for (unsigned i = 0; i < fg->layout.n; i++) {
            if (!fg->busy[i])
                continue;
            int w = c->label_w[(size_t)g * (MIG_MAX_GI + 1) + i];
            const adv_decision *d = w >= 0 ? adv_at(p->decisions, p->n_models, (unsigned)w, (unsigned)k) : NULL;
            bool counts = d && d->kind == ADV_MIG && d->profile == fg->layout.gi[i].profile &&
                          have[w] < p->wf->items[w].replicas;
            if (counts)
                have[w]++;
            if (!c->in_d[g]) {
                p->satisfied += counts;
                continue;
            }
            item it = {.workload = counts ? w : -1, .parts = 1, .fixed_model = -1, .moved = true,
                       .origin_gpu = (int)g, .origin_gi = (int)i};
            char pl[MIG_NAME_LEN + 8];
            snprintf(pl, sizeof pl, "%s@%u", fg->model->profiles[fg->layout.gi[i].profile].name,
                     fg->layout.gi[i].start);
            snprintf(it.label, sizeof it.label, "%.63s (%s, %s/%u)",
                     fg->running[i][0] ? fg->running[i] : "unlabelled", pl,
                     f->nodes[fg->node].name, fg->index);
            if (!counts) {
                it.fixed_model = k;
                memset(&it.fixed, 0, sizeof it.fixed);
                it.fixed.model = fg->model;
                it.fixed.kind = ADV_MIG;
                it.fixed.profile = fg->layout.gi[i].profile;
                const mig_gi_profile *pr = &fg->model->profiles[it.fixed.profile];
                it.fixed.compute_share = (double)pr->compute_slices / fg->model->compute_slices;
                it.fixed.memory_share = (double)pr->memory_slices / fg->model->memory_slices;
                it.fixed.per_gpu = 1;
            } else {
                it.replica = have[w] - 1;
            }
            if (push_item(c, &it, e) < 0)
                goto fail;
        }
        if (fg->whole_busy) {
            int w = c->label_w[(size_t)g * (MIG_MAX_GI + 1) + MIG_MAX_GI];
            const adv_decision *d = w >= 0 ? adv_at(p->decisions, p->n_models, (unsigned)w, (unsigned)k) : NULL;
            bool counts = d && (d->kind == ADV_WHOLE || d->kind == ADV_MPS) &&
                          p->wf->items[w].gpus == 1 && have[w] < p->wf->items[w].replicas;
            if (counts)
                have[w]++;
            if (!c->in_d[g]) {
                p->satisfied += counts;
                continue;
            }
            item it = {.workload = counts ? w : -1, .parts = 1, .fixed_model = -1, .moved = true,
                       .origin_gpu = (int)g, .origin_gi = -1};
            snprintf(it.label, sizeof it.label, "%.63s (whole GPU, %s/%u)",
                     fg->whole_running[0] ? fg->whole_running : "unlabelled",
                     f->nodes[fg->node].name, fg->index);
            if (!counts) {
                it.fixed_model = k;
                memset(&it.fixed, 0, sizeof it.fixed);
                it.fixed.model = fg->model;
                it.fixed.kind = ADV_WHOLE;
                it.fixed.profile = -1;
                it.fixed.gpus = 1;
                it.fixed.per_gpu = 1;
                it.fixed.compute_share = it.fixed.memory_share = 1;
            } else {
                it.replica = have[w] - 1;
            }
            if (push_item(c, &it, e) < 0)
                goto fail;
        }
    }
    for (unsigned w = 0; w < p->wf->n; w++) {
        const wl_workload *wl = &p->wf->items[w];
        for (unsigned r = have[w]; r < wl->replicas; r++) {
            item it = {.workload = (int)w, .replica = r, .fixed_model = -1,
                       .parts = wl->p2p || wl->gpus > 1 ? wl->gpus : 1, .origin_gpu = -1,
                       .origin_gi = -1};
            snprintf(it.label, sizeof it.label, "%.63s#%u", wl->name, r);
            if (push_item(c, &it, e) < 0)
                goto fail;
        }
    }
    free(have);
    return 0;
fail:
    free(have);
    return -1;
}

static double item_size(const ctx *c, const item *it)
{
    double best = INFINITY;
    for (unsigned k = 0; k < c->p->n_models; k++)
        best = fmin(best, share_of(dec_of(c, it, k)));
    return best;
}

static int cmp_items(const void *a, const void *b, void *vctx)
{
    const ctx *sort_ctx = vctx;
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    double sx = item_size(sort_ctx, &sort_ctx->items[x]), sy = item_size(sort_ctx, &sort_ctx->items[y]);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return x < y ? -1 : (x > y);
}

/* Run one trial with the current in_d; true if everything was placed. */
static int run_trial(ctx *c, trial *t, bool *ok, mig_error *e)
{
    const fl_fleet *f = c->p->fleet;
    if (build_items(c, e) < 0)
        return -1;
    free(t->item_gpu);
    free(t->item_gi);
    t->item_gpu = malloc((c->n_items + 1) * sizeof(int));
    t->item_gi = malloc((c->n_items + 1) * sizeof(int));
    unsigned *ord = malloc((c->n_items + 1) * sizeof *ord), *left = malloc((c->n_items + 1) * sizeof *left);
    if (!t->item_gpu || !t->item_gi || !ord || !left) {
        free(ord);
        free(left);
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    t->repairs = 0;
    t->heap_off = false;
    for (unsigned h = 0; h < c->p->n_models * MIG_MAX_PROFILES; h++) {
        t->heaps[h].built = false;
        t->heaps[h].n = 0;
    }
    for (unsigned g = 0; g < f->n_gpus; g++)
        wgpu_reset(&t->w[g], &f->gpus[g], c->in_d[g]);
    /* A GPU that is not drained starts every trial in the same state
     * (version 0), so its version-0 scores carry over between trials; the
     * rest are recomputed. The cache key of a drained GPU is offset. */
    for (unsigned g = 0; g < f->n_gpus; g++)
        for (unsigned q = 0; q < MIG_MAX_PROFILES; q++) {
            unsigned *v = &t->cache_ver[(size_t)g * MIG_MAX_PROFILES + q];
            if (*v != (c->in_d[g] ? CACHE_BLANK : 0) + 1)
                *v = 0;
        }
    for (unsigned i = 0; i < c->n_items; i++) {
        ord[i] = i;
        t->item_gpu[i] = t->item_gi[i] = -1;
    }
    qsort_r(ord, c->n_items, sizeof *ord, cmp_items, c);
    unsigned n_left = 0;
    for (unsigned a = 0; a < c->n_items; a++) {
        if (!place_free(c, t, ord[a]))
            left[n_left++] = ord[a];
    }
    *ok = n_left == 0 || place_blank(c, t, left, n_left);
    t->leftover = n_left;
    t->left_share = 0;
    for (unsigned a = 0; a < n_left; a++)
        if (t->item_gpu[left[a]] < 0)
            t->left_share += fmin(item_size(c, &c->items[left[a]]), 64.0);
    free(ord);
    free(left);
    return 0;
}

/* ---------------------------------------------------------------- drain order */

static unsigned busy_slices(const fl_gpu *g)
{
    if (!g->mig_enabled)
        return g->whole_busy ? g->model->compute_slices : 0;
    unsigned s = 0;
    for (unsigned i = 0; i < g->layout.n; i++)
        if (g->busy[i])
            s += g->model->profiles[g->layout.gi[i].profile].compute_slices;
    return s;
}

static int cmp_drain(const void *a, const void *b, void *vf)
{
    const fl_fleet *order_fleet = vf;
    const fl_gpu *x = &order_fleet->gpus[*(const unsigned *)a], *y = &order_fleet->gpus[*(const unsigned *)b];
    unsigned bx = busy_slices(x), by = busy_slices(y);
    if (bx != by)
        return bx < by ? -1 : 1;
    unsigned ix = *(const unsigned *)a, iy = *(const unsigned *)b;
    return ix < iy ? -1 : (ix > iy);
}

#define REPLAN_LOOKAHEAD 12



/* Draining a GPU gains something only if work runs there or its MIG mode
 * may have to flip (an idle MIG-on GPU with idle instances is already
 * fully usable without a drain). */
static bool drain_useful(const fl_gpu *g)
{
    return busy_slices(g) > 0 || !g->mig_enabled || g->layout.n == 0;
}

/* ---------------------------------------------------------------- result */

static int push_op(rp_plan *p, unsigned *cap, unsigned gpu, const char *op, const char *prof,
                   bool enable, bool busy, mig_error *e)
{
    if (p->n_ops == *cap) {
        unsigned nc = *cap ? *cap * 2 : 64;
        rp_op *no = realloc(p->ops, nc * sizeof *no);
        if (!no)
            return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        p->ops = no;
        *cap = nc;
    }
    rp_op *o = &p->ops[p->n_ops++];
    memset(o, 0, sizeof *o);
    o->gpu = gpu;
    o->op = op;
    if (prof)
        snprintf(o->profile, sizeof o->profile, "%s", prof);
    o->enable = enable;
    o->busy = busy;
    p->changed[gpu] = true;
    return 0;
}

static void place_name(const mig_model *m, const mig_gi_place *x, char *buf, size_t len)
{
    snprintf(buf, len, "%s@%u", m->profiles[x->profile].name, x->start);
}

/* The GI index of item k's slice in its GPU's final layout, or -1
 * (item_gi holds the slice's start while a trial runs). */
static int gi_at(const trial *t, unsigned k)
{
    if (t->item_gpu[k] < 0 || t->item_gi[k] < 0)
        return -1;
    const mig_layout *l = &t->w[t->item_gpu[k]].layout;
    for (unsigned i = 0; i < l->n; i++)
        if (l->gi[i].start == t->item_gi[k])
            return (int)i;
    return -1;
}

/* Did the running instance at fleet GI i of drained GPU g land back on
 * itself (same GPU, same profile and placement)? Then it is not touched. */
static bool stays(const ctx *c, const trial *t, unsigned g, unsigned i)
{
    const fl_gpu *fg = &c->p->fleet->gpus[g];
    for (unsigned k = 0; k < c->n_items; k++) {
        const item *it = &c->items[k];
        if (!it->moved || it->origin_gpu != (int)g || it->origin_gi != (int)i)
            continue;
        int gi = gi_at(t, k);
        if (t->item_gpu[k] != (int)g || gi < 0 || !t->w[g].mig)
            return false;
        const mig_gi_place *x = &t->w[g].layout.gi[gi];
        return x->profile == fg->layout.gi[i].profile && x->start == fg->layout.gi[i].start;
    }
    return false;
}

/* A whole-GPU job of drained GPU g that landed back on g. */
static bool whole_stays(const ctx *c, const trial *t, unsigned g)
{
    for (unsigned k = 0; k < c->n_items; k++)
        if (c->items[k].moved && c->items[k].origin_gpu == (int)g && c->items[k].origin_gi < 0)
            return t->item_gpu[k] == (int)g;
    return false;
}

/* Operations of one GPU: destroys, mode change, creates. */
static int gpu_ops(ctx *c, trial *t, unsigned g, unsigned *cap, mig_error *e)
{
    rp_plan *p = c->p;
    const fl_gpu *fg = &p->fleet->gpus[g];
    const wgpu *w = &t->w[g];
    const mig_model *m = fg->model;
    char nm[MIG_NAME_LEN + 8];
    bool drained = c->in_d[g];
    bool keep[MIG_MAX_GI] = {0};
    for (unsigned i = 0; i < fg->layout.n; i++)
        keep[i] = drained && fg->busy[i] && stays(c, t, g, i);
    for (unsigned i = 0; i < fg->layout.n; i++) {
        bool gone = drained ? !keep[i] : w->destroyed[i];
        if (drained) /* an idle GI the new layout has at the same place stays */
            for (unsigned j = 0; j < w->layout.n; j++)
                if (!fg->busy[i] && w->layout.gi[j].profile == fg->layout.gi[i].profile &&
                    w->layout.gi[j].start == fg->layout.gi[i].start && w->mig)
                    gone = false;
        if (!gone)
            continue;
        place_name(m, &fg->layout.gi[i], nm, sizeof nm);
        if (push_op(p, cap, g, "destroy-ci", nm, false, fg->busy[i], e) < 0 ||
            push_op(p, cap, g, "destroy-gi", nm, false, fg->busy[i], e) < 0)
            return -1;
        p->destroyed++;
    }
    if (w->mig != fg->mig_enabled && (w->use != PK_GPU_FREE || drained)) {
        if (push_op(p, cap, g, "set-mode", NULL, w->mig, fg->whole_busy, e) < 0)
            return -1;
        p->n_mode_changes++;
    }
    for (unsigned j = 0; j < w->layout.n; j++) {
        bool existed = false;
        for (unsigned i = 0; i < fg->layout.n && fg->mig_enabled; i++)
            if (fg->layout.gi[i].profile == w->layout.gi[j].profile &&
                fg->layout.gi[i].start == w->layout.gi[j].start &&
                !(drained && fg->busy[i] && !keep[i]) && !(!drained && w->destroyed[i]))
                existed = true;
        if (existed)
            continue;
        place_name(m, &w->layout.gi[j], nm, sizeof nm);
        if (push_op(p, cap, g, "create-gi", nm, false, false, e) < 0 ||
            push_op(p, cap, g, "create-ci", nm, false, false, e) < 0)
            return -1;
        p->created++;
    }
    return 0;
}

static int finish(ctx *c, trial *t, mig_error *e)
{
    rp_plan *p = c->p;
    const fl_fleet *f = p->fleet;
    p->place = calloc(c->n_items + 1, sizeof *p->place);
    p->affected = calloc(c->n_items + 1, sizeof *p->affected);
    if (!p->place || !p->affected)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = 0; i < c->n_items; i++) {
        const item *it = &c->items[i];
        rp_place *pl = &p->place[p->n_place++];
        pl->workload = it->workload >= 0 ? (unsigned)it->workload : 0;
        pl->replica = it->replica;
        pl->gpu = t->item_gpu[i];
        pl->gi = gi_at(t, i);
        pl->moved = it->moved;
        snprintf(pl->label, sizeof pl->label, "%s", it->label);
        if (pl->gpu >= 0 && pl->gi >= 0 && !c->in_d[pl->gpu] &&
            t->w[pl->gpu].orig[pl->gi] >= 0) { /* an idle original, taken as it is */
            pl->reused = true;
            p->reused++;
        }
        if (pl->gpu < 0)
            p->unplaced++;
        bool back = it->moved && (it->origin_gi >= 0 ? stays(c, t, (unsigned)it->origin_gpu,
                                                             (unsigned)it->origin_gi)
                                                     : whole_stays(c, t, (unsigned)it->origin_gpu));
        if (it->moved && !back) {
            snprintf(p->affected[p->n_affected++], sizeof p->affected[0], "%s", it->label);
            const fl_gpu *og = &f->gpus[it->origin_gpu];
            p->moved_slices += it->origin_gi >= 0
                                   ? og->model->profiles[og->layout.gi[it->origin_gi].profile].compute_slices
                                   : og->model->compute_slices;
        }
        if (back) {
            pl->moved = false;
            pl->kept = true;
        }
    }
    unsigned cap = 0;
    for (unsigned g = 0; g < f->n_gpus; g++) {
        const wgpu *w = &t->w[g];
        p->after[g].use = w->use;
        p->after[g].layout = w->layout;
        p->after[g].mps_compute = w->mps_c;
        p->after[g].mps_memory = w->mps_m;
        p->after[g].mps_clients = w->mps_n;
        if (!w->mig && w->use == PK_GPU_FREE)
            p->after[g].use = PK_GPU_FREE;
        if (w->mig && w->use == PK_GPU_FREE && f->gpus[g].mig_enabled)
            p->after[g].use = PK_GPU_MIG; /* MIG on, no instances: keep it that way */
        if (gpu_ops(c, t, g, &cap, e) < 0)
            return -1;
        /* drained: busy work destroyed or moved, or the mode flipped */
        bool flip = w->mig != f->gpus[g].mig_enabled && w->use != PK_GPU_FREE;
        bool moved_off = false;
        for (unsigned i = 0; c->in_d[g] && i < f->gpus[g].layout.n; i++)
            moved_off |= f->gpus[g].busy[i] && !stays(c, t, g, i);
        if (c->in_d[g] && f->gpus[g].whole_busy)
            moved_off |= !whole_stays(c, t, g);
        p->drained[g] = moved_off || flip;
        p->n_drained += p->drained[g];
    }
    for (unsigned nd = 0; nd < f->n_nodes; nd++)
        p->n_nodes_drained += rp_node_drained(p, nd);
    return 0;
}

/* ---------------------------------------------------------------- entry points */

static int cmp_name(const void *a, const void *b, void *vwf)
{
    const wl_file *wf = vwf;
    return strcmp(wf->items[*(const unsigned *)a].name, wf->items[*(const unsigned *)b].name);
}

/* Workload index of a label by binary search over the sorted names. */
static int find_sorted(const wl_file *wf, const unsigned *sorted, const char *name)
{
    unsigned lo = 0, hi = wf->n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        int r = strcmp(wf->items[sorted[mid]].name, name);
        if (!r)
            return (int)sorted[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Resolve every busy label once (a fleet has thousands of them). */
static int label_index(ctx *c, mig_error *e)
{
    const wl_file *wf = c->p->wf;
    const fl_fleet *f = c->p->fleet;
    unsigned *sorted = malloc((wf->n + 1) * sizeof *sorted);
    c->label_w = malloc(((size_t)f->n_gpus * (MIG_MAX_GI + 1) + 1) * sizeof *c->label_w);
    if (!sorted || !c->label_w) {
        free(sorted);
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    for (unsigned i = 0; i < wf->n; i++)
        sorted[i] = i;
    qsort_r(sorted, wf->n, sizeof *sorted, cmp_name, (void *)wf);
    for (unsigned g = 0; g < f->n_gpus; g++) {
        const fl_gpu *fg = &f->gpus[g];
        int *row = &c->label_w[(size_t)g * (MIG_MAX_GI + 1)];
        for (unsigned i = 0; i < MIG_MAX_GI; i++)
            row[i] = i < fg->layout.n && fg->running[i][0] ? find_sorted(wf, sorted, fg->running[i]) : -1;
        row[MIG_MAX_GI] = fg->whole_running[0] ? find_sorted(wf, sorted, fg->whole_running) : -1;
    }
    free(sorted);
    return 0;
}

static int setup(rp_plan *p, const wl_file *wf, const fl_fleet *f, ctx *c, trial *t,
                 mig_error *e)
{
    memset(p, 0, sizeof *p);
    memset(c, 0, sizeof *c);
    memset(t, 0, sizeof *t);
    p->wf = wf;
    p->fleet = f;
    p->n_models = pack_fleet_models(f, p->models);
    p->decisions = calloc((size_t)wf->n * p->n_models + 1, sizeof *p->decisions);
    p->after = calloc(f->n_gpus + 1, sizeof *p->after);
    p->drained = calloc(f->n_gpus + 1, sizeof *p->drained);
    p->changed = calloc(f->n_gpus + 1, sizeof *p->changed);
    c->p = p;
    c->in_d = calloc(f->n_gpus + 1, sizeof *c->in_d);
    c->order = calloc(f->n_gpus + 1, sizeof *c->order);
    t->w = calloc(f->n_gpus + 1, sizeof *t->w);
    t->cache = calloc((size_t)f->n_gpus * MIG_MAX_PROFILES + 1, sizeof *t->cache);
    t->cache_ver = calloc((size_t)f->n_gpus * MIG_MAX_PROFILES + 1, sizeof *t->cache_ver);
    t->heaps = calloc((size_t)p->n_models * MIG_MAX_PROFILES + 1, sizeof *t->heaps);
    if (!p->decisions || !p->after || !p->drained || !p->changed || !c->in_d || !c->order ||
        !t->w || !t->cache || !t->cache_ver || !t->heaps)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    advise_all(wf, p->models, p->n_models, p->decisions);
    return label_index(c, e);
}

static void teardown(ctx *c, trial *t)
{
    free(c->label_w);
    free(c->items);
    free(c->in_d);
    free(c->order);
    free(t->w);
    free(t->cache);
    free(t->cache_ver);
    free(t->item_gpu);
    free(t->item_gi);
    for (unsigned h = 0; t->heaps && h < c->p->n_models * MIG_MAX_PROFILES; h++)
        free(t->heaps[h].a);
    free(t->heaps);
}

int replan_add(const wl_file *arrivals, const fl_fleet *fleet, rp_plan *out, mig_error *e)
{
    ctx c;
    trial t;
    int rc = setup(out, arrivals, fleet, &c, &t, e);
    bool ok;
    c.add_only = true;
    if (rc == 0)
        rc = run_trial(&c, &t, &ok, e);
    if (rc == 0)
        rc = finish(&c, &t, e);
    teardown(&c, &t);
    if (rc < 0)
        rp_plan_free(out);
    return rc;
}

/* The greedy drain search on a set-up context; leaves the chosen trial in t. */
static int greedy_run(ctx *c_, trial *t_, mig_error *e)
{
    ctx c = *c_;
    trial t = *t_;
    const fl_fleet *fleet = c.p->fleet;
    int rc = 0;
    bool ok = false;
    {
        for (unsigned g = 0; g < fleet->n_gpus; g++)
            c.order[c.n_order++] = g;
        qsort_r(c.order, c.n_order, sizeof *c.order, cmp_drain, (void *)fleet);
        rc = run_trial(&c, &t, &ok, e);
    }
    /* If even draining every GPU that could help does not fit the demand,
     * draining buys nothing: place what fits without drains and report the
     * rest as unplaced. */
    double left0 = t.left_share;
    if (rc == 0 && !ok) {
        for (unsigned g = 0; g < fleet->n_gpus; g++)
            c.in_d[g] = drain_useful(&fleet->gpus[g]);
        bool all_ok;
        rc = run_trial(&c, &t, &all_ok, e);
        memset(c.in_d, 0, fleet->n_gpus * sizeof *c.in_d);
        if (rc == 0 && !all_ok) {
            rc = run_trial(&c, &t, &ok, e);
            ok = true; /* stop here: unplaced stays as it is */
        }
        t.left_share = left0;
    }
    /* Greedy drains: each round tries the REPLAN_LOOKAHEAD cheapest GPUs not
     * yet drained and keeps the first that makes everything fit, else the one
     * that leaves the least unplaced. */
    double prev_left = INFINITY;
    unsigned stuck = 0;
    while (rc == 0 && !ok) {
        double left = t.left_share;
        unsigned more = 0;
        int best = -1;
        if (left >= 2) {
            /* far from fitting: about as many cheap GPUs as whole GPUs' worth is left */
            more = (unsigned)left;
        } else {
            double best_left = INFINITY;
            unsigned tried = 0;
            for (unsigned j = 0; j < c.n_order && tried < REPLAN_LOOKAHEAD; j++) {
                unsigned g = c.order[j];
                if (c.in_d[g] || !drain_useful(&fleet->gpus[g]))
                    continue;
                tried++;
                c.in_d[g] = true;
                bool ok_g;
                rc = run_trial(&c, &t, &ok_g, e);
                c.in_d[g] = false;
                if (rc < 0)
                    break;
                if (ok_g) {
                    best = (int)g;
                    break;
                }
                if (t.left_share < best_left - 1e-9) {
                    best_left = t.left_share;
                    best = (int)g;
                }
            }
            if (rc < 0)
                break;
            if (best >= 0 && !isfinite(best_left)) {
                c.in_d[best] = true; /* this drain makes everything fit */
                rc = run_trial(&c, &t, &ok, e);
                break;
            }
            /* no progress for a while: widen the step (1, 2, 4, ... GPUs) */
            stuck = best_left >= prev_left - 1e-9 ? stuck + 1 : 0;
            prev_left = best_left;
            if (best >= 0)
                c.in_d[best] = true;
            more = best < 0 ? 1 : (stuck ? 1u << (stuck < 10 ? stuck - 1 : 9) : 0);
        }
        unsigned added = best >= 0;
        for (unsigned j = 0; j < c.n_order && more; j++) {
            unsigned g = c.order[j];
            if (!c.in_d[g] && drain_useful(&fleet->gpus[g])) {
                c.in_d[g] = true;
                more--;
                added++;
            }
        }
        if (!added)
            break;
        rc = run_trial(&c, &t, &ok, e);
    }
    *c_ = c;
    *t_ = t;
    return rc;
}

/* ---------------------------------------------------------------- exact (MILP) */

/* Per busy GI [g * (MIG_MAX_GI + 1) + i] (i = MIG_MAX_GI: the whole GPU): the
 * workload whose running replica it is, or -1; the same rule build_items
 * applies (a labelled instance of the workload's decided profile, while the
 * workload has replicas left to count, in fleet order). */
static int running_counts(const ctx *c, int **out, mig_error *e)
{
    const rp_plan *p = c->p;
    const fl_fleet *f = p->fleet;
    int *cw = malloc(((size_t)f->n_gpus * (MIG_MAX_GI + 1) + 1) * sizeof *cw);
    unsigned *have = calloc(p->wf->n + 1, sizeof *have);
    if (!cw || !have) {
        free(cw);
        free(have);
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    for (unsigned g = 0; g < f->n_gpus; g++) {
        const fl_gpu *fg = &f->gpus[g];
        int k = model_of(p, fg->model);
        int *row = &cw[(size_t)g * (MIG_MAX_GI + 1)];
        for (unsigned i = 0; i <= MIG_MAX_GI; i++)
            row[i] = -1;
        for (unsigned i = 0; i < fg->layout.n; i++) {
            int w = c->label_w[(size_t)g * (MIG_MAX_GI + 1) + i];
            if (!fg->busy[i] || w < 0)
                continue;
            const adv_decision *d = adv_at(p->decisions, p->n_models, (unsigned)w, (unsigned)k);
            if (d->kind == ADV_MIG && d->profile == fg->layout.gi[i].profile &&
                have[w] < p->wf->items[w].replicas) {
                have[w]++;
                row[i] = w;
            }
        }
        int w = c->label_w[(size_t)g * (MIG_MAX_GI + 1) + MIG_MAX_GI];
        if (fg->whole_busy && w >= 0) {
            const adv_decision *d = adv_at(p->decisions, p->n_models, (unsigned)w, (unsigned)k);
            if ((d->kind == ADV_WHOLE || d->kind == ADV_MPS) && p->wf->items[w].gpus == 1 &&
                have[w] < p->wf->items[w].replicas) {
                have[w]++;
                row[MIG_MAX_GI] = w;
            }
        }
    }
    free(have);
    *out = cw;
    return 0;
}

/* A free slot of profile prof on a GPU of model m in the final layouts
 * (not taken by an item or by running work that stays), or -1. */
static int free_slot(const ctx *c, const trial *t, const bool *taken, const mig_model *m,
                     unsigned prof, unsigned *start)
{
    const fl_fleet *f = c->p->fleet;
    for (unsigned g = 0; g < f->n_gpus; g++) {
        if (f->gpus[g].model != m || t->w[g].use != PK_GPU_MIG)
            continue;
        const mig_layout *l = &t->w[g].layout;
        for (unsigned j = 0; j < l->n; j++)
            if (l->gi[j].profile == prof && !taken[(size_t)g * MIG_MAX_GI + j]) {
                *start = l->gi[j].start;
                return (int)g;
            }
    }
    return -1;
}

static void take_slot(const trial *t, bool *taken, unsigned g, unsigned start)
{
    const mig_layout *l = &t->w[g].layout;
    for (unsigned j = 0; j < l->n; j++)
        if (l->gi[j].start == start)
            taken[(size_t)g * MIG_MAX_GI + j] = true;
}

/* `parts` whole GPUs on node nd (final use whole, not yet given out, not the
 * card of a job that stays); the first, or -1. */
static int take_whole(const ctx *c, trial *t, bool *whole_taken, unsigned nd, const mig_model *m,
                      unsigned parts)
{
    const fl_fleet *f = c->p->fleet;
    int got[WL_MAX_GPUS];
    unsigned n = 0;
    for (unsigned j = 0; j < f->nodes[nd].n_gpus && n < parts && n < WL_MAX_GPUS; j++) {
        unsigned g = f->nodes[nd].first_gpu + j;
        bool stays_here = f->gpus[g].whole_busy && !c->in_d[g];
        if (f->gpus[g].model == m && t->w[g].use == PK_GPU_WHOLE && !whole_taken[g] && !stays_here)
            got[n++] = (int)g;
    }
    if (n < parts)
        return -1;
    for (unsigned j = 0; j < n; j++)
        whole_taken[got[j]] = true;
    return got[0];
}

/* Turn the MILP's GPU states and replica counts into a trial: the GPU
 * states, the items of its drain set, and a slot for every item. */
static int exact_apply(ctx *c, trial *t, const rpm_result *r, mig_error *e)
{
    rp_plan *p = c->p;
    const fl_fleet *f = p->fleet;
    unsigned G = f->n_gpus, K = p->n_models, N = f->n_nodes, W = p->wf->n;
    for (unsigned g = 0; g < G; g++)
        c->in_d[g] = r->gpus[g].drain_column;
    if (build_items(c, e) < 0)
        return -1;
    free(t->item_gpu);
    free(t->item_gi);
    t->item_gpu = malloc((c->n_items + 1) * sizeof(int));
    t->item_gi = malloc((c->n_items + 1) * sizeof(int));
    bool *taken = calloc((size_t)G * MIG_MAX_GI + 1, sizeof *taken);
    bool *whole_taken = calloc(G + 1, sizeof *whole_taken);
    unsigned *mig_left = malloc(((size_t)W * K + 1) * sizeof *mig_left);
    unsigned *whole_left = malloc(((size_t)W * N + 1) * sizeof *whole_left);
    unsigned *mps_left = malloc(((size_t)W * G + 1) * sizeof *mps_left);
    unsigned *fw_left = malloc(((size_t)K * N + 1) * sizeof *fw_left);
    int rc = 0;
    if (!t->item_gpu || !t->item_gi || !taken || !whole_taken || !mig_left || !whole_left ||
        !mps_left || !fw_left) {
        rc = mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        goto done;
    }
    memcpy(mig_left, r->mig_repl, (size_t)W * K * sizeof *mig_left);
    memcpy(whole_left, r->whole_repl, (size_t)W * N * sizeof *whole_left);
    memcpy(mps_left, r->mps_repl, (size_t)W * G * sizeof *mps_left);
    memcpy(fw_left, r->fixed_whole, (size_t)K * N * sizeof *fw_left);
    /* GPU states */
    for (unsigned g = 0; g < G; g++) {
        const fl_gpu *fg = &f->gpus[g];
        const rpm_gpu *st = &r->gpus[g];
        wgpu *w = &t->w[g];
        memset(w, 0, sizeof *w);
        w->mig = st->mig;
        w->use = st->use;
        if (st->use == PK_GPU_MIG) {
            w->layout = st->layout;
            if (!w->layout.n)
                w->use = PK_GPU_FREE;
        }
        for (unsigned j = 0; j < MIG_MAX_GI; j++)
            w->orig[j] = -1;
        for (unsigned i = 0; i < fg->layout.n; i++) {
            bool kept = false;
            for (unsigned j = 0; fg->mig_enabled && st->use == PK_GPU_MIG && j < w->layout.n; j++)
                if (w->layout.gi[j].profile == fg->layout.gi[i].profile &&
                    w->layout.gi[j].start == fg->layout.gi[i].start) {
                    kept = true;
                    if (!c->in_d[g])
                        w->orig[j] = (int)i;
                    if (!c->in_d[g] && fg->busy[i])
                        taken[(size_t)g * MIG_MAX_GI + j] = true; /* running work stays */
                }
            w->destroyed[i] = !kept && !c->in_d[g];
        }
        w->version++;
    }
    for (unsigned k = 0; k < c->n_items; k++)
        t->item_gpu[k] = t->item_gi[k] = -1;
    /* running work of drained GPUs that stays at its place */
    for (unsigned k = 0; k < c->n_items; k++) {
        const item *it = &c->items[k];
        if (!it->moved || it->origin_gi < 0)
            continue;
        unsigned g = (unsigned)it->origin_gpu;
        const mig_gi_place *x = &f->gpus[g].layout.gi[it->origin_gi];
        const mig_layout *l = &t->w[g].layout;
        for (unsigned j = 0; t->w[g].use == PK_GPU_MIG && j < l->n; j++)
            if (l->gi[j].profile == x->profile && l->gi[j].start == x->start &&
                !taken[(size_t)g * MIG_MAX_GI + j]) {
                taken[(size_t)g * MIG_MAX_GI + j] = true;
                t->item_gpu[k] = (int)g;
                t->item_gi[k] = x->start;
            }
    }
    /* everything else by the MILP's counts */
    for (unsigned k = 0; k < c->n_items; k++) {
        const item *it = &c->items[k];
        if (t->item_gpu[k] >= 0)
            continue;
        if (it->fixed_model >= 0) {
            const mig_model *m = p->models[it->fixed_model];
            if (it->fixed.kind == ADV_MIG) {
                unsigned s;
                int g = free_slot(c, t, taken, m, (unsigned)it->fixed.profile, &s);
                if (g >= 0) {
                    take_slot(t, taken, (unsigned)g, s);
                    t->item_gpu[k] = g;
                    t->item_gi[k] = (int)s;
                }
            } else {
                for (unsigned nd = 0; nd < N && t->item_gpu[k] < 0; nd++) {
                    unsigned q = (unsigned)it->fixed_model * N + (r->pooled ? 0 : nd);
                    if (fw_left[q]) {
                        int g = take_whole(c, t, whole_taken, nd, m, 1);
                        if (g >= 0) {
                            fw_left[q]--;
                            t->item_gpu[k] = g;
                        }
                    }
                }
            }
            continue;
        }
        unsigned w = (unsigned)it->workload;
        for (unsigned mk = 0; mk < K && t->item_gpu[k] < 0; mk++) {
            const adv_decision *d = adv_at(p->decisions, K, w, mk);
            if (d->kind == ADV_MIG && mig_left[w * K + mk]) {
                unsigned s;
                int g = free_slot(c, t, taken, p->models[mk], (unsigned)d->profile, &s);
                if (g >= 0) {
                    mig_left[w * K + mk]--;
                    take_slot(t, taken, (unsigned)g, s);
                    t->item_gpu[k] = g;
                    t->item_gi[k] = (int)s;
                }
            } else if (d->kind == ADV_WHOLE) {
                for (unsigned nd = 0; nd < N && t->item_gpu[k] < 0; nd++) {
                    unsigned q = w * N + (r->pooled ? 0 : nd); /* pooled: any node */
                    if (whole_left[q]) {
                        int g = take_whole(c, t, whole_taken, nd, p->models[mk], it->parts);
                        if (g >= 0) {
                            whole_left[q]--;
                            t->item_gpu[k] = g;
                        }
                    }
                }
            } else if (d->kind == ADV_MPS) {
                for (unsigned g = 0; g < G && t->item_gpu[k] < 0; g++)
                    if (f->gpus[g].model == p->models[mk] && mps_left[(size_t)w * G + g] &&
                        t->w[g].use == PK_GPU_MPS) {
                        mps_left[(size_t)w * G + g]--;
                        t->w[g].mps_c += d->compute_share;
                        t->w[g].mps_m += d->memory_share;
                        t->w[g].mps_n++;
                        t->item_gpu[k] = (int)g;
                    }
            }
        }
    }
    t->leftover = 0;
    for (unsigned k = 0; k < c->n_items; k++)
        t->leftover += t->item_gpu[k] < 0;
done:
    free(taken);
    free(whole_taken);
    free(mig_left);
    free(whole_left);
    free(mps_left);
    free(fw_left);
    return rc;
}

/* Is plan a better than b: fewer unplaced, drains, moved work, operations? */
static bool plan_better(const rp_plan *a, const rp_plan *b)
{
    unsigned x[4] = {a->unplaced, a->n_drained, a->moved_slices, a->n_ops};
    unsigned y[4] = {b->unplaced, b->n_drained, b->moved_slices, b->n_ops};
    for (int i = 0; i < 4; i++)
        if (x[i] != y[i])
            return x[i] < y[i];
    return false;
}

/* The greedy plan; with drains false, only its first trial: everything that
 * fits free slots and idle instances, nothing drained. */
static int greedy_plan(const wl_file *demand, const fl_fleet *fleet, bool drains, rp_plan *out,
                       mig_error *e)
{
    ctx c;
    trial t;
    int rc = setup(out, demand, fleet, &c, &t, e);
    bool ok;
    if (rc == 0)
        rc = drains ? greedy_run(&c, &t, e) : run_trial(&c, &t, &ok, e);
    if (rc == 0)
        rc = finish(&c, &t, e);
    teardown(&c, &t);
    if (rc < 0) {
        rp_plan_free(out);
        return rc;
    }
    out->method = "greedy";
    out->drain_bound = 0;
    out->drains_optimal = out->n_drained == 0 && !out->unplaced;
    out->optimal = false;
    return 0;
}

int replan_plan_greedy(const wl_file *demand, const fl_fleet *fleet, rp_plan *out, mig_error *e)
{
    return greedy_plan(demand, fleet, true, out, e);
}

/* The MILP plan into out; *solved false when the MILP was too large or found
 * nothing in time (out is then untouched). */
static int exact_plan(const wl_file *demand, const fl_fleet *fleet, const rp_options *opt,
                      bool stage1_zero, rp_plan *out, bool *solved, mig_error *e)
{
    ctx c;
    trial t;
    *solved = false;
    rp_plan p;
    int rc = setup(&p, demand, fleet, &c, &t, e);
    int *counts = NULL;
    rpm_result r = {0};
    if (rc == 0)
        rc = running_counts(&c, &counts, e);
    if (rc == 0) {
        rpm_input in = {.wf = demand, .fleet = fleet, .n_models = p.n_models,
                        .models = p.models, .decisions = p.decisions, .counts_w = counts,
                        .time_limit = opt->time_limit, .max_columns = opt->max_columns,
                        .stage1_zero = stage1_zero};
        int mrc = rpm_solve(&in, &r, e);
        /* proven, or the best found in time: either way a plan that leaves
         * work unplaced moves none */
        bool whole_plan_fails = mrc == 0 && r.feasible && r.unplaced > 0;
        /* the rule is optimal only where it is known that nothing places
         * everything */
        bool fails_proven = whole_plan_fails && r.stage1_proven;
        if (whole_plan_fails) {
            /* The demand cannot be placed entirely, drains or not: move no
             * running work for a plan that fails anyway; place what fits. */
            rpm_result_free(&r);
            in.no_moves = true;
            mrc = rpm_solve(&in, &r, e);
        }
        if (mrc < 0)
            rc = -1;
        else if (mrc == 0 && r.feasible) {
            rc = exact_apply(&c, &t, &r, e);
            if (rc == 0)
                rc = finish(&c, &t, e);
            if (rc == 0) {
                *solved = true;

                /* a drain bound means something only for plans placing
                 * everything */
                p.drain_bound = whole_plan_fails || p.unplaced ? 0 : r.drain_bound;
                if (p.drain_bound > p.n_drained)
                    p.drain_bound = p.n_drained;
                p.drains_optimal = !p.unplaced ? r.stage1_proven || p.n_drained == p.drain_bound
                                               : p.n_drained == 0;
                p.optimal = r.proven && (!whole_plan_fails || fails_proven);
                p.method = p.optimal ? "exact" : "milp";
            }
        }
    }
    rpm_result_free(&r);
    free(counts);
    teardown(&c, &t);
    if (rc == 0 && *solved)
        *out = p;
    else
        rp_plan_free(&p);
    return rc;
}

/* The pooled model (replan_milp.h), when the plan in hand is not proven: its
 * drain count is the least possible, so it raises out's bound, and its plan
 * (fewest drains; moved work and operations not minimised) replaces out's
 * when better. Best effort: a model too large, or no solution in time,
 * leaves out as it is. */
static int pooled_plan(const wl_file *demand, const fl_fleet *fleet, const rp_options *opt,
                       rp_plan *out, mig_error *e)
{
    ctx c;
    trial t;
    rp_plan p;
    int rc = setup(&p, demand, fleet, &c, &t, e);
    int *counts = NULL;
    rpm_result r = {0};
    bool have = false;
    unsigned bound = 0;
    bool bound_ok = false;
    if (rc == 0)
        rc = running_counts(&c, &counts, e);
    if (rc == 0) {
        rpm_input in = {.wf = demand, .fleet = fleet, .n_models = p.n_models,
                        .models = p.models, .decisions = p.decisions, .counts_w = counts,
                        .time_limit = opt->time_limit, .max_columns = opt->max_columns,
                        .pooled = true};
        int mrc = rpm_solve(&in, &r, e);
        if (mrc < 0)
            rc = -1;
        bound_ok = mrc == 0 && r.pooled && !r.unplaced;
        bound = r.drain_bound;
        if (mrc == 0 && r.feasible && r.gpus && !r.unplaced) {
            rc = exact_apply(&c, &t, &r, e);
            if (rc == 0)
                rc = finish(&c, &t, e);
            have = rc == 0;
        }
    }
    rpm_result_free(&r);
    free(counts);
    teardown(&c, &t);
    if (rc == 0 && have && plan_better(&p, out)) {
        p.method = "pooled";
        rp_plan_free(out);
        *out = p;
    } else {
        rp_plan_free(&p);
    }
    if (rc == 0 && bound_ok && !out->unplaced) {
        unsigned b = bound < out->n_drained ? bound : out->n_drained;
        if (b > out->drain_bound)
            out->drain_bound = b;
        out->drains_optimal = out->n_drained == out->drain_bound;
    }
    return rc;
}

/* Does the greedy place everything with every GPU that could help drained?
 * When it does not, the demand almost surely exceeds the fleet: the pooled
 * model would spend its whole time limit proving how much is left over, and
 * the greedy search's rule (nothing drained for a plan that fails) applies. */
static int fits_all_drained(const wl_file *demand, const fl_fleet *fleet, bool *fits,
                            mig_error *e)
{
    ctx c;
    trial t;
    rp_plan p;
    int rc = setup(&p, demand, fleet, &c, &t, e);
    if (rc == 0) {
        for (unsigned g = 0; g < fleet->n_gpus; g++)
            c.in_d[g] = drain_useful(&fleet->gpus[g]);
        rc = run_trial(&c, &t, fits, e);
    }
    teardown(&c, &t);
    rp_plan_free(&p);
    return rc;
}

/* Keep the better of *best and *other (other is consumed); the larger drain
 * bound holds for both. */
static void keep_better(rp_plan *best, rp_plan *other)
{
    unsigned bound = best->drain_bound > other->drain_bound ? best->drain_bound : other->drain_bound;
    if (plan_better(other, best)) {
        rp_plan_free(best);
        *best = *other;
    } else {
        rp_plan_free(other);
    }
    if (!best->unplaced) {
        best->drain_bound = bound < best->n_drained ? bound : best->n_drained;
        best->drains_optimal = best->drains_optimal || best->n_drained == best->drain_bound;
    }
}

int replan_plan_opts(const wl_file *demand, const fl_fleet *fleet, const rp_options *opt,
                     rp_plan *out, mig_error *e)
{
    rp_options o = opt ? *opt : (rp_options){0};
    if (o.time_limit <= 0)
        o.time_limit = RP_DEFAULT_TIME_LIMIT;
    if (!o.max_columns)
        o.max_columns = RP_DEFAULT_MAX_COLUMNS;
    /* 1. Without drains, greedily (one pass): when everything fits, no plan
     *    drains less, and the MILP's first stage is known to be 0. */
    if (greedy_plan(demand, fleet, false, out, e) < 0)
        return -1;
    bool zero = !out->unplaced && !out->n_drained;
    /* 2. The exact model, when it fits the size cap. */
    if (!o.no_exact) {
        rp_plan x;
        bool solved;
        if (exact_plan(demand, fleet, &o, zero, &x, &solved, e) < 0)
            goto fail;
        if (solved && x.optimal) {
            rp_plan_free(out);
            *out = x;
            return 0;
        }
        if (solved)
            keep_better(out, &x);
    }
    if (zero)
        return 0; /* drains proven (0); moved work 0; operations not proven */
    /* 3. Drains needed and not proven: the pooled model's plan (fewest
     *    drains), then, if that left the drains unproven, the greedy drain
     *    search. */
    bool fits;
    if (fits_all_drained(demand, fleet, &fits, e) < 0)
        goto fail;
    if (fits && pooled_plan(demand, fleet, &o, out, e) < 0)
        goto fail;
    if (!out->drains_optimal) {
        rp_plan g;
        if (greedy_plan(demand, fleet, true, &g, e) < 0)
            goto fail;
        keep_better(out, &g);
    }
    return 0;
fail:
    rp_plan_free(out);
    return -1;
}

int replan_plan(const wl_file *demand, const fl_fleet *fleet, rp_plan *out, mig_error *e)
{
    return replan_plan_opts(demand, fleet, NULL, out, e);
}

void rp_plan_free(rp_plan *p)
{
    free(p->decisions);
    free(p->after);
    free(p->drained);
    free(p->changed);
    free(p->place);
    free(p->ops);
    free(p->affected);
    memset(p, 0, sizeof *p);
}

bool rp_node_drained(const rp_plan *p, unsigned nd)
{
    const fl_node *n = &p->fleet->nodes[nd];
    for (unsigned i = 0; i < n->n_gpus; i++)
        if (p->drained[n->first_gpu + i])
            return true;
    return false;
}

int replan_live_fleet(mig_backend *b, fl_fleet *out, mig_error *e)
{
    unsigned n;
    if (b->ops->gpu_count(b, &n, e) < 0)
        return -1;
    mig_gpu_state *gs = calloc(n + 1, sizeof *gs);
    if (!gs)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = 0; i < n; i++)
        if (b->ops->gpu_state(b, i, &gs[i], e) < 0) {
            free(gs);
            return -1;
        }
    int rc = fl_from_states(gs, n, "local", out, e);
    free(gs);
    return rc;
}
