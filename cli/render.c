/*
 * render.c: the one renderer of slot maps and apply plans (render.h).
 *
 * One bar function draws every GPU picture: left to right over the memory
 * slices, a GI is one box "[ label ]" exactly as wide as the cells it
 * covers, a free slice is one "[ free ]" cell. Labels are chosen from a list
 * of ever shorter forms, the first that fits the box wins, so a box never
 * grows and the index line, the bar and the busy line always agree. Plans
 * use the same bar with a mark in front of each label ("=", "~", "x", "+",
 * "!"); colour codes wrap the text without changing its width. Before this
 * file, status (cli/draw.c) and the apply plan (engine/plan_print.c) each had
 * their own bar and drew a 4-slice A30 with 18 and 12 columns per slice.
 */
#include "cli/render.h"

#include <stdio.h>
#include <string.h>

#define INDENT 7 /* columns before the first cell: the bar's title ("before ") */
#define LABEL_LEN 96

#define ANSI_RESET "\033[0m"
#define ANSI_BOLD "\033[1m"
#define ANSI_DIM "\033[2m"
#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_BUSY "\033[1;31m"
#define ANSI_IDLE "\033[32m"

/* ------------------------------------------------------------ cells and boxes */

/* Columns per memory slice: 8 slices fill 72 columns as in NVIDIA's
 * pictures; 12-unit GPUs get narrower cells to stay under ~110 columns. */
static unsigned cell_width(const mig_model *m)
{
    switch (m->memory_slices) {
    case 8:
        return 9;
    case 4:
        return 18;
    case 12:
        return 7;
    default:
        return m->memory_slices ? (72 / m->memory_slices < 7 ? 7 : 72 / m->memory_slices) : 9;
    }
}

typedef struct {
    unsigned start, size;          /* memory slices */
    const mig_gi_profile *profile; /* its name labels the box */
    int id;                        /* GI id; -1: none (a layout, a GI still to create) */
    char mark;                     /* a plan's mark, or 0 (status, layouts) */
    const char *color;             /* ANSI colour when colouring, else NULL */
} box;

static const char *profile_color(const mig_gi_profile *p)
{
    switch (p->compute_slices) {
    case 1:
        return "\033[36m";
    case 2:
        return "\033[34m";
    case 3:
        return "\033[35m";
    case 4:
        return "\033[33m";
    default:
        return "\033[32m";
    }
}

static const char *mark_color(char mark)
{
    switch (mark) {
    case 'x':
    case '!': return ANSI_RED;
    case '+': return ANSI_GREEN;
    case '~': return ANSI_YELLOW;
    }
    return NULL;
}

/* "1g.24gb+me" -> "1g+me" (with_suffix) or "1g". */
static void short_name(const char *name, bool with_suffix, char *buf, size_t len)
{
    size_t g = strcspn(name, ".");
    const char *suffix = name + strcspn(name, "+-");
    snprintf(buf, len, "%.*s%s", (int)g, name, with_suffix ? suffix : "");
}

/* The longest label form of b that fits `inner` columns. */
static void box_label(const box *b, unsigned inner, char *out)
{
    const char *name = b->profile->name;
    char shorter[MIG_NAME_LEN], shortest[MIG_NAME_LEN], forms[6][LABEL_LEN];
    short_name(name, true, shorter, sizeof shorter);
    short_name(name, false, shortest, sizeof shortest);
    unsigned n = 0;
    if (b->mark) {
        if (b->id >= 0)
            snprintf(forms[n++], LABEL_LEN, "%c %s GI %d", b->mark, name, b->id);
        snprintf(forms[n++], LABEL_LEN, "%c %s", b->mark, name);
        snprintf(forms[n++], LABEL_LEN, "%c %s", b->mark, shorter);
        snprintf(forms[n++], LABEL_LEN, "%c %s", b->mark, shortest);
        snprintf(forms[n++], LABEL_LEN, "%c", b->mark);
    } else if (b->id >= 0) {
        snprintf(forms[n++], LABEL_LEN, " %s  GI %d", name, b->id);
        snprintf(forms[n++], LABEL_LEN, "%s GI %d", name, b->id);
        snprintf(forms[n++], LABEL_LEN, " %s  GI %d", shorter, b->id);
        snprintf(forms[n++], LABEL_LEN, "%s GI%2d", shortest, b->id);
        snprintf(forms[n++], LABEL_LEN, "GI%2d", b->id);
    } else {
        snprintf(forms[n++], LABEL_LEN, " %s", name);
        snprintf(forms[n++], LABEL_LEN, "%s", name);
        snprintf(forms[n++], LABEL_LEN, " %s", shorter);
        snprintf(forms[n++], LABEL_LEN, "%s", shortest);
    }
    for (unsigned i = 0; i < n; i++)
        if (strlen(forms[i]) <= inner) {
            strcpy(out, forms[i]);
            return;
        }
    out[0] = '\0';
}

