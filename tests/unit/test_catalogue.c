/*
 * test_catalogue.c: the catalogue (model/catalogue.h) against the readings
 * taken off a real H100 and H200 (tests/data/hardware/, copied unchanged from
 * reference/hardware/) and against the tables of reference/mig-profiles.md.
 *
 * The readings are parsed here (NVML JSON with jansson, nvidia-smi text by
 * hand) and compared field by field, so no hardware number is retyped in the
 * test. Expected values that are written here (profile ids per NVML index,
 * the -lcip table of compute-instance profiles, model names, PCI ids, NVML
 * names) are transcribed from the reference and the issue, never from the
 * code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/catalogue.h"
#include "model/profile_name.h"

/* ------------------------------------------------------------------ helpers */

static const mig_model *model(const char *name)
{
    const mig_model *m = mig_model_by_name(name);
    if (!m)
        fail_msg("model %s missing from the catalogue", name);
    return m;
}

static void data_path(const char *file, char *buf, size_t len)
{
    const char *dir = getenv("MIGCTL_TEST_DATA");
    if (!dir)
        fail_msg("MIGCTL_TEST_DATA is not set");
    snprintf(buf, len, "%s/hardware/%s", dir, file);
}

static json_t *load_json(const char *file)
{
    char path[4096];
    json_error_t err;
    data_path(file, path, sizeof path);
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        fail_msg("%s:%d: %s", path, err.line, err.text);
    return root;
}

/* The reading's lines, NUL-terminated, in a malloc'd block (lines[n] = NULL). */
static char **load_lines(const char *file)
{
    char path[4096];
    data_path(file, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char **lines = calloc(256, sizeof *lines);
    char buf[512];
    unsigned n = 0;
    while (n < 255 && fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = '\0';
        lines[n++] = strdup(buf);
    }
    fclose(f);
    return lines;
}

static void free_lines(char **lines)
{
    for (unsigned i = 0; lines[i]; i++)
        free(lines[i]);
    free(lines);
}

static long long json_int_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("field %s missing or not an integer", key);
    return json_integer_value(v);
}

/* ------------------------------------------------ NVML reading, field by field */

static void check_nvml_reading(const char *file, const char *model_name)
{
    json_t *root = load_json(file);
    json_t *dev = json_array_get(json_object_get(root, "devices"), 0);
    assert_non_null(dev);
    const mig_model *m = model(model_name);

    unsigned pci = (unsigned)strtoul(json_string_value(json_object_get(dev, "pci_device_id")), NULL, 16);
    unsigned sub = (unsigned)strtoul(json_string_value(json_object_get(dev, "pci_subsystem_id")), NULL, 16);
    assert_ptr_equal(mig_model_by_pci(pci), m);
    assert_int_equal(m->pci_device_ids[0], pci);
    assert_int_equal(m->pci_subsystem_id, sub);
    assert_ptr_equal(mig_model_by_nvml_name(json_string_value(json_object_get(dev, "name"))), m);
    assert_string_equal(m->nvml_name, json_string_value(json_object_get(dev, "name")));
    assert_true(m->memory_bytes == (unsigned long long)json_int_field(dev, "mem_total"));
    assert_int_equal(m->gpm, json_int_field(dev, "gpm_supported") != 0);

    json_t *profiles = json_object_get(dev, "gi_profiles");
    size_t i;
    json_t *p;
    unsigned supported = 0;
    json_array_foreach(profiles, i, p) {
        unsigned index = (unsigned)json_int_field(p, "profile_index");
        const mig_gi_profile *c = mig_profile_by_index(m, index);
        if (json_object_get(p, "error")) {
            if (c)
                fail_msg("%s: index %u is NOT_SUPPORTED on the GPU but in the catalogue", model_name, index);
            continue;
        }
        supported++;
        if (!c)
            fail_msg("%s: NVML index %u missing from the catalogue", model_name, index);
        const char *name = json_string_value(json_object_get(p, "name"));
        assert_non_null(name);
        assert_int_equal(strncmp(name, "MIG ", 4), 0);
        assert_string_equal(c->name, name + 4);
        assert_int_equal(c->id, json_int_field(p, "id"));
        assert_int_equal(c->compute_slices, json_int_field(p, "sliceCount"));
        assert_int_equal(c->instance_count, json_int_field(p, "instanceCount"));
        assert_int_equal(c->sm_count, json_int_field(p, "multiprocessorCount"));
        assert_int_equal(c->copy_engines, json_int_field(p, "copyEngineCount"));
        assert_int_equal(c->decoders, json_int_field(p, "decoderCount"));
        assert_int_equal(c->encoders, json_int_field(p, "encoderCount"));
        assert_int_equal(c->jpeg, json_int_field(p, "jpegCount"));
        assert_int_equal(c->ofa, json_int_field(p, "ofaCount"));
        assert_true(c->memory_mib == (unsigned long long)json_int_field(p, "memorySizeMB"));
        assert_int_equal(c->p2p, json_int_field(p, "isP2pSupported") != 0);
        /* With MIG off and nothing created, NVML's remaining capacity is the cap. */
        assert_int_equal(c->instance_count, json_int_field(p, "remaining_capacity"));
    }
    assert_int_equal(supported, m->n_profiles);
    json_decref(root);
}

