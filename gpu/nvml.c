/*
 * nvml.c: the nvml backend. Loads libnvidia-ml.so.1 (or $MIGCTL_NVML_LIB)
 * with dlopen at run time, so migctl builds and runs where there is no
 * driver, and answers gpu/backend.h from NVML calls alone.
 *
 * How it works:
 *   - Every symbol is looked up by its versioned name (nvmlInit_v2, ...) into
 *     a table of function pointers; a symbol the driver lacks stays NULL and a
 *     call through it returns NVML_ERROR_FUNCTION_NOT_FOUND ("not available on
 *     this driver") instead of crashing. Only init/shutdown, count and
 *     handle-by-index are required to open.
 *   - nvmlInit once at open, nvmlShutdown once at close.
 *   - Profiles are read per device by enumerating profile indices 0.. until
 *     INVALID_ARGUMENT (NOT_SUPPORTED indices skipped); ids are never assumed.
 *     Names are derived from memorySizeMB and the device memory with
 *     mig_profile_name_derive, never read from NVML's name field.
 *   - Placements come from GetGpuInstanceInfo; no placement is ever inferred
 *     from a GI id.
 *   - Errors follow backend.h: "<NVML API name>: <nvmlErrorString>", the same
 *     text the sim backend prints for the same failure. When the library is
 *     migctl's own shim, a failure of the state file behind it is reported
 *     with the simulator's own message and kind (shim extension
 *     migsimLastError), so a corrupt file reads the same on both backends.
 */
#include <dlfcn.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpu/backend.h"
#include "gpu/nvml_abi.h"
#include "gpu/nvml_sample.h"
#include "model/profile_name.h"

#define NVML_LIB_DEFAULT "libnvidia-ml.so.1"
#define MAX_CI_IDS 16
#define MAX_LIST 16

extern char **environ;

/* Members are named after the symbol minus "nvml", so SYM() can list them. */
typedef struct {
    nvmlReturn_t (*Init_v2)(void);
    nvmlReturn_t (*Shutdown)(void);
    const char *(*ErrorString)(nvmlReturn_t);
    nvmlReturn_t (*DeviceGetCount_v2)(unsigned *);
    nvmlReturn_t (*DeviceGetHandleByIndex_v2)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*DeviceGetName)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*DeviceGetPciInfo_v3)(nvmlDevice_t, nvmlPciInfo_t *);
    nvmlReturn_t (*DeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t *);
    nvmlReturn_t (*DeviceGetMemoryInfo_v2)(nvmlDevice_t, nvmlMemory_v2_t *);
    nvmlReturn_t (*DeviceGetMigMode)(nvmlDevice_t, unsigned *, unsigned *);
    nvmlReturn_t (*DeviceSetMigMode)(nvmlDevice_t, unsigned, nvmlReturn_t *);
    nvmlReturn_t (*DeviceGetGpuInstanceProfileInfo)(nvmlDevice_t, unsigned,
                                                    nvmlGpuInstanceProfileInfo_t *);
    nvmlReturn_t (*DeviceGetGpuInstanceProfileInfoV)(nvmlDevice_t, unsigned,
                                                     nvmlGpuInstanceProfileInfo_v2_t *);
    nvmlReturn_t (*DeviceGetGpuInstancePossiblePlacements_v2)(nvmlDevice_t, unsigned,
                                                              nvmlGpuInstancePlacement_t *,
                                                              unsigned *);
    nvmlReturn_t (*DeviceGetGpuInstancePossiblePlacements)(nvmlDevice_t, unsigned,
                                                           nvmlGpuInstancePlacement_t *,
                                                           unsigned *);
    nvmlReturn_t (*DeviceGetGpuInstanceRemainingCapacity)(nvmlDevice_t, unsigned, unsigned *);
    nvmlReturn_t (*DeviceCreateGpuInstance)(nvmlDevice_t, unsigned, nvmlGpuInstance_t *);
    nvmlReturn_t (*DeviceCreateGpuInstanceWithPlacement)(nvmlDevice_t, unsigned,
                                                         const nvmlGpuInstancePlacement_t *,
                                                         nvmlGpuInstance_t *);
    nvmlReturn_t (*GpuInstanceDestroy)(nvmlGpuInstance_t);
    nvmlReturn_t (*DeviceGetGpuInstances)(nvmlDevice_t, unsigned, nvmlGpuInstance_t *, unsigned *);
    nvmlReturn_t (*DeviceGetGpuInstanceById)(nvmlDevice_t, unsigned, nvmlGpuInstance_t *);
    nvmlReturn_t (*GpuInstanceGetInfo)(nvmlGpuInstance_t, nvmlGpuInstanceInfo_t *);
    nvmlReturn_t (*GpuInstanceGetComputeInstanceProfileInfo)(nvmlGpuInstance_t, unsigned, unsigned,
                                                             nvmlComputeInstanceProfileInfo_t *);
    nvmlReturn_t (*GpuInstanceCreateComputeInstance)(nvmlGpuInstance_t, unsigned,
                                                     nvmlComputeInstance_t *);
    nvmlReturn_t (*GpuInstanceCreateComputeInstanceWithPlacement)(
        nvmlGpuInstance_t, unsigned, const nvmlComputeInstancePlacement_t *,
        nvmlComputeInstance_t *);
    nvmlReturn_t (*ComputeInstanceDestroy)(nvmlComputeInstance_t);
    nvmlReturn_t (*GpuInstanceGetComputeInstances)(nvmlGpuInstance_t, unsigned,
                                                   nvmlComputeInstance_t *, unsigned *);
    nvmlReturn_t (*GpuInstanceGetComputeInstanceById)(nvmlGpuInstance_t, unsigned,
                                                      nvmlComputeInstance_t *);
    nvmlReturn_t (*ComputeInstanceGetInfo_v2)(nvmlComputeInstance_t, nvmlComputeInstanceInfo_t *);
    nvmlReturn_t (*DeviceGetMaxMigDeviceCount)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*DeviceGetMigDeviceHandleByIndex)(nvmlDevice_t, unsigned, nvmlDevice_t *);
    nvmlReturn_t (*DeviceGetGpuInstanceId)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*DeviceGetComputeInstanceId)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*DeviceGetComputeRunningProcesses_v3)(nvmlDevice_t, unsigned *,
                                                        nvmlProcessInfo_t *);
    /* Extensions of migctl's shim (absent from a real driver). */
    nvmlReturn_t (*simDeviceReset)(nvmlDevice_t);
    int (*simLastError)(char *, unsigned);
} nvml_api;

