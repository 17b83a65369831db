/*
 * cmd_list.c: `migctl list`, the listings operators type out of habit,
 * printed as nvidia-smi prints them (reference layouts of drivers R550 and
 * later, copied column for column, so eyes and scripts trained on
 * nvidia-smi find things where they expect them):
 *
 *   migctl list          nvidia-smi -L         GPUs and MIG devices with UUIDs
 *   migctl list -lgi     nvidia-smi mig -lgi   GPU instances
 *   migctl list -lci     nvidia-smi mig -lci   compute instances
 *   migctl list -lcip    nvidia-smi mig -lcip  compute-instance profiles per GPU instance
 *   migctl list -lcipp   nvidia-smi mig -lcipp their possible placements
 *
 * (also spelt --gi, --ci, --cip, --cipp). -i takes what nvidia-smi's -i takes
 * (indexes, UUIDs, PCI bus ids, comma separated); --gi-id filters GPU
 * instances as nvidia-smi's -gi does. --json gives the same rows as data.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/gpu_select.h"
#include "model/gpu_state.h"

#define VERB "list"

typedef enum { LIST_L, LIST_GI, LIST_CI, LIST_CIP, LIST_CIPP } list_mode;

typedef struct {
    list_mode mode;
    const char *gpus;            /* -i as typed; NULL = all */
    unsigned n_gi;
    unsigned gi[MIG_MAX_GI * 2]; /* --gi-id filter */
    bool json;
} list_opts;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl list [-i GPUS] [-lgi | -lci | -lcip | -lcipp [--gi-id IDS]] [--json]\n\n"
            "List GPUs and MIG devices as nvidia-smi prints them.\n\n"
            "  (none)            GPUs and their MIG devices with UUIDs, as 'nvidia-smi -L'\n"
            "  -lgi, --gi        GPU instances, as 'nvidia-smi mig -lgi'\n"
            "  -lci, --ci        compute instances, as 'nvidia-smi mig -lci'\n"
            "  -lcip, --cip      compute-instance profiles of each GPU instance with how many\n"
            "                    more fit ('*' marks the default), as 'nvidia-smi mig -lcip'\n"
            "  -lcipp, --cipp    their possible placements in each GPU instance, as\n"
            "                    'nvidia-smi mig -lcipp'\n"
            "  -i, --gpu GPUS    GPU indexes, UUIDs or PCI bus ids, comma separated, or 'all'\n"
            "                    (default: all)\n"
            "  --gi-id IDS       only these GPU instances (comma separated), as nvidia-smi's -gi\n"
            "  --json            the same rows as JSON: {\"gpus\": [...]} for the plain list,\n"
            "                    {\"gpu_instances\"|\"compute_instances\"|\"compute_instance_profiles\":\n"
            "                    [...]} for the others\n");
}

static int parse_ids(const char *text, unsigned *out, unsigned *n, unsigned cap)
{
    char buf[256];
    if (!*text || strlen(text) >= sizeof buf || text[strlen(text) - 1] == ',')
        return -1;
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    *n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (*n == cap || !cli_parse_uint(t, &out[(*n)++]))
            return -1;
    return *n ? 0 : -1;
}

