/*
 * test_advise.c: the planner's decisions. Expected profiles come from the
 * hardware tables (reference/mig-profiles.md section 2): 12 GB is 11,445 MiB,
 * more than an H100 1g.10gb (9,984 MiB) and less than an H200 1g.18gb
 * (16,384 MiB); 78 GB is 74,388 MiB, more than any partial slice of either.
 * Hard rules: p2p never MIG or MPS, isolation: required never MPS, checked
 * over many random workloads on every catalogue model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan/advise.h"

static adv_decision decide(const char *yaml_item, const char *model)
{
    char y[2048];
    snprintf(y, sizeof y, "workloads:\n  - %s\n", yaml_item);
    wl_file wf;
    mig_error e = {0};
    if (wl_parse_string(y, strlen(y), "t.yaml", &wf, &e) < 0)
        fail_msg("%s", e.msg);
    const mig_model *m = mig_model_by_name(model);
    assert_non_null(m);
    adv_decision d;
    advise_one(&wf.items[0], m, &d);
    wl_free(&wf);
    return d;
}

static void expect(const char *item, const char *model, adv_kind kind, const char *profile)
{
    adv_decision d = decide(item, model);
    if (d.kind != kind || strcmp(adv_profile_name(&d), profile))
        fail_msg("%s on %s: got %s %s (%s), expected %s %s", item, model, adv_kind_name(d.kind),
                 adv_profile_name(&d), d.reason, adv_kind_name(kind), profile);
    assert_true(strlen(d.reason) > 10);
}

static void test_field_guide_h100_h200(void **state)
{
    (void)state;
    const char *infer = "{name: i, memory: 12GB, compute: 1/7, isolation: required}";
    expect(infer, "H100-SXM5-80GB", ADV_MIG, "1g.20gb");
    expect(infer, "H200-SXM-141GB", ADV_MIG, "1g.18gb");
    const char *ft = "{name: f, memory: 30GiB, compute: 3/7}";
    expect(ft, "H100-SXM5-80GB", ADV_MIG, "3g.40gb");
    expect(ft, "H200-SXM-141GB", ADV_MIG, "3g.71gb");
    const char *train = "{name: t, memory: 78GB}";
    expect(train, "H100-SXM5-80GB", ADV_WHOLE, "whole");
    expect(train, "H200-SXM-141GB", ADV_WHOLE, "whole");
    const char *llama = "{name: l, memory: 38GiB, throughput: {4g.40gb: 200, whole: 1000}}";
    expect(llama, "H100-SXM5-80GB", ADV_WHOLE, "whole");
    adv_decision d = decide(llama, "H100-SXM5-80GB");
    assert_non_null(strstr(d.reason, "1000"));
    assert_non_null(strstr(d.reason, "200"));
}

static void test_memory_beyond_card_unplaced(void **state)
{
    (void)state;
    expect("{name: x, memory: 200GB}", "H100-SXM5-80GB", ADV_UNPLACED, "-");
    /* 141 GB fits an H200 as a whole card, not an H100 */
    expect("{name: x, memory: 130GiB}", "H200-SXM-141GB", ADV_WHOLE, "whole");
    expect("{name: x, memory: 130GiB}", "H100-SXM5-80GB", ADV_UNPLACED, "-");
    /* SMs beyond the card (an H100 SXM5 has 132) cannot be placed either */
    expect("{name: x, sms: 132}", "H100-SXM5-80GB", ADV_WHOLE, "whole");
    expect("{name: x, sms: 200}", "H100-SXM5-80GB", ADV_UNPLACED, "-");
    expect("{name: x, sms: 140}", "B200-180GB", ADV_WHOLE, "whole");
    adv_decision d = decide("{name: x, sms: 200, p2p: true}", "H100-SXM5-80GB");
    assert_int_equal(d.kind, ADV_UNPLACED);
    assert_non_null(strstr(d.reason, "200 SMs"));
}

static void test_p2p_and_gangs_whole(void **state)
{
    (void)state;
    expect("{name: p, p2p: true, memory: 1GiB}", "H100-SXM5-80GB", ADV_WHOLE, "whole");
    expect("{name: p, p2p: true, profile: 1g.10gb}", "H100-SXM5-80GB", ADV_WHOLE, "whole");
    adv_decision d = decide("{name: g, gpus: 4}", "H200-SXM-141GB");
    assert_int_equal(d.kind, ADV_WHOLE);
    assert_int_equal(d.gpus, 4);
}

