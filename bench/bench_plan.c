/*
 * bench_plan.c: the planner's speed and quality, printed as markdown tables
 * (docs/planner.md records a run). Deterministic: fixed seeds, no input
 * files except the realistic mix in examples/ (found through
 * $MIGCTL_SOURCE_DIR or the current directory).
 *
 * Speed (median of 5 runs, single thread):
 *   - pack 10,000 and 100,000 instances of the five standard profiles on
 *     H100s: the exact packer alone (demand vector -> configurations) and
 *     the whole `plan` path (workloads -> decisions -> packing -> every
 *     instance on its slice of a fleet GPU);
 *   - replan 5,000 workloads on 1,000 GPUs (125 nodes x 8 H100) whose
 *     current layouts are random with busy, labelled instances, with new
 *     demand on top.
 * Quality (GPUs used; lower is better) against first-fit (driver's
 * automatic placement, arrival order), best-fit (fullest GPU that takes
 * it) and one workload per GPU, on the same decided instances: random
 * five-profile demand and the realistic mix of examples/workloads-mix.yaml.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/workload.h"
#include "plan/pack.h"
#include "plan/replan.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static const char *std_names[5] = {"1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"};

/* Random five-profile items (weights favour small slices, as inference does). */
static void random_items(const mig_model *m, size_t n, unsigned seed, unsigned char *items,
                         unsigned demand[MIG_MAX_PROFILES])
{
    static const unsigned weight[5] = {40, 25, 15, 12, 8};
    memset(demand, 0, MIG_MAX_PROFILES * sizeof *demand);
    for (size_t i = 0; i < n; i++) {
        unsigned r = lcg(&seed) % 100, k = 0, acc = weight[0];
        while (r >= acc)
            acc += weight[++k];
        int pos = mig_profile_pos(m, mig_profile_by_name(m, std_names[k]));
        items[i] = (unsigned char)pos;
        demand[pos]++;
    }
}

/* A workloads file pinning the demand vector in workloads of 10 replicas. */
static void pinned_file(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES], size_t n,
                        wl_file *wf)
{
    memset(wf, 0, sizeof *wf);
    wf->items = calloc(n / 10 + MIG_MAX_PROFILES + 1, sizeof *wf->items);
    wf->path = strdup("<bench>");
    for (unsigned p = 0; p < m->n_profiles; p++)
        for (unsigned left = demand[p]; left;) {
            wl_workload *w = &wf->items[wf->n];
            snprintf(w->name, sizeof w->name, "w%u", wf->n++);
            w->replicas = left < 10 ? left : 10;
            left -= w->replicas;
            w->gpus = 1;
            snprintf(w->profile, sizeof w->profile, "%s", m->profiles[p].name);
        }
}

static void fleet_of(const mig_model *m, unsigned nodes, fl_fleet *f)
{
    memset(f, 0, sizeof *f);
    f->nodes = calloc(nodes, sizeof *f->nodes);
    f->gpus = calloc((size_t)nodes * 8, sizeof *f->gpus);
    f->path = strdup("<bench>");
    for (unsigned nd = 0; nd < nodes; nd++) {
        snprintf(f->nodes[nd].name, sizeof f->nodes[nd].name, "n%04u", nd);
        f->nodes[nd].first_gpu = f->n_gpus;
        f->nodes[nd].n_gpus = 8;
        for (unsigned i = 0; i < 8; i++) {
            fl_gpu *g = &f->gpus[f->n_gpus++];
            g->model = m;
            g->node = nd;
            g->index = i;
            g->mig_enabled = true;
        }
    }
    f->n_nodes = nodes;
}

static void bench_speed(const mig_model *m, size_t n)
{
    unsigned char *items = malloc(n);
    unsigned demand[MIG_MAX_PROFILES];
    random_items(m, n, 42, items, demand);
    double t[5];
    unsigned gpus = 0, lb = 0;
    for (int r = 0; r < 5; r++) {
        pk_solution s;
        mig_error e = {0};
        double t0 = now_ms();
        pack_model(m, demand, &s, &e);
        t[r] = now_ms() - t0;
        gpus = s.gpus;
        lb = s.lower_bound;
        pk_solution_free(&s);
    }
    double core = median(t, 5);
    /* instance order differs per workload group: pin each group to one profile */
    wl_file wf;
    pinned_file(m, demand, n, &wf);
    fl_fleet f;
    fleet_of(m, (unsigned)(n / 8 + 8), &f);
    unsigned used = 0;
    for (int r = 0; r < 5; r++) {
        pk_plan p;
        mig_error e = {0};
        double t0 = now_ms();
        if (pack_plan(&wf, &f, &p, &e) < 0) {
            fprintf(stderr, "plan failed: %s\n", e.msg);
            exit(1);
        }
        t[r] = now_ms() - t0;
        used = p.gpus_used;
        pk_plan_free(&p);
    }
    printf("| pack %zu instances (exact core) | %.2f ms | %u GPUs, lower bound %u |\n", n, core,
           gpus, lb);
    printf("| plan %zu instances (decisions + packing + slices) | %.2f ms | %u GPUs |\n", n,
           median(t, 5), used);
    fl_free(&f);
    wl_free(&wf);
    free(items);
}

