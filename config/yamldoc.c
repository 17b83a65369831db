/*
 * yamldoc.c: the one YAML reading layer (yamldoc.h): bounded loading,
 * scalar rules and errors with positions in mig_error's fields, shared by
 * config/migparted.c, config/workload.c and apply/hooks.c.
 */
#include "config/yamldoc.h"
#include "config/yaml_pos.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ errors and marks */

unsigned yd_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 1;
}

unsigned yd_col(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.column + 1 : 1;
}

int yd_fail(yd_doc *d, const yaml_node_t *at, const char *fmt, ...)
{
    char what[sizeof d->e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mig_fail_at(d->e, d->path, yd_line(at), yd_col(at), "%s", what);
}

int yd_nomem(yd_doc *d)
{
    return mig_fail(d->e, MIG_ERR_SYSTEM, "%s: out of memory", d->path);
}

int yd_spend(yd_doc *d, const yaml_node_t *at)
{
    if (d->budget == 0)
        return yd_fail(d, at, "document too large or too many aliases; expected a file of at most %d nodes",
                       YD_MAX_NODES);
    d->budget--;
    return 0;
}

/* ------------------------------------------------------------ loading */

static int syntax_error(const char *path, const yaml_parser_t *yp, const char *text, size_t len,
                        mig_error *e)
{
    /* yaml_error_position: reader errors (bad UTF-8) carry only a byte offset. */
    unsigned line, col;
    yaml_error_position(yp, text, len, &line, &col);
    if (yp->error == YAML_MEMORY_ERROR)
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: out of memory while reading YAML", path);
    char context[160] = "";
    if (yp->context)
        snprintf(context, sizeof context, " %s started at %u:%u", yp->context,
                 (unsigned)yp->context_mark.line + 1, (unsigned)yp->context_mark.column + 1);
    return mig_fail_at(e, path, line, col,
                       "YAML syntax error: %s%s; expected well-formed YAML",
                       yp->problem ? yp->problem : "unreadable input", context);
}

static bool has_anchor(const yaml_event_t *ev)
{
    return (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor) ||
           (ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.anchor) ||
           (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.anchor);
}

/* The event stream, checked for size before libyaml builds a document. */
static int prescan(const char *text, size_t len, const char *path, const char *what,
                   mig_error *e)
{
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp))
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: cannot start the YAML parser", path);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    int depth = 0, rc = 0;
    unsigned long anchors = 0, aliases = 0, nodes = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&yp, &ev)) {
            rc = syntax_error(path, &yp, text, len, e);
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
        else if (has_anchor(&ev))
            anchors++;
        unsigned line = (unsigned)ev.start_mark.line + 1, col = (unsigned)ev.start_mark.column + 1;
        if (anchors > YD_MAX_ANCHORS || aliases > YD_MAX_ALIASES)
            rc = mig_fail_at(e, path, line, col,
                             "more than %d anchors or %d aliases; expected %s", YD_MAX_ANCHORS,
                             YD_MAX_ALIASES, what);
        else if (nodes > YD_MAX_NODES)
            rc = mig_fail_at(e, path, line, col, "more than %d YAML nodes; expected %s",
                             YD_MAX_NODES, what);
        else if (depth > YD_MAX_DEPTH)
            rc = mig_fail_at(e, path, line, col, "nesting deeper than %d levels; expected %s",
                             YD_MAX_DEPTH, what);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&yp);
    return rc;
}

/* The one document of the text; a second document is an error. */
static int load_one(yd_doc *d, const char *text, size_t len, mig_error *e)
{
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp))
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: cannot start the YAML parser", d->path);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &d->doc)) {
        int rc = syntax_error(d->path, &yp, text, len, e);
        yaml_parser_delete(&yp);
        return rc;
    }
    yaml_document_t next;
    int rc = 0;
    if (!yaml_parser_load(&yp, &next)) {
        rc = syntax_error(d->path, &yp, text, len, e);
    } else {
        yaml_node_t *extra = yaml_document_get_root_node(&next);
        if (extra)
            rc = mig_fail_at(e, d->path, yd_line(extra), yd_col(extra),
                             "a second YAML document; expected one document per file");
        yaml_document_delete(&next);
    }
    yaml_parser_delete(&yp);
    if (rc < 0)
        yaml_document_delete(&d->doc);
    else
        d->loaded = true;
    return rc;
}

