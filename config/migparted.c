/*
 * migparted.c: the parser of mig-parted's `version: v1` config format.
 *
 * libyaml loads the text into a document (a node tree with marks); a
 * schema-driven walk then checks it strictly, key by key, and fills the
 * cfg_file structs. The walk never recurses on the input's own shape: the
 * schema is five levels deep (root, mig-configs, config list, entry,
 * mig-devices), so deep nesting cannot exhaust the stack. Aliases are
 * followed (the document API shares aliased nodes), and every node visit
 * spends one unit of a fixed budget, so alias bombs and cyclic aliases end
 * in a clean error instead of exponential work.
 *
 * Every error is MIG_ERR_INPUT "<file>:<line>:<col>: <what is wrong>;
 * expected <what>", with libyaml's 0-based marks printed 1-based.
 */
#include "config/migparted.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "model/catalogue.h"

/* Most node visits one file may cost; mig-parted's default config needs ~1500. */
#define CFG_VISIT_BUDGET 200000
/* Biggest input accepted; the default config is 12 KiB. libyaml's document
 * costs ~100 bytes per node, so this also bounds memory (~100 MiB worst). */
#define CFG_MAX_BYTES (4u << 20)
/* No GPU has more than 7 GIs of 8 CIs; anything above this is a typo. */
#define CFG_MAX_COUNT 64u
/* GPU indices are PCI enumeration positions; a node has a handful. */
#define CFG_MAX_INDEX 65535u
/* Map sizes: keys are checked for duplicates pairwise, so maps are capped
 * far above real use (NVIDIA's default config has 68 configs; a GPU has at
 * most a few dozen distinct profile keys). */
#define CFG_MAX_CONFIGS 10000
#define CFG_MAX_PROFILE_KEYS 256
/* libyaml looks anchors up linearly per alias. */
#define CFG_MAX_ANCHORS 1000
#define CFG_MAX_ALIASES 10000

typedef struct {
    yaml_document_t *doc;
    const char *path;
    mig_error *e;
    unsigned long budget;
} pctx;

/* ------------------------------------------------------------ errors */

static int failv(pctx *p, const yaml_node_t *at, const char *fmt, va_list ap)
{
    char what[768];
    vsnprintf(what, sizeof what, fmt, ap);
    unsigned line = at ? (unsigned)at->start_mark.line + 1 : 1;
    unsigned col = at ? (unsigned)at->start_mark.column + 1 : 1;
    return mig_fail(p->e, MIG_ERR_INPUT, "%s:%u:%u: %s", p->path, line, col, what);
}

__attribute__((format(printf, 3, 4))) static int fail(pctx *p, const yaml_node_t *at,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(p, at, fmt, ap);
    va_end(ap);
    return -1;
}

/* Charge one node visit; fails once the budget is spent. */
static int spend(pctx *p, const yaml_node_t *at)
{
    if (p->budget == 0)
        return fail(p, at, "config too large or too many aliases; expected a file of at most %d nodes",
                    CFG_VISIT_BUDGET);
    p->budget--;
    return 0;
}

/* ------------------------------------------------------------ node helpers */

static yaml_node_t *node(pctx *p, int index)
{
    return yaml_document_get_node(p->doc, index);
}

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a map";
    default:
        return "nothing";
    }
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML's null: an empty plain scalar, "~" or "null". */
static bool is_null(const yaml_node_t *n)
{
    if (!is_plain(n))
        return false;
    const char *s = scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

/* A scalar usable as text: a scalar with no NUL inside (NULs would make
 * two different YAML strings one C string). */
static int text_of(pctx *p, const yaml_node_t *n, const char *what, const char **out)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail(p, n, "%s is %s; expected a string", what, kind_name(n));
    if (strlen(scalar(n)) != n->data.scalar.length)
        return fail(p, n, "%s contains a NUL character; expected text", what);
    *out = scalar(n);
    return 0;
}

/* YAML 1.1 booleans, as mig-parted's yaml library reads them. */
static int bool_of(pctx *p, const yaml_node_t *n, const char *what, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    if (is_plain(n)) {
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (!strcmp(scalar(n), yes[i]))
                return *out = true, 0;
            if (!strcmp(scalar(n), no[i]))
                return *out = false, 0;
        }
    }
    if (n->type == YAML_SCALAR_NODE && !is_plain(n))
        return fail(p, n, "%s is the string \"%.40s\"; expected true or false, unquoted", what,
                    scalar(n));
    if (n->type == YAML_SCALAR_NODE)
        return fail(p, n, "%s is '%.40s'; expected true or false", what, scalar(n));
    return fail(p, n, "%s is %s; expected true or false", what, kind_name(n));
}