static void test_sizes_and_units(void **state)
{
    (void)state;
    expect("{name: a, memory: 8GiB}", "H100-SXM5-80GB", ADV_MIG, "1g.10gb");
    expect("{name: a, memory: 9984MiB}", "H100-SXM5-80GB", ADV_MIG, "1g.10gb");
    expect("{name: a, memory: 9985MiB}", "H100-SXM5-80GB", ADV_MIG, "1g.20gb");
    expect("{name: a, compute: 25%}", "H100-SXM5-80GB", ADV_MIG, "2g.20gb");
    expect("{name: a, compute: 0.5}", "H100-SXM5-80GB", ADV_MIG, "4g.40gb");
    expect("{name: a, sms: 30}", "H100-SXM5-80GB", ADV_MIG, "2g.20gb");  /* 2g has 32 SMs */
    expect("{name: a, sms: 61}", "H100-SXM5-80GB", ADV_MIG, "4g.40gb");  /* 3g has 60 */
    expect("{name: a, compute: 1}", "H100-SXM5-80GB", ADV_WHOLE, "whole");
    expect("{name: a, memory: 12GB}", "A30-24GB", ADV_MIG, "2g.12gb");
}

static void test_throughput_slices_win(void **state)
{
    (void)state;
    /* 7 x 1g.10gb at 200 = 1400 per GPU beats 1000 on the card */
    expect("{name: s, memory: 8GiB, throughput: {1g.10gb: 200, whole: 1000}}", "H100-SXM5-80GB",
           ADV_MIG, "1g.10gb");
    /* figures keyed by the full profile count as the card */
    expect("{name: s, memory: 8GiB, throughput: {1g.10gb: 100, 7g.80gb: 1000}}",
           "H100-SXM5-80GB", ADV_WHOLE, "whole");
}

static void test_bandwidth_bound(void **state)
{
    (void)state;
    /* 7 x 1g.10gb get 7/8 of the HBM bandwidth, 4 x 1g.20gb get 8/8 */
    expect("{name: b, memory: 8GiB, bandwidth-bound: true}", "H100-SXM5-80GB", ADV_MIG, "1g.20gb");
    expect("{name: b, memory: 12GB, bandwidth-bound: true}", "H100-SXM5-80GB", ADV_MIG, "1g.20gb");
    /* 2 of 7 compute slices: 3 x 2g get 6/8, 2 x 3g get 8/8 */
    expect("{name: b, compute: 2/7, bandwidth-bound: true}", "H100-SXM5-80GB", ADV_MIG, "3g.40gb");
    /* half the compute: only 4g.40gb holds it, 1 per GPU, 4/8: the card wins */
    expect("{name: b, compute: 0.5, bandwidth-bound: true}", "H100-SXM5-80GB", ADV_WHOLE, "whole");
    expect("{name: b, compute: 0.5}", "H100-SXM5-80GB", ADV_MIG, "4g.40gb");
}

static void test_media(void **state)
{
    (void)state;
    expect("{name: v, memory: 8GiB, media: true}", "H100-SXM5-80GB", ADV_MIG, "1g.10gb+me");
    /* no +me profile holds 15 GiB: the smallest slice with decoders */
    expect("{name: v, memory: 15GiB, media: true}", "H100-SXM5-80GB", ADV_MIG, "1g.20gb");
    /* rule 4 judges a media workload on the slices rule 6 may give it: the
     * one 1g.10gb+me per GPU gets 1/8 of the bandwidth (not 4x 1g.20gb, no
     * +me), and 200 per GPU (not 7x 1g.10gb = 1400), so the card wins */
    expect("{name: v, memory: 8GB, media: true, bandwidth-bound: true}", "H100-SXM5-80GB",
           ADV_WHOLE, "whole");
    expect("{name: v, memory: 8GB, media: true, bandwidth-bound: true}", "RTX-PRO-6000-96GB",
           ADV_WHOLE, "whole");
    expect("{name: v, memory: 8GB, media: true, throughput: {1g.10gb: 200, 1g.10gb+me: 200, "
           "whole: 1000}}", "H100-SXM5-80GB", ADV_WHOLE, "whole");
    /* without media the same figures and bandwidth favour the slices */
    expect("{name: v, memory: 8GB, throughput: {1g.10gb: 200, whole: 1000}}", "H100-SXM5-80GB",
           ADV_MIG, "1g.10gb");
    expect("{name: v, memory: 8GB, bandwidth-bound: true}", "H100-SXM5-80GB", ADV_MIG, "1g.20gb");
    /* every MIG decision for a media workload has media engines */
    expect("{name: v, memory: 15GiB, media: true, bandwidth-bound: true}", "H100-SXM5-80GB",
           ADV_MIG, "1g.20gb");
}