static void print_box(FILE *out, const char *label, unsigned width, const char *color)
{
    if (color)
        fputs(color, out);
    fprintf(out, "[%-*s]", (int)(width - 2), label);
    if (color)
        fputs(ANSI_RESET, out);
}

/* The slice numbers, each over the first column of its cell. */
static void print_index_line(FILE *out, const mig_model *m)
{
    unsigned w = cell_width(m);
    fprintf(out, "%*s", INDENT, "");
    for (unsigned s = 0; s + 1 < m->memory_slices; s++)
        fprintf(out, "%-*u", (int)w, s);
    if (m->memory_slices)
        fprintf(out, "%u", m->memory_slices - 1);
    fputc('\n', out);
}

/* The bar: title in the first INDENT columns, then the cells. col[i], when
 * col is given, is set to the column where box i begins (0: not drawn). */
static void print_bar(FILE *out, const char *title, const mig_model *m, const box *b, unsigned n,
                      bool color, unsigned *col)
{
    unsigned w = cell_width(m), x = INDENT;
    fprintf(out, "%-*s", INDENT, title);
    for (unsigned i = 0; col && i < n; i++)
        col[i] = 0;
    for (unsigned s = 0; s < m->memory_slices;) {
        int at = -1;
        for (unsigned i = 0; i < n && at < 0; i++)
            if (b[i].start == s && b[i].profile)
                at = (int)i;
        if (at < 0) {
            print_box(out, " free", w, color ? ANSI_DIM : NULL);
            x += w;
            s++;
            continue;
        }
        unsigned size = b[at].size ? b[at].size : 1;
        char label[LABEL_LEN];
        box_label(&b[at], size * w - 2, label);
        print_box(out, label, size * w, color ? b[at].color : NULL);
        if (col)
            col[at] = x;
        x += size * w;
        s += size;
    }
    fputc('\n', out);
}

/* The boxes of a layout of m; ids[i] labels GI i (NULL: no ids). */
static unsigned layout_boxes(const mig_model *m, const mig_layout *l, const unsigned *ids,
                             box *b)
{
    unsigned n = 0;
    for (unsigned i = 0; i < l->n && n < MIG_MAX_GI; i++) {
        const mig_gi_profile *p =
            l->gi[i].profile < m->n_profiles ? &m->profiles[l->gi[i].profile] : NULL;
        b[n++] = (box){l->gi[i].start, p ? p->memory_slices : 1, p, ids ? (int)ids[i] : -1, 0,
                       p ? profile_color(p) : NULL};
    }
    return n;
}

/* ------------------------------------------------------------ GPUs and layouts */

void draw_layout(FILE *out, const mig_model *m, const mig_layout *l, bool color)
{
    box b[MIG_MAX_GI];
    unsigned n = layout_boxes(m, l, NULL, b);
    print_index_line(out, m);
    print_bar(out, "", m, b, n, color, NULL);
}

/* "busy" or "idle" under the first column inside each GI's box. */
static void print_busy_line(FILE *out, const mig_gpu_state *g, unsigned n, const unsigned *col,
                            bool color)
{
    unsigned x = 0;
    for (unsigned c = 1; c < 200; c++) /* columns, left to right; col 0 = not drawn */
        for (unsigned i = 0; i < n; i++) {
            if (!col[i] || col[i] + 1 != c)
                continue;
            bool busy = gi_state_busy(&g->gi[i]);
            fprintf(out, "%*s%s%s%s", (int)(c - x), "", color ? (busy ? ANSI_BUSY : ANSI_IDLE) : "",
                    busy ? "busy" : "idle", color ? ANSI_RESET : "");
            x = c + 4;
        }
    fputc('\n', out);
}

static void print_header(FILE *out, const mig_gpu_state *g, const mig_layout *l)
{
    fprintf(out, "GPU %u  %s   MIG %s", g->index, g->name, g->mig_current ? "on" : "off");
    if (g->mig_pending != g->mig_current)
        fprintf(out, "   pending %s", g->mig_pending ? "on" : "off");
    if (g->model && l && (g->mig_current || g->n_gi)) /* slices mean nothing with MIG off */
        fprintf(out, "   compute %u/%u   memory %u/%u", layout_compute_used(g->model, l),
                g->model->compute_slices, layout_memory_used(g->model, l), g->model->memory_slices);
    fputc('\n', out);
}