static void test_h100_nvml_reading(void **state)
{
    (void)state;
    check_nvml_reading("h100-80gb-hbm3.nvml.json", "H100-SXM5-80GB");
}

static void test_h200_nvml_reading(void **state)
{
    (void)state;
    check_nvml_reading("h200-141gb.nvml.json", "H200-SXM-141GB");
}

/* --------------------------------------------- nvidia-smi reading, -lgip/-lgipp */

/* "GPU  0 Profile ID 19 Placements: {0,1,2,3,4,5,6}:1" */
static bool parse_lgipp(const char *line, unsigned *id, unsigned *starts, unsigned *n, unsigned *size)
{
    unsigned gpu;
    int off = 0;
    if (sscanf(line, "GPU %u Profile ID %u Placement%*[s ]: {%n", &gpu, id, &off) < 2 || off == 0)
        return false;
    const char *p = line + off;
    *n = 0;
    for (;;) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p)
            return false;
        starts[(*n)++] = (unsigned)v;
        p = end;
        if (*p == ',') {
            p++;
            continue;
        }
        break;
    }
    return sscanf(p, "}:%u", size) == 1;
}

static void check_smi_reading(const char *file, const char *model_name)
{
    const mig_model *m = model(model_name);
    char **lines = load_lines(file);
    unsigned rows = 0, placements = 0;
    for (unsigned i = 0; lines[i]; i++) {
        const char *l = lines[i];
        unsigned id, starts[16], n, size;
        if (parse_lgipp(l, &id, starts, &n, &size)) {
            assert_true(placements < m->n_profiles);
            const mig_gi_profile *p = &m->profiles[placements++];
            assert_int_equal(p->id, id); /* same order as the catalogue */
            assert_int_equal(p->memory_slices, size);
            assert_int_equal(p->n_starts, n);
            for (unsigned k = 0; k < n; k++)
                assert_int_equal(p->starts[k], starts[k]);
            /* singular "Placement :" exactly when there is one start */
            assert_int_equal(strstr(l, "Placement :") != NULL, n == 1);
            continue;
        }
        const char *mig = strstr(l, "MIG ");
        if (l[0] != '|' || !mig)
            continue;
        /* Row 1: "|   0  MIG 1g.18gb   19   7/7   16.00   No   16   1   0   |",
         * row 2 (next line): CE, JPEG, OFA. */
        char name[64], gib[16], p2p[8];
        unsigned gpu, pid, free_, total, sm, dec, enc, ce, jpeg, ofa;
        assert_int_equal(sscanf(l, "| %u MIG %63s %u %u/%u %15s %7s %u %u %u |", &gpu, name, &pid,
                                &free_, &total, gib, p2p, &sm, &dec, &enc),
                         10);
        assert_non_null(lines[i + 1]);
        assert_int_equal(sscanf(lines[i + 1], "| %u %u %u |", &ce, &jpeg, &ofa), 3);
        assert_true(rows < m->n_profiles);
        const mig_gi_profile *p = &m->profiles[rows++];
        char want_gib[16];
        snprintf(want_gib, sizeof want_gib, "%.2f", (double)p->memory_mib / 1024.0);
        assert_int_equal(gpu, 0);
        assert_string_equal(p->name, name);
        assert_int_equal(p->id, pid);
        assert_int_equal(p->instance_count, total);
        assert_int_equal(p->instance_count, free_); /* a fresh GPU */
        assert_string_equal(want_gib, gib);
        assert_string_equal(p->p2p ? "Yes" : "No", p2p);
        assert_int_equal(p->sm_count, sm);
        assert_int_equal(p->decoders, dec);
        assert_int_equal(p->encoders, enc);
        assert_int_equal(p->copy_engines, ce);
        assert_int_equal(p->jpeg, jpeg);
        assert_int_equal(p->ofa, ofa);
    }
    assert_int_equal(rows, m->n_profiles);
    assert_int_equal(placements, m->n_profiles);
    free_lines(lines);
}

