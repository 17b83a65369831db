/*
 * cmd_plan.c: `migctl plan`: workloads -> decisions -> packed layouts ->
 * apply-able configs, and `migctl plan --add` (arrivals into free slots of
 * a running fleet). Thin: decisions in plan/advise, packing in
 * plan/pack, online placement in plan/replan; this file reads the
 * inputs, prints a table or --json, and writes --emit-config files.
 *
 * Exit: 0 everything placed; 1 some instance could not be placed (no model
 * takes it, or the fleet is full); 2 bad input; 3 backend error (--live).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/plan_output.h"
#include "config/workload.h"
#include "plan/pack.h"
#include "plan/replan.h"
#include "util/fileio.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl plan -w WORKLOADS (-f FLEET | --live) [--json] [--emit-config DIR]\n"
            "       migctl plan --add ARRIVALS (-f FLEET | --live) [--json] [--emit-config DIR]\n\n"
            "Decide a MIG profile, an MPS share or whole GPUs for every workload on every GPU\n"
            "model of the fleet (each with its reason), pack the instances onto the fleet with\n"
            "the real placement rules using as few GPUs as possible, and print per GPU its layout\n"
            "with the workloads on each slice, the lower bound, utilisation and GPUs saved.\n"
            "With --add, place arrivals into the free slots of the fleet's current layouts\n"
            "without moving anything, keeping the largest profiles creatable.\n\n"
            "  -w, --workloads FILE  workloads YAML (docs/planner.md, examples/)\n"
            "  -f, --fleet FILE      fleet YAML: nodes with GPU models and counts, optionally\n"
            "                        current layouts and busy instances\n"
            "      --live            the fleet is this machine's GPUs (one node, \"local\")\n"
            "  -a, --add FILE        online placement of the arrivals in FILE\n"
            "      --json            machine-readable output\n"
            "      --emit-config DIR write DIR/<node>.yaml, a mig-parted v1 config per node\n"
            "      --emit-k8s        with --emit-config: also the GPU Operator's ConfigMap and the\n"
            "                        nvidia.com/mig.config label per node (docs/kubernetes.md)\n"
            "  -h, --help            this help\n\n"
            "Exit: 0 all placed, 1 some instance not placed, 2 bad input, 3 backend error.\n");
}

/* ---------------------------------------------------------------- shared with replan */

int plan_load_fleet(cli_globals *g, const char *verb, const char *path, bool live, fl_fleet *f,
                    mig_error *e)
{
    (void)verb;
    if (!live)
        return fl_parse_file(path, f, e);
    mig_backend *b;
    if (cli_open_backend(g, &b, e) < 0)
        return -1;
    int rc = replan_live_fleet(b, f, e);
    backend_close(b);
    return rc;
}

