/*
 * cmd_slurm.c: `migctl slurm gres|task-prolog|reconfigure|rollout`, MIG
 * slices and MPS shares as Slurm gres, and layout changes through the
 * scheduler. The verb reads flags and the environment Slurm and the sandbox
 * provide (SLURM_CONF, SLURMD_NODENAME, the job's GPU variables,
 * MIGCTL_SLURM_NODE_DIR, MIGCTL_SLURM_CTLD_RESTART); integrate/slurm/ does
 * the work and never sees either.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/render.h"
#include "apply/journal.h"
#include "apply/lock.h"
#include "integrate/slurm/gres.h"
#include "integrate/slurm/reconfigure.h"
#include "integrate/slurm/rollout.h"
#include "util/fileio.h"

#define DEFAULT_MINORS "/proc/driver/nvidia-caps/mig-minors"
#define DEFAULT_RESTART "systemctl restart slurmctld"

static void slurm_usage(FILE *out)
{
    fprintf(out,
            "usage: migctl slurm gres [--node NAME] [-f FILE [-c NAME]] [--mps GPUS] [--write] [--json]\n"
            "       migctl slurm task-prolog [--node NAME]\n"
            "       migctl slurm reconfigure --node NAME -f FILE [-c NAME] [--timeout SEC]\n"
            "                                [--dry-run] [--json]\n"
            "       migctl slurm rollout --plan DIR [--max-unavailable K] [--keep-going]\n"
            "                            [--timeout SEC] [--via CMD] [--json]\n\n"
            "MIG slices and MPS shares as Slurm generic resources, and layout changes through\n"
            "the scheduler (docs/slurm.md).\n\n"
            "  gres         the node's gres.conf records and the Gres= of its NodeName line, for\n"
            "               the GPUs as they are, or for a config before it is applied (-f);\n"
            "               --write puts them into gres.conf and slurm.conf and creates the\n"
            "               device files; --mps GPUS (e.g. 7 or 6,7) marks MIG-off GPUs for MPS\n"
            "  task-prolog  for TaskProlog=: prints 'export CUDA_VISIBLE_DEVICES=MIG-...' for the\n"
            "               job's slices (from SLURM_STEP_GPUS / SLURM_JOB_GPUS and gres.conf)\n"
            "  reconfigure  plan, drain if instances are destroyed, wait for the jobs on the GPUs\n"
            "               that change (--timeout, default 600 s), apply, new gres, slurmctld\n"
            "               restart + scontrol reconfigure, registration check, resume; any\n"
            "               failure restores the previous layout and gres\n"
            "  rollout      reconfigure every DIR/<node>.yaml (from plan --emit-config), nodes\n"
            "               needing no drain first, at most K (default 1) drained at once;\n"
            "               stops at the first failure unless --keep-going\n\n"
            "Options shared by the subcommands:\n"
            "  --node NAME        the Slurm node (default $SLURMD_NODENAME, else the host name)\n"
            "  --slurm-conf FILE  slurm.conf (default $SLURM_CONF, else /etc/slurm/slurm.conf)\n"
            "  --gres-conf FILE   gres.conf (default: next to slurm.conf)\n"
            "  --dev-dir DIR      where nvidiaN and nvidia-caps/ are (default /dev)\n"
            "  --minors FILE      capability minors (default %s; the driver's\n"
            "                     scheme when missing)\n"
            "  --ctld-restart CMD how to restart slurmctld (default $MIGCTL_SLURM_CTLD_RESTART,\n"
            "                     else '%s')\n"
            "  --via CMD          rollout: prefix for each node's reconfigure ('ssh {node}')\n"
            "  --json             machine-readable output\n"
            "  -h, --help         this help\n\n"
            "With $MIGCTL_SLURM_NODE_DIR (set by scripts/slurm-sandbox.sh), node NAME's simulated\n"
            "GPUs are DIR/NAME.json and its devices DIR/NAME/dev.\n"
            "Exit: 0 done, 1 refused or timed out (node resumed, layout unchanged), 2 bad input,\n"
            "3 a failure (previous layout and gres restored).\n",
            DEFAULT_MINORS, DEFAULT_RESTART);
}

typedef struct {
    const char *node, *slurm_conf, *gres_conf, *dev_dir, *minors, *ctld_restart, *config_file,
        *config_name, *mps, *plan_dir, *via;
    unsigned timeout_s, max_unavailable;
    bool json, dry_run, write, keep_going;
    char node_buf[256], gres_buf[PATH_MAX], sim_buf[PATH_MAX], dev_buf[PATH_MAX];
} slurm_args;

static int parse(int argc, char **argv, const char *sub, slurm_args *a)
{
    enum { O_NODE = 256, O_SCONF, O_GCONF, O_DEV, O_MINORS, O_RESTART, O_TIMEOUT, O_DRY, O_JSON,
           O_MPS, O_WRITE, O_PLAN, O_MAXU, O_KEEP, O_VIA };
    static const struct option longs[] = {
        {"node", required_argument, NULL, O_NODE},
        {"slurm-conf", required_argument, NULL, O_SCONF},
        {"gres-conf", required_argument, NULL, O_GCONF},
        {"dev-dir", required_argument, NULL, O_DEV},
        {"minors", required_argument, NULL, O_MINORS},
        {"ctld-restart", required_argument, NULL, O_RESTART},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"dry-run", no_argument, NULL, O_DRY},
        {"json", no_argument, NULL, O_JSON},
        {"mps", required_argument, NULL, O_MPS},
        {"write", no_argument, NULL, O_WRITE},
        {"plan", required_argument, NULL, O_PLAN},
        {"max-unavailable", required_argument, NULL, O_MAXU},
        {"keep-going", no_argument, NULL, O_KEEP},
        {"via", required_argument, NULL, O_VIA},
        {"config-file", required_argument, NULL, 'f'},
        {"selected-config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0}};
    a->timeout_s = 600;
    a->max_unavailable = 1;
    optind = 1;
    opterr = 0;
    int c;
    char verb[32];
    snprintf(verb, sizeof verb, "slurm %s", sub);
    while ((c = getopt_long(argc, argv, ":f:c:h", longs, NULL)) != -1) {
        switch (c) {
        case O_NODE: a->node = optarg; break;
        case O_SCONF: a->slurm_conf = optarg; break;
        case O_GCONF: a->gres_conf = optarg; break;
        case O_DEV: a->dev_dir = optarg; break;
        case O_MINORS: a->minors = optarg; break;
        case O_RESTART: a->ctld_restart = optarg; break;
        case O_DRY: a->dry_run = true; break;
        case O_JSON: a->json = true; break;
        case O_MPS: a->mps = optarg; break;
        case O_WRITE: a->write = true; break;
        case O_PLAN: a->plan_dir = optarg; break;
        case O_KEEP: a->keep_going = true; break;
        case O_VIA: a->via = optarg; break;
        case 'f': a->config_file = optarg; break;
        case 'c': a->config_name = optarg; break;
        case O_TIMEOUT:
            if (!cli_parse_uint(optarg, &a->timeout_s) || a->timeout_s > 86400)
                return cli_usage_error(verb, "--timeout needs seconds (0-86400), not '%s'", optarg);
            break;
        case O_MAXU:
            if (!cli_parse_uint(optarg, &a->max_unavailable) || !a->max_unavailable ||
                a->max_unavailable > 1024)
                return cli_usage_error(verb, "--max-unavailable needs a count (1-1024), not '%s'",
                                       optarg);
            break;
        case 'h': slurm_usage(stdout); return 0;
        default: return cli_option_error(verb, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(verb, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* Defaults from the environment (here, not below cli/). */
