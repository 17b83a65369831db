/*
 * migparted.h: mig-parted's `version: v1` configuration format, in and out.
 *
 * Accepted exactly as NVIDIA's parser accepts it (reference/mig-tools.md
 * section 1.2): `mig-configs` of named configs, each a list of entries with
 * `devices: all | [i, ...]`, optional `device-filter` (string or list of
 * "0xDDDDVVVV[:0xSSSSssss]"), `mig-enabled`, `mig-devices` (profile -> count,
 * CI-profile names like "1c.3g.40gb" and "+me" names included), strict about
 * unknown keys. Extensions: a key "3g.40gb@4" pins a placement; `uuids:`,
 * `pci-bus-ids:` and `models:` select GPUs beside `devices:`.
 *
 * Parsing uses libyaml's document API; every error names file:line:col
 * (1-based) and what was expected, kind MIG_ERR_INPUT.
 */
#ifndef MIGCTL_CONFIG_MIGPARTED_H
#define MIGCTL_CONFIG_MIGPARTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "model/gpu_state.h"
#include "model/profile_name.h"
#include "util/err.h"

typedef struct {
    char key[64];            /* the key as written: "1c.3g.40gb", "3g.40gb@4" */
    mig_profile_name name;   /* parsed profile part */
    int start;               /* pinned placement start, -1 = any */
    unsigned count;
    unsigned line, col;
} cfg_mig_device;

typedef struct {
    unsigned device_id;      /* 0xDDDDVVVV */
    unsigned subsystem_id;   /* 0xSSSSssss, valid when has_subsystem */
    bool has_subsystem;
} cfg_device_filter;

typedef struct {
    bool all_devices;        /* devices: all */
    bool has_devices;        /* a `devices:` key was given */
    unsigned n_indices;
    unsigned *indices;
    unsigned n_filters;
    cfg_device_filter *filters;
    unsigned n_uuids;
    char **uuids;
    unsigned n_bus_ids;
    char **bus_ids;
    unsigned n_models;
    char **models;
    bool mig_enabled;
    unsigned n_devices;
    cfg_mig_device *devices;
    unsigned line, col;
    /* Extension `mps: true` (with mig-enabled: false): the planner gave these
     * GPUs to CUDA MPS; apply ignores it, `migctl slurm gres` writes an MPS
     * gres for them. */
    bool mps;
} cfg_entry;

typedef struct {
    char *name;
    unsigned n_entries;
    cfg_entry *entries;
    unsigned line, col;
} cfg_config;

typedef struct {
    char *path;              /* for messages; "<stdin>" for "-" */
    unsigned n_configs;
    cfg_config *configs;
} cfg_file;

/* path "-" reads standard input. */
int cfg_parse_file(const char *path, cfg_file *out, mig_error *e);
int cfg_parse_string(const char *text, size_t len, const char *path_for_errors, cfg_file *out,
                     mig_error *e);
void cfg_free(cfg_file *f);

/* The named config; with name NULL the only one (error if several). */
const cfg_config *cfg_select(const cfg_file *f, const char *name, mig_error *e);

/* Does the entry select this GPU? Every selector given must match (the
 * device-filter AND devices rule of mig-parted, extended to uuids,
 * pci-bus-ids and models). */
bool cfg_entry_matches(const cfg_entry *en, const mig_gpu_state *g);

/* The entry of config c that applies to GPU g, or NULL: GPUs no entry names
 * are left untouched (mig-parted semantics). */
const cfg_entry *cfg_entry_for_gpu(const cfg_config *c, const mig_gpu_state *g);

/* Write a v1 file (YAML or JSON). Placements are written as "@start" keys
 * when an entry's devices carry them. */
int cfg_emit_yaml(FILE *out, const cfg_file *f, mig_error *e);
int cfg_emit_json(FILE *out, const cfg_file *f, mig_error *e);

/* ---- additions (config helper) ---- */

/* Free one entry's arrays (cfg_free does this for every entry). */
void cfg_entry_free(cfg_entry *en);

/* "0xDDDDVVVV" or "0xDDDDVVVV:0xSSSSssss", hex case-insensitive; -1 if not. */
int cfg_parse_device_filter(const char *s, cfg_device_filter *out);

/* A PCI bus id "DDDDDDDD:BB:DD.F" or "DDDD:BB:DD.F" (hex, any case) into its
 * numbers, so that "0000:01:00.0" and "00000000:01:00.0" compare equal. */
int cfg_parse_bus_id(const char *s, unsigned *domain, unsigned *bus, unsigned *device,
                     unsigned *function);

/* Write f to path (NULL: standard output) as YAML or JSON; on failure a
 * half-written file is removed. */
int cfg_write(const char *path, const cfg_file *f, bool json, mig_error *e);

/* "0x%08X" or "0x%08X:0x%08X", as mig-parted's files write filters. */
void cfg_format_filter(const cfg_device_filter *fl, char *buf, size_t len);

/* Same meaning: configs, entries, selectors and mig-devices equal, marks
 * (line/col) and the file path ignored. For round-trip checks. */
bool cfg_equal(const cfg_file *a, const cfg_file *b);

/* mig-parted's entries target disjoint GPU sets: fail (MIG_ERR_INPUT) when
 * two entries of c select the same GPU, naming both entries' lines. */
int cfg_check_overlap(const cfg_config *c, const mig_gpu_state *gpus, unsigned n, mig_error *e);

/* Note (through note(ctx, "<line>:<col>: <what>")) every node-specific
 * selector of c that names no GPU among gpus[]: a device index past the
 * last GPU, a UUID or PCI bus id no GPU has. Such entries still apply to the
 * GPUs they do name, as in mig-parted; the notes let the caller warn. */
typedef void (*cfg_note_fn)(void *ctx, const char *msg);
void cfg_unmatched_selectors(const cfg_config *c, const mig_gpu_state *gpus, unsigned n,
                             cfg_note_fn note, void *ctx);

/* For `export`: one config named `label` (NULL: "current") describing the
 * GPUs' current layouts. Per GPU a profile -> count map (a GI whose only CI
 * spans it counts under the GI's name, other CIs under "<C>c.<GI>" names);
 * with placements, every key carries its GI's "@start". GPUs with identical
 * maps share an entry; `devices: all` when one entry covers every GPU, else
 * index lists; device-filter only when GPUs of several PCI device ids are
 * present. GPUs that are not MIG capable are left out; none at all is
 * MIG_ERR_REFUSED. */
int cfg_from_states(const mig_gpu_state *gpus, unsigned n, bool placements, const char *label,
                    cfg_file *out, mig_error *e);

/* For `generate-config`: all-disabled, all-enabled, one all-<profile> per GI
 * profile (label with '+' as '.', count = how many fit at once) and
 * all-balanced (7 compute slices: 2x1g + 1x2g + 1x3g of the smallest-memory
 * base profile per size; 4 slices: 2x1g + 1x2g), for the given models. With
 * several models, entries carry device-filters (each model's PCI ids) and
 * models giving the same profile -> count map share one entry. */
int cfg_generate(const mig_model *const *models, unsigned n_models, cfg_file *out, mig_error *e);

#endif
