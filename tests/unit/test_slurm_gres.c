/*
 * test_slurm_gres.c: the gres records of integrate/slurm/gres.h and the
 * text they become: capability minors (the driver's scheme and a
 * mig-minors file), records per MIG device / whole GPU / spare / MPS, slots
 * kept across a layout change, Slurm's numbering (grouped by type, as
 * slurmd's "Final gres.conf list" shows), gres.conf and slurm.conf edits,
 * and the task prolog's index -> UUID mapping. Expected minors are the
 * driver's documented scheme (gpu0/gi0/access = 3, 9 per GI, 135 per GPU);
 * layouts are built with the simulator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpu/sim.h"
#include "integrate/slurm/gres.h"
#include "integrate/slurm/reconfigure.h"
#include "integrate/slurm/sctl.h"
#include "util/nvml_rc.h"

/* ------------------------------------------------------------ helpers */

/* A GI of `profile` at `start` with its default (full) CI on GPU g. */
static void add_instance(sim_state *s, unsigned g, const char *profile, int start)
{
    const mig_model *m = s->gpus[g].model;
    const mig_gi_profile *p = mig_profile_by_name(m, profile);
    assert_non_null(p);
    mig_ci_profile ci;
    assert_true(mig_ci_default(m, p, &ci));
    unsigned gi, cid;
    assert_int_equal(sim_create_gi(s, g, p->id, start, &gi), NVML_SUCCESS);
    assert_int_equal(sim_create_ci(s, g, gi, ci.id, -1, &cid), NVML_SUCCESS);
}

static void mig_on(sim_state *s, unsigned g)
{
    int act;
    assert_int_equal(sim_set_mode(s, g, true, &act), NVML_SUCCESS);
}

static sg_node *build(sim_state *s, const bool *mps, const sg_node *prev)
{
    static sg_minors mn;
    sg_minors_default(&mn);
    sg_params p = {"gpu1", "/dev", &mn, mps, prev, 236};
    sg_node *n = calloc(1, sizeof *n);
    mig_error e;
    assert_non_null(n);
    if (sg_build(s->gpus, s->n_gpus, &p, n, &e) < 0)
        fail_msg("sg_build: %s", e.msg);
    return n;
}

static char *conf_text(const sg_node *n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sg_write_conf(f, n);
    fclose(f);
    return buf;
}

/* ------------------------------------------------------------ minors */

static void test_minors_default(void **st)
{
    (void)st;
    sg_minors m;
    sg_minors_default(&m);
    assert_int_equal(m.gi[0][0], 3);
    assert_int_equal(m.ci[0][0][0], 4);
    assert_int_equal(m.ci[0][0][7], 11);
    assert_int_equal(m.gi[0][1], 12);
    assert_int_equal(m.gi[1][0], 138);
    assert_int_equal(m.ci[1][0][1], 140);
    assert_true(m.spare_base > (unsigned)m.ci[31][14][7]);
}

static void test_minors_file(void **st)
{
    (void)st;
    char path[] = "/tmp/migctl-minors-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "config 1\nmonitor 2\ngpu0/gi0/access 3\ngpu0/gi0/ci0/access 4\n"
                       "gpu0/gi2/access 21\ngpu0/gi2/ci0/access 22\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sg_minors m;
    mig_error e;
    assert_int_equal(sg_minors_read(path, &m, &e), 0);
    assert_int_equal(m.gi[0][2], 21);
    assert_int_equal(m.ci[0][2][0], 22);
    assert_int_equal(m.gi[0][1], -1);
    assert_int_equal(m.spare_base, 23);
    /* A line that does not parse names its line. */
    FILE *f = fopen(path, "w");
    fputs("gpu0/gi0/access 3\nrubbish\n", f);
    fclose(f);
    assert_int_equal(sg_minors_read(path, &m, &e), -1);
    assert_int_equal(e.line, 2);
    unlink(path);
}

/* ------------------------------------------------------------ records */

