/*
 * cmd_apply.c: `migctl apply`, make the GPUs match a mig-parted v1 config
 * with the fewest operations, transactionally. The verb parses flags, reads
 * the config and hooks files, takes the apply lock, opens the backend once,
 * prints the plan and the outcome; apply/apply.c does the work (plan,
 * journal, execute, verify, roll back, hooks).
 */
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "apply/apply.h"
#include "apply/lock.h"
#include "cli/render.h"

static void apply_usage(FILE *out)
{
    fprintf(out,
            "usage: migctl apply -f FILE [-c NAME] [--dry-run] [--force] [--reset]\n"
            "                    [--hooks FILE] [--hook-timeout SEC] [--journal FILE]\n"
            "                    [--lock FILE] [--no-wait] [--discard-journal] [--json]\n\n"
            "Make the GPUs match a mig-parted v1 config with the fewest operations: keep every\n"
            "instance that can stay, destroy only what must go, create the rest at planned\n"
            "placements. Prints the plan, then executes it. Transactional: a journal is written\n"
            "before the first operation, the result is verified after the last, and on any failure\n"
            "the previous layout is restored. An apply that was killed is finished by the next one.\n\n"
            "  -f, --config-file FILE  the config ('-' reads standard input)\n"
            "  -c, --selected-config NAME\n"
            "                          which named config (optional when the file has one)\n"
            "      --dry-run           print the plan and stop; nothing is changed, no hook runs\n"
            "      --force             allow destroying busy instances (with processes)\n"
            "      --reset             reset the GPUs whose MIG mode change is pending (Ampere),\n"
            "                          and only those\n"
            "  -k, --hooks FILE        mig-parted hooks file (apply-start, pre-apply-mode,\n"
            "                          pre-apply-config, apply-exit)\n"
            "      --hook-timeout SEC  per hook command (default %d); the process group is killed\n"
            "      --journal FILE      journal path (default %s, or <state file>.journal\n"
            "                          for a simulated node)\n"
            "      --lock FILE         lock file (default $MIGCTL_LOCK, else <state file>.apply.lock\n"
            "                          for a simulated node, else %s); its directory\n"
            "                          must be yours and writable by no one else\n"
            "      --no-wait           fail at once (exit 1) when another apply holds the lock\n"
            "      --discard-journal   a journal that cannot be read (damaged) is moved aside\n"
            "                          to <journal>.discarded instead of stopping the apply\n"
            "      --json              print the result as JSON (progress goes to stderr)\n"
            "  -h, --help              this help\n\n"
            "SIGTERM/SIGINT stop it after the operation under way and roll back.\n"
            "A closed standard output (migctl apply | head) does not stop it.\n"
            "Exit: 0 applied or unchanged, 1 refused (busy or impossible) or a mode change\n"
            "pending a reset, 2 bad input, 3 an operation or hook failed (rolled back).\n",
            HOOK_DEFAULT_TIMEOUT_S, MIG_JOURNAL_DEFAULT_PATH, MIG_LOCK_DEFAULT_PATH);
}

typedef struct {
    const char *config_file, *config_name, *hooks_path, *journal, *lock;
    unsigned hook_timeout_s;
    bool dry_run, force, reset, json, no_wait, discard_journal;
} apply_args;

