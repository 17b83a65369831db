/*
 * emit.c: a cfg_file written back out as a v1 config, YAML (libyaml's
 * emitter) or JSON (jansson), and cfg_equal, the meaning-level comparison
 * the round-trip tests and the fuzzer rely on.
 *
 * The YAML looks like mig-parted's own files: block style, profile keys and
 * PCI ids double-quoted, `devices` and `device-filter` as flow lists. Keys
 * are written as they were read ("MIG 1g.10gb" stays so), which is what
 * makes parse(emit(f)) equal f. JSON is YAML too, so both forms re-parse
 * with the same parser.
 */
#include <errno.h>
#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config/migparted.h"
#include "util/fileio.h"

/* ------------------------------------------------------------ YAML */

typedef struct {
    yaml_emitter_t em;
    bool failed;
} yout;

/* Emit an event; after the first failure, events are only freed (the
 * emitter owns an event once given it, success or not). */
static void emit(yout *y, yaml_event_t *ev, int ok)
{
    if (!ok) {
        y->failed = true;
        return;
    }
    if (y->failed) {
        yaml_event_delete(ev);
        return;
    }
    if (!yaml_emitter_emit(&y->em, ev))
        y->failed = true;
}

static void scalar_styled(yout *y, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    int ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
                                          style);
    emit(y, &ev, ok);
}

static void plain(yout *y, const char *s)
{
    scalar_styled(y, s, YAML_PLAIN_SCALAR_STYLE);
}

