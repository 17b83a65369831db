/*
 * reconfigure.h: change one Slurm node's MIG layout through the scheduler.
 *
 *   plan       apply_prepare on the node's GPUs; BLOCKED/IMPOSSIBLE refuse
 *              before anything is touched. A plan that only creates
 *              instances (and changes no MPS GPU) needs no drain.
 *   drain      otherwise: `scontrol update State=DRAIN Reason="migctl:
 *              reconfigure"`, only this node.
 *   wait       for the running jobs that hold gres records of the GPUs the
 *              plan destroys instances on (jobs on other GPUs keep running);
 *              at the timeout: resume, layout unchanged, exit 1.
 *   apply      apply_execute (journal, verify, its own rollback).
 *   gres       the node's records from the GPUs as they now are (slots kept,
 *              gres.h), device files, gres.conf block and NodeName Gres=
 *              written atomically.
 *   slurmctld  the site's restart command, `scontrol reconfigure` (slurmd
 *              rereads gres.conf): what 22.05 needs to take a new Gres.
 *   register   wait until slurmctld shows the new Gres on the node and no
 *              INVALID_REG state.
 *   resume     when it drained.
 * A failure after the apply restores the previous layout of every GPU it
 * changed, the previous gres.conf and slurm.conf (and has slurmctld take
 * them again), and resumes the node. Writing the files, the restart and the
 * registration check run under a lock next to slurm.conf, so reconfigurations
 * of several nodes (a rollout) take turns on slurmctld.
 */
#ifndef MIGCTL_INTEGRATE_SLURM_RECONFIGURE_H
#define MIGCTL_INTEGRATE_SLURM_RECONFIGURE_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "apply/apply.h"
#include "config/migparted.h"
#include "gpu/backend.h"
#include "integrate/slurm/gres.h"
#include "util/err.h"

#define SR_REASON "migctl: reconfigure"
#define SR_MAX_STEPS 24

struct sr_report_s;

typedef struct {
    const char *node;
    const char *slurm_conf;      /* path of slurm.conf */
    const char *gres_conf;       /* path of gres.conf */
    const char *dev_dir;         /* device folder for the gres records */
    const sg_minors *minors;
    unsigned caps_major;
    const char *ctld_restart;    /* shell command restarting slurmctld */
    const cfg_config *config;
    const char *config_file;
    unsigned timeout_s;          /* wait for jobs at most this long */
    bool dry_run;
    const char *journal_path, *lock_path; /* apply's */
    FILE *log;                   /* one line per step; NULL: silent */
    apply_progress_fn on_progress; /* apply's progress events (cli/ renders them); NULL: none */
    void *progress_ctx;
    volatile sig_atomic_t *cancel;
    /* Called once the plan is known (before anything changes), so that the
     * caller can print it with the Slurm steps it implies; r has drain and
     * affected filled. NULL: not called. */
    void (*on_plan)(void *ctx, const apply_session *s, const struct sr_report_s *r);
    void *on_plan_ctx;
} sr_options;

typedef struct {
    char name[24];
    char detail[256];
    double at, seconds;          /* since the start; duration */
} sr_step;

typedef struct sr_report_s {
    char result[24];             /* unchanged, reconfigured, dry-run, refused, timeout, failed,
                                    restored */
    bool drain;                  /* the plan needs a drain */
    bool drained;                /* it did drain */
    unsigned n_ops;
    unsigned n_affected;
    unsigned affected[64];       /* GPUs whose instances are destroyed (or MPS changes) */
    char gres_before[4096], gres_after[4096];
    double seconds;
    unsigned n_steps;
    sr_step steps[SR_MAX_STEPS];
    mig_error error;
} sr_report;

/* Returns the exit code: 0 reconfigured/unchanged/dry-run, 1 refused or
 * timed out, 2 bad input, 3 a failure (restored when r->result says so). */
int sr_reconfigure(mig_backend *b, const sr_options *o, sr_report *r);

json_t *sr_report_json(const sr_report *r);

/* The node's GPUs planned for MPS: the config's mps entries for the GPUs it
 * selects, the previous records (an mps record) for the others. */
void sr_mps_flags(const cfg_config *c, const mig_gpu_state *gpus, unsigned n, const sg_node *prev,
                  bool *mps);

/* Does Slurm's gpu index idx name another record (kind, GPU, GI, CI, type)
 * in next than in prev? slurmd numbers records grouped by type, so a type
 * whose count changes can move the indices of other types. */
bool sr_index_moves(const sg_node *prev, const sg_node *next, int idx);

/* The node's records predicted for a config before it is applied: the plan's
 * target layouts with one full CI per GI (GI/CI ids, their capability
 * devices and UUIDs are only known after the apply: ids are left -1 and the
 * records name only the parent device). */
int sr_predict(mig_backend *b, const cfg_config *c, const sg_params *p, sg_node *out,
               mig_error *e);

#endif
