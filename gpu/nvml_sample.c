/*
 * nvml_sample.c: telemetry through NVML for the nvml backend: memory of the
 * GPU and of each GPU instance (nvmlDeviceGetMemoryInfo on a MIG device
 * handle), processes with their memory and instance, GPM metrics of the GPU
 * and of each GPU instance (nvmlGpmSampleGet / nvmlGpmMigSampleGet twice,
 * then nvmlGpmMetricsGet with a per-metric status), ECC counters, remapped
 * rows, and critical Xid events (an event set, drained without waiting).
 *
 * Every symbol is optional: one the driver lacks makes its figures
 * unsupported, never an error, and so does a call answering NOT_SUPPORTED
 * (or a per-metric status other than SUCCESS). GPM needs two snapshots:
 * the previous one is kept per GPU and per GPU instance, and dropped when
 * the instance with that id is no longer the same (profile and placement),
 * since GI ids are reused after reconfiguration.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/nvml_abi.h"
#include "gpu/nvml_gpm.h"
#include "gpu/nvml_sample.h"
#include "util/nvml_rc.h"

#define MAX_GPUS 64
#define GI_IDS 16

typedef struct {
    nvmlGpmSample_t s;
    bool have;
    unsigned profile_id, start; /* identity of the GI the sample is of */
} prev_sample;

typedef struct {
    int gpm;              /* -1 unknown, 0 no, 1 yes */
    prev_sample whole;
    prev_sample gi[GI_IDS];
    bool registered;
    unsigned xid_count, xid_last;
} gpu_track;

struct nvml_sampler {
    struct {
        nvmlReturn_t (*DeviceGetHandleByIndex_v2)(unsigned, nvmlDevice_t *);
        nvmlReturn_t (*DeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t *);
        nvmlReturn_t (*DeviceGetMaxMigDeviceCount)(nvmlDevice_t, unsigned *);
        nvmlReturn_t (*DeviceGetMigDeviceHandleByIndex)(nvmlDevice_t, unsigned, nvmlDevice_t *);
        nvmlReturn_t (*DeviceGetGpuInstanceId)(nvmlDevice_t, unsigned *);
        nvmlReturn_t (*DeviceGetComputeRunningProcesses_v3)(nvmlDevice_t, unsigned *,
                                                            nvmlProcessInfo_t *);
        nvmlReturn_t (*GpmQueryDeviceSupport)(nvmlDevice_t, nvmlGpmSupport_t *);
        nvmlReturn_t (*GpmSampleAlloc)(nvmlGpmSample_t *);
        nvmlReturn_t (*GpmSampleFree)(nvmlGpmSample_t);
        nvmlReturn_t (*GpmSampleGet)(nvmlDevice_t, nvmlGpmSample_t);
        nvmlReturn_t (*GpmMigSampleGet)(nvmlDevice_t, unsigned, nvmlGpmSample_t);
        nvmlReturn_t (*GpmMetricsGet)(nvmlGpmMetricsGet_t *);
        nvmlReturn_t (*DeviceGetTotalEccErrors)(nvmlDevice_t, int, int, unsigned long long *);
        nvmlReturn_t (*DeviceGetRemappedRows)(nvmlDevice_t, unsigned *, unsigned *, unsigned *,
                                              unsigned *);
        nvmlReturn_t (*EventSetCreate)(nvmlEventSet_t *);
        nvmlReturn_t (*DeviceRegisterEvents)(nvmlDevice_t, unsigned long long, nvmlEventSet_t);
        nvmlReturn_t (*EventSetWait_v2)(nvmlEventSet_t, nvmlEventData_t *, unsigned);
        nvmlReturn_t (*EventSetFree)(nvmlEventSet_t);
    } api;
    nvmlEventSet_t events;
    bool events_tried;
    gpu_track gpu[MAX_GPUS];
    nvmlDevice_t handles[MAX_GPUS]; /* to map an event's device to an index */
    nvmlGpmMetricsGet_t mg;         /* 13 KiB: kept here, not on the stack */
};

