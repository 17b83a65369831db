/*
 * cmd_profiles.c: `migctl profiles`: the GPU-instance profiles of a model
 * (--model, offline, from the catalogue) or of a live GPU (-i N, from the
 * backend, with how many more of each fit now), as a table, as JSON
 * (docs/design.md contract), or as `nvidia-smi mig -lgip` + `-lgipp` text.
 *
 * Both sources are turned into one mig_model value (for a live GPU: its
 * catalogue entry with the profile table replaced by what the backend
 * reports) plus a per-profile "free" count, so the three printers never
 * care where the numbers came from.
 *
 * Several at once, as nvidia-smi mig -lgip lists every GPU: -i takes a
 * comma list of indexes, UUIDs or PCI bus ids (or 'all'), --model a comma
 * list of models, and --smi with neither lists every GPU. The nvidia-smi
 * form is then one -lgip table with each GPU's blocks in turn, then every
 * GPU's -lgipp lines; --json gives {"profiles": [one object per GPU or
 * model]} (one GPU or model: that object, as before).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/gpu_select.h"
#include "model/catalogue.h"
#include "model/gpu_state.h"

#define VERB "profiles"

typedef struct {
    const char *model;
    bool have_gpu;
    const char *gpu_text;
    bool json, smi, ci;
} profiles_opts;

/* What the printers show: a model, per-profile free counts, and where it came from. */
typedef struct {
    mig_model model;
    unsigned free[MIG_MAX_PROFILES];
    unsigned gpu;        /* GPU index printed in the nvidia-smi form */
    const char *backend; /* NULL when offline */
    char gpu_name[96];
} profiles_view;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl profiles --model NAME[,NAME...] [--json | --smi] [--ci]\n"
            "       migctl profiles -i GPUS [--json | --smi] [--ci]\n"
            "       migctl profiles --smi   (every GPU, as nvidia-smi mig -lgip)\n\n"
            "GPU-instance profiles of a GPU model (offline, from the catalogue) or of a live GPU\n"
            "(through the backend, with the number of each that can still be created).\n\n"
            "  -m, --model NAME  catalogue model, e.g. H100-SXM5-80GB (see 'migctl models');\n"
            "                    several comma separated\n"
            "  -i, --id GPUS     GPU indexes, UUIDs or PCI bus ids on the current backend,\n"
            "                    comma separated, or 'all'\n"
            "      --json        {\"model\", \"gpu_instance_profiles\": [{\"name\", \"id\", \"index\",\n"
            "                    \"compute_slices\", \"memory_slices\", \"memory_mib\", \"sm_count\",\n"
            "                    \"instance_count\", \"copy_engines\", \"decoders\", \"encoders\", \"jpeg\",\n"
            "                    \"ofa\", \"placements\": [{\"start\", \"size\"}]}]}; with -i also \"backend\",\n"
            "                    \"gpu\" and \"free\" per profile\n"
            "      --smi         print as 'nvidia-smi mig -lgip' followed by '-lgipp'\n"
            "      --ci          also list the compute-instance profiles inside each GPU instance\n"
            "                    (JSON: \"compute_instance_profiles\" per profile)\n");
}

static int parse_opts(int argc, char **argv, profiles_opts *o, int *code)
{
    static const struct option longs[] = {
        {"model", required_argument, NULL, 'm'}, {"id", required_argument, NULL, 'i'},
        {"gpu", required_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'j'},        {"smi", no_argument, NULL, 's'},
        {"ci", no_argument, NULL, 'c'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":m:i:h", longs, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'i':
            if (!cli_gpu_text_ok(optarg, true))
                return cli_stop(code, cli_usage_error(VERB, "-i needs GPU indexes, UUIDs or PCI "
                                                            "bus ids, got '%s'", optarg));
            o->gpu_text = optarg;
            o->have_gpu = true;
            break;
        case 'j': o->json = true; break;
        case 's': o->smi = true; break;
        case 'c': o->ci = true; break;
        case 'h': usage(stdout); return cli_stop(code, 0);
        default: return cli_stop(code, cli_option_error(VERB, c, argv));
        }
    }
    if (optind < argc)
        return cli_stop(code, cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]));
    if (!o->model && !o->have_gpu && o->smi) {
        o->gpu_text = "all"; /* nvidia-smi mig -lgip: every GPU */
        o->have_gpu = true;
    }
    if (!o->model && !o->have_gpu)
        return cli_stop(code, cli_usage_error(VERB, "give --model NAME or -i N"));
    if (o->model && o->have_gpu)
        return cli_stop(code, cli_usage_error(VERB, "--model and -i exclude each other"));
    if (o->json && o->smi)
        return cli_stop(code, cli_usage_error(VERB, "--json and --smi exclude each other"));
    if (o->smi && o->ci)
        return cli_stop(code, cli_usage_error(VERB, "--ci has no nvidia-smi form here (nvidia-smi lists CI "
                                     "profiles only per live GPU instance)"));
    return 0;
}

