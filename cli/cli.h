/*
 * cli.h: what the verbs share. main.c parses the global options and
 * dispatches to one cmd_<verb>() per file (git builtin/ style); each verb
 * parses its own flags with getopt_long, answers --help, calls the library
 * layers, and prints a table or --json. Verbs are thin: logic belongs in
 * model/, apply/, plan/ or config/, which know nothing of argv.
 */
#ifndef MIGCTL_CLI_CLI_H
#define MIGCTL_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "config/migparted.h"
#include "gpu/backend.h"
#include "util/err.h"

typedef struct {
    const char *backend;  /* --backend or $MIGCTL_BACKEND; NULL = default */
    const char *sim_path; /* --sim FILE or $MIGCTL_SIM_STATE */
    bool color;           /* stdout is a TTY and --no-color not given */
    const char *lock_env; /* $MIGCTL_LOCK: apply's lock file, for every verb that takes it */
    const char *nvml_lib; /* $MIGCTL_NVML_LIB: the NVML library to load; NULL: default */
} cli_globals;

typedef int (*cli_verb_fn)(int argc, char **argv, cli_globals *g);

/* Each verb: argv[0] is the verb name; returns the exit code. */
int cmd_models(int argc, char **argv, cli_globals *g);
int cmd_profiles(int argc, char **argv, cli_globals *g);
int cmd_layouts(int argc, char **argv, cli_globals *g);
int cmd_status(int argc, char **argv, cli_globals *g);
int cmd_mode(int argc, char **argv, cli_globals *g);
int cmd_create(int argc, char **argv, cli_globals *g);
int cmd_destroy(int argc, char **argv, cli_globals *g);
int cmd_sim(int argc, char **argv, cli_globals *g);
int cmd_apply(int argc, char **argv, cli_globals *g);
int cmd_assert(int argc, char **argv, cli_globals *g);
int cmd_export(int argc, char **argv, cli_globals *g);
int cmd_generate_config(int argc, char **argv, cli_globals *g);
int cmd_plan(int argc, char **argv, cli_globals *g);
int cmd_replan(int argc, char **argv, cli_globals *g);
int cmd_k8s(int argc, char **argv, cli_globals *g);
int cmd_top(int argc, char **argv, cli_globals *g);
int cmd_exporter(int argc, char **argv, cli_globals *g);
int cmd_profile(int argc, char **argv, cli_globals *g);
/* argv[0] "nvidia-mig-parted" or "mig-parted": mig-parted's CLI (drop-in). */
int cmd_mig_parted(int argc, char **argv, cli_globals *g);
int cmd_list(int argc, char **argv, cli_globals *g);
int cmd_slurm(int argc, char **argv, cli_globals *g);

/* Open the backend the globals name; prints nothing. */
int cli_open_backend(cli_globals *g, mig_backend **out, mig_error *e);

/* For verbs that change GPUs one instance at a time (create, destroy, mode):
 * take apply's lock (lock: the verb's --lock FILE, or NULL; else $MIGCTL_LOCK,
 * else beside the simulator's state file, else /run/migctl/apply.lock; see
 * apply/lock.h), waiting (and saying so on stderr) while an apply or another such verb holds it, so they never
 * interleave. A lock that cannot be taken stops the verb (fail closed): -1
 * with e set. Release with cli_change_unlock. */
int cli_change_lock(cli_globals *g, const char *verb, const char *lock, int *fd,
                    mig_error *e);
void cli_change_unlock(int fd);

/* The state of GPU `gpu`, checking the index first: out of range is bad
 * input (exit 2) naming the valid range; a backend failure is prefixed with
 * "GPU <n>". */
int cli_gpu_state(mig_backend *b, unsigned gpu, mig_gpu_state *st, mig_error *e);

/* Every GPU's state, index order; *out is heap (free it). */
int cli_read_states(mig_backend *b, mig_gpu_state **out, unsigned *n, mig_error *e);

/* Print a JSON document on stdout (indented, keys in insertion order, a
 * final newline) and release it. */
void cli_print_json(json_t *root);

/* Warn on stderr ("migctl: <verb>: warning: <file>:<line>:<col>: ...") about
 * selectors of config c that name GPUs this backend does not have. */
void cli_warn_unmatched(const char *verb, const char *file, const cfg_config *c, mig_backend *b);

/* Print "migctl: <verb>: <message>" to stderr (the message as
 * mig_error_format renders it, with file:line:col when the error has a
 * position) and return the exit code. */
int cli_report(const char *verb, const mig_error *e);

/* Usage error: print "migctl <verb>: <message>\nTry 'migctl <verb> --help'." and return 2. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* After getopt_long returned ':' (a value missing; the optstring must start
 * with ':') or '?' (an unknown option) with opterr = 0: one usage line naming
 * the option, exit code 2. */
int cli_option_error(const char *verb, int c, char **argv);

/* Parse a non-negative integer argument; false on junk or overflow. */
bool cli_parse_uint(const char *s, unsigned *out);

/* The one way a verb starts parsing its argv: optind = 0, glibc's full reset
 * (optind = 1 keeps a half-read cluster such as "-Zq" from main's or an
 * earlier verb's scan, and the error then names the wrong word), and
 * opterr = 0 so that the verb reports errors itself with cli_option_error. */
void cli_getopt_reset(void);

/* Return convention of the verbs' option parsers (util/err.h's): 0 means
 * "parsed, run the verb"; -1 means "stop now" with the exit code in *code
 * (0 after --help, 2 after a usage error). cli_stop(code, v) sets *code = v
 * and returns -1, so a parser can write `return cli_stop(code, cli_usage_error(...))`. */
int cli_stop(int *code, int exit_code);

#endif
