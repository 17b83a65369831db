/*
 * test_layout.c: the layout geometry (model/layout.h) against the driver's
 * rules as reference/mig-profiles.md states them.
 *
 * The enumeration of maximal layouts is checked, for every catalogue model
 * and several profile sets, against a brute force written here from the
 * rules alone: it generates every valid set of placements (intervals checked
 * pairwise, counts and engine rules counted by hand), keeps those to which no
 * placement can be added, and compares the two collections as sets. The
 * published counts of reference/mig-scheduling.md section 1 (19 / 78 maximal,
 * 297 / 722 valid on 8-slice GPUs) are then checked against the brute force,
 * so the expected numbers never come from the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/catalogue.h"
#include "model/layout.h"
#include "util/nvml_rc.h"

/* ------------------------------------------------------------------ helpers */

static const mig_model *model(const char *name)
{
    const mig_model *m = mig_model_by_name(name);
    if (!m)
        fail_msg("model %s missing from the catalogue", name);
    return m;
}

static unsigned pos_of(const mig_model *m, const char *profile)
{
    const mig_gi_profile *p = mig_profile_by_name(m, profile);
    if (!p)
        fail_msg("%s has no profile %s", m->name, profile);
    return (unsigned)mig_profile_pos(m, p);
}

/* Position of the first profile with these slice counts and attribute. */
static int pos_by_shape(const mig_model *m, unsigned compute, unsigned memory, mig_attr attr)
{
    for (unsigned i = 0; i < m->n_profiles; i++)
        if (m->profiles[i].compute_slices == compute && m->profiles[i].memory_slices == memory &&
            m->profiles[i].attr == attr)
            return (int)i;
    return -1;
}

static mig_layout parse_ok(const mig_model *m, const char *text)
{
    mig_layout l;
    mig_error e = {0};
    if (layout_parse(m, text, &l, &e) != 0)
        fail_msg("%s: parse '%s': %s", m->name, text, e.msg);
    return l;
}

/* ------------------------------------------------------------ brute force */

typedef struct {
    unsigned profile, start;
} place;

typedef struct {
    const mig_model *m;
    const bool *allowed;
    unsigned n_places;
    place places[MIG_MAX_PROFILES * MIG_MAX_STARTS];
    unsigned n_valid;   /* every valid set, the empty one included */
    unsigned n_maximal;
    char (*keys)[128];  /* keys of the maximal sets */
    unsigned keys_cap;
} brute;

static bool intervals_meet(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

/* Could placement c join the set chosen[0..n) (which is valid)? Written from
 * the rules without sharing code with model/layout.c. */
static bool brute_can_join(const brute *b, const place *chosen, unsigned n, place c)
{
    const mig_model *m = b->m;
    const mig_gi_profile *pc = &m->profiles[c.profile];
    if (n + 1 > m->max_gis)
        return false;
    unsigned same = 1;
    for (unsigned i = 0; i < n; i++) {
        const mig_gi_profile *pi = &m->profiles[chosen[i].profile];
        if (intervals_meet(chosen[i].start, pi->memory_slices, c.start, pc->memory_slices))
            return false;
        same += chosen[i].profile == c.profile;
        /* +me.all tolerates only -me neighbours, in either order of creation. */
        if (pi->attr == MIG_ATTR_ME_ALL && pc->attr != MIG_ATTR_NO_ME)
            return false;
        if (pc->attr == MIG_ATTR_ME_ALL && pi->attr != MIG_ATTR_NO_ME)
            return false;
    }
    return same <= pc->instance_count;
}

static void brute_key(const brute *b, const place *chosen, unsigned n, char *key, size_t len)
{
    /* chosen[] is in placement-list order; sort a copy by start for the key. */
    place s[MIG_MAX_GI + 1];
    memcpy(s, chosen, n * sizeof s[0]);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i + 1; j < n; j++)
            if (s[j].start < s[i].start) {
                place t = s[i];
                s[i] = s[j];
                s[j] = t;
            }
    key[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        size_t used = strlen(key);
        snprintf(key + used, len - used, "%s@%u;", b->m->profiles[s[i].profile].name, s[i].start);
    }
}

static void brute_visit(brute *b, place *chosen, unsigned n, unsigned next)
{
    b->n_valid++;
    bool maximal = true;
    for (unsigned k = 0; k < b->n_places && maximal; k++) {
        bool in = false;
        for (unsigned i = 0; i < n; i++)
            in |= chosen[i].profile == b->places[k].profile && chosen[i].start == b->places[k].start;
        if (!in && brute_can_join(b, chosen, n, b->places[k]))
            maximal = false;
    }
    if (maximal) {
        if (b->n_maximal == b->keys_cap) {
            b->keys_cap = b->keys_cap ? 2 * b->keys_cap : 256;
            b->keys = realloc(b->keys, b->keys_cap * sizeof b->keys[0]);
            assert_non_null(b->keys);
        }
        brute_key(b, chosen, n, b->keys[b->n_maximal++], sizeof b->keys[0]);
    }
    for (unsigned k = next; k < b->n_places; k++)
        if (n < MIG_MAX_GI && brute_can_join(b, chosen, n, b->places[k])) {
            chosen[n] = b->places[k];
            brute_visit(b, chosen, n + 1, k + 1);
        }
}