void draw_gpu(FILE *out, const mig_gpu_state *g, bool color)
{
    mig_layout l;
    mig_error e;
    bool have_layout = g->model && gpu_state_layout(g, &l, &e) == 0;
    print_header(out, g, have_layout ? &l : NULL);
    if (!g->model || !g->mig_capable) {
        fprintf(out, "%*snot a MIG-capable model migctl knows\n", INDENT, "");
        return;
    }
    if (!have_layout) {
        fprintf(out, "%*s%s\n", INDENT, "", e.msg);
        return;
    }
    if (!g->mig_current && g->n_gi == 0) {
        bool busy = gpu_state_busy(g);
        fprintf(out, "%*swhole GPU, %s%s%s\n", INDENT, "", color ? (busy ? ANSI_BUSY : ANSI_IDLE) : "",
                busy ? "busy" : "idle", color ? ANSI_RESET : "");
        return;
    }
    unsigned ids[MIG_MAX_GI], col[MIG_MAX_GI];
    for (unsigned i = 0; i < l.n; i++)
        ids[i] = g->gi[i].id;
    box b[MIG_MAX_GI];
    unsigned n = layout_boxes(g->model, &l, ids, b);
    print_index_line(out, g->model);
    print_bar(out, "", g->model, b, n, color, col);
    if (l.n)
        print_busy_line(out, g, l.n, col, color);
}

/* ------------------------------------------------------------ plans: what happens to each GI */

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

static box plan_box(unsigned start, const mig_gi_profile *pr, char mark, int id, bool color)
{
    return (box){start, pr ? pr->memory_slices : 1, pr, id, mark ? mark : ' ',
                 color ? mark_color(mark) : NULL};
}

static unsigned before_boxes(const mig_plan *p, const mig_gpu_plan *gp, const mig_gpu_state *g,
                             bool color, box *b)
{
    unsigned n = 0;
    if (!g->mig_current)
        return 0;
    for (unsigned i = 0; i < g->n_gi && n < MIG_MAX_GI; i++) {
        const mig_gi_profile *pr = mig_profile_by_id(g->model, g->gi[i].profile_id);
        if (!pr)
            continue;
        b[n++] = plan_box(g->gi[i].start, pr, fate_of(p, gp, g->gi[i].id), (int)g->gi[i].id,
                          color);
    }
    return n;
}

/* The target layout; a GI kept from before keeps its id and mark. */
static unsigned after_boxes(const mig_plan *p, const mig_gpu_plan *gp, const mig_gpu_state *g,
                            bool color, box *b)
{
    unsigned n = 0;
    bool used[MIG_MAX_GI] = {0};
    for (unsigned i = 0; i < gp->target.n && n < MIG_MAX_GI; i++) {
        const mig_gi_profile *pr = &g->model->profiles[gp->target.gi[i].profile];
        unsigned start = gp->target.gi[i].start;
        char mark = gp->status == MIG_GPU_BLOCKED ? ' ' : '+';
        int id = -1;
        for (unsigned j = 0; g->mig_current && j < g->n_gi; j++) {
            char fate = fate_of(p, gp, g->gi[j].id);
            if (used[j] || fate == 'x' || g->gi[j].profile_id != pr->id || g->gi[j].start != start)
                continue;
            used[j] = true;
            id = (int)g->gi[j].id;
            mark = fate == '!' ? ' ' : fate;
            break;
        }
        b[n++] = plan_box(start, pr, mark, id, color);
    }
    return n;
}

/* ------------------------------------------------------------ plans: text */

