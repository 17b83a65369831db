/*
 * shim_device.c: the NVML shim's device calls: count and handles (by index,
 * UUID incl. MIG UUIDs, PCI bus id), identity (name, UUID, PCI info, memory),
 * MIG mode, MIG device handles and their GI/CI ids, attributes, and running
 * processes, answered from the simulator state (see shim.h for handles).
 *
 * MIG devices are the compute instances, numbered in ascending GI id then CI
 * id (the order nvidia-smi shows), with gaps as on a real driver (see
 * mig_index); a MIG handle's name is "<parent> MIG <profile>" and its memory
 * is its GPU instance's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpu/sim.h"
#include "gpu/sim_telemetry.h"
#include "model/gpu_state.h"
#include "shim/shim.h"

/* Simulated processes report this much memory each, unless a load with
 * memory was scripted (gpu/sim_telemetry.c). */
#define SHIM_PROC_MEMORY SIM_PROC_MEMORY

/* Run a read-only query: open, resolve the device handle, answer, close. */
#define WITH_DEVICE(h, r, parent_only, body)                                              \
    do {                                                                                  \
        sim_state *s_;                                                                    \
        int rc_ = shim_begin(false, &s_);                                                 \
        if (rc_)                                                                          \
            return rc_;                                                                   \
        shim_ref r;                                                                       \
        rc_ = (parent_only) ? shim_ref_parent(s_, h, &r) : shim_ref_device(s_, h, &r);    \
        if (rc_ == NVML_SUCCESS) {                                                        \
            sim_state *s = s_;                                                            \
            (void)s;                                                                      \
            rc_ = (body);                                                                 \
        }                                                                                 \
        shim_end(s_);                                                                     \
        return rc_;                                                                       \
    } while (0)

/* ------------------------------------------------------------ handles */

SHIM_API nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *count)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    if (!count)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *count = s->n_gpus;
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlDeviceGetCount(unsigned *count)
{
    return nvmlDeviceGetCount_v2(count);
}

SHIM_API nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t *dev)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    if (!dev || index >= s->n_gpus)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *dev = shim_dev_handle(index);
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned index, nvmlDevice_t *dev)
{
    return nvmlDeviceGetHandleByIndex_v2(index, dev);
}

SHIM_API nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *dev)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    rc = uuid && dev ? NVML_ERROR_NOT_FOUND : NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned i = 0; rc == NVML_ERROR_NOT_FOUND && i < s->n_gpus; i++) {
        const mig_gpu_state *g = &s->gpus[i];
        if (strcmp(g->uuid, uuid) == 0) {
            *dev = shim_dev_handle(i);
            rc = NVML_SUCCESS;
        }
        for (unsigned k = 0; g->mig_current && k < g->n_gi; k++)
            for (unsigned c = 0; c < g->gi[k].n_ci; c++)
                if (strcmp(g->gi[k].ci[c].uuid, uuid) == 0) {
                    *dev = shim_mig_handle(i, g->gi[k].id, g->gi[k].ci[c].id);
                    rc = NVML_SUCCESS;
                }
    }
    shim_end(s);
    return rc;
}

/* "00000000:18:00.0", "0000:18:00.0" and "18:00.0" name the same device. */
static bool parse_bus_id(const char *text, unsigned v[4])
{
    char tail;
    if (sscanf(text, "%x:%x:%x.%x%c", &v[0], &v[1], &v[2], &v[3], &tail) == 4)
        return true;
    v[0] = 0;
    return sscanf(text, "%x:%x.%x%c", &v[1], &v[2], &v[3], &tail) == 3;
}

SHIM_API nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, nvmlDevice_t *dev)
{
    unsigned want[4], have[4];
    if (!bus_id || !dev || !parse_bus_id(bus_id, want)) /* UNINITIALIZED comes first */
        return shim_initialized() ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    rc = NVML_ERROR_NOT_FOUND;
    for (unsigned i = 0; rc && i < s->n_gpus; i++)
        if (parse_bus_id(s->gpus[i].bus_id, have) && memcmp(want, have, sizeof want) == 0) {
            *dev = shim_dev_handle(i);
            rc = NVML_SUCCESS;
        }
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlDeviceGetHandleByPciBusId(const char *bus_id, nvmlDevice_t *dev)
{
    return nvmlDeviceGetHandleByPciBusId_v2(bus_id, dev);
}

/* ------------------------------------------------------------ identity */

static int device_name(const shim_ref *r, char *buf, unsigned len)
{
    if (!r->is_mig)
        return shim_copy_string(buf, len, r->g->name);
    char ci_name[MIG_NAME_LEN * 2], full[NVML_DEVICE_NAME_V2_BUFFER_SIZE * 2];
    ci_state_name(r->g->model, r->gi, r->ci, ci_name, sizeof ci_name);
    snprintf(full, sizeof full, "%s MIG %s", r->g->name, ci_name);
    return shim_copy_string(buf, len, full);
}

SHIM_API nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t dev, char *name, unsigned len)
{
    WITH_DEVICE(dev, r, false, device_name(&r, name, len));
}