#define NV(s, fn, ...) ((s)->api.fn ? (s)->api.fn(__VA_ARGS__) : NVML_ERROR_FUNCTION_NOT_FOUND)

nvml_sampler *nvml_sampler_new(void *lib)
{
    nvml_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    static const struct {
        const char *name;
        size_t off;
    } syms[] = {
#define S(m) {"nvml" #m, offsetof(nvml_sampler, api.m)}
        S(DeviceGetHandleByIndex_v2), S(DeviceGetMemoryInfo), S(DeviceGetMaxMigDeviceCount),
        S(DeviceGetMigDeviceHandleByIndex), S(DeviceGetGpuInstanceId),
        S(DeviceGetComputeRunningProcesses_v3), S(GpmQueryDeviceSupport), S(GpmSampleAlloc),
        S(GpmSampleFree), S(GpmSampleGet), S(GpmMigSampleGet), S(GpmMetricsGet),
        S(DeviceGetTotalEccErrors), S(DeviceGetRemappedRows), S(EventSetCreate),
        S(DeviceRegisterEvents), S(EventSetWait_v2), S(EventSetFree),
#undef S
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *p = dlsym(lib, syms[i].name);
        memcpy((char *)s + syms[i].off, &p, sizeof p); /* POSIX: function pointers convert */
    }
    return s;
}

static void drop(nvml_sampler *s, prev_sample *p)
{
    if (p->have)
        NV(s, GpmSampleFree, p->s);
    p->have = false;
}

void nvml_sampler_free(nvml_sampler *s)
{
    if (!s)
        return;
    for (unsigned g = 0; g < MAX_GPUS; g++) {
        drop(s, &s->gpu[g].whole);
        for (unsigned i = 0; i < GI_IDS; i++)
            drop(s, &s->gpu[g].gi[i]);
    }
    if (s->events)
        NV(s, EventSetFree, s->events);
    free(s);
}

/* ------------------------------------------------------------ GPM */

static void set_all(mig_metric m[MIG_M_COUNT], mig_met_status st)
{
    for (int i = 0; i < MIG_M_COUNT; i++)
        m[i] = (mig_metric){st, 0};
}

/* Take a new snapshot (gi < 0: the GPU) and, with the previous one, the
 * metrics; the new snapshot becomes the previous. */
static void gpm_read(nvml_sampler *s, nvmlDevice_t dev, int gi, unsigned profile_id,
                     unsigned start, prev_sample *prev, mig_metric m[MIG_M_COUNT])
{
    set_all(m, MIG_MET_UNSUPPORTED);
    nvmlGpmSample_t cur;
    if (NV(s, GpmSampleAlloc, &cur) != NVML_SUCCESS)
        return;
    int rc = gi < 0 ? NV(s, GpmSampleGet, dev, cur) : NV(s, GpmMigSampleGet, dev, (unsigned)gi, cur);
    if (rc != NVML_SUCCESS) {
        NV(s, GpmSampleFree, cur);
        drop(s, prev);
        return;
    }
    if (prev->have && (prev->profile_id != profile_id || prev->start != start))
        drop(s, prev); /* the GI id now names another instance */
    if (!prev->have) {
        set_all(m, MIG_MET_PENDING);
    } else {
        memset(&s->mg, 0, offsetof(nvmlGpmMetricsGet_t, metrics) +
                              MIG_M_COUNT * sizeof s->mg.metrics[0]);
        s->mg.version = NVML_GPM_METRICS_GET_VERSION;
        s->mg.numMetrics = MIG_M_COUNT;
        s->mg.sample1 = prev->s;
        s->mg.sample2 = cur;
        for (int i = 0; i < MIG_M_COUNT; i++)
            s->mg.metrics[i].metricId = mig_metric_nvml_id[i];
        if (NV(s, GpmMetricsGet, &s->mg) == NVML_SUCCESS)
            for (int i = 0; i < MIG_M_COUNT; i++)
                if (s->mg.metrics[i].nvmlReturn == NVML_SUCCESS)
                    m[i] = (mig_metric){MIG_MET_OK, s->mg.metrics[i].value / 100.0};
        drop(s, prev);
    }
    prev->s = cur;
    prev->have = true;
    prev->profile_id = profile_id;
    prev->start = start;
}