/* A non-negative decimal integer (plain scalar), at most max. */
static int uint_of(pctx *p, const yaml_node_t *n, const char *what, unsigned max, unsigned *out)
{
    if (!is_plain(n)) {
        if (n->type == YAML_SCALAR_NODE)
            return fail(p, n, "%s is the string \"%.40s\"; expected an integer from 0 to %u", what,
                        scalar(n), max);
        return fail(p, n, "%s is %s; expected an integer from 0 to %u", what, kind_name(n), max);
    }
    const char *s = scalar(n);
    const char *d = (*s == '+') ? s + 1 : s;
    bool digits = *d != '\0';
    for (const char *c = d; *c; c++)
        digits = digits && *c >= '0' && *c <= '9';
    if (!digits)
        return fail(p, n, "%s is '%.40s'; expected an integer from 0 to %u", what, s, max);
    /* YAML 1.1 (mig-parted's reader) takes "010" as octal 8: refuse, not guess */
    if (d[0] == '0' && d[1])
        return fail(p, n, "%s '%.40s' has a leading zero; expected a decimal integer", what, s);
    errno = 0;
    unsigned long long v = strtoull(d, NULL, 10);
    if (errno || v > max)
        return fail(p, n, "%s %.40s is too large; expected an integer from 0 to %u", what, s, max);
    *out = (unsigned)v;
    return 0;
}

/* Keys of a mapping must be unique scalars; returns the key text. */
static int key_of(pctx *p, yaml_node_pair_t *pair, const yaml_node_t *map, const char *where,
                  const char **out)
{
    (void)map;
    yaml_node_t *k = node(p, pair->key);
    if (!k || spend(p, k) < 0)
        return -1;
    if (k->type != YAML_SCALAR_NODE)
        return fail(p, k, "a key in %s is %s; expected a string key", where, kind_name(k));
    if (text_of(p, k, "a key", out) < 0)
        return -1;
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
        yaml_node_t *qk = node(p, q->key);
        if (qk && qk->type == YAML_SCALAR_NODE && !strcmp(scalar(qk), *out)) {
            return fail(p, k, "duplicate key '%.60s' in %s (first at line %u); expected each key once",
                        *out, where, (unsigned)qk->start_mark.line + 1);
        }
    }
    return 0;
}

static char *dup_text(pctx *p, const yaml_node_t *at, const char *s)
{
    char *d = strdup(s);
    if (!d)
        mig_fail(p->e, MIG_ERR_SYSTEM, "%s:%u:%u: out of memory", p->path,
                 (unsigned)at->start_mark.line + 1, (unsigned)at->start_mark.column + 1);
    return d;
}

static int nomem(pctx *p)
{
    return mig_fail(p->e, MIG_ERR_SYSTEM, "%s: out of memory", p->path);
}

/* ------------------------------------------------------------ selectors */

