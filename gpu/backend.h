/*
 * backend.h: the one interface between migctl and GPUs, a struct of function
 * pointers speaking in model types. Two implementations: gpu/sim.c (the
 * simulator's state file) and gpu/nvml.c (libnvidia-ml.so.1 by dlopen; with
 * MIGCTL_NVML_LIB pointing at build/shim/libnvidia-ml.so.1 it drives the
 * simulator through the real NVML code path).
 *
 * Error convention, shared by both so that the same bad operation prints the
 * same message and exits the same way on either backend: a failing call
 * returns -1 with mig_fail_nvml(e, rc, "<nvml function name>") plus, where
 * useful, the arguments, e.g.
 *     "nvmlDeviceCreateGpuInstanceWithPlacement: Insufficient Resources"
 * and e->nvml = rc. Callers prepend what they were doing ("GPU 0: create
 * 3g.40gb@4"). The engine never calls NVML directly; only backends do.
 */
#ifndef MIGCTL_GPU_BACKEND_H
#define MIGCTL_GPU_BACKEND_H

#include <stdbool.h>

#include "model/catalogue.h"
#include "gpu/sample.h"
#include "model/gpu_state.h"
#include "util/err.h"

typedef struct mig_backend mig_backend;

typedef struct {
    const char *name; /* "sim" or "nvml" */

    int (*gpu_count)(mig_backend *b, unsigned *n, mig_error *e);
    /* Identity, mode, GIs, CIs, UUIDs, busy counts of GPU idx. */
    int (*gpu_state)(mig_backend *b, unsigned idx, mig_gpu_state *out, mig_error *e);
    /* The GI profile table as the device reports it (names derived with
     * mig_profile_name_derive, never taken from NVML's name field), in
     * nvidia-smi -lgip order; *n in/out (capacity in, count out). */
    int (*gi_profiles)(mig_backend *b, unsigned idx, mig_gi_profile *out, unsigned *n,
                       mig_error *e);
    int (*remaining_capacity)(mig_backend *b, unsigned idx, unsigned profile_id,
                              unsigned *count, mig_error *e);

    /* Request a MIG mode. *pending is set when the change has not taken
     * effect (Ampere with the GPU held, or a reset is needed); *why then
     * holds the activation status code (e.g. NVML_ERROR_IN_USE). */
    int (*set_mode)(mig_backend *b, unsigned idx, bool enable, bool *pending, int *why,
                    mig_error *e);
    /* Reset the GPU (makes a pending mode current). */
    int (*reset)(mig_backend *b, unsigned idx, mig_error *e);

    /* start < 0: the driver chooses the placement. */
    int (*create_gi)(mig_backend *b, unsigned idx, unsigned profile_id, int start,
                     unsigned *gi_id, mig_error *e);
    int (*destroy_gi)(mig_backend *b, unsigned idx, unsigned gi_id, mig_error *e);
    int (*create_ci)(mig_backend *b, unsigned idx, unsigned gi_id, unsigned ci_profile_id,
                     int start, unsigned *ci_id, mig_error *e);
    int (*destroy_ci)(mig_backend *b, unsigned idx, unsigned gi_id, unsigned ci_id,
                      mig_error *e);

    void (*close)(mig_backend *b);

    /* Telemetry of GPU idx (gpu/sample.h): memory, GPM metrics, processes,
     * health. GPM metrics cover the time since this backend's previous
     * sample of that GPU (MIG_MET_PENDING on the first); what the driver
     * does not report is MIG_MET_UNSUPPORTED / *_known = false. NULL: the
     * backend cannot sample at all. */
    int (*sample)(mig_backend *b, unsigned idx, mig_gpu_sample *out, mig_error *e);
} mig_backend_ops;

struct mig_backend {
    const mig_backend_ops *ops;
    void *impl;
};

/* What to open, decided by the caller (cli/ reads the command line and the
 * environment; nothing below cli/ does). */
typedef struct {
    const char *which;    /* "sim", "nvml", or NULL/"" for the default (nvml when
                             the library loads, else sim) */
    const char *sim_path; /* the simulator state file; NULL: none given */
    const char *nvml_lib; /* the NVML library to dlopen; NULL: libnvidia-ml.so.1 */
} mig_backend_options;

/* Open a backend. The nvml backend over the shim finds the simulator through
 * the shim's own variable (MIGCTL_SIM_STATE), which the caller exports: the
 * shim stands in for the driver, and a driver's configuration is the
 * driver's business. On failure MIG_ERR_INPUT (unknown name) or
 * MIG_ERR_BACKEND. */
int backend_open(const mig_backend_options *o, mig_backend **out, mig_error *e);
void backend_close(mig_backend *b);

/* Constructors of the two implementations (used by backend_open). */
int sim_backend_open(const char *path, mig_backend **out, mig_error *e);
int nvml_backend_open(const char *lib_path, mig_backend **out, mig_error *e);

/* The state file path: explicit_path when non-empty, else NULL. (The
 * environment's MIGCTL_SIM_STATE is read by cli/main.c into the path it
 * passes down.) */
const char *sim_default_path(const char *explicit_path);

#endif