static void quoted(yout *y, const char *s)
{
    scalar_styled(y, s, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void map_start(yout *y, yaml_mapping_style_t style)
{
    yaml_event_t ev;
    emit(y, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, style));
}

static void map_end(yout *y)
{
    yaml_event_t ev;
    emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void seq_start(yout *y, yaml_sequence_style_t style)
{
    yaml_event_t ev;
    emit(y, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, style));
}

static void seq_end(yout *y)
{
    yaml_event_t ev;
    emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
}

void cfg_format_filter(const cfg_device_filter *fl, char *buf, size_t len)
{
    if (fl->has_subsystem)
        snprintf(buf, len, "0x%08X:0x%08X", fl->device_id, fl->subsystem_id);
    else
        snprintf(buf, len, "0x%08X", fl->device_id);
}

static void yaml_strings(yout *y, const char *key, char **v, unsigned n)
{
    if (!v)
        return;
    plain(y, key);
    seq_start(y, YAML_FLOW_SEQUENCE_STYLE);
    for (unsigned i = 0; i < n; i++)
        quoted(y, v[i]);
    seq_end(y);
}

static void yaml_selectors(yout *y, const cfg_entry *en)
{
    char buf[32];
    if (en->has_devices) {
        plain(y, "devices");
        if (en->all_devices) {
            plain(y, "all");
        } else {
            seq_start(y, YAML_FLOW_SEQUENCE_STYLE);
            for (unsigned i = 0; i < en->n_indices; i++) {
                snprintf(buf, sizeof buf, "%u", en->indices[i]);
                plain(y, buf);
            }
            seq_end(y);
        }
    }
    if (en->n_filters > 0) {
        plain(y, "device-filter");
        seq_start(y, YAML_FLOW_SEQUENCE_STYLE);
        for (unsigned i = 0; i < en->n_filters; i++) {
            cfg_format_filter(&en->filters[i], buf, sizeof buf);
            quoted(y, buf);
        }
        seq_end(y);
    }
    yaml_strings(y, "uuids", en->uuids, en->n_uuids);
    yaml_strings(y, "pci-bus-ids", en->bus_ids, en->n_bus_ids);
    yaml_strings(y, "models", en->models, en->n_models);
}

static void yaml_entry(yout *y, const cfg_entry *en)
{
    char buf[32];
    map_start(y, YAML_BLOCK_MAPPING_STYLE);
    yaml_selectors(y, en);
    plain(y, "mig-enabled");
    plain(y, en->mig_enabled ? "true" : "false");
    if (en->mps) {
        plain(y, "mps");
        plain(y, "true");
    }
    if (en->mig_enabled) {
        plain(y, "mig-devices");
        map_start(y, en->n_devices ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
        for (unsigned i = 0; i < en->n_devices; i++) {
            quoted(y, en->devices[i].key);
            snprintf(buf, sizeof buf, "%u", en->devices[i].count);
            plain(y, buf);
        }
        map_end(y);
    }
    map_end(y);
}

int cfg_emit_yaml(FILE *out, const cfg_file *f, mig_error *e)
{
    yout y = {.failed = false};
    if (!yaml_emitter_initialize(&y.em))
        return mig_fail(e, MIG_ERR_SYSTEM, "cannot start the YAML emitter");
    yaml_emitter_set_output_file(&y.em, out);
    yaml_emitter_set_unicode(&y.em, 1);
    yaml_emitter_set_width(&y.em, 1 << 16);
    yaml_emitter_set_indent(&y.em, 2);

    yaml_event_t ev;
    emit(&y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
    emit(&y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
    map_start(&y, YAML_BLOCK_MAPPING_STYLE);
    plain(&y, "version");
    plain(&y, "v1");
    plain(&y, "mig-configs");
    map_start(&y, YAML_BLOCK_MAPPING_STYLE);
    for (unsigned i = 0; i < f->n_configs; i++) {
        scalar_styled(&y, f->configs[i].name, YAML_ANY_SCALAR_STYLE);
        seq_start(&y, YAML_BLOCK_SEQUENCE_STYLE);
        for (unsigned j = 0; j < f->configs[i].n_entries; j++)
            yaml_entry(&y, &f->configs[i].entries[j]);
        seq_end(&y);
    }
    map_end(&y);
    map_end(&y);
    emit(&y, &ev, yaml_document_end_event_initialize(&ev, 1));
    emit(&y, &ev, yaml_stream_end_event_initialize(&ev));
    int rc = 0;
    if (y.failed || !yaml_emitter_flush(&y.em))
        rc = mig_fail(e, y.em.problem ? MIG_ERR_SYSTEM : MIG_ERR_INPUT, "writing YAML: %s",
                      y.em.problem ? y.em.problem : "a name or key is not valid UTF-8");
    yaml_emitter_delete(&y.em);
    return rc;
}

/* ------------------------------------------------------------ JSON */

static json_t *json_strings(char **v, unsigned n)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *json_entry(const cfg_entry *en)
{
    char buf[32];
    json_t *o = json_object();
    if (en->has_devices) {
        json_t *d;
        if (en->all_devices) {
            d = json_string("all");
        } else {
            d = json_array();
            for (unsigned i = 0; i < en->n_indices; i++)
                json_array_append_new(d, json_integer(en->indices[i]));
        }
        json_object_set_new(o, "devices", d);
    }
    if (en->n_filters > 0) {
        json_t *a = json_array();
        for (unsigned i = 0; i < en->n_filters; i++) {
            cfg_format_filter(&en->filters[i], buf, sizeof buf);
            json_array_append_new(a, json_string(buf));
        }
        json_object_set_new(o, "device-filter", a);
    }
    if (en->uuids)
        json_object_set_new(o, "uuids", json_strings(en->uuids, en->n_uuids));
    if (en->bus_ids)
        json_object_set_new(o, "pci-bus-ids", json_strings(en->bus_ids, en->n_bus_ids));
    if (en->models)
        json_object_set_new(o, "models", json_strings(en->models, en->n_models));
    json_object_set_new(o, "mig-enabled", json_boolean(en->mig_enabled));
    if (en->mps)
        json_object_set_new(o, "mps", json_true());
    if (en->mig_enabled) {
        json_t *m = json_object();
        for (unsigned i = 0; i < en->n_devices; i++)
            json_object_set_new(m, en->devices[i].key, json_integer(en->devices[i].count));
        json_object_set_new(o, "mig-devices", m);
    }
    return o;
}

int cfg_emit_json(FILE *out, const cfg_file *f, mig_error *e)
{
    json_t *root = json_object();
    json_t *configs = json_object();
    json_object_set_new(root, "version", json_string("v1"));
    json_object_set_new(root, "mig-configs", configs);
    for (unsigned i = 0; i < f->n_configs; i++) {
        json_t *probe = json_string(f->configs[i].name);
        if (!probe) {
            json_decref(root);
            return mig_fail(e, MIG_ERR_INPUT, "writing JSON: config name is not valid UTF-8");
        }
        json_decref(probe);
        json_t *list = json_array();
        for (unsigned j = 0; j < f->configs[i].n_entries; j++)
            json_array_append_new(list, json_entry(&f->configs[i].entries[j]));
        json_object_set_new(configs, f->configs[i].name, list);
    }
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc < 0 || fputc('\n', out) == EOF)
        return mig_fail(e, MIG_ERR_SYSTEM, "writing JSON: write error");
    return 0;
}

/* ------------------------------------------------------------ equality */

static bool strings_equal(char **a, unsigned na, char **b, unsigned nb)
{
    if (!a != !b || na != nb)
        return false;
    for (unsigned i = 0; i < na; i++)
        if (strcmp(a[i], b[i]))
            return false;
    return true;
}

static bool device_equal(const cfg_mig_device *a, const cfg_mig_device *b)
{
    return !strcmp(a->key, b->key) && a->start == b->start && a->count == b->count &&
           a->name.ci_slices == b->name.ci_slices && a->name.gi_slices == b->name.gi_slices &&
           a->name.mem_gb == b->name.mem_gb && a->name.attr == b->name.attr;
}

static bool filter_equal(const cfg_device_filter *a, const cfg_device_filter *b)
{
    return a->device_id == b->device_id && a->has_subsystem == b->has_subsystem &&
           (!a->has_subsystem || a->subsystem_id == b->subsystem_id);
}

static bool entry_equal(const cfg_entry *a, const cfg_entry *b)
{
    if (a->has_devices != b->has_devices || a->all_devices != b->all_devices ||
        a->n_indices != b->n_indices || a->n_filters != b->n_filters ||
        a->mig_enabled != b->mig_enabled || a->n_devices != b->n_devices || a->mps != b->mps)
        return false;
    for (unsigned i = 0; i < a->n_indices; i++)
        if (a->indices[i] != b->indices[i])
            return false;
    for (unsigned i = 0; i < a->n_filters; i++)
        if (!filter_equal(&a->filters[i], &b->filters[i]))
            return false;
    for (unsigned i = 0; i < a->n_devices; i++)
        if (!device_equal(&a->devices[i], &b->devices[i]))
            return false;
    return strings_equal(a->uuids, a->n_uuids, b->uuids, b->n_uuids) &&
           strings_equal(a->bus_ids, a->n_bus_ids, b->bus_ids, b->n_bus_ids) &&
           strings_equal(a->models, a->n_models, b->models, b->n_models);
}

bool cfg_equal(const cfg_file *a, const cfg_file *b)
{
    if (a->n_configs != b->n_configs)
        return false;
    for (unsigned i = 0; i < a->n_configs; i++) {
        const cfg_config *ca = &a->configs[i], *cb = &b->configs[i];
        if (strcmp(ca->name, cb->name) || ca->n_entries != cb->n_entries)
            return false;
        for (unsigned j = 0; j < ca->n_entries; j++)
            if (!entry_equal(&ca->entries[j], &cb->entries[j]))
                return false;
    }
    return true;
}

/* ------------------------------------------------------------ files */

int cfg_write(const char *path, const cfg_file *f, bool json, mig_error *e)
{
    if (!path) {
        int rc = json ? cfg_emit_json(stdout, f, e) : cfg_emit_yaml(stdout, f, e);
        if (fflush(stdout) != 0 && rc == 0)
            rc = mig_fail(e, MIG_ERR_SYSTEM, "stdout: write error: %s", strerror(errno));
        return rc;
    }
    /* Rendered in memory, then written by fileio_write_atomic: an O_EXCL
     * temp file with a random name beside the target, mode 0644 whatever the
     * umask, renamed over it. A failed write never destroys the config that
     * was there, and a link at the path (or at a guessable temp name) is
     * replaced, never followed. */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: out of memory", path);
    int rc = json ? cfg_emit_json(out, f, e) : cfg_emit_yaml(out, f, e);
    if (fclose(out) != 0 && rc == 0)
        rc = mig_fail(e, MIG_ERR_SYSTEM, "%s: out of memory", path);
    if (rc == 0 && (rc = fileio_write_atomic(path, buf, len, 0644, e)) < 0)
        mig_error_prefix(e, "cannot write");
    free(buf);
    return rc;
}
