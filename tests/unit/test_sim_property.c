/*
 * test_sim_property.c: random create/destroy sequences on every catalogue
 * model, each operation's outcome predicted by an oracle written here from
 * the catalogue's raw data (placement lists, sizes, instance counts, max
 * GIs, the +me.all/-me rule of reference/mig-profiles.md 4.2) and not from
 * model/layout.c. After every step the simulator must agree with the oracle
 * on the set of placed GIs, and the invariants must hold: no two GIs share a
 * memory slice, starts only from the lists, per-profile caps, GI ids unique
 * and in their size class's range (canonical ids = range base + start/size),
 * and the remaining capacity NVML would report equals both the oracle's
 * count and the number of creations that then actually succeed.
 *
 * Deterministic (fixed seeds); a failure names model, sequence and step.
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
#include "util/nvml_rc.h"

enum { SEQUENCES = 120, STEPS = 40 }; /* x 2 id modes x 14 models */

/* ------------------------------------------------------------ random */

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (unsigned)(rng_state % n) : 0;
}

/* ------------------------------------------------------------ the oracle */

typedef struct {
    unsigned pos, start; /* profile position, first memory slice */
    unsigned n_ci;
    unsigned ci_used;    /* compute slices taken inside the GI */
} o_gi;

typedef struct {
    const mig_model *m;
    unsigned n;
    o_gi gi[16];
} oracle;

static bool in_list(const mig_gi_profile *p, unsigned start)
{
    for (unsigned i = 0; i < p->n_starts; i++)
        if (p->starts[i] == start)
            return true;
    return false;
}

static bool spans_overlap(unsigned a, unsigned an, unsigned b, unsigned bn)
{
    return a < b + bn && b < a + an;
}

/* Could a GI of profile pos go at start now? Codes as NVML gives them. */
static int o_fits(const oracle *o, unsigned pos, unsigned start)
{
    const mig_gi_profile *p = &o->m->profiles[pos];
    if (!in_list(p, start))
        return NVML_ERROR_INVALID_ARGUMENT;
    unsigned same = 0;
    for (unsigned i = 0; i < o->n; i++) {
        const mig_gi_profile *q = &o->m->profiles[o->gi[i].pos];
        if (spans_overlap(start, p->memory_slices, o->gi[i].start, q->memory_slices))
            return NVML_ERROR_INSUFFICIENT_RESOURCES;
        same += o->gi[i].pos == pos;
        /* +me.all takes every media engine: only -me may sit beside it */
        if (q->attr == MIG_ATTR_ME_ALL && p->attr != MIG_ATTR_NO_ME)
            return NVML_ERROR_INSUFFICIENT_RESOURCES;
        if (p->attr == MIG_ATTR_ME_ALL && q->attr != MIG_ATTR_NO_ME)
            return NVML_ERROR_INSUFFICIENT_RESOURCES;
    }
    if (same >= p->instance_count || o->n >= o->m->max_gis)
        return NVML_ERROR_INSUFFICIENT_RESOURCES;
    return NVML_SUCCESS;
}

/* Placements of one profile never overlap each other, so filling greedily
 * in any order reaches the true maximum. */
static unsigned o_remaining(const oracle *o, unsigned pos)
{
    oracle t = *o;
    unsigned n = 0;
    const mig_gi_profile *p = &o->m->profiles[pos];
    for (unsigned i = 0; i < p->n_starts; i++)
        if (o_fits(&t, pos, p->starts[i]) == NVML_SUCCESS) {
            t.gi[t.n++] = (o_gi){.pos = pos, .start = p->starts[i]};
            n++;
        }
    return n;
}

static int o_find(const oracle *o, unsigned pos, unsigned start)
{
    for (unsigned i = 0; i < o->n; i++)
        if (o->gi[i].pos == pos && o->gi[i].start == start)
            return (int)i;
    return -1;
}

/* GI id classes (reference/mig-profiles.md 4.6): a GI of 1/f of the memory
 * gets an id in [f-1, 2f-2]; canonically f-1 + start/size. */
static void o_id_range(const mig_model *m, const mig_gi_profile *p, unsigned *lo, unsigned *hi)
{
    unsigned f = m->memory_slices / p->memory_slices;
    *lo = f - 1;
    *hi = 2 * f - 2;
}

/* ------------------------------------------------------------ checking */

typedef struct {
    const mig_model *m;
    bool swizzled;
    unsigned seq, step;
} where;

