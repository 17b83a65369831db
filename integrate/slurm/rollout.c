/*
 * rollout.c: a fleet reconfigured node by node through child
 * `migctl slurm reconfigure` processes, at most K drained at once (rollout.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integrate/slurm/rollout.h"
#include "integrate/slurm/sctl.h"
#include "util/fileio.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const ro_node *)a)->node, ((const ro_node *)b)->node);
}

int ro_list(const char *dir, ro_node **out, unsigned *n, mig_error *e)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return mig_fail(e, MIG_ERR_INPUT, "%s: %s", dir, strerror(errno));
    unsigned cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= 5 || strcmp(de->d_name + l - 5, ".yaml") || l - 5 >= sizeof(*out)->node)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            ro_node *p = realloc(*out, cap * sizeof **out);
            if (!p) {
                closedir(d);
                return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
            }
            *out = p;
        }
        ro_node *nd = &(*out)[(*n)++];
        memset(nd, 0, sizeof *nd);
        snprintf(nd->node, sizeof nd->node, "%.*s", (int)(l - 5), de->d_name);
        snprintf(nd->file, sizeof nd->file, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    if (*n == 0)
        return mig_fail(e, MIG_ERR_INPUT, "%s holds no <node>.yaml configs", dir);
    qsort(*out, *n, sizeof **out, by_name);
    return 0;
}

/* argv for one node's child: [via words with {node}] self slurm reconfigure ... */
static unsigned child_argv(const ro_options *o, const ro_node *nd, bool dry, char *words,
                           size_t wlen, const char **argv, unsigned cap)
{
    unsigned n = 0;
    static char timeout[16];
    snprintf(timeout, sizeof timeout, "%u", o->timeout_s);
    if (o->via && *o->via) {
        /* {node} replaced, then split on spaces. */
        size_t u = 0;
        for (const char *p = o->via; *p && u + 1 < wlen;) {
            if (!strncmp(p, "{node}", 6)) {
                u += (size_t)snprintf(words + u, wlen - u, "%s", nd->node);
                p += 6;
            } else {
                words[u++] = *p++;
            }
        }
        words[u < wlen ? u : wlen - 1] = 0;
        for (char *s = NULL, *w = strtok_r(words, " ", &s); w && n + 16 < cap;
             w = strtok_r(NULL, " ", &s))
            argv[n++] = w;
    }
    argv[n++] = o->self;
    argv[n++] = "slurm";
    argv[n++] = "reconfigure";
    argv[n++] = "--node";
    argv[n++] = nd->node;
    argv[n++] = "-f";
    argv[n++] = nd->file;
    argv[n++] = "--timeout";
    argv[n++] = timeout;
    argv[n++] = "--json";
    if (dry)
        argv[n++] = "--dry-run";
    argv[n] = NULL;
    return n;
}

static void read_result(ro_node *nd, const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) {
        snprintf(nd->result, sizeof nd->result, "failed");
        snprintf(nd->error, sizeof nd->error, "no result from the child (exit %d)", nd->exit_code);
        return;
    }
    const char *res = json_string_value(json_object_get(j, "result"));
    snprintf(nd->result, sizeof nd->result, "%s", res ? res : "failed");
    nd->drain = json_is_true(json_object_get(j, "drain"));
    nd->drained = json_is_true(json_object_get(j, "drained")) ||
                  (nd->drain && strcmp(nd->result, "dry-run") && strcmp(nd->result, "refused"));
    nd->ops = (unsigned)json_integer_value(json_object_get(j, "operations"));
    const char *err = json_string_value(json_object_get(j, "error"));
    if (err)
        snprintf(nd->error, sizeof nd->error, "%s", err);
    json_decref(j);
}

static int dry_runs(ro_node *nodes, unsigned n, const ro_options *o, mig_error *e)
{
    for (unsigned i = 0; i < n; i++) {
        const char *argv[64];
        char words[1024];
        child_argv(o, &nodes[i], true, words, sizeof words, argv, 64);
        char *out = NULL;
        int st;
        /* stderr of a dry run is the plan text: kept out of the JSON by
         * running through a shell-free capture of stdout only. */
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
            return mig_fail(e, MIG_ERR_SYSTEM, "pipe: %s", strerror(errno));
        pid_t pid = fork();
        if (pid < 0)
            return mig_fail(e, MIG_ERR_SYSTEM, "fork: %s", strerror(errno));
        if (pid == 0) {
            dup2(pfd[1], 1);
            int dn = open("/dev/null", O_WRONLY);
            if (dn >= 0)
                dup2(dn, 2);
            execvp(argv[0], (char *const *)argv);
            _exit(127);
        }
        close(pfd[1]);
        size_t len = 0, cap = 0;
        for (;;) {
            if (len + 4097 > cap) {
                cap = cap ? cap * 2 : 8192;
                char *p = realloc(out, cap);
                if (!p)
                    break;
                out = p;
            }
            ssize_t got = read(pfd[0], out + len, 4096);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                break;
            len += (size_t)got;
        }
        close(pfd[0]);
        if (out)
            out[len] = 0;
        waitpid(pid, &st, 0);
        nodes[i].exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 3;
        read_result(&nodes[i], out ? out : "");
        free(out);
        if (strcmp(nodes[i].result, "dry-run")) {
            int code = nodes[i].exit_code ? nodes[i].exit_code : 3;
            mig_fail(e, code == 2 ? MIG_ERR_INPUT : code == 1 ? MIG_ERR_REFUSED : MIG_ERR_SYSTEM,
                     "node %s: dry run: %s", nodes[i].node,
                     nodes[i].error[0] ? nodes[i].error : nodes[i].result);
            return -1;
        }
        nodes[i].result[0] = 0;
    }
    return 0;
}

