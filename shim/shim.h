/*
 * shim.h: what the files of the NVML shim (libnvidia-ml.so.1 over the
 * simulator) share: the export attribute, handle encoding, and the
 * open-the-state-file-per-call helpers.
 *
 * Handles are addresses inside static tables the shim owns, one slot per
 * key: device (gpu), MIG device (gpu, gi id, ci id), GPU instance (gpu, gi
 * id), compute instance (gpu, gi id, ci id). The slots hold nothing: the
 * address alone is the key, so a handle is stable for the life of the
 * process, costs no allocation, and anything that is not one of these
 * addresses is recognised as garbage without being dereferenced. A handle
 * is checked against the state file at every call; one whose instance has
 * gone gives INVALID_ARGUMENT, never a crash.
 */
#ifndef MIGCTL_SHIM_SHIM_H
#define MIGCTL_SHIM_SHIM_H

#include <stdbool.h>

#include "gpu/nvml_abi.h"
#include "gpu/sim.h"
#include "util/err.h"

#define SHIM_API __attribute__((visibility("default")))

/* Calls NVML added in 12.0 (R525) or later. The copy of the shim built as a
 * driver before R525 (MIGSIM_BEFORE_R525: build/shim/r520/) does not export
 * them, so that migctl's fallbacks for older drivers run in CI. */
#ifdef MIGSIM_BEFORE_R525
#define SHIM_API_R525 __attribute__((visibility("hidden")))
#else
#define SHIM_API_R525 SHIM_API
#endif
/* migsimDeviceReset: the pre-R525 copy stands for a real driver, which has
 * no reset call, so migctl resets through nvidia-smi there, as on a GPU. */
#ifdef MIGSIM_BEFORE_R525
#define SHIM_API_SIM __attribute__((visibility("hidden")))
#else
#define SHIM_API_SIM SHIM_API
#endif

#define SHIM_GI_IDS 15 /* GI ids 0-14 */
#define SHIM_CI_IDS 8  /* CI ids 0-7 */

/* The profile indices the library the shim stands for knows: NVML
 * 13.580.159.04 (the header's 13.0 counts). The live 580 library answers
 * GI index 0x11 (_3_SLICE_GFX, header 13.2) and anything past it with
 * INVALID_ARGUMENT, as it does CI index 8 (_7_SLICE_NVL, header 13.3). */
#define SHIM_GI_PROFILE_COUNT 0x11u
#define SHIM_CI_PROFILE_COUNT 0x8u

/* ---- handles ---- */
nvmlDevice_t shim_dev_handle(unsigned gpu);
nvmlDevice_t shim_mig_handle(unsigned gpu, unsigned gi, unsigned ci);
nvmlGpuInstance_t shim_gi_handle(unsigned gpu, unsigned gi);
nvmlComputeInstance_t shim_ci_handle(unsigned gpu, unsigned gi, unsigned ci);

bool shim_dev_decode(nvmlDevice_t h, unsigned *gpu);
bool shim_mig_decode(nvmlDevice_t h, unsigned *gpu, unsigned *gi, unsigned *ci);
bool shim_gi_decode(nvmlGpuInstance_t h, unsigned *gpu, unsigned *gi);
bool shim_ci_decode(nvmlComputeInstance_t h, unsigned *gpu, unsigned *gi, unsigned *ci);

/* ---- one call ----
 * shim_begin: UNINITIALIZED before nvmlInit; else opens the state file
 * (exclusive lock when writable). A file that fails to load gives
 * NVML_ERROR_UNKNOWN and the simulator's message in migsimLastError. */
int shim_begin(bool writable, sim_state **s);
bool shim_initialized(void);
void shim_end(sim_state *s);
/* Commit a change (always, so fault counters persist), close, and maybe die
 * (an armed kill). Returns rc, or UNKNOWN when the commit failed. */
int shim_commit_end(sim_state *s, int rc);
void shim_set_error(const mig_error *e);

/* Resolution of handles against the state just opened. */
typedef struct {
    unsigned gpu;
    mig_gpu_state *g;
    mig_gi_state *gi; /* MIG device / GI / CI handles */
    mig_ci_state *ci; /* MIG device / CI handles */
    bool is_mig;
} shim_ref;

/* A parent device handle (INVALID_ARGUMENT otherwise). */
int shim_ref_parent(sim_state *s, nvmlDevice_t h, shim_ref *r);
/* A parent or MIG device handle. */
int shim_ref_device(sim_state *s, nvmlDevice_t h, shim_ref *r);
int shim_ref_gi(sim_state *s, nvmlGpuInstance_t h, shim_ref *r);
int shim_ref_ci(sim_state *s, nvmlComputeInstance_t h, shim_ref *r);

/* The GI profile of a live GI / of an id on this GPU's model (NULL if none). */
const mig_gi_profile *shim_gi_profile(const mig_gpu_state *g, unsigned profile_id);

/* Copy a string into a caller's buffer the NVML way (INSUFFICIENT_SIZE). */
int shim_copy_string(char *dst, unsigned len, const char *src);

#endif
