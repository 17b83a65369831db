/*
 * sample.c: helpers over gpu/sample.h: the NVML GPM ids of migctl's
 * metrics, lookup of a GPU instance's sample, and the health verdict.
 */
#include <stdio.h>
#include <string.h>

#include "gpu/sample.h"

const unsigned mig_metric_nvml_id[MIG_M_COUNT] = {
    [MIG_M_GR_ACTIVE] = 1, [MIG_M_SM_ACTIVE] = 2, [MIG_M_SM_OCCUPANCY] = 3,
    [MIG_M_TENSOR] = 5,    [MIG_M_DRAM] = 10,
};

const mig_gi_sample *mig_sample_gi(const mig_gpu_sample *s, unsigned gi_id)
{
    for (unsigned i = 0; i < s->n_gi; i++)
        if (s->gi[i].gi_id == gi_id)
            return &s->gi[i];
    return NULL;
}

static void add(char *why, unsigned len, size_t *used, const char *fmt, unsigned long long v)
{
    if (*used >= len)
        return;
    int n = snprintf(why + *used, len - *used, "%s", *used ? "; " : "");
    if (n > 0)
        *used += (size_t)n;
    if (*used >= len)
        return;
    n = snprintf(why + *used, len - *used, fmt, v, v == 1 ? "" : "s");
    if (n > 0)
        *used += (size_t)n;
}

bool mig_health_bad(const mig_health_sample *h, char *why, unsigned len)
{
    size_t used = 0;
    if (len)
        why[0] = '\0';
    bool bad = false;
    if (h->xid_known && h->xid_count) {
        bad = true;
        if (len) {
            char f[64];
            snprintf(f, sizeof f, "Xid %u (%%llu critical Xid event%%s)", h->xid_last);
            add(why, len, &used, f, h->xid_count);
        }
    }
    if (h->ecc_known && h->ecc_dbe_volatile) {
        bad = true;
        if (len)
            add(why, len, &used, "%llu uncorrectable ECC error%s since boot", h->ecc_dbe_volatile);
    }
    if (h->remap_known && h->remap_failure) {
        bad = true;
        if (len)
            add(why, len, &used, "row remapping failed%.0llu%.0s", 0);
    }
    if (h->remap_known && h->remap_pending) {
        bad = true;
        if (len)
            add(why, len, &used, "row remap pending (reset needed)%.0llu%.0s", 0);
    }
    if (len && used >= len)
        why[len - 1] = '\0';
    return bad;
}
