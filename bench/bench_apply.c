/*
 * bench_apply.c: apply on 8 simulated H100s, per transition: migctl's
 * operation count against destroy-all-and-recreate (what mig-parted does:
 * on every GPU whose profile counts differ, destroy every CI and GI and
 * create everything again; reference/mig-tools.md section 1.3), and the CPU
 * time of one whole apply (plan, journal, execute, verify) measured with
 * getrusage around apply_run in this process.
 *
 * The node lives in a temporary simulator state file; every operation goes
 * through the sim backend as `migctl apply` does (open, lock, parse, change,
 * fsync, rename), so the CPU time includes the simulator's file work and is
 * an upper bound on what migctl itself spends. Wall time is printed too;
 * it is dominated by the simulator's fsyncs.
 *
 * Usage: bench_apply [REPS]   (default 3; the median is printed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "apply/apply.h"
#include "gpu/sim.h"

#define N_GPUS 8

static const char *const configs =
    "version: v1\n"
    "mig-configs:\n"
    "  all-disabled:\n    - devices: all\n      mig-enabled: false\n"
    "  all-1g:\n    - devices: all\n      mig-enabled: true\n"
    "      mig-devices: {\"1g.10gb\": 7}\n"
    "  all-balanced:\n    - devices: all\n      mig-enabled: true\n"
    "      mig-devices: {\"1g.10gb\": 2, \"2g.20gb\": 1, \"3g.40gb\": 1}\n"
    "  balanced-less-1g:\n    - devices: all\n      mig-enabled: true\n"
    "      mig-devices: {\"1g.10gb\": 1, \"2g.20gb\": 1, \"3g.40gb\": 1}\n"
    "  four-1g-one-3g:\n    - devices: all\n      mig-enabled: true\n"
    "      mig-devices: {\"1g.10gb\": 4, \"3g.40gb\": 1}\n"
    "  3g-4g:\n    - devices: all\n      mig-enabled: true\n"
    "      mig-devices: {\"3g.40gb\": 1, \"4g.40gb\": 1}\n"
    "  all-3g:\n    - devices: all\n      mig-enabled: true\n"
    "      mig-devices: {\"3g.40gb\": 2}\n"
    "  all-7g:\n    - devices: all\n      mig-enabled: true\n"
    "      mig-devices: {\"7g.80gb\": 1}\n";

typedef struct {
    const char *label;
    const char *from, *to;
    bool busy_3g; /* a process on every GPU's 3g.40gb before the change */
} transition;

static const transition suite[] = {
    {"all-disabled -> all-balanced", "all-disabled", "all-balanced", false},
    {"all-1g (7x1g) -> all-balanced", "all-1g", "all-balanced", false},
    {"all-balanced -> 4x1g+3g (split the 2g)", "all-balanced", "four-1g-one-3g", false},
    {"add one 1g (1+2+3g -> all-balanced)", "balanced-less-1g", "all-balanced", false},
    {"remove one 1g (all-balanced -> 1+2+3g)", "all-balanced", "balanced-less-1g", false},
    {"7x1g -> 3g+4g", "all-1g", "3g-4g", false},
    {"all-3g -> all-7g", "all-3g", "all-7g", false},
    {"all-balanced -> all-balanced", "all-balanced", "all-balanced", false},
    {"all-balanced, 3g busy -> 4x1g+3g", "all-balanced", "four-1g-one-3g", true},
    {"all-balanced -> all-disabled", "all-balanced", "all-disabled", false},
};

static char state_path[256], journal_path[300];
static cfg_file cfg;