static void test_h100_smi_reading(void **state)
{
    (void)state;
    check_smi_reading("h100-80gb-hbm3.nvidia-smi-mig.txt", "H100-SXM5-80GB");
}

static void test_h200_smi_reading(void **state)
{
    (void)state;
    check_smi_reading("h200-141gb.nvidia-smi-mig.txt", "H200-SXM-141GB");
}

/* ------------------------------------------------------- names and lookups */

/* The names the issue fixes, with the NVML names it gives them. */
static const struct {
    const char *name, *nvml_name;
    mig_arch arch;
} issue_models[] = {
    {"A30-24GB", "NVIDIA A30", MIG_ARCH_AMPERE},
    {"A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB", MIG_ARCH_AMPERE},
    {"A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB", MIG_ARCH_AMPERE},
    {"A100-PCIE-80GB", "NVIDIA A100 80GB PCIe", MIG_ARCH_AMPERE},
    {"H100-SXM5-80GB", "NVIDIA H100 80GB HBM3", MIG_ARCH_HOPPER},
    {"H100-PCIE-80GB", "NVIDIA H100 PCIe", MIG_ARCH_HOPPER},
    {"H100-NVL-94GB", "NVIDIA H100 NVL", MIG_ARCH_HOPPER},
    {"GH200-96GB", "NVIDIA GH200 480GB", MIG_ARCH_HOPPER},
    {"GH200-144GB", "NVIDIA GH200 144G HBM3e", MIG_ARCH_HOPPER},
    {"H200-SXM-141GB", "NVIDIA H200", MIG_ARCH_HOPPER},
    {"H200-NVL-141GB", "NVIDIA H200 NVL", MIG_ARCH_HOPPER},
    {"B200-180GB", "NVIDIA B200", MIG_ARCH_BLACKWELL},
    {"GB200-186GB", "NVIDIA GB200", MIG_ARCH_BLACKWELL},
    {"RTX-PRO-6000-96GB", "NVIDIA RTX PRO 6000 Blackwell Server Edition", MIG_ARCH_BLACKWELL},
    /* Issue 12: every model the MIG guide lists. */
    {"RTX-PRO-6000-WS-96GB", "NVIDIA RTX PRO 6000 Blackwell Workstation Edition", MIG_ARCH_BLACKWELL},
    {"RTX-PRO-6000-MAXQ-96GB", "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
     MIG_ARCH_BLACKWELL},
    {"H100-SXM5-94GB", "NVIDIA H100 SXM5 94GB", MIG_ARCH_HOPPER},
    {"H20-96GB", "NVIDIA H20", MIG_ARCH_HOPPER},
    {"B300-269GB", "NVIDIA B300 SXM6 AC", MIG_ARCH_BLACKWELL},
    {"GB300-278GB", "NVIDIA GB300", MIG_ARCH_BLACKWELL},
    {"RTX-PRO-5000-48GB", "NVIDIA RTX PRO 5000 Blackwell", MIG_ARCH_BLACKWELL},
    {"RTX-PRO-4500-32GB", "NVIDIA RTX PRO 4500 Blackwell", MIG_ARCH_BLACKWELL},
};

#define N_ISSUE_MODELS (sizeof issue_models / sizeof issue_models[0])

static void test_every_issue_model_present(void **state)
{
    (void)state;
    unsigned n;
    mig_catalogue(&n);
    assert_int_equal(n, N_ISSUE_MODELS);
    for (unsigned i = 0; i < N_ISSUE_MODELS; i++) {
        const mig_model *m = model(issue_models[i].name);
        assert_string_equal(m->nvml_name, issue_models[i].nvml_name);
        assert_int_equal(m->arch, issue_models[i].arch);
        assert_ptr_equal(mig_model_by_nvml_name(issue_models[i].nvml_name), m);
        /* Old drivers drop the "NVIDIA " prefix. */
        assert_ptr_equal(mig_model_by_nvml_name(issue_models[i].nvml_name + 7), m);
        assert_int_equal(m->gpm, m->arch != MIG_ARCH_AMPERE);
        assert_non_null(m->source);
        assert_true(strlen(m->source) > 10);
    }
}

