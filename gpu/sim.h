/*
 * sim.h: the simulated GPUs. State lives in a JSON file (MIGCTL_SIM_STATE or
 * --sim FILE), read under flock and rewritten atomically (temp file, fsync,
 * rename) so two processes never corrupt it and a killed process never leaves
 * it half-written.
 *
 * The operations enforce the driver's rules through model/layout.h and return
 * NVML codes (util/nvml_rc.h): INVALID_ARGUMENT for a placement not in the
 * list, INSUFFICIENT_RESOURCES for overlap / no room / cap, IN_USE for
 * destroying a GI with CIs or an instance with processes, NOT_SUPPORTED for
 * GI/CI calls while MIG mode is off. Used by gpu/sim_backend.c (migctl's sim
 * backend) and by shim/ (libnvidia-ml.so.1): one simulator, two front doors.
 *
 * Faults: state->fail_op = N makes the Nth following mutating operation fail
 * with state->fail_rc; state->kill_op = N kills the process (SIGKILL) right
 * after the Nth mutating operation has been committed. Both count down in the
 * file, so they work across processes.
 */
#ifndef MIGCTL_GPU_SIM_H
#define MIGCTL_GPU_SIM_H

#include <stdbool.h>
#include <limits.h>

#include "model/gpu_state.h"
#include "util/err.h"

#define SIM_MAX_GPUS 64

typedef struct {
    char path[PATH_MAX];
    int lock_fd;                 /* holds the flock while open */
    bool writable;
    bool swizzled;               /* GI ids not following placements */
    unsigned long long serial;   /* bumps per created instance, feeds UUIDs */
    unsigned fail_op;            /* 0 = no fault armed */
    int fail_rc;                 /* NVML code of the injected failure */
    unsigned kill_op;            /* 0 = no kill armed */
    unsigned n_gpus;
    mig_gpu_state gpus[SIM_MAX_GPUS];
} sim_state;

/* Create a state file: spec "8xH100-SXM5-80GB[,2xA100-SXM4-40GB]", MIG off
 * on every GPU (as a real GPU boots). Overwrites. */
int sim_init(const char *path, const char *spec, bool swizzled, mig_error *e);

/* Load under a shared (writable=false) or exclusive (true) lock. The returned
 * state is heap-allocated; sim_close frees it and drops the lock. */
sim_state *sim_open(const char *path, bool writable, mig_error *e);
int sim_commit(sim_state *s, mig_error *e); /* atomic rewrite, lock kept */
void sim_close(sim_state *s);

/* Mutating operations. Each returns an NVML code and changes only the
 * in-memory state; the caller commits. sim_fault_check() must be called
 * first by a front door for each mutating operation it performs. */
int sim_fault_check(sim_state *s);          /* NVML_SUCCESS or the injected rc */
void sim_kill_check(sim_state *s);          /* after commit: may SIGKILL */
int sim_set_mode(sim_state *s, unsigned gpu, bool enable, int *activation);
int sim_reset(sim_state *s, unsigned gpu);
int sim_create_gi(sim_state *s, unsigned gpu, unsigned profile_id, int start, unsigned *gi_id);
int sim_destroy_gi(sim_state *s, unsigned gpu, unsigned gi_id);
int sim_create_ci(sim_state *s, unsigned gpu, unsigned gi_id, unsigned ci_profile_id, int start,
                  unsigned *ci_id);
int sim_destroy_ci(sim_state *s, unsigned gpu, unsigned gi_id, unsigned ci_id);

/* Queries. */
int sim_remaining(const sim_state *s, unsigned gpu, unsigned profile_id, unsigned *count);

/* Simulated processes: gi_id < 0 means the whole GPU (MIG off), ci_id < 0
 * with a GI means its first CI. start=false stops them. */
int sim_procs(sim_state *s, unsigned gpu, int gi_id, int ci_id, bool start, mig_error *e);

/* A reboot: GIs/CIs and processes gone; Hopper and later lose MIG mode, on
 * Ampere a pending mode becomes current. */
void sim_reboot(sim_state *s);

#endif
