/*
 * cmd_sim.c: `migctl sim ...`, the controls of the simulated GPUs: create a
 * node (init), start and stop simulated processes that make instances busy
 * (procs), arm failures and crashes (fault), reboot, and print the raw state
 * (show). These work on the state file directly (gpu/sim.h) whatever backend
 * is selected, since they stand for things outside NVML's reach: plugging in
 * GPUs, running CUDA programs, pulling the power.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/gpu_select.h"
#include "cli/sim_telemetry.h"
#include "gpu/sim.h"
#include "util/nvml_rc.h"

static void sim_usage(FILE *out)
{
    fprintf(out,
            "usage: migctl sim init --gpus SPEC [--swizzled] [--force]\n"
            "       migctl sim procs -i N [--gi ID [--ci ID]] --start|--stop [--count K]\n"
            "       migctl sim fault [--fail-op N [--rc CODE|NAME]] [--kill-op N] | --clear\n"
            "       migctl sim load -i N [--gi ID] [--sm F] [--dram F] [--memory SIZE] ... | --clear\n"
            "       migctl sim health -i N [--xid CODE] [--ecc-dbe K] ... | --clear\n"
            "       migctl sim reboot\n"
            "       migctl sim show [--json]\n\n"
            "Manage the simulated GPUs in the state file (--sim FILE or $MIGCTL_SIM_STATE).\n\n"
            "  init     create the file: SPEC is COUNTxMODEL[,COUNTxMODEL...], e.g.\n"
            "           8xH100-SXM5-80GB or 4xH100-SXM5-80GB,2xA100-SXM4-40GB (see 'migctl models');\n"
            "           MIG mode starts off, as a real GPU boots. --swizzled: GPU instance ids do\n"
            "           not follow placements (as on GPUs with floorswept GPCs). --force: overwrite\n"
            "           an existing file.\n"
            "  procs    start or stop simulated processes: on the whole GPU (no --gi; this\n"
            "           holds the GPU, so a MIG mode change stays pending), or on a compute\n"
            "           instance (--gi ID, with --ci ID or its first CI), making it busy.\n"
            "           --count K: how many (start: default 1; stop: default all).\n"
            "  fault    --fail-op N: the Nth following GPU operation fails with --rc (an NVML\n"
            "           code or name such as IN_USE; default UNKNOWN). --kill-op N: the process\n"
            "           doing the Nth following operation is SIGKILLed right after it is\n"
            "           committed. --clear: disarm both. Counts work across processes.\n"
            "  load     script the load of a GPU or GPU instance (see 'migctl sim load --help').\n"
            "  health   inject Xid events, ECC errors, row-remap trouble ('sim health --help').\n"
            "  reboot   instances and processes are gone; Hopper and later come back with MIG\n"
            "           off, Ampere with its pending mode made current.\n"
            "  show     print the state file (JSON; --json is accepted and changes nothing).\n");
}

static int need_path(cli_globals *g, const char **path)
{
    *path = sim_default_path(g->sim_path);
    if (!*path)
        return cli_usage_error("sim", "no state file: pass --sim FILE or set MIGCTL_SIM_STATE");
    return 0;
}

/* Open for writing, let `change` act, commit. */
static int with_state(const char *path, const char *what,
                      int (*change)(sim_state *s, void *ctx, mig_error *e), void *ctx)
{
    mig_error e;
    sim_state *s = sim_open(path, true, &e);
    if (!s)
        return cli_report(what, &e);
    int rc = change(s, ctx, &e);
    if (rc == 0)
        rc = sim_commit(s, &e);
    sim_close(s);
    return rc < 0 ? cli_report(what, &e) : 0;
}

/* ------------------------------------------------------------ init */

