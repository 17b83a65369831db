/*
 * draw.c: slot maps (draw.h). A bar is drawn left to right over the memory
 * slices: a GI is one box "[ label ]" exactly as wide as the cells it covers,
 * a free slice is one "[ free ]" cell. Labels are chosen from a list of ever
 * shorter forms, the first that fits the box wins, so a box never grows and
 * the columns of the index line, the bar and the busy line always agree.
 * Colour codes wrap the text without changing its width.
 */
#include "cli/draw.h"

#include <stdio.h>
#include <string.h>

#define INDENT 7
#define LABEL_LEN 64

#define ANSI_RESET "\033[0m"
#define ANSI_DIM "\033[2m"
#define ANSI_BUSY "\033[1;31m"
#define ANSI_IDLE "\033[32m"

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

static const char *box_color(const mig_gi_profile *p)
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

/* "1g.24gb+me" -> "1g+me" (with_suffix) or "1g". */
static void short_name(const char *name, bool with_suffix, char *buf, size_t len)
{
    size_t g = strcspn(name, ".");
    const char *suffix = name + strcspn(name, "+-");
    snprintf(buf, len, "%.*s%s", (int)g, name, with_suffix ? suffix : "");
}

/* The longest label form that fits `inner` columns. gi_id < 0: no id. */
static void box_label(const mig_gi_profile *p, int gi_id, unsigned inner, char *out)
{
    char shorter[MIG_NAME_LEN], shortest[MIG_NAME_LEN], forms[6][LABEL_LEN];
    short_name(p->name, true, shorter, sizeof shorter);
    short_name(p->name, false, shortest, sizeof shortest);
    unsigned n = 0;
    if (gi_id >= 0) {
        snprintf(forms[n++], LABEL_LEN, " %s  GI %d", p->name, gi_id);
        snprintf(forms[n++], LABEL_LEN, "%s GI %d", p->name, gi_id);
        snprintf(forms[n++], LABEL_LEN, " %s  GI %d", shorter, gi_id);
        snprintf(forms[n++], LABEL_LEN, "%s GI%2d", shortest, gi_id);
        snprintf(forms[n++], LABEL_LEN, "GI%2d", gi_id);
    } else {
        snprintf(forms[n++], LABEL_LEN, " %s", p->name);
        snprintf(forms[n++], LABEL_LEN, "%s", p->name);
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

static void print_index_line(FILE *out, const mig_model *m, unsigned w)
{
    fprintf(out, "%*s", INDENT, "");
    for (unsigned s = 0; s + 1 < m->memory_slices; s++)
        fprintf(out, "%-*u", (int)w, s);
    if (m->memory_slices)
        fprintf(out, "%u", m->memory_slices - 1);
    fputc('\n', out);
}

/* The GI (index into l) whose box starts at slice s, or -1. */
static int gi_at(const mig_layout *l, unsigned s)
{
    for (unsigned i = 0; i < l->n; i++)
        if (l->gi[i].start == s)
            return (int)i;
    return -1;
}

/* The bar; ids[i] labels GI i (NULL: no ids). Sets col[i] to the column
 * where GI i's box begins (for the busy line); GIs not drawn keep theirs. */
static void print_bar(FILE *out, const mig_model *m, const mig_layout *l, const unsigned *ids,
                      bool color, unsigned col[MIG_MAX_GI])
{
    unsigned w = cell_width(m), x = INDENT;
    fprintf(out, "%*s", INDENT, "");
    for (unsigned s = 0; s < m->memory_slices;) {
        int i = gi_at(l, s);
        if (i >= 0 && l->gi[i].profile < m->n_profiles) {
            const mig_gi_profile *p = &m->profiles[l->gi[i].profile];
            unsigned size = p->memory_slices ? p->memory_slices : 1;
            char label[LABEL_LEN];
            box_label(p, ids ? (int)ids[i] : -1, size * w - 2, label);
            print_box(out, label, size * w, color ? box_color(p) : NULL);
            col[i] = x;
            x += size * w;
            s += size;
        } else {
            print_box(out, " free", w, color ? ANSI_DIM : NULL);
            x += w;
            s++;
        }
    }
    fputc('\n', out);
}

void draw_layout(FILE *out, const mig_model *m, const mig_layout *l, bool color)
{
    unsigned col[MIG_MAX_GI];
    print_index_line(out, m, cell_width(m));
    print_bar(out, m, l, NULL, color, col);
}

/* "busy" or "idle" under the first column inside each GI's box. */
static void print_busy_line(FILE *out, const mig_gpu_state *g, unsigned n,
                            const unsigned col[MIG_MAX_GI], bool color)
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
    for (unsigned i = 0; i < l.n; i++) {
        ids[i] = g->gi[i].id;
        col[i] = 0;
    }
    print_index_line(out, g->model, cell_width(g->model));
    print_bar(out, g->model, &l, ids, color, col);
    if (l.n)
        print_busy_line(out, g, l.n, col, color);
}
