/*
 * cmd_profile.c: `migctl profile [--gpu N] [--target 0.9] [--interval S]
 * [--name NAME] [--emit-workload FILE] [--json] -- CMD ...`: run CMD while
 * sampling GPU N, then predict its throughput on every profile of the GPU's
 * model from the measured SM and DRAM-bandwidth shares and peak memory, and
 * recommend the smallest profile that keeps the target (metrics/profile.h
 * holds the method). --emit-workload writes a planner workload with the
 * predicted throughput figures (atomically).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "metrics/profile.h"
#include "util/fileio.h"

extern char **environ;

static void profile_usage(FILE *out)
{
    fprintf(out,
            "usage: migctl profile [-i N] [--target F] [--interval S] [--name NAME]\n"
            "                      [--emit-workload FILE] [--json] -- CMD [ARGS...]\n\n"
            "Run CMD on GPU N (whole GPU; CMD gets CUDA_VISIBLE_DEVICES=<its UUID> unless that is\n"
            "already set) while sampling its SM activity, DRAM bandwidth and\n"
            "memory, then predict its throughput on every profile of that GPU model: a slice\n"
            "has its share of the SMs and its memory slices' share of the bandwidth, and the\n"
            "slower of the two bounds it. Recommends the smallest profile keeping the target\n"
            "fraction of the whole-GPU throughput, or says MIG is the wrong answer and why.\n"
            "Method and limits: docs/metrics.md.\n\n"
            "  -i, --gpu N            the GPU CMD runs on (default 0)\n"
            "  --target F             fraction of whole-GPU throughput to keep (default 0.9)\n"
            "  --interval S           seconds between samples (default 0.2, at least 0.1)\n"
            "  --name NAME            workload name (default: CMD's name)\n"
            "  --emit-workload FILE   write a planner workloads file with throughput figures\n"
            "  --json                 machine-readable result\n"
            "Exit: 0 done; 1 CMD failed (the figures are still shown); 2 bad input (also: no\n"
            "GPM metrics on this GPU, or CMD never made it busy); 3 backend failure.\n");
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

static json_t *result_json(const profile_result *r, unsigned gpu, const char *model,
                           const char *name, int cmd_status)
{
    json_t *preds = json_array();
    for (unsigned i = 0; i < r->n; i++) {
        const profile_pred *x = &r->pred[i];
        json_array_append_new(
            preds, json_pack("{s:s,s:i,s:i,s:I,s:f,s:f,s:b,s:f,s:s}", "profile", x->profile,
                             "compute_slices", (int)x->compute_slices, "memory_slices",
                             (int)x->memory_slices, "memory_mib", (json_int_t)x->memory_mib,
                             "sm_share", x->sm_share, "bandwidth_share", x->bw_share,
                             "fits_memory", x->fits_memory, "predicted", x->predicted, "bound",
                             x->bound));
    }
    return json_pack("{s:s,s:i,s:s,s:i,s:{s:f,s:f,s:f,s:f,s:I,s:i,s:i},s:f,s:o,s:o,s:b,s:s}",
                     "workload", name, "gpu", (int)gpu, "model", model, "command_exit",
                     cmd_status, "measured", "sm_active", r->sm, "dram_active", r->dram,
                     "sm_occupancy", r->occupancy, "tensor_active", r->tensor, "peak_memory_mib",
                     (json_int_t)r->peak_mem_mib, "samples", (int)r->n_samples, "active_samples",
                     (int)r->n_active, "target", r->target, "predictions", preds, "recommended",
                     r->recommended >= 0 ? json_string(r->pred[r->recommended].profile)
                                         : json_null(),
                     "mig_suitable", r->recommended >= 0, "verdict", r->verdict);
}

int cmd_profile(int argc, char **argv, cli_globals *g)
{
    static const struct option opts[] = {{"gpu", required_argument, 0, 'i'},
                                         {"target", required_argument, 0, 't'},
                                         {"interval", required_argument, 0, 'n'},
                                         {"name", required_argument, 0, 'N'},
                                         {"emit-workload", required_argument, 0, 'w'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    unsigned gpu = 0;
    double target = 0.9, interval = 0.2;
    const char *name = NULL, *emit = NULL;
    bool json = false;
    int c;
    optind = 0;
    opterr = 0;
    /* '+': stop at the first non-option, CMD's own options are its own */
    while ((c = getopt_long(argc, argv, "+:i:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'i':
            if (!cli_parse_uint(optarg, &gpu))
                return cli_usage_error("profile", "-i needs a GPU index, not '%s'", optarg);
            break;
        case 't':
            target = strtod(optarg, &end);
            if (end == optarg || *end || !(target > 0 && target <= 1))
                return cli_usage_error("profile", "--target needs a fraction in (0, 1], not '%s'",
                                       optarg);
            break;
        case 'n':
            interval = strtod(optarg, &end);
            if (end == optarg || *end || !(interval >= 0.1) || interval > 3600)
                return cli_usage_error("profile", "--interval needs seconds (0.1 or more), not '%s'",
                                       optarg);
            break;
        case 'N': name = optarg; break;
        case 'w': emit = optarg; break;
        case 'j': json = true; break;
        case 'h': profile_usage(stdout); return 0;
        default: return cli_option_error("profile", c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error("profile", "give the command to profile after --");
    char **cmd = argv + optind;
    if (!name) {
        const char *slash = strrchr(cmd[0], '/');
        name = slash ? slash + 1 : cmd[0];
    }
    if (!*name || strlen(name) >= 64)
        return cli_usage_error("profile", "--name must be 1-63 characters");

    mig_error e;
    mig_backend *b;
    if (cli_open_backend(g, &b, &e) < 0)
        return cli_report("profile", &e);
    mig_gpu_state *st = malloc(sizeof *st);
    mig_gpu_sample *smp = malloc(sizeof *smp);
    int rc = 0, status = 0;
    profile_result res;
    if (!st || !smp) {
        rc = mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        goto out;
    }
    if ((rc = cli_gpu_state(b, gpu, st, &e)) < 0)
        goto out;
    if (!st->model) {
        rc = mig_fail(&e, MIG_ERR_INPUT, "GPU %u (%s) is not a model migctl knows", gpu, st->name);
        goto out;
    }
    if (!b->ops->sample) {
        rc = mig_fail(&e, MIG_ERR_INPUT, "the %s backend has no telemetry", b->ops->name);
        goto out;
    }
    /* The baseline: memory already in use is not the workload's; it also
     * primes GPM (the next reading covers the time since this one). */
    if ((rc = b->ops->sample(b, gpu, smp, &e)) < 0)
        goto out;
    profile_acc acc;
    profile_begin(&acc, smp);
    if (st->mig_current)
        fprintf(stderr, "migctl: profile: note: GPU %u is in MIG mode; the figures are the whole "
                        "GPU's, all its instances together\n", gpu);
    /* CMD runs on GPU N: CUDA_VISIBLE_DEVICES names it, unless already set. */
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **env = calloc(nenv + 2, sizeof *env);
    char cvd[160];
    if (!env) {
        rc = mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        goto out;
    }
    memcpy(env, environ, nenv * sizeof *env);
    if (!getenv("CUDA_VISIBLE_DEVICES")) {
        snprintf(cvd, sizeof cvd, "CUDA_VISIBLE_DEVICES=%s", st->uuid);
        env[nenv] = cvd;
    }
    pid_t pid;
    int err = posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, env);
    free(env);
    if (err) {
        rc = mig_fail(&e, MIG_ERR_INPUT, "cannot run '%s': %s", cmd[0], strerror(err));
        goto out;
    }
    for (;;) {
        sleep_s(interval);
        if (b->ops->sample(b, gpu, smp, &e) < 0) {
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
            rc = -1;
            goto out;
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break; /* this last sample covers the command's end: counted only if active */
        profile_add(&acc, smp);
        if (w < 0 && errno != EINTR) {
            rc = mig_fail(&e, MIG_ERR_SYSTEM, "waitpid: %s", strerror(errno));
            goto out;
        }
    }
    profile_add(&acc, smp);
    if ((rc = profile_predict(st->model, &acc, target, &res, &e)) < 0)
        goto out;
    int cmd_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (emit) {
        char cmdline[512] = "";
        size_t used = 0;
        for (char **a = cmd; *a && used < sizeof cmdline; a++)
            used += (size_t)snprintf(cmdline + used, sizeof cmdline - used, "%s%s",
                                     a == cmd ? "" : " ", *a);
        for (char *p = cmdline; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        char *yaml = profile_workload_yaml(st->model, &res, name, cmdline);
        if (!yaml) {
            rc = mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
            goto out;
        }
        rc = fileio_write_atomic(emit, yaml, strlen(yaml), 0644, &e);
        free(yaml);
        if (rc < 0)
            goto out;
    }
    if (json) {
        json_t *root = result_json(&res, gpu, st->model->name, name, cmd_exit);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        putchar('\n');
        json_decref(root);
    } else {
        printf("Profiled '%s' on GPU %u (%s): %u samples, %u active\n", name, gpu,
               st->model->name, res.n_samples, res.n_active);
        printf("Measured: SM %.1f%%, DRAM bandwidth %.1f%%, occupancy %.1f%%, tensor %.1f%% of the "
               "card; peak memory %llu MiB\n\n",
               res.sm * 100, res.dram * 100, res.occupancy * 100, res.tensor * 100,
               res.peak_mem_mib);
        printf("  %-12s %6s %6s %9s %10s  %s\n", "PROFILE", "SMs", "BW", "MEMORY", "PREDICTED",
               "BOUND");
        for (unsigned i = 0; i < res.n; i++) {
            const profile_pred *x = &res.pred[i];
            printf("  %-12s %5.0f%% %5.0f%% %6lluMiB %9.0f%%  %s%s\n", x->profile,
                   x->sm_share * 100, x->bw_share * 100, x->memory_mib, x->predicted * 100,
                   x->bound, (int)i == res.recommended ? "   <- recommended" : "");
        }
        printf("\n%s%s\n", res.recommended >= 0 ? "Recommended: " : "", res.verdict);
        if (emit)
            printf("Wrote the workload to %s\n", emit);
    }
    if (cmd_exit != 0) {
        fprintf(stderr, "migctl: profile: '%s' exited with status %d\n", cmd[0], cmd_exit);
        status = 1;
    } else {
        status = 0;
    }
out:
    free(st);
    free(smp);
    backend_close(b);
    if (rc < 0)
        return cli_report("profile", &e);
    return status;
}
