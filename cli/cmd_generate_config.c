/*
 * cmd_generate_config.c: `migctl generate-config`, the named layouts
 * (all-disabled, all-enabled, all-<profile>, all-balanced) as a v1 config,
 * for the models given with --model or, without it, for the MIG-capable GPUs
 * the backend sees. config/generate.c decides the layouts; this file only
 * gathers the models and writes the result.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config_output.h"
#include "config/migparted.h"

#define GEN_MAX_MODELS 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl generate-config [--model NAME ...] [-o yaml|json] [--json] [--output FILE]\n\n"
            "Write the named layouts all-disabled, all-enabled, all-<profile> (one per GPU-instance\n"
            "profile, as many instances as fit) and all-balanced as a mig-parted v1 config, for the\n"
            "models given or, without --model, for the MIG-capable GPUs present. With several\n"
            "models, entries carry device-filters.\n\n"
            "  -m, --model NAME     a GPU model (see 'migctl models'); repeat or comma-separate\n"
            "  -o, --output-format  yaml (default) or json\n"
            "      --json           same as -o json\n"
            "  -f, --output FILE    write to FILE instead of standard output ('-': standard\n"
            "                       output)\n"
            "  -h, --help           this help\n");
}

typedef struct {
    cli_config_out out;
    unsigned n_models;
    const mig_model *models[GEN_MAX_MODELS];
} gen_opts;

static int add_models(gen_opts *o, const char *arg, int *code)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", arg);
    char *save = NULL;
    for (char *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        const mig_model *m = mig_model_by_name(name);
        if (!m)
            return cli_stop(code, cli_usage_error("generate-config",
                                   "unknown model '%s'; expected a name from 'migctl models'", name));
        if (o->n_models == GEN_MAX_MODELS)
            return cli_stop(code, cli_usage_error("generate-config", "too many models (at most %d)",
                                   GEN_MAX_MODELS));
        o->models[o->n_models++] = m;
    }
    return 0;
}

static int parse_args(int argc, char **argv, gen_opts *o, int *code)
{
    static const struct option longs[] = {
        {"model", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        CLI_CONFIG_OUT_LONGS,
        {NULL, 0, NULL, 0},
    };
    cli_getopt_reset();
    int c;
    while ((c = getopt_long(argc, argv, ":m:h" CLI_CONFIG_OUT_SHORTS, longs, NULL)) != -1) {
        int used = cli_config_out_option("generate-config", c, optarg, &o->out, code);
        if (used < 0)
            return -1;
        if (used)
            continue;
        switch (c) {
        case 'm':
            if (add_models(o, optarg, code) < 0)
                return -1;
            break;
        case 'h':
            usage(stdout);
            return cli_stop(code, 0);
        default:
            return cli_stop(code, cli_option_error("generate-config", c, argv));
        }
    }
    if (optind < argc)
        return cli_stop(code, cli_usage_error("generate-config", "unexpected argument '%s'",
                                              argv[optind]));
    return 0;
}

/* The models of the MIG-capable GPUs the backend sees. */
static int models_present(cli_globals *g, gen_opts *o, mig_error *e)
{
    mig_backend *b = NULL;
    unsigned n = 0;
    int rc = cli_open_backend(g, &b, e);
    if (rc == 0)
        rc = b->ops->gpu_count(b, &n, e);
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        mig_gpu_state s;
        if ((rc = b->ops->gpu_state(b, i, &s, e)) < 0)
            mig_error_prefix(e, "GPU %u", i);
        else if (s.mig_capable && s.model && o->n_models < GEN_MAX_MODELS)
            o->models[o->n_models++] = s.model;
    }
    if (b)
        backend_close(b);
    if (rc == 0 && o->n_models == 0)
        rc = mig_fail(e, MIG_ERR_INPUT, "no MIG-capable GPU found; expected --model NAME");
    return rc;
}

int cmd_generate_config(int argc, char **argv, cli_globals *g)
{
    gen_opts o = {0};
    int code;
    if (parse_args(argc, argv, &o, &code) < 0)
        return code;
    mig_error e = {0};
    cfg_file f = {0};
    int rc = o.n_models ? 0 : models_present(g, &o, &e);
    if (rc == 0)
        rc = cfg_generate(o.models, o.n_models, &f, &e);
    return cli_config_out_finish("generate-config", &o.out, &f, rc, &e);
}
