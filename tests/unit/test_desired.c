/*
 * test_desired.c: what a config entry means for a GPU (desired_from_config)
 * and whether a GPU already is that way (desired_satisfied).
 *
 * Configs are parsed from text with the real parser. Expected structures
 * come from the reference's CI placement rules (reference/mig-profiles.md
 * section 3: in a 3g GI 1c at {0,1,2}, 2c at {0}; in a 7g GI 1c anywhere,
 * 2c at {0,2,4}, 3c at {0,4}, 4c at {0}), worked out by hand below, not
 * from the code under test. mig-parted's own default config must mean, on
 * each model its entries filter for, something that fits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apply/reconcile.h"
#include "model/layout.h"

static const mig_model *model(const char *name)
{
    const mig_model *m = mig_model_by_name(name);
    if (!m)
        fail_msg("no model %s", name);
    return m;
}

static mig_gpu_state gpu(const mig_model *m, unsigned index)
{
    mig_gpu_state g;
    memset(&g, 0, sizeof g);
    g.index = index;
    g.model = m;
    g.mig_capable = true;
    g.mig_current = g.mig_pending = true;
    g.pci_device_id = m->pci_device_ids[0];
    snprintf(g.name, sizeof g.name, "%s", m->nvml_name);
    return g;
}

/* One config "a" with one entry: devices all, these mig-devices lines. */
static void parse(const char *devices_yaml, cfg_file *f)
{
    char text[2048];
    snprintf(text, sizeof text,
             "version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n"
             "      mig-devices:\n%s",
             devices_yaml);
    mig_error e = {0};
    if (cfg_parse_string(text, strlen(text), "t.yaml", f, &e) < 0)
        fail_msg("parse: %s", e.msg);
}

static mig_desired_gpu resolve(const char *model_name, const char *devices_yaml)
{
    cfg_file f;
    parse(devices_yaml, &f);
    mig_gpu_state g = gpu(model(model_name), 0);
    mig_desired_gpu d;
    mig_error e = {0};
    if (desired_from_config(&f.configs[0], &g, &d, &e) < 0)
        fail_msg("desired: %s", e.msg);
    cfg_free(&f);
    return d;
}

/* How many GIs of `gi` hold exactly these CI slice counts (any order). */
static unsigned count_gis(const mig_model *m, const mig_desired_gpu *d, const char *gi,
                          const unsigned *slices, unsigned n)
{
    unsigned id = mig_profile_by_name(m, gi)->id, found = 0;
    for (unsigned i = 0; i < d->n_gi; i++) {
        if (d->gi[i].profile_id != id || d->gi[i].n_ci != n)
            continue;
        unsigned want[MIG_MAX_CI] = {0}, have[MIG_MAX_CI] = {0};
        for (unsigned j = 0; j < n; j++) {
            want[slices[j]]++;
            have[d->gi[i].ci[j].slices]++;
        }
        found += memcmp(want, have, sizeof want) == 0;
    }
    return found;
}

static void test_gi_keys_get_default_ci(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    mig_desired_gpu d = resolve("H100-SXM5-80GB", "        \"1g.10gb\": 2\n        \"2g.20gb\": 1\n"
                                                  "        \"3g.40gb\": 1\n");
    assert_true(d.selected);
    assert_true(d.mig_enabled);
    assert_false(d.impossible);
    assert_int_equal(d.n_gi, 4);
    assert_int_equal(count_gis(m, &d, "1g.10gb", (unsigned[]){1}, 1), 2);
    assert_int_equal(count_gis(m, &d, "2g.20gb", (unsigned[]){2}, 1), 1);
    assert_int_equal(count_gis(m, &d, "3g.40gb", (unsigned[]){3}, 1), 1);
    for (unsigned i = 0; i < d.n_gi; i++)
        assert_int_equal(d.gi[i].start, -1);
    char buf[256];
    desired_format_counts(m, &d, buf, sizeof buf);
    assert_string_equal(buf, "2x1g.10gb + 1x2g.20gb + 1x3g.40gb");
}