static const struct {
    const char *symbol;
    size_t offset;
    int required;
} api_symbols[] = {
#define SYM(member, req) {"nvml" #member, offsetof(nvml_api, member), req}
    SYM(Init_v2, 1), SYM(Shutdown, 1), SYM(ErrorString, 0), SYM(DeviceGetCount_v2, 1),
    SYM(DeviceGetHandleByIndex_v2, 1), SYM(DeviceGetName, 0), SYM(DeviceGetUUID, 0),
    SYM(DeviceGetPciInfo_v3, 0), SYM(DeviceGetMemoryInfo, 0), SYM(DeviceGetMemoryInfo_v2, 0),
    SYM(DeviceGetMigMode, 0), SYM(DeviceSetMigMode, 0), SYM(DeviceGetGpuInstanceProfileInfo, 0),
    SYM(DeviceGetGpuInstanceProfileInfoV, 0), SYM(DeviceGetGpuInstancePossiblePlacements_v2, 0),
    SYM(DeviceGetGpuInstancePossiblePlacements, 0),
    SYM(DeviceGetGpuInstanceRemainingCapacity, 0), SYM(DeviceCreateGpuInstance, 0),
    SYM(DeviceCreateGpuInstanceWithPlacement, 0), SYM(GpuInstanceDestroy, 0),
    SYM(DeviceGetGpuInstances, 0), SYM(DeviceGetGpuInstanceById, 0), SYM(GpuInstanceGetInfo, 0),
    SYM(GpuInstanceGetComputeInstanceProfileInfo, 0), SYM(GpuInstanceCreateComputeInstance, 0),
    SYM(GpuInstanceCreateComputeInstanceWithPlacement, 0), SYM(ComputeInstanceDestroy, 0),
    SYM(GpuInstanceGetComputeInstances, 0), SYM(GpuInstanceGetComputeInstanceById, 0),
    SYM(ComputeInstanceGetInfo_v2, 0), SYM(DeviceGetMaxMigDeviceCount, 0),
    SYM(DeviceGetMigDeviceHandleByIndex, 0), SYM(DeviceGetGpuInstanceId, 0),
    SYM(DeviceGetComputeInstanceId, 0), SYM(DeviceGetComputeRunningProcesses_v3, 0),
#undef SYM
    {"migsimDeviceReset", offsetof(nvml_api, simDeviceReset), 0},
    {"migsimLastError", offsetof(nvml_api, simLastError), 0},
};

typedef struct {
    void *lib;
    nvml_api api;
    mig_backend base;
    nvml_sampler *sampler; /* telemetry (gpu/nvml_sample.c), made at the first sample */
} nvml_backend;

/* Call through a symbol that may be missing. */
#define NV(nb, fn, ...) \
    ((nb)->api.fn ? (nb)->api.fn(__VA_ARGS__) : NVML_ERROR_FUNCTION_NOT_FOUND)

static nvml_backend *impl(mig_backend *b)
{
    return b->impl;
}

/* The backend.h error: "<api>: <nvmlErrorString>", unless the shim says the
 * simulator's state file itself failed, in which case its message wins. */
static int nv_fail(nvml_backend *nb, mig_error *e, int rc, const char *api)
{
    if (nb->api.simLastError) {
        char msg[sizeof e->msg];
        int kind = nb->api.simLastError(msg, sizeof msg);
        if (kind > MIG_ERR_NONE && kind <= MIG_ERR_SYSTEM)
            return mig_fail(e, (mig_err_kind)kind, "%s", msg);
    }
    const char *text = nb->api.ErrorString ? nb->api.ErrorString(rc) : NULL;
    mig_fail(e, MIG_ERR_BACKEND, "%s: %s%s", api, text ? text : nvml_rc_string(rc),
             nvml_rc_hint(rc, api));
    e->nvml = rc;
    return -1;
}

static int device(nvml_backend *nb, unsigned idx, nvmlDevice_t *dev, mig_error *e)
{
    int rc = nb->api.DeviceGetHandleByIndex_v2(idx, dev);
    return rc ? nv_fail(nb, e, rc, "nvmlDeviceGetHandleByIndex") : 0;
}

static int nvml_gpu_count(mig_backend *b, unsigned *n, mig_error *e)
{
    nvml_backend *nb = impl(b);
    int rc = nb->api.DeviceGetCount_v2(n);
    return rc ? nv_fail(nb, e, rc, "nvmlDeviceGetCount") : 0;
}

/* ------------------------------------------------------------ profiles */

