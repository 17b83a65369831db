/*
 * shim_instances.c: the NVML shim's GPU-instance and compute-instance calls:
 * profile info (v1 struct, V with v2/v3 layouts, ByIdV), possible placements
 * (v1, v2), remaining capacity, create (with and without placement), destroy,
 * list, by id and info, for GIs and for CIs.
 *
 * The numbers come from the catalogue model of the simulated GPU and the
 * rules from gpu/sim.h, so this library and migctl's sim backend cannot
 * disagree. Profile queries work with MIG off (as on Hopper); everything
 * about live instances needs MIG on (NOT_SUPPORTED otherwise), except
 * GetGpuInstanceById, which answers NOT_FOUND as the real driver does.
 * Versioned structs get their version field zeroed after a successful call,
 * as the real library does, so a client that forgets to set it again fails
 * here as it would there.
 */
#include <stdio.h>
#include <string.h>

#include "gpu/sim.h"
#include "model/catalogue.h"
#include "shim/shim.h"

/* ------------------------------------------------------------ helpers */

#define BEGIN_READ()                   \
    sim_state *s;                      \
    int rc = shim_begin(false, &s);    \
    if (rc)                            \
        return rc

static const mig_gi_profile *profile_by_index(const mig_gpu_state *g, unsigned index, int *rc)
{
    const mig_gi_profile *p = g->model ? mig_profile_by_index(g->model, index) : NULL;
    if (index >= SHIM_GI_PROFILE_COUNT)
        *rc = NVML_ERROR_INVALID_ARGUMENT; /* past the indices this NVML knows */
    else
        *rc = p ? NVML_SUCCESS : NVML_ERROR_NOT_SUPPORTED;
    return p;
}

static void gi_profile_v1(const mig_gi_profile *p, nvmlGpuInstanceProfileInfo_t *o)
{
    *o = (nvmlGpuInstanceProfileInfo_t){
        .id = p->id, .isP2pSupported = p->p2p, .sliceCount = p->compute_slices,
        .instanceCount = p->instance_count, .multiprocessorCount = p->sm_count,
        .copyEngineCount = p->copy_engines, .decoderCount = p->decoders,
        .encoderCount = p->encoders, .jpegCount = p->jpeg, .ofaCount = p->ofa,
        .memorySizeMB = p->memory_mib};
}

/* v2 and v3 share a size but not a layout; the version says which. */
static int gi_profile_v(const mig_gi_profile *p, nvmlGpuInstanceProfileInfo_v2_t *o)
{
    unsigned version = o->version;
    if (version != nvmlGpuInstanceProfileInfo_v2 && version != nvmlGpuInstanceProfileInfo_v3)
        return NVML_ERROR_INVALID_ARGUMENT;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    snprintf(name, sizeof name, "MIG %s", p->name);
    if (version == nvmlGpuInstanceProfileInfo_v2) {
        *o = (nvmlGpuInstanceProfileInfo_v2_t){
            .id = p->id, .isP2pSupported = p->p2p, .sliceCount = p->compute_slices,
            .instanceCount = p->instance_count, .multiprocessorCount = p->sm_count,
            .copyEngineCount = p->copy_engines, .decoderCount = p->decoders,
            .encoderCount = p->encoders, .jpegCount = p->jpeg, .ofaCount = p->ofa,
            .memorySizeMB = p->memory_mib};
        memcpy(o->name, name, sizeof name);
    } else {
        nvmlGpuInstanceProfileInfo_v3_t *o3 = (nvmlGpuInstanceProfileInfo_v3_t *)o;
        *o3 = (nvmlGpuInstanceProfileInfo_v3_t){
            .id = p->id, .sliceCount = p->compute_slices, .instanceCount = p->instance_count,
            .multiprocessorCount = p->sm_count, .copyEngineCount = p->copy_engines,
            .decoderCount = p->decoders, .encoderCount = p->encoders, .jpegCount = p->jpeg,
            .ofaCount = p->ofa, .memorySizeMB = p->memory_mib,
            .capabilities = (p->p2p ? NVML_GPU_INSTANCE_PROFILE_CAPS_P2P : 0) |
                            (p->attr == MIG_ATTR_GFX ? NVML_GPU_INSTANCE_PROFILE_CAPS_GFX : 0)};
        memcpy(o3->name, name, sizeof name);
    }
    return NVML_SUCCESS; /* version left 0, as the real library leaves it */
}

