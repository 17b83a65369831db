/*
 * test_profile_name.c: the profile-name grammar (model/profile_name.h):
 * round trips over every name the catalogue holds, rejections with the
 * character position they name, "@start" references, NVIDIA's derivation
 * rule on hand-worked cases, and resolution against a model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/catalogue.h"
#include "model/profile_name.h"

static mig_profile_name parse_ok(const char *text)
{
    mig_profile_name n;
    mig_error e = {0};
    if (mig_profile_name_parse(text, &n, &e) != 0)
        fail_msg("parse '%s': %s", text, e.msg);
    return n;
}

static void expect_format(const char *text, const char *canonical)
{
    mig_profile_name n = parse_ok(text);
    char buf[64];
    int len = mig_profile_name_format(&n, buf, sizeof buf);
    assert_int_equal(len, (int)strlen(canonical));
    assert_string_equal(buf, canonical);
}

/* Rejected with MIG_ERR_INPUT; the message names the text and contains `what`. */
static void expect_reject(const char *text, const char *what)
{
    mig_profile_name n;
    mig_error e = {0};
    if (mig_profile_name_parse(text, &n, &e) == 0)
        fail_msg("'%s' was accepted", text);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    if (!strstr(e.msg, what))
        fail_msg("'%s': message '%s' lacks '%s'", text, e.msg, what);
    assert_null(strchr(e.msg, '\n'));
}

static void test_fields(void **state)
{
    (void)state;
    mig_profile_name n = parse_ok("1c.3g.40gb");
    assert_int_equal(n.ci_slices, 1);
    assert_int_equal(n.gi_slices, 3);
    assert_int_equal(n.mem_gb, 40);
    assert_int_equal(n.attr, MIG_ATTR_NONE);
    n = parse_ok("7g.141gb");
    assert_int_equal(n.ci_slices, 0);
    assert_int_equal(n.gi_slices, 7);
    assert_int_equal(n.mem_gb, 141);
    assert_int_equal(parse_ok("1g.10gb+me").attr, MIG_ATTR_ME);
    assert_int_equal(parse_ok("1g.24gb+me.all").attr, MIG_ATTR_ME_ALL);
    assert_int_equal(parse_ok("1g.24gb-me").attr, MIG_ATTR_NO_ME);
    assert_int_equal(parse_ok("4g.96gb+gfx").attr, MIG_ATTR_GFX);
    assert_int_equal(parse_ok("MIG 2g.20gb").gi_slices, 2);
    assert_int_equal(parse_ok("1g.0gb").mem_gb, 0); /* Thor's unified-memory names */
}

static void test_canonical_form(void **state)
{
    (void)state;
    expect_format("MIG 1c.3g.40gb", "1c.3g.40gb");
    expect_format("3G.40GB", "3g.40gb");
    expect_format("mig 1g.10gb+ME", "1g.10gb+me");
    expect_format("1g.24gb+me.all", "1g.24gb+me.all");
    assert_string_equal(mig_attr_suffix(MIG_ATTR_NONE), "");
    assert_string_equal(mig_attr_suffix(MIG_ATTR_ME), "+me");
    assert_string_equal(mig_attr_suffix(MIG_ATTR_ME_ALL), "+me.all");
    assert_string_equal(mig_attr_suffix(MIG_ATTR_NO_ME), "-me");
    assert_string_equal(mig_attr_suffix(MIG_ATTR_GFX), "+gfx");
}

/* Every GI and CI name in the catalogue parses and prints back unchanged. */
static void test_round_trip_catalogue(void **state)
{
    (void)state;
    unsigned n, names = 0;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < all[i].n_profiles; k++) {
            const mig_gi_profile *gi = &all[i].profiles[k];
            expect_format(gi->name, gi->name);
            mig_ci_profile cis[MIG_MAX_CI_PROFILES];
            unsigned nc = mig_ci_profiles(&all[i], gi, cis);
            for (unsigned q = 0; q < nc; q++, names++)
                expect_format(cis[q].name, cis[q].name);
            char with_prefix[64];
            snprintf(with_prefix, sizeof with_prefix, "MIG %s", gi->name);
            expect_format(with_prefix, gi->name);
        }
    assert_true(names > 100);
}

