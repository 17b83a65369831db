/*
 * reconfigure.c: one node's MIG layout changed through Slurm: plan, drain,
 * wait for the jobs on the GPUs that change, apply, new gres, slurmctld
 * takes it, registration checked, resume; any failure puts everything back.
 * The steps and why each is there are in reconfigure.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "apply/apply.h"
#include "integrate/slurm/reconfigure.h"
#include "integrate/slurm/sctl.h"
#include "util/fileio.h"

#define CONF_MAX ((size_t)8 << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    const sr_options *o;
    sr_report *r;
    double t0, step_t0;
} run_ctx;

static void step_begin(run_ctx *c)
{
    c->step_t0 = now_s();
}

static void step_end(run_ctx *c, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void step_end(run_ctx *c, const char *name, const char *fmt, ...)
{
    sr_report *r = c->r;
    double t = now_s();
    if (r->n_steps < SR_MAX_STEPS) {
        sr_step *s = &r->steps[r->n_steps++];
        snprintf(s->name, sizeof s->name, "%s", name);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->detail, sizeof s->detail, fmt, ap);
        va_end(ap);
        s->at = c->step_t0 - c->t0;
        s->seconds = t - c->step_t0;
        if (c->o->log) {
            time_t wall = time(NULL);
            struct tm tm;
            gmtime_r(&wall, &tm);
            fprintf(c->o->log, "%02d:%02d:%02dZ %s: %-10s %6.3fs  %s\n", tm.tm_hour, tm.tm_min,
                    tm.tm_sec, c->o->node, s->name, s->seconds, s->detail);
            fflush(c->o->log);
        }
    }
    c->step_t0 = t;
}

/* ------------------------------------------------------------ helpers */

void sr_mps_flags(const cfg_config *c, const mig_gpu_state *gpus, unsigned n, const sg_node *prev,
                  bool *mps)
{
    for (unsigned i = 0; i < n; i++) {
        mps[i] = false;
        const cfg_entry *en = c ? cfg_entry_for_gpu(c, &gpus[i]) : NULL;
        if (en) {
            mps[i] = en->mps;
            continue;
        }
        for (unsigned k = 0; prev && k < prev->n; k++)
            if (prev->e[k].kind == SG_MPS && prev->e[k].gpu == gpus[i].index)
                mps[i] = true;
    }
}

static int read_states(mig_backend *b, mig_gpu_state **out, unsigned *n, mig_error *e)
{
    if (b->ops->gpu_count(b, n, e) < 0)
        return -1;
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = 0; i < *n; i++)
        if (b->ops->gpu_state(b, i, &(*out)[i], e) < 0) {
            mig_error_prefix(e, "GPU %u", i);
            free(*out);
            *out = NULL;
            return -1;
        }
    return 0;
}

int sr_predict(mig_backend *b, const cfg_config *c, const sg_params *p, sg_node *out,
               mig_error *e)
{
    mig_gpu_state *gpus;
    unsigned n;
    if (read_states(b, &gpus, &n, e) < 0)
        return -1;
    mig_plan plan;
    int rc = reconcile_plan(gpus, n, c, true, &plan, e);
    if (rc == 0) {
        for (unsigned i = 0; i < n && i < plan.n_gpus; i++) {
            const mig_gpu_plan *gp = &plan.gpus[i];
            mig_gpu_state *g = &gpus[i];
            if (gp->status == MIG_GPU_UNTOUCHED || gp->status == MIG_GPU_UNCHANGED)
                continue;
            if (gp->status == MIG_GPU_IMPOSSIBLE) {
                rc = mig_fail(e, MIG_ERR_REFUSED, "GPU %u: %s", i, gp->reason);
                break;
            }
            g->mig_current = gp->desired.mig_enabled;
            g->n_gi = g->mig_current ? gp->target.n : 0;
            for (unsigned k = 0; k < g->n_gi; k++) {
                const mig_gi_profile *pr = &g->model->profiles[gp->target.gi[k].profile];
                mig_gi_state *gi = &g->gi[k];
                memset(gi, 0, sizeof *gi);
                gi->id = k; /* placeholder: the driver assigns ids */
                gi->profile_id = pr->id;
                gi->start = gp->target.gi[k].start;
                gi->size = pr->memory_slices;
                gi->n_ci = 1;
                gi->ci[0].slices = pr->compute_slices;
                gi->ci[0].uuid[0] = 0;
            }
        }
    }
    mig_plan_free(&plan);
    if (rc == 0) {
        bool *mps = calloc(n ? n : 1, sizeof *mps);
        if (!mps)
            rc = mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        else {
            sr_mps_flags(c, gpus, n, p->prev, mps);
            sg_params q = *p;
            q.mps = mps;
            q.prev = NULL;
            rc = sg_build(gpus, n, &q, out, e);
            free(mps);
        }
    }
    /* Ids and UUIDs of new instances are unknown until the apply. */
    for (unsigned i = 0; rc == 0 && i < out->n; i++) {
        sg_entry *en = &out->e[i];
        if (en->kind != SG_MIG || en->uuid[0])
            continue;
        en->gi = en->ci = -1;
        en->n_files = 1;
        snprintf(en->files[0], SG_PATH_LEN, "%s/nvidia%u", p->dev_dir, en->gpu);
    }
    free(gpus);
    return rc;
}