static void test_build_mig_and_whole(void **st)
{
    (void)st;
    mig_error e;
    sim_state *s = sim_new("2xH100-SXM5-80GB", false, &e);
    assert_non_null(s);
    mig_on(s, 0);
    add_instance(s, 0, "3g.40gb", 4);
    add_instance(s, 0, "1g.10gb", 0);
    sg_node *n = build(s, NULL, NULL);
    /* 7 slots per H100, always. */
    assert_int_equal(n->n, 14);
    unsigned mig = 0, whole = 0, spare = 0;
    for (unsigned i = 0; i < n->n; i++) {
        const sg_entry *en = &n->e[i];
        if (en->kind == SG_MIG) {
            mig++;
            assert_int_equal(en->gpu, 0);
            assert_int_equal(en->n_files, 3);
            assert_string_equal(en->files[0], "/dev/nvidia0");
            char want[64];
            snprintf(want, sizeof want, "/dev/nvidia-caps/nvidia-cap%u", 3 + en->gi * 9);
            assert_string_equal(en->files[1], want);
            snprintf(want, sizeof want, "/dev/nvidia-caps/nvidia-cap%u", 3 + en->gi * 9 + 1 + en->ci);
            assert_string_equal(en->files[2], want);
            assert_memory_equal(en->uuid, "MIG-", 4);
        } else if (en->kind == SG_WHOLE) {
            whole++;
            assert_int_equal(en->gpu, 1);
            assert_string_equal(en->type, "H100-SXM5-80GB");
            assert_string_equal(en->files[0], "/dev/nvidia1");
            assert_string_equal(en->uuid, s->gpus[1].uuid);
        } else {
            assert_int_equal(en->kind, SG_SPARE);
            spare++;
            assert_int_equal(en->n_files, 1);
        }
    }
    assert_int_equal(mig, 2);
    assert_int_equal(whole, 1);
    assert_int_equal(spare, 11);
    char gres[512];
    sg_gres_string(n, gres, sizeof gres);
    assert_string_equal(gres, "gpu:3g.40gb:1,gpu:1g.10gb:1,gpu:spare:11,gpu:H100-SXM5-80GB:1");
    /* Spares' devices are all distinct (slurmd refuses two records with one File=). */
    for (unsigned i = 0; i < n->n; i++)
        for (unsigned j = i + 1; j < n->n; j++)
            if (n->e[i].kind == SG_SPARE && n->e[j].kind == SG_SPARE)
                assert_string_not_equal(n->e[i].files[0], n->e[j].files[0]);
    free(n);
    sim_close(s);
}

static void test_slots_kept_and_numbering(void **st)
{
    (void)st;
    mig_error e;
    sim_state *s = sim_new("1xH100-SXM5-80GB", false, &e);
    assert_non_null(s);
    mig_on(s, 0);
    add_instance(s, 0, "1g.10gb", 0);
    add_instance(s, 0, "1g.10gb", 1);
    add_instance(s, 0, "3g.40gb", 4);
    sg_node *a = build(s, NULL, NULL);
    /* The 1g at 1 goes, a 2g.20gb comes at 2: the other two keep their slots. */
    unsigned at1 = 0;
    while (at1 < s->gpus[0].n_gi && s->gpus[0].gi[at1].start != 1)
        at1++;
    assert_true(at1 < s->gpus[0].n_gi);
    unsigned gone = s->gpus[0].gi[at1].id;
    assert_int_equal(sim_destroy_ci(s, 0, gone, s->gpus[0].gi[at1].ci[0].id), NVML_SUCCESS);
    assert_int_equal(sim_destroy_gi(s, 0, gone), NVML_SUCCESS);
    add_instance(s, 0, "2g.20gb", 2);
    sg_node *b = build(s, NULL, a);
    for (unsigned i = 0; i < a->n; i++) {
        if (a->e[i].kind != SG_MIG || a->e[i].gi == (int)gone)
            continue;
        bool found = false;
        for (unsigned j = 0; j < b->n; j++)
            if (b->e[j].gi == a->e[i].gi) {
                assert_int_equal(b->e[j].slot, a->e[i].slot);
                assert_string_equal(b->e[j].uuid, a->e[i].uuid);
                found = true;
            }
        assert_true(found);
    }
    /* The new 2g took the freed slot, not a spare's. */
    for (unsigned j = 0; j < b->n; j++)
        if (!strcmp(b->e[j].type, "2g.20gb"))
            for (unsigned i = 0; i < a->n; i++)
                if (a->e[i].gi == (int)gone)
                    assert_int_equal(b->e[j].slot, a->e[i].slot);
    /* Slurm's numbering: records grouped by type in order of first appearance. */
    int next = 0;
    for (unsigned i = 0; i < b->n; i++) {
        if (b->e[i].kind == SG_MPS)
            continue;
        bool first_of_type = true;
        for (unsigned k = 0; k < i; k++)
            if (!strcmp(b->e[k].type, b->e[i].type))
                first_of_type = false;
        if (!first_of_type)
            continue;
        for (unsigned k = i; k < b->n; k++)
            if (!strcmp(b->e[k].type, b->e[i].type))
                assert_int_equal(b->e[k].index, next++);
    }
    assert_int_equal(next, 7);
    free(a);
    free(b);
    sim_close(s);
}

