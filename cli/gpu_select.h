/*
 * gpu_select.h: what `-i` accepts in every verb, as nvidia-smi's -i does: a
 * GPU index, a GPU UUID ("GPU-..."), a PCI bus id ("00000000:18:00.0",
 * "0000:18:00.0" or "18:00.0", any case), and where a verb takes several
 * GPUs, "all" or a comma list of these ("0,2", "GPU-...,3").
 */
#ifndef MIGCTL_CLI_GPU_SELECT_H
#define MIGCTL_CLI_GPU_SELECT_H

#include <stdbool.h>

#include "gpu/backend.h"
#include "util/err.h"

/* Resolve text against the backend's GPUs into indexes (in the order given,
 * duplicates dropped). many=false: exactly one GPU must be named (a list or
 * "all" is a usage error). Errors are MIG_ERR_INPUT naming what did not
 * match and what exists, or the backend's error. out holds up to
 * MIG_SELECT_MAX indexes. */
#define MIG_SELECT_MAX 64
int cli_gpu_select(mig_backend *b, const char *text, bool many, unsigned *out, unsigned *n_out,
                   mig_error *e);

/* One GPU: cli_gpu_select with many=false. */
int cli_gpu_one(mig_backend *b, const char *text, unsigned *gpu, mig_error *e);

/* True when text is syntactically something -i may take (checked at option
 * parsing time so a typo is a usage error before anything opens). */
bool cli_gpu_text_ok(const char *text, bool many);

#endif
