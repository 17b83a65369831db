/*
 * cmd_exporter.c: `migctl exporter [--listen 127.0.0.1:9400] [--interval S]
 * [--desired FILE -c NAME]`: serve /metrics (Prometheus) and /healthz from
 * metrics/exporter.h until SIGTERM or SIGINT. Logs one line per event on
 * stderr; prints the address it listens on (with the port chosen when the
 * port is 0) on stdout once it serves.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "config/migparted.h"
#include "metrics/exporter.h"

static void exporter_usage(FILE *out)
{
    fprintf(out,
            "usage: migctl exporter [--listen ADDR:PORT] [--interval S] [-i N]\n"
            "                       [--desired FILE -c NAME]\n\n"
            "Serve the GPUs' telemetry in the Prometheus text format on /metrics, with\n"
            "dcgm-exporter's metric names and labels where it has them (DCGM_FI_PROF_*,\n"
            "DCGM_FI_DEV_FB_*, DCGM_FI_DEV_XID_ERRORS, DCGM_FI_DEV_ECC_*) and migctl_* series\n"
            "for the layout, free capacity, stranded slices, busy instances, health and drift\n"
            "(docs/metrics.md). Samples every S seconds in its own thread; a scrape gets the\n"
            "last sample. /healthz answers 200 while sampling works. Stops on SIGTERM/SIGINT.\n\n"
            "  --listen ADDR:PORT  where to listen (default 127.0.0.1:9400, loopback only;\n"
            "                      0.0.0.0:9400 for every interface; port 0: any free port)\n"
            "  --interval S        seconds between samples (default 5, at least 0.2)\n"
            "  -i, --gpu N         only GPU N\n"
            "  --desired FILE      a mig-parted v1 config; with -c NAME exports migctl_gpu_drift\n"
            "  -c, --config NAME   the config of FILE to compare with\n");
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s migctl exporter: %s\n", when, line);
}

int cmd_exporter(int argc, char **argv, cli_globals *g)
{
    static const struct option opts[] = {{"listen", required_argument, 0, 'l'},
                                         {"interval", required_argument, 0, 'n'},
                                         {"gpu", required_argument, 0, 'i'},
                                         {"desired", required_argument, 0, 'd'},
                                         {"config", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    exporter_config cfg = {.listen = "127.0.0.1:9400", .interval = 5, .log = log_line};
    const char *desired = NULL, *config = NULL;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': cfg.listen = optarg; break;
        case 'n': {
            char *end;
            cfg.interval = strtod(optarg, &end);
            if (end == optarg || *end || !(cfg.interval >= 0.2) || cfg.interval > 86400)
                return cli_usage_error("exporter",
                                       "--interval needs seconds (0.2 or more), not '%s'", optarg);
            break;
        }
        case 'i':
            if (!cli_parse_uint(optarg, &cfg.mo.only))
                return cli_usage_error("exporter", "-i needs a GPU index, not '%s'", optarg);
            cfg.mo.one = true;
            break;
        case 'd': desired = optarg; break;
        case 'c': config = optarg; break;
        case 'h': exporter_usage(stdout); return 0;
        default: return cli_option_error("exporter", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("exporter", "unexpected argument '%s'", argv[optind]);
    if (!desired != !config)
        return cli_usage_error("exporter", "--desired FILE and -c NAME go together");
    mig_error e;
    char host[256];
    unsigned port;
    if (exporter_parse_listen(cfg.listen, host, sizeof host, &port, &e) < 0)
        return cli_report("exporter", &e);
    cfg_file f;
    bool have_file = false;
    if (desired) {
        if (cfg_parse_file(desired, &f, &e) < 0)
            return cli_report("exporter", &e);
        have_file = true;
        cfg.mo.desired = cfg_select(&f, config, &e);
        if (!cfg.mo.desired) {
            cfg_free(&f);
            return cli_report("exporter", &e);
        }
    }
    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    mig_backend *b;
    if (cli_open_backend(g, &b, &e) < 0) {
        if (have_file)
            cfg_free(&f);
        return cli_report("exporter", &e);
    }
    exporter *x;
    if (exporter_start(b, &cfg, &x, &e) < 0) {
        backend_close(b);
        if (have_file)
            cfg_free(&f);
        return cli_report("exporter", &e);
    }
    bool v6 = strchr(host, ':') != NULL;
    printf("migctl exporter: listening on http://%s%s%s:%u/metrics (backend %s, every %gs)\n",
           v6 ? "[" : "", host, v6 ? "]" : "", exporter_port(x), b->ops->name, cfg.interval);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    log_line(NULL, sig == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping");
    exporter_stop(x);
    backend_close(b);
    if (have_file)
        cfg_free(&f);
    return 0;
}
