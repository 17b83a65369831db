/*
 * sample.h: one telemetry sample of a GPU as a backend reports it (the
 * `sample` operation of gpu/backend.h): memory, the GPM activity metrics of
 * the whole GPU and of each GPU instance, the processes with their memory and
 * instance, and the GPU's health (ECC, remapped rows, Xid events).
 *
 * Every figure carries whether the driver supports it: a metric the driver
 * does not report is MIG_MET_UNSUPPORTED and its value is meaningless, never
 * a made-up zero. MIG_MET_PENDING is "supported, but this is the first
 * reading": GPM computes a metric from two snapshots at least 100 ms apart,
 * so the first sample of a GPU after the backend opened has none yet.
 *
 * Activity metrics are fractions 0..1 of the place they describe: for a GPU
 * instance, of that instance's own SMs and of its own share of the DRAM
 * bandwidth (an instance's share of bandwidth follows its memory slices);
 * for the GPU, of the whole card.
 */
#ifndef MIGCTL_GPU_SAMPLE_H
#define MIGCTL_GPU_SAMPLE_H

#include <stdbool.h>

#include "model/catalogue.h"

typedef enum {
    MIG_MET_UNSUPPORTED = 0,
    MIG_MET_OK,
    MIG_MET_PENDING,
} mig_met_status;

typedef struct {
    mig_met_status st;
    double v; /* fraction 0..1 when st == MIG_MET_OK */
} mig_metric;

/* The GPM metrics migctl reads, with their NVML ids and dcgm-exporter names. */
typedef enum {
    MIG_M_GR_ACTIVE = 0, /* NVML_GPM_METRIC_GRAPHICS_UTIL (1), DCGM_FI_PROF_GR_ENGINE_ACTIVE */
    MIG_M_SM_ACTIVE,     /* NVML_GPM_METRIC_SM_UTIL (2), DCGM_FI_PROF_SM_ACTIVE */
    MIG_M_SM_OCCUPANCY,  /* NVML_GPM_METRIC_SM_OCCUPANCY (3), DCGM_FI_PROF_SM_OCCUPANCY */
    MIG_M_TENSOR,        /* NVML_GPM_METRIC_ANY_TENSOR_UTIL (5), DCGM_FI_PROF_PIPE_TENSOR_ACTIVE */
    MIG_M_DRAM,          /* NVML_GPM_METRIC_DRAM_BW_UTIL (10), DCGM_FI_PROF_DRAM_ACTIVE */
    MIG_M_COUNT
} mig_metric_id;

/* The NVML GPM metric id of each mig_metric_id. */
extern const unsigned mig_metric_nvml_id[MIG_M_COUNT];

#define MIG_SAMPLE_MAX_PROCS 512

typedef struct {
    unsigned pid;
    int gi_id, ci_id;                /* -1: not on a MIG device */
    bool mem_known;
    unsigned long long mem_bytes;
} mig_proc_sample;

typedef struct {
    unsigned gi_id;
    bool mem_known;
    unsigned long long mem_total, mem_used; /* bytes */
    mig_metric m[MIG_M_COUNT];
} mig_gi_sample;

typedef struct {
    /* ECC counts (nvmlDeviceGetTotalEccErrors): single-bit corrected and
     * double-bit uncorrected, volatile (since boot) and aggregate. */
    bool ecc_known;
    unsigned long long ecc_sbe_volatile, ecc_dbe_volatile, ecc_sbe_aggregate, ecc_dbe_aggregate;
    /* Row remapping (nvmlDeviceGetRemappedRows). */
    bool remap_known;
    unsigned remap_correctable, remap_uncorrectable;
    bool remap_pending, remap_failure;
    /* Critical Xid events delivered since this backend started watching
     * the GPU (NVML reports Xids only as events: a one-shot command that
     * just opened the backend sees none). */
    bool xid_known;
    unsigned xid_count, xid_last;
} mig_health_sample;

typedef struct {
    bool mem_known;
    unsigned long long mem_total, mem_used; /* bytes, whole GPU */
    mig_metric m[MIG_M_COUNT];              /* whole GPU */
    unsigned n_gi;
    mig_gi_sample gi[MIG_MAX_GI];
    bool procs_known;
    unsigned n_procs;
    mig_proc_sample procs[MIG_SAMPLE_MAX_PROCS];
    mig_health_sample health;
} mig_gpu_sample;

/* The GI sample with that id, or NULL. */
const mig_gi_sample *mig_sample_gi(const mig_gpu_sample *s, unsigned gi_id);

/* Unhealthy: an uncorrectable ECC error, a pending or failed row remap, or a
 * critical Xid event. `why` gets the reasons ("Xid 79; 2 uncorrectable ECC
 * errors"), "" when healthy. */
bool mig_health_bad(const mig_health_sample *h, char *why, unsigned len);

#endif
