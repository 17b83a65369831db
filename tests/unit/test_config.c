/*
 * test_config.c: the mig-parted v1 config layer (config/migparted.h).
 *
 * - The corpus under tests/data/configs: every valid file parses to the exact
 *   structure written out by hand below; every invalid file fails with the
 *   line:col and message listed in a table here (and every file in
 *   invalid/ must have a row, so the corpus cannot grow untested).
 * - NVIDIA's config-default.yaml parses unchanged; its config count is
 *   checked against an independent line scan of the file, its all-balanced
 *   filter lists against a table transcribed from the file, and each of its
 *   all-balanced / all-<profile> configs is checked, on every catalogue model,
 *   against what generate-config derives from the catalogue's geometry: two
 *   independent sources that must agree.
 * - Selection rules, overlap detection, YAML and JSON round trips, the
 *   generated layouts (each fits its model per model/layout.h, each
 *   all-<profile> count is maximal) and export from hand-built GPU states.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/migparted.h"
#include "model/catalogue.h"
#include "model/layout.h"

/* ------------------------------------------------------------------ helpers */

static const char *data_dir(void)
{
    const char *d = getenv("MIGCTL_TEST_DATA");
    return d ? d : "tests/data";
}

static void corpus_path(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/configs/%s", data_dir(), rel);
}

static void parse_ok(const char *rel, cfg_file *f)
{
    char path[1024];
    mig_error e = {0};
    corpus_path(path, sizeof path, rel);
    if (cfg_parse_file(path, f, &e) != 0)
        fail_msg("%s: %s", rel, e.msg);
}

static const cfg_config *config(const cfg_file *f, const char *name)
{
    mig_error e = {0};
    const cfg_config *c = cfg_select(f, name, &e);
    if (!c)
        fail_msg("%s", e.msg);
    return c;
}

static const mig_model *model(const char *name)
{
    const mig_model *m = mig_model_by_name(name);
    if (!m)
        fail_msg("model %s missing from the catalogue", name);
    return m;
}

/* A GPU with the identity fields selection looks at. */
static mig_gpu_state gpu(unsigned index, const mig_model *m, unsigned pci_id)
{
    mig_gpu_state g;
    memset(&g, 0, sizeof g);
    g.index = index;
    g.model = m;
    g.mig_capable = m != NULL;
    g.pci_device_id = pci_id;
    snprintf(g.uuid, sizeof g.uuid, "GPU-%08x-0000-0000-0000-%012x", 0xabcdef00u + index, index);
    snprintf(g.bus_id, sizeof g.bus_id, "00000000:%02X:00.0", 0x10 + index);
    return g;
}

/* The count of a key in an entry, or -1 when absent. */
static int count_of(const cfg_entry *en, const char *key)
{
    for (unsigned i = 0; i < en->n_devices; i++)
        if (!strcmp(en->devices[i].key, key))
            return (int)en->devices[i].count;
    return -1;
}

/* Same profile -> count multiset, whatever the key order. */
static bool same_devices(const cfg_entry *a, const cfg_entry *b)
{
    if (a->n_devices != b->n_devices)
        return false;
    for (unsigned i = 0; i < a->n_devices; i++)
        if (count_of(b, a->devices[i].key) != (int)a->devices[i].count)
            return false;
    return true;
}

static char *emit_to_string(const cfg_file *f, bool json, size_t *len)
{
    char *buf = NULL;
    FILE *out = open_memstream(&buf, len);
    assert_non_null(out);
    mig_error e = {0};
    int rc = json ? cfg_emit_json(out, f, &e) : cfg_emit_yaml(out, f, &e);
    fclose(out);
    if (rc != 0)
        fail_msg("emit: %s", e.msg);
    return buf;
}

/* Parse, emit (YAML and JSON), re-parse: the same meaning each time. */
static void assert_round_trip(const cfg_file *f)
{
    for (int json = 0; json <= 1; json++) {
        size_t len;
        char *text = emit_to_string(f, json, &len);
        cfg_file g;
        mig_error e = {0};
        if (cfg_parse_string(text, len, "<emitted>", &g, &e) != 0)
            fail_msg("%s re-parse (%s): %s\n%s", f->path, json ? "json" : "yaml", e.msg, text);
        if (!cfg_equal(f, &g))
            fail_msg("%s: %s round trip changed the config:\n%s", f->path, json ? "json" : "yaml",
                     text);
        cfg_free(&g);
        free(text);
    }
}

/* Place an entry's GI keys on model m (pinned first, then the rest largest
 * first, the driver's placement order) and check the whole layout. */
static mig_fit entry_layout(const mig_model *m, const cfg_entry *en, mig_layout *l)
{
    memset(l, 0, sizeof *l);
    for (int pass = 0; pass < 2; pass++)
        for (unsigned g = 8; g >= 1; g--)
            for (unsigned i = 0; i < en->n_devices; i++) {
                const cfg_mig_device *d = &en->devices[i];
                if (d->name.gi_slices != g || (pass == 0) != (d->start >= 0))
                    continue;
                const mig_gi_profile *p = NULL;
                mig_ci_profile ci;
                mig_error e = {0};
                if (mig_profile_resolve(m, &d->name, &p, &ci, &e) != 0)
                    fail_msg("%s: %s: %s", m->name, d->key, e.msg);
                unsigned pos = (unsigned)mig_profile_pos(m, p);
                for (unsigned k = 0; k < d->count; k++) {
                    int start = d->start >= 0 ? d->start : layout_auto_start(m, l, pos);
                    if (start < 0)
                        return MIG_FIT_NO_ROOM;
                    layout_add(l, pos, (unsigned)start);
                }
            }
    unsigned bad;
    return layout_check(m, l, &bad);
}

/* ------------------------------------------------------------------ invalid corpus */

