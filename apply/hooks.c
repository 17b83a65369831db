/*
 * hooks.c: parse mig-parted's hooks file (libyaml document API, strict, with
 * file:line:col errors) and run hook commands with fork/exec under a
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
#include <yaml.h>

#include "apply/hooks.h"

static const char *const point_names[HOOK_N_POINTS] = {
    "apply-start", "pre-apply-mode", "pre-apply-config", "apply-exit"};

const char *hook_point_name(hook_point p)
{
    return (unsigned)p < HOOK_N_POINTS ? point_names[p] : "?";
}

/* ------------------------------------------------------------ parsing */

typedef struct {
    yaml_document_t *doc;
    const char *path;
    mig_error *e;
} parse_ctx;

static int fail_at(parse_ctx *x, const yaml_node_t *n, const char *fmt, const char *what)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, what);
    return mig_fail(x->e, MIG_ERR_INPUT, "%s:%lu:%lu: %s", x->path,
                    (unsigned long)n->start_mark.line + 1, (unsigned long)n->start_mark.column + 1,
                    msg);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static char *dup_scalar(parse_ctx *x, const yaml_node_t *n, const char *what)
{
    const char *s = scalar(n);
    if (!s) {
        fail_at(x, n, "%s must be a string", what);
        return NULL;
    }
    char *d = strdup(s);
    if (!d)
        mig_fail(x->e, MIG_ERR_SYSTEM, "out of memory");
    return d;
}

static int parse_args(parse_ctx *x, yaml_node_t *n, hook_command *c)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(x, n, "%s must be a list of strings", "args");
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    c->args = calloc(count + 1, sizeof *c->args);
    if (!c->args)
        return mig_fail(x->e, MIG_ERR_SYSTEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(x->doc, n->data.sequence.items.start[i]);
        if (!(c->args[i] = dup_scalar(x, item, "each of args")))
            return -1;
        c->n_args++;
    }
    return 0;
}

static int parse_envs(parse_ctx *x, yaml_node_t *n, hook_command *c)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(x, n, "%s must be a map of NAME: value", "envs");
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    c->envs = calloc(count + 1, sizeof *c->envs);
    if (!c->envs)
        return mig_fail(x->e, MIG_ERR_SYSTEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
        const char *name = scalar(k);
        if (!name || !*name || strchr(name, '='))
            return fail_at(x, k, "%s", "an environment variable name (no '=')");
        hook_env *env = &c->envs[c->n_envs];
        if (!(env->name = dup_scalar(x, k, "an envs name")))
            return -1;
        c->n_envs++;
        if (!(env->value = dup_scalar(x, v, "an envs value")))
            return -1;
    }
    return 0;
}

static int parse_command(parse_ctx *x, yaml_node_t *n, hook_command *c)
{
    c->line = (unsigned)n->start_mark.line + 1;
    c->col = (unsigned)n->start_mark.column + 1;
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(x, n, "%s", "expected a hook {command, args, envs, workdir}");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
        const char *key = scalar(k);
        int rc = 0;
        /* A key given twice (YAML allows it) would overwrite, and leak, the
         * first value (found by fuzz_hooks): refused as bad input. */
        if (key && ((strcmp(key, "command") == 0 && c->command) ||
                    (strcmp(key, "workdir") == 0 && c->workdir) ||
                    (strcmp(key, "args") == 0 && c->args) ||
                    (strcmp(key, "envs") == 0 && c->envs)))
            return fail_at(x, k, "'%s' given twice in one hook", key);
        if (key && strcmp(key, "command") == 0)
            rc = (c->command = dup_scalar(x, v, "command")) ? 0 : -1;
        else if (key && strcmp(key, "workdir") == 0)
            rc = (c->workdir = dup_scalar(x, v, "workdir")) ? 0 : -1;
        else if (key && strcmp(key, "args") == 0)
            rc = parse_args(x, v, c);
        else if (key && strcmp(key, "envs") == 0)
            rc = parse_envs(x, v, c);
        else
            return fail_at(x, k, "unknown key '%s' (expected command, args, envs, workdir)",
                           key ? key : "?");
        if (rc < 0)
            return -1;
    }
    if (!c->command || !*c->command)
        return fail_at(x, n, "%s", "a hook needs a non-empty 'command'");
    return 0;
}

