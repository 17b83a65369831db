/*
 * config_output.h: the flow `export` and `generate-config` share. Both build
 * a v1 config (cfg_file) and write it as YAML or JSON to standard output or
 * a file; their output options (-o/--output-format, --json, -f/--output) and
 * the write-report-release ending are the same, so they live here once.
 */
#ifndef MIGCTL_CLI_CONFIG_OUTPUT_H
#define MIGCTL_CLI_CONFIG_OUTPUT_H

#include <getopt.h>
#include <stdbool.h>

#include "cli/cli.h"
#include "config/migparted.h"

typedef struct {
    bool json;          /* -o json or --json */
    const char *output; /* -f FILE; NULL: standard output ("-" also means it) */
} cli_config_out;

/* The output options' long forms, to append to a verb's table ('o', 'j', 'f'). */
#define CLI_CONFIG_OUT_LONGS                                                                       \
    {"output-format", required_argument, NULL, 'o'}, {"json", no_argument, NULL, 'j'},            \
        {"output", required_argument, NULL, 'f'}, {"output-file", required_argument, NULL, 'f'}

/* The short options they add to an optstring. */
#define CLI_CONFIG_OUT_SHORTS "o:f:"

/* Handle getopt's c when it is one of the output options: 1 (handled),
 * 0 (not one of them), or -1 (a usage error: stop, *code set). */
int cli_config_out_option(const char *verb, int c, const char *arg, cli_config_out *o, int *code);

/* The shared ending: when rc is 0 write f as o says; release f; report an
 * error of either step once. Returns the exit code. */
int cli_config_out_finish(const char *verb, const cli_config_out *o, cfg_file *f, int rc,
                          mig_error *e);

#endif
