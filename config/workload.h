/*
 * workload.h: the planner's two inputs, read from YAML with libyaml's
 * document API: a workloads file (what must run) and a fleet file (the GPUs
 * it may run on, optionally with their current MIG layouts and the instances
 * that are busy). Strict: an unknown key, a wrong type or a bad value is an
 * MIG_ERR_INPUT naming file:line:col (1-based). docs/planner.md documents
 * the syntax; examples/ holds real files.
 *
 * Workloads file:
 *   workloads:
 *     - name: chat-7b            # unique, required
 *       replicas: 14             # default 1
 *       memory: 12GB             # GB/MB/TB (decimal), GiB/MiB/TiB (binary)
 *       compute: 1/7             # share of one GPU: 0.25, 25%, 1/7 (compute slices)
 *       sms: 30                  # or an SM count instead of compute
 *       throughput: {1g.20gb: 200, whole: 1000}   # measured, per profile
 *       isolation: required      # required | preferred (default) | none
 *       p2p: false               # needs NVLink/PCIe peer-to-peer
 *       media: false             # needs video/JPEG engines (+me profiles)
 *       bandwidth-bound: false   # throughput follows HBM bandwidth
 *       gpus: 1                  # whole GPUs per replica (>1: one node)
 *       profile: 3g.40gb         # pin the slice instead of deciding it
 *
 * Fleet file:
 *   nodes:
 *     - name: n1
 *       gpus:
 *         - {model: H100-SXM5-80GB, count: 8}
 *         - model: H100-SXM5-80GB            # one GPU with its current state
 *           layout: ["3g.40gb@4", "2g.20gb@0"]
 *           busy: ["3g.40gb@4"]              # or {"3g.40gb@4": finetune}
 *         - {model: H100-SXM5-80GB, mig: false, busy: trainer}
 */
#ifndef MIGCTL_CONFIG_WORKLOAD_H
#define MIGCTL_CONFIG_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "model/catalogue.h"
#include "model/gpu_state.h"
#include "model/layout.h"
#include "util/err.h"

#define WL_NAME_LEN 64
/* Whole GPUs one replica may ask for (`gpus:`); the planner sizes its gang
 * arrays by it. */
#define WL_MAX_GPUS 64
#define WL_MAX_TPUT 16
#define WL_MAX_INSTANCES 2000000 /* all workloads of a file together */
#define FL_MAX_GPUS 65536        /* all GPUs of a fleet file together */

typedef enum {
    WL_ISO_PREFERRED = 0, /* the default: MIG unless MPS saves a lot */
    WL_ISO_NONE,          /* cooperative: MPS whenever it saves GPUs */
    WL_ISO_REQUIRED,      /* hardware isolation: never MPS */
} wl_isolation;

typedef struct {
    char profile[MIG_NAME_LEN]; /* as written: "1g.10gb", or "whole" for the card */
    double value;
    unsigned line, col;
} wl_throughput;

typedef struct {
    char name[WL_NAME_LEN];
    unsigned replicas;             /* default 1 */
    unsigned gpus;                 /* whole GPUs per replica, default 1 */
    unsigned long long memory_mib; /* 0 = not given */
    double compute;                /* share of one GPU's compute slices, 0 = not given */
    unsigned sms;                  /* SMs needed, 0 = not given */
    wl_isolation isolation;
    bool p2p, media, bandwidth_bound;
    char profile[MIG_NAME_LEN];    /* pinned profile, "" = decide */
    unsigned n_tput;
    wl_throughput tput[WL_MAX_TPUT];
    unsigned line, col;
} wl_workload;

typedef struct {
    char *path;
    unsigned n;
    wl_workload *items;
} wl_file;

int wl_parse_file(const char *path, wl_file *out, mig_error *e);
int wl_parse_string(const char *text, size_t len, const char *path_for_errors, wl_file *out,
                    mig_error *e);
void wl_free(wl_file *f);
/* Index of the workload with this name, or -1. */
int wl_find(const wl_file *f, const char *name);
const char *wl_isolation_name(wl_isolation i);

/* ---- fleet ---- */

typedef struct {
    const mig_model *model;
    unsigned node;       /* index into fl_fleet.nodes */
    unsigned index;      /* GPU index within its node */
    bool has_state;      /* a layout, mig or busy was given (or read live) */
    bool mig_enabled;    /* default true */
    mig_layout layout;   /* current GIs (empty when none) */
    bool busy[MIG_MAX_GI];                  /* per layout.gi[]: processes run there */
    char running[MIG_MAX_GI][WL_NAME_LEN];  /* workload label of a busy GI, "" = unknown */
    bool whole_busy;                        /* MIG off and something runs on the card */
    char whole_running[WL_NAME_LEN];
    unsigned line, col;
} fl_gpu;

typedef struct {
    char name[WL_NAME_LEN];
    unsigned first_gpu, n_gpus; /* its GPUs: gpus[first_gpu .. first_gpu + n_gpus) */
} fl_node;

typedef struct {
    char *path;
    unsigned n_nodes, n_gpus;
    fl_node *nodes;
    fl_gpu *gpus;
} fl_fleet;

int fl_parse_file(const char *path, fl_fleet *out, mig_error *e);
int fl_parse_string(const char *text, size_t len, const char *path_for_errors, fl_fleet *out,
                    mig_error *e);
/* A one-node fleet ("local" unless node_name) from live GPU states; GPUs whose
 * model is not in the catalogue are skipped. */
int fl_from_states(const mig_gpu_state *g, unsigned n, const char *node_name, fl_fleet *out,
                   mig_error *e);
void fl_free(fl_fleet *f);
/* Does any GPU of the fleet carry state (layouts, busy instances)? */
bool fl_has_state(const fl_fleet *f);

/* Parse "12GiB", "12GB", "12000MiB", "0.5TB" into MiB (rounded up). */
int wl_parse_memory(const char *text, unsigned long long *mib);
/* Parse "0.25", "25%", "1/7" into (0, 1]. */
int wl_parse_fraction(const char *text, double *out);

#endif