static void brute_run(brute *b, const mig_model *m, const bool *allowed)
{
    memset(b, 0, sizeof *b);
    b->m = m;
    b->allowed = allowed;
    for (unsigned p = 0; p < m->n_profiles; p++)
        for (unsigned s = 0; allowed[p] && s < m->profiles[p].n_starts; s++)
            b->places[b->n_places++] = (place){p, m->profiles[p].starts[s]};
    place chosen[MIG_MAX_GI + 1];
    brute_visit(b, chosen, 0, 0);
}

/* What the code under test produced, as keys. */
typedef struct {
    const mig_model *m;
    unsigned n;
    char keys[4096][128];
    bool sorted_ok;
} seen_list;

static int collect_keys(const mig_layout *l, void *ctx)
{
    seen_list *s = ctx;
    assert_true(s->n < 4096);
    place p[MIG_MAX_GI + 1];
    for (unsigned i = 0; i < l->n; i++) {
        p[i] = (place){l->gi[i].profile, l->gi[i].start};
        if (i && l->gi[i].start <= l->gi[i - 1].start)
            s->sorted_ok = false;
    }
    brute b = {.m = s->m};
    brute_key(&b, p, l->n, s->keys[s->n++], sizeof s->keys[0]);
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Enumerator and brute force agree as sets; returns the brute force. */
static void compare_with_brute(const mig_model *m, const bool *allowed, brute *b)
{
    static seen_list seen;
    memset(&seen, 0, sizeof seen);
    seen.m = m;
    seen.sorted_ok = true;
    brute_run(b, m, allowed);
    assert_int_equal(layout_enumerate_maximal(m, allowed, collect_keys, &seen), 0);
    assert_true(seen.sorted_ok);
    if (seen.n != b->n_maximal)
        fail_msg("%s: enumerator %u maximal layouts, brute force %u", m->name, seen.n, b->n_maximal);
    qsort(seen.keys, seen.n, sizeof seen.keys[0], cmp_key);
    qsort(b->keys, b->n_maximal, sizeof b->keys[0], cmp_key);
    for (unsigned i = 0; i < seen.n; i++) {
        if (i && strcmp(seen.keys[i], seen.keys[i - 1]) == 0)
            fail_msg("%s: layout %s reported twice", m->name, seen.keys[i]);
        if (strcmp(seen.keys[i], b->keys[i]) != 0)
            fail_msg("%s: enumerator has %s where brute force has %s", m->name, seen.keys[i],
                     b->keys[i]);
    }
}

static void test_enumeration_matches_brute_force_every_model(void **state)
{
    (void)state;
    unsigned n_models;
    const mig_model *all = mig_catalogue(&n_models);
    assert_true(n_models >= 10);
    for (unsigned i = 0; i < n_models; i++) {
        const mig_model *m = &all[i];
        bool base[MIG_MAX_PROFILES], every[MIG_MAX_PROFILES], no_double[MIG_MAX_PROFILES];
        layout_base_profiles(m, base);
        for (unsigned p = 0; p < MIG_MAX_PROFILES; p++) {
            every[p] = p < m->n_profiles;
            no_double[p] = base[p] && !(m->profiles[p].compute_slices == 1 &&
                                        m->profiles[p].memory_slices == 2 && m->memory_slices == 8);
        }
        brute b;
        compare_with_brute(m, base, &b);
        free(b.keys);
        assert_true(b.n_maximal > 0);
        compare_with_brute(m, every, &b);
        free(b.keys);
        compare_with_brute(m, no_double, &b);
        free(b.keys);
    }
}

/* reference/mig-scheduling.md section 1: on A100/H100 base profiles there are
 * 297 valid and 19 maximal layouts without the double-memory 1g, 722 and 78
 * with it. Checked on the brute force, which the enumerator must equal. */
static void test_published_counts(void **state)
{
    (void)state;
    const char *names[] = {"A100-SXM4-40GB", "A100-SXM4-80GB", "H100-SXM5-80GB", "H200-SXM-141GB"};
    for (unsigned k = 0; k < 4; k++) {
        const mig_model *m = model(names[k]);
        bool with[MIG_MAX_PROFILES], without[MIG_MAX_PROFILES];
        layout_base_profiles(m, with);
        memcpy(without, with, sizeof with);
        int dbl = pos_by_shape(m, 1, 2, MIG_ATTR_NONE);
        assert_true(dbl >= 0);
        without[dbl] = false;
        brute b;
        compare_with_brute(m, without, &b);
        free(b.keys);
        /* The published "valid layouts" leave out the empty one. */
        assert_int_equal(b.n_valid - 1, 297);
        assert_int_equal(b.n_maximal, 19);
        compare_with_brute(m, with, &b);
        free(b.keys);
        assert_int_equal(b.n_valid - 1, 722);
        assert_int_equal(b.n_maximal, 78);
    }
}

static int count_visit(const mig_layout *l, void *ctx)
{
    (void)l;
    ++*(unsigned *)ctx;
    return 0;
}

static int stop_at_third(const mig_layout *l, void *ctx)
{
    (void)l;
    return ++*(unsigned *)ctx == 3 ? 42 : 0;
}

static void test_enumeration_stops_and_is_deterministic(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    unsigned n = 0;
    assert_int_equal(layout_enumerate_maximal(m, NULL, stop_at_third, &n), 42);
    assert_int_equal(n, 3);
    static seen_list a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.m = b.m = m;
    layout_enumerate_maximal(m, NULL, collect_keys, &a);
    layout_enumerate_maximal(m, NULL, collect_keys, &b);
    assert_int_equal(a.n, b.n);
    for (unsigned i = 0; i < a.n; i++)
        assert_string_equal(a.keys[i], b.keys[i]);
    /* NULL means the base profiles. */
    bool base[MIG_MAX_PROFILES];
    layout_base_profiles(m, base);
    unsigned with_null = 0, with_base = 0;
    layout_enumerate_maximal(m, NULL, count_visit, &with_null);
    layout_enumerate_maximal(m, base, count_visit, &with_base);
    assert_int_equal(with_null, with_base);
}

static void test_base_profiles(void **state)
{
    (void)state;
    unsigned n_models;
    const mig_model *all = mig_catalogue(&n_models);
    for (unsigned i = 0; i < n_models; i++) {
        bool base[MIG_MAX_PROFILES];
        layout_base_profiles(&all[i], base);
        for (unsigned p = 0; p < all[i].n_profiles; p++) {
            const char *name = all[i].profiles[p].name;
            bool variant = strchr(name, '+') || strchr(name, '-');
            assert_int_equal(base[p], !variant);
        }
        for (unsigned p = all[i].n_profiles; p < MIG_MAX_PROFILES; p++)
            assert_false(base[p]);
    }
}

/* ------------------------------------------------------ fits and capacity */

/* A small deterministic generator, so failures reproduce. */
static unsigned rng_next(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(*s >> 33);
}

/* Independent fit check (the same rules as brute_can_join plus the list). */
static bool reference_fits(const mig_model *m, const mig_layout *l, unsigned pos, unsigned start)
{
    bool listed = false;
    for (unsigned i = 0; i < m->profiles[pos].n_starts; i++)
        listed |= m->profiles[pos].starts[i] == start;
    if (!listed)
        return false;
    place chosen[MIG_MAX_GI];
    for (unsigned i = 0; i < l->n; i++)
        chosen[i] = (place){l->gi[i].profile, l->gi[i].start};
    brute b = {.m = m};
    return brute_can_join(&b, chosen, l->n, (place){pos, start});
}

static mig_layout random_layout(const mig_model *m, unsigned long long *seed)
{
    mig_layout l = {0};
    unsigned tries = rng_next(seed) % 12;
    for (unsigned t = 0; t < tries; t++) {
        unsigned pos = rng_next(seed) % m->n_profiles;
        const mig_gi_profile *p = &m->profiles[pos];
        unsigned start = p->starts[rng_next(seed) % p->n_starts];
        if (layout_fits(m, &l, pos, start) == MIG_FIT_OK)
            layout_add(&l, pos, start);
    }
    return l;
}

static void test_random_layouts_fits_and_remaining(void **state)
{
    (void)state;
    unsigned n_models;
    const mig_model *all = mig_catalogue(&n_models);
    unsigned long long seed = 12345;
    for (unsigned mi = 0; mi < n_models; mi++) {
        const mig_model *m = &all[mi];
        for (unsigned round = 0; round < 300; round++) {
            mig_layout l = random_layout(m, &seed);
            unsigned bad = 99;
            assert_int_equal(layout_check(m, &l, &bad), MIG_FIT_OK);
            for (unsigned pos = 0; pos < m->n_profiles; pos++) {
                const mig_gi_profile *p = &m->profiles[pos];
                unsigned ok = 0;
                for (unsigned start = 0; start < MIG_MAX_SLOTS + 2; start++) {
                    mig_fit f = layout_fits(m, &l, pos, start);
                    if ((f == MIG_FIT_OK) != reference_fits(m, &l, pos, start))
                        fail_msg("%s: %s@%u: fits says %s", m->name, p->name, start, mig_fit_text(f));
                    ok += f == MIG_FIT_OK;
                }
                unsigned cap = p->instance_count - layout_count(&l, pos);
                unsigned slots = m->max_gis - l.n;
                unsigned expect = ok < cap ? ok : cap;
                expect = expect < slots ? expect : slots;
                assert_int_equal(layout_remaining(m, &l, pos), expect);
                /* Creation then allows exactly that many, placed automatically. */
                mig_layout grown = l;
                unsigned made = 0;
                int start;
                while ((start = layout_auto_start(m, &grown, pos)) >= 0) {
                    assert_int_equal(layout_fits(m, &grown, pos, (unsigned)start), MIG_FIT_OK);
                    layout_add(&grown, pos, (unsigned)start);
                    made++;
                }
                assert_int_equal(made, expect);
                assert_int_equal(layout_remaining(m, &grown, pos), 0);
            }
        }
    }
}

static void test_fit_reasons_and_codes(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    unsigned g3 = pos_of(m, "3g.40gb"), g1 = pos_of(m, "1g.10gb"), me = pos_of(m, "1g.10gb+me");
    mig_layout l = parse_ok(m, "3g.40gb@4");
    assert_int_equal(layout_fits(m, &l, g3, 2), MIG_FIT_BAD_PLACEMENT);
    assert_int_equal(layout_fits(m, &l, g3, 4), MIG_FIT_OVERLAP);
    assert_int_equal(layout_fits(m, &l, g1, 7), MIG_FIT_BAD_PLACEMENT); /* slice 7 has no compute */
    assert_int_equal(layout_fits(m, &l, g3, 0), MIG_FIT_OK);
    assert_int_equal(layout_fits(m, &l, m->n_profiles, 0), MIG_FIT_BAD_PLACEMENT);
    layout_add(&l, me, 0);
    assert_int_equal(layout_fits(m, &l, me, 1), MIG_FIT_CAP);
    assert_int_equal(layout_remaining(m, &l, me), 0);
    assert_int_equal(mig_fit_nvml_rc(MIG_FIT_OK), NVML_SUCCESS);
    assert_int_equal(mig_fit_nvml_rc(MIG_FIT_BAD_PLACEMENT), NVML_ERROR_INVALID_ARGUMENT);
    for (mig_fit f = MIG_FIT_OVERLAP; f <= MIG_FIT_NO_ROOM; f++) {
        assert_int_equal(mig_fit_nvml_rc(f), NVML_ERROR_INSUFFICIENT_RESOURCES);
        assert_true(strlen(mig_fit_text(f)) > 5);
    }
    /* layout_check names the first GI that does not fit. */
    mig_layout bad = {0};
    layout_add(&bad, g3, 0);
    layout_add(&bad, g1, 5);
    layout_add(&bad, g1, 2);
    unsigned at = 99;
    assert_int_equal(layout_check(m, &bad, &at), MIG_FIT_OVERLAP);
    assert_int_equal(at, 2);
}

static void test_engine_exclusivity(void **state)
{
    (void)state;
    const mig_model *m = model("RTX-PRO-6000-96GB");
    int all_me = pos_by_shape(m, 1, 3, MIG_ATTR_ME_ALL), no_me = pos_by_shape(m, 1, 3, MIG_ATTR_NO_ME);
    int plain = pos_by_shape(m, 1, 3, MIG_ATTR_NONE), two_no_me = pos_by_shape(m, 2, 6, MIG_ATTR_NO_ME);
    assert_true(all_me >= 0 && no_me >= 0 && plain >= 0 && two_no_me >= 0);
    mig_layout l = {0};
    layout_add(&l, (unsigned)all_me, 0);
    assert_int_equal(layout_fits(m, &l, (unsigned)plain, 3), MIG_FIT_ENGINES);
    assert_int_equal(layout_remaining(m, &l, (unsigned)plain), 0);
    assert_int_equal(layout_fits(m, &l, (unsigned)no_me, 3), MIG_FIT_OK);
    assert_int_equal(layout_fits(m, &l, (unsigned)two_no_me, 6), MIG_FIT_OK);
    assert_int_equal(layout_remaining(m, &l, (unsigned)no_me), 3);
    /* +me.all cannot join a GI that has media engines, but may join -me ones. */
    mig_layout with_plain = {0};
    layout_add(&with_plain, (unsigned)plain, 0);
    assert_int_equal(layout_fits(m, &with_plain, (unsigned)all_me, 3), MIG_FIT_ENGINES);
    assert_int_equal(layout_auto_start(m, &with_plain, (unsigned)all_me), -1);
    mig_layout with_no_me = {0};
    layout_add(&with_no_me, (unsigned)no_me, 0);
    assert_int_equal(layout_fits(m, &with_no_me, (unsigned)all_me, 3), MIG_FIT_OK);
}

static void test_max_gis(void **state)
{
    (void)state;
    const mig_model *m = model("A30-24GB");
    mig_layout l = parse_ok(m, "1g.6gb@0,1g.6gb@1,1g.6gb@2,1g.6gb@3");
    assert_int_equal(l.n, m->max_gis);
    assert_int_equal(layout_remaining(m, &l, pos_of(m, "1g.6gb")), 0);
    assert_true(layout_maximal(m, &l, NULL));
    /* A GPU with fewer GI slots than placements (RTX PRO 5000 has 2): the
     * slot count caps fits and capacity. */
    mig_model two_slots = *model("H100-SXM5-80GB");
    two_slots.max_gis = 2;
    unsigned g1 = pos_of(&two_slots, "1g.10gb");
    mig_layout one = parse_ok(&two_slots, "1g.10gb@0");
    assert_int_equal(layout_remaining(&two_slots, &one, g1), 1);
    layout_add(&one, g1, 1);
    assert_int_equal(layout_fits(&two_slots, &one, g1, 2), MIG_FIT_FULL);
    assert_int_equal(layout_remaining(&two_slots, &one, g1), 0);
    assert_int_equal(layout_auto_start(&two_slots, &one, g1), -1);
}

/* ------------------------------------------------------------ placement */

static void expect_auto_sequence(const mig_model *m, const char *profile, const unsigned *starts,
                                 unsigned n)
{
    mig_layout l = {0};
    unsigned pos = pos_of(m, profile);
    for (unsigned i = 0; i < n; i++) {
        int s = layout_auto_start(m, &l, pos);
        if (s != (int)starts[i])
            fail_msg("%s: %u-th %s placed at %d, expected %u", m->name, i + 1, profile, s, starts[i]);
        layout_add(&l, pos, (unsigned)s);
    }
    assert_int_equal(layout_auto_start(m, &l, pos), -1);
}

static void test_auto_placement_sequences(void **state)
{
    (void)state;
    /* reference/mig-profiles.md section 4.5, observed on A100/H100/H100 NVL. */
    const mig_model *h = model("H100-SXM5-80GB");
    expect_auto_sequence(h, "1g.10gb", (unsigned[]){6, 4, 5, 0, 1, 2, 3}, 7);
    expect_auto_sequence(h, "2g.20gb", (unsigned[]){4, 0, 2}, 3);
    expect_auto_sequence(h, "3g.40gb", (unsigned[]){4, 0}, 2);
    expect_auto_sequence(h, "1g.20gb", (unsigned[]){4, 0, 2, 6}, 4);
    expect_auto_sequence(h, "4g.40gb", (unsigned[]){0}, 1);
    expect_auto_sequence(h, "7g.80gb", (unsigned[]){0}, 1);
    expect_auto_sequence(model("A100-SXM4-40GB"), "1g.5gb", (unsigned[]){6, 4, 5, 0, 1, 2, 3}, 7);
    /* A30 and RTX PRO: lowest first. */
    expect_auto_sequence(model("A30-24GB"), "1g.6gb", (unsigned[]){0, 1, 2, 3}, 4);
    expect_auto_sequence(model("RTX-PRO-6000-96GB"), "1g.24gb", (unsigned[]){0, 3, 6, 9}, 4);
    /* -cgi 19,14,5 -> 1g@6, 2g@4, 4g@0 (guide). */
    mig_layout l = {0};
    const char *seq[] = {"1g.10gb", "2g.20gb", "4g.40gb"};
    const int want[] = {6, 4, 0};
    for (unsigned i = 0; i < 3; i++) {
        int s = layout_auto_start(h, &l, pos_of(h, seq[i]));
        assert_int_equal(s, want[i]);
        layout_add(&l, pos_of(h, seq[i]), (unsigned)s);
    }
    /* RTX PRO: 2g, 1g, 1g -> 0:6, 6:3, 9:3. */
    const mig_model *r = model("RTX-PRO-6000-96GB");
    mig_layout rl = parse_ok(r, "2g.48gb,1g.24gb,1g.24gb");
    assert_int_equal(rl.gi[0].start, 0);
    assert_int_equal(rl.gi[1].start, 6);
    assert_int_equal(rl.gi[2].start, 9);
}

/* Section 4.4: -cgi 19,19,14,9 fails on A100 (the 1gs land on 6 and 4, the
 * 2g on 0:2, no 4-slot hole is left), -cgi 9,19,14,19 succeeds. */
static void test_a100_auto_placement_quirk(void **state)
{
    (void)state;
    const mig_model *m = model("A100-SXM4-40GB");
    unsigned g1 = pos_of(m, "1g.5gb"), g2 = pos_of(m, "2g.10gb"), g3 = pos_of(m, "3g.20gb");
    unsigned bad_order[] = {g1, g1, g2, g3}, good_order[] = {g3, g1, g2, g1};
    mig_layout l = {0};
    for (unsigned i = 0; i < 3; i++) {
        int s = layout_auto_start(m, &l, bad_order[i]);
        assert_true(s >= 0);
        layout_add(&l, bad_order[i], (unsigned)s);
    }
    assert_int_equal(l.gi[0].start, 6);
    assert_int_equal(l.gi[1].start, 4);
    assert_int_equal(l.gi[2].start, 0);
    assert_int_equal(layout_auto_start(m, &l, bad_order[3]), -1);
    assert_int_equal(layout_remaining(m, &l, g3), 0);
    mig_layout ok = {0};
    for (unsigned i = 0; i < 4; i++) {
        int s = layout_auto_start(m, &ok, good_order[i]);
        assert_true(s >= 0);
        layout_add(&ok, good_order[i], (unsigned)s);
    }
    assert_int_equal(layout_check(m, &ok, NULL), MIG_FIT_OK);
    assert_int_equal(layout_compute_used(m, &ok), 7);
}

static int compute_within_gpu(const mig_layout *l, void *ctx)
{
    const mig_model *m = ctx;
    assert_true(layout_compute_used(m, l) <= m->compute_slices);
    assert_true(layout_memory_used(m, l) <= m->memory_slices);
    return 0;
}

static void test_coexistence_examples(void **state)
{
    (void)state;
    /* reference/mig-profiles.md section 4.4, on every 8-slice GPU family. */
    const char *h100[] = {
        "4g.40gb@0,3g.40gb@4",
        "3g.40gb@0,3g.40gb@4",
        "4g.40gb@0,2g.20gb@4,1g.10gb@6",
        "3g.40gb@4,2g.20gb@2,1g.10gb@0,1g.10gb@1",
        "1g.10gb@0,1g.10gb@1,1g.10gb@2,1g.10gb@3,1g.10gb@4,1g.10gb@5,1g.10gb@6",
        "1g.20gb@0,1g.20gb@2,1g.20gb@4,1g.20gb@6",
        "1g.20gb@6,3g.40gb@0,1g.10gb@4,1g.10gb@5",
    };
    const mig_model *m = model("H100-SXM5-80GB");
    for (unsigned i = 0; i < sizeof h100 / sizeof h100[0]; i++) {
        mig_layout l = parse_ok(m, h100[i]);
        assert_int_equal(layout_check(m, &l, NULL), MIG_FIT_OK);
        assert_true(layout_compute_used(m, &l) <= m->compute_slices);
    }
    /* Never more than 7 compute slices on 8 memory slices, whatever the mix. */
    bool every[MIG_MAX_PROFILES];
    for (unsigned p = 0; p < MIG_MAX_PROFILES; p++)
        every[p] = p < m->n_profiles;
    assert_int_equal(layout_enumerate_maximal(m, every, compute_within_gpu, (void *)m), 0);
    mig_layout l = parse_ok(m, "4g.40gb@0,3g.40gb@4");
    assert_int_equal(layout_compute_used(m, &l), 7);
    assert_int_equal(layout_memory_used(m, &l), 8);
    assert_int_equal(layout_mask(m, &l), 0xff);
}

static void test_maximal(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    mig_layout l = parse_ok(m, "4g.40gb@0,2g.20gb@4,1g.10gb@6");
    assert_true(layout_maximal(m, &l, NULL)); /* slice 7 alone fits nothing */
    l = parse_ok(m, "4g.40gb@0,2g.20gb@4");
    assert_false(layout_maximal(m, &l, NULL));
    bool only_big[MIG_MAX_PROFILES] = {false};
    only_big[pos_of(m, "3g.40gb")] = true;
    assert_true(layout_maximal(m, &l, only_big));
}

/* ---------------------------------------------------- small operations */

static void test_add_remove_sort_equal(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    mig_layout a = parse_ok(m, "3g.40gb@4,1g.10gb@0,2g.20gb@2");
    mig_layout b = parse_ok(m, "1g.10gb@0,2g.20gb@2,3g.40gb@4");
    assert_true(layout_equal(&a, &b));
    layout_sort(&a);
    assert_int_equal(a.gi[0].start, 0);
    assert_int_equal(a.gi[1].start, 2);
    assert_int_equal(a.gi[2].start, 4);
    layout_remove(&a, 1);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.gi[1].start, 4);
    assert_false(layout_equal(&a, &b));
    layout_remove(&a, 7); /* out of range: nothing */
    assert_int_equal(a.n, 2);
    assert_int_equal(layout_count(&b, pos_of(m, "1g.10gb")), 1);
    assert_int_equal(layout_count(&b, pos_of(m, "7g.80gb")), 0);
    mig_layout full = {0};
    for (unsigned i = 0; i < MIG_MAX_GI + 2; i++)
        layout_add(&full, 0, i);
    assert_int_equal(full.n, MIG_MAX_GI);
}

