/*
 * prom.c: a snapshot in the Prometheus text exposition format 0.0.4.
 *
 * dcgm-exporter's names and labels where it has a counterpart, so existing
 * dashboards work: per GPU `gpu`, `UUID`, `pci_bus_id`, `device`
 * ("nvidia<N>"), `modelName`, `Hostname`; per GPU instance the same plus
 * `GPU_I_PROFILE` and `GPU_I_ID`. Activity is a ratio 0..1 as dcgm-exporter
 * exports its DCGM_FI_PROF_* fields; framebuffer in MiB. A metric the driver
 * does not report has no series (never a made-up zero). Everything
 * dcgm-exporter has no name for is migctl_* (docs/metrics.md).
 *
 * The ECC and remapped-row counts are typed gauge, not counter: their
 * dcgm-exporter names end in an upper-case _TOTAL (or none), which the
 * text format's counter convention (lower-case _total) does not accept, and
 * the volatile ones drop to zero at a reset, which a counter must not do.
 * dcgm-exporter's own `modelName` label is kept for its dashboards although
 * promtool's linter prefers snake_case (docs/metrics.md).
 *
 * Each family is written whole (HELP, TYPE, then every series), as the
 * format requires, by one pass over the GPUs per family.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = true;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
}

/* A label value with \, " and newline escaped. */
static void esc(char *out, size_t len, const char *in)
{
    size_t o = 0;
    for (; *in && o + 3 < len; in++) {
        if (*in == '\\' || *in == '"') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

static void family(sbuf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The GPU's labels, without braces. */
static void gpu_labels(const metrics_node *n, const metrics_gpu *mg, char *out, size_t len)
{
    const mig_gpu_state *g = &mg->st;
    char host[512], model[256], uuid[256], bus[96];
    esc(host, sizeof host, n->hostname);
    esc(model, sizeof model, g->name);
    esc(uuid, sizeof uuid, g->uuid);
    esc(bus, sizeof bus, g->bus_id);
    snprintf(out, len,
             "gpu=\"%u\",UUID=\"%s\",pci_bus_id=\"%s\",device=\"nvidia%u\",modelName=\"%s\","
             "Hostname=\"%s\"",
             g->index, uuid, bus, g->index, model, host);
}

static void gi_labels(const metrics_node *n, const metrics_gpu *mg, const mig_gi_state *gi,
                      char *out, size_t len)
{
    char base[1200];
    gpu_labels(n, mg, base, sizeof base);
    snprintf(out, len, "%s,GPU_I_PROFILE=\"%s\",GPU_I_ID=\"%u\"", base,
             metrics_gi_profile_name(&mg->st, gi), gi->id);
}

static const struct {
    mig_metric_id id;
    const char *name, *help;
} prof[] = {
    {MIG_M_GR_ACTIVE, "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
     "Ratio of time the graphics engine is active (GPM graphics utilization)."},
    {MIG_M_SM_ACTIVE, "DCGM_FI_PROF_SM_ACTIVE",
     "Ratio of cycles an SM has at least one warp assigned (GPM SM utilization)."},
    {MIG_M_SM_OCCUPANCY, "DCGM_FI_PROF_SM_OCCUPANCY",
     "Ratio of warps resident on SMs to the maximum (GPM SM occupancy)."},
    {MIG_M_TENSOR, "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
     "Ratio of cycles any tensor pipe is active (GPM any-tensor utilization)."},
    {MIG_M_DRAM, "DCGM_FI_PROF_DRAM_ACTIVE",
     "Ratio of DRAM bandwidth used; for a GPU instance, of its own share (GPM DRAM BW)."},
};

static void prof_families(sbuf *b, const metrics_node *n)
{
    char l[1600];
    for (size_t f = 0; f < sizeof prof / sizeof prof[0]; f++) {
        family(b, prof[f].name, "gauge", prof[f].help);
        for (unsigned i = 0; i < n->n; i++) {
            const metrics_gpu *mg = &n->gpus[i];
            if (!mg->sampled)
                continue;
            const mig_metric *m = &mg->smp.m[prof[f].id];
            /* With MIG on, dcgm-exporter reports per instance; the GPU
             * figure is migctl_gpu_* below. */
            if (!mg->st.mig_current && m->st == MIG_MET_OK) {
                gpu_labels(n, mg, l, sizeof l);
                put(b, "%s{%s} %.10g\n", prof[f].name, l, m->v);
            }
            for (unsigned k = 0; k < mg->st.n_gi; k++) {
                const mig_gi_sample *gs = mig_sample_gi(&mg->smp, mg->st.gi[k].id);
                if (!gs || gs->m[prof[f].id].st != MIG_MET_OK)
                    continue;
                gi_labels(n, mg, &mg->st.gi[k], l, sizeof l);
                put(b, "%s{%s} %.10g\n", prof[f].name, l, gs->m[prof[f].id].v);
            }
        }
    }
}

static void fb_family(sbuf *b, const metrics_node *n, const char *name, const char *help,
                      int which /* 0 used, 1 free, 2 total */)
{
    char l[1600];
    family(b, name, "gauge", help);
    for (unsigned i = 0; i < n->n; i++) {
        const metrics_gpu *mg = &n->gpus[i];
        if (!mg->sampled)
            continue;
        const mig_gpu_sample *s = &mg->smp;
        if (!mg->st.mig_current && s->mem_known) {
            unsigned long long v = which == 0   ? s->mem_used
                                   : which == 1 ? (s->mem_total > s->mem_used
                                                       ? s->mem_total - s->mem_used
                                                       : 0)
                                                : s->mem_total;
            gpu_labels(n, mg, l, sizeof l);
            put(b, "%s{%s} %llu\n", name, l, v >> 20);
        }
        for (unsigned k = 0; k < mg->st.n_gi; k++) {
            const mig_gi_sample *gs = mig_sample_gi(s, mg->st.gi[k].id);
            if (!gs || !gs->mem_known)
                continue;
            unsigned long long v = which == 0   ? gs->mem_used
                                   : which == 1 ? (gs->mem_total > gs->mem_used
                                                       ? gs->mem_total - gs->mem_used
                                                       : 0)
                                                : gs->mem_total;
            gi_labels(n, mg, &mg->st.gi[k], l, sizeof l);
            put(b, "%s{%s} %llu\n", name, l, v >> 20);
        }
    }
}

/* A per-GPU family from a getter; skip when *ok is false. */
typedef double (*gpu_get)(const metrics_gpu *mg, bool *ok);

static void gpu_family(sbuf *b, const metrics_node *n, const char *name, const char *type,
                       const char *help, gpu_get get)
{
    char l[1600];
    family(b, name, type, help);
    for (unsigned i = 0; i < n->n; i++) {
        bool ok = true;
        double v = get(&n->gpus[i], &ok);
        if (!ok)
            continue;
        gpu_labels(n, &n->gpus[i], l, sizeof l);
        put(b, "%s{%s} %.10g\n", name, l, v);
    }
}

#define H(mg) (&(mg)->smp.health)
static double g_xid(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->xid_known;
    return H(mg)->xid_last;
}
static double g_xid_n(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->xid_known;
    return H(mg)->xid_count;
}
static double g_sbe_vol(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->ecc_known;
    return (double)H(mg)->ecc_sbe_volatile;
}
static double g_dbe_vol(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->ecc_known;
    return (double)H(mg)->ecc_dbe_volatile;
}
static double g_sbe_agg(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->ecc_known;
    return (double)H(mg)->ecc_sbe_aggregate;
}
static double g_dbe_agg(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->ecc_known;
    return (double)H(mg)->ecc_dbe_aggregate;
}
static double g_remap_c(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->remap_known;
    return H(mg)->remap_correctable;
}
static double g_remap_u(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->remap_known;
    return H(mg)->remap_uncorrectable;
}
static double g_remap_p(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->remap_known;
    return H(mg)->remap_pending;
}
static double g_remap_f(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && H(mg)->remap_known;
    return H(mg)->remap_failure;
}
static double g_healthy(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled;
    return !mg->unhealthy;
}
static double g_mig(const metrics_gpu *mg, bool *ok)
{
    *ok = true;
    return mg->st.mig_current;
}
static double g_scomp(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->st.mig_current && mg->st.model;
    return mg->stranded_compute;
}
static double g_smem(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->st.mig_current && mg->st.model;
    return mg->stranded_memory;
}
static double g_fcomp(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->st.mig_current && mg->st.model;
    return mg->free_compute;
}
static double g_fmem(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->st.mig_current && mg->st.model;
    return mg->free_memory;
}
static double g_drift(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->drift >= 0;
    return mg->drift;
}
static double g_sm(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && mg->smp.m[MIG_M_SM_ACTIVE].st == MIG_MET_OK;
    return mg->smp.m[MIG_M_SM_ACTIVE].v;
}
static double g_dram(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && mg->smp.m[MIG_M_DRAM].st == MIG_MET_OK;
    return mg->smp.m[MIG_M_DRAM].v;
}
static double g_memused(const metrics_gpu *mg, bool *ok)
{
    *ok = mg->sampled && mg->smp.mem_known;
    return (double)mg->smp.mem_used;
}

static void instance_families(sbuf *b, const metrics_node *n)
{
    char l[1600], u[256];
    family(b, "migctl_instance_info", "gauge",
           "One series per MIG device (compute instance): its GPU instance, placement in "
           "memory slices, compute instance and MIG device UUID.");
    for (unsigned i = 0; i < n->n; i++) {
        const metrics_gpu *mg = &n->gpus[i];
        const mig_gpu_state *g = &mg->st;
        for (unsigned k = 0; k < g->n_gi; k++) {
            const mig_gi_state *gi = &g->gi[k];
            gi_labels(n, mg, gi, l, sizeof l);
            for (unsigned c = 0; c < gi->n_ci; c++) {
                char name[64] = "?";
                if (g->model)
                    ci_state_name(g->model, gi, &gi->ci[c], name, sizeof name);
                esc(u, sizeof u, gi->ci[c].uuid);
                put(b,
                    "migctl_instance_info{%s,placement_start=\"%u\",placement_size=\"%u\","
                    "GPU_CI_ID=\"%u\",ci_profile=\"%s\",mig_uuid=\"%s\"} 1\n",
                    l, gi->start, gi->size, gi->ci[c].id, name, u);
            }
        }
    }
    family(b, "migctl_instance_busy", "gauge",
           "1 when processes run on the GPU instance (or the driver cannot list them).");
    for (unsigned i = 0; i < n->n; i++)
        for (unsigned k = 0; k < n->gpus[i].st.n_gi; k++) {
            gi_labels(n, &n->gpus[i], &n->gpus[i].st.gi[k], l, sizeof l);
            put(b, "migctl_instance_busy{%s} %d\n", l, gi_state_busy(&n->gpus[i].st.gi[k]));
        }
    family(b, "migctl_instance_bandwidth_share", "gauge",
           "The GPU instance's share of the card's DRAM bandwidth (its memory slices).");
    for (unsigned i = 0; i < n->n; i++)
        for (unsigned k = 0; k < n->gpus[i].st.n_gi; k++) {
            gi_labels(n, &n->gpus[i], &n->gpus[i].st.gi[k], l, sizeof l);
            put(b, "migctl_instance_bandwidth_share{%s} %.6g\n", l,
                metrics_gi_bw_share(&n->gpus[i].st, &n->gpus[i].st.gi[k]));
        }
    family(b, "migctl_instance_fault_domain_unhealthy", "gauge",
           "1 when the GPU holding this instance is unhealthy (Xid, uncorrectable ECC, row "
           "remapping): every instance on it shares the fault.");
    for (unsigned i = 0; i < n->n; i++)
        for (unsigned k = 0; k < n->gpus[i].st.n_gi && n->gpus[i].sampled; k++) {
            gi_labels(n, &n->gpus[i], &n->gpus[i].st.gi[k], l, sizeof l);
            put(b, "migctl_instance_fault_domain_unhealthy{%s} %d\n", l, n->gpus[i].unhealthy);
        }
    family(b, "migctl_process_memory_bytes", "gauge",
           "Memory of each process on the GPU, with the instance it runs on.");
    for (unsigned i = 0; i < n->n; i++) {
        const metrics_gpu *mg = &n->gpus[i];
        if (!mg->sampled || !mg->smp.procs_known)
            continue;
        gpu_labels(n, mg, l, sizeof l);
        for (unsigned p = 0; p < mg->smp.n_procs; p++) {
            const mig_proc_sample *ps = &mg->smp.procs[p];
            if (!ps->mem_known)
                continue;
            const mig_gi_state *gi = NULL;
            for (unsigned k = 0; ps->gi_id >= 0 && k < mg->st.n_gi; k++)
                if ((int)mg->st.gi[k].id == ps->gi_id)
                    gi = &mg->st.gi[k];
            if (gi)
                put(b,
                    "migctl_process_memory_bytes{%s,GPU_I_PROFILE=\"%s\",GPU_I_ID=\"%d\","
                    "GPU_CI_ID=\"%d\",pid=\"%u\"} %llu\n",
                    l, metrics_gi_profile_name(&mg->st, gi), ps->gi_id, ps->ci_id, ps->pid,
                    ps->mem_bytes);
            else
                put(b, "migctl_process_memory_bytes{%s,pid=\"%u\"} %llu\n", l, ps->pid,
                    ps->mem_bytes);
        }
    }
    family(b, "migctl_process_fault_domain_unhealthy", "gauge",
           "1 for every process on an unhealthy GPU (it shares the GPU's fault domain).");
    for (unsigned i = 0; i < n->n; i++) {
        const metrics_gpu *mg = &n->gpus[i];
        if (!mg->sampled || !mg->smp.procs_known)
            continue;
        gpu_labels(n, mg, l, sizeof l);
        for (unsigned p = 0; p < mg->smp.n_procs; p++) {
            const mig_proc_sample *ps = &mg->smp.procs[p];
            if (ps->gi_id >= 0)
                put(b,
                    "migctl_process_fault_domain_unhealthy{%s,GPU_I_ID=\"%d\",GPU_CI_ID=\"%d\","
                    "pid=\"%u\"} %d\n",
                    l, ps->gi_id, ps->ci_id, ps->pid, mg->unhealthy);
            else
                put(b, "migctl_process_fault_domain_unhealthy{%s,pid=\"%u\"} %d\n", l, ps->pid,
                    mg->unhealthy);
        }
    }
    family(b, "migctl_gpu_free_capacity", "gauge",
           "How many more GPU instances of each profile can be created on the GPU now.");
    for (unsigned i = 0; i < n->n; i++) {
        const metrics_gpu *mg = &n->gpus[i];
        gpu_labels(n, mg, l, sizeof l);
        for (unsigned f = 0; f < mg->n_free; f++)
            put(b, "migctl_gpu_free_capacity{%s,profile=\"%s\"} %u\n", l, mg->free[f].profile,
                mg->free[f].count);
    }
}

char *metrics_prometheus(const metrics_node *n, size_t *len)
{
    sbuf b = {0};
    prof_families(&b, n);
    fb_family(&b, n, "DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", 0);
    fb_family(&b, n, "DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", 1);
    fb_family(&b, n, "DCGM_FI_DEV_FB_TOTAL", "Framebuffer memory total (in MiB).", 2);
    gpu_family(&b, n, "DCGM_FI_DEV_XID_ERRORS", "gauge",
               "Value of the last XID error encountered (0: none since the exporter started).",
               g_xid);
    gpu_family(&b, n, "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "gauge",
               "Total number of single-bit volatile ECC errors.", g_sbe_vol);
    gpu_family(&b, n, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "gauge",
               "Total number of double-bit volatile ECC errors.", g_dbe_vol);
    gpu_family(&b, n, "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", "gauge",
               "Total number of single-bit persistent ECC errors.", g_sbe_agg);
    gpu_family(&b, n, "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", "gauge",
               "Total number of double-bit persistent ECC errors.", g_dbe_agg);
    gpu_family(&b, n, "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "gauge",
               "Number of remapped rows for correctable errors.", g_remap_c);
    gpu_family(&b, n, "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "gauge",
               "Number of remapped rows for uncorrectable errors.", g_remap_u);
    gpu_family(&b, n, "DCGM_FI_DEV_ROW_REMAP_PENDING", "gauge",
               "Whether remapping of rows is pending (a reset is needed).", g_remap_p);
    gpu_family(&b, n, "DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge",
               "Whether remapping of rows has failed.", g_remap_f);
    gpu_family(&b, n, "migctl_gpu_xid_events", "gauge",
               "Critical Xid events seen since the exporter started.", g_xid_n);
    gpu_family(&b, n, "migctl_gpu_healthy", "gauge",
               "0 when the GPU had a critical Xid, an uncorrectable ECC error or a row "
               "remapping failure or pending remap.",
               g_healthy);
    gpu_family(&b, n, "migctl_gpu_mig_enabled", "gauge", "1 when MIG mode is on.", g_mig);
    gpu_family(&b, n, "migctl_gpu_sm_active", "gauge",
               "SM activity of the whole GPU (ratio; with MIG on, of all its SMs).", g_sm);
    gpu_family(&b, n, "migctl_gpu_dram_active", "gauge",
               "DRAM bandwidth used on the whole GPU (ratio of the card's).", g_dram);
    gpu_family(&b, n, "migctl_gpu_memory_used_bytes", "gauge", "Memory used on the whole GPU.",
               g_memused);
    gpu_family(&b, n, "migctl_gpu_free_compute_slices", "gauge",
               "Compute slices no GPU instance holds.", g_fcomp);
    gpu_family(&b, n, "migctl_gpu_free_memory_slices", "gauge",
               "Memory slices no GPU instance holds.", g_fmem);
    gpu_family(&b, n, "migctl_gpu_stranded_compute_slices", "gauge",
               "Free compute slices no profile can use (no memory left to pair them with).",
               g_scomp);
    gpu_family(&b, n, "migctl_gpu_stranded_memory_slices", "gauge",
               "Free memory slices no placement of a creatable profile covers.", g_smem);
    gpu_family(&b, n, "migctl_gpu_drift", "gauge",
               "1 when the GPU differs from the desired config (--desired), 0 when it matches.",
               g_drift);
    instance_families(&b, n);
    if (b.oom) {
        free(b.buf);
        return NULL;
    }
    if (!b.buf) {
        b.buf = calloc(1, 1);
        if (!b.buf)
            return NULL;
    }
    if (len)
        *len = b.len;
    return b.buf;
}
