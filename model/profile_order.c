/*
 * profile_order.c: see profile_order.h. Insertion sort: at most 16 profiles.
 */
#include "model/profile_order.h"

unsigned mig_profiles_largest_first(const mig_model *m, bool base_only,
                                    unsigned order[MIG_MAX_PROFILES])
{
    unsigned n = 0;
    for (unsigned p = 0; p < m->n_profiles; p++)
        if (!base_only || m->profiles[p].attr == MIG_ATTR_NONE)
            order[n++] = p;
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0; j--) {
            const mig_gi_profile *a = &m->profiles[order[j - 1]], *b = &m->profiles[order[j]];
            bool before = b->compute_slices > a->compute_slices ||
                          (b->compute_slices == a->compute_slices &&
                           b->memory_slices > a->memory_slices);
            if (!before)
                break;
            unsigned t = order[j - 1];
            order[j - 1] = order[j];
            order[j] = t;
        }
    return n;
}
