/*
 * workload.c: the planner's YAML inputs (workloads and fleet), parsed with
 * libyaml's document API into plain structs. Every check happens here, so
 * the engine can trust what it gets: unknown keys, duplicate keys and names,
 * wrong types, units and ranges, profiles that do not exist on the GPU's
 * model, and layouts that could not exist on it are all MIG_ERR_INPUT with
 * "file:line:col: what was expected".
 */
#include "config/workload.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "config/yamldoc.h"
#include "model/profile_name.h"
#include "util/strset.h"

/* ---------------------------------------------------------------- YAML */

/* Every YAML helper is config/yamldoc.h's (one set for every reader); these
 * two only say how this file's maps are walked. */

/* Workload, GPU and node maps have a dozen keys at most; the cap keeps
 * yd_key's pairwise duplicate check cheap on a hostile input. */
#define WL_MAX_MAP_KEYS 64

/* A map of at most WL_MAX_MAP_KEYS: `what` names it in messages. */
static int want_map(yd_doc *y, const yaml_node_t *n, const char *what)
{
    if (yd_want_map(y, n, what, "a map (key: value)") < 0)
        return -1;
    return yd_map_cap(y, n, what, WL_MAX_MAP_KEYS);
}

/* The list under the one top-level key `key`. */
static int top_list(yd_doc *y, const char *key, yaml_node_t **list)
{
    yaml_node_t *root = yd_root(y);
    if (!root)
        return yd_fail(y, NULL, "the file is empty; expected '%s:'", key);
    if (want_map(y, root, "the file") < 0)
        return -1;
    *list = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        const char *ks;
        if (yd_key(y, pr, root, "the top level", &ks) < 0)
            return -1;
        if (strcmp(ks, key))
            return yd_fail(y, yd_node(y, pr->key), "unknown key '%.60s' at the top level; "
                                                    "expected '%s'", ks, key);
        *list = yd_node(y, pr->value);
    }
    if (!*list)
        return yd_fail(y, root, "missing '%s:'; expected '%s:' and a list", key, key);
    return yd_want_list(y, *list, key, "a list");
}

/* ---------------------------------------------------------------- values */

int wl_parse_memory(const char *text, unsigned long long *mib)
{
    char *end;
    errno = 0;
    if (!text || !(isdigit((unsigned char)*text) || *text == '.'))
        return -1;
    double v = strtod(text, &end);
    if (errno || end == text || !isfinite(v) || v <= 0)
        return -1;
    while (*end == ' ')
        end++;
    static const struct {
        const char *unit;
        double bytes;
    } units[] = {
        {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
        {"KB", 1e3},     {"MB", 1e6},        {"GB", 1e9},           {"TB", 1e12},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcasecmp(end, units[i].unit)) {
            double m = ceil(v * units[i].bytes / 1048576.0 - 1e-9);
            if (m > 1e12)
                return -1;
            *mib = (unsigned long long)m;
            return 0;
        }
    return -1;
}

int wl_parse_fraction(const char *text, double *out)
{
    char *end;
    errno = 0;
    if (!text || !(isdigit((unsigned char)*text) || *text == '.'))
        return -1;
    double v = strtod(text, &end);
    if (errno || end == text || !isfinite(v))
        return -1;
    if (*end == '%') {
        v /= 100.0;
        end++;
    } else if (*end == '/') {
        char *e2;
        const char *d = end + 1;
        if (!isdigit((unsigned char)*d))
            return -1;
        double den = strtod(d, &e2);
        if (e2 == d || !isfinite(den) || den <= 0)
            return -1;
        v /= den;
        end = e2;
    }
    if (*end || v <= 0 || v > 1.0 + 1e-9)
        return -1;
    *out = v > 1.0 ? 1.0 : v;
    return 0;
}

static int want_number(yd_doc *y, const yaml_node_t *n, const char *what, double *out)
{
    const char *s = NULL;
    if (yd_value(y, n, what, &s) < 0)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < 0)
        return yd_fail(y, n, "%s: expected a non-negative number, got '%s'", what, s);
    *out = v;
    return 0;
}

