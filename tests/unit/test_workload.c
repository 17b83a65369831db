/*
 * test_workload.c: the planner's YAML inputs. Values and defaults of a good
 * file; every kind of bad input rejected with MIG_ERR_INPUT and the exact
 * file:line:col of the offending node; the fleet's counts, layouts and busy
 * marks; the example files parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/workload.h"

static void test_values_and_defaults(void **state)
{
    (void)state;
    const char *y = "workloads:\n"
                    "  - name: a\n"
                    "    replicas: 3\n"
                    "    memory: 12GB\n"
                    "    compute: 25%\n"
                    "    throughput: {1g.20gb: 200, whole: 1000}\n"
                    "    isolation: required\n"
                    "    p2p: false\n"
                    "    media: yes\n"
                    "  - {name: b, memory: 1.5GiB, compute: 1/7, profile: 3g.40gb}\n"
                    "  - {name: c, sms: 30, bandwidth-bound: true, isolation: none}\n";
    wl_file f;
    mig_error e = {0};
    assert_int_equal(wl_parse_string(y, strlen(y), "w.yaml", &f, &e), 0);
    assert_int_equal(f.n, 3);
    const wl_workload *a = &f.items[0], *b = &f.items[1], *c = &f.items[2];
    assert_string_equal(a->name, "a");
    assert_int_equal(a->replicas, 3);
    assert_int_equal(a->memory_mib, 11445); /* 12e9 / 2^20 = 11444.09, rounded up */
    assert_true(a->compute > 0.2499 && a->compute < 0.2501);
    assert_int_equal(a->n_tput, 2);
    assert_string_equal(a->tput[0].profile, "1g.20gb");
    assert_true(a->tput[1].value == 1000);
    assert_int_equal(a->tput[1].line, 6);
    assert_int_equal(a->isolation, WL_ISO_REQUIRED);
    assert_true(a->media);
    assert_int_equal(b->replicas, 1);
    assert_int_equal(b->gpus, 1);
    assert_int_equal(b->memory_mib, 1536);
    assert_true(b->compute > 0.1428 && b->compute < 0.1429);
    assert_string_equal(b->profile, "3g.40gb");
    assert_int_equal(b->isolation, WL_ISO_PREFERRED);
    assert_int_equal(c->sms, 30);
    assert_true(c->bandwidth_bound);
    assert_int_equal(c->isolation, WL_ISO_NONE);
    assert_int_equal(wl_find(&f, "c"), 2);
    assert_int_equal(wl_find(&f, "zz"), -1);
    wl_free(&f);
}

static void test_units(void **state)
{
    (void)state;
    unsigned long long mib;
    assert_int_equal(wl_parse_memory("12000MiB", &mib), 0);
    assert_int_equal(mib, 12000);
    assert_int_equal(wl_parse_memory("1TB", &mib), 0);
    assert_int_equal(mib, 953675);
    assert_int_equal(wl_parse_memory("80GiB", &mib), 0);
    assert_int_equal(mib, 81920);
    assert_int_equal(wl_parse_memory("12", &mib), -1);
    assert_int_equal(wl_parse_memory("12 parsecs", &mib), -1);
    assert_int_equal(wl_parse_memory("-3GB", &mib), -1);
    double v;
    assert_int_equal(wl_parse_fraction("3/7", &v), 0);
    assert_int_equal(wl_parse_fraction("100%", &v), 0);
    assert_true(v == 1.0);
    assert_int_equal(wl_parse_fraction("120%", &v), -1);
    assert_int_equal(wl_parse_fraction("0", &v), -1);
    assert_int_equal(wl_parse_fraction("1/0", &v), -1);
    assert_int_equal(wl_parse_fraction("abc", &v), -1);
}

/* Each bad input: the error names this exact position. */
static void expect_error(const char *y, const char *pos, const char *words, bool fleet)
{
    mig_error e = {0};
    int rc;
    if (fleet) {
        fl_fleet f;
        rc = fl_parse_string(y, strlen(y), "x.yaml", &f, &e);
    } else {
        wl_file f;
        rc = wl_parse_string(y, strlen(y), "x.yaml", &f, &e);
    }
    if (rc != -1)
        fail_msg("accepted: %s", y);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    char want[64];
    snprintf(want, sizeof want, "x.yaml:%s: ", pos);
    char msg[2048];
    mig_error_format(&e, msg, sizeof msg);
    if (strncmp(msg, want, strlen(want)) || !strstr(msg, words))
        fail_msg("for:\n%s\ngot '%s', want prefix '%s' and '%s'", y, msg, want, words);
}

static void test_workload_errors(void **state)
{
    (void)state;
    expect_error("workloads:\n  - name: a\n    colour: red\n", "3:5", "unknown key 'colour'", false);
    expect_error("workloads:\n  - {name: a, memory: 12}\n", "2:23", "memory", false);
    expect_error("workloads:\n  - {name: a, compute: 1.5}\n", "2:24", "compute", false);
    expect_error("workloads:\n  - {name: a, replicas: many}\n", "2:25", "replicas", false);
    expect_error("workloads:\n  - {name: a, isolation: total}\n", "2:26", "isolation", false);
    expect_error("workloads:\n  - {name: a, p2p: maybe}\n", "2:20", "true or false", false);
    expect_error("workloads:\n  - {name: a, profile: big}\n", "2:24", "not a MIG profile", false);
    expect_error("workloads:\n  - {name: a}\n  - {name: a}\n", "3:5", "used twice", false);
    expect_error("workloads:\n  - {memory: 1GiB}\n", "2:5", "needs a name", false);
    expect_error("workloads:\n  - {name: a, compute: 1/7, sms: 3}\n", "2:5", "not both", false);
    expect_error("workloads:\n  - {name: a, name: b}\n", "2:15", "duplicate key", false);
    expect_error("workloads:\n  - {name: a, throughput: {2g: 3}}\n", "2:28", "throughput key",
                 false);
    expect_error("workloads:\n  - {name: a, throughput: {whole: fast}}\n", "2:35", "number",
                 false);
    expect_error("jobs: []\n", "1:1", "unknown key 'jobs'", false);
    expect_error("workloads: {a: 1}\n", "1:12", "list", false);
    expect_error("workloads:\n  - [1, 2\n", "3:1", "", false);
    expect_error("", "1:1", "empty", false);
}

