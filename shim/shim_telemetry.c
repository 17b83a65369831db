/*
 * shim_telemetry.c: the NVML shim's telemetry calls, answered from the
 * simulator's scripted load and health (gpu/sim_telemetry.c): GPM (device
 * support, sample alloc/free/get, per-GPU-instance samples, metrics get),
 * ECC counters, remapped rows, and Xid events through event sets.
 *
 * GPM samples and event sets are slots in static tables, like the other
 * handles (shim.h): a pointer that is not one of their addresses, or a slot
 * not allocated, is INVALID_ARGUMENT without being dereferenced. A GPM
 * sample records what it was taken of (the GPU, or one GPU instance) and the
 * load in effect then; nvmlGpmMetricsGet reports the newer sample's load as
 * percentages of that place, with a per-metric status: the metrics the
 * simulator produces (graphics and SM activity, SM occupancy, tensor
 * activity, DRAM bandwidth) succeed, every other known id is NOT_SUPPORTED.
 * Samples of GPU instance ids that were destroyed and created again in
 * between are refused, as the reference says a retained sample must be.
 *
 * Xid events: an event set remembers, per GPU registered, how many Xids the
 * GPU had when it was registered, and nvmlEventSetWait_v2 delivers the later
 * ones one at a time, as the kernel driver would deliver new errors.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpu/nvml_gpm.h"
#include "gpu/sim.h"
#include "shim/shim.h"

#define GPM_SLOTS 1024
#define EVSET_SLOTS 64

typedef struct {
    bool used, filled;
    unsigned gpu;
    int gi;                     /* -1: the whole GPU */
    unsigned gi_profile, gi_start; /* identity of the instance sampled */
    sim_load load;
} gpm_slot;

typedef struct {
    bool used;
    bool registered[SIM_MAX_GPUS];
    unsigned seen[SIM_MAX_GPUS];
} evset_slot;

static gpm_slot gpm_slots[GPM_SLOTS];
static evset_slot ev_slots[EVSET_SLOTS];
static pthread_mutex_t tele_mu = PTHREAD_MUTEX_INITIALIZER;

static gpm_slot *gpm_of(nvmlGpmSample_t h)
{
    uintptr_t p = (uintptr_t)h, base = (uintptr_t)gpm_slots;
    if (p < base || p >= base + sizeof gpm_slots || (p - base) % sizeof(gpm_slot))
        return NULL;
    gpm_slot *s = (gpm_slot *)h;
    return s->used ? s : NULL;
}

static evset_slot *evset_of(nvmlEventSet_t h)
{
    uintptr_t p = (uintptr_t)h, base = (uintptr_t)ev_slots;
    if (p < base || p >= base + sizeof ev_slots || (p - base) % sizeof(evset_slot))
        return NULL;
    evset_slot *s = (evset_slot *)h;
    return s->used ? s : NULL;
}

static bool has_gpm(const mig_gpu_state *g)
{
    return g->model && g->model->gpm;
}

/* ------------------------------------------------------------ GPM */

SHIM_API nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t dev, nvmlGpmSupport_t *support)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && (!support || support->version != NVML_GPM_SUPPORT_VERSION))
        rc = support ? NVML_ERROR_ARGUMENT_VERSION_MISMATCH : NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        support->isSupportedDevice = has_gpm(r.g);
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlGpmQueryIfStreamingEnabled(nvmlDevice_t dev, unsigned *state)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && !state)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *state = 0; /* as the live H200 answered */
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlGpmSetStreamingEnabled(nvmlDevice_t dev, unsigned state)
{
    (void)dev, (void)state;
    return shim_initialized() ? NVML_ERROR_NOT_SUPPORTED : NVML_ERROR_UNINITIALIZED;
}

SHIM_API nvmlReturn_t nvmlGpmSampleAlloc(nvmlGpmSample_t *sample)
{
    if (!shim_initialized())
        return NVML_ERROR_UNINITIALIZED;
    if (!sample)
        return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&tele_mu);
    int rc = NVML_ERROR_MEMORY;
    for (unsigned i = 0; i < GPM_SLOTS; i++)
        if (!gpm_slots[i].used) {
            memset(&gpm_slots[i], 0, sizeof gpm_slots[i]);
            gpm_slots[i].used = true;
            *sample = (nvmlGpmSample_t)&gpm_slots[i];
            rc = NVML_SUCCESS;
            break;
        }
    pthread_mutex_unlock(&tele_mu);
    return rc;
}