/* A profile name as a user writes it; the model check comes later, per model. */
static int want_profile(yd_doc *y, const yaml_node_t *n, const char *what, char *buf, size_t len)
{
    if (yd_value_copy(y, n, what, buf, len) < 0)
        return -1;
    mig_profile_name pn;
    mig_error pe = {0};
    if (mig_profile_name_parse(buf, &pn, &pe) < 0)
        return yd_fail(y, n, "%s: '%s' is not a MIG profile name (like 3g.40gb): %s", what, buf,
                       pe.msg);
    if (pn.ci_slices)
        return yd_fail(y, n, "%s: '%s' names a compute instance; give the GPU-instance profile",
                       what, buf);
    return 0;
}

/* ---------------------------------------------------------------- workloads */

static int parse_throughput(yd_doc *y, const yaml_node_t *map, wl_workload *w)
{
    if (want_map(y, map, "throughput") < 0)
        return -1;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yd_node(y, pr->key), *v = yd_node(y, pr->value);
        if (w->n_tput == WL_MAX_TPUT)
            return yd_fail(y, k, "throughput has more than %d figures; expected at most %d",
                           WL_MAX_TPUT, WL_MAX_TPUT);
        wl_throughput *t = &w->tput[w->n_tput];
        const char *ks;
        if (yd_key(y, pr, map, "throughput", &ks) < 0)
            return -1;
        if (!strcasecmp(ks, "whole")) {
            snprintf(t->profile, sizeof t->profile, "whole");
        } else if (want_profile(y, k, "throughput key", t->profile, sizeof t->profile) < 0) {
            return -1;
        }
        if (want_number(y, v, "throughput", &t->value) < 0)
            return -1;
        t->line = (unsigned)k->start_mark.line + 1;
        t->col = (unsigned)k->start_mark.column + 1;
        w->n_tput++;
    }
    return 0;
}

static int parse_isolation(yd_doc *y, const yaml_node_t *n, wl_isolation *out)
{
    const char *s = NULL;
    if (yd_value(y, n, "isolation", &s) < 0)
        return -1;
    for (int i = 0; i < 3; i++)
        if (!strcasecmp(s, wl_isolation_name((wl_isolation)i)))
            return *out = (wl_isolation)i, 0;
    return yd_fail(y, n, "isolation: expected required, preferred or none, got '%s'", s);
}

static int parse_workload_key(yd_doc *y, const char *k, const yaml_node_t *v, wl_workload *w)
{
    const char *s = NULL;
    if (!strcmp(k, "name"))
        return yd_value_copy(y, v, "name", w->name, sizeof w->name);
    if (!strcmp(k, "replicas"))
        return yd_uint(y, v, "replicas", 1000000, &w->replicas);
    if (!strcmp(k, "gpus")) {
        if (yd_uint(y, v, "gpus", WL_MAX_GPUS, &w->gpus) < 0)
            return -1;
        return w->gpus ? 0 : yd_fail(y, v, "gpus: at least 1");
    }
    if (!strcmp(k, "memory")) {
        if (yd_value(y, v, "memory", &s) < 0)
            return -1;
        if (wl_parse_memory(s, &w->memory_mib) < 0)
            return yd_fail(y, v, "memory: expected a size with a unit (12GiB, 12GB, 12000MiB), "
                                 "got '%s'", s);
        return 0;
    }
    if (!strcmp(k, "compute")) {
        if (yd_value(y, v, "compute", &s) < 0)
            return -1;
        if (wl_parse_fraction(s, &w->compute) < 0)
            return yd_fail(y, v, "compute: expected a share of one GPU in (0, 1]: 0.25, 25%% or "
                                 "1/7, got '%s' (use sms: for an SM count, gpus: for more)", s);
        return 0;
    }
    if (!strcmp(k, "sms")) {
        if (yd_uint(y, v, "sms", 100000, &w->sms) < 0)
            return -1;
        return w->sms ? 0 : yd_fail(y, v, "sms: at least 1");
    }
    if (!strcmp(k, "throughput"))
        return parse_throughput(y, v, w);
    if (!strcmp(k, "isolation"))
        return parse_isolation(y, v, &w->isolation);
    if (!strcmp(k, "p2p"))
        return yd_bool(y, v, "p2p", &w->p2p);
    if (!strcmp(k, "media"))
        return yd_bool(y, v, "media", &w->media);
    if (!strcmp(k, "bandwidth-bound"))
        return yd_bool(y, v, "bandwidth-bound", &w->bandwidth_bound);
    if (!strcmp(k, "profile"))
        return want_profile(y, v, "profile", w->profile, sizeof w->profile);
    return 1; /* unknown */
}