int plan_emit_configs(const char *verb, const fl_fleet *f, const pk_gpu *gpus, const char *dir,
                      mig_error *e)
{
    (void)verb;
    /* Each node's name becomes a file name in dir: one with a '/' would write
     * elsewhere (a name like "../x" outside dir). Checked before anything is
     * written. */
    for (unsigned nd = 0; nd < f->n_nodes; nd++)
        if (strchr(f->nodes[nd].name, '/'))
            return mig_fail(e, MIG_ERR_INPUT,
                            "node name '%s' has a '/': it cannot name a file in %s "
                            "(--emit-config writes <node>.yaml)",
                            f->nodes[nd].name, dir);
    /* a folder that cannot be is bad input (fileio_mkdir says which) */
    /* 0755 whatever the umask; an existing link is refused, not followed. */
    if (fileio_mkdir(dir, 0755, e) < 0)
        return -1;
    for (unsigned nd = 0; nd < f->n_nodes; nd++) {
        bool used = false;
        for (unsigned i = 0; i < f->nodes[nd].n_gpus; i++)
            used |= gpus[f->nodes[nd].first_gpu + i].use != PK_GPU_FREE;
        if (!used)
            continue;
        cfg_file cf;
        if (pack_node_config(f, gpus, nd, "migctl-plan", &cf, e) < 0)
            return -1;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.yaml", dir, f->nodes[nd].name);
        int rc = cfg_write(path, &cf, false, e);
        cfg_free(&cf);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static const char *use_name(pk_gpu_use u)
{
    switch (u) {
    case PK_GPU_MIG:
        return "mig";
    case PK_GPU_WHOLE:
        return "whole-gpu";
    case PK_GPU_MPS:
        return "mps";
    default:
        return "free";
    }
}

json_t *plan_gpu_json(const fl_fleet *f, const pk_gpu *gpus, unsigned g)
{
    const fl_gpu *fg = &f->gpus[g];
    json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "node", f->nodes[fg->node].name, "index",
                          (json_int_t)fg->index, "model", fg->model->name, "use",
                          use_name(gpus[g].use));
    json_t *lay = json_array();
    if (gpus[g].use == PK_GPU_MIG) {
        char names[MIG_MAX_GI][MIG_NAME_LEN + 4];
        unsigned n = pack_layout_names(fg->model, &gpus[g].layout, names);
        for (unsigned i = 0; i < n; i++)
            json_array_append_new(lay, json_string(names[i]));
    }
    json_object_set_new(o, "layout", lay);
    if (gpus[g].use == PK_GPU_MPS)
        json_object_set_new(o, "mps", json_pack("{s:f, s:f, s:I}", "compute", gpus[g].mps_compute,
                                                "memory", gpus[g].mps_memory, "clients",
                                                (json_int_t)gpus[g].mps_clients));
    return o;
}

static const char *profile_text(const adv_decision *d)
{
    return d->kind == ADV_UNPLACED ? "-" : adv_profile_name(d);
}

void plan_print_decisions(const wl_file *wf, const adv_decision *d, unsigned n_models)
{
    printf("Decisions\n");
    printf("  %-18s %-17s %-10s %-11s %s\n", "WORKLOAD", "MODEL", "KIND", "PROFILE", "REASON");
    for (unsigned w = 0; w < wf->n; w++)
        for (unsigned k = 0; k < n_models; k++) {
            const adv_decision *x = &d[w * n_models + k];
            printf("  %-18s %-17s %-10s %-11s %s\n", wf->items[w].name, x->model->name,
                   adv_kind_name(x->kind), profile_text(x), x->reason);
        }
}

json_t *plan_decisions_json(const wl_file *wf, const adv_decision *d, unsigned n_models)
{
    json_t *a = json_array();
    for (unsigned w = 0; w < wf->n; w++)
        for (unsigned k = 0; k < n_models; k++) {
            const adv_decision *x = &d[w * n_models + k];
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "workload",
                                  wf->items[w].name, "model", x->model->name, "kind",
                                  adv_kind_name(x->kind), "profile", profile_text(x), "reason",
                                  x->reason, "replicas", (json_int_t)wf->items[w].replicas,
                                  "per_gpu", (json_int_t)x->per_gpu);
            json_array_append_new(a, o);
        }
    return a;
}

/* ---------------------------------------------------------------- plan */

/* The instances of each GPU as linked lists, built once in O(instances):
 * head[g] is the first instance on GPU g, next[i] the one after i (-1 ends),
 * in instance order. Printing per GPU then costs what that GPU holds, so the
 * whole output is linear (a scan of every instance per GPU was quadratic). */
typedef struct {
    int *head, *next;
} gpu_lists;

static int gpu_lists_build(const pk_plan *p, gpu_lists *gl)
{
    gl->head = malloc((p->fleet->n_gpus + 1) * sizeof *gl->head);
    gl->next = malloc((p->n_inst + 1) * sizeof *gl->next);
    if (!gl->head || !gl->next) {
        free(gl->head);
        free(gl->next);
        return -1;
    }
    for (unsigned g = 0; g < p->fleet->n_gpus; g++)
        gl->head[g] = -1;
    for (unsigned i = p->n_inst; i-- > 0;)
        if (p->inst[i].gpu >= 0) {
            gl->next[i] = gl->head[p->inst[i].gpu];
            gl->head[p->inst[i].gpu] = (int)i;
        }
    return 0;
}

