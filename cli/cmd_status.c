/*
 * cmd_status.c: `migctl status [-i N] [--json]`, every GPU with its GPU
 * instances, compute instances, MIG device UUIDs and busy state, each GPU
 * drawn as a slot map (cli/render.h), under a first line naming the backend
 * that answered. Everything printed comes from backend operations, so the
 * nvml backend (a real GPU, or the shim) prints the same thing for the same
 * state. Instances are listed by id so that both backends agree on order.
 *
 * Health (metrics/metrics.h): where the backend samples telemetry, each GPU
 * carries its health (ECC, remapped rows, Xid events seen while sampling);
 * an unhealthy GPU is marked and every GPU instance, MIG device UUID and
 * process on it named, since a slice is isolated for compute and memory
 * only and a fault of the parent GPU takes every slice down.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "apply/journal.h"
#include "cli/gpu_select.h"
#include "cli/journal_status.h"
#include "cli/render.h"
#include "metrics/metrics.h"
#include "model/gpu_state.h"

static void status_usage(FILE *out)
{
    fprintf(out, "usage: migctl status [-i GPUS] [--journal FILE] [--json]\n\n"
                 "Show every GPU (or GPU N): MIG mode, GPU instances with their placements,\n"
                 "compute instances with their MIG device UUIDs, which are busy (processes\n"
                 "running, with their process ids), and a slot map of the memory slices. The\n"
                 "first line names the backend that answered (nvml or sim). A journal left by\n"
                 "an interrupted or failed apply is reported (text: a 'Journal:' line; --json:\n"
                 "\"journal\").\n\n"
                 "  -i, --gpu GPUS  only these GPUs: indexes, UUIDs or PCI bus ids, comma\n"
                 "                separated, or 'all'\n"
                 "  --journal FILE  apply's journal to look for (default as apply's)\n"
                 "  --json        machine-readable output (shape in docs/design.md)\n");
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

static void sort_state(mig_gpu_state *g)
{
    qsort(g->gi, g->n_gi, sizeof g->gi[0], cmp_gi);
    for (unsigned i = 0; i < g->n_gi; i++)
        qsort(g->gi[i].ci, g->gi[i].n_ci, sizeof g->gi[i].ci[0], cmp_ci);
}

static const char *gi_name(const mig_gpu_state *g, const mig_gi_state *gi)
{
    const mig_gi_profile *p = g->model ? mig_profile_by_id(g->model, gi->profile_id) : NULL;
    return p ? p->name : "?";
}

/* ------------------------------------------------------------ JSON */

/* The process ids known (at most MIG_MAX_PIDS of n). */
static json_t *pids_json(const unsigned *pids, unsigned n)
{
    json_t *a = json_array();
    for (unsigned k = 0; k < n && k < MIG_MAX_PIDS; k++)
        json_array_append_new(a, json_integer(pids[k]));
    return a;
}

/* " (2 processes: 4242, 4243)" into buf. */
static void pids_text(const unsigned *pids, unsigned n, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "%u process%s", n, n == 1 ? "" : "es");
    for (unsigned k = 0; k < n && k < MIG_MAX_PIDS && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%u", k ? ", " : ": pid ", pids[k]);
    if (n > MIG_MAX_PIDS && used < len)
        snprintf(buf + used, len - used, ", ...");
}

static json_t *ci_json(const mig_gpu_state *g, const mig_gi_state *gi, const mig_ci_state *ci)
{
    char name[64] = "?";
    if (g->model)
        ci_state_name(g->model, gi, ci, name, sizeof name);
    json_t *j = json_pack("{s:i,s:s,s:i,s:s,s:b,s:i,s:{s:i,s:i}}", "id", (int)ci->id, "profile",
                          name, "profile_id", (int)ci->profile_id, "uuid", ci->uuid, "busy",
                          ci_state_busy(ci), "procs", (int)ci->n_procs, "placement", "start",
                          (int)ci->start, "size", (int)ci->slices);
    if (ci->procs_unknown) /* only then: the shape stays as it was where processes are known */
        json_object_set_new(j, "procs_known", json_false());
    json_object_set_new(j, "pids", pids_json(ci->pids, ci->n_procs));
    return j;
}