/* ------------------------------------------------------------ GI profiles */

SHIM_API nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfo(nvmlDevice_t dev, unsigned index,
                                                         nvmlGpuInstanceProfileInfo_t *info)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && !info)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    const mig_gi_profile *p = rc ? NULL : profile_by_index(r.g, index, &rc);
    if (p)
        gi_profile_v1(p, info);
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfoV(nvmlDevice_t dev, unsigned index,
                                                          nvmlGpuInstanceProfileInfo_v2_t *info)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && !info)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    const mig_gi_profile *p = rc ? NULL : profile_by_index(r.g, index, &rc);
    if (p)
        rc = gi_profile_v(p, info);
    shim_end(s);
    return rc;
}

SHIM_API_R525 nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfoByIdV(
    nvmlDevice_t dev, unsigned profile_id, nvmlGpuInstanceProfileInfo_v2_t *info)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    const mig_gi_profile *p = rc ? NULL : shim_gi_profile(r.g, profile_id);
    if (rc == NVML_SUCCESS)
        rc = p && info ? gi_profile_v(p, info) : NVML_ERROR_INVALID_ARGUMENT;
    shim_end(s);
    return rc;
}

/* v2: placements NULL asks for the count; otherwise *count is the capacity. */
static int placements(const mig_gi_profile *p, nvmlGpuInstancePlacement_t *out, unsigned *count,
                      bool v1)
{
    if (!count || (v1 && !out))
        return NVML_ERROR_INVALID_ARGUMENT;
    if (!out) {
        *count = p->n_starts;
        return NVML_SUCCESS;
    }
    if (!v1 && *count < p->n_starts) {
        *count = p->n_starts;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned i = 0; i < p->n_starts; i++)
        out[i] = (nvmlGpuInstancePlacement_t){p->starts[i], p->memory_slices};
    *count = p->n_starts;
    return NVML_SUCCESS;
}

static nvmlReturn_t possible_placements(nvmlDevice_t dev, unsigned profile_id,
                                        nvmlGpuInstancePlacement_t *out, unsigned *count, bool v1)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    const mig_gi_profile *p = rc ? NULL : shim_gi_profile(r.g, profile_id);
    if (rc == NVML_SUCCESS)
        rc = p ? placements(p, out, count, v1) : NVML_ERROR_INVALID_ARGUMENT;
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlDeviceGetGpuInstancePossiblePlacements_v2(
    nvmlDevice_t dev, unsigned profile_id, nvmlGpuInstancePlacement_t *out, unsigned *count)
{
    return possible_placements(dev, profile_id, out, count, false);
}

/* v1 does not take NULL and wants a buffer of instanceCount entries. */
SHIM_API nvmlReturn_t nvmlDeviceGetGpuInstancePossiblePlacements(
    nvmlDevice_t dev, unsigned profile_id, nvmlGpuInstancePlacement_t *out, unsigned *count)
{
    return possible_placements(dev, profile_id, out, count, true);
}

SHIM_API nvmlReturn_t nvmlDeviceGetGpuInstanceRemainingCapacity(nvmlDevice_t dev,
                                                               unsigned profile_id,
                                                               unsigned *count)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS)
        rc = count ? sim_remaining(s, r.gpu, profile_id, count) : NVML_ERROR_INVALID_ARGUMENT;
    shim_end(s);
    return rc;
}

