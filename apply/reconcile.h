/*
 * reconcile.h: from the GPUs' current state and a desired config, the fewest
 * operations that get there.
 *
 * Per GPU: keep every instance that can stay, destroy only what must go, and
 * choose placements for the new instances so the whole layout fits, solved
 * exactly over the valid placements (the per-GPU search space is small:
 * at most 7 GIs, a handful of placements each), never by trying creation
 * orders. Busy instances (with processes) are never destroyed unless `force`;
 * a GPU that cannot reach its target without destroying one is BLOCKED, and
 * the plan names the instances that block it. A desired layout that cannot
 * exist on the model is IMPOSSIBLE, said before anything is touched.
 *
 * Cost, exactly minimised: first the number of destroyed instances (GIs and
 * CIs), then the number of operations; ties go to the final layout that
 * keeps the largest profiles creatable (layout_remaining, biggest profile
 * first), then to a fixed search order, so the same input always gives the
 * same plan. A kept GI may have CIs destroyed and created inside it.
 *
 * Op order inside a GPU: set-mode (enable) first, then destroy-ci,
 * destroy-gi, create-gi, create-ci; set-mode (disable) after the destroys.
 */
#ifndef MIGCTL_ENGINE_RECONCILE_H
#define MIGCTL_ENGINE_RECONCILE_H

#include <stdbool.h>
#include <stdio.h>

#include "config/migparted.h"
#include "model/gpu_state.h"
#include "util/err.h"

#define MIG_MAX_GPUS 64

/* ---- the desired state of one GPU, from a config entry ---- */

typedef struct {
    unsigned profile_id;     /* CI profile id */
    unsigned slices;         /* compute slices */
} mig_desired_ci;

typedef struct {
    unsigned profile_id;     /* GI profile id */
    int start;               /* pinned placement start, -1 = reconcile chooses */
    unsigned n_ci;           /* CIs inside; a plain "3g.40gb" key = one default CI */
    mig_desired_ci ci[MIG_MAX_CI];
} mig_desired_gi;

typedef struct {
    bool selected;           /* some entry of the config selects this GPU */
    bool mig_enabled;
    unsigned n_gi;
    mig_desired_gi gi[MIG_MAX_GI];
    bool impossible;         /* the entry cannot be laid out on this model */
    char reason[384];        /* why, naming the conflicting keys */
} mig_desired_gpu;

/* Resolve the entry of c that selects GPU g into a desired state: profile
 * names resolved against g's model, CI-profile keys ("1c.3g.40gb": 3) packed
 * into as few GIs of that profile as fit (fewest GIs, exact), every GI key a
 * GI with its default CI, pinned placements kept. A GPU no entry selects gets
 * selected=false (left untouched).
 *
 * Errors: MIG_ERR_INPUT when a key names a profile the model does not have
 * (or a CI profile not valid in its GI), with the key's line and column in
 * e->line/e->col (cfg_config does not know its file: the caller adds it
 * with reconcile_error_in_file). Counts that cannot fit on the model (too
 * many instances, slices that do not add up, no placement for all of them
 * together, a GPU that is not MIG capable) are not an input error: the
 * result has impossible=true and a reason naming the conflicting keys. */
int desired_from_config(const cfg_config *c, const mig_gpu_state *g, mig_desired_gpu *out,
                        mig_error *e);

/* Attribute an error to the config file `path`: one with a position
 * (e->line set, no file yet) gets e->file = path; one without gets the
 * prefix "<path>: ". No text is parsed. */
void reconcile_error_in_file(mig_error *e, const char *path);

/* Does g already satisfy d? GIs are compared as a structure: the same GI
 * profiles, each holding the same multiset of CI profiles (which is what a
 * mig-parted apply creates, and what reconcile_gpu aims at, so assert and
 * apply agree). With placements, pinned starts must match too (export
 * --placements pins every GI). The MIG mode must be current and not pending
 * a change. A GPU d does not select is always satisfied. On false, a
 * one-line human description of the difference is written to drift, e.g.
 * "has 7x1g.10gb, wants 2x1g.10gb + 1x2g.20gb + 1x3g.40gb". */
bool desired_satisfied(const mig_gpu_state *g, const mig_desired_gpu *d, bool placements,
                       char *drift, size_t drift_len);

/* "2x1g.10gb + 1x1c.3g.40gb": the MIG devices of d (or of g) counted by
 * name, mig-parted style (a full CI under its GI's name); "no MIG devices"
 * when empty. Returns the length written. */
int desired_format_counts(const mig_model *m, const mig_desired_gpu *d, char *buf, size_t len);
int state_format_counts(const mig_gpu_state *g, char *buf, size_t len);

