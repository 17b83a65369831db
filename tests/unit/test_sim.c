/*
 * test_sim.c: the simulator (gpu/sim.h) and the sim backend over it.
 *
 * Expected NVML codes, auto-placement orders and GI ids come from the
 * reference (reference/mig-profiles.md sections 3-5: observed on real
 * A100/H100s) and the remaining capacities from the hardware readings in
 * tests/data/hardware, never from the code under test. File tests run in a
 * fresh temporary directory each; the concurrency and kill tests fork.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "gpu/backend.h"
#include "gpu/sim.h"
#include "util/nvml_rc.h"

/* ------------------------------------------------------------ helpers */

static unsigned pid_of(const char *model, const char *profile)
{
    const mig_model *m = mig_model_by_name(model);
    assert_non_null(m);
    const mig_gi_profile *p = mig_profile_by_name(m, profile);
    if (!p)
        fail_msg("%s has no profile %s", model, profile);
    return p->id;
}

#define H100 "H100-SXM5-80GB"
#define A100 "A100-SXM4-40GB"

static sim_state *new_state(const char *spec, bool swizzled, bool mig_on)
{
    mig_error e;
    sim_state *s = sim_new(spec, swizzled, &e);
    if (!s)
        fail_msg("sim_new(%s): %s", spec, e.msg);
    for (unsigned i = 0; mig_on && i < s->n_gpus; i++) {
        int act = -1;
        assert_int_equal(sim_set_mode(s, i, true, &act), NVML_SUCCESS);
        assert_int_equal(act, NVML_SUCCESS);
    }
    return s;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    *len = got;
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

typedef struct {
    char dir[64];
    char path[128];
} tmp_fixture;

static int tmp_setup(void **state)
{
    tmp_fixture *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/test_sim.XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->path, sizeof t->path, "%s/state.json", t->dir);
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    tmp_fixture *t = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    if (system(cmd) != 0)
        return -1;
    free(t);
    return 0;
}

/* ------------------------------------------------------------ init and files */

static void test_init_and_open(void **state)
{
    tmp_fixture *t = *state;
    mig_error e;
    assert_int_equal(sim_init(t->path, "2x" H100 ",A100-SXM4-40GB", false, &e), 0);
    sim_state *s = sim_open(t->path, false, &e);
    assert_non_null(s);
    assert_int_equal(s->n_gpus, 3);
    assert_string_equal(s->gpus[0].model->name, H100);
    assert_string_equal(s->gpus[2].model->name, A100);
    for (unsigned i = 0; i < 3; i++) {
        const mig_gpu_state *g = &s->gpus[i];
        assert_int_equal(g->index, i);
        assert_false(g->mig_current); /* as a real GPU boots */
        assert_false(g->mig_pending);
        assert_int_equal(g->n_gi, 0);
        assert_int_equal(strncmp(g->uuid, "GPU-", 4), 0);
        assert_int_equal(strlen(g->uuid), 4 + 36);
        assert_int_equal(g->pci_device_id, g->model->pci_device_ids[0]);
        assert_string_equal(g->name, g->model->nvml_name);
        for (unsigned k = 0; k < i; k++) {
            assert_string_not_equal(g->uuid, s->gpus[k].uuid);
            assert_string_not_equal(g->bus_id, s->gpus[k].bus_id);
        }
    }
    /* sim_commit on a read-only open is refused */
    assert_int_equal(sim_commit(s, &e), -1);
    sim_close(s);
    /* Another node from the same spec: no GPU shares a UUID or a bus id
     * with the first node's (an A100 at index 2 does not get the first
     * node's either); reopening a node gives it the same identities. */
    char other[160];
    snprintf(other, sizeof other, "%s/other.json", t->dir);
    assert_int_equal(sim_init(other, "2x" H100 ",A100-SXM4-40GB", false, &e), 0);
    sim_state *a = sim_open(t->path, false, &e), *b = sim_open(other, false, &e);
    sim_state *a2 = sim_open(t->path, false, &e);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(a2);
    for (unsigned i = 0; i < 3; i++) {
        assert_string_equal(a->gpus[i].uuid, a2->gpus[i].uuid);
        assert_string_equal(a->gpus[i].bus_id, a2->gpus[i].bus_id);
        for (unsigned k = 0; k < 3; k++)
            assert_string_not_equal(a->gpus[i].uuid, b->gpus[k].uuid);
    }
    /* bus ids: all differ unless both nodes drew the same 1-in-8192 shift */
    assert_true(strcmp(a->gpus[0].bus_id, b->gpus[0].bus_id) != 0 ||
                strcmp(a->gpus[1].bus_id, b->gpus[1].bus_id) == 0);
    sim_close(a);
    sim_close(b);
    sim_close(a2);
    /* The identities are a function of the node seed: the same seed gives
     * the same ones, the model takes part (one index, another model). */
    sim_state *x = sim_new("2x" H100 ",A100-SXM4-40GB", false, &e);
    sim_state *y = sim_new("2x" H100 ",A100-SXM4-40GB", false, &e);
    sim_state *z = sim_new("A100-SXM4-40GB,2x" H100, false, &e);
    sim_node_identities(x, 42);
    sim_node_identities(y, 42);
    sim_node_identities(z, 42);
    for (unsigned i = 0; i < 3; i++) {
        assert_string_equal(x->gpus[i].uuid, y->gpus[i].uuid);
        assert_string_equal(x->gpus[i].bus_id, y->gpus[i].bus_id);
        assert_string_equal(x->gpus[i].bus_id, z->gpus[i].bus_id);
    }
    assert_string_not_equal(x->gpus[0].uuid, z->gpus[0].uuid);
    assert_string_equal(x->gpus[1].uuid, z->gpus[1].uuid); /* H100 at 1 in both */
    free(x);
    free(y);
    free(z);
}

static void test_init_bad_specs(void **state)
{
    tmp_fixture *t = *state;
    const char *bad[] = {"", "8xNOPE-80GB", "0x" H100, "65x" H100, "8y" H100, "33x" H100 ",32x" H100,
                         ",", "8x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mig_error e = {0};
        assert_int_equal(sim_init(t->path, bad[i], false, &e), -1);
        assert_int_equal(e.kind, MIG_ERR_INPUT);
        struct stat st;
        assert_int_not_equal(stat(t->path, &st), 0); /* nothing written */
    }
    mig_error e;
    assert_int_equal(sim_init(t->path, "8xNOPE-80GB", false, &e), -1);
    assert_non_null(strstr(e.msg, "NOPE-80GB"));
    assert_non_null(strstr(e.msg, H100)); /* lists the known models */
}