static void test_parse_format_round_trip(void **state)
{
    (void)state;
    unsigned n_models;
    const mig_model *all = mig_catalogue(&n_models);
    unsigned long long seed = 99;
    for (unsigned mi = 0; mi < n_models; mi++) {
        const mig_model *m = &all[mi];
        for (unsigned round = 0; round < 200; round++) {
            mig_layout l = random_layout(m, &seed), back;
            char text[512];
            int len = layout_format(m, &l, text, sizeof text);
            assert_int_equal(len, (int)strlen(text));
            mig_error e = {0};
            if (layout_parse(m, text, &back, &e) != 0)
                fail_msg("%s: '%s': %s", m->name, text, e.msg);
            assert_int_equal(back.n, l.n);
            for (unsigned i = 0; i < l.n; i++) {
                assert_int_equal(back.gi[i].profile, l.gi[i].profile);
                assert_int_equal(back.gi[i].start, l.gi[i].start);
            }
        }
    }
    const mig_model *m = model("H100-SXM5-80GB");
    mig_layout l = parse_ok(m, "3g.40gb@4,2g.20gb@0");
    char small[8];
    int need = layout_format(m, &l, small, sizeof small);
    assert_int_equal(need, (int)strlen("3g.40gb@4,2g.20gb@0"));
    assert_int_equal(strlen(small), sizeof small - 1);
    mig_layout empty = parse_ok(m, "  ");
    assert_int_equal(empty.n, 0);
    char text[8] = "x";
    assert_int_equal(layout_format(m, &empty, text, sizeof text), 0);
    assert_string_equal(text, "");
    /* Case, spaces, and starts left to the driver's order. */
    l = parse_ok(m, " 3G.40GB@0 , 1g.10gb ,1g.10gb");
    assert_int_equal(l.n, 3);
    assert_int_equal(l.gi[1].start, 6);
    assert_int_equal(l.gi[2].start, 4);
}