static int parse_opts(int argc, char **argv, list_opts *o)
{
    enum { O_GI = 256, O_CI, O_CIP, O_CIPP, O_GIID, O_JSON };
    static const struct option longs[] = {
        {"gi", no_argument, NULL, O_GI},     {"lgi", no_argument, NULL, O_GI},
        {"ci", no_argument, NULL, O_CI},     {"lci", no_argument, NULL, O_CI},
        {"cip", no_argument, NULL, O_CIP},   {"lcip", no_argument, NULL, O_CIP},
        {"cipp", no_argument, NULL, O_CIPP}, {"lcipp", no_argument, NULL, O_CIPP},
        {"gi-id", required_argument, NULL, O_GIID},
        {"gpu", required_argument, NULL, 'i'}, {"id", required_argument, NULL, 'i'},
        {"json", no_argument, NULL, O_JSON}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* nvidia-smi spells these with one dash: "-lgi" would otherwise be
     * read as -l -g -i. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "-lgi"))
            argv[i] = "--gi";
        else if (!strcmp(argv[i], "-lci"))
            argv[i] = "--ci";
        else if (!strcmp(argv[i], "-lcip"))
            argv[i] = "--cip";
        else if (!strcmp(argv[i], "-lcipp"))
            argv[i] = "--cipp";
        else if (!strcmp(argv[i], "-gi"))
            argv[i] = "--gi-id";
    }
    int c, modes = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:Lh", longs, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_gpu_text_ok(optarg, true))
                return cli_usage_error(VERB, "-i takes GPU indexes, UUIDs or PCI bus ids, comma "
                                             "separated, or 'all'; not '%s'", optarg);
            o->gpus = optarg;
            break;
        case 'L': break; /* nvidia-smi -L: the default */
        case O_GI: o->mode = LIST_GI, modes++; break;
        case O_CI: o->mode = LIST_CI, modes++; break;
        case O_CIP: o->mode = LIST_CIP, modes++; break;
        case O_CIPP: o->mode = LIST_CIPP, modes++; break;
        case O_GIID:
            if (parse_ids(optarg, o->gi, &o->n_gi, sizeof o->gi / sizeof o->gi[0]) < 0)
                return cli_usage_error(VERB, "--gi-id takes GPU instance ids (2 or 2,3), not "
                                             "'%s'", optarg);
            break;
        case O_JSON: o->json = true; break;
        case 'h': usage(stdout); return 1;
        default: return cli_option_error(VERB, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]);
    if (modes > 1)
        return cli_usage_error(VERB, "-lgi, -lci, -lcip and -lcipp exclude each other");
    if (o->n_gi && o->mode == LIST_L)
        return cli_usage_error(VERB, "--gi-id filters -lgi, -lci, -lcip or -lcipp");
    return 0;
}

static bool gi_wanted(const list_opts *o, unsigned id)
{
    if (!o->n_gi)
        return true;
    for (unsigned i = 0; i < o->n_gi; i++)
        if (o->gi[i] == id)
            return true;
    return false;
}

/* GIs of g in nvidia-smi's order: by profile as -lgip lists them, then id. */
static unsigned gi_order(const mig_gpu_state *g, unsigned *ord)
{
    unsigned n = g->n_gi;
    int pos[MIG_MAX_GI];
    for (unsigned i = 0; i < n; i++) {
        ord[i] = i;
        pos[i] = g->model ? mig_profile_pos(g->model, mig_profile_by_id(g->model,
                                                                        g->gi[i].profile_id))
                          : 0;
    }
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0; j--) {
            unsigned a = ord[j - 1], b = ord[j];
            bool swap = pos[b] < pos[a] || (pos[b] == pos[a] && g->gi[b].id < g->gi[a].id);
            if (!swap)
                break;
            ord[j - 1] = b;
            ord[j] = a;
        }
    return n;
}

/* ---- nvidia-smi -L ---- */

static void print_L(const mig_gpu_state *gs, const unsigned *sel, unsigned n, json_t *js)
{
    for (unsigned k = 0; k < n; k++) {
        const mig_gpu_state *g = &gs[sel[k]];
        json_t *devs = js ? json_array() : NULL;
        if (js)
            json_array_append_new(js, json_pack("{s:i,s:s,s:s,s:s,s:b,s:o}", "index",
                                                (int)g->index, "name", g->name, "uuid", g->uuid,
                                                "bus_id", g->bus_id, "mig", g->mig_current,
                                                "mig_devices", devs));
        else
            printf("GPU %u: %s (UUID: %s)\n", g->index, g->name, g->uuid);
        if (!g->mig_current)
            continue;
        /* MIG devices numbered in GI-id order, then CI id. */
        unsigned gi_by_id[MIG_MAX_GI], ngi = g->n_gi;
        for (unsigned i = 0; i < ngi; i++)
            gi_by_id[i] = i;
        for (unsigned i = 1; i < ngi; i++)
            for (unsigned j = i; j > 0 && g->gi[gi_by_id[j]].id < g->gi[gi_by_id[j - 1]].id; j--) {
                unsigned t = gi_by_id[j];
                gi_by_id[j] = gi_by_id[j - 1];
                gi_by_id[j - 1] = t;
            }
        unsigned dev = 0;
        for (unsigned i = 0; i < ngi; i++) {
            const mig_gi_state *gi = &g->gi[gi_by_id[i]];
            unsigned ord[MIG_MAX_CI];
            for (unsigned c = 0; c < gi->n_ci; c++)
                ord[c] = c;
            for (unsigned c = 1; c < gi->n_ci; c++)
                for (unsigned j = c; j > 0 && gi->ci[ord[j]].id < gi->ci[ord[j - 1]].id; j--) {
                    unsigned t = ord[j];
                    ord[j] = ord[j - 1];
                    ord[j - 1] = t;
                }
            for (unsigned c = 0; c < gi->n_ci; c++, dev++) {
                const mig_ci_state *ci = &gi->ci[ord[c]];
                char name[MIG_NAME_LEN + 8];
                ci_state_name(g->model, gi, ci, name, sizeof name);
                if (js)
                    json_array_append_new(devs, json_pack("{s:i,s:s,s:i,s:i,s:s}", "device",
                                                          (int)dev, "profile", name, "gi",
                                                          (int)gi->id, "ci", (int)ci->id, "uuid",
                                                          ci->uuid));
                else
                    printf("  MIG %-12sDevice %2u: (UUID: %s)\n", name, dev, ci->uuid);
            }
        }
    }
}

