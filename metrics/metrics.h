/*
 * metrics.h: the metrics layer. Over the backend interface (gpu/backend.h)
 * it takes a snapshot of a node: every GPU's state and telemetry sample,
 * what can still be created on it (free capacity per profile), the slices
 * no profile can use any more (stranded), its health and fault domain, and
 * optionally its drift against a desired config (GPUs the config selects). The snapshot is what
 * `migctl top` draws, what `top --json` prints and what the exporter
 * serves in the Prometheus text format, so all three agree on one sample.
 *
 * Definitions (docs/metrics.md):
 *   free capacity  nvmlDeviceGetGpuInstanceRemainingCapacity per profile.
 *   stranded memory slices: free memory slices that no placement of any
 *                  profile that can still be created covers.
 *   stranded compute slices: free compute slices when no profile can be
 *                  created at all (compute left without memory to pair it).
 *   unhealthy      gpu/sample.h mig_health_bad; its fault domain is every
 *                  GPU instance, MIG device and process on that GPU.
 */
#ifndef MIGCTL_METRICS_METRICS_H
#define MIGCTL_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config/migparted.h"
#include "gpu/backend.h"
#include "gpu/sample.h"
#include "model/gpu_state.h"

typedef struct {
    char profile[MIG_NAME_LEN];
    unsigned profile_id;
    unsigned count;
} metrics_free;

typedef struct {
    mig_gpu_state st;      /* GIs and CIs sorted by id */
    mig_gpu_sample smp;
    bool sampled;          /* false: the backend has no telemetry */
    unsigned n_free;
    metrics_free free[MIG_MAX_PROFILES];
    unsigned free_compute, free_memory;         /* slices no GI holds */
    unsigned stranded_compute, stranded_memory;
    bool unhealthy;
    char health_why[256];
    int drift;             /* -1 no desired config, 0 matches, 1 drifted */
    char drift_text[256];
} metrics_gpu;

typedef struct {
    unsigned n;
    metrics_gpu *gpus;
    char backend[16];
    char hostname[256];
    double taken_at;       /* Unix time of the sample */
    double duration;       /* seconds the sample took */
} metrics_node;

typedef struct {
    bool one;              /* only GPU `only` */
    unsigned only;
    const cfg_config *desired; /* NULL: no drift figures */
} metrics_options;

/* One snapshot. The backend's GPM metrics cover the time since its previous
 * sample: use metrics_collect_settled for a one-shot reading. */
int metrics_collect(mig_backend *b, const metrics_options *o, metrics_node *out, mig_error *e);
/* Collect; when a metric is still pending (a backend's first GPM reading),
 * wait `settle` seconds (at least 0.1, GPM's own minimum) and collect again. */
int metrics_collect_settled(mig_backend *b, const metrics_options *o, double settle,
                            metrics_node *out, mig_error *e);
void metrics_node_free(metrics_node *n);

/* The snapshot as JSON (top --json; docs/json.md). */
json_t *metrics_node_json(const metrics_node *n);

/* Prometheus text exposition (version 0.0.4) of a snapshot, heap string.
 * Series named as dcgm-exporter names them where it has a counterpart,
 * migctl_* otherwise (docs/metrics.md lists them). */
char *metrics_prometheus(const metrics_node *n, size_t *len);

/* The `migctl top` screen: width columns (>= 80 used), heap string. */
char *metrics_top_text(const metrics_node *n, unsigned width, bool color);

/* Names and helpers shared by the renderers. */
const char *metrics_gi_profile_name(const mig_gpu_state *g, const mig_gi_state *gi);
/* An instance's share of the card's DRAM bandwidth (its memory slices over
 * the model's), 0 when unknown. */
double metrics_gi_bw_share(const mig_gpu_state *g, const mig_gi_state *gi);
/* "<why>: GPU instances 1 (3g.40gb, MIG-...), 2 (...); processes 1234, 5678"
 * for an unhealthy GPU, into buf. */
void metrics_fault_domain_text(const metrics_gpu *mg, char *buf, size_t len);

#endif
