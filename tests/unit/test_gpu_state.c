/*
 * test_gpu_state.c: the helpers over a live GPU's state (model/gpu_state.h)
 * and the slot maps drawn from it (cli/render.c).
 *
 * cli/ is not part of the migcore library, so render.c is compiled into this
 * test directly; its output is captured with open_memstream and checked for
 * the cells, labels and column alignment that docs/design.md's picture promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/render.c"
#include "model/catalogue.h"
#include "model/gpu_state.h"

/* ------------------------------------------------------------ fixtures */

static const mig_gi_profile *profile(const mig_model *m, const char *name)
{
    const mig_gi_profile *p = mig_profile_by_name(m, name);
    if (!p)
        fail_msg("%s has no profile %s", m->name, name);
    return p;
}

/* Add a GI with one full-size CI, as `create -C` makes it. */
static mig_gi_state *add_gi(mig_gpu_state *g, const char *name, unsigned start, unsigned id)
{
    const mig_gi_profile *p = profile(g->model, name);
    mig_gi_state *gi = &g->gi[g->n_gi++];
    memset(gi, 0, sizeof *gi);
    gi->id = id;
    gi->profile_id = p->id;
    gi->start = start;
    gi->size = p->memory_slices;
    gi->n_ci = 1;
    gi->ci[0].slices = p->compute_slices;
    return gi;
}

/* The picture of docs/design.md: 2g@0 (GI 3, busy), 1g@2 (GI 9), 1g@3 (GI 10), 3g@4 (GI 2). */
static mig_gpu_state design_gpu(void)
{
    mig_gpu_state g;
    memset(&g, 0, sizeof g);
    g.model = mig_model_by_name("H100-SXM5-80GB");
    assert_non_null(g.model);
    snprintf(g.name, sizeof g.name, "%s", g.model->nvml_name);
    g.mig_capable = g.mig_current = g.mig_pending = true;
    add_gi(&g, "2g.20gb", 0, 3)->ci[0].n_procs = 2;
    add_gi(&g, "1g.10gb", 2, 9);
    add_gi(&g, "1g.10gb", 3, 10);
    add_gi(&g, "3g.40gb", 4, 2);
    return g;
}

static char *capture_gpu(const mig_gpu_state *g, bool color)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    draw_gpu(f, g, color);
    fclose(f);
    return buf;
}

static char *capture_layout(const mig_model *m, const mig_layout *l)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    draw_layout(f, m, l, false);
    fclose(f);
    return buf;
}

/* Line n (0-based) of text, copied into out. */
static void line_of(const char *text, unsigned n, char *out, size_t len)
{
    for (; n && text; n--) {
        text = strchr(text, '\n');
        text = text ? text + 1 : NULL;
    }
    if (!text) {
        out[0] = '\0';
        fail_msg("output has fewer lines than expected");
        return;
    }
    size_t k = strcspn(text, "\n");
    snprintf(out, len, "%.*s", (int)(k < len - 1 ? k : len - 1), text);
}

static size_t column_of(const char *line, const char *needle)
{
    const char *p = strstr(line, needle);
    if (!p)
        fail_msg("'%s' not in '%s'", needle, line);
    return (size_t)(p - line);
}

/* ------------------------------------------------------------ state helpers */

static void test_busy(void **state)
{
    (void)state;
    mig_gpu_state g = design_gpu();
    assert_true(gi_state_busy(&g.gi[0]));
    assert_false(gi_state_busy(&g.gi[1]));
    assert_int_equal(gi_state_procs(&g.gi[0]), 2);
    assert_int_equal(gi_state_procs(&g.gi[1]), 0);
    /* a driver that cannot list processes: busy, with no process counted */
    g.gi[1].ci[0].procs_unknown = true;
    assert_true(ci_state_busy(&g.gi[1].ci[0]));
    assert_true(gi_state_busy(&g.gi[1]));
    assert_int_equal(gi_state_procs(&g.gi[1]), 0);
    g.gi[1].ci[0].procs_unknown = false;
    assert_true(gpu_state_busy(&g));
    g.gi[0].ci[0].n_procs = 0;
    assert_false(gpu_state_busy(&g));
    g.n_procs = 1; /* a process on the whole GPU */
    assert_true(gpu_state_busy(&g));
}