/* The cluster-wide lock next to slurm.conf: one node at a time rewrites the
 * Slurm files and restarts slurmctld. */
static int cluster_lock(const char *slurm_conf, mig_error *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.migctl.lock", slurm_conf);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            close(fd);
            return mig_fail(e, MIG_ERR_SYSTEM, "flock %s: %s", path, strerror(errno));
        }
    return fd;
}

static int read_text(const char *path, const char *what, char **text, mig_error *e)
{
    size_t len;
    return fileio_read(path, what, CONF_MAX, text, &len, e);
}

/* Write both files, restart slurmctld, reconfigure. */
static int push_files(const sr_options *o, const char *gres_text, const char *slurm_text,
                      mig_error *e)
{
    if (fileio_write_atomic(o->gres_conf, gres_text, strlen(gres_text), 0644, e) < 0 ||
        fileio_write_atomic(o->slurm_conf, slurm_text, strlen(slurm_text), 0644, e) < 0)
        return -1;
    char *out = NULL;
    int st;
    if (sctl_shell(o->ctld_restart, 60000, &out, &st, e) < 0)
        return -1;
    if (st != 0) {
        size_t l = strlen(out);
        while (l && out[l - 1] == '\n')
            out[--l] = 0;
        mig_fail(e, MIG_ERR_SYSTEM, "slurmctld restart command '%s' failed (exit %d): %.300s",
                 o->ctld_restart, st, out);
        free(out);
        return -1;
    }
    free(out);
    if (sctl_wait_ctld(30000, e) < 0 || sctl_reconfigure(e) < 0)
        return -1;
    return 0;
}

/* Every "gpu:TYPE:N" of want is in have (slurmctld adds mps types of its own
 * on MPS nodes), and have has no gpu item want lacks. */
static bool gres_matches(const char *want, const char *have)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", want);
    snprintf(b, sizeof b, "%s", have);
    unsigned nw = 0, nh = 0;
    for (char *s = NULL, *w = strtok_r(a, ",", &s); w; w = strtok_r(NULL, ",", &s)) {
        if (strncmp(w, "gpu:", 4))
            continue;
        nw++;
        char pat[300];
        snprintf(pat, sizeof pat, ",%s,", w);
        char hb[4200];
        snprintf(hb, sizeof hb, ",%s,", have);
        /* "(S:0-1)" socket suffixes are not written by migctl's config. */
        if (!strstr(hb, pat))
            return false;
    }
    for (char *s = NULL, *w = strtok_r(b, ",", &s); w; w = strtok_r(NULL, ",", &s))
        nh += !strncmp(w, "gpu:", 4);
    return nw == nh;
}

static int wait_registered(const sr_options *o, const char *gres, unsigned timeout_s,
                           mig_error *e)
{
    double deadline = now_s() + timeout_s;
    sctl_node n;
    for (;;) {
        if (sctl_show_node(o->node, &n, e) < 0)
            return -1;
        bool ok = gres_matches(gres, n.gres) && !sctl_state_has(&n, "INVAL") &&
                  !sctl_state_has(&n, "DOWN") && !sctl_state_has(&n, "NOT_RESPONDING") &&
                  !sctl_state_has(&n, "UNKNOWN");
        if (ok)
            return 0;
        if (now_s() > deadline)
            return mig_fail(e, MIG_ERR_SYSTEM,
                            "node %s did not register with Gres=%s within %u s (state %s, "
                            "gres %s, reason %s)",
                            o->node, gres, timeout_s, n.state, n.gres, n.reason);
        struct timespec ts = {0, 100000000L};
        nanosleep(&ts, NULL);
    }
}

