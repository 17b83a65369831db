/*
 * k8s_labels.c: the node labels gpu-feature-discovery (GFD) publishes for a
 * node's MIG devices, and the extended resources the NVIDIA device plugin
 * advertises, computed from the GPUs' states and the catalogue.
 *
 * What the two components publish (NVIDIA k8s-device-plugin, which now holds
 * GFD; reference notes in docs/design.md):
 *  - mixed strategy: every MIG device type is its own resource
 *    "nvidia.com/mig-<profile>" ('+' becomes '.', "1g.10gb+me" ->
 *    "mig-1g.10gb.me"), and per type the labels
 *    nvidia.com/mig-<profile>.{count, memory, multiprocessors, product,
 *    replicas, sharing-strategy, slices.gi, slices.ci, engines.copy,
 *    engines.decoder, engines.encoder, engines.jpeg, engines.ofa}; GPUs with
 *    MIG off stay "nvidia.com/gpu".
 *  - single strategy: every GPU must have MIG on with one device type; the
 *    devices are "nvidia.com/gpu" and the nvidia.com/gpu.* labels describe
 *    the slice (product "<GPU>-MIG-<profile>"). Otherwise GFD labels the
 *    product "<GPU>-MIG-INVALID" and the plugin advertises nothing.
 * A MIG device is a compute instance: memory and engine counts are its GPU
 * instance's (the "shared" engines NVML reports for the device), SMs and
 * compute slices are the compute instance's. Values are what NVML's device
 * attributes report, which the catalogue holds per profile.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integrate/k8s/k8s.h"

const char *k8s_strategy_name(k8s_strategy s)
{
    return s == K8S_STRATEGY_SINGLE ? "single" : "mixed";
}

/* One MIG device type on the node. */
typedef struct {
    char name[MIG_NAME_LEN + 8];  /* "1g.10gb", "1c.3g.40gb", "1g.10gb+me" */
    char product[192];            /* "NVIDIA-H100-80GB-HBM3-MIG-1g.10gb" */
    unsigned count;
    unsigned long long memory_mib;
    unsigned sm, gi_slices, ci_slices;
    unsigned ce, dec, enc, jpeg, ofa;
} mig_type;

/* '+' is valid neither in a resource name nor in a label value: the plugin
 * writes '.' instead. */
static void dotted(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++)
        out[i] = in[i] == '+' ? '.' : in[i];
    out[i] = '\0';
}

/* GFD's product name: the NVML name with spaces as dashes. */
static void product_name(const mig_gpu_state *g, char *out, size_t len)
{
    snprintf(out, len, "%s", g->name[0] ? g->name : (g->model ? g->model->nvml_name : "unknown"));
    for (char *p = out; *p; p++)
        if (*p == ' ')
            *p = '-';
}

static int add_label(k8s_labels *o, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int add_label(k8s_labels *o, const char *key, const char *fmt, ...)
{
    if (o->n_labels >= K8S_MAX_LABELS)
        return -1;
    k8s_label *l = &o->labels[o->n_labels++];
    snprintf(l->key, sizeof l->key, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->value, sizeof l->value, fmt, ap);
    va_end(ap);
    return 0;
}

static int add_resource(k8s_labels *o, const char *name, unsigned count)
{
    if (o->n_resources >= K8S_MAX_RESOURCES)
        return -1;
    k8s_resource *r = &o->resources[o->n_resources++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->count = count;
    return 0;
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const k8s_label *)a)->key, ((const k8s_label *)b)->key);
}

static int cmp_resource(const void *a, const void *b)
{
    return strcmp(((const k8s_resource *)a)->name, ((const k8s_resource *)b)->name);
}

/* Every compute instance of every GPU in MIG mode, grouped by device type
 * in order of first appearance. */
static int collect_types(const mig_gpu_state *gpus, unsigned n, mig_type *types, unsigned max,
                         unsigned *n_types, mig_error *e)
{
    *n_types = 0;
    for (unsigned i = 0; i < n; i++) {
        const mig_gpu_state *g = &gpus[i];
        if (!g->mig_current)
            continue;
        if (!g->model)
            return mig_fail(e, MIG_ERR_INPUT,
                            "GPU %u (%s) has MIG on but is not in the catalogue "
                            "(see 'migctl models')",
                            g->index, g->name);
        for (unsigned k = 0; k < g->n_gi; k++) {
            const mig_gi_state *gi = &g->gi[k];
            const mig_gi_profile *p = mig_profile_by_id(g->model, gi->profile_id);
            if (!p)
                return mig_fail(e, MIG_ERR_INPUT, "GPU %u: GPU instance %u has profile id %u, "
                                "which %s does not have", g->index, gi->id, gi->profile_id,
                                g->model->name);
            for (unsigned c = 0; c < gi->n_ci; c++) {
                const mig_ci_state *ci = &gi->ci[c];
                char name[MIG_NAME_LEN + 8];
                ci_state_name(g->model, gi, ci, name, sizeof name);
                unsigned t = 0;
                while (t < *n_types && strcmp(types[t].name, name))
                    t++;
                if (t == *n_types) {
                    if (t >= max)
                        return mig_fail(e, MIG_ERR_SYSTEM, "too many MIG device types");
                    mig_type *ty = &types[(*n_types)++];
                    memset(ty, 0, sizeof *ty);
                    snprintf(ty->name, sizeof ty->name, "%s", name);
                    char prod[96], dn[MIG_NAME_LEN + 8];
                    product_name(g, prod, sizeof prod);
                    dotted(name, dn, sizeof dn);
                    snprintf(ty->product, sizeof ty->product, "%.96s-MIG-%.40s", prod, dn);
                    ty->memory_mib = p->memory_mib;
                    ty->gi_slices = p->compute_slices;
                    ty->ci_slices = ci->slices < p->compute_slices ? ci->slices : p->compute_slices;
                    /* A CI spanning its GI has the GI's SMs whatever its
                     * profile id; a smaller one has its CI profile's. */
                    ty->sm = p->sm_count;
                    mig_ci_profile cp;
                    if (ty->ci_slices < p->compute_slices &&
                        mig_ci_profile_by_id(g->model, p, ci->profile_id, &cp))
                        ty->sm = cp.sm_count;
                    ty->ce = p->copy_engines;
                    ty->dec = p->decoders;
                    ty->enc = p->encoders;
                    ty->jpeg = p->jpeg;
                    ty->ofa = p->ofa;
                }
                types[t].count++;
            }
        }
    }
    return 0;
}