/* ------------------------------------------------------------ GIs */

static nvmlReturn_t create_gi(nvmlDevice_t dev, unsigned profile_id,
                              const nvmlGpuInstancePlacement_t *placement, nvmlGpuInstance_t *gi)
{
    sim_state *s;
    int rc = shim_begin(true, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && !gi)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc) {
        shim_end(s);
        return rc;
    }
    rc = sim_fault_check(s);
    const mig_gi_profile *p = shim_gi_profile(r.g, profile_id);
    /* A placement whose size is not the profile's is not in the list. The
     * simulator only sees starts, so that is checked here, after what the
     * simulator checks first (MIG off, unknown profile). */
    if (rc == NVML_SUCCESS && placement && r.g->mig_current && p &&
        placement->size != p->memory_slices)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    unsigned id = 0;
    if (rc == NVML_SUCCESS)
        rc = sim_create_gi(s, r.gpu, profile_id, placement ? (int)placement->start : -1, &id);
    if (rc == NVML_SUCCESS)
        *gi = shim_gi_handle(r.gpu, id);
    return shim_commit_end(s, rc);
}

SHIM_API nvmlReturn_t nvmlDeviceCreateGpuInstance(nvmlDevice_t dev, unsigned profile_id,
                                                 nvmlGpuInstance_t *gi)
{
    return create_gi(dev, profile_id, NULL, gi);
}

SHIM_API nvmlReturn_t nvmlDeviceCreateGpuInstanceWithPlacement(
    nvmlDevice_t dev, unsigned profile_id, const nvmlGpuInstancePlacement_t *placement,
    nvmlGpuInstance_t *gi)
{
    if (!placement) /* UNINITIALIZED comes first, as everywhere */
        return shim_initialized() ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    return create_gi(dev, profile_id, placement, gi);
}

SHIM_API nvmlReturn_t nvmlGpuInstanceDestroy(nvmlGpuInstance_t gi)
{
    sim_state *s;
    int rc = shim_begin(true, &s);
    if (rc)
        return rc;
    shim_ref r;
    if ((rc = shim_ref_gi(s, gi, &r)) != NVML_SUCCESS) {
        shim_end(s);
        return rc;
    }
    rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_destroy_gi(s, r.gpu, r.gi->id);
    return shim_commit_end(s, rc);
}

/* The GIs of one profile id; the buffer must hold instanceCount entries. */
SHIM_API nvmlReturn_t nvmlDeviceGetGpuInstances(nvmlDevice_t dev, unsigned profile_id,
                                               nvmlGpuInstance_t *gis, unsigned *count)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    const mig_gi_profile *p = rc ? NULL : shim_gi_profile(r.g, profile_id);
    if (rc == NVML_SUCCESS && (!gis || !count || !p))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (rc == NVML_SUCCESS && !r.g->mig_current)
        rc = NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS) {
        unsigned n = 0;
        for (unsigned i = 0; i < r.g->n_gi; i++)
            if (r.g->gi[i].profile_id == profile_id)
                gis[n++] = shim_gi_handle(r.gpu, r.g->gi[i].id);
        *count = n;
    }
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlDeviceGetGpuInstanceById(nvmlDevice_t dev, unsigned id,
                                                  nvmlGpuInstance_t *gi)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && !gi)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        rc = NVML_ERROR_NOT_FOUND; /* with MIG off too, as the H200 answered */
        for (unsigned i = 0; r.g->mig_current && i < r.g->n_gi; i++)
            if (r.g->gi[i].id == id) {
                *gi = shim_gi_handle(r.gpu, id);
                rc = NVML_SUCCESS;
            }
    }
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlGpuInstanceGetInfo(nvmlGpuInstance_t gi, nvmlGpuInstanceInfo_t *info)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_gi(s, gi, &r);
    if (rc == NVML_SUCCESS && !info)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *info = (nvmlGpuInstanceInfo_t){.device = shim_dev_handle(r.gpu), .id = r.gi->id,
                                        .profileId = r.gi->profile_id,
                                        .placement = {r.gi->start, r.gi->size}};
    shim_end(s);
    return rc;
}

