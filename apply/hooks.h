/*
 * hooks.h: mig-parted's hooks file, parsed and run.
 *
 *     version: v1
 *     hooks:
 *       apply-start:      [{command: /bin/sh, args: [-c, "..."], envs: {K: V}, workdir: /tmp}]
 *       pre-apply-mode:   [...]
 *       pre-apply-config: [...]
 *       apply-exit:       [...]
 *
 * Accepted as mig-parted accepts it (reference/mig-tools.md section 1.7),
 * parsed with libyaml's document API; unknown keys and unknown hook names
 * are errors with file:line:col (a misspelt hook name would otherwise never
 * run, silently). Each hook point is a list of commands run in order; the
 * first failure stops the list.
 *
 * Unlike mig-parted, a command runs with the CALLER's environment (PATH
 * inherited), plus the hook's own envs, plus the variables migctl passes
 * (which win, as mig-parted's CLI variables win over a hook's envs), in its
 * own process group, under a timeout after which the whole group is killed.
 */
#ifndef MIGCTL_ENGINE_HOOKS_H
#define MIGCTL_ENGINE_HOOKS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef enum {
    HOOK_APPLY_START,
    HOOK_PRE_APPLY_MODE,
    HOOK_PRE_APPLY_CONFIG,
    HOOK_APPLY_EXIT,
    HOOK_N_POINTS,
} hook_point;

typedef struct {
    char *name;
    char *value;
} hook_env;

typedef struct {
    char *command;           /* found through PATH when it has no '/' */
    unsigned n_args;
    char **args;
    unsigned n_envs;
    hook_env *envs;
    char *workdir;           /* NULL: the caller's working directory */
    unsigned line, col;      /* where the command is written, for messages */
} hook_command;

typedef struct {
    char *path;              /* for messages */
    unsigned n[HOOK_N_POINTS];
    hook_command *cmds[HOOK_N_POINTS];
} hooks_file;

int hooks_parse_file(const char *path, hooks_file *out, mig_error *e);
int hooks_parse_string(const char *text, size_t len, const char *path_for_errors, hooks_file *out,
                       mig_error *e);
void hooks_free(hooks_file *h);

const char *hook_point_name(hook_point p); /* "apply-start", ... */

#define HOOK_DEFAULT_TIMEOUT_S 60

typedef struct {
    const char *name;
    const char *value;
} hook_var;

typedef struct {
    unsigned timeout_ms;     /* per command; 0 = HOOK_DEFAULT_TIMEOUT_S */
    bool stdout_to_stderr;   /* keep the caller's stdout clean (--json) */
    unsigned n_vars;
    const hook_var *vars;    /* set in every command's environment */
    volatile sig_atomic_t *cancel; /* when it becomes non-zero (a signal handler),
                                      the running command's group is killed */
} hook_run_options;

/* Run the commands of one hook point in order. A command that cannot start,
 * exits non-zero, dies of a signal or outlives the timeout (its process
 * group is then killed), or is cancelled, fails the point: MIG_ERR_SYSTEM naming the hook,
 * the command and what happened. h NULL or an empty point: success. */
int hooks_run(const hooks_file *h, hook_point p, const hook_run_options *o, mig_error *e);

#endif