static void test_rejections(void **state)
{
    (void)state;
    /* The issue's own example, word for word. */
    mig_profile_name n;
    mig_error e = {0};
    assert_int_equal(mig_profile_name_parse("3g.40b", &n, &e), -1);
    assert_string_equal(e.msg, "bad profile name '3g.40b': expected 'gb' at character 5");

    expect_reject("", "empty");
    expect_reject("3g", "expected '.' at character 2");
    expect_reject("3g.", "expected a number at character 3");
    expect_reject("3g.40", "expected 'gb' at character 5");
    expect_reject("g.40gb", "expected a number at character 0");
    expect_reject("3x.40gb", "expected 'g' or 'c' at character 1");
    expect_reject("1c3g.40gb", "expected '.' after the compute-instance part at character 2");
    expect_reject("1c.3x.40gb", "expected 'g' at character 4");
    expect_reject("0g.10gb", "at least 1 at character 0");
    expect_reject("1c.0g.10gb", "at least 1 at character 3");
    expect_reject("4c.3g.40gb", "compute slices exceed");
    expect_reject("3g.40gb+", "at character 7");
    expect_reject("3g.40gb+mee", "+me, +me.all, -me, +gfx at character 7");
    expect_reject("3g.40gb+me.al", "at character 7");
    expect_reject("3g.40gb ", "at character 7");
    expect_reject(" 3g.40gb", "at character 0");
    expect_reject("MIG3g.40gb", "at character 0");
    expect_reject("MIG 3g.40gbx", "at character 11");
    expect_reject("99999g.1gb", "too large");
    expect_reject("3g.99999999999999999999gb", "too large");
    expect_reject("3g.40gb\n", "at character 7");
    /* Unprintable bytes never reach the message. */
    expect_reject("3g.\x01gb", "'3g.?gb'");
    assert_int_equal(mig_profile_name_parse(NULL, &n, &e), -1);
}