static void resolve(slurm_args *a, cli_globals *g, bool need_node)
{
    if (!a->node)
        a->node = getenv("SLURMD_NODENAME");
    if (!a->node && need_node) {
        if (gethostname(a->node_buf, sizeof a->node_buf - 1) == 0) {
            char *dot = strchr(a->node_buf, '.');
            if (dot)
                *dot = 0;
            a->node = a->node_buf;
        }
    }
    if (!a->slurm_conf)
        a->slurm_conf = getenv("SLURM_CONF");
    if (!a->slurm_conf)
        a->slurm_conf = "/etc/slurm/slurm.conf";
    if (!a->gres_conf) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", a->slurm_conf);
        snprintf(a->gres_buf, sizeof a->gres_buf, "%s/gres.conf", dirname(tmp));
        a->gres_conf = a->gres_buf;
    }
    if (!a->ctld_restart)
        a->ctld_restart = getenv("MIGCTL_SLURM_CTLD_RESTART");
    if (!a->ctld_restart)
        a->ctld_restart = DEFAULT_RESTART;
    const char *nd = getenv("MIGCTL_SLURM_NODE_DIR");
    if (nd && *nd && a->node) {
        /* The sandbox's node folder names each node's simulated GPUs; it
         * wins over --sim and $MIGCTL_SIM_STATE, which name one file. */
        snprintf(a->sim_buf, sizeof a->sim_buf, "%s/%s.json", nd, a->node);
        g->sim_path = a->sim_buf;
        g->backend = "sim";
        if (!a->dev_dir) {
            snprintf(a->dev_buf, sizeof a->dev_buf, "%s/%s/dev", nd, a->node);
            a->dev_dir = a->dev_buf;
        }
    }
    if (!a->dev_dir)
        a->dev_dir = "/dev";
}

