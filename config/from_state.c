/*
 * from_state.c: a config that describes the GPUs as they are, for `export`.
 *
 * Each MIG-capable GPU becomes a profile -> count map: a GI whose only CI
 * spans it counts under the GI's name ("3g.40gb"), any other CI under its
 * CI-profile name ("1c.3g.40gb"); with placements every key carries its GI's
 * "@start", which also keeps CIs grouped in the GIs they came from. A GI
 * with no CI at all cannot be said in the v1 format: it is written under the
 * GI's name (apply then adds its default CI rather than destroying the GI).
 *
 * Then, like mig-parted's export: GPUs with identical maps share one entry;
 * an entry covering every GPU says `devices: all`, others list indices; when
 * GPUs of several PCI device ids are present, the partial entries also carry
 * their device-filters so that the file stays right on another node.
 */
#include <stdlib.h>
#include <string.h>

#include "config/migparted.h"

typedef struct {
    bool enabled;
    unsigned n;
    cfg_mig_device dev[MIG_MAX_GI * MIG_MAX_CI];
} gpu_map;

static int add_key(gpu_map *m, const char *key, int start, mig_error *e)
{
    for (unsigned i = 0; i < m->n; i++)
        if (!strcmp(m->dev[i].key, key)) {
            m->dev[i].count++;
            return 0;
        }
    cfg_mig_device *d = &m->dev[m->n];
    memset(d, 0, sizeof *d);
    char profile[64];
    snprintf(d->key, sizeof d->key, "%s", key);
    if (mig_profile_ref_parse(key, profile, sizeof profile, &d->start, e) < 0 ||
        mig_profile_name_parse(profile, &d->name, e) < 0)
        return -1;
    d->start = start;
    d->count = 1;
    m->n++;
    return 0;
}

static unsigned ci_rank(const cfg_mig_device *d)
{
    return d->name.ci_slices ? d->name.ci_slices : d->name.gi_slices;
}

/* Small profiles first, as mig-parted's files list them. */
static int device_order(const void *pa, const void *pb)
{
    const cfg_mig_device *a = pa, *b = pb;
    if (a->name.gi_slices != b->name.gi_slices)
        return a->name.gi_slices < b->name.gi_slices ? -1 : 1;
    if (ci_rank(a) != ci_rank(b))
        return ci_rank(a) < ci_rank(b) ? -1 : 1;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return strcmp(a->key, b->key);
}

static int map_of_gpu(const mig_gpu_state *g, bool placements, gpu_map *m, mig_error *e)
{
    memset(m, 0, sizeof *m);
    m->enabled = g->mig_current;
    if (!m->enabled)
        return 0;
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        const mig_gi_profile *p = mig_profile_by_id(g->model, gi->profile_id);
        if (!p)
            return mig_fail(e, MIG_ERR_BACKEND, "GPU %u: GPU instance %u has profile id %u, "
                                                "unknown on %s", g->index, gi->id,
                            gi->profile_id, g->model->name);
        int start = placements ? (int)gi->start : -1;
        char key[64], name[MIG_NAME_LEN + 8];
        for (unsigned c = 0; c < gi->n_ci || (c == 0 && gi->n_ci == 0); c++) {
            if (gi->n_ci == 0)
                snprintf(name, sizeof name, "%s", p->name);
            else
                ci_state_name(g->model, gi, &gi->ci[c], name, sizeof name);
            if (start >= 0)
                snprintf(key, sizeof key, "%s@%d", name, start);
            else
                snprintf(key, sizeof key, "%s", name);
            if (add_key(m, key, start, e) < 0) {
                mig_error_prefix(e, "GPU %u", g->index);
                return -1;
            }
        }
    }
    qsort(m->dev, m->n, sizeof m->dev[0], device_order);
    return 0;
}

