/*
 * cmd_export.c: `migctl export`, the GPUs' current layout as a v1 config
 * that `apply` turns back into the same layout (config/from_state.c builds
 * it, config/emit.c writes it). Read-only: opens the backend, reads every
 * GPU's state, touches nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config_output.h"
#include "config/migparted.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl export [--placements] [-o yaml|json] [--json] [-l LABEL] [--output FILE]\n\n"
            "Write the GPUs' current MIG layout as a mig-parted v1 config.\n\n"
            "  -p, --placements    pin every GPU instance's placement (\"3g.40gb@4\" keys), so that\n"
            "                      apply recreates the exact layout, not just the counts\n"
            "  -o, --output-format yaml (default) or json\n"
            "      --json          same as -o json\n"
            "  -l, --config-label  name of the config (default: current)\n"
            "  -f, --output FILE   write to FILE instead of standard output ('-': standard\n"
            "                      output)\n"
            "  -h, --help          this help\n");
}

typedef struct {
    bool placements;
    const char *label;
    cli_config_out out;
} export_opts;

static int parse_args(int argc, char **argv, export_opts *o, int *code)
{
    static const struct option longs[] = {
        {"placements", no_argument, NULL, 'p'}, {"config-label", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},       CLI_CONFIG_OUT_LONGS,
        {NULL, 0, NULL, 0},
    };
    cli_getopt_reset();
    int c;
    while ((c = getopt_long(argc, argv, ":pl:h" CLI_CONFIG_OUT_SHORTS, longs, NULL)) != -1) {
        int used = cli_config_out_option("export", c, optarg, &o->out, code);
        if (used < 0)
            return -1;
        if (used)
            continue;
        switch (c) {
        case 'p':
            o->placements = true;
            break;
        case 'l':
            if (!*optarg)
                return cli_stop(code, cli_usage_error("export", "empty config label"));
            o->label = optarg;
            break;
        case 'h':
            usage(stdout);
            return cli_stop(code, 0);
        default:
            return cli_stop(code, cli_option_error("export", c, argv));
        }
    }
    if (optind < argc)
        return cli_stop(code, cli_usage_error("export", "unexpected argument '%s'", argv[optind]));
    return 0;
}

int cmd_export(int argc, char **argv, cli_globals *g)
{
    export_opts o = {0};
    int code;
    if (parse_args(argc, argv, &o, &code) < 0)
        return code;
    mig_error e = {0};
    mig_backend *b = NULL;
    mig_gpu_state *states = NULL;
    unsigned n = 0;
    cfg_file f = {0};
    int rc = cli_open_backend(g, &b, &e);
    if (rc == 0)
        rc = cli_read_states(b, &states, &n, &e);
    if (rc == 0)
        rc = cfg_from_states(states, n, o.placements, o.label, &f, &e);
    free(states);
    if (b)
        backend_close(b);
    return cli_config_out_finish("export", &o.out, &f, rc, &e);
}
