/*
 * shim_core.c: the NVML shim's plumbing: init/shutdown (reference counted),
 * nvmlErrorString, version strings, the handle tables, the per-call
 * open/commit of the simulator state file, and the two migctl extensions:
 *   migsimDeviceReset(dev)        a GPU reset (NVML has no public reset call)
 *   migsimLastError(buf, len)     when a call failed because the state file
 *                                 could not be read or written: the
 *                                 simulator's message, and its mig_err_kind
 *                                 as the return value (0: no such failure).
 *
 * With $MIGSIM_INIT_LOG set, every nvmlInit appends a line "nvmlInit <pid>"
 * to that file, so tests can count how often a program initialises NVML;
 * $MIGSIM_SHUTDOWN_LOG likewise gets "nvmlShutdown <pid>" per nvmlShutdown.
 *
 * The state file is named by $MIGCTL_SIM_STATE when nvmlInit runs. Every
 * change opens it under an exclusive lock and rewrites it (gpu/sim.h), so
 * several processes see each other's changes as they would on a real driver.
 * Queries read a snapshot: the file parsed under a shared lock, kept with an
 * open descriptor on it, and reused while the path still names that same,
 * unmodified file. The simulator only ever replaces the file by rename, and
 * the descriptor keeps its inode from being reused, so "same inode, size and
 * times" means "same content"; any change makes the next query parse again.
 * Queries are serialised by one mutex, which also guards the snapshot.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/shim.h"

/* ------------------------------------------------------------ handles */

/* One byte per key; only the addresses are used (see shim.h). */
static unsigned char dev_slots[SIM_MAX_GPUS];
static unsigned char mig_slots[SIM_MAX_GPUS][SHIM_GI_IDS][SHIM_CI_IDS];
static unsigned char gi_slots[SIM_MAX_GPUS][SHIM_GI_IDS];
static unsigned char ci_slots[SIM_MAX_GPUS][SHIM_GI_IDS][SHIM_CI_IDS];

nvmlDevice_t shim_dev_handle(unsigned gpu)
{
    return (nvmlDevice_t)(void *)&dev_slots[gpu];
}

nvmlDevice_t shim_mig_handle(unsigned gpu, unsigned gi, unsigned ci)
{
    return (nvmlDevice_t)(void *)&mig_slots[gpu][gi][ci];
}

nvmlGpuInstance_t shim_gi_handle(unsigned gpu, unsigned gi)
{
    return (nvmlGpuInstance_t)(void *)&gi_slots[gpu][gi];
}

nvmlComputeInstance_t shim_ci_handle(unsigned gpu, unsigned gi, unsigned ci)
{
    return (nvmlComputeInstance_t)(void *)&ci_slots[gpu][gi][ci];
}

/* Offset of h inside a table of n bytes, or -1 when it is not in it.
 * Compared as integers: relational operators on unrelated pointers are UB. */
static long slot_of(const void *h, const void *table, size_t n)
{
    uintptr_t p = (uintptr_t)h, base = (uintptr_t)table;
    return p >= base && p < base + n ? (long)(p - base) : -1;
}

bool shim_dev_decode(nvmlDevice_t h, unsigned *gpu)
{
    long k = slot_of(h, dev_slots, sizeof dev_slots);
    if (k < 0)
        return false;
    *gpu = (unsigned)k;
    return true;
}

static void split3(long k, unsigned *gpu, unsigned *gi, unsigned *ci)
{
    *ci = (unsigned)(k % SHIM_CI_IDS);
    *gi = (unsigned)(k / SHIM_CI_IDS % SHIM_GI_IDS);
    *gpu = (unsigned)(k / (SHIM_CI_IDS * SHIM_GI_IDS));
}

bool shim_mig_decode(nvmlDevice_t h, unsigned *gpu, unsigned *gi, unsigned *ci)
{
    long k = slot_of(h, mig_slots, sizeof mig_slots);
    if (k < 0)
        return false;
    split3(k, gpu, gi, ci);
    return true;
}

bool shim_gi_decode(nvmlGpuInstance_t h, unsigned *gpu, unsigned *gi)
{
    long k = slot_of(h, gi_slots, sizeof gi_slots);
    if (k < 0)
        return false;
    *gi = (unsigned)(k % SHIM_GI_IDS);
    *gpu = (unsigned)(k / SHIM_GI_IDS);
    return true;
}

bool shim_ci_decode(nvmlComputeInstance_t h, unsigned *gpu, unsigned *gi, unsigned *ci)
{
    long k = slot_of(h, ci_slots, sizeof ci_slots);
    if (k < 0)
        return false;
    split3(k, gpu, gi, ci);
    return true;
}