/* ---- where the numbers come from ---- */

static int view_offline(const char *name, profiles_view *v, mig_error *e)
{
    const mig_model *m = mig_model_find(name, e);
    if (!m)
        return -1;
    v->model = *m;
    for (unsigned i = 0; i < m->n_profiles; i++)
        v->free[i] = m->profiles[i].instance_count;
    v->gpu = 0;
    snprintf(v->gpu_name, sizeof v->gpu_name, "%s", m->nvml_name);
    return 0;
}

static int view_live_gpu(mig_backend *b, unsigned idx, profiles_view *v, mig_error *e)
{
    unsigned count;
    if (b->ops->gpu_count(b, &count, e) < 0)
        return -1;
    if (idx >= count)
        return mig_fail(e, MIG_ERR_INPUT, "GPU index %u out of range (%u GPU%s: 0-%u)", idx, count,
                        count == 1 ? "" : "s", count ? count - 1 : 0);
    mig_gpu_state *st = calloc(1, sizeof *st);
    if (!st)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    int rc = b->ops->gpu_state(b, idx, st, e);
    if (rc == 0) {
        if (st->model) {
            v->model = *st->model;
        } else {
            memset(&v->model, 0, sizeof v->model);
            v->model.name = "unknown";
            v->model.nvml_name = "unknown";
            v->model.memory_bytes = st->memory_bytes;
        }
        snprintf(v->gpu_name, sizeof v->gpu_name, "%s", st->name);
    }
    free(st);
    if (rc < 0)
        return -1;
    unsigned n = MIG_MAX_PROFILES;
    if (b->ops->gi_profiles(b, idx, v->model.profiles, &n, e) < 0)
        return -1;
    v->model.n_profiles = n;
    for (unsigned i = 0; i < n; i++)
        if (b->ops->remaining_capacity(b, idx, v->model.profiles[i].id, &v->free[i], e) < 0)
            return -1;
    v->gpu = idx;
    v->backend = b->ops->name;
    return 0;
}

#define VIEWS_MAX 64

/* Every GPU -i names, or every model --model names: views v[0..*n). */
static int views_get(cli_globals *g, const profiles_opts *o, profiles_view *v, unsigned *n,
                     mig_error *e)
{
    *n = 0;
    if (o->model) {
        char buf[1024], *save = NULL;
        snprintf(buf, sizeof buf, "%s", o->model);
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (*n == VIEWS_MAX)
                return mig_fail(e, MIG_ERR_INPUT, "at most %d models at once", VIEWS_MAX);
            if (view_offline(t, &v[*n], e) < 0)
                return -1;
            v[*n].gpu = *n; /* the nvidia-smi form numbers models as GPUs */
            (*n)++;
        }
        return 0;
    }
    mig_backend *b;
    if (cli_open_backend(g, &b, e) < 0)
        return -1;
    unsigned sel[MIG_SELECT_MAX], n_sel = 0;
    int rc = cli_gpu_select(b, o->gpu_text, true, sel, &n_sel, e);
    for (unsigned k = 0; rc == 0 && k < n_sel && k < VIEWS_MAX; k++)
        if ((rc = view_live_gpu(b, sel[k], &v[*n], e)) == 0)
            (*n)++;
    backend_close(b);
    return rc;
}

/* ---- printers ---- */

static void starts_text(const unsigned char *starts, unsigned n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? "," : "", starts[i]);
}

/* nvidia-smi mig -lgip, the 81-column layout of drivers R550 and later
 * (reference/nvidia-smi-mig-cli.md section 3), then -lgipp (section 4). */