/* ------------------------------------------------------------ CI profiles */

/* The CI profile at an NVML CI index inside a GI (index == id on every GPU
 * seen); *rc INVALID_ARGUMENT past the known indices, NOT_SUPPORTED when not
 * valid in this GI. */
static bool ci_profile_at(const shim_ref *r, unsigned index, unsigned eng, mig_ci_profile *c,
                          int *rc)
{
    const mig_gi_profile *gp = shim_gi_profile(r->g, r->gi->profile_id);
    if (index >= SHIM_CI_PROFILE_COUNT ||
        eng != NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED) {
        *rc = NVML_ERROR_INVALID_ARGUMENT;
        return false;
    }
    bool ok = gp && mig_ci_profile_by_id(r->g->model, gp, index, c);
    *rc = ok ? NVML_SUCCESS : NVML_ERROR_NOT_SUPPORTED;
    return ok;
}

static void ci_profile_fill(const shim_ref *r, const mig_ci_profile *c,
                            nvmlComputeInstanceProfileInfo_t *o)
{
    const mig_gi_profile *gp = shim_gi_profile(r->g, r->gi->profile_id);
    *o = (nvmlComputeInstanceProfileInfo_t){
        .id = c->id, .sliceCount = c->compute_slices, .instanceCount = c->instance_count,
        .multiprocessorCount = c->sm_count, .sharedCopyEngineCount = gp->copy_engines,
        .sharedDecoderCount = gp->decoders, .sharedEncoderCount = gp->encoders,
        .sharedJpegCount = gp->jpeg, .sharedOfaCount = gp->ofa};
}

SHIM_API nvmlReturn_t nvmlGpuInstanceGetComputeInstanceProfileInfo(
    nvmlGpuInstance_t gi, unsigned index, unsigned eng, nvmlComputeInstanceProfileInfo_t *info)
{
    BEGIN_READ();
    shim_ref r;
    mig_ci_profile c;
    rc = shim_ref_gi(s, gi, &r);
    if (rc == NVML_SUCCESS && !info)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS && ci_profile_at(&r, index, eng, &c, &rc))
        ci_profile_fill(&r, &c, info);
    shim_end(s);
    return rc;
}

/* v2 (136 bytes) and v3 (140: + capabilities) share the leading layout. */
static int ci_profile_v(const shim_ref *r, const mig_ci_profile *c,
                        nvmlComputeInstanceProfileInfo_v2_t *o)
{
    unsigned version = o->version;
    if (version != nvmlComputeInstanceProfileInfo_v2 &&
        version != nvmlComputeInstanceProfileInfo_v3)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlComputeInstanceProfileInfo_t v1;
    ci_profile_fill(r, c, &v1);
    *o = (nvmlComputeInstanceProfileInfo_v2_t){
        .id = v1.id, .sliceCount = v1.sliceCount, .instanceCount = v1.instanceCount,
        .multiprocessorCount = v1.multiprocessorCount,
        .sharedCopyEngineCount = v1.sharedCopyEngineCount,
        .sharedDecoderCount = v1.sharedDecoderCount,
        .sharedEncoderCount = v1.sharedEncoderCount, .sharedJpegCount = v1.sharedJpegCount,
        .sharedOfaCount = v1.sharedOfaCount}; /* version left 0, as the real library does */
    if (version == nvmlComputeInstanceProfileInfo_v3)
        ((nvmlComputeInstanceProfileInfo_v3_t *)o)->capabilities = 0; /* no +gfx CI here */
    char ci_name[MIG_NAME_LEN * 2];
    mig_ci_state tmp = {.profile_id = c->id, .slices = c->compute_slices};
    ci_state_name(r->g->model, r->gi, &tmp, ci_name, sizeof ci_name);
    snprintf(o->name, sizeof o->name, "MIG %s", ci_name);
    return NVML_SUCCESS;
}