static void test_missing_file_hint(void **state)
{
    tmp_fixture *t = *state;
    mig_error e;
    assert_null(sim_open(t->path, false, &e));
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, t->path));
    assert_non_null(strstr(e.msg, "migctl sim init"));
    assert_null(sim_open(NULL, false, &e));
    assert_non_null(strstr(e.msg, "migctl sim init"));
    mig_backend *b;
    assert_int_equal(sim_backend_open(t->path, &b, &e), -1);
    assert_non_null(strstr(e.msg, "migctl sim init"));
}

/* ------------------------------------------------------------ GPU instances */

static void test_create_gi_errors(void **state)
{
    (void)state;
    sim_state *s = new_state(H100, false, false);
    unsigned id;
    unsigned g3 = pid_of(H100, "3g.40gb"), g2 = pid_of(H100, "2g.20gb");
    /* MIG off: NOT_SUPPORTED */
    assert_int_equal(sim_create_gi(s, 0, g3, -1, &id), NVML_ERROR_NOT_SUPPORTED);
    assert_int_equal(sim_create_gi(s, 0, g3, 4, &id), NVML_ERROR_NOT_SUPPORTED);
    int act;
    assert_int_equal(sim_set_mode(s, 0, true, &act), NVML_SUCCESS);
    /* GPU index out of range, unknown profile id (7 is not an H100 GI profile) */
    assert_int_equal(sim_create_gi(s, 1, g3, -1, &id), NVML_ERROR_INVALID_ARGUMENT);
    assert_int_equal(sim_create_gi(s, 0, 7, -1, &id), NVML_ERROR_INVALID_ARGUMENT);
    assert_int_equal(sim_create_gi(s, 0, 999, -1, &id), NVML_ERROR_INVALID_ARGUMENT);
    /* a start not in the placement list: INVALID_ARGUMENT, even on an empty GPU */
    assert_int_equal(sim_create_gi(s, 0, g3, 2, &id), NVML_ERROR_INVALID_ARGUMENT);
    assert_int_equal(sim_create_gi(s, 0, g2, 1, &id), NVML_ERROR_INVALID_ARGUMENT);
    assert_int_equal(sim_create_gi(s, 0, g2, 6, &id), NVML_ERROR_INVALID_ARGUMENT);
    assert_int_equal(s->gpus[0].n_gi, 0);
    /* overlap: INSUFFICIENT_RESOURCES */
    assert_int_equal(sim_create_gi(s, 0, g3, 4, &id), NVML_SUCCESS);
    assert_int_equal(id, 2); /* canonical: 4:4 -> GI 2 */
    assert_int_equal(sim_create_gi(s, 0, g2, 4, &id), NVML_ERROR_INSUFFICIENT_RESOURCES);
    assert_int_equal(sim_create_gi(s, 0, pid_of(H100, "7g.80gb"), 0, &id),
                     NVML_ERROR_INSUFFICIENT_RESOURCES);
    /* a second 3g fits only at 0; a third has no room */
    assert_int_equal(sim_create_gi(s, 0, g3, -1, &id), NVML_SUCCESS);
    assert_int_equal(id, 1);
    assert_int_equal(sim_create_gi(s, 0, g3, -1, &id), NVML_ERROR_INSUFFICIENT_RESOURCES);
    assert_int_equal(s->gpus[0].n_gi, 2);
    sim_close(s);
}

static void test_caps_and_max(void **state)
{
    (void)state;
    sim_state *s = new_state(H100, false, true);
    unsigned id, me = pid_of(H100, "1g.10gb+me"), g1 = pid_of(H100, "1g.10gb");
    /* +me: one per GPU (instance count 1), even with free slices */
    assert_int_equal(sim_create_gi(s, 0, me, -1, &id), NVML_SUCCESS);
    assert_int_equal(sim_create_gi(s, 0, me, -1, &id), NVML_ERROR_INSUFFICIENT_RESOURCES);
    assert_int_equal(sim_create_gi(s, 0, me, 0, &id), NVML_ERROR_INSUFFICIENT_RESOURCES);
    /* fill up with 1g: 6 more, then nothing */
    for (int i = 0; i < 6; i++)
        assert_int_equal(sim_create_gi(s, 0, g1, -1, &id), NVML_SUCCESS);
    assert_int_equal(s->gpus[0].n_gi, 7);
    assert_int_equal(sim_create_gi(s, 0, g1, -1, &id), NVML_ERROR_INSUFFICIENT_RESOURCES);
    unsigned n = 99;
    assert_int_equal(sim_remaining(s, 0, g1, &n), NVML_SUCCESS);
    assert_int_equal(n, 0);
    sim_close(s);
}

/* reference/mig-profiles.md 4.5: 1g 6,4,5,0,1,2,3 (GI ids 13,11,12,7,8,9,10);
 * 2g 4,0,2; 3g 4,0; 19,14,5 -> 1g@6 (13), 2g@4 (5), 4g@0 (1). */
static void expect_auto(const char *model, const char *profile, const unsigned *starts,
                        const unsigned *ids, unsigned n, bool swizzled)
{
    sim_state *s = new_state(model, swizzled, true);
    unsigned p = pid_of(model, profile), id;
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(sim_create_gi(s, 0, p, -1, &id), NVML_SUCCESS);
        const mig_gi_state *gi = sim_find_gi(s, 0, id);
        assert_non_null(gi);
        assert_int_equal(gi->start, starts[i]);
        if (ids)
            assert_int_equal(id, ids[i]);
    }
    assert_int_equal(sim_create_gi(s, 0, p, -1, &id), NVML_ERROR_INSUFFICIENT_RESOURCES);
    sim_close(s);
}