/* ------------------------------------------------------------ the run */

typedef struct {
    mig_gpu_state *before;
    unsigned n;
    apply_session s;
    bool have_session;
    sg_node *prev, *next;
    char *gres_old, *slurm_old;
    int lock_fd;
    bool *mps, *mps_before;
    bool pushed;                 /* the new files were (being) written */
    bool applied;                /* apply_execute ran */
} run_res;

static void res_free(run_res *x)
{
    if (x->have_session)
        apply_session_free(&x->s);
    free(x->prev);
    free(x->next);
    free(x->gres_old);
    free(x->slurm_old);
    free(x->mps);
    free(x->mps_before);
    if (x->lock_fd >= 0)
        close(x->lock_fd);
}

static bool affected(const sr_report *r, unsigned gpu)
{
    for (unsigned i = 0; i < r->n_affected; i++)
        if (r->affected[i] == gpu)
            return true;
    return false;
}

/* Jobs holding gres records of affected GPUs; their ids into buf. */
static int blocking_jobs(const sr_options *o, const sr_report *r, const sg_node *prev,
                         unsigned *count, char *buf, size_t len, mig_error *e)
{
    sctl_job jobs[256];
    unsigned n;
    *count = 0;
    buf[0] = 0;
    if (sctl_node_jobs(o->node, jobs, 256, &n, e) < 0)
        return -1;
    size_t u = 0;
    for (unsigned j = 0; j < n; j++) {
        bool blocks = false;
        for (unsigned k = 0; k < prev->n && !blocks; k++) {
            int idx = prev->e[k].index;
            if (idx < 0 || idx >= 1024 || !affected(r, prev->e[k].gpu))
                continue;
            blocks = jobs[j].idx[idx / 8] & (1u << (idx % 8));
        }
        if (blocks) {
            (*count)++;
            if (u < len)
                u += (size_t)snprintf(buf + u, len - u, "%s%lu", u ? "," : "", jobs[j].id);
        }
    }
    return 0;
}

/* The same record: kind, GPU, GI, CI and type. */
static bool same_record(const sg_entry *a, const sg_entry *b)
{
    return a->kind == b->kind && a->gpu == b->gpu && a->gi == b->gi && a->ci == b->ci &&
           !strcmp(a->type, b->type);
}

static const sg_entry *at_index(const sg_node *n, int idx)
{
    for (unsigned k = 0; k < n->n; k++)
        if (n->e[k].kind != SG_MPS && n->e[k].index == idx)
            return &n->e[k];
    return NULL;
}

/* The same records, UUIDs and device files included. */
static bool records_equal(const sg_node *a, const sg_node *b, bool *files_same)
{
    bool same = a->n == b->n;
    *files_same = same;
    for (unsigned i = 0; same && i < a->n; i++) {
        const sg_entry *x = &a->e[i], *y = &b->e[i];
        same = same_record(x, y) && !strcmp(x->uuid, y->uuid) && x->n_files == y->n_files;
        for (unsigned f = 0; same && f < x->n_files; f++)
            *files_same &= !strcmp(x->files[f], y->files[f]);
        same &= *files_same;
    }
    return same;
}

bool sr_index_moves(const sg_node *prev, const sg_node *next, int idx)
{
    const sg_entry *a = at_index(prev, idx), *b = at_index(next, idx);
    return !a || !b || !same_record(a, b);
}

/* Running jobs holding an index that names another record in next than in
 * prev: slurmd numbers records grouped by type, so a type whose count
 * changes moves the indices after it, and slurmctld would then account the
 * job on another slice. */
static int remapped_jobs(const sr_options *o, const sg_node *prev, const sg_node *next,
                         unsigned *count, char *buf, size_t len, mig_error *e)
{
    sctl_job jobs[256];
    unsigned n;
    *count = 0;
    buf[0] = 0;
    if (sctl_node_jobs(o->node, jobs, 256, &n, e) < 0)
        return -1;
    size_t u = 0;
    for (unsigned j = 0; j < n; j++) {
        bool moves = false;
        for (int idx = 0; idx < 1024 && !moves; idx++) {
            if (!(jobs[j].idx[idx / 8] & (1u << (idx % 8))))
                continue;
            moves = sr_index_moves(prev, next, idx);
        }
        if (moves) {
            (*count)++;
            if (u < len)
                u += (size_t)snprintf(buf + u, len - u, "%s%lu", u ? "," : "", jobs[j].id);
        }
    }
    return 0;
}