SHIM_API nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t dev, char *uuid, unsigned len)
{
    WITH_DEVICE(dev, r, false, shim_copy_string(uuid, len, r.is_mig ? r.ci->uuid : r.g->uuid));
}

/* MIG device indices. On a real driver they are sparse (reference section
 * 5: iterate 0..max-1 and skip NOT_FOUND), so here too: the GIs, in
 * ascending id order, each reserve as many indices as they have compute
 * slices (the most CIs they can hold), and their CIs, in ascending id order,
 * take those from the first. The order is nvidia-smi's (GI id, then CI id);
 * the total never exceeds the GPU's compute slices, the max count. */
static unsigned gi_index_span(const mig_gpu_state *g, const mig_gi_state *gi)
{
    const mig_gi_profile *p = shim_gi_profile(g, gi->profile_id);
    return p && p->compute_slices >= gi->n_ci ? p->compute_slices : gi->n_ci;
}

static bool ci_present(const mig_gi_state *gi, unsigned ci_id)
{
    for (unsigned j = 0; j < gi->n_ci; j++)
        if (gi->ci[j].id == ci_id)
            return true;
    return false;
}

/* The MIG device index of (GI id, CI id); -1 when there is no such CI. */
static long mig_index(const mig_gpu_state *g, unsigned gi_id, unsigned ci_id)
{
    unsigned base = 0;
    for (unsigned id = 0; id < SHIM_GI_IDS; id++) {
        const mig_gi_state *gi = NULL;
        for (unsigned i = 0; i < g->n_gi; i++)
            if (g->gi[i].id == id)
                gi = &g->gi[i];
        if (!gi)
            continue;
        if (id != gi_id) {
            base += gi_index_span(g, gi);
            continue;
        }
        unsigned k = 0;
        for (unsigned c = 0; c < SHIM_CI_IDS; c++) {
            if (c == ci_id)
                return ci_present(gi, c) ? (long)(base + k) : -1;
            k += ci_present(gi, c);
        }
        return -1;
    }
    return -1;
}

static unsigned mig_index_of(const shim_ref *r)
{
    long k = mig_index(r->g, r->gi->id, r->ci->id);
    return k < 0 ? 0 : (unsigned)k;
}

SHIM_API nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t dev, unsigned *index)
{
    WITH_DEVICE(dev, r, false,
                !index ? NVML_ERROR_INVALID_ARGUMENT
                       : (*index = r.is_mig ? mig_index_of(&r) : r.gpu, NVML_SUCCESS));
}

static int pci_info(const mig_gpu_state *g, nvmlPciInfo_t *pci)
{
    unsigned v[4] = {0};
    if (!pci)
        return NVML_ERROR_INVALID_ARGUMENT;
    memset(pci, 0, sizeof *pci);
    parse_bus_id(g->bus_id, v);
    pci->domain = v[0];
    pci->bus = v[1];
    pci->device = v[2];
    pci->pciDeviceId = g->pci_device_id;
    pci->pciSubSystemId = g->pci_subsystem_id;
    snprintf(pci->busId, sizeof pci->busId, "%s", g->bus_id);
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%04X:%02X:%02X.%X", v[0] & 0xffff,
             v[1], v[2], v[3]);
    return NVML_SUCCESS;
}

SHIM_API nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t dev, nvmlPciInfo_t *pci)
{
    WITH_DEVICE(dev, r, false, pci_info(r.g, pci));
}

SHIM_API nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t dev, nvmlPciInfo_t *pci)
{
    return nvmlDeviceGetPciInfo_v3(dev, pci);
}

/* A MIG device has its GPU instance's memory; the parent all of it. */
static unsigned long long memory_total(const shim_ref *r)
{
    if (!r->is_mig)
        return r->g->memory_bytes;
    const mig_gi_profile *p = shim_gi_profile(r->g, r->gi->profile_id);
    return p ? p->memory_mib << 20 : 0;
}

