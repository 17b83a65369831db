/*
 * generate.c: the named layouts of `generate-config`, as mig-parted's
 * generate-config and default config define them (reference/mig-tools.md
 * section 1.5): all-disabled, all-enabled, one all-<profile> per GI profile
 * and all-balanced, for a set of GPU models.
 *
 * Counts come from the layout geometry, not from instance_count alone: an
 * all-<profile> count is how many instances of the profile the driver's own
 * placement order actually fits at once (capped by instance_count), and the
 * all-balanced set is placed the same way before it is offered. With several
 * models, every entry carries device-filters (each model's PCI ids), and
 * models that give the same profile -> count map share one entry, the way
 * the default config groups A100-80GB with H100-80GB.
 */
#include <stdlib.h>
#include <string.h>

#include "config/migparted.h"
#include "model/layout.h"

#define GEN_MAX_KEYS 4

/* One model's wish in one config: profile -> count (n = 0: leave it out). */
typedef struct {
    unsigned n;
    const mig_gi_profile *p[GEN_MAX_KEYS];
    unsigned count[GEN_MAX_KEYS];
} gen_map;

static bool gen_map_equal(const gen_map *a, const gen_map *b)
{
    if (a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (strcmp(a->p[i]->name, b->p[i]->name) || a->count[i] != b->count[i])
            return false;
    return true;
}

/* How many GIs of profile position pos fit at once, placed as the driver would. */
static unsigned fit_count(const mig_model *m, unsigned pos)
{
    mig_layout l = {0};
    unsigned cap = m->profiles[pos].instance_count;
    while (l.n < cap && l.n < MIG_MAX_GI) {
        int start = layout_auto_start(m, &l, pos);
        if (start < 0)
            break;
        layout_add(&l, pos, (unsigned)start);
    }
    return l.n;
}

/* The base profile of g compute slices with the most instances (the
 * smallest memory), or NULL. */
static const mig_gi_profile *balanced_profile(const mig_model *m, unsigned g)
{
    const mig_gi_profile *best = NULL;
    for (unsigned i = 0; i < m->n_profiles; i++) {
        const mig_gi_profile *p = &m->profiles[i];
        if (p->attr != MIG_ATTR_NONE || p->compute_slices != g)
            continue;
        if (!best || p->instance_count > best->instance_count ||
            (p->instance_count == best->instance_count && p->memory_mib < best->memory_mib))
            best = p;
    }
    return best;
}

/* 7 compute slices: 2x1g + 1x2g + 1x3g; 4: 2x1g + 1x2g; else nothing.
 * Offered only when the set really fits (placed largest first). */
static void balanced_map(const mig_model *m, gen_map *out)
{
    memset(out, 0, sizeof *out);
    unsigned sizes = m->compute_slices == 7 ? 3 : m->compute_slices == 4 ? 2 : 0;
    static const unsigned counts[3] = {2, 1, 1};
    gen_map want = {0};
    for (unsigned g = 1; g <= sizes; g++) {
        const mig_gi_profile *p = balanced_profile(m, g);
        if (!p)
            return;
        want.p[want.n] = p;
        want.count[want.n++] = counts[g - 1];
    }
    mig_layout l = {0};
    for (unsigned i = want.n; i-- > 0;) {
        unsigned pos = (unsigned)mig_profile_pos(m, want.p[i]);
        for (unsigned k = 0; k < want.count[i]; k++) {
            int start = layout_auto_start(m, &l, pos);
            if (start < 0)
                return;
            layout_add(&l, pos, (unsigned)start);
        }
    }
    *out = want;
}

static void profile_map(const mig_model *m, const char *name, gen_map *out)
{
    memset(out, 0, sizeof *out);
    const mig_gi_profile *p = mig_profile_by_name(m, name);
    if (!p)
        return;
    unsigned n = fit_count(m, (unsigned)mig_profile_pos(m, p));
    if (n == 0)
        return;
    out->p[0] = p;
    out->count[0] = n;
    out->n = 1;
}

/* ------------------------------------------------------------ building */

static int nomem(mig_error *e)
{
    return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
}

static cfg_config *new_config(cfg_file *f, const char *name, unsigned max_entries, mig_error *e)
{
    cfg_config *c = &f->configs[f->n_configs];
    memset(c, 0, sizeof *c);
    c->name = strdup(name);
    c->entries = calloc(max_entries ? max_entries : 1, sizeof *c->entries);
    f->n_configs++; /* counted now so cfg_free releases it on failure */
    if (!c->name || !c->entries) {
        nomem(e);
        return NULL;
    }
    return c;
}

static int fill_devices(const gen_map *map, cfg_entry *en, mig_error *e)
{
    en->devices = calloc(map->n ? map->n : 1, sizeof *en->devices);
    if (!en->devices)
        return nomem(e);
    for (unsigned i = 0; i < map->n; i++) {
        cfg_mig_device *d = &en->devices[en->n_devices];
        snprintf(d->key, sizeof d->key, "%s", map->p[i]->name);
        d->start = -1;
        d->count = map->count[i];
        if (mig_profile_name_parse(d->key, &d->name, e) < 0)
            return -1;
        en->n_devices++;
    }
    return 0;
}

static int add_filters(const mig_model *m, cfg_entry *en, mig_error *e)
{
    cfg_device_filter *nf = realloc(en->filters, (en->n_filters + m->n_pci_ids + 1) * sizeof *nf);
    if (!nf)
        return nomem(e);
    en->filters = nf;
    /* A model whose PCI device id is unknown cannot be told apart by a
     * device-filter: select it by catalogue model name (migctl's `models:`). */
    if (m->n_pci_ids == 0) {
        for (unsigned j = 0; j < en->n_models; j++)
            if (strcmp(en->models[j], m->name) == 0)
                return 0;
        char **nm = realloc(en->models, (en->n_models + 1) * sizeof *nm);
        if (!nm)
            return nomem(e);
        en->models = nm;
        if (!(en->models[en->n_models] = strdup(m->name)))
            return nomem(e);
        en->n_models++;
        return 0;
    }
    for (unsigned i = 0; i < m->n_pci_ids; i++) {
        bool seen = false;
        for (unsigned j = 0; j < en->n_filters; j++)
            seen = seen || en->filters[j].device_id == m->pci_device_ids[i];
        if (!seen)
            en->filters[en->n_filters++] = (cfg_device_filter){.device_id = m->pci_device_ids[i]};
    }
    return 0;
}

/* One config from per-model maps: models with equal maps share an entry. */
static int grouped_config(cfg_file *f, const char *name, const mig_model *const *models,
                          unsigned n_models, const gen_map *maps, mig_error *e)
{
    cfg_config *c = new_config(f, name, n_models, e);
    if (!c)
        return -1;
    bool *done = calloc(n_models ? n_models : 1, sizeof *done);
    if (!done)
        return nomem(e);
    int rc = 0;
    for (unsigned i = 0; rc == 0 && i < n_models; i++) {
        if (done[i] || maps[i].n == 0)
            continue;
        cfg_entry *en = &c->entries[c->n_entries++];
        en->has_devices = en->all_devices = en->mig_enabled = true;
        rc = fill_devices(&maps[i], en, e);
        for (unsigned j = i; rc == 0 && j < n_models; j++) {
            if (done[j] || !gen_map_equal(&maps[i], &maps[j]))
                continue;
            /* A model selected by name (no known PCI id) gets an entry of its
             * own: `models:` and `device-filter` in one entry both apply. */
            if (j != i && n_models > 1 &&
                (models[i]->n_pci_ids == 0) != (models[j]->n_pci_ids == 0))
                continue;
            if (j != i && n_models > 1 && models[i]->n_pci_ids == 0)
                continue;
            done[j] = true;
            if (n_models > 1)
                rc = add_filters(models[j], en, e);
        }
    }
    free(done);
    return rc;
}

static int simple_config(cfg_file *f, const char *name, bool enabled, mig_error *e)
{
    cfg_config *c = new_config(f, name, 1, e);
    if (!c)
        return -1;
    cfg_entry *en = &c->entries[c->n_entries++];
    en->has_devices = en->all_devices = true;
    en->mig_enabled = enabled;
    return 0;
}

/* Every GI profile name of the models, each once, in -lgip order. */
static unsigned profile_names(const mig_model *const *models, unsigned n_models,
                              const char **names, unsigned cap)
{
    unsigned n = 0;
    for (unsigned i = 0; i < n_models; i++)
        for (unsigned j = 0; j < models[i]->n_profiles; j++) {
            const char *pn = models[i]->profiles[j].name;
            bool seen = false;
            for (unsigned k = 0; k < n && !seen; k++)
                seen = !strcmp(names[k], pn);
            if (!seen && n < cap)
                names[n++] = pn;
        }
    return n;
}

static int profile_configs(cfg_file *f, const mig_model *const *models, unsigned n_models,
                           const char **names, unsigned n_names, gen_map *maps, mig_error *e)
{
    for (unsigned k = 0; k < n_names; k++) {
        bool any = false;
        for (unsigned i = 0; i < n_models; i++) {
            profile_map(models[i], names[k], &maps[i]);
            any = any || maps[i].n > 0;
        }
        if (!any)
            continue;
        char label[MIG_NAME_LEN + 8];
        snprintf(label, sizeof label, "all-%s", names[k]);
        for (char *c = label; *c; c++)
            if (*c == '+')
                *c = '.';
        if (grouped_config(f, label, models, n_models, maps, e) < 0)
            return -1;
    }
    return 0;
}

/* The distinct models, in the order given. */
static unsigned distinct_models(const mig_model *const *in, unsigned n, const mig_model **out)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        bool seen = false;
        for (unsigned j = 0; j < k && !seen; j++)
            seen = out[j] == in[i];
        if (!seen && in[i])
            out[k++] = in[i];
    }
    return k;
}