void render_op_text(const mig_plan *p, const mig_op *op, char *buf, size_t len)
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
    fprintf(out, "%sGPU %u%s  %s  ", color ? ANSI_BOLD : "", gp->gpu, color ? ANSI_RESET : "",
            model);
    switch (gp->status) {
    case MIG_GPU_UNTOUCHED:
        fprintf(out, "not selected by the config: left as it is\n");
        return;
    case MIG_GPU_UNCHANGED:
        fprintf(out, "unchanged\n");
        return;
    case MIG_GPU_BLOCKED:
        fprintf(out, "%sblocked%s: %s\n", color ? ANSI_RED : "", color ? ANSI_RESET : "",
                gp->reason);
        return;
    case MIG_GPU_IMPOSSIBLE:
        fprintf(out, "%simpossible%s: %s\n", color ? ANSI_RED : "", color ? ANSI_RESET : "",
                gp->reason);
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

void render_plan_gpu(FILE *out, const mig_plan *p, const mig_gpu_plan *gp,
                     const mig_gpu_state *g, bool color)
{
    print_status(out, p, gp, g, color);
    /* An unchanged GPU is one line: on a 64-GPU node "nothing to do" must
     * not take hundreds of lines of slot maps (status draws them). */
    if (gp->status == MIG_GPU_UNTOUCHED || gp->status == MIG_GPU_UNCHANGED || !g || !g->model)
        return;
    box b[MIG_MAX_GI];
    print_index_line(out, g->model);
    unsigned n = before_boxes(p, gp, g, color, b);
    /* Only a GPU that changes has a before and an after. */
    bool changes = gp->status == MIG_GPU_CHANGE || gp->status == MIG_GPU_BLOCKED;
    print_bar(out, changes ? "before" : "now", g->model, b, n, color, NULL);
    if (!g->mig_current)
        fprintf(out, "%-*s(MIG off)\n", INDENT, "");
    if (gp->status == MIG_GPU_IMPOSSIBLE)
        return;
    const char *title = gp->status == MIG_GPU_BLOCKED ? "forced" : "after";
    if (gp->desired.mig_enabled) {
        n = after_boxes(p, gp, g, color, b);
        print_bar(out, title, g->model, b, n, color, NULL);
    } else {
        fprintf(out, "%-*s(MIG off)\n", INDENT, title);
    }
    const mig_op *ops = gpu_ops(p, gp);
    for (unsigned i = 0; i < gp->n_ops; i++) {
        char line[256];
        render_op_text(p, &ops[i], line, sizeof line);
        fprintf(out, "%-*s%s\n", INDENT, i == 0 ? "ops" : "", line);
    }
}

void render_plan(FILE *out, const mig_plan *p, const mig_gpu_state *gpus, unsigned n_gpus,
                 bool color)
{
    bool legend = false;
    for (unsigned i = 0; i < p->n_gpus; i++) {
        const mig_gpu_plan *gp = &p->gpus[i];
        const mig_gpu_state *g = NULL;
        for (unsigned j = 0; j < n_gpus && !g; j++)
            if (gpus[j].index == gp->gpu)
                g = &gpus[j];
        render_plan_gpu(out, p, gp, g, color);
        legend = legend || (gp->status != MIG_GPU_UNTOUCHED && gp->status != MIG_GPU_UNCHANGED);
    }
    if (legend)
        fprintf(out, "(= kept, ~ kept with compute instances changed, x destroyed, + created, "
                     "! busy and in the way)\n");
}

/* ------------------------------------------------------------ apply's progress */

void render_apply_progress(void *ctx, const apply_progress *ev)
{
    FILE *out = ctx;
    static const char *const outcome[] = {
        [APPLY_OUT_OK] = "ok",
        [APPLY_OUT_OK_RESET] = "ok (reset)",
        [APPLY_OUT_PENDING] = "pending reset",
        [APPLY_OUT_FAILED] = "FAILED",
    };
    switch (ev->kind) {
    case APPLY_EV_OP_START:
        fprintf(out, "[%u/%u] GPU %u: %s ... ", ev->index + 1, ev->total, ev->gpu, ev->what);
        break;
    case APPLY_EV_OP_END:
        if (ev->id_kind)
            fprintf(out, "%s (%s %u)\n", outcome[ev->outcome], ev->id_kind == 'G' ? "GI" : "CI",
                    ev->id);
        else
            fprintf(out, "%s\n", outcome[ev->outcome]);
        break;
    case APPLY_EV_RESET_START:
        fprintf(out, "[reset] GPU %u: reset to make MIG mode %s current ... ", ev->gpu,
                ev->enable ? "on" : "off");
        break;
    case APPLY_EV_RESET_END:
        fprintf(out, "%s\n", outcome[ev->outcome]);
        break;
    case APPLY_EV_ROLLBACK:
        fprintf(out, "rolling back: restoring the previous layout\n");
        break;
    case APPLY_EV_RESTORE:
        fprintf(out, "  restore GPU %u: %s ... %s\n", ev->gpu, ev->what, outcome[ev->outcome]);
        break;
    case APPLY_EV_HOOK:
        fprintf(out, "hook %s ...\n", ev->hook);
        break;
    }
    fflush(out);
}