/* ---- nvidia-smi mig -lgi ---- */

static const char *GI_RULE = "+---------------------------------------------------------+\n";

static int print_lgi(const list_opts *o, const mig_gpu_state *gs, const unsigned *sel, unsigned n,
                     json_t *js)
{
    unsigned rows = 0, mig_on = 0;
    for (unsigned k = 0; k < n; k++) {
        const mig_gpu_state *g = &gs[sel[k]];
        if (!g->mig_current)
            continue;
        mig_on++;
        unsigned ord[MIG_MAX_GI];
        unsigned ngi = gi_order(g, ord);
        for (unsigned i = 0; i < ngi; i++) {
            const mig_gi_state *gi = &g->gi[ord[i]];
            if (!gi_wanted(o, gi->id))
                continue;
            const mig_gi_profile *p = g->model ? mig_profile_by_id(g->model, gi->profile_id) : NULL;
            char name[MIG_NAME_LEN + 8], place[16];
            snprintf(name, sizeof name, "MIG %s", p ? p->name : "?");
            snprintf(place, sizeof place, "%u:%u", gi->start, gi->size);
            if (js) {
                json_array_append_new(js, json_pack("{s:i,s:i,s:s,s:i,s:{s:i,s:i}}", "gpu",
                                                    (int)g->index, "gi", (int)gi->id, "profile",
                                                    p ? p->name : "?", "profile_id",
                                                    (int)gi->profile_id, "placement", "start",
                                                    (int)gi->start, "size", (int)gi->size));
                rows++;
                continue;
            }
            if (rows++ == 0)
                fputs(GI_RULE, stdout), fputs("| GPU instances:                                          |\n"
                      "| GPU   Name               Profile  Instance   Placement  |\n"
                      "|                            ID       ID       Start:Size |\n"
                      "|=========================================================|\n",
                      stdout);
            printf("|%4u  %-20s%4u%9u          %-8s|\n", g->index, name, gi->profile_id, gi->id,
                   place);
            fputs(GI_RULE, stdout);
        }
    }
    if (js)
        return 0;
    if (!mig_on)
        printf("No MIG-enabled devices found.\n");
    else if (!rows)
        printf("No GPU instances found: Not Found\n");
    return 0;
}

/* ---- nvidia-smi mig -lci ---- */

static const char *CI_RULE =
    "+--------------------------------------------------------------------+\n";

static int print_lci(const list_opts *o, const mig_gpu_state *gs, const unsigned *sel, unsigned n,
                     json_t *js)
{
    unsigned rows = 0, mig_on = 0;
    for (unsigned k = 0; k < n; k++) {
        const mig_gpu_state *g = &gs[sel[k]];
        if (!g->mig_current)
            continue;
        mig_on++;
        unsigned ord[MIG_MAX_GI];
        unsigned ngi = gi_order(g, ord);
        for (unsigned i = 0; i < ngi; i++) {
            const mig_gi_state *gi = &g->gi[ord[i]];
            if (!gi_wanted(o, gi->id))
                continue;
            for (unsigned c = 0; c < gi->n_ci; c++) {
                const mig_ci_state *ci = &gi->ci[c];
                char name[MIG_NAME_LEN + 8], full[MIG_NAME_LEN + 16], place[16];
                ci_state_name(g->model, gi, ci, name, sizeof name);
                snprintf(full, sizeof full, "MIG %.39s", name);
                snprintf(place, sizeof place, "%u:%u", ci->start, ci->slices);
                if (js) {
                    json_array_append_new(
                        js, json_pack("{s:i,s:i,s:i,s:s,s:i,s:s,s:{s:i,s:i}}", "gpu",
                                      (int)g->index, "gi", (int)gi->id, "ci", (int)ci->id,
                                      "profile", name, "profile_id", (int)ci->profile_id, "uuid",
                                      ci->uuid, "placement", "start", (int)ci->start, "size",
                                      (int)ci->slices));
                    rows++;
                    continue;
                }
                if (rows++ == 0)
                    fputs(CI_RULE, stdout),
                        fputs("| Compute instances:                                                 |\n"
                              "| GPU     GPU       Name             Profile   Instance   Placement  |\n"
                              "|       Instance                       ID        ID       Start:Size |\n"
                              "|         ID                                                         |\n"
                              "|====================================================================|\n",
                              stdout);
                printf("|%4u%7u       %-18s%4u%10u          %-8s|\n", g->index, gi->id, full,
                       ci->profile_id, ci->id, place);
                fputs(CI_RULE, stdout);
            }
        }
    }
    if (js)
        return 0;
    if (!mig_on)
        printf("No MIG-enabled devices found.\n");
    else if (!rows)
        printf("No compute instances found: Not Found\n");
    return 0;
}