/* "all" or a list of indices; a bare integer is mig-parted's classic typo. */
static int parse_devices(pctx *p, yaml_node_t *v, cfg_entry *en)
{
    en->has_devices = true;
    if (v->type == YAML_SCALAR_NODE) {
        if (!strcmp(scalar(v), "all"))
            return en->all_devices = true, 0;
        if (strspn(scalar(v), "0123456789") == strlen(scalar(v)) && is_plain(v) && *scalar(v))
            return fail(p, v, "devices: %.20s is a single index; expected \"all\" or a list such "
                              "as [%.20s]", scalar(v), scalar(v));
        return fail(p, v, "devices is '%.40s'; expected \"all\" or a list of GPU indices", scalar(v));
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(p, v, "devices is %s; expected \"all\" or a list of GPU indices", kind_name(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    en->indices = calloc(n ? n : 1, sizeof *en->indices);
    if (!en->indices)
        return nomem(p);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *x = node(p, *it);
        if (!x || spend(p, x) < 0 ||
            uint_of(p, x, "a device index", CFG_MAX_INDEX, &en->indices[en->n_indices]) < 0)
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

static int one_filter(pctx *p, yaml_node_t *x, cfg_entry *en)
{
    const char *s = NULL;
    if (text_of(p, x, "a device-filter", &s) < 0)
        return -1;
    if (cfg_parse_device_filter(s, &en->filters[en->n_filters]) < 0)
        return fail(p, x, "device-filter '%.40s' is not a PCI id; expected \"0xDDDDVVVV\" or "
                          "\"0xDDDDVVVV:0xSSSSssss\" (hex)", s);
    en->n_filters++;
    return 0;
}

static int parse_filters(pctx *p, yaml_node_t *v, cfg_entry *en)
{
    if (v->type == YAML_SCALAR_NODE) {
        en->filters = calloc(1, sizeof *en->filters);
        return en->filters ? one_filter(p, v, en) : nomem(p);
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(p, v, "device-filter is %s; expected a PCI id string or a list of them",
                    kind_name(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    en->filters = calloc(n ? n : 1, sizeof *en->filters);
    if (!en->filters)
        return nomem(p);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *x = node(p, *it);
        if (!x || spend(p, x) < 0 || one_filter(p, x, en) < 0)
            return -1;
    }
    return 0;
}

/* A list of strings (uuids, pci-bus-ids, models); check() vets each one. */
typedef int (*item_check)(pctx *p, yaml_node_t *x, const char *s);

static int parse_strings(pctx *p, yaml_node_t *v, const char *key, item_check check,
                         unsigned *n_out, char ***out)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(p, v, "%s is %s; expected a list of strings", key, kind_name(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return nomem(p);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *x = node(p, *it);
        const char *s = NULL;
        if (!x || spend(p, x) < 0 || text_of(p, x, key, &s) < 0)
            return -1;
        if (!*s)
            return fail(p, x, "empty string in %s; expected a non-empty value", key);
        if (check && check(p, x, s) < 0)
            return -1;
        if (!((*out)[*n_out] = dup_text(p, x, s)))
            return -1;
        (*n_out)++;
    }
    return 0;
}

static int check_model(pctx *p, yaml_node_t *x, const char *s)
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
    return fail(p, x, "unknown model '%.60s'; expected one of %s", s, names);
}

static int check_bus_id(pctx *p, yaml_node_t *x, const char *s)
{
    unsigned dom, bus, dev, fn;
    if (cfg_parse_bus_id(s, &dom, &bus, &dev, &fn) == 0)
        return 0;
    return fail(p, x, "pci-bus-id '%.60s' is not a PCI address; expected \"DDDDDDDD:BB:DD.F\" or "
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

static int parse_profile_key(pctx *p, yaml_node_t *k, const char *key, cfg_mig_device *d)
{
    char profile[64];
    mig_error pe = {0};
    if (strlen(key) >= sizeof d->key)
        return fail(p, k, "profile key '%.40s...' is too long; expected a profile name such as "
                          "1g.10gb, 1c.3g.40gb or 3g.40gb@4", key);
    if (mig_profile_ref_parse(key, profile, sizeof profile, &d->start, &pe) < 0 ||
        mig_profile_name_parse(profile, &d->name, &pe) < 0)
        return fail(p, k, "%s; expected a profile name such as 1g.10gb, 1c.3g.40gb or 3g.40gb@4",
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

static int parse_mig_devices(pctx *p, yaml_node_t *v, cfg_entry *en)
{
    if (v->type != YAML_MAPPING_NODE)
        return fail(p, v, "mig-devices is %s; expected a map of profile name to count",
                    kind_name(v));
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n > CFG_MAX_PROFILE_KEYS)
        return fail(p, v, "mig-devices has %zu keys; expected at most %d profiles", n,
                    CFG_MAX_PROFILE_KEYS);
    en->devices = calloc(n ? n : 1, sizeof *en->devices);
    if (!en->devices)
        return nomem(p);
    bool any_positive = false;
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        const char *key;
        if (key_of(p, pr, v, "mig-devices", &key) < 0)
            return -1;
        yaml_node_t *k = node(p, pr->key), *val = node(p, pr->value);
        cfg_mig_device *d = &en->devices[en->n_devices];
        if (!val || spend(p, val) < 0 || parse_profile_key(p, k, key, d) < 0)
            return -1;
        const cfg_mig_device *twin = same_profile(en, d);
        if (twin)
            return fail(p, k, "'%s' names the same profile as '%s' (line %u); expected each "
                              "profile once", key, twin->key, twin->line);
        char what[96];
        snprintf(what, sizeof what, "the count of %s", key);
        if (uint_of(p, val, what, CFG_MAX_COUNT, &d->count) < 0)
            return -1;
        if (d->start >= 0 && d->name.ci_slices == 0 && d->count > 1)
            return fail(p, val, "%s pins one placement but asks for %u instances; expected a "
                                "count of 0 or 1", key, d->count);
        any_positive = any_positive || d->count > 0;
        en->n_devices++;
    }
    if (en->n_devices > 0 && !any_positive)
        return fail(p, v, "every count in mig-devices is 0; expected at least one count above 0 "
                          "(or mig-devices: {})");
    return 0;
}

/* ------------------------------------------------------------ entries */

static const char entry_keys[] =
    "devices, device-filter, mig-enabled, mig-devices, uuids, pci-bus-ids, models, mps";

static int parse_entry(pctx *p, yaml_node_t *m, cfg_entry *en)
{
    en->line = (unsigned)m->start_mark.line + 1;
    en->col = (unsigned)m->start_mark.column + 1;
    if (m->type != YAML_MAPPING_NODE)
        return fail(p, m, "an entry is %s; expected a map with keys %s", kind_name(m), entry_keys);
    yaml_node_t *enabled = NULL, *devs = NULL;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        const char *key;
        if (key_of(p, pr, m, "an entry", &key) < 0)
            return -1;
        yaml_node_t *v = node(p, pr->value);
        if (!v || spend(p, v) < 0)
            return -1;
        int rc;
        if (!strcmp(key, "devices"))
            rc = parse_devices(p, v, en);
        else if (!strcmp(key, "device-filter"))
            rc = parse_filters(p, v, en);
        else if (!strcmp(key, "mig-enabled"))
            rc = bool_of(p, v, "mig-enabled", &en->mig_enabled), enabled = v;
        else if (!strcmp(key, "mig-devices"))
            rc = is_null(v) ? 0 : (devs = v, parse_mig_devices(p, v, en));
        else if (!strcmp(key, "uuids"))
            rc = parse_strings(p, v, "uuids", NULL, &en->n_uuids, &en->uuids);
        else if (!strcmp(key, "pci-bus-ids"))
            rc = parse_strings(p, v, "pci-bus-ids", check_bus_id, &en->n_bus_ids, &en->bus_ids);
        else if (!strcmp(key, "models"))
            rc = parse_strings(p, v, "models", check_model, &en->n_models, &en->models);
        else if (!strcmp(key, "mps"))
            rc = bool_of(p, v, "mps", &en->mps);
        else
            rc = fail(p, node(p, pr->key), "unknown key '%.60s' in an entry; expected one of %s",
                      key, entry_keys);
        if (rc < 0)
            return -1;
    }
    if (!en->has_devices && !en->uuids && !en->bus_ids && !en->models)
        return fail(p, m, "entry selects no GPUs; expected devices: all, devices: [i, ...], or "
                          "one of uuids, pci-bus-ids, models");
    if (!enabled)
        return fail(p, m, "entry has no mig-enabled; expected mig-enabled: true or false");
    if (en->mig_enabled && !devs)
        return fail(p, m, "mig-enabled is true but mig-devices is missing; expected mig-devices "
                          "(use {} for MIG on with no instances)");
    if (!en->mig_enabled && en->n_devices > 0)
        return fail(p, devs, "mig-enabled is false but mig-devices lists instances; expected no "
                             "mig-devices (or {})");
    if (en->mps && en->mig_enabled)
        return fail(p, m, "mps: true needs mig-enabled: false (MPS shares a whole GPU)");
    return 0;
}

static int parse_config(pctx *p, yaml_node_t *k, const char *name, yaml_node_t *v, cfg_config *c)
{
    c->line = (unsigned)k->start_mark.line + 1;
    c->col = (unsigned)k->start_mark.column + 1;
    if (!(c->name = dup_text(p, k, name)))
        return -1;
    if (!*name)
        return fail(p, k, "a config has an empty name; expected a label such as all-1g.10gb");
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(p, v, "config '%s' is %s; expected a list of entries", name, kind_name(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0)
        return fail(p, v, "config '%s' has no entries; expected a list of at least one entry",
                    name);
    c->entries = calloc(n, sizeof *c->entries);
    if (!c->entries)
        return nomem(p);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *x = node(p, *it);
        if (!x || spend(p, x) < 0)
            return -1;
        c->n_entries++; /* counted first so cfg_free sees a half-filled entry */
        if (parse_entry(p, x, &c->entries[c->n_entries - 1]) < 0)
            return -1;
    }
    return 0;
}

static int parse_configs(pctx *p, yaml_node_t *v, cfg_file *f)
{
    if (v->type != YAML_MAPPING_NODE)
        return fail(p, v, "mig-configs is %s; expected a map of config names to entry lists",
                    kind_name(v));
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n == 0)
        return fail(p, v, "mig-configs is empty; expected at least one named config");
    if (n > CFG_MAX_CONFIGS)
        return fail(p, v, "mig-configs has %zu configs; expected at most %d", n, CFG_MAX_CONFIGS);
    f->configs = calloc(n, sizeof *f->configs);
    if (!f->configs)
        return nomem(p);
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        const char *name;
        if (key_of(p, pr, v, "mig-configs", &name) < 0)
            return -1;
        yaml_node_t *val = node(p, pr->value);
        if (!val || spend(p, val) < 0)
            return -1;
        f->n_configs++;
        if (parse_config(p, node(p, pr->key), name, val, &f->configs[f->n_configs - 1]) < 0)
            return -1;
    }
    return 0;
}

static int parse_root(pctx *p, yaml_node_t *root, cfg_file *f)
{
    if (!root)
        return fail(p, NULL, "the file is empty; expected a map with version: v1 and mig-configs");
    if (root->type != YAML_MAPPING_NODE)
        return fail(p, root, "the file is %s; expected a map with version: v1 and mig-configs",
                    kind_name(root));
    yaml_node_t *version = NULL, *configs = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        const char *key;
        if (key_of(p, pr, root, "the top level", &key) < 0)
            return -1;
        yaml_node_t *v = node(p, pr->value);
        if (!v || spend(p, v) < 0)
            return -1;
        if (!strcmp(key, "version"))
            version = v;
        else if (!strcmp(key, "mig-configs"))
            configs = v;
        else
            return fail(p, node(p, pr->key),
                        "unknown key '%.60s' at the top level; expected version or mig-configs",
                        key);
    }
    if (!version)
        return fail(p, root, "no version key; expected version: v1");
    if (version->type != YAML_SCALAR_NODE || strcmp(scalar(version), "v1") != 0)
        return fail(p, version, "version is '%.40s'; expected v1",
                    version->type == YAML_SCALAR_NODE ? scalar(version) : kind_name(version));
    if (!configs)
        return fail(p, root, "no mig-configs key; expected mig-configs: a map of named configs");
    return parse_configs(p, configs, f);
}

/* ------------------------------------------------------------ entry points */

static int yaml_error(const char *path, const yaml_parser_t *yp, mig_error *e)
{
    const yaml_mark_t *m = yp->problem ? &yp->problem_mark : &yp->mark;
    if (yp->error == YAML_MEMORY_ERROR)
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: out of memory while reading YAML", path);
    char context[160] = "";
    if (yp->context)
        snprintf(context, sizeof context, " %s started at %u:%u", yp->context,
                 (unsigned)yp->context_mark.line + 1, (unsigned)yp->context_mark.column + 1);
    return mig_fail(e, MIG_ERR_INPUT, "%s:%u:%u: YAML syntax error: %s%s; expected well-formed YAML",
                    path, (unsigned)m->line + 1, (unsigned)m->column + 1,
                    yp->problem ? yp->problem : "unreadable input", context);
}

/* Before libyaml builds a document (~100 bytes a node), its event stream
 * is checked for size: node count, anchors and aliases (libyaml looks
 * anchors up linearly per alias) and depth. A v1 config is five levels deep
 * (root, mig-configs, config list, entry, mig-devices or a selector list);
 * libyaml's scanner is quadratic in the nesting depth (it rescans its stack
 * of possible simple keys per token), and checking events stops at the
 * first node too deep, long before the scanner gets slow. */
#define CFG_MAX_DEPTH 32

static int check_depth(const char *text, size_t len, const char *path, mig_error *e)
{
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp))
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: cannot start the YAML parser", path);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    int depth = 0, rc = 0;
    unsigned anchors = 0, aliases = 0, nodes = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&yp, &ev)) {
            rc = yaml_error(path, &yp, e);
            break;
        }
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
            depth--;
        if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
            ev.type == YAML_MAPPING_START_EVENT)
            nodes++;
        if (ev.type == YAML_ALIAS_EVENT)
            aliases++;
        else if ((ev.type == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
                 (ev.type == YAML_SEQUENCE_START_EVENT && ev.data.sequence_start.anchor) ||
                 (ev.type == YAML_MAPPING_START_EVENT && ev.data.mapping_start.anchor))
            anchors++;
        if (anchors > CFG_MAX_ANCHORS || aliases > CFG_MAX_ALIASES)
            rc = mig_fail(e, MIG_ERR_INPUT, "%s:%u:%u: more than %d anchors or %d aliases; "
                                            "expected a v1 config", path,
                          (unsigned)ev.start_mark.line + 1, (unsigned)ev.start_mark.column + 1,
                          CFG_MAX_ANCHORS, CFG_MAX_ALIASES);
        else if (nodes > CFG_VISIT_BUDGET)
            rc = mig_fail(e, MIG_ERR_INPUT, "%s:%u:%u: more than %d YAML nodes; expected a v1 "
                                            "config", path, (unsigned)ev.start_mark.line + 1,
                          (unsigned)ev.start_mark.column + 1, CFG_VISIT_BUDGET);
        else if (depth > CFG_MAX_DEPTH)
            rc = mig_fail(e, MIG_ERR_INPUT, "%s:%u:%u: nesting deeper than %d levels; expected a "
                                            "v1 config (5 levels deep)",
                          path, (unsigned)ev.start_mark.line + 1,
                          (unsigned)ev.start_mark.column + 1, CFG_MAX_DEPTH);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&yp);
    return rc;
}