static void test_auto_placement_canonical(void **state)
{
    (void)state;
    const unsigned s1[] = {6, 4, 5, 0, 1, 2, 3}, i1[] = {13, 11, 12, 7, 8, 9, 10};
    expect_auto(H100, "1g.10gb", s1, i1, 7, false);
    expect_auto(A100, "1g.5gb", s1, i1, 7, false);
    const unsigned s2[] = {4, 0, 2}, i2[] = {5, 3, 4};
    expect_auto(H100, "2g.20gb", s2, i2, 3, false);
    const unsigned s3[] = {4, 0}, i3[] = {2, 1};
    expect_auto(H100, "3g.40gb", s3, i3, 2, false);
    /* 4-slot A30: lowest first */
    const unsigned sa[] = {0, 1, 2, 3};
    expect_auto("A30-24GB", "1g.6gb", sa, NULL, 4, false);

    sim_state *s = new_state(H100, false, true);
    unsigned id;
    const char *seq[] = {"1g.10gb", "2g.20gb", "4g.40gb"};
    const unsigned want_start[] = {6, 4, 0}, want_id[] = {13, 5, 1};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sim_create_gi(s, 0, pid_of(H100, seq[i]), -1, &id), NVML_SUCCESS);
        assert_int_equal(id, want_id[i]);
        assert_int_equal(sim_find_gi(s, 0, id)->start, want_start[i]);
    }
    sim_close(s);
}

static void test_auto_placement_swizzled(void **state)
{
    (void)state;
    /* same placements, but ids are the lowest free of the size class */
    const unsigned s1[] = {6, 4, 5, 0, 1, 2, 3}, i1[] = {7, 8, 9, 10, 11, 12, 13};
    expect_auto(H100, "1g.10gb", s1, i1, 7, true);
    const unsigned s3[] = {4, 0}, i3[] = {1, 2};
    expect_auto(H100, "3g.40gb", s3, i3, 2, true);

    sim_state *s = new_state(H100, true, true);
    unsigned p = pid_of(H100, "1g.10gb"), id;
    for (int i = 0; i < 3; i++)
        assert_int_equal(sim_create_gi(s, 0, p, -1, &id), NVML_SUCCESS);
    /* ids 7 (slot 6), 8 (slot 4), 9 (slot 5): destroy 8, and the next 1g
     * reuses id 8 though it lands on slot 4 again... */
    assert_int_equal(sim_destroy_gi(s, 0, 8), NVML_SUCCESS);
    assert_int_equal(sim_create_gi(s, 0, p, 0, &id), NVML_SUCCESS);
    assert_int_equal(id, 8); /* ...and here on slot 0: ids do not follow placements */
    assert_int_equal(sim_find_gi(s, 0, 8)->start, 0);
    sim_close(s);
}

static void test_gi_id_reuse_canonical(void **state)
{
    (void)state;
    sim_state *s = new_state(H100, false, true);
    unsigned p = pid_of(H100, "2g.20gb"), id;
    assert_int_equal(sim_create_gi(s, 0, p, 2, &id), NVML_SUCCESS);
    assert_int_equal(id, 4);
    assert_int_equal(sim_destroy_gi(s, 0, 4), NVML_SUCCESS);
    assert_int_equal(sim_destroy_gi(s, 0, 4), NVML_ERROR_NOT_FOUND);
    assert_int_equal(sim_create_gi(s, 0, p, 2, &id), NVML_SUCCESS);
    assert_int_equal(id, 4);
    sim_close(s);
}

/* MIG off: the full counts, exactly as the real H100 and H200 answered. */
static void check_remaining_against(const char *reading, const char *model)
{
    char path[512];
    snprintf(path, sizeof path, "%s/hardware/%s", getenv("MIGCTL_TEST_DATA"), reading);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        fail_msg("%s: %s", path, jerr.text);
    json_t *profiles = json_object_get(json_array_get(json_object_get(root, "devices"), 0),
                                       "gi_profiles");
    assert_true(json_array_size(profiles) > 0);
    sim_state *s = new_state(model, false, false);
    size_t i;
    json_t *p;
    unsigned checked = 0;
    json_array_foreach(profiles, i, p)
    {
        if (!json_object_get(p, "id"))
            continue; /* an index the GPU does not support */
        unsigned id = (unsigned)json_integer_value(json_object_get(p, "id"));
        unsigned want = (unsigned)json_integer_value(json_object_get(p, "remaining_capacity"));
        unsigned got = 999;
        assert_int_equal(sim_remaining(s, 0, id, &got), NVML_SUCCESS);
        assert_int_equal(got, want);
        checked++;
    }
    assert_true(checked >= 7);
    unsigned got;
    assert_int_equal(sim_remaining(s, 0, 7, &got), NVML_ERROR_INVALID_ARGUMENT);
    assert_int_equal(sim_remaining(s, 1, 19, &got), NVML_ERROR_INVALID_ARGUMENT);
    sim_close(s);
    json_decref(root);
}

static void test_remaining_mig_off(void **state)
{
    (void)state;
    check_remaining_against("h100-80gb-hbm3.nvml.json", H100);
    check_remaining_against("h200-141gb.nvml.json", "H200-SXM-141GB");
}

/* ------------------------------------------------------------ compute instances */

