/*
 * sctl.c: running scontrol/squeue and the slurmctld restart command with a
 * time limit, and reading what they print (formats of Slurm 22.05).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integrate/slurm/sctl.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int sctl_run(const char *const *argv, unsigned timeout_ms, char **out, int *status, mig_error *e)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return mig_fail(e, MIG_ERR_SYSTEM, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        setpgid(0, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(pfd[1]);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    long long deadline = now_ms() + timeout_ms;
    bool killed = false;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0 && !killed) {
            kill(-pid, SIGKILL);
            killed = true;
        }
        struct pollfd p = {pfd[0], POLLIN, 0};
        int r = poll(&p, 1, killed ? 1000 : (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        if (len + 4097 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        ssize_t got = read(pfd[0], buf + len, 4096);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(pfd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    if (!buf)
        buf = calloc(1, 1);
    else
        buf[len] = 0;
    if (out)
        *out = buf;
    else
        free(buf);
    return 0;
}

int sctl_shell(const char *cmd, unsigned timeout_ms, char **out, int *status, mig_error *e)
{
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    return sctl_run(argv, timeout_ms, out, status, e);
}

/* Run a Slurm client command, retrying for up to 60 s while it fails with a
 * connection error: slurmctld restarting for another node's reconfiguration
 * (a rollout runs K at once; under load a restart took over 15 s in CI, and
 * the restart command itself waits up to 30 s for slurmctld). */
static int slurm_cmd(const char *const *argv, char **out, mig_error *e)
{
    long long deadline = now_ms() + 60000;
    for (;;) {
        char *o = NULL;
        int st;
        if (sctl_run(argv, 20000, &o, &st, e) < 0)
            return -1;
        if (st == 0) {
            if (out)
                *out = o;
            else
                free(o);
            return 0;
        }
        bool transient = strstr(o, "onnection") || strstr(o, "Unable to contact") ||
                         strstr(o, "Socket timed out") || strstr(o, "Zero Bytes");
        if (!transient || now_ms() > deadline) {
            char cmd[256] = "";
            for (unsigned i = 0; argv[i] && strlen(cmd) < 200; i++)
                snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), "%s%s", i ? " " : "",
                         argv[i]);
            size_t l = strlen(o);
            while (l && (o[l - 1] == '\n' || o[l - 1] == ' '))
                o[--l] = 0;
            mig_fail(e, MIG_ERR_SYSTEM, "'%s' failed (exit %d): %.400s", cmd, st, o);
            free(o);
            return -1;
        }
        free(o);
        sleep_ms(200);
    }
}

/* The value of " key=" in text (up to the next space or newline). */
static bool field(const char *text, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key);
    for (const char *p = text; (p = strstr(p, key)); p += kl) {
        if (p != text && p[-1] != ' ' && p[-1] != '\n')
            continue;
        if (p[kl] != '=')
            continue;
        const char *v = p + kl + 1;
        size_t n = strcspn(v, key[0] == 'R' && !strcmp(key, "Reason") ? "\n" : " \n");
        if (n >= len)
            n = len - 1;
        memcpy(buf, v, n);
        buf[n] = 0;
        return true;
    }
    buf[0] = 0;
    return false;
}

int sctl_show_node(const char *node, sctl_node *out, mig_error *e)
{
    const char *argv[] = {"scontrol", "show", "node", node, NULL};
    char *o;
    if (slurm_cmd(argv, &o, e) < 0)
        return -1;
    memset(out, 0, sizeof *out);
    field(o, "State", out->state, sizeof out->state);
    field(o, "Gres", out->gres, sizeof out->gres);
    field(o, "Reason", out->reason, sizeof out->reason);
    free(o);
    if (!out->state[0])
        return mig_fail(e, MIG_ERR_SYSTEM, "scontrol show node %s: no State= in its output", node);
    return 0;
}

bool sctl_state_has(const sctl_node *n, const char *flag)
{
    char s[sizeof n->state];
    snprintf(s, sizeof s, "%s", n->state);
    for (char *save = NULL, *w = strtok_r(s, "+*~#$@%!", &save); w; w = strtok_r(NULL, "+*~#$@%!", &save))
        if (!strcmp(w, flag) || (!strcmp(flag, "INVAL") && !strcmp(w, "INVALID_REG")))
            return true;
    if (!strcmp(flag, "NOT_RESPONDING"))
        return strchr(n->state, '*') != NULL;
    return false;
}

int sctl_drain(const char *node, const char *reason, mig_error *e)
{
    char nn[128], rr[300];
    snprintf(nn, sizeof nn, "NodeName=%s", node);
    snprintf(rr, sizeof rr, "Reason=%s", reason);
    const char *argv[] = {"scontrol", "update", nn, "State=DRAIN", rr, NULL};
    return slurm_cmd(argv, NULL, e);
}