static int sim_init_cmd(int argc, char **argv, const char *path)
{
    static const struct option opts[] = {{"gpus", required_argument, 0, 'g'},
                                         {"swizzled", no_argument, 0, 's'},
                                         {"force", no_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *spec = NULL;
    bool swizzled = false, force = false;
    int c;
    while ((c = getopt_long(argc, argv, ":g:sfh", opts, NULL)) != -1) {
        switch (c) {
        case 'g': spec = optarg; break;
        case 's': swizzled = true; break;
        case 'f': force = true; break;
        case 'h': sim_usage(stdout); return 0;
        default: return cli_option_error("sim init", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim init", "unexpected argument '%s'", argv[optind]);
    if (!spec)
        return cli_usage_error("sim init", "--gpus SPEC is required (e.g. 8xH100-SXM5-80GB)");
    struct stat st;
    if (!force && stat(path, &st) == 0) {
        fprintf(stderr, "migctl: sim init: %s exists; not overwritten (use --force to replace "
                        "it)\n", path);
        return 1;
    }
    mig_error e;
    if (sim_init(path, spec, swizzled, &e) < 0)
        return cli_report("sim init", &e);
    sim_state *s = sim_open(path, false, &e);
    if (!s)
        return cli_report("sim init", &e);
    printf("Created %s: %u simulated GPU%s (%s), MIG mode off%s\n", path, s->n_gpus,
           s->n_gpus == 1 ? "" : "s", spec, swizzled ? ", swizzled GPU instance ids" : "");
    sim_close(s);
    return 0;
}

/* ------------------------------------------------------------ procs */

typedef struct {
    unsigned gpu, count;
    int gi, ci;
    bool start;
    unsigned after;
} procs_req;

static int procs_change(sim_state *s, void *ctx, mig_error *e)
{
    procs_req *r = ctx;
    if (sim_procs_n(s, r->gpu, r->gi, r->ci, r->start, r->count, e) < 0)
        return -1;
    mig_gpu_state *g = &s->gpus[r->gpu];
    if (r->gi < 0) {
        r->after = g->n_procs;
        return 0;
    }
    mig_gi_state *gi = sim_find_gi(s, r->gpu, (unsigned)r->gi);
    mig_ci_state *ci = r->ci < 0 ? &gi->ci[0] : sim_find_ci(gi, (unsigned)r->ci);
    r->ci = (int)ci->id;
    r->after = ci->n_procs;
    return 0;
}

static int parse_int_opt(const char *verb, const char *opt, const char *arg, unsigned *out)
{
    if (!cli_parse_uint(arg, out))
        return cli_usage_error(verb, "%s needs a non-negative integer, not '%s'", opt, arg);
    return 0;
}

static int sim_procs_cmd(int argc, char **argv, const char *path)
{
    static const struct option opts[] = {{"gpu", required_argument, 0, 'i'},
                                         {"gi", required_argument, 0, 'G'},
                                         {"ci", required_argument, 0, 'C'},
                                         {"start", no_argument, 0, 's'},
                                         {"stop", no_argument, 0, 'S'},
                                         {"count", required_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    procs_req r = {.gi = -1, .ci = -1};
    bool have_gpu = false, have_start = false, have_stop = false, have_count = false;
    const char *gpu_text = NULL;
    unsigned v;
    int c;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_gpu_text_ok(optarg, false))
                return cli_usage_error("sim procs", "-i needs a GPU index, UUID or PCI bus id, "
                                       "not '%s'", optarg);
            gpu_text = optarg;
            have_gpu = true;
            break;
        case 'G':
            if (parse_int_opt("sim procs", "--gi", optarg, &v))
                return 2;
            if (v > INT_MAX) /* -1 means "no GI": the whole GPU */
                return cli_usage_error("sim procs", "--gi needs an instance id, not '%s'", optarg);
            r.gi = (int)v;
            break;
        case 'C':
            if (parse_int_opt("sim procs", "--ci", optarg, &v))
                return 2;
            if (v > INT_MAX)
                return cli_usage_error("sim procs", "--ci needs an instance id, not '%s'", optarg);
            r.ci = (int)v;
            break;
        case 's': have_start = true; break;
        case 'S': have_stop = true; break;
        case 'n':
            if (parse_int_opt("sim procs", "--count", optarg, &r.count))
                return 2;
            have_count = true;
            break;
        case 'h': sim_usage(stdout); return 0;
        default: return cli_option_error("sim procs", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim procs", "unexpected argument '%s'", argv[optind]);
    if (!have_gpu)
        return cli_usage_error("sim procs", "-i N (the GPU) is required");
    if (have_start == have_stop)
        return cli_usage_error("sim procs", "give exactly one of --start and --stop");
    if (r.ci >= 0 && r.gi < 0)
        return cli_usage_error("sim procs", "--ci needs --gi");
    if (r.gi > 31 || r.ci > 31)
        return cli_usage_error("sim procs", "no such instance id");
    /* 0 used to mean "the default" (1 to start, all to stop): asked for
     * explicitly it started one or stopped all, the opposite of nothing. */
    if (have_count && r.count == 0)
        return cli_usage_error("sim procs", "--count needs at least 1 (leave it out to start "
                               "one, or to stop all)");
    r.start = have_start;
    /* -i as every verb takes it: an index, a UUID or a PCI bus id. */
    mig_error e;
    mig_backend *b;
    mig_backend_options bo = {.which = "sim", .sim_path = path};
    if (backend_open(&bo, &b, &e) < 0)
        return cli_report("sim procs", &e);
    int rc = cli_gpu_one(b, gpu_text, &r.gpu, &e);
    backend_close(b);
    if (rc < 0)
        return cli_report("sim procs", &e);
    rc = with_state(path, "sim procs", procs_change, &r);
    if (rc)
        return rc;
    if (r.gi < 0)
        printf("GPU %u: %u simulated process%s on the whole GPU\n", r.gpu, r.after,
               r.after == 1 ? "" : "es");
    else
        printf("GPU %u GPU instance %d compute instance %d: %u simulated process%s\n", r.gpu,
               r.gi, r.ci, r.after, r.after == 1 ? "" : "es");
    return 0;
}

/* ------------------------------------------------------------ fault */

/* The largest values the state file's reader (gpu/sim_file.c) accepts: a
 * fault set beyond them would leave a state file no command can open. */
#define FAULT_MAX_OP 1000000u
#define FAULT_MAX_RC 100000u

/* "IN_USE", "NVML_ERROR_IN_USE", "in_use" or a number. */
static bool parse_rc(const char *arg, int *rc)
{
    unsigned v;
    if (cli_parse_uint(arg, &v)) {
        *rc = (int)v;
        return v != 0 && v <= FAULT_MAX_RC;
    }
    for (int code = 1; code <= 1000; code++) {
        const char *name = nvml_rc_name(code);
        if (code != NVML_ERROR_UNKNOWN && strcmp(name, "NVML_ERROR_UNKNOWN") == 0)
            continue;
        if (strcasecmp(arg, name) == 0 || strcasecmp(arg, name + strlen("NVML_ERROR_")) == 0) {
            *rc = code;
            return true;
        }
    }
    return false;
}

typedef struct {
    bool clear, set_fail, set_kill;
    unsigned fail_op, kill_op;
    int rc;
} fault_req;

static int fault_change(sim_state *s, void *ctx, mig_error *e)
{
    (void)e;
    fault_req *r = ctx;
    if (r->clear) {
        s->fail_op = s->kill_op = 0;
        s->fail_rc = NVML_ERROR_UNKNOWN;
    }
    if (r->set_fail) {
        s->fail_op = r->fail_op;
        s->fail_rc = r->rc;
    }
    if (r->set_kill)
        s->kill_op = r->kill_op;
    return 0;
}

static int sim_fault_cmd(int argc, char **argv, const char *path)
{
    static const struct option opts[] = {{"fail-op", required_argument, 0, 'f'},
                                         {"rc", required_argument, 0, 'r'},
                                         {"kill-op", required_argument, 0, 'k'},
                                         {"clear", no_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    fault_req r = {.rc = NVML_ERROR_UNKNOWN};
    bool have_rc = false;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (parse_int_opt("sim fault", "--fail-op", optarg, &r.fail_op))
                return 2;
            if (r.fail_op > FAULT_MAX_OP)
                return cli_usage_error("sim fault", "--fail-op goes up to %u, not '%s'",
                                       FAULT_MAX_OP, optarg);
            r.set_fail = true;
            break;
        case 'k':
            if (parse_int_opt("sim fault", "--kill-op", optarg, &r.kill_op))
                return 2;
            if (r.kill_op > FAULT_MAX_OP)
                return cli_usage_error("sim fault", "--kill-op goes up to %u, not '%s'",
                                       FAULT_MAX_OP, optarg);
            r.set_kill = true;
            break;
        case 'r':
            if (!parse_rc(optarg, &r.rc))
                return cli_usage_error("sim fault",
                                       "--rc needs an NVML error code or name (e.g. 19 or "
                                       "IN_USE), not '%s'",
                                       optarg);
            have_rc = true;
            break;
        case 'c': r.clear = true; break;
        case 'h': sim_usage(stdout); return 0;
        default: return cli_option_error("sim fault", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim fault", "unexpected argument '%s'", argv[optind]);
    if (!r.clear && !r.set_fail && !r.set_kill)
        return cli_usage_error("sim fault", "give --fail-op N, --kill-op N or --clear");
    if (have_rc && !r.set_fail)
        return cli_usage_error("sim fault", "--rc goes with --fail-op");
    int rc = with_state(path, "sim fault", fault_change, &r);
    if (rc)
        return rc;
    if (r.clear && !r.set_fail && !r.set_kill)
        printf("Faults cleared\n");
    const char *rc_name = nvml_rc_name(r.rc);
    bool unnamed = r.rc != NVML_ERROR_UNKNOWN && strcmp(rc_name, "NVML_ERROR_UNKNOWN") == 0;
    if (r.set_fail && r.fail_op && unnamed)
        printf("Operation %u from now will fail with NVML return code %d\n", r.fail_op, r.rc);
    else if (r.set_fail && r.fail_op)
        printf("Operation %u from now will fail with %s\n", r.fail_op, rc_name);
    else if (r.set_fail)
        printf("Failure disarmed\n");
    if (r.set_kill && r.kill_op)
        printf("The process doing operation %u from now will be killed\n", r.kill_op);
    else if (r.set_kill)
        printf("Kill disarmed\n");
    return 0;
}

/* ------------------------------------------------------------ reboot, show */

static int reboot_change(sim_state *s, void *ctx, mig_error *e)
{
    (void)ctx, (void)e;
    sim_reboot(s);
    return 0;
}

static int no_args(int argc, char **argv, const char *verb)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            sim_usage(stdout);
            return 0;
        }
        return cli_usage_error(verb, "unexpected argument '%s'", argv[i]);
    }
    return -1;
}

static int sim_reboot_cmd(int argc, char **argv, const char *path)
{
    int rc = no_args(argc, argv, "sim reboot");
    if (rc >= 0)
        return rc;
    rc = with_state(path, "sim reboot", reboot_change, NULL);
    if (rc == 0)
        printf("Rebooted: every GPU instance and process is gone\n");
    return rc;
}

static int sim_show_cmd(int argc, char **argv, const char *path)
{
    /* Its output is JSON already; --json, which every read verb takes, is
     * accepted and changes nothing. */
    int kept = 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") != 0)
            argv[kept++] = argv[i];
    argc = kept;
    int rc = no_args(argc, argv, "sim show");
    if (rc >= 0)
        return rc;
    mig_error e;
    sim_state *s = sim_open(path, false, &e);
    if (!s)
        return cli_report("sim show", &e);
    char *text = sim_dump(s);
    sim_close(s);
    if (!text) {
        mig_fail(&e, MIG_ERR_SYSTEM, "cannot serialize the state");
        return cli_report("sim show", &e);
    }
    fputs(text, stdout);
    free(text);
    return 0;
}

int cmd_sim(int argc, char **argv, cli_globals *g)
{
    if (argc < 2) {
        sim_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        sim_usage(stdout);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **, const char *);
    } subs[] = {{"init", sim_init_cmd},     {"procs", sim_procs_cmd}, {"fault", sim_fault_cmd},
                {"reboot", sim_reboot_cmd}, {"show", sim_show_cmd},
                {"load", sim_load_cmd},     {"health", sim_health_cmd}};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(sub, subs[i].name) != 0)
            continue;
        bool help = false;
        for (int k = 2; k < argc; k++)
            help |= strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0;
        const char *path = NULL;
        if (!help && need_path(g, &path))
            return 2;
        cli_getopt_reset(); /* restart getopt for the subcommand's own argv */
        return subs[i].fn(argc - 1, argv + 1, path);
    }
    return cli_usage_error("sim", "unknown subcommand '%s' (init, procs, fault, reboot, show, load, health)",
                           sub);
}
