/*
 * gpu_state.h: what a backend reports about one live GPU, in model types:
 * its identity, MIG mode, and every GPU instance with its compute instances,
 * their UUIDs and whether processes run on them ("busy").
 *
 * Plain structs, no pointers but the catalogue model, so that states can be
 * copied, compared and journalled freely. Ids are the driver's: never infer a
 * placement from a GI id or the other way round.
 */
#ifndef MIGCTL_MODEL_GPU_STATE_H
#define MIGCTL_MODEL_GPU_STATE_H

#include <stdbool.h>

#include "model/catalogue.h"
#include "model/layout.h"
#include "util/err.h"

#define MIG_UUID_LEN 96
#define MIG_MAX_PIDS 8 /* pids kept per CI or GPU; n_procs counts them all */

typedef struct {
    unsigned id;         /* CI id within its GI (0-7) */
    unsigned profile_id; /* CI profile id */
    unsigned start;      /* placement in compute slices within the GI */
    unsigned slices;     /* compute slices */
    char uuid[MIG_UUID_LEN]; /* "MIG-xxxxxxxx-..." */
    unsigned n_procs;    /* processes running on this MIG device */
    bool procs_unknown;  /* the driver cannot list processes: counted as busy */
    unsigned pids[MIG_MAX_PIDS]; /* the first min(n_procs, MIG_MAX_PIDS) process ids */
} mig_ci_state;

typedef struct {
    unsigned id;         /* GI id (0-14) */
    unsigned profile_id; /* GI profile id */
    unsigned start;      /* placement in memory slices */
    unsigned size;
    unsigned n_ci;
    mig_ci_state ci[MIG_MAX_CI];
} mig_gi_state;

typedef struct {
    unsigned index;
    char uuid[MIG_UUID_LEN];  /* "GPU-..." */
    char name[96];            /* nvmlDeviceGetName */
    char bus_id[32];          /* "00000000:01:00.0" */
    unsigned pci_device_id;   /* 0xDDDDVVVV */
    unsigned pci_subsystem_id;
    unsigned long long memory_bytes;
    const mig_model *model;   /* NULL: not in the catalogue / not MIG capable */
    bool mig_capable;
    bool mig_current;         /* MIG mode now */
    bool mig_pending;         /* MIG mode after the next reset */
    unsigned n_procs;         /* processes on the whole GPU (outside MIG devices) */
    unsigned n_gi;
    mig_gi_state gi[MIG_MAX_GI];
    unsigned pids[MIG_MAX_PIDS]; /* the first min(n_procs, MIG_MAX_PIDS) whole-GPU pids */
} mig_gpu_state;

/* Busy = processes run on it, or the driver cannot say (never destroy an
 * instance we cannot see into without --force). */
bool ci_state_busy(const mig_ci_state *ci);
bool gi_state_busy(const mig_gi_state *gi);
bool gpu_state_busy(const mig_gpu_state *g); /* any process anywhere on it */
/* Processes counted on a GI's compute instances (busy may still be true at
 * 0 when the driver cannot list them: ask gi_state_busy, not this). */
unsigned gi_state_procs(const mig_gi_state *gi);

const mig_gi_state *gpu_state_find_gi(const mig_gpu_state *g, unsigned gi_id);

/* The GI part of the state as a layout (profile positions and starts), in
 * the same order as g->gi[]. Fails if a profile id is not in the model. */
int gpu_state_layout(const mig_gpu_state *g, mig_layout *out, mig_error *e);

/* Name of a CI: the GI's name when it spans the GI, else "<C>c.<GI name>". */
void ci_state_name(const mig_model *m, const mig_gi_state *gi, const mig_ci_state *ci,
                   char *buf, unsigned len);

#endif