static void test_ci_rules(void **state)
{
    (void)state;
    sim_state *s = new_state(H100, false, true);
    unsigned g4, g3, ci;
    assert_int_equal(sim_create_gi(s, 0, pid_of(H100, "4g.40gb"), 0, &g4), NVML_SUCCESS);
    assert_int_equal(sim_create_gi(s, 0, pid_of(H100, "3g.40gb"), 4, &g3), NVML_SUCCESS);
    /* CI profile ids (= index): 0 1c, 1 2c, 2 3c, 3 4c, 4 7c. No 3c in a 4g. */
    assert_int_equal(sim_create_ci(s, 0, g4, 2, -1, &ci), NVML_ERROR_NOT_SUPPORTED);
    assert_int_equal(sim_create_ci(s, 0, g3, 3, -1, &ci), NVML_ERROR_NOT_SUPPORTED);
    assert_int_equal(sim_create_ci(s, 0, g3, 4, -1, &ci), NVML_ERROR_NOT_SUPPORTED);
    assert_int_equal(sim_create_ci(s, 0, 9, 0, -1, &ci), NVML_ERROR_NOT_FOUND);
    /* explicit start outside the CI placements: INVALID_ARGUMENT (1c in a 3g: 0,1,2) */
    assert_int_equal(sim_create_ci(s, 0, g3, 0, 3, &ci), NVML_ERROR_INVALID_ARGUMENT);
    assert_int_equal(sim_create_ci(s, 0, g3, 1, 1, &ci), NVML_ERROR_INVALID_ARGUMENT);
    /* 2c at 0 then 1c at 1 overlaps; 1c at 2 fits; then no room */
    assert_int_equal(sim_create_ci(s, 0, g3, 1, 0, &ci), NVML_SUCCESS);
    assert_int_equal(ci, 0);
    assert_int_equal(sim_create_ci(s, 0, g3, 0, 1, &ci), NVML_ERROR_INSUFFICIENT_RESOURCES);
    assert_int_equal(sim_create_ci(s, 0, g3, 0, -1, &ci), NVML_SUCCESS);
    assert_int_equal(ci, 1);
    assert_int_equal(sim_find_ci(sim_find_gi(s, 0, g3), 1)->start, 2);
    assert_int_equal(sim_create_ci(s, 0, g3, 0, -1, &ci), NVML_ERROR_INSUFFICIENT_RESOURCES);
    /* four 1c in the 4g, ids 0..3; free id 1 and it is reused */
    for (unsigned k = 0; k < 4; k++) {
        assert_int_equal(sim_create_ci(s, 0, g4, 0, -1, &ci), NVML_SUCCESS);
        assert_int_equal(ci, k);
    }
    assert_int_equal(sim_create_ci(s, 0, g4, 0, -1, &ci), NVML_ERROR_INSUFFICIENT_RESOURCES);
    assert_int_equal(sim_destroy_ci(s, 0, g4, 1), NVML_SUCCESS);
    assert_int_equal(sim_destroy_ci(s, 0, g4, 1), NVML_ERROR_NOT_FOUND);
    assert_int_equal(sim_create_ci(s, 0, g4, 0, -1, &ci), NVML_SUCCESS);
    assert_int_equal(ci, 1);
    sim_close(s);
}

