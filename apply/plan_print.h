/*
 * plan_print.h: a reconcile plan for people and for machines.
 *
 * For people, per GPU: a status line, the slot map before and after (one
 * cell per memory slice, each GI a bracketed box marked "=" kept, "~" kept
 * with its compute instances changed, "x" destroyed, "+" created, "!" busy
 * and in the way of a blocked plan), then the operations in the order they
 * run; blocked and impossible GPUs say why. Colour (ANSI) only when asked.
 *
 * For machines, the operations in the shape issue 3 fixes for `apply --json`:
 *   {"gpu": 0, "op": "create-gi", "profile": "1g.10gb",
 *    "placement": {"start": 6, "size": 1}}
 * with more fields where they apply (set-mode: "mig_enabled"; CI ops:
 * "gi_placement", "gi_id" or "gi_op" for a GI this plan creates; destroys:
 * "gi_id", "ci_id", "busy"). Fields may be added, never renamed.
 */
#ifndef MIGCTL_ENGINE_PLAN_PRINT_H
#define MIGCTL_ENGINE_PLAN_PRINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "apply/reconcile.h"

/* Every GPU of the plan; gpus[] are the states the plan was made from (the
 * "before" maps), matched by index. GPUs the config does not select get one
 * line. */
void plan_print(FILE *out, const mig_plan *p, const mig_gpu_state *gpus, unsigned n_gpus,
                bool color);

/* One GPU of the plan; g may be NULL (no "before" map then). */
void plan_print_gpu(FILE *out, const mig_plan *p, const mig_gpu_plan *gp, const mig_gpu_state *g,
                    bool color);

/* One operation as one line of text ("create-gi 1g.10gb@6"), no newline. */
void plan_op_text(const mig_plan *p, const mig_op *op, char *buf, size_t len);

/* The operations, as a new JSON array (NULL when memory runs out). */
json_t *plan_to_json(const mig_plan *p);
json_t *plan_op_to_json(const mig_plan *p, const mig_op *op);

/* Per GPU: {"gpu", "status", "reason", "blockers": [gi ids], "mode_change",
 * "needs_reset", "operations": n, "target": "3g.40gb@4,..."}; gpus[] may be
 * NULL (then "target" is left out). New array, NULL when memory runs out. */
json_t *plan_gpus_to_json(const mig_plan *p, const mig_gpu_state *gpus, unsigned n_gpus);

#endif
