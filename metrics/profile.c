/*
 * profile.c: metrics/profile.h: accumulate samples, predict per profile,
 * recommend, and write the planner workload.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/profile.h"

void profile_begin(profile_acc *a, const mig_gpu_sample *baseline)
{
    memset(a, 0, sizeof *a);
    if (baseline && baseline->mem_known) {
        a->mem_base = baseline->mem_used;
        a->mem_peak = baseline->mem_used;
    }
}

void profile_add(profile_acc *a, const mig_gpu_sample *s)
{
    a->n_samples++;
    if (s->mem_known) {
        a->mem_seen = true;
        if (s->mem_used > a->mem_peak)
            a->mem_peak = s->mem_used;
    }
    const mig_metric *sm = &s->m[MIG_M_SM_ACTIVE], *dr = &s->m[MIG_M_DRAM];
    a->sm_seen |= sm->st == MIG_MET_OK;
    a->dram_seen |= dr->st == MIG_MET_OK;
    if (sm->st != MIG_MET_OK || dr->st != MIG_MET_OK)
        return;
    if (sm->v < PROFILE_ACTIVE_MIN && dr->v < PROFILE_ACTIVE_MIN)
        return;
    a->n_active++;
    a->sm_sum += sm->v;
    a->dram_sum += dr->v;
    if (s->m[MIG_M_SM_OCCUPANCY].st == MIG_MET_OK)
        a->occ_sum += s->m[MIG_M_SM_OCCUPANCY].v;
    if (s->m[MIG_M_TENSOR].st == MIG_MET_OK)
        a->tensor_sum += s->m[MIG_M_TENSOR].v;
    a->sm_peak = fmax(a->sm_peak, sm->v);
    a->dram_peak = fmax(a->dram_peak, dr->v);
}

static int by_size(const void *x, const void *y)
{
    const profile_pred *a = x, *b = y;
    if (a->compute_slices != b->compute_slices)
        return a->compute_slices < b->compute_slices ? -1 : 1;
    return (a->memory_mib > b->memory_mib) - (a->memory_mib < b->memory_mib);
}

int profile_predict(const mig_model *m, const profile_acc *a, double target, profile_result *r,
                    mig_error *e)
{
    memset(r, 0, sizeof *r);
    r->target = target;
    r->n_samples = a->n_samples;
    r->n_active = a->n_active;
    if (!a->sm_seen || !a->dram_seen)
        return mig_fail(e, MIG_ERR_INPUT,
                        "the GPU does not report %s (GPM metrics need Hopper or later): no "
                        "prediction without them",
                        !a->sm_seen ? "SM activity" : "DRAM bandwidth");
    if (!a->n_active)
        return mig_fail(e, MIG_ERR_INPUT,
                        "the GPU showed no activity in %u samples while the command ran (did it "
                        "run on that GPU? too short for the interval?)",
                        a->n_samples);
    r->sm = a->sm_sum / a->n_active;
    r->dram = a->dram_sum / a->n_active;
    r->occupancy = a->occ_sum / a->n_active;
    r->tensor = a->tensor_sum / a->n_active;
    unsigned long long bytes = a->mem_peak > a->mem_base ? a->mem_peak - a->mem_base : 0;
    r->peak_mem_mib = (bytes + (1ull << 20) - 1) >> 20;
    for (unsigned i = 0; i < m->n_profiles && r->n < MIG_MAX_PROFILES; i++) {
        const mig_gi_profile *p = &m->profiles[i];
        if (p->attr != MIG_ATTR_NONE)
            continue; /* +me/-me/+gfx variants: same compute and bandwidth as the plain one */
        profile_pred *x = &r->pred[r->n++];
        snprintf(x->profile, sizeof x->profile, "%s", p->name);
        x->compute_slices = p->compute_slices;
        x->memory_slices = p->memory_slices;
        x->memory_mib = p->memory_mib;
        x->sm_share = m->sm_count ? (double)p->sm_count / m->sm_count : 0;
        x->bw_share = m->memory_slices ? (double)p->memory_slices / m->memory_slices : 0;
        x->fits_memory = r->peak_mem_mib <= p->memory_mib;
        double by_sm = r->sm > 0 ? x->sm_share / r->sm : INFINITY;
        double by_bw = r->dram > 0 ? x->bw_share / r->dram : INFINITY;
        x->predicted = fmin(1.0, fmin(by_sm, by_bw));
        x->bound = x->predicted >= 1.0 ? "none" : by_bw < by_sm ? "bandwidth" : "compute";
        if (!x->fits_memory) {
            x->predicted = 0;
            x->bound = "memory";
        }
    }
    qsort(r->pred, r->n, sizeof r->pred[0], by_size);
    r->recommended = -1;
    for (unsigned i = 0; i < r->n; i++)
        if (r->pred[i].fits_memory && r->pred[i].predicted + 1e-9 >= target) {
            r->recommended = (int)i;
            break;
        }
    /* The full-card slice is the whole GPU as one instance: nothing shared,
     * so a workload that needs it is better off with MIG off. */
    bool full = r->recommended >= 0 && r->pred[r->recommended].compute_slices >= m->compute_slices;
    const char *full_name = full ? r->pred[r->recommended].profile : "";
    if (full)
        r->recommended = -1;
    /* Which resource binds harder, as a fraction of the card it needs:
     * bandwidth share grows by memory slices, compute by SMs. */
    r->bandwidth_bound = r->dram > r->sm;
    if (r->recommended >= 0) {
        const profile_pred *x = &r->pred[r->recommended];
        snprintf(r->verdict, sizeof r->verdict,
                 "%s: predicted %.0f%% of its whole-GPU throughput (target %.0f%%); the workload "
                 "is %s-bound (SM %.0f%%, DRAM bandwidth %.0f%% of the card, peak memory %llu "
                 "MiB)",
                 x->profile, x->predicted * 100, target * 100,
                 r->bandwidth_bound ? "bandwidth" : "compute", r->sm * 100, r->dram * 100,
                 r->peak_mem_mib);
    } else if (full) {
        snprintf(r->verdict, sizeof r->verdict,
                 "MIG is the wrong answer: only %s, the whole card as one slice, keeps %.0f%% of "
                 "its throughput; it needs %.0f%% of the card's %s, more than any smaller slice "
                 "has, so partitioning this GPU buys nothing; run it on the whole GPU (MIG off)",
                 full_name, target * 100, (r->bandwidth_bound ? r->dram : r->sm) * 100,
                 r->bandwidth_bound ? "DRAM bandwidth (a slice gets its memory slices' share)"
                                    : "SMs");
    } else {
        const profile_pred *big = r->n ? &r->pred[r->n - 1] : NULL;
        bool mem = big && !big->fits_memory;
        snprintf(r->verdict, sizeof r->verdict,
                 "MIG is the wrong answer: %s%s%s; run it on the whole GPU (MIG off)",
                 mem ? "its peak memory does not fit even the largest slice" : "no slice keeps ",
                 mem ? "" : "the target fraction of its throughput",
                 mem ? ""
                     : (r->bandwidth_bound
                            ? " (it needs the card's DRAM bandwidth, and a slice gets only its "
                              "memory slices' share)"
                            : " (it needs the card's SMs, and the largest slice has fewer)"));
    }
    return 0;
}