static int load_minors(const slurm_args *a, sg_minors *m, unsigned *caps_major, mig_error *e)
{
    const char *path = a->minors ? a->minors : DEFAULT_MINORS;
    struct stat st;
    if (a->minors || stat(path, &st) == 0) {
        if (sg_minors_read(path, m, e) < 0)
            return -1;
    } else {
        sg_minors_default(m);
    }
    /* The nvidia-caps major, from /proc/devices on a real node. */
    *caps_major = 236;
    char *text;
    size_t len;
    mig_error pe;
    if (fileio_read("/proc/devices", "/proc/devices", 1 << 16, &text, &len, &pe) == 0) {
        for (char *sv = NULL, *ln = strtok_r(text, "\n", &sv); ln; ln = strtok_r(NULL, "\n", &sv)) {
            unsigned maj;
            char name[128];
            if (sscanf(ln, "%u %127s", &maj, name) == 2 && !strcmp(name, "nvidia-caps"))
                *caps_major = maj;
        }
        free(text);
    }
    return 0;
}

static int read_gpus(cli_globals *g, mig_gpu_state **gpus, unsigned *n, mig_error *e)
{
    mig_backend *b;
    if (cli_open_backend(g, &b, e) < 0)
        return -1;
    int rc = cli_read_states(b, gpus, n, e);
    backend_close(b);
    return rc;
}

/* ------------------------------------------------------------ gres */

static int parse_mps_list(const char *s, bool *mps, unsigned n)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", s);
    for (char *sv = NULL, *w = strtok_r(tmp, ",", &sv); w; w = strtok_r(NULL, ",", &sv)) {
        unsigned i;
        if (!cli_parse_uint(w, &i) || i >= n)
            return cli_usage_error("slurm gres", "--mps: '%s' is not a GPU index (0-%u)", w,
                                   n ? n - 1 : 0);
        mps[i] = true;
    }
    return -1;
}

