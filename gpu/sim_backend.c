/*
 * sim_backend.c: migctl's "sim" backend, gpu/backend.h's operations over the
 * simulator (gpu/sim.h). It keeps no state between calls but the file's
 * path: every operation opens the file (shared lock to read, exclusive to
 * change), and a change runs
 *     open -> lookups -> fault check -> operation -> commit -> close -> kill check
 * so another process (the NVML shim, a second migctl) always sees the last
 * committed state, and injected faults count down across processes.
 *
 * Errors follow backend.h: "<NVML function>: <nvmlErrorString>" with the
 * names the nvml backend would show for the same call, so both backends
 * print the same text for the same mistake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/backend.h"
#include "gpu/sim.h"
#include "gpu/sim_telemetry.h"
#include "util/nvml_rc.h"

typedef struct {
    char path[PATH_MAX];
    /* Xid events, as NVML delivers them: only those after the first
     * sample of a GPU (when a real backend registers for events). */
    bool watching[SIM_MAX_GPUS];
    unsigned xid_seen[SIM_MAX_GPUS];
} sim_impl;

static const char *impl_path(mig_backend *b)
{
    return ((sim_impl *)b->impl)->path;
}

static int nvml_fail(mig_error *e, int rc, const char *fn)
{
    return mig_fail_nvml(e, rc, "%s", fn);
}

/* Open and check the GPU index the way nvmlDeviceGetHandleByIndex would. */
static sim_state *open_gpu(mig_backend *b, unsigned idx, bool writable, mig_error *e)
{
    sim_state *s = sim_open(impl_path(b), writable, e);
    if (s && idx >= s->n_gpus) {
        sim_close(s);
        nvml_fail(e, NVML_ERROR_INVALID_ARGUMENT, "nvmlDeviceGetHandleByIndex");
        return NULL;
    }
    return s;
}

/* The tail of every change: commit whatever happened (the fault counters
 * move even when the operation fails), close, maybe die. */
static int finish(sim_state *s, int rc, const char *fn, mig_error *e)
{
    mig_error ce;
    if (sim_commit(s, &ce) < 0) {
        sim_close(s);
        *e = ce;
        return -1;
    }
    sim_close_kill(s);
    return rc == NVML_SUCCESS ? 0 : nvml_fail(e, rc, fn);
}

static int op_gpu_count(mig_backend *b, unsigned *n, mig_error *e)
{
    sim_state *s = sim_open(impl_path(b), false, e);
    if (!s)
        return -1;
    *n = s->n_gpus;
    sim_close(s);
    return 0;
}

static int op_gpu_state(mig_backend *b, unsigned idx, mig_gpu_state *out, mig_error *e)
{
    sim_state *s = open_gpu(b, idx, false, e);
    if (!s)
        return -1;
    *out = s->gpus[idx];
    sim_close(s);
    /* The simulator keeps counts; its processes' pids are sim_proc_pid(),
     * the same the shim reports through NVML. */
    for (unsigned k = 0; k < out->n_procs && k < MIG_MAX_PIDS; k++)
        out->pids[k] = sim_proc_pid(idx, -1, -1, k);
    for (unsigned i = 0; i < out->n_gi; i++)
        for (unsigned c = 0; c < out->gi[i].n_ci; c++) {
            mig_ci_state *ci = &out->gi[i].ci[c];
            for (unsigned k = 0; k < ci->n_procs && k < MIG_MAX_PIDS; k++)
                ci->pids[k] = sim_proc_pid(idx, (int)out->gi[i].id, (int)ci->id, k);
        }
    return 0;
}

static int op_gi_profiles(mig_backend *b, unsigned idx, mig_gi_profile *out, unsigned *n,
                          mig_error *e)
{
    sim_state *s = open_gpu(b, idx, false, e);
    if (!s)
        return -1;
    const mig_model *m = s->gpus[idx].model;
    sim_close(s);
    if (*n < m->n_profiles)
        return nvml_fail(e, NVML_ERROR_INSUFFICIENT_SIZE, "nvmlDeviceGetGpuInstanceProfileInfoV");
    memcpy(out, m->profiles, m->n_profiles * sizeof out[0]);
    *n = m->n_profiles;
    return 0;
}

static int op_remaining(mig_backend *b, unsigned idx, unsigned profile_id, unsigned *count,
                        mig_error *e)
{
    sim_state *s = open_gpu(b, idx, false, e);
    if (!s)
        return -1;
    int rc = sim_remaining(s, idx, profile_id, count);
    sim_close(s);
    return rc == NVML_SUCCESS ? 0
                              : nvml_fail(e, rc, "nvmlDeviceGetGpuInstanceRemainingCapacity");
}

static int op_set_mode(mig_backend *b, unsigned idx, bool enable, bool *pending, int *why,
                       mig_error *e)
{
    sim_state *s = open_gpu(b, idx, true, e);
    if (!s)
        return -1;
    int activation = NVML_SUCCESS;
    int rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_set_mode(s, idx, enable, &activation);
    bool still_pending = s->gpus[idx].mig_current != s->gpus[idx].mig_pending;
    if (finish(s, rc, "nvmlDeviceSetMigMode", e) < 0)
        return -1;
    if (pending)
        *pending = still_pending;
    if (why)
        *why = still_pending && activation == NVML_SUCCESS ? NVML_ERROR_RESET_REQUIRED
                                                           : activation;
    return 0;
}

