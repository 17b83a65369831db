/*
 * backend.c: choosing and opening a backend. The default is nvml when
 * libnvidia-ml.so.1 (or $MIGCTL_NVML_LIB) loads, else the simulator, so the
 * same binary runs on a GPU node and on a laptop; status prints which one
 * answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/backend.h"

const char *sim_default_path(const char *explicit_path)
{
    if (explicit_path && *explicit_path)
        return explicit_path;
    const char *env = getenv("MIGCTL_SIM_STATE");
    return env && *env ? env : NULL;
}

int backend_open(const char *which, const char *sim_path, mig_backend **out, mig_error *e)
{
    const char *lib = getenv("MIGCTL_NVML_LIB");
    if (which && strcmp(which, "sim") == 0)
        return sim_backend_open(sim_default_path(sim_path), out, e);
    if (which && strcmp(which, "nvml") == 0) {
        /* The shim finds the simulator through the environment: hand --sim on. */
        if (sim_path && *sim_path)
            setenv("MIGCTL_SIM_STATE", sim_path, 1);
        return nvml_backend_open(lib, out, e);
    }
    if (which && *which)
        return mig_fail(e, MIG_ERR_INPUT, "unknown backend '%s' (expected nvml or sim)", which);
    /* Default: a simulator state file (--sim or $MIGCTL_SIM_STATE) wins, so a
     * user pointing at a simulator never touches a real GPU by accident; then
     * NVML if it loads; else the simulator, which says how to create a state. */
    if (sim_path && *sim_path)
        return sim_backend_open(sim_path, out, e);
    if (nvml_backend_open(lib, out, e) == 0)
        return 0;
    char why_not_nvml[sizeof e->msg];
    snprintf(why_not_nvml, sizeof why_not_nvml, "%s", e->msg);
    if (sim_backend_open(sim_default_path(NULL), out, e) == 0)
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
