/*
 * yamldoc.h: the one YAML reading layer. Every YAML input migctl reads (a
 * mig-parted v1 config, the planner's workloads and fleet files, a hooks
 * file) is loaded and walked through these helpers, so that all of them
 * share one set of limits, one way of reading scalars and one error format.
 *
 * Loading (yd_load_file / yd_load_string):
 *   - a file is read with fileio_read: regular files only (a FIFO, /dev/zero
 *     or a directory is refused at once, without blocking), at most
 *     YD_MAX_BYTES (4 MiB);
 *   - libyaml's event stream is checked before any document is built: at
 *     most YD_MAX_NODES nodes, YD_MAX_ANCHORS anchors, YD_MAX_ALIASES aliases
 *     and YD_MAX_DEPTH levels of nesting (libyaml's scanner is quadratic in
 *     the depth, and a document costs ~100 bytes a node, so a hostile file
 *     stops at the first node over a limit, long before it costs anything);
 *   - exactly one document (a second one is an error).
 * Walking: the readers walk a fixed schema and never recurse on the input's
 * own shape; yd_key charges one unit of a per-document budget of
 * YD_MAX_NODES visits, so aliases that share a node many times cannot make
 * the walk exponential.
 *
 * Scalars, one way everywhere:
 *   - booleans are YAML 1.1's, as mig-parted's reader takes them: true, True,
 *     TRUE, yes, Yes, YES, on, On, ON and the same for false/no/off; nothing
 *     else (not "tRuE"), and a quoted "true" is a string, not a boolean;
 *   - integers are plain decimal digits (an optional '+'); a leading zero is
 *     refused ("010" is octal 8 to a YAML 1.1 reader and 10 to a YAML 1.2
 *     one: refuse rather than guess);
 *   - null is an empty plain scalar, "~", "null", "Null" or "NULL";
 *   - text may not contain a NUL (two different YAML strings would become one
 *     C string).
 * Errors: every input error is mig_fail_at(e, path, line, col, "<what is
 * wrong>; expected <what>"): the position is in mig_error's fields (1-based),
 * not in the text; mig_error_format renders "path:line:col: message".
 */
#ifndef MIGCTL_CONFIG_YAMLDOC_H
#define MIGCTL_CONFIG_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "util/err.h"
#include "util/fileio.h"

#define YD_MAX_BYTES FILEIO_MAX_INPUT_BYTES /* 4 MiB */
#define YD_MAX_DEPTH 32                     /* the deepest schema (a fleet) is 7 */
#define YD_MAX_NODES 200000                 /* mig-parted's default config has ~1500 */
#define YD_MAX_ANCHORS 1000                 /* libyaml looks anchors up linearly per alias */
#define YD_MAX_ALIASES 10000

typedef struct {
    yaml_document_t doc;
    bool loaded;
    char path[512];        /* for messages: the file, "<stdin>", or a caller's label */
    mig_error *e;
    unsigned long budget;  /* node visits left (yd_key spends them) */
} yd_doc;

/* Read `path` ("-": standard input, named "<stdin>" in messages) with
 * fileio_read and load it. `what` names the input in messages ("config
 * file", "workloads file"). 0, or -1 with e set. */
int yd_load_file(yd_doc *d, const char *path, const char *what, mig_error *e);

/* Load text (len bytes) as one YAML document; path names it in messages. */
int yd_load_string(yd_doc *d, const char *text, size_t len, const char *path, const char *what,
                   mig_error *e);

void yd_free(yd_doc *d);

yaml_node_t *yd_root(yd_doc *d);
yaml_node_t *yd_node(yd_doc *d, int id);

/* An input error at node `at` (NULL: 1:1). Returns -1. */
int yd_fail(yd_doc *d, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Out of memory while reading d (MIG_ERR_SYSTEM). Returns -1. */
int yd_nomem(yd_doc *d);

unsigned yd_line(const yaml_node_t *n); /* 1-based */
unsigned yd_col(const yaml_node_t *n);

/* Charge one node visit; fails once the budget is spent. */
int yd_spend(yd_doc *d, const yaml_node_t *at);

const char *yd_kind_name(const yaml_node_t *n); /* "a scalar", "a list", "a map" */
const char *yd_scalar(const yaml_node_t *n);    /* the text, or NULL for a non-scalar */
bool yd_is_plain(const yaml_node_t *n);         /* an unquoted scalar */
bool yd_is_null(const yaml_node_t *n);

/* Fail unless n is a map / a list: "<what> is <kind>; expected <expected>". */
int yd_want_map(yd_doc *d, const yaml_node_t *n, const char *what, const char *expected);
int yd_want_list(yd_doc *d, const yaml_node_t *n, const char *what, const char *expected);

/* Number of pairs of a map / items of a list. */
size_t yd_map_size(const yaml_node_t *map);
size_t yd_list_size(const yaml_node_t *list);

/* A scalar usable as text (no NUL inside). */
int yd_text(yd_doc *d, const yaml_node_t *n, const char *what, const char **out);
/* A value: text that is not null (an empty or "~" value is "missing"). */
int yd_value(yd_doc *d, const yaml_node_t *n, const char *what, const char **out);
/* A value copied into buf: shorter than len, no control characters. */
int yd_value_copy(yd_doc *d, const yaml_node_t *n, const char *what, char *buf, size_t len);
/* The same, copied to the heap (free it). */
int yd_text_dup(yd_doc *d, const yaml_node_t *n, const char *what, char **out);
int yd_bool(yd_doc *d, const yaml_node_t *n, const char *what, bool *out);
/* The same test without an error: true and *out set when n is a boolean. */
bool yd_as_bool(const yaml_node_t *n, bool *out);
int yd_uint(yd_doc *d, const yaml_node_t *n, const char *what, unsigned max, unsigned *out);

/* The key of pair (a pair of `map`) as text: a scalar key, not seen before
 * in the map (first occurrence named on error); spends one budget unit.
 * `where` names the map in messages ("an entry", "a workload"). */
int yd_key(yd_doc *d, const yaml_node_pair_t *pair, const yaml_node_t *map, const char *where,
           const char **out);

/* A map of at most max pairs (duplicate keys are found pairwise: the cap
 * keeps that quadratic check cheap). */
int yd_map_cap(yd_doc *d, const yaml_node_t *map, const char *what, size_t max);

#endif