static void expect_parse_error(const mig_model *m, const char *text, const char *needle)
{
    mig_layout l;
    mig_error e = {0};
    if (layout_parse(m, text, &l, &e) == 0)
        fail_msg("'%s' parsed", text);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    if (!strstr(e.msg, needle))
        fail_msg("'%s': message '%s' lacks '%s'", text, e.msg, needle);
}

static void test_parse_errors(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    expect_parse_error(m, "5g.50gb@0", "column 1");
    expect_parse_error(m, "5g.50gb@0", "5g.50gb");
    expect_parse_error(m, "3g.40gb@2", "not allowed");
    expect_parse_error(m, "3g.40gb@4,3g.40gb@4", "column 11");
    expect_parse_error(m, "3g.40gb@4,3g.40gb@4", "overlaps");
    expect_parse_error(m, "3g.40gb@", "column 9");
    expect_parse_error(m, "3g.40gb@x", "column 9");
    expect_parse_error(m, "3g.40gb@4,", "column 11");
    expect_parse_error(m, ",3g.40gb@4", "column 1");
    expect_parse_error(m, "3g.40gb 4", "unexpected '4'");
    expect_parse_error(m, "3g.40gb@99999999999999999999", "not allowed");
    expect_parse_error(m, "1g.10gb+me,1g.10gb+me", "instance count");
    expect_parse_error(m, "7g.80gb,1g.10gb", "no free placement");
}