int cfg_generate(const mig_model *const *models_in, unsigned n_in, cfg_file *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    const mig_model **models = calloc(n_in ? n_in : 1, sizeof *models);
    unsigned n_models = models ? distinct_models(models_in, n_in, models) : 0;
    unsigned cap = n_models * MIG_MAX_PROFILES;
    const char **names = calloc(cap ? cap : 1, sizeof *names);
    gen_map *maps = calloc(n_models ? n_models : 1, sizeof *maps);
    out->path = strdup("<generated>");
    out->configs = calloc(cap + 3, sizeof *out->configs);
    int rc = 0;
    if (!models || !names || !maps || !out->path || !out->configs)
        rc = nomem(e);
    else if (n_models == 0)
        rc = mig_fail(e, MIG_ERR_INPUT, "no MIG-capable GPU model to generate for; expected "
                                        "--model NAME or a MIG-capable GPU");
    unsigned n_names = rc == 0 ? profile_names((const mig_model *const *)models, n_models, names,
                                               cap)
                               : 0;
    if (rc == 0)
        rc = simple_config(out, "all-disabled", false, e);
    if (rc == 0)
        rc = simple_config(out, "all-enabled", true, e);
    if (rc == 0)
        rc = profile_configs(out, (const mig_model *const *)models, n_models, names, n_names,
                             maps, e);
    if (rc == 0) {
        bool any = false;
        for (unsigned i = 0; i < n_models; i++) {
            balanced_map(models[i], &maps[i]);
            any = any || maps[i].n > 0;
        }
        if (any)
            rc = grouped_config(out, "all-balanced", (const mig_model *const *)models, n_models,
                                maps, e);
    }
    free(models);
    free(names);
    free(maps);
    if (rc < 0)
        cfg_free(out);
    return rc;
}
