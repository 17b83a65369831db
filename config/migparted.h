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

#endif
