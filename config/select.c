/*
 * select.c: which config of a file, and which entry of a config, applies to
 * a GPU.
 *
 * mig-parted's rule: an entry applies to GPU i when its device-filter (if
 * any) matches the GPU's PCI device id AND `devices` is `all` or lists i.
 * migctl extends the AND to the optional uuids, pci-bus-ids and models
 * selectors: every selector given must match. Entries are meant to target
 * disjoint sets; cfg_check_overlap reports a config where they do not.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/migparted.h"

/* Append "a, b, c" to buf, stopping with "..." before it overflows. */
static void list_names(const cfg_file *f, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < f->n_configs; i++) {
        const char *sep = i ? ", " : "";
        size_t need = strlen(sep) + strlen(f->configs[i].name);
        if (used + need + 5 >= len) {
            snprintf(buf + used, len - used, "%s...", sep);
            return;
        }
        used += (size_t)snprintf(buf + used, len - used, "%s%s", sep, f->configs[i].name);
    }
}

const cfg_config *cfg_select(const cfg_file *f, const char *name, mig_error *e)
{
    char names[700];
    if (!name) {
        if (f->n_configs == 1)
            return &f->configs[0];
        list_names(f, names, sizeof names);
        mig_fail(e, MIG_ERR_INPUT, "%s: has %u configs; expected one chosen with -c NAME (%s)",
                 f->path, f->n_configs, names);
        return NULL;
    }
    for (unsigned i = 0; i < f->n_configs; i++)
        if (!strcmp(f->configs[i].name, name))
            return &f->configs[i];
    list_names(f, names, sizeof names);
    mig_fail(e, MIG_ERR_INPUT, "%s: no config named '%.80s'; expected one of %s", f->path, name,
             names);
    return NULL;
}

static bool index_matches(const cfg_entry *en, unsigned index)
{
    if (en->all_devices)
        return true;
    for (unsigned i = 0; i < en->n_indices; i++)
        if (en->indices[i] == index)
            return true;
    return false;
}

static bool filter_matches(const cfg_entry *en, const mig_gpu_state *g)
{
    for (unsigned i = 0; i < en->n_filters; i++) {
        const cfg_device_filter *fl = &en->filters[i];
        if (fl->device_id == g->pci_device_id &&
            (!fl->has_subsystem || fl->subsystem_id == g->pci_subsystem_id))
            return true;
    }
    return false;
}

static bool uuid_matches(const cfg_entry *en, const mig_gpu_state *g)
{
    for (unsigned i = 0; i < en->n_uuids; i++)
        if (!strcasecmp(en->uuids[i], g->uuid))
            return true;
    return false;
}

static bool bus_id_matches(const cfg_entry *en, const mig_gpu_state *g)
{
    unsigned gd, gb, gv, gf;
    if (cfg_parse_bus_id(g->bus_id, &gd, &gb, &gv, &gf) < 0)
        return false;
    for (unsigned i = 0; i < en->n_bus_ids; i++) {
        unsigned d, b, v, f;
        if (cfg_parse_bus_id(en->bus_ids[i], &d, &b, &v, &f) == 0 && d == gd && b == gb &&
            v == gv && f == gf)
            return true;
    }
    return false;
}

static bool model_matches(const cfg_entry *en, const mig_gpu_state *g)
{
    for (unsigned i = 0; g->model && i < en->n_models; i++)
        if (!strcasecmp(en->models[i], g->model->name))
            return true;
    return false;
}

bool cfg_entry_matches(const cfg_entry *en, const mig_gpu_state *g)
{
    /* A given-but-empty list (uuids: []) selects nothing, as a list should. */
    if (en->has_devices && !index_matches(en, g->index))
        return false;
    if (en->n_filters > 0 && !filter_matches(en, g))
        return false;
    if (en->uuids && !uuid_matches(en, g))
        return false;
    if (en->bus_ids && !bus_id_matches(en, g))
        return false;
    if (en->models && !model_matches(en, g))
        return false;
    return en->has_devices || en->uuids || en->bus_ids || en->models;
}

const cfg_entry *cfg_entry_for_gpu(const cfg_config *c, const mig_gpu_state *g)
{
    for (unsigned i = 0; i < c->n_entries; i++)
        if (cfg_entry_matches(&c->entries[i], g))
            return &c->entries[i];
    return NULL;
}

int cfg_check_overlap(const cfg_config *c, const mig_gpu_state *gpus, unsigned n, mig_error *e)
{
    for (unsigned g = 0; g < n; g++) {
        const cfg_entry *first = NULL;
        for (unsigned i = 0; i < c->n_entries; i++) {
            const cfg_entry *en = &c->entries[i];
            if (!cfg_entry_matches(en, &gpus[g]))
                continue;
            if (first)
                return mig_fail(e, MIG_ERR_INPUT,
                                "config '%s': the entries at lines %u and %u both select GPU %u; "
                                "expected each GPU selected by at most one entry",
                                c->name, first->line, en->line, gpus[g].index);
            first = en;
        }
    }
    return 0;
}

/* A GPU named by a node-specific selector (an index, a UUID, a PCI bus id)
 * that the node does not have is almost always a typo or a config meant for
 * another node. mig-parted ignores it silently; we say so, but still apply
 * the rest (device-filter and models are fleet-wide by nature: not noted). */
static bool some_gpu(const mig_gpu_state *gpus, unsigned n, const cfg_entry *one,
                     bool (*match)(const cfg_entry *, const mig_gpu_state *))
{
    for (unsigned g = 0; g < n; g++)
        if (match(one, &gpus[g]))
            return true;
    return false;
}

void cfg_unmatched_selectors(const cfg_config *c, const mig_gpu_state *gpus, unsigned n,
                             cfg_note_fn note, void *ctx)
{
    char msg[256];
    for (unsigned i = 0; i < c->n_entries; i++) {
        const cfg_entry *en = &c->entries[i];
        for (unsigned k = 0; k < en->n_indices; k++)
            if (en->indices[k] >= n) {
                snprintf(msg, sizeof msg, "%u:%u: devices names GPU %u; this node has %u GPU%s",
                         en->line, en->col, en->indices[k], n, n == 1 ? "" : "s");
                note(ctx, msg);
            }
        for (unsigned k = 0; k < en->n_uuids; k++) {
            cfg_entry one = {.n_uuids = 1, .uuids = &en->uuids[k]};
            if (!some_gpu(gpus, n, &one, uuid_matches)) {
                snprintf(msg, sizeof msg, "%u:%u: no GPU of this node has UUID %.100s", en->line,
                         en->col, en->uuids[k]);
                note(ctx, msg);
            }
        }
        for (unsigned k = 0; k < en->n_bus_ids; k++) {
            cfg_entry one = {.n_bus_ids = 1, .bus_ids = &en->bus_ids[k]};
            if (!some_gpu(gpus, n, &one, bus_id_matches)) {
                snprintf(msg, sizeof msg, "%u:%u: no GPU of this node has PCI bus id %.60s",
                         en->line, en->col, en->bus_ids[k]);
                note(ctx, msg);
            }
        }
    }
}
