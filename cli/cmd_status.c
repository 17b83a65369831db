/*
 * cmd_status.c: `migctl status [-i N] [--json]`, every GPU with its GPU
 * instances, compute instances, MIG device UUIDs and busy state, each GPU
 * drawn as a slot map (cli/draw.h), under a first line naming the backend
 * that answered. Everything printed comes from backend operations, so the
 * nvml backend (a real GPU, or the shim) prints the same thing for the same
 * state. Instances are listed by id so that both backends agree on order.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/draw.h"
#include "cli/journal_status.h"
#include "apply/journal.h"
#include "model/gpu_state.h"

static void status_usage(FILE *out)
{
    fprintf(out, "usage: migctl status [-i N] [--journal FILE] [--json]\n\n"
                 "Show every GPU (or GPU N): MIG mode, GPU instances with their placements,\n"
                 "compute instances with their MIG device UUIDs, which are busy (processes\n"
                 "running), and a slot map of the memory slices. The first line names the\n"
                 "backend that answered (nvml or sim). A journal left by an interrupted or\n"
                 "failed apply is reported (text: a 'Journal:' line; --json: \"journal\").\n\n"
                 "  -i, --gpu N   only GPU N\n"
                 "  --journal FILE  apply's journal to look for (default as apply's)\n"
                 "  --json        machine-readable output (shape in DESIGN.md)\n");
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

static bool gi_procs_unknown(const mig_gi_state *gi)
{
    for (unsigned k = 0; k < gi->n_ci; k++)
        if (gi->ci[k].procs_unknown)
            return true;
    return false;
}

static unsigned gi_procs(const mig_gi_state *gi)
{
    unsigned n = 0;
    for (unsigned k = 0; k < gi->n_ci; k++)
        n += gi->ci[k].n_procs;
    return n;
}

/* ------------------------------------------------------------ JSON */

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
                           gi_procs(gi) > 0 || gi_procs_unknown(gi), "procs", (int)gi_procs(gi), "compute_instances",
                           cis));
    }
    json_t *j = json_pack("{s:i,s:s,s:s,s:o,s:s,s:s,s:{s:b,s:b},s:b,s:i}", "index",
                          (int)g->index, "uuid", g->uuid, "name", g->name, "model",
                          g->model ? json_string(g->model->name) : json_null(), "pci_device_id",
                          pci, "bus_id", g->bus_id, "mig", "current", g->mig_current, "pending",
                          g->mig_pending, "busy", gpu_state_busy(g), "procs", (int)g->n_procs);
    json_object_set_new(j, "gpu_instances", gis);
    return j;
}

/* ------------------------------------------------------------ text */

static void print_gpu_text(const mig_gpu_state *g, bool color)
{
    draw_gpu(stdout, g, color);
    printf("       %s  bus %s", g->uuid, g->bus_id);
    if (g->n_procs)
        printf("  %u process%s on the whole GPU", g->n_procs, g->n_procs == 1 ? "" : "es");
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
            if (ci->n_procs)
                printf("busy (%u process%s)\n", ci->n_procs, ci->n_procs == 1 ? "" : "es");
            else if (ci->procs_unknown)
                printf("busy? (the driver cannot list processes: treated as busy)\n");
            else
                printf("idle\n");
        }
    }
}

/* ------------------------------------------------------------ verb */

static int collect(mig_backend *b, bool one, unsigned only, mig_gpu_state **out, unsigned *n,
                   mig_error *e)
{
    unsigned count;
    if (b->ops->gpu_count(b, &count, e) < 0)
        return -1;
    if (one && only >= count)
        return mig_fail(e, MIG_ERR_INPUT, "GPU index %u out of range (%u GPU%s: 0-%u)", only,
                        count, count == 1 ? "" : "s", count ? count - 1 : 0);
    unsigned first = one ? only : 0, last = one ? only + 1 : count;
    *out = calloc(last - first + 1, sizeof **out);
    if (!*out)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    *n = 0;
    for (unsigned i = first; i < last; i++) {
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
    bool json = false, one = false;
    const char *journal = NULL;
    unsigned only = 0;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_parse_uint(optarg, &only))
                return cli_usage_error("status", "-i needs a GPU index, not '%s'", optarg);
            one = true;
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
    int rc = collect(b, one, only, &gpus, &n, &e);
    const char *backend = b->ops->name;
    if (rc == 0 && json) {
        json_t *arr = json_array();
        for (unsigned i = 0; i < n; i++)
            json_array_append_new(arr, gpu_json(&gpus[i]));
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
        }
    }
    free(gpus);
    backend_close(b);
    return rc < 0 ? cli_report("status", &e) : 0;
}