static int do_gres(slurm_args *a, cli_globals *g)
{
    resolve(a, g, true);
    mig_error e;
    mig_error_clear(&e);
    sg_minors *minors = calloc(1, sizeof *minors);
    sg_node *prev = calloc(1, sizeof *prev), *out = calloc(1, sizeof *out);
    mig_gpu_state *gpus = NULL;
    bool *mps = NULL;
    char *gres_text = NULL, *slurm_text = NULL;
    cfg_file cf;
    bool have_cf = false;
    int code = 0;
    unsigned n = 0, caps_major;
    if (!minors || !prev || !out) {
        mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        goto fail;
    }
    if (load_minors(a, minors, &caps_major, &e) < 0)
        goto fail;
    size_t len;
    struct stat st;
    if (stat(a->gres_conf, &st) == 0) {
        if (fileio_read(a->gres_conf, "gres.conf", 8 << 20, &gres_text, &len, &e) < 0 ||
            sg_parse_conf(gres_text, a->node, prev, &e) < 0)
            goto fail;
    } else if (a->write) {
        gres_text = strdup("AutoDetect=off\n");
    }
    if (read_gpus(g, &gpus, &n, &e) < 0)
        goto fail;
    mps = calloc(n ? n : 1, sizeof *mps);
    if (!mps) {
        mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        goto fail;
    }
    sg_params p = {a->node, a->dev_dir, minors, mps, prev, caps_major};
    if (a->config_file) {
        if (cfg_parse_file(a->config_file, &cf, &e) < 0)
            goto fail;
        have_cf = true;
        const cfg_config *c = cfg_select(&cf, a->config_name, &e);
        mig_backend *b;
        if (!c || cli_open_backend(g, &b, &e) < 0)
            goto fail;
        int rc = sr_predict(b, c, &p, out, &e);
        backend_close(b);
        if (rc < 0)
            goto fail;
    } else {
        sr_mps_flags(NULL, gpus, n, prev, mps);
        if (a->mps && (code = parse_mps_list(a->mps, mps, n)) >= 0)
            goto done;
        code = 0;
        if (sg_build(gpus, n, &p, out, &e) < 0)
            goto fail;
    }
    char gres[8192];
    sg_gres_string(out, gres, sizeof gres);
    if (a->write) {
        if (a->config_file) {
            code = cli_usage_error("slurm gres", "--write writes the GPUs as they are; not with -f");
            goto done;
        }
        if (sg_make_devices(out, &e) < 0 ||
            fileio_read(a->slurm_conf, "slurm.conf", 8 << 20, &slurm_text, &len, &e) < 0)
            goto fail;
        char *g2 = gres_text ? sg_replace_block(gres_text, out, &e) : NULL;
        char *s2 = g2 ? sg_set_node_gres(slurm_text, a->node, gres, sg_has_mps(out), &e) : NULL;
        int rc = s2 && fileio_write_atomic(a->gres_conf, g2, strlen(g2), 0644, &e) == 0 &&
                         fileio_write_atomic(a->slurm_conf, s2, strlen(s2), 0644, &e) == 0
                     ? 0
                     : -1;
        free(g2);
        free(s2);
        if (rc < 0)
            goto fail;
    }
    if (a->json) {
        cli_print_json(sg_json(out));
    } else {
        if (a->config_file)
            printf("# predicted for config '%s': MIG capability devices and UUIDs are known only "
                   "after the apply\n",
                   a->config_name ? a->config_name : "(the only one)");
        printf("# gres.conf\n");
        sg_write_conf(stdout, out);
        printf("# slurm.conf NodeName line\nNodeName=%s Gres=%s\n", a->node, gres);
    }
    goto done;
fail:
    code = cli_report("slurm gres", &e);
done:
    if (have_cf)
        cfg_free(&cf);
    free(minors);
    free(prev);
    free(out);
    free(gpus);
    free(mps);
    free(gres_text);
    free(slurm_text);
    return code;
}

/* ------------------------------------------------------------ task prolog */

static int do_task_prolog(slurm_args *a, cli_globals *g)
{
    resolve(a, g, true);
    /* SLURM_STEP_GPUS in a step, SLURM_JOB_GPUS in the batch script: the
     * node's gres indices, which CUDA_VISIBLE_DEVICES copies (22.05 without
     * device constraining); CUDA would read them as its own ordinals. */
    const char *idx = getenv("SLURM_STEP_GPUS");
    if (!idx || !*idx)
        idx = getenv("SLURM_JOB_GPUS");
    if (!idx || !*idx)
        idx = getenv("CUDA_VISIBLE_DEVICES");
    if (!idx || !*idx || !strncmp(idx, "MIG-", 4) || !strncmp(idx, "GPU-", 4))
        return 0; /* no GPUs, or already UUIDs */
    mig_error e;
    char *text;
    size_t len;
    sg_node *n = calloc(1, sizeof *n);
    if (!n)
        return 3;
    int code = 0;
    char buf[16384];
    if (fileio_read(a->gres_conf, "gres.conf", 8 << 20, &text, &len, &e) < 0) {
        code = cli_report("slurm task-prolog", &e);
    } else {
        if (sg_parse_conf(text, a->node, n, &e) < 0 ||
            sg_map_indices(n, idx, buf, sizeof buf, &e) < 0)
            code = cli_report("slurm task-prolog", &e);
        else
            printf("export CUDA_VISIBLE_DEVICES=%s\n", buf);
        free(text);
    }
    free(n);
    return code;
}

/* ------------------------------------------------------------ reconfigure */

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
    interrupted = sig;
}

typedef struct {
    const slurm_args *a;
    bool color;
} plan_ctx;

