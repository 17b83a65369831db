/*
 * workload_check.c: profile names of a workloads file checked against the
 * GPU models migctl knows (see workload_check.h).
 */
#include <stdio.h>
#include <string.h>

#include "config/workload_check.h"
#include "model/profile_name.h"

/* Does some model of the catalogue have this GI profile? A workloads file
 * may serve several fleets, so a figure for a profile this fleet lacks
 * (4g.71gb in a file planned on H100s) is fine; one no model has is not.
 * On false, *why is the answer for the first model (with its names). */
static bool known_somewhere(const char *name, mig_error *why)
{
    mig_profile_name pn;
    if (mig_profile_name_parse(name, &pn, why) < 0)
        return false;
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++) {
        const mig_gi_profile *gi;
        mig_ci_profile ci;
        mig_error e;
        if (mig_profile_resolve(&all[i], &pn, &gi, &ci, &e) == 0)
            return true;
    }
    mig_fail(why, MIG_ERR_INPUT, "no GPU model migctl knows has it; see 'migctl models' and "
             "'migctl profiles --model M'");
    return false;
}

int wl_check_profiles(const wl_file *wf, mig_error *e)
{
    const char *path = wf->path ? wf->path : "<workloads>";
    for (unsigned i = 0; i < wf->n; i++) {
        const wl_workload *w = &wf->items[i];
        mig_error why;
        mig_error_clear(&why);
        if (w->profile[0] && !known_somewhere(w->profile, &why))
            return mig_fail(e, MIG_ERR_INPUT, "%s:%u:%u: workload '%s': profile '%s' is not a "
                            "MIG profile (%s)",
                            path, w->line, w->col, w->name, w->profile, why.msg);
        for (unsigned k = 0; k < w->n_tput; k++) {
            const wl_throughput *t = &w->tput[k];
            if (strcmp(t->profile, "whole") == 0)
                continue;
            mig_error_clear(&why);
            if (!known_somewhere(t->profile, &why))
                return mig_fail(e, MIG_ERR_INPUT, "%s:%u:%u: workload '%s': throughput for "
                                "'%s', which is not a MIG profile (%s)",
                                path, t->line, t->col, w->name, t->profile, why.msg);
        }
    }
    return 0;
}