/* Memory used by the processes running there: the scripted load's memory,
 * else SHIM_PROC_MEMORY each (gpu/sim_telemetry.c). */
static unsigned long long memory_used(const sim_state *s, const shim_ref *r)
{
    sim_load l;
    if (r->is_mig)
        sim_effective_load(s, r->gpu, (int)r->gi->id, &l);
    else
        sim_gpu_load(s, r->gpu, &l);
    return l.memory_bytes;
}

static int memory_v1(const sim_state *s, const shim_ref *r, nvmlMemory_t *m)
{
    if (!m)
        return NVML_ERROR_INVALID_ARGUMENT;
    m->total = memory_total(r);
    m->used = memory_used(s, r);
    m->free = m->total > m->used ? m->total - m->used : 0;
    return NVML_SUCCESS;
}

static int memory_v2(const sim_state *s, const shim_ref *r, nvmlMemory_v2_t *m)
{
    if (!m || m->version != nvmlMemory_v2)
        return m ? NVML_ERROR_ARGUMENT_VERSION_MISMATCH : NVML_ERROR_INVALID_ARGUMENT;
    m->total = memory_total(r);
    m->reserved = 0;
    m->used = memory_used(s, r);
    m->free = m->total > m->used ? m->total - m->used : 0;
    return NVML_SUCCESS;
}

SHIM_API nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *memory)
{
    WITH_DEVICE(dev, r, false, memory_v1(s, &r, memory));
}

SHIM_API nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev, nvmlMemory_v2_t *memory)
{
    WITH_DEVICE(dev, r, false, memory_v2(s, &r, memory));
}

/* ------------------------------------------------------------ MIG mode */

static int mig_mode(const shim_ref *r, unsigned *current, unsigned *pending)
{
    if (!current || !pending)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (r->is_mig || !r->g->model)
        return NVML_ERROR_NOT_SUPPORTED;
    *current = r->g->mig_current ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE;
    *pending = r->g->mig_pending ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE;
    return NVML_SUCCESS;
}

SHIM_API nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t dev, unsigned *current, unsigned *pending)
{
    WITH_DEVICE(dev, r, false, mig_mode(&r, current, pending));
}

SHIM_API nvmlReturn_t nvmlDeviceSetMigMode(nvmlDevice_t dev, unsigned mode,
                                           nvmlReturn_t *activation)
{
    sim_state *s;
    int rc = shim_begin(true, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && (!activation || mode > NVML_DEVICE_MIG_ENABLE))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS && !r.g->model)
        rc = NVML_ERROR_NOT_SUPPORTED;
    if (rc) {
        shim_end(s);
        return rc;
    }
    int act = NVML_SUCCESS;
    rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_set_mode(s, r.gpu, mode == NVML_DEVICE_MIG_ENABLE, &act);
    *activation = act;
    return shim_commit_end(s, rc);
}

/* ------------------------------------------------------------ MIG devices */

static int max_mig_devices(const shim_ref *r, unsigned *count)
{
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (r->is_mig)
        return NVML_ERROR_NOT_SUPPORTED;
    /* Every MIG device holds at least one compute slice. */
    *count = r->g->model && r->g->mig_current ? r->g->model->compute_slices : 0;
    return NVML_SUCCESS;
}

SHIM_API nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t dev, unsigned *count)
{
    WITH_DEVICE(dev, r, false, max_mig_devices(&r, count));
}

static int mig_by_index(const shim_ref *r, unsigned index, nvmlDevice_t *mig)
{
    unsigned max = 0;
    if (!mig || max_mig_devices(r, &max) != NVML_SUCCESS)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (index >= max)
        return max ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_NOT_FOUND;
    for (unsigned i = 0; i < r->g->n_gi; i++)
        for (unsigned k = 0; k < r->g->gi[i].n_ci; k++)
            if (mig_index(r->g, r->g->gi[i].id, r->g->gi[i].ci[k].id) == (long)index) {
                *mig = shim_mig_handle(r->gpu, r->g->gi[i].id, r->g->gi[i].ci[k].id);
                return NVML_SUCCESS;
            }
    return NVML_ERROR_NOT_FOUND; /* a gap: no MIG device there now */
}

SHIM_API nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t dev, unsigned index,
                                                         nvmlDevice_t *mig)
{
    WITH_DEVICE(dev, r, true, mig_by_index(&r, index, mig));
}