typedef struct {
    const char *file;
    unsigned line, col; /* 0: position not checked (see the row's comment) */
    const char *message;
} bad_case;

static const bad_case bad_cases[] = {
    {"version-v2.yaml", 1, 10, "version is 'v2'; expected v1"},
    {"no-version.yaml", 1, 1, "no version key; expected version: v1"},
    {"unknown-top-key.yaml", 6, 1, "unknown key 'hooks' at the top level"},
    {"unknown-entry-key.yaml", 6, 7, "unknown key 'mig-device' in an entry; expected one of"},
    {"devices-bare-int.yaml", 4, 16, "devices: 7 is a single index; expected \"all\" or a list such as [7]"},
    {"devices-negative.yaml", 4, 20, "a device index is '-1'; expected an integer"},
    {"filter-bad.yaml", 5, 37, "device-filter '0x2330-10DE' is not a PCI id"},
    {"enabled-missing.yaml", 4, 7, "entry has no mig-enabled"},
    {"enabled-quoted.yaml", 5, 20, "mig-enabled is the string \"true\"; expected true or false"},
    {"mig-devices-missing.yaml", 4, 7, "mig-enabled is true but mig-devices is missing"},
    {"mig-devices-when-disabled.yaml", 7, 9, "mig-enabled is false but mig-devices lists instances"},
    {"all-counts-zero.yaml", 7, 9, "every count in mig-devices is 0"},
    {"count-negative.yaml", 7, 20, "the count of 1g.10gb is '-2'; expected an integer from 0 to 64"},
    {"count-leading-zero.yaml", 7, 20, "the count of 1g.10gb '010' has a leading zero"},
    {"count-huge.yaml", 7, 20, "is too large; expected an integer from 0 to 64"},
    {"profile-bad.yaml", 7, 9, "1x.10gb"},
    {"duplicate-config.yaml", 6, 3, "duplicate key 'a' in mig-configs (first at line 3)"},
    {"duplicate-profile.yaml", 8, 9, "'MIG 1g.10gb' names the same profile as '1g.10gb' (line 7)"},
    {"configs-empty.yaml", 2, 14, "mig-configs is empty"},
    {"config-no-entries.yaml", 3, 6, "config 'a' has no entries"},
    {"config-not-list.yaml", 4, 5, "config 'a' is a map; expected a list of entries"},
    /* the unclosed list folds "1 mig-enabled" into one scalar; the ':' after it is the error */
    {"yaml-syntax.yaml", 5, 18,
     "YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence started at 4:16"},
    {"model-unknown.yaml", 4, 32, "unknown model 'H900-SXM9-1TB'; expected one of"},
    {"bus-id-bad.yaml", 4, 21, "pci-bus-id '0000:41:00' is not a PCI address"},
    {"no-selector.yaml", 4, 7, "entry selects no GPUs"},
    {"pinned-count.yaml", 7, 22, "3g.40gb@4 pins one placement but asks for 2 instances"},
    {"empty.yaml", 1, 1, "the file is empty"},
    {"two-documents.yaml", 7, 1, "a second YAML document"},
    {"mig-devices-list.yaml", 6, 20, "mig-devices is a list; expected a map"},
    {"duplicate-entry-key.yaml", 6, 7, "duplicate key 'mig-enabled' in an entry"},
    /* root and mig-configs are levels 1 and 2: the 31st '[' is level 33 */
    {"nesting-deep.yaml", 3, 36, "nesting deeper than 32 levels"},
    /* An alias bomb runs out of the visit budget wherever the walk is then. */
    {"alias-bomb.yaml", 0, 0, "too large or too many aliases"},
    /* A config whose value is an alias of mig-configs itself. */
    {"alias-cycle.yaml", 2, 14, "config 'a' is a map; expected a list of entries"},
};

static const bad_case *bad_case_for(const char *file)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
        if (!strcmp(bad_cases[i].file, file))
            return &bad_cases[i];
    return NULL;
}

static void test_invalid_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        char rel[256], path[1024], where[1100];
        snprintf(rel, sizeof rel, "invalid/%s", c->file);
        corpus_path(path, sizeof path, rel);
        cfg_file f;
        mig_error e = {0};
        if (cfg_parse_file(path, &f, &e) == 0)
            fail_msg("%s parsed but must not", c->file);
        if (e.kind != MIG_ERR_INPUT)
            fail_msg("%s: kind %d, expected MIG_ERR_INPUT: %s", c->file, e.kind, e.msg);
        /* The position is in the error's fields, not parsed from text;
         * mig_error_format renders it. */
        char msg[2048];
        mig_error_format(&e, msg, sizeof msg);
        snprintf(where, sizeof where, "%s:%u:%u: ", path, c->line, c->col);
        if (c->line && strncmp(msg, where, strlen(where)) != 0)
            fail_msg("%s: expected position %u:%u, got: %s", c->file, c->line, c->col, msg);
        if (c->line && (e.line != c->line || e.col != c->col || strcmp(e.file, path) != 0))
            fail_msg("%s: fields %s:%u:%u, expected %u:%u", c->file, e.file, e.line, e.col,
                     c->line, c->col);
        if (!strstr(msg, c->message))
            fail_msg("%s: expected '%s' in: %s", c->file, c->message, msg);
        if (!strstr(msg, "expected"))
            fail_msg("%s: the message does not say what was expected: %s", c->file, msg);
        assert_int_equal(f.n_configs, 0); /* nothing half-built is handed back */
    }
}

/* Every file in invalid/ has a row in the table above. */
static void test_invalid_corpus_complete(void **state)
{
    (void)state;
    char dir[1024];
    corpus_path(dir, sizeof dir, "invalid");
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    unsigned n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (!bad_case_for(de->d_name))
            fail_msg("invalid/%s has no row in bad_cases", de->d_name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, sizeof bad_cases / sizeof bad_cases[0]);
}

