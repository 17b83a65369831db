/*
 * test_ci_span.c: a compute instance that spans its whole GPU instance is
 * one device whatever its CI profile id (issue 12 item 1: mig-parted
 * creates CI profile 0 in a 1g.20gb GI where migctl's default is 7). On
 * every catalogue model and every GI profile, a GI holding any full-span
 * CI profile must satisfy a desired GI with the default CI, and reconcile
 * must plan nothing for it; a CI that does not span its GI must still be
 * told apart from the full one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "apply/reconcile.h"
#include "model/catalogue.h"

/* One GPU of model m with one GI of profile p at its first placement, one
 * CI of profile ci inside. */
static void one_gi(const mig_model *m, const mig_gi_profile *p, const mig_ci_profile *ci,
                   mig_gpu_state *g)
{
    memset(g, 0, sizeof *g);
    g->model = m;
    g->mig_capable = g->mig_current = g->mig_pending = true;
    g->n_gi = 1;
    g->gi[0] = (mig_gi_state){.id = 1, .profile_id = p->id, .start = p->starts[0],
                              .size = p->memory_slices, .n_ci = 1};
    g->gi[0].ci[0] = (mig_ci_state){.id = 0, .profile_id = ci->id, .start = 0,
                                    .slices = ci->compute_slices};
}

static void want_default(const mig_gi_profile *p, const mig_ci_profile *def, mig_desired_gpu *d)
{
    memset(d, 0, sizeof *d);
    d->selected = d->mig_enabled = true;
    d->n_gi = 1;
    d->gi[0].profile_id = p->id;
    d->gi[0].start = -1;
    d->gi[0].n_ci = 1;
    d->gi[0].ci[0] = (mig_desired_ci){.profile_id = def->id, .slices = def->compute_slices};
}

static void test_full_span_is_one_device_on_every_model(void **state)
{
    (void)state;
    unsigned n_models, full_alternatives = 0;
    const mig_model *all = mig_catalogue(&n_models);
    for (unsigned mi = 0; mi < n_models; mi++) {
        const mig_model *m = &all[mi];
        for (unsigned pi = 0; pi < m->n_profiles; pi++) {
            const mig_gi_profile *p = &m->profiles[pi];
            mig_ci_profile cis[MIG_MAX_CI_PROFILES], def;
            unsigned n = mig_ci_profiles(m, p, cis);
            assert_true(mig_ci_default(m, p, &def));
            for (unsigned k = 0; k < n; k++) {
                bool full = cis[k].compute_slices == p->compute_slices;
                assert_int_equal(mig_ci_canonical_id(m, p, cis[k].id),
                                 full ? def.id : cis[k].id);
                mig_gpu_state g;
                mig_desired_gpu d;
                one_gi(m, p, &cis[k], &g);
                want_default(p, &def, &d);
                char drift[512];
                bool ok = desired_satisfied(&g, &d, true, drift, sizeof drift);
                if (ok != full)
                    fail_msg("%s %s CI %u (%s): satisfied=%d, drift '%s'", m->name, p->name,
                             cis[k].id, cis[k].name, ok, drift);
                mig_plan plan = {0};
                mig_gpu_plan gp;
                mig_error e = {0};
                assert_int_equal(reconcile_gpu(&g, &d, false, &plan, &gp, &e), 0);
                if (full) {
                    assert_int_equal(gp.n_ops, 0);
                    assert_int_equal(gp.status, MIG_GPU_UNCHANGED);
                    full_alternatives += cis[k].id != def.id;
                } else {
                    assert_true(gp.n_ops > 0);
                }
                mig_plan_free(&plan);
            }
        }
    }
    /* The case of the issue exists in the catalogue: some GI profiles (the
     * 1g.20gb-style REV2 ones) have a full-span CI that is not the default. */
    assert_true(full_alternatives > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_span_is_one_device_on_every_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
