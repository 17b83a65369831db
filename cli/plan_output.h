/*
 * plan_output.h: what `plan` and `replan` share, defined in cmd_plan.c:
 * reading the fleet (file or --live), writing one v1 config per node, and
 * printing decisions and GPUs as text or JSON.
 */
#ifndef MIGCTL_CLI_PLAN_OUTPUT_H
#define MIGCTL_CLI_PLAN_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>

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

#endif