/* After a failure: the node's records rebuilt from the GPUs as they are now
 * (the previous layout), in the previous slots. When Slurm was given other
 * records (pushed), both files go back and slurmctld restarts; otherwise
 * gres.conf is rewritten only if a record changed (ids, devices or UUIDs of
 * re-created instances), with `scontrol reconfigure` when a device did. */
static int refresh_records(mig_backend *b, const sr_options *o, run_res *x, bool pushed,
                           const char *gres_before, mig_error *e)
{
    mig_gpu_state *now;
    unsigned n;
    sg_node *rec = calloc(1, sizeof *rec);
    if (!rec)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    int rc = read_states(b, &now, &n, e);
    if (rc == 0) {
        sg_params p = {o->node, o->dev_dir, o->minors, x->mps_before, x->prev, o->caps_major};
        rc = sg_build(now, n, &p, rec, e);
        free(now);
    }
    bool files_same = false;
    bool same = rc == 0 && records_equal(rec, x->prev, &files_same);
    if (rc == 0 && (pushed || !same)) {
        if (x->lock_fd < 0)
            x->lock_fd = cluster_lock(o->slurm_conf, e);
        char *cur_g = NULL, *cur_s = NULL;
        rc = x->lock_fd < 0 || sg_make_devices(rec, e) < 0 ||
                     read_text(o->gres_conf, "gres.conf", &cur_g, e) < 0 ||
                     read_text(o->slurm_conf, "slurm.conf", &cur_s, e) < 0
                 ? -1
                 : 0;
        char *g2 = rc == 0 ? sg_replace_block(cur_g, rec, e) : NULL;
        char *s2 = g2 ? sg_set_node_gres(cur_s, o->node, gres_before, sg_has_mps(rec), e) : NULL;
        if (!s2)
            rc = -1;
        else if (pushed)
            rc = push_files(o, g2, s2, e);
        else if (fileio_write_atomic(o->gres_conf, g2, strlen(g2), 0644, e) < 0)
            rc = -1;
        else if (!files_same)
            rc = sctl_reconfigure(e);
        free(g2);
        free(s2);
        free(cur_g);
        free(cur_s);
    }
    free(rec);
    return rc;
}

static int fail_with(sr_report *r, const char *result, const mig_error *e)
{
    snprintf(r->result, sizeof r->result, "%s", result);
    r->error = *e;
    return 0;
}