/* ------------------------------------------------------------------ valid corpus */

static void test_valid_minimal(void **state)
{
    (void)state;
    cfg_file f;
    parse_ok("valid/minimal.yaml", &f);
    assert_int_equal(f.n_configs, 1);
    const cfg_config *c = config(&f, NULL); /* the only config needs no name */
    assert_string_equal(c->name, "all-1g.10gb");
    assert_int_equal(c->line, 3);
    assert_int_equal(c->n_entries, 1);
    const cfg_entry *en = &c->entries[0];
    assert_true(en->has_devices && en->all_devices && en->mig_enabled);
    assert_int_equal(en->n_filters, 0);
    assert_int_equal(en->n_devices, 1);
    assert_string_equal(en->devices[0].key, "1g.10gb");
    assert_int_equal(en->devices[0].count, 7);
    assert_int_equal(en->devices[0].start, -1);
    assert_int_equal(en->devices[0].name.gi_slices, 1);
    assert_int_equal(en->devices[0].name.mem_gb, 10);
    assert_int_equal(en->devices[0].name.ci_slices, 0);
    assert_int_equal(en->devices[0].line, 7);
    assert_int_equal(en->devices[0].col, 9);
    cfg_free(&f);
}

static void test_valid_indices_filters(void **state)
{
    (void)state;
    cfg_file f;
    parse_ok("valid/indices-filters.yaml", &f);
    const cfg_config *c = config(&f, "mixed");
    assert_int_equal(c->n_entries, 2);
    const cfg_entry *a = &c->entries[0], *b = &c->entries[1];
    assert_true(a->has_devices && !a->all_devices);
    assert_int_equal(a->n_indices, 2);
    assert_int_equal(a->indices[0], 0);
    assert_int_equal(a->indices[1], 2);
    assert_int_equal(a->n_filters, 1);
    assert_int_equal(a->filters[0].device_id, 0x233010DE);
    assert_true(a->filters[0].has_subsystem);
    assert_int_equal(a->filters[0].subsystem_id, 0x16C110DE);
    assert_int_equal(count_of(a, "3g.40gb"), 2);
    assert_int_equal(b->n_indices, 1);
    assert_int_equal(b->indices[0], 1);
    assert_int_equal(b->n_filters, 2);
    assert_int_equal(b->filters[0].device_id, 0x20B010DE);
    assert_int_equal(b->filters[1].device_id, 0x20B110DE);
    assert_false(b->filters[1].has_subsystem);
    assert_false(b->mig_enabled);
    assert_int_equal(b->n_devices, 0);
    assert_int_equal(b->line, 10);
    cfg_free(&f);
}

static void test_valid_placements_and_ci(void **state)
{
    (void)state;
    cfg_file f;
    parse_ok("valid/placements.yaml", &f);
    const cfg_entry *en = &config(&f, "pinned")->entries[0];
    assert_int_equal(en->n_devices, 4);
    assert_string_equal(en->devices[0].key, "3g.40gb@4");
    assert_int_equal(en->devices[0].start, 4);
    assert_int_equal(en->devices[0].name.gi_slices, 3);
    assert_int_equal(en->devices[1].start, 0);
    assert_int_equal(en->devices[2].start, 2);
    assert_int_equal(en->devices[3].start, -1);
    /* the pinned layout is real on an H100: 2g@0, 1g@2, 1g anywhere, 3g@4 */
    mig_layout l;
    assert_int_equal(entry_layout(model("H100-SXM5-80GB"), en, &l), MIG_FIT_OK);
    assert_int_equal(l.n, 4);
    cfg_free(&f);

    parse_ok("valid/ci-profiles.yaml", &f);
    en = &config(&f, NULL)->entries[0];
    assert_int_equal(en->n_devices, 4);
    assert_int_equal(en->devices[0].name.ci_slices, 1);
    assert_int_equal(en->devices[0].name.gi_slices, 3);
    assert_int_equal(en->devices[0].count, 3);
    assert_int_equal(en->devices[1].name.attr, MIG_ATTR_ME);
    assert_string_equal(en->devices[2].key, "MIG 2g.20gb");
    assert_int_equal(en->devices[2].name.gi_slices, 2);
    assert_int_equal(count_of(en, "1g.10gb"), 0);
    cfg_free(&f);
}

static void test_valid_selectors(void **state)
{
    (void)state;
    cfg_file f;
    parse_ok("valid/selectors.yaml", &f);
    const cfg_config *c = config(&f, "by-identity");
    assert_int_equal(c->n_entries, 3);
    const cfg_entry *u = &c->entries[0], *b = &c->entries[1], *m = &c->entries[2];
    assert_false(u->has_devices);
    assert_int_equal(u->n_uuids, 1);
    assert_string_equal(u->uuids[0], "GPU-11111111-2222-3333-4444-555555555555");
    assert_int_equal(count_of(u, "7g.80gb"), 1);
    assert_int_equal(b->n_bus_ids, 2);
    assert_string_equal(b->bus_ids[1], "00000000:C1:00.0");
    assert_true(b->mig_enabled);
    assert_int_equal(b->n_devices, 0);
    assert_true(m->has_devices && m->all_devices);
    assert_int_equal(m->n_models, 2);
    assert_string_equal(m->models[1], "a100-sxm4-40gb");
    cfg_free(&f);
}