/* The apply plan and the Slurm steps it implies, before anything changes. */
static void print_plan(void *ctx, const apply_session *s, const sr_report *r)
{
    const plan_ctx *pc = ctx;
    FILE *out = pc->a->json ? stderr : stdout;
    fprintf(out, "Plan for node %s: %u operation%s\n", pc->a->node, s->plan.n_ops,
            s->plan.n_ops == 1 ? "" : "s");
    render_plan(out, &s->plan, s->before, s->n_gpus, pc->color && !pc->a->json);
    fprintf(out, "Slurm steps:\n");
    if (r->drain) {
        fprintf(out, "  drain %s (Reason=\"%s\")\n", pc->a->node, SR_REASON);
        fprintf(out, "  wait up to %u s for the jobs holding gres of GPU%s", pc->a->timeout_s,
                r->n_affected == 1 ? "" : "s");
        for (unsigned i = 0; i < r->n_affected; i++)
            fprintf(out, "%s%u", i ? "," : " ", r->affected[i]);
        fprintf(out, " (jobs on other GPUs keep running)\n");
    } else {
        fprintf(out, "  no drain: the plan only adds instances\n");
    }
    fprintf(out, "  apply the plan\n"
                 "  write the node's gres.conf block (%s) and Gres= in %s\n"
                 "  wait for jobs whose gres index would move (draining if needed)\n"
                 "  restart slurmctld ('%s'), scontrol reconfigure\n"
                 "  wait until %s registers with the new Gres and no INVALID_REG\n",
            pc->a->gres_conf, pc->a->slurm_conf, pc->a->ctld_restart, pc->a->node);
    if (r->drain)
        fprintf(out, "  resume %s\n", pc->a->node);
    fflush(out);
}

static int do_reconfigure(slurm_args *a, cli_globals *g)
{
    if (!a->node)
        return cli_usage_error("slurm reconfigure", "--node NAME is required");
    if (!a->config_file)
        return cli_usage_error("slurm reconfigure", "a config file is required (-f FILE)");
    resolve(a, g, true);
    mig_error e;
    mig_error_clear(&e);
    sg_minors *minors = calloc(1, sizeof *minors);
    sr_report *r = calloc(1, sizeof *r);
    cfg_file cf;
    bool have_cf = false;
    mig_backend *b = NULL;
    int lock_fd = -1, code;
    unsigned caps_major;
    if (!minors || !r) {
        mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        goto fail;
    }
    if (load_minors(a, minors, &caps_major, &e) < 0 || cfg_parse_file(a->config_file, &cf, &e) < 0)
        goto fail;
    have_cf = true;
    const cfg_config *c = cfg_select(&cf, a->config_name, &e);
    if (!c)
        goto fail;
    const char *sim_state = sim_default_path(g->sim_path);
    char lock_file[4096], journal_path[4096];
    lock_options lo = {.env_path = g->lock_env, .sim_state = sim_state, .wait = true};
    lock_path(&lo, lock_file, sizeof lock_file);
    journal_default_path(NULL, sim_state, journal_path, sizeof journal_path);
    if (!a->dry_run && lock_acquire(&lo, &lock_fd, &e) < 0)
        goto fail;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (cli_open_backend(g, &b, &e) < 0)
        goto fail;
    plan_ctx pc = {a, g->color};
    sr_options o = {
        .node = a->node,
        .slurm_conf = a->slurm_conf,
        .gres_conf = a->gres_conf,
        .dev_dir = a->dev_dir,
        .minors = minors,
        .caps_major = caps_major,
        .ctld_restart = a->ctld_restart,
        .config = c,
        .config_file = a->config_file,
        .timeout_s = a->timeout_s,
        .dry_run = a->dry_run,
        .journal_path = journal_path,
        .lock_path = lock_file,
        .log = a->json ? stderr : stdout,
        .on_progress = render_apply_progress,
        .progress_ctx = a->json ? stderr : stdout,
        .cancel = &interrupted,
        .on_plan = print_plan,
        .on_plan_ctx = &pc,
    };
    code = sr_reconfigure(b, &o, r);
    if (a->json)
        cli_print_json(sr_report_json(r));
    else
        printf("%s: %s in %.2f s%s\n", a->node, r->result, r->seconds,
               a->dry_run ? (r->drain ? " (would drain the node)" : " (no drain needed)") : "");
    if (code)
        fprintf(stderr, "migctl: slurm reconfigure: %s\n", r->error.msg);
    goto done;
fail:
    code = cli_report("slurm reconfigure", &e);
    if (a->json && r) {
        snprintf(r->result, sizeof r->result, "failed");
        r->error = e;
        cli_print_json(sr_report_json(r));
    }
done:
    backend_close(b);
    lock_release(lock_fd);
    if (have_cf)
        cfg_free(&cf);
    free(minors);
    free(r);
    return code;
}

