/*
 * migparted.c: the parser of mig-parted's `version: v1` config format.
 *
 * config/yamldoc.c loads the text into a document (bounded: size, depth,
 * nodes, anchors, aliases); a schema-driven walk then checks it strictly,
 * key by key, and fills the cfg_file structs. The walk never recurses on the
 * input's own shape: the schema is five levels deep (root, mig-configs,
 * config list, entry, mig-devices), so deep nesting cannot exhaust the stack.
 * Aliases are followed (the document API shares aliased nodes), and every
 * node visit spends one unit of the document's budget, so alias bombs and
 * cyclic aliases end in a clean error instead of exponential work.
 *
 * Every error is yamldoc's: MIG_ERR_INPUT "<what is wrong>; expected <what>"
 * with the file and 1-based line and column in mig_error's fields.
 */
#include "config/migparted.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/yamldoc.h"
#include "model/catalogue.h"

/* No GPU has more than 7 GIs of 8 CIs; anything above this is a typo. */
#define CFG_MAX_COUNT 64u
/* GPU indices are PCI enumeration positions; a node has a handful. */
#define CFG_MAX_INDEX 65535u
/* Map sizes: keys are checked for duplicates pairwise, so maps are capped
 * far above real use (NVIDIA's default config has 68 configs; a GPU has at
 * most a few dozen distinct profile keys). */
#define CFG_MAX_CONFIGS 10000
#define CFG_MAX_PROFILE_KEYS 256

static char *dup_text(yd_doc *p, const char *s)
{
    char *d = strdup(s);
    if (!d)
        yd_nomem(p);
    return d;
}

/* ------------------------------------------------------------ selectors */

