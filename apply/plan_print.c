/*
 * plan_print.c: a reconcile plan as text (before -> after slot maps and the
 * operations) and as JSON (see plan_print.h for the shapes).
 *
 * The slot maps are drawn here over model types, not with cli/draw.c, so
 * that the engine does not depend on the CLI: a bar is a row of boxes, one
 * per GI, each as wide as its memory slices (cell widths as in cli/draw.h:
 * 8 slices -> 9 columns, 4 -> 12, 12 -> 7), labelled with the longest of
 * "<mark> <profile> GI <id>", "<mark> <profile>", "<mark> <1g>", "<mark>"
 * that fits. What each GI becomes is read off the plan's ops: a destroy-gi
 * of its id marks it destroyed, a CI op on its id marks it changed.
 */
#include <stdio.h>
#include <string.h>

#include "apply/plan_print.h"
#include "model/layout.h"

#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

/* ------------------------------------------------------------ bars */

typedef struct {
    unsigned start, size;
    char mark;               /* '=', '~', 'x', '+', '!' or ' ' */
    const char *name;
    int id;                  /* GI id, -1 for a GI still to create */
} box;

static unsigned cell_width(unsigned slices)
{
    return slices <= 4 ? 12 : slices <= 8 ? 9 : 7;
}

static const char *mark_color(char mark)
{
    switch (mark) {
    case 'x':
    case '!': return RED;
    case '+': return GREEN;
    case '~': return YELLOW;
    }
    return NULL;
}

/* The longest label that fits `room` columns. */
static void box_label(const box *b, unsigned room, char *buf, size_t len)
{
    char shortname[MIG_NAME_LEN] = "";
    snprintf(shortname, sizeof shortname, "%s", b->name);
    char *dot = strchr(shortname, '.');
    if (dot)
        *dot = '\0';
    char tries[4][96];
    if (b->id >= 0)
        snprintf(tries[0], sizeof tries[0], "%c %s GI %d", b->mark, b->name, b->id);
    else
        snprintf(tries[0], sizeof tries[0], "%c %s", b->mark, b->name);
    snprintf(tries[1], sizeof tries[1], "%c %s", b->mark, b->name);
    snprintf(tries[2], sizeof tries[2], "%c %s", b->mark, shortname);
    snprintf(tries[3], sizeof tries[3], "%c", b->mark);
    for (unsigned i = 0; i < 4; i++)
        if (strlen(tries[i]) <= room || i == 3) {
            snprintf(buf, len, "%.*s", (int)room, tries[i]);
            return;
        }
}

static void draw_bar(FILE *out, const char *title, unsigned slices, const box *b, unsigned n,
                     bool color)
{
    unsigned w = cell_width(slices);
    fprintf(out, "  %-7s", title);
    for (unsigned s = 0; s < slices;) {
        const box *at = NULL;
        for (unsigned i = 0; i < n && !at; i++)
            if (b[i].start == s && b[i].size > 0)
                at = &b[i];
        if (!at) {
            fputc(' ', out);
            for (unsigned i = 0; i + 2 < w; i++)
                fputc('.', out);
            fputc(' ', out);
            s++;
            continue;
        }
        unsigned room = at->size * w - 2;
        char label[96];
        box_label(at, room, label, sizeof label);
        const char *c = color ? mark_color(at->mark) : NULL;
        fprintf(out, "%s[%-*s]%s", c ? c : "", (int)room, label, c ? RESET : "");
        s += at->size;
    }
    fputc('\n', out);
}

static void draw_ruler(FILE *out, unsigned slices)
{
    unsigned w = cell_width(slices);
    fprintf(out, "  %-7s", "");
    for (unsigned s = 0; s < slices; s++)
        fprintf(out, " %-*u", (int)w - 1, s);
    fputc('\n', out);
}

/* ------------------------------------------------------------ what happens to each GI */

static const mig_op *gpu_ops(const mig_plan *p, const mig_gpu_plan *gp)
{
    return gp->n_ops ? &p->ops[gp->first_op] : NULL;
}

