/*
 * apply.c: execute a reconcile plan through a backend, transactionally
 * (see apply.h for the stages).
 *
 * Invariants this file keeps:
 *  - nothing is touched before every refusal (BLOCKED, IMPOSSIBLE) and every
 *    pre-op hook has been passed;
 *  - the journal on disk is written before the first op and always says how
 *    many ops are done, so a killed apply is visible to the next one;
 *  - on any failure every GPU an op has touched is restored to the state read
 *    at the start (matched by profile and placement, never by id: the driver
 *    hands out new ids), then re-read and compared;
 *  - a busy instance is never destroyed here: the plan only destroys one with
 *    force, and a restore only destroys what this apply created.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/apply.h"
#include "apply/plan_json.h"
#include "util/nvml_rc.h"

static const char *const result_names[] = {
    [APPLY_APPLIED] = "applied",   [APPLY_UNCHANGED] = "unchanged",
    [APPLY_DRY_RUN] = "dry-run",   [APPLY_REFUSED] = "refused",
    [APPLY_PENDING_RESET] = "pending-reset", [APPLY_FAILED] = "failed",
};

const char *apply_result_name(apply_result r)
{
    return (unsigned)r < sizeof result_names / sizeof result_names[0] ? result_names[r] : "?";
}

int apply_exit_code(const apply_report *r)
{
    switch (r->result) {
    case APPLY_APPLIED:
    case APPLY_UNCHANGED:
    case APPLY_DRY_RUN:
        return 0;
    case APPLY_REFUSED:
    case APPLY_PENDING_RESET:
        return 1;
    case APPLY_FAILED:
        break;
    }
    int code = mig_error_exit_code(&r->error);
    return code ? code : 3;
}

static void emit(const apply_options *o, apply_progress ev)
{
    if (o->on_progress)
        o->on_progress(o->progress_ctx, &ev);
}

static void emit_end(const apply_options *o, apply_outcome outcome, char id_kind, unsigned id)
{
    emit(o, (apply_progress){.kind = APPLY_EV_OP_END, .outcome = outcome, .id_kind = id_kind,
                             .id = id});
}

/* ------------------------------------------------------------ prepare */

static int read_states(mig_backend *b, apply_session *s, mig_error *e)
{
    unsigned n = 0;
    if (b->ops->gpu_count(b, &n, e) < 0)
        return -1;
    if (n > MIG_MAX_GPUS)
        n = MIG_MAX_GPUS;
    s->before = calloc(n ? n : 1, sizeof *s->before);
    if (!s->before)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = 0; i < n; i++) {
        if (b->ops->gpu_state(b, i, &s->before[i], e) < 0) {
            mig_error_prefix(e, "GPU %u", i);
            return -1;
        }
        s->n_gpus++;
    }
    return 0;
}

int apply_prepare(mig_backend *b, const cfg_config *c, const apply_options *o, apply_session *s,
                  mig_error *e)
{
    memset(s, 0, sizeof *s);
    if (read_states(b, s, e) < 0)
        return -1;
    if (reconcile_plan(s->before, s->n_gpus, c, o->force, &s->plan, e) < 0)
        return -1;
    s->stale = calloc(1, sizeof *s->stale);
    if (!s->stale)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    if (journal_read(o->journal_path, s->stale, &s->stale_journal, e) < 0) {
        /* A journal that cannot be read says nothing the real state does not
         * (apply converges from the real state), but throwing it away is an
         * operator's decision, taken with --discard-journal. */
        if (!o->discard_journal || e->kind != MIG_ERR_INPUT) {
            mig_error_prefix(e, "a journal is in the way (if no apply is running, rerun with "
                                "--discard-journal)");
            return -1;
        }
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        mig_error_clear(e);
        memset(s->stale, 0, sizeof *s->stale);
        s->stale_journal = false;
        if (o->dry_run) {
            snprintf(s->journal_discarded, sizeof s->journal_discarded,
                     "would discard the unreadable journal (dry run): %s", why);
            return 0;
        }
        char aside[PATH_MAX + 16];
        if (journal_discard(o->journal_path, aside, sizeof aside, e) < 0)
            return -1;
        snprintf(s->journal_discarded, sizeof s->journal_discarded,
                 "discarded the unreadable journal (kept as %s): %s", aside, why);
    }
    return 0;
}