/* ------------------------------------------------------------ parts */

static void gi_memory(nvml_sampler *s, nvmlDevice_t dev, mig_gpu_sample *out)
{
    unsigned max = 0;
    if (NV(s, DeviceGetMaxMigDeviceCount, dev, &max) != NVML_SUCCESS)
        return;
    for (unsigned i = 0; i < max && i < 64; i++) {
        nvmlDevice_t mig;
        unsigned gi_id;
        nvmlMemory_t mem;
        if (NV(s, DeviceGetMigDeviceHandleByIndex, dev, i, &mig) != NVML_SUCCESS ||
            NV(s, DeviceGetGpuInstanceId, mig, &gi_id) != NVML_SUCCESS)
            continue;
        for (unsigned k = 0; k < out->n_gi; k++) {
            mig_gi_sample *g = &out->gi[k];
            if (g->gi_id != gi_id || g->mem_known)
                continue;
            if (NV(s, DeviceGetMemoryInfo, mig, &mem) == NVML_SUCCESS) {
                g->mem_known = true;
                g->mem_total = mem.total;
                g->mem_used = mem.used;
            }
        }
    }
}

static void procs(nvml_sampler *s, nvmlDevice_t dev, mig_gpu_sample *out)
{
    static __thread nvmlProcessInfo_t buf[MIG_SAMPLE_MAX_PROCS];
    unsigned n = MIG_SAMPLE_MAX_PROCS;
    int rc = NV(s, DeviceGetComputeRunningProcesses_v3, dev, &n, buf);
    if (rc == NVML_ERROR_INSUFFICIENT_SIZE)
        n = MIG_SAMPLE_MAX_PROCS; /* more than we keep: the first ones */
    else if (rc != NVML_SUCCESS)
        return;
    out->procs_known = true;
    for (unsigned i = 0; i < n && i < MIG_SAMPLE_MAX_PROCS; i++) {
        bool mig = buf[i].gpuInstanceId != NVML_INVALID_INSTANCE_ID;
        out->procs[out->n_procs++] = (mig_proc_sample){
            .pid = buf[i].pid,
            .gi_id = mig ? (int)buf[i].gpuInstanceId : -1,
            .ci_id = mig ? (int)buf[i].computeInstanceId : -1,
            /* NVML_VALUE_NOT_AVAILABLE (all ones) when the driver hides it */
            .mem_known = buf[i].usedGpuMemory != ~0ull,
            .mem_bytes = buf[i].usedGpuMemory == ~0ull ? 0 : buf[i].usedGpuMemory,
        };
    }
}

