/*
 * journal.h: apply's journal, the record that makes an apply transactional.
 *
 * Before the first operation apply writes, atomically (temp file, fsync,
 * rename, fsync of the directory), the previous state of every GPU it will
 * touch (mode, GIs with placements, CIs), the planned operations and the
 * config's identity; after each completed operation it rewrites the file
 * with the count of operations done; on success it removes it. So at any
 * instant the file on disk is either absent or a complete journal.
 *
 * A journal found at start means an apply was killed. The next apply says so
 * and converges: it re-reads the real state and re-plans towards the desired
 * config (idempotent, since the plan is computed from the real state), then
 * drops the stale journal. The journal's "before" states are what a failed
 * apply restores, and what a person reads to see what was there.
 *
 * Format (JSON, jansson): {"version": 1, "pid", "config": {"file", "name"},
 * "phase": "apply"|"rollback"|"restore-failed", "done", "operations": [{"gpu", "op",
 * "profile", "placement": {"start", "size"}, "gi_id", "ci_id"}],
 * "before": [{"index", "uuid", "model", "mig": {"current", "pending"},
 * "gpu_instances": [{"id", "profile_id", "start", "size",
 * "compute_instances": [{"id", "profile_id", "start", "slices", "uuid"}]}]}]}
 */
#ifndef MIGCTL_ENGINE_JOURNAL_H
#define MIGCTL_ENGINE_JOURNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "apply/reconcile.h"
#include "model/gpu_state.h"
#include "util/err.h"

#define MIG_JOURNAL_DEFAULT_PATH "/var/lib/migctl/journal.json"

/* A journal holds at most MIG_MAX_GPUS GPUs' instances and a plan: far below
 * this; a larger file is not a journal and is refused unread. */
#define MIG_JOURNAL_MAX_BYTES ((size_t)4 << 20)

typedef struct {
    long pid;                    /* the apply that wrote it */
    char config_file[PATH_MAX];
    char config_name[256];
    char phase[16];              /* "apply", "rollback", "restore-failed" */
    unsigned done;               /* operations completed */
    unsigned n_ops;              /* operations planned */
    unsigned n_before;
    mig_gpu_state before[MIG_MAX_GPUS]; /* touched GPUs as they were */
} mig_journal;

/* Write j (and the plan's operations) atomically at path, creating the
 * parent directory if it is missing. */
int journal_write(const char *path, const mig_journal *j, const mig_plan *plan, mig_error *e);

/* Read a journal. *exists=false (and success) when there is none; a file
 * that is not a journal (unparsable, too large, not a regular file) is
 * MIG_ERR_INPUT naming it, with *exists=true. GPU models are looked up
 * by name in the catalogue (NULL when unknown). */
int journal_read(const char *path, mig_journal *out, bool *exists, mig_error *e);

/* Parse a journal's text (what journal_read does once the file is read);
 * path names it in messages. The fuzz target's entry point. */
int journal_parse(const char *text, size_t len, const char *path, mig_journal *out,
                  mig_error *e);

/* Remove it; a missing file is not an error. */
int journal_remove(const char *path, mig_error *e);

/* Move a journal (typically one journal_read could not read) aside to
 * "<path>.discarded", written into aside, for a person to look at later.
 * A missing journal is not an error. */
int journal_discard(const char *path, char *aside, size_t len, mig_error *e);

/* The journal apply uses: explicit, else "<sim state>.journal" when a
 * simulator state file names the node, else MIG_JOURNAL_DEFAULT_PATH. */
const char *journal_default_path(const char *explicit_path, const char *sim_state, char *buf,
                                 size_t len);

#endif