static char fate_of(const mig_plan *p, const mig_gpu_plan *gp, unsigned gi_id)
{
    const mig_op *ops = gpu_ops(p, gp);
    char mark = '=';
    for (unsigned i = 0; i < gp->n_ops; i++) {
        const mig_op *op = &ops[i];
        if (op->kind == MIG_OP_DESTROY_GI && op->gi_id == gi_id)
            return 'x';
        if ((op->kind == MIG_OP_DESTROY_CI || (op->kind == MIG_OP_CREATE_CI && op->gi_ref < 0)) &&
            op->gi_id == gi_id)
            mark = '~';
    }
    if (gp->status == MIG_GPU_BLOCKED)
        for (unsigned i = 0; i < gp->n_blockers; i++)
            if (gp->blocker_gi[i] == gi_id)
                return '!';
    if (gp->status == MIG_GPU_BLOCKED || gp->status == MIG_GPU_IMPOSSIBLE)
        return ' ';
    return mark;
}

static unsigned before_boxes(const mig_plan *p, const mig_gpu_plan *gp, const mig_gpu_state *g,
                             box *b)
{
    unsigned n = 0;
    if (!g->mig_current)
        return 0;
    for (unsigned i = 0; i < g->n_gi && n < MIG_MAX_GI; i++) {
        const mig_gi_profile *pr = mig_profile_by_id(g->model, g->gi[i].profile_id);
        b[n++] = (box){g->gi[i].start, g->gi[i].size, fate_of(p, gp, g->gi[i].id),
                       pr ? pr->name : "?", (int)g->gi[i].id};
    }
    return n;
}

/* The target layout; a GI kept from before keeps its id and mark. */
static unsigned after_boxes(const mig_plan *p, const mig_gpu_plan *gp, const mig_gpu_state *g,
                            box *b)
{
    unsigned n = 0;
    bool used[MIG_MAX_GI] = {0};
    for (unsigned i = 0; i < gp->target.n && n < MIG_MAX_GI; i++) {
        const mig_gi_profile *pr = &g->model->profiles[gp->target.gi[i].profile];
        unsigned start = gp->target.gi[i].start;
        box x = {start, pr->memory_slices, gp->status == MIG_GPU_BLOCKED ? ' ' : '+', pr->name, -1};
        for (unsigned j = 0; g->mig_current && j < g->n_gi; j++) {
            char fate = fate_of(p, gp, g->gi[j].id);
            if (used[j] || fate == 'x' || g->gi[j].profile_id != pr->id || g->gi[j].start != start)
                continue;
            used[j] = true;
            x.id = (int)g->gi[j].id;
            x.mark = fate == '!' ? ' ' : fate;
            break;
        }
        b[n++] = x;
    }
    return n;
}

/* ------------------------------------------------------------ text */

void plan_op_text(const mig_plan *p, const mig_op *op, char *buf, size_t len)
{
    const char *busy = op->busy ? " (busy: forced)" : "";
    switch (op->kind) {
    case MIG_OP_SET_MODE:
        snprintf(buf, len, "set-mode    MIG %s", op->enable ? "on" : "off");
        return;
    case MIG_OP_DESTROY_CI:
        snprintf(buf, len, "destroy-ci  GI %u CI %u (%s)%s", op->gi_id, op->ci_id, op->profile, busy);
        return;
    case MIG_OP_DESTROY_GI:
        snprintf(buf, len, "destroy-gi  GI %u (%s@%u)%s", op->gi_id, op->profile, op->start, busy);
        return;
    case MIG_OP_CREATE_GI:
        snprintf(buf, len, "create-gi   %s@%u", op->profile, op->start);
        return;
    case MIG_OP_CREATE_CI: {
        /* CI placements count compute slices inside the GI, not memory
         * slices: say "slice N" so they are not read as GI placements. */
        char where[48] = "";
        if (strstr(op->profile, "c.")) /* "<C>c.<GI>": a CI smaller than its GI */
            snprintf(where, sizeof where, " at slice %u", op->start);
        if (op->gi_ref >= 0 && (unsigned)op->gi_ref < p->n_ops)
            snprintf(buf, len, "create-ci   %s%s in the new GI %s@%u", op->profile, where,
                     p->ops[op->gi_ref].profile, p->ops[op->gi_ref].start);
        else
            snprintf(buf, len, "create-ci   %s%s in GI %u", op->profile, where, op->gi_id);
        return;
    }
    }
    snprintf(buf, len, "?");
}

