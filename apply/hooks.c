/*
 * hooks.c: parse mig-parted's hooks file (config/yamldoc.h, the YAML layer
 * every reader shares: bounded, strict, positions in mig_error's fields) and run hook commands with fork/exec under a
 * timeout (see hooks.h).
 *
 * Running a command: the child puts itself in its own process group (so a
 * timeout can kill everything it started), sets the environment, changes to
 * the workdir and execs. An exec failure is reported back to the parent
 * through a close-on-exec pipe (errno), so "command not found" is told apart
 * from a command that ran and exited 127. The parent polls waitpid with a
 * short sleep until the deadline: hooks are few and brief, and this needs
 * no signal handler that could disturb the rest of migctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "apply/hooks.h"
#include "config/yamldoc.h"

static const char *const point_names[HOOK_N_POINTS] = {
    "apply-start", "pre-apply-mode", "pre-apply-config", "apply-exit"};

const char *hook_point_name(hook_point p)
{
    return (unsigned)p < HOOK_N_POINTS ? point_names[p] : "?";
}

/* ------------------------------------------------------------ parsing */

/* Hooks, args and envs are a handful each; the caps keep a hostile file's
 * duplicate-key checks and allocations small. */
#define HOOK_MAX_COMMANDS 256
#define HOOK_MAX_ARGS 4096
#define HOOK_MAX_ENVS 256

static int parse_args(yd_doc *x, yaml_node_t *n, hook_command *c)
{
    if (yd_want_list(x, n, "args", "a list of strings") < 0)
        return -1;
    size_t count = yd_list_size(n);
    if (count > HOOK_MAX_ARGS)
        return yd_fail(x, n, "args has %zu items; expected at most %d", count, HOOK_MAX_ARGS);
    c->args = calloc(count + 1, sizeof *c->args);
    if (!c->args)
        return yd_nomem(x);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yd_node(x, n->data.sequence.items.start[i]);
        if (yd_text_dup(x, item, "an argument", &c->args[i]) < 0)
            return -1;
        c->n_args++;
    }
    return 0;
}

static int parse_envs(yd_doc *x, yaml_node_t *n, hook_command *c)
{
    if (yd_want_map(x, n, "envs", "a map of NAME: value") < 0 ||
        yd_map_cap(x, n, "envs", HOOK_MAX_ENVS) < 0)
        return -1;
    size_t count = yd_map_size(n);
    c->envs = calloc(count + 1, sizeof *c->envs);
    if (!c->envs)
        return yd_nomem(x);
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        const char *name;
        if (yd_key(x, p, n, "envs", &name) < 0)
            return -1;
        if (!*name || strchr(name, '='))
            return yd_fail(x, yd_node(x, p->key), "envs name '%.60s' is not a variable name; "
                                                  "expected a name without '='", name);
        hook_env *env = &c->envs[c->n_envs];
        if (yd_text_dup(x, yd_node(x, p->key), "an envs name", &env->name) < 0)
            return -1;
        c->n_envs++;
        if (yd_text_dup(x, yd_node(x, p->value), "an envs value", &env->value) < 0)
            return -1;
    }
    return 0;
}

static int parse_command(yd_doc *x, yaml_node_t *n, hook_command *c)
{
    c->line = yd_line(n);
    c->col = yd_col(n);
    if (yd_want_map(x, n, "a hook", "a map with command, args, envs, workdir") < 0)
        return -1;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *v = yd_node(x, p->value);
        const char *key;
        if (yd_key(x, p, n, "a hook", &key) < 0)
            return -1;
        int rc = 0;
        if (strcmp(key, "command") == 0)
            rc = yd_text_dup(x, v, "command", &c->command);
        else if (strcmp(key, "workdir") == 0)
            rc = yd_text_dup(x, v, "workdir", &c->workdir);
        else if (strcmp(key, "args") == 0)
            rc = parse_args(x, v, c);
        else if (strcmp(key, "envs") == 0)
            rc = parse_envs(x, v, c);
        else
            return yd_fail(x, yd_node(x, p->key), "unknown key '%.60s' in a hook; expected "
                                                  "command, args, envs or workdir", key);
        if (rc < 0)
            return -1;
    }
    if (!c->command || !*c->command)
        return yd_fail(x, n, "a hook has no command; expected a non-empty 'command'");
    return 0;
}