static void test_valid_styles(void **state)
{
    (void)state;
    cfg_file f;
    parse_ok("valid/mig-parted-style.yaml", &f);
    assert_int_equal(f.n_configs, 2);
    const cfg_config *c = config(&f, "custom-config");
    assert_int_equal(c->n_entries, 5);
    assert_int_equal(c->entries[0].n_indices, 4);
    assert_false(c->entries[0].mig_enabled);
    assert_int_equal(count_of(&c->entries[1], "1g.10gb"), 7);
    assert_int_equal(count_of(&c->entries[4], "2g.20gb"), 1);
    assert_false(config(&f, "all-disabled")->entries[0].mig_enabled);
    cfg_free(&f);

    parse_ok("valid/flow.json", &f);
    const cfg_entry *en = &config(&f, "balanced")->entries[0];
    assert_int_equal(en->n_filters, 1);
    assert_int_equal(en->filters[0].device_id, 0x233010DE);
    assert_int_equal(count_of(en, "1g.10gb"), 2);
    assert_int_equal(count_of(en, "3g.40gb"), 1);
    cfg_free(&f);

    parse_ok("valid/anchors.yaml", &f);
    assert_int_equal(f.n_configs, 2);
    assert_true(same_devices(&config(&f, "first")->entries[0], &config(&f, "second")->entries[0]));
    assert_int_equal(count_of(&config(&f, "second")->entries[0], "4g.40gb"), 1);
    cfg_free(&f);
}

static void test_valid_corpus_round_trips(void **state)
{
    (void)state;
    char dir[1024];
    corpus_path(dir, sizeof dir, "valid");
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    unsigned n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char rel[300];
        snprintf(rel, sizeof rel, "valid/%s", de->d_name);
        cfg_file f;
        parse_ok(rel, &f);
        assert_round_trip(&f);
        cfg_free(&f);
        n++;
    }
    closedir(d);
    assert_true(n >= 8);
    cfg_file f;
    parse_ok("config-default.yaml", &f);
    assert_round_trip(&f);
    cfg_free(&f);
}

static void test_parse_errors_outside_yaml(void **state)
{
    (void)state;
    cfg_file f;
    mig_error e = {0};
    assert_int_equal(cfg_parse_file("/nonexistent/migctl.yaml", &f, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "/nonexistent/migctl.yaml: No such file"));
    /* a NUL inside a scalar would turn two YAML strings into one C string */
    static const char nul[] = "version: v1\nmig-configs:\n  \"a\\0b\":\n    - devices: all\n"
                              "      mig-enabled: false\n";
    assert_int_equal(cfg_parse_string(nul, sizeof nul - 1, "nul.yaml", &f, &e), -1);
    assert_string_equal(e.file, "nul.yaml");
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 3);
    assert_non_null(strstr(e.msg, "NUL"));
}

/* ------------------------------------------------------------------ config-default.yaml */

/* Config labels by a line scan independent of the parser: two-space
 * indented keys under mig-configs. */
static unsigned count_labels_by_scan(const char *path)
{
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char line[1024];
    unsigned n = 0;
    while (fgets(line, sizeof line, in))
        if (line[0] == ' ' && line[1] == ' ' && line[2] != ' ' && line[2] != '#' &&
            line[2] != '\n' && strchr(line, ':'))
            n++;
    fclose(in);
    return n;
}

typedef struct {
    const char *comment;
    unsigned n;
    unsigned ids[8];
    const char *devices[3];
    unsigned counts[3];
} balanced_row;

/* Transcribed by hand from config-default.yaml's all-balanced. */
static const balanced_row balanced_rows[] = {
    {"GB200", 1, {0x294110DE}, {"1g.23gb", "2g.47gb", "3g.93gb"}, {2, 1, 1}},
    {"RTX PRO 6000", 1, {0x2BB510DE}, {"1g.24gb", "2g.48gb"}, {2, 1}},
    {"B200", 1, {0x290110DE}, {"1g.23gb", "2g.45gb", "3g.90gb"}, {2, 1, 1}},
    {"GH200 144G", 1, {0x234810DE}, {"1g.18gb", "2g.36gb", "3g.72gb"}, {2, 1, 1}},
    {"H200", 2, {0x233510DE, 0x233B10DE}, {"1g.18gb", "2g.35gb", "3g.71gb"}, {2, 1, 1}},
    {"H100 NVL", 2, {0x232110DE, 0x233A10DE}, {"1g.12gb", "2g.24gb", "3g.47gb"}, {2, 1, 1}},
    {"H100-80GB", 8,
     {0x233010DE, 0x233110DE, 0x232210DE, 0x20B210DE, 0x20B510DE, 0x20F310DE, 0x20F510DE, 0x232410DE},
     {"1g.10gb", "2g.20gb", "3g.40gb"}, {2, 1, 1}},
    {"A100-40GB", 4, {0x20B010DE, 0x20B110DE, 0x20F110DE, 0x20F610DE}, {"1g.5gb", "2g.10gb", "3g.20gb"},
     {2, 1, 1}},
    {"A30", 1, {0x20B710DE}, {"1g.6gb", "2g.12gb"}, {2, 1}},
    {"H100-96GB", 4, {0x234210DE, 0x233D10DE, 0x20B610DE, 0x232910DE}, {"1g.12gb", "2g.24gb", "3g.48gb"},
     {2, 1, 1}},
};

