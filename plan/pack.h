/*
 * pack.h: packing decided instances onto a fleet's GPUs with the real
 * placement rules, minimising GPUs used (stranded slices follow: with the
 * GPU count minimal and the demand fixed, stranded compute and memory
 * slices are fixed too).
 *
 * Two levels:
 *  - one model, a demand vector (count per profile position) -> GPU
 *    configurations (placed layouts with counts). Exact for the five
 *    standard profiles (1g/2g/3g/4g/7g shapes on a 7-compute, 8-memory-slice
 *    GPU): every non-dominated configuration is one of twelve multisets, and
 *    the optimum is found by a closed form over the number t of GPUs that hold
 *    a 3g beside a 3g or 4g (for fixed t, pairing 3g with 4g dominates 3g+3g;
 *    what remains for 2g and 1g is then a formula). Other mixes (1g.20gb,
 *    +me, other geometries): best-fit decreasing over configuration classes
 *    with fragmentation-aware placement; the lower bound is always reported.
 *  - a fleet: decisions per (workload, model) from plan/advise, each
 *    replica sent to the model where it costs the least share of a GPU,
 *    overflow moved to the next model, then whole-GPU gangs on one node,
 *    whole GPUs, MIG configurations and MPS bins mapped onto the fleet's
 *    GPUs in node order, and every instance given its slice.
 */
#ifndef MIGCTL_ENGINE_PACK_H
#define MIGCTL_ENGINE_PACK_H

#include <stdbool.h>
#include <stddef.h>

#include "config/migparted.h"
#include "config/workload.h"
#include "plan/advise.h"
#include "model/layout.h"

/* ---- one model ---- */

typedef struct {
    mig_layout layout; /* placed, valid for the model */
    unsigned count;    /* GPUs with this layout */
} pk_config;

typedef struct {
    unsigned n, cap;
    pk_config *items;
    unsigned gpus;        /* sum of counts */
    unsigned lower_bound; /* max(LB_compute, LB_memory, structural) */
    bool exact;           /* gpus is the proven optimum */
} pk_solution;

/* Pack demand[p] instances of each profile position p. Fails (MIG_ERR_INPUT)
 * only if some demanded profile cannot be created on an empty GPU. */
int pack_model(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES], pk_solution *out,
               mig_error *e);
void pk_solution_free(pk_solution *s);

/* max(ceil(sum compute / C), ceil(sum memory slices / M), structural bound
 * of mig-scheduling.md 3.2 for the standard shapes). */
unsigned pack_lower_bound(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES]);

/* The configuration LP (Gilmore-Gomory over the maximal layouts of the
 * demanded profiles): a lower bound on the GPUs, often tighter than the
 * above; pack_model uses its ceiling when its greedies miss the bound. */
double pack_config_lp(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES]);

/* Are all demanded profiles standard shapes, so pack_model is exact? */
bool pack_is_standard(const mig_model *m, const unsigned demand[MIG_MAX_PROFILES]);

/* Per-item baselines in the given order (for comparisons): first-fit with
 * the driver's automatic placement, best-fit (fullest GPU that takes it). */
typedef enum { PK_FIRST_FIT, PK_BEST_FIT } pk_baseline;
unsigned pack_baseline(const mig_model *m, const unsigned char *profiles, size_t n,
                       pk_baseline how);

/* The start for `profile` on `l` that keeps the largest profiles creatable
 * (lexicographic over remaining capacities, largest profile first), or -1. */
int pack_best_start(const mig_model *m, const mig_layout *l, unsigned profile);
/* Compare two layouts by the capacity they leave for the largest profiles:
 * >0 when a leaves more. */
int pack_frag_cmp(const mig_model *m, const mig_layout *a, const mig_layout *b);

/* ---- a fleet ---- */

typedef enum { PK_GPU_FREE, PK_GPU_MIG, PK_GPU_WHOLE, PK_GPU_MPS } pk_gpu_use;

typedef struct {
    pk_gpu_use use;
    mig_layout layout;     /* PK_GPU_MIG */
    double mps_compute;    /* PK_GPU_MPS: summed shares */
    double mps_memory;
    unsigned mps_clients;
} pk_gpu;

typedef struct {
    unsigned workload, replica, part; /* part: which GPU of a multi-GPU replica */
    int gpu;                          /* fleet GPU index, -1 = not placed */
    int gi;                           /* GI index in that GPU's layout (MIG), else -1 */
    int model;                        /* index into pk_plan.models, -1 = none */
} pk_instance;

#define PK_MAX_MODELS 16

typedef struct {
    const wl_file *wf;
    const fl_fleet *fleet;
    unsigned n_models;
    const mig_model *models[PK_MAX_MODELS];
    adv_decision *decisions;    /* [workload * n_models + model] */
    pk_gpu *gpus;               /* one per fleet GPU */
    unsigned n_inst;
    pk_instance *inst;
    unsigned gpus_used, lower_bound;
    bool exact;                 /* gpus_used is optimal for these decisions */
    unsigned one_per_gpu;       /* GPUs if every placed replica had its own */
    unsigned unplaced;          /* instances with no GPU */
    unsigned unplaceable;       /* of those: no model can take them at all */
    unsigned mig_gpus, compute_used, compute_total, memory_used, memory_total;
} pk_plan;

/* Plan from scratch: current layouts in the fleet are ignored. */
int pack_plan(const wl_file *wf, const fl_fleet *fleet, pk_plan *out, mig_error *e);
void pk_plan_free(pk_plan *p);

/* The distinct models of a fleet, in order of first appearance. */
unsigned pack_fleet_models(const fl_fleet *f, const mig_model *out[PK_MAX_MODELS]);
int pack_model_index(const pk_plan *p, const mig_model *m);

/* An apply-able v1 config for one node of a plan: one config named `label`,
 * an entry per run of identical GPUs: MIG GPUs with "profile@start" keys,
 * whole-GPU and MPS GPUs with mig-enabled: false. Unused GPUs are left out
 * (untouched). gpus[] gives the state per fleet GPU (a plan's or a replan's). */
int pack_node_config(const fl_fleet *fleet, const pk_gpu *gpus, unsigned node,
                     const char *label, cfg_file *out, mig_error *e);

/* "3g.40gb@4" strings of a layout, sorted by start, into buf (comma-free
 * array of n strings of MIG_NAME_LEN + 4). Returns n. */
unsigned pack_layout_names(const mig_model *m, const mig_layout *l,
                           char names[MIG_MAX_GI][MIG_NAME_LEN + 4]);

#endif
