/*
 * test_metrics.c: the metrics layer without a backend: profile predictions
 * (metrics/profile.h) against the method worked by hand on the H100
 * catalogue, the exporter's request routing, the Prometheus rendering of a
 * hand-built snapshot (labels, escaping, unsupported metrics absent, one
 * HELP per family), the health verdict, and the simulator's telemetry in
 * the state file (round trip, defaults, rejected values).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpu/sim.h"
#include "gpu/sim_telemetry.h"
#include "metrics/exporter.h"
#include "metrics/metrics.h"
#include "metrics/profile.h"

/* ------------------------------------------------------------ profile */

static mig_gpu_sample *sample(double sm, double dram, unsigned long long mem_mib)
{
    static mig_gpu_sample s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < MIG_M_COUNT; i++)
        s.m[i] = (mig_metric){MIG_MET_OK, 0};
    s.m[MIG_M_SM_ACTIVE].v = sm;
    s.m[MIG_M_DRAM].v = dram;
    s.mem_known = true;
    s.mem_total = 80ull << 30;
    s.mem_used = mem_mib << 20;
    return &s;
}

static const profile_pred *pred(const profile_result *r, const char *name)
{
    for (unsigned i = 0; i < r->n; i++)
        if (!strcmp(r->pred[i].profile, name))
            return &r->pred[i];
    fail_msg("no prediction for %s", name);
    return NULL;
}

static void run(const char *model, double sm, double dram, unsigned long long mib, double target,
                profile_result *r)
{
    const mig_model *m = mig_model_by_name(model);
    assert_non_null(m);
    profile_acc a;
    profile_begin(&a, sample(0, 0, 100)); /* 100 MiB already in use: not the workload's */
    profile_add(&a, sample(0, 0, 100));   /* idle: not counted in the means */
    profile_add(&a, sample(sm, dram, 100 + mib));
    profile_add(&a, sample(sm, dram, 100 + mib / 2));
    mig_error e;
    assert_int_equal(profile_predict(m, &a, target, r, &e), 0);
    assert_int_equal(r->n_active, 2);
    assert_int_equal(r->peak_mem_mib, mib);
}

static void test_compute_bound(void **st)
{
    (void)st;
    profile_result r;
    run("H100-SXM5-80GB", 0.30, 0.05, 4096, 0.9, &r);
    /* 2g.20gb: 32 of 132 SMs = 0.2424, / 0.30 = 0.808 < 0.9; 3g.40gb: 60/132 > 0.30 */
    assert_float_equal(pred(&r, "2g.20gb")->predicted, 32.0 / 132 / 0.30, 1e-9);
    assert_string_equal(pred(&r, "2g.20gb")->bound, "compute");
    assert_float_equal(pred(&r, "3g.40gb")->predicted, 1.0, 1e-12);
    assert_true(r.recommended >= 0);
    assert_string_equal(r.pred[r.recommended].profile, "3g.40gb");
    assert_false(r.bandwidth_bound);
    /* with a lower target the 2g is enough */
    run("H100-SXM5-80GB", 0.30, 0.05, 4096, 0.8, &r);
    assert_string_equal(r.pred[r.recommended].profile, "2g.20gb");
}

static void test_bandwidth_bound(void **st)
{
    (void)st;
    profile_result r;
    run("H100-SXM5-80GB", 0.10, 0.20, 6144, 0.9, &r);
    /* 1g.10gb: 1/8 of the bandwidth / 0.20 = 0.625; 1g.20gb: 2/8 / 0.2 > 1 and 26/132 > 0.1 */
    assert_float_equal(pred(&r, "1g.10gb")->predicted, 0.625, 1e-12);
    assert_string_equal(pred(&r, "1g.10gb")->bound, "bandwidth");
    assert_string_equal(r.pred[r.recommended].profile, "1g.20gb");
    assert_true(r.bandwidth_bound);
    /* +me variants are not offered: the same slice */
    for (unsigned i = 0; i < r.n; i++)
        assert_null(strchr(r.pred[i].profile, '+'));
}

