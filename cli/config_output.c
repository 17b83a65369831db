/*
 * config_output.c: output options and ending shared by `export` and
 * `generate-config` (config_output.h).
 */
#include <string.h>

#include "cli/config_output.h"

int cli_config_out_option(const char *verb, int c, const char *arg, cli_config_out *o, int *code)
{
    switch (c) {
    case 'o':
        if (strcmp(arg, "yaml") && strcmp(arg, "json"))
            return cli_stop(code, cli_usage_error(verb, "unknown output format '%s'; expected "
                                                        "yaml or json", arg));
        o->json = !strcmp(arg, "json");
        return 1;
    case 'j':
        o->json = true;
        return 1;
    case 'f':
        o->output = strcmp(arg, "-") ? arg : NULL; /* '-': standard output */
        return 1;
    }
    return 0;
}

int cli_config_out_finish(const char *verb, const cli_config_out *o, cfg_file *f, int rc,
                          mig_error *e)
{
    if (rc == 0)
        rc = cfg_write(o->output, f, o->json, e);
    cfg_free(f);
    return rc < 0 ? cli_report(verb, e) : 0;
}
