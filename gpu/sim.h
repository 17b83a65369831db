/*
 * sim.h: the simulated GPUs. State lives in a JSON file (MIGCTL_SIM_STATE or
 * --sim FILE), read under a record lock and rewritten atomically (temp file, fsync,
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
 * file, so they work across processes: sim_fault_check() does both countdowns
 * (so the front door's commit persists them, even when the operation itself
 * then fails) and sim_kill_check() only delivers the kill it armed. An
 * operation failed by fail_op does not count towards kill_op.
 *
 * A front door therefore runs each mutating operation as
 *     sim_open(path, true) -> lookups -> sim_fault_check -> op -> sim_commit
 *     -> sim_close -> sim_kill_check-equivalent
 * (sim_kill_check needs the state: call it after sim_commit, before sim_close,
 * or use sim_close_kill()).
 *
 * The file format (version 1):
 *   {"version": 1, "options": {"gi_ids": "canonical"|"swizzled"}, "serial": N,
 *    "fault": {"fail_op": N, "fail_rc": RC, "kill_op": N},
 *    "gpus": [{"index", "model", "uuid", "bus_id", "pci_device_id",
 *              "pci_subsystem_id", "mig": {"current", "pending"}, "procs": [pid...],
 *              "gpu_instances": [{"id", "profile_id", "start", "size",
 *                 "compute_instances": [{"id", "profile_id", "start", "size",
 *                                        "uuid", "procs": [pid...]}]}]}]}
 * Processes are kept as counts in memory; their pids are sim_proc_pid().
 * Loading requires only "version", each GPU's "model", each GI's id /
 * profile_id / start and each CI's id / profile_id / start / uuid; anything
 * else absent takes the value sim_init would have written, so test fixtures
 * can be written by hand. Unknown keys are ignored (and dropped on rewrite).
 */
#ifndef MIGCTL_GPU_SIM_H
#define MIGCTL_GPU_SIM_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>

#include "model/gpu_state.h"
#include "util/err.h"

#define SIM_MAX_GPUS 64
#define SIM_MAX_PROCS 64 /* simulated processes per place (GPU or CI) */

/* Telemetry the simulator scripts (gpu/sim_telemetry.c; `migctl sim load`,
 * `migctl sim health`): the load of the whole GPU and of each GPU instance,
 * as fractions of that place's own SMs and bandwidth, and the GPU's health.
 * A load shows only while processes run there (load follows the simulated
 * processes); memory left unscripted is SIM_PROC_MEMORY per process. */
typedef struct {
    bool set;
    double sm, occupancy, tensor, dram; /* 0..1 */
    unsigned long long memory_bytes;    /* 0: per-process default */
} sim_load;

#define SIM_MAX_XID 16
#define SIM_GI_IDS 16
#define SIM_PROC_MEMORY (256ull << 20)

typedef struct {
    sim_load gpu;            /* the whole GPU (MIG off) */
    sim_load gi[SIM_GI_IDS]; /* by GPU instance id */
    unsigned long long ecc_sbe_volatile, ecc_dbe_volatile, ecc_sbe_aggregate, ecc_dbe_aggregate;
    unsigned remap_correctable, remap_uncorrectable;
    bool remap_pending, remap_failure;
    unsigned xid_total;         /* Xid events ever injected on this GPU */
    unsigned n_xid;             /* the last n_xid codes, oldest first */
    unsigned xid[SIM_MAX_XID];  /* xid[i] is event number xid_total - n_xid + i + 1 */
} sim_telemetry;

