/*
 * reconcile.c: the fewest operations from a GPU's current state to its
 * desired state.
 *
 * The desired GIs are grouped into classes (GI profile, pin, CI multiset):
 * GIs of one class are interchangeable. Each current GI is then either
 * destroyed or kept as a member of a compatible class (same profile, same
 * start when the class is pinned); keeping it costs whatever CI changes make
 * its CIs the class's multiset (exact: every subset of its CIs to keep is
 * tried, the new CIs placed around the kept ones). The search walks every
 * such assignment (at most 7 current GIs, a few classes each: thousands of
 * leaves), prices each leaf as (destroyed instances, busy ones among them:
 * operations follow from the first, see compare_cost), and for
 * the leaves that could beat the best so far asks reconcile_place whether
 * the class members still to create fit around the kept GIs. Busy instances
 * (a CI with processes, or a GI holding one) may only be destroyed with
 * force. Ties go to the leaf whose final layout keeps the largest profiles
 * creatable, then to the first leaf in a fixed order: the same input always
 * gives the same plan.
 *
 * A GPU that can only get there by destroying busy instances is BLOCKED; the
 * search is rerun as if forced to name the instances in the way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/reconcile.h"
#include "model/profile_order.h"
#include "model/layout.h"

/* ------------------------------------------------------------ classes */

typedef struct {
    unsigned profile_id;
    int pos;                       /* position in the model's profiles */
    int pin;
    unsigned n_ci;
    mig_desired_ci ci[MIG_MAX_CI]; /* sorted by profile id */
    unsigned count;
} gi_class;

/* What keeping one current GI as a member of one class costs. */
typedef struct {
    bool ok;                       /* possible at all (under the force rule) */
    unsigned destroyed, created;   /* CIs */
    unsigned busy;                 /* busy CIs destroyed (only with force) */
    unsigned keep_mask;            /* bit i: current CI i stays */
    unsigned n_new;
    mig_desired_ci new_ci[MIG_MAX_CI];
    unsigned char new_start[MIG_MAX_CI];
} keep_fix;

typedef struct {
    const mig_gpu_state *g;
    const mig_model *m;
    const mig_desired_gpu *d;
    bool force;
    unsigned n_cur;                /* current GIs considered (0 when MIG is off) */
    int cur_pos[MIG_MAX_GI];       /* profile position, -1 unknown */
    unsigned cur_busy_ci[MIG_MAX_GI];
    unsigned n_class;
    gi_class cls[MIG_MAX_GI];
    keep_fix fix[MIG_MAX_GI][MIG_MAX_GI];
    /* search */
    int assign[MIG_MAX_GI];        /* -1 destroy, else class */
    unsigned kept[MIG_MAX_GI];     /* per class */
    bool found;
    unsigned best_destroyed, best_busy;
    unsigned best_score[MIG_MAX_PROFILES];
    int best_assign[MIG_MAX_GI];
    unsigned char best_start[MIG_MAX_GI]; /* new GIs, in class order */
    unsigned n_best_new;
    unsigned char order[MIG_MAX_PROFILES];
    unsigned n_order;
} search;

static int cmp_ci(const void *a, const void *b)
{
    const mig_desired_ci *x = a, *y = b;
    return x->profile_id < y->profile_id ? -1 : x->profile_id > y->profile_id;
}

static void build_classes(search *s)
{
    for (unsigned i = 0; i < s->d->n_gi; i++) {
        gi_class c = {0};
        const mig_desired_gi *dg = &s->d->gi[i];
        c.profile_id = dg->profile_id;
        c.pos = mig_profile_pos(s->m, mig_profile_by_id(s->m, dg->profile_id));
        c.pin = dg->start;
        c.n_ci = dg->n_ci;
        memcpy(c.ci, dg->ci, dg->n_ci * sizeof dg->ci[0]);
        qsort(c.ci, c.n_ci, sizeof c.ci[0], cmp_ci);
        unsigned k = 0;
        for (; k < s->n_class; k++) {
            gi_class *o = &s->cls[k];
            if (o->profile_id == c.profile_id && o->pin == c.pin && o->n_ci == c.n_ci &&
                memcmp(o->ci, c.ci, c.n_ci * sizeof c.ci[0]) == 0)
                break;
        }
        if (k == s->n_class)
            s->cls[s->n_class++] = c;
        s->cls[k].count++;
    }
}

/* ------------------------------------------------------------ keeping one GI */

static bool ci_busy(const mig_ci_state *ci) { return ci_state_busy(ci); }