void apply_session_free(apply_session *s)
{
    free(s->before);
    free(s->stale);
    mig_plan_free(&s->plan);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------ helpers */

static const mig_gpu_state *state_of(const apply_session *s, unsigned gpu)
{
    for (unsigned i = 0; i < s->n_gpus; i++)
        if (s->before[i].index == gpu)
            return &s->before[i];
    return NULL;
}

/* A GPU whose mode request is already what the config wants but awaits a
 * reset (an earlier apply without --reset): its ops need the reset first. */
static bool awaits_reset(const mig_gpu_state *g, const mig_gpu_plan *gp)
{
    return g && (gp->status == MIG_GPU_CHANGE || gp->status == MIG_GPU_UNCHANGED) &&
           gp->desired.selected && g->mig_current != g->mig_pending &&
           gp->desired.mig_enabled == g->mig_pending;
}

static const char *gi_profile_name(const mig_model *m, unsigned profile_id)
{
    const mig_gi_profile *p = m ? mig_profile_by_id(m, profile_id) : NULL;
    return p ? p->name : "?";
}

char *apply_operations_text(const mig_plan *p)
{
    size_t cap = 64 + (size_t)p->n_ops * (MIG_NAME_LEN + 48), len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[0] = '\0';
    for (unsigned i = 0; i < p->n_ops; i++) {
        const mig_op *op = &p->ops[i];
        if (op->kind == MIG_OP_SET_MODE)
            len += (size_t)snprintf(buf + len, cap - len, "%u set-mode %s - -\n", op->gpu,
                                    op->enable ? "on" : "off");
        else
            len += (size_t)snprintf(buf + len, cap - len, "%u %s %s %u %u\n", op->gpu,
                                    mig_op_kind_name(op->kind), op->profile, op->start, op->size);
    }
    return buf;
}

/* ------------------------------------------------------------ layouts */

static const mig_gi_state *find_gi_placed(const mig_gpu_state *g, unsigned profile_id,
                                          unsigned start)
{
    for (unsigned i = 0; i < g->n_gi; i++)
        if (g->gi[i].profile_id == profile_id && g->gi[i].start == start)
            return &g->gi[i];
    return NULL;
}

static const mig_ci_state *find_ci_placed(const mig_gi_state *gi, unsigned profile_id,
                                          unsigned start)
{
    for (unsigned i = 0; gi && i < gi->n_ci; i++)
        if (gi->ci[i].profile_id == profile_id && gi->ci[i].start == start)
            return &gi->ci[i];
    return NULL;
}

static bool same_cis(const mig_gi_state *a, const mig_gi_state *b)
{
    if (a->n_ci != b->n_ci)
        return false;
    for (unsigned i = 0; i < a->n_ci; i++)
        if (!find_ci_placed(b, a->ci[i].profile_id, a->ci[i].start))
            return false;
    return true;
}

bool apply_same_layout(const mig_gpu_state *a, const mig_gpu_state *b)
{
    if (a->mig_current != b->mig_current || a->mig_pending != b->mig_pending || a->n_gi != b->n_gi)
        return false;
    for (unsigned i = 0; i < a->n_gi; i++) {
        const mig_gi_state *other = find_gi_placed(b, a->gi[i].profile_id, a->gi[i].start);
        if (!other || !same_cis(&a->gi[i], other))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ mode */

/* Request a mode; when it stays pending and reset is allowed, reset. Sets
 * *still_pending when the GPU awaits a reset afterwards. */
static int set_mode_and_maybe_reset(mig_backend *b, unsigned gpu, bool enable, bool reset,
                                    bool *still_pending, bool *did_reset, int *why, mig_error *e)
{
    bool pending = false;
    *why = 0;
    *did_reset = false;
    if (b->ops->set_mode(b, gpu, enable, &pending, why, e) < 0)
        return -1;
    *still_pending = pending;
    if (!pending || !reset)
        return 0;
    if (b->ops->reset(b, gpu, e) < 0)
        return -1;
    *did_reset = true;
    mig_gpu_state now;
    if (b->ops->gpu_state(b, gpu, &now, e) < 0)
        return -1;
    if (now.mig_current != enable)
        return mig_fail(e, MIG_ERR_BACKEND, "the reset did not make MIG mode %s current",
                        enable ? "on" : "off");
    *still_pending = false;
    return 0;
}

/* ------------------------------------------------------------ restore */

static int restore_call(const apply_options *o, unsigned gpu, const char *what, int rc,
                        mig_error *e)
{
    emit(o, (apply_progress){.kind = APPLY_EV_RESTORE, .gpu = gpu, .what = what,
                             .outcome = rc < 0 ? APPLY_OUT_FAILED : APPLY_OUT_OK});
    if (rc < 0) {
        mig_error_prefix(e, "GPU %u: restore %s", gpu, what);
        return -1;
    }
    return 0;
}

static int restore_destroy_extra(mig_backend *b, const mig_gpu_state *want,
                                 const mig_gpu_state *now, const apply_options *o, mig_error *e)
{
    const mig_model *m = now->model;
    char what[160], name[MIG_NAME_LEN + 8];
    for (unsigned i = 0; i < now->n_gi; i++) {
        const mig_gi_state *gi = &now->gi[i];
        const mig_gi_state *keep = find_gi_placed(want, gi->profile_id, gi->start);
        for (unsigned j = 0; j < gi->n_ci; j++) {
            const mig_ci_state *ci = &gi->ci[j];
            if (keep && find_ci_placed(keep, ci->profile_id, ci->start))
                continue;
            if (m)
                ci_state_name(m, gi, ci, name, sizeof name);
            snprintf(what, sizeof what, "destroy-ci %s (GI %u, CI %u)", m ? name : "?", gi->id,
                     ci->id);
            if (restore_call(o, now->index, what,
                             b->ops->destroy_ci(b, now->index, gi->id, ci->id, e), e) < 0)
                return -1;
        }
        if (keep)
            continue;
        snprintf(what, sizeof what, "destroy-gi %s@%u (GI %u)", gi_profile_name(m, gi->profile_id),
                 gi->start, gi->id);
        if (restore_call(o, now->index, what, b->ops->destroy_gi(b, now->index, gi->id, e), e) < 0)
            return -1;
    }
    return 0;
}

static int restore_create_missing(mig_backend *b, const mig_gpu_state *want,
                                  const mig_gpu_state *now, const apply_options *o, mig_error *e)
{
    const mig_model *m = want->model ? want->model : now->model;
    char what[160], name[MIG_NAME_LEN + 8];
    for (unsigned i = 0; i < want->n_gi; i++) {
        const mig_gi_state *wgi = &want->gi[i];
        const mig_gi_state *have = find_gi_placed(now, wgi->profile_id, wgi->start);
        unsigned gi_id = have ? have->id : 0;
        if (!have) {
            snprintf(what, sizeof what, "create-gi %s@%u", gi_profile_name(m, wgi->profile_id),
                     wgi->start);
            if (restore_call(o, want->index, what,
                             b->ops->create_gi(b, want->index, wgi->profile_id, (int)wgi->start,
                                               &gi_id, e),
                             e) < 0)
                return -1;
        }
        for (unsigned j = 0; j < wgi->n_ci; j++) {
            const mig_ci_state *ci = &wgi->ci[j];
            if (find_ci_placed(have, ci->profile_id, ci->start))
                continue;
            if (m)
                ci_state_name(m, wgi, ci, name, sizeof name);
            snprintf(what, sizeof what, "create-ci %s@%u in GI %u", m ? name : "?", ci->start,
                     gi_id);
            unsigned ci_id;
            if (restore_call(o, want->index, what,
                             b->ops->create_ci(b, want->index, gi_id, ci->profile_id,
                                               (int)ci->start, &ci_id, e),
                             e) < 0)
                return -1;
        }
    }
    return 0;
}

static int restore_mode(mig_backend *b, unsigned gpu, bool enable, bool reset,
                        const apply_options *o, mig_error *e)
{
    bool pending, did_reset;
    int why;
    char what[64];
    snprintf(what, sizeof what, "set-mode %s%s", enable ? "on" : "off", reset ? " (+reset)" : "");
    return restore_call(o, gpu, what,
                        set_mode_and_maybe_reset(b, gpu, enable, reset, &pending, &did_reset, &why, e),
                        e);
}

int apply_restore_gpu(mig_backend *b, const mig_gpu_state *want, bool reset,
                      apply_progress_fn on_progress, void *progress_ctx, mig_error *e)
{
    apply_options o = {.on_progress = on_progress, .progress_ctx = progress_ctx};
    mig_gpu_state now;
    if (b->ops->gpu_state(b, want->index, &now, e) < 0)
        return -1;
    /* Ask for MIG on only where the GPU lost it: a GPU whose enable is still
     * pending, as it was before, is left alone (asking again would let an
     * Ampere driver reset it now and make the mode current). */
    if ((want->mig_pending && !now.mig_pending) || (want->mig_current && !now.mig_current)) {
        if (restore_mode(b, want->index, true, reset && want->mig_current, &o, e) < 0)
            return -1;
        if (b->ops->gpu_state(b, want->index, &now, e) < 0)
            return -1;
    }
    if (now.mig_current) {
        if (restore_destroy_extra(b, want, &now, &o, e) < 0)
            return -1;
        if (b->ops->gpu_state(b, want->index, &now, e) < 0)
            return -1;
        if (restore_create_missing(b, want, &now, &o, e) < 0)
            return -1;
    }
    if (!want->mig_pending && now.mig_pending)
        return restore_mode(b, want->index, false, reset && !want->mig_current, &o, e);
    return 0;
}

/* ------------------------------------------------------------ execution */

typedef struct {
    mig_backend *b;
    apply_session *s;
    const apply_options *o;
    apply_report *r;
    mig_journal *j;
    unsigned *created_gi;          /* per op index: the id a create-gi returned */
    bool touched[MIG_MAX_GPUS];    /* by position in s->before */
    bool pending[MIG_MAX_GPUS];    /* awaits a reset; its remaining ops wait */
    char pending_why[MIG_MAX_GPUS][256];
    char *ops_text;
    char gpus_text[MIG_MAX_GPUS * 4 + 1];
} exec_ctx;

static int pos_of(const apply_session *s, unsigned gpu)
{
    for (unsigned i = 0; i < s->n_gpus; i++)
        if (s->before[i].index == gpu)
            return (int)i;
    return -1;
}

/* Copy, truncating (messages can be longer than a report's reason). */
static void copy_text(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void set_outcome(apply_report *r, unsigned gpu, const char *status, const char *reason)
{
    for (unsigned i = 0; i < r->n_gpus; i++)
        if (r->gpus[i].index == gpu) {
            copy_text(r->gpus[i].status, sizeof r->gpus[i].status, status);
            copy_text(r->gpus[i].reason, sizeof r->gpus[i].reason, reason ? reason : "");
            return;
        }
}

static void init_outcomes(const apply_session *s, apply_report *r)
{
    r->n_gpus = s->plan.n_gpus;
    for (unsigned i = 0; i < s->plan.n_gpus && i < MIG_MAX_GPUS; i++) {
        const mig_gpu_plan *gp = &s->plan.gpus[i];
        r->gpus[i].index = gp->gpu;
        const char *st = "untouched";
        switch (gp->status) {
        case MIG_GPU_UNTOUCHED: st = "untouched"; break;
        case MIG_GPU_UNCHANGED: st = "unchanged"; break;
        case MIG_GPU_CHANGE: st = "planned"; break;
        case MIG_GPU_BLOCKED: st = "blocked"; break;
        case MIG_GPU_IMPOSSIBLE: st = "impossible"; break;
        }
        snprintf(r->gpus[i].status, sizeof r->gpus[i].status, "%s", st);
        snprintf(r->gpus[i].reason, sizeof r->gpus[i].reason, "%s", gp->reason);
    }
}

static void describe_op(const exec_ctx *x, unsigned i, char *buf, size_t len)
{
    const mig_op *op = &x->s->plan.ops[i];
    switch (op->kind) {
    case MIG_OP_SET_MODE:
        snprintf(buf, len, "set-mode %s", op->enable ? "on" : "off");
        break;
    case MIG_OP_DESTROY_CI:
        snprintf(buf, len, "destroy-ci %s (GI %u, CI %u)", op->profile, op->gi_id, op->ci_id);
        break;
    case MIG_OP_DESTROY_GI:
        snprintf(buf, len, "destroy-gi %s@%u (GI %u)", op->profile, op->start, op->gi_id);
        break;
    case MIG_OP_CREATE_GI:
        snprintf(buf, len, "create-gi %s@%u", op->profile, op->start);
        break;
    case MIG_OP_CREATE_CI:
        snprintf(buf, len, "create-ci %s in GI %u", op->profile,
                 op->gi_ref >= 0 ? x->created_gi[op->gi_ref] : op->gi_id);
        break;
    }
}

static void pending_reason(exec_ctx *x, int pos, bool enable, int why)
{
    mig_gpu_state now;
    mig_error ignored;
    unsigned procs = 0;
    if (x->b->ops->gpu_state(x->b, x->s->before[pos].index, &now, &ignored) == 0)
        procs = now.n_procs;
    snprintf(x->pending_why[pos], sizeof x->pending_why[pos],
             "MIG mode %s is pending a GPU reset (%s%s; held by %u process%s); stop them and "
             "rerun with --reset",
             enable ? "on" : "off", why ? "activation: " : "", why ? nvml_rc_string(why) : "",
             procs, procs == 1 ? "" : "es");
}

static int exec_set_mode(exec_ctx *x, const mig_op *op, int pos, mig_error *e)
{
    bool pending, did_reset;
    int why;
    if (set_mode_and_maybe_reset(x->b, op->gpu, op->enable, x->o->reset, &pending, &did_reset,
                                 &why, e) < 0)
        return -1;
    if (did_reset)
        x->r->resets[x->r->n_resets++] = op->gpu;
    if (pending) {
        x->pending[pos] = true;
        pending_reason(x, pos, op->enable, why);
        emit_end(x->o, APPLY_OUT_PENDING, 0, 0);
    } else {
        emit_end(x->o, did_reset ? APPLY_OUT_OK_RESET : APPLY_OUT_OK, 0, 0);
    }
    return 0;
}

static int exec_op(exec_ctx *x, unsigned i, mig_error *e)
{
    const mig_op *op = &x->s->plan.ops[i];
    mig_backend *b = x->b;
    int pos = pos_of(x->s, op->gpu);
    if (pos < 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "plan names GPU %u, which the backend did not report",
                        op->gpu);
    x->touched[pos] = true;
    unsigned id = 0;
    int rc = 0;
    switch (op->kind) {
    case MIG_OP_SET_MODE:
        return exec_set_mode(x, op, pos, e);
    case MIG_OP_DESTROY_CI:
        rc = b->ops->destroy_ci(b, op->gpu, op->gi_id, op->ci_id, e);
        break;
    case MIG_OP_DESTROY_GI:
        rc = b->ops->destroy_gi(b, op->gpu, op->gi_id, e);
        break;
    case MIG_OP_CREATE_GI:
        rc = b->ops->create_gi(b, op->gpu, op->profile_id, (int)op->start, &id, e);
        if (rc == 0) {
            x->created_gi[i] = id;
            emit_end(x->o, APPLY_OUT_OK, 'G', id);
            return 0;
        }
        break;
    case MIG_OP_CREATE_CI: {
        unsigned gi = op->gi_ref >= 0 ? x->created_gi[op->gi_ref] : op->gi_id;
        rc = b->ops->create_ci(b, op->gpu, gi, op->profile_id, (int)op->start, &id, e);
        if (rc == 0) {
            emit_end(x->o, APPLY_OUT_OK, 'C', id);
            return 0;
        }
        break;
    }
    }
    if (rc == 0)
        emit_end(x->o, APPLY_OUT_OK, 0, 0);
    return rc;
}

static int journal_update(exec_ctx *x, mig_error *e)
{
    return journal_write(x->o->journal_path, x->j, &x->s->plan, e);
}

static int journal_begin(exec_ctx *x, mig_error *e)
{
    mig_journal *j = x->j;
    j->pid = (long)getpid();
    snprintf(j->config_file, sizeof j->config_file, "%s", x->o->config_file ? x->o->config_file : "");
    snprintf(j->config_name, sizeof j->config_name, "%s", x->o->config_name ? x->o->config_name : "");
    snprintf(j->phase, sizeof j->phase, "apply");
    j->n_ops = x->s->plan.n_ops;
    for (unsigned i = 0; i < x->s->plan.n_gpus; i++) {
        const mig_gpu_plan *gp = &x->s->plan.gpus[i];
        const mig_gpu_state *g = state_of(x->s, gp->gpu);
        if (g && (gp->status == MIG_GPU_CHANGE || awaits_reset(g, gp)))
            j->before[j->n_before++] = *g;
    }
    return journal_update(x, e);
}

/* Reset (or mark pending) the GPUs an earlier apply left awaiting a reset.
 * A pending enable is reset before the ops (its GIs need MIG current); a
 * pending disable after them: the GPU may still hold instances the plan
 * destroys, and a reset first would wipe them under the plan's destroys.
 * after=false: the enables (and, without --reset, marks every awaiting GPU
 * pending); after=true: the disables. */
static int resolve_awaiting(exec_ctx *x, bool after, mig_error *e)
{
    for (unsigned i = 0; i < x->s->plan.n_gpus; i++) {
        const mig_gpu_plan *gp = &x->s->plan.gpus[i];
        const mig_gpu_state *g = state_of(x->s, gp->gpu);
        if (!awaits_reset(g, gp))
            continue;
        int pos = pos_of(x->s, gp->gpu);
        x->touched[pos] = true;
        if (!x->o->reset) {
            if (after)
                continue;
            x->pending[pos] = true;
            snprintf(x->pending_why[pos], sizeof x->pending_why[pos],
                     "MIG mode %s is pending a GPU reset (held by %u process%s); stop them and "
                     "rerun with --reset",
                     g->mig_pending ? "on" : "off", g->n_procs, g->n_procs == 1 ? "" : "es");
            continue;
        }
        if (g->mig_pending == after)
            continue;
        emit(x->o, (apply_progress){.kind = APPLY_EV_RESET_START, .gpu = gp->gpu,
                                    .enable = g->mig_pending});
        if (x->b->ops->reset(x->b, gp->gpu, e) < 0) {
            emit(x->o, (apply_progress){.kind = APPLY_EV_RESET_END, .gpu = gp->gpu,
                                        .outcome = APPLY_OUT_FAILED});
            mig_error_prefix(e, "GPU %u: reset", gp->gpu);
            return -1;
        }
        emit(x->o, (apply_progress){.kind = APPLY_EV_RESET_END, .gpu = gp->gpu,
                                    .outcome = APPLY_OUT_OK});
        x->r->resets[x->r->n_resets++] = gp->gpu;
    }
    return 0;
}

static int run_ops(exec_ctx *x, mig_error *e)
{
    const mig_plan *p = &x->s->plan;
    for (unsigned i = 0; i < p->n_ops; i++) {
        const mig_op *op = &p->ops[i];
        int pos = pos_of(x->s, op->gpu);
        if (pos >= 0 && x->pending[pos])
            continue; /* its GIs need MIG mode current: they wait for the rerun */
        if (x->o->cancel && *x->o->cancel)
            return mig_fail(e, MIG_ERR_SYSTEM, "interrupted by a signal after %u of %u operations",
                            x->j->done, p->n_ops);
        char desc[200];
        describe_op(x, i, desc, sizeof desc);
        emit(x->o, (apply_progress){.kind = APPLY_EV_OP_START, .index = i, .total = p->n_ops,
                                    .gpu = op->gpu, .what = desc});
        if (exec_op(x, i, e) < 0) {
            emit_end(x->o, APPLY_OUT_FAILED, 0, 0);
            mig_error_prefix(e, "GPU %u: %s", op->gpu, desc);
            return -1;
        }
        x->r->n_done = ++x->j->done;
        if (journal_update(x, e) < 0)
            return -1;
    }
    return 0;
}

static int verify(exec_ctx *x, mig_error *e)
{
    for (unsigned i = 0; i < x->s->plan.n_gpus; i++) {
        const mig_gpu_plan *gp = &x->s->plan.gpus[i];
        int pos = pos_of(x->s, gp->gpu);
        if (pos < 0 || !x->touched[pos] || x->pending[pos])
            continue;
        mig_gpu_state now;
        if (x->b->ops->gpu_state(x->b, gp->gpu, &now, e) < 0) {
            mig_error_prefix(e, "GPU %u: verify", gp->gpu);
            return -1;
        }
        char drift[512] = "";
        mig_layout have;
        if (!desired_satisfied(&now, &gp->desired, true, drift, sizeof drift))
            return mig_fail(e, MIG_ERR_BACKEND, "GPU %u: verification failed: %s", gp->gpu, drift);
        if (gpu_state_layout(&now, &have, e) < 0)
            return -1;
        if (!layout_equal(&have, &gp->target))
            return mig_fail(e, MIG_ERR_BACKEND,
                            "GPU %u: verification failed: the placements differ from the plan",
                            gp->gpu);
        set_outcome(x->r, gp->gpu, "applied", "");
    }
    return 0;
}

static void rollback(exec_ctx *x)
{
    apply_report *r = x->r;
    r->rolled_back = true;
    r->restored = true;
    mig_error e;
    snprintf(x->j->phase, sizeof x->j->phase, "rollback");
    /* The restore matters more than its record: go on even if this fails. */
    (void)journal_update(x, &e);
    emit(x->o, (apply_progress){.kind = APPLY_EV_ROLLBACK});
    char summary[256] = "";
    size_t len = 0;
    for (unsigned pos = 0; pos < x->s->n_gpus; pos++) {
        if (!x->touched[pos])
            continue;
        /* A reset this apply did cannot be undone: it made the pending mode
         * current. Restore the rest around that. */
        mig_gpu_state want_eff = x->s->before[pos];
        const mig_gpu_state *want = &want_eff;
        bool was_reset = false;
        for (unsigned k = 0; k < r->n_resets; k++)
            was_reset = was_reset || r->resets[k] == want->index;
        bool mode_moved = was_reset && want_eff.mig_current != want_eff.mig_pending;
        if (mode_moved)
            want_eff.mig_current = want_eff.mig_pending;
        mig_gpu_state now;
        bool ok = apply_restore_gpu(x->b, want, x->o->reset, x->o->on_progress, x->o->progress_ctx, &e) == 0 &&
                  x->b->ops->gpu_state(x->b, want->index, &now, &e) == 0;
        if (ok && !apply_same_layout(want, &now)) {
            ok = false;
            mig_fail(&e, MIG_ERR_BACKEND, "the layout read back differs from the previous one");
        }
        if (ok) {
            set_outcome(r, want->index, "restored",
                        mode_moved ? "rolled back to the previous layout; the reset made its "
                                     "pending MIG mode current"
                                   : "rolled back to the previous layout");
            len += (size_t)snprintf(summary + len, sizeof summary - len, "%sGPU %u",
                                    len ? ", " : "", want->index);
        } else {
            r->restored = false;
            set_outcome(r, want->index, "not-restored", e.msg);
        }
        if (len >= sizeof summary)
            len = sizeof summary - 1;
    }
    if (!r->restored) { /* the journal stays, saying so, for a person to read */
        snprintf(x->j->phase, sizeof x->j->phase, "restore-failed");
        (void)journal_update(x, &e);
    }
    size_t ml = strlen(r->error.msg);
    if (r->restored)
        snprintf(r->error.msg + ml, sizeof r->error.msg - ml,
                 "; rolled back: %s restored to the previous layout", len ? summary : "nothing");
    else
        snprintf(r->error.msg + ml, sizeof r->error.msg - ml,
                 "; ROLLBACK INCOMPLETE: see the per-GPU status; the journal %s keeps the "
                 "previous layout",
                 x->o->journal_path);
}

static void hook_vars(const exec_ctx *x, const char *result, hook_var *v, unsigned *n)
{
    const apply_options *o = x->o;
    *n = 0;
    v[(*n)++] = (hook_var){"MIGCTL_CONFIG_FILE", o->config_file ? o->config_file : ""};
    v[(*n)++] = (hook_var){"MIGCTL_SELECTED_CONFIG", o->config_name ? o->config_name : ""};
    v[(*n)++] = (hook_var){"MIGCTL_GPUS", x->gpus_text};
    v[(*n)++] = (hook_var){"MIGCTL_OPERATIONS", x->ops_text ? x->ops_text : ""};
    v[(*n)++] = (hook_var){"MIG_PARTED_CONFIG_FILE", o->config_file ? o->config_file : ""};
    v[(*n)++] = (hook_var){"MIG_PARTED_SELECTED_CONFIG", o->config_name ? o->config_name : ""};
    v[(*n)++] = (hook_var){"MIG_PARTED_HOOKS_FILE", o->hooks_path ? o->hooks_path : ""};
    if (result)
        v[(*n)++] = (hook_var){"MIGCTL_RESULT", result};
}

static int run_hook(exec_ctx *x, hook_point p, const char *result, mig_error *e)
{
    if (!x->o->hooks || !x->o->hooks->n[p])
        return 0;
    hook_var vars[8];
    /* apply-exit is what restarts services: a signal does not cut it short
     * (its timeout still bounds it). */
    hook_run_options ho = {.timeout_ms = x->o->hook_timeout_ms,
                           .stdout_to_stderr = x->o->hook_stdout_to_stderr,
                           .vars = vars,
                           .cancel = p == HOOK_APPLY_EXIT ? NULL : x->o->cancel};
    hook_vars(x, result, vars, &ho.n_vars);
    emit(x->o, (apply_progress){.kind = APPLY_EV_HOOK, .hook = hook_point_name(p)});
    return hooks_run(x->o->hooks, p, &ho, e);
}

static void fill_gpus_text(exec_ctx *x)
{
    size_t len = 0;
    x->gpus_text[0] = '\0';
    for (unsigned i = 0; i < x->s->plan.n_gpus; i++) {
        const mig_gpu_plan *gp = &x->s->plan.gpus[i];
        if (gp->status != MIG_GPU_CHANGE && !awaits_reset(state_of(x->s, gp->gpu), gp))
            continue;
        len += (size_t)snprintf(x->gpus_text + len, sizeof x->gpus_text - len, "%s%u",
                                len ? "," : "", gp->gpu);
        if (len >= sizeof x->gpus_text)
            break;
    }
}

static void fail_report(apply_report *r, const mig_error *e)
{
    r->result = APPLY_FAILED;
    r->error = *e;
}

/* Refusals come before anything is touched, hooks included. */
static bool refuse_if_blocked(const apply_session *s, apply_report *r)
{
    char list[768] = "";
    size_t len = 0;
    for (unsigned i = 0; i < s->plan.n_gpus; i++) {
        const mig_gpu_plan *gp = &s->plan.gpus[i];
        if (gp->status != MIG_GPU_BLOCKED && gp->status != MIG_GPU_IMPOSSIBLE)
            continue;
        len += (size_t)snprintf(list + len, sizeof list - len, "%sGPU %u %s: %s", len ? "; " : "",
                                gp->gpu, mig_gpu_plan_status_name(gp->status), gp->reason);
        if (len >= sizeof list)
            len = sizeof list - 1;
    }
    if (!len)
        return false;
    r->result = APPLY_REFUSED;
    mig_fail(&r->error, MIG_ERR_REFUSED, "refused, nothing changed: %s", list);
    return true;
}

static void execute_changes(exec_ctx *x)
{
    apply_report *r = x->r;
    mig_error e;
    mig_error_clear(&e);
    if (journal_begin(x, &e) < 0) {
        fail_report(r, &e); /* before the first op: nothing changed */
        return;
    }
    if (resolve_awaiting(x, false, &e) < 0 || run_ops(x, &e) < 0 ||
        resolve_awaiting(x, true, &e) < 0 || verify(x, &e) < 0) {
        fail_report(r, &e);
        rollback(x);
        if (r->restored)
            journal_remove(x->o->journal_path, &e);
        return;
    }
    journal_remove(x->o->journal_path, &e);
    r->result = APPLY_APPLIED;
    size_t len = 0;
    char msg[900] = "";
    for (unsigned pos = 0; pos < x->s->n_gpus; pos++) {
        if (!x->pending[pos])
            continue;
        set_outcome(r, x->s->before[pos].index, "pending-reset", x->pending_why[pos]);
        len += (size_t)snprintf(msg + len, sizeof msg - len, "%sGPU %u: %s", len ? "; " : "",
                                x->s->before[pos].index, x->pending_why[pos]);
        if (len >= sizeof msg)
            len = sizeof msg - 1;
    }
    if (len) {
        r->result = APPLY_PENDING_RESET;
        mig_fail(&r->error, MIG_ERR_REFUSED, "%s", msg);
    }
}

static bool plan_has(const mig_plan *p, bool mode_ops)
{
    for (unsigned i = 0; i < p->n_ops; i++)
        if ((p->ops[i].kind == MIG_OP_SET_MODE) == mode_ops)
            return true;
    return false;
}

static bool any_awaiting(const apply_session *s)
{
    for (unsigned i = 0; i < s->plan.n_gpus; i++)
        if (awaits_reset(state_of(s, s->plan.gpus[i].gpu), &s->plan.gpus[i]))
            return true;
    return false;
}

int apply_execute(mig_backend *b, apply_session *s, const apply_options *o, apply_report *r)
{
    memset(r, 0, sizeof *r);
    init_outcomes(s, r);
    if (refuse_if_blocked(s, r))
        return -1;
    if (o->dry_run) {
        r->result = APPLY_DRY_RUN;
        return 0;
    }
    exec_ctx x = {.b = b, .s = s, .o = o, .r = r};
    x.ops_text = apply_operations_text(&s->plan);
    fill_gpus_text(&x);
    mig_error e;
    mig_error_clear(&e);
    bool work = s->plan.n_ops > 0 || any_awaiting(s);
    if (run_hook(&x, HOOK_APPLY_START, NULL, &e) < 0)
        fail_report(r, &e);
    else if (!work) {
        r->result = APPLY_UNCHANGED;
        if (s->stale_journal && journal_remove(o->journal_path, &e) < 0)
            fail_report(r, &e);
    } else if ((plan_has(&s->plan, true) || any_awaiting(s)) &&
               run_hook(&x, HOOK_PRE_APPLY_MODE, NULL, &e) < 0) {
        fail_report(r, &e);
    } else if (plan_has(&s->plan, false) && run_hook(&x, HOOK_PRE_APPLY_CONFIG, NULL, &e) < 0) {
        fail_report(r, &e);
    } else {
        x.j = calloc(1, sizeof *x.j);
        x.created_gi = calloc(s->plan.n_ops + 1, sizeof *x.created_gi);
        if (!x.j || !x.created_gi)
            fail_report(r, (mig_fail(&e, MIG_ERR_SYSTEM, "out of memory"), &e));
        else
            execute_changes(&x);
    }
    /* apply-exit runs whenever apply-start was attempted; its failure turns
     * success into failure (and is added to an earlier failure). */
    mig_error_clear(&e);
    if (run_hook(&x, HOOK_APPLY_EXIT, apply_result_name(r->result), &e) < 0) {
        if (r->result == APPLY_FAILED) {
            size_t ml = strlen(r->error.msg);
            snprintf(r->error.msg + ml, sizeof r->error.msg - ml, "; also %s", e.msg);
        } else {
            fail_report(r, &e);
        }
    }
    if (r->result == APPLY_FAILED)
        for (unsigned i = 0; i < r->n_gpus; i++)
            if (strcmp(r->gpus[i].status, "planned") == 0)
                set_outcome(r, r->gpus[i].index, "skipped", "not reached: the apply failed");
    free(x.ops_text);
    free(x.j);
    free(x.created_gi);
    return r->result == APPLY_APPLIED || r->result == APPLY_UNCHANGED ? 0 : -1;
}

int apply_run(mig_backend *b, const cfg_config *c, const apply_options *o, apply_report *r)
{
    apply_session s;
    mig_error e;
    mig_error_clear(&e);
    if (apply_prepare(b, c, o, &s, &e) < 0) {
        memset(r, 0, sizeof *r);
        r->result = APPLY_FAILED;
        r->error = e;
        apply_session_free(&s);
        return -1;
    }
    int rc = apply_execute(b, &s, o, r);
    apply_session_free(&s);
    return rc;
}

/* ------------------------------------------------------------ JSON */

json_t *apply_report_json(const apply_session *s, const apply_report *r)
{
    json_t *ops = s ? plan_to_json(&s->plan) : json_array();
    json_t *gpus = json_array();
    for (unsigned i = 0; i < r->n_gpus; i++)
        json_array_append_new(gpus, json_pack("{s:I, s:s, s:s}", "index",
                                              (json_int_t)r->gpus[i].index, "status",
                                              r->gpus[i].status, "reason", r->gpus[i].reason));
    json_t *resets = json_array();
    for (unsigned i = 0; i < r->n_resets; i++)
        json_array_append_new(resets, json_integer(r->resets[i]));
    json_t *root = json_pack("{s:s, s:o, s:o, s:b, s:b, s:I, s:o, s:b}", "result",
                             apply_result_name(r->result), "operations", ops, "gpus", gpus,
                             "rolled_back", r->rolled_back, "restored", r->restored,
                             "operations_done", (json_int_t)r->n_done, "resets", resets,
                             "journal_recovered", s && s->stale_journal);
    if (r->error.kind != MIG_ERR_NONE || r->error.msg[0]) {
        char text[sizeof r->error.file + sizeof r->error.msg + 32];
        json_object_set_new(root, "error",
                            json_string(mig_error_format(&r->error, text, sizeof text)));
    }
    return root;
}
