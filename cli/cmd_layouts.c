/*
 * cmd_layouts.c: `migctl layouts --model NAME`: every maximal layout of a
 * model (no GI of an allowed profile can be added), numbered and drawn as
 * slot maps, or as JSON, or just counted. Offline: reads the catalogue only,
 * never a backend. The enumeration itself is model/layout.c's; this verb
 * picks the profile set, collects the layouts and prints them.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/render.h"
#include "model/catalogue.h"
#include "model/layout.h"

#define VERB "layouts"

typedef struct {
    const char *model;
    const char *profiles;
    bool all_profiles, json, count;
} layouts_opts;

typedef struct {
    mig_layout *items;
    size_t n, cap;
} layout_list;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl layouts --model NAME [--all-profiles | --profiles P1,P2,...] [--json] [--count]\n\n"
            "Every maximal layout of a GPU model (one to which no GPU instance of the chosen\n"
            "profiles can be added), drawn as slot maps with its profile summary.\n\n"
            "  --model NAME      catalogue model, e.g. H100-SXM5-80GB (see 'migctl models')\n"
            "  --all-profiles    include the +me, +me.all, -me and +gfx variants\n"
            "  --profiles LIST   only these profiles (comma-separated names)\n"
            "                    default: the base profiles (no +me/+me.all/-me/+gfx)\n"
            "  --json            {\"model\", \"count\", \"layouts\": [{\"gpu_instances\": [{\"profile\",\n"
            "                    \"start\", \"size\"}], \"compute_used\", \"memory_used\"}]}\n"
            "  --count           print only the number of maximal layouts\n");
}

static int parse_opts(int argc, char **argv, layouts_opts *o, int *code)
{
    static const struct option longs[] = {
        {"model", required_argument, NULL, 'm'},    {"profiles", required_argument, NULL, 'p'},
        {"all-profiles", no_argument, NULL, 'a'},   {"json", no_argument, NULL, 'j'},
        {"count", no_argument, NULL, 'c'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":m:h", longs, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'p': o->profiles = optarg; break;
        case 'a': o->all_profiles = true; break;
        case 'j': o->json = true; break;
        case 'c': o->count = true; break;
        case 'h': usage(stdout); return cli_stop(code, 0);
        default: return cli_stop(code, cli_option_error(VERB, c, argv));
        }
    }
    if (optind < argc)
        return cli_stop(code, cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]));
    if (!o->model)
        return cli_stop(code, cli_usage_error(VERB, "--model NAME is required"));
    if (o->all_profiles && o->profiles)
        return cli_stop(code, cli_usage_error(VERB, "--all-profiles and --profiles exclude each other"));
    return 0;
}

static void profile_names(const mig_model *m, char *buf, size_t len)
{
    buf[0] = '\0';
    for (unsigned i = 0; i < m->n_profiles; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? ", " : "", m->profiles[i].name);
    }
}

/* --profiles "1g.10gb,3g.40gb" into allowed[]. */
static int parse_profile_list(const mig_model *m, const char *list, bool allowed[MIG_MAX_PROFILES],
                              mig_error *e)
{
    memset(allowed, 0, MIG_MAX_PROFILES * sizeof allowed[0]);
    bool any = false;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char name[MIG_NAME_LEN + 8];
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name - 1 ? len : sizeof name - 1), p);
        const mig_gi_profile *gp = len && len < sizeof name - 1 ? mig_profile_by_name(m, name) : NULL;
        if (!gp) {
            char names[1024];
            profile_names(m, names, sizeof names);
            return mig_fail(e, MIG_ERR_INPUT, "%s has no profile '%.*s' (profiles: %s)", m->name,
                            (int)len, p, names);
        }
        allowed[mig_profile_pos(m, gp)] = true;
        any = true;
        p += len + (p[len] == ',');
    }
    if (!any)
        return mig_fail(e, MIG_ERR_INPUT, "--profiles names no profile");
    return 0;
}

static int collect(const mig_layout *l, void *ctx)
{
    layout_list *list = ctx;
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 64;
        mig_layout *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return -1;
        list->items = items;
        list->cap = cap;
    }
    list->items[list->n++] = *l;
    return 0;
}