/* The best way to turn current GI gi's CIs into class c's multiset. */
static void price_keep(const search *s, const mig_gi_state *gi, const gi_class *c, keep_fix *out)
{
    memset(out, 0, sizeof *out);
    const mig_gi_profile *p = mig_profile_by_id(s->m, gi->profile_id);
    if (!p || gi->profile_id != c->profile_id || (c->pin >= 0 && (unsigned)c->pin != gi->start))
        return;
    bool valid[MIG_MAX_CI];
    for (unsigned i = 0; i < gi->n_ci; i++) {
        mig_ci_profile cp;
        valid[i] = mig_ci_profile_by_id(s->m, p, gi->ci[i].profile_id, &cp);
    }
    for (unsigned mask = 0; mask < (1u << gi->n_ci); mask++) {
        /* The kept CIs must be a sub-multiset of the class's CIs. */
        bool taken[MIG_MAX_CI] = {0};
        bool sub = true;
        unsigned used = 0, kept = 0, busy = 0;
        for (unsigned i = 0; i < gi->n_ci && sub; i++) {
            if (!(mask >> i & 1u)) {
                busy += ci_busy(&gi->ci[i]);
                continue;
            }
            sub = valid[i];
            unsigned j = 0;
            /* A CI spanning the GI matches whatever its profile id. */
            while (sub && j < c->n_ci &&
                   (taken[j] || mig_ci_canonical_id(s->m, p, c->ci[j].profile_id) !=
                                    mig_ci_canonical_id(s->m, p, gi->ci[i].profile_id)))
                j++;
            sub = sub && j < c->n_ci;
            if (sub) {
                taken[j] = true;
                kept++;
                used |= ((1u << gi->ci[i].slices) - 1u) << gi->ci[i].start;
            }
        }
        if (!sub || (busy && !s->force))
            continue;
        unsigned destroyed = gi->n_ci - kept;
        if (out->ok && (destroyed > out->destroyed ||
                        (destroyed == out->destroyed && busy >= out->busy)))
            continue;
        mig_desired_ci add[MIG_MAX_CI];
        unsigned n_add = 0;
        for (unsigned j = 0; j < c->n_ci; j++)
            if (!taken[j])
                add[n_add++] = c->ci[j];
        unsigned char start[MIG_MAX_CI];
        if (!reconcile_place_cis(s->m, p, used, add, n_add, start))
            continue;
        out->ok = true;
        out->destroyed = destroyed;
        out->created = n_add;
        out->busy = busy;
        out->keep_mask = mask;
        out->n_new = n_add;
        memcpy(out->new_ci, add, n_add * sizeof add[0]);
        memcpy(out->new_start, start, n_add);
    }
}

/* ------------------------------------------------------------ the search */

static bool gi_busy_at(const search *s, unsigned i) { return s->cur_busy_ci[i] > 0; }

static int compare_score(const search *s, const unsigned *a, const unsigned *b)
{
    for (unsigned i = 0; i < s->n_order; i++)
        if (a[i] != b[i])
            return a[i] > b[i] ? 1 : -1;
    return 0;
}

/* Lexicographic (destroyed, busy destroyed) against the best leaf so far:
 * <0 better, 0 same, >0 worse (and worse than nothing is impossible: with
 * no best yet every leaf is better).
 *
 * There is no "operations" criterion, and none is needed: the desired state
 * has a fixed number D of instances (GIs and CIs), the current one C, and
 * every instance kept is one neither destroyed nor created, so
 *     created = D - (C - destroyed)  and  operations = 2 x destroyed + D - C.
 * Fewest destroyed is fewest operations; a second criterion on operations
 * could never decide (it did not, in an earlier version: a mutant removing
 * it survived every test). test_apply_pins.c checks the identity on plans. */
static int compare_cost(const search *s, unsigned destroyed, unsigned busy)
{
    if (!s->found)
        return -1;
    if (destroyed != s->best_destroyed)
        return destroyed < s->best_destroyed ? -1 : 1;
    if (busy != s->best_busy)
        return busy < s->best_busy ? -1 : 1;
    return 0;
}