SHIM_API nvmlReturn_t nvmlGpmSampleFree(nvmlGpmSample_t sample)
{
    if (!shim_initialized())
        return NVML_ERROR_UNINITIALIZED;
    pthread_mutex_lock(&tele_mu);
    gpm_slot *g = gpm_of(sample);
    if (g)
        g->used = false;
    pthread_mutex_unlock(&tele_mu);
    return g ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT;
}

/* Fill slot from the state: the whole GPU (gi < 0) or GPU instance gi. */
static int take(sim_state *s, const shim_ref *r, int gi, nvmlGpmSample_t sample)
{
    if (!has_gpm(r->g))
        return NVML_ERROR_NOT_SUPPORTED;
    const mig_gi_state *gs = NULL;
    if (gi >= 0) {
        if (!r->g->mig_current)
            return NVML_ERROR_INVALID_ARGUMENT; /* live: GI 0/1 with MIG off */
        for (unsigned i = 0; i < r->g->n_gi; i++)
            if (r->g->gi[i].id == (unsigned)gi)
                gs = &r->g->gi[i];
        if (!gs)
            return NVML_ERROR_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&tele_mu);
    gpm_slot *g = gpm_of(sample);
    if (g) {
        g->filled = true;
        g->gpu = r->gpu;
        g->gi = gi;
        g->gi_profile = gs ? gs->profile_id : 0;
        g->gi_start = gs ? gs->start : 0;
        if (gi < 0)
            sim_gpu_load(s, r->gpu, &g->load);
        else
            sim_effective_load(s, r->gpu, gi, &g->load);
    }
    pthread_mutex_unlock(&tele_mu);
    return g ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT;
}

SHIM_API nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t dev, nvmlGpmSample_t sample)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_device(s, dev, &r);
    if (rc == NVML_SUCCESS)
        rc = take(s, &r, r.is_mig ? (int)r.gi->id : -1, sample);
    shim_end(s);
    return rc;
}

SHIM_API_R525 nvmlReturn_t nvmlGpmMigSampleGet(nvmlDevice_t dev, unsigned gi_id,
                                               nvmlGpmSample_t sample)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS)
        rc = gi_id < SIM_GI_IDS ? take(s, &r, (int)gi_id, sample) : NVML_ERROR_INVALID_ARGUMENT;
    shim_end(s);
    return rc;
}

static int metric_value(const sim_load *l, unsigned id, double *v)
{
    switch (id) {
    case 1: /* GRAPHICS_UTIL: the simulator runs compute only */
    case 2: *v = l->sm * 100.0; return NVML_SUCCESS;
    case 3: *v = l->occupancy * 100.0; return NVML_SUCCESS;
    case 5: *v = l->tensor * 100.0; return NVML_SUCCESS;
    case 10: *v = l->dram * 100.0; return NVML_SUCCESS;
    default:
        return id >= 1 && id < NVML_GPM_METRIC_MAX ? NVML_ERROR_NOT_SUPPORTED
                                                   : NVML_ERROR_INVALID_ARGUMENT;
    }
}

SHIM_API nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *m)
{
    if (!shim_initialized())
        return NVML_ERROR_UNINITIALIZED;
    if (!m)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (m->version != NVML_GPM_METRICS_GET_VERSION)
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (m->numMetrics > NVML_GPM_METRIC_MAX)
        return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&tele_mu);
    gpm_slot *a = gpm_of(m->sample1), *b = gpm_of(m->sample2);
    int rc = NVML_SUCCESS;
    if (!a || !b || !a->filled || !b->filled || a->gpu != b->gpu || a->gi != b->gi ||
        a->gi_profile != b->gi_profile || a->gi_start != b->gi_start)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    sim_load l = b ? b->load : (sim_load){0};
    pthread_mutex_unlock(&tele_mu);
    if (rc)
        return rc;
    for (unsigned i = 0; i < m->numMetrics; i++) {
        nvmlGpmMetric_t *x = &m->metrics[i];
        x->value = 0;
        x->nvmlReturn = metric_value(&l, x->metricId, &x->value);
        x->metricInfo.shortName = x->metricInfo.longName = x->metricInfo.unit = NULL;
    }
    return NVML_SUCCESS;
}

/* ------------------------------------------------------------ health */

