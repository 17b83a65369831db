/*
 * nvml_gpm.h: the NVML ABI of telemetry calls beyond gpu/nvml_abi.h, as the
 * nvml backend's sampler (gpu/nvml_sample.c) calls them and the shim
 * (shim/shim_telemetry.c) answers them: GPM (Hopper and later), ECC
 * counters, row remapping and Xid events. Layouts on LP64 as measured in the
 * NVML reference (nvml.h 13.3): nvmlGpmMetric_t 40 bytes, metrics[] of
 * nvmlGpmMetricsGet_t at offset 24; the library touches only
 * metrics[0..numMetrics-1], so the array is sized for the largest header
 * (NVML_GPM_METRIC_MAX 333) and numMetrics kept small.
 */
#ifndef MIGCTL_GPU_NVML_GPM_H
#define MIGCTL_GPU_NVML_GPM_H

#include "gpu/nvml_abi.h"

typedef struct nvmlGpmSample_st *nvmlGpmSample_t;
typedef struct nvmlEventSet_st *nvmlEventSet_t;

#define NVML_GPM_METRICS_GET_VERSION 1
#define NVML_GPM_SUPPORT_VERSION 1
#define NVML_GPM_METRIC_MAX 333

typedef struct {
    unsigned int metricId;  /* IN: an nvmlGpmMetricId_t */
    nvmlReturn_t nvmlReturn; /* OUT: this metric's status */
    double value;           /* OUT */
    struct {
        char *shortName;
        char *longName;
        char *unit;
    } metricInfo;
} nvmlGpmMetric_t;

typedef struct {
    unsigned int version;    /* NVML_GPM_METRICS_GET_VERSION */
    unsigned int numMetrics;
    nvmlGpmSample_t sample1; /* older */
    nvmlGpmSample_t sample2; /* newer */
    nvmlGpmMetric_t metrics[NVML_GPM_METRIC_MAX];
} nvmlGpmMetricsGet_t;

typedef struct {
    unsigned int version; /* NVML_GPM_SUPPORT_VERSION */
    unsigned int isSupportedDevice;
} nvmlGpmSupport_t;

/* nvmlDeviceGetTotalEccErrors(dev, errorType, counterType, *count) */
#define NVML_MEMORY_ERROR_TYPE_CORRECTED 0
#define NVML_MEMORY_ERROR_TYPE_UNCORRECTED 1
#define NVML_VOLATILE_ECC 0
#define NVML_AGGREGATE_ECC 1

/* Events */
#define nvmlEventTypeXidCriticalError 0x0000000000000008ULL

typedef struct {
    nvmlDevice_t device;
    unsigned long long eventType;
    unsigned long long eventData; /* the Xid code */
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlEventData_t;

#endif