/* One view's -lgip blocks. */
static void print_lgip_blocks(const profiles_view *v, const char *rule)
{
    const mig_model *m = &v->model;
    for (unsigned i = 0; i < m->n_profiles; i++) {
        const mig_gi_profile *p = &m->profiles[i];
        char name[MIG_NAME_LEN + 8], avail[24], gib[24];
        snprintf(name, sizeof name, "MIG %s", p->name);
        snprintf(avail, sizeof avail, "%u/%u", v->free[i], p->instance_count);
        snprintf(gib, sizeof gib, "%.2f", (double)p->memory_mib / 1024.0);
        printf("|%4u  %-18s%4u     %-11s%-11s%-7s%-7u%-6u%-4u|\n", v->gpu, name, p->id, avail, gib,
               p->p2p ? "Yes" : "No", p->sm_count, p->decoders, p->encoders);
        printf("|%62s%2u%5s%-6u%-4u|\n", "", p->copy_engines, "", p->jpeg, p->ofa);
        fputs(rule, stdout);
    }
}

/* One view's -lgipp lines. */
static void print_lgipp(const profiles_view *v)
{
    const mig_model *m = &v->model;
    for (unsigned i = 0; i < m->n_profiles; i++) {
        const mig_gi_profile *p = &m->profiles[i];
        char starts[64];
        starts_text(p->starts, p->n_starts, starts, sizeof starts);
        printf("GPU %2u Profile ID %2u %s {%s}:%u\n", v->gpu, p->id,
               p->n_starts == 1 ? "Placement :" : "Placements:", starts, p->memory_slices);
    }
}

/* nvidia-smi mig -lgip over every view (one table), then -lgipp. */
static void print_smi(const profiles_view *views, unsigned n_views)
{
    static const char *rule =
        "+-------------------------------------------------------------------------------+\n";
    fputs(rule, stdout);
    fputs("| GPU instance profiles:                                                        |\n"
          "| GPU   Name               ID    Instances   Memory     P2P    SM    DEC   ENC  |\n"
          "|                                Free/Total   GiB              CE    JPEG  OFA  |\n"
          "|===============================================================================|\n",
          stdout);
    for (unsigned k = 0; k < n_views; k++)
        print_lgip_blocks(&views[k], rule);
    for (unsigned k = 0; k < n_views; k++)
        print_lgipp(&views[k]);
}

static void print_ci_rows(const mig_model *m, const mig_gi_profile *p)
{
    mig_ci_profile cis[MIG_MAX_CI_PROFILES];
    unsigned n = mig_ci_profiles(m, p, cis);
    for (unsigned k = 0; k < n; k++) {
        char starts[64];
        starts_text(cis[k].starts, cis[k].n_starts, starts, sizeof starts);
        printf("    ci %-2u %-18s %2u compute slice%s  SM %-4u fits %u  at {%s}:%u%s\n", cis[k].id,
               cis[k].name, cis[k].compute_slices, cis[k].compute_slices == 1 ? " " : "s",
               cis[k].sm_count, cis[k].instance_count, starts, cis[k].compute_slices,
               cis[k].is_default ? "  (default)" : "");
    }
}

static void print_table(const profiles_view *v, bool with_ci)
{
    const mig_model *m = &v->model;
    if (v->backend)
        printf("GPU %u: %s (%s), backend %s\n", v->gpu, v->gpu_name, m->name, v->backend);
    else
        printf("%s: %s, %s\n", m->name, m->nvml_name, mig_arch_name(m->arch));
    printf("%u memory slices, %u compute slices, %u SMs, at most %u GPU instances\n\n",
           m->memory_slices, m->compute_slices, m->sm_count, m->max_gis);
    printf("%-16s %3s %4s %7s %7s %8s %4s %3s %3s %3s %4s %3s  %-9s %s\n", "PROFILE", "ID", "IDX",
           "COMPUTE", "MEMORY", "MiB", "SM", "CE", "DEC", "ENC", "JPEG", "OFA",
           v->backend ? "FREE" : "INSTANCES", "PLACEMENTS {start}:size");
    for (unsigned i = 0; i < m->n_profiles; i++) {
        const mig_gi_profile *p = &m->profiles[i];
        char compute[16], memory[16], count[24], starts[64];
        snprintf(compute, sizeof compute, "%u/%u", p->compute_slices, m->compute_slices);
        snprintf(memory, sizeof memory, "%u/%u", p->memory_slices, m->memory_slices);
        if (v->backend)
            snprintf(count, sizeof count, "%u/%u", v->free[i], p->instance_count);
        else
            snprintf(count, sizeof count, "%u", p->instance_count);
        starts_text(p->starts, p->n_starts, starts, sizeof starts);
        printf("%-16s %3u %4u %7s %7s %8llu %4u %3u %3u %3u %4u %3u  %-9s {%s}:%u\n", p->name,
               p->id, p->index, compute, memory, p->memory_mib, p->sm_count, p->copy_engines,
               p->decoders, p->encoders, p->jpeg, p->ofa, count, starts, p->memory_slices);
        if (with_ci)
            print_ci_rows(m, p);
    }
}

