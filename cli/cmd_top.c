/*
 * cmd_top.c: `migctl top [-i N] [--interval S] [--once] [--json]`, a live
 * view of every slice (metrics/metrics.h draws it): on a terminal it
 * redraws in place every interval until q or Ctrl-C; --once draws one
 * frame, --json prints one snapshot as JSON (the same figures the exporter
 * serves). Off a terminal without --once, frames follow one another.
 */
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "metrics/metrics.h"

static void top_usage(FILE *out)
{
    fprintf(out,
            "usage: migctl top [-i N] [--interval S] [--once] [--json]\n\n"
            "Live view of every GPU (or GPU N) and its slices: per GPU instance its profile,\n"
            "placement, bars for SM activity, DRAM bandwidth (against the slice's own share\n"
            "of the card, e.g. 4/8 memory slices) and memory, its processes; the GPU's\n"
            "totals, free capacity, stranded slices and health. An unhealthy GPU (Xid,\n"
            "uncorrectable ECC, row remapping) is marked with every instance, MIG UUID and\n"
            "process in its fault domain. 'n/a': the driver does not report it.\n\n"
            "  -i, --gpu N      only GPU N\n"
            "  --interval S     seconds between refreshes (default 2, at least 0.2)\n"
            "  --once           draw one frame and exit\n"
            "  --json           print one snapshot as JSON and exit\n"
            "  q or Ctrl-C quits the live view.\n");
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
    if (tio_saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    fputs("\033[?25h", stdout); /* cursor back */
    fflush(stdout);
}

static unsigned term_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 120;
}

/* Wait up to secs for a key; true when it was q (or a signal came). */
static bool wait_key(double secs, bool tty_in)
{
    int ms = (int)(secs * 1000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!stop_flag) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int left = ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0)
            return false;
        if (!tty_in) {
            usleep((useconds_t)(left > 100 ? 100000 : left * 1000));
            continue;
        }
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        int r = poll(&p, 1, left);
        if (r > 0) {
            char ch;
            if (read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q' || ch == 3))
                return true;
        }
    }
    return true;
}

int cmd_top(int argc, char **argv, cli_globals *g)
{
    static const struct option opts[] = {{"gpu", required_argument, 0, 'i'},
                                         {"interval", required_argument, 0, 'n'},
                                         {"once", no_argument, 0, 'o'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    metrics_options mo = {0};
    double interval = 2;
    bool once = false, json = false;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_parse_uint(optarg, &mo.only))
                return cli_usage_error("top", "-i needs a GPU index, not '%s'", optarg);
            mo.one = true;
            break;
        case 'n': {
            char *end;
            interval = strtod(optarg, &end);
            if (end == optarg || *end || !(interval >= 0.2) || interval > 86400)
                return cli_usage_error("top", "--interval needs seconds (0.2 or more), not '%s'",
                                       optarg);
            break;
        }
        case 'o': once = true; break;
        case 'j': json = true; break;
        case 'h': top_usage(stdout); return 0;
        default: return cli_option_error("top", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("top", "unexpected argument '%s'", argv[optind]);
    mig_error e;
    mig_backend *b;
    if (cli_open_backend(g, &b, &e) < 0)
        return cli_report("top", &e);
    metrics_node n;
    bool tty = isatty(STDOUT_FILENO);
    if (once || json) {
        int rc = metrics_collect_settled(b, &mo, 0.2, &n, &e);
        if (rc == 0 && json) {
        {
            /* 10 significant digits: 0.35 prints as 0.35, as the exporter writes it */
            json_t *root = metrics_node_json(&n);
            json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
            putchar('\n');
            json_decref(root);
        }
        } else if (rc == 0) {
            char *text = metrics_top_text(&n, tty ? term_width() : 120, g->color);
            if (text)
                fputs(text, stdout);
            free(text);
        }
        metrics_node_free(&n);
        backend_close(b);
        return rc < 0 ? cli_report("top", &e) : 0;
    }
    bool tty_in = tty && isatty(STDIN_FILENO);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (tty_in && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    if (tty)
        fputs("\033[?25l", stdout); /* hide the cursor while redrawing */
    int rc = 0;
    bool first = true;
    while (!stop_flag) {
        rc = first ? metrics_collect_settled(b, &mo, 0.2, &n, &e) : metrics_collect(b, &mo, &n, &e);
        first = false;
        if (rc < 0) {
            metrics_node_free(&n);
            break;
        }
        char *text = metrics_top_text(&n, tty ? term_width() : 120, g->color);
        metrics_node_free(&n);
        if (tty)
            fputs("\033[H\033[2J", stdout); /* home, clear: redraw in place */
        else
            fputs("\n", stdout);
        if (text)
            fputs(text, stdout);
        if (tty)
            fputs("\n(q quits)", stdout);
        free(text);
        fflush(stdout);
        if (wait_key(interval, tty_in))
            break;
    }
    if (tty) {
        restore_tty();
        fputs("\n", stdout);
    }
    backend_close(b);
    return rc < 0 ? cli_report("top", &e) : 0;
}
