/*
 * catalogue.c: lookups over the table in catalogue_data.c, and the
 * compute-instance profiles of a GI, which are computed rather than tabled
 * because NVIDIA's own tools compute them the same way (NVML cannot list CI
 * profiles without a live GI):
 *   - a CI of C compute slices is valid in a GI of G slices iff C <= G and
 *     (C == G or 2C <= G + 1) (go-nvlib's filter; reproduces nvidia-smi -lcip);
 *   - its id is the NVML CI profile index for C slices (1c->0 ... 7c->4);
 *   - it may start at multiples of C within the GI, except 3c in a 7g GI,
 *     which starts at 0 or 4 (RM's CTS tree);
 *   - its SMs are the GI's when it spans the GI, else C x the model's 1g SMs;
 *   - the full CI is the default ('*' in nvidia-smi -lcip), except in a
 *     double-memory 1g GI (NVML _1_SLICE_REV2), where nvidia-smi -C was seen
 *     to create CI profile 7 (_1_SLICE_REV1); such GIs expose both 0 and 7,
 *     default 7 (reference/mig-profiles.md section 3, inferred).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "model/catalogue.h"

#define NVML_GI_1_SLICE_REV2 0x9u
#define NVML_CI_1_SLICE_REV1 7u

const mig_model *mig_model_by_name(const char *name)
{
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    if (!name)
        return NULL;
    for (unsigned i = 0; i < n; i++)
        if (strcasecmp(all[i].name, name) == 0)
            return &all[i];
    return NULL;
}

const mig_model *mig_model_by_pci(unsigned pci_device_id)
{
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < all[i].n_pci_ids; k++)
            if (all[i].pci_device_ids[k] == pci_device_id)
                return &all[i];
    return NULL;
}

/* NVML names carry an "NVIDIA " prefix on current drivers only ("A100-SXM4-40GB"
 * on old ones), so both spellings match. */
const mig_model *mig_model_by_nvml_name(const char *nvml_name)
{
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    if (!nvml_name)
        return NULL;
    const char *bare = strncasecmp(nvml_name, "NVIDIA ", 7) == 0 ? nvml_name + 7 : nvml_name;
    for (unsigned i = 0; i < n; i++)
        if (strcasecmp(all[i].nvml_name, nvml_name) == 0 || strcasecmp(all[i].nvml_name + 7, bare) == 0)
            return &all[i];
    return NULL;
}

const mig_gi_profile *mig_profile_by_id(const mig_model *m, unsigned id)
{
    for (unsigned i = 0; m && i < m->n_profiles; i++)
        if (m->profiles[i].id == id)
            return &m->profiles[i];
    return NULL;
}

const mig_gi_profile *mig_profile_by_index(const mig_model *m, unsigned nvml_index)
{
    for (unsigned i = 0; m && i < m->n_profiles; i++)
        if (m->profiles[i].index == nvml_index)
            return &m->profiles[i];
    return NULL;
}

const mig_gi_profile *mig_profile_by_name(const mig_model *m, const char *name)
{
    if (!m || !name)
        return NULL;
    if (strncasecmp(name, "MIG ", 4) == 0)
        name += 4;
    for (unsigned i = 0; i < m->n_profiles; i++)
        if (strcasecmp(m->profiles[i].name, name) == 0)
            return &m->profiles[i];
    return NULL;
}

int mig_profile_pos(const mig_model *m, const mig_gi_profile *p)
{
    if (!m || !p || p < m->profiles || p >= m->profiles + m->n_profiles)
        return -1;
    return (int)(p - m->profiles);
}

/* NVML CI profile index for C compute slices; -1 when NVML has none. */
static int ci_index_for_slices(unsigned c)
{
    switch (c) {
    case 1: return 0;
    case 2: return 1;
    case 3: return 2;
    case 4: return 3;
    case 7: return 4;
    case 8: return 5;
    case 6: return 6;
    default: return -1;
    }
}

static bool ci_slices_valid(unsigned c, unsigned g)
{
    return c >= 1 && c <= g && (c == g || 2 * c <= g + 1) && ci_index_for_slices(c) >= 0;
}