static void test_lookup_by_name(void **state)
{
    (void)state;
    assert_ptr_equal(mig_model_by_name("h100-sxm5-80gb"), mig_model_by_name("H100-SXM5-80GB"));
    assert_null(mig_model_by_name("H100"));
    assert_null(mig_model_by_name(""));
    assert_null(mig_model_by_name(NULL));
    assert_null(mig_model_by_nvml_name("NVIDIA GeForce RTX 4090"));
    mig_error e = {0};
    assert_ptr_equal(mig_model_find("NVIDIA H200", &e), model("H200-SXM-141GB"));
    assert_null(mig_model_find("H300-SXM", &e));
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "unknown model 'H300-SXM'"));
    assert_non_null(strstr(e.msg, "RTX-PRO-6000-96GB")); /* lists the known ones */
}

/* PCI device ids as reference/mig-profiles.md section 2 groups them. */
static void test_lookup_by_pci(void **state)
{
    (void)state;
    static const struct {
        unsigned pci;
        const char *model;
    } ids[] = {
        {0x20B710DE, "A30-24GB"},       {0x20B010DE, "A100-SXM4-40GB"},
        {0x20F110DE, "A100-SXM4-40GB"}, {0x20B110DE, "A100-SXM4-40GB"},
        {0x20F610DE, "A100-SXM4-40GB"}, {0x20B210DE, "A100-SXM4-80GB"},
        {0x20F310DE, "A100-SXM4-80GB"}, {0x20B510DE, "A100-PCIE-80GB"},
        {0x20F510DE, "A100-PCIE-80GB"}, {0x233010DE, "H100-SXM5-80GB"},
        {0x232410DE, "H100-SXM5-80GB"}, {0x233110DE, "H100-PCIE-80GB"},
        {0x232210DE, "H100-PCIE-80GB"}, {0x232110DE, "H100-NVL-94GB"},
        {0x233A10DE, "H100-NVL-94GB"},  {0x234210DE, "GH200-96GB"},
        {0x234810DE, "GH200-144GB"},    {0x233510DE, "H200-SXM-141GB"},
        {0x233B10DE, "H200-NVL-141GB"}, {0x290110DE, "B200-180GB"},
        {0x294110DE, "GB200-186GB"},    {0x2BB510DE, "RTX-PRO-6000-96GB"},
        {0x2BB110DE, "RTX-PRO-6000-WS-96GB"}, {0x2BB410DE, "RTX-PRO-6000-MAXQ-96GB"},
        {0x233910DE, "H100-SXM5-94GB"}, {0x232910DE, "H20-96GB"},
        {0x318210DE, "B300-269GB"},     {0x31C210DE, "GB300-278GB"},
        {0x233D10DE, "GH200-96GB"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const mig_model *m = mig_model_by_pci(ids[i].pci);
        if (!m || strcmp(m->name, ids[i].model) != 0)
            fail_msg("PCI 0x%08X: want %s, got %s", ids[i].pci, ids[i].model, m ? m->name : "none");
    }
    assert_null(mig_model_by_pci(0x268410DE)); /* an RTX 4090: not MIG capable */
    assert_null(mig_model_by_pci(0x2330));     /* the vendor half matters */
    /* pci.ids: 0x20B6 is "GA100 [PG506-232]", an Ampere board, not a GH200. */
    assert_null(mig_model_by_pci(0x20B610DE));
    /* No id belongs to two models. */
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < all[i].n_pci_ids; k++)
            assert_ptr_equal(mig_model_by_pci(all[i].pci_device_ids[k]), &all[i]);
}

/* --------------------------------------------------- table-wide invariants */