static int parse_workload(yd_doc *y, const yaml_node_t *map, wl_workload *w)
{
    memset(w, 0, sizeof *w);
    w->replicas = 1;
    w->gpus = 1;
    w->isolation = WL_ISO_PREFERRED;
    w->line = (unsigned)map->start_mark.line + 1;
    w->col = (unsigned)map->start_mark.column + 1;
    if (want_map(y, map, "a workload") < 0)
        return -1;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        const char *ks;
        if (yd_key(y, pr, map, "a workload", &ks) < 0)
            return -1;
        int rc = parse_workload_key(y, ks, yd_node(y, pr->value), w);
        if (rc < 0)
            return -1;
        if (rc > 0)
            return yd_fail(y, yd_node(y, pr->key),
                           "unknown key '%.60s' in a workload; expected one of name, replicas, "
                           "memory, compute, sms, throughput, isolation, p2p, media, "
                           "bandwidth-bound, gpus, profile", ks);
    }
    if (!w->name[0])
        return yd_fail(y, map, "a workload needs a name");
    if (w->compute > 0 && w->sms)
        return yd_fail(y, map, "workload '%s': give compute or sms, not both", w->name);
    if (w->gpus > 1 && (w->profile[0] || w->compute > 0 || w->sms))
        return yd_fail(y, map, "workload '%s': gpus: %u asks for whole GPUs; profile, compute "
                               "and sms do not apply", w->name, w->gpus);
    return 0;
}

static int wl_parse_doc(yd_doc *d, const char *path, wl_file *out);

int wl_parse_string(const char *text, size_t len, const char *path, wl_file *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    yd_doc y;
    if (yd_load_string(&y, text, len, path, "a workloads file", e) < 0)
        return -1;
    int rc = wl_parse_doc(&y, path, out);
    yd_free(&y);
    return rc;
}

int wl_parse_file(const char *path, wl_file *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    yd_doc y;
    if (yd_load_file(&y, path, "workloads file", e) < 0)
        return -1;
    int rc = wl_parse_doc(&y, y.path, out);
    yd_free(&y);
    return rc;
}

static int wl_parse_doc(yd_doc *d, const char *path, wl_file *out)
{
    int rc = -1;
    strset names = {0}; /* duplicates in one pass: a file may hold 100,000 names */
    yaml_node_t *list;
    if (top_list(d, "workloads", &list) < 0)
        goto done;
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    out->path = strdup(path);
    if (!out->items || !out->path) {
        yd_nomem(d);
        goto done;
    }
    unsigned long long instances = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yd_node(d, list->data.sequence.items.start[i]);
        if (parse_workload(d, it, &out->items[i]) < 0)
            goto done;
        /* Memory grows with the instance count: bound the whole file, not
         * only each workload, so a hostile input cannot exhaust it. */
        instances += (unsigned long long)out->items[i].replicas *
                     (out->items[i].gpus ? out->items[i].gpus : 1);
        if (instances > WL_MAX_INSTANCES) {
            yd_fail(d, it, "more than %u instances in all (replicas x gpus, summed over the "
                            "workloads); expected a fleet-sized demand", WL_MAX_INSTANCES);
            goto done;
        }
        const char *seen;
        int added = strset_add(&names, out->items[i].name, &seen);
        if (added < 0) {
            yd_nomem(d);
            goto done;
        }
        if (!added) {
            const wl_workload *first =
                (const wl_workload *)(const void *)(seen - offsetof(wl_workload, name));
            yd_fail(d, it, "workload name '%s' used twice (first at line %u); expected "
                           "each name once", out->items[i].name, first->line);
            goto done;
        }
        out->n++;
    }
    rc = 0;
done:
    strset_free(&names);
    if (rc < 0)
        wl_free(out);
    return rc;
}

void wl_free(wl_file *f)
{
    free(f->items);
    free(f->path);
    memset(f, 0, sizeof *f);
}

int wl_find(const wl_file *f, const char *name)
{
    for (unsigned i = 0; i < f->n; i++)
        if (!strcmp(f->items[i].name, name))
            return (int)i;
    return -1;
}

const char *wl_isolation_name(wl_isolation i)
{
    switch (i) {
    case WL_ISO_NONE:
        return "none";
    case WL_ISO_REQUIRED:
        return "required";
    default:
        return "preferred";
    }
}