/* A complete assignment: price it, place the rest, keep it if better. */
static void leaf(search *s)
{
    unsigned destroyed = 0, busy = 0;
    mig_layout kept = {0};
    for (unsigned i = 0; i < s->n_cur; i++) {
        const mig_gi_state *gi = &s->g->gi[i];
        if (s->assign[i] < 0) {
            destroyed += gi->n_ci + 1;
            busy += s->cur_busy_ci[i];
        } else {
            const keep_fix *f = &s->fix[i][s->assign[i]];
            destroyed += f->destroyed;
            busy += f->busy;
            layout_add(&kept, (unsigned)s->cur_pos[i], gi->start);
        }
    }
    unsigned char prof[MIG_MAX_GI];
    int pin[MIG_MAX_GI];
    unsigned n_new = 0;
    for (unsigned k = 0; k < s->n_class; k++)
        for (unsigned j = s->kept[k]; j < s->cls[k].count; j++) {
            prof[n_new] = (unsigned char)s->cls[k].pos;
            pin[n_new++] = s->cls[k].pin;
        }
    int cost = compare_cost(s, destroyed, busy);
    if (cost > 0)
        return;
    unsigned char start[MIG_MAX_GI];
    if (!reconcile_place(s->m, &kept, n_new, prof, pin, start))
        return;
    mig_layout final = kept;
    for (unsigned i = 0; i < n_new; i++)
        layout_add(&final, prof[i], start[i]);
    unsigned score[MIG_MAX_PROFILES];
    for (unsigned i = 0; i < s->n_order; i++)
        score[i] = layout_remaining(s->m, &final, s->order[i]);
    if (cost == 0 && compare_score(s, score, s->best_score) <= 0)
        return;
    s->found = true;
    s->best_destroyed = destroyed;
    s->best_busy = busy;
    memcpy(s->best_score, score, sizeof score);
    memcpy(s->best_assign, s->assign, sizeof s->assign);
    memcpy(s->best_start, start, sizeof start);
    s->n_best_new = n_new;
}

static void walk(search *s, unsigned i, unsigned destroyed_so_far)
{
    if (s->found && destroyed_so_far > s->best_destroyed)
        return;
    if (i == s->n_cur) {
        leaf(s);
        return;
    }
    const mig_gi_state *gi = &s->g->gi[i];
    /* Keep first (cheaper, usually), in class order. */
    for (unsigned k = 0; k < s->n_class; k++) {
        const keep_fix *f = &s->fix[i][k];
        if (!f->ok || s->kept[k] == s->cls[k].count)
            continue;
        s->assign[i] = (int)k;
        s->kept[k]++;
        walk(s, i + 1, destroyed_so_far + f->destroyed);
        s->kept[k]--;
    }
    if (s->force || !gi_busy_at(s, i)) {
        s->assign[i] = -1;
        walk(s, i + 1, destroyed_so_far + gi->n_ci + 1);
    }
}

static void search_init(search *s, const mig_gpu_state *g, const mig_desired_gpu *d, bool force)
{
    memset(s, 0, sizeof *s);
    s->g = g;
    s->m = g->model;
    s->d = d;
    s->force = force;
    s->n_cur = g->mig_current ? g->n_gi : 0;
    for (unsigned i = 0; i < s->n_cur; i++) {
        s->cur_pos[i] = mig_profile_pos(s->m, mig_profile_by_id(s->m, g->gi[i].profile_id));
        for (unsigned j = 0; j < g->gi[i].n_ci; j++)
            s->cur_busy_ci[i] += ci_busy(&g->gi[i].ci[j]);
    }
    if (d->mig_enabled)
        build_classes(s);
    for (unsigned i = 0; i < s->n_cur; i++)
        for (unsigned k = 0; k < s->n_class; k++)
            if (s->cur_pos[i] >= 0)
                price_keep(s, &g->gi[i], &s->cls[k], &s->fix[i][k]);
    /* Biggest profiles first, for the tie-break score: the one definition
     * the planner uses too (model/profile_order.h). */
    unsigned order[MIG_MAX_PROFILES];
    s->n_order = mig_profiles_largest_first(s->m, false, order);
    for (unsigned i = 0; i < s->n_order; i++)
        s->order[i] = (unsigned char)order[i];
}

/* ------------------------------------------------------------ ops */

static int push_op(mig_plan *p, const mig_op *op, mig_error *e)
{
    if (p->n_ops == p->cap_ops) {
        unsigned cap = p->cap_ops ? p->cap_ops * 2 : 32;
        mig_op *n = realloc(p->ops, cap * sizeof *n);
        if (!n)
            return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        p->ops = n;
        p->cap_ops = cap;
    }
    p->ops[p->n_ops++] = *op;
    return 0;
}