/* Load the one document of the text; a second document is an error. */
static int load_document(const char *text, size_t len, const char *path, yaml_document_t *doc,
                         mig_error *e)
{
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp))
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: cannot start the YAML parser", path);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, doc)) {
        int rc = yaml_error(path, &yp, e);
        yaml_parser_delete(&yp);
        return rc;
    }
    yaml_document_t next;
    int rc = 0;
    if (!yaml_parser_load(&yp, &next)) {
        rc = yaml_error(path, &yp, e);
    } else {
        yaml_node_t *extra = yaml_document_get_root_node(&next);
        if (extra)
            rc = mig_fail(e, MIG_ERR_INPUT, "%s:%u:%u: a second YAML document; expected one "
                                            "document per file",
                          path, (unsigned)extra->start_mark.line + 1,
                          (unsigned)extra->start_mark.column + 1);
        yaml_document_delete(&next);
    }
    yaml_parser_delete(&yp);
    if (rc < 0)
        yaml_document_delete(doc);
    return rc;
}

int cfg_parse_string(const char *text, size_t len, const char *path_for_errors, cfg_file *out,
                     mig_error *e)
{
    const char *path = path_for_errors ? path_for_errors : "<config>";
    memset(out, 0, sizeof *out);
    if (len > CFG_MAX_BYTES)
        return mig_fail(e, MIG_ERR_INPUT, "%s: %zu bytes; expected a config of at most %u MiB", path,
                        len, CFG_MAX_BYTES >> 20);
    if (!(out->path = strdup(path)))
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: out of memory", path);
    yaml_document_t doc;
    if (check_depth(text, len, path, e) < 0 || load_document(text, len, path, &doc, e) < 0) {
        cfg_free(out);
        return -1;
    }
    pctx p = {.doc = &doc, .path = path, .e = e, .budget = CFG_VISIT_BUDGET};
    int rc = parse_root(&p, yaml_document_get_root_node(&doc), out);
    yaml_document_delete(&doc);
    if (rc < 0)
        cfg_free(out);
    return rc;
}