/* Profile id per NVML index, reference/mig-profiles.md section 1.1. */
static unsigned expected_id(const mig_model *m, unsigned index)
{
    static const unsigned eight[] = {[0x0] = 19, [0x1] = 14, [0x2] = 9, [0x3] = 5, [0x4] = 0,
                                     [0x7] = 20, [0x9] = 15};
    static const unsigned a30[] = {[0x0] = 14, [0x1] = 5, [0x3] = 0, [0x7] = 21, [0x8] = 6};
    static const unsigned rtx[] = {[0x0] = 14, [0x1] = 5,  [0x3] = 0,  [0x7] = 21,
                                   [0xA] = 47, [0xB] = 35, [0xC] = 32, [0xD] = 67,
                                   [0xE] = 66, [0xF] = 65, [0x10] = 64};
    if (m->memory_slices == 8 && index < sizeof eight / sizeof eight[0])
        return eight[index];
    if (m->memory_slices == 4 && index < sizeof a30 / sizeof a30[0])
        return a30[index];
    if (m->memory_slices == 12 && index < sizeof rtx / sizeof rtx[0])
        return rtx[index];
    /* RTX PRO 5000/4500 (2 slices): INFERRED in the catalogue from the
     * memory fraction each id stands for elsewhere (half: 5, 6 with +me, 35
     * +gfx, 64 +me.all, 66 -me; full: 0, 32 +gfx). This checks that both
     * models agree, not the hardware. */
    static const unsigned two[] = {[0x0] = 5, [0x1] = 0,  [0x7] = 6,  [0xB] = 35,
                                   [0xC] = 32, [0xE] = 66, [0x10] = 64};
    if (m->memory_slices == 2 && index < sizeof two / sizeof two[0])
        return two[index];
    return 999;
}

static void test_profile_ids_per_index(void **state)
{
    (void)state;
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < all[i].n_profiles; k++) {
            const mig_gi_profile *p = &all[i].profiles[k];
            if (p->id != expected_id(&all[i], p->index))
                fail_msg("%s %s: index 0x%X has id %u, want %u", all[i].name, p->name, p->index,
                         p->id, expected_id(&all[i], p->index));
        }
}

static void test_table_invariants(void **state)
{
    (void)state;
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++) {
        const mig_model *m = &all[i];
        assert_true(m->n_profiles > 0 && m->n_profiles <= MIG_MAX_PROFILES);
        assert_true(m->memory_slices <= MIG_MAX_SLOTS);
        assert_true(m->max_gis <= MIG_MAX_GI);
        assert_true(m->n_pci_ids <= MIG_MAX_PCI_IDS);
        /* A model without a PCI id is one whose id no public source gives;
         * its source must say so. */
        if (m->n_pci_ids == 0)
            assert_non_null(strstr(m->source, "PCI device id unknown"));
        /* Every value has a source: either nothing is inferred, or the
         * source names what is. */
        if (!strstr(m->source, "nothing inferred") && !strstr(m->source, "INFERRED") &&
            !strstr(m->source, "inferred"))
            fail_msg("%s: source does not say what is inferred: %s", m->name, m->source);
        for (unsigned k = 0; k < m->n_profiles; k++) {
            const mig_gi_profile *p = &m->profiles[k];
            assert_ptr_equal(mig_profile_by_id(m, p->id), p);
            assert_ptr_equal(mig_profile_by_index(m, p->index), p);
            assert_ptr_equal(mig_profile_by_name(m, p->name), p);
            assert_int_equal(mig_profile_pos(m, p), (int)k);
            assert_true(p->compute_slices >= 1 && p->compute_slices <= m->compute_slices);
            assert_true(p->memory_slices >= 1 && p->memory_slices <= m->memory_slices);
            assert_true(p->memory_mib * 1024ULL * 1024ULL < m->memory_bytes);
            assert_true(p->sm_count <= m->sm_count);
            assert_true(p->instance_count >= 1 && p->instance_count <= p->n_starts);
            assert_true(p->instance_count <= m->max_gis);
            assert_true(p->n_starts >= 1 && p->n_starts <= MIG_MAX_STARTS);
            for (unsigned s = 0; s < p->n_starts; s++) {
                assert_true(p->starts[s] + p->memory_slices <= m->memory_slices);
                assert_int_equal(p->starts[s] % p->memory_slices, 0);
                if (s)
                    assert_true(p->starts[s] > p->starts[s - 1]);
            }
            /* nvidia-smi -lgip order: compute slices, then memory, then id. */
            if (k) {
                const mig_gi_profile *q = &m->profiles[k - 1];
                bool ordered = q->compute_slices < p->compute_slices ||
                               (q->compute_slices == p->compute_slices &&
                                (q->memory_mib < p->memory_mib ||
                                 (q->memory_mib == p->memory_mib && q->id < p->id)));
                if (!ordered)
                    fail_msg("%s: %s listed after %s", m->name, p->name, q->name);
            }
        }
        /* The full-GPU profile spans every slice and every SM. */
        const mig_gi_profile *full = &m->profiles[m->n_profiles - 1];
        assert_int_equal(full->memory_slices, m->memory_slices);
        assert_int_equal(full->compute_slices, m->compute_slices);
    }
    /* Lookups that must miss. */
    const mig_model *h = model("H100-SXM5-80GB");
    assert_null(mig_profile_by_id(h, 21));
    assert_null(mig_profile_by_index(h, 5));
    assert_null(mig_profile_by_name(h, "1g.12gb"));
    assert_ptr_equal(mig_profile_by_name(h, "MIG 3g.40gb"), mig_profile_by_id(h, 9));
    assert_ptr_equal(mig_profile_by_name(h, "3G.40GB"), mig_profile_by_id(h, 9));
    assert_int_equal(mig_profile_pos(h, &model("H200-SXM-141GB")->profiles[0]), -1);
}