/* ---------------------------------------------------------------- fleet */

/* "3g.40gb@4" resolved against the GPU's model into a profile position. */
static int parse_placement(yd_doc *y, const yaml_node_t *n, const mig_model *m, mig_gi_place *out)
{
    const char *s = NULL;
    if (yd_value(y, n, "layout entry", &s) < 0)
        return -1;
    char prof[MIG_NAME_LEN];
    int start;
    mig_error pe = {0};
    if (mig_profile_ref_parse(s, prof, sizeof prof, &start, &pe) < 0)
        return yd_fail(y, n, "'%s' is not a placed profile like 3g.40gb@4: %s", s, pe.msg);
    const mig_gi_profile *p = mig_profile_by_name(m, prof);
    if (!p)
        return yd_fail(y, n, "%s has no profile '%s' (see migctl profiles --model %s)", m->name,
                       prof, m->name);
    if (start < 0)
        return yd_fail(y, n, "'%s': give the placement, like %s@%u", s, prof, p->starts[0]);
    if (!layout_start_valid(p, (unsigned)start))
        return yd_fail(y, n, "'%s': %s cannot start at memory slice %d on %s", s, prof, start,
                       m->name);
    out->profile = (unsigned char)mig_profile_pos(m, p);
    out->start = (unsigned char)start;
    return 0;
}

static int parse_layout(yd_doc *y, const yaml_node_t *list, fl_gpu *g)
{
    if (yd_want_list(y, list, "layout", "a list of placed profiles such as [\"3g.40gb@4\"]") < 0)
        return -1;
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yd_node(y, list->data.sequence.items.start[i]);
        if (g->layout.n == MIG_MAX_GI)
            return yd_fail(y, it, "layout: at most %d GPU instances", MIG_MAX_GI);
        mig_gi_place pl;
        if (parse_placement(y, it, g->model, &pl) < 0)
            return -1;
        mig_fit f = layout_fits(g->model, &g->layout, pl.profile, pl.start);
        if (f != MIG_FIT_OK)
            return yd_fail(y, it, "layout: '%s' does not fit with the entries before it: %s",
                           yd_scalar(it), mig_fit_text(f));
        layout_add(&g->layout, pl.profile, pl.start);
    }
    return 0;
}

/* Mark one busy GI; label is the workload running there (may be ""). */
static int mark_busy(yd_doc *y, const yaml_node_t *n, fl_gpu *g, const char *label)
{
    mig_gi_place pl;
    if (parse_placement(y, n, g->model, &pl) < 0)
        return -1;
    for (unsigned i = 0; i < g->layout.n; i++)
        if (g->layout.gi[i].profile == pl.profile && g->layout.gi[i].start == pl.start) {
            g->busy[i] = true;
            snprintf(g->running[i], sizeof g->running[i], "%s", label);
            return 0;
        }
    return yd_fail(y, n, "busy: '%s' is not in this GPU's layout", yd_scalar(n));
}

static int parse_busy(yd_doc *y, const yaml_node_t *v, fl_gpu *g)
{
    if (v->type == YAML_SCALAR_NODE) {
        if (g->mig_enabled)
            return yd_fail(y, v, "busy: a single value means the whole card is busy; give "
                                 "mig: false, or list the busy instances");
        bool b;
        if (yd_as_bool(v, &b)) {
            g->whole_busy = b;
            return 0;
        }
        g->whole_busy = true; /* busy: <the workload running there> */
        return yd_value_copy(y, v, "busy", g->whole_running, sizeof g->whole_running);
    }
    if (!g->mig_enabled)
        return yd_fail(y, v, "busy: this GPU has MIG off; write busy: true or busy: <workload>");
    if (v->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++)
            if (mark_busy(y, yd_node(y, *it), g, "") < 0)
                return -1;
        return 0;
    }
    if (want_map(y, v, "busy") < 0)
        return -1;
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        char label[WL_NAME_LEN];
        const char *ks;
        if (yd_key(y, pr, v, "busy", &ks) < 0 ||
            yd_value_copy(y, yd_node(y, pr->value), "busy workload", label, sizeof label) < 0 ||
            mark_busy(y, yd_node(y, pr->key), g, label) < 0)
            return -1;
    }
    return 0;
}

