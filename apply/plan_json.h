/*
 * plan_json.h: a reconcile plan for machines (people's rendering of the same
 * plan, slot maps and all, is cli/render.h's).
 *
 * The operations in the shape issue 3 fixes for `apply --json`:
 *   {"gpu": 0, "op": "create-gi", "profile": "1g.10gb",
 *    "placement": {"start": 6, "size": 1}}
 * with more fields where they apply (set-mode: "mig_enabled"; CI ops:
 * "gi_placement", "gi_id" or "gi_op" for a GI this plan creates; destroys:
 * "gi_id", "ci_id", "busy"). Fields may be added, never renamed.
 */
#ifndef MIGCTL_APPLY_PLAN_JSON_H
#define MIGCTL_APPLY_PLAN_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "apply/reconcile.h"

/* The operations, as a new JSON array (NULL when memory runs out). */
json_t *plan_to_json(const mig_plan *p);
json_t *plan_op_to_json(const mig_plan *p, const mig_op *op);

/* Per GPU: {"gpu", "status", "reason", "blockers": [gi ids], "mode_change",
 * "needs_reset", "operations": n, "target": "3g.40gb@4,..."}; gpus[] may be
 * NULL (then "target" is left out). New array, NULL when memory runs out. */
json_t *plan_gpus_to_json(const mig_plan *p, const mig_gpu_state *gpus, unsigned n_gpus);

#endif