static json_t *gpu_json(const mig_gpu_state *g)
{
    char pci[16];
    snprintf(pci, sizeof pci, "0x%08X", g->pci_device_id);
    json_t *gis = json_array();
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        json_t *cis = json_array();
        for (unsigned k = 0; k < gi->n_ci; k++)
            json_array_append_new(cis, ci_json(g, gi, &gi->ci[k]));
        json_array_append_new(
            gis, json_pack("{s:i,s:s,s:i,s:{s:i,s:i},s:b,s:i,s:o}", "id", (int)gi->id, "profile",
                           gi_name(g, gi), "profile_id", (int)gi->profile_id, "placement",
                           "start", (int)gi->start, "size", (int)gi->size, "busy",
                           gi_state_busy(gi), "procs", (int)gi_state_procs(gi), "compute_instances", cis));
    }
    json_t *j = json_pack("{s:i,s:s,s:s,s:o,s:s,s:s,s:{s:b,s:b},s:b,s:i}", "index",
                          (int)g->index, "uuid", g->uuid, "name", g->name, "model",
                          g->model ? json_string(g->model->name) : json_null(), "pci_device_id",
                          pci, "bus_id", g->bus_id, "mig", "current", g->mig_current, "pending",
                          g->mig_pending, "busy", gpu_state_busy(g), "procs", (int)g->n_procs);
    json_object_set_new(j, "pids", pids_json(g->pids, g->n_procs));
    json_object_set_new(j, "gpu_instances", gis);
    return j;
}

/* ------------------------------------------------------------ health */

/* The GPU's health from one telemetry sample (NULL: the backend has none). */
static metrics_gpu *health_of(mig_backend *b, const mig_gpu_state *g, mig_error *e)
{
    if (!b->ops->sample)
        return NULL;
    metrics_gpu *mg = calloc(1, sizeof *mg);
    if (!mg) {
        mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        return NULL;
    }
    mg->st = *g;
    if (b->ops->sample(b, g->index, &mg->smp, e) < 0) {
        mig_error_prefix(e, "GPU %u", g->index);
        free(mg);
        return NULL;
    }
    mg->sampled = true;
    mg->unhealthy = mig_health_bad(&mg->smp.health, mg->health_why, sizeof mg->health_why);
    return mg;
}

static json_t *health_json(const metrics_gpu *mg)
{
    json_t *j = json_pack("{s:b}", "healthy", !mg->unhealthy);
    if (!mg->unhealthy)
        return j;
    json_object_set_new(j, "why", json_string(mg->health_why));
    json_t *gis = json_array(), *pids = json_array();
    for (unsigned i = 0; i < mg->st.n_gi; i++) {
        const mig_gi_state *gi = &mg->st.gi[i];
        json_t *uuids = json_array();
        for (unsigned k = 0; k < gi->n_ci; k++)
            json_array_append_new(uuids, json_string(gi->ci[k].uuid));
        json_array_append_new(gis, json_pack("{s:i,s:s,s:o}", "id", (int)gi->id, "profile",
                                             metrics_gi_profile_name(&mg->st, gi), "mig_uuids",
                                             uuids));
    }
    for (unsigned i = 0; i < mg->smp.n_procs; i++)
        json_array_append_new(pids, json_integer(mg->smp.procs[i].pid));
    json_object_set_new(j, "fault_domain", json_pack("{s:s,s:o,s:o}", "gpu_uuid", mg->st.uuid,
                                                     "gpu_instances", gis, "processes", pids));
    return j;
}

/* ------------------------------------------------------------ text */

static void print_gpu_text(const mig_gpu_state *g, bool color)
{
    draw_gpu(stdout, g, color);
    printf("       %s  bus %s", g->uuid, g->bus_id);
    char procs[160];
    if (g->n_procs) {
        pids_text(g->pids, g->n_procs, procs, sizeof procs);
        printf("  %s on the whole GPU", procs);
    }
    printf("\n");
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        printf("       GI %2u  %-12s (ID %2u)  at %u:%u%s\n", gi->id, gi_name(g, gi),
               gi->profile_id, gi->start, gi->size, gi->n_ci ? "" : "  no compute instance");
        for (unsigned k = 0; k < gi->n_ci; k++) {
            const mig_ci_state *ci = &gi->ci[k];
            char name[64] = "?";
            if (g->model)
                ci_state_name(g->model, gi, ci, name, sizeof name);
            printf("         CI %u  %-14s %s  ", ci->id, name, ci->uuid);
            if (!ci_state_busy(ci)) {
                printf("idle\n");
            } else if (ci->n_procs) {
                pids_text(ci->pids, ci->n_procs, procs, sizeof procs);
                printf("busy (%s)\n", procs);
            } else { /* busy with no process counted: the driver cannot list them */
                printf("busy? (the driver cannot list processes: treated as busy)\n");
            }
        }
    }
}

