/*
 * plan_output.h: what `plan` and `replan` share, defined in cmd_plan.c:
 * reading the fleet (file or --live), writing one v1 config per node, and
 * printing decisions and GPUs as text or JSON.
 */
#ifndef MIGCTL_CLI_PLAN_OUTPUT_H
#define MIGCTL_CLI_PLAN_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "config/workload.h"
#include "plan/advise.h"
#include "plan/pack.h"

int plan_load_fleet(cli_globals *g, const char *verb, const char *path, bool live, fl_fleet *f,
                    mig_error *e);
int plan_emit_configs(const char *verb, const fl_fleet *f, const pk_gpu *gpus, const char *dir,
                      mig_error *e);
json_t *plan_gpu_json(const fl_fleet *f, const pk_gpu *gpus, unsigned g);
void plan_print_decisions(const wl_file *wf, const adv_decision *d, unsigned n_models);
json_t *plan_decisions_json(const wl_file *wf, const adv_decision *d, unsigned n_models);

/* ---- the shared flow (plan_flow.c) ---- */

typedef struct {
    const char *wpath, *fpath, *apath, *emit;
    bool live, json;
    bool k8s;          /* --emit-k8s: also the GPU Operator's ConfigMap and labels */
    double time_limit; /* --time-limit SECONDS, 0 = default */
} plan_args;

/* Parse the options of plan (allow_add) or replan. 0: carry on; -1: stop and
 * exit with *rc (help printed, or a usage error naming the option). */
int plan_parse_args(const char *verb, int argc, char **argv, bool allow_add,
                    void (*usage)(FILE *), plan_args *a, int *rc);
/* Read the workloads (-w or --add) and the fleet (-f or --live); -1 with
 * *rc the exit code after reporting the error. */
int plan_load_inputs(cli_globals *g, const char *verb, const plan_args *a, wl_file *wf,
                     fl_fleet *fleet, int *rc);
/* Print o (--json; taken over, may be NULL when text was printed), write
 * --emit-config files; the exit code: 0, 1 when something is unplaced, or
 * the error's. */
int plan_finish_output(const char *verb, json_t *o, const plan_args *a, const fl_fleet *fleet,
                       const pk_gpu *after, unsigned unplaced);

#endif