static void test_find_gi(void **state)
{
    (void)state;
    mig_gpu_state g = design_gpu();
    const mig_gi_state *gi = gpu_state_find_gi(&g, 10);
    assert_non_null(gi);
    assert_int_equal(gi->start, 3);
    assert_null(gpu_state_find_gi(&g, 4));
}

static void test_layout_of_state(void **state)
{
    (void)state;
    mig_gpu_state g = design_gpu();
    mig_layout l;
    mig_error e = {0};
    assert_int_equal(gpu_state_layout(&g, &l, &e), 0);
    assert_int_equal(l.n, 4);
    const char *names[] = {"2g.20gb", "1g.10gb", "1g.10gb", "3g.40gb"};
    const unsigned starts[] = {0, 2, 3, 4};
    for (unsigned i = 0; i < 4; i++) {
        assert_string_equal(g.model->profiles[l.gi[i].profile].name, names[i]);
        assert_int_equal(l.gi[i].start, starts[i]);
    }
    assert_int_equal(layout_check(g.model, &l, NULL), MIG_FIT_OK);
    g.gi[1].profile_id = 77; /* no such profile on an H100 */
    assert_int_equal(gpu_state_layout(&g, &l, &e), -1);
    assert_non_null(strstr(e.msg, "77"));
    g.model = NULL;
    assert_int_equal(gpu_state_layout(&g, &l, &e), -1);
}

static void test_ci_names(void **state)
{
    (void)state;
    mig_gpu_state g = design_gpu();
    char name[64];
    ci_state_name(g.model, &g.gi[3], &g.gi[3].ci[0], name, sizeof name);
    assert_string_equal(name, "3g.40gb");
    mig_ci_state one = {.slices = 1};
    ci_state_name(g.model, &g.gi[3], &one, name, sizeof name);
    assert_string_equal(name, "1c.3g.40gb");
    mig_ci_state two = {.slices = 2};
    ci_state_name(g.model, &g.gi[0], &two, name, sizeof name);
    assert_string_equal(name, "2g.20gb");
}

/* ------------------------------------------------------------ drawing */

static void test_draw_design_picture(void **state)
{
    (void)state;
    mig_gpu_state g = design_gpu();
    char *out = capture_gpu(&g, false);
    char head[256], index[256], bar[256], busy[256];
    line_of(out, 0, head, sizeof head);
    line_of(out, 1, index, sizeof index);
    line_of(out, 2, bar, sizeof bar);
    line_of(out, 3, busy, sizeof busy);
    assert_non_null(strstr(head, "GPU 0  NVIDIA H100 80GB HBM3"));
    assert_non_null(strstr(head, "MIG on"));
    assert_null(strstr(head, "pending"));
    assert_non_null(strstr(head, "compute 7/7"));
    assert_non_null(strstr(head, "memory 8/8"));
    /* The boxes of docs/design.md: every box is exactly its cells wide (the
     * 2g box spans two 9-column cells). */
    assert_non_null(strstr(bar, "[ 2g.20gb  GI 3  ][1g GI 9][1g GI10][ 3g.40gb  GI 2   "));
    assert_null(strchr(out, '\033'));
    /* Each slice's number stands over the first column of its cell. */
    size_t w = column_of(index, "1") - column_of(index, "0");
    assert_int_equal(column_of(bar, "[1g GI 9]"), column_of(index, "2"));
    assert_int_equal(column_of(bar, "[ 3g.40gb"), column_of(index, "4"));
    assert_int_equal(strlen(bar), column_of(index, "0") + 8 * w);
    /* busy under the 2g, idle under the others, one column inside each box. */
    assert_int_equal(column_of(busy, "busy"), column_of(bar, "[ 2g") + 1);
    const char *idle_boxes[] = {"[1g GI 9]", "[1g GI10]", "[ 3g.40gb"};
    for (unsigned i = 0; i < 3; i++)
        assert_memory_equal(busy + column_of(bar, idle_boxes[i]) + 1, "idle", 4);
    assert_int_equal(column_of(busy, "idle"), column_of(bar, "[1g GI 9]") + 1);
    free(out);
}

