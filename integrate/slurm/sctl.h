/*
 * sctl.h: the Slurm commands migctl drives (scontrol, squeue, and the
 * site's slurmctld restart command), run as child processes with a time
 * limit, their output parsed. Using the commands rather than libslurm keeps
 * migctl free of a build dependency on one Slurm version's ABI; the text
 * formats used here are those of Slurm 22.05 (`scontrol show node/job -d`).
 *
 * Calls retry for a few seconds while slurmctld does not answer, because a
 * reconfiguration of another node may be restarting it at that moment.
 */
#ifndef MIGCTL_INTEGRATE_SLURM_SCTL_H
#define MIGCTL_INTEGRATE_SLURM_SCTL_H

#include <stdbool.h>

#include "util/err.h"

/* Run argv (argv[0] looked up in PATH) with stdout and stderr captured into
 * *out (heap, NUL-terminated; may be NULL on input to discard), killed after
 * timeout_ms. *status is the exit code (128+signal when killed). Returns -1
 * only when it could not run at all. */
int sctl_run(const char *const *argv, unsigned timeout_ms, char **out, int *status, mig_error *e);

/* /bin/sh -c cmd, same rules. */
int sctl_shell(const char *cmd, unsigned timeout_ms, char **out, int *status, mig_error *e);

typedef struct {
    char state[128];   /* "IDLE", "MIXED+DRAIN", ... */
    char gres[4096];   /* Gres= as slurmctld has it */
    char reason[256];
} sctl_node;

int sctl_show_node(const char *node, sctl_node *out, mig_error *e);
bool sctl_state_has(const sctl_node *n, const char *flag); /* "DRAIN", "INVAL", ... */

int sctl_drain(const char *node, const char *reason, mig_error *e);
int sctl_resume(const char *node, mig_error *e);
int sctl_reconfigure(mig_error *e);
/* Wait (up to timeout_ms) until `scontrol ping` says the primary is UP. */
int sctl_wait_ctld(unsigned timeout_ms, mig_error *e);

/* Running jobs on a node that hold gres records: *n job ids with, per job,
 * the node's gres indices (IDX) they hold, as a bitmap over 1024 indices. */
typedef struct {
    unsigned long id;
    unsigned char idx[128]; /* bit i: gres index i */
} sctl_job;
int sctl_node_jobs(const char *node, sctl_job *jobs, unsigned cap, unsigned *n, mig_error *e);

/* Parse "0-1,3" into the bitmap (for tests). */
void sctl_parse_idx(const char *s, unsigned char idx[128]);

#endif
