/*
 * apply.h: make GPUs match a config, transactionally.
 *
 * Two stages, so that the verb can print the plan between them:
 *
 *   apply_prepare  reads every GPU's state through the backend (the one
 *                  backend the caller opened: one NVML init per run), plans
 *                  with reconcile_plan, and notes a stale journal (an apply
 *                  that was killed; the plan, computed from the real state,
 *                  converges from wherever it stopped).
 *   apply_execute  refuses BLOCKED/IMPOSSIBLE GPUs before touching anything;
 *                  runs the hooks (apply-start, pre-apply-mode if a mode
 *                  changes, pre-apply-config if instances change, apply-exit
 *                  always once apply-start ran); writes the journal; executes
 *                  the ops in plan order, updating the journal after each;
 *                  verifies every changed GPU against the plan's target; on
 *                  any failure restores the previous layout of every touched
 *                  GPU (same placements, same CI profiles) and verifies that;
 *                  removes the journal.
 *
 * Ampere mode changes that stay pending (the GPU is held) are reset only
 * with `reset`, only on the GPUs whose mode changed; without it those GPUs
 * are reported "pending-reset" (their other ops wait for the rerun) and the
 * rest of the node is applied.
 *
 * The engine prints nothing: it reports progress as events (apply_progress,
 * one when an operation starts and one when it ends, and for resets,
 * rollback, restores and hooks) to opts->on_progress, and the CLI renders
 * them (cli/render.c); errors come back in the report.
 */
#ifndef MIGCTL_ENGINE_APPLY_H
#define MIGCTL_ENGINE_APPLY_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "config/migparted.h"
#include "apply/hooks.h"
#include "apply/journal.h"
#include "apply/reconcile.h"
#include "gpu/backend.h"
#include "util/err.h"

typedef enum {
    APPLY_APPLIED,        /* ops executed and verified */
    APPLY_UNCHANGED,      /* nothing to do */
    APPLY_DRY_RUN,        /* planned only */
    APPLY_REFUSED,        /* BLOCKED or IMPOSSIBLE GPUs; nothing touched (exit 1) */
    APPLY_PENDING_RESET,  /* applied except GPUs whose mode awaits a reset (exit 1) */
    APPLY_FAILED,         /* an op, the verification or a hook failed (exit 3) */
} apply_result;

const char *apply_result_name(apply_result r); /* "applied", ..., "pending-reset" */

/* Progress, as data: what the apply is doing, for the caller to show. */
typedef enum {
    APPLY_EV_OP_START,    /* plan op `index` (0-based) of `total` starts on `gpu`: `what` */
    APPLY_EV_OP_END,      /* ... and ended: `outcome`, `id_kind`/`id` for a create */
    APPLY_EV_RESET_START, /* `gpu` is reset to make MIG mode `enable` current */
    APPLY_EV_RESET_END,   /* ... `outcome` (ok or failed) */
    APPLY_EV_ROLLBACK,    /* a failure: the previous layout is being restored */
    APPLY_EV_RESTORE,     /* one restore step on `gpu`: `what`, `outcome` */
    APPLY_EV_HOOK,        /* the hooks of `hook` run */
} apply_event_kind;

typedef enum {
    APPLY_OUT_OK,
    APPLY_OUT_OK_RESET, /* a mode change, made current by a reset */
    APPLY_OUT_PENDING,  /* a mode change pending a reset */
    APPLY_OUT_FAILED,
} apply_outcome;

typedef struct {
    apply_event_kind kind;
    unsigned index, total;   /* OP_START */
    unsigned gpu;
    const char *what;        /* OP_START, RESTORE: the operation, as in error messages */
    apply_outcome outcome;   /* OP_END, RESET_END, RESTORE */
    char id_kind;            /* OP_END of a create: 'G' (GI id) or 'C' (CI id); else 0 */
    unsigned id;
    bool enable;             /* RESET_START */
    const char *hook;        /* HOOK: the hook point's name */
} apply_progress;

typedef void (*apply_progress_fn)(void *ctx, const apply_progress *ev);

