/*
 * dropin.h: migctl answering as NVIDIA's `nvidia-mig-parted` (v0.13.1), so
 * that the GPU Operator's mig-manager and people's scripts switch to migctl
 * with no line changed: the same verbs (apply, assert, export, checkpoint,
 * restore), flags, environment variables, messages and exit codes
 * (docs/mig-parted.md has the table and the few deliberate differences).
 *
 * main.c dispatches here when argv[0]'s basename is `nvidia-mig-parted`,
 * and for `migctl mig-parted ...`. The environment is read in cli/ (the
 * caller fills migparted_env); nothing here calls getenv.
 */
#ifndef MIGCTL_INTEGRATE_MIGPARTED_DROPIN_H
#define MIGCTL_INTEGRATE_MIGPARTED_DROPIN_H

#include "cli/cli.h"

/* mig-parted's environment variables, NULL when unset. */
typedef struct {
    const char *debug;           /* MIG_PARTED_DEBUG */
    const char *config_file;     /* MIG_PARTED_CONFIG_FILE */
    const char *selected_config; /* MIG_PARTED_SELECTED_CONFIG */
    const char *hooks_file;      /* MIG_PARTED_HOOKS_FILE */
    const char *skip_reset;      /* MIG_PARTED_SKIP_RESET */
    const char *mode_only;       /* MIG_PARTED_MODE_CHANGE_ONLY */
    const char *valid_config;    /* MIG_PARTED_VALID_CONFIG */
    const char *output_format;   /* MIG_PARTED_OUTPUT_FORMAT */
    const char *config_label;    /* MIG_PARTED_CONFIG_LABEL */
    const char *checkpoint_file; /* MIG_PARTED_CHECKPOINT_FILE */
    const char *lock;            /* MIGCTL_LOCK: apply's lock, as migctl apply takes it */
} migparted_env;

/* argv[0] is the program name ("nvidia-mig-parted" or "mig-parted"); the
 * verb follows, after global flags. Returns the exit code: 0 on success, 1
 * on any failure (mig-parted's convention), messages as mig-parted prints
 * them (successes on stdout, failures as one logrus line on stderr). */
int migparted_main(int argc, char **argv, const migparted_env *env, cli_globals *g);

#endif
