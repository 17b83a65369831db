/*
 * dropin.c: `nvidia-mig-parted apply|assert|export|checkpoint|restore`
 * answered by migctl's own engine, with mig-parted v0.13.1's flags,
 * environment variables, messages and exit codes, so a node (or the GPU
 * Operator's mig-manager) switches with no script changed.
 *
 * What is the same: every failure exits 1 with one logrus-style line on
 * stderr (`level=fatal msg="..."`), success exits 0 with mig-parted's
 * success line on stdout; a flag's environment variable is its default and
 * the flag wins; -c may be left out when the file has one config; a config
 * that selects no GPU of the node applies successfully and fails assert.
 *
 * What is deliberately stricter (docs/mig-parted.md): a profile name the
 * GPU's model does not have (`5g.10gb` on an H100) fails apply and assert
 * (mig-parted reports success and changes nothing); a layout that cannot
 * exist on the model fails before anything is touched; a busy instance is
 * never destroyed (mig-parted destroys the GPU's other instances, then
 * fails IN_USE). How it gets there is migctl's: fewest operations, journal,
 * rollback; -d shows migctl's plan and progress on stderr.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "apply/apply.h"
#include "apply/lock.h"
#include "cli/render.h"
#include "apply/reconcile.h"
#include "integrate/migparted/dropin.h"
#include "util/fileio.h"

#define PROG "nvidia-mig-parted"
#define MIGPARTED_VERSION "0.13.1"
#define MIGCTL_DROPIN_VERSION "0.1.0"
#define CHECKPOINT_MAX (4u << 20)

typedef struct {
    bool debug;
    const char *verb;
    const char *config_file, *selected_config, *hooks_file;
    bool skip_reset, mode_only, valid_config;
    const char *output_format, *config_label;
    const char *checkpoint_file;
    const char *lock_env; /* MIGCTL_LOCK, as cli/ read it */
    cli_globals *g;
} mp_args;

/* ------------------------------------------------------------ output */

/* logrus' text formatter, as mig-parted's log.Fatal prints it. */
static void logline(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logline(const char *level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char when[40] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "time=\"%s\" level=%s msg=\"", when, level);
    for (const char *p = msg; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', stderr);
        if (*p == '\n')
            fputs("\\n", stderr);
        else
            fputc(*p, stderr);
    }
    fputs("\"\n", stderr);
}

/* A failure: the logrus line and exit 1, whatever kind of error. */
static int fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fatal(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    logline("fatal", "%s", msg);
    return 1;
}

static const char *errtext(const mig_error *e, char *buf, size_t cap)
{
    return mig_error_format(e, buf, cap);
}

