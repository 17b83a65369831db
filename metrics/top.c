/*
 * top.c: the `migctl top` screen of a snapshot (metrics_top_text): per GPU a
 * header line (model, MIG mode, whole-GPU SM and bandwidth activity, memory,
 * health), then one line per GPU instance with its profile, placement, bars
 * for SM activity, DRAM bandwidth (against the instance's own share of the
 * card, which the line states) and memory, and its processes; free capacity
 * and stranded slices under it. An unhealthy GPU is marked and its fault
 * domain (every instance, MIG UUID and process on it) spelled out.
 * Unsupported figures print as "n/a", a first GPM reading as "...".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics.h"

typedef struct {
    FILE *f;
    bool color;
    int bar; /* bar width: 10, or 5 on a terminal narrower than 120 columns */
} out_t;

static const char *c_(const out_t *o, const char *code)
{
    return o->color ? code : "";
}

static void bar(const out_t *o, const mig_metric *m)
{
    if (m->st != MIG_MET_OK) {
        fprintf(o->f, "[%*s] %4s", o->bar, "", m->st == MIG_MET_PENDING ? "..." : "n/a");
        return;
    }
    double v = m->v < 0 ? 0 : m->v > 1 ? 1 : m->v;
    int fill = (int)(v * o->bar + 0.5);
    const char *col = v >= 0.8 ? "\033[31m" : v >= 0.5 ? "\033[33m" : "\033[32m";
    fprintf(o->f, "[%s%.*s%s%*s] %3.0f%%", c_(o, col), fill, "##########", c_(o, "\033[0m"),
            o->bar - fill, "", m->v * 100);
}

static void mem_bar(const out_t *o, bool known, unsigned long long used, unsigned long long total)
{
    mig_metric m = {known && total ? MIG_MET_OK : MIG_MET_UNSUPPORTED,
                    total ? (double)used / (double)total : 0};
    bar(o, &m);
    if (known)
        fprintf(o->f, " %5.1f/%.1fG", used / 1073741824.0, total / 1073741824.0);
}

static void procs_of(const out_t *o, const mig_gpu_sample *s, int gi_id, unsigned max)
{
    if (!s->procs_known) {
        fprintf(o->f, "  pids n/a");
        return;
    }
    unsigned shown = 0, n = 0;
    for (unsigned i = 0; i < s->n_procs; i++) {
        const mig_proc_sample *p = &s->procs[i];
        if (p->gi_id != gi_id)
            continue;
        n++;
        if (shown < max) {
            if (p->mem_known)
                fprintf(o->f, " %u(%.1fG)", p->pid, p->mem_bytes / 1073741824.0);
            else
                fprintf(o->f, " %u", p->pid);
            shown++;
        }
    }
    if (n > shown)
        fprintf(o->f, " +%u more", n - shown);
    if (!n)
        fprintf(o->f, " idle");
}

static void gpu_block(const out_t *o, const metrics_gpu *mg, unsigned width)
{
    const mig_gpu_state *g = &mg->st;
    const mig_gpu_sample *s = &mg->smp;
    unsigned nprocs = width >= 140 ? 4 : width >= 110 ? 2 : 1;
    fprintf(o->f, "%sGPU %u%s  %s  MIG %s", c_(o, "\033[1m"), g->index, c_(o, "\033[0m"),
            g->model ? g->model->name : g->name, g->mig_current ? "on " : "off");
    if (!mg->sampled) {
        fprintf(o->f, "  telemetry n/a\n");
    } else {
        fprintf(o->f, "  SM ");
        bar(o, &s->m[MIG_M_SM_ACTIVE]);
        fprintf(o->f, "  BW ");
        bar(o, &s->m[MIG_M_DRAM]);
        fprintf(o->f, "  MEM ");
        mem_bar(o, s->mem_known, s->mem_used, s->mem_total);
        if (mg->unhealthy)
            fprintf(o->f, "  %sUNHEALTHY%s\n", c_(o, "\033[1;31m"), c_(o, "\033[0m"));
        else
            fprintf(o->f, "  healthy\n");
    }
    if (mg->unhealthy) {
        char fd[2048];
        metrics_fault_domain_text(mg, fd, sizeof fd);
        fprintf(o->f, "  %s!! %s%s\n", c_(o, "\033[31m"), fd, c_(o, "\033[0m"));
    }
    if (!g->mig_current) {
        if (mg->sampled) {
            fprintf(o->f, "  whole GPU   procs:");
            procs_of(o, s, -1, nprocs * 2);
            fprintf(o->f, "\n");
        }
        return;
    }
    if (g->n_gi)
        fprintf(o->f, "  %-3s %-12s %-5s %-*s %-*s %-*s %s\n", "GI", "PROFILE", "AT", o->bar + 7,
                "SM", o->bar + 14, o->bar >= 10 ? "BW (of the slice's share)" : "BW (of share)",
                o->bar + 18, "MEMORY", "PROCS");
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        const mig_gi_sample *gs = mg->sampled ? mig_sample_gi(s, gi->id) : NULL;
        static const mig_metric na[MIG_M_COUNT];
        const mig_metric *m = gs ? gs->m : na;
        char at[16];
        snprintf(at, sizeof at, "%u:%u", gi->start, gi->size);
        fprintf(o->f, "  %-3u %-12s %-5s ", gi->id, metrics_gi_profile_name(g, gi), at);
        bar(o, &m[MIG_M_SM_ACTIVE]);
        fprintf(o->f, " ");
        bar(o, &m[MIG_M_DRAM]);
        const mig_gi_profile *p = g->model ? mig_profile_by_id(g->model, gi->profile_id) : NULL;
        fprintf(o->f, " of %u/%u ", p ? p->memory_slices : 0, g->model ? g->model->memory_slices : 0);
        mem_bar(o, gs && gs->mem_known, gs ? gs->mem_used : 0, gs ? gs->mem_total : 0);
        fprintf(o->f, " ");
        if (mg->sampled)
            procs_of(o, s, (int)gi->id, nprocs);
        fprintf(o->f, "\n");
    }
    fprintf(o->f, "  free:");
    unsigned shown = 0;
    for (unsigned i = 0; i < mg->n_free; i++)
        if (mg->free[i].count) {
            fprintf(o->f, " %s x%u", mg->free[i].profile, mg->free[i].count);
            shown++;
        }
    if (!shown)
        fprintf(o->f, " nothing more fits");
    fprintf(o->f, "  stranded: %u compute, %u memory slice%s", mg->stranded_compute,
            mg->stranded_memory, mg->stranded_memory == 1 ? "" : "s");
    if (mg->drift == 1)
        fprintf(o->f, "  DRIFT: %s", mg->drift_text);
    fprintf(o->f, "\n");
}

char *metrics_top_text(const metrics_node *n, unsigned width, bool color)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    out_t o = {f, color, width >= 120 ? 10 : 5};
    time_t t = (time_t)n->taken_at;
    struct tm tm;
    char when[32];
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    unsigned bad = 0;
    for (unsigned i = 0; i < n->n; i++)
        bad += n->gpus[i].unhealthy;
    fprintf(f, "migctl top  %s  backend %s  %s  %u GPU%s", n->hostname, n->backend, when, n->n,
            n->n == 1 ? "" : "s");
    if (bad)
        fprintf(f, "  %s%u UNHEALTHY%s", c_(&o, "\033[1;31m"), bad, c_(&o, "\033[0m"));
    fprintf(f, "\n");
    for (unsigned i = 0; i < n->n; i++) {
        fprintf(f, "\n");
        gpu_block(&o, &n->gpus[i], width);
    }
    fclose(f);
    return buf;
}