static int read_all(FILE *in, const char *path, char **buf, size_t *len, mig_error *e)
{
    size_t cap = 1 << 14, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, in);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= CFG_MAX_BYTES) {
                free(b);
                return mig_fail(e, MIG_ERR_INPUT, "%s: file of %u MiB or more; expected a config "
                                                  "file", path, CFG_MAX_BYTES >> 20);
            }
            char *nb = realloc(b, cap *= 2);
            if (!nb)
                free(b);
            b = nb;
        }
    }
    if (!b)
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: out of memory", path);
    if (ferror(in)) {
        free(b);
        return mig_fail(e, MIG_ERR_INPUT, "%s: read error: %s", path, strerror(errno));
    }
    *buf = b;
    *len = n;
    return 0;
}

int cfg_parse_file(const char *path, cfg_file *out, mig_error *e)
{
    bool std_in = !strcmp(path, "-");
    const char *name = std_in ? "<stdin>" : path;
    memset(out, 0, sizeof *out);
    FILE *in = std_in ? stdin : fopen(path, "rb");
    if (!in)
        return mig_fail(e, MIG_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0;
    int rc = read_all(in, name, &buf, &len, e);
    if (!std_in)
        fclose(in);
    if (rc < 0)
        return -1;
    rc = cfg_parse_string(buf, len, name, out, e);
    free(buf);
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
