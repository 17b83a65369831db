/*
 * profile_name.h: the MIG profile-name grammar
 *     [<C>c.]<G>g.<M>gb[+me|+me.all|-me|+gfx]
 * parsed and printed, a placement suffix "@<start>" for pinned placements,
 * and NVIDIA's rule for deriving <M> from memory sizes
 * (reference/mig-profiles.md section 1). Pure.
 */
#ifndef MIGCTL_MODEL_PROFILE_NAME_H
#define MIGCTL_MODEL_PROFILE_NAME_H

#include <stddef.h>

#include "model/catalogue.h"
#include "util/err.h"

typedef struct {
    unsigned ci_slices; /* C of "<C>c.", 0 when the name has no CI part */
    unsigned gi_slices; /* G */
    unsigned mem_gb;    /* M */
    mig_attr attr;
} mig_profile_name;

/* Parse a name. Accepts a leading "MIG " (as nvidia-smi prints it).
 * On error: MIG_ERR_INPUT naming the offending character position. */
int mig_profile_name_parse(const char *text, mig_profile_name *out, mig_error *e);

/* Print the canonical form; returns the length snprintf would have written. */
int mig_profile_name_format(const mig_profile_name *p, char *buf, size_t len);

/* "<profile>[@<start>]": *start = -1 when absent. The profile part is copied
 * to `profile` (NUL-terminated, at most len-1 chars). */
int mig_profile_ref_parse(const char *text, char *profile, size_t len, int *start, mig_error *e);

/* NVIDIA's naming rule (go-nvlib): fraction = profile_mib * 2^20 / total_bytes
 * rounded up to a multiple of 1/8, GB = round(fraction * ceil(total_bytes / 2^30)).
 * Writes "<G>g.<M>gb<suffix>". */
void mig_profile_name_derive(unsigned gi_slices, unsigned long long profile_mib,
                             unsigned long long total_bytes, mig_attr attr,
                             char *buf, size_t len);

/* Suffix text of an attribute: "", "+me", "+me.all", "-me", "+gfx". */
const char *mig_attr_suffix(mig_attr a);

/* Resolve a parsed name against a model: the GI profile it names (for a CI
 * name "1c.3g.40gb", the 3g.40gb GI profile) and, if it has a CI part, the CI
 * profile inside it (*ci set; ci->compute_slices = C). Without a CI part, *ci
 * is the GI's default CI profile. MIG_ERR_INPUT when the model has no such
 * profile, with the model's valid names in the message. */
int mig_profile_resolve(const mig_model *m, const mig_profile_name *n,
                        const mig_gi_profile **gi, mig_ci_profile *ci, mig_error *e);

#endif