#define CHECK(cond, w, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            char what_[256];                                                                       \
            snprintf(what_, sizeof what_, __VA_ARGS__);                                            \
            fail_msg("%s%s seq %u step %u: %s", (w)->m->name, (w)->swizzled ? " (swizzled)" : "", \
                     (w)->seq, (w)->step, what_);                                                  \
        }                                                                                          \
    } while (0)

static int pos_of(const mig_model *m, unsigned profile_id)
{
    for (unsigned i = 0; i < m->n_profiles; i++)
        if (m->profiles[i].id == profile_id)
            return (int)i;
    return -1;
}

/* The simulator's GPU 0 equals the oracle and satisfies the invariants. */
static void check_invariants(const sim_state *s, const oracle *o, const where *w)
{
    const mig_gpu_state *g = &s->gpus[0];
    const mig_model *m = o->m;
    CHECK(g->n_gi == o->n, w, "%u GIs, oracle has %u", g->n_gi, o->n);
    CHECK(g->n_gi <= m->max_gis, w, "%u GIs, max %u", g->n_gi, m->max_gis);
    unsigned mask = 0, count[MIG_MAX_PROFILES] = {0}, ids = 0;
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        int pos = pos_of(m, gi->profile_id);
        CHECK(pos >= 0, w, "GI %u has profile id %u", gi->id, gi->profile_id);
        const mig_gi_profile *p = &m->profiles[pos];
        CHECK(in_list(p, gi->start), w, "GI %u at %u not in %s's list", gi->id, gi->start,
              p->name);
        CHECK(gi->size == p->memory_slices, w, "GI %u size %u", gi->id, gi->size);
        unsigned span = ((1u << p->memory_slices) - 1) << gi->start;
        CHECK(!(mask & span), w, "GI %u overlaps", gi->id);
        mask |= span;
        CHECK(++count[pos] <= p->instance_count, w, "%s over its cap", p->name);
        CHECK(o_find(o, (unsigned)pos, gi->start) >= 0, w, "GI %s@%u not in the oracle",
              p->name, gi->start);
        unsigned lo, hi;
        o_id_range(m, p, &lo, &hi);
        CHECK(gi->id >= lo && gi->id <= hi, w, "GI id %u outside %u-%u", gi->id, lo, hi);
        if (!w->swizzled)
            CHECK(gi->id == lo + gi->start / p->memory_slices, w, "GI id %u not canonical",
                  gi->id);
        CHECK(!(ids & (1u << gi->id)), w, "GI id %u twice", gi->id);
        ids |= 1u << gi->id;
        CHECK(i == 0 || g->gi[i - 1].id < gi->id, w, "GIs not sorted by id");
        unsigned used = 0;
        for (unsigned k = 0; k < gi->n_ci; k++) {
            const mig_ci_state *ci = &gi->ci[k];
            unsigned cspan = ((1u << ci->slices) - 1) << ci->start;
            CHECK(!(used & cspan), w, "CI %u overlaps in GI %u", ci->id, gi->id);
            CHECK(ci->start + ci->slices <= p->compute_slices, w, "CI %u outside GI %u", ci->id,
                  gi->id);
            used |= cspan;
        }
        const o_gi *og = &o->gi[o_find(o, (unsigned)pos, gi->start)];
        CHECK(og->n_ci == gi->n_ci, w, "GI %u has %u CIs, oracle %u", gi->id, gi->n_ci, og->n_ci);
    }
}

/* Remaining capacity: simulator == oracle == creations that then succeed. */
static void check_remaining(const sim_state *s, sim_state *scratch, const oracle *o,
                            const where *w)
{
    const mig_gpu_state *g = &s->gpus[0];
    for (unsigned pos = 0; pos < o->m->n_profiles; pos++) {
        unsigned id = o->m->profiles[pos].id, left = 999;
        CHECK(sim_remaining(s, 0, id, &left) == NVML_SUCCESS, w, "remaining failed");
        unsigned want = o_remaining(o, pos);
        CHECK(left == want, w, "remaining %s = %u, oracle %u", o->m->profiles[pos].name, left,
              want);
        memcpy(&scratch->gpus[0], g, offsetof(mig_gpu_state, gi) + g->n_gi * sizeof g->gi[0]);
        unsigned made = 0, gi;
        while (made <= left && sim_create_gi(scratch, 0, id, -1, &gi) == NVML_SUCCESS)
            made++;
        CHECK(made == left, w, "remaining %s = %u but %u could be created",
              o->m->profiles[pos].name, left, made);
    }
}

/* ------------------------------------------------------------ steps */

