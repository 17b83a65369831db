/*
 * pending.c: TEMPORARY weak placeholders for the backend constructors while
 * gpu/sim_backend.c and gpu/nvml.c are written. Must be gone before release.
 */
#include "gpu/backend.h"

__attribute__((weak)) int sim_backend_open(const char *path, mig_backend **out, mig_error *e)
{
    (void)path, (void)out;
    return mig_fail(e, MIG_ERR_BACKEND, "simulator backend not built yet");
}

__attribute__((weak)) int nvml_backend_open(const char *lib_path, mig_backend **out, mig_error *e)
{
    (void)lib_path, (void)out;
    return mig_fail(e, MIG_ERR_BACKEND, "nvml backend not built yet");
}
