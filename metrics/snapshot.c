/*
 * snapshot.c: metrics_collect (metrics/metrics.h): one pass over the node
 * through the backend: state, telemetry sample, free capacity, stranded
 * slices, health and drift of every GPU, plus the JSON form of it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply/reconcile.h"
#include "metrics/metrics.h"

static double now_real(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double now_mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_gi(const void *a, const void *b)
{
    const mig_gi_state *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int cmp_ci(const void *a, const void *b)
{
    const mig_ci_state *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

const char *metrics_gi_profile_name(const mig_gpu_state *g, const mig_gi_state *gi)
{
    const mig_gi_profile *p = g->model ? mig_profile_by_id(g->model, gi->profile_id) : NULL;
    return p ? p->name : "?";
}

double metrics_gi_bw_share(const mig_gpu_state *g, const mig_gi_state *gi)
{
    const mig_gi_profile *p = g->model ? mig_profile_by_id(g->model, gi->profile_id) : NULL;
    return p && g->model->memory_slices ? (double)p->memory_slices / g->model->memory_slices : 0;
}

/* Free capacity per profile and the stranded slices (metrics.h). */
static int capacity(mig_backend *b, unsigned idx, metrics_gpu *mg, mig_error *e)
{
    const mig_gpu_state *g = &mg->st;
    const mig_model *m = g->model;
    if (!m || !g->mig_current)
        return 0;
    unsigned used_compute = 0, used_mem = 0;
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_profile *p = mig_profile_by_id(m, g->gi[i].profile_id);
        if (p)
            used_compute += p->compute_slices;
        for (unsigned k = 0; k < g->gi[i].size && g->gi[i].start + k < 32; k++)
            used_mem |= 1u << (g->gi[i].start + k);
    }
    mg->free_compute = used_compute < m->compute_slices ? m->compute_slices - used_compute : 0;
    unsigned all_mem = (1u << m->memory_slices) - 1;
    mg->free_memory = (unsigned)__builtin_popcount(all_mem & ~used_mem);
    unsigned usable = 0;
    bool any = false;
    for (unsigned i = 0; i < m->n_profiles; i++) {
        const mig_gi_profile *p = &m->profiles[i];
        unsigned count = 0;
        if (b->ops->remaining_capacity(b, idx, p->id, &count, e) < 0) {
            mig_error_prefix(e, "GPU %u: %s", idx, p->name);
            return -1;
        }
        metrics_free *f = &mg->free[mg->n_free++];
        snprintf(f->profile, sizeof f->profile, "%s", p->name);
        f->profile_id = p->id;
        f->count = count;
        if (!count)
            continue;
        any = true;
        for (unsigned s = 0; s < p->n_starts; s++) {
            unsigned span = ((1u << p->memory_slices) - 1) << p->starts[s];
            if (!(span & used_mem))
                usable |= span;
        }
    }
    mg->stranded_memory = (unsigned)__builtin_popcount(all_mem & ~used_mem & ~usable);
    mg->stranded_compute = any ? 0 : mg->free_compute;
    return 0;
}

static int drift(const metrics_options *o, metrics_gpu *mg, mig_error *e)
{
    mg->drift = -1;
    if (!o->desired)
        return 0;
    mig_desired_gpu d;
    if (desired_from_config(o->desired, &mg->st, &d, e) < 0)
        return -1;
    if (!d.selected)
        return 0; /* the config says nothing about this GPU: no drift figure */
    mg->drift = desired_satisfied(&mg->st, &d, false, mg->drift_text, sizeof mg->drift_text)
                    ? 0
                    : 1;
    if (mg->drift == 0)
        mg->drift_text[0] = '\0';
    return 0;
}