static void health(nvml_sampler *s, unsigned idx, nvmlDevice_t dev, mig_health_sample *h)
{
    unsigned long long v[4];
    h->ecc_known =
        NV(s, DeviceGetTotalEccErrors, dev, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC,
           &v[0]) == NVML_SUCCESS &&
        NV(s, DeviceGetTotalEccErrors, dev, NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
           NVML_VOLATILE_ECC, &v[1]) == NVML_SUCCESS &&
        NV(s, DeviceGetTotalEccErrors, dev, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_AGGREGATE_ECC,
           &v[2]) == NVML_SUCCESS &&
        NV(s, DeviceGetTotalEccErrors, dev, NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
           NVML_AGGREGATE_ECC, &v[3]) == NVML_SUCCESS;
    if (h->ecc_known) {
        h->ecc_sbe_volatile = v[0];
        h->ecc_dbe_volatile = v[1];
        h->ecc_sbe_aggregate = v[2];
        h->ecc_dbe_aggregate = v[3];
    }
    unsigned corr, unc, pend, fail;
    if (NV(s, DeviceGetRemappedRows, dev, &corr, &unc, &pend, &fail) == NVML_SUCCESS) {
        h->remap_known = true;
        h->remap_correctable = corr;
        h->remap_uncorrectable = unc;
        h->remap_pending = pend;
        h->remap_failure = fail;
    }
    /* Xid events: register this GPU once, then drain what is queued. */
    if (!s->events_tried) {
        s->events_tried = true;
        if (NV(s, EventSetCreate, &s->events) != NVML_SUCCESS)
            s->events = NULL;
    }
    gpu_track *t = &s->gpu[idx];
    if (s->events && !t->registered)
        t->registered = NV(s, DeviceRegisterEvents, dev, nvmlEventTypeXidCriticalError,
                           s->events) == NVML_SUCCESS;
    if (!t->registered)
        return;
    s->handles[idx] = dev;
    nvmlEventData_t ev;
    for (int guard = 0; guard < 1024 && NV(s, EventSetWait_v2, s->events, &ev, 0) ==
                                            NVML_SUCCESS; guard++) {
        if (!(ev.eventType & nvmlEventTypeXidCriticalError))
            continue;
        for (unsigned g = 0; g < MAX_GPUS; g++)
            if (s->handles[g] == ev.device && s->gpu[g].registered) {
                s->gpu[g].xid_count++;
                s->gpu[g].xid_last = (unsigned)ev.eventData;
            }
    }
    h->xid_known = true;
    h->xid_count = t->xid_count;
    h->xid_last = t->xid_last;
}

int nvml_sampler_sample(nvml_sampler *s, unsigned idx, const mig_gpu_state *st,
                        mig_gpu_sample *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    if (idx >= MAX_GPUS)
        return mig_fail(e, MIG_ERR_BACKEND, "GPU %u: migctl samples at most %d GPUs", idx,
                        MAX_GPUS);
    nvmlDevice_t dev;
    int rc = NV(s, DeviceGetHandleByIndex_v2, idx, &dev);
    if (rc)
        return mig_fail_nvml(e, rc, "nvmlDeviceGetHandleByIndex");
    gpu_track *t = &s->gpu[idx];
    nvmlMemory_t mem;
    if (NV(s, DeviceGetMemoryInfo, dev, &mem) == NVML_SUCCESS) {
        out->mem_known = true;
        out->mem_total = mem.total;
        out->mem_used = mem.used;
    }
    if (t->gpm < 0 || t->gpm == 0) {
        nvmlGpmSupport_t sup = {.version = NVML_GPM_SUPPORT_VERSION};
        t->gpm = NV(s, GpmQueryDeviceSupport, dev, &sup) == NVML_SUCCESS && sup.isSupportedDevice;
    }
    if (t->gpm)
        gpm_read(s, dev, -1, 0, 0, &t->whole, out->m);
    else
        set_all(out->m, MIG_MET_UNSUPPORTED);
    bool seen[GI_IDS] = {false};
    for (unsigned i = 0; st->mig_current && i < st->n_gi && out->n_gi < MIG_MAX_GI; i++) {
        const mig_gi_state *gi = &st->gi[i];
        mig_gi_sample *g = &out->gi[out->n_gi++];
        g->gi_id = gi->id;
        if (t->gpm && gi->id < GI_IDS) {
            gpm_read(s, dev, (int)gi->id, gi->profile_id, gi->start, &t->gi[gi->id], g->m);
            seen[gi->id] = true;
        } else {
            set_all(g->m, MIG_MET_UNSUPPORTED);
        }
    }
    for (unsigned i = 0; i < GI_IDS; i++)
        if (!seen[i])
            drop(s, &t->gi[i]); /* that instance is gone */
    if (st->mig_current)
        gi_memory(s, dev, out);
    procs(s, dev, out);
    health(s, idx, dev, &out->health);
    return 0;
}