static void test_default_config_shape(void **state)
{
    (void)state;
    char path[1024];
    corpus_path(path, sizeof path, "config-default.yaml");
    cfg_file f;
    parse_ok("config-default.yaml", &f);
    assert_true(f.n_configs >= 60);
    assert_int_equal(f.n_configs, count_labels_by_scan(path));
    const cfg_config *b = config(&f, "all-balanced");
    size_t rows = sizeof balanced_rows / sizeof balanced_rows[0];
    assert_int_equal(b->n_entries, rows);
    for (size_t i = 0; i < rows; i++) {
        const cfg_entry *en = &b->entries[i];
        const balanced_row *r = &balanced_rows[i];
        assert_true(en->all_devices && en->mig_enabled);
        if (en->n_filters != r->n)
            fail_msg("all-balanced %s: %u filters, expected %u", r->comment, en->n_filters, r->n);
        for (unsigned k = 0; k < r->n; k++) {
            assert_int_equal(en->filters[k].device_id, r->ids[k]);
            assert_false(en->filters[k].has_subsystem);
        }
        unsigned keys = 0;
        for (unsigned k = 0; k < 3 && r->devices[k]; k++, keys++)
            assert_int_equal(count_of(en, r->devices[k]), r->counts[k]);
        assert_int_equal(en->n_devices, keys);
    }
    /* the one string-valued device-filter of the file */
    assert_int_equal(b->entries[8].n_filters, 1);
    /* every profile key names a real profile of some catalogue model */
    unsigned n_models;
    const mig_model *models = mig_catalogue(&n_models);
    for (unsigned i = 0; i < f.n_configs; i++)
        for (unsigned j = 0; j < f.configs[i].n_entries; j++)
            for (unsigned k = 0; k < f.configs[i].entries[j].n_devices; k++) {
                const char *key = f.configs[i].entries[j].devices[k].key;
                bool found = false;
                for (unsigned m = 0; m < n_models && !found; m++)
                    found = mig_profile_by_name(&models[m], key) != NULL;
                /* three labels of config-default.yaml name a GPU (of ~189 GB) that the
                 * catalogue does not carry; anything else must resolve */
                bool uncatalogued = !strcmp(key, "3g.95gb") || !strcmp(key, "4g.95gb") ||
                                    !strcmp(key, "7g.189gb");
                if (found == uncatalogued)
                    fail_msg("%s: %s %s a catalogue model's profile", f.configs[i].name, key,
                             found ? "is" : "is no");
            }
    cfg_free(&f);
}

/* Whether any device-filter of f names this PCI device id. */
static bool names_device(const cfg_file *f, unsigned pci)
{
    for (unsigned i = 0; i < f->n_configs; i++)
        for (unsigned j = 0; j < f->configs[i].n_entries; j++)
            for (unsigned k = 0; k < f->configs[i].entries[j].n_filters; k++)
                if (f->configs[i].entries[j].filters[k].device_id == pci)
                    return true;
    return false;
}

/* On every model, config-default.yaml's all-balanced and all-<profile>
 * configs select for a GPU of that model what generate-config derives. */
static void test_default_config_matches_generated(void **state)
{
    (void)state;
    cfg_file def;
    parse_ok("config-default.yaml", &def);
    unsigned n_models;
    const mig_model *models = mig_catalogue(&n_models);
    unsigned checked = 0;
    for (unsigned i = 0; i < n_models; i++) {
        const mig_model *m = &models[i];
        const mig_model *one[1] = {m};
        cfg_file gen;
        mig_error e = {0};
        if (cfg_generate(one, 1, &gen, &e) != 0)
            fail_msg("%s: %s", m->name, e.msg);
        for (unsigned p = 0; p < m->n_pci_ids; p++) {
            mig_gpu_state g = gpu(0, m, m->pci_device_ids[p]);
            for (unsigned c = 0; c < gen.n_configs; c++) {
                const cfg_config *gc = &gen.configs[c];
                const cfg_config *dc = cfg_select(&def, gc->name, &e);
                if (!dc)
                    continue; /* a profile the default config does not name */
                const cfg_entry *de = cfg_entry_for_gpu(dc, &g);
                /* A board the shipped file predates (no filter anywhere names
                 * its id: the RTX PRO 6000 Workstation editions, H100 SXM5
                 * 94GB, B300, GB300 here) is not compared: its unfiltered
                 * labels name other GPUs' profiles (its all-1g.35gb is H200's
                 * 4-instance 1g.35gb, GB300's is a 7-instance 1g). */
                if (!names_device(&def, m->pci_device_ids[p]))
                    continue;
                if (!de)
                    fail_msg("%s (0x%08X): config-default's %s selects no entry", m->name,
                             m->pci_device_ids[p], gc->name);
                if (!same_devices(de, &gc->entries[0]) || de->mig_enabled != gc->entries[0].mig_enabled)
                    fail_msg("%s (0x%08X): %s differs between config-default (line %u) and "
                             "generate-config", m->name, m->pci_device_ids[p], gc->name, de->line);
                checked++;
            }
        }
        cfg_free(&gen);
    }
    assert_true(checked > 100);
    cfg_free(&def);
}

/* ------------------------------------------------------------------ selection */

static cfg_file parse_text(const char *text)
{
    cfg_file f;
    mig_error e = {0};
    if (cfg_parse_string(text, strlen(text), "t.yaml", &f, &e) != 0)
        fail_msg("%s", e.msg);
    return f;
}

