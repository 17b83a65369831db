/*
 * backend.c: choosing and opening a backend. The default is nvml when
 * libnvidia-ml.so.1 (or the library the options name) loads, else the
 * simulator, so the same binary runs on a GPU node and on a laptop; status
 * prints which one answered. Everything comes in mig_backend_options: this
 * layer neither reads nor sets the environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/backend.h"

const char *sim_default_path(const char *explicit_path)
{
    return explicit_path && *explicit_path ? explicit_path : NULL;
}

int backend_open(const mig_backend_options *o, mig_backend **out, mig_error *e)
{
    const char *which = o->which, *lib = o->nvml_lib;
    const char *sim_path = sim_default_path(o->sim_path);
    if (which && strcmp(which, "sim") == 0)
        return sim_backend_open(sim_path, out, e);
    if (which && strcmp(which, "nvml") == 0)
        return nvml_backend_open(lib, out, e);
    if (which && *which)
        return mig_fail(e, MIG_ERR_INPUT, "unknown backend '%s' (expected nvml or sim)", which);
    /* Default: a simulator state file (--sim or $MIGCTL_SIM_STATE) wins, so a
     * user pointing at a simulator never touches a real GPU by accident; then
     * NVML if it loads; else the simulator, which says how to create a state. */
    if (sim_path)
        return sim_backend_open(sim_path, out, e);
    if (nvml_backend_open(lib, out, e) == 0)
        return 0;
    char why_not_nvml[sizeof e->msg];
    snprintf(why_not_nvml, sizeof why_not_nvml, "%s", e->msg);
    if (sim_backend_open(NULL, out, e) == 0)
        return 0;
    /* Neither: say both, so a user on a GPU node sees why NVML failed. */
    mig_error_prefix(e, "no GPU through NVML (%s), and the simulator", why_not_nvml);
    return -1;
}

void backend_close(mig_backend *b)
{
    if (b && b->ops && b->ops->close)
        b->ops->close(b);
}