int metrics_collect(mig_backend *b, const metrics_options *o, metrics_node *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    double t0 = now_mono();
    out->taken_at = now_real();
    snprintf(out->backend, sizeof out->backend, "%s", b->ops->name);
    if (gethostname(out->hostname, sizeof out->hostname - 1) < 0)
        snprintf(out->hostname, sizeof out->hostname, "localhost");
    unsigned count;
    if (b->ops->gpu_count(b, &count, e) < 0)
        return -1;
    if (o && o->one && o->only >= count)
        return mig_fail(e, MIG_ERR_INPUT, "GPU index %u out of range (%u GPU%s: 0-%u)", o->only,
                        count, count == 1 ? "" : "s", count ? count - 1 : 0);
    unsigned first = o && o->one ? o->only : 0, last = o && o->one ? o->only + 1 : count;
    out->gpus = calloc(last - first + 1, sizeof *out->gpus);
    if (!out->gpus)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = first; i < last; i++) {
        metrics_gpu *mg = &out->gpus[out->n++];
        if (b->ops->gpu_state(b, i, &mg->st, e) < 0) {
            mig_error_prefix(e, "GPU %u", i);
            return -1;
        }
        mig_gpu_state *g = &mg->st;
        qsort(g->gi, g->n_gi, sizeof g->gi[0], cmp_gi);
        for (unsigned k = 0; k < g->n_gi; k++)
            qsort(g->gi[k].ci, g->gi[k].n_ci, sizeof g->gi[k].ci[0], cmp_ci);
        if (b->ops->sample) {
            if (b->ops->sample(b, i, &mg->smp, e) < 0) {
                mig_error_prefix(e, "GPU %u", i);
                return -1;
            }
            mg->sampled = true;
            mg->unhealthy = mig_health_bad(&mg->smp.health, mg->health_why, sizeof mg->health_why);
        }
        if (capacity(b, i, mg, e) < 0 || drift(o ? o : &(metrics_options){0}, mg, e) < 0)
            return -1;
    }
    out->duration = now_mono() - t0;
    return 0;
}

static bool any_pending(const metrics_node *n)
{
    for (unsigned i = 0; i < n->n; i++) {
        const mig_gpu_sample *s = &n->gpus[i].smp;
        for (int m = 0; m < MIG_M_COUNT; m++) {
            if (s->m[m].st == MIG_MET_PENDING)
                return true;
            for (unsigned k = 0; k < s->n_gi; k++)
                if (s->gi[k].m[m].st == MIG_MET_PENDING)
                    return true;
        }
    }
    return false;
}

int metrics_collect_settled(mig_backend *b, const metrics_options *o, double settle,
                            metrics_node *out, mig_error *e)
{
    if (metrics_collect(b, o, out, e) < 0)
        return -1;
    if (!any_pending(out))
        return 0;
    metrics_node_free(out);
    if (settle < 0.1)
        settle = 0.1;
    struct timespec ts = {(time_t)settle, (long)((settle - floor(settle)) * 1e9)};
    nanosleep(&ts, NULL);
    return metrics_collect(b, o, out, e);
}

void metrics_node_free(metrics_node *n)
{
    free(n->gpus);
    n->gpus = NULL;
    n->n = 0;
}

void metrics_fault_domain_text(const metrics_gpu *mg, char *buf, size_t len)
{
    size_t used = 0;
#define PUT(...)                                                                    \
    do {                                                                            \
        if (used < len) {                                                           \
            int n_ = snprintf(buf + used, len - used, __VA_ARGS__);                 \
            used += n_ > 0 ? (size_t)n_ : 0;                                        \
        }                                                                           \
    } while (0)
    const mig_gpu_state *g = &mg->st;
    PUT("%s; fault domain: ", mg->health_why);
    if (!g->n_gi)
        PUT("the whole GPU %s", g->uuid);
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        PUT("%sGPU instance %u (%s", i ? ", " : "", gi->id, metrics_gi_profile_name(g, gi));
        for (unsigned k = 0; k < gi->n_ci; k++)
            PUT(" %s", gi->ci[k].uuid);
        PUT(")");
    }
    if (mg->sampled && mg->smp.n_procs) {
        PUT("; processes");
        for (unsigned i = 0; i < mg->smp.n_procs; i++)
            PUT(" %u", mg->smp.procs[i].pid);
    }