/* 1c.3g x4: a 3g GI holds three 1c (at 0, 1, 2), so two GIs: 3 + 1. */
static void test_ci_keys_fill_gis(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    mig_desired_gpu d = resolve("H100-SXM5-80GB", "        \"1c.3g.40gb\": 4\n");
    assert_false(d.impossible);
    assert_int_equal(d.n_gi, 2);
    assert_int_equal(count_gis(m, &d, "3g.40gb", (unsigned[]){1, 1, 1}, 3), 1);
    assert_int_equal(count_gis(m, &d, "3g.40gb", (unsigned[]){1}, 1), 1);

    /* 2c at 0 and 1c at 2 share one 3g GI. */
    d = resolve("H100-SXM5-80GB", "        \"1c.3g.40gb\": 1\n        \"2c.3g.40gb\": 1\n");
    assert_int_equal(d.n_gi, 1);
    assert_int_equal(count_gis(m, &d, "3g.40gb", (unsigned[]){2, 1}, 2), 1);

    /* 7g GI: 2c at 0, 1c at 2 and 3, 3c at 4 fill all 7 slices in one GI. */
    d = resolve("H100-SXM5-80GB", "        \"1c.7g.80gb\": 2\n        \"2c.7g.80gb\": 1\n"
                                  "        \"3c.7g.80gb\": 1\n");
    assert_false(d.impossible);
    assert_int_equal(d.n_gi, 1);
    assert_int_equal(count_gis(m, &d, "7g.80gb", (unsigned[]){1, 1, 2, 3}, 4), 1);
    char buf[256];
    desired_format_counts(m, &d, buf, sizeof buf);
    assert_string_equal(buf, "2x1c.7g.80gb + 1x2c.7g.80gb + 1x3c.7g.80gb");

    /* 2c x2 + 1c x3 in 3g GIs: a 2c CI only starts at 0 in a 3g GI, so
     * each GI holds one 2c at most, plus one 1c beside it; the third 1c
     * needs a third GI, and an H100 holds at most two 3g GIs. */
    d = resolve("H100-SXM5-80GB", "        \"2c.3g.40gb\": 2\n        \"1c.3g.40gb\": 3\n");
    assert_true(d.impossible);
    assert_non_null(strstr(d.reason, "3 x 3g.40gb, at most 2"));
}

static void test_pins(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    mig_desired_gpu d = resolve("H100-SXM5-80GB", "        \"3g.40gb@4\": 1\n        \"1c.3g.40gb@0\": 2\n");
    assert_false(d.impossible);
    assert_int_equal(d.n_gi, 2);
    for (unsigned i = 0; i < d.n_gi; i++) {
        if (d.gi[i].n_ci == 2)
            assert_int_equal(d.gi[i].start, 0);
        else
            assert_int_equal(d.gi[i].start, 4);
    }
    assert_int_equal(count_gis(m, &d, "3g.40gb", (unsigned[]){1, 1}, 2), 1);
    /* 4g@0 and 3g@0 overlap: impossible, both keys named. */
    d = resolve("H100-SXM5-80GB", "        \"4g.40gb@0\": 1\n        \"3g.40gb@0\": 1\n");
    assert_true(d.impossible);
    assert_non_null(strstr(d.reason, "\"4g.40gb@0\": 1"));
    assert_non_null(strstr(d.reason, "\"3g.40gb@0\": 1"));
}

static void test_impossible_names_the_conflict(void **state)
{
    (void)state;
    mig_desired_gpu d = resolve("H100-SXM5-80GB", "        \"1g.10gb\": 8\n");
    assert_true(d.impossible);
    assert_int_equal(d.n_gi, 0);
    assert_non_null(strstr(d.reason, "\"1g.10gb\": 8 (7:9)"));
    /* 3g x2 + 1g + 2g: 3g x2 alone fits; with the 1g it takes 9 memory
     * slices of 8, with the 2g 8 compute slices of 7. The minimal conflict
     * names 3g and one of the two. */
    d = resolve("H100-SXM5-80GB", "        \"1g.10gb\": 1\n        \"3g.40gb\": 2\n"
                                  "        \"2g.20gb\": 1\n");
    assert_true(d.impossible);
    assert_non_null(strstr(d.reason, "\"3g.40gb\": 2"));
    bool one = strstr(d.reason, "1g.10gb") != NULL, two = strstr(d.reason, "2g.20gb") != NULL;
    assert_true(one != two);
    assert_non_null(strstr(d.reason, "slices, the GPU has"));
    /* 4g + 3g + 1g: 8 compute slices on a 7-slice GPU. */
    d = resolve("H100-SXM5-80GB", "        \"4g.40gb\": 1\n        \"3g.40gb\": 1\n"
                                  "        \"1g.10gb\": 1\n");
    assert_true(d.impossible);
    assert_non_null(strstr(d.reason, "8 compute slices, the GPU has 7"));
}

