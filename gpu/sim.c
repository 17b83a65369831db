/*
 * sim.c: the simulator's operations on an in-memory state (gpu/sim.h). Each
 * operation checks everything first and changes the state only when it
 * succeeds, so a failed call leaves the state exactly as it was; the front
 * door (gpu/sim_backend.c, shim/) then commits it.
 *
 * All geometry comes from model/layout.h (placement lists, overlap, caps,
 * engine exclusivity, auto placement, CI fitting): the simulator adds only
 * what the driver adds on top, namely GI and CI ids, MIG device UUIDs, MIG
 * mode with its Ampere/Hopper differences, and processes that make
 * instances busy. Invariant kept by every operation: g->gi[] sorted by GI
 * id and each gi->ci[] sorted by CI id, so listings are stable.
 */
#include <signal.h>
#include <string.h>

#include "gpu/sim.h"
#include "model/layout.h"
#include "util/nvml_rc.h"

/* ------------------------------------------------------------ lookups */

static mig_gpu_state *gpu_at(sim_state *s, unsigned gpu)
{
    return gpu < s->n_gpus ? &s->gpus[gpu] : NULL;
}

mig_gi_state *sim_find_gi(sim_state *s, unsigned gpu, unsigned gi_id)
{
    mig_gpu_state *g = gpu_at(s, gpu);
    for (unsigned i = 0; g && i < g->n_gi; i++)
        if (g->gi[i].id == gi_id)
            return &g->gi[i];
    return NULL;
}

mig_ci_state *sim_find_ci(mig_gi_state *gi, unsigned ci_id)
{
    for (unsigned i = 0; gi && i < gi->n_ci; i++)
        if (gi->ci[i].id == ci_id)
            return &gi->ci[i];
    return NULL;
}

unsigned sim_gpu_procs(const mig_gpu_state *g)
{
    unsigned n = g->n_procs;
    for (unsigned i = 0; i < g->n_gi; i++)
        for (unsigned k = 0; k < g->gi[i].n_ci; k++)
            n += g->gi[i].ci[k].n_procs;
    return n;
}

/* ------------------------------------------------------------ faults */

int sim_fault_check(sim_state *s)
{
    if (s->fail_op) {
        s->fail_op--;
        if (s->fail_op == 0)
            return s->fail_rc ? s->fail_rc : NVML_ERROR_UNKNOWN;
    }
    /* Counted here, not in sim_kill_check, so that the commit that follows
     * persists the countdown: a restarted process must not die again. */
    if (s->kill_op) {
        s->kill_op--;
        if (s->kill_op == 0)
            s->kill_armed = true;
    }
    return NVML_SUCCESS;
}

void sim_kill_check(sim_state *s)
{
    if (s && s->kill_armed)
        raise(SIGKILL);
}

void sim_close_kill(sim_state *s)
{
    bool die = s && s->kill_armed;
    sim_close(s);
    if (die)
        raise(SIGKILL);
}

/* ------------------------------------------------------------ mode */

int sim_set_mode(sim_state *s, unsigned gpu, bool enable, int *activation)
{
    mig_gpu_state *g = gpu_at(s, gpu);
    int dummy;
    if (!activation)
        activation = &dummy;
    if (!g)
        return NVML_ERROR_INVALID_ARGUMENT;
    /* The driver would tear the instances down under their users; we refuse
     * instead (reference/mig-profiles.md section 5: treat as IN_USE). */
    if (!enable && g->n_gi)
        return NVML_ERROR_IN_USE;
    g->mig_pending = enable;
    *activation = NVML_SUCCESS;
    if (g->mig_current == enable)
        return NVML_SUCCESS;
    /* Ampere resets the GPU itself, Hopper and later switch without a reset;
     * either way a process holding the GPU leaves the change pending. */
    if (sim_gpu_procs(g) > 0)
        *activation = NVML_ERROR_IN_USE;
    else
        g->mig_current = enable;
    return NVML_SUCCESS;
}

int sim_reset(sim_state *s, unsigned gpu)
{
    mig_gpu_state *g = gpu_at(s, gpu);
    if (!g)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (sim_gpu_procs(g) > 0)
        return NVML_ERROR_IN_USE;
    /* A reset loses the GI/CI configuration on every generation. */
    g->n_gi = 0;
    g->mig_current = g->mig_pending;
    return NVML_SUCCESS;
}

void sim_reboot(sim_state *s)
{
    for (unsigned i = 0; i < s->n_gpus; i++) {
        mig_gpu_state *g = &s->gpus[i];
        g->n_gi = 0;
        g->n_procs = 0;
        if (g->model->arch == MIG_ARCH_AMPERE)
            g->mig_current = g->mig_pending; /* kept in the InfoROM */
        else
            g->mig_current = g->mig_pending = false;
    }
}

/* ------------------------------------------------------------ GPU instances */

static bool gi_id_taken(const mig_gpu_state *g, unsigned id)
{
    for (unsigned i = 0; i < g->n_gi; i++)
        if (g->gi[i].id == id)
            return true;
    return false;
}