static void ci_profile_name(const mig_model *m, const mig_gi_profile *gi, unsigned ci_id, char *buf,
                            size_t len)
{
    mig_ci_profile cp;
    if (mig_ci_profile_by_id(m, gi, ci_id, &cp))
        snprintf(buf, len, "%s", cp.name);
    else
        snprintf(buf, len, "%s", gi->name);
}

static mig_op op_destroy_ci(const mig_gpu_state *g, const mig_gi_state *gi, const mig_ci_state *ci)
{
    mig_op op = {.kind = MIG_OP_DESTROY_CI, .gpu = g->index, .profile_id = ci->profile_id,
                 .start = ci->start, .size = ci->slices, .gi_id = gi->id, .gi_start = gi->start,
                 .gi_ref = -1, .ci_id = ci->id, .busy = ci_busy(ci)};
    ci_state_name(g->model, gi, ci, op.profile, sizeof op.profile);
    return op;
}

static mig_op op_gi(mig_op_kind kind, const mig_gpu_state *g, const mig_gi_profile *p,
                    unsigned start)
{
    mig_op op = {.kind = kind, .gpu = g->index, .profile_id = p->id, .start = start,
                 .size = p->memory_slices, .gi_ref = -1};
    snprintf(op.profile, sizeof op.profile, "%s", p->name);
    return op;
}

static mig_op op_create_ci(const mig_gpu_state *g, const mig_gi_profile *p, unsigned gi_start,
                           const mig_desired_ci *ci, unsigned start)
{
    mig_op op = {.kind = MIG_OP_CREATE_CI, .gpu = g->index, .profile_id = ci->profile_id,
                 .start = start, .size = ci->slices, .gi_start = gi_start, .gi_ref = -1};
    ci_profile_name(g->model, p, ci->profile_id, op.profile, sizeof op.profile);
    return op;
}

/* New GIs in the order leaf() placed them: class by class. */
typedef struct {
    unsigned cls;
    unsigned start;
    int op;                  /* index of its create-gi op */
} new_gi;

static int emit_changes(const search *s, mig_plan *plan, mig_gpu_plan *out, mig_error *e)
{
    const mig_gpu_state *g = s->g;
    /* destroy-ci: in destroyed GIs, and those leaving kept GIs. */
    for (unsigned i = 0; i < s->n_cur; i++) {
        const mig_gi_state *gi = &g->gi[i];
        unsigned keep = s->best_assign[i] < 0 ? 0 : s->fix[i][s->best_assign[i]].keep_mask;
        for (unsigned j = 0; j < gi->n_ci; j++)
            if (!(keep >> j & 1u)) {
                mig_op op = op_destroy_ci(g, gi, &gi->ci[j]);
                if (push_op(plan, &op, e) < 0)
                    return -1;
            }
    }
    for (unsigned i = 0; i < s->n_cur; i++) {
        if (s->best_assign[i] >= 0)
            continue;
        const mig_gi_state *gi = &g->gi[i];
        const mig_gi_profile *p = mig_profile_by_id(s->m, gi->profile_id);
        mig_op op = {.kind = MIG_OP_DESTROY_GI, .gpu = g->index, .profile_id = gi->profile_id,
                     .start = gi->start, .size = gi->size, .gi_id = gi->id, .gi_ref = -1,
                     .busy = s->cur_busy_ci[i] > 0};
        snprintf(op.profile, sizeof op.profile, "%s", p ? p->name : "unknown");
        if (push_op(plan, &op, e) < 0)
            return -1;
    }
    /* create-gi, by start, then create-ci. */
    new_gi made[MIG_MAX_GI];
    unsigned n_made = 0, kept[MIG_MAX_GI] = {0};
    for (unsigned i = 0; i < s->n_cur; i++)
        if (s->best_assign[i] >= 0)
            kept[s->best_assign[i]]++;
    for (unsigned k = 0; k < s->n_class; k++)
        for (unsigned j = kept[k]; j < s->cls[k].count; j++) {
            made[n_made] = (new_gi){k, s->best_start[n_made], -1};
            n_made++;
        }
    for (unsigned i = 1; i < n_made; i++)
        for (unsigned j = i; j > 0 && made[j - 1].start > made[j].start; j--) {
            new_gi t = made[j];
            made[j] = made[j - 1];
            made[j - 1] = t;
        }
    for (unsigned i = 0; i < n_made; i++) {
        const mig_gi_profile *p = &s->m->profiles[s->cls[made[i].cls].pos];
        made[i].op = (int)plan->n_ops;
        mig_op op = op_gi(MIG_OP_CREATE_GI, g, p, made[i].start);
        if (push_op(plan, &op, e) < 0)
            return -1;
    }
    for (unsigned i = 0; i < s->n_cur; i++) {
        if (s->best_assign[i] < 0)
            continue;
        const keep_fix *f = &s->fix[i][s->best_assign[i]];
        const mig_gi_profile *p = mig_profile_by_id(s->m, g->gi[i].profile_id);
        for (unsigned j = 0; j < f->n_new; j++) {
            mig_op op = op_create_ci(g, p, g->gi[i].start, &f->new_ci[j], f->new_start[j]);
            op.gi_id = g->gi[i].id;
            if (push_op(plan, &op, e) < 0)
                return -1;
        }
    }
    for (unsigned i = 0; i < n_made; i++) {
        const gi_class *c = &s->cls[made[i].cls];
        const mig_gi_profile *p = &s->m->profiles[c->pos];
        unsigned char start[MIG_MAX_CI] = {0};
        reconcile_place_cis(s->m, p, 0, c->ci, c->n_ci, start); /* fits: checked when desired */
        for (unsigned j = 0; j < c->n_ci; j++) {
            mig_op op = op_create_ci(g, p, made[i].start, &c->ci[j], start[j]);
            op.gi_ref = made[i].op;
            if (push_op(plan, &op, e) < 0)
                return -1;
        }
    }
    /* The layout the GPU ends with. */
    out->target.n = 0;
    for (unsigned i = 0; i < s->n_cur; i++)
        if (s->best_assign[i] >= 0)
            layout_add(&out->target, (unsigned)s->cur_pos[i], g->gi[i].start);
    for (unsigned i = 0; i < n_made; i++)
        layout_add(&out->target, (unsigned)s->cls[made[i].cls].pos, made[i].start);
    layout_sort(&out->target);
    return 0;
}