int yd_load_string(yd_doc *d, const char *text, size_t len, const char *path, const char *what,
                   mig_error *e)
{
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "%s", path ? path : "<input>");
    d->e = e;
    d->budget = YD_MAX_NODES;
    if (len > YD_MAX_BYTES)
        return mig_fail(e, MIG_ERR_INPUT, "%s: %zu bytes; expected %s of at most %zu MiB",
                        d->path, len, what, YD_MAX_BYTES >> 20);
    if (prescan(text, len, d->path, what, e) < 0)
        return -1;
    return load_one(d, text, len, e);
}

int yd_load_file(yd_doc *d, const char *path, const char *what, mig_error *e)
{
    memset(d, 0, sizeof *d);
    char *text = NULL;
    size_t len = 0;
    if (fileio_read(path, what, YD_MAX_BYTES, &text, &len, e) < 0)
        return -1;
    char expected[128]; /* "config file" -> "expected a config file" */
    snprintf(expected, sizeof expected, "a %s", what);
    int rc = yd_load_string(d, text, len, strcmp(path, "-") ? path : "<stdin>", expected, e);
    free(text);
    return rc;
}

void yd_free(yd_doc *d)
{
    if (d && d->loaded)
        yaml_document_delete(&d->doc);
    if (d)
        d->loaded = false;
}

yaml_node_t *yd_root(yd_doc *d)
{
    return yaml_document_get_root_node(&d->doc);
}

yaml_node_t *yd_node(yd_doc *d, int id)
{
    return yaml_document_get_node(&d->doc, id);
}

/* ------------------------------------------------------------ nodes */