static void test_draw_free_pending_and_color(void **state)
{
    (void)state;
    mig_gpu_state g = design_gpu();
    g.n_gi = 1; /* only the 2g: six free slices */
    g.mig_pending = false;
    char *out = capture_gpu(&g, false);
    assert_non_null(strstr(out, "pending off"));
    assert_non_null(strstr(out, "compute 2/7   memory 2/8"));
    char bar[256];
    line_of(out, 2, bar, sizeof bar);
    unsigned frees = 0;
    for (const char *p = bar; (p = strstr(p, "free")); p++)
        frees++;
    assert_int_equal(frees, 6);
    free(out);
    out = capture_gpu(&g, true);
    assert_non_null(strchr(out, '\033'));
    free(out);
}

static void test_draw_mig_off(void **state)
{
    (void)state;
    mig_gpu_state g = design_gpu();
    g.n_gi = 0;
    g.mig_current = g.mig_pending = false;
    char *out = capture_gpu(&g, false);
    assert_non_null(strstr(out, "MIG off"));
    assert_non_null(strstr(out, "idle"));
    assert_null(strstr(out, "compute"));
    assert_null(strstr(out, "["));
    free(out);
    g.model = NULL;
    g.mig_capable = false;
    out = capture_gpu(&g, false);
    assert_non_null(strstr(out, "not a MIG-capable"));
    free(out);
}

/* Every maximal layout of every model draws one box per GI, and every line
 * stays under 110 columns. */
static int check_drawing(const mig_layout *l, void *ctx)
{
    const mig_model *m = ctx;
    char *out = capture_layout(m, l);
    char index[512], bar[512];
    line_of(out, 0, index, sizeof index);
    line_of(out, 1, bar, sizeof bar);
    assert_true(strlen(index) < 110 && strlen(bar) < 110);
    unsigned boxes = 0, frees = 0;
    for (const char *p = bar; *p; p++)
        boxes += *p == '[';
    for (const char *p = bar; (p = strstr(p, "free")); p++)
        frees++;
    assert_int_equal(boxes, l->n + frees);
    assert_int_equal(frees, m->memory_slices - layout_memory_used(m, l));
    assert_null(strstr(out, "GI"));
    free(out);
    return 0;
}

static void test_draw_every_model(void **state)
{
    (void)state;
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++) {
        bool every[MIG_MAX_PROFILES];
        for (unsigned p = 0; p < MIG_MAX_PROFILES; p++)
            every[p] = p < all[i].n_profiles;
        assert_int_equal(layout_enumerate_maximal(&all[i], every, check_drawing, (void *)&all[i]), 0);
    }
}

static void test_draw_short_labels(void **state)
{
    (void)state;
    const mig_model *m = mig_model_by_name("H100-SXM5-80GB");
    mig_layout l;
    mig_error e = {0};
    assert_int_equal(layout_parse(m, "1g.10gb+me@0,1g.10gb@1", &l, &e), 0);
    char *out = capture_layout(m, &l);
    /* "1g.10gb+me" is wider than a cell: shortened to "1g+me". */
    assert_non_null(strstr(out, "[ 1g+me ][1g.10gb]"));
    free(out);
    const mig_model *r = mig_model_by_name("RTX-PRO-6000-96GB");
    assert_int_equal(layout_parse(r, "1g.24gb+me.all@0,1g.24gb-me@3", &l, &e), 0);
    out = capture_layout(r, &l);
    assert_non_null(strstr(out, "[ 1g.24gb+me.all    ][ 1g.24gb-me"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_find_gi),
        cmocka_unit_test(test_layout_of_state),
        cmocka_unit_test(test_ci_names),
        cmocka_unit_test(test_draw_design_picture),
        cmocka_unit_test(test_draw_free_pending_and_color),
        cmocka_unit_test(test_draw_mig_off),
        cmocka_unit_test(test_draw_every_model),
        cmocka_unit_test(test_draw_short_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
