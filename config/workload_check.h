/*
 * workload_check.h: the checks of a workloads file beyond its syntax.
 *
 * The parser (config/workload.c) checks that a profile is spelt like one
 * ("3g.40gb"); the catalogue says whether it exists. A pinned `profile:` or
 * a `throughput:` key that no GPU model has (5g.10gb) is a typo: bad input
 * with its position, not a workload left "unplaced" or a figure silently
 * ignored. (A profile of another model than the fleet's is not a typo: one
 * workloads file may be planned on several fleets.)
 */
#ifndef MIGCTL_CONFIG_WORKLOAD_CHECK_H
#define MIGCTL_CONFIG_WORKLOAD_CHECK_H

#include "config/workload.h"
#include "util/err.h"

/* 0, or -1 with MIG_ERR_INPUT "<file>:<line>:<col>: ..." naming the first
 * profile no model has (a throughput key at its own position, a pinned
 * profile at its workload's, which is all the parsed struct keeps). */
int wl_check_profiles(const wl_file *wf, mig_error *e);

#endif