static void gpu_lists_free(gpu_lists *gl)
{
    free(gl->head);
    free(gl->next);
}

/* Append text to line (cut at len - 1, always terminated); the text path
 * formats a million instances, so plain copies rather than printf. */
static size_t cat(char *line, size_t u, size_t len, const char *t)
{
    size_t n = strlen(t);
    if (u + n >= len)
        n = u < len - 1 ? len - 1 - u : 0;
    memcpy(line + u, t, n);
    line[u + n] = 0;
    return u + n;
}

static size_t cat_uint(char *line, size_t u, size_t len, unsigned v)
{
    char buf[16];
    int n = 15;
    buf[n] = 0;
    do
        buf[--n] = (char)('0' + v % 10);
    while ((v /= 10));
    return cat(line, u, len, buf + n);
}

/* The workloads on GPU g as one line: by slice (MIG) or as a list. */
static void slice_workloads(const pk_plan *p, const gpu_lists *gl, unsigned g, char *line,
                            size_t len)
{
    size_t u = 0;
    line[0] = 0;
    const mig_model *m = p->fleet->gpus[g].model;
    for (int i = gl->head[g]; i >= 0; i = gl->next[i]) {
        const pk_instance *in = &p->inst[i];
        const wl_workload *w = &p->wf->items[in->workload];
        if (u)
            u = cat(line, u, len, "  ");
        if (in->gi >= 0) {
            const mig_gi_place *x = &p->gpus[g].layout.gi[in->gi];
            u = cat(line, u, len, m->profiles[x->profile].name);
            u = cat(line, u, len, "@");
            u = cat_uint(line, u, len, x->start);
            u = cat(line, u, len, " ");
        }
        u = cat(line, u, len, w->name);
        u = cat(line, u, len, "#");
        u = cat_uint(line, u, len, in->replica);
        if (in->part || w->gpus > 1) {
            u = cat(line, u, len, " (GPU ");
            u = cat_uint(line, u, len, in->part + 1);
            u = cat(line, u, len, " of ");
            u = cat_uint(line, u, len, w->gpus);
            u = cat(line, u, len, ")");
        }
    }
}

/* ---- plan --json, streamed ----
 * A fleet plan has as many objects as instances (a million is a supported
 * size): building a jansson tree for it costs several times the plan's own
 * memory and most of the time, so the big arrays are written straight to
 * the stream; the small parts (utilisation, decisions) still go through
 * jansson. Same fields, same order as docs/planner.md lists them. */

static void put_str(FILE *o, const char *s)
{
    putc('"', o);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            putc('\\', o);
            putc(*c, o);
        } else if (*c < 0x20) {
            fprintf(o, "\\u%04x", *c);
        } else {
            putc(*c, o);
        }
    }
    putc('"', o);
}

static void put_uint(FILE *o, unsigned long long v)
{
    char buf[24];
    int n = 0;
    do
        buf[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n)
        putc(buf[--n], o);
}

static void put_key(FILE *o, const char *k)
{
    put_str(o, k);
    fputs(": ", o);
}

static void put_json(FILE *o, json_t *v, size_t flags)
{
    char *t = json_dumps(v, flags);
    if (t)
        fputs(t, o);
    free(t);
    json_decref(v);
}