/* ---- nvidia-smi mig -lcip ---- */

static const char *CIP_RULE =
    "+--------------------------------------------------------------------------------------+\n";

/* How many more CIs of profile cp fit next to gi's CIs: its placements
 * taken lowest first (aligned, equal sizes: greedy is the maximum). */
static unsigned ci_free(const mig_gi_state *gi, const mig_ci_profile *cp)
{
    unsigned used = 0, n = 0;
    for (unsigned c = 0; c < gi->n_ci; c++)
        used |= ((1u << gi->ci[c].slices) - 1u) << gi->ci[c].start;
    for (unsigned s = 0; s < cp->n_starts; s++) {
        unsigned m = ((1u << cp->compute_slices) - 1u) << cp->starts[s];
        if (!(used & m)) {
            used |= m;
            n++;
        }
    }
    return n;
}

static int print_lcip(const list_opts *o, const mig_gpu_state *gs, const unsigned *sel,
                      unsigned n, json_t *js)
{
    unsigned rows = 0, mig_on = 0;
    for (unsigned k = 0; k < n; k++) {
        const mig_gpu_state *g = &gs[sel[k]];
        if (!g->mig_current || !g->model)
            continue;
        mig_on++;
        unsigned ord[MIG_MAX_GI];
        unsigned ngi = gi_order(g, ord);
        for (unsigned i = 0; i < ngi; i++) {
            const mig_gi_state *gi = &g->gi[ord[i]];
            const mig_gi_profile *p = mig_profile_by_id(g->model, gi->profile_id);
            if (!p || !gi_wanted(o, gi->id))
                continue;
            mig_ci_profile cps[MIG_MAX_CI_PROFILES];
            unsigned ncp = mig_ci_profiles(g->model, p, cps);
            for (unsigned c = 0; c < ncp; c++) {
                const mig_ci_profile *cp = &cps[c];
                unsigned fr = ci_free(gi, cp);
                if (js) {
                    json_array_append_new(
                        js, json_pack("{s:i,s:i,s:s,s:i,s:b,s:i,s:i,s:i}", "gpu", (int)g->index,
                                      "gi", (int)gi->id, "profile", cp->name, "profile_id",
                                      (int)cp->id, "default", cp->is_default, "free", (int)fr,
                                      "total", (int)cp->instance_count, "sm_count",
                                      (int)cp->sm_count));
                    rows++;
                    continue;
                }
                if (rows++ == 0)
                    fputs(CIP_RULE, stdout),
                        fputs("| Compute instance profiles:                                                           |\n"
                              "| GPU     GPU       Name             Profile  Instances   Exclusive       Shared       |\n"
                              "|       Instance                       ID     Free/Total     SM       DEC   ENC   OFA  |\n"
                              "|         ID                                                          CE    JPEG       |\n"
                              "|======================================================================================|\n",
                              stdout);
                char name[MIG_NAME_LEN + 8], ft[16], sm[16];
                snprintf(name, sizeof name, "MIG %.31s", cp->name);
                snprintf(ft, sizeof ft, "%u/%u", fr, cp->instance_count);
                snprintf(sm, sizeof sm, "%u", cp->sm_count);
                printf("|%4u%7u       %-21s%u%c     %-14s%-10s%-6u%-6u%-4u|\n", g->index, gi->id,
                       name, cp->id, cp->is_default ? '*' : ' ', ft, sm, p->decoders,
                       p->encoders, p->ofa);
                printf("|%70s%-6u%-6u%4s|\n", "", p->copy_engines, p->jpeg, "");
                fputs(CIP_RULE, stdout);
            }
        }
    }
    if (js)
        return 0;
    if (!mig_on)
        printf("No MIG-enabled devices found.\n");
    else if (!rows)
        printf("No GPU instances found: Not Found\n");
    return 0;
}