static void print_status(FILE *out, const mig_plan *p, const mig_gpu_plan *gp,
                         const mig_gpu_state *g, bool color)
{
    const char *model = g && g->model ? g->model->name : g ? g->name : "";
    fprintf(out, "%sGPU %u%s  %s  ", color ? BOLD : "", gp->gpu, color ? RESET : "", model);
    switch (gp->status) {
    case MIG_GPU_UNTOUCHED:
        fprintf(out, "not selected by the config: left as it is\n");
        return;
    case MIG_GPU_UNCHANGED:
        fprintf(out, "unchanged\n");
        return;
    case MIG_GPU_BLOCKED:
        fprintf(out, "%sblocked%s: %s\n", color ? RED : "", color ? RESET : "", gp->reason);
        return;
    case MIG_GPU_IMPOSSIBLE:
        fprintf(out, "%simpossible%s: %s\n", color ? RED : "", color ? RESET : "", gp->reason);
        return;
    case MIG_GPU_CHANGE:
        break;
    }
    unsigned destroyed = 0, created = 0;
    const mig_op *ops = gpu_ops(p, gp);
    for (unsigned i = 0; i < gp->n_ops; i++) {
        destroyed += ops[i].kind == MIG_OP_DESTROY_CI || ops[i].kind == MIG_OP_DESTROY_GI;
        created += ops[i].kind == MIG_OP_CREATE_CI || ops[i].kind == MIG_OP_CREATE_GI;
    }
    fprintf(out, "change: %u operation%s (%u destroyed, %u created)", gp->n_ops,
            gp->n_ops == 1 ? "" : "s", destroyed, created);
    if (gp->mode_change)
        fprintf(out, ", MIG mode %s", gp->desired.mig_enabled ? "on" : "off");
    if (gp->needs_reset)
        fprintf(out, ", needs a GPU reset");
    fputc('\n', out);
}

void plan_print_gpu(FILE *out, const mig_plan *p, const mig_gpu_plan *gp, const mig_gpu_state *g,
                    bool color)
{
    print_status(out, p, gp, g, color);
    /* An unchanged GPU is one line: on a 64-GPU node "nothing to do" must
     * not take hundreds of lines of slot maps (status draws them). */
    if (gp->status == MIG_GPU_UNTOUCHED || gp->status == MIG_GPU_UNCHANGED || !g || !g->model)
        return;
    unsigned slices = g->model->memory_slices;
    box b[MIG_MAX_GI];
    draw_ruler(out, slices);
    unsigned n = before_boxes(p, gp, g, b);
    /* Only a GPU that changes has a before and an after. */
    bool changes = gp->status == MIG_GPU_CHANGE || gp->status == MIG_GPU_BLOCKED;
    draw_bar(out, changes ? "before" : "now", slices, b, n, color);
    if (!g->mig_current)
        fprintf(out, "  %-7s(MIG off)\n", "");
    if (gp->status == MIG_GPU_IMPOSSIBLE)
        return;
    const char *title = gp->status == MIG_GPU_BLOCKED ? "forced" : "after";
    if (gp->desired.mig_enabled) {
        n = after_boxes(p, gp, g, b);
        draw_bar(out, title, slices, b, n, color);
    } else {
        fprintf(out, "  %-7s(MIG off)\n", title);
    }
    const mig_op *ops = gpu_ops(p, gp);
    for (unsigned i = 0; i < gp->n_ops; i++) {
        char line[256];
        plan_op_text(p, &ops[i], line, sizeof line);
        fprintf(out, "  %-7s%s\n", i == 0 ? "ops" : "", line);
    }
}