static void test_fleet(void **state)
{
    (void)state;
    const char *y = "nodes:\n"
                    "  - name: n1\n"
                    "    gpus:\n"
                    "      - {model: H100-SXM5-80GB, count: 3}\n"
                    "      - model: H100-SXM5-80GB\n"
                    "        layout: [\"3g.40gb@4\", \"2g.20gb@0\"]\n"
                    "        busy: {\"3g.40gb@4\": ft}\n"
                    "  - name: n2\n"
                    "    gpus:\n"
                    "      - {model: h200-sxm-141gb, mig: false, busy: trainer}\n";
    fl_fleet f;
    mig_error e = {0};
    if (fl_parse_string(y, strlen(y), "f.yaml", &f, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(f.n_nodes, 2);
    assert_int_equal(f.n_gpus, 5);
    assert_int_equal(f.nodes[0].n_gpus, 4);
    assert_int_equal(f.gpus[2].index, 2);
    assert_false(f.gpus[0].has_state);
    assert_true(f.gpus[0].mig_enabled);
    const fl_gpu *g = &f.gpus[3];
    assert_true(g->has_state);
    assert_int_equal(g->layout.n, 2);
    assert_true(g->busy[0]);
    assert_false(g->busy[1]);
    assert_string_equal(g->running[0], "ft");
    const fl_gpu *h = &f.gpus[4];
    assert_string_equal(h->model->name, "H200-SXM-141GB");
    assert_int_equal(h->node, 1);
    assert_int_equal(h->index, 0);
    assert_false(h->mig_enabled);
    assert_true(h->whole_busy);
    assert_string_equal(h->whole_running, "trainer");
    assert_true(fl_has_state(&f));
    fl_free(&f);
}

static void test_fleet_errors(void **state)
{
    (void)state;
    const char *head = "nodes:\n  - name: n\n    gpus:\n";
    char y[512];
#define FLEET(line) (snprintf(y, sizeof y, "%s%s", head, line), y)
    expect_error(FLEET("      - {model: Z100}\n"), "4:17", "unknown GPU model", true);
    expect_error(FLEET("      - {model: H100-SXM5-80GB, layout: [\"3g.40gb@1\"]}\n"), "4:42",
                 "cannot start", true);
    expect_error(FLEET("      - {model: H100-SXM5-80GB, layout: [\"3g.40gb@0\", \"4g.40gb@0\"]}\n"),
                 "4:55", "does not fit", true);
    expect_error(FLEET("      - {model: H100-SXM5-80GB, layout: [\"3g.40gb\"]}\n"), "4:42",
                 "give the placement", true);
    expect_error(FLEET("      - {model: H100-SXM5-80GB, layout: [\"1g.18gb@0\"]}\n"), "4:42",
                 "no profile", true);
    expect_error(FLEET("      - {model: H100-SXM5-80GB, layout: [\"1g.10gb@0\"], busy: [\"1g.10gb@1\"]}\n"),
                 "4:63", "not in this GPU's layout", true);
    expect_error(FLEET("      - {model: H100-SXM5-80GB, mig: false, layout: []}\n"), "4:53",
                 "mig: false", true);
    expect_error(FLEET("      - {model: H100-SXM5-80GB, count: 2, speed: 9}\n"), "4:43",
                 "unknown key 'speed'", true);
    expect_error(FLEET("      - {count: 2}\n"), "4:9", "needs model", true);
    expect_error("nodes:\n  - name: n\n    gpus: []\n", "2:3", "no GPUs", true);
    expect_error("nodes:\n  - {name: n, gpus: [{model: A30-24GB}]}\n  - {name: n, gpus: []}\n",
                 "3:5", "used twice", true);
#undef FLEET
}

static void test_examples_parse(void **state)
{
    (void)state;
    const char *src = getenv("MIGCTL_SOURCE_DIR");
    assert_non_null(src);
    const char *w[] = {"workloads-field-guide.yaml", "workloads-replan.yaml",
                       "workloads-replan-grow.yaml", "arrivals.yaml", "workloads-mix.yaml"};
    const char *f[] = {"fleet-h100.yaml", "fleet-h200.yaml", "fleet-mixed.yaml",
                       "fleet-h100-running.yaml", "fleet-mix.yaml"};
    for (int i = 0; i < 5; i++) {
        char p[4096];
        mig_error e = {0};
        wl_file wf;
        fl_fleet ff;
        snprintf(p, sizeof p, "%s/examples/%s", src, w[i]);
        if (wl_parse_file(p, &wf, &e) < 0)
            fail_msg("%s", e.msg);
        wl_free(&wf);
        snprintf(p, sizeof p, "%s/examples/%s", src, f[i]);
        if (fl_parse_file(p, &ff, &e) < 0)
            fail_msg("%s", e.msg);
        fl_free(&ff);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_defaults), cmocka_unit_test(test_units),
        cmocka_unit_test(test_workload_errors),     cmocka_unit_test(test_fleet),
        cmocka_unit_test(test_fleet_errors),        cmocka_unit_test(test_examples_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