static void test_selection_rules(void **state)
{
    (void)state;
    const mig_model *h100 = model("H100-SXM5-80GB"), *a100 = model("A100-SXM4-40GB");
    mig_gpu_state g0 = gpu(0, h100, 0x233010DE), g1 = gpu(1, a100, 0x20B010DE),
                  g2 = gpu(2, h100, 0x233010DE);
    g2.pci_subsystem_id = 0x16C110DE;
    cfg_file f = parse_text(
        "version: v1\nmig-configs:\n"
        "  idx: [{devices: [0, 2], mig-enabled: false}]\n"
        "  filt: [{devices: all, device-filter: '0x233010de', mig-enabled: false}]\n"
        "  sub: [{devices: all, device-filter: ['0x233010DE:0x16C110DE'], mig-enabled: false}]\n"
        "  both: [{devices: [1, 2], device-filter: ['0x233010DE'], mig-enabled: false}]\n"
        "  uuid: [{uuids: ['gpu-abcdef01-0000-0000-0000-000000000001'], mig-enabled: false}]\n"
        "  bus: [{pci-bus-ids: ['0000:12:00.0'], mig-enabled: false}]\n"
        "  model: [{models: [a100-sxm4-40gb], mig-enabled: false}]\n"
        "  none: [{uuids: [], mig-enabled: false}]\n"
        "  order: [{devices: [1], mig-enabled: false}, {devices: all, mig-enabled: true, "
        "mig-devices: {}}]\n");
    struct {
        const char *config;
        bool expect[3];
    } cases[] = {
        {"idx", {true, false, true}},    {"filt", {true, false, true}},
        {"sub", {false, false, true}},   {"both", {false, false, true}},
        {"uuid", {false, true, false}},  {"bus", {false, false, true}},
        {"model", {false, true, false}}, {"none", {false, false, false}},
    };
    const mig_gpu_state *gs[3] = {&g0, &g1, &g2};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (unsigned k = 0; k < 3; k++) {
            const cfg_config *c = config(&f, cases[i].config);
            bool got = cfg_entry_matches(&c->entries[0], gs[k]);
            if (got != cases[i].expect[k])
                fail_msg("config %s, GPU %u: matches=%d, expected %d", cases[i].config, k, got,
                         cases[i].expect[k]);
            assert_true((cfg_entry_for_gpu(c, gs[k]) != NULL) == cases[i].expect[k]);
        }
    /* the first entry that applies wins */
    const cfg_config *order = config(&f, "order");
    assert_ptr_equal(cfg_entry_for_gpu(order, &g1), &order->entries[0]);
    assert_ptr_equal(cfg_entry_for_gpu(order, &g0), &order->entries[1]);
    cfg_free(&f);
}

static void test_bus_id_normalising(void **state)
{
    (void)state;
    unsigned d, b, v, fn;
    assert_int_equal(cfg_parse_bus_id("0000:c1:00.0", &d, &b, &v, &fn), 0);
    assert_int_equal(d, 0);
    assert_int_equal(b, 0xC1);
    assert_int_equal(cfg_parse_bus_id("00000001:C1:1F.7", &d, &b, &v, &fn), 0);
    assert_int_equal(d, 1);
    assert_int_equal(v, 0x1F);
    assert_int_equal(fn, 7);
    const char *bad[] = {"", "c1:00.0", "0000:c1:00", "0000:c1:00.0x", "000:c1:00.0",
                         "000000000:c1:00.0", "0000:1:00.0", "0000-c1-00.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cfg_parse_bus_id(bad[i], &d, &b, &v, &fn) == 0)
            fail_msg("'%s' accepted as a bus id", bad[i]);
    cfg_device_filter fl;
    assert_int_equal(cfg_parse_device_filter("0X20b010De", &fl), 0);
    assert_int_equal(fl.device_id, 0x20B010DE);
    assert_int_equal(cfg_parse_device_filter("0x20B010DE:", &fl), -1);
    assert_int_equal(cfg_parse_device_filter("20B010DE", &fl), -1);
    assert_int_equal(cfg_parse_device_filter("0x120B010DE", &fl), -1);
}

static void test_overlap_and_select(void **state)
{
    (void)state;
    const mig_model *h100 = model("H100-SXM5-80GB");
    mig_gpu_state gs[2] = {gpu(0, h100, 0x233010DE), gpu(1, h100, 0x233010DE)};
    cfg_file f = parse_text("version: v1\nmig-configs:\n"
                            "  ok:\n"
                            "    - {devices: [0], mig-enabled: false}\n"
                            "    - {devices: [1], mig-enabled: false}\n"
                            "  clash:\n"
                            "    - {devices: [0], mig-enabled: false}\n"
                            "    - {devices: all, device-filter: '0x233010DE', mig-enabled: false}\n");
    mig_error e = {0};
    assert_int_equal(cfg_check_overlap(config(&f, "ok"), gs, 2, &e), 0);
    assert_int_equal(cfg_check_overlap(config(&f, "clash"), gs, 2, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "lines 7 and 8 both select GPU 0"));
    assert_null(cfg_select(&f, NULL, &e));
    assert_non_null(strstr(e.msg, "has 2 configs"));
    assert_non_null(strstr(e.msg, "ok, clash"));
    assert_null(cfg_select(&f, "missing", &e));
    assert_non_null(strstr(e.msg, "no config named 'missing'; expected one of ok, clash"));
    cfg_free(&f);
}

/* ------------------------------------------------------------------ generate */

static void check_generated_model(const mig_model *m)
{
    const mig_model *one[1] = {m};
    cfg_file f;
    mig_error e = {0};
    if (cfg_generate(one, 1, &f, &e) != 0)
        fail_msg("%s: %s", m->name, e.msg);
    assert_string_equal(f.configs[0].name, "all-disabled");
    assert_false(f.configs[0].entries[0].mig_enabled);
    assert_string_equal(f.configs[1].name, "all-enabled");
    assert_true(f.configs[1].entries[0].mig_enabled);
    assert_int_equal(f.configs[1].entries[0].n_devices, 0);
    unsigned profiles = 0;
    bool balanced = false;
    for (unsigned c = 2; c < f.n_configs; c++) {
        const cfg_config *cf = &f.configs[c];
        assert_int_equal(cf->n_entries, 1);
        const cfg_entry *en = &cf->entries[0];
        assert_true(en->all_devices);
        assert_int_equal(en->n_filters, 0); /* one model: no filters */
        mig_layout l;
        if (entry_layout(m, en, &l) != MIG_FIT_OK)
            fail_msg("%s: %s does not fit", m->name, cf->name);
        if (!strcmp(cf->name, "all-balanced")) {
            balanced = true;
            /* the whole GPU's compute is used: 2x1 + 2 + 3 = 7, or 2x1 + 2 = 4 */
            assert_int_equal(layout_compute_used(m, &l), m->compute_slices);
            continue;
        }
        profiles++;
        /* all-<profile>: one key, its label, and no room for one more */
        assert_int_equal(en->n_devices, 1);
        char label[80];
        snprintf(label, sizeof label, "all-%s", en->devices[0].key);
        for (char *p = label; *p; p++)
            *p = *p == '+' ? '.' : *p;
        assert_string_equal(cf->name, label);
        const mig_gi_profile *p = mig_profile_by_name(m, en->devices[0].key);
        assert_non_null(p);
        assert_true(en->devices[0].count <= p->instance_count);
        assert_true(en->devices[0].count == p->instance_count ||
                    layout_auto_start(m, &l, (unsigned)mig_profile_pos(m, p)) < 0);
    }
    assert_int_equal(profiles, m->n_profiles);
    assert_true(balanced == (m->compute_slices == 7 || m->compute_slices == 4));
    assert_round_trip(&f);
    cfg_free(&f);
}

static void test_generate_each_model(void **state)
{
    (void)state;
    unsigned n;
    const mig_model *models = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++)
        check_generated_model(&models[i]);
    /* hand-checked example: H100 80GB's balanced set */
    const mig_model *h100 = model("H100-SXM5-80GB");
    const mig_model *one[1] = {h100};
    cfg_file f;
    mig_error e = {0};
    assert_int_equal(cfg_generate(one, 1, &f, &e), 0);
    const cfg_entry *b = &config(&f, "all-balanced")->entries[0];
    assert_int_equal(b->n_devices, 3);
    assert_int_equal(count_of(b, "1g.10gb"), 2);
    assert_int_equal(count_of(b, "2g.20gb"), 1);
    assert_int_equal(count_of(b, "3g.40gb"), 1);
    assert_int_equal(count_of(&config(&f, "all-1g.20gb")->entries[0], "1g.20gb"), 4);
    assert_int_equal(count_of(&config(&f, "all-1g.10gb.me")->entries[0], "1g.10gb+me"), 1);
    cfg_free(&f);
}