static void debugf(const mp_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void debugf(const mp_args *a, const char *fmt, ...)
{
    if (!a->debug)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    logline("debug", "%s", msg);
}

/* ------------------------------------------------------------ flags */

/* Go's strconv.ParseBool, which urfave/cli uses for BoolFlag values. */
static int parse_bool(const char *s, bool *out)
{
    static const char *t[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *f[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (unsigned i = 0; i < 6; i++) {
        if (strcmp(s, t[i]) == 0)
            return *out = true, 0;
        if (strcmp(s, f[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

/* An environment default for a bool flag: unset or empty = false; junk is
 * an error as in urfave/cli ("could not parse ... as bool value"). */
static int env_bool(const char *name, const char *value, bool *out)
{
    *out = false;
    if (!value || !*value)
        return 0;
    if (parse_bool(value, out) < 0)
        return fatal("could not parse \"%s\" as bool value from env %s", value, name);
    return 0;
}

/* "-f=x" reaches getopt as optarg "=x"; urfave/cli takes it as "x". */
static const char *value(const char *optarg_)
{
    return optarg_ && optarg_[0] == '=' ? optarg_ + 1 : optarg_;
}

static void usage_global(FILE *out)
{
    fprintf(out,
            "NAME:\n   " PROG " - Manipulate MIG partitions on NVIDIA GPUs (migctl's drop-in)\n\n"
            "USAGE:\n   " PROG " [global options] command [command options] [arguments...]\n\n"
            "COMMANDS:\n"
            "   apply       Apply changes (if necessary) for a specific MIG configuration\n"
            "   assert      Assert that a specific MIG configuration is currently applied\n"
            "   export      Export the current MIG configuration\n"
            "   checkpoint  Checkpoint the current MIG state to a file\n"
            "   restore     Restore MIG state from a checkpoint file\n"
            "   help, h     Shows a list of commands or help for one command\n\n"
            "GLOBAL OPTIONS:\n"
            "   --debug, -d    Enable debug-level logging (default: false) [$MIG_PARTED_DEBUG]\n"
            "   --help, -h     show help\n"
            "   --version, -v  print the version\n\n"
            "Answered by migctl (see 'migctl --help'; differences in docs/mig-parted.md).\n");
}

static void usage_verb(const char *verb, FILE *out)
{
    fprintf(out, "USAGE:\n   " PROG " %s [command options]\n\nOPTIONS:\n", verb);
    if (!strcmp(verb, "apply") || !strcmp(verb, "assert"))
        fprintf(out,
                "   --config-file value, -f value      Path to the configuration file "
                "[$MIG_PARTED_CONFIG_FILE]\n"
                "   --selected-config value, -c value  The label of the mig-config from the "
                "config file to apply to the node [$MIG_PARTED_SELECTED_CONFIG]\n"
                "   --mode-only, -m                    Only %s the MIG mode setting from the "
                "selected config (default: false) [$MIG_PARTED_MODE_CHANGE_ONLY]\n",
                verb);
    if (!strcmp(verb, "apply"))
        fprintf(out,
                "   --hooks-file value, -k value       Path to the hooks file "
                "[$MIG_PARTED_HOOKS_FILE]\n"
                "   --skip-reset, -s                   Skip the GPU reset after a MIG mode "
                "change (default: false) [$MIG_PARTED_SKIP_RESET]\n");
    if (!strcmp(verb, "assert"))
        fprintf(out, "   --valid-config, -a                 Only assert that the config file "
                     "is valid and the selected config is present (default: false) "
                     "[$MIG_PARTED_VALID_CONFIG]\n");
    if (!strcmp(verb, "export"))
        fprintf(out, "   --output-format value, -o value  Format for the output [json | yaml] "
                     "(default: \"yaml\") [$MIG_PARTED_OUTPUT_FORMAT]\n"
                     "   --config-label value, -l value   Label to apply to the exported config "
                     "(default: \"current\") [$MIG_PARTED_CONFIG_LABEL]\n");
    if (!strcmp(verb, "checkpoint") || !strcmp(verb, "restore"))
        fprintf(out, "   --checkpoint-file value, -f value  Checkpoint file "
                     "[$MIG_PARTED_CHECKPOINT_FILE]\n");
    fprintf(out, "   --help, -h                         show help\n");
}

/* The verb's flags; returns -1 to go on, else an exit code. */
static int parse_verb(int argc, char **argv, const migparted_env *env, mp_args *a)
{
    enum { O_HELP = 'h' };
    static const struct option longs[] = {
        {"config-file", required_argument, NULL, 'f'},
        {"checkpoint-file", required_argument, NULL, 'f'},
        {"selected-config", required_argument, NULL, 'c'},
        {"hooks-file", required_argument, NULL, 'k'},
        {"skip-reset", optional_argument, NULL, 's'},
        {"mode-only", optional_argument, NULL, 'm'},
        {"valid-config", optional_argument, NULL, 'a'},
        {"output-format", required_argument, NULL, 'o'},
        {"config-label", required_argument, NULL, 'l'},
        {"debug", optional_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0}};
    /* Which flags each verb has (urfave/cli rejects the others). */
    const char *allowed = !strcmp(a->verb, "apply")    ? "fcksmdh"
                          : !strcmp(a->verb, "assert") ? "fcmadh"
                          : !strcmp(a->verb, "export") ? "oldh"
                                                       : "fdh";
    bool ckpt = !strcmp(a->verb, "checkpoint") || !strcmp(a->verb, "restore");
    a->config_file = ckpt ? env->checkpoint_file : env->config_file;
    a->selected_config = env->selected_config;
    a->hooks_file = env->hooks_file;
    a->output_format = env->output_format && *env->output_format ? env->output_format : "yaml";
    a->config_label = env->config_label && *env->config_label ? env->config_label : "current";
    a->lock_env = env->lock;
    if (!strcmp(a->verb, "apply") &&
        (env_bool("MIG_PARTED_SKIP_RESET", env->skip_reset, &a->skip_reset) ||
         env_bool("MIG_PARTED_MODE_CHANGE_ONLY", env->mode_only, &a->mode_only)))
        return 1;
    if (!strcmp(a->verb, "assert") &&
        (env_bool("MIG_PARTED_MODE_CHANGE_ONLY", env->mode_only, &a->mode_only) ||
         env_bool("MIG_PARTED_VALID_CONFIG", env->valid_config, &a->valid_config)))
        return 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:c:k:smao:l:dh", longs, NULL)) != -1) {
        if (c != ':' && c != '?' && !strchr(allowed, c))
            return fatal("flag provided but not defined: %s", argv[optind - 1]);
        bool *flag = c == 's' ? &a->skip_reset : c == 'm' ? &a->mode_only
                   : c == 'a' ? &a->valid_config : c == 'd' ? &a->debug : NULL;
        if (flag) {
            *flag = true;
            if (optarg && parse_bool(optarg, flag) < 0)
                return fatal("invalid boolean value \"%s\" for flag %s", optarg,
                             argv[optind - 1]);
            continue;
        }
        switch (c) {
        case 'f': a->config_file = value(optarg); break;
        case 'c': a->selected_config = value(optarg); break;
        case 'k': a->hooks_file = value(optarg); break;
        case 'o': a->output_format = value(optarg); break;
        case 'l': a->config_label = value(optarg); break;
        case 'h': usage_verb(a->verb, stdout); return 0;
        case ':': return fatal("flag needs an argument: %s", argv[optind - 1]);
        default: return fatal("flag provided but not defined: %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fatal("unexpected argument: %s", argv[optind]);
    if ((strchr(allowed, 'f')) && (!a->config_file || !*a->config_file))
        return fatal("Error validating flags: missing required flag '%s'",
                     ckpt ? "checkpoint-file" : "config-file");
    if (!strcmp(a->verb, "export") && strcmp(a->output_format, "yaml") &&
        strcmp(a->output_format, "json"))
        return fatal("Error validating flags: unrecognized 'output-format': %s",
                     a->output_format);
    return -1;
}

/* ------------------------------------------------------------ config */

/* Parse and select, with mig-parted's messages. */
static int load_config(const mp_args *a, cfg_file *f, const cfg_config **c)
{
    mig_error e;
    char buf[1600];
    mig_error_clear(&e);
    debugf(a, "Parsing config file %s", a->config_file);
    if (cfg_parse_file(a->config_file, f, &e) < 0)
        return fatal("Error parsing config file: %s", errtext(&e, buf, sizeof buf));
    debugf(a, "Selecting specific MIG config...");
    const char *name = a->selected_config && *a->selected_config ? a->selected_config : NULL;
    if (!name && f->n_configs > 1) {
        cfg_free(f);
        return fatal("Error selecting MIG config: missing required flag 'selected-config' when "
                     "more than one config available");
    }
    if (name) {
        bool present = false;
        for (unsigned i = 0; i < f->n_configs; i++)
            present = present || strcmp(f->configs[i].name, name) == 0;
        if (!present) {
            cfg_free(f);
            return fatal("Error selecting MIG config: selected mig-config not present: %s", name);
        }
    }
    *c = cfg_select(f, name, &e);
    if (!*c) {
        cfg_free(f);
        return fatal("Error selecting MIG config: %s", errtext(&e, buf, sizeof buf));
    }
    return 0;
}

/* Every GPU's desired state; an unknown profile or CI profile (mig-parted
 * does not check names) and overlapping selectors fail. *sel counts the
 * GPUs the config selects. */
static int resolve_all(const mp_args *a, const cfg_config *c, const mig_gpu_state *gpus,
                       unsigned n, mig_desired_gpu *d, unsigned *sel)
{
    mig_error e;
    char buf[1600];
    mig_error_clear(&e);
    *sel = 0;
    if (cfg_check_overlap(c, gpus, n, &e) < 0)
        return fatal("Error validating MIG config: %s: %s", a->config_file,
                     errtext(&e, buf, sizeof buf));
    for (unsigned i = 0; i < n; i++) {
        if (desired_from_config(c, &gpus[i], &d[i], &e) < 0) {
            reconcile_error_in_file(&e, a->config_file);
            return fatal("Error validating MIG config: %s", errtext(&e, buf, sizeof buf));
        }
        *sel += d[i].selected;
    }
    return 0;
}

static int read_states(const mp_args *a, mig_backend **b, mig_gpu_state **gpus, unsigned *n)
{
    mig_error e;
    char buf[1600];
    mig_error_clear(&e);
    if (cli_open_backend(a->g, b, &e) < 0)
        return fatal("Error initializing NVML: %s", errtext(&e, buf, sizeof buf));
    if (cli_read_states(*b, gpus, n, &e) < 0) {
        backend_close(*b);
        *b = NULL;
        return fatal("Error getting MIG state: %s", errtext(&e, buf, sizeof buf));
    }
    return 0;
}

/* ------------------------------------------------------------ assert */

/* --valid-config where no GPU answers (mig-parted checks the file alone):
 * every key must name a profile some model of the catalogue has. */
static int valid_offline(const mp_args *a, const cfg_config *c)
{
    unsigned nm;
    const mig_model *all = mig_catalogue(&nm);
    for (unsigned i = 0; i < c->n_entries; i++)
        for (unsigned k = 0; k < c->entries[i].n_devices; k++) {
            const cfg_mig_device *dv = &c->entries[i].devices[k];
            bool found = false;
            for (unsigned m = 0; m < nm && !found; m++) {
                const mig_gi_profile *gi;
                mig_ci_profile ci;
                mig_error e;
                found = mig_profile_resolve(&all[m], &dv->name, &gi, &ci, &e) == 0;
            }
            if (!found)
                return fatal("Error validating MIG config: %s:%u:%u: '%s' is a profile of no GPU "
                             "model", a->config_file, dv->line, dv->col, dv->key);
        }
    printf("Selected MIG configuration is valid\n");
    return 0;
}

static int do_assert(const mp_args *a)
{
    cfg_file f;
    const cfg_config *c;
    if (load_config(a, &f, &c))
        return 1;
    mig_backend *b = NULL;
    mig_gpu_state *gpus = NULL;
    unsigned n = 0, sel = 0;
    if (a->valid_config) {
        /* no GPU to check against (no driver, no simulator): the file alone */
        mig_error e;
        if (cli_open_backend(a->g, &b, &e) < 0) {
            int rc = valid_offline(a, c);
            cfg_free(&f);
            return rc;
        }
        backend_close(b);
        b = NULL;
    }
    int rc = read_states(a, &b, &gpus, &n);
    mig_desired_gpu *d = rc ? NULL : calloc(n ? n : 1, sizeof *d);
    if (!rc && !d)
        rc = fatal("out of memory");
    if (!rc)
        rc = resolve_all(a, c, gpus, n, d, &sel);
    if (!rc && a->valid_config) {
        /* migctl also checks that the layouts can exist on the models. */
        for (unsigned i = 0; i < n && !rc; i++)
            if (d[i].selected && d[i].impossible)
                rc = fatal("Error validating MIG config: GPU %u: %s", i, d[i].reason);
        if (!rc)
            printf("Selected MIG configuration is valid\n");
    } else if (!rc) {
        debugf(a, "Asserting MIG mode configuration...");
        bool ok = sel > 0;
        for (unsigned i = 0; i < n && ok; i++) {
            if (!d[i].selected)
                continue;
            char drift[512] = "";
            bool mode_ok = gpus[i].mig_current == d[i].mig_enabled &&
                           gpus[i].mig_pending == d[i].mig_enabled;
            ok = a->mode_only ? mode_ok
                              : desired_satisfied(&gpus[i], &d[i], false, drift, sizeof drift);
            if (!ok)
                debugf(a, "GPU %u: %s", i, mode_ok ? drift : "MIG mode differs");
        }
        if (!ok)
            rc = fatal("Assertion failure: selected configuration not currently applied");
        else if (a->mode_only)
            printf("Selected MIG mode settings from configuration currently applied\n");
    }
    free(d);
    free(gpus);
    if (b)
        backend_close(b);
    cfg_free(&f);
    return rc;
}

/* ------------------------------------------------------------ apply */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

static void on_lock_wait(const char *path, long holder, void *ctx)
{
    const mp_args *a = ctx;
    debugf(a, "waiting for the lock %s (held by pid %ld)", path, holder);
}

/* --mode-only: the config's MIG modes, every instance as it is. A config
 * of the GPUs as they are (placements pinned), with the modes replaced:
 * the engine then changes modes only (and resets on Ampere). */
static int mode_only_config(const mig_gpu_state *gpus, unsigned n, const mig_desired_gpu *d,
                            cfg_file *out, mig_error *e)
{
    if (cfg_from_states(gpus, n, true, "mode-only", out, e) < 0)
        return -1;
    /* cfg_from_states groups GPUs with one layout into one entry; split
     * them so each GPU gets its own mode: one entry per GPU, by index. */
    cfg_config *c = &out->configs[0];
    cfg_entry *per = calloc(n ? n : 1, sizeof *per);
    if (!per)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!gpus[i].model)
            continue; /* not MIG capable: no mode to set */
        const cfg_entry *src = cfg_entry_for_gpu(c, &gpus[i]);
        cfg_entry *en = &per[k++];
        en->has_devices = true;
        en->n_indices = 1;
        en->indices = malloc(sizeof *en->indices);
        if (!en->indices)
            goto oom;
        en->indices[0] = gpus[i].index;
        en->mig_enabled = d[i].selected ? d[i].mig_enabled : gpus[i].mig_pending;
        if (src && en->mig_enabled && src->mig_enabled && src->n_devices) {
            en->devices = malloc(src->n_devices * sizeof *en->devices);
            if (!en->devices)
                goto oom;
            memcpy(en->devices, src->devices, src->n_devices * sizeof *en->devices);
            en->n_devices = src->n_devices;
        }
    }
    for (unsigned i = 0; i < c->n_entries; i++)
        cfg_entry_free(&c->entries[i]);
    free(c->entries);
    c->entries = per;
    c->n_entries = k;
    return 0;
oom:
    for (unsigned i = 0; i < k; i++)
        cfg_entry_free(&per[i]);
    free(per);
    return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
}

static int do_apply(const mp_args *a)
{
    cfg_file f, mf = {0};
    const cfg_config *c;
    if (load_config(a, &f, &c))
        return 1;
    hooks_file hooks;
    bool have_hooks = false;
    mig_error e;
    char buf[1600];
    mig_error_clear(&e);
    int rc = 0;
    if (a->hooks_file && *a->hooks_file) {
        debugf(a, "Parsing hooks file %s", a->hooks_file);
        if (hooks_parse_file(a->hooks_file, &hooks, &e) < 0)
            rc = fatal("Error parsing hooks file: %s", errtext(&e, buf, sizeof buf));
        else
            have_hooks = true;
    }
    const char *sim_state = sim_default_path(a->g->sim_path);
    char journal_path[4096];
    journal_default_path(NULL, sim_state, journal_path, sizeof journal_path);
    lock_options lo = {.env_path = a->lock_env, .sim_state = sim_state, .wait = true,
                       .on_wait = on_lock_wait, .ctx = (void *)a};
    int lock_fd = -1;
    if (!rc && lock_acquire(&lo, &lock_fd, &e) < 0)
        rc = fatal("Error applying MIG configuration: %s", errtext(&e, buf, sizeof buf));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    mig_backend *b = NULL;
    mig_gpu_state *gpus = NULL;
    unsigned n = 0, sel = 0;
    mig_desired_gpu *d = NULL;
    if (!rc)
        rc = read_states(a, &b, &gpus, &n);
    if (!rc && !(d = calloc(n ? n : 1, sizeof *d)))
        rc = fatal("out of memory");
    if (!rc)
        rc = resolve_all(a, c, gpus, n, d, &sel);
    const cfg_config *target = c;
    if (!rc && a->mode_only) {
        if (mode_only_config(gpus, n, d, &mf, &e) < 0)
            rc = fatal("Error applying MIG mode: %s", errtext(&e, buf, sizeof buf));
        else
            target = &mf.configs[0];
    }
    if (!rc) {
        apply_options o = {
            .config_file = a->config_file,
            .config_name = c->name,
            .hooks_path = have_hooks ? a->hooks_file : NULL,
            .hooks = have_hooks ? &hooks : NULL,
            .journal_path = journal_path,
            .reset = !a->skip_reset,
            .on_progress = a->debug ? render_apply_progress : NULL,
            .progress_ctx = stderr,
            .cancel = &interrupted,
        };
        apply_session s;
        memset(&s, 0, sizeof s);
        apply_report *r = calloc(1, sizeof *r);
        if (!r) {
            rc = fatal("out of memory");
        } else if (apply_prepare(b, target, &o, &s, &e) < 0) {
            reconcile_error_in_file(&e, a->config_file);
            rc = fatal("Error applying MIG configuration: %s", errtext(&e, buf, sizeof buf));
        } else {
            if (a->debug) {
                fprintf(stderr, "Plan for config '%s': %u operations\n", c->name, s.plan.n_ops);
                render_plan(stderr, &s.plan, s.before, s.n_gpus, false);
            }
            apply_execute(b, &s, &o, r);
            if (r->result == APPLY_APPLIED || r->result == APPLY_UNCHANGED)
                printf("MIG configuration applied successfully\n"); /* -m too, as mig-parted */
            else
                rc = fatal("Error applying MIG configuration with hooks: %s",
                           errtext(&r->error, buf, sizeof buf));
        }
        apply_session_free(&s);
        free(r);
    }
    free(d);
    free(gpus);
    if (b)
        backend_close(b);
    lock_release(lock_fd);
    if (have_hooks)
        hooks_free(&hooks);
    if (mf.n_configs)
        cfg_free(&mf);
    cfg_free(&f);
    return rc;
}

/* ------------------------------------------------------------ export */

static int do_export(const mp_args *a)
{
    mig_backend *b = NULL;
    mig_gpu_state *gpus = NULL;
    unsigned n = 0;
    if (read_states(a, &b, &gpus, &n))
        return 1;
    cfg_file f = {0};
    mig_error e;
    char buf[1600];
    mig_error_clear(&e);
    int rc = 0;
    if (cfg_from_states(gpus, n, false, a->config_label, &f, &e) < 0 ||
        cfg_write(NULL, &f, strcmp(a->output_format, "json") == 0, &e) < 0)
        rc = fatal("Error exporting MIG config: %s", errtext(&e, buf, sizeof buf));
    cfg_free(&f);
    free(gpus);
    backend_close(b);
    return rc;
}

/* ------------------------------------------------------------ checkpoint */

/* mig-parted's checkpoint: {"Version":"v1","MigState":{"Devices":[{"UUID",
 * "MigMode","GpuInstances":[{"ProfileID","Placement":{"Start","Size"},
 * "ComputeInstances":[{"ProfileID","EngProfileID"}]}]}]}}, ProfileID being
 * NVML's profile index (a CI profile id is its index). */
static int do_checkpoint(const mp_args *a)
{
    mig_backend *b = NULL;
    mig_gpu_state *gpus = NULL;
    unsigned n = 0;
    if (read_states(a, &b, &gpus, &n))
        return 1;
    json_t *devs = json_array();
    for (unsigned i = 0; i < n; i++) {
        const mig_gpu_state *g = &gpus[i];
        if (!g->model)
            continue;
        json_t *gis = json_array();
        for (unsigned k = 0; g->mig_current && k < g->n_gi; k++) {
            const mig_gi_state *gi = &g->gi[k];
            const mig_gi_profile *p = mig_profile_by_id(g->model, gi->profile_id);
            json_t *cis = json_array();
            for (unsigned j = 0; j < gi->n_ci; j++)
                json_array_append_new(cis, json_pack("{s:i,s:i}", "ProfileID",
                                                     (int)gi->ci[j].profile_id, "EngProfileID", 0));
            json_array_append_new(
                gis, json_pack("{s:i,s:{s:i,s:i},s:o}", "ProfileID", p ? (int)p->index : -1,
                               "Placement", "Start", (int)gi->start, "Size", (int)gi->size,
                               "ComputeInstances", cis));
        }
        json_array_append_new(devs, json_pack("{s:s,s:i,s:o}", "UUID", g->uuid, "MigMode",
                                              g->mig_pending ? 1 : 0, "GpuInstances", gis));
    }
    json_t *root = json_pack("{s:s,s:{s:o}}", "Version", "v1", "MigState", "Devices", devs);
    char *text = json_dumps(root, JSON_PRESERVE_ORDER);
    json_decref(root);
    mig_error e;
    char buf[1600];
    mig_error_clear(&e);
    int rc = 0;
    if (!text || fileio_write_atomic(a->config_file, text, strlen(text), 0644, &e) < 0)
        rc = fatal("Error writing checkpoint file: %s",
                   text ? errtext(&e, buf, sizeof buf) : "out of memory");
    free(text);
    free(gpus);
    backend_close(b);
    return rc;
}

static int json_uint(json_t *o, const char *key, unsigned *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
        return -1;
    *out = (unsigned)json_integer_value(v);
    return 0;
}

/* One checkpoint device into the state apply_restore_gpu restores. */
static int checkpoint_gpu(json_t *dev, const mig_gpu_state *now, mig_gpu_state *want,
                          mig_error *e)
{
    const mig_model *m = now->model;
    unsigned mode;
    json_t *gis = json_object_get(dev, "GpuInstances");
    if (json_uint(dev, "MigMode", &mode) < 0 || mode > 1 || (gis && !json_is_array(gis)))
        return mig_fail(e, MIG_ERR_INPUT, "device %s: bad MigMode or GpuInstances", now->uuid);
    *want = *now;
    want->mig_current = want->mig_pending = mode == 1;
    want->n_gi = 0;
    size_t k;
    json_t *gi;
    json_array_foreach(gis, k, gi) {
        unsigned idx, start, size;
        json_t *pl = json_object_get(gi, "Placement");
        json_t *cis = json_object_get(gi, "ComputeInstances");
        if (want->n_gi == MIG_MAX_GI || json_uint(gi, "ProfileID", &idx) < 0 ||
            json_uint(pl, "Start", &start) < 0 || json_uint(pl, "Size", &size) < 0 ||
            (cis && !json_is_array(cis)))
            return mig_fail(e, MIG_ERR_INPUT, "device %s: GPU instance %zu is malformed",
                            now->uuid, k);
        const mig_gi_profile *p = mig_profile_by_index(m, idx);
        if (!p)
            return mig_fail(e, MIG_ERR_INPUT, "device %s: %s has no GPU instance profile index %u",
                            now->uuid, m->name, idx);
        mig_gi_state *g = &want->gi[want->n_gi++];
        memset(g, 0, sizeof *g);
        g->id = want->n_gi;
        g->profile_id = p->id;
        g->start = start;
        g->size = size;
        mig_desired_ci dci[MIG_MAX_CI];
        size_t j;
        json_t *ci;
        json_array_foreach(cis, j, ci) {
            unsigned cid;
            mig_ci_profile cp;
            if (g->n_ci == MIG_MAX_CI || json_uint(ci, "ProfileID", &cid) < 0 ||
                !mig_ci_profile_by_id(m, p, cid, &cp))
                return mig_fail(e, MIG_ERR_INPUT,
                                "device %s: compute instance %zu of GPU instance %zu is malformed",
                                now->uuid, j, k);
            dci[g->n_ci] = (mig_desired_ci){cp.id, cp.compute_slices};
            g->ci[g->n_ci] = (mig_ci_state){.id = g->n_ci, .profile_id = cp.id,
                                            .slices = cp.compute_slices};
            g->n_ci++;
        }
        unsigned char st[MIG_MAX_CI];
        if (!reconcile_place_cis(m, p, 0, dci, g->n_ci, st))
            return mig_fail(e, MIG_ERR_INPUT, "device %s: the compute instances of GPU instance "
                            "%zu do not fit in it", now->uuid, k);
        for (unsigned c = 0; c < g->n_ci; c++)
            g->ci[c].start = st[c];
    }
    return 0;
}

static int do_restore(const mp_args *a)
{
    mig_error e;
    char buf[1600];
    mig_error_clear(&e);
    char *text = NULL;
    size_t len = 0;
    if (fileio_read(a->config_file, "checkpoint file", CHECKPOINT_MAX, &text, &len, &e) < 0)
        return fatal("Error reading checkpoint file: %s", errtext(&e, buf, sizeof buf));
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    free(text);
    json_t *devs = json_object_get(json_object_get(root, "MigState"), "Devices");
    if (!root || !json_is_array(devs) ||
        !json_is_string(json_object_get(root, "Version")) ||
        strcmp(json_string_value(json_object_get(root, "Version")), "v1")) {
        json_decref(root);
        return fatal("Error parsing checkpoint file: %s", root ? "not a v1 checkpoint" : je.text);
    }
    mig_backend *b = NULL;
    mig_gpu_state *gpus = NULL;
    unsigned n = 0;
    int rc = read_states(a, &b, &gpus, &n);
    mig_gpu_state *want = rc ? NULL : malloc(sizeof *want);
    if (!rc && !want)
        rc = fatal("out of memory");
    size_t k;
    json_t *dev;
    json_array_foreach(devs, k, dev) {
        if (rc)
            break;
        const char *uuid = json_string_value(json_object_get(dev, "UUID"));
        const mig_gpu_state *now = NULL;
        for (unsigned i = 0; uuid && i < n; i++)
            if (strcmp(gpus[i].uuid, uuid) == 0)
                now = &gpus[i];
        if (!now || !now->model) {
            rc = fatal("Error restoring MIG state: no MIG-capable GPU with UUID %s",
                       uuid ? uuid : "(none)");
            break;
        }
        if (checkpoint_gpu(dev, now, want, &e) < 0 ||
            apply_restore_gpu(b, want, true, a->debug ? render_apply_progress : NULL, stderr, &e) < 0)
            rc = fatal("Error restoring MIG state: GPU %u: %s", now->index,
                       errtext(&e, buf, sizeof buf));
    }
    if (!rc)
        printf("MIG state restored successfully\n");
    free(want);
    free(gpus);
    if (b)
        backend_close(b);
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------ main */

int migparted_main(int argc, char **argv, const migparted_env *env, cli_globals *g)
{
    mp_args a = {.g = g};
    if (env_bool("MIG_PARTED_DEBUG", env->debug, &a.debug))
        return 1;
    /* Global flags stand before the verb. */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-d") || !strcmp(s, "--debug")) {
            a.debug = true;
        } else if (!strncmp(s, "--debug=", 8)) {
            if (parse_bool(s + 8, &a.debug) < 0)
                return fatal("invalid boolean value \"%s\" for flag --debug", s + 8);
        } else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage_global(stdout);
            return 0;
        } else if (!strcmp(s, "-v") || !strcmp(s, "--version")) {
            printf(PROG " version %s (migctl %s)\n", MIGPARTED_VERSION, MIGCTL_DROPIN_VERSION);
            return 0;
        } else {
            return fatal("flag provided but not defined: %s", s);
        }
    }
    if (i >= argc) {
        usage_global(stdout);
        return 0;
    }
    a.verb = argv[i];
    if (!strcmp(a.verb, "help") || !strcmp(a.verb, "h")) {
        if (i + 1 < argc)
            usage_verb(argv[i + 1], stdout);
        else
            usage_global(stdout);
        return 0;
    }
    static const char *verbs[] = {"apply", "assert", "export", "checkpoint", "restore"};
    bool known = false;
    for (unsigned k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
        known = known || !strcmp(a.verb, verbs[k]);
    if (!known)
        return fatal("No help topic for '%s'", a.verb);
    int rc = parse_verb(argc - i, argv + i, env, &a);
    if (rc >= 0)
        return rc;
    if (!strcmp(a.verb, "apply"))
        return do_apply(&a);
    if (!strcmp(a.verb, "assert"))
        return do_assert(&a);
    if (!strcmp(a.verb, "export"))
        return do_export(&a);
    if (!strcmp(a.verb, "checkpoint"))
        return do_checkpoint(&a);
    return do_restore(&a);
}