/* "2x1g.10gb + 1x2g.20gb + 1x3g.40gb", in the model's profile order. */
static void summary(const mig_model *m, const mig_layout *l, char *buf, size_t len)
{
    buf[0] = '\0';
    for (unsigned pos = 0; pos < m->n_profiles; pos++) {
        unsigned k = layout_count(l, pos);
        size_t used = strlen(buf);
        if (k)
            snprintf(buf + used, len - used, "%s%ux%s", used ? " + " : "", k, m->profiles[pos].name);
    }
    if (!buf[0])
        snprintf(buf, len, "(empty)");
}

static json_t *layout_json(const mig_model *m, const mig_layout *l)
{
    json_t *gis = json_array();
    for (unsigned i = 0; i < l->n; i++) {
        const mig_gi_profile *p = &m->profiles[l->gi[i].profile];
        json_array_append_new(gis, json_pack("{s:s, s:i, s:i}", "profile", p->name, "start",
                                             (int)l->gi[i].start, "size", (int)p->memory_slices));
    }
    return json_pack("{s:o, s:i, s:i}", "gpu_instances", gis, "compute_used",
                     (int)layout_compute_used(m, l), "memory_used", (int)layout_memory_used(m, l));
}

static int print_json(const mig_model *m, const layout_list *list, const bool *allowed, bool count_only)
{
    json_t *root = json_pack("{s:s, s:I}", "model", m->name, "count", (json_int_t)list->n);
    if (!count_only) {
        json_t *profiles = json_array(), *layouts = json_array();
        for (unsigned pos = 0; pos < m->n_profiles; pos++)
            if (allowed[pos])
                json_array_append_new(profiles, json_string(m->profiles[pos].name));
        for (size_t i = 0; i < list->n; i++)
            json_array_append_new(layouts, layout_json(m, &list->items[i]));
        json_object_set_new(root, "profiles", profiles);
        json_object_set_new(root, "layouts", layouts);
    }
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(root);
    return 0;
}

static void print_text(const mig_model *m, const layout_list *list, const bool *allowed, bool color)
{
    printf("%s: %zu maximal layout%s of", m->name, list->n, list->n == 1 ? "" : "s");
    for (unsigned pos = 0, first = 1; pos < m->n_profiles; pos++)
        if (allowed[pos]) {
            printf("%s %s", first ? "" : ",", m->profiles[pos].name);
            first = 0;
        }
    printf("\n");
    for (size_t i = 0; i < list->n; i++) {
        const mig_layout *l = &list->items[i];
        char sum[512];
        summary(m, l, sum, sizeof sum);
        printf("\n#%zu  %s   compute %u/%u   memory %u/%u\n", i + 1, sum, layout_compute_used(m, l),
               m->compute_slices, layout_memory_used(m, l), m->memory_slices);
        draw_layout(stdout, m, l, color);
    }
}

int cmd_layouts(int argc, char **argv, cli_globals *g)
{
    layouts_opts o = {0};
    int rc;
    if (parse_opts(argc, argv, &o, &rc) < 0)
        return rc;
    mig_error e = {0};
    const mig_model *m = mig_model_find(o.model, &e);
    if (!m)
        return cli_report(VERB, &e);
    bool allowed[MIG_MAX_PROFILES];
    if (o.profiles) {
        if (parse_profile_list(m, o.profiles, allowed, &e) < 0)
            return cli_report(VERB, &e);
    } else if (o.all_profiles) {
        for (unsigned pos = 0; pos < MIG_MAX_PROFILES; pos++)
            allowed[pos] = pos < m->n_profiles;
    } else {
        layout_base_profiles(m, allowed);
    }
    layout_list list = {0};
    if (layout_enumerate_maximal(m, allowed, collect, &list) != 0) {
        free(list.items);
        mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        return cli_report(VERB, &e);
    }
    if (o.json)
        print_json(m, &list, allowed, o.count);
    else if (o.count)
        printf("%zu\n", list.n);
    else
        print_text(m, &list, allowed, g->color);
    free(list.items);
    return 0;
}