static void test_memory_and_mig_wrong(void **st)
{
    (void)st;
    profile_result r;
    /* 30 GiB does not fit a 2g.20gb even though its compute would do */
    run("H100-SXM5-80GB", 0.05, 0.05, 30720, 0.9, &r);
    assert_false(pred(&r, "2g.20gb")->fits_memory);
    assert_float_equal(pred(&r, "2g.20gb")->predicted, 0, 0);
    assert_string_equal(pred(&r, "2g.20gb")->bound, "memory");
    assert_string_equal(r.pred[r.recommended].profile, "3g.40gb");
    /* needs nearly the whole card: only the 7g keeps 90%: MIG is wrong */
    run("H100-SXM5-80GB", 0.95, 0.40, 2048, 0.9, &r);
    assert_int_equal(r.recommended, -1);
    assert_non_null(strstr(r.verdict, "MIG is the wrong answer"));
    assert_non_null(strstr(r.verdict, "7g.80gb"));
    char *y = profile_workload_yaml(mig_model_by_name("H100-SXM5-80GB"), &r, "big\"one", "x");
    assert_non_null(y);
    assert_non_null(strstr(y, "name: \"big\\\"one\""));
    assert_non_null(strstr(y, "7g.80gb: 1000, whole: 1000}"));
    free(y);
}

static void test_no_gpm_no_guess(void **st)
{
    (void)st;
    profile_acc a;
    mig_gpu_sample *s = sample(0.5, 0.5, 10);
    s->m[MIG_M_DRAM].st = MIG_MET_UNSUPPORTED;
    profile_begin(&a, NULL);
    profile_add(&a, s);
    profile_result r;
    mig_error e;
    assert_int_equal(profile_predict(mig_model_by_name("H100-SXM5-80GB"), &a, 0.9, &r, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "DRAM bandwidth"));
    profile_begin(&a, NULL);
    profile_add(&a, sample(0, 0.001, 10)); /* never active */
    assert_int_equal(profile_predict(mig_model_by_name("H100-SXM5-80GB"), &a, 0.9, &r, &e), -1);
    assert_non_null(strstr(e.msg, "no activity"));
}

/* ------------------------------------------------------------ exporter */

