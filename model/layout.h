/*
 * layout.h: MIG layout geometry, pure functions over one GPU's set of GPU
 * instances (profile + placement) and, separately, over the compute
 * instances inside one GPU instance.
 *
 * A GI occupies the memory slices [start, start + memory_slices) of its
 * profile; the 7-vs-8 compute/memory asymmetry is carried entirely by the
 * placement lists in the catalogue, so "valid" means: start in the profile's
 * list, no memory slice shared with another GI, per-profile instance cap not
 * reached, and the +me.all / -me engine exclusivity respected. These are the
 * driver's rules (reference/mig-profiles.md section 4) and the simulator, the
 * reconciler and the planner all answer from here, so they cannot disagree.
 *
 * mig_layout is small and flat (no pointers) so that the planner can copy and
 * compare millions of them.
 */
#ifndef MIGCTL_MODEL_LAYOUT_H
#define MIGCTL_MODEL_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "model/catalogue.h"
#include "util/err.h"

typedef struct {
    unsigned char profile; /* position in mig_model.profiles[] */
    unsigned char start;   /* first memory slice */
} mig_gi_place;

typedef struct {
    unsigned char n;
    mig_gi_place gi[MIG_MAX_GI];
} mig_layout;

/* Why an instance does not fit. Maps onto NVML codes with mig_fit_nvml_rc. */
typedef enum {
    MIG_FIT_OK = 0,
    MIG_FIT_BAD_PLACEMENT, /* start not in the placement list: INVALID_ARGUMENT */
    MIG_FIT_OVERLAP,       /* a memory slice is taken: INSUFFICIENT_RESOURCES */
    MIG_FIT_CAP,           /* instance count of the profile reached: INSUFFICIENT_RESOURCES */
    MIG_FIT_ENGINES,       /* +me.all / -me exclusivity: INSUFFICIENT_RESOURCES */
    MIG_FIT_FULL,          /* no GI slot left (max_gis): INSUFFICIENT_RESOURCES */
    MIG_FIT_NO_ROOM,       /* no free placement at all (auto placement): INSUFFICIENT_RESOURCES */
} mig_fit;

int mig_fit_nvml_rc(mig_fit f);
const char *mig_fit_text(mig_fit f); /* "placement not allowed", "overlaps ...", ... */

/* ---- GPU instances on one GPU ---- */

/* Bit i set = memory slice i is taken. */
unsigned layout_mask(const mig_model *m, const mig_layout *l);
unsigned layout_compute_used(const mig_model *m, const mig_layout *l);
unsigned layout_memory_used(const mig_model *m, const mig_layout *l);
unsigned layout_count(const mig_layout *l, unsigned profile);

bool layout_start_valid(const mig_gi_profile *p, unsigned start);

/* Could a GI of `profile` be created at `start` now? When several reasons
 * apply, the first in this order is given: BAD_PLACEMENT (also for a
 * profile position out of range), CAP, ENGINES, FULL, OVERLAP. */
mig_fit layout_fits(const mig_model *m, const mig_layout *l, unsigned profile, unsigned start);

/* How many more GIs of `profile` can be created now: NVML
 * GetGpuInstanceRemainingCapacity (free placements, capped by the count). */
unsigned layout_remaining(const mig_model *m, const mig_layout *l, unsigned profile);

/* The start the driver picks when no placement is given (observed order:
 * 1g 6,4,5,0,1,2,3; 2g 4,0,2; 3g 4,0; double-memory 1g 4,0,2,6; lowest first
 * on 4- and 12-unit GPUs), or -1 when nothing fits. */
int layout_auto_start(const mig_model *m, const mig_layout *l, unsigned profile);

/* Whole-layout validity; on failure *bad is the index of the first GI that
 * does not fit with those before it. */
mig_fit layout_check(const mig_model *m, const mig_layout *l, unsigned *bad);

void layout_add(mig_layout *l, unsigned profile, unsigned start); /* no checks */
void layout_remove(mig_layout *l, unsigned i);
void layout_sort(mig_layout *l); /* canonical order: by start, then profile */
bool layout_equal(const mig_layout *a, const mig_layout *b); /* as sets */

/* Maximal = no GI of an allowed profile can be added. allowed[pos] per
 * profile position; NULL = the base profiles (no +me/+me.all/-me/+gfx). */
bool layout_maximal(const mig_model *m, const mig_layout *l, const bool *allowed);

/* Visit every maximal layout built from allowed profiles, each once (as a set
 * of placed GIs), in a deterministic order: the whole-GPU layout first, GIs
 * of each layout sorted by start. A non-zero return from visit stops the walk
 * and is returned. No allocation; about 12 us for the 78 layouts of an
 * H100's base profiles (-O2). */
typedef int (*layout_visit_fn)(const mig_layout *l, void *ctx);
int layout_enumerate_maximal(const mig_model *m, const bool *allowed,
                             layout_visit_fn visit, void *ctx);

/* The allowed[] mask of base profiles (see layout_maximal). */
void layout_base_profiles(const mig_model *m, bool allowed[MIG_MAX_PROFILES]);

/* "3g.40gb@4,2g.20gb@0" and back. format returns the length it needed (as
 * snprintf; the text is cut to fit len). parse accepts spaces around items,
 * names in any case, "" for the empty layout, and an item without "@start",
 * which is placed where the driver would (layout_auto_start); every GI must
 * fit beside those before it. Errors: MIG_ERR_INPUT "column N: ...". */
int layout_format(const mig_model *m, const mig_layout *l, char *buf, size_t len);
int layout_parse(const mig_model *m, const char *text, mig_layout *l, mig_error *e);

/* ---- GI ids ("swizzle ids", reference/mig-profiles.md section 4.6) ---- */

/* The id a fully enabled die gives a GI of p at start:
 * (memory_slices / size - 1) + start / size. */
unsigned gi_canonical_id(const mig_model *m, const mig_gi_profile *p, unsigned start);
/* The ids a GI of this size may get: [*lo, *hi]. */
void gi_id_range(const mig_model *m, const mig_gi_profile *p, unsigned *lo, unsigned *hi);

/* ---- compute instances inside one GI ----
 * `used` is the GI's compute-slice mask (bit i = compute slice i taken). */
mig_fit ci_fits(const mig_ci_profile *c, unsigned used, unsigned start);
unsigned ci_remaining(const mig_ci_profile *c, unsigned used);
/* RM's choice: the free placement that leaves the most remaining capacity
 * (summed over the GI's CI profiles), ties to the lowest start; -1 if none. */
int ci_auto_start(const mig_model *m, const mig_gi_profile *gi, const mig_ci_profile *c,
                  unsigned used);

#endif
