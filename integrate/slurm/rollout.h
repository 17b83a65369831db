/*
 * rollout.h: reconfigure a fleet's Slurm nodes from a folder of per-node
 * configs (`plan/replan --emit-config DIR` writes DIR/<node>.yaml), each node
 * by a child `migctl slurm reconfigure`, at most K nodes drained at once.
 *
 * First every node's dry run says whether it needs a drain; nodes that need
 * none go first, then the others, K at a time (a pool of K children; a node
 * that needs no drain never counts against K while drained nodes run, but
 * the pool keeps the load bounded all the same). The first failed node stops
 * the rollout (no new node starts; those running finish) unless keep_going.
 * Children run as separate processes so that one node's failure, or a
 * remote node reached through `via`, cannot take the rollout down with it.
 */
#ifndef MIGCTL_INTEGRATE_SLURM_ROLLOUT_H
#define MIGCTL_INTEGRATE_SLURM_ROLLOUT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/err.h"

typedef struct {
    char node[64];
    char file[1024];
    bool drain;                /* from the dry run */
    unsigned ops;
    char result[24];           /* "" not started, "running", then the child's result, or
                                  "skipped" */
    bool drained;
    double seconds;
    int exit_code;
    char error[512];
    pid_t pid;
    double started;
    char out_path[1100], log_path[1100];
} ro_node;

typedef struct {
    const char *self;          /* path of the migctl binary */
    const char *via;           /* prefix command ("ssh {node}"; words split on spaces), or NULL */
    unsigned max_unavailable;  /* K >= 1 */
    bool keep_going;
    unsigned timeout_s;        /* each node's --timeout */
    FILE *progress;            /* NULL: silent */
    bool tty;                  /* progress redraws one line */
    const char *work_dir;      /* where children's outputs go (must exist) */
} ro_options;

/* Nodes from the folder (sorted by name). *out heap. */
int ro_list(const char *dir, ro_node **out, unsigned *n, mig_error *e);

/* Run the rollout over nodes[0..n). Returns the exit code: 0 all done, 1 a
 * node refused or timed out, 3 a node failed. */
int ro_run(ro_node *nodes, unsigned n, const ro_options *o, mig_error *e);

/* The summary table: node, drained, ops, time, result. */
void ro_print_summary(FILE *out, const ro_node *nodes, unsigned n);

#endif