SHIM_API nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t dev, unsigned *is_mig)
{
    WITH_DEVICE(dev, r, false, !is_mig ? NVML_ERROR_INVALID_ARGUMENT
                                        : (*is_mig = r.is_mig, NVML_SUCCESS));
}

SHIM_API nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t mig,
                                                                   nvmlDevice_t *parent)
{
    WITH_DEVICE(mig, r, false,
                !parent || !r.is_mig ? NVML_ERROR_INVALID_ARGUMENT
                                     : (*parent = shim_dev_handle(r.gpu), NVML_SUCCESS));
}

SHIM_API nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t mig, unsigned *id)
{
    WITH_DEVICE(mig, r, false,
                !id || !r.is_mig ? NVML_ERROR_INVALID_ARGUMENT : (*id = r.gi->id, NVML_SUCCESS));
}

SHIM_API nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t mig, unsigned *id)
{
    WITH_DEVICE(mig, r, false,
                !id || !r.is_mig ? NVML_ERROR_INVALID_ARGUMENT : (*id = r.ci->id, NVML_SUCCESS));
}

static int attributes(const shim_ref *r, nvmlDeviceAttributes_t *a)
{
    if (!a)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (!r->is_mig)
        return NVML_ERROR_NOT_SUPPORTED; /* MIG device handles only */
    const mig_gi_profile *gp = shim_gi_profile(r->g, r->gi->profile_id);
    mig_ci_profile cp;
    if (!gp || !mig_ci_profile_by_id(r->g->model, gp, r->ci->profile_id, &cp))
        return NVML_ERROR_UNKNOWN;
    *a = (nvmlDeviceAttributes_t){
        .multiprocessorCount = cp.sm_count,
        .sharedCopyEngineCount = gp->copy_engines,
        .sharedDecoderCount = gp->decoders,
        .sharedEncoderCount = gp->encoders,
        .sharedJpegCount = gp->jpeg,
        .sharedOfaCount = gp->ofa,
        .gpuInstanceSliceCount = gp->compute_slices,
        .computeInstanceSliceCount = cp.compute_slices,
        .memorySizeMB = gp->memory_mib,
    };
    return NVML_SUCCESS;
}

SHIM_API nvmlReturn_t nvmlDeviceGetAttributes_v2(nvmlDevice_t dev, nvmlDeviceAttributes_t *a)
{
    WITH_DEVICE(dev, r, false, attributes(&r, a));
}

/* ------------------------------------------------------------ processes */

/* On the parent: every process, MIG ones with their GI/CI ids; on a MIG
 * device: its own. Memory as the simulator's load gives it (an instance's
 * memory shared by its processes). *count in: capacity; out: how many. */
static int processes(const sim_state *s, const shim_ref *r, unsigned *count,
                     nvmlProcessInfo_t *out)
{
    if (!count || (*count && !out))
        return NVML_ERROR_INVALID_ARGUMENT;
    static __thread mig_gpu_sample smp; /* 20 KiB: kept off the caller's stack */
    sim_fill_sample(s, r->gpu, &smp);
    unsigned cap = *count, n = 0;
    for (unsigned i = 0; i < smp.n_procs; i++) {
        const mig_proc_sample *p = &smp.procs[i];
        if (r->is_mig && (p->gi_id != (int)r->gi->id || p->ci_id != (int)r->ci->id))
            continue;
        if (out && n < cap)
            out[n] = (nvmlProcessInfo_t){
                .pid = p->pid,
                .usedGpuMemory = p->mem_bytes,
                .gpuInstanceId = p->gi_id < 0 ? NVML_INVALID_INSTANCE_ID : (unsigned)p->gi_id,
                .computeInstanceId = p->ci_id < 0 ? NVML_INVALID_INSTANCE_ID : (unsigned)p->ci_id,
            };
        n++;
    }
    *count = n;
    return n > cap ? NVML_ERROR_INSUFFICIENT_SIZE : NVML_SUCCESS;
}

SHIM_API nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t dev, unsigned *count,
                                                             nvmlProcessInfo_t *infos)
{
    /* $MIGSIM_NO_PROCESS_LIST plays a driver that cannot list processes
     * (NOT_SUPPORTED), so tests can see how migctl treats unknown busy state. */
    const char *none = getenv("MIGSIM_NO_PROCESS_LIST");
    if (none && *none && shim_initialized())
        return NVML_ERROR_NOT_SUPPORTED;
    WITH_DEVICE(dev, r, false, processes(s, &r, count, infos));
}