static bool map_equal(const gpu_map *a, const gpu_map *b)
{
    if (a->enabled != b->enabled || a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (strcmp(a->dev[i].key, b->dev[i].key) || a->dev[i].count != b->dev[i].count)
            return false;
    return true;
}

static bool capable(const mig_gpu_state *g)
{
    return g->mig_capable && g->model;
}

static unsigned distinct_pci_ids(const mig_gpu_state *gpus, unsigned n)
{
    unsigned count = 0;
    for (unsigned i = 0; i < n; i++) {
        bool seen = false;
        for (unsigned j = 0; j < i && !seen; j++)
            seen = capable(&gpus[j]) && gpus[j].pci_device_id == gpus[i].pci_device_id;
        count += capable(&gpus[i]) && !seen;
    }
    return count;
}

/* Fill entry en for the GPUs in group[] (positions in gpus[]). */
static int make_entry(const mig_gpu_state *gpus, unsigned n, const unsigned *group, unsigned n_group,
                      const gpu_map *map, bool filters, cfg_entry *en, mig_error *e)
{
    en->has_devices = true;
    en->all_devices = n_group == n;
    en->mig_enabled = map->enabled;
    en->indices = calloc(n_group, sizeof *en->indices);
    en->filters = calloc(n_group, sizeof *en->filters);
    en->devices = calloc(map->n ? map->n : 1, sizeof *en->devices);
    if (!en->indices || !en->filters || !en->devices)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    if (!en->all_devices)
        for (unsigned i = 0; i < n_group; i++)
            en->indices[en->n_indices++] = gpus[group[i]].index;
    for (unsigned i = 0; filters && !en->all_devices && i < n_group; i++) {
        unsigned id = gpus[group[i]].pci_device_id;
        bool seen = false;
        for (unsigned j = 0; j < en->n_filters; j++)
            seen = seen || en->filters[j].device_id == id;
        if (!seen)
            en->filters[en->n_filters++].device_id = id;
    }
    memcpy(en->devices, map->dev, map->n * sizeof map->dev[0]);
    en->n_devices = map->n;
    return 0;
}

/* Group GPUs by identical maps and write one entry per group. */
static int build_entries(const mig_gpu_state *gpus, unsigned n, const gpu_map *maps,
                         cfg_config *c, mig_error *e)
{
    unsigned *group = calloc(n ? n : 1, sizeof *group);
    bool *done = calloc(n ? n : 1, sizeof *done);
    c->entries = calloc(n ? n : 1, sizeof *c->entries);
    int rc = (!group || !done || !c->entries) ? mig_fail(e, MIG_ERR_SYSTEM, "out of memory") : 0;
    bool filters = distinct_pci_ids(gpus, n) > 1;
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        if (done[i] || !capable(&gpus[i]))
            continue;
        unsigned n_group = 0;
        for (unsigned j = i; j < n; j++)
            if (!done[j] && capable(&gpus[j]) && map_equal(&maps[i], &maps[j])) {
                group[n_group++] = j;
                done[j] = true;
            }
        rc = make_entry(gpus, n, group, n_group, &maps[i], filters, &c->entries[c->n_entries++], e);
    }
    free(group);
    free(done);
    return rc;
}

int cfg_from_states(const mig_gpu_state *gpus, unsigned n, bool placements, const char *label,
                    cfg_file *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    gpu_map *maps = calloc(n ? n : 1, sizeof *maps);
    out->path = strdup("<export>");
    out->configs = calloc(1, sizeof *out->configs);
    if (!maps || !out->path || !out->configs) {
        free(maps);
        cfg_free(out);
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    out->n_configs = 1;
    cfg_config *c = &out->configs[0];
    int rc = (c->name = strdup(label ? label : "current")) ? 0
                                                           : mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (unsigned i = 0; rc == 0 && i < n; i++)
        if (capable(&gpus[i]))
            rc = map_of_gpu(&gpus[i], placements, &maps[i], e);
    if (rc == 0)
        rc = build_entries(gpus, n, maps, c, e);
    if (rc == 0 && c->n_entries == 0)
        rc = mig_fail(e, MIG_ERR_REFUSED, "no MIG-capable GPU to export");
    free(maps);
    if (rc < 0)
        cfg_free(out);
    return rc;
}