/* All models at once: filters everywhere, each GPU selected by at most one
 * entry per config, and that entry says what the model alone would get. */
static void test_generate_all_models(void **state)
{
    (void)state;
    unsigned n;
    const mig_model *models = mig_catalogue(&n);
    const mig_model *list[64];
    for (unsigned i = 0; i < n; i++)
        list[i] = &models[i];
    cfg_file all;
    mig_error e = {0};
    assert_int_equal(cfg_generate(list, n, &all, &e), 0);
    mig_gpu_state gs[64];
    for (unsigned i = 0; i < n; i++)
        gs[i] = gpu(i, &models[i], models[i].pci_device_ids[0]);
    for (unsigned c = 0; c < all.n_configs; c++) {
        const cfg_config *cf = &all.configs[c];
        if (cfg_check_overlap(cf, gs, n, &e) != 0)
            fail_msg("%s", e.msg);
        for (unsigned j = 0; c >= 2 && j < cf->n_entries; j++) /* past all-disabled/-enabled */
            /* a model with no known PCI id is selected by name instead */
            assert_true(cf->entries[j].n_filters > 0 || cf->entries[j].n_models > 0);
    }
    for (unsigned i = 0; i < n; i++) {
        const mig_model *one[1] = {&models[i]};
        cfg_file alone;
        assert_int_equal(cfg_generate(one, 1, &alone, &e), 0);
        for (unsigned c = 0; c < alone.n_configs; c++) {
            const cfg_config *mine = &alone.configs[c];
            const cfg_config *shared = cfg_select(&all, mine->name, &e);
            assert_non_null(shared);
            const cfg_entry *en = cfg_entry_for_gpu(shared, &gs[i]);
            if (!en || !same_devices(en, &mine->entries[0]))
                fail_msg("%s: %s differs when generated with every model", models[i].name,
                         mine->name);
        }
        cfg_free(&alone);
    }
    /* H100-80GB and A100-80GB give the same all-balanced: one shared entry */
    const mig_model *pair[2] = {model("H100-SXM5-80GB"), model("A100-SXM4-80GB")};
    cfg_file two;
    assert_int_equal(cfg_generate(pair, 2, &two, &e), 0);
    const cfg_config *b = config(&two, "all-balanced");
    assert_int_equal(b->n_entries, 1);
    assert_int_equal(b->entries[0].n_filters, pair[0]->n_pci_ids + pair[1]->n_pci_ids);
    assert_round_trip(&two);
    cfg_free(&two);
    assert_round_trip(&all);
    cfg_free(&all);
}

/* ------------------------------------------------------------------ export */

/* Add a GI of profile `name` at start with CIs of the given compute slices
 * (0 = the GI's full default CI). */
static void add_gi(mig_gpu_state *g, const char *name, unsigned start, const unsigned *ci_slices,
                   unsigned n_ci)
{
    const mig_gi_profile *p = mig_profile_by_name(g->model, name);
    assert_non_null(p);
    mig_gi_state *gi = &g->gi[g->n_gi];
    memset(gi, 0, sizeof *gi);
    gi->id = g->n_gi + 1;
    gi->profile_id = p->id;
    gi->start = start;
    gi->size = p->memory_slices;
    for (unsigned i = 0; i < n_ci; i++) {
        mig_ci_state *ci = &gi->ci[gi->n_ci++];
        ci->id = i;
        ci->slices = ci_slices[i] ? ci_slices[i] : p->compute_slices;
    }
    g->n_gi++;
}

static cfg_file export_ok(const mig_gpu_state *gs, unsigned n, bool placements)
{
    cfg_file f;
    mig_error e = {0};
    if (cfg_from_states(gs, n, placements, NULL, &f, &e) != 0)
        fail_msg("export: %s", e.msg);
    assert_round_trip(&f);
    /* each entry selects exactly the GPUs it came from */
    const cfg_config *c = &f.configs[0];
    if (cfg_check_overlap(c, gs, n, &e) != 0)
        fail_msg("%s", e.msg);
    return f;
}

