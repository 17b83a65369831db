/*
 * cmd_mig_parted.c: migctl installed or linked as `nvidia-mig-parted`, or
 * run as `migctl mig-parted ...`: reads mig-parted's environment variables
 * (here, in cli/, where the environment is read) and hands over to the
 * drop-in (integrate/migparted/), which answers as mig-parted v0.13.1 does.
 */
#include <stdlib.h>

#include "cli/cli.h"
#include "integrate/migparted/dropin.h"

int cmd_mig_parted(int argc, char **argv, cli_globals *g)
{
    migparted_env env = {
        .debug = getenv("MIG_PARTED_DEBUG"),
        .config_file = getenv("MIG_PARTED_CONFIG_FILE"),
        .selected_config = getenv("MIG_PARTED_SELECTED_CONFIG"),
        .hooks_file = getenv("MIG_PARTED_HOOKS_FILE"),
        .skip_reset = getenv("MIG_PARTED_SKIP_RESET"),
        .mode_only = getenv("MIG_PARTED_MODE_CHANGE_ONLY"),
        .valid_config = getenv("MIG_PARTED_VALID_CONFIG"),
        .output_format = getenv("MIG_PARTED_OUTPUT_FORMAT"),
        .config_label = getenv("MIG_PARTED_CONFIG_LABEL"),
        .checkpoint_file = getenv("MIG_PARTED_CHECKPOINT_FILE"),
        .lock = g->lock_env,
    };
    return migparted_main(argc, argv, &env, g);
}