/* The name suffix an NVML GI profile index stands for. */
static mig_attr attr_of_index(unsigned index)
{
    switch (index) {
    case NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV1:
    case NVML_GPU_INSTANCE_PROFILE_2_SLICE_REV1:
        return MIG_ATTR_ME;
    case NVML_GPU_INSTANCE_PROFILE_1_SLICE_ALL_ME:
    case NVML_GPU_INSTANCE_PROFILE_2_SLICE_ALL_ME:
        return MIG_ATTR_ME_ALL;
    case NVML_GPU_INSTANCE_PROFILE_1_SLICE_NO_ME:
    case NVML_GPU_INSTANCE_PROFILE_2_SLICE_NO_ME:
        return MIG_ATTR_NO_ME;
    case NVML_GPU_INSTANCE_PROFILE_1_SLICE_GFX:
    case NVML_GPU_INSTANCE_PROFILE_2_SLICE_GFX:
    case NVML_GPU_INSTANCE_PROFILE_4_SLICE_GFX:
    case NVML_GPU_INSTANCE_PROFILE_3_SLICE_GFX:
        return MIG_ATTR_GFX;
    default:
        return MIG_ATTR_NONE;
    }
}

/* Could an older struct version or call succeed where this one failed? The
 * live H200 answers a version it does not know with INVALID_ARGUMENT; the
 * header also defines ARGUMENT_VERSION_MISMATCH for it. */
static bool version_refused(int rc)
{
    return rc == NVML_ERROR_INVALID_ARGUMENT || rc == NVML_ERROR_ARGUMENT_VERSION_MISMATCH ||
           rc == NVML_ERROR_FUNCTION_NOT_FOUND;
}

/* One profile's numbers through the newest struct the driver takes: V with
 * v3, then V with v2, then the v1 call. The version is set before every call
 * because the library overwrites it. Returns the NVML code. */
static int profile_info(nvml_backend *nb, nvmlDevice_t dev, unsigned index, mig_gi_profile *p)
{
    union {
        nvmlGpuInstanceProfileInfo_v2_t v2;
        nvmlGpuInstanceProfileInfo_v3_t v3;
        nvmlGpuInstanceProfileInfo_t v1;
    } u;
    memset(&u, 0, sizeof u);
    u.v3.version = nvmlGpuInstanceProfileInfo_v3;
    int rc = NV(nb, DeviceGetGpuInstanceProfileInfoV, dev, index, &u.v2);
    if (rc == NVML_SUCCESS) {
        *p = (mig_gi_profile){.index = index, .id = u.v3.id, .compute_slices = u.v3.sliceCount,
                              .instance_count = u.v3.instanceCount,
                              .sm_count = u.v3.multiprocessorCount,
                              .copy_engines = u.v3.copyEngineCount,
                              .decoders = u.v3.decoderCount, .encoders = u.v3.encoderCount,
                              .jpeg = u.v3.jpegCount, .ofa = u.v3.ofaCount,
                              .memory_mib = u.v3.memorySizeMB,
                              .p2p = (u.v3.capabilities & NVML_GPU_INSTANCE_PROFILE_CAPS_P2P) != 0};
        return rc;
    }
    if (!version_refused(rc))
        return rc;
    /* INVALID_ARGUMENT is both "index past the end" and "struct version
     * unknown" (a driver before 12.3): v2 tells them apart. */
    memset(&u, 0, sizeof u);
    u.v2.version = nvmlGpuInstanceProfileInfo_v2;
    rc = NV(nb, DeviceGetGpuInstanceProfileInfoV, dev, index, &u.v2);
    if (rc == NVML_SUCCESS) {
        *p = (mig_gi_profile){.index = index, .id = u.v2.id, .compute_slices = u.v2.sliceCount,
                              .instance_count = u.v2.instanceCount,
                              .sm_count = u.v2.multiprocessorCount,
                              .copy_engines = u.v2.copyEngineCount,
                              .decoders = u.v2.decoderCount, .encoders = u.v2.encoderCount,
                              .jpeg = u.v2.jpegCount, .ofa = u.v2.ofaCount,
                              .memory_mib = u.v2.memorySizeMB, .p2p = u.v2.isP2pSupported != 0};
        return rc;
    }
    if (!version_refused(rc))
        return rc;
    memset(&u, 0, sizeof u);
    rc = NV(nb, DeviceGetGpuInstanceProfileInfo, dev, index, &u.v1);
    if (rc == NVML_SUCCESS)
        *p = (mig_gi_profile){.index = index, .id = u.v1.id, .compute_slices = u.v1.sliceCount,
                              .instance_count = u.v1.instanceCount,
                              .sm_count = u.v1.multiprocessorCount,
                              .copy_engines = u.v1.copyEngineCount,
                              .decoders = u.v1.decoderCount, .encoders = u.v1.encoderCount,
                              .jpeg = u.v1.jpegCount, .ofa = u.v1.ofaCount,
                              .memory_mib = u.v1.memorySizeMB, .p2p = u.v1.isP2pSupported != 0};
    return rc;
}

/* All placements of a profile id, ascending (v2: NULL asks for the count;
 * v1 wants a buffer as large as instanceCount). */
static int placements(nvml_backend *nb, nvmlDevice_t dev, unsigned profile_id,
                      nvmlGpuInstancePlacement_t *out, unsigned *n)
{
    unsigned count = 0;
    int rc = NV(nb, DeviceGetGpuInstancePossiblePlacements_v2, dev, profile_id, NULL, &count);
    if (rc == NVML_SUCCESS && count > MAX_LIST)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    if (rc == NVML_SUCCESS) {
        *n = count;
        return count ? NV(nb, DeviceGetGpuInstancePossiblePlacements_v2, dev, profile_id, out, n)
                     : NVML_SUCCESS;
    }
    if (rc != NVML_ERROR_FUNCTION_NOT_FOUND)
        return rc;
    *n = MAX_LIST;
    return NV(nb, DeviceGetGpuInstancePossiblePlacements, dev, profile_id, out, n);
}