static void test_refs(void **state)
{
    (void)state;
    char prof[32];
    int start = 99;
    mig_error e = {0};
    assert_int_equal(mig_profile_ref_parse("3g.40gb@4", prof, sizeof prof, &start, &e), 0);
    assert_string_equal(prof, "3g.40gb");
    assert_int_equal(start, 4);
    assert_int_equal(mig_profile_ref_parse("1c.7g.80gb", prof, sizeof prof, &start, &e), 0);
    assert_string_equal(prof, "1c.7g.80gb");
    assert_int_equal(start, -1);
    assert_int_equal(mig_profile_ref_parse("1g.24gb@9", prof, sizeof prof, &start, &e), 0);
    assert_int_equal(start, 9);

    static const struct {
        const char *text, *what;
    } bad[] = {
        {"3g.40gb@", "expected a start slice after '@' at character 8"},
        {"3g.40gb@x", "at character 8"},
        {"3g.40gb@4x", "unexpected 'x' at character 9"},
        {"3g.40gb@4@4", "unexpected '@' at character 9"},
        {"@4", "no profile name"},
        {"", "empty"},
        {"3g.40b@4", "expected 'gb' at character 5"},
        {"3g.40gb@99999999999", "too large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e = (mig_error){0};
        if (mig_profile_ref_parse(bad[i].text, prof, sizeof prof, &start, &e) == 0)
            fail_msg("'%s' accepted", bad[i].text);
        assert_int_equal(e.kind, MIG_ERR_INPUT);
        if (!strstr(e.msg, bad[i].what))
            fail_msg("'%s': '%s' lacks '%s'", bad[i].text, e.msg, bad[i].what);
    }
    /* A profile part longer than the caller's buffer is an error, not a cut. */
    char tiny[4];
    assert_int_equal(mig_profile_ref_parse("3g.40gb@4", tiny, sizeof tiny, &start, &e), -1);
}

/* go-nvlib's rule worked by hand: fraction rounded up to eighths, times the
 * total rounded up to whole GiB, rounded half away from zero. */
static void test_derive(void **state)
{
    (void)state;
    char buf[32];
    const unsigned long long gib = 1ULL << 30;
    /* 80 GiB card, 10 GiB slice: 1/8 x 80 = 10. */
    mig_profile_name_derive(1, 10 * 1024, 80 * gib, MIG_ATTR_NONE, buf, sizeof buf);
    assert_string_equal(buf, "1g.10gb");
    /* 9.9 GiB on 79.9 GiB: 0.1239 -> 1/8; ceil(79.9) = 80 -> 10. */
    mig_profile_name_derive(1, 10138, 85791121408ULL, MIG_ATTR_ME, buf, sizeof buf);
    assert_string_equal(buf, "1g.10gb+me");
    /* Just over 1/8 goes up to 2/8: 10.1 GiB on 80 GiB -> 20. */
    mig_profile_name_derive(1, 10343, 80 * gib, MIG_ATTR_NONE, buf, sizeof buf);
    assert_string_equal(buf, "1g.20gb");
    /* 4/8 of 141 = 70.5 rounds up to 71 (not to even). */
    mig_profile_name_derive(3, 70 * 1024, 141 * gib, MIG_ATTR_NONE, buf, sizeof buf);
    assert_string_equal(buf, "3g.71gb");
    /* 1/8 of 94 = 11.75 -> 12; 2/8 of 94 = 23.5 -> 24. */
    mig_profile_name_derive(1, 11 * 1024, 94 * gib, MIG_ATTR_NONE, buf, sizeof buf);
    assert_string_equal(buf, "1g.12gb");
    mig_profile_name_derive(2, 22 * 1024, 94 * gib, MIG_ATTR_NO_ME, buf, sizeof buf);
    assert_string_equal(buf, "2g.24gb-me");
    /* Degenerate inputs give a name, never a crash. */
    mig_profile_name_derive(1, 1024, 0, MIG_ATTR_NONE, buf, sizeof buf);
    assert_string_equal(buf, "1g.0gb");
    mig_profile_name_derive(1, ~0ULL, 1, MIG_ATTR_NONE, buf, sizeof buf);
    assert_string_equal(buf, "1g.0gb");
    mig_profile_name_derive(7, 81152, 85520809984ULL, MIG_ATTR_NONE, buf, 4);
    assert_string_equal(buf, "7g.");
}

static void test_resolve(void **state)
{
    (void)state;
    const mig_model *h = mig_model_by_name("H100-SXM5-80GB");
    const mig_gi_profile *gi;
    mig_ci_profile ci;
    mig_error e = {0};

    mig_profile_name n = parse_ok("1c.3g.40gb");
    assert_int_equal(mig_profile_resolve(h, &n, &gi, &ci, &e), 0);
    assert_string_equal(gi->name, "3g.40gb");
    assert_int_equal(ci.id, 0);
    assert_int_equal(ci.compute_slices, 1);

    n = parse_ok("MIG 3g.40gb");
    assert_int_equal(mig_profile_resolve(h, &n, &gi, &ci, &e), 0);
    assert_int_equal(gi->id, 9);
    assert_true(ci.is_default);
    assert_int_equal(ci.compute_slices, 3);

    n = parse_ok("7c.7g.80gb"); /* spelled-out full CI = the default */
    assert_int_equal(mig_profile_resolve(h, &n, &gi, &ci, &e), 0);
    assert_int_equal(ci.id, 4);

    n = parse_ok("1g.20gb"); /* double memory: default CI profile 7 */
    assert_int_equal(mig_profile_resolve(h, &n, &gi, &ci, &e), 0);
    assert_int_equal(gi->id, 15);
    assert_int_equal(ci.id, 7);

    n = parse_ok("3c.4g.40gb");
    assert_int_equal(mig_profile_resolve(h, &n, &gi, &ci, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "3c.4g.40gb"));
    assert_non_null(strstr(e.msg, "1c.4g.40gb, 2c.4g.40gb, 4g.40gb"));

    n = parse_ok("3g.41gb");
    assert_int_equal(mig_profile_resolve(h, &n, &gi, &ci, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "'3g.41gb'"));
    assert_non_null(strstr(e.msg, "H100-SXM5-80GB"));
    for (unsigned k = 0; k < h->n_profiles; k++)
        assert_non_null(strstr(e.msg, h->profiles[k].name));

    const mig_model *rtx = mig_model_by_name("RTX-PRO-6000-96GB");
    n = parse_ok("1g.24gb+me.all");
    assert_int_equal(mig_profile_resolve(rtx, &n, &gi, &ci, &e), 0);
    assert_int_equal(gi->id, 65);
    n = parse_ok("1g.24gb+me.all");
    assert_int_equal(mig_profile_resolve(h, &n, &gi, &ci, &e), -1);

    /* Every catalogue name resolves to itself on its own model. */
    unsigned nm;
    const mig_model *all = mig_catalogue(&nm);
    for (unsigned i = 0; i < nm; i++)
        for (unsigned k = 0; k < all[i].n_profiles; k++) {
            n = parse_ok(all[i].profiles[k].name);
            assert_int_equal(mig_profile_resolve(&all[i], &n, &gi, &ci, &e), 0);
            assert_ptr_equal(gi, &all[i].profiles[k]);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_canonical_form),
        cmocka_unit_test(test_round_trip_catalogue),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
