/*
 * cmd_assert.c: `migctl assert -f FILE [-c NAME] [--placements] [--json]`:
 * does every GPU the config selects look the way it says?
 *
 * Reads each GPU's state through the backend, resolves the config entry
 * that selects it (apply/desired.c) and compares: MIG mode, and the GPU
 * instances with the compute instances in each (counts; with --placements
 * the pinned "@start" placements too). GPUs no entry selects are ignored, so
 * configs naming only some GPUs assert correctly (unlike mig-parted #157).
 * Exit 0 when all match, 1 with one drift line per GPU that does not (or
 * when the config selects no GPU at all: nothing was checked), 2 on bad
 * input with file:line:col, 3 when the backend fails.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/migparted.h"
#include "apply/reconcile.h"

#define VERB "assert"

typedef struct {
    const char *file;
    const char *config;
    bool placements, json;
} assert_opts;

typedef struct {
    unsigned index;
    bool selected, match;
    char drift[640];
    char has[256], wants[256];
} gpu_verdict;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl assert -f FILE [-c NAME] [--placements] [--json]\n\n"
            "Check that the GPUs match a mig-parted v1 config: exit 0 when every GPU the\n"
            "config selects matches, 1 with a drift report per GPU when not.\n"
            "GPUs the config does not select are ignored.\n\n"
            "  -f, --config-file FILE   the config (\"-\" reads standard input)\n"
            "  -c, --selected-config NAME\n"
            "                           the named config (optional if the file has one)\n"
            "  --placements             pinned placements (\"3g.40gb@4\") must match too\n"
            "  --json                   {\"result\": \"match\"|\"drift\", \"config\", \"placements\",\n"
            "                           \"gpus\": [{\"index\", \"selected\", \"match\", \"has\",\n"
            "                           \"wants\", \"drift\"}]}\n");
}

/* 0 parsed, -1 --help shown, else the exit code of a usage error. */
static int parse_opts(int argc, char **argv, assert_opts *o, int *code)
{
    static const struct option longs[] = {
        {"config-file", required_argument, NULL, 'f'},
        {"selected-config", required_argument, NULL, 'c'},
        {"placements", no_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":f:c:h", longs, NULL)) != -1) {
        switch (c) {
        case 'f': o->file = optarg; break;
        case 'c': o->config = optarg; break;
        case 'p': o->placements = true; break;
        case 'j': o->json = true; break;
        case 'h': usage(stdout); return cli_stop(code, 0);
        default: return cli_stop(code, cli_option_error(VERB, c, argv));
        }
    }
    if (optind < argc)
        return cli_stop(code, cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]));
    if (!o->file)
        return cli_stop(code, cli_usage_error(VERB, "-f FILE is required"));
    return 0;
}

/* Compare one GPU; -1 on a bad config key (e set, with the file's name). */
static int judge_gpu(const cfg_config *c, const char *path, const mig_gpu_state *g,
                     bool placements, gpu_verdict *v, mig_error *e)
{
    memset(v, 0, sizeof *v);
    v->index = g->index;
    mig_desired_gpu d;
    if (desired_from_config(c, g, &d, e) < 0) {
        reconcile_error_in_file(e, path);
        return -1;
    }
    v->selected = d.selected;
    v->match = desired_satisfied(g, &d, placements, v->drift, sizeof v->drift);
    if (!d.selected)
        return 0;
    if (g->model && g->mig_current)
        state_format_counts(g, v->has, sizeof v->has);
    else
        snprintf(v->has, sizeof v->has, "%s", g->mig_current ? "MIG on" : "MIG off");
    if (d.impossible)
        snprintf(v->wants, sizeof v->wants, "impossible");
    else if (!d.mig_enabled)
        snprintf(v->wants, sizeof v->wants, "MIG off");
    else
        desired_format_counts(g->model, &d, v->wants, sizeof v->wants);
    return 0;
}