static int parse_point(parse_ctx *x, yaml_node_t *k, yaml_node_t *v, hooks_file *out)
{
    const char *name = scalar(k);
    int p = -1;
    for (int i = 0; i < HOOK_N_POINTS && name; i++)
        if (strcmp(name, point_names[i]) == 0)
            p = i;
    if (p < 0)
        return fail_at(x, k,
                       "unknown hook '%s' (expected apply-start, pre-apply-mode, "
                       "pre-apply-config or apply-exit)",
                       name ? name : "?");
    if (out->cmds[p])
        return fail_at(x, k, "hook '%s' given twice", name);
    if (v->type != YAML_SEQUENCE_NODE)
        return fail_at(x, v, "hook '%s' must be a list of commands", name);
    size_t count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    out->cmds[p] = calloc(count + 1, sizeof *out->cmds[p]);
    if (!out->cmds[p])
        return mig_fail(x->e, MIG_ERR_SYSTEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(x->doc, v->data.sequence.items.start[i]);
        out->n[p]++;
        if (parse_command(x, item, &out->cmds[p][i]) < 0)
            return -1;
    }
    return 0;
}

static int parse_root(parse_ctx *x, yaml_node_t *root, hooks_file *out)
{
    if (!root)
        return mig_fail(x->e, MIG_ERR_INPUT, "%s:1:1: empty hooks file (expected version: v1)",
                        x->path);
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(x, root, "%s", "expected a map with 'version' and 'hooks'");
    bool have_version = false;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
        const char *key = scalar(k);
        if (key && strcmp(key, "version") == 0) {
            const char *ver = scalar(v);
            if (!ver || strcmp(ver, "v1") != 0)
                return fail_at(x, v, "unsupported version '%s' (expected v1)", ver ? ver : "?");
            have_version = true;
        } else if (key && strcmp(key, "hooks") == 0) {
            if (v->type == YAML_SCALAR_NODE && !*scalar(v))
                continue; /* "hooks:" with nothing: no hooks */
            if (v->type != YAML_MAPPING_NODE)
                return fail_at(x, v, "%s", "'hooks' must be a map of hook name -> list");
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
                 q++)
                if (parse_point(x, yaml_document_get_node(x->doc, q->key),
                                yaml_document_get_node(x->doc, q->value), out) < 0)
                    return -1;
        } else {
            return fail_at(x, k, "unknown key '%s' (expected version, hooks)", key ? key : "?");
        }
    }
    if (!have_version)
        return fail_at(x, root, "%s", "missing 'version: v1'");
    return 0;
}

int hooks_parse_string(const char *text, size_t len, const char *path_for_errors, hooks_file *out,
                       mig_error *e)
{
    memset(out, 0, sizeof *out);
    const char *path = path_for_errors ? path_for_errors : "<hooks>";
    if (!(out->path = strdup(path)))
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        mig_fail(e, MIG_ERR_INPUT, "%s:%lu:%lu: %s", path,
                 (unsigned long)parser.problem_mark.line + 1,
                 (unsigned long)parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "invalid YAML");
        yaml_parser_delete(&parser);
        hooks_free(out);
        return -1;
    }
    parse_ctx x = {&doc, path, e};
    int rc = parse_root(&x, yaml_document_get_root_node(&doc), out);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc < 0)
        hooks_free(out);
    return rc;
}

int hooks_parse_file(const char *path, hooks_file *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return mig_fail(e, MIG_ERR_INPUT, "%s: cannot open hooks file: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return mig_fail(e, MIG_ERR_INPUT, "%s: cannot read hooks file", path);
    }
    int rc = hooks_parse_string(buf, len, path, out, e);
    free(buf);
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