static void test_mps_single_file(void **st)
{
    (void)st;
    mig_error e;
    sim_state *s = sim_new("2xH100-SXM5-80GB", false, &e);
    assert_non_null(s);
    mig_on(s, 0);
    add_instance(s, 0, "7g.80gb", 0);
    bool mps[2] = {false, true};
    sg_node *n = build(s, mps, NULL);
    assert_int_equal(n->n, 15);
    assert_true(sg_has_mps(n));
    const sg_entry *m = &n->e[14], *whole = NULL;
    assert_int_equal(m->kind, SG_MPS);
    for (unsigned i = 0; i < n->n; i++) {
        if (n->e[i].kind == SG_MIG)
            assert_int_equal(n->e[i].n_files, 1); /* gres/mps splits MultipleFiles */
        if (n->e[i].kind == SG_WHOLE)
            whole = &n->e[i];
    }
    assert_non_null(whole);
    assert_int_equal(m->index, whole->index);
    assert_string_equal(m->files[0], "/dev/nvidia1");
    char gres[512];
    sg_gres_string(n, gres, sizeof gres);
    assert_string_equal(gres, "gpu:7g.80gb:1,gpu:spare:12,gpu:H100-SXM5-80GB:1,mps:100");
    /* Without MPS, the same MIG GPU's record carries three files. */
    sg_node *n2 = build(s, NULL, NULL);
    assert_int_equal(n2->e[0].n_files, 3);
    free(n);
    free(n2);
    sim_close(s);
}

/* ------------------------------------------------------------ text */

