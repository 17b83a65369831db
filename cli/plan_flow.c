/*
 * plan_flow.c: the option table and the load/emit flow that `migctl plan`
 * and `migctl replan` share, so the same flag means the same in both and an
 * unknown option is named the same way (cli_option_error).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plan_output.h"
#include "config/workload_check.h"
#include "integrate/k8s/k8s.h"

int plan_parse_args(const char *verb, int argc, char **argv, bool allow_add,
                    void (*usage)(FILE *), plan_args *a, int *rc)
{
    static const struct option opts[] = {
        {"workloads", required_argument, NULL, 'w'},   {"fleet", required_argument, NULL, 'f'},
        {"add", required_argument, NULL, 'a'},         {"live", no_argument, NULL, 'L'},
        {"json", no_argument, NULL, 'j'},              {"emit-config", required_argument, NULL, 'E'},
        {"time-limit", required_argument, NULL, 'T'},  {"help", no_argument, NULL, 'h'},
        {"emit-k8s", no_argument, NULL, 'K'},          {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, allow_add ? ":w:f:a:h" : ":w:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'w': a->wpath = optarg; break;
        case 'f': a->fpath = optarg; break;
        case 'a':
            if (!allow_add)
                return cli_stop(rc, cli_usage_error(verb, "unknown option '--add'"));
            a->apath = optarg;
            break;
        case 'L': a->live = true; break;
        case 'j': a->json = true; break;
        case 'E': a->emit = optarg; break;
        case 'K': a->k8s = true; break;
        case 'T': {
            char *end;
            a->time_limit = strtod(optarg, &end);
            if (end == optarg || *end || !(a->time_limit > 0) || a->time_limit > 86400)
                return cli_stop(rc, cli_usage_error(verb, "--time-limit wants seconds in (0, "
                                                          "86400], not '%s'", optarg));
            break;
        }
        case 'h': usage(stdout); return cli_stop(rc, 0);
        default: return cli_stop(rc, cli_option_error(verb, c, argv));
        }
    }
    if (optind < argc)
        return cli_stop(rc, cli_usage_error(verb, "unexpected argument '%s'", argv[optind]));
    if (a->k8s && !a->emit)
        return cli_stop(rc, cli_usage_error(verb, "--emit-k8s needs --emit-config DIR"));
    if (allow_add ? !!a->wpath + !!a->apath != 1 : !a->wpath)
        return cli_stop(rc, cli_usage_error(verb, allow_add
                                                      ? "give -w WORKLOADS or --add ARRIVALS (one of them)"
                                                      : "give -w WORKLOADS"));
    if (!!a->fpath + a->live != 1)
        return cli_stop(rc, cli_usage_error(verb, "give -f FLEET or --live (one of them)"));
    const char *in = a->wpath ? a->wpath : a->apath;
    if (a->fpath && strcmp(a->fpath, "-") == 0 && strcmp(in, "-") == 0)
        return cli_stop(rc, cli_usage_error(verb, "only one of %s and -f can read standard input "
                                                  "('-')", a->wpath ? "-w" : "--add"));
    return 0;
}

int plan_load_inputs(cli_globals *g, const char *verb, const plan_args *a, wl_file *wf,
                     fl_fleet *fleet, int *rc)
{
    mig_error e = {0};
    if (wl_parse_file(a->wpath ? a->wpath : a->apath, wf, &e) < 0) {
        *rc = cli_report(verb, &e);
        return -1;
    }
    if (plan_load_fleet(g, verb, a->fpath, a->live, fleet, &e) < 0) {
        wl_free(wf);
        *rc = cli_report(verb, &e);
        return -1;
    }
    if (wl_check_profiles(wf, &e) < 0) { /* a profile no model has: a typo */
        fl_free(fleet);
        wl_free(wf);
        *rc = cli_report(verb, &e);
        return -1;
    }
    return 0;
}

int plan_finish_output(const char *verb, json_t *o, const plan_args *a, const fl_fleet *fleet,
                       const pk_gpu *after, unsigned unplaced)
{
    if (o) {
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("\n");
        json_decref(o);
    }
    mig_error e = {0};
    if (a->emit && ((a->k8s && k8s_emit(fleet, after, a->emit, &e) < 0) ||
                    plan_emit_configs(verb, fleet, after, a->emit, &e) < 0))
        return cli_report(verb, &e);
    return unplaced ? 1 : 0;
}
