/*
 * advise.h: the planner's decisions. For each (workload, GPU model) pair:
 * a MIG profile, an MPS share of a whole GPU, whole GPUs, or "cannot be
 * placed", each with its reason in words. Decisions are per model because
 * profiles differ between models (12 GB fits 1g.18gb on an H200 but needs
 * 1g.20gb on an H100).
 *
 * The rules, first match wins (docs/planner.md explains each):
 *   1. memory larger than the card                      -> unplaced
 *   2. p2p, or gpus > 1                                  -> whole GPU(s), MIG off
 *   3. a pinned profile: used as given when it exists on the model and holds
 *      the memory                                        -> mig, else unplaced
 *   4. throughput per GPU better on the whole card: from the workload's
 *      figures (whole vs the best set of slices on one GPU), or, for a
 *      bandwidth-bound workload without figures, from the HBM share a slice
 *      gets (its memory slices / the card's): the card when no profile that
 *      holds it, replicated on one GPU, reaches the whole bandwidth
 *                                                        -> whole GPU
 *      else (bandwidth-bound) the smallest profile that does -> mig
 *   5. memory or compute beyond every partial slice      -> whole GPU
 *   6. the smallest profile that holds memory and compute (+me when media)
 *   7. isolation none/preferred, compute given, small: an MPS share when it
 *      needs fewer GPUs for the replicas than step 6's profile (none: any
 *      saving; preferred: a saving of at least a quarter)  -> mps
 * isolation: required never gets MPS; p2p never gets MIG or MPS.
 */
#ifndef MIGCTL_ENGINE_ADVISE_H
#define MIGCTL_ENGINE_ADVISE_H

#include <stddef.h>

#include "config/workload.h"
#include "model/catalogue.h"

#define ADV_MPS_MAX_CLIENTS 48 /* CUDA MPS clients per GPU (Volta and later) */

typedef enum { ADV_MIG, ADV_MPS, ADV_WHOLE, ADV_UNPLACED } adv_kind;

typedef struct {
    const mig_model *model;
    adv_kind kind;
    int profile;            /* ADV_MIG: position in model->profiles[], else -1 */
    unsigned per_gpu;       /* instances of this decision one GPU holds (0: unplaced) */
    double compute_share;   /* share of the GPU one instance takes (compute) */
    double memory_share;    /* ... (memory); whole GPU = 1 per GPU of the gang */
    unsigned gpus;          /* ADV_WHOLE: GPUs per replica */
    char reason[320];
} adv_decision;

/* Decide one workload on one model. Never fails: an impossible case is an
 * ADV_UNPLACED decision with its reason. */
void advise_one(const wl_workload *w, const mig_model *m, adv_decision *out);

/* The decision matrix's one accessor: decision of workload w on model k in
 * a matrix laid out as advise_all fills it. */
static inline const adv_decision *adv_at(const adv_decision *d, unsigned n_models, unsigned w,
                                         unsigned k)
{
    return &d[(size_t)w * n_models + k];
}

/* Decisions for every workload on every model: out[w * n_models + m]. */
void advise_all(const wl_file *wf, const mig_model *const *models, unsigned n_models,
                adv_decision *out);

const char *adv_kind_name(adv_kind k); /* "mig", "mps", "whole-gpu", "unplaced" */

/* The name of the decision's slice on its model: "3g.40gb", "mps", "whole". */
const char *adv_profile_name(const adv_decision *d);

/* Compute slices a profile needs for a share of the GPU (ceil, with slack
 * for rounding: 1/7 needs 1 slice). */
unsigned adv_slices_for_share(const mig_model *m, double share);

#endif