/* The busy GIs the forced plan would touch, as blockers and in words. */
static void name_blockers(const search *forced, mig_gpu_plan *out)
{
    const mig_gpu_state *g = forced->g;
    size_t off = 0;
    out->n_blockers = 0;
    for (unsigned i = 0; i < forced->n_cur; i++) {
        const mig_gi_state *gi = &g->gi[i];
        unsigned keep = forced->best_assign[i] < 0 ? 0 : forced->fix[i][forced->best_assign[i]].keep_mask;
        unsigned procs = 0;
        bool unknown = false;
        for (unsigned j = 0; j < gi->n_ci; j++)
            if (!(keep >> j & 1u)) {
                procs += gi->ci[j].n_procs;
                unknown = unknown || gi->ci[j].procs_unknown;
            }
        if (!procs && !unknown)
            continue;
        out->blocker_gi[out->n_blockers++] = gi->id;
        const mig_gi_profile *p = mig_profile_by_id(g->model, gi->profile_id);
        if (off < sizeof out->reason && !procs)
            off += (size_t)snprintf(out->reason + off, sizeof out->reason - off,
                                    "%sGI %u (%s@%u) may run processes (the driver cannot list "
                                    "them)",
                                    off ? ", " : "", gi->id, p ? p->name : "?", gi->start);
        else if (off < sizeof out->reason)
            off += (size_t)snprintf(out->reason + off, sizeof out->reason - off,
                                    "%sGI %u (%s@%u) runs %u process%s", off ? ", " : "", gi->id,
                                    p ? p->name : "?", gi->start, procs, procs == 1 ? "" : "es");
    }
    if (off < sizeof out->reason)
        snprintf(out->reason + off, sizeof out->reason - off, "; needs --force");
}

/* ------------------------------------------------------------ per GPU */

static int push_mode(const mig_gpu_state *g, bool enable, mig_plan *plan, mig_error *e)
{
    mig_op op = {.kind = MIG_OP_SET_MODE, .gpu = g->index, .enable = enable, .gi_ref = -1};
    snprintf(op.profile, sizeof op.profile, "%s", enable ? "enabled" : "disabled");
    return push_op(plan, &op, e);
}