static void step_create_gi(sim_state *s, oracle *o, const where *w)
{
    const mig_model *m = o->m;
    unsigned pos = rnd(m->n_profiles), gi_id;
    const mig_gi_profile *p = &m->profiles[pos];
    bool pinned = rnd(2);
    int start = pinned ? (int)rnd(m->memory_slices + 1) : -1;
    int rc = sim_create_gi(s, 0, p->id, start, &gi_id);
    if (pinned) {
        int want = o_fits(o, pos, (unsigned)start);
        CHECK(rc == want, w, "create %s@%d: %s, oracle %s", p->name, start, nvml_rc_name(rc),
              nvml_rc_name(want));
    } else {
        bool any = o_remaining(o, pos) > 0;
        CHECK((rc == NVML_SUCCESS) == any, w, "auto create %s: %s, oracle %s", p->name,
              nvml_rc_name(rc), any ? "fits" : "no room");
        CHECK(rc == NVML_SUCCESS || rc == NVML_ERROR_INSUFFICIENT_RESOURCES, w, "auto rc %s",
              nvml_rc_name(rc));
    }
    if (rc != NVML_SUCCESS)
        return;
    const mig_gi_state *gi = sim_find_gi(s, 0, gi_id);
    CHECK(gi != NULL, w, "created GI %u not found", gi_id);
    CHECK(o_fits(o, pos, gi->start) == NVML_SUCCESS, w, "auto placement %s@%u does not fit",
          p->name, gi->start);
    o->gi[o->n++] = (o_gi){.pos = pos, .start = gi->start};
}

static void step_destroy_gi(sim_state *s, oracle *o, const where *w)
{
    const mig_gpu_state *g = &s->gpus[0];
    if (g->n_gi == 0 || rnd(8) == 0) {
        unsigned id = 15 + rnd(10); /* never a GI id */
        CHECK(sim_destroy_gi(s, 0, id) == NVML_ERROR_NOT_FOUND, w, "destroy unknown GI");
        return;
    }
    const mig_gi_state *gi = &g->gi[rnd(g->n_gi)];
    int oi = o_find(o, (unsigned)pos_of(o->m, gi->profile_id), gi->start);
    int rc = sim_destroy_gi(s, 0, gi->id);
    int want = o->gi[oi].n_ci ? NVML_ERROR_IN_USE : NVML_SUCCESS;
    CHECK(rc == want, w, "destroy GI: %s, oracle %s", nvml_rc_name(rc), nvml_rc_name(want));
    if (rc == NVML_SUCCESS)
        o->gi[oi] = o->gi[--o->n];
}

static void step_create_ci(sim_state *s, oracle *o, const where *w)
{
    const mig_gpu_state *g = &s->gpus[0];
    if (g->n_gi == 0)
        return;
    const mig_gi_state *gi = &g->gi[rnd(g->n_gi)];
    unsigned gi_id = gi->id;
    int pos = pos_of(o->m, gi->profile_id);
    o_gi *og = &o->gi[o_find(o, (unsigned)pos, gi->start)];
    mig_ci_profile cps[MIG_MAX_CI_PROFILES];
    unsigned n = mig_ci_profiles(o->m, &o->m->profiles[pos], cps);
    CHECK(n > 0, w, "no CI profiles");
    const mig_ci_profile *c = &cps[rnd(n)];
    bool pinned = rnd(2);
    int start = pinned ? (int)rnd(o->m->profiles[pos].compute_slices + 1) : -1;
    /* oracle: start from the CI profile's list, compute slices free, <= 8 CIs */
    bool fits_any = false, fits_here = false, listed = false;
    for (unsigned i = 0; i < c->n_starts; i++) {
        unsigned span = ((1u << c->compute_slices) - 1) << c->starts[i];
        bool free_ = !(og->ci_used & span) && og->n_ci < MIG_MAX_CI;
        fits_any |= free_;
        if (pinned && c->starts[i] == (unsigned)start) {
            listed = true;
            fits_here = free_;
        }
    }
    int want = pinned ? (!listed ? NVML_ERROR_INVALID_ARGUMENT
                                 : fits_here ? NVML_SUCCESS : NVML_ERROR_INSUFFICIENT_RESOURCES)
                      : (fits_any ? NVML_SUCCESS : NVML_ERROR_INSUFFICIENT_RESOURCES);
    unsigned ci_id;
    int rc = sim_create_ci(s, 0, gi_id, c->id, start, &ci_id);
    CHECK(rc == want, w, "create CI %s@%d in GI %u: %s, oracle %s", c->name, start, gi_id,
          nvml_rc_name(rc), nvml_rc_name(want));
    if (rc != NVML_SUCCESS)
        return;
    mig_gi_state *sgi = sim_find_gi(s, 0, gi_id);
    const mig_ci_state *ci = sim_find_ci(sgi, ci_id);
    CHECK(ci && ci->slices == c->compute_slices, w, "created CI wrong");
    og->ci_used |= ((1u << ci->slices) - 1) << ci->start;
    og->n_ci++;
    /* lowest free CI id */
    for (unsigned k = 0; k < ci_id; k++)
        CHECK(sim_find_ci(sgi, k) != NULL, w, "CI id %u chosen while %u free", ci_id, k);
}

