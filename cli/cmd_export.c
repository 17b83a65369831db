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
    bool json;
    const char *label;
    const char *output;
} export_opts;

static int parse_args(int argc, char **argv, export_opts *o)
{
    static const struct option longs[] = {
        {"placements", no_argument, NULL, 'p'},  {"output-format", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},        {"config-label", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":po:l:f:h", longs, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->placements = true;
            break;
        case 'o':
            if (strcmp(optarg, "yaml") && strcmp(optarg, "json"))
                return cli_usage_error("export", "unknown output format '%s'; expected yaml or json",
                                       optarg);
            o->json = !strcmp(optarg, "json");
            break;
        case 'j':
            o->json = true;
            break;
        case 'l':
            if (!*optarg)
                return cli_usage_error("export", "empty config label");
            o->label = optarg;
            break;
        case 'f':
            o->output = strcmp(optarg, "-") ? optarg : NULL; /* '-': standard output */
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            return cli_usage_error("export", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
    return -1;
}

int cmd_export(int argc, char **argv, cli_globals *g)
{
    export_opts o = {0};
    int code = parse_args(argc, argv, &o);
    if (code >= 0)
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
    if (rc == 0)
        rc = cfg_write(o.output, &f, o.json, &e);
    cfg_free(&f);
    free(states);
    if (b)
        backend_close(b);
    return rc < 0 ? cli_report("export", &e) : 0;
}
