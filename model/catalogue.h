/*
 * catalogue.h: every MIG-capable GPU model migctl knows, with its GPU-instance
 * profiles, placements and compute-instance rules.
 *
 * The data is one table (model/catalogue_data.c), transcribed from
 * reference/mig-profiles.md section 2 and checked by the unit tests against
 * the readings taken off a real H100 and H200 (tests/data/hardware/). Numbers
 * that no public output shows (B200/GB200 3g/4g/7g rows) are inferred and the
 * model's `source` says so.
 *
 * Profiles are referred to in three ways, never to be confused
 * (reference/mig-profiles.md section 1.1):
 *   - the NVML profile *index* (NVML_GPU_INSTANCE_PROFILE_1_SLICE = 0, ...),
 *   - the device-specific profile *id* (19 for 1g on H100, 14 on A30),
 *   - the position of the profile in mig_model.profiles[], which is what the
 *     layout geometry (model/layout.h) uses.
 * Pure data and lookups: no I/O, no globals beyond the const table.
 */
#ifndef MIGCTL_MODEL_CATALOGUE_H
#define MIGCTL_MODEL_CATALOGUE_H

#include <stdbool.h>

#include "util/err.h"

#define MIG_MAX_PROFILES 16   /* GI profiles per model (RTX PRO 6000 has 11) */
#define MIG_MAX_STARTS 8      /* placements per profile (7 for a 1g) */
#define MIG_MAX_SLOTS 12      /* memory slices / placement units (RTX PRO: 12) */
#define MIG_MAX_GI 8          /* GPU instances per GPU (RM table size) */
#define MIG_MAX_CI 8          /* compute instances per GPU instance */
#define MIG_MAX_CI_PROFILES 8 /* CI profiles valid inside one GI */
#define MIG_MAX_PCI_IDS 8
#define MIG_NAME_LEN 32

/* The suffix of a profile name; also what sets engine exclusivity. */
typedef enum {
    MIG_ATTR_NONE = 0,
    MIG_ATTR_ME,     /* "+me": at least one media engine (NVML *_REV1) */
    MIG_ATTR_ME_ALL, /* "+me.all": all media engines (NVML *_ALL_ME) */
    MIG_ATTR_NO_ME,  /* "-me": no media engines (NVML *_NO_ME) */
    MIG_ATTR_GFX,    /* "+gfx": graphics capable (NVML *_GFX) */
} mig_attr;

typedef enum {
    MIG_ARCH_AMPERE,    /* mode change needs a GPU reset; mode persists across reboot */
    MIG_ARCH_HOPPER,    /* mode switches without reset; lost on reboot */
    MIG_ARCH_BLACKWELL, /* as Hopper */
} mig_arch;

typedef struct {
    char name[MIG_NAME_LEN];     /* "1g.10gb+me", as nvidia-smi prints it after "MIG " */
    unsigned index;              /* NVML GI profile index */
    unsigned id;                 /* device-specific profile id */
    unsigned compute_slices;     /* NVML sliceCount */
    unsigned memory_slices;      /* placement size, in memory slices */
    unsigned long long memory_mib; /* NVML memorySizeMB */
    unsigned sm_count;           /* NVML multiprocessorCount */
    unsigned copy_engines, decoders, encoders, jpeg, ofa;
    unsigned instance_count;     /* NVML instanceCount: the per-profile cap */
    unsigned n_starts;
    unsigned char starts[MIG_MAX_STARTS]; /* valid placement starts, ascending */
    mig_attr attr;
    bool p2p;                    /* isP2pSupported (0 on every GPU seen) */
} mig_gi_profile;

typedef struct {
    char name[MIG_NAME_LEN];     /* "1c.3g.40gb", or the GI's name for the full CI */
    unsigned id;                 /* CI profile id (= NVML CI profile index) */
    unsigned compute_slices;
    unsigned instance_count;     /* how many fit in an empty GI */
    unsigned sm_count;
    unsigned n_starts;
    unsigned char starts[MIG_MAX_STARTS]; /* placement starts in compute slices within the GI */
    bool is_default;             /* the profile `nvidia-smi -C` / `-cci` uses ('*') */
} mig_ci_profile;

typedef struct {
    const char *name;            /* "H100-SXM5-80GB": <family>-<form>-<memory>GB */
    const char *nvml_name;       /* "NVIDIA H100 80GB HBM3", nvmlDeviceGetName */
    mig_arch arch;
    unsigned n_pci_ids;
    unsigned pci_device_ids[MIG_MAX_PCI_IDS]; /* 0xDDDDVVVV; [0] is the model's own */
    unsigned pci_subsystem_id;   /* of the board the readings came from; 0 if unknown */
    unsigned long long memory_bytes; /* total memory as NVML reports it */
    unsigned memory_slices;      /* 8, 4 (A30) or 12 (RTX PRO 6000) placement units */
    unsigned compute_slices;     /* 7 or 4 */
    unsigned sm_count;           /* SMs with MIG off */
    unsigned max_gis;            /* most GPU instances at once */
    bool gpm;                    /* GPM metrics (Hopper and later) */
    const char *source;          /* where the numbers come from, and what is inferred */
    unsigned n_profiles;
    mig_gi_profile profiles[MIG_MAX_PROFILES]; /* in nvidia-smi -lgip order */
} mig_model;

/* The whole table. */
const mig_model *mig_catalogue(unsigned *n_models);

/* Lookups; NULL when nothing matches. Names compare case-insensitively. */
const mig_model *mig_model_by_name(const char *name);
const mig_model *mig_model_by_pci(unsigned pci_device_id); /* 0xDDDDVVVV */
const mig_model *mig_model_by_nvml_name(const char *nvml_name);
/* By catalogue name, else by NVML name; NULL with MIG_ERR_INPUT
 * "unknown model 'X' (known: A30-24GB, ...)" when neither matches. */
const mig_model *mig_model_find(const char *name, mig_error *e);

/* Profiles of one model. by_name accepts an optional "MIG " prefix. */
const mig_gi_profile *mig_profile_by_id(const mig_model *m, unsigned id);
const mig_gi_profile *mig_profile_by_index(const mig_model *m, unsigned nvml_index);
const mig_gi_profile *mig_profile_by_name(const mig_model *m, const char *name);
/* Position of p in m->profiles[] (what mig_layout stores), or -1. */
int mig_profile_pos(const mig_model *m, const mig_gi_profile *p);

/* The CI profiles valid inside a GI of profile gi (NVIDIA's rule: C <= G and
 * (C == G or 2C <= G+1)), smallest first. Returns the count. */
unsigned mig_ci_profiles(const mig_model *m, const mig_gi_profile *gi,
                         mig_ci_profile out[MIG_MAX_CI_PROFILES]);
/* The default CI profile of a GI (the one with is_default). */
bool mig_ci_default(const mig_model *m, const mig_gi_profile *gi, mig_ci_profile *out);
/* CI profile by id within a GI; false if not valid there. */
bool mig_ci_profile_by_id(const mig_model *m, const mig_gi_profile *gi, unsigned ci_id,
                          mig_ci_profile *out);

const char *mig_arch_name(mig_arch a);

/* The CI profile id that stands for ci_id when devices are compared: a CI
 * that spans its whole GI is one device whatever its profile id (mig-parted
 * creates CI profile 0 in a 1g.20gb GI, where the default is 7), so every
 * full-span profile maps to the GI's default CI profile; any other id (or
 * one not valid in gi) maps to itself. */
unsigned mig_ci_canonical_id(const mig_model *m, const mig_gi_profile *gi, unsigned ci_id);

#endif