static int plan_json_write(FILE *o, const pk_plan *p)
{
    gpu_lists gl;
    if (gpu_lists_build(p, &gl) < 0)
        return -1;
    unsigned stranded_c = p->compute_total - p->compute_used,
             stranded_m = p->memory_total - p->memory_used;
    const struct {
        const char *k;
        unsigned long long v;
    } head[] = {{"gpus_used", p->gpus_used}, {"lower_bound", p->lower_bound}};
    fputs("{\n", o);
    for (unsigned i = 0; i < 2; i++) {
        fputs("  ", o);
        put_key(o, head[i].k);
        put_uint(o, head[i].v);
        fputs(",\n", o);
    }
    fputs("  \"optimal\": ", o);
    fputs(p->exact ? "true" : "false", o);
    fputs(",\n  \"one_per_gpu\": ", o);
    put_uint(o, p->one_per_gpu);
    fputs(",\n  \"gpus_saved\": ", o);
    put_uint(o, p->one_per_gpu > p->gpus_used ? p->one_per_gpu - p->gpus_used : 0);
    fputs(",\n  \"unplaced\": ", o);
    put_uint(o, p->unplaced);
    fputs(",\n  \"fleet_gpus\": ", o);
    put_uint(o, p->fleet->n_gpus);
    fputs(",\n  \"utilisation\": ", o);
    put_json(o,
             json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "mig_gpus", (json_int_t)p->mig_gpus,
                       "compute_slices_used", (json_int_t)p->compute_used, "compute_slices",
                       (json_int_t)p->compute_total, "memory_slices_used",
                       (json_int_t)p->memory_used, "memory_slices", (json_int_t)p->memory_total,
                       "stranded_compute_slices", (json_int_t)stranded_c,
                       "stranded_memory_slices", (json_int_t)stranded_m),
             JSON_PRESERVE_ORDER);
    fputs(",\n  \"decisions\": ", o);
    put_json(o, plan_decisions_json(p->wf, p->decisions, p->n_models),
             JSON_PRESERVE_ORDER | JSON_INDENT(2));
    fputs(",\n  \"gpus\": [", o);
    bool first = true;
    for (unsigned g = 0; g < p->fleet->n_gpus; g++) {
        const pk_gpu *pg = &p->gpus[g];
        if (pg->use == PK_GPU_FREE)
            continue;
        const fl_gpu *fg = &p->fleet->gpus[g];
        const mig_model *m = fg->model;
        fputs(first ? "\n    {" : ",\n    {", o);
        first = false;
        put_key(o, "node");
        put_str(o, p->fleet->nodes[fg->node].name);
        fputs(", \"index\": ", o);
        put_uint(o, fg->index);
        fputs(", \"model\": ", o);
        put_str(o, m->name);
        fputs(", \"use\": ", o);
        put_str(o, use_name(pg->use));
        fputs(", \"layout\": [", o);
        if (pg->use == PK_GPU_MIG) {
            char names[MIG_MAX_GI][MIG_NAME_LEN + 4];
            unsigned n = pack_layout_names(m, &pg->layout, names);
            for (unsigned i = 0; i < n; i++) {
                if (i)
                    fputs(", ", o);
                put_str(o, names[i]);
            }
        }
        putc(']', o);
        if (pg->use == PK_GPU_MPS)
            fprintf(o, ", \"mps\": {\"compute\": %.17g, \"memory\": %.17g, \"clients\": %u}",
                    pg->mps_compute, pg->mps_memory, pg->mps_clients);
        fputs(", \"workloads\": [", o);
        for (int i = gl.head[g], k = 0; i >= 0; i = gl.next[i], k++) {
            const pk_instance *in = &p->inst[i];
            fputs(k ? ", {" : "{", o);
            put_key(o, "workload");
            put_str(o, p->wf->items[in->workload].name);
            fputs(", \"replica\": ", o);
            put_uint(o, in->replica);
            if (in->part) {
                fputs(", \"part\": ", o);
                put_uint(o, in->part);
            }
            if (in->gi >= 0) {
                const mig_gi_place *x = &pg->layout.gi[in->gi];
                fputs(", \"placement\": \"", o);
                fputs(m->profiles[x->profile].name, o);
                putc('@', o);
                put_uint(o, x->start);
                putc('"', o);
            }
            putc('}', o);
        }
        fputs("]}", o);
    }
    fputs(first ? "],\n" : "\n  ],\n", o);
    fputs("  \"unplaced_instances\": [", o);
    first = true;
    for (unsigned i = 0; i < p->n_inst; i++)
        if (p->inst[i].gpu < 0 && p->inst[i].part == 0) {
            fputs(first ? "\n    {" : ",\n    {", o);
            first = false;
            put_key(o, "workload");
            put_str(o, p->wf->items[p->inst[i].workload].name);
            fputs(", \"replica\": ", o);
            put_uint(o, p->inst[i].replica);
            fputs(", \"why\": ", o);
            put_str(o, p->inst[i].model < 0 ? "no GPU model can take it" : "the fleet is full");
            putc('}', o);
        }
    fputs(first ? "]\n}\n" : "\n  ]\n}\n", o);
    gpu_lists_free(&gl);
    return 0;
}