SHIM_API nvmlReturn_t nvmlGpuInstanceGetComputeInstanceProfileInfoV(
    nvmlGpuInstance_t gi, unsigned index, unsigned eng, nvmlComputeInstanceProfileInfo_v2_t *info)
{
    BEGIN_READ();
    shim_ref r;
    mig_ci_profile c;
    rc = shim_ref_gi(s, gi, &r);
    if (rc == NVML_SUCCESS && !info)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS && ci_profile_at(&r, index, eng, &c, &rc))
        rc = ci_profile_v(&r, &c, info);
    shim_end(s);
    return rc;
}

/* Compute slices taken in a GI. */
static unsigned ci_used_mask(const mig_gi_state *gi)
{
    unsigned used = 0;
    for (unsigned i = 0; i < gi->n_ci; i++)
        used |= ((1u << gi->ci[i].slices) - 1) << gi->ci[i].start;
    return used;
}

static int ci_placements(const mig_ci_profile *c, nvmlComputeInstancePlacement_t *out,
                         unsigned *count)
{
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (out && *count < c->n_starts) {
        *count = c->n_starts;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned i = 0; out && i < c->n_starts; i++)
        out[i] = (nvmlComputeInstancePlacement_t){c->starts[i], c->compute_slices};
    *count = c->n_starts;
    return NVML_SUCCESS;
}

SHIM_API_R525 nvmlReturn_t nvmlGpuInstanceGetComputeInstancePossiblePlacements(
    nvmlGpuInstance_t gi, unsigned profile_id, nvmlComputeInstancePlacement_t *out,
    unsigned *count)
{
    BEGIN_READ();
    shim_ref r;
    mig_ci_profile c;
    rc = shim_ref_gi(s, gi, &r);
    if (rc == NVML_SUCCESS && ci_profile_at(&r, profile_id, 0, &c, &rc))
        rc = ci_placements(&c, out, count);
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlGpuInstanceGetComputeInstanceRemainingCapacity(nvmlGpuInstance_t gi,
                                                                        unsigned profile_id,
                                                                        unsigned *count)
{
    BEGIN_READ();
    shim_ref r;
    mig_ci_profile c;
    rc = shim_ref_gi(s, gi, &r);
    if (rc == NVML_SUCCESS && !count)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS && ci_profile_at(&r, profile_id, 0, &c, &rc))
        *count = r.gi->n_ci >= MIG_MAX_CI ? 0 : ci_remaining(&c, ci_used_mask(r.gi));
    shim_end(s);
    return rc;
}

/* ------------------------------------------------------------ CIs */

static nvmlReturn_t create_ci(nvmlGpuInstance_t gi, unsigned profile_id,
                              const nvmlComputeInstancePlacement_t *placement,
                              nvmlComputeInstance_t *ci)
{
    sim_state *s;
    int rc = shim_begin(true, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_gi(s, gi, &r);
    if (rc == NVML_SUCCESS && !ci)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc) {
        shim_end(s);
        return rc;
    }
    unsigned gpu = r.gpu, gi_id = r.gi->id, id = 0;
    mig_ci_profile c;
    int valid_rc;
    rc = sim_fault_check(s);
    /* A size that is not the profile's: not a possible placement. Only for
     * a profile valid in this GI: the simulator answers the others. */
    if (rc == NVML_SUCCESS && placement && ci_profile_at(&r, profile_id, 0, &c, &valid_rc) &&
        placement->size != c.compute_slices)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        rc = sim_create_ci(s, gpu, gi_id, profile_id, placement ? (int)placement->start : -1,
                           &id);
    if (rc == NVML_SUCCESS)
        *ci = shim_ci_handle(gpu, gi_id, id);
    return shim_commit_end(s, rc);
}