static int start_child(ro_node *nd, const ro_options *o, mig_error *e)
{
    const char *argv[64];
    char words[1024];
    child_argv(o, nd, false, words, sizeof words, argv, 64);
    snprintf(nd->out_path, sizeof nd->out_path, "%s/%s.json", o->work_dir, nd->node);
    snprintf(nd->log_path, sizeof nd->log_path, "%s/%s.log", o->work_dir, nd->node);
    pid_t pid = fork();
    if (pid < 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fo = open(nd->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
        int fl = open(nd->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
        if (fo < 0 || fl < 0)
            _exit(126);
        dup2(fo, 1);
        dup2(fl, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    nd->pid = pid;
    nd->started = now_s();
    snprintf(nd->result, sizeof nd->result, "running");
    return 0;
}

static void progress(const ro_options *o, const ro_node *nodes, unsigned n, const ro_node *just)
{
    if (!o->progress)
        return;
    unsigned done = 0, running = 0, drained = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!strcmp(nodes[i].result, "running")) {
            running++;
            drained += nodes[i].drain;
        } else if (nodes[i].result[0]) {
            done++;
        }
    }
    if (o->tty)
        fprintf(o->progress, "\r\033[K[%u/%u done] %u running, %u draining%s%s%s", done, n, running,
                drained, just ? "; " : "", just ? just->node : "", just ? (just->exit_code ? " failed" : " done") : "");
    else if (just)
        fprintf(o->progress, "[%u/%u] %s: %s (%s, %u ops, %.1f s)\n", done, n, just->node,
                just->result, just->drained ? "drained" : "no drain", just->ops, just->seconds);
    fflush(o->progress);
}

int ro_run(ro_node *nodes, unsigned n, const ro_options *o, mig_error *e)
{
    if (dry_runs(nodes, n, o, e) < 0)
        return mig_error_exit_code(e) ? mig_error_exit_code(e) : 3;
    /* Order: no-drain nodes first, names within each group. */
    unsigned order[4096], no = 0;
    for (unsigned pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < n && no < 4096; i++)
            if (nodes[i].drain == (pass == 1))
                order[no++] = i;
    unsigned next = 0, running = 0, k = o->max_unavailable ? o->max_unavailable : 1;
    bool stop = false;
    int code = 0;
    progress(o, nodes, n, NULL);
    while (next < no || running) {
        while (!stop && next < no && running < k) {
            if (start_child(&nodes[order[next]], o, e) < 0) {
                stop = true;
                code = 3;
                break;
            }
            next++;
            running++;
            progress(o, nodes, n, NULL);
        }
        if (!running)
            break;
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (unsigned i = 0; i < n; i++) {
            ro_node *nd = &nodes[i];
            if (nd->pid != pid || strcmp(nd->result, "running"))
                continue;
            running--;
            nd->seconds = now_s() - nd->started;
            nd->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            char *text = NULL;
            size_t len;
            mig_error re;
            if (fileio_read(nd->out_path, "reconfigure result", 1 << 20, &text, &len, &re) < 0)
                text = NULL;
            read_result(nd, text ? text : "");
            free(text);
            if (nd->exit_code) {
                if (!code)
                    code = nd->exit_code == 1 ? 1 : 3;
                if (!o->keep_going)
                    stop = true;
            }
            progress(o, nodes, n, nd);
        }
    }
    if (o->tty && o->progress)
        fputc('\n', o->progress);
    for (unsigned i = 0; i < n; i++)
        if (!nodes[i].result[0])
            snprintf(nodes[i].result, sizeof nodes[i].result, "skipped");
    return code;
}

void ro_print_summary(FILE *out, const ro_node *nodes, unsigned n)
{
    fprintf(out, "%-20s %-8s %5s %8s  %s\n", "NODE", "DRAINED", "OPS", "TIME", "RESULT");
    for (unsigned i = 0; i < n; i++) {
        const ro_node *nd = &nodes[i];
        fprintf(out, "%-20s %-8s %5u %7.1fs  %s%s%s\n", nd->node, nd->drained ? "yes" : "no",
                nd->ops, nd->seconds, nd->result, nd->error[0] ? ": " : "", nd->error);
    }
}