static int read_verdicts(cli_globals *gl, const cfg_config *c, const char *path, bool placements,
                         gpu_verdict **out, unsigned *n_out, mig_error *e)
{
    mig_backend *b;
    if (cli_open_backend(gl, &b, e) < 0)
        return -1;
    cli_warn_unmatched("assert", path, c, b);
    unsigned n = 0;
    int rc = b->ops->gpu_count(b, &n, e);
    gpu_verdict *v = rc == 0 ? calloc(n ? n : 1, sizeof *v) : NULL;
    mig_gpu_state *g = rc == 0 ? malloc(sizeof *g) : NULL;
    if (rc == 0 && (!v || !g))
        rc = mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        rc = b->ops->gpu_state(b, i, g, e);
        if (rc < 0)
            mig_error_prefix(e, "GPU %u", i);
        else if ((rc = cfg_check_overlap(c, g, 1, e)) < 0)
            mig_error_prefix(e, "%s", path);
        else
            rc = judge_gpu(c, path, g, placements, &v[i], e);
    }
    free(g);
    backend_close(b);
    if (rc < 0) {
        free(v);
        return -1;
    }
    *out = v;
    *n_out = n;
    return 0;
}

static void print_text(const gpu_verdict *v, unsigned n, const char *config)
{
    unsigned selected = 0, bad = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!v[i].selected)
            continue;
        selected++;
        if (v[i].match) {
            printf("GPU %u: ok (%s)\n", v[i].index, v[i].has);
        } else {
            bad++;
            printf("GPU %u: %s\n", v[i].index, v[i].drift);
        }
    }
    if (selected == 0)
        printf("config '%s' selects no GPU here: nothing to assert\n", config);
    else if (bad)
        printf("assertion failure: %u of %u selected GPU%s drift%s from config '%s'\n", bad,
               selected, selected == 1 ? "" : "s", bad == 1 ? "s" : "", config);
    else
        printf("config '%s' is applied: %u GPU%s match\n", config, selected,
               selected == 1 ? "" : "s");
}

static int print_json(const gpu_verdict *v, unsigned n, const char *config, bool placements,
                      bool ok)
{
    json_t *gpus = json_array();
    for (unsigned i = 0; gpus && i < n; i++) {
        json_t *o = json_pack("{s:I, s:b}", "index", (json_int_t)v[i].index, "selected",
                              v[i].selected);
        if (o && v[i].selected) {
            json_object_set_new(o, "match", json_boolean(v[i].match));
            json_object_set_new(o, "has", json_string(v[i].has));
            json_object_set_new(o, "wants", json_string(v[i].wants));
            if (!v[i].match)
                json_object_set_new(o, "drift", json_string(v[i].drift));
        }
        json_array_append_new(gpus, o);
    }
    json_t *root = json_pack("{s:s, s:s, s:b, s:o}", "result", ok ? "match" : "drift", "config",
                             config, "placements", placements, "gpus", gpus ? gpus : json_array());
    if (!root)
        return -1;
    json_dumpf(root, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(root);
    return 0;
}

int cmd_assert(int argc, char **argv, cli_globals *g)
{
    assert_opts o = {0};
    int rc;
    if (parse_opts(argc, argv, &o, &rc) < 0)
        return rc;
    mig_error e = {0};
    cfg_file f;
    if (cfg_parse_file(o.file, &f, &e) < 0)
        return cli_report(VERB, &e);
    const cfg_config *c = cfg_select(&f, o.config, &e);
    gpu_verdict *v = NULL;
    unsigned n = 0;
    if (!c || read_verdicts(g, c, f.path ? f.path : o.file, o.placements, &v, &n, &e) < 0) {
        cfg_free(&f);
        return cli_report(VERB, &e);
    }
    bool ok = true, any = false;
    for (unsigned i = 0; i < n; i++) {
        any = any || v[i].selected;
        ok = ok && (!v[i].selected || v[i].match);
    }
    ok = ok && any;
    if (o.json)
        print_json(v, n, c->name, o.placements, ok);
    else
        print_text(v, n, c->name);
    free(v);
    cfg_free(&f);
    return ok ? 0 : 1;
}