int sr_reconfigure(mig_backend *b, const sr_options *o, sr_report *r)
{
    memset(r, 0, sizeof *r);
    run_ctx c = {o, r, now_s(), 0};
    run_res x = {.lock_fd = -1};
    mig_error e;
    mig_error_clear(&e);
    int code = 0;
    step_begin(&c);

    /* ---- plan */
    x.prev = calloc(1, sizeof *x.prev);
    x.next = calloc(1, sizeof *x.next);
    if (!x.prev || !x.next) {
        mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        goto failed_early;
    }
    if (read_text(o->gres_conf, "gres.conf", &x.gres_old, &e) < 0 ||
        read_text(o->slurm_conf, "slurm.conf", &x.slurm_old, &e) < 0 ||
        sg_parse_conf(x.gres_old, o->node, x.prev, &e) < 0 ||
        sg_get_node_gres(x.slurm_old, o->node, r->gres_before, sizeof r->gres_before, &e) < 0)
        goto failed_early;
    apply_options ao = {
        .config_file = o->config_file,
        .config_name = o->config->name,
        .journal_path = o->journal_path,
        .dry_run = o->dry_run,
        .on_progress = o->on_progress,
        .progress_ctx = o->progress_ctx,
        .cancel = o->cancel,
    };
    x.have_session = true;
    if (apply_prepare(b, o->config, &ao, &x.s, &e) < 0)
        goto failed_early;
    x.before = x.s.before;
    x.n = x.s.n_gpus;
    x.mps = calloc(x.n ? x.n : 1, sizeof *x.mps);
    x.mps_before = calloc(x.n ? x.n : 1, sizeof *x.mps_before);
    if (!x.mps || !x.mps_before) {
        mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        goto failed_early;
    }
    sr_mps_flags(o->config, x.before, x.n, x.prev, x.mps);
    sr_mps_flags(NULL, x.before, x.n, x.prev, x.mps_before);
    r->n_ops = x.s.plan.n_ops;
    for (unsigned i = 0; i < x.s.plan.n_gpus; i++) {
        const mig_gpu_plan *gp = &x.s.plan.gpus[i];
        if (gp->status == MIG_GPU_BLOCKED || gp->status == MIG_GPU_IMPOSSIBLE) {
            mig_fail(&e, MIG_ERR_REFUSED, "GPU %u %s: %s", gp->gpu,
                     mig_gpu_plan_status_name(gp->status), gp->reason);
            step_end(&c, "plan", "refused: %s", e.msg);
            fail_with(r, "refused", &e);
            code = 1;
            goto out;
        }
        bool destroys = false;
        for (unsigned k = gp->first_op; k < gp->first_op + gp->n_ops; k++)
            destroys |= x.s.plan.ops[k].kind != MIG_OP_CREATE_GI &&
                        x.s.plan.ops[k].kind != MIG_OP_CREATE_CI;
        if (destroys || x.mps[gp->gpu] != x.mps_before[gp->gpu])
            r->affected[r->n_affected++] = gp->gpu;
    }
    r->drain = r->n_affected > 0;
    {
        char list[256] = "";
        for (unsigned i = 0; i < r->n_affected; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%u", i ? "," : "",
                     r->affected[i]);
        if (r->drain)
            step_end(&c, "plan", "%u operation%s; GPUs %s change: drain needed", r->n_ops,
                     r->n_ops == 1 ? "" : "s", list);
        else
            step_end(&c, "plan", "%u operation%s; add-only: no drain", r->n_ops,
                     r->n_ops == 1 ? "" : "s");
    }
    if (o->on_plan)
        o->on_plan(o->on_plan_ctx, &x.s, r);
    if (o->dry_run) {
        snprintf(r->result, sizeof r->result, "dry-run");
        goto out;
    }

    /* ---- drain and wait */
    if (r->drain) {
        if (sctl_drain(o->node, SR_REASON, &e) < 0) {
            step_end(&c, "drain", "failed: %s", e.msg);
            fail_with(r, "failed", &e);
            code = 3;
            goto out;
        }
        r->drained = true;
        step_end(&c, "drain", "State=DRAIN Reason=\"%s\"", SR_REASON);
        double deadline = now_s() + o->timeout_s;
        unsigned waited_for = 0;
        for (;;) {
            unsigned nb;
            char ids[256];
            if (blocking_jobs(o, r, x.prev, &nb, ids, sizeof ids, &e) < 0) {
                step_end(&c, "wait", "failed: %s", e.msg);
                goto restore_slurm;
            }
            if (nb == 0)
                break;
            if (!waited_for)
                waited_for = nb;
            if (now_s() > deadline || (o->cancel && *o->cancel)) {
                mig_fail(&e, MIG_ERR_REFUSED,
                         "jobs %s still hold slices of the GPUs that change after %u s; "
                         "node resumed, layout unchanged",
                         ids, o->timeout_s);
                step_end(&c, "wait", "timeout: jobs %s", ids);
                sctl_resume(o->node, &e);
                r->drained = false;
                step_end(&c, "resume", "State=RESUME");
                fail_with(r, "timeout", &e);
                code = 1;
                goto out;
            }
            struct timespec ts = {0, 500000000L};
            nanosleep(&ts, NULL);
        }
        step_end(&c, "wait", "%u job%s on the GPUs that change", waited_for,
                 waited_for == 1 ? "" : "s");
    }

    /* ---- apply */
    {
        apply_report *ar = calloc(1, sizeof *ar);
        if (!ar) {
            mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
            goto restore_slurm;
        }
        x.applied = true;
        apply_execute(b, &x.s, &ao, ar);
        if (ar->result != APPLY_APPLIED && ar->result != APPLY_UNCHANGED) {
            e = ar->error;
            step_end(&c, "apply", "failed (%s): %s", ar->restored ? "previous layout restored"
                                                                   : "not restored",
                     e.msg);
            free(ar);
            goto restore_slurm;
        }
        step_end(&c, "apply", "%u operation%s, verified", ar->n_done, ar->n_done == 1 ? "" : "s");
        free(ar);
    }

    /* ---- gres: the new records; jobs whose indices would move wait */
    {
        mig_gpu_state *after;
        unsigned n;
        if (read_states(b, &after, &n, &e) < 0)
            goto restore_all;
        sg_params p = {o->node, o->dev_dir, o->minors, x.mps, x.prev, o->caps_major};
        int rc = sg_build(after, n, &p, x.next, &e);
        free(after);
        if (rc < 0 || sg_make_devices(x.next, &e) < 0)
            goto restore_all;
        double deadline = now_s() + o->timeout_s;
        unsigned waited_for = 0;
        for (;;) {
            unsigned nb;
            char ids[256];
            if (remapped_jobs(o, x.prev, x.next, &nb, ids, sizeof ids, &e) < 0)
                goto restore_all;
            if (nb == 0)
                break;
            if (!waited_for) {
                waited_for = nb;
                if (!r->drained) {
                    if (sctl_drain(o->node, SR_REASON, &e) < 0)
                        goto restore_all;
                    r->drained = true;
                    step_end(&c, "drain", "jobs %s would be re-indexed by slurmd: State=DRAIN", ids);
                }
            }
            if (now_s() > deadline || (o->cancel && *o->cancel)) {
                mig_fail(&e, MIG_ERR_REFUSED,
                         "jobs %s hold gres indices that the new records would give to other "
                         "slices, still after %u s; previous layout restored",
                         ids, o->timeout_s);
                step_end(&c, "wait", "timeout: jobs %s", ids);
                goto restore_all;
            }
            struct timespec ts = {0, 500000000L};
            nanosleep(&ts, NULL);
        }
        if (waited_for)
            step_end(&c, "wait", "%u job%s whose gres indices move", waited_for,
                     waited_for == 1 ? "" : "s");
    }

    /* ---- nothing changed for Slurm: no file, no restart */
    {
        bool files_same;
        char gres_now[sizeof r->gres_after];
        sg_gres_string(x.next, gres_now, sizeof gres_now);
        if (r->n_ops == 0 && records_equal(x.next, x.prev, &files_same) &&
            !strcmp(gres_now, r->gres_before)) {
            snprintf(r->gres_after, sizeof r->gres_after, "%s", gres_now);
            step_end(&c, "gres", "unchanged: Slurm already has these records");
            goto resume_done;
        }
    }

    /* ---- files, slurmctld, registration (one node at a time) */
    {
        int rc;
        x.lock_fd = cluster_lock(o->slurm_conf, &e);
        if (x.lock_fd < 0)
            goto restore_all;
        sg_gres_string(x.next, r->gres_after, sizeof r->gres_after);
        /* Reread under the lock: another node may have changed the files. */
        free(x.gres_old);
        free(x.slurm_old);
        x.gres_old = x.slurm_old = NULL;
        if (read_text(o->gres_conf, "gres.conf", &x.gres_old, &e) < 0 ||
            read_text(o->slurm_conf, "slurm.conf", &x.slurm_old, &e) < 0)
            goto restore_all;
        char *g2 = sg_replace_block(x.gres_old, x.next, &e);
        char *s2 = g2 ? sg_set_node_gres(x.slurm_old, o->node, r->gres_after, sg_has_mps(x.next),
                                         &e)
                      : NULL;
        if (!s2) {
            free(g2);
            goto restore_all;
        }
        step_end(&c, "gres", "Gres=%s", r->gres_after);
        x.pushed = true;
        rc = push_files(o, g2, s2, &e);
        if (rc < 0) {
            free(g2);
            free(s2);
            step_end(&c, "slurmctld", "failed: %s", e.msg);
            goto restore_all;
        }
        step_end(&c, "slurmctld", "restarted, scontrol reconfigure");
        if (wait_registered(o, r->gres_after, 15, &e) < 0) {
            /* Seen on a loaded machine: slurmctld came back with the node's
             * old Gres. The files are right; one more restart takes them. */
            step_end(&c, "register", "not yet (%s); restarting slurmctld again", e.msg);
            mig_error_clear(&e);
            rc = push_files(o, g2, s2, &e);
            if (rc == 0)
                step_end(&c, "slurmctld", "restarted again, scontrol reconfigure");
            else
                step_end(&c, "slurmctld", "failed: %s", e.msg);
            if (rc == 0 && wait_registered(o, r->gres_after, 30, &e) < 0) {
                step_end(&c, "register", "failed: %s", e.msg);
                rc = -1;
            }
        }
        free(g2);
        free(s2);
        if (rc < 0)
            goto restore_all;
        step_end(&c, "register", "node registered with the new Gres, no INVALID_REG");
        close(x.lock_fd);
        x.lock_fd = -1;
    }
resume_done:
    if (r->drained) {
        if (sctl_resume(o->node, &e) < 0) {
            step_end(&c, "resume", "failed: %s", e.msg);
            fail_with(r, "failed", &e);
            code = 3;
            goto out;
        }
        step_end(&c, "resume", "State=RESUME");
    }
    snprintf(r->result, sizeof r->result, "%s", r->n_ops || strcmp(r->gres_before, r->gres_after)
                                                     ? "reconfigured"
                                                     : "unchanged");
    goto out;

restore_all: {
    /* The apply succeeded but the rest did not: previous layout, then the
     * records of the GPUs as restored (same slots and types as before; the
     * driver may give re-created instances new ids and UUIDs). */
    mig_error e2;
    mig_error_clear(&e2);
    bool ok = true;
    for (unsigned i = 0; i < x.s.plan.n_gpus; i++)
        if (x.s.plan.gpus[i].status == MIG_GPU_CHANGE)
            ok &= apply_restore_gpu(b, &x.before[i], false, o->on_progress, o->progress_ctx, &e2) == 0;
    ok &= refresh_records(b, o, &x, x.pushed, r->gres_before, &e2) == 0;
    step_end(&c, "restore", ok ? "previous layout and gres back" : "restore incomplete: %s",
             e2.msg);
    goto resume_after_failure;
}
restore_slurm:
    if (x.applied) {
        /* apply_execute rolled back by itself: instances it re-created may
         * have new UUIDs, which the records must name. */
        mig_error e2;
        mig_error_clear(&e2);
        if (refresh_records(b, o, &x, false, r->gres_before, &e2) < 0)
            step_end(&c, "restore", "gres records not refreshed: %s", e2.msg);
    }
resume_after_failure:
    if (r->drained) {
        mig_error e3;
        if (sctl_resume(o->node, &e3) == 0) {
            r->drained = false;
            step_end(&c, "resume", "State=RESUME");
        }
    }
    fail_with(r, e.kind == MIG_ERR_REFUSED ? "timeout" : "failed", &e);
    code = mig_error_exit_code(&e) ? mig_error_exit_code(&e) : 3;
    goto out;

failed_early:
    step_end(&c, "plan", "failed: %s", e.msg);
    fail_with(r, "failed", &e);
    code = mig_error_exit_code(&e) ? mig_error_exit_code(&e) : 3;
out:
    r->seconds = now_s() - c.t0;
    res_free(&x);
    return code;
}