static int parse_point(yd_doc *x, yaml_node_t *k, const char *name, yaml_node_t *v,
                       hooks_file *out)
{
    int p = -1;
    for (int i = 0; i < HOOK_N_POINTS; i++)
        if (strcmp(name, point_names[i]) == 0)
            p = i;
    if (p < 0)
        return yd_fail(x, k, "unknown hook '%.60s'; expected apply-start, pre-apply-mode, "
                             "pre-apply-config or apply-exit", name);
    if (yd_want_list(x, v, name, "a list of commands") < 0)
        return -1;
    size_t count = yd_list_size(v);
    if (count > HOOK_MAX_COMMANDS)
        return yd_fail(x, v, "hook '%s' has %zu commands; expected at most %d", name, count,
                       HOOK_MAX_COMMANDS);
    out->cmds[p] = calloc(count + 1, sizeof *out->cmds[p]);
    if (!out->cmds[p])
        return yd_nomem(x);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yd_node(x, v->data.sequence.items.start[i]);
        out->n[p]++;
        if (parse_command(x, item, &out->cmds[p][i]) < 0)
            return -1;
    }
    return 0;
}

static int parse_root(yd_doc *x, yaml_node_t *root, hooks_file *out)
{
    if (!root)
        return yd_fail(x, NULL, "the hooks file is empty; expected version: v1 and hooks");
    if (yd_want_map(x, root, "the hooks file", "a map with version and hooks") < 0)
        return -1;
    bool have_version = false;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *v = yd_node(x, p->value);
        const char *key;
        if (yd_key(x, p, root, "the top level", &key) < 0)
            return -1;
        if (strcmp(key, "version") == 0) {
            const char *ver = yd_scalar(v);
            if (!ver || strcmp(ver, "v1") != 0)
                return yd_fail(x, v, "version is '%.40s'; expected v1", ver ? ver : yd_kind_name(v));
            have_version = true;
        } else if (strcmp(key, "hooks") == 0) {
            if (yd_is_null(v))
                continue; /* "hooks:" with nothing: no hooks */
            if (yd_want_map(x, v, "hooks", "a map of hook name to a list of commands") < 0 ||
                yd_map_cap(x, v, "hooks", HOOK_N_POINTS) < 0)
                return -1;
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
                 q++) {
                const char *name;
                if (yd_key(x, q, v, "hooks", &name) < 0 ||
                    parse_point(x, yd_node(x, q->key), name, yd_node(x, q->value), out) < 0)
                    return -1;
            }
        } else {
            return yd_fail(x, yd_node(x, p->key), "unknown key '%.60s' at the top level; "
                                                  "expected version or hooks", key);
        }
    }
    if (!have_version)
        return yd_fail(x, root, "no version key; expected version: v1");
    return 0;
}

static int parse_loaded(yd_doc *d, const char *path, hooks_file *out)
{
    if (!(out->path = strdup(path)))
        return yd_nomem(d);
    int rc = parse_root(d, yd_root(d), out);
    if (rc < 0)
        hooks_free(out);
    return rc;
}

int hooks_parse_string(const char *text, size_t len, const char *path_for_errors, hooks_file *out,
                       mig_error *e)
{
    memset(out, 0, sizeof *out);
    const char *path = path_for_errors ? path_for_errors : "<hooks>";
    yd_doc d;
    if (yd_load_string(&d, text, len, path, "a hooks file", e) < 0)
        return -1;
    int rc = parse_loaded(&d, path, out);
    yd_free(&d);
    return rc;
}

int hooks_parse_file(const char *path, hooks_file *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    yd_doc d;
    if (yd_load_file(&d, path, "hooks file", e) < 0)
        return -1;
    int rc = parse_loaded(&d, d.path, out);
    yd_free(&d);
    return rc;
}

static void command_free(hook_command *c)
{
    free(c->command);
    free(c->workdir);
    for (unsigned i = 0; i < c->n_args; i++)
        free(c->args[i]);
    free(c->args);
    for (unsigned i = 0; i < c->n_envs; i++) {
        free(c->envs[i].name);
        free(c->envs[i].value);
    }
    free(c->envs);
}

void hooks_free(hooks_file *h)
{
    if (!h)
        return;
    for (int p = 0; p < HOOK_N_POINTS; p++) {
        for (unsigned i = 0; i < h->n[p]; i++)
            command_free(&h->cmds[p][i]);
        free(h->cmds[p]);
    }
    free(h->path);
    memset(h, 0, sizeof *h);
}

/* ------------------------------------------------------------ running */