char *profile_workload_yaml(const mig_model *m, const profile_result *r, const char *name,
                            const char *command)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "# Written by migctl profile on a %s%s%s%s.\n", m->name,
            command ? " running: " : "", command ? command : "", "");
    fprintf(f, "# Measured: SM %.1f%%, DRAM bandwidth %.1f%% of the card (mean of %u active "
               "samples), peak memory %llu MiB.\n",
            r->sm * 100, r->dram * 100, r->n_active, r->peak_mem_mib);
    fprintf(f, "# Throughput predicted per profile as a share of the whole GPU (1000).\n");
    fprintf(f, "workloads:\n  - name: \"");
    for (const char *p = name; *p; p++)
        fprintf(f, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
    fprintf(f, "\"\n");
    fprintf(f, "    memory: %lluMiB\n", r->peak_mem_mib ? r->peak_mem_mib : 1);
    fprintf(f, "    throughput: {");
    bool first = true;
    for (unsigned i = 0; i < r->n; i++) {
        const profile_pred *x = &r->pred[i];
        long v = lround(x->predicted * 1000);
        if (!x->fits_memory || v <= 0)
            continue;
        fprintf(f, "%s%s: %ld", first ? "" : ", ", x->profile, v);
        first = false;
    }
    fprintf(f, "%swhole: 1000}\n", first ? "" : ", ");
    fprintf(f, "    bandwidth-bound: %s\n", r->bandwidth_bound ? "true" : "false");
    fclose(f);
    return buf;
}