static int parse_args(int argc, char **argv, apply_args *a, int *code)
{
    enum {
        O_DRY = 256,
        O_FORCE,
        O_RESET,
        O_TIMEOUT,
        O_JOURNAL,
        O_LOCK,
        O_NOWAIT,
        O_JSON,
        O_DISCARD
    };
    static const struct option longs[] = {
        {"config-file", required_argument, NULL, 'f'},
        {"selected-config", required_argument, NULL, 'c'},
        {"hooks", required_argument, NULL, 'k'},
        {"hooks-file", required_argument, NULL, 'k'},
        {"dry-run", no_argument, NULL, O_DRY},
        {"force", no_argument, NULL, O_FORCE},
        {"reset", no_argument, NULL, O_RESET},
        {"hook-timeout", required_argument, NULL, O_TIMEOUT},
        {"journal", required_argument, NULL, O_JOURNAL},
        {"lock", required_argument, NULL, O_LOCK},
        {"no-wait", no_argument, NULL, O_NOWAIT},
        {"discard-journal", no_argument, NULL, O_DISCARD},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0}};
    a->hook_timeout_s = HOOK_DEFAULT_TIMEOUT_S;
    cli_getopt_reset();
    int c;
    while ((c = getopt_long(argc, argv, ":f:c:k:h", longs, NULL)) != -1) {
        switch (c) {
        case 'f': a->config_file = optarg; break;
        case 'c': a->config_name = optarg; break;
        case 'k': a->hooks_path = optarg; break;
        case O_DRY: a->dry_run = true; break;
        case O_FORCE: a->force = true; break;
        case O_RESET: a->reset = true; break;
        case O_JOURNAL: a->journal = optarg; break;
        case O_LOCK: a->lock = optarg; break;
        case O_NOWAIT: a->no_wait = true; break;
        case O_DISCARD: a->discard_journal = true; break;
        case O_JSON: a->json = true; break;
        case O_TIMEOUT:
            if (!cli_parse_uint(optarg, &a->hook_timeout_s) || a->hook_timeout_s == 0 ||
                a->hook_timeout_s > 86400)
                return cli_stop(code, cli_usage_error("apply", "--hook-timeout needs seconds (1-86400), not '%s'",
                                       optarg));
            break;
        case 'h': apply_usage(stdout); return cli_stop(code, 0);
        default: return cli_stop(code, cli_option_error("apply", c, argv));
        }
    }
    if (optind < argc)
        return cli_stop(code, cli_usage_error("apply", "unexpected argument '%s'", argv[optind]));
    if (!a->config_file)
        return cli_stop(code, cli_usage_error("apply", "a config file is required (-f FILE)"));
    return 0;
}

/* ------------------------------------------------------------ printing */

static void print_plan(FILE *out, const apply_session *s, const char *config_name, bool color)
{
    fprintf(out, "Plan for config '%s': %u operation%s\n", config_name, s->plan.n_ops,
            s->plan.n_ops == 1 ? "" : "s");
    render_plan(out, &s->plan, s->before, s->n_gpus, color);
}

static void print_outcome(FILE *out, const apply_session *s, const apply_report *r)
{
    switch (r->result) {
    case APPLY_APPLIED:
        fprintf(out, "MIG configuration applied: %u operation%s, verified\n", r->n_done,
                r->n_done == 1 ? "" : "s");
        break;
    case APPLY_UNCHANGED:
        fprintf(out, "MIG configuration already applied: nothing to do\n");
        break;
    case APPLY_DRY_RUN:
        fprintf(out, "dry run: %u operation%s planned; nothing changed\n", s->plan.n_ops,
                s->plan.n_ops == 1 ? "" : "s");
        break;
    case APPLY_PENDING_RESET:
        fprintf(out, "applied, except GPUs whose MIG mode change awaits a reset (rerun with --reset)\n");
        break;
    case APPLY_REFUSED:
    case APPLY_FAILED:
        break;
    }
}

/* Set by SIGTERM/SIGINT/SIGHUP once the lock is held: the engine starts no
 * further operation and rolls back (systemd's stop and start timeout send
 * SIGTERM first). */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

/* A reader that goes away (migctl apply | head) is no request to stop: with
 * SIGPIPE's default action the apply would die between two operations and
 * leave a journal for the next run. A handler that does nothing (not SIG_IGN,
 * which hooks would inherit across exec) turns it into EPIPE on the write,
 * which the apply can ignore and carry on. */
static void on_sigpipe(int sig)
{
    (void)sig;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);
}

