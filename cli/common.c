/*
 * common.c: helpers every verb uses: opening the backend the global options
 * name, printing an error once with the right exit code, number parsing.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "apply/lock.h"

int cli_open_backend(cli_globals *g, mig_backend **out, mig_error *e)
{
    /* The NVML shim (libnvidia-ml.so.1 over the simulator) stands in for
     * the driver and, like a driver, has its own configuration: it finds its
     * state file through MIGCTL_SIM_STATE. A --sim FILE given on the command
     * line must reach it, so the CLI, which owns the process environment,
     * exports it here, before the library is loaded; no layer below cli/
     * reads or sets the environment. With the sim backend this is harmless
     * (the path is passed down anyway) and keeps hooks, which inherit the
     * environment, pointed at the same simulator. */
    if (g->sim_path && *g->sim_path && setenv("MIGCTL_SIM_STATE", g->sim_path, 1) < 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "cannot export MIGCTL_SIM_STATE for the NVML shim");
    mig_backend_options o = {.which = g->backend, .sim_path = g->sim_path, .nvml_lib = g->nvml_lib};
    return backend_open(&o, out, e);
}

static void say_waiting(const char *path, long holder, void *ctx)
{
    const char *verb = ctx;
    if (holder > 0)
        fprintf(stderr, "migctl: %s: waiting for the lock %s (held by pid %ld)...\n", verb, path,
                holder);
    else
        fprintf(stderr, "migctl: %s: waiting for the lock %s...\n", verb, path);
}

int cli_change_lock(cli_globals *g, const char *verb, const char *lock, int *fd,
                    mig_error *e)
{
    lock_options o = {
        .path = lock,
        .env_path = g->lock_env,
        .sim_state = sim_default_path(g->sim_path),
        .wait = true,
        .on_wait = say_waiting,
        .ctx = (void *)verb,
    };
    /* Fail closed: a verb that cannot take the lock does not run, since an
     * apply it cannot see could be half-way through the same GPUs. */
    return lock_acquire(&o, fd, e);
}

void cli_change_unlock(int fd)
{
    lock_release(fd);
}

int cli_gpu_state(mig_backend *b, unsigned gpu, mig_gpu_state *st, mig_error *e)
{
    unsigned n;
    if (b->ops->gpu_count(b, &n, e) < 0)
        return -1;
    if (gpu >= n)
        return mig_fail(e, MIG_ERR_INPUT, "GPU index %u out of range (%u GPU%s: 0-%u)", gpu, n,
                        n == 1 ? "" : "s", n ? n - 1 : 0);
    if (b->ops->gpu_state(b, gpu, st, e) < 0) {
        mig_error_prefix(e, "GPU %u", gpu);
        return -1;
    }
    return 0;
}

int cli_read_states(mig_backend *b, mig_gpu_state **out, unsigned *n, mig_error *e)
{
    *out = NULL;
    if (b->ops->gpu_count(b, n, e) < 0)
        return -1;
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = 0; i < *n; i++)
        if (b->ops->gpu_state(b, i, &(*out)[i], e) < 0) {
            mig_error_prefix(e, "GPU %u", i);
            free(*out);
            *out = NULL;
            return -1;
        }
    return 0;
}

void cli_print_json(json_t *root)
{
    if (!root)
        return;
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    putchar('\n');
    json_decref(root);
}

typedef struct {
    const char *verb, *file;
} warn_ctx;

static void print_warning(void *ctx, const char *msg)
{
    const warn_ctx *w = ctx;
    fprintf(stderr, "migctl: %s: warning: %s:%s\n", w->verb, w->file, msg);
}

void cli_warn_unmatched(const char *verb, const char *file, const cfg_config *c, mig_backend *b)
{
    mig_gpu_state *gpus;
    unsigned n;
    mig_error e;
    if (cli_read_states(b, &gpus, &n, &e) < 0)
        return; /* the verb reads the states again and reports the failure */
    warn_ctx w = {verb, file};
    cfg_unmatched_selectors(c, gpus, n, print_warning, &w);
    free(gpus);
}

int cli_report(const char *verb, const mig_error *e)
{
    char text[sizeof e->file + sizeof e->msg + 32];
    fprintf(stderr, "migctl: %s: %s\n", verb, mig_error_format(e, text, sizeof text));
    int code = mig_error_exit_code(e);
    return code ? code : 3;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "migctl %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'migctl %s --help'.\n", verb);
    return 2;
}

int cli_option_error(const char *verb, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (c == ':')
        return cli_usage_error(verb, "%s needs a value", arg);
    if (optopt > 0 && optopt < 128 && isgraph(optopt) && strncmp(arg, "--", 2) != 0)
        return cli_usage_error(verb, "unknown option '-%c'", optopt);
    return cli_usage_error(verb, "unknown option '%s'", arg);
}

bool cli_parse_uint(const char *s, unsigned *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > UINT_MAX)
        return false;
    *out = (unsigned)v;
    return true;
}

void cli_getopt_reset(void)
{
    optind = 0;
    opterr = 0;
}

int cli_stop(int *code, int exit_code)
{
    *code = exit_code;
    return -1;
}