static const yaml_node_t *find_key(yd_doc *y, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        const char *ks = yd_scalar(yd_node(y, pr->key));
        if (ks && !strcmp(ks, key))
            return yd_node(y, pr->value);
    }
    return NULL;
}

/* One entry of a node's gpus: list: a template copied `count` times. */
static int parse_gpu_entry(yd_doc *y, const yaml_node_t *map, fl_gpu *g, unsigned *count)
{
    memset(g, 0, sizeof *g);
    g->mig_enabled = true;
    g->line = (unsigned)map->start_mark.line + 1;
    g->col = (unsigned)map->start_mark.column + 1;
    *count = 1;
    if (want_map(y, map, "a GPU entry") < 0)
        return -1;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yd_node(y, pr->key);
        const char *ks;
        if (yd_key(y, pr, map, "a GPU entry", &ks) < 0)
            return -1;
        static const char *known[] = {"model", "count", "mig", "layout", "busy"};
        bool ok = false;
        for (int i = 0; i < 5; i++)
            ok |= !strcmp(ks, known[i]);
        if (!ok)
            return yd_fail(y, k, "unknown key '%s' in a GPU entry (known: model, count, mig, "
                                 "layout, busy)", ks ? ks : "?");
    }
    const yaml_node_t *v = find_key(y, map, "model");
    if (!v)
        return yd_fail(y, map, "a GPU entry needs model: (see migctl models)");
    const char *ms = NULL;
    if (yd_value(y, v, "model", &ms) < 0)
        return -1;
    if (!(g->model = mig_model_by_name(ms)))
        return yd_fail(y, v, "unknown GPU model '%s' (see migctl models)", ms);
    if ((v = find_key(y, map, "count")) && yd_uint(y, v, "count", 4096, count) < 0)
        return -1;
    if ((v = find_key(y, map, "mig"))) {
        if (yd_bool(y, v, "mig", &g->mig_enabled) < 0)
            return -1;
        g->has_state = true;
    }
    if ((v = find_key(y, map, "layout"))) {
        if (!g->mig_enabled)
            return yd_fail(y, v, "layout: this GPU has mig: false");
        if (parse_layout(y, v, g) < 0)
            return -1;
        g->has_state = true;
    }
    if ((v = find_key(y, map, "busy"))) {
        if (parse_busy(y, v, g) < 0)
            return -1;
        g->has_state = true;
    }
    return 0;
}

static int fleet_push(fl_fleet *f, const fl_gpu *g, unsigned *cap, mig_error *e)
{
    if (f->n_gpus == *cap) {
        unsigned nc = *cap ? *cap * 2 : 16;
        fl_gpu *ng = realloc(f->gpus, nc * sizeof *ng);
        if (!ng)
            return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        f->gpus = ng;
        *cap = nc;
    }
    f->gpus[f->n_gpus++] = *g;
    return 0;
}

static int parse_node(yd_doc *y, const yaml_node_t *map, fl_fleet *f, strset *names,
                      unsigned *cap)
{
    if (want_map(y, map, "a node") < 0)
        return -1;
    fl_node *nd = &f->nodes[f->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->first_gpu = f->n_gpus;
    const yaml_node_t *gl = NULL;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yd_node(y, pr->key), *v = yd_node(y, pr->value);
        const char *ks;
        if (yd_key(y, pr, map, "a node", &ks) < 0)
            return -1;
        if (!strcmp(ks, "name")) {
            if (yd_value_copy(y, v, "name", nd->name, sizeof nd->name) < 0)
                return -1;
        } else if (!strcmp(ks, "gpus")) {
            gl = v;
        } else {
            return yd_fail(y, k, "unknown key '%.60s' in a node; expected name or gpus", ks);
        }
    }
    if (!nd->name[0])
        return yd_fail(y, map, "a node needs a name");
    int added = strset_add(names, nd->name, NULL); /* f->nodes never moves: pointers hold */
    if (added < 0)
        return yd_nomem(y);
    if (!added)
        return yd_fail(y, map, "node name '%s' used twice", nd->name);
    if (!gl)
        return yd_fail(y, map, "node '%s' needs gpus:", nd->name);
    if (yd_want_list(y, gl, "gpus", "a list of GPU entries") < 0)
        return -1;
    for (yaml_node_item_t *it = gl->data.sequence.items.start; it < gl->data.sequence.items.top;
         it++) {
        fl_gpu g;
        unsigned count;
        if (parse_gpu_entry(y, yd_node(y, *it), &g, &count) < 0)
            return -1;
        if (nd->n_gpus + count > 4096)
            return yd_fail(y, yd_node(y, *it), "node '%s' has more than 4096 GPUs; expected at "
                                               "most 4096", nd->name);
        if (f->n_gpus + count > FL_MAX_GPUS) /* memory grows with the whole fleet */
            return yd_fail(y, yd_node(y, *it), "more than %u GPUs in the fleet; expected at most "
                                               "%u", FL_MAX_GPUS, FL_MAX_GPUS);
        for (unsigned c = 0; c < count; c++) {
            g.node = f->n_nodes;
            g.index = nd->n_gpus++;
            if (fleet_push(f, &g, cap, y->e) < 0)
                return -1;
        }
    }
    f->n_nodes++;
    return 0;
}