static void test_mps(void **state)
{
    (void)state;
    const char *nb = "{name: n, replicas: 10, memory: 6GiB, compute: 20%%, isolation: %s}";
    char y[256];
    snprintf(y, sizeof y, nb, "none");
    expect(y, "H100-SXM5-80GB", ADV_MPS, "mps");
    snprintf(y, sizeof y, nb, "preferred"); /* 2 GPUs instead of 4: saves half */
    expect(y, "H100-SXM5-80GB", ADV_MPS, "mps");
    snprintf(y, sizeof y, nb, "required");
    expect(y, "H100-SXM5-80GB", ADV_MIG, "2g.20gb");
    /* one replica: MPS saves nothing */
    expect("{name: n, memory: 6GiB, compute: 20%, isolation: none}", "H100-SXM5-80GB", ADV_MIG,
           "2g.20gb");
    /* no compute given: no MPS share can be sized */
    expect("{name: n, replicas: 10, memory: 6GiB, isolation: none}", "H100-SXM5-80GB", ADV_MIG,
           "1g.10gb");
}

static void test_pinned(void **state)
{
    (void)state;
    expect("{name: p, profile: 3g.40gb}", "H100-SXM5-80GB", ADV_MIG, "3g.40gb");
    adv_decision d = decide("{name: p, profile: 3g.40gb}", "H200-SXM-141GB");
    assert_int_equal(d.kind, ADV_UNPLACED);
    assert_non_null(strstr(d.reason, "does not exist"));
    expect("{name: p, profile: 1g.10gb, memory: 12GB}", "H100-SXM5-80GB", ADV_UNPLACED, "-");
}

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static void test_hard_rules_random(void **state)
{
    (void)state;
    unsigned n_models;
    const mig_model *cat = mig_catalogue(&n_models);
    unsigned seed = 31337;
    const char *iso[] = {"none", "preferred", "required"};
    for (int t = 0; t < 3000; t++) {
        char y[512];
        bool p2p = lcg(&seed) % 4 == 0;
        unsigned isoi = lcg(&seed) % 3;
        snprintf(y, sizeof y,
                 "{name: r, replicas: %u, memory: %uMiB, compute: %u%%, isolation: %s, p2p: %s, "
                 "media: %s, bandwidth-bound: %s}",
                 1 + lcg(&seed) % 50, 1 + lcg(&seed) * 7 % 200000, 1 + lcg(&seed) % 100, iso[isoi],
                 p2p ? "true" : "false", lcg(&seed) % 5 ? "false" : "true",
                 lcg(&seed) % 4 ? "false" : "true");
        const mig_model *m = &cat[lcg(&seed) % n_models];
        adv_decision d = decide(y, m->name);
        if (p2p)
            assert_true(d.kind == ADV_WHOLE || d.kind == ADV_UNPLACED);
        if (isoi == 2)
            assert_true(d.kind != ADV_MPS);
        if (d.kind == ADV_MIG) {
            assert_true(d.profile >= 0 && (unsigned)d.profile < m->n_profiles);
            assert_true(d.per_gpu >= 1);
        }
        if (d.kind == ADV_MPS)
            assert_true(d.per_gpu >= 2 && d.compute_share <= 0.5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_guide_h100_h200),
        cmocka_unit_test(test_memory_beyond_card_unplaced),
        cmocka_unit_test(test_p2p_and_gangs_whole),
        cmocka_unit_test(test_sizes_and_units),
        cmocka_unit_test(test_throughput_slices_win),
        cmocka_unit_test(test_bandwidth_bound),
        cmocka_unit_test(test_media),
        cmocka_unit_test(test_mps),
        cmocka_unit_test(test_pinned),
        cmocka_unit_test(test_hard_rules_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