SHIM_API nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t dev, int error_type,
                                                  int counter_type, unsigned long long *count)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && (!count || error_type < 0 || error_type > 1 || counter_type < 0 ||
                               counter_type > 1))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        const sim_telemetry *t = &s->tele[r.gpu];
        bool unc = error_type == NVML_MEMORY_ERROR_TYPE_UNCORRECTED;
        if (counter_type == NVML_VOLATILE_ECC)
            *count = unc ? t->ecc_dbe_volatile : t->ecc_sbe_volatile;
        else
            *count = unc ? t->ecc_dbe_aggregate : t->ecc_sbe_aggregate;
    }
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t dev, unsigned *corr, unsigned *unc,
                                                unsigned *pending, unsigned *failure)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && (!corr || !unc || !pending || !failure))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        const sim_telemetry *t = &s->tele[r.gpu];
        *corr = t->remap_correctable;
        *unc = t->remap_uncorrectable;
        *pending = t->remap_pending;
        *failure = t->remap_failure;
    }
    shim_end(s);
    return rc;
}

/* ------------------------------------------------------------ events */

SHIM_API nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set)
{
    if (!shim_initialized())
        return NVML_ERROR_UNINITIALIZED;
    if (!set)
        return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&tele_mu);
    int rc = NVML_ERROR_MEMORY;
    for (unsigned i = 0; i < EVSET_SLOTS; i++)
        if (!ev_slots[i].used) {
            memset(&ev_slots[i], 0, sizeof ev_slots[i]);
            ev_slots[i].used = true;
            *set = (nvmlEventSet_t)&ev_slots[i];
            rc = NVML_SUCCESS;
            break;
        }
    pthread_mutex_unlock(&tele_mu);
    return rc;
}

SHIM_API nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set)
{
    if (!shim_initialized())
        return NVML_ERROR_UNINITIALIZED;
    pthread_mutex_lock(&tele_mu);
    evset_slot *e = evset_of(set);
    if (e)
        e->used = false;
    pthread_mutex_unlock(&tele_mu);
    return e ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT;
}

SHIM_API nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t dev,
                                                       unsigned long long *types)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && !types)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *types = nvmlEventTypeXidCriticalError;
    shim_end(s);
    return rc;
}

SHIM_API nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t dev, unsigned long long types,
                                               nvmlEventSet_t set)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    shim_ref r;
    rc = shim_ref_parent(s, dev, &r);
    if (rc == NVML_SUCCESS && (types & ~nvmlEventTypeXidCriticalError))
        rc = NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS) {
        pthread_mutex_lock(&tele_mu);
        evset_slot *e = evset_of(set);
        if (!e) {
            rc = NVML_ERROR_INVALID_ARGUMENT;
        } else if (!e->registered[r.gpu]) {
            e->registered[r.gpu] = true;
            e->seen[r.gpu] = s->tele[r.gpu].xid_total;
        }
        pthread_mutex_unlock(&tele_mu);
    }
    shim_end(s);
    return rc;
}

/* One pass: the oldest undelivered Xid of any registered GPU. */
static int next_event(evset_slot *e, nvmlEventData_t *data, bool *found)
{
    sim_state *s;
    int rc = shim_begin(false, &s);
    if (rc)
        return rc;
    *found = false;
    pthread_mutex_lock(&tele_mu);
    for (unsigned gpu = 0; gpu < s->n_gpus && !*found; gpu++) {
        if (!e->registered[gpu])
            continue;
        const sim_telemetry *t = &s->tele[gpu];
        if (t->xid_total <= e->seen[gpu])
            continue;
        unsigned next = e->seen[gpu] + 1; /* event number */
        unsigned first_kept = t->xid_total - t->n_xid + 1;
        if (next < first_kept)
            next = first_kept; /* older ones fell out of the file's history */
        *data = (nvmlEventData_t){
            .device = shim_dev_handle(gpu),
            .eventType = nvmlEventTypeXidCriticalError,
            .eventData = t->n_xid ? t->xid[next - first_kept] : 0,
            .gpuInstanceId = NVML_INVALID_INSTANCE_ID,
            .computeInstanceId = NVML_INVALID_INSTANCE_ID,
        };
        e->seen[gpu] = next;
        *found = true;
    }
    pthread_mutex_unlock(&tele_mu);
    shim_end(s);
    return NVML_SUCCESS;
}

SHIM_API nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data,
                                          unsigned timeout_ms)
{
    if (!shim_initialized())
        return NVML_ERROR_UNINITIALIZED;
    pthread_mutex_lock(&tele_mu);
    evset_slot *e = evset_of(set);
    pthread_mutex_unlock(&tele_mu);
    if (!e || !data)
        return NVML_ERROR_INVALID_ARGUMENT;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        bool found;
        int rc = next_event(e, data, &found);
        if (rc || found)
            return rc;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= (long)timeout_ms)
            return NVML_ERROR_TIMEOUT;
        usleep(20000);
    }
}
