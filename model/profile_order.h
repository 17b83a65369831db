/*
 * profile_order.h: "largest profile first", defined once. The planner's
 * fragmentation scores (plan/pack.c, plan/replan.c) and the reconciler's
 * tie-break (apply/reconcile.c) compare layouts by the capacity they leave
 * for each profile in this order: more compute slices first, then more
 * memory slices, then catalogue order (stable), so a 4g.40gb comes before a
 * 3g.40gb and a 2g.20gb before a 1g.20gb.
 */
#ifndef MIGCTL_MODEL_PROFILE_ORDER_H
#define MIGCTL_MODEL_PROFILE_ORDER_H

#include <stdbool.h>

#include "model/catalogue.h"

/* Profile positions of m, largest first, into order; base_only keeps only
 * profiles without an attribute (+me, -me, +gfx). Returns how many. */
unsigned mig_profiles_largest_first(const mig_model *m, bool base_only,
                                    unsigned order[MIG_MAX_PROFILES]);

#endif