static void test_conf_round_trip_and_prolog_map(void **st)
{
    (void)st;
    mig_error e;
    sim_state *s = sim_new("2xH100-SXM5-80GB", false, &e);
    assert_non_null(s);
    mig_on(s, 0);
    add_instance(s, 0, "1g.10gb", 0);
    add_instance(s, 0, "3g.40gb", 4);
    add_instance(s, 0, "1g.10gb", 1);
    bool mps[2] = {false, true};
    sg_node *n = build(s, mps, NULL);
    char *text = conf_text(n);
    sg_node *p = calloc(1, sizeof *p);
    assert_int_equal(sg_parse_conf(text, "gpu1", p, &e), 0);
    assert_int_equal(p->n, n->n);
    for (unsigned i = 0; i < n->n; i++) {
        assert_int_equal(p->e[i].kind, n->e[i].kind);
        assert_int_equal(p->e[i].index, n->e[i].index);
        assert_int_equal(p->e[i].gi, n->e[i].gi);
        assert_int_equal(p->e[i].slot, n->e[i].slot);
        assert_string_equal(p->e[i].uuid, n->e[i].uuid);
        assert_string_equal(p->e[i].type, n->e[i].type);
    }
    /* A hand-written line names no GPU (so it marks none as MPS). */
    sg_node *hand = calloc(1, sizeof *hand);
    assert_int_equal(sg_parse_conf("NodeName=gpu1 Name=mps Count=100 File=/dev/nvidia0\n"
                                   "NodeName=gpu1 Name=gpu Type=a100 File=/dev/nvidia0\n",
                                   "gpu1", hand, &e),
                     0);
    assert_int_equal(hand->n, 2);
    assert_int_equal(hand->e[0].kind, SG_MPS);
    assert_int_equal(hand->e[0].gpu, SG_NO_GPU);
    assert_int_equal(hand->e[1].index, 0);
    assert_string_equal(hand->e[1].type, "a100");
    free(hand);
    /* Another node's lines are not this node's. */
    sg_node *other = calloc(1, sizeof *other);
    assert_int_equal(sg_parse_conf(text, "gpu10", other, &e), 0);
    assert_int_equal(other->n, 0);

    /* Indices -> UUIDs, ranges included. */
    const char *u1a = NULL, *u3g = NULL, *u1b = NULL;
    for (unsigned i = 0; i < n->n; i++) {
        if (n->e[i].index == 0)
            u1a = n->e[i].uuid;
        if (n->e[i].index == 1)
            u1b = n->e[i].uuid;
        if (!strcmp(n->e[i].type, "3g.40gb"))
            u3g = n->e[i].uuid;
    }
    /* Two 1g.10gb records are numbered 0 and 1 although the 3g line is between them. */
    assert_non_null(u1a);
    assert_non_null(u1b);
    char buf[1024], want[1024];
    assert_int_equal(sg_map_indices(p, "0-1", buf, sizeof buf, &e), 0);
    snprintf(want, sizeof want, "%s,%s", u1a, u1b);
    assert_string_equal(buf, want);
    int i3g = -1;
    for (unsigned i = 0; i < n->n; i++)
        if (!strcmp(n->e[i].type, "3g.40gb"))
            i3g = n->e[i].index;
    snprintf(want, sizeof want, "0,%d", i3g);
    assert_int_equal(sg_map_indices(p, want, buf, sizeof buf, &e), 0);
    snprintf(want, sizeof want, "%s,%s", u1a, u3g);
    assert_string_equal(buf, want);
    /* The MPS GPU's whole record maps to its GPU UUID. */
    int iw = -1;
    for (unsigned i = 0; i < n->n; i++)
        if (n->e[i].kind == SG_WHOLE)
            iw = n->e[i].index;
    snprintf(want, sizeof want, "%d", iw);
    assert_int_equal(sg_map_indices(p, want, buf, sizeof buf, &e), 0);
    assert_string_equal(buf, s->gpus[1].uuid);
    /* A spare, an index past the end, junk: errors. */
    int isp = -1;
    for (unsigned i = 0; i < n->n; i++)
        if (n->e[i].kind == SG_SPARE)
            isp = n->e[i].index;
    snprintf(want, sizeof want, "%d", isp);
    assert_int_equal(sg_map_indices(p, want, buf, sizeof buf, &e), -1);
    assert_non_null(strstr(e.msg, "spare"));
    assert_int_equal(sg_map_indices(p, "99", buf, sizeof buf, &e), -1);
    assert_int_equal(sg_map_indices(p, "x", buf, sizeof buf, &e), -1);
    free(other);
    free(p);
    free(text);
    free(n);
    sim_close(s);
}