/* ---- replan: 1,000 GPUs with random running layouts, 5,000 workloads ---- */

static void bench_replan(const mig_model *m, int tries, unsigned max_running, bool heavy)
{
    fl_fleet f;
    fleet_of(m, 125, &f);
    unsigned seed = 7, n_w = 0;
    wl_file wf = {0};
    wf.items = calloc(6000, sizeof *wf.items);
    wf.path = strdup("<bench>");
    for (unsigned g = 0; g < f.n_gpus; g++) {
        fl_gpu *fg = &f.gpus[g];
        fg->has_state = true;
        /* a random layout filling part of the GPU; about 60% of it busy */
        for (int k = 0; k < tries; k++) {
            unsigned r = lcg(&seed) % 20;
            unsigned p = (unsigned)mig_profile_pos(
                m, mig_profile_by_name(m, std_names[r < 12 ? 0 : r < 17 ? 1 : r < 19 ? 2 : 3]));
            const mig_gi_profile *pr = &m->profiles[p];
            unsigned s = pr->starts[lcg(&seed) % pr->n_starts];
            if (layout_fits(m, &fg->layout, p, s) != MIG_FIT_OK)
                continue;
            unsigned i = fg->layout.n;
            layout_add(&fg->layout, p, s);
            if (lcg(&seed) % 20 < 17 && n_w < max_running) {
                fg->busy[i] = true;
                wl_workload *w = &wf.items[n_w++];
                snprintf(w->name, sizeof w->name, "run%u", n_w);
                snprintf(fg->running[i], sizeof fg->running[i], "%s", w->name);
                w->replicas = 1;
                w->gpus = 1;
                snprintf(w->profile, sizeof w->profile, "%s", pr->name);
            }
        }
    }
    unsigned running = n_w;
    while (n_w < 5000) { /* new demand: mostly 1g, some 2g and 3g */
        wl_workload *w = &wf.items[n_w++];
        unsigned r = lcg(&seed) % 20;
        snprintf(w->name, sizeof w->name, "new%u", n_w);
        w->replicas = 1;
        w->gpus = 1;
        unsigned k = heavy ? (r < 12 ? 0 : r < 16 ? 1 : r < 19 ? 2 : 3) : (r < 16 ? 0 : r < 19 ? 1 : 2);
        snprintf(w->profile, sizeof w->profile, "%s", std_names[k]);
    }
    wf.n = n_w;
    double t[5];
    rp_plan p;
    unsigned drained = 0, ops = 0, unplaced = 0;
    for (int r = 0; r < 5; r++) {
        mig_error e = {0};
        double t0 = now_ms();
        if (replan_plan(&wf, &f, &p, &e) < 0) {
            fprintf(stderr, "replan failed: %s\n", e.msg);
            exit(1);
        }
        t[r] = now_ms() - t0;
        drained = p.n_drained;
        ops = p.n_ops;
        unplaced = p.unplaced;
        rp_plan_free(&p);
    }
    printf("| replan %u workloads (%u running) on %u GPUs, new demand %s | %.1f ms | %u drained, "
           "%u ops, %u unplaced |\n", n_w, running, f.n_gpus,
           heavy ? "40% 2g-4g" : "80% 1g", median(t, 5), drained, ops,
           unplaced);
    fl_free(&f);
    wl_free(&wf);
}

/* ---- quality ---- */

static void quality_random(const mig_model *m, size_t n, unsigned seed)
{
    unsigned char *items = malloc(n);
    unsigned demand[MIG_MAX_PROFILES];
    random_items(m, n, seed, items, demand);
    pk_solution s;
    mig_error e = {0};
    pack_model(m, demand, &s, &e);
    unsigned ff = pack_baseline(m, items, n, PK_FIRST_FIT);
    unsigned bf = pack_baseline(m, items, n, PK_BEST_FIT);
    printf("| random five-profile, %zu instances (seed %u) | %u%s | %u | %u | %u | %zu |\n", n,
           seed, s.gpus, s.exact ? " (optimal)" : "", s.lower_bound, ff, bf, n);
    pk_solution_free(&s);
    free(items);
}