static void test_destroy_in_use(void **state)
{
    (void)state;
    mig_error e;
    sim_state *s = new_state(H100, false, true);
    unsigned gi, ci;
    assert_int_equal(sim_create_gi(s, 0, pid_of(H100, "2g.20gb"), -1, &gi), NVML_SUCCESS);
    assert_int_equal(sim_create_ci(s, 0, gi, 1, -1, &ci), NVML_SUCCESS);
    assert_int_equal(sim_destroy_gi(s, 0, gi), NVML_ERROR_IN_USE); /* has a CI */
    assert_int_equal(sim_procs(s, 0, (int)gi, -1, true, &e), 0);
    assert_int_equal(sim_find_ci(sim_find_gi(s, 0, gi), ci)->n_procs, 1);
    assert_int_equal(sim_destroy_ci(s, 0, gi, ci), NVML_ERROR_IN_USE); /* a process runs */
    assert_int_equal(sim_destroy_ci(s, 0, gi, 5), NVML_ERROR_NOT_FOUND);
    assert_int_equal(sim_destroy_ci(s, 0, 14, 0), NVML_ERROR_NOT_FOUND);
    assert_int_equal(sim_destroy_gi(s, 0, 14), NVML_ERROR_NOT_FOUND);
    assert_int_equal(sim_procs(s, 0, (int)gi, (int)ci, false, &e), 0);
    assert_int_equal(sim_destroy_ci(s, 0, gi, ci), NVML_SUCCESS);
    assert_int_equal(sim_destroy_gi(s, 0, gi), NVML_SUCCESS);
    /* processes need a place: a GI without CI, an unknown GI, a bad GPU */
    assert_int_equal(sim_create_gi(s, 0, pid_of(H100, "2g.20gb"), -1, &gi), NVML_SUCCESS);
    assert_int_equal(sim_procs(s, 0, (int)gi, -1, true, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_int_equal(sim_procs(s, 0, 13, -1, true, &e), -1);
    assert_int_equal(sim_procs(s, 3, -1, -1, true, &e), -1);
    sim_close(s);
}

static void test_procs_counts(void **state)
{
    (void)state;
    mig_error e;
    sim_state *s = new_state(H100, false, true);
    unsigned gi, ci;
    assert_int_equal(sim_create_gi(s, 0, pid_of(H100, "3g.40gb"), -1, &gi), NVML_SUCCESS);
    assert_int_equal(sim_create_ci(s, 0, gi, 0, -1, &ci), NVML_SUCCESS);
    assert_int_equal(sim_create_ci(s, 0, gi, 0, -1, &ci), NVML_SUCCESS);
    /* --ci omitted: the first CI; count 0 starts one */
    assert_int_equal(sim_procs_n(s, 0, (int)gi, -1, true, 0, &e), 0);
    assert_int_equal(sim_find_ci(sim_find_gi(s, 0, gi), 0)->n_procs, 1);
    assert_int_equal(sim_procs_n(s, 0, (int)gi, 1, true, SIM_MAX_PROCS, &e), 0);
    assert_int_equal(sim_procs_n(s, 0, (int)gi, 1, true, 1, &e), -1); /* over the cap */
    assert_int_equal(sim_find_ci(sim_find_gi(s, 0, gi), 1)->n_procs, SIM_MAX_PROCS);
    assert_int_equal(sim_procs_n(s, 0, (int)gi, 1, false, 10, &e), 0);
    assert_int_equal(sim_find_ci(sim_find_gi(s, 0, gi), 1)->n_procs, SIM_MAX_PROCS - 10);
    assert_int_equal(sim_procs_n(s, 0, (int)gi, 1, false, 0, &e), 0); /* stop all */
    assert_int_equal(sim_find_ci(sim_find_gi(s, 0, gi), 1)->n_procs, 0);
    assert_int_equal(sim_gpu_procs(&s->gpus[0]), 1);
    /* pids of different places never collide */
    assert_int_not_equal(sim_proc_pid(0, -1, -1, 0), sim_proc_pid(0, 0, -1, 0));
    assert_int_not_equal(sim_proc_pid(0, 14, 7, 63), sim_proc_pid(1, -1, -1, 0));
    assert_int_not_equal(sim_proc_pid(0, 2, 0, 1), sim_proc_pid(0, 2, 1, 0));
    sim_close(s);
}

/* ------------------------------------------------------------ MIG mode */

static void check_mode_semantics(const char *model)
{
    mig_error e;
    sim_state *s = new_state(model, false, false);
    int act = -1;
    /* nothing holds the GPU: takes effect at once (Ampere resets it itself) */
    assert_int_equal(sim_set_mode(s, 0, true, &act), NVML_SUCCESS);
    assert_int_equal(act, NVML_SUCCESS);
    assert_true(s->gpus[0].mig_current);
    assert_true(s->gpus[0].mig_pending);
    /* disable while GIs exist: IN_USE, nothing changes */
    unsigned gi;
    assert_int_equal(sim_create_gi(s, 0, s->gpus[0].model->profiles[0].id, -1, &gi), NVML_SUCCESS);
    assert_int_equal(sim_set_mode(s, 0, false, &act), NVML_ERROR_IN_USE);
    assert_true(s->gpus[0].mig_current && s->gpus[0].mig_pending);
    assert_int_equal(sim_destroy_gi(s, 0, gi), NVML_SUCCESS);
    /* a process on the whole GPU: accepted, pending, activation IN_USE */
    assert_int_equal(sim_procs(s, 0, -1, -1, true, &e), 0);
    assert_int_equal(sim_set_mode(s, 0, false, &act), NVML_SUCCESS);
    assert_int_equal(act, NVML_ERROR_IN_USE);
    assert_true(s->gpus[0].mig_current);
    assert_false(s->gpus[0].mig_pending);
    /* reset refused while held; after the process stops, pending becomes current */
    assert_int_equal(sim_reset(s, 0), NVML_ERROR_IN_USE);
    assert_true(s->gpus[0].mig_current);
    assert_int_equal(sim_procs(s, 0, -1, -1, false, &e), 0);
    assert_int_equal(sim_reset(s, 0), NVML_SUCCESS);
    assert_false(s->gpus[0].mig_current);
    assert_int_equal(sim_reset(s, 1), NVML_ERROR_INVALID_ARGUMENT);
    assert_int_equal(sim_set_mode(s, 1, true, &act), NVML_ERROR_INVALID_ARGUMENT);
    sim_close(s);
}

static void test_mode_semantics(void **state)
{
    (void)state;
    check_mode_semantics(A100);
    check_mode_semantics(H100);
    check_mode_semantics("B200-180GB");
}

static void test_reboot(void **state)
{
    (void)state;
    mig_error e;
    sim_state *s = new_state(H100 "," A100 "," A100, false, true);
    unsigned gi, ci;
    assert_int_equal(sim_create_gi(s, 0, pid_of(H100, "7g.80gb"), -1, &gi), NVML_SUCCESS);
    assert_int_equal(sim_create_ci(s, 0, gi, 4, -1, &ci), NVML_SUCCESS);
    assert_int_equal(sim_procs(s, 0, (int)gi, -1, true, &e), 0);
    assert_int_equal(sim_create_gi(s, 1, pid_of(A100, "7g.40gb"), -1, &gi), NVML_SUCCESS);
    /* GPU 2: a pending disable on Ampere (held by a process) */
    int act;
    assert_int_equal(sim_procs(s, 2, -1, -1, true, &e), 0);
    assert_int_equal(sim_set_mode(s, 2, false, &act), NVML_SUCCESS);
    assert_int_equal(act, NVML_ERROR_IN_USE);
    sim_reboot(s);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(s->gpus[i].n_gi, 0);
        assert_int_equal(s->gpus[i].n_procs, 0);
    }
    assert_false(s->gpus[0].mig_current); /* Hopper: MIG mode is not persistent */
    assert_false(s->gpus[0].mig_pending);
    assert_true(s->gpus[1].mig_current); /* Ampere: kept in the InfoROM */
    assert_false(s->gpus[2].mig_current); /* Ampere: the pending disable took effect */
    sim_close(s);
}

/* ------------------------------------------------------------ UUIDs */

static void test_uuids_unique(void **state)
{
    (void)state;
    sim_state *s = new_state("2x" H100, false, true);
    enum { ROUNDS = 200 };
    char (*seen)[MIG_UUID_LEN] = calloc(ROUNDS * 2, MIG_UUID_LEN);
    unsigned n = 0, gi, ci;
    for (unsigned r = 0; r < ROUNDS; r++)
        for (unsigned g = 0; g < 2; g++) {
            assert_int_equal(sim_create_gi(s, g, pid_of(H100, "1g.10gb"), -1, &gi), NVML_SUCCESS);
            assert_int_equal(sim_create_ci(s, g, gi, 0, -1, &ci), NVML_SUCCESS);
            const char *u = sim_find_ci(sim_find_gi(s, g, gi), ci)->uuid;
            assert_int_equal(strncmp(u, "MIG-", 4), 0);
            assert_int_equal(strlen(u), 4 + 36);
            for (unsigned k = 0; k < n; k++)
                assert_string_not_equal(seen[k], u);
            snprintf(seen[n++], MIG_UUID_LEN, "%s", u);
            /* same GI id, same CI id, next round: still a new UUID */
            assert_int_equal(sim_destroy_ci(s, g, gi, ci), NVML_SUCCESS);
            assert_int_equal(sim_destroy_gi(s, g, gi), NVML_SUCCESS);
        }
    free(seen);
    sim_close(s);
}

/* ------------------------------------------------------------ parse / dump */

static void test_dump_parse_roundtrip(void **state)
{
    (void)state;
    mig_error e;
    sim_state *s = new_state("2x" H100 ",A30-24GB", true, true);
    unsigned gi, ci;
    assert_int_equal(sim_create_gi(s, 0, pid_of(H100, "3g.40gb"), -1, &gi), NVML_SUCCESS);
    assert_int_equal(sim_create_ci(s, 0, gi, 0, -1, &ci), NVML_SUCCESS);
    assert_int_equal(sim_create_ci(s, 0, gi, 0, -1, &ci), NVML_SUCCESS);
    assert_int_equal(sim_procs_n(s, 0, (int)gi, (int)ci, true, 3, &e), 0);
    assert_int_equal(sim_procs_n(s, 1, -1, -1, true, 2, &e), 0);
    s->fail_op = 4;
    s->fail_rc = NVML_ERROR_IN_USE;
    s->kill_op = 9;
    char *text = sim_dump(s);
    assert_non_null(text);
    sim_state *back = calloc(1, sizeof *back);
    assert_int_equal(sim_parse(text, strlen(text), "mem", back, &e), 0);
    char *again = sim_dump(back);
    assert_string_equal(text, again);
    assert_true(back->swizzled);
    assert_int_equal(back->fail_op, 4);
    assert_int_equal(back->fail_rc, NVML_ERROR_IN_USE);
    assert_int_equal(back->kill_op, 9);
    assert_int_equal(back->gpus[0].gi[0].ci[1].n_procs, 3);
    assert_int_equal(back->gpus[1].n_procs, 2);
    /* pids name distinct processes */
    json_t *root = json_loads(text, 0, NULL);
    json_t *pids = json_object_get(json_array_get(json_object_get(root, "gpus"), 1), "procs");
    assert_int_equal(json_array_size(pids), 2);
    assert_int_not_equal(json_integer_value(json_array_get(pids, 0)),
                         json_integer_value(json_array_get(pids, 1)));
    json_decref(root);
    free(text);
    free(again);
    free(back);
    sim_close(s);
}

/* Each document is broken in one way; the message must name the problem. */
static const struct {
    const char *text;
    const char *says;
} broken[] = {
    {"", "not a valid state file"},
    {"{\"version\": 1, \"gpus\": [", "not a valid state file"},
    {"\x7f" "ELF\x01\x02garbage", "not a valid state file"},
    {"[1,2,3]", "JSON object"},
    {"{\"version\": 2, \"gpus\": [{\"model\": \"H100-SXM5-80GB\"}]}", "version"},
    {"{\"version\": 1}", "gpus"},
    {"{\"version\": 1, \"gpus\": []}", "gpus"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H999-80GB\"}]}", "unknown GPU model"},
    {"{\"version\": 1, \"gpus\": [{\"model\": 5}]}", "model"},
    {"{\"version\": 1, \"gpus\": [{\"index\": 3, \"model\": \"H100-SXM5-80GB\"}]}", "index"},
    {"{\"version\": 1, \"options\": {\"gi_ids\": \"random\"}, \"gpus\": [{\"model\": "
     "\"H100-SXM5-80GB\"}]}",
     "gi_ids"},
    {"{\"version\": 1, \"fault\": {\"fail_rc\": 0}, \"gpus\": [{\"model\": \"H100-SXM5-80GB\"}]}",
     "fail_rc"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"mig\": {\"current\": false},"
     " \"gpu_instances\": [{\"id\": 2, \"profile_id\": 9, \"start\": 4}]}]}",
     "MIG mode is off"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"mig\": {\"current\": true},"
     " \"gpu_instances\": [{\"id\": 2, \"profile_id\": 9, \"start\": 4},"
     " {\"id\": 5, \"profile_id\": 14, \"start\": 4}]}]}",
     "GPU instance 5"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"mig\": {\"current\": true},"
     " \"gpu_instances\": [{\"id\": 2, \"profile_id\": 9, \"start\": 2}]}]}",
     "cannot be placed at 2"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"mig\": {\"current\": true},"
     " \"gpu_instances\": [{\"id\": 9, \"profile_id\": 9, \"start\": 4}]}]}",
     "outside 1-2"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"mig\": {\"current\": true},"
     " \"gpu_instances\": [{\"id\": 1, \"profile_id\": 9, \"start\": 0},"
     " {\"id\": 1, \"profile_id\": 9, \"start\": 4}]}]}",
     "used twice"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"mig\": {\"current\": true},"
     " \"gpu_instances\": [{\"id\": 1, \"profile_id\": 77, \"start\": 0}]}]}",
     "profile id 77"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"mig\": {\"current\": true},"
     " \"gpu_instances\": [{\"id\": 2, \"profile_id\": 9, \"start\": 4, \"compute_instances\":"
     " [{\"id\": 0, \"profile_id\": 0, \"start\": 0, \"uuid\": \"MIG-a\"},"
     " {\"id\": 1, \"profile_id\": 1, \"start\": 0, \"uuid\": \"MIG-b\"}]}]}]}",
     "compute instance 1"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"mig\": {\"current\": true},"
     " \"gpu_instances\": [{\"id\": 1, \"profile_id\": 5, \"start\": 0, \"compute_instances\":"
     " [{\"id\": 0, \"profile_id\": 2, \"start\": 0, \"uuid\": \"MIG-a\"}]}]}]}",
     "not valid in a 4g.40gb"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"mig\": {\"current\": true},"
     " \"gpu_instances\": [{\"id\": 2, \"profile_id\": 9, \"start\": 4, \"compute_instances\":"
     " [{\"id\": 0, \"profile_id\": 0, \"start\": 0}]}]}]}",
     "uuid"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"procs\": [0]}]}", "pid"},
    {"{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\", \"pci_device_id\": "
     "\"0x20B010DE\"}]}",
     "pci_device_id"},
    {"{\"version\": 1, \"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\"}]}",
     "not a valid state file"},
};

static void test_parse_rejects(void **state)
{
    (void)state;
    sim_state *s = calloc(1, sizeof *s);
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        mig_error e = {0};
        int rc = sim_parse(broken[i].text, strlen(broken[i].text), "f.json", s, &e);
        if (rc != -1)
            fail_msg("case %zu accepted: %s", i, broken[i].text);
        assert_int_equal(e.kind, MIG_ERR_INPUT);
        if (!strstr(e.msg, broken[i].says) || strncmp(e.msg, "f.json", 6) != 0)
            fail_msg("case %zu: message '%s' lacks '%s'", i, e.msg, broken[i].says);
    }
    /* and a minimal hand-written file is fine (defaults fill the rest) */
    const char *ok = "{\"version\": 1, \"gpus\": [{\"model\": \"A30-24GB\"}]}";
    mig_error e;
    assert_int_equal(sim_parse(ok, strlen(ok), "ok.json", s, &e), 0);
    assert_int_equal(s->n_gpus, 1);
    free(s);
}