static void test_export_counts_and_merging(void **state)
{
    (void)state;
    const mig_model *h100 = model("H100-SXM5-80GB");
    const unsigned full[1] = {0}, three_ones[3] = {1, 1, 1};
    mig_gpu_state gs[3];
    for (unsigned i = 0; i < 3; i++) {
        gs[i] = gpu(i, h100, 0x233010DE);
        gs[i].mig_current = true;
        add_gi(&gs[i], "3g.40gb", 4, full, 1);
        add_gi(&gs[i], "1g.10gb", i == 1 ? 0 : 2, full, 1);
    }
    /* identical counts on all three (placements differ on GPU 1) */
    cfg_file f = export_ok(gs, 3, false);
    assert_string_equal(f.configs[0].name, "current");
    assert_int_equal(f.configs[0].n_entries, 1);
    const cfg_entry *en = &f.configs[0].entries[0];
    assert_true(en->all_devices && en->mig_enabled);
    assert_int_equal(en->n_filters, 0);
    assert_int_equal(en->n_devices, 2);
    assert_string_equal(en->devices[0].key, "1g.10gb");
    assert_string_equal(en->devices[1].key, "3g.40gb");
    cfg_free(&f);

    /* with placements, GPU 1 differs: two entries with index lists */
    f = export_ok(gs, 3, true);
    assert_int_equal(f.configs[0].n_entries, 2);
    const cfg_entry *a = &f.configs[0].entries[0], *b = &f.configs[0].entries[1];
    assert_false(a->all_devices);
    assert_int_equal(a->n_indices, 2);
    assert_int_equal(a->indices[0], 0);
    assert_int_equal(a->indices[1], 2);
    assert_int_equal(count_of(a, "1g.10gb@2"), 1);
    assert_int_equal(count_of(a, "3g.40gb@4"), 1);
    assert_int_equal(a->devices[1].start, 4);
    assert_int_equal(b->n_indices, 1);
    assert_int_equal(count_of(b, "1g.10gb@0"), 1);
    for (unsigned g = 0; g < 3; g++) {
        mig_layout l;
        const cfg_entry *sel = cfg_entry_for_gpu(&f.configs[0], &gs[g]);
        assert_ptr_equal(sel, g == 1 ? b : a);
        assert_int_equal(entry_layout(h100, sel, &l), MIG_FIT_OK);
    }
    cfg_free(&f);

    /* CIs: a 3g split in three 1c, and MIG off on GPU 2 */
    gs[0].n_gi = 0;
    add_gi(&gs[0], "3g.40gb", 0, three_ones, 3);
    add_gi(&gs[0], "3g.40gb", 4, full, 1);
    gs[2].mig_current = false;
    gs[2].n_gi = 0;
    f = export_ok(gs, 3, false);
    assert_int_equal(f.configs[0].n_entries, 3);
    en = cfg_entry_for_gpu(&f.configs[0], &gs[0]);
    assert_int_equal(count_of(en, "1c.3g.40gb"), 3);
    assert_int_equal(count_of(en, "3g.40gb"), 1);
    en = cfg_entry_for_gpu(&f.configs[0], &gs[2]);
    assert_false(en->mig_enabled);
    assert_int_equal(en->n_devices, 0);
    cfg_free(&f);
}

static void test_export_models_and_edge_cases(void **state)
{
    (void)state;
    const mig_model *h100 = model("H100-SXM5-80GB"), *a30 = model("A30-24GB");
    const unsigned full[1] = {0};
    mig_gpu_state gs[3] = {gpu(0, h100, h100->pci_device_ids[0]), gpu(1, a30, a30->pci_device_ids[0]),
                           gpu(2, NULL, 0x1EB810DE)};
    gs[0].mig_current = gs[1].mig_current = true;
    add_gi(&gs[0], "7g.80gb", 0, full, 1);
    add_gi(&gs[1], "4g.24gb", 0, full, 1);
    cfg_file f;
    mig_error e = {0};
    assert_int_equal(cfg_from_states(gs, 3, false, "node-a", &f, &e), 0);
    assert_string_equal(f.configs[0].name, "node-a");
    /* the non-MIG GPU is left out, so no entry may say `all` */
    assert_int_equal(f.configs[0].n_entries, 2);
    for (unsigned i = 0; i < 2; i++) {
        const cfg_entry *en = &f.configs[0].entries[i];
        assert_false(en->all_devices);
        assert_int_equal(en->n_filters, 1); /* two models present */
        assert_int_equal(en->filters[0].device_id, gs[i].pci_device_id);
        assert_ptr_equal(cfg_entry_for_gpu(&f.configs[0], &gs[i]), en);
    }
    assert_null(cfg_entry_for_gpu(&f.configs[0], &gs[2]));
    assert_round_trip(&f);
    cfg_free(&f);
    /* nothing MIG capable: refused */
    assert_int_equal(cfg_from_states(&gs[2], 1, false, NULL, &f, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_REFUSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_corpus),
        cmocka_unit_test(test_invalid_corpus_complete),
        cmocka_unit_test(test_valid_minimal),
        cmocka_unit_test(test_valid_indices_filters),
        cmocka_unit_test(test_valid_placements_and_ci),
        cmocka_unit_test(test_valid_selectors),
        cmocka_unit_test(test_valid_styles),
        cmocka_unit_test(test_valid_corpus_round_trips),
        cmocka_unit_test(test_parse_errors_outside_yaml),
        cmocka_unit_test(test_default_config_shape),
        cmocka_unit_test(test_default_config_matches_generated),
        cmocka_unit_test(test_selection_rules),
        cmocka_unit_test(test_bus_id_normalising),
        cmocka_unit_test(test_overlap_and_select),
        cmocka_unit_test(test_generate_each_model),
        cmocka_unit_test(test_generate_all_models),
        cmocka_unit_test(test_export_counts_and_merging),
        cmocka_unit_test(test_export_models_and_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