static void die(const char *what, const mig_error *e)
{
    fprintf(stderr, "bench_apply: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static const cfg_config *config(const char *name)
{
    mig_error e;
    const cfg_config *c = cfg_select(&cfg, name, &e);
    if (!c)
        die("cfg_select", &e);
    return c;
}

static apply_options options(const char *name, bool dry_run)
{
    return (apply_options){.config_file = "bench", .config_name = name,
                           .journal_path = journal_path, .dry_run = dry_run};
}

static void apply_untimed(mig_backend *b, const char *name)
{
    apply_options o = options(name, false);
    apply_report r;
    if (apply_run(b, config(name), &o, &r) < 0)
        die(name, &r.error);
}

static void make_3g_busy(void)
{
    mig_error e;
    sim_state *s = sim_open(state_path, true, &e);
    if (!s)
        die("sim_open", &e);
    for (unsigned g = 0; g < s->n_gpus; g++)
        for (unsigned i = 0; i < s->gpus[g].n_gi; i++)
            if (s->gpus[g].gi[i].size == 4 && s->gpus[g].gi[i].n_ci &&
                sim_procs(s, g, (int)s->gpus[g].gi[i].id, -1, true, &e) < 0)
                die("sim_procs", &e);
    if (sim_commit(s, &e) < 0)
        die("sim_commit", &e);
    sim_close(s);
}

/* ---- mig-parted's count: per GPU whose (GI profile, CI profile) multiset
 * differs, destroy every CI and GI, then create every GI and CI; plus one
 * op per mode change. */

static int cmp_pair(const void *a, const void *b)
{
    const unsigned *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

static unsigned state_pairs(const mig_gpu_state *g, unsigned pairs[][2])
{
    unsigned n = 0;
    for (unsigned i = 0; g->mig_current && i < g->n_gi; i++)
        for (unsigned j = 0; j < g->gi[i].n_ci; j++) {
            pairs[n][0] = g->gi[i].profile_id;
            pairs[n++][1] = g->gi[i].ci[j].profile_id;
        }
    qsort(pairs, n, sizeof pairs[0], cmp_pair);
    return n;
}

static unsigned desired_pairs(const mig_desired_gpu *d, unsigned pairs[][2])
{
    unsigned n = 0;
    for (unsigned i = 0; d->mig_enabled && i < d->n_gi; i++)
        for (unsigned j = 0; j < d->gi[i].n_ci; j++) {
            pairs[n][0] = d->gi[i].profile_id;
            pairs[n++][1] = d->gi[i].ci[j].profile_id;
        }
    qsort(pairs, n, sizeof pairs[0], cmp_pair);
    return n;
}

static unsigned state_cis(const mig_gpu_state *g)
{
    unsigned n = 0;
    for (unsigned i = 0; i < g->n_gi; i++)
        n += g->gi[i].n_ci;
    return n;
}

static unsigned desired_cis(const mig_desired_gpu *d)
{
    unsigned n = 0;
    for (unsigned i = 0; d->mig_enabled && i < d->n_gi; i++)
        n += d->gi[i].n_ci;
    return n;
}

/* Returns the count; *busy_fails when a busy CI would have to be destroyed
 * (mig-parted then fails with IN_USE and leaves the GPU cleared). */
static unsigned reflash_ops(const apply_session *s, bool *busy_fails)
{
    unsigned total = 0;
    *busy_fails = false;
    for (unsigned k = 0; k < s->plan.n_gpus; k++) {
        const mig_gpu_plan *gp = &s->plan.gpus[k];
        const mig_gpu_state *g = &s->before[k];
        if (!gp->desired.selected)
            continue;
        unsigned a[MIG_MAX_GI * MIG_MAX_CI][2], b[MIG_MAX_GI * MIG_MAX_CI][2];
        unsigned na = state_pairs(g, a), nb = desired_pairs(&gp->desired, b);
        bool mode = g->mig_current != gp->desired.mig_enabled;
        bool differ = na != nb || memcmp(a, b, na * sizeof a[0]) != 0;
        if (mode)
            total++;
        if (!differ)
            continue;
        total += state_cis(g) + (g->mig_current ? g->n_gi : 0);
        total += desired_cis(&gp->desired) + (gp->desired.mig_enabled ? gp->desired.n_gi : 0);
        if (gpu_state_busy(g))
            *busy_fails = true;
    }
    return total;
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void reset_node(mig_backend *b, const transition *t)
{
    mig_error e;
    if (sim_init(state_path, "8xH100-SXM5-80GB", false, &e) < 0)
        die("sim_init", &e);
    if (strcmp(t->from, "all-disabled") != 0)
        apply_untimed(b, t->from);
    if (t->busy_3g)
        make_3g_busy();
}

static void run_transition(mig_backend *b, const transition *t, unsigned reps)
{
    double cpu[16], wall[16];
    unsigned ops = 0, reflash = 0;
    bool reflash_fails = false;
    const char *result = "?";
    for (unsigned r = 0; r < reps; r++) {
        reset_node(b, t);
        apply_options dry = options(t->to, true);
        apply_session s;
        mig_error e;
        if (apply_prepare(b, config(t->to), &dry, &s, &e) < 0)
            die("apply_prepare", &e);
        ops = s.plan.n_ops;
        reflash = reflash_ops(&s, &reflash_fails);
        apply_session_free(&s);

        apply_options o = options(t->to, false);
        apply_report rep;
        double c0 = cpu_ms(), w0 = wall_ms();
        apply_run(b, config(t->to), &o, &rep);
        cpu[r] = cpu_ms() - c0;
        wall[r] = wall_ms() - w0;
        result = apply_result_name(rep.result);
        if (rep.result != APPLY_APPLIED && rep.result != APPLY_UNCHANGED)
            die(t->label, &rep.error);
    }
    qsort(cpu, reps, sizeof cpu[0], cmp_double);
    qsort(wall, reps, sizeof wall[0], cmp_double);
    char rf[32];
    if (reflash_fails)
        snprintf(rf, sizeof rf, "%u, fails IN_USE", reflash);
    else
        snprintf(rf, sizeof rf, "%u", reflash);
    printf("%-42s %6u  %-17s %9.1f %9.1f  %s\n", t->label, ops, rf, cpu[reps / 2], wall[reps / 2],
           result);
}

static void print_machine(void)
{
    struct utsname u;
    uname(&u);
    char model[256] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            snprintf(model, sizeof model, "%.200s", c ? c + 2 : line);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    printf("bench_apply: %d simulated H100-SXM5-80GB, state file %s\n", N_GPUS, state_path);
    printf("machine: %s %s, %s, %ld CPUs online\n", u.sysname, u.release, model,
           sysconf(_SC_NPROCESSORS_ONLN));
}

int main(int argc, char **argv)
{
    unsigned reps = argc > 1 ? (unsigned)atoi(argv[1]) : 3;
    if (reps < 1 || reps > 16)
        reps = 3;
    const char *tmp = getenv("TMPDIR");
    char dir[200];
    snprintf(dir, sizeof dir, "%s/migctl-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(state_path, sizeof state_path, "%s/state.json", dir);
    snprintf(journal_path, sizeof journal_path, "%s/state.json.journal", dir);
    mig_error e;
    if (cfg_parse_string(configs, strlen(configs), "bench", &cfg, &e) < 0)
        die("configs", &e);
    if (sim_init(state_path, "8xH100-SXM5-80GB", false, &e) < 0)
        die("sim_init", &e);
    mig_backend *b;
    if (sim_backend_open(state_path, &b, &e) < 0)
        die("sim backend", &e);

    print_machine();
    printf("median of %u runs; CPU = user+sys of this process for one whole apply\n\n", reps);
    printf("%-42s %6s  %-17s %9s %9s  %s\n", "transition (on each of 8 GPUs)", "migctl",
           "destroy-all+create", "CPU ms", "wall ms", "result");
    for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++)
        run_transition(b, &suite[i], reps);

    backend_close(b);
    cfg_free(&cfg);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