static unsigned long long device_memory(nvml_backend *nb, nvmlDevice_t dev, const mig_model *m)
{
    /* v1 first: its total is what the readings (and so the catalogue's
     * names) were taken from; v2 for a driver that dropped v1. */
    nvmlMemory_t m1 = {0};
    if (NV(nb, DeviceGetMemoryInfo, dev, &m1) == NVML_SUCCESS && m1.total)
        return m1.total;
    nvmlMemory_v2_t m2 = {.version = nvmlMemory_v2};
    if (NV(nb, DeviceGetMemoryInfo_v2, dev, &m2) == NVML_SUCCESS && m2.total)
        return m2.total;
    /* In MIG mode the parent's memory needs privileges; the model knows it. */
    return m ? m->memory_bytes : 0;
}

/* The catalogue model of a GPU: by PCI device id; by NVML name only for a
 * model whose PCI id no public source gives (it has none in the catalogue),
 * so that a GPU with an unknown id is never taken for a known model. */
static const mig_model *model_for(unsigned pci_device_id, const char *name)
{
    const mig_model *m = mig_model_by_pci(pci_device_id);
    if (!m && name) {
        m = mig_model_by_nvml_name(name);
        if (m && m->n_pci_ids != 0)
            m = NULL;
    }
    return m;
}

static const mig_model *device_model(nvml_backend *nb, nvmlDevice_t dev)
{
    nvmlPciInfo_t pci;
    char name[96] = "";
    memset(&pci, 0, sizeof pci);
    if (NV(nb, DeviceGetPciInfo_v3, dev, &pci) != NVML_SUCCESS)
        return NULL;
    if (NV(nb, DeviceGetName, dev, name, sizeof name) != NVML_SUCCESS)
        name[0] = '\0';
    return model_for(pci.pciDeviceId, name);
}