/* Canonical: the id a fully enabled die gives that placement. Swizzled: the
 * lowest free id of the size class, so ids do not follow placements. */
static int pick_gi_id(const sim_state *s, const mig_gpu_state *g, const mig_gi_profile *p,
                      unsigned start, unsigned *id)
{
    unsigned lo, hi;
    gi_id_range(g->model, p, &lo, &hi);
    if (!s->swizzled) {
        unsigned c = gi_canonical_id(g->model, p, start);
        if (!gi_id_taken(g, c)) {
            *id = c;
            return 0;
        }
    }
    for (unsigned c = lo; c <= hi; c++)
        if (!gi_id_taken(g, c)) {
            *id = c;
            return 0;
        }
    return -1;
}

static void insert_gi(mig_gpu_state *g, const mig_gi_state *gi)
{
    unsigned at = g->n_gi;
    while (at > 0 && g->gi[at - 1].id > gi->id) {
        g->gi[at] = g->gi[at - 1];
        at--;
    }
    g->gi[at] = *gi;
    g->n_gi++;
}

int sim_create_gi(sim_state *s, unsigned gpu, unsigned profile_id, int start, unsigned *gi_id)
{
    mig_gpu_state *g = gpu_at(s, gpu);
    if (!g)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (!g->mig_current)
        return NVML_ERROR_NOT_SUPPORTED;
    const mig_gi_profile *p = mig_profile_by_id(g->model, profile_id);
    if (!p)
        return NVML_ERROR_INVALID_ARGUMENT;
    mig_layout l;
    mig_error le;
    if (gpu_state_layout(g, &l, &le) < 0 || g->n_gi >= MIG_MAX_GI)
        return NVML_ERROR_INSUFFICIENT_RESOURCES;
    unsigned pos = (unsigned)mig_profile_pos(g->model, p);
    if (start >= 0) {
        if (!layout_start_valid(p, (unsigned)start))
            return NVML_ERROR_INVALID_ARGUMENT;
        mig_fit f = layout_fits(g->model, &l, pos, (unsigned)start);
        if (f != MIG_FIT_OK)
            return mig_fit_nvml_rc(f);
    } else {
        start = layout_auto_start(g->model, &l, pos);
        if (start < 0)
            return NVML_ERROR_INSUFFICIENT_RESOURCES;
    }
    mig_gi_state gi = {.profile_id = profile_id, .start = (unsigned)start,
                       .size = p->memory_slices};
    if (pick_gi_id(s, g, p, (unsigned)start, &gi.id) < 0)
        return NVML_ERROR_INSUFFICIENT_RESOURCES;
    insert_gi(g, &gi);
    s->serial++;
    if (gi_id)
        *gi_id = gi.id;
    return NVML_SUCCESS;
}

int sim_destroy_gi(sim_state *s, unsigned gpu, unsigned gi_id)
{
    mig_gpu_state *g = gpu_at(s, gpu);
    if (!g)
        return NVML_ERROR_INVALID_ARGUMENT;
    mig_gi_state *gi = sim_find_gi(s, gpu, gi_id);
    if (!gi)
        return NVML_ERROR_NOT_FOUND;
    if (gi->n_ci > 0) /* processes run on CIs, so this covers them too */
        return NVML_ERROR_IN_USE;
    unsigned at = (unsigned)(gi - g->gi);
    memmove(&g->gi[at], &g->gi[at + 1], (g->n_gi - at - 1) * sizeof g->gi[0]);
    g->n_gi--;
    return NVML_SUCCESS;
}

int sim_remaining(const sim_state *s, unsigned gpu, unsigned profile_id, unsigned *count)
{
    if (gpu >= s->n_gpus)
        return NVML_ERROR_INVALID_ARGUMENT;
    const mig_gpu_state *g = &s->gpus[gpu];
    const mig_gi_profile *p = mig_profile_by_id(g->model, profile_id);
    if (!p)
        return NVML_ERROR_INVALID_ARGUMENT;
    mig_layout l;
    mig_error le;
    if (gpu_state_layout(g, &l, &le) < 0)
        return NVML_ERROR_UNKNOWN;
    /* With MIG off there are no GIs: the full counts, as the H200 answers. */
    *count = layout_remaining(g->model, &l, (unsigned)mig_profile_pos(g->model, p));
    return NVML_SUCCESS;
}

/* ------------------------------------------------------------ compute instances */

static unsigned ci_used_mask(const mig_gi_state *gi)
{
    unsigned used = 0;
    for (unsigned i = 0; i < gi->n_ci; i++)
        used |= ((1u << gi->ci[i].slices) - 1) << gi->ci[i].start;
    return used;
}