int reconcile_gpu(const mig_gpu_state *g, const mig_desired_gpu *d, bool force, mig_plan *plan,
                  mig_gpu_plan *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    out->gpu = g->index;
    out->desired = *d;
    out->first_op = plan->n_ops;
    if (!d->selected) {
        out->status = MIG_GPU_UNTOUCHED;
        return 0;
    }
    if (d->impossible) {
        out->status = MIG_GPU_IMPOSSIBLE;
        snprintf(out->reason, sizeof out->reason, "%s", d->reason);
        return 0;
    }
    if (!g->model || !g->mig_capable) {
        if (d->mig_enabled) {
            out->status = MIG_GPU_IMPOSSIBLE;
            snprintf(out->reason, sizeof out->reason, "GPU %u (%s) is not MIG capable", g->index,
                     g->name);
        } else {
            out->status = MIG_GPU_UNCHANGED;
        }
        return 0;
    }
    search *s = malloc(sizeof *s);
    if (!s)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    search_init(s, g, d, force);
    walk(s, 0, 0);
    if (!s->found && !force) {
        /* Only a forced plan gets there: say who is in the way. */
        search_init(s, g, d, true);
        walk(s, 0, 0);
        out->status = MIG_GPU_BLOCKED;
        if (s->found)
            name_blockers(s, out);
        mig_plan scratch = {0};
        mig_gpu_plan tmp;
        if (s->found && emit_changes(s, &scratch, &tmp, e) == 0)
            out->target = tmp.target;
        mig_plan_free(&scratch);
        free(s);
        return 0;
    }
    if (!s->found) {
        /* Cannot happen: desired layouts are checked to fit an empty GPU. */
        out->status = MIG_GPU_IMPOSSIBLE;
        snprintf(out->reason, sizeof out->reason, "no valid layout reaches the desired state");
        free(s);
        return 0;
    }
    bool mode_op = g->mig_pending != d->mig_enabled;
    int rc = 0;
    if (mode_op && d->mig_enabled)
        rc = push_mode(g, true, plan, e);
    if (rc == 0)
        rc = emit_changes(s, plan, out, e);
    if (rc == 0 && mode_op && !d->mig_enabled)
        rc = push_mode(g, false, plan, e);
    free(s);
    if (rc < 0)
        return -1;
    out->n_ops = plan->n_ops - out->first_op;
    out->mode_change = mode_op;
    /* A reset is needed only where the current mode differs from the
     * desired one: set-mode back to the current mode just cancels a pending
     * change (no reset, on Ampere either). */
    out->needs_reset = g->mig_current != d->mig_enabled &&
                       (g->model->arch == MIG_ARCH_AMPERE || !mode_op);
    out->status = out->n_ops || out->needs_reset ? MIG_GPU_CHANGE : MIG_GPU_UNCHANGED;
    return 0;
}

int reconcile_plan(const mig_gpu_state *gpus, unsigned n_gpus, const cfg_config *c, bool force,
                   mig_plan *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    if (n_gpus > MIG_MAX_GPUS)
        return mig_fail(e, MIG_ERR_INPUT, "%u GPUs: at most %u supported", n_gpus, MIG_MAX_GPUS);
    /* Two entries selecting one GPU would make the result depend on entry
     * order: refuse the config, naming both entries. */
    if (cfg_check_overlap(c, gpus, n_gpus, e) < 0)
        return -1;
    /* Resolve every GPU first: an input error stops the plan before any GPU
     * is planned, and IMPOSSIBLE GPUs are known before anything is touched. */
    for (unsigned i = 0; i < n_gpus; i++) {
        if (desired_from_config(c, &gpus[i], &out->gpus[i].desired, e) < 0)
            return -1;
    }
    for (unsigned i = 0; i < n_gpus; i++) {
        mig_desired_gpu d = out->gpus[i].desired;
        if (reconcile_gpu(&gpus[i], &d, force, out, &out->gpus[i], e) < 0)
            return -1;
        out->n_gpus = i + 1;
    }
    out->n_gpus = n_gpus;
    return 0;
}

void mig_plan_free(mig_plan *p)
{
    free(p->ops);
    p->ops = NULL;
    p->n_ops = p->cap_ops = 0;
}

const char *mig_op_kind_name(mig_op_kind k)
{
    switch (k) {
    case MIG_OP_SET_MODE: return "set-mode";
    case MIG_OP_DESTROY_CI: return "destroy-ci";
    case MIG_OP_DESTROY_GI: return "destroy-gi";
    case MIG_OP_CREATE_GI: return "create-gi";
    case MIG_OP_CREATE_CI: return "create-ci";
    }
    return "unknown";
}

const char *mig_gpu_plan_status_name(mig_gpu_plan_status s)
{
    switch (s) {
    case MIG_GPU_UNTOUCHED: return "untouched";
    case MIG_GPU_UNCHANGED: return "unchanged";
    case MIG_GPU_CHANGE: return "change";
    case MIG_GPU_BLOCKED: return "blocked";
    case MIG_GPU_IMPOSSIBLE: return "impossible";
    }
    return "unknown";
}