static json_t *placements_json(const unsigned char *starts, unsigned n, unsigned size)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:i, s:i}", "start", (int)starts[i], "size", (int)size));
    return a;
}

static json_t *ci_profiles_json(const mig_model *m, const mig_gi_profile *p)
{
    mig_ci_profile cis[MIG_MAX_CI_PROFILES];
    unsigned n = mig_ci_profiles(m, p, cis);
    json_t *a = json_array();
    for (unsigned k = 0; k < n; k++)
        json_array_append_new(
            a, json_pack("{s:s, s:i, s:i, s:i, s:i, s:b, s:o}", "name", cis[k].name, "id",
                         (int)cis[k].id, "compute_slices", (int)cis[k].compute_slices, "sm_count",
                         (int)cis[k].sm_count, "instance_count", (int)cis[k].instance_count,
                         "default", cis[k].is_default, "placements",
                         placements_json(cis[k].starts, cis[k].n_starts, cis[k].compute_slices)));
    return a;
}

static json_t *gi_profile_json(const profiles_view *v, unsigned i, bool with_ci)
{
    const mig_gi_profile *p = &v->model.profiles[i];
    json_t *o = json_pack(
        "{s:s, s:i, s:i, s:i, s:i, s:I, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o}", "name", p->name,
        "id", (int)p->id, "index", (int)p->index, "compute_slices", (int)p->compute_slices,
        "memory_slices", (int)p->memory_slices, "memory_mib", (json_int_t)p->memory_mib,
        "sm_count", (int)p->sm_count, "instance_count", (int)p->instance_count, "copy_engines",
        (int)p->copy_engines, "decoders", (int)p->decoders, "encoders", (int)p->encoders, "jpeg",
        (int)p->jpeg, "ofa", (int)p->ofa, "placements",
        placements_json(p->starts, p->n_starts, p->memory_slices));
    json_object_set_new(o, "p2p", json_boolean(p->p2p));
    if (v->backend)
        json_object_set_new(o, "free", json_integer(v->free[i]));
    if (with_ci)
        json_object_set_new(o, "compute_instance_profiles", ci_profiles_json(&v->model, p));
    return o;
}

static json_t *view_json(const profiles_view *v, bool with_ci)
{
    json_t *root = json_object();
    json_object_set_new(root, "model", json_string(v->model.name));
    if (v->backend) {
        json_object_set_new(root, "backend", json_string(v->backend));
        json_object_set_new(root, "gpu", json_integer(v->gpu));
        json_object_set_new(root, "name", json_string(v->gpu_name));
    }
    json_t *list = json_array();
    for (unsigned i = 0; i < v->model.n_profiles; i++)
        json_array_append_new(list, gi_profile_json(v, i, with_ci));
    json_object_set_new(root, "gpu_instance_profiles", list);
    return root;
}

static int print_json(const profiles_view *v, unsigned n, bool with_ci)
{
    json_t *root;
    if (n == 1) {
        root = view_json(v, with_ci);
    } else {
        json_t *all = json_array();
        for (unsigned k = 0; k < n; k++)
            json_array_append_new(all, view_json(&v[k], with_ci));
        root = json_pack("{s:o}", "profiles", all);
    }
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    putchar('\n');
    return rc == 0 ? 0 : 3;
}

int cmd_profiles(int argc, char **argv, cli_globals *g)
{
    profiles_opts o = {0};
    int rc;
    if (parse_opts(argc, argv, &o, &rc) < 0)
        return rc;
    profiles_view *v = calloc(VIEWS_MAX, sizeof *v);
    unsigned n = 0;
    mig_error e = {0};
    if (!v) {
        mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        return cli_report(VERB, &e);
    }
    rc = views_get(g, &o, v, &n, &e);
    if (rc < 0) {
        free(v);
        return cli_report(VERB, &e);
    }
    if (o.json)
        rc = print_json(v, n, o.ci);
    else if (o.smi)
        print_smi(v, n);
    else
        for (unsigned k = 0; k < n; k++) {
            if (k)
                putchar('\n');
            print_table(&v[k], o.ci);
        }
    free(v);
    return rc;
}