int sim_create_ci(sim_state *s, unsigned gpu, unsigned gi_id, unsigned ci_profile_id, int start,
                  unsigned *ci_id)
{
    mig_gpu_state *g = gpu_at(s, gpu);
    if (!g)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (!g->mig_current)
        return NVML_ERROR_NOT_SUPPORTED;
    mig_gi_state *gi = sim_find_gi(s, gpu, gi_id);
    if (!gi)
        return NVML_ERROR_NOT_FOUND;
    const mig_gi_profile *gp = mig_profile_by_id(g->model, gi->profile_id);
    mig_ci_profile cp;
    if (!gp || !mig_ci_profile_by_id(g->model, gp, ci_profile_id, &cp))
        return NVML_ERROR_NOT_SUPPORTED;
    unsigned used = ci_used_mask(gi);
    if (start >= 0) {
        mig_fit f = ci_fits(&cp, used, (unsigned)start);
        if (f != MIG_FIT_OK)
            return mig_fit_nvml_rc(f);
    } else {
        start = ci_auto_start(g->model, gp, &cp, used);
        if (start < 0)
            return NVML_ERROR_INSUFFICIENT_RESOURCES;
    }
    if (gi->n_ci >= MIG_MAX_CI)
        return NVML_ERROR_INSUFFICIENT_RESOURCES;
    unsigned id = 0;
    while (sim_find_ci(gi, id))
        id++;
    mig_ci_state ci = {.id = id, .profile_id = ci_profile_id, .start = (unsigned)start,
                       .slices = cp.compute_slices};
    s->serial++;
    sim_uuid("MIG-", gpu, s->serial ^ sim_uuid_salt(g->uuid), ci.uuid, sizeof ci.uuid);
    unsigned at = gi->n_ci;
    while (at > 0 && gi->ci[at - 1].id > id) {
        gi->ci[at] = gi->ci[at - 1];
        at--;
    }
    gi->ci[at] = ci;
    gi->n_ci++;
    if (ci_id)
        *ci_id = id;
    return NVML_SUCCESS;
}

int sim_destroy_ci(sim_state *s, unsigned gpu, unsigned gi_id, unsigned ci_id)
{
    if (gpu >= s->n_gpus)
        return NVML_ERROR_INVALID_ARGUMENT;
    mig_gi_state *gi = sim_find_gi(s, gpu, gi_id);
    mig_ci_state *ci = sim_find_ci(gi, ci_id);
    if (!ci)
        return NVML_ERROR_NOT_FOUND;
    if (ci->n_procs > 0)
        return NVML_ERROR_IN_USE;
    unsigned at = (unsigned)(ci - gi->ci);
    memmove(&gi->ci[at], &gi->ci[at + 1], (gi->n_ci - at - 1) * sizeof gi->ci[0]);
    gi->n_ci--;
    return NVML_SUCCESS;
}

/* ------------------------------------------------------------ processes */

static unsigned *procs_place(sim_state *s, unsigned gpu, int gi_id, int ci_id, mig_error *e)
{
    mig_gpu_state *g = gpu_at(s, gpu);
    if (!g) {
        mig_fail(e, MIG_ERR_INPUT, "GPU index %u out of range (the node has %u GPU%s, 0-%u)", gpu,
                 s->n_gpus, s->n_gpus == 1 ? "" : "s", s->n_gpus - 1);
        return NULL;
    }
    if (gi_id < 0)
        return &g->n_procs;
    mig_gi_state *gi = sim_find_gi(s, gpu, (unsigned)gi_id);
    if (!gi) {
        mig_fail(e, MIG_ERR_INPUT, "GPU %u has no GPU instance %d", gpu, gi_id);
        return NULL;
    }
    if (gi->n_ci == 0) {
        mig_fail(e, MIG_ERR_INPUT,
                 "GPU instance %d on GPU %u has no compute instance for a process to run on",
                 gi_id, gpu);
        return NULL;
    }
    if (ci_id < 0)
        return &gi->ci[0].n_procs;
    mig_ci_state *ci = sim_find_ci(gi, (unsigned)ci_id);
    if (!ci) {
        mig_fail(e, MIG_ERR_INPUT, "GPU instance %d on GPU %u has no compute instance %d", gi_id,
                 gpu, ci_id);
        return NULL;
    }
    return &ci->n_procs;
}

int sim_procs_n(sim_state *s, unsigned gpu, int gi_id, int ci_id, bool start, unsigned count,
                mig_error *e)
{
    unsigned *n = procs_place(s, gpu, gi_id, ci_id, e);
    if (!n)
        return -1;
    if (!start) {
        *n = count == 0 || count > *n ? 0 : *n - count;
        return 0;
    }
    if (count == 0)
        count = 1;
    if (count > SIM_MAX_PROCS || *n + count > SIM_MAX_PROCS)
        return mig_fail(e, MIG_ERR_INPUT, "at most %d simulated processes per place (has %u)",
                        SIM_MAX_PROCS, *n);
    *n += count;
    return 0;
}

int sim_procs(sim_state *s, unsigned gpu, int gi_id, int ci_id, bool start, mig_error *e)
{
    return sim_procs_n(s, gpu, gi_id, ci_id, start, 0, e);
}