/* In the child: never returns. Reports an errno through err_fd on failure. */
static void child_exec(const hook_command *c, const hook_run_options *o, int err_fd)
{
    setpgid(0, 0);
    if (o->stdout_to_stderr)
        dup2(STDERR_FILENO, STDOUT_FILENO);
    for (unsigned i = 0; i < c->n_envs; i++)
        setenv(c->envs[i].name, c->envs[i].value, 1);
    for (unsigned i = 0; i < o->n_vars; i++)
        setenv(o->vars[i].name, o->vars[i].value ? o->vars[i].value : "", 1);
    int report[2] = {0, 0}; /* {1 if the workdir failed, errno} */
    if (c->workdir && chdir(c->workdir) < 0) {
        report[0] = 1;
        report[1] = errno;
    } else {
        char **argv = calloc(c->n_args + 2, sizeof *argv);
        if (argv) {
            argv[0] = c->command;
            for (unsigned i = 0; i < c->n_args; i++)
                argv[i + 1] = c->args[i];
            execvp(c->command, argv);
        }
        report[1] = errno ? errno : ENOMEM;
    }
    if (write(err_fd, report, sizeof report) < 0)
        _exit(127);
    _exit(127);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for pid until deadline; -1 with *timed_out when it outlives it,
 * or with *cancelled when *cancel becomes non-zero. */
static int wait_until(pid_t pid, long long deadline, volatile sig_atomic_t *cancel, int *status,
                      bool *timed_out, bool *cancelled)
{
    *timed_out = *cancelled = false;
    long sleep_us = 1000;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
        if (cancel && *cancel) {
            *cancelled = true;
            return -1;
        }
        if (now_ms() >= deadline) {
            *timed_out = true;
            return -1;
        }
        struct timespec ts = {0, sleep_us * 1000};
        nanosleep(&ts, NULL);
        if (sleep_us < 20000)
            sleep_us *= 2;
    }
}

static int run_command(const hook_command *c, const char *point, unsigned nth,
                       const hook_run_options *o, mig_error *e)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "hook %s: pipe: %s", point, strerror(errno));
    fflush(NULL); /* the child must not flush our buffered output again */
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(pfd[0]);
        close(pfd[1]);
        return mig_fail(e, MIG_ERR_SYSTEM, "hook %s: fork: %s", point, strerror(err));
    }
    if (pid == 0) {
        close(pfd[0]);
        child_exec(c, o, pfd[1]);
    }
    setpgid(pid, pid); /* also here: no race with a timeout before the child ran */
    close(pfd[1]);
    int report[2] = {0, 0};
    ssize_t got;
    do
        got = read(pfd[0], report, sizeof report);
    while (got < 0 && errno == EINTR);
    close(pfd[0]);

    unsigned timeout_ms = o->timeout_ms ? o->timeout_ms : HOOK_DEFAULT_TIMEOUT_S * 1000u;
    int status = 0;
    bool timed_out = false, cancelled = false;
    if (got == (ssize_t)sizeof report) {
        waitpid(pid, &status, 0);
        return mig_fail(e, MIG_ERR_SYSTEM, "hook %s #%u (%s, line %u): cannot %s: %s", point, nth,
                        c->command, c->line, report[0] ? "enter workdir" : "run", strerror(report[1]));
    }
    if (wait_until(pid, now_ms() + timeout_ms, o->cancel, &status, &timed_out, &cancelled) < 0) {
        if (cancelled) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return mig_fail(e, MIG_ERR_SYSTEM,
                            "hook %s #%u (%s) interrupted by a signal; its process group was killed",
                            point, nth, c->command);
        }
        if (timed_out) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return mig_fail(e, MIG_ERR_SYSTEM,
                            "hook %s #%u (%s) timed out after %u ms; its process group was killed",
                            point, nth, c->command, timeout_ms);
        }
        return mig_fail(e, MIG_ERR_SYSTEM, "hook %s #%u (%s): waitpid: %s", point, nth, c->command,
                        strerror(errno));
    }
    if (WIFSIGNALED(status))
        return mig_fail(e, MIG_ERR_SYSTEM, "hook %s #%u (%s) killed by signal %d", point, nth,
                        c->command, WTERMSIG(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "hook %s #%u (%s) exited with status %d", point, nth,
                        c->command, WEXITSTATUS(status));
    return 0;
}

int hooks_run(const hooks_file *h, hook_point p, const hook_run_options *o, mig_error *e)
{
    if (!h || (unsigned)p >= HOOK_N_POINTS)
        return 0;
    hook_run_options defaults = {0};
    if (!o)
        o = &defaults;
    /* SIGCHLD ignored (inherited from whoever started us: SIG_IGN survives
     * exec) makes the kernel reap the hooks itself, and waitpid then fails
     * with ECHILD: every hook would "fail". Wait for them with the default
     * disposition, and put the caller's back afterwards. */
    struct sigaction dfl = {.sa_handler = SIG_DFL}, saved;
    sigemptyset(&dfl.sa_mask);
    bool restore = sigaction(SIGCHLD, NULL, &saved) == 0 &&
                   (saved.sa_handler == SIG_IGN || (saved.sa_flags & SA_NOCLDWAIT)) &&
                   sigaction(SIGCHLD, &dfl, NULL) == 0;
    int rc = 0;
    for (unsigned i = 0; i < h->n[p] && rc == 0; i++)
        rc = run_command(&h->cmds[p][i], point_names[p], i + 1, o, e);
    if (restore)
        sigaction(SIGCHLD, &saved, NULL);
    return rc < 0 ? -1 : 0;
}