void plan_print(FILE *out, const mig_plan *p, const mig_gpu_state *gpus, unsigned n_gpus,
                bool color)
{
    bool legend = false;
    for (unsigned i = 0; i < p->n_gpus; i++) {
        const mig_gpu_plan *gp = &p->gpus[i];
        const mig_gpu_state *g = NULL;
        for (unsigned j = 0; j < n_gpus && !g; j++)
            if (gpus[j].index == gp->gpu)
                g = &gpus[j];
        plan_print_gpu(out, p, gp, g, color);
        legend = legend || (gp->status != MIG_GPU_UNTOUCHED && gp->status != MIG_GPU_UNCHANGED);
    }
    if (legend)
        fprintf(out, "(= kept, ~ kept with compute instances changed, x destroyed, + created, "
                     "! busy and in the way)\n");
}

/* ------------------------------------------------------------ JSON */

static json_t *placement(unsigned start, unsigned size)
{
    return json_pack("{s:I, s:I}", "start", (json_int_t)start, "size", (json_int_t)size);
}

json_t *plan_op_to_json(const mig_plan *p, const mig_op *op)
{
    json_t *o = json_pack("{s:I, s:s}", "gpu", (json_int_t)op->gpu, "op", mig_op_kind_name(op->kind));
    if (!o)
        return NULL;
    if (op->kind == MIG_OP_SET_MODE) {
        json_object_set_new(o, "mig_enabled", json_boolean(op->enable));
        return o;
    }
    json_object_set_new(o, "profile", json_string(op->profile));
    json_object_set_new(o, "profile_id", json_integer(op->profile_id));
    json_object_set_new(o, "placement", placement(op->start, op->size));
    bool ci_op = op->kind == MIG_OP_DESTROY_CI || op->kind == MIG_OP_CREATE_CI;
    if (ci_op) {
        unsigned gi_size = 0;
        if (op->gi_ref >= 0 && (unsigned)op->gi_ref < p->n_ops)
            gi_size = p->ops[op->gi_ref].size;
        if (op->gi_ref >= 0)
            json_object_set_new(o, "gi_op", json_integer(op->gi_ref));
        json_object_set_new(o, "gi_placement", gi_size ? placement(op->gi_start, gi_size)
                                                        : json_pack("{s:I}", "start",
                                                                    (json_int_t)op->gi_start));
    }
    if (op->kind != MIG_OP_CREATE_GI && op->gi_ref < 0)
        json_object_set_new(o, "gi_id", json_integer(op->gi_id));
    if (op->kind == MIG_OP_DESTROY_CI)
        json_object_set_new(o, "ci_id", json_integer(op->ci_id));
    if (op->kind == MIG_OP_DESTROY_CI || op->kind == MIG_OP_DESTROY_GI)
        json_object_set_new(o, "busy", json_boolean(op->busy));
    return o;
}

json_t *plan_to_json(const mig_plan *p)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < p->n_ops; i++) {
        json_t *o = plan_op_to_json(p, &p->ops[i]);
        if (!o || json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *plan_gpus_to_json(const mig_plan *p, const mig_gpu_state *gpus, unsigned n_gpus)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < p->n_gpus; i++) {
        const mig_gpu_plan *gp = &p->gpus[i];
        json_t *blockers = json_array();
        for (unsigned j = 0; blockers && j < gp->n_blockers; j++)
            json_array_append_new(blockers, json_integer(gp->blocker_gi[j]));
        json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:b, s:b, s:I}", "gpu", (json_int_t)gp->gpu,
                              "status", mig_gpu_plan_status_name(gp->status), "reason", gp->reason,
                              "blockers", blockers ? blockers : json_array(), "mode_change",
                              gp->mode_change, "needs_reset", gp->needs_reset, "operations",
                              (json_int_t)gp->n_ops);
        for (unsigned j = 0; o && gpus && j < n_gpus; j++) {
            if (gpus[j].index != gp->gpu || !gpus[j].model || gp->status == MIG_GPU_UNTOUCHED ||
                gp->status == MIG_GPU_IMPOSSIBLE)
                continue;
            char text[256];
            if (layout_format(gpus[j].model, &gp->target, text, sizeof text) >= 0)
                json_object_set_new(o, "target", json_string(text));
        }
        if (!o || json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