static void test_replace_block_and_node_gres(void **st)
{
    (void)st;
    mig_error e;
    sim_state *s = sim_new("1xH100-SXM5-80GB", false, &e);
    assert_non_null(s);
    sg_node *n = build(s, NULL, NULL);
    const char *conf = "AutoDetect=off\n"
                       "NodeName=gpu1 Name=gpu Type=old File=/dev/nvidia0\n"
                       "NodeName=gpu10 Name=gpu Type=keep File=/dev/nvidia0\n";
    char *a = sg_replace_block(conf, n, &e);
    assert_non_null(a);
    assert_null(strstr(a, "Type=old"));          /* the node's hand-written line is replaced */
    assert_non_null(strstr(a, "NodeName=gpu10 Name=gpu Type=keep")); /* others kept */
    assert_non_null(strstr(a, "# migctl: begin NodeName=gpu1 "));
    /* Replacing again changes nothing (one block, in place). */
    char *b = sg_replace_block(a, n, &e);
    assert_string_equal(a, b);

    const char *sconf = "GresTypes=gpu\nNodeName=gpu1 CPUs=4 Gres=gpu:x:1 State=UNKNOWN\n"
                        "NodeName=gpu10 CPUs=4 Gres=gpu:y:1\n";
    char *c = sg_set_node_gres(sconf, "gpu1", "gpu:1g.10gb:7,mps:100", true, &e);
    assert_non_null(c);
    assert_string_equal(c, "GresTypes=gpu,mps\nNodeName=gpu1 CPUs=4 State=UNKNOWN "
                           "Gres=gpu:1g.10gb:7,mps:100\nNodeName=gpu10 CPUs=4 Gres=gpu:y:1\n");
    char g[256];
    assert_int_equal(sg_get_node_gres(c, "gpu10", g, sizeof g, &e), 0);
    assert_string_equal(g, "gpu:y:1");
    assert_null(sg_set_node_gres(sconf, "gpu2", "gpu:a:1", false, &e));
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    free(a);
    free(b);
    free(c);
    free(n);
    sim_close(s);
}

/* slurmd's grouping by type: a type that appears earlier in the file after a
 * change moves the indices of the types after it; a record whose group and
 * everything before it keep their sizes keeps its index. */
static void test_index_moves(void **st)
{
    (void)st;
    mig_error e;
    sim_state *s = sim_new("2xH100-SXM5-80GB", false, &e);
    assert_non_null(s);
    mig_on(s, 0);
    mig_on(s, 1);
    add_instance(s, 0, "1g.10gb", 0);
    add_instance(s, 1, "3g.40gb", 4);
    sg_node *a = build(s, NULL, NULL);
    /* Types in file order: 1g.10gb (GPU 0 slot 0), spare, 3g.40gb (GPU 1). */
    int i1g = -1, i3g = -1;
    for (unsigned i = 0; i < a->n; i++) {
        if (!strcmp(a->e[i].type, "1g.10gb"))
            i1g = a->e[i].index;
        if (!strcmp(a->e[i].type, "3g.40gb"))
            i3g = a->e[i].index;
    }
    assert_int_equal(i1g, 0);
    assert_int_equal(i3g, 13); /* after the 1g and 12 spares */
    /* A 2g.20gb on GPU 0 takes spare slot 1: a new group between 1g and spare. */
    add_instance(s, 0, "2g.20gb", 2);
    sg_node *b = build(s, NULL, a);
    assert_false(sr_index_moves(a, b, i1g));
    /* 1g, 2g (1), spare (11), then 3g: the 3g keeps 13, the shifts cancel. */
    assert_false(sr_index_moves(a, b, i3g));
    /* A 1g on GPU 1: the 1g group (first) grows by one, so the 2g and spare
     * groups move up one; the 3g group moves by +1 (1g) -1 (spare) = 0. */
    add_instance(s, 1, "1g.10gb", 0);
    sg_node *c = build(s, NULL, b);
    assert_false(sr_index_moves(b, c, 0));
    assert_true(sr_index_moves(b, c, 1)); /* the 2g was 1, now the new 1g is */
    assert_false(sr_index_moves(b, c, i3g));
    free(a);
    free(b);
    free(c);
    sim_close(s);
}

static void test_parse_idx(void **st)
{
    (void)st;
    unsigned char idx[128];
    sctl_parse_idx("0-2,5,9)", idx);
    assert_int_equal(idx[0], 0x27); /* bits 0,1,2,5 */
    assert_int_equal(idx[1], 0x02); /* bit 9 */
    sctl_parse_idx("N/A", idx);
    assert_int_equal(idx[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minors_default),
        cmocka_unit_test(test_minors_file),
        cmocka_unit_test(test_build_mig_and_whole),
        cmocka_unit_test(test_slots_kept_and_numbering),
        cmocka_unit_test(test_mps_single_file),
        cmocka_unit_test(test_conf_round_trip_and_prolog_map),
        cmocka_unit_test(test_replace_block_and_node_gres),
        cmocka_unit_test(test_index_moves),
        cmocka_unit_test(test_parse_idx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
