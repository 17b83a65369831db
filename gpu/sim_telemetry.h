/*
 * sim_telemetry.h: the simulator's telemetry as gpu/sim_file.c reads and
 * writes it (the optional "telemetry" list of the state file), and as the
 * sim backend reports it (a gpu/sample.h sample built from the state).
 *
 * File form (absent when nothing is scripted, so files without telemetry
 * read and write exactly as before):
 *   "telemetry": [{"gpu": 0,
 *      "load": {"sm": 0.9, "occupancy": 0.6, "tensor": 0, "dram": 0.2, "memory_mib": 4096},
 *      "gi_load": [{"gi": 1, "sm": ..., ...}],
 *      "ecc": {"sbe_volatile": 0, "dbe_volatile": 1, "sbe_aggregate": 0, "dbe_aggregate": 1},
 *      "remapped_rows": {"correctable": 0, "uncorrectable": 1, "pending": true, "failure": false},
 *      "xid": {"total": 2, "recent": [48, 79]}}]
 */
#ifndef MIGCTL_GPU_SIM_TELEMETRY_H
#define MIGCTL_GPU_SIM_TELEMETRY_H

#include <jansson.h>

#include "gpu/sample.h"
#include "gpu/sim.h"

/* Read root's "telemetry" into s->tele (after the GPUs are parsed). */
int sim_telemetry_parse(json_t *root, const char *name, sim_state *s, mig_error *e);
/* Add "telemetry" to root when anything is scripted; loads of GPU
 * instances that no longer exist are dropped (a new instance starts idle). */
void sim_telemetry_dump(const sim_state *s, json_t *root);

/* GPU gpu's sample: memory, metrics (scripted load, or unsupported on a
 * model without GPM), processes with memory, health. health.xid_count is
 * every Xid ever injected; a front door subtracts what its watcher saw. */
void sim_fill_sample(const sim_state *s, unsigned gpu, mig_gpu_sample *out);

#endif