/* ------------------------------------------------------------ verb */

static int collect(mig_backend *b, const char *which, mig_gpu_state **out, unsigned *n,
                   mig_error *e)
{
    unsigned sel[MIG_SELECT_MAX], n_sel;
    if (cli_gpu_select(b, which ? which : "all", true, sel, &n_sel, e) < 0)
        return -1;
    *out = calloc(n_sel + 1, sizeof **out);
    if (!*out)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    *n = 0;
    for (unsigned k = 0; k < n_sel; k++) {
        unsigned i = sel[k];
        if (b->ops->gpu_state(b, i, &(*out)[*n], e) < 0) {
            mig_error_prefix(e, "GPU %u", i);
            return -1;
        }
        sort_state(&(*out)[(*n)++]);
    }
    return 0;
}

int cmd_status(int argc, char **argv, cli_globals *g)
{
    static const struct option opts[] = {{"gpu", required_argument, 0, 'i'},
                                         {"json", no_argument, 0, 'j'},
                                         {"journal", required_argument, 0, 'J'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bool json = false;
    const char *which = NULL;
    const char *journal = NULL;
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_gpu_text_ok(optarg, true))
                return cli_usage_error("status", "-i needs GPU indexes, UUIDs or PCI bus ids, "
                                       "not '%s'", optarg);
            which = optarg;
            break;
        case 'j': json = true; break;
        case 'J': journal = optarg; break;
        case 'h': status_usage(stdout); return 0;
        default: return cli_option_error("status", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);

    mig_error e;
    mig_backend *b;
    if (cli_open_backend(g, &b, &e) < 0)
        return cli_report("status", &e);
    mig_gpu_state *gpus = NULL;
    unsigned n = 0;
    char journal_path[4096];
    journal_default_path(journal, sim_default_path(g->sim_path), journal_path,
                         sizeof journal_path);
    int rc = collect(b, which, &gpus, &n, &e);
    const char *backend = b->ops->name;
    metrics_gpu **health = rc == 0 ? calloc(n + 1, sizeof *health) : NULL;
    if (rc == 0 && !health)
        rc = mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = 0; rc == 0 && i < n && b->ops->sample; i++)
        if (!(health[i] = health_of(b, &gpus[i], &e)))
            rc = -1;
    if (rc == 0 && json) {
        json_t *arr = json_array();
        for (unsigned i = 0; i < n; i++) {
            json_t *gj = gpu_json(&gpus[i]);
            if (health[i])
                json_object_set_new(gj, "health", health_json(health[i]));
            json_array_append_new(arr, gj);
        }
        json_t *root = json_pack("{s:s,s:o,s:o}", "backend", backend, "gpus", arr, "journal",
                                 journal_status_json(journal_path));
        cli_print_json(root);
    } else if (rc == 0) {
        const char *path = sim_default_path(g->sim_path);
        if (strcmp(backend, "sim") == 0 && path)
            printf("Backend: sim (state file %s)\n", path);
        else
            printf("Backend: %s\n", backend);
        journal_status_print(stdout, journal_path);
        for (unsigned i = 0; i < n; i++) {
            printf("\n");
            print_gpu_text(&gpus[i], g->color);
            if (health[i] && health[i]->unhealthy) {
                char fd[2048];
                metrics_fault_domain_text(health[i], fd, sizeof fd);
                printf("       %sUNHEALTHY: %s%s\n", g->color ? "\033[1;31m" : "", fd,
                       g->color ? "\033[0m" : "");
            }
        }
    }
    for (unsigned i = 0; health && i < n; i++)
        free(health[i]);
    free(health);
    free(gpus);
    backend_close(b);
    return rc < 0 ? cli_report("status", &e) : 0;
}