/* A damaged file is reported and never rewritten: not by open, not by the backend. */
static void test_corrupt_file_untouched(void **state)
{
    tmp_fixture *t = *state;
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        spit(t->path, broken[i].text);
        size_t before_len, after_len;
        char *before = slurp(t->path, &before_len);
        mig_error e;
        assert_null(sim_open(t->path, true, &e));
        assert_int_equal(e.kind, MIG_ERR_INPUT);
        assert_non_null(strstr(e.msg, t->path));
        mig_backend *b;
        assert_int_equal(sim_backend_open(t->path, &b, &e), -1);
        char *after = slurp(t->path, &after_len);
        assert_int_equal(before_len, after_len);
        assert_memory_equal(before, after, before_len);
        free(before);
        free(after);
    }
    /* a file that goes bad after the backend opened it: ops fail, file unchanged */
    mig_error e;
    assert_int_equal(sim_init(t->path, H100, false, &e), 0);
    mig_backend *b;
    assert_int_equal(sim_backend_open(t->path, &b, &e), 0);
    spit(t->path, "{\"version\": 1, \"gpus\": [");
    unsigned id;
    assert_int_equal(b->ops->create_gi(b, 0, 9, -1, &id, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_int_equal(b->ops->set_mode(b, 0, true, NULL, NULL, &e), -1);
    size_t len;
    char *now = slurp(t->path, &len);
    assert_string_equal(now, "{\"version\": 1, \"gpus\": [");
    free(now);
    backend_close(b);
}

/* ------------------------------------------------------------ the backend */

static void test_backend_messages(void **state)
{
    tmp_fixture *t = *state;
    mig_error e;
    assert_int_equal(sim_init(t->path, "2x" H100, false, &e), 0);
    mig_backend *b;
    assert_int_equal(sim_backend_open(t->path, &b, &e), 0);
    assert_string_equal(b->ops->name, "sim");
    unsigned n, id, ci;
    assert_int_equal(b->ops->gpu_count(b, &n, &e), 0);
    assert_int_equal(n, 2);
    mig_gpu_state g;
    assert_int_equal(b->ops->gpu_state(b, 2, &g, &e), -1);
    assert_string_equal(e.msg, "nvmlDeviceGetHandleByIndex: Invalid Argument");
    assert_int_equal(e.kind, MIG_ERR_BACKEND);
    assert_int_equal(e.nvml, NVML_ERROR_INVALID_ARGUMENT);
    assert_int_equal(b->ops->create_gi(b, 0, 9, -1, &id, &e), -1);
    assert_string_equal(e.msg, "nvmlDeviceCreateGpuInstance: Not Supported");
    bool pending = true;
    int why = -1;
    assert_int_equal(b->ops->set_mode(b, 0, true, &pending, &why, &e), 0);
    assert_false(pending);
    assert_int_equal(b->ops->create_gi(b, 0, 9, 2, &id, &e), -1);
    assert_string_equal(e.msg, "nvmlDeviceCreateGpuInstanceWithPlacement: Invalid Argument");
    assert_int_equal(b->ops->create_gi(b, 0, 9, 4, &id, &e), 0);
    assert_int_equal(b->ops->create_gi(b, 0, 14, 4, &id, &e), -1);
    assert_string_equal(e.msg, "nvmlDeviceCreateGpuInstanceWithPlacement: Insufficient Resources");
    assert_int_equal(b->ops->create_ci(b, 0, 2, 2, -1, &ci, &e), 0);
    assert_int_equal(b->ops->create_ci(b, 0, 2, 4, -1, &ci, &e), -1);
    assert_string_equal(e.msg, "nvmlGpuInstanceCreateComputeInstance: Not Supported");
    assert_int_equal(b->ops->create_ci(b, 0, 3, 0, -1, &ci, &e), -1);
    assert_string_equal(e.msg, "nvmlDeviceGetGpuInstanceById: Not Found");
    assert_int_equal(b->ops->destroy_gi(b, 0, 2, &e), -1);
    assert_string_equal(e.msg, "nvmlGpuInstanceDestroy: In use by another client");
    assert_int_equal(b->ops->destroy_gi(b, 0, 7, &e), -1);
    assert_string_equal(e.msg, "nvmlDeviceGetGpuInstanceById: Not Found");
    assert_int_equal(b->ops->destroy_ci(b, 0, 2, 3, &e), -1);
    assert_string_equal(e.msg, "nvmlGpuInstanceGetComputeInstanceById: Not Found");
    assert_int_equal(b->ops->set_mode(b, 0, false, &pending, &why, &e), -1);
    assert_string_equal(e.msg, "nvmlDeviceSetMigMode: In use by another client");
    /* the state seen through the backend */
    assert_int_equal(b->ops->gpu_state(b, 0, &g, &e), 0);
    assert_int_equal(g.n_gi, 1);
    assert_int_equal(g.gi[0].id, 2);
    assert_int_equal(g.gi[0].n_ci, 1);
    mig_gi_profile profs[MIG_MAX_PROFILES];
    unsigned np = MIG_MAX_PROFILES;
    assert_int_equal(b->ops->gi_profiles(b, 0, profs, &np, &e), 0);
    assert_int_equal(np, mig_model_by_name(H100)->n_profiles);
    unsigned left;
    assert_int_equal(b->ops->remaining_capacity(b, 0, 9, &left, &e), 0);
    assert_int_equal(left, 1);
    /* a pending change through the backend: a process holds GPU 1 */
    sim_state *s = sim_open(t->path, true, &e);
    assert_int_equal(sim_procs(s, 1, -1, -1, true, &e), 0);
    assert_int_equal(sim_commit(s, &e), 0);
    sim_close(s);
    assert_int_equal(b->ops->set_mode(b, 1, true, &pending, &why, &e), 0);
    assert_true(pending);
    assert_int_equal(why, NVML_ERROR_IN_USE);
    assert_int_equal(b->ops->reset(b, 1, &e), -1);
    assert_string_equal(e.msg, "nvmlDeviceResetGpu: In use by another client");
    backend_close(b);
}

/* ------------------------------------------------------------ faults */

static void test_fault_countdown(void **state)
{
    tmp_fixture *t = *state;
    mig_error e;
    assert_int_equal(sim_init(t->path, H100, false, &e), 0);
    sim_state *s = sim_open(t->path, true, &e);
    s->fail_op = 3;
    s->fail_rc = NVML_ERROR_IN_USE;
    assert_int_equal(sim_commit(s, &e), 0);
    sim_close(s);
    mig_backend *b;
    assert_int_equal(sim_backend_open(t->path, &b, &e), 0);
    unsigned id;
    /* op 1 (mode) and op 2 succeed; op 3 fails with the injected code and
     * changes nothing; op 4 succeeds again. Each op is a separate open. */
    assert_int_equal(b->ops->set_mode(b, 0, true, NULL, NULL, &e), 0);
    assert_int_equal(b->ops->create_gi(b, 0, 19, -1, &id, &e), 0);
    assert_int_equal(b->ops->create_gi(b, 0, 19, -1, &id, &e), -1);
    assert_string_equal(e.msg, "nvmlDeviceCreateGpuInstance: In use by another client");
    assert_int_equal(e.nvml, NVML_ERROR_IN_USE);
    mig_gpu_state g;
    assert_int_equal(b->ops->gpu_state(b, 0, &g, &e), 0);
    assert_int_equal(g.n_gi, 1);
    assert_int_equal(b->ops->create_gi(b, 0, 19, -1, &id, &e), 0);
    s = sim_open(t->path, false, &e);
    assert_int_equal(s->fail_op, 0);
    assert_int_equal(s->gpus[0].n_gi, 2);
    sim_close(s);
    /* in memory: fail_rc defaults to UNKNOWN; lookups do not count */
    s = new_state(H100, false, true);
    s->fail_op = 1;
    assert_int_equal(sim_fault_check(s), NVML_ERROR_UNKNOWN);
    assert_int_equal(sim_fault_check(s), NVML_SUCCESS);
    sim_close(s);
    backend_close(b);
}

static void test_kill_op(void **state)
{
    tmp_fixture *t = *state;
    mig_error e;
    assert_int_equal(sim_init(t->path, H100, false, &e), 0);
    sim_state *s = sim_open(t->path, true, &e);
    s->kill_op = 3;
    assert_int_equal(sim_commit(s, &e), 0);
    sim_close(s);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        mig_backend *b;
        unsigned id;
        if (sim_backend_open(t->path, &b, &e) < 0)
            _exit(10);
        if (b->ops->set_mode(b, 0, true, NULL, NULL, &e) < 0)
            _exit(11);
        for (int i = 0; i < 5; i++)
            b->ops->create_gi(b, 0, 19, -1, &id, &e);
        _exit(0); /* not reached: killed after op 3 */
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    /* op 3 was committed before the kill, and the countdown too */
    s = sim_open(t->path, false, &e);
    assert_non_null(s);
    assert_int_equal(s->gpus[0].n_gi, 2);
    assert_int_equal(s->kill_op, 0);
    sim_close(s);
    /* no temp files left behind */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c tmp >/dev/null", t->dir);
    assert_int_not_equal(system(cmd), 0);
}

/* ------------------------------------------------------------ concurrency */

static void test_concurrent_writers(void **state)
{
    tmp_fixture *t = *state;
    enum { WRITERS = 4, ROUNDS = 15 };
    mig_error e;
    assert_int_equal(sim_init(t->path, "2x" H100, false, &e), 0);
    sim_state *s = sim_open(t->path, true, &e);
    assert_int_equal(sim_set_mode(s, 0, true, NULL), NVML_SUCCESS);
    assert_int_equal(sim_set_mode(s, 1, true, NULL), NVML_SUCCESS);
    assert_int_equal(sim_commit(s, &e), 0);
    sim_close(s);
    fflush(NULL);
    pid_t kids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        kids[w] = fork();
        assert_true(kids[w] >= 0);
        if (kids[w] != 0)
            continue;
        /* each round: create a 1g (bumps serial), start a process on the
         * whole GPU, then in a second transaction destroy the GI */
        for (int r = 0; r < ROUNDS; r++) {
            unsigned gpu = (unsigned)(w + r) % 2, id;
            sim_state *c = sim_open(t->path, true, &e);
            if (!c || sim_create_gi(c, gpu, 19, -1, &id) != NVML_SUCCESS ||
                sim_procs(c, gpu, -1, -1, true, &e) < 0 || sim_commit(c, &e) < 0)
                _exit(1);
            sim_close(c);
            c = sim_open(t->path, true, &e);
            if (!c || sim_destroy_gi(c, gpu, id) != NVML_SUCCESS || sim_commit(c, &e) < 0)
                _exit(2);
            sim_close(c);
        }
        _exit(0);
    }
    /* a reader meanwhile never sees a half-written or invalid file */
    pid_t reader = fork();
    assert_true(reader >= 0);
    if (reader == 0) {
        for (int r = 0; r < WRITERS * ROUNDS; r++) {
            sim_state *c = sim_open(t->path, false, &e);
            if (!c)
                _exit(3);
            sim_close(c);
        }
        _exit(0);
    }
    int rstatus;
    assert_int_equal(waitpid(reader, &rstatus, 0), reader);
    assert_true(WIFEXITED(rstatus));
    assert_int_equal(WEXITSTATUS(rstatus), 0);
    for (int w = 0; w < WRITERS; w++) {
        int status;
        assert_int_equal(waitpid(kids[w], &status, 0), kids[w]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    s = sim_open(t->path, false, &e);
    assert_non_null(s);
    assert_int_equal(s->serial, WRITERS * ROUNDS); /* no lost update */
    assert_int_equal(s->gpus[0].n_procs + s->gpus[1].n_procs, WRITERS * ROUNDS);
    assert_int_equal(s->gpus[0].n_gi + s->gpus[1].n_gi, 0);
    sim_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_and_open, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_init_bad_specs, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_hint, tmp_setup, tmp_teardown),
        cmocka_unit_test(test_create_gi_errors),
        cmocka_unit_test(test_caps_and_max),
        cmocka_unit_test(test_auto_placement_canonical),
        cmocka_unit_test(test_auto_placement_swizzled),
        cmocka_unit_test(test_gi_id_reuse_canonical),
        cmocka_unit_test(test_remaining_mig_off),
        cmocka_unit_test(test_ci_rules),
        cmocka_unit_test(test_destroy_in_use),
        cmocka_unit_test(test_procs_counts),
        cmocka_unit_test(test_mode_semantics),
        cmocka_unit_test(test_reboot),
        cmocka_unit_test(test_uuids_unique),
        cmocka_unit_test(test_dump_parse_roundtrip),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test_setup_teardown(test_corrupt_file_untouched, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_backend_messages, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_fault_countdown, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_kill_op, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