static unsigned one_slice_sm_count(const mig_model *m)
{
    const mig_gi_profile *one = mig_profile_by_index(m, 0);
    return one ? one->sm_count : m->sm_count / (m->compute_slices ? m->compute_slices : 1);
}

static void ci_fill(const mig_model *m, const mig_gi_profile *gi, unsigned c, unsigned id,
                    bool is_default, mig_ci_profile *out)
{
    unsigned g = gi->compute_slices;
    memset(out, 0, sizeof *out);
    out->id = id;
    out->compute_slices = c;
    out->is_default = is_default;
    out->sm_count = c == g ? gi->sm_count : c * one_slice_sm_count(m);
    if (c == g)
        snprintf(out->name, sizeof out->name, "%s", gi->name);
    else
        snprintf(out->name, sizeof out->name, "%uc.%.20s", (unsigned)(unsigned char)c, gi->name);
    if (c == 3 && g == 7) {
        out->starts[out->n_starts++] = 0;
        out->starts[out->n_starts++] = 4;
    } else {
        for (unsigned s = 0; s + c <= g && out->n_starts < MIG_MAX_STARTS; s += c)
            out->starts[out->n_starts++] = (unsigned char)s;
    }
    out->instance_count = out->n_starts;
}

unsigned mig_ci_profiles(const mig_model *m, const mig_gi_profile *gi,
                         mig_ci_profile out[MIG_MAX_CI_PROFILES])
{
    if (!m || !gi)
        return 0;
    unsigned g = gi->compute_slices, n = 0;
    bool rev2 = gi->index == NVML_GI_1_SLICE_REV2;
    for (unsigned c = 1; c <= g && n < MIG_MAX_CI_PROFILES; c++) {
        if (!ci_slices_valid(c, g))
            continue;
        ci_fill(m, gi, c, (unsigned)ci_index_for_slices(c), c == g && !rev2, &out[n++]);
    }
    if (rev2 && n < MIG_MAX_CI_PROFILES)
        ci_fill(m, gi, 1, NVML_CI_1_SLICE_REV1, true, &out[n++]);
    return n;
}

bool mig_ci_default(const mig_model *m, const mig_gi_profile *gi, mig_ci_profile *out)
{
    mig_ci_profile all[MIG_MAX_CI_PROFILES];
    unsigned n = mig_ci_profiles(m, gi, all);
    for (unsigned i = 0; i < n; i++)
        if (all[i].is_default) {
            *out = all[i];
            return true;
        }
    return false;
}

bool mig_ci_profile_by_id(const mig_model *m, const mig_gi_profile *gi, unsigned ci_id,
                          mig_ci_profile *out)
{
    mig_ci_profile all[MIG_MAX_CI_PROFILES];
    unsigned n = mig_ci_profiles(m, gi, all);
    for (unsigned i = 0; i < n; i++)
        if (all[i].id == ci_id) {
            *out = all[i];
            return true;
        }
    return false;
}

const char *mig_arch_name(mig_arch a)
{
    switch (a) {
    case MIG_ARCH_AMPERE: return "Ampere";
    case MIG_ARCH_HOPPER: return "Hopper";
    case MIG_ARCH_BLACKWELL: return "Blackwell";
    }
    return "unknown";
}

const mig_model *mig_model_find(const char *name, mig_error *e)
{
    const mig_model *m = mig_model_by_name(name);
    if (!m)
        m = mig_model_by_nvml_name(name);
    if (m)
        return m;
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    char known[512];
    size_t used = 0;
    known[0] = '\0';
    for (unsigned i = 0; i < n && used < sizeof known; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                 all[i].name);
    mig_fail(e, MIG_ERR_INPUT, "unknown model '%.64s' (known: %s)", name ? name : "", known);
    return NULL;
}

unsigned mig_ci_canonical_id(const mig_model *m, const mig_gi_profile *gi, unsigned ci_id)
{
    mig_ci_profile cp, def;
    if (!m || !gi || !mig_ci_profile_by_id(m, gi, ci_id, &cp) ||
        cp.compute_slices != gi->compute_slices || !mig_ci_default(m, gi, &def) ||
        def.compute_slices != gi->compute_slices)
        return ci_id;
    return def.id;
}