/* First-fit of MPS shares (compute, memory) for the baselines. */
static unsigned mps_first_fit(const double *c, const double *mm, size_t n)
{
    double *bc = calloc(n + 1, sizeof *bc), *bm = calloc(n + 1, sizeof *bm);
    unsigned *bn = calloc(n + 1, sizeof *bn), used = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned b = 0;
        while (b < used && (bc[b] + c[i] > 1 + 1e-9 || bm[b] + mm[i] > 1 + 1e-9 ||
                            bn[b] >= ADV_MPS_MAX_CLIENTS))
            b++;
        if (b == used)
            used++;
        bc[b] += c[i];
        bm[b] += mm[i];
        bn[b]++;
    }
    free(bc);
    free(bm);
    free(bn);
    return used;
}

static void quality_mix(const char *src)
{
    char wp[4096];
    snprintf(wp, sizeof wp, "%s/examples/workloads-mix.yaml", src);
    wl_file wf;
    mig_error e = {0};
    if (wl_parse_file(wp, &wf, &e) < 0) {
        printf("| realistic mix | (not found: %s) | | | | |\n", e.msg);
        return;
    }
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    fl_fleet f;
    fleet_of(m, 64, &f);
    pk_plan p;
    if (pack_plan(&wf, &f, &p, &e) < 0) {
        printf("| realistic mix | plan failed: %s |\n", e.msg);
        return;
    }
    /* the same decided instances, in file order, for the baselines */
    size_t n = p.n_inst;
    unsigned char *items = malloc(n + 1);
    double *mc = malloc((n + 1) * sizeof *mc), *mm = malloc((n + 1) * sizeof *mm);
    size_t n_mig = 0, n_mps = 0;
    unsigned whole = 0, replicas = 0;
    for (unsigned w = 0; w < wf.n; w++) {
        const adv_decision *d = &p.decisions[w];
        replicas += wf.items[w].replicas;
        for (unsigned r = 0; r < wf.items[w].replicas; r++) {
            if (d->kind == ADV_MIG)
                items[n_mig++] = (unsigned char)d->profile;
            else if (d->kind == ADV_WHOLE)
                whole += d->gpus;
            else if (d->kind == ADV_MPS) {
                mc[n_mps] = d->compute_share;
                mm[n_mps++] = d->memory_share;
            }
        }
    }
    unsigned mps = mps_first_fit(mc, mm, n_mps);
    unsigned ff = whole + mps + pack_baseline(m, items, n_mig, PK_FIRST_FIT);
    unsigned bf = whole + mps + pack_baseline(m, items, n_mig, PK_BEST_FIT);
    printf("| realistic mix (examples/workloads-mix.yaml, %u replicas) on H100s | %u | %u | %u | "
           "%u | %u |\n", replicas, p.gpus_used, p.lower_bound, ff, bf, p.one_per_gpu);
    free(items);
    free(mc);
    free(mm);
    pk_plan_free(&p);
    fl_free(&f);
    /* the same mix on the mixed fleet of examples/fleet-mix.yaml */
    char fp[4096];
    snprintf(fp, sizeof fp, "%s/examples/fleet-mix.yaml", src);
    if (fl_parse_file(fp, &f, &e) == 0) {
        if (pack_plan(&wf, &f, &p, &e) == 0) {
            printf("| realistic mix on examples/fleet-mix.yaml (96 H100 + 32 H200) | %u | %u | - | "
                   "- | %u |\n", p.gpus_used, p.lower_bound, p.one_per_gpu);
            pk_plan_free(&p);
        }
        fl_free(&f);
    }
    wl_free(&wf);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    const char *src = getenv("MIGCTL_SOURCE_DIR");
    if (!src)
        src = ".";
    printf("## Planner speed (single thread, median of 5)\n\n");
    printf("| task | time | result |\n|---|---|---|\n");
    bench_speed(m, 10000);
    bench_speed(m, 100000);
    bench_replan(m, 20, 4700, false); /* dense fleet, new demand fits free slots */
    bench_replan(m, 9, 3200, true);   /* lighter fleet, bigger slices: drains */
    bench_replan(m, 20, 4700, true);  /* dense fleet, bigger slices: does not fit */
    printf("\n## Packing quality: GPUs used (lower is better)\n\n");
    printf("| input | migctl plan | lower bound | first-fit | best-fit | one per GPU |\n");
    printf("|---|---|---|---|---|---|\n");
    quality_random(m, 1000, 1);
    quality_random(m, 10000, 2);
    quality_random(m, 10000, 3);
    quality_mix(src);
    return 0;
}