/* ------------------------------------------------------------ GI ids */

static void test_canonical_gi_ids(void **state)
{
    (void)state;
    /* reference/mig-profiles.md section 4.6 (canonical mapping), and the RTX
     * PRO ids observed there: 1g at 0,3,6,9 -> 3,4,5,6; 2g at 0 -> 1. */
    const mig_model *h = model("H100-SXM5-80GB");
    const struct {
        const char *profile;
        unsigned start, id;
    } h100[] = {
        {"7g.80gb", 0, 0}, {"4g.40gb", 0, 1}, {"3g.40gb", 0, 1}, {"3g.40gb", 4, 2},
        {"2g.20gb", 0, 3}, {"2g.20gb", 2, 4}, {"2g.20gb", 4, 5}, {"1g.20gb", 6, 6},
        {"1g.10gb", 0, 7}, {"1g.10gb", 4, 11}, {"1g.10gb", 6, 13}, {"1g.10gb+me", 5, 12},
    };
    for (unsigned i = 0; i < sizeof h100 / sizeof h100[0]; i++)
        assert_int_equal(gi_canonical_id(h, mig_profile_by_name(h, h100[i].profile), h100[i].start),
                         h100[i].id);
    const mig_model *r = model("RTX-PRO-6000-96GB");
    const mig_gi_profile *r1 = mig_profile_by_name(r, "1g.24gb"), *r2 = mig_profile_by_name(r, "2g.48gb");
    for (unsigned k = 0; k < 4; k++)
        assert_int_equal(gi_canonical_id(r, r1, 3 * k), 3 + k);
    assert_int_equal(gi_canonical_id(r, r2, 0), 1);
    assert_int_equal(gi_canonical_id(r, mig_profile_by_name(r, "4g.96gb"), 0), 0);
    const mig_model *a30 = model("A30-24GB");
    assert_int_equal(gi_canonical_id(a30, mig_profile_by_name(a30, "1g.6gb"), 2), 5);
    assert_int_equal(gi_canonical_id(a30, mig_profile_by_name(a30, "2g.12gb"), 2), 2);
    /* Ranges: eighth 7-14, quarter 3-6, half 1-2, full 0 (8-slice GPUs). */
    unsigned lo, hi;
    gi_id_range(h, mig_profile_by_name(h, "1g.10gb"), &lo, &hi);
    assert_true(lo == 7 && hi == 14);
    gi_id_range(h, mig_profile_by_name(h, "1g.20gb"), &lo, &hi);
    assert_true(lo == 3 && hi == 6);
    gi_id_range(h, mig_profile_by_name(h, "3g.40gb"), &lo, &hi);
    assert_true(lo == 1 && hi == 2);
    gi_id_range(h, mig_profile_by_name(h, "7g.80gb"), &lo, &hi);
    assert_true(lo == 0 && hi == 0);
    gi_id_range(a30, mig_profile_by_name(a30, "1g.6gb"), &lo, &hi);
    assert_true(lo == 3 && hi == 6);
    /* Every canonical id of every placement lies in its range. */
    unsigned n_models;
    const mig_model *all = mig_catalogue(&n_models);
    for (unsigned mi = 0; mi < n_models; mi++)
        for (unsigned p = 0; p < all[mi].n_profiles; p++) {
            const mig_gi_profile *gp = &all[mi].profiles[p];
            gi_id_range(&all[mi], gp, &lo, &hi);
            for (unsigned s = 0; s < gp->n_starts; s++) {
                unsigned id = gi_canonical_id(&all[mi], gp, gp->starts[s]);
                assert_true(id >= lo && id <= hi && id <= 14);
            }
        }
}