json_t *sr_report_json(const sr_report *r)
{
    json_t *o = json_object(), *steps = json_array(), *aff = json_array();
    json_object_set_new(o, "result", json_string(r->result));
    json_object_set_new(o, "drain", json_boolean(r->drain));
    json_object_set_new(o, "drained", json_boolean(r->drained));
    json_object_set_new(o, "operations", json_integer(r->n_ops));
    for (unsigned i = 0; i < r->n_affected; i++)
        json_array_append_new(aff, json_integer(r->affected[i]));
    json_object_set_new(o, "gpus_changed", aff);
    json_object_set_new(o, "gres_before", json_string(r->gres_before));
    json_object_set_new(o, "gres_after", json_string(r->gres_after));
    json_object_set_new(o, "seconds", json_real(r->seconds));
    for (unsigned i = 0; i < r->n_steps; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "step", json_string(r->steps[i].name));
        json_object_set_new(s, "at", json_real(r->steps[i].at));
        json_object_set_new(s, "seconds", json_real(r->steps[i].seconds));
        json_object_set_new(s, "detail", json_string(r->steps[i].detail));
        json_array_append_new(steps, s);
    }
    json_object_set_new(o, "steps", steps);
    json_object_set_new(o, "error", r->error.kind ? json_string(r->error.msg) : json_null());
    return o;
}