int sctl_resume(const char *node, mig_error *e)
{
    char nn[128];
    snprintf(nn, sizeof nn, "NodeName=%s", node);
    const char *argv[] = {"scontrol", "update", nn, "State=RESUME", NULL};
    return slurm_cmd(argv, NULL, e);
}

int sctl_reconfigure(mig_error *e)
{
    const char *argv[] = {"scontrol", "reconfigure", NULL};
    return slurm_cmd(argv, NULL, e);
}

int sctl_wait_ctld(unsigned timeout_ms, mig_error *e)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        const char *argv[] = {"scontrol", "ping", NULL};
        char *o = NULL;
        int st;
        if (sctl_run(argv, 5000, &o, &st, e) < 0)
            return -1;
        bool up = st == 0 && strstr(o, " is UP");
        free(o);
        if (up)
            return 0;
        if (now_ms() > deadline)
            return mig_fail(e, MIG_ERR_SYSTEM, "slurmctld did not answer within %u s",
                            timeout_ms / 1000);
        sleep_ms(100);
    }
}

void sctl_parse_idx(const char *s, unsigned char idx[128])
{
    memset(idx, 0, 128);
    while (*s) {
        char *end;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (end == s)
            break;
        s = end;
        if (*s == '-') {
            b = strtoul(s + 1, &end, 10);
            s = end;
        }
        for (unsigned long i = a; i <= b && i < 1024; i++)
            idx[i / 8] |= (unsigned char)(1u << (i % 8));
        if (*s != ',')
            break;
        s++;
    }
}

/* Does the hostlist expression (as Nodes= prints it) name node? */
static bool list_has(const char *list, const char *node)
{
    if (!strchr(list, '[')) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", list);
        for (char *s = NULL, *w = strtok_r(tmp, ",", &s); w; w = strtok_r(NULL, ",", &s))
            if (!strcmp(w, node))
                return true;
        return false;
    }
    const char *argv[] = {"scontrol", "show", "hostnames", list, NULL};
    char *o = NULL;
    int st;
    mig_error e;
    if (sctl_run(argv, 10000, &o, &st, &e) < 0)
        return false;
    bool found = false;
    for (char *s = NULL, *w = strtok_r(o, "\n", &s); w && !found; w = strtok_r(NULL, "\n", &s))
        found = !strcmp(w, node);
    free(o);
    return found;
}

int sctl_node_jobs(const char *node, sctl_job *jobs, unsigned cap, unsigned *n, mig_error *e)
{
    *n = 0;
    const char *argv[] = {"squeue", "-h", "-w", node, "-t", "RUNNING,COMPLETING,CONFIGURING,SUSPENDED",
                          "-o", "%A", NULL};
    char *o;
    if (slurm_cmd(argv, &o, e) < 0)
        return -1;
    int rc = 0;
    for (char *s = NULL, *w = strtok_r(o, "\n", &s); w && rc == 0; w = strtok_r(NULL, "\n", &s)) {
        unsigned long id = strtoul(w, NULL, 10);
        if (!id || *n >= cap)
            continue;
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "%lu", id);
        const char *jargv[] = {"scontrol", "show", "job", "-d", idbuf, NULL};
        char *jo;
        if (slurm_cmd(jargv, &jo, e) < 0) {
            /* The job ended between the two calls. */
            mig_error_clear(e);
            continue;
        }
        sctl_job *j = &jobs[*n];
        memset(j, 0, sizeof *j);
        j->id = id;
        bool any = false;
        /* Detail lines: "     Nodes=gpu1 CPU_IDs=0 Mem=0 GRES=gpu:1g.10gb:1(IDX:0)". */
        for (char *s2 = NULL, *ln = strtok_r(jo, "\n", &s2); ln; ln = strtok_r(NULL, "\n", &s2)) {
            char nodes[1024], gres[2048];
            const char *p = ln;
            while (*p == ' ')
                p++;
            if (strncmp(p, "Nodes=", 6) || !field(p, "GRES", gres, sizeof gres))
                continue;
            field(p, "Nodes", nodes, sizeof nodes);
            if (!list_has(nodes, node))
                continue;
            for (char *q = gres; (q = strstr(q, "IDX:")); q += 4) {
                unsigned char one[128];
                sctl_parse_idx(q + 4, one);
                for (unsigned k = 0; k < 128; k++)
                    j->idx[k] |= one[k];
                any = true;
            }
        }
        free(jo);
        if (any)
            (*n)++;
    }
    free(o);
    return rc;
}