/* ------------------------------------------------------ compute instances */

static bool ci_named(const mig_model *m, const mig_gi_profile *gi, unsigned slices, mig_ci_profile *out)
{
    mig_ci_profile all[MIG_MAX_CI_PROFILES];
    unsigned n = mig_ci_profiles(m, gi, all);
    for (unsigned i = 0; i < n; i++)
        if (all[i].compute_slices == slices) {
            *out = all[i];
            return true;
        }
    return false;
}

static void test_ci_placement(void **state)
{
    (void)state;
    const mig_model *m = model("H100-SXM5-80GB");
    const mig_gi_profile *g7 = mig_profile_by_name(m, "7g.80gb"), *g3 = mig_profile_by_name(m, "3g.40gb");
    mig_ci_profile c1, c2, c3, c4, c7;
    assert_true(ci_named(m, g7, 1, &c1) && ci_named(m, g7, 2, &c2) && ci_named(m, g7, 3, &c3) &&
                ci_named(m, g7, 4, &c4) && ci_named(m, g7, 7, &c7));
    /* Free/Total on an empty 7g (-lcip): 7, 3, 2, 1, 1. */
    assert_int_equal(ci_remaining(&c1, 0), 7);
    assert_int_equal(ci_remaining(&c2, 0), 3);
    assert_int_equal(ci_remaining(&c3, 0), 2);
    assert_int_equal(ci_remaining(&c4, 0), 1);
    assert_int_equal(ci_remaining(&c7, 0), 1);
    assert_int_equal(ci_fits(&c2, 0, 1), MIG_FIT_BAD_PLACEMENT);
    assert_int_equal(ci_fits(&c2, 0x4, 2), MIG_FIT_OVERLAP);
    assert_int_equal(ci_fits(&c2, 0x4, 4), MIG_FIT_OK);
    assert_int_equal(ci_fits(&c7, 0x40, 0), MIG_FIT_OVERLAP);
    assert_int_equal(ci_remaining(&c4, 0x10), 1);
    assert_int_equal(ci_remaining(&c4, 0x08), 0);
    /* Auto placement keeps the most capacity (RM kmigmgrGetFreeCTSId).
     * 7g, first 1c: at 6 it blocks one 3c and nothing else, leaving
     * 6+3+1+1 = 11 placements; at 0..5 it leaves fewer, so 6. */
    assert_int_equal(ci_auto_start(m, g7, &c1, 0), 6);
    /* 3g: 1c at 2 leaves the 2c at 0 (2+1 = 3), at 0 or 1 only 2: so 2,
     * then 0 and 1 tie (each leaves one 1c) and the lowest wins. */
    mig_ci_profile d1;
    assert_true(ci_named(m, g3, 1, &d1));
    unsigned used = 0;
    const int want[] = {2, 0, 1, -1};
    for (unsigned i = 0; i < 4; i++) {
        int s = ci_auto_start(m, g3, &d1, used);
        assert_int_equal(s, want[i]);
        if (s >= 0)
            used |= 1u << s;
    }
    mig_ci_profile full;
    assert_true(ci_named(m, g3, 3, &full));
    assert_int_equal(ci_auto_start(m, g3, &full, 0), 0);
    assert_int_equal(ci_auto_start(m, g3, &full, 0x2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumeration_matches_brute_force_every_model),
        cmocka_unit_test(test_published_counts),
        cmocka_unit_test(test_enumeration_stops_and_is_deterministic),
        cmocka_unit_test(test_base_profiles),
        cmocka_unit_test(test_random_layouts_fits_and_remaining),
        cmocka_unit_test(test_fit_reasons_and_codes),
        cmocka_unit_test(test_engine_exclusivity),
        cmocka_unit_test(test_max_gis),
        cmocka_unit_test(test_auto_placement_sequences),
        cmocka_unit_test(test_a100_auto_placement_quirk),
        cmocka_unit_test(test_coexistence_examples),
        cmocka_unit_test(test_maximal),
        cmocka_unit_test(test_add_remove_sort_equal),
        cmocka_unit_test(test_parse_format_round_trip),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_canonical_gi_ids),
        cmocka_unit_test(test_ci_placement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