/* ---- nvidia-smi mig -lcipp ---- */

/* "GPU  0 GI  1 Profile ID  0 Placements: {0,1,2}:1", singular and padded
 * for one placement, as -lgipp prints; every placement, whatever is used. */
static int print_lcipp(const list_opts *o, const mig_gpu_state *gs, const unsigned *sel,
                       unsigned n, json_t *js)
{
    unsigned rows = 0, mig_on = 0;
    for (unsigned k = 0; k < n; k++) {
        const mig_gpu_state *g = &gs[sel[k]];
        if (!g->mig_current || !g->model)
            continue;
        mig_on++;
        unsigned ord[MIG_MAX_GI];
        unsigned ngi = gi_order(g, ord);
        for (unsigned i = 0; i < ngi; i++) {
            const mig_gi_state *gi = &g->gi[ord[i]];
            const mig_gi_profile *p = mig_profile_by_id(g->model, gi->profile_id);
            if (!p || !gi_wanted(o, gi->id))
                continue;
            mig_ci_profile cps[MIG_MAX_CI_PROFILES];
            unsigned ncp = mig_ci_profiles(g->model, p, cps);
            for (unsigned c = 0; c < ncp; c++, rows++) {
                const mig_ci_profile *cp = &cps[c];
                char starts[64] = "";
                size_t used = 0;
                json_t *pl = js ? json_array() : NULL;
                for (unsigned s = 0; s < cp->n_starts && used < sizeof starts; s++) {
                    used += (size_t)snprintf(starts + used, sizeof starts - used, "%s%u",
                                             s ? "," : "", cp->starts[s]);
                    if (pl)
                        json_array_append_new(pl, json_pack("{s:i,s:i}", "start",
                                                            (int)cp->starts[s], "size",
                                                            (int)cp->compute_slices));
                }
                if (js)
                    json_array_append_new(js, json_pack("{s:i,s:i,s:s,s:i,s:o}", "gpu",
                                                        (int)g->index, "gi", (int)gi->id,
                                                        "profile", cp->name, "profile_id",
                                                        (int)cp->id, "placements", pl));
                else
                    printf("GPU %2u GI %2u Profile ID %2u %s {%s}:%u\n", g->index, gi->id, cp->id,
                           cp->n_starts == 1 ? "Placement :" : "Placements:", starts,
                           cp->compute_slices);
            }
        }
    }
    if (js)
        return 0;
    if (!mig_on)
        printf("No MIG-enabled devices found.\n");
    else if (!rows)
        printf("No GPU instances found: Not Found\n");
    return 0;
}

int cmd_list(int argc, char **argv, cli_globals *g)
{
    list_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    mig_error e = {0};
    mig_backend *b;
    if (cli_open_backend(g, &b, &e) < 0)
        return cli_report(VERB, &e);
    unsigned sel[MIG_SELECT_MAX], n_sel = 0, n = 0;
    mig_gpu_state *gs = NULL;
    rc = cli_gpu_select(b, o.gpus ? o.gpus : "all", true, sel, &n_sel, &e);
    if (rc == 0)
        rc = cli_read_states(b, &gs, &n, &e);
    backend_close(b);
    if (rc < 0)
        return cli_report(VERB, &e);
    json_t *rows = o.json ? json_array() : NULL;
    switch (o.mode) {
    case LIST_L: print_L(gs, sel, n_sel, rows); break;
    case LIST_GI: print_lgi(&o, gs, sel, n_sel, rows); break;
    case LIST_CI: print_lci(&o, gs, sel, n_sel, rows); break;
    case LIST_CIP: print_lcip(&o, gs, sel, n_sel, rows); break;
    case LIST_CIPP: print_lcipp(&o, gs, sel, n_sel, rows); break;
    }
    if (rows) {
        static const char *keys[] = {"gpus", "gpu_instances", "compute_instances",
                                     "compute_instance_profiles", "compute_instance_placements"};
        json_t *root = json_object();
        json_object_set_new(root, keys[o.mode], rows);
        cli_print_json(root);
    }
    free(gs);
    return 0;
}
