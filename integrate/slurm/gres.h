/*
 * gres.h: a node's GPUs as Slurm generic resources (gres.conf lines and the
 * Gres= string of its NodeName line), and the files that carry them.
 *
 * One gres/gpu record per MIG device (Type = its profile name, the name users
 * request: --gres=gpu:1g.10gb:1), with MultipleFiles= the parent /dev/nvidiaN
 * and the GI and CI capability devices /dev/nvidia-caps/nvidia-capM; one per
 * whole GPU with MIG off (Type = the model name); and for a GPU planned for
 * MPS, `Name=mps Count=100 File=/dev/nvidiaN` beside its whole-GPU record.
 *
 * Two facts of Slurm 22.05 shape the list (both measured, docs/slurm.md):
 *  - slurmctld kills every running job on a node whose gres/gpu count changes
 *    when it restarts, and the count can change no other way. So every GPU
 *    always owns a fixed block of `slots` records (its model's compute slice
 *    count: 7 on H100), the unused ones typed "spare" on a device of their
 *    own; a reconfiguration changes types, never the count, and the jobs on
 *    the node keep running.
 *  - gres/mps splits MultipleFiles records into one record per file, so on a
 *    node with an MPS GPU the MIG records name only their CI capability
 *    device (File=), which is unique per MIG device.
 * Index stability: Slurm numbers gres/gpu records in gres.conf order, so a
 * MIG device that stays keeps its slot (matched by GPU, GI id, CI id and
 * type against the previous lines), and the index Slurm gave a running job
 * still names the same slice afterwards.
 *
 * Every record migctl writes carries a trailing comment
 * "# migctl: slot=S gpu=G gi=I ci=C uuid=MIG-..." that the task prolog reads
 * to map Slurm's indices to MIG UUIDs; a node's records sit between
 * "# migctl: begin NodeName=N" and "# migctl: end NodeName=N" so that one
 * gres.conf can hold every node's block and each is replaced alone.
 */
#ifndef MIGCTL_INTEGRATE_SLURM_GRES_H
#define MIGCTL_INTEGRATE_SLURM_GRES_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "model/gpu_state.h"
#include "util/err.h"

#define SG_MAX_ENTRIES 1024
#define SG_MAX_FILES 3
#define SG_PATH_LEN 256
#define SG_TYPE_LEN 64

/* Capability device minors, as /proc/driver/nvidia-caps/mig-minors lists them
 * ("gpu0/gi1/access 12", "gpu0/gi1/ci0/access 13"). */
#define SG_MAX_MINOR_GPUS 32
#define SG_MAX_MINOR_GIS 15
typedef struct {
    int gi[SG_MAX_MINOR_GPUS][SG_MAX_MINOR_GIS];      /* -1: not listed */
    int ci[SG_MAX_MINOR_GPUS][SG_MAX_MINOR_GIS][8];
    unsigned spare_base;  /* first minor past every listed one: spare slots' devices */
} sg_minors;

/* The driver's scheme (3 + gpu*135 + gi*9 [+ 1 + ci]), used by the simulator
 * and when the node has no mig-minors file. */
void sg_minors_default(sg_minors *m);
/* Read a mig-minors file; MIG_ERR_INPUT on a line that does not parse. */
int sg_minors_read(const char *path, sg_minors *m, mig_error *e);

typedef enum { SG_MIG, SG_WHOLE, SG_SPARE, SG_MPS } sg_kind;

#define SG_NO_GPU 0xffffffffu /* a parsed record without migctl's comment */

typedef struct {
    sg_kind kind;
    unsigned gpu;             /* GPU index on the node */
    unsigned slot;            /* within the GPU's block (gpu records) */
    int gi, ci;               /* MIG: the GI and CI ids; else -1 */
    char type[SG_TYPE_LEN];   /* profile, model name, "spare"; "" for mps */
    char uuid[MIG_UUID_LEN];  /* MIG-... or GPU-...; "" for spares */
    unsigned n_files;
    char files[SG_MAX_FILES][SG_PATH_LEN];
    unsigned major[SG_MAX_FILES], minor[SG_MAX_FILES];
    int index;                /* Slurm's index among the node's gpu records; mps: its GPU's
                                 whole-GPU record */
} sg_entry;

typedef struct {
    char node[64];
    unsigned n;
    sg_entry e[SG_MAX_ENTRIES];
} sg_node;

/* What the caller knows besides the GPU states. */
typedef struct {
    const char *node;         /* NodeName */
    const char *dev_dir;      /* where nvidiaN and nvidia-caps/ live ("/dev") */
    const sg_minors *minors;
    const bool *mps;          /* per GPU index: planned for MPS (may be NULL) */
    const sg_node *prev;      /* the node's current records, for stable slots (may be NULL) */
    unsigned caps_major;      /* major of nvidia-caps devices (for creating them) */
} sg_params;

/* GPU records slots per GPU: compute slices of its model when MIG capable, else 1. */
unsigned sg_slots(const mig_gpu_state *g);

/* Build the records for GPUs gpus[0..n). A MIG GPU gets one record per CI;
 * a GPU with MIG off one whole-GPU record (plus an mps record when p->mps
 * says so); every GPU's block is padded with spares. */
int sg_build(const mig_gpu_state *gpus, unsigned n, const sg_params *p, sg_node *out,
             mig_error *e);

/* Does the node have an mps record? */
bool sg_has_mps(const sg_node *n);

/* The gres.conf block (begin/end comments included, one line per record). */
void sg_write_conf(FILE *out, const sg_node *n);
/* "gpu:1g.10gb:2,gpu:3g.40gb:1,gpu:spare:4,mps:100" into buf. */
void sg_gres_string(const sg_node *n, char *buf, size_t len);
/* --json: {"node", "gres", "entries": [{"name", "type", "index", "gpu", "gi", "ci",
 * "uuid", "files"}]} (spares included, type "spare"). */
json_t *sg_json(const sg_node *n);

/* Read the records of one node from gres.conf text: the lines whose first
 * token is NodeName=<node> (exact), in order; indices as Slurm counts them.
 * Records migctl did not write get kind SG_WHOLE with what the line says. */
int sg_parse_conf(const char *text, const char *node, sg_node *out, mig_error *e);

/* Create the device files of the records that are missing (mknod, char
 * devices, as root), and the nvidia-caps folder. An existing path that is
 * not a character device is an error. */
int sg_make_devices(const sg_node *n, mig_error *e);

/* Text edits, each returning a new heap string (NULL + e on failure):
 * gres.conf with the node's block replaced (or appended), old lines for the
 * node outside any block dropped; slurm.conf with the Gres= of the line
 * "NodeName=<node> ..." set (the line must exist), and GresTypes= given
 * "mps" when with_mps. */
char *sg_replace_block(const char *conf, const sg_node *n, mig_error *e);
char *sg_set_node_gres(const char *slurm_conf, const char *node, const char *gres, bool with_mps,
                       mig_error *e);
/* The Gres= value of the node's line in slurm.conf text, into buf; -1 when the
 * line is missing. */
int sg_get_node_gres(const char *slurm_conf, const char *node, char *buf, size_t len,
                     mig_error *e);

/* The task prolog's mapping: Slurm's gpu indices (a list such as "0,3-4")
 * to the UUIDs of those records, comma-separated into buf. A record with no
 * UUID (a spare, or a line migctl did not write) is an error naming it. */
int sg_map_indices(const sg_node *n, const char *indices, char *buf, size_t len, mig_error *e);

#endif
