/*
 * cmd_sim_telemetry.c: `migctl sim load` (script the load of a simulated GPU
 * or GPU instance: SM activity and occupancy, tensor activity, DRAM
 * bandwidth, memory) and `migctl sim health` (inject Xid events, ECC errors
 * and row-remapping trouble). Both change the state file directly, like the
 * other sim subcommands: they stand for a CUDA program and for the hardware.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/sim_telemetry.h"
#include "gpu/sim.h"

static void load_usage(FILE *out)
{
    fprintf(out,
            "usage: migctl sim load -i N [--gi ID] [--sm F] [--occupancy F] [--tensor F]\n"
            "                       [--dram F] [--memory SIZE] | -i N [--gi ID] --clear\n\n"
            "Script the load of simulated GPU N (MIG off: the whole GPU) or of its GPU\n"
            "instance ID, as fractions 0-1 of that place's own SMs and DRAM bandwidth share\n"
            "(--sm 0.5 or --sm 50%%). --memory: memory its processes hold (e.g. 10GiB, 512MiB;\n"
            "default 256 MiB per process). A load shows only while processes run there, so\n"
            "one simulated process is started where none runs. --clear: forget the load.\n");
}

static void health_usage(FILE *out)
{
    fprintf(out,
            "usage: migctl sim health -i N [--xid CODE] [--ecc-sbe K] [--ecc-dbe K]\n"
            "                         [--remap-pending] [--remap-failure] | -i N --clear\n\n"
            "Inject hardware trouble on simulated GPU N: a critical Xid event (e.g. 79, the GPU\n"
            "fell off the bus; 48, a double-bit ECC error), K more single-bit (corrected) or\n"
            "double-bit (uncorrected) ECC errors, a pending row remap (a reset is needed) or a\n"
            "failed one. Every GPU instance on the GPU shares the fault (migctl status, top\n"
            "and the exporter name them). --clear: counters back to zero, as after a reboot\n"
            "with a replaced board; Xid events already delivered are not taken back.\n");
}

static bool parse_frac(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return false;
    if (*end == '%') {
        v /= 100;
        end++;
    }
    if (*end || !(v >= 0 && v <= 1))
        return false;
    *out = v;
    return true;
}

/* "10GiB", "512MiB", "4GB", "1000MB", a plain number is MiB. */
static bool parse_size(const char *s, unsigned long long *bytes)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0) || v > 1e15)
        return false;
    double mul = 1048576.0;
    if (!*end || !strcasecmp(end, "MiB"))
        mul = 1048576.0;
    else if (!strcasecmp(end, "GiB"))
        mul = 1073741824.0;
    else if (!strcasecmp(end, "MB"))
        mul = 1e6;
    else if (!strcasecmp(end, "GB"))
        mul = 1e9;
    else
        return false;
    *bytes = (unsigned long long)(v * mul);
    return true;
}