static int op_reset(mig_backend *b, unsigned idx, mig_error *e)
{
    sim_state *s = open_gpu(b, idx, true, e);
    if (!s)
        return -1;
    int rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_reset(s, idx);
    return finish(s, rc, "nvmlDeviceResetGpu", e);
}

static int op_create_gi(mig_backend *b, unsigned idx, unsigned profile_id, int start,
                        unsigned *gi_id, mig_error *e)
{
    sim_state *s = open_gpu(b, idx, true, e);
    if (!s)
        return -1;
    int rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_create_gi(s, idx, profile_id, start, gi_id);
    return finish(s, rc,
                  start < 0 ? "nvmlDeviceCreateGpuInstance"
                            : "nvmlDeviceCreateGpuInstanceWithPlacement",
                  e);
}

/* nvmlDeviceGetGpuInstanceById comes before any change: NOT_FOUND. */
static sim_state *open_gi(mig_backend *b, unsigned idx, unsigned gi_id, mig_error *e)
{
    sim_state *s = open_gpu(b, idx, true, e);
    if (s && !sim_find_gi(s, idx, gi_id)) {
        sim_close(s);
        nvml_fail(e, NVML_ERROR_NOT_FOUND, "nvmlDeviceGetGpuInstanceById");
        return NULL;
    }
    return s;
}

static int op_destroy_gi(mig_backend *b, unsigned idx, unsigned gi_id, mig_error *e)
{
    sim_state *s = open_gi(b, idx, gi_id, e);
    if (!s)
        return -1;
    int rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_destroy_gi(s, idx, gi_id);
    return finish(s, rc, "nvmlGpuInstanceDestroy", e);
}

static int op_create_ci(mig_backend *b, unsigned idx, unsigned gi_id, unsigned ci_profile_id,
                        int start, unsigned *ci_id, mig_error *e)
{
    sim_state *s = open_gi(b, idx, gi_id, e);
    if (!s)
        return -1;
    int rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_create_ci(s, idx, gi_id, ci_profile_id, start, ci_id);
    return finish(s, rc,
                  start < 0 ? "nvmlGpuInstanceCreateComputeInstance"
                            : "nvmlGpuInstanceCreateComputeInstanceWithPlacement",
                  e);
}

static int op_destroy_ci(mig_backend *b, unsigned idx, unsigned gi_id, unsigned ci_id,
                         mig_error *e)
{
    sim_state *s = open_gi(b, idx, gi_id, e);
    if (!s)
        return -1;
    if (!sim_find_ci(sim_find_gi(s, idx, gi_id), ci_id)) {
        sim_close(s);
        return nvml_fail(e, NVML_ERROR_NOT_FOUND, "nvmlGpuInstanceGetComputeInstanceById");
    }
    int rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_destroy_ci(s, idx, gi_id, ci_id);
    return finish(s, rc, "nvmlComputeInstanceDestroy", e);
}

static int op_sample(mig_backend *b, unsigned idx, mig_gpu_sample *out, mig_error *e)
{
    sim_state *s = open_gpu(b, idx, false, e);
    if (!s)
        return -1;
    sim_fill_sample(s, idx, out);
    sim_close(s);
    sim_impl *impl = b->impl;
    unsigned total = out->health.xid_count;
    if (!impl->watching[idx]) {
        impl->watching[idx] = true;
        impl->xid_seen[idx] = total;
    }
    out->health.xid_count = total - impl->xid_seen[idx];
    if (!out->health.xid_count)
        out->health.xid_last = 0;
    return 0;
}

static void op_close(mig_backend *b)
{
    free(b->impl);
    free(b);
}

static const mig_backend_ops sim_ops = {
    .name = "sim",
    .gpu_count = op_gpu_count,
    .gpu_state = op_gpu_state,
    .gi_profiles = op_gi_profiles,
    .remaining_capacity = op_remaining,
    .set_mode = op_set_mode,
    .reset = op_reset,
    .create_gi = op_create_gi,
    .destroy_gi = op_destroy_gi,
    .create_ci = op_create_ci,
    .destroy_ci = op_destroy_ci,
    .close = op_close,
    .sample = op_sample,
};

int sim_backend_open(const char *path, mig_backend **out, mig_error *e)
{
    /* Fail now, with the hint, rather than at the first operation. */
    sim_state *s = sim_open(path, false, e);
    if (!s)
        return -1;
    sim_close(s);
    mig_backend *b = calloc(1, sizeof *b);
    sim_impl *impl = calloc(1, sizeof *impl);
    if (!b || !impl) {
        free(b);
        free(impl);
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    snprintf(impl->path, sizeof impl->path, "%s", path);
    b->ops = &sim_ops;
    b->impl = impl;
    *out = b;
    return 0;
}