static void on_lock_wait(const char *path, long holder, void *ctx)
{
    (void)ctx;
    if (holder)
        fprintf(stderr, "migctl: apply: waiting for the lock %s (held by pid %ld)...\n", path,
                holder);
    else
        fprintf(stderr, "migctl: apply: waiting for the lock %s...\n", path);
}

static void print_stale(const apply_session *s)
{
    const mig_journal *j = s->stale;
    if (strcmp(j->phase, "restore-failed") == 0) {
        fprintf(stderr,
                "migctl: apply: a previous apply (pid %ld, config '%s' from %s) failed and could "
                "not restore the previous layout; converging from the real state\n",
                j->pid, j->config_name, j->config_file);
        return;
    }
    fprintf(stderr,
            "migctl: apply: a previous apply (pid %ld, config '%s' from %s) was interrupted%s "
            "with %u of %u operations recorded done; converging from the real state\n",
            j->pid, j->config_name, j->config_file,
            strcmp(j->phase, "rollback") == 0 ? " while rolling back" : "", j->done, j->n_ops);
}

/* ------------------------------------------------------------ paths */

/* a and b name the same file: the same inode when both exist, else the same
 * path once the directory part is resolved (the journal may not exist yet). */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ra[PATH_MAX], rb[PATH_MAX], da[PATH_MAX], db[PATH_MAX];
    snprintf(da, sizeof da, "%s", a);
    snprintf(db, sizeof db, "%s", b);
    if (!realpath(dirname(da), ra) || !realpath(dirname(db), rb))
        return strcmp(a, b) == 0;
    snprintf(da, sizeof da, "%s", a);
    snprintf(db, sizeof db, "%s", b);
    return strcmp(ra, rb) == 0 && strcmp(basename(da), basename(db)) == 0;
}

/* The journal is replaced by rename at every step: pointed at the lock, the
 * config or the simulator's files it would replace them (and a lock replaced
 * locks nothing). Refused as bad input before anything is taken. */
static int apply_check_paths(const lock_options *lo, const char *config_file,
                             const char *journal, mig_error *e)
{
    char lock[4096], sim_lock[4096];
    lock_path(lo, lock, sizeof lock);
    const char *names[4] = {"the lock", "the config file", "the simulator state file",
                            "the simulator's lock"};
    const char *paths[4] = {lock, config_file && strcmp(config_file, "-") ? config_file : NULL,
                            lo->sim_state, NULL};
    if (lo->sim_state) {
        snprintf(sim_lock, sizeof sim_lock, "%s.lock", lo->sim_state);
        paths[3] = sim_lock;
    }
    for (int i = 0; i < 4; i++)
        if (paths[i] && same_file(journal, paths[i]))
            return mig_fail(e, MIG_ERR_INPUT, "the journal %s is %s; give --journal another file",
                            journal, names[i]);
    if (lo->sim_state && same_file(lock, lo->sim_state))
        return mig_fail(e, MIG_ERR_INPUT,
                        "the lock %s is the simulator state file; give --lock another file", lock);
    return 0;
}

/* ------------------------------------------------------------ the verb */

typedef struct {
    cfg_file cfg;
    hooks_file hooks;
    bool have_cfg, have_hooks;
    int lock_fd;
    mig_backend *b;
    apply_session s;
    bool have_session;
} apply_resources;

static void release(apply_resources *res)
{
    if (res->have_session)
        apply_session_free(&res->s);
    backend_close(res->b);
    lock_release(res->lock_fd);
    if (res->have_hooks)
        hooks_free(&res->hooks);
    if (res->have_cfg)
        cfg_free(&res->cfg);
}

static int finish(const apply_args *a, const apply_session *s, const apply_report *r)
{
    if (a->json) {
        json_t *doc = apply_report_json(s, r);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        print_outcome(stdout, s, r);
    }
    if (r->result == APPLY_REFUSED || r->result == APPLY_PENDING_RESET ||
        r->result == APPLY_FAILED)
        cli_report("apply", &r->error);
    return apply_exit_code(r);
}