/* ------------------------------------------------------------ resolution */

static mig_gi_state *find_gi(mig_gpu_state *g, unsigned id)
{
    for (unsigned i = 0; i < g->n_gi; i++)
        if (g->gi[i].id == id)
            return &g->gi[i];
    return NULL;
}

static mig_ci_state *find_ci(mig_gi_state *gi, unsigned id)
{
    for (unsigned i = 0; gi && i < gi->n_ci; i++)
        if (gi->ci[i].id == id)
            return &gi->ci[i];
    return NULL;
}

static int ref_gpu(sim_state *s, unsigned gpu, shim_ref *r)
{
    if (gpu >= s->n_gpus)
        return NVML_ERROR_INVALID_ARGUMENT; /* the state file lost that GPU */
    memset(r, 0, sizeof *r);
    r->gpu = gpu;
    r->g = &s->gpus[gpu];
    return NVML_SUCCESS;
}

/* GI and CI (ci may be NULL) of a key, as they stand now. */
static int ref_instance(sim_state *s, unsigned gpu, unsigned gi, const unsigned *ci, shim_ref *r)
{
    int rc = ref_gpu(s, gpu, r);
    if (rc)
        return rc;
    /* MIG turned off means every instance is gone. */
    r->gi = r->g->mig_current ? find_gi(r->g, gi) : NULL;
    r->ci = ci ? find_ci(r->gi, *ci) : NULL;
    return r->gi && (!ci || r->ci) ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT;
}

int shim_ref_parent(sim_state *s, nvmlDevice_t h, shim_ref *r)
{
    unsigned gpu;
    if (!shim_dev_decode(h, &gpu))
        return NVML_ERROR_INVALID_ARGUMENT;
    return ref_gpu(s, gpu, r);
}

int shim_ref_device(sim_state *s, nvmlDevice_t h, shim_ref *r)
{
    unsigned gpu, gi, ci;
    if (!shim_mig_decode(h, &gpu, &gi, &ci))
        return shim_ref_parent(s, h, r);
    int rc = ref_instance(s, gpu, gi, &ci, r);
    r->is_mig = true;
    return rc;
}

int shim_ref_gi(sim_state *s, nvmlGpuInstance_t h, shim_ref *r)
{
    unsigned gpu, gi;
    if (!shim_gi_decode(h, &gpu, &gi))
        return NVML_ERROR_INVALID_ARGUMENT;
    return ref_instance(s, gpu, gi, NULL, r);
}

int shim_ref_ci(sim_state *s, nvmlComputeInstance_t h, shim_ref *r)
{
    unsigned gpu, gi, ci;
    if (!shim_ci_decode(h, &gpu, &gi, &ci))
        return NVML_ERROR_INVALID_ARGUMENT;
    return ref_instance(s, gpu, gi, &ci, r);
}

const mig_gi_profile *shim_gi_profile(const mig_gpu_state *g, unsigned profile_id)
{
    return g->model ? mig_profile_by_id(g->model, profile_id) : NULL;
}

int shim_copy_string(char *dst, unsigned len, const char *src)
{
    if (!dst)
        return NVML_ERROR_INVALID_ARGUMENT;
    size_t n = strlen(src);
    if (n + 1 > len)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(dst, src, n + 1);
    return NVML_SUCCESS;
}

/* ------------------------------------------------------------ per call */

static atomic_int init_count;
static char state_path[PATH_MAX];

/* Per thread, as errno: the state-file failure of this thread's last call. */
static _Thread_local mig_error last_error;

void shim_set_error(const mig_error *e)
{
    last_error = *e;
}

bool shim_initialized(void)
{
    return atomic_load(&init_count) > 0;
}

/* ---- the query snapshot (guarded by snap_mu) ---- */
static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static sim_state *snap;
static int snap_fd = -1;
static struct stat snap_st;

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void snapshot_drop(void)
{
    sim_close(snap); /* lock already dropped: this only frees */
    snap = NULL;
    if (snap_fd >= 0)
        close(snap_fd);
    snap_fd = -1;
}

static sim_state *snapshot(mig_error *e)
{
    struct stat now;
    if (snap && snap_fd >= 0 && stat(state_path, &now) == 0 && same_file(&now, &snap_st))
        return snap;
    snapshot_drop();
    snap = sim_open(state_path, false, e);
    if (!snap)
        return NULL;
    /* Still under the shared lock: this descriptor is the file just parsed. */
    snap_fd = open(state_path, O_RDONLY | O_CLOEXEC);
    if (snap_fd >= 0 && fstat(snap_fd, &snap_st) < 0) {
        close(snap_fd);
        snap_fd = -1; /* not reusable: parsed again next time */
    }
    close(snap->lock_fd);
    snap->lock_fd = -1;
    return snap;
}