static void step_destroy_ci(sim_state *s, oracle *o, const where *w)
{
    const mig_gpu_state *g = &s->gpus[0];
    if (g->n_gi == 0)
        return;
    const mig_gi_state *gi = &g->gi[rnd(g->n_gi)];
    o_gi *og = &o->gi[o_find(o, (unsigned)pos_of(o->m, gi->profile_id), gi->start)];
    if (gi->n_ci == 0) {
        CHECK(sim_destroy_ci(s, 0, gi->id, 0) == NVML_ERROR_NOT_FOUND, w, "destroy missing CI");
        return;
    }
    const mig_ci_state ci = gi->ci[rnd(gi->n_ci)];
    CHECK(sim_destroy_ci(s, 0, gi->id, ci.id) == NVML_SUCCESS, w, "destroy CI %u", ci.id);
    og->ci_used &= ~(((1u << ci.slices) - 1) << ci.start);
    og->n_ci--;
}

static void run_model(const mig_model *m, bool swizzled, uint64_t seed)
{
    mig_error e;
    char spec[64];
    snprintf(spec, sizeof spec, "1x%s", m->name);
    sim_state *scratch = sim_new(spec, swizzled, &e);
    assert_non_null(scratch);
    scratch->gpus[0].mig_current = true;
    rng_state = seed;
    for (unsigned seq = 0; seq < SEQUENCES; seq++) {
        sim_state *s = sim_new(spec, swizzled, &e);
        assert_non_null(s);
        assert_int_equal(sim_set_mode(s, 0, true, NULL), NVML_SUCCESS);
        oracle o = {.m = m};
        where w = {.m = m, .swizzled = swizzled, .seq = seq};
        for (w.step = 0; w.step < STEPS; w.step++) {
            unsigned k = rnd(10);
            if (k < 5)
                step_create_gi(s, &o, &w);
            else if (k < 7)
                step_destroy_gi(s, &o, &w);
            else if (k < 9)
                step_create_ci(s, &o, &w);
            else
                step_destroy_ci(s, &o, &w);
            check_invariants(s, &o, &w);
            check_remaining(s, scratch, &o, &w);
        }
        sim_close(s);
    }
    sim_close(scratch);
}

static void test_every_model_canonical(void **state)
{
    (void)state;
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    assert_true(n >= 14);
    for (unsigned i = 0; i < n; i++)
        run_model(&all[i], false, 0x9e3779b97f4a7c15ULL + i);
}

static void test_every_model_swizzled(void **state)
{
    (void)state;
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++)
        run_model(&all[i], true, 0x2545f4914f6cdd1dULL + i);
}

/* MIG off: every create is NOT_SUPPORTED and the capacity is the full count. */
static void test_mig_off_every_model(void **state)
{
    (void)state;
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++) {
        mig_error e;
        char spec[64];
        snprintf(spec, sizeof spec, "%s", all[i].name);
        sim_state *s = sim_new(spec, false, &e);
        assert_non_null(s);
        oracle o = {.m = &all[i]};
        for (unsigned pos = 0; pos < all[i].n_profiles; pos++) {
            unsigned id = all[i].profiles[pos].id, gi, left;
            assert_int_equal(sim_create_gi(s, 0, id, -1, &gi), NVML_ERROR_NOT_SUPPORTED);
            assert_int_equal(sim_create_gi(s, 0, id, all[i].profiles[pos].starts[0], &gi),
                             NVML_ERROR_NOT_SUPPORTED);
            assert_int_equal(sim_remaining(s, 0, id, &left), NVML_SUCCESS);
            assert_int_equal(left, o_remaining(&o, pos));
        }
        sim_close(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_model_canonical),
        cmocka_unit_test(test_every_model_swizzled),
        cmocka_unit_test(test_mig_off_every_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