/* Placements for n new GIs (profile positions prof[], pin[i] >= 0 = fixed
 * start) around the GIs of kept, so that the whole layout is valid
 * (layout_check). Exact search; among the valid choices the one that keeps
 * the largest profiles creatable (layout_remaining, biggest profile first),
 * ties to the lowest starts. Writes start[] and returns true, or false when
 * no valid choice exists. */
bool reconcile_place(const mig_model *m, const mig_layout *kept, unsigned n,
                     const unsigned char *prof, const int *pin, unsigned char *start);

/* Placements for the CIs ci[0..n) (compute slices within a GI of profile
 * gi) next to the slices already used (mask); false if they do not fit. */
bool reconcile_place_cis(const mig_model *m, const mig_gi_profile *gi, unsigned used,
                         const mig_desired_ci *ci, unsigned n, unsigned char *start);

/* ---- operations and the plan ---- */

typedef enum {
    MIG_OP_SET_MODE,
    MIG_OP_DESTROY_CI,
    MIG_OP_DESTROY_GI,
    MIG_OP_CREATE_GI,
    MIG_OP_CREATE_CI,
} mig_op_kind;

typedef struct {
    mig_op_kind kind;
    unsigned gpu;
    bool enable;                 /* set-mode */
    unsigned profile_id;         /* create/destroy: GI or CI profile id */
    char profile[MIG_NAME_LEN + 8]; /* GI name, or CI name ("1c.3g.40gb") */
    unsigned start, size;        /* placement: GI in memory slices, CI in compute slices */
    unsigned gi_id;              /* destroy-ci/destroy-gi/create-ci: existing GI id */
    unsigned gi_start;           /* CI ops: start of the GI the CI lives in */
    int gi_ref;                  /* create-ci into a GI this plan creates: index of that
                                    create-gi op in mig_plan.ops, else -1 */
    unsigned ci_id;              /* destroy-ci */
    bool busy;                   /* destroying a busy instance (only with force) */
} mig_op;

typedef enum {
    MIG_GPU_UNTOUCHED,   /* no config entry selects it */
    MIG_GPU_UNCHANGED,   /* already as desired */
    MIG_GPU_CHANGE,      /* ops planned */
    MIG_GPU_BLOCKED,     /* would destroy busy instances; force not given */
    MIG_GPU_IMPOSSIBLE,  /* the desired layout cannot exist on this model */
} mig_gpu_plan_status;

typedef struct {
    unsigned gpu;
    mig_gpu_plan_status status;
    char reason[512];            /* for BLOCKED/IMPOSSIBLE: what and why, in words */
    unsigned n_blockers;
    unsigned blocker_gi[MIG_MAX_GI]; /* ids of busy GIs that would have to go */
    bool mode_change;
    bool needs_reset;            /* Ampere: the mode change needs a GPU reset */
    mig_layout target;           /* the GI layout the GPU ends with */
    unsigned first_op, n_ops;    /* this GPU's ops: ops[first_op .. first_op+n_ops) */
    mig_desired_gpu desired;
} mig_gpu_plan;

typedef struct {
    unsigned n_gpus;
    mig_gpu_plan gpus[MIG_MAX_GPUS];
    unsigned n_ops, cap_ops;
    mig_op *ops;                 /* heap; mig_plan_free */
} mig_plan;

/* Plan the change of every GPU in gpus[] towards config c. The plan is
 * produced even when some GPUs are BLOCKED or IMPOSSIBLE (their statuses
 * say so, and they carry no ops); returns -1 only on bad input (an unknown
 * profile, see desired_from_config) or when memory runs out. On return the
 * caller owns out and frees it with mig_plan_free (also after -1).
 *
 * Mode: a GPU counts as needing set-mode only when its pending mode differs
 * from the desired one. needs_reset is set on Ampere when the mode changes
 * (the driver needs a GPU reset), and on any GPU whose current mode will
 * still differ from the desired one after the plan (pending already). */
int reconcile_plan(const mig_gpu_state *gpus, unsigned n_gpus, const cfg_config *c, bool force,
                   mig_plan *out, mig_error *e);

/* Same, for one GPU and an already resolved desired state (used by tests,
 * the planner and the benchmark). Appends to plan->ops (plan->n_gpus is not
 * touched: the caller stores *out). For a BLOCKED GPU, out->target is the
 * layout the forced plan would reach. Returns -1 only when memory runs out. */
int reconcile_gpu(const mig_gpu_state *g, const mig_desired_gpu *d, bool force, mig_plan *plan,
                  mig_gpu_plan *out, mig_error *e);

void mig_plan_free(mig_plan *p);

const char *mig_op_kind_name(mig_op_kind k); /* "set-mode", "destroy-ci", ... */
const char *mig_gpu_plan_status_name(mig_gpu_plan_status s);

#endif