#undef PUT
    if (len && used >= len)
        buf[len - 1] = '\0';
}

/* ------------------------------------------------------------ JSON */

static json_t *metric_json(const mig_metric *m)
{
    if (m->st == MIG_MET_OK)
        return json_real(round(m->v * 1e6) / 1e6);
    return json_string(m->st == MIG_MET_PENDING ? "pending" : "unsupported");
}

static json_t *metrics_obj(const mig_metric m[MIG_M_COUNT])
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o}", "gr_active", metric_json(&m[MIG_M_GR_ACTIVE]),
                     "sm_active", metric_json(&m[MIG_M_SM_ACTIVE]), "sm_occupancy",
                     metric_json(&m[MIG_M_SM_OCCUPANCY]), "tensor_active",
                     metric_json(&m[MIG_M_TENSOR]), "dram_active", metric_json(&m[MIG_M_DRAM]));
}

static json_t *mem_obj(bool known, unsigned long long total, unsigned long long used)
{
    if (!known)
        return json_string("unsupported");
    return json_pack("{s:I,s:I}", "total_mib", (json_int_t)(total >> 20), "used_mib",
                     (json_int_t)(used >> 20));
}

static json_t *procs_json(const mig_gpu_sample *s, int gi_id, int ci_id, bool any)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < s->n_procs; i++) {
        const mig_proc_sample *p = &s->procs[i];
        if (!any && (p->gi_id != gi_id || p->ci_id != ci_id))
            continue;
        json_t *o = json_pack("{s:i}", "pid", (int)p->pid);
        if (any && p->gi_id >= 0) {
            json_object_set_new(o, "gpu_instance", json_integer(p->gi_id));
            json_object_set_new(o, "compute_instance", json_integer(p->ci_id));
        }
        json_object_set_new(o, "memory_mib",
                            p->mem_known ? json_integer((json_int_t)(p->mem_bytes >> 20))
                                         : json_string("unsupported"));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *health_json(const metrics_gpu *mg)
{
    const mig_health_sample *h = &mg->smp.health;
    json_t *j = json_pack("{s:b,s:s}", "healthy", !mg->unhealthy, "why", mg->health_why);
    json_object_set_new(j, "ecc", h->ecc_known
                                      ? json_pack("{s:I,s:I,s:I,s:I}", "sbe_volatile",
                                                  (json_int_t)h->ecc_sbe_volatile, "dbe_volatile",
                                                  (json_int_t)h->ecc_dbe_volatile,
                                                  "sbe_aggregate",
                                                  (json_int_t)h->ecc_sbe_aggregate,
                                                  "dbe_aggregate",
                                                  (json_int_t)h->ecc_dbe_aggregate)
                                      : json_string("unsupported"));
    json_object_set_new(j, "remapped_rows",
                        h->remap_known
                            ? json_pack("{s:i,s:i,s:b,s:b}", "correctable",
                                        (int)h->remap_correctable, "uncorrectable",
                                        (int)h->remap_uncorrectable, "pending", h->remap_pending,
                                        "failure", h->remap_failure)
                            : json_string("unsupported"));
    json_object_set_new(j, "xid", h->xid_known ? json_pack("{s:i,s:i}", "events",
                                                           (int)h->xid_count, "last",
                                                           (int)h->xid_last)
                                               : json_string("unsupported"));
    return j;
}

static json_t *gpu_json(const metrics_gpu *mg)
{
    const mig_gpu_state *g = &mg->st;
    const mig_gpu_sample *s = &mg->smp;
    json_t *j = json_pack("{s:i,s:s,s:s,s:o,s:s,s:b}", "index", (int)g->index, "uuid", g->uuid,
                          "name", g->name, "model",
                          g->model ? json_string(g->model->name) : json_null(), "bus_id",
                          g->bus_id, "mig", g->mig_current);
    if (!mg->sampled) {
        json_object_set_new(j, "telemetry", json_string("unsupported"));
    } else {
        json_object_set_new(j, "memory", mem_obj(s->mem_known, s->mem_total, s->mem_used));
        json_object_set_new(j, "metrics", metrics_obj(s->m));
        json_object_set_new(j, "health", health_json(mg));
        json_object_set_new(j, "processes", s->procs_known ? procs_json(s, -1, -1, true)
                                                           : json_string("unsupported"));
    }
    if (mg->unhealthy) {
        char fd[2048];
        metrics_fault_domain_text(mg, fd, sizeof fd);
        json_object_set_new(json_object_get(j, "health"), "fault_domain", json_string(fd));
    }
    if (g->mig_current) {
        json_t *fr = json_object();
        for (unsigned i = 0; i < mg->n_free; i++)
            json_object_set_new(fr, mg->free[i].profile, json_integer(mg->free[i].count));
        json_object_set_new(j, "free_capacity", fr);
        json_object_set_new(j, "slices",
                            json_pack("{s:i,s:i,s:i,s:i}", "free_compute",
                                      (int)mg->free_compute, "free_memory", (int)mg->free_memory,
                                      "stranded_compute", (int)mg->stranded_compute,
                                      "stranded_memory", (int)mg->stranded_memory));
    }
    if (mg->drift >= 0)
        json_object_set_new(j, "drift", json_pack("{s:b,s:s}", "drifted", mg->drift == 1,
                                                  "difference", mg->drift_text));
    json_t *gis = json_array();
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        const mig_gi_sample *gs = mg->sampled ? mig_sample_gi(s, gi->id) : NULL;
        json_t *cis = json_array();
        for (unsigned k = 0; k < gi->n_ci; k++) {
            const mig_ci_state *ci = &gi->ci[k];
            char name[64] = "?";
            if (g->model)
                ci_state_name(g->model, gi, ci, name, sizeof name);
            json_t *c = json_pack("{s:i,s:s,s:s,s:b}", "id", (int)ci->id, "profile", name,
                                  "uuid", ci->uuid, "busy", ci_state_busy(ci));
            json_object_set_new(c, "processes",
                                mg->sampled && s->procs_known
                                    ? procs_json(s, (int)gi->id, (int)ci->id, false)
                                    : json_string("unsupported"));
            json_array_append_new(cis, c);
        }
        json_t *o = json_pack("{s:i,s:s,s:i,s:{s:i,s:i},s:f,s:b}", "id", (int)gi->id, "profile",
                              metrics_gi_profile_name(g, gi), "profile_id", (int)gi->profile_id,
                              "placement", "start", (int)gi->start, "size", (int)gi->size,
                              "bandwidth_share", metrics_gi_bw_share(g, gi), "busy",
                              gi_state_busy(gi));
        if (gs) {
            json_object_set_new(o, "memory", mem_obj(gs->mem_known, gs->mem_total, gs->mem_used));
            json_object_set_new(o, "metrics", metrics_obj(gs->m));
        } else {
            json_object_set_new(o, "metrics", json_string("unsupported"));
        }
        json_object_set_new(o, "compute_instances", cis);
        json_array_append_new(gis, o);
    }
    json_object_set_new(j, "gpu_instances", gis);
    return j;
}

json_t *metrics_node_json(const metrics_node *n)
{
    json_t *gpus = json_array();
    for (unsigned i = 0; i < n->n; i++)
        json_array_append_new(gpus, gpu_json(&n->gpus[i]));
    return json_pack("{s:s,s:s,s:f,s:o}", "backend", n->backend, "hostname", n->hostname,
                     "timestamp", n->taken_at, "gpus", gpus);
}