/* The nvml backend names profiles by NVIDIA's rule from memorySizeMB and the
 * GPU's total memory: it must give back every name in the table. */
static void test_name_derivation_every_profile(void **state)
{
    (void)state;
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < all[i].n_profiles; k++) {
            const mig_gi_profile *p = &all[i].profiles[k];
            char derived[64];
            mig_profile_name_derive(p->compute_slices, p->memory_mib, all[i].memory_bytes, p->attr,
                                    derived, sizeof derived);
            if (strcmp(derived, p->name) != 0)
                fail_msg("%s: %s derives as %s", all[i].name, p->name, derived);
        }
}

/* ------------------------------------------------ compute-instance profiles */

/* One row of nvidia-smi -lcip for an empty GI (reference/mig-profiles.md
 * section 3): CI profile id, name prefix ("" for the full CI), Total, default,
 * and the expected placements (section 3, from RM's CTS tree). */
typedef struct {
    unsigned id;
    const char *prefix;
    unsigned total;
    bool is_default;
    const char *starts;
} lcip_row;

static void check_lcip(const mig_model *m, const char *gi_name, const lcip_row *rows, unsigned n_rows)
{
    const mig_gi_profile *gi = mig_profile_by_name(m, gi_name);
    assert_non_null(gi);
    mig_ci_profile got[MIG_MAX_CI_PROFILES];
    unsigned n = mig_ci_profiles(m, gi, got);
    if (n != n_rows)
        fail_msg("%s %s: %u CI profiles, want %u", m->name, gi_name, n, n_rows);
    for (unsigned i = 0; i < n; i++) {
        char want_name[64], starts[64] = "";
        snprintf(want_name, sizeof want_name, "%s%s", rows[i].prefix, gi_name);
        for (unsigned s = 0; s < got[i].n_starts; s++)
            snprintf(starts + strlen(starts), sizeof starts - strlen(starts), "%s%u", s ? "," : "",
                     got[i].starts[s]);
        assert_int_equal(got[i].id, rows[i].id);
        assert_string_equal(got[i].name, want_name);
        assert_int_equal(got[i].instance_count, rows[i].total);
        assert_int_equal(got[i].is_default, rows[i].is_default);
        assert_string_equal(starts, rows[i].starts);
        mig_ci_profile by_id;
        assert_true(mig_ci_profile_by_id(m, gi, got[i].id, &by_id));
        assert_int_equal(by_id.compute_slices, got[i].compute_slices);
    }
}

