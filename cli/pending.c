/*
 * pending.c: TEMPORARY weak placeholders for verbs whose files are still
 * being written, so the tree links while the layers are built in parallel.
 * Each real cmd_<verb>.c overrides its placeholder. This file must be gone
 * before release.
 */
#include <stdio.h>

#include "cli/cli.h"

#define PENDING(fn, verb)                                                       \
    __attribute__((weak)) int fn(int argc, char **argv, cli_globals *g)         \
    {                                                                           \
        (void)argc, (void)argv, (void)g;                                        \
        fprintf(stderr, "migctl: %s: not built yet\n", verb);                   \
        return 3;                                                               \
    }

PENDING(cmd_models, "models")
PENDING(cmd_profiles, "profiles")
PENDING(cmd_layouts, "layouts")
PENDING(cmd_status, "status")
PENDING(cmd_mode, "mode")
PENDING(cmd_create, "create")
PENDING(cmd_destroy, "destroy")
PENDING(cmd_sim, "sim")
PENDING(cmd_apply, "apply")
PENDING(cmd_assert, "assert")
PENDING(cmd_export, "export")
PENDING(cmd_generate_config, "generate-config")
PENDING(cmd_plan, "plan")
PENDING(cmd_replan, "replan")
