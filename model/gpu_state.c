/*
 * gpu_state.c: small queries over a live GPU's state (gpu_state.h): is an
 * instance busy, find a GI by id, the state's GIs as a mig_layout, and the
 * name of a compute instance. Pure; ids are the driver's and are only looked
 * up, never derived from placements.
 */
#include "model/gpu_state.h"

#include <stdio.h>

bool ci_state_busy(const mig_ci_state *ci)
{
    return ci->n_procs > 0 || ci->procs_unknown;
}

bool gi_state_busy(const mig_gi_state *gi)
{
    for (unsigned i = 0; i < gi->n_ci && i < MIG_MAX_CI; i++)
        if (ci_state_busy(&gi->ci[i]))
            return true;
    return false;
}

bool gpu_state_busy(const mig_gpu_state *g)
{
    if (g->n_procs)
        return true;
    for (unsigned i = 0; i < g->n_gi && i < MIG_MAX_GI; i++)
        if (gi_state_busy(&g->gi[i]))
            return true;
    return false;
}

unsigned gi_state_procs(const mig_gi_state *gi)
{
    unsigned n = 0;
    for (unsigned i = 0; i < gi->n_ci && i < MIG_MAX_CI; i++)
        n += gi->ci[i].n_procs;
    return n;
}

const mig_gi_state *gpu_state_find_gi(const mig_gpu_state *g, unsigned gi_id)
{
    for (unsigned i = 0; i < g->n_gi && i < MIG_MAX_GI; i++)
        if (g->gi[i].id == gi_id)
            return &g->gi[i];
    return NULL;
}

int gpu_state_layout(const mig_gpu_state *g, mig_layout *out, mig_error *e)
{
    out->n = 0;
    if (!g->model)
        return mig_fail(e, MIG_ERR_BACKEND, "GPU %u (%s) is not a known MIG-capable model", g->index,
                        g->name);
    for (unsigned i = 0; i < g->n_gi && i < MIG_MAX_GI; i++) {
        const mig_gi_profile *p = mig_profile_by_id(g->model, g->gi[i].profile_id);
        int pos = p ? mig_profile_pos(g->model, p) : -1;
        if (pos < 0)
            return mig_fail(e, MIG_ERR_BACKEND, "GPU %u: GI %u has profile id %u, unknown on %s",
                            g->index, g->gi[i].id, g->gi[i].profile_id, g->model->name);
        layout_add(out, (unsigned)pos, g->gi[i].start);
    }
    return 0;
}

void ci_state_name(const mig_model *m, const mig_gi_state *gi, const mig_ci_state *ci,
                   char *buf, unsigned len)
{
    const mig_gi_profile *p = m ? mig_profile_by_id(m, gi->profile_id) : NULL;
    if (!len)
        return;
    if (!p)
        snprintf(buf, len, "profile %u", gi->profile_id);
    else if (ci->slices >= p->compute_slices)
        snprintf(buf, len, "%s", p->name);
    else
        snprintf(buf, len, "%uc.%s", ci->slices, p->name);
}