SHIM_API nvmlReturn_t nvmlGpuInstanceCreateComputeInstance(nvmlGpuInstance_t gi,
                                                          unsigned profile_id,
                                                          nvmlComputeInstance_t *ci)
{
    return create_ci(gi, profile_id, NULL, ci);
}

SHIM_API_R525 nvmlReturn_t nvmlGpuInstanceCreateComputeInstanceWithPlacement(
    nvmlGpuInstance_t gi, unsigned profile_id, const nvmlComputeInstancePlacement_t *placement,
    nvmlComputeInstance_t *ci)
{
    if (!placement) /* UNINITIALIZED comes first, as everywhere */
        return shim_initialized() ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    return create_ci(gi, profile_id, placement, ci);
}

SHIM_API nvmlReturn_t nvmlComputeInstanceDestroy(nvmlComputeInstance_t ci)
{
    sim_state *s;
    int rc = shim_begin(true, &s);
    if (rc)
        return rc;
    shim_ref r;
    if ((rc = shim_ref_ci(s, ci, &r)) != NVML_SUCCESS) {
        shim_end(s);
        return rc;
    }
    rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_destroy_ci(s, r.gpu, r.gi->id, r.ci->id);
    return shim_commit_end(s, rc);
}

SHIM_API nvmlReturn_t nvmlGpuInstanceGetComputeInstances(nvmlGpuInstance_t gi,
                                                        unsigned profile_id,
                                                        nvmlComputeInstance_t *cis,
                                                        unsigned *count)
{
    BEGIN_READ();
    shim_ref r;
    mig_ci_profile c;
    rc = shim_ref_gi(s, gi, &r);
    if (rc == NVML_SUCCESS && (!cis || !count))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS && ci_profile_at(&r, profile_id, 0, &c, &rc)) {
        unsigned n = 0;
        for (unsigned i = 0; i < r.gi->n_ci; i++)
            if (r.gi->ci[i].profile_id == profile_id)
                cis[n++] = shim_ci_handle(r.gpu, r.gi->id, r.gi->ci[i].id);
        *count = n;
    }
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlGpuInstanceGetComputeInstanceById(nvmlGpuInstance_t gi, unsigned id,
                                                           nvmlComputeInstance_t *ci)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_gi(s, gi, &r);
    if (rc == NVML_SUCCESS && !ci)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        rc = NVML_ERROR_NOT_FOUND;
        for (unsigned i = 0; i < r.gi->n_ci; i++)
            if (r.gi->ci[i].id == id) {
                *ci = shim_ci_handle(r.gpu, r.gi->id, id);
                rc = NVML_SUCCESS;
            }
    }
    shim_end(s);
    return rc;
}

static nvmlReturn_t ci_info(nvmlComputeInstance_t ci, nvmlComputeInstanceInfo_t *info,
                            bool with_placement)
{
    BEGIN_READ();
    shim_ref r;
    rc = shim_ref_ci(s, ci, &r);
    if (rc == NVML_SUCCESS && !info)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        *info = (nvmlComputeInstanceInfo_t){
            .device = shim_dev_handle(r.gpu), .gpuInstance = shim_gi_handle(r.gpu, r.gi->id),
            .id = r.ci->id, .profileId = r.ci->profile_id};
        if (with_placement)
            info->placement = (nvmlComputeInstancePlacement_t){r.ci->start, r.ci->slices};
    }
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlComputeInstanceGetInfo_v2(nvmlComputeInstance_t ci,
                                                   nvmlComputeInstanceInfo_t *info)
{
    return ci_info(ci, info, true);
}

/* The v1 call predates CI placements: it leaves placement alone. */
SHIM_API nvmlReturn_t nvmlComputeInstanceGetInfo(nvmlComputeInstance_t ci,
                                                nvmlComputeInstanceInfo_t *info)
{
    return ci_info(ci, info, false);
}