/* An error before the plan could run: one line on stderr and, with --json,
 * a document on stdout all the same, so scripts always get one. */
static int early_failure(const apply_args *a, const mig_error *e)
{
    if (a->json) {
        apply_report *r = calloc(1, sizeof *r);
        if (r) {
            r->result = e->kind == MIG_ERR_REFUSED ? APPLY_REFUSED : APPLY_FAILED;
            r->error = *e;
            json_t *doc = apply_report_json(NULL, r);
            json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
            json_decref(doc);
            free(r);
        }
    }
    return cli_report("apply", e);
}

static int run(const apply_args *a, cli_globals *g, apply_resources *res)
{
    mig_error e;
    mig_error_clear(&e);
    if (cfg_parse_file(a->config_file, &res->cfg, &e) < 0)
        return early_failure(a, &e);
    res->have_cfg = true;
    const cfg_config *c = cfg_select(&res->cfg, a->config_name, &e);
    if (!c)
        return early_failure(a, &e);
    if (a->hooks_path) {
        if (hooks_parse_file(a->hooks_path, &res->hooks, &e) < 0)
            return early_failure(a, &e);
        res->have_hooks = true;
    }
    const char *sim_state = sim_default_path(g->sim_path);
    char journal_path[4096];
    journal_default_path(a->journal, sim_state, journal_path, sizeof journal_path);
    lock_options lo = {
        .path = a->lock,
        .env_path = g->lock_env,
        .sim_state = sim_state,
        .wait = !a->no_wait,
        .on_wait = on_lock_wait,
    };
    if (apply_check_paths(&lo, a->config_file, journal_path, &e) < 0 ||
        lock_acquire(&lo, &res->lock_fd, &e) < 0)
        return early_failure(a, &e);
    catch_signals();
    if (cli_open_backend(g, &res->b, &e) < 0)
        return early_failure(a, &e);
    cli_warn_unmatched("apply", res->cfg.path ? res->cfg.path : a->config_file, c, res->b);

    apply_options o = {
        .config_file = a->config_file,
        .config_name = c->name,
        .hooks_path = a->hooks_path,
        .hooks = res->have_hooks ? &res->hooks : NULL,
        .hook_timeout_ms = a->hook_timeout_s * 1000u,
        .hook_stdout_to_stderr = a->json,
        .journal_path = journal_path,
        .discard_journal = a->discard_journal,
        .dry_run = a->dry_run,
        .force = a->force,
        .reset = a->reset,
        .on_progress = render_apply_progress,
        .progress_ctx = a->json ? stderr : stdout,
        .cancel = &interrupted,
    };
    res->have_session = true;
    if (apply_prepare(res->b, c, &o, &res->s, &e) < 0) {
        /* An error with a line in the config (a key the model does not
         * have) is a place in the config file: name the file. Other input
         * errors (a journal in the way) are not about the file. */
        if (e.kind == MIG_ERR_INPUT && e.line && !e.file[0])
            reconcile_error_in_file(&e, res->cfg.path ? res->cfg.path : a->config_file);
        return early_failure(a, &e);
    }
    if (res->s.journal_discarded[0])
        fprintf(stderr, "migctl: apply: %s\n", res->s.journal_discarded);
    if (res->s.stale_journal)
        print_stale(&res->s);
    print_plan(a->json ? stderr : stdout, &res->s, c->name, g->color && !a->json);
    apply_report *r = calloc(1, sizeof *r);
    if (!r)
        return early_failure(a, (mig_fail(&e, MIG_ERR_SYSTEM, "out of memory"), &e));
    apply_execute(res->b, &res->s, &o, r);
    int code = finish(a, &res->s, r);
    free(r);
    return code;
}

int cmd_apply(int argc, char **argv, cli_globals *g)
{
    apply_args a = {0};
    int rc;
    if (parse_args(argc, argv, &a, &rc) < 0)
        return rc;
    apply_resources res = {.lock_fd = -1};
    rc = run(&a, g, &res);
    release(&res);
    return rc;
}
