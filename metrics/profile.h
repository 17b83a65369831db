/*
 * profile.h: "always profile" (`migctl profile`): from samples of a GPU
 * taken while a workload ran on the whole card, its SM activity, DRAM
 * bandwidth and peak memory, and from those a prediction of its throughput
 * on every GPU-instance profile of that model:
 *
 *   predicted(p) = min(1, sm_share(p) / sm, bw_share(p) / dram)
 *
 * as a fraction of its whole-GPU throughput, where sm and dram are the
 * measured fractions of the whole card the workload kept busy (mean over
 * the samples in which the GPU was active), sm_share(p) is the profile's
 * SMs over the card's and bw_share(p) its memory slices over the card's
 * (bandwidth follows memory slices). The slower bound wins. A profile whose
 * memory is below the workload's peak gets 0. The recommendation is the
 * smallest profile (fewest compute slices, then least memory) predicted to
 * keep `target` of the whole-GPU throughput; if none does, or only the
 * full-card slice (7g) does, MIG is the wrong answer and the verdict says
 * which resource rules the smaller slices out. docs/metrics.md
 * gives the method's limits.
 */
#ifndef MIGCTL_METRICS_PROFILE_H
#define MIGCTL_METRICS_PROFILE_H

#include <stdbool.h>

#include "gpu/sample.h"
#include "model/catalogue.h"
#include "util/err.h"

/* A sample counts as active when SM activity or DRAM bandwidth is at least
 * this (the GPU idles at ~0.0004 DRAM on the H200 reference reading). */
#define PROFILE_ACTIVE_MIN 0.01

typedef struct {
    unsigned n_samples, n_active;
    bool sm_seen, dram_seen, mem_seen; /* the driver reported them */
    double sm_sum, dram_sum, occ_sum, tensor_sum;
    double sm_peak, dram_peak;
    unsigned long long mem_base, mem_peak; /* bytes: before the start, most seen */
} profile_acc;

/* baseline: a sample before the workload started (its memory is not the
 * workload's). */
void profile_begin(profile_acc *a, const mig_gpu_sample *baseline);
void profile_add(profile_acc *a, const mig_gpu_sample *s);

typedef struct {
    char profile[MIG_NAME_LEN];
    unsigned compute_slices, memory_slices;
    unsigned long long memory_mib;
    double sm_share, bw_share;
    bool fits_memory;
    double predicted;   /* fraction of whole-GPU throughput */
    const char *bound;  /* "compute", "bandwidth", "memory" or "none" */
} profile_pred;

typedef struct {
    double sm, dram, occupancy, tensor;   /* active-sample means */
    unsigned long long peak_mem_mib;      /* the workload's own, above baseline */
    unsigned n_samples, n_active;
    unsigned n;
    profile_pred pred[MIG_MAX_PROFILES];
    int recommended;                      /* index in pred, -1: MIG is wrong */
    bool bandwidth_bound;                 /* bandwidth is the tighter bound */
    double target;
    char verdict[600];
} profile_result;

/* MIG_ERR_INPUT when the GPU does not report SM activity or DRAM bandwidth
 * (no GPM: before Hopper) or the workload never made it active. */
int profile_predict(const mig_model *m, const profile_acc *a, double target, profile_result *r,
                    mig_error *e);

/* A planner workloads file (config/workload.h) for the result: name, peak
 * memory, throughput per profile (whole = 1000), bandwidth-bound. Heap. */
char *profile_workload_yaml(const mig_model *m, const profile_result *r, const char *name,
                            const char *command);

#endif