typedef struct {
    const char *config_file;     /* identity, for the journal and hooks */
    const char *config_name;     /* the selected config's name */
    const char *hooks_path;      /* for MIG_PARTED_HOOKS_FILE */
    const hooks_file *hooks;     /* NULL: no hooks */
    unsigned hook_timeout_ms;    /* 0: HOOK_DEFAULT_TIMEOUT_S */
    bool hook_stdout_to_stderr;
    const char *journal_path;    /* required */
    bool discard_journal;        /* a journal that cannot be read is moved aside
                                    (<journal>.discarded) instead of refusing */
    bool dry_run;
    bool force;                  /* destroy busy instances (BLOCKED -> planned) */
    bool reset;                  /* reset GPUs whose mode change is pending */
    apply_progress_fn on_progress; /* progress events; NULL: none */
    void *progress_ctx;
    volatile sig_atomic_t *cancel; /* set by a signal handler (SIGTERM, SIGINT):
                                      no further op starts, the apply rolls back */
} apply_options;

typedef struct {
    unsigned n_gpus;
    mig_gpu_state *before;       /* heap: every GPU as read, index = position */
    mig_plan plan;
    bool stale_journal;          /* a killed apply left its journal */
    mig_journal *stale;          /* heap, when stale_journal */
    char journal_discarded[6000]; /* what discard_journal did ("" when nothing) */
} apply_session;

typedef struct {
    unsigned index;
    char status[24];   /* untouched, unchanged, applied, blocked, impossible,
                          pending-reset, failed, restored, not-restored */
    char reason[512];
} apply_gpu_outcome;

typedef struct {
    apply_result result;
    unsigned n_done;             /* plan ops completed */
    bool rolled_back;            /* a rollback ran */
    bool restored;               /* ... and the previous layout was verified */
    unsigned n_resets;
    unsigned resets[MIG_MAX_GPUS]; /* GPUs reset by this apply */
    unsigned n_gpus;
    apply_gpu_outcome gpus[MIG_MAX_GPUS];
    mig_error error;             /* why, when not applied/unchanged/dry-run */
} apply_report;

int apply_prepare(mig_backend *b, const cfg_config *c, const apply_options *o, apply_session *s,
                  mig_error *e);
/* Always fills r; returns 0 for applied/unchanged/dry-run, -1 otherwise
 * (r->error says why). */
int apply_execute(mig_backend *b, apply_session *s, const apply_options *o, apply_report *r);
void apply_session_free(apply_session *s);

/* prepare + execute, for tests and the benchmark. */
int apply_run(mig_backend *b, const cfg_config *c, const apply_options *o, apply_report *r);

/* The process exit code for a report: 0, 1 (refused, pending reset) or the
 * error's code (3 for a failed op or hook). */
int apply_exit_code(const apply_report *r);

/* Restore GPU want->index to want's layout: mode, GIs at the same
 * placements with the same CI profiles and CI placements, destroying what
 * is not in want. Busy instances are never destroyed (IN_USE stops it). */
int apply_restore_gpu(mig_backend *b, const mig_gpu_state *want, bool reset,
                      apply_progress_fn on_progress, void *progress_ctx, mig_error *e);

/* Do two states hold the same layout (mode, GI profiles and placements, CI
 * profiles and placements; ids and UUIDs ignored)? */
bool apply_same_layout(const mig_gpu_state *a, const mig_gpu_state *b);

/* The --json document: {"result", "operations": [{"gpu", "op", "profile",
 * "placement": {"start", "size"}}], "gpus": [{"index", "status", "reason"}],
 * "rolled_back", "restored", "operations_done", "resets", "journal_recovered",
 * "error"}. Set-mode ops carry "enable" instead of profile and placement. */
json_t *apply_report_json(const apply_session *s, const apply_report *r);

/* "0 create-gi 3g.40gb 4 4\n..." (MIGCTL_OPERATIONS); heap, caller frees. */
char *apply_operations_text(const mig_plan *p);

#endif