typedef struct {
    char path[PATH_MAX];
    int lock_fd;                 /* holds the state lock while open */
    bool writable;
    bool swizzled;               /* GI ids not following placements */
    unsigned long long serial;   /* bumps per created instance, feeds UUIDs */
    unsigned fail_op;            /* 0 = no fault armed */
    int fail_rc;                 /* NVML code of the injected failure */
    unsigned kill_op;            /* 0 = no kill armed */
    unsigned n_gpus;
    mig_gpu_state gpus[SIM_MAX_GPUS];
    bool kill_armed;             /* sim_fault_check counted kill_op down to 0 */
    sim_telemetry tele[SIM_MAX_GPUS]; /* "telemetry" in the file, see sim_telemetry.c */
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

/* ---- additions ---- */

/* An in-memory state (no file, no lock) built from an init spec, for tests,
 * benchmarks and the property checks; sim_commit on it fails, sim_close frees. */
sim_state *sim_new(const char *spec, bool swizzled, mig_error *e);

/* Parse and fully validate a state document (what sim_open does after
 * reading). `name` names the source in messages. MIG_ERR_INPUT on any
 * syntactic or semantic problem. out->path / lock_fd are left untouched. */
int sim_parse(const char *text, size_t len, const char *name, sim_state *out, mig_error *e);
/* Serialize (the exact text sim_commit writes); malloc'd, NULL on failure. */
char *sim_dump(const sim_state *s);

/* Start (count 0 means 1) or stop (count 0 means all) simulated processes;
 * sim_procs() is this with count 0. Not a fault-counted operation. */
int sim_procs_n(sim_state *s, unsigned gpu, int gi_id, int ci_id, bool start, unsigned count,
                mig_error *e);
/* The pid the k-th simulated process of a place gets (gi_id/ci_id < 0: the
 * whole GPU), so the file and the shim name the same processes. */
unsigned sim_proc_pid(unsigned gpu, int gi_id, int ci_id, unsigned k);

/* Processes anywhere on the GPU (whole GPU and every CI). */
unsigned sim_gpu_procs(const mig_gpu_state *g);

/* The GI / CI with that id, or NULL. */
mig_gi_state *sim_find_gi(sim_state *s, unsigned gpu, unsigned gi_id);
mig_ci_state *sim_find_ci(mig_gi_state *gi, unsigned ci_id);

/* A deterministic UUID "<prefix>xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx" from a
 * GPU index and a serial (GPUs use serial 0 and prefix "GPU-"; compute
 * instances the state's bumped serial and "MIG-"). */
void sim_uuid(const char *prefix, unsigned gpu, unsigned long long serial, char *buf, size_t len);

/* Per-node identities (gpu/sim_identity.c): a random node seed (never 0),
 * the GPUs' UUIDs and bus ids drawn from it (seed 0: left as sim_new made
 * them), and the salt a GPU's UUID gives its compute instances' UUIDs. */
unsigned long long sim_node_seed(void);
void sim_node_identities(sim_state *s, unsigned long long node_seed);
unsigned long long sim_uuid_salt(const char *gpu_uuid);

/* sim_kill_check then sim_close, for front doors that close first. */
void sim_close_kill(sim_state *s);

/* ---- telemetry (gpu/sim_telemetry.c) ---- */

/* Script the load of the whole GPU (gi_id < 0) or of GPU instance gi_id;
 * NULL clears it. MIG_ERR_INPUT for a GI that does not exist. */
int sim_set_load(sim_state *s, unsigned gpu, int gi_id, const sim_load *l, mig_error *e);
/* The load in effect there: the scripted one while processes run, else
 * idle; memory defaults to SIM_PROC_MEMORY per process. */
void sim_effective_load(const sim_state *s, unsigned gpu, int gi_id, sim_load *out);
/* The GPU as a whole: with MIG on, the instances weighted by their compute
 * slices (SM figures) and memory slices (bandwidth), memory summed. */
void sim_gpu_load(const sim_state *s, unsigned gpu, sim_load *out);
/* Inject a critical Xid event (code) on a GPU. */
void sim_inject_xid(sim_state *s, unsigned gpu, unsigned code);
/* Xid events numbered after `seen` (so a watcher sees each once): returns
 * how many, *last the newest code. */
unsigned sim_xids_since(const sim_state *s, unsigned gpu, unsigned seen, unsigned *last);

#endif