int shim_begin(bool writable, sim_state **s)
{
    mig_error_clear(&last_error);
    if (atomic_load(&init_count) <= 0)
        return NVML_ERROR_UNINITIALIZED;
    mig_error e;
    mig_error_clear(&e);
    if (writable) {
        *s = sim_open(state_path, true, &e);
    } else {
        pthread_mutex_lock(&snap_mu);
        *s = snapshot(&e);
        if (!*s)
            pthread_mutex_unlock(&snap_mu);
    }
    if (!*s) {
        shim_set_error(&e);
        return NVML_ERROR_UNKNOWN;
    }
    return NVML_SUCCESS;
}

void shim_end(sim_state *s)
{
    if (s->writable)
        sim_close(s);
    else
        pthread_mutex_unlock(&snap_mu);
}

int shim_commit_end(sim_state *s, int rc)
{
    mig_error e;
    mig_error_clear(&e);
    if (sim_commit(s, &e) < 0) {
        shim_set_error(&e);
        sim_close(s);
        return NVML_ERROR_UNKNOWN;
    }
    sim_close_kill(s);
    return rc;
}

/* ------------------------------------------------------------ API */

/* Append "<call> <pid>" to the file named by $<var>, if set. */
static void log_call(const char *var, const char *call)
{
    const char *log = getenv(var);
    FILE *f = log && *log ? fopen(log, "a") : NULL;
    if (f) {
        fprintf(f, "%s %ld\n", call, (long)getpid());
        fclose(f);
    }
}

static void log_init(void)
{
    log_call("MIGSIM_INIT_LOG", "nvmlInit");
}

static nvmlReturn_t shim_init(void)
{
    log_init();
    mig_error_clear(&last_error);
    mig_error e;
    mig_error_clear(&e);
    /* The first init fixes the file; a nested init only counts. */
    if (atomic_load(&init_count) == 0) {
        const char *path = getenv("MIGCTL_SIM_STATE");
        sim_state *s = sim_open(path, false, &e);
        if (!s) {
            shim_set_error(&e);
            return NVML_ERROR_DRIVER_NOT_LOADED;
        }
        sim_close(s);
        snprintf(state_path, sizeof state_path, "%s", path);
    }
    atomic_fetch_add(&init_count, 1);
    return NVML_SUCCESS;
}

SHIM_API nvmlReturn_t nvmlInit_v2(void)
{
    return shim_init();
}

SHIM_API nvmlReturn_t nvmlInit(void)
{
    return shim_init();
}

SHIM_API nvmlReturn_t nvmlInitWithFlags(unsigned flags)
{
    (void)flags; /* NO_GPUS / NO_ATTACH change nothing for a file */
    return shim_init();
}

SHIM_API nvmlReturn_t nvmlShutdown(void)
{
    log_call("MIGSIM_SHUTDOWN_LOG", "nvmlShutdown");
    int n = atomic_load(&init_count);
    while (n > 0 && !atomic_compare_exchange_weak(&init_count, &n, n - 1))
        ;
    if (n == 1) { /* the last one: let go of the snapshot */
        pthread_mutex_lock(&snap_mu);
        snapshot_drop();
        pthread_mutex_unlock(&snap_mu);
    }
    return n > 0 ? NVML_SUCCESS : NVML_ERROR_UNINITIALIZED;
}

SHIM_API const char *nvmlErrorString(nvmlReturn_t rc)
{
    return nvml_rc_string(rc);
}

SHIM_API nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned len)
{
    if (atomic_load(&init_count) <= 0)
        return NVML_ERROR_UNINITIALIZED;
    return shim_copy_string(version, len, "580.159.04");
}

SHIM_API nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned len)
{
    return shim_copy_string(version, len, "13.580.159.04");
}

SHIM_API int migsimLastError(char *buf, unsigned len)
{
    if (buf && len)
        snprintf(buf, len, "%s", last_error.kind ? last_error.msg : "");
    return (int)last_error.kind;
}

SHIM_API_SIM nvmlReturn_t migsimDeviceReset(nvmlDevice_t dev)
{
    sim_state *s;
    int rc = shim_begin(true, &s);
    if (rc)
        return rc;
    shim_ref r;
    if ((rc = shim_ref_parent(s, dev, &r)) != NVML_SUCCESS) {
        shim_end(s);
        return rc;
    }
    rc = sim_fault_check(s);
    if (rc == NVML_SUCCESS)
        rc = sim_reset(s, r.gpu);
    return shim_commit_end(s, rc);
}
