/*
 * k8s.h: what a Kubernetes cluster running NVIDIA's GPU Operator consumes
 * from migctl, and what it publishes about a node.
 *
 *  - k8s_emit(): the planner's per-node layouts as one ConfigMap in the
 *    mig-manager's format (key `config.yaml`, a mig-parted v1 file with one
 *    named config per node), and the `nvidia.com/mig.config=<name>` label
 *    that selects each node's config, both as a manifest of Node objects
 *    (`kubectl label --local -f` reads it offline; `kubectl apply` merges
 *    the label) and as a shell script of `kubectl label node` commands.
 *  - k8s_node_labels(): the labels gpu-feature-discovery publishes for a
 *    node's MIG devices under the mixed or single strategy, and the extended
 *    resources the device plugin advertises, computed from the GPUs' states
 *    and the catalogue (docs/design.md, "Integrations").
 *
 * Library code: no argv, no environment, no printing; errors are values.
 */
#ifndef MIGCTL_INTEGRATE_K8S_H
#define MIGCTL_INTEGRATE_K8S_H

#include <stdbool.h>

#include "config/workload.h"
#include "model/gpu_state.h"
#include "plan/pack.h"
#include "util/err.h"

/* The label the GPU Operator's mig-manager watches. */
#define K8S_MIG_CONFIG_LABEL "nvidia.com/mig.config"
/* Files k8s_emit() writes into its directory. */
#define K8S_CONFIGMAP_FILE "k8s-mig-config.yaml"
#define K8S_NODES_FILE "k8s-node-labels.yaml"
#define K8S_SCRIPT_FILE "k8s-label-nodes.sh"
/* The ConfigMap's name (ClusterPolicy migManager.config.name must name it). */
#define K8S_CONFIGMAP_NAME "migctl-mig-config"

/* The config name (and label value) of a node: "migctl-<node>". Fails with
 * MIG_ERR_INPUT when the node name is not a Kubernetes node name (an
 * RFC 1123 subdomain) or the value would not be a valid label value. */
int k8s_config_name(const char *node, char *buf, unsigned len, mig_error *e);

/* Write K8S_CONFIGMAP_FILE, K8S_NODES_FILE and K8S_SCRIPT_FILE into dir
 * (which must exist) for every node of f with a GPU in use. The configs hold
 * counts only: mig-parted, which the mig-manager runs, rejects migctl's
 * pinned "profile@start" keys, so pins are merged into counts (migctl apply
 * finds the placements again). Every node name is checked before anything
 * is written. */
int k8s_emit(const fl_fleet *f, const pk_gpu *gpus, const char *dir, mig_error *e);

typedef enum { K8S_STRATEGY_MIXED, K8S_STRATEGY_SINGLE } k8s_strategy;

typedef struct {
    char key[128];
    char value[128];
} k8s_label;

typedef struct {
    char name[96];       /* "nvidia.com/mig-1g.10gb", "nvidia.com/gpu" */
    unsigned count;
} k8s_resource;

#define K8S_MAX_LABELS 512
#define K8S_MAX_RESOURCES 64

typedef struct {
    k8s_strategy strategy;
    bool valid;              /* false: single strategy on a node that cannot use it */
    char problem[256];       /* why not, when !valid */
    unsigned n_labels;
    k8s_label labels[K8S_MAX_LABELS];        /* sorted by key */
    unsigned n_resources;
    k8s_resource resources[K8S_MAX_RESOURCES]; /* sorted by name */
} k8s_labels;

/* The labels and resources for the node whose GPUs are gpus[0..n). -1 with
 * e set (MIG_ERR_INPUT) when a GPU in MIG mode is not in the catalogue. A
 * node the single strategy cannot describe is not an error: out->valid is
 * false, as gpu-feature-discovery labels it "<product>-MIG-INVALID". */
int k8s_node_labels(const mig_gpu_state *gpus, unsigned n, k8s_strategy s, k8s_labels *out,
                    mig_error *e);

const char *k8s_strategy_name(k8s_strategy s);

#endif
