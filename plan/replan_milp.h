/*
 * replan_milp.h: the exact replan model, a mixed-integer program solved with
 * CBC (COIN-OR branch and cut, EPL-2.0), used by plan/replan.c.
 *
 * One column per (GPU class, final state of a GPU of that class): a placed
 * MIG layout, MIG off with a whole-GPU job, MIG off as an MPS server, or
 * MIG off and free. A GPU with running work is a class of its own (its
 * columns say which of its busy instances stay where they are); identical
 * idle GPUs on one node form one class with an integer count per column.
 * Each column carries its cost: drained (a busy instance not kept, or a
 * MIG mode flip on a GPU that ends up used), running work moved (compute
 * slices of the busy instances not kept; a whole-GPU job counts the card's
 * slices) and operations (destroy-ci + destroy-gi per instance removed,
 * create-gi + create-ci per instance created, set-mode). Replicas are
 * counted per (workload, model) for MIG slots, per (workload, node) for
 * whole-GPU gangs and per (workload, GPU) for MPS shares, so slot, gang and
 * MPS capacity are exact, not relaxed.
 *
 * The objective is lexicographic, solved in two stages with integer
 * weights small enough for exact arithmetic in doubles:
 *   1. (GPUs + 1) x unplaced + drained;
 *   2. with stage 1's value fixed: (max operations + 1) x moved + operations.
 * The CBC best bound of stage 1 is the lower bound on drains.
 */
#ifndef MIGCTL_PLAN_REPLAN_MILP_H
#define MIGCTL_PLAN_REPLAN_MILP_H

#include <stdbool.h>

#include "config/workload.h"
#include "plan/advise.h"
#include "plan/pack.h"

typedef struct {
    const wl_file *wf;
    const fl_fleet *fleet;
    unsigned n_models;
    const mig_model *const *models;
    const adv_decision *decisions; /* [w * n_models + k] */
    /* per busy GI [g * (MIG_MAX_GI + 1) + i] (i = MIG_MAX_GI: the whole GPU):
     * the workload whose replica it is, or -1 (unlabelled, or its profile is
     * not that workload's decision, or the replicas are already counted) */
    const int *counts_w;
    double time_limit;   /* seconds for both stages together */
    bool no_moves;       /* forbid columns that move running work */
    bool stage1_zero;    /* a plan placing everything without drains is known (the
                            greedy found one): stage 1's optimum is 0, skip it */
    bool pooled;         /* the bound model: a drained busy GPU loses its identity and
                            joins a pool of blank GPUs of its model, so its columns are
                            enumerated once per model, not per GPU. Its stage-1 optimum
                            is the least number of drains (a plan keeping some busy
                            instances of a drained GPU in place is one where they were
                            re-placed at their own slots). Only stage 1 is solved: the
                            plan read back has the fewest drains, each drained GPU
                            given the pool state keeping most of its busy instances;
                            moved work and operations are not minimised. Refused
                            (rc 1) with MPS or multi-GPU gang demand. */
    unsigned max_columns; /* give up (rc 1) above this many columns; 0 = no cap */
} rpm_input;

typedef struct {
    bool mig;
    pk_gpu_use use;
    mig_layout layout;   /* use == PK_GPU_MIG (may be empty: MIG on, no instances) */
    bool drain_column;   /* a busy instance or a whole job here is not kept */
} rpm_gpu;

typedef struct {
    bool feasible;       /* CBC found a solution (always, unless the time ran out first) */
    bool proven;         /* both stages proven optimal */
    bool stage1_proven;  /* unplaced and drains proven minimal */
    unsigned unplaced, drains, moved, ops;
    unsigned drain_bound; /* lower bound on drains among plans that place everything */
    rpm_gpu *gpus;        /* per fleet GPU */
    unsigned *mig_repl;   /* [w * n_models + k]: new replicas of w in MIG slots of model k */
    unsigned *whole_repl; /* [w * n_nodes + nd]: new whole-GPU replicas (gangs) of w on node nd */
    unsigned *mps_repl;   /* [w * n_gpus + g]: new MPS replicas of w on GPU g */
    unsigned *fixed_whole; /* [k * n_nodes + nd]: moved unlabelled whole jobs to node nd */
    unsigned n_columns;
    bool pooled;          /* from the pooled model: whole_repl[w * n_nodes] and
                             fixed_whole[k * n_nodes] count for any node */
} rpm_result;

/* 0: solved (result filled); 1: too large for max_columns (nothing filled);
 * -1: error. */
int rpm_solve(const rpm_input *in, rpm_result *out, mig_error *e);
void rpm_result_free(rpm_result *r);

#endif
