/*
 * nvml_sample.h: the nvml backend's telemetry (gpu/nvml_sample.c), kept
 * apart from gpu/nvml.c: it resolves its own symbols from the library
 * nvml.c opened, and keeps the GPM samples and the Xid event set that make
 * one reading out of two calls.
 */
#ifndef MIGCTL_GPU_NVML_SAMPLE_H
#define MIGCTL_GPU_NVML_SAMPLE_H

#include "gpu/sample.h"
#include "model/gpu_state.h"
#include "util/err.h"

typedef struct nvml_sampler nvml_sampler;

/* lib: the dlopen handle of an initialised NVML. NULL when out of memory. */
nvml_sampler *nvml_sampler_new(void *lib);
/* Frees GPM samples and the event set; call before nvmlShutdown. */
void nvml_sampler_free(nvml_sampler *s);
/* Sample GPU idx, whose state (MIG mode, GPU instances) is st. */
int nvml_sampler_sample(nvml_sampler *s, unsigned idx, const mig_gpu_state *st,
                        mig_gpu_sample *out, mig_error *e);

#endif