/* The attributes of one device type under a label prefix
 * ("nvidia.com/mig-1g.10gb" or "nvidia.com/gpu"). */
static int type_labels(k8s_labels *o, const char *prefix, const mig_type *t)
{
    char k[128];
    int bad = 0;
#define L(suffix, ...)                                              \
    do {                                                            \
        snprintf(k, sizeof k, "%s.%s", prefix, suffix);             \
        bad |= add_label(o, k, __VA_ARGS__);                        \
    } while (0)
    L("count", "%u", t->count);
    L("memory", "%llu", t->memory_mib);
    L("multiprocessors", "%u", t->sm);
    L("product", "%s", t->product);
    L("replicas", "%u", 1u);
    L("sharing-strategy", "%s", "none");
    L("slices.gi", "%u", t->gi_slices);
    L("slices.ci", "%u", t->ci_slices);
    L("engines.copy", "%u", t->ce);
    L("engines.decoder", "%u", t->dec);
    L("engines.encoder", "%u", t->enc);
    L("engines.jpeg", "%u", t->jpeg);
    L("engines.ofa", "%u", t->ofa);
#undef L
    return bad;
}

int k8s_node_labels(const mig_gpu_state *gpus, unsigned n, k8s_strategy s, k8s_labels *out,
                    mig_error *e)
{
    memset(out, 0, sizeof *out);
    out->strategy = s;
    out->valid = true;
    enum { MAX_TYPES = 32 };
    mig_type types[MAX_TYPES];
    unsigned n_types;
    if (collect_types(gpus, n, types, MAX_TYPES, &n_types, e) < 0)
        return -1;
    bool capable = false;
    unsigned mig_on = 0, mig_off = 0;
    for (unsigned i = 0; i < n; i++) {
        capable |= gpus[i].mig_capable;
        if (gpus[i].mig_current)
            mig_on++;
        else
            mig_off++;
    }
    int bad = 0;
    bad |= add_label(out, "nvidia.com/mig.capable", "%s", capable ? "true" : "false");
    bad |= add_label(out, "nvidia.com/mig.strategy", "%s", k8s_strategy_name(s));

    if (s == K8S_STRATEGY_MIXED) {
        for (unsigned t = 0; t < n_types; t++) {
            char dn[MIG_NAME_LEN + 8], prefix[96];
            dotted(types[t].name, dn, sizeof dn);
            snprintf(prefix, sizeof prefix, "nvidia.com/mig-%s", dn);
            bad |= type_labels(out, prefix, &types[t]);
            bad |= add_resource(out, prefix, types[t].count);
        }
        bad |= add_resource(out, "nvidia.com/gpu", mig_off);
    } else if (mig_on == 0) {
        /* No GPU in MIG mode: single means whole GPUs, as with no strategy. */
        bad |= add_resource(out, "nvidia.com/gpu", mig_off);
    } else {
        unsigned total = 0;
        for (unsigned t = 0; t < n_types; t++)
            total += types[t].count;
        if (mig_off > 0)
            snprintf(out->problem, sizeof out->problem,
                     "%u GPU%s with MIG on and %u with MIG off: the single strategy needs MIG "
                     "on every GPU", mig_on, mig_on == 1 ? "" : "s", mig_off);
        else if (total == 0)
            snprintf(out->problem, sizeof out->problem,
                     "MIG is on but there is no MIG device (no compute instance)");
        else if (n_types > 1)
            snprintf(out->problem, sizeof out->problem,
                     "more than one MIG device type on the node (%s, %s%s): the single strategy "
                     "needs one", types[0].name, types[1].name, n_types > 2 ? ", ..." : "");
        if (out->problem[0]) {
            out->valid = false;
            const mig_gpu_state *g = NULL;
            for (unsigned i = 0; i < n && !g; i++)
                if (gpus[i].mig_current)
                    g = &gpus[i];
            char prod[96];
            product_name(g, prod, sizeof prod);
            bad |= add_label(out, "nvidia.com/gpu.product", "%s-MIG-INVALID", prod);
            bad |= add_label(out, "nvidia.com/gpu.count", "%u", 0u);
            bad |= add_label(out, "nvidia.com/gpu.replicas", "%u", 0u);
            bad |= add_resource(out, "nvidia.com/gpu", 0);
        } else {
            bad |= type_labels(out, "nvidia.com/gpu", &types[0]);
            bad |= add_resource(out, "nvidia.com/gpu", types[0].count);
        }
    }
    if (bad)
        return mig_fail(e, MIG_ERR_SYSTEM, "too many labels");
    qsort(out->labels, out->n_labels, sizeof out->labels[0], cmp_label);
    qsort(out->resources, out->n_resources, sizeof out->resources[0], cmp_resource);
    return 0;
}