int sim_load_cmd(int argc, char **argv, const char *path)
{
    static const struct option opts[] = {
        {"gpu", required_argument, 0, 'i'},     {"gi", required_argument, 0, 'G'},
        {"sm", required_argument, 0, 's'},      {"occupancy", required_argument, 0, 'o'},
        {"tensor", required_argument, 0, 't'},  {"dram", required_argument, 0, 'd'},
        {"memory", required_argument, 0, 'm'},  {"clear", no_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    unsigned gpu = 0, gi = 0;
    bool have_gpu = false, have_gi = false, clear = false, any = false;
    sim_load l = {.set = true};
    double *frac = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_parse_uint(optarg, &gpu))
                return cli_usage_error("sim load", "-i needs a GPU index, not '%s'", optarg);
            have_gpu = true;
            break;
        case 'G':
            if (!cli_parse_uint(optarg, &gi) || gi >= SIM_GI_IDS)
                return cli_usage_error("sim load", "--gi needs a GPU instance id, not '%s'",
                                       optarg);
            have_gi = true;
            break;
        case 's': frac = &l.sm; goto fraction;
        case 'o': frac = &l.occupancy; goto fraction;
        case 't': frac = &l.tensor; goto fraction;
        case 'd':
            frac = &l.dram;
        fraction:
            if (!parse_frac(optarg, frac))
                return cli_usage_error("sim load", "%s needs a fraction 0-1 or a percentage, not "
                                                   "'%s'", argv[optind - 1], optarg);
            any = true;
            break;
        case 'm':
            if (!parse_size(optarg, &l.memory_bytes))
                return cli_usage_error("sim load", "--memory needs a size such as 10GiB, not '%s'",
                                       optarg);
            any = true;
            break;
        case 'c': clear = true; break;
        case 'h': load_usage(stdout); return 0;
        default: return cli_option_error("sim load", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim load", "unexpected argument '%s'", argv[optind]);
    if (!have_gpu)
        return cli_usage_error("sim load", "-i N (the GPU) is required");
    if (clear == any)
        return cli_usage_error("sim load", "give a load (--sm, --dram, ...) or --clear");
    mig_error e;
    sim_state *s = sim_open(path, true, &e);
    if (!s)
        return cli_report("sim load", &e);
    int gi_id = have_gi ? (int)gi : -1;
    int rc = 0;
    if (gpu >= s->n_gpus) {
        rc = mig_fail(&e, MIG_ERR_INPUT, "GPU index %u out of range (%u GPUs)", gpu, s->n_gpus);
    } else if (!have_gi && s->gpus[gpu].mig_current && !clear) {
        rc = mig_fail(&e, MIG_ERR_INPUT,
                      "GPU %u is in MIG mode: script the load of a GPU instance (--gi ID)", gpu);
    } else {
        rc = sim_set_load(s, gpu, gi_id, clear ? NULL : &l, &e);
    }
    bool started = false;
    if (rc == 0 && !clear) {
        /* load follows processes: make sure one runs there */
        unsigned procs = s->gpus[gpu].n_procs;
        if (have_gi) {
            mig_gi_state *g = sim_find_gi(s, gpu, gi);
            procs = 0;
            for (unsigned k = 0; g && k < g->n_ci; k++)
                procs += g->ci[k].n_procs;
            if (g && !g->n_ci)
                rc = mig_fail(&e, MIG_ERR_INPUT,
                              "GPU %u GPU instance %u has no compute instance to run on", gpu, gi);
        }
        if (rc == 0 && procs == 0) {
            rc = sim_procs_n(s, gpu, gi_id, -1, true, 1, &e);
            started = rc == 0;
        }
    }
    if (rc == 0)
        rc = sim_commit(s, &e);
    sim_close(s);
    if (rc < 0)
        return cli_report("sim load", &e);
    char where[48];
    if (have_gi)
        snprintf(where, sizeof where, "GPU %u GPU instance %u", gpu, gi);
    else
        snprintf(where, sizeof where, "GPU %u", gpu);
    if (clear)
        printf("%s: load cleared\n", where);
    else
        printf("%s: SM %.0f%%, occupancy %.0f%%, tensor %.0f%%, DRAM %.0f%%, memory %s%llu MiB%s\n",
               where, l.sm * 100, l.occupancy * 100, l.tensor * 100, l.dram * 100,
               l.memory_bytes ? "" : "per process default, ",
               (l.memory_bytes ? l.memory_bytes : SIM_PROC_MEMORY) >> 20,
               started ? " (started a simulated process)" : "");
    return 0;
}

int sim_health_cmd(int argc, char **argv, const char *path)
{
    static const struct option opts[] = {
        {"gpu", required_argument, 0, 'i'},     {"xid", required_argument, 0, 'x'},
        {"ecc-sbe", required_argument, 0, 's'}, {"ecc-dbe", required_argument, 0, 'd'},
        {"remap-pending", no_argument, 0, 'p'}, {"remap-failure", no_argument, 0, 'f'},
        {"clear", no_argument, 0, 'c'},         {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    unsigned gpu = 0, xid = 0, sbe = 0, dbe = 0;
    bool have_gpu = false, have_xid = false, pending = false, failure = false, clear = false;
    int c;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_parse_uint(optarg, &gpu))
                return cli_usage_error("sim health", "-i needs a GPU index, not '%s'", optarg);
            have_gpu = true;
            break;
        case 'x':
            if (!cli_parse_uint(optarg, &xid) || xid == 0 || xid > 100000)
                return cli_usage_error("sim health", "--xid needs an Xid code (1-100000), not '%s'",
                                       optarg);
            have_xid = true;
            break;
        case 's':
        case 'd':
            if (!cli_parse_uint(optarg, c == 's' ? &sbe : &dbe) || (c == 's' ? sbe : dbe) > 1000000)
                return cli_usage_error("sim health", "%s needs a count (0-1000000), not '%s'",
                                       argv[optind - 1], optarg);
            break;
        case 'p': pending = true; break;
        case 'f': failure = true; break;
        case 'c': clear = true; break;
        case 'h': health_usage(stdout); return 0;
        default: return cli_option_error("sim health", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim health", "unexpected argument '%s'", argv[optind]);
    if (!have_gpu)
        return cli_usage_error("sim health", "-i N (the GPU) is required");
    bool any = have_xid || sbe || dbe || pending || failure;
    if (clear == any)
        return cli_usage_error("sim health",
                               "give --xid, --ecc-sbe, --ecc-dbe, --remap-pending, "
                               "--remap-failure, or --clear");
    mig_error e;
    sim_state *s = sim_open(path, true, &e);
    if (!s)
        return cli_report("sim health", &e);
    int rc = 0;
    if (gpu >= s->n_gpus) {
        rc = mig_fail(&e, MIG_ERR_INPUT, "GPU index %u out of range (%u GPUs)", gpu, s->n_gpus);
    } else {
        sim_telemetry *t = &s->tele[gpu];
        if (clear) {
            t->ecc_sbe_volatile = t->ecc_dbe_volatile = 0;
            t->ecc_sbe_aggregate = t->ecc_dbe_aggregate = 0;
            t->remap_correctable = t->remap_uncorrectable = 0;
            t->remap_pending = t->remap_failure = false;
        }
        if (have_xid)
            sim_inject_xid(s, gpu, xid);
        t->ecc_sbe_volatile += sbe;
        t->ecc_sbe_aggregate += sbe;
        t->ecc_dbe_volatile += dbe;
        t->ecc_dbe_aggregate += dbe;
        if (sbe)
            t->remap_correctable++;
        if (dbe)
            t->remap_uncorrectable++;
        t->remap_pending |= pending;
        t->remap_failure |= failure;
        rc = sim_commit(s, &e);
    }
    sim_close(s);
    if (rc < 0)
        return cli_report("sim health", &e);
    if (clear)
        printf("GPU %u: health counters cleared\n", gpu);
    if (have_xid)
        printf("GPU %u: Xid %u injected\n", gpu, xid);
    if (sbe || dbe)
        printf("GPU %u: %u single-bit and %u double-bit ECC errors injected\n", gpu, sbe, dbe);
    if (pending)
        printf("GPU %u: row remap pending\n", gpu);
    if (failure)
        printf("GPU %u: row remapping failed\n", gpu);
    return 0;
}
