/*
 * replan.h: changing a running fleet. Two entry points share one engine:
 *
 *  - replan_add (`migctl plan --add`): arrivals go into free slots (or idle
 *    instances of the same profile) without destroying or moving anything.
 *    Each instance takes the (GPU, placement) that loses the least capacity
 *    for the largest profiles (fragmentation growth, largest profile first),
 *    then the fullest GPU.
 *  - replan_plan (`migctl replan`): the workloads file is the whole demand.
 *    Busy instances labelled with a workload count towards it; the rest is
 *    placed first in free slots and idle instances (destroying idle ones if
 *    needed: no drain), and only when that fails GPUs are drained one at a
 *    time, cheapest first (least running work, then a node already being
 *    drained), their running instances re-placed with the new demand. A GPU
 *    counts as drained when a busy instance on it is destroyed or moved, or
 *    its MIG mode flips. Among plans with the same drains, fewer operations
 *    (an instance is destroy-ci + destroy-gi, create-gi + create-ci; a mode
 *    change is set-mode).
 */
#ifndef MIGCTL_ENGINE_REPLAN_H
#define MIGCTL_ENGINE_REPLAN_H

#include <stdbool.h>

#include "config/workload.h"
#include "plan/pack.h"
#include "gpu/backend.h"

typedef struct {
    unsigned gpu;                    /* fleet GPU index */
    const char *op;                  /* "set-mode", "destroy-ci", "destroy-gi", "create-gi", "create-ci" */
    char profile[MIG_NAME_LEN + 4];  /* "3g.40gb@4" for GI/CI ops */
    bool enable;                     /* set-mode */
    bool busy;                       /* destroying an instance with processes */
} rp_op;

typedef struct {
    unsigned workload;
    unsigned replica;
    int gpu;                         /* -1: could not be placed */
    int gi;                          /* GI index in after[gpu].layout (MIG), else -1 */
    bool reused;                     /* an idle instance of the same profile was taken */
    bool moved;                      /* was running on a drained GPU and moves */
    bool kept;                       /* was running there and stays where it is */
    char label[200];    /* "name#replica", or the moved instance's own label */
} rp_place;

typedef struct {
    const wl_file *wf;
    const fl_fleet *fleet;
    unsigned n_models;
    const mig_model *models[PK_MAX_MODELS];
    adv_decision *decisions;         /* [workload * n_models + model] */
    pk_gpu *after;                   /* per fleet GPU: its state after the plan */
    bool *drained;                   /* per fleet GPU */
    bool *changed;                   /* per fleet GPU: some op runs there */
    unsigned n_place;
    rp_place *place;                 /* new and moved instances */
    unsigned n_ops;
    rp_op *ops;                      /* grouped by GPU, in fleet GPU order */
    unsigned n_drained, n_nodes_drained, n_mode_changes;
    unsigned satisfied;              /* replicas already running (labelled busy instances) */
    unsigned reused, created, destroyed, unplaced;
    unsigned n_affected;
    char (*affected)[200]; /* running work on drained GPUs */
    /* replan only: how good the plan is */
    unsigned moved_slices;           /* running work moved or destroyed, in compute slices
                                        (a whole-GPU job: the card's slices) */
    unsigned drain_bound;            /* lower bound on drains of any plan placing everything */
    bool drains_optimal;             /* n_drained equals a proven bound */
    bool optimal;                    /* drains, then moved work, then operations proven minimal */
    const char *method;              /* "exact" (MILP, proven), "milp" (time limit hit),
                                        "pooled" (fewest drains from the pooled model; moved
                                        work and operations not minimised), "greedy" */
} rp_plan;

typedef struct {
    double time_limit;               /* seconds for the exact search (0: default) */
    unsigned max_columns;            /* MILP size cap (0: default); above it, greedy */
    bool no_exact;                   /* skip the per-GPU MILP: greedy plan, pooled bound
                                        (what a fleet too large gets; for tests) */
} rp_options;

#define RP_DEFAULT_TIME_LIMIT 5.0
#define RP_DEFAULT_MAX_COLUMNS 60000u

/* `plan --add`: arrivals into free slots; nothing destroyed or moved. */
int replan_add(const wl_file *arrivals, const fl_fleet *fleet, rp_plan *out, mig_error *e);
/* `replan`: the whole demand; fewest drains, then least running work moved,
 * then fewest operations (default options). */
int replan_plan(const wl_file *demand, const fl_fleet *fleet, rp_plan *out, mig_error *e);
int replan_plan_opts(const wl_file *demand, const fl_fleet *fleet, const rp_options *opt,
                     rp_plan *out, mig_error *e);
/* The greedy drain search alone (no MILP): the fallback for large fleets,
 * kept callable so tests can compare it with the exact plan. */
int replan_plan_greedy(const wl_file *demand, const fl_fleet *fleet, rp_plan *out, mig_error *e);
void rp_plan_free(rp_plan *p);

/* Is node nd touched by a drain? */
bool rp_node_drained(const rp_plan *p, unsigned nd);

/* The fleet of the live GPUs a backend reports (one node, "local"). */
int replan_live_fleet(mig_backend *b, fl_fleet *out, mig_error *e);

#endif