/* nvidia-smi -lgip order: compute slices, then memory, then id. */
static int profile_order(const void *a, const void *b)
{
    const mig_gi_profile *x = a, *y = b;
    if (x->compute_slices != y->compute_slices)
        return x->compute_slices < y->compute_slices ? -1 : 1;
    if (x->memory_mib != y->memory_mib)
        return x->memory_mib < y->memory_mib ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Fill the placement part of a profile and its derived name. */
static int profile_complete(nvml_backend *nb, nvmlDevice_t dev, unsigned long long total,
                            mig_gi_profile *p, mig_error *e)
{
    nvmlGpuInstancePlacement_t pl[MAX_LIST];
    unsigned n = 0;
    int rc = placements(nb, dev, p->id, pl, &n);
    if (rc)
        return nv_fail(nb, e, rc, "nvmlDeviceGetGpuInstancePossiblePlacements");
    p->n_starts = 0;
    for (unsigned i = 0; i < n && p->n_starts < MIG_MAX_STARTS; i++) {
        p->starts[p->n_starts++] = (unsigned char)pl[i].start;
        p->memory_slices = pl[i].size;
    }
    p->attr = attr_of_index(p->index);
    mig_profile_name_derive(p->compute_slices, p->memory_mib, total, p->attr, p->name,
                            sizeof p->name);
    return 0;
}

/* Every GI profile the device reports, sorted; *n in/out. */
static int device_profiles(nvml_backend *nb, nvmlDevice_t dev, mig_gi_profile *out, unsigned *n,
                           bool with_placements, mig_error *e)
{
    unsigned cap = *n, count = 0;
    unsigned long long total = device_memory(nb, dev, device_model(nb, dev));
    for (unsigned index = 0; index < 64; index++) {
        mig_gi_profile p;
        memset(&p, 0, sizeof p);
        int rc = profile_info(nb, dev, index, &p);
        if (rc == NVML_ERROR_INVALID_ARGUMENT)
            break; /* past the last index this driver knows */
        if (rc == NVML_ERROR_NOT_SUPPORTED)
            continue;
        if (rc)
            return nv_fail(nb, e, rc, "nvmlDeviceGetGpuInstanceProfileInfo");
        if (count == cap)
            return mig_fail(e, MIG_ERR_BACKEND, "GPU reports more than %u MIG profiles", cap);
        if (with_placements && profile_complete(nb, dev, total, &p, e) < 0)
            return -1;
        out[count++] = p;
    }
    qsort(out, count, sizeof out[0], profile_order);
    *n = count;
    return 0;
}

static int nvml_gi_profiles(mig_backend *b, unsigned idx, mig_gi_profile *out, unsigned *n,
                            mig_error *e)
{
    nvml_backend *nb = impl(b);
    nvmlDevice_t dev;
    if (device(nb, idx, &dev, e) < 0)
        return -1;
    return device_profiles(nb, dev, out, n, true, e);
}

static int nvml_remaining(mig_backend *b, unsigned idx, unsigned profile_id, unsigned *count,
                          mig_error *e)
{
    nvml_backend *nb = impl(b);
    nvmlDevice_t dev;
    if (device(nb, idx, &dev, e) < 0)
        return -1;
    int rc = NV(nb, DeviceGetGpuInstanceRemainingCapacity, dev, profile_id, count);
    return rc ? nv_fail(nb, e, rc, "nvmlDeviceGetGpuInstanceRemainingCapacity") : 0;
}

/* ------------------------------------------------------------ state */

static int identity(nvml_backend *nb, nvmlDevice_t dev, mig_gpu_state *g, mig_error *e)
{
    int rc = NV(nb, DeviceGetName, dev, g->name, sizeof g->name);
    if (rc)
        return nv_fail(nb, e, rc, "nvmlDeviceGetName");
    rc = NV(nb, DeviceGetUUID, dev, g->uuid, sizeof g->uuid);
    if (rc)
        return nv_fail(nb, e, rc, "nvmlDeviceGetUUID");
    nvmlPciInfo_t pci;
    memset(&pci, 0, sizeof pci);
    rc = NV(nb, DeviceGetPciInfo_v3, dev, &pci);
    if (rc)
        return nv_fail(nb, e, rc, "nvmlDeviceGetPciInfo");
    snprintf(g->bus_id, sizeof g->bus_id, "%.*s", (int)sizeof pci.busId, pci.busId);
    g->pci_device_id = pci.pciDeviceId;
    g->pci_subsystem_id = pci.pciSubSystemId;
    g->model = model_for(pci.pciDeviceId, g->name);
    g->memory_bytes = device_memory(nb, dev, g->model);
    return 0;
}

static int mig_mode(nvml_backend *nb, nvmlDevice_t dev, mig_gpu_state *g, mig_error *e)
{
    unsigned cur = 0, pend = 0;
    int rc = NV(nb, DeviceGetMigMode, dev, &cur, &pend);
    if (rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_FUNCTION_NOT_FOUND)
        return 0; /* not MIG capable (mig-parted's test, too) */
    if (rc)
        return nv_fail(nb, e, rc, "nvmlDeviceGetMigMode");
    g->mig_capable = true;
    g->mig_current = cur == NVML_DEVICE_MIG_ENABLE;
    g->mig_pending = pend == NVML_DEVICE_MIG_ENABLE;
    return 0;
}

/* The CI profile ids valid inside a GI: indices 0.. until INVALID_ARGUMENT. */
static unsigned ci_profile_ids(nvml_backend *nb, nvmlGpuInstance_t gi, unsigned ids[MAX_CI_IDS])
{
    unsigned n = 0;
    for (unsigned index = 0; index < 64 && n < MAX_CI_IDS; index++) {
        nvmlComputeInstanceProfileInfo_t ci;
        memset(&ci, 0, sizeof ci);
        int rc = NV(nb, GpuInstanceGetComputeInstanceProfileInfo, gi, index,
                    NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED, &ci);
        if (rc == NVML_ERROR_INVALID_ARGUMENT || rc == NVML_ERROR_FUNCTION_NOT_FOUND)
            break;
        if (rc == NVML_SUCCESS)
            ids[n++] = ci.id;
    }
    return n;
}

static int ci_order(const void *a, const void *b)
{
    const mig_ci_state *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int gi_order(const void *a, const void *b)
{
    const mig_gi_state *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int list_cis(nvml_backend *nb, nvmlGpuInstance_t gi, mig_gi_state *out, mig_error *e)
{
    unsigned ids[MAX_CI_IDS];
    unsigned n_ids = ci_profile_ids(nb, gi, ids);
    out->n_ci = 0;
    for (unsigned k = 0; k < n_ids; k++) {
        nvmlComputeInstance_t cis[MAX_LIST];
        unsigned n = MAX_LIST;
        int rc = NV(nb, GpuInstanceGetComputeInstances, gi, ids[k], cis, &n);
        if (rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_INVALID_ARGUMENT)
            continue;
        if (rc)
            return nv_fail(nb, e, rc, "nvmlGpuInstanceGetComputeInstances");
        for (unsigned i = 0; i < n && out->n_ci < MIG_MAX_CI; i++) {
            nvmlComputeInstanceInfo_t info;
            memset(&info, 0, sizeof info);
            rc = NV(nb, ComputeInstanceGetInfo_v2, cis[i], &info);
            if (rc)
                return nv_fail(nb, e, rc, "nvmlComputeInstanceGetInfo");
            out->ci[out->n_ci++] = (mig_ci_state){.id = info.id, .profile_id = info.profileId,
                                                  .start = info.placement.start,
                                                  .slices = info.placement.size};
        }
    }
    qsort(out->ci, out->n_ci, sizeof out->ci[0], ci_order);
    return 0;
}

static int list_gis(nvml_backend *nb, nvmlDevice_t dev, mig_gpu_state *g, mig_error *e)
{
    mig_gi_profile prof[MIG_MAX_PROFILES];
    unsigned n_prof = MIG_MAX_PROFILES;
    if (device_profiles(nb, dev, prof, &n_prof, false, e) < 0)
        return -1;
    for (unsigned p = 0; p < n_prof; p++) {
        nvmlGpuInstance_t gis[MAX_LIST];
        unsigned n = MAX_LIST;
        int rc = NV(nb, DeviceGetGpuInstances, dev, prof[p].id, gis, &n);
        if (rc == NVML_ERROR_NOT_SUPPORTED)
            continue;
        if (rc)
            return nv_fail(nb, e, rc, "nvmlDeviceGetGpuInstances");
        for (unsigned i = 0; i < n && g->n_gi < MIG_MAX_GI; i++) {
            nvmlGpuInstanceInfo_t info;
            memset(&info, 0, sizeof info);
            rc = NV(nb, GpuInstanceGetInfo, gis[i], &info);
            if (rc)
                return nv_fail(nb, e, rc, "nvmlGpuInstanceGetInfo");
            mig_gi_state *gi = &g->gi[g->n_gi++];
            memset(gi, 0, sizeof *gi);
            gi->id = info.id;
            gi->profile_id = info.profileId;
            gi->start = info.placement.start;
            gi->size = info.placement.size;
            if (list_cis(nb, gis[i], gi, e) < 0)
                return -1;
        }
    }
    qsort(g->gi, g->n_gi, sizeof g->gi[0], gi_order);
    return 0;
}

static mig_ci_state *find_ci(mig_gpu_state *g, unsigned gi_id, unsigned ci_id)
{
    for (unsigned i = 0; i < g->n_gi; i++)
        for (unsigned k = 0; g->gi[i].id == gi_id && k < g->gi[i].n_ci; k++)
            if (g->gi[i].ci[k].id == ci_id)
                return &g->gi[i].ci[k];
    return NULL;
}

/* MIG device UUIDs: indices are sparse, so walk 0..max-1 and skip gaps. */
static int mig_uuids(nvml_backend *nb, nvmlDevice_t dev, mig_gpu_state *g, mig_error *e)
{
    unsigned max = 0;
    int rc = NV(nb, DeviceGetMaxMigDeviceCount, dev, &max);
    if (rc)
        return nv_fail(nb, e, rc, "nvmlDeviceGetMaxMigDeviceCount");
    for (unsigned i = 0; i < max; i++) {
        nvmlDevice_t mig;
        rc = NV(nb, DeviceGetMigDeviceHandleByIndex, dev, i, &mig);
        if (rc == NVML_ERROR_NOT_FOUND || rc == NVML_ERROR_INVALID_ARGUMENT)
            continue;
        if (rc)
            return nv_fail(nb, e, rc, "nvmlDeviceGetMigDeviceHandleByIndex");
        unsigned gi_id, ci_id;
        if ((rc = NV(nb, DeviceGetGpuInstanceId, mig, &gi_id)) != 0)
            return nv_fail(nb, e, rc, "nvmlDeviceGetGpuInstanceId");
        if ((rc = NV(nb, DeviceGetComputeInstanceId, mig, &ci_id)) != 0)
            return nv_fail(nb, e, rc, "nvmlDeviceGetComputeInstanceId");
        mig_ci_state *ci = find_ci(g, gi_id, ci_id);
        if (ci && (rc = NV(nb, DeviceGetUUID, mig, ci->uuid, sizeof ci->uuid)) != 0)
            return nv_fail(nb, e, rc, "nvmlDeviceGetUUID");
    }
    return 0;
}

/* Processes on the parent carry their GI/CI ids; outside MIG they are
 * NVML_INVALID_INSTANCE_ID and count against the whole GPU. */
static int processes(nvml_backend *nb, nvmlDevice_t dev, mig_gpu_state *g, mig_error *e)
{
    nvmlProcessInfo_t *procs = NULL;
    unsigned n = 0;
    int rc = NV(nb, DeviceGetComputeRunningProcesses_v3, dev, &n, NULL);
    for (int tries = 0; rc == NVML_ERROR_INSUFFICIENT_SIZE && tries < 4; tries++) {
        n += 8; /* room for processes that start meanwhile */
        nvmlProcessInfo_t *more = realloc(procs, n * sizeof *procs);
        if (!more) {
            free(procs);
            return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        }
        procs = more;
        rc = NV(nb, DeviceGetComputeRunningProcesses_v3, dev, &n, procs);
    }
    if (rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_FUNCTION_NOT_FOUND) {
        /* Busy is unknown: every instance counts as busy, so nothing is
         * destroyed without --force on a driver that cannot say. */
        for (unsigned i = 0; i < g->n_gi; i++)
            for (unsigned k = 0; k < g->gi[i].n_ci; k++)
                g->gi[i].ci[k].procs_unknown = true;
        n = 0;
    } else if (rc) {
        free(procs);
        return nv_fail(nb, e, rc, "nvmlDeviceGetComputeRunningProcesses");
    }
    for (unsigned i = 0; i < n && procs; i++) {
        mig_ci_state *ci = procs[i].gpuInstanceId == NVML_INVALID_INSTANCE_ID
                               ? NULL
                               : find_ci(g, procs[i].gpuInstanceId, procs[i].computeInstanceId);
        if (ci) {
            if (ci->n_procs < MIG_MAX_PIDS)
                ci->pids[ci->n_procs] = procs[i].pid;
            ci->n_procs++;
        } else {
            if (g->n_procs < MIG_MAX_PIDS)
                g->pids[g->n_procs] = procs[i].pid;
            g->n_procs++;
        }
    }
    free(procs);
    return 0;
}

static int nvml_gpu_state(mig_backend *b, unsigned idx, mig_gpu_state *out, mig_error *e)
{
    nvml_backend *nb = impl(b);
    nvmlDevice_t dev;
    memset(out, 0, sizeof *out);
    out->index = idx;
    if (device(nb, idx, &dev, e) < 0 || identity(nb, dev, out, e) < 0 ||
        mig_mode(nb, dev, out, e) < 0)
        return -1;
    if (out->mig_current &&
        (list_gis(nb, dev, out, e) < 0 || mig_uuids(nb, dev, out, e) < 0))
        return -1;
    return processes(nb, dev, out, e);
}

/* ------------------------------------------------------------ changes */

static int nvml_set_mode(mig_backend *b, unsigned idx, bool enable, bool *pending, int *why,
                         mig_error *e)
{
    nvml_backend *nb = impl(b);
    nvmlDevice_t dev;
    if (device(nb, idx, &dev, e) < 0)
        return -1;
    nvmlReturn_t activation = NVML_SUCCESS;
    int rc = NV(nb, DeviceSetMigMode, dev,
                enable ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE, &activation);
    if (rc)
        return nv_fail(nb, e, rc, "nvmlDeviceSetMigMode");
    /* On Ampere the driver may have unbound and reset the GPU to switch:
     * its old handle can be stale, so look the device up again. */
    if (device(nb, idx, &dev, e) < 0)
        return -1;
    unsigned cur = 0, pend = 0;
    rc = NV(nb, DeviceGetMigMode, dev, &cur, &pend);
    if (rc)
        return nv_fail(nb, e, rc, "nvmlDeviceGetMigMode");
    /* Pending: current and pending differ after the request. A pending
     * change the driver accepted without an activation error waits for a
     * reset, which is what *why then says. */
    bool still_pending = cur != pend;
    if (pending)
        *pending = still_pending;
    if (why)
        *why = still_pending && activation == NVML_SUCCESS ? NVML_ERROR_RESET_REQUIRED
                                                           : activation;
    return 0;
}

/* Run argv, collecting its output; 0 when it exits 0. */
static int run_command(char *const argv[], char *out, size_t len)
{
    int pipefd[2];
    if (pipe(pipefd) < 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    size_t used = 0;
    ssize_t got;
    while (!err && (got = read(pipefd[0], out + used, len - 1 - used)) > 0)
        used += (size_t)got;
    close(pipefd[0]);
    out[used] = '\0';
    if (err) {
        snprintf(out, len, "%s", strerror(err));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* NVML has no public reset: the shim's migsimDeviceReset when it is there,
 * else what mig-parted does, `nvidia-smi -r -i <bus id>`, with NVML shut
 * down meanwhile. */
static int nvml_reset(mig_backend *b, unsigned idx, mig_error *e)
{
    nvml_backend *nb = impl(b);
    nvmlDevice_t dev;
    if (device(nb, idx, &dev, e) < 0)
        return -1;
    if (nb->api.simDeviceReset) {
        int rc = nb->api.simDeviceReset(dev);
        return rc ? nv_fail(nb, e, rc, "nvmlDeviceResetGpu") : 0;
    }
    nvmlPciInfo_t pci;
    memset(&pci, 0, sizeof pci);
    int rc = NV(nb, DeviceGetPciInfo_v3, dev, &pci);
    if (rc)
        return nv_fail(nb, e, rc, "nvmlDeviceGetPciInfo");
    char bus[sizeof pci.busId + 1];
    snprintf(bus, sizeof bus, "%.*s", (int)sizeof pci.busId, pci.busId);
    char *argv[] = {"nvidia-smi", "-r", "-i", bus, NULL};
    char out[768];
    /* nvidia-smi refuses to reset a GPU that any NVML client is attached to
     * (a monitoring application counts), this process included: let go of
     * NVML for the reset and take it again after (handles are fetched anew
     * by every operation). */
    nb->api.Shutdown();
    int ran = run_command(argv, out, sizeof out);
    rc = nb->api.Init_v2();
    if (ran == 0)
        return rc ? nv_fail(nb, e, rc, "nvmlInit") : 0;
    out[strcspn(out, "\n")] = '\0';
    return mig_fail(e, MIG_ERR_BACKEND, "nvidia-smi -r -i %s: %s", bus,
                    *out ? out : "failed");
}

/* The memory-slice size of a profile's placements (0 when unknown: the
 * driver then rejects the placement itself, with its own code). */
static unsigned placement_size(nvml_backend *nb, nvmlDevice_t dev, unsigned profile_id)
{
    nvmlGpuInstancePlacement_t pl[MAX_LIST];
    unsigned n = 0;
    if (placements(nb, dev, profile_id, pl, &n) != NVML_SUCCESS || n == 0)
        return 0;
    return pl[0].size;
}

static int nvml_create_gi(mig_backend *b, unsigned idx, unsigned profile_id, int start,
                          unsigned *gi_id, mig_error *e)
{
    nvml_backend *nb = impl(b);
    nvmlDevice_t dev;
    if (device(nb, idx, &dev, e) < 0)
        return -1;
    nvmlGpuInstance_t gi;
    const char *api;
    int rc;
    if (start >= 0) {
        nvmlGpuInstancePlacement_t pl = {(unsigned)start, placement_size(nb, dev, profile_id)};
        api = "nvmlDeviceCreateGpuInstanceWithPlacement";
        rc = NV(nb, DeviceCreateGpuInstanceWithPlacement, dev, profile_id, &pl, &gi);
    } else {
        api = "nvmlDeviceCreateGpuInstance";
        rc = NV(nb, DeviceCreateGpuInstance, dev, profile_id, &gi);
    }
    if (rc)
        return nv_fail(nb, e, rc, api);
    nvmlGpuInstanceInfo_t info;
    memset(&info, 0, sizeof info);
    if ((rc = NV(nb, GpuInstanceGetInfo, gi, &info)) != 0)
        return nv_fail(nb, e, rc, "nvmlGpuInstanceGetInfo");
    *gi_id = info.id;
    return 0;
}

static int gpu_instance(nvml_backend *nb, unsigned idx, unsigned gi_id, nvmlGpuInstance_t *gi,
                        mig_error *e)
{
    nvmlDevice_t dev;
    if (device(nb, idx, &dev, e) < 0)
        return -1;
    int rc = NV(nb, DeviceGetGpuInstanceById, dev, gi_id, gi);
    return rc ? nv_fail(nb, e, rc, "nvmlDeviceGetGpuInstanceById") : 0;
}

static int nvml_destroy_gi(mig_backend *b, unsigned idx, unsigned gi_id, mig_error *e)
{
    nvml_backend *nb = impl(b);
    nvmlGpuInstance_t gi;
    if (gpu_instance(nb, idx, gi_id, &gi, e) < 0)
        return -1;
    int rc = NV(nb, GpuInstanceDestroy, gi);
    return rc ? nv_fail(nb, e, rc, "nvmlGpuInstanceDestroy") : 0;
}

/* Compute slices of a CI profile id inside a GI (0 when not valid there). */
static unsigned ci_profile_slices(nvml_backend *nb, nvmlGpuInstance_t gi, unsigned ci_profile_id)
{
    for (unsigned index = 0; index < 64; index++) {
        nvmlComputeInstanceProfileInfo_t ci;
        memset(&ci, 0, sizeof ci);
        int rc = NV(nb, GpuInstanceGetComputeInstanceProfileInfo, gi, index,
                    NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED, &ci);
        if (rc == NVML_ERROR_INVALID_ARGUMENT || rc == NVML_ERROR_FUNCTION_NOT_FOUND)
            break;
        if (rc == NVML_SUCCESS && ci.id == ci_profile_id)
            return ci.sliceCount;
    }
    return 0;
}

static int nvml_create_ci(mig_backend *b, unsigned idx, unsigned gi_id, unsigned ci_profile_id,
                          int start, unsigned *ci_id, mig_error *e)
{
    nvml_backend *nb = impl(b);
    nvmlGpuInstance_t gi;
    if (gpu_instance(nb, idx, gi_id, &gi, e) < 0)
        return -1;
    nvmlComputeInstance_t ci;
    const char *api;
    int rc;
    /* CI placements came with NVML 12.0 (R525): before it, the driver
     * places the CI itself, and it is kept only where it was asked for. */
    bool placed = start >= 0 && nb->api.GpuInstanceCreateComputeInstanceWithPlacement;
    if (placed) {
        nvmlComputeInstancePlacement_t pl = {(unsigned)start,
                                             ci_profile_slices(nb, gi, ci_profile_id)};
        api = "nvmlGpuInstanceCreateComputeInstanceWithPlacement";
        rc = NV(nb, GpuInstanceCreateComputeInstanceWithPlacement, gi, ci_profile_id, &pl, &ci);
    } else {
        api = "nvmlGpuInstanceCreateComputeInstance";
        rc = NV(nb, GpuInstanceCreateComputeInstance, gi, ci_profile_id, &ci);
    }
    if (rc)
        return nv_fail(nb, e, rc, api);
    nvmlComputeInstanceInfo_t info;
    memset(&info, 0, sizeof info);
    if ((rc = NV(nb, ComputeInstanceGetInfo_v2, ci, &info)) != 0)
        return nv_fail(nb, e, rc, "nvmlComputeInstanceGetInfo");
    if (start >= 0 && !placed && info.placement.start != (unsigned)start) {
        rc = NV(nb, ComputeInstanceDestroy, ci);
        if (rc)
            return nv_fail(nb, e, rc, "nvmlComputeInstanceDestroy");
        return mig_fail(e, MIG_ERR_BACKEND,
                        "nvmlGpuInstanceCreateComputeInstanceWithPlacement: not available on "
                        "this driver (before R525), and the driver placed the compute instance "
                        "at compute slice %u, not %d",
                        info.placement.start, start);
    }
    *ci_id = info.id;
    return 0;
}

static int nvml_destroy_ci(mig_backend *b, unsigned idx, unsigned gi_id, unsigned ci_id,
                           mig_error *e)
{
    nvml_backend *nb = impl(b);
    nvmlGpuInstance_t gi;
    if (gpu_instance(nb, idx, gi_id, &gi, e) < 0)
        return -1;
    nvmlComputeInstance_t ci;
    int rc = NV(nb, GpuInstanceGetComputeInstanceById, gi, ci_id, &ci);
    if (rc)
        return nv_fail(nb, e, rc, "nvmlGpuInstanceGetComputeInstanceById");
    rc = NV(nb, ComputeInstanceDestroy, ci);
    return rc ? nv_fail(nb, e, rc, "nvmlComputeInstanceDestroy") : 0;
}

/* ------------------------------------------------------------ open/close */

static void nvml_close(mig_backend *b)
{
    nvml_backend *nb = impl(b);
    nvml_sampler_free(nb->sampler);
    nb->api.Shutdown();
    dlclose(nb->lib);
    free(nb);
}

static int nvml_sample(mig_backend *b, unsigned idx, mig_gpu_sample *out, mig_error *e)
{
    nvml_backend *nb = impl(b);
    if (!nb->sampler && !(nb->sampler = nvml_sampler_new(nb->lib)))
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    mig_gpu_state *st = malloc(sizeof *st);
    if (!st)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    int rc = nvml_gpu_state(b, idx, st, e);
    if (rc == 0)
        rc = nvml_sampler_sample(nb->sampler, idx, st, out, e);
    free(st);
    return rc;
}

static const mig_backend_ops nvml_ops = {
    .name = "nvml",
    .gpu_count = nvml_gpu_count,
    .gpu_state = nvml_gpu_state,
    .gi_profiles = nvml_gi_profiles,
    .remaining_capacity = nvml_remaining,
    .set_mode = nvml_set_mode,
    .reset = nvml_reset,
    .create_gi = nvml_create_gi,
    .destroy_gi = nvml_destroy_gi,
    .create_ci = nvml_create_ci,
    .destroy_ci = nvml_destroy_ci,
    .close = nvml_close,
    .sample = nvml_sample,
};

static int resolve_symbols(nvml_backend *nb, const char *path, mig_error *e)
{
    for (size_t i = 0; i < sizeof api_symbols / sizeof api_symbols[0]; i++) {
        void *sym = dlsym(nb->lib, api_symbols[i].symbol);
        if (!sym && api_symbols[i].required)
            return mig_fail(e, MIG_ERR_BACKEND, "%s: no symbol %s (not an NVML library?)", path,
                            api_symbols[i].symbol);
        /* POSIX guarantees object and function pointers convert. */
        memcpy((char *)&nb->api + api_symbols[i].offset, &sym, sizeof sym);
    }
    return 0;
}

int nvml_backend_open(const char *lib_path, mig_backend **out, mig_error *e)
{
    const char *path = lib_path && *lib_path ? lib_path : NVML_LIB_DEFAULT;
    nvml_backend *nb = calloc(1, sizeof *nb);
    if (!nb)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    nb->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!nb->lib) {
        const char *why = dlerror();
        free(nb);
        return mig_fail(e, MIG_ERR_BACKEND, "cannot load NVML: %s", why ? why : path);
    }
    if (resolve_symbols(nb, path, e) < 0) {
        dlclose(nb->lib);
        free(nb);
        return -1;
    }
    int rc = nb->api.Init_v2();
    if (rc) {
        nv_fail(nb, e, rc, "nvmlInit");
        dlclose(nb->lib);
        free(nb);
        return -1;
    }
    nb->base.ops = &nvml_ops;
    nb->base.impl = nb;
    *out = &nb->base;
    return 0;
}