static int plan_text(const pk_plan *p)
{
    plan_print_decisions(p->wf, p->decisions, p->n_models);
    unsigned saved = p->one_per_gpu > p->gpus_used ? p->one_per_gpu - p->gpus_used : 0;
    printf("\nPacking: %u of %u GPUs used, lower bound %u%s; one workload per GPU would use %u "
           "(%u saved)\n", p->gpus_used, p->fleet->n_gpus, p->lower_bound,
           p->exact ? " (optimal)" : "", p->one_per_gpu, saved);
    if (p->mig_gpus)
        printf("  MIG GPUs %u: compute slices %u/%u used (%.0f%%), memory slices %u/%u (%.0f%%)\n",
               p->mig_gpus, p->compute_used, p->compute_total,
               100.0 * p->compute_used / p->compute_total, p->memory_used, p->memory_total,
               100.0 * p->memory_used / p->memory_total);
    if (p->unplaced)
        printf("  NOT PLACED: %u instance%s (%u that no GPU model can take)\n", p->unplaced,
               p->unplaced == 1 ? "" : "s", p->unplaceable);
    printf("\nGPUs\n");
    gpu_lists gl;
    if (gpu_lists_build(p, &gl) < 0)
        return -1;
    for (unsigned g = 0; g < p->fleet->n_gpus; g++) {
        const pk_gpu *pg = &p->gpus[g];
        if (pg->use == PK_GPU_FREE)
            continue;
        const fl_gpu *fg = &p->fleet->gpus[g];
        char line[4096];
        slice_workloads(p, &gl, g, line, sizeof line);
        const char *what = pg->use == PK_GPU_MIG ? "" : pg->use == PK_GPU_WHOLE ? "whole GPU, MIG off: " : "MPS, MIG off: ";
        /* "  node/idx model layout": fputs, not printf, for a million lines */
        char idx[16];
        size_t u = cat_uint(idx, 0, sizeof idx, fg->index);
        while (u < 3)
            idx[u++] = ' ';
        idx[u] = 0;
        fputs("  ", stdout);
        fputs(p->fleet->nodes[fg->node].name, stdout);
        putchar('/');
        fputs(idx, stdout);
        printf(" %-17s ", fg->model->name);
        fputs(what, stdout);
        fputs(line, stdout);
        putchar('\n');
    }
    gpu_lists_free(&gl);
    return 0;
}

/* ---------------------------------------------------------------- add */