static int fl_parse_doc(yd_doc *y, const char *path, fl_fleet *out)
{
    unsigned cap = 0;
    yaml_node_t *list;
    if (top_list(y, "nodes", &list) < 0)
        return -1;
    size_t n = yd_list_size(list);
    out->nodes = calloc(n ? n : 1, sizeof *out->nodes);
    out->path = strdup(path);
    if (!out->nodes || !out->path)
        return yd_nomem(y);
    strset names = {0};
    for (size_t i = 0; i < n; i++)
        if (parse_node(y, yd_node(y, list->data.sequence.items.start[i]), out, &names, &cap) < 0) {
            strset_free(&names);
            return -1;
        }
    strset_free(&names);
    if (!out->n_gpus)
        return yd_fail(y, list, "the fleet has no GPUs; expected at least one GPU entry");
    return 0;
}

int fl_parse_string(const char *text, size_t len, const char *path, fl_fleet *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    yd_doc y;
    if (yd_load_string(&y, text, len, path, "a fleet file", e) < 0)
        return -1;
    int rc = fl_parse_doc(&y, path, out);
    yd_free(&y);
    if (rc < 0)
        fl_free(out);
    return rc;
}

int fl_parse_file(const char *path, fl_fleet *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    yd_doc y;
    if (yd_load_file(&y, path, "fleet file", e) < 0)
        return -1;
    int rc = fl_parse_doc(&y, y.path, out);
    yd_free(&y);
    if (rc < 0)
        fl_free(out);
    return rc;
}

int fl_from_states(const mig_gpu_state *gs, unsigned n, const char *node_name, fl_fleet *out,
                   mig_error *e)
{
    memset(out, 0, sizeof *out);
    out->nodes = calloc(1, sizeof *out->nodes);
    out->gpus = calloc(n ? n : 1, sizeof *out->gpus);
    out->path = strdup("<live>");
    if (!out->nodes || !out->gpus || !out->path) {
        fl_free(out);
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    snprintf(out->nodes[0].name, sizeof out->nodes[0].name, "%s", node_name ? node_name : "local");
    out->n_nodes = 1;
    for (unsigned i = 0; i < n; i++) {
        const mig_gpu_state *s = &gs[i];
        if (!s->model || !s->mig_capable)
            continue;
        fl_gpu *g = &out->gpus[out->n_gpus];
        memset(g, 0, sizeof *g);
        g->model = s->model;
        g->index = s->index;
        g->has_state = true;
        g->mig_enabled = s->mig_current;
        if (s->mig_current) {
            if (gpu_state_layout(s, &g->layout, e) < 0) {
                mig_error_prefix(e, "GPU %u", s->index);
                fl_free(out);
                return -1;
            }
            for (unsigned k = 0; k < s->n_gi; k++)
                g->busy[k] = gi_state_busy(&s->gi[k]);
        } else {
            g->whole_busy = s->n_procs > 0;
        }
        out->n_gpus++;
    }
    out->nodes[0].n_gpus = out->n_gpus;
    if (!out->n_gpus) {
        fl_free(out);
        return mig_fail(e, MIG_ERR_INPUT, "no MIG-capable GPU of a known model found");
    }
    return 0;
}

void fl_free(fl_fleet *f)
{
    free(f->nodes);
    free(f->gpus);
    free(f->path);
    memset(f, 0, sizeof *f);
}

bool fl_has_state(const fl_fleet *f)
{
    for (unsigned i = 0; i < f->n_gpus; i++)
        if (f->gpus[i].has_state)
            return true;
    return false;
}