const char *yd_kind_name(const yaml_node_t *n)
{
    switch (n ? n->type : YAML_NO_NODE) {
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

const char *yd_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool yd_is_plain(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

bool yd_is_null(const yaml_node_t *n)
{
    if (!yd_is_plain(n))
        return false;
    const char *s = yd_scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

int yd_want_map(yd_doc *d, const yaml_node_t *n, const char *what, const char *expected)
{
    if (n && n->type == YAML_MAPPING_NODE)
        return 0;
    return yd_fail(d, n, "%s is %s; expected %s", what, yd_kind_name(n), expected);
}

int yd_want_list(yd_doc *d, const yaml_node_t *n, const char *what, const char *expected)
{
    if (n && n->type == YAML_SEQUENCE_NODE)
        return 0;
    return yd_fail(d, n, "%s is %s; expected %s", what, yd_kind_name(n), expected);
}

size_t yd_map_size(const yaml_node_t *map)
{
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

size_t yd_list_size(const yaml_node_t *list)
{
    return (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
}

int yd_map_cap(yd_doc *d, const yaml_node_t *map, const char *what, size_t max)
{
    size_t n = yd_map_size(map);
    if (n > max)
        return yd_fail(d, map, "%s has %zu keys; expected at most %zu", what, n, max);
    return 0;
}

/* ------------------------------------------------------------ scalars */

int yd_text(yd_doc *d, const yaml_node_t *n, const char *what, const char **out)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return yd_fail(d, n, "%s is %s; expected a string", what, yd_kind_name(n));
    if (strlen(yd_scalar(n)) != n->data.scalar.length)
        return yd_fail(d, n, "%s contains a NUL character; expected text", what);
    *out = yd_scalar(n);
    return 0;
}

int yd_value(yd_doc *d, const yaml_node_t *n, const char *what, const char **out)
{
    if (n && n->type == YAML_SCALAR_NODE && yd_is_null(n))
        return yd_fail(d, n, "%s has no value; expected a value", what);
    return yd_text(d, n, what, out);
}

int yd_value_copy(yd_doc *d, const yaml_node_t *n, const char *what, char *buf, size_t len)
{
    const char *s = NULL;
    if (yd_value(d, n, what, &s) < 0)
        return -1;
    if (strlen(s) >= len)
        return yd_fail(d, n, "%s is longer than %zu characters; expected a shorter value", what,
                       len - 1);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20)
            return yd_fail(d, n, "%s has a control character; expected printable text", what);
    snprintf(buf, len, "%s", s);
    return 0;
}

int yd_text_dup(yd_doc *d, const yaml_node_t *n, const char *what, char **out)
{
    const char *s;
    if (yd_text(d, n, what, &s) < 0)
        return -1;
    if (!(*out = strdup(s)))
        return yd_nomem(d);
    return 0;
}

bool yd_as_bool(const yaml_node_t *n, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    if (!yd_is_plain(n))
        return false;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!strcmp(yd_scalar(n), yes[i]))
            return *out = true, true;
        if (!strcmp(yd_scalar(n), no[i]))
            return *out = false, true;
    }
    return false;
}

int yd_bool(yd_doc *d, const yaml_node_t *n, const char *what, bool *out)
{
    if (yd_as_bool(n, out))
        return 0;
    if (n && n->type == YAML_SCALAR_NODE && !yd_is_plain(n))
        return yd_fail(d, n, "%s is the string \"%.40s\"; expected true or false, unquoted", what,
                       yd_scalar(n));
    if (n && n->type == YAML_SCALAR_NODE)
        return yd_fail(d, n, "%s is '%.40s'; expected true or false", what, yd_scalar(n));
    return yd_fail(d, n, "%s is %s; expected true or false", what, yd_kind_name(n));
}

int yd_uint(yd_doc *d, const yaml_node_t *n, const char *what, unsigned max, unsigned *out)
{
    if (!yd_is_plain(n)) {
        if (n && n->type == YAML_SCALAR_NODE)
            return yd_fail(d, n, "%s is the string \"%.40s\"; expected an integer from 0 to %u",
                           what, yd_scalar(n), max);
        return yd_fail(d, n, "%s is %s; expected an integer from 0 to %u", what, yd_kind_name(n),
                       max);
    }
    const char *s = yd_scalar(n);
    const char *digits = *s == '+' ? s + 1 : s;
    bool ok = *digits != '\0';
    for (const char *c = digits; *c; c++)
        ok = ok && *c >= '0' && *c <= '9';
    if (!ok)
        return yd_fail(d, n, "%s is '%.40s'; expected an integer from 0 to %u", what, s, max);
    /* YAML 1.1 (mig-parted's reader) takes "010" as octal 8, YAML 1.2 as 10:
     * refuse, not guess. */
    if (digits[0] == '0' && digits[1])
        return yd_fail(d, n, "%s '%.40s' has a leading zero; expected a decimal integer", what, s);
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, 10);
    if (errno || v > max)
        return yd_fail(d, n, "%s %.40s is too large; expected an integer from 0 to %u", what, s,
                       max);
    *out = (unsigned)v;
    return 0;
}

int yd_key(yd_doc *d, const yaml_node_pair_t *pair, const yaml_node_t *map, const char *where,
           const char **out)
{
    yaml_node_t *k = yd_node(d, pair->key);
    if (!k || yd_spend(d, k) < 0)
        return -1;
    if (k->type != YAML_SCALAR_NODE)
        return yd_fail(d, k, "a key in %s is %s; expected a string key", where, yd_kind_name(k));
    if (yd_text(d, k, "a key", out) < 0)
        return -1;
    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
        yaml_node_t *qk = yd_node(d, q->key);
        if (qk && qk->type == YAML_SCALAR_NODE && !strcmp(yd_scalar(qk), *out))
            return yd_fail(d, k, "duplicate key '%.60s' in %s (first at line %u); expected "
                                 "each key once", *out, where, yd_line(qk));
    }
    return 0;
}