static json_t *add_json(const rp_plan *p)
{
    json_t *o = json_pack("{s:I, s:I, s:I}", "placed", (json_int_t)(p->n_place - p->unplaced),
                          "unplaced", (json_int_t)p->unplaced, "reused", (json_int_t)p->reused);
    json_object_set_new(o, "decisions", plan_decisions_json(p->wf, p->decisions, p->n_models));
    json_t *pl = json_array();
    for (unsigned i = 0; i < p->n_place; i++) {
        const rp_place *x = &p->place[i];
        json_t *it = json_pack("{s:s, s:I}", "workload", p->wf->items[x->workload].name,
                               "replica", (json_int_t)x->replica);
        if (x->gpu >= 0) {
            const fl_gpu *fg = &p->fleet->gpus[x->gpu];
            json_object_set_new(it, "node", json_string(p->fleet->nodes[fg->node].name));
            json_object_set_new(it, "index", json_integer(fg->index));
            if (x->gi >= 0) {
                const mig_gi_place *gp = &p->after[x->gpu].layout.gi[x->gi];
                char nm[MIG_NAME_LEN + 8];
                snprintf(nm, sizeof nm, "%s@%u", fg->model->profiles[gp->profile].name, gp->start);
                json_object_set_new(it, "placement", json_string(nm));
            }
            json_object_set_new(it, "reused", json_boolean(x->reused));
        }
        json_array_append_new(pl, it);
    }
    json_object_set_new(o, "placements", pl);
    json_t *gpus = json_array();
    for (unsigned g = 0; g < p->fleet->n_gpus; g++)
        if (p->changed[g] || (p->after[g].use != PK_GPU_FREE))
            json_array_append_new(gpus, plan_gpu_json(p->fleet, p->after, g));
    json_object_set_new(o, "gpus", gpus);
    return o;
}

static void add_text(const rp_plan *p)
{
    plan_print_decisions(p->wf, p->decisions, p->n_models);
    printf("\nPlacements (nothing running is moved)\n");
    for (unsigned i = 0; i < p->n_place; i++) {
        const rp_place *x = &p->place[i];
        if (x->gpu < 0) {
            printf("  %-24s NOT PLACED: no free slot takes it\n", x->label);
            continue;
        }
        const fl_gpu *fg = &p->fleet->gpus[x->gpu];
        char where[MIG_NAME_LEN + 8] = "whole GPU";
        if (x->gi >= 0) {
            const mig_gi_place *gp = &p->after[x->gpu].layout.gi[x->gi];
            snprintf(where, sizeof where, "%s@%u", fg->model->profiles[gp->profile].name, gp->start);
        } else if (p->after[x->gpu].use == PK_GPU_MPS) {
            snprintf(where, sizeof where, "MPS share");
        }
        printf("  %-24s %s/%u %s%s\n", x->label, p->fleet->nodes[fg->node].name, fg->index, where,
               x->reused ? " (idle instance reused)" : "");
    }
    printf("\n%u placed, %u not placed; %u operations\n", p->n_place - p->unplaced, p->unplaced,
           p->n_ops);
}

/* ---------------------------------------------------------------- verb */

int cmd_plan(int argc, char **argv, cli_globals *g)
{
    plan_args a;
    int rc;
    if (plan_parse_args("plan", argc, argv, true, usage, &a, &rc) < 0)
        return rc;
    if (a.time_limit)
        return cli_usage_error("plan", "--time-limit is for replan (plan is exact or bounded "
                                       "without a search)");
    wl_file wf;
    fl_fleet fleet;
    if (plan_load_inputs(g, "plan", &a, &wf, &fleet, &rc) < 0)
        return rc;
    mig_error e = {0};
    if (a.wpath) {
        pk_plan p;
        if (pack_plan(&wf, &fleet, &p, &e) < 0) {
            rc = cli_report("plan", &e);
        } else {
            if (a.json ? plan_json_write(stdout, &p) < 0 : plan_text(&p) < 0) {
                mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
                rc = cli_report("plan", &e);
            } else {
                rc = plan_finish_output("plan", NULL, &a, &fleet, p.gpus, p.unplaced);
            }
            pk_plan_free(&p);
        }
    } else {
        rp_plan p;
        if (replan_add(&wf, &fleet, &p, &e) < 0) {
            rc = cli_report("plan", &e);
        } else {
            json_t *o = NULL;
            if (a.json)
                o = add_json(&p);
            else
                add_text(&p);
            rc = plan_finish_output("plan", o, &a, &fleet, p.after, p.unplaced);
            rp_plan_free(&p);
        }
    }
    fl_free(&fleet);
    wl_free(&wf);
    return rc;
}