static void test_ci_profiles_lcip_table(void **state)
{
    (void)state;
    const mig_model *a100 = model("A100-SXM4-40GB");
    const mig_model *h100 = model("H100-SXM5-80GB");
    const mig_model *a30 = model("A30-24GB");

    const lcip_row g1[] = {{0, "", 1, true, "0"}};
    const lcip_row g2[] = {{0, "1c.", 2, false, "0,1"}, {1, "", 1, true, "0"}};
    const lcip_row g3[] = {{0, "1c.", 3, false, "0,1,2"}, {1, "2c.", 1, false, "0"}, {2, "", 1, true, "0"}};
    const lcip_row g4[] = {{0, "1c.", 4, false, "0,1,2,3"}, {1, "2c.", 2, false, "0,2"}, {3, "", 1, true, "0"}};
    const lcip_row g7[] = {{0, "1c.", 7, false, "0,1,2,3,4,5,6"}, {1, "2c.", 3, false, "0,2,4"},
                           {2, "3c.", 2, false, "0,4"}, {3, "4c.", 1, false, "0"}, {4, "", 1, true, "0"}};
    /* Double-memory 1g (REV2): CI ids 0 and 7, default 7 (section 3, inferred). */
    const lcip_row rev2[] = {{0, "", 1, false, "0"}, {7, "", 1, true, "0"}};

    check_lcip(a100, "1g.5gb", g1, 1);
    check_lcip(a100, "1g.5gb+me", g1, 1);
    check_lcip(a100, "2g.10gb", g2, 2);
    check_lcip(a100, "3g.20gb", g3, 3);
    check_lcip(a100, "4g.20gb", g4, 3);
    check_lcip(a100, "7g.40gb", g7, 5);
    check_lcip(a100, "1g.10gb", rev2, 2);
    check_lcip(h100, "3g.40gb", g3, 3);
    check_lcip(h100, "7g.80gb", g7, 5);
    check_lcip(h100, "1g.20gb", rev2, 2);
    check_lcip(a30, "2g.12gb", g2, 2);
    check_lcip(a30, "4g.24gb", g4, 3);

    /* SMs: A100 14 per slice (1c.3g = 14, 2c.3g = 28, 3g = 42); the full CI has the GI's. */
    mig_ci_profile c;
    const mig_gi_profile *a3g = mig_profile_by_name(a100, "3g.20gb");
    assert_true(mig_ci_profile_by_id(a100, a3g, 0, &c));
    assert_int_equal(c.sm_count, 14);
    assert_true(mig_ci_profile_by_id(a100, a3g, 1, &c));
    assert_int_equal(c.sm_count, 28);
    assert_true(mig_ci_default(a100, a3g, &c));
    assert_int_equal(c.sm_count, a3g->sm_count);
    assert_false(mig_ci_profile_by_id(a100, mig_profile_by_name(a100, "4g.20gb"), 2, &c)); /* no 3c in a 4g */
    assert_true(mig_ci_default(h100, mig_profile_by_name(h100, "1g.20gb"), &c));
    assert_int_equal(c.id, 7);

    /* Every GI of every model has exactly one default CI, which spans it. */
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < all[i].n_profiles; k++) {
            const mig_gi_profile *gi = &all[i].profiles[k];
            mig_ci_profile cis[MIG_MAX_CI_PROFILES];
            unsigned nc = mig_ci_profiles(&all[i], gi, cis), defaults = 0;
            for (unsigned q = 0; q < nc; q++) {
                defaults += cis[q].is_default;
                if (cis[q].is_default)
                    assert_int_equal(cis[q].compute_slices, gi->compute_slices);
                for (unsigned s = 0; s < cis[q].n_starts; s++)
                    assert_true(cis[q].starts[s] + cis[q].compute_slices <= gi->compute_slices);
            }
            assert_int_equal(defaults, 1);
        }
}

static void test_arch_names(void **state)
{
    (void)state;
    assert_string_equal(mig_arch_name(MIG_ARCH_AMPERE), "Ampere");
    assert_string_equal(mig_arch_name(MIG_ARCH_HOPPER), "Hopper");
    assert_string_equal(mig_arch_name(MIG_ARCH_BLACKWELL), "Blackwell");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h100_nvml_reading),
        cmocka_unit_test(test_h200_nvml_reading),
        cmocka_unit_test(test_h100_smi_reading),
        cmocka_unit_test(test_h200_smi_reading),
        cmocka_unit_test(test_every_issue_model_present),
        cmocka_unit_test(test_lookup_by_name),
        cmocka_unit_test(test_lookup_by_pci),
        cmocka_unit_test(test_profile_ids_per_index),
        cmocka_unit_test(test_table_invariants),
        cmocka_unit_test(test_name_derivation_every_profile),
        cmocka_unit_test(test_ci_profiles_lcip_table),
        cmocka_unit_test(test_arch_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