static void test_unknown_profile_is_input_error(void **state)
{
    (void)state;
    cfg_file f;
    parse("        \"1g.10gb\": 1\n        \"1g.5gb\": 2\n", &f);
    mig_gpu_state g = gpu(model("H100-SXM5-80GB"), 0);
    mig_desired_gpu d;
    mig_error e = {0};
    assert_int_equal(desired_from_config(&f.configs[0], &g, &d, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_int_equal(e.line, 8); /* the key's place, in the error's fields */
    assert_int_equal(e.col, 9);
    reconcile_error_in_file(&e, "t.yaml");
    assert_string_equal(e.file, "t.yaml");
    char text[2048];
    assert_true(strncmp(mig_error_format(&e, text, sizeof text), "t.yaml:8:9: ", 12) == 0);
    assert_non_null(strstr(e.msg, "1g.5gb"));
    /* No 3c CI in a 4g GI (reference section 3). */
    cfg_free(&f);
    parse("        \"3c.4g.40gb\": 1\n", &f);
    mig_error_clear(&e);
    assert_int_equal(desired_from_config(&f.configs[0], &g, &d, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    cfg_free(&f);
}

static void test_selection_and_modes(void **state)
{
    (void)state;
    const char *text = "version: v1\nmig-configs:\n  a:\n"
                       "    - devices: [1]\n      mig-enabled: false\n";
    cfg_file f;
    mig_error e = {0};
    assert_int_equal(cfg_parse_string(text, strlen(text), "t.yaml", &f, &e), 0);
    const mig_model *m = model("H100-SXM5-80GB");
    mig_gpu_state g0 = gpu(m, 0), g1 = gpu(m, 1);
    mig_desired_gpu d;
    assert_int_equal(desired_from_config(&f.configs[0], &g0, &d, &e), 0);
    assert_false(d.selected);
    assert_true(desired_satisfied(&g0, &d, true, NULL, 0)); /* not selected: ignored */
    assert_int_equal(desired_from_config(&f.configs[0], &g1, &d, &e), 0);
    assert_true(d.selected);
    assert_false(d.mig_enabled);
    char drift[256];
    assert_false(desired_satisfied(&g1, &d, false, drift, sizeof drift));
    assert_string_equal(drift, "MIG mode is on, wants off");
    g1.mig_current = g1.mig_pending = false;
    assert_true(desired_satisfied(&g1, &d, false, drift, sizeof drift));
    g1.mig_pending = true;
    assert_false(desired_satisfied(&g1, &d, false, drift, sizeof drift));
    assert_non_null(strstr(drift, "pending on"));
    cfg_free(&f);

    /* A GPU that is not MIG capable cannot be enabled. */
    parse("        \"1g.10gb\": 1\n", &f);
    mig_gpu_state plain = gpu(m, 0);
    plain.mig_capable = false;
    plain.model = NULL;
    assert_int_equal(desired_from_config(&f.configs[0], &plain, &d, &e), 0);
    assert_true(d.impossible);
    assert_non_null(strstr(d.reason, "not MIG capable"));
    cfg_free(&f);
}

static mig_gi_state *add_gi(mig_gpu_state *g, const char *profile, unsigned start, unsigned id)
{
    const mig_gi_profile *p = mig_profile_by_name(g->model, profile);
    mig_gi_state *gi = &g->gi[g->n_gi++];
    memset(gi, 0, sizeof *gi);
    gi->id = id;
    gi->profile_id = p->id;
    gi->start = start;
    gi->size = p->memory_slices;
    return gi;
}

static void add_ci(const mig_model *m, mig_gi_state *gi, unsigned slices, unsigned start)
{
    mig_ci_profile cps[MIG_MAX_CI_PROFILES];
    unsigned n = mig_ci_profiles(m, mig_profile_by_id(m, gi->profile_id), cps);
    for (unsigned i = 0; i < n; i++)
        if (cps[i].compute_slices == slices) {
            gi->ci[gi->n_ci++] = (mig_ci_state){.id = gi->n_ci, .profile_id = cps[i].id,
                                                .start = start, .slices = slices};
            return;
        }
    fail_msg("no %uc CI", slices);
}

static void test_satisfied_compares_structure(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    mig_desired_gpu d = resolve("H100-SXM5-80GB", "        \"1g.10gb\": 2\n        \"2g.20gb\": 1\n"
                                                  "        \"3g.40gb\": 1\n");
    mig_gpu_state g = gpu(m, 2);
    for (unsigned s = 0; s < 7; s++)
        add_ci(m, add_gi(&g, "1g.10gb", s, 7 + s), 1, 0);
    char drift[512];
    assert_false(desired_satisfied(&g, &d, false, drift, sizeof drift));
    assert_string_equal(drift, "has 7x1g.10gb, wants 2x1g.10gb + 1x2g.20gb + 1x3g.40gb");

    g = gpu(m, 0);
    add_ci(m, add_gi(&g, "3g.40gb", 4, 2), 3, 0);
    add_ci(m, add_gi(&g, "2g.20gb", 2, 4), 2, 0);
    add_ci(m, add_gi(&g, "1g.10gb", 0, 7), 1, 0);
    add_ci(m, add_gi(&g, "1g.10gb", 1, 8), 1, 0);
    assert_true(desired_satisfied(&g, &d, false, drift, sizeof drift));
    assert_true(desired_satisfied(&g, &d, true, drift, sizeof drift)); /* nothing pinned */

    /* Same names, other grouping: two 3g GIs with one 1c each against one
     * 3g GI holding two. */
    mig_desired_gpu d2 = resolve("H100-SXM5-80GB", "        \"1c.3g.40gb\": 2\n");
    mig_gpu_state h = gpu(m, 0);
    add_ci(m, add_gi(&h, "3g.40gb", 0, 1), 1, 0);
    add_ci(m, add_gi(&h, "3g.40gb", 4, 2), 1, 0);
    assert_false(desired_satisfied(&h, &d2, false, drift, sizeof drift));
    assert_non_null(strstr(drift, "has 2 3g.40gb GIs, wants 1"));
    char counts[128];
    state_format_counts(&h, counts, sizeof counts);
    assert_string_equal(counts, "2x1c.3g.40gb");
}

/* mig-parted's default config: every config on every model its entries
 * filter for means a layout that fits (that is what NVIDIA ships). */
static void test_config_default_fits_everywhere(void **state)
{
    (void)state;
    const char *dir = getenv("MIGCTL_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/config-default.yaml", dir ? dir : "tests/data");
    cfg_file f;
    mig_error e = {0};
    if (cfg_parse_file(path, &f, &e) < 0)
        fail_msg("%s", e.msg);
    unsigned n_models, checked = 0;
    const mig_model *all = mig_catalogue(&n_models);
    for (unsigned mi = 0; mi < n_models; mi++) {
        mig_gpu_state g = gpu(&all[mi], 0);
        for (unsigned c = 0; c < f.n_configs; c++) {
            const cfg_entry *en = cfg_entry_for_gpu(&f.configs[c], &g);
            if (!en || en->n_filters == 0)
                continue; /* unfiltered entries are written for one family */
            mig_desired_gpu d;
            if (desired_from_config(&f.configs[c], &g, &d, &e) < 0)
                fail_msg("%s on %s: %s", f.configs[c].name, all[mi].name, e.msg);
            if (d.impossible)
                fail_msg("%s on %s: %s", f.configs[c].name, all[mi].name, d.reason);
            checked++;
        }
    }
    assert_true(checked > 10);
    cfg_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gi_keys_get_default_ci),
        cmocka_unit_test(test_ci_keys_fill_gis),
        cmocka_unit_test(test_pins),
        cmocka_unit_test(test_impossible_names_the_conflict),
        cmocka_unit_test(test_unknown_profile_is_input_error),
        cmocka_unit_test(test_selection_and_modes),
        cmocka_unit_test(test_satisfied_compares_structure),
        cmocka_unit_test(test_config_default_fits_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