static void test_route(void **st)
{
    (void)st;
    static const char text[] = "migctl_up 1\n";
    exporter_view v = {.metrics = text, .metrics_len = sizeof text - 1, .up = true, .age = 1,
                       .interval = 5, .last_error = ""};
    exporter_reply r;
    exporter_route(&v, "GET", "/metrics", &r);
    assert_int_equal(r.status, 200);
    assert_ptr_equal(r.body, text);
    assert_non_null(strstr(r.content_type, "version=0.0.4"));
    exporter_route(&v, "HEAD", "/metrics?x=y", &r);
    assert_int_equal(r.status, 200);
    assert_true(r.head);
    exporter_route(&v, "POST", "/metrics", &r);
    assert_int_equal(r.status, 405);
    exporter_route(&v, "GET", "/metricsx", &r);
    assert_int_equal(r.status, 404);
    exporter_route(&v, "GET", "/healthz", &r);
    assert_int_equal(r.status, 200);
    v.age = 100; /* older than 3 intervals + 5 s */
    exporter_route(&v, "GET", "/healthz", &r);
    assert_int_equal(r.status, 503);
    v.up = false;
    v.age = 1;
    exporter_route(&v, "GET", "/healthz", &r);
    assert_int_equal(r.status, 503);
    v.metrics = NULL;
    exporter_route(&v, "GET", "/metrics", &r);
    assert_int_equal(r.status, 503);
    exporter_route(&v, NULL, NULL, &r);
    assert_int_equal(r.status, 405);

    char host[64];
    unsigned port;
    mig_error e;
    assert_int_equal(exporter_parse_listen("127.0.0.1:9400", host, sizeof host, &port, &e), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9400);
    assert_int_equal(exporter_parse_listen("[::1]:0", host, sizeof host, &port, &e), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(exporter_parse_listen(":9400", host, sizeof host, &port, &e), -1);
    assert_int_equal(exporter_parse_listen("h:70000", host, sizeof host, &port, &e), -1);
    assert_int_equal(exporter_parse_listen("9400", host, sizeof host, &port, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
}

/* ------------------------------------------------------------ prometheus */

static unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_prometheus(void **st)
{
    (void)st;
    mig_error e;
    sim_state *s = sim_new("1xH100-SXM5-80GB,1xA100-SXM4-40GB", false, &e);
    assert_non_null(s);
    int act;
    assert_int_equal(sim_set_mode(s, 0, true, &act), 0);
    unsigned gi;
    assert_int_equal(sim_create_gi(s, 0, 9, 4, &gi), 0); /* 3g.40gb@4 */
    unsigned ci;
    assert_int_equal(sim_create_ci(s, 0, gi, 2, 0, &ci), 0);
    assert_int_equal(sim_procs_n(s, 0, (int)gi, -1, true, 1, &e), 0);
    sim_load l = {.sm = 0.25, .dram = 0.5, .memory_bytes = 1ull << 30};
    assert_int_equal(sim_set_load(s, 0, (int)gi, &l, &e), 0);

    metrics_node n = {0};
    n.n = 2;
    n.gpus = calloc(2, sizeof *n.gpus);
    snprintf(n.hostname, sizeof n.hostname, "node\"1");
    for (unsigned i = 0; i < 2; i++) {
        n.gpus[i].st = s->gpus[i];
        n.gpus[i].sampled = true;
        n.gpus[i].drift = -1;
        /* what the sim backend reports */
        sim_fill_sample(s, i, &n.gpus[i].smp);
    }
    size_t len;
    char *t = metrics_prometheus(&n, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    assert_int_equal(count(t, "# HELP DCGM_FI_PROF_SM_ACTIVE "), 1);
    assert_int_equal(count(t, "# TYPE DCGM_FI_PROF_SM_ACTIVE gauge"), 1);
    assert_non_null(strstr(t, "DCGM_FI_PROF_SM_ACTIVE{gpu=\"0\",UUID=\"GPU-"));
    assert_non_null(strstr(t, "Hostname=\"node\\\"1\",GPU_I_PROFILE=\"3g.40gb\",GPU_I_ID=\"" ));
    char want[64];
    snprintf(want, sizeof want, ",GPU_I_ID=\"%u\"} 0.25\n", gi);
    assert_non_null(strstr(t, want));
    assert_non_null(strstr(t, "DCGM_FI_DEV_FB_USED{gpu=\"0\""));
    /* the A100 has no GPM: no activity series for it, its memory is there */
    assert_null(strstr(t, "DCGM_FI_PROF_SM_ACTIVE{gpu=\"1\""));
    assert_non_null(strstr(t, "DCGM_FI_DEV_FB_TOTAL{gpu=\"1\""));
    assert_non_null(strstr(t, "migctl_instance_info{gpu=\"0\","));
    assert_non_null(strstr(t, "placement_start=\"4\",placement_size=\"4\""));
    assert_null(strstr(t, "migctl_gpu_drift{")); /* no desired config */
    free(t);
    free(n.gpus);
    sim_close(s);
}

/* ------------------------------------------------------------ health, file */

static void test_health(void **st)
{
    (void)st;
    mig_health_sample h = {.ecc_known = true, .remap_known = true, .xid_known = true};
    char why[256];
    assert_false(mig_health_bad(&h, why, sizeof why));
    assert_string_equal(why, "");
    h.ecc_sbe_volatile = 5; /* corrected: healthy */
    assert_false(mig_health_bad(&h, why, sizeof why));
    h.xid_count = 2;
    h.xid_last = 79;
    h.ecc_dbe_volatile = 1;
    h.remap_failure = true;
    assert_true(mig_health_bad(&h, why, sizeof why));
    assert_string_equal(why, "Xid 79 (2 critical Xid events); 1 uncorrectable ECC error since "
                             "boot; row remapping failed");
    h.xid_known = h.ecc_known = false; /* unknown is not bad */
    h.remap_failure = false;
    assert_false(mig_health_bad(&h, why, 8));
}

static void test_sim_file(void **st)
{
    (void)st;
    mig_error e;
    sim_state *s = sim_new("2xH100-SXM5-80GB", false, &e);
    assert_non_null(s);
    char *plain = sim_dump(s);
    assert_null(strstr(plain, "telemetry")); /* nothing scripted: the format as before */
    sim_load l = {.sm = 0.5, .occupancy = 0.25, .dram = 0.125, .tensor = 1, .memory_bytes = 3ull << 30};
    assert_int_equal(sim_set_load(s, 1, -1, &l, &e), 0);
    assert_int_equal(sim_set_load(s, 1, 3, &l, &e), -1); /* no such GI */
    sim_inject_xid(s, 0, 48);
    sim_inject_xid(s, 0, 79);
    s->tele[0].ecc_dbe_volatile = 2;
    s->tele[0].remap_pending = true;
    char *text = sim_dump(s);
    sim_state *back = calloc(1, sizeof *back);
    assert_int_equal(sim_parse(text, strlen(text), "t", back, &e), 0);
    assert_true(back->tele[1].gpu.set);
    assert_float_equal(back->tele[1].gpu.sm, 0.5, 0);
    assert_float_equal(back->tele[1].gpu.dram, 0.125, 0);
    assert_int_equal(back->tele[1].gpu.memory_bytes, 3ull << 30);
    assert_int_equal(back->tele[0].xid_total, 2);
    unsigned last;
    assert_int_equal(sim_xids_since(back, 0, 1, &last), 1);
    assert_int_equal(last, 79);
    assert_int_equal(back->tele[0].ecc_dbe_volatile, 2);
    assert_true(back->tele[0].remap_pending);
    char *again = sim_dump(back);
    assert_string_equal(text, again);
    /* load follows processes: none run on GPU 1 yet */
    sim_load eff;
    sim_effective_load(back, 1, -1, &eff);
    assert_false(eff.set);
    assert_int_equal(sim_procs_n(back, 1, -1, -1, true, 2, &e), 0);
    sim_effective_load(back, 1, -1, &eff);
    assert_float_equal(eff.sm, 0.5, 0);
    /* bad values are refused with the JSON path */
    static const char *bad[] = {
        "\"telemetry\": [{\"gpu\": 5}]",
        "\"telemetry\": [{\"gpu\": 0, \"load\": {\"sm\": 1.5}}]",
        "\"telemetry\": [{\"gpu\": 0, \"gi_load\": [{\"gi\": 99}]}]",
        "\"telemetry\": [{\"gpu\": 0, \"xid\": {\"total\": 1, \"recent\": [1, 2]}}]",
        "\"telemetry\": {}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc,
                 "{\"version\": 1, \"gpus\": [{\"model\": \"H100-SXM5-80GB\"}], %s}", bad[i]);
        assert_int_equal(sim_parse(doc, strlen(doc), "bad.json", back, &e), -1);
        assert_int_equal(e.kind, MIG_ERR_INPUT);
        assert_non_null(strstr(e.msg, "bad.json"));
    }
    free(plain);
    free(text);
    free(again);
    free(back);
    sim_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compute_bound),   cmocka_unit_test(test_bandwidth_bound),
        cmocka_unit_test(test_memory_and_mig_wrong), cmocka_unit_test(test_no_gpm_no_guess),
        cmocka_unit_test(test_route),           cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_health),          cmocka_unit_test(test_sim_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