/* "all" or a list of indices; a bare integer is mig-parted's classic typo. */
static int parse_devices(yd_doc *p, yaml_node_t *v, cfg_entry *en)
{
    en->has_devices = true;
    if (v->type == YAML_SCALAR_NODE) {
        if (!strcmp(yd_scalar(v), "all"))
            return en->all_devices = true, 0;
        if (strspn(yd_scalar(v), "0123456789") == strlen(yd_scalar(v)) && yd_is_plain(v) && *yd_scalar(v))
            return yd_fail(p, v, "devices: %.20s is a single index; expected \"all\" or a list such "
                              "as [%.20s]", yd_scalar(v), yd_scalar(v));
        return yd_fail(p, v, "devices is '%.40s'; expected \"all\" or a list of GPU indices", yd_scalar(v));
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return yd_fail(p, v, "devices is %s; expected \"all\" or a list of GPU indices", yd_kind_name(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    en->indices = calloc(n ? n : 1, sizeof *en->indices);
    if (!en->indices)
        return yd_nomem(p);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *x = yd_node(p, *it);
        if (!x || yd_spend(p, x) < 0 ||
            yd_uint(p, x, "a device index", CFG_MAX_INDEX, &en->indices[en->n_indices]) < 0)
            return -1;
        en->n_indices++;
    }
    return 0;
}

static int hex_part(const char *s, size_t len, unsigned *out)
{
    if (len < 3 || len > 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return -1;
    unsigned v = 0;
    for (size_t i = 2; i < len; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

int cfg_parse_device_filter(const char *s, cfg_device_filter *out)
{
    const char *colon = strchr(s, ':');
    size_t dlen = colon ? (size_t)(colon - s) : strlen(s);
    memset(out, 0, sizeof *out);
    if (hex_part(s, dlen, &out->device_id) < 0)
        return -1;
    if (colon) {
        if (hex_part(colon + 1, strlen(colon + 1), &out->subsystem_id) < 0)
            return -1;
        out->has_subsystem = true;
    }
    return 0;
}

static int one_filter(yd_doc *p, yaml_node_t *x, cfg_entry *en)
{
    const char *s = NULL;
    if (yd_text(p, x, "a device-filter", &s) < 0)
        return -1;
    if (cfg_parse_device_filter(s, &en->filters[en->n_filters]) < 0)
        return yd_fail(p, x, "device-filter '%.40s' is not a PCI id; expected \"0xDDDDVVVV\" or "
                          "\"0xDDDDVVVV:0xSSSSssss\" (hex)", s);
    en->n_filters++;
    return 0;
}

static int parse_filters(yd_doc *p, yaml_node_t *v, cfg_entry *en)
{
    if (v->type == YAML_SCALAR_NODE) {
        en->filters = calloc(1, sizeof *en->filters);
        return en->filters ? one_filter(p, v, en) : yd_nomem(p);
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return yd_fail(p, v, "device-filter is %s; expected a PCI id string or a list of them",
                    yd_kind_name(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    en->filters = calloc(n ? n : 1, sizeof *en->filters);
    if (!en->filters)
        return yd_nomem(p);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *x = yd_node(p, *it);
        if (!x || yd_spend(p, x) < 0 || one_filter(p, x, en) < 0)
            return -1;
    }
    return 0;
}

/* A list of strings (uuids, pci-bus-ids, models); check() vets each one. */
typedef int (*item_check)(yd_doc *p, yaml_node_t *x, const char *s);

static int parse_strings(yd_doc *p, yaml_node_t *v, const char *key, item_check check,
                         unsigned *n_out, char ***out)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return yd_fail(p, v, "%s is %s; expected a list of strings", key, yd_kind_name(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return yd_nomem(p);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *x = yd_node(p, *it);
        const char *s = NULL;
        if (!x || yd_spend(p, x) < 0 || yd_text(p, x, key, &s) < 0)
            return -1;
        if (!*s)
            return yd_fail(p, x, "empty string in %s; expected a non-empty value", key);
        if (check && check(p, x, s) < 0)
            return -1;
        if (!((*out)[*n_out] = dup_text(p, s)))
            return -1;
        (*n_out)++;
    }
    return 0;
}

static int check_model(yd_doc *p, yaml_node_t *x, const char *s)
{
    if (mig_model_by_name(s))
        return 0;
    char names[640] = "";
    unsigned n = 0;
    const mig_model *all = mig_catalogue(&n);
    size_t used = 0;
    for (unsigned i = 0; i < n && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 all[i].name);
    return yd_fail(p, x, "unknown model '%.60s'; expected one of %s", s, names);
}

static int check_bus_id(yd_doc *p, yaml_node_t *x, const char *s)
{
    unsigned dom, bus, dev, fn;
    if (cfg_parse_bus_id(s, &dom, &bus, &dev, &fn) == 0)
        return 0;
    return yd_fail(p, x, "pci-bus-id '%.60s' is not a PCI address; expected \"DDDDDDDD:BB:DD.F\" or "
                      "\"DDDD:BB:DD.F\" (hex)", s);
}

/* Parse exactly `digits` (min..max) hex digits; advances *s. */
static int hex_field(const char **s, unsigned min, unsigned max, unsigned *out)
{
    unsigned v = 0, n = 0;
    for (const char *c = *s;; c++, n++) {
        unsigned d;
        if (*c >= '0' && *c <= '9')
            d = (unsigned)(*c - '0');
        else if (*c >= 'a' && *c <= 'f')
            d = (unsigned)(*c - 'a' + 10);
        else if (*c >= 'A' && *c <= 'F')
            d = (unsigned)(*c - 'A' + 10);
        else
            break;
        if (n >= max)
            return -1;
        v = v << 4 | d;
    }
    if (n < min)
        return -1;
    *s += n;
    *out = v;
    return 0;
}

int cfg_parse_bus_id(const char *s, unsigned *domain, unsigned *bus, unsigned *device,
                     unsigned *function)
{
    const char *c = s;
    if (hex_field(&c, 4, 8, domain) < 0 || *c++ != ':' || hex_field(&c, 2, 2, bus) < 0 ||
        *c++ != ':' || hex_field(&c, 2, 2, device) < 0 || *c++ != '.' ||
        hex_field(&c, 1, 1, function) < 0 || *c)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ mig-devices */

static int parse_profile_key(yd_doc *p, yaml_node_t *k, const char *key, cfg_mig_device *d)
{
    char profile[64];
    mig_error pe = {0};
    if (strlen(key) >= sizeof d->key)
        return yd_fail(p, k, "profile key '%.40s...' is too long; expected a profile name such as "
                          "1g.10gb, 1c.3g.40gb or 3g.40gb@4", key);
    if (mig_profile_ref_parse(key, profile, sizeof profile, &d->start, &pe) < 0 ||
        mig_profile_name_parse(profile, &d->name, &pe) < 0)
        return yd_fail(p, k, "%s; expected a profile name such as 1g.10gb, 1c.3g.40gb or 3g.40gb@4",
                    pe.msg);
    snprintf(d->key, sizeof d->key, "%s", key);
    d->line = (unsigned)k->start_mark.line + 1;
    d->col = (unsigned)k->start_mark.column + 1;
    return 0;
}

/* Two keys naming the same instances ("1g.10gb" and "MIG 1g.10gb"). */
static const cfg_mig_device *same_profile(const cfg_entry *en, const cfg_mig_device *d)
{
    for (unsigned i = 0; i < en->n_devices; i++) {
        const cfg_mig_device *o = &en->devices[i];
        if (o->start == d->start && o->name.ci_slices == d->name.ci_slices &&
            o->name.gi_slices == d->name.gi_slices && o->name.mem_gb == d->name.mem_gb &&
            o->name.attr == d->name.attr)
            return o;
    }
    return NULL;
}

static int parse_mig_devices(yd_doc *p, yaml_node_t *v, cfg_entry *en)
{
    if (v->type != YAML_MAPPING_NODE)
        return yd_fail(p, v, "mig-devices is %s; expected a map of profile name to count",
                    yd_kind_name(v));
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n > CFG_MAX_PROFILE_KEYS)
        return yd_fail(p, v, "mig-devices has %zu keys; expected at most %d profiles", n,
                    CFG_MAX_PROFILE_KEYS);
    en->devices = calloc(n ? n : 1, sizeof *en->devices);
    if (!en->devices)
        return yd_nomem(p);
    bool any_positive = false;
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        const char *key;
        if (yd_key(p, pr, v, "mig-devices", &key) < 0)
            return -1;
        yaml_node_t *k = yd_node(p, pr->key), *val = yd_node(p, pr->value);
        cfg_mig_device *d = &en->devices[en->n_devices];
        if (!val || yd_spend(p, val) < 0 || parse_profile_key(p, k, key, d) < 0)
            return -1;
        const cfg_mig_device *twin = same_profile(en, d);
        if (twin)
            return yd_fail(p, k, "'%s' names the same profile as '%s' (line %u); expected each "
                              "profile once", key, twin->key, twin->line);
        char what[96];
        snprintf(what, sizeof what, "the count of %s", key);
        if (yd_uint(p, val, what, CFG_MAX_COUNT, &d->count) < 0)
            return -1;
        if (d->start >= 0 && d->name.ci_slices == 0 && d->count > 1)
            return yd_fail(p, val, "%s pins one placement but asks for %u instances; expected a "
                                "count of 0 or 1", key, d->count);
        any_positive = any_positive || d->count > 0;
        en->n_devices++;
    }
    if (en->n_devices > 0 && !any_positive)
        return yd_fail(p, v, "every count in mig-devices is 0; expected at least one count above 0 "
                          "(or mig-devices: {})");
    return 0;
}

/* ------------------------------------------------------------ entries */

static const char entry_keys[] =
    "devices, device-filter, mig-enabled, mig-devices, uuids, pci-bus-ids, models, mps";

static int parse_entry(yd_doc *p, yaml_node_t *m, cfg_entry *en)
{
    en->line = (unsigned)m->start_mark.line + 1;
    en->col = (unsigned)m->start_mark.column + 1;
    if (m->type != YAML_MAPPING_NODE)
        return yd_fail(p, m, "an entry is %s; expected a map with keys %s", yd_kind_name(m), entry_keys);
    yaml_node_t *enabled = NULL, *devs = NULL;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        const char *key;
        if (yd_key(p, pr, m, "an entry", &key) < 0)
            return -1;
        yaml_node_t *v = yd_node(p, pr->value);
        if (!v || yd_spend(p, v) < 0)
            return -1;
        int rc;
        if (!strcmp(key, "devices"))
            rc = parse_devices(p, v, en);
        else if (!strcmp(key, "device-filter"))
            rc = parse_filters(p, v, en);
        else if (!strcmp(key, "mig-enabled"))
            rc = yd_bool(p, v, "mig-enabled", &en->mig_enabled), enabled = v;
        else if (!strcmp(key, "mig-devices"))
            rc = yd_is_null(v) ? 0 : (devs = v, parse_mig_devices(p, v, en));
        else if (!strcmp(key, "uuids"))
            rc = parse_strings(p, v, "uuids", NULL, &en->n_uuids, &en->uuids);
        else if (!strcmp(key, "pci-bus-ids"))
            rc = parse_strings(p, v, "pci-bus-ids", check_bus_id, &en->n_bus_ids, &en->bus_ids);
        else if (!strcmp(key, "models"))
            rc = parse_strings(p, v, "models", check_model, &en->n_models, &en->models);
        else if (!strcmp(key, "mps"))
            rc = yd_bool(p, v, "mps", &en->mps);
        else
            rc = yd_fail(p, yd_node(p, pr->key), "unknown key '%.60s' in an entry; expected one of %s",
                      key, entry_keys);
        if (rc < 0)
            return -1;
    }
    if (!en->has_devices && !en->uuids && !en->bus_ids && !en->models)
        return yd_fail(p, m, "entry selects no GPUs; expected devices: all, devices: [i, ...], or "
                          "one of uuids, pci-bus-ids, models");
    if (!enabled)
        return yd_fail(p, m, "entry has no mig-enabled; expected mig-enabled: true or false");
    if (en->mig_enabled && !devs)
        return yd_fail(p, m, "mig-enabled is true but mig-devices is missing; expected mig-devices "
                          "(use {} for MIG on with no instances)");
    if (!en->mig_enabled && en->n_devices > 0)
        return yd_fail(p, devs, "mig-enabled is false but mig-devices lists instances; expected no "
                             "mig-devices (or {})");
    if (en->mps && en->mig_enabled)
        return yd_fail(p, m, "mps: true needs mig-enabled: false (MPS shares a whole GPU)");
    return 0;
}

static int parse_config(yd_doc *p, yaml_node_t *k, const char *name, yaml_node_t *v, cfg_config *c)
{
    c->line = (unsigned)k->start_mark.line + 1;
    c->col = (unsigned)k->start_mark.column + 1;
    if (!(c->name = dup_text(p, name)))
        return -1;
    if (!*name)
        return yd_fail(p, k, "a config has an empty name; expected a label such as all-1g.10gb");
    if (v->type != YAML_SEQUENCE_NODE)
        return yd_fail(p, v, "config '%s' is %s; expected a list of entries", name, yd_kind_name(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0)
        return yd_fail(p, v, "config '%s' has no entries; expected a list of at least one entry",
                    name);
    c->entries = calloc(n, sizeof *c->entries);
    if (!c->entries)
        return yd_nomem(p);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *x = yd_node(p, *it);
        if (!x || yd_spend(p, x) < 0)
            return -1;
        c->n_entries++; /* counted first so cfg_free sees a half-filled entry */
        if (parse_entry(p, x, &c->entries[c->n_entries - 1]) < 0)
            return -1;
    }
    return 0;
}

static int parse_configs(yd_doc *p, yaml_node_t *v, cfg_file *f)
{
    if (v->type != YAML_MAPPING_NODE)
        return yd_fail(p, v, "mig-configs is %s; expected a map of config names to entry lists",
                    yd_kind_name(v));
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n == 0)
        return yd_fail(p, v, "mig-configs is empty; expected at least one named config");
    if (n > CFG_MAX_CONFIGS)
        return yd_fail(p, v, "mig-configs has %zu configs; expected at most %d", n, CFG_MAX_CONFIGS);
    f->configs = calloc(n, sizeof *f->configs);
    if (!f->configs)
        return yd_nomem(p);
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        const char *name;
        if (yd_key(p, pr, v, "mig-configs", &name) < 0)
            return -1;
        yaml_node_t *val = yd_node(p, pr->value);
        if (!val || yd_spend(p, val) < 0)
            return -1;
        f->n_configs++;
        if (parse_config(p, yd_node(p, pr->key), name, val, &f->configs[f->n_configs - 1]) < 0)
            return -1;
    }
    return 0;
}

static int parse_root(yd_doc *p, yaml_node_t *root, cfg_file *f)
{
    if (!root)
        return yd_fail(p, NULL, "the file is empty; expected a map with version: v1 and mig-configs");
    if (root->type != YAML_MAPPING_NODE)
        return yd_fail(p, root, "the file is %s; expected a map with version: v1 and mig-configs",
                    yd_kind_name(root));
    yaml_node_t *version = NULL, *configs = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        const char *key;
        if (yd_key(p, pr, root, "the top level", &key) < 0)
            return -1;
        yaml_node_t *v = yd_node(p, pr->value);
        if (!v || yd_spend(p, v) < 0)
            return -1;
        if (!strcmp(key, "version"))
            version = v;
        else if (!strcmp(key, "mig-configs"))
            configs = v;
        else
            return yd_fail(p, yd_node(p, pr->key),
                        "unknown key '%.60s' at the top level; expected version or mig-configs",
                        key);
    }
    if (!version)
        return yd_fail(p, root, "no version key; expected version: v1");
    if (version->type != YAML_SCALAR_NODE || strcmp(yd_scalar(version), "v1") != 0)
        return yd_fail(p, version, "version is '%.40s'; expected v1",
                    version->type == YAML_SCALAR_NODE ? yd_scalar(version) : yd_kind_name(version));
    if (!configs)
        return yd_fail(p, root, "no mig-configs key; expected mig-configs: a map of named configs");
    return parse_configs(p, configs, f);
}

/* ------------------------------------------------------------ entry points */

#define CFG_WHAT "a v1 config"

/* The walk over a loaded document, shared by both entry points. */
static int parse_loaded(yd_doc *d, const char *path, cfg_file *out)
{
    if (!(out->path = strdup(path)))
        return yd_nomem(d);
    int rc = parse_root(d, yd_root(d), out);
    if (rc < 0)
        cfg_free(out);
    return rc;
}

int cfg_parse_string(const char *text, size_t len, const char *path_for_errors, cfg_file *out,
                     mig_error *e)
{
    const char *path = path_for_errors ? path_for_errors : "<config>";
    memset(out, 0, sizeof *out);
    yd_doc d;
    if (yd_load_string(&d, text, len, path, CFG_WHAT, e) < 0)
        return -1;
    int rc = parse_loaded(&d, path, out);
    yd_free(&d);
    return rc;
}

int cfg_parse_file(const char *path, cfg_file *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    yd_doc d;
    if (yd_load_file(&d, path, "config file", e) < 0)
        return -1;
    int rc = parse_loaded(&d, d.path, out);
    yd_free(&d);
    return rc;
}

static void free_strings(char **v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cfg_entry_free(cfg_entry *en)
{
    free(en->indices);
    free(en->filters);
    free_strings(en->uuids, en->n_uuids);
    free_strings(en->bus_ids, en->n_bus_ids);
    free_strings(en->models, en->n_models);
    free(en->devices);
    memset(en, 0, sizeof *en);
}

void cfg_free(cfg_file *f)
{
    if (!f)
        return;
    for (unsigned i = 0; i < f->n_configs; i++) {
        cfg_config *c = &f->configs[i];
        for (unsigned j = 0; j < c->n_entries; j++)
            cfg_entry_free(&c->entries[j]);
        free(c->entries);
        free(c->name);
    }
    free(f->configs);
    free(f->path);
    memset(f, 0, sizeof *f);
}