/* ------------------------------------------------------------ rollout */

static int do_rollout(slurm_args *a, cli_globals *g)
{
    (void)g;
    if (!a->plan_dir)
        return cli_usage_error("slurm rollout", "--plan DIR is required");
    mig_error e;
    ro_node *nodes = NULL;
    unsigned n;
    if (ro_list(a->plan_dir, &nodes, &n, &e) < 0)
        return cli_report("slurm rollout", &e);
    char self[PATH_MAX];
    ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
    if (l <= 0) {
        free(nodes);
        mig_fail(&e, MIG_ERR_SYSTEM, "cannot find the migctl binary: %s", strerror(errno));
        return cli_report("slurm rollout", &e);
    }
    self[l] = 0;
    char work[] = "/tmp/migctl-rollout.XXXXXX";
    if (!mkdtemp(work)) {
        free(nodes);
        mig_fail(&e, MIG_ERR_SYSTEM, "mkdtemp: %s", strerror(errno));
        return cli_report("slurm rollout", &e);
    }
    ro_options o = {
        .self = self,
        .via = a->via,
        .max_unavailable = a->max_unavailable,
        .keep_going = a->keep_going,
        .timeout_s = a->timeout_s,
        .progress = a->json ? NULL : stderr,
        .tty = !a->json && isatty(STDERR_FILENO),
        .work_dir = work,
    };
    mig_error_clear(&e);
    int code = ro_run(nodes, n, &o, &e);
    if (e.kind)
        fprintf(stderr, "migctl: slurm rollout: %s\n", e.msg);
    if (a->json) {
        json_t *arr = json_array();
        double t0 = -1;
        for (unsigned i = 0; i < n; i++)
            if (nodes[i].started > 0 && (t0 < 0 || nodes[i].started < t0))
                t0 = nodes[i].started;
        for (unsigned i = 0; i < n; i++) {
            json_t *x = json_object();
            json_object_set_new(x, "node", json_string(nodes[i].node));
            json_object_set_new(x, "drain", json_boolean(nodes[i].drain));
            json_object_set_new(x, "drained", json_boolean(nodes[i].drained));
            json_object_set_new(x, "operations", json_integer(nodes[i].ops));
            json_object_set_new(x, "seconds", json_real(nodes[i].seconds));
            /* When it started, from the first node's start: the order. */
            json_object_set_new(x, "started_at", nodes[i].started > 0
                                                     ? json_real(nodes[i].started - t0)
                                                     : json_null());
            json_object_set_new(x, "result", json_string(nodes[i].result));
            json_object_set_new(x, "error", nodes[i].error[0] ? json_string(nodes[i].error)
                                                               : json_null());
            json_array_append_new(arr, x);
        }
        json_t *root = json_object();
        json_object_set_new(root, "nodes", arr);
        json_object_set_new(root, "max_unavailable", json_integer(a->max_unavailable));
        cli_print_json(root);
    } else {
        ro_print_summary(stdout, nodes, n);
    }
    /* Children's logs: kept for a failed node, else removed. */
    for (unsigned i = 0; i < n; i++) {
        if (nodes[i].out_path[0])
            unlink(nodes[i].out_path);
        if (nodes[i].exit_code && nodes[i].log_path[0]) {
            fprintf(stderr, "migctl: slurm rollout: %s failed; its log: %s\n", nodes[i].node,
                    nodes[i].log_path);
            continue;
        }
        if (nodes[i].log_path[0])
            unlink(nodes[i].log_path);
    }
    rmdir(work); /* fails (kept) when a failed node's log is there */
    free(nodes);
    return code;
}

int cmd_slurm(int argc, char **argv, cli_globals *g)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        slurm_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    slurm_args a = {0};
    int rc = parse(argc - 1, argv + 1, sub, &a);
    if (rc >= 0)
        return rc;
    if (!strcmp(sub, "gres"))
        return do_gres(&a, g);
    if (!strcmp(sub, "task-prolog"))
        return do_task_prolog(&a, g);
    if (!strcmp(sub, "reconfigure"))
        return do_reconfigure(&a, g);
    if (!strcmp(sub, "rollout"))
        return do_rollout(&a, g);
    return cli_usage_error("slurm", "unknown subcommand '%s' (gres, task-prolog, reconfigure, "
                                    "rollout)",
                           sub);
}
