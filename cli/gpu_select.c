/*
 * gpu_select.c: `-i` values (index, UUID, PCI bus id, "all", comma lists)
 * resolved against the GPUs the backend has. UUIDs and bus ids need the
 * GPUs' states, so they are resolved after the backend opens; a plain
 * index is only range-checked.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/gpu_select.h"

/* "DDDDDDDD:BB:DD.F", "DDDD:BB:DD.F" or "BB:DD.F" (hex) into numbers. */
static bool parse_bus_id(const char *s, unsigned long *dom, unsigned long *bus,
                         unsigned long *dev, unsigned long *fn)
{
    unsigned long v[4];
    int n = 0;
    const char *p = s;
    while (n < 4) {
        char *end;
        if (!isxdigit((unsigned char)*p))
            return false;
        v[n++] = strtoul(p, &end, 16);
        if (end - p > 8)
            return false;
        p = end;
        if (*p == '\0')
            break;
        if (*p != ':' && *p != '.')
            return false;
        if (*p == '.' && *(p + 1) && n < 2)
            return false;
        p++;
    }
    if (*p != '\0')
        return false;
    /* the last separator must have been '.' (device.function) */
    const char *dot = strrchr(s, '.');
    if (!dot || strchr(dot, ':'))
        return false;
    if (n == 4) {
        *dom = v[0], *bus = v[1], *dev = v[2], *fn = v[3];
    } else if (n == 3) {
        *dom = 0, *bus = v[0], *dev = v[1], *fn = v[2];
    } else {
        return false;
    }
    return *bus <= 0xff && *dev <= 0x1f && *fn <= 7;
}

static bool is_uuid(const char *s)
{
    return strncasecmp(s, "GPU-", 4) == 0 && s[4] != '\0';
}

static bool one_text_ok(const char *s)
{
    unsigned v;
    unsigned long a, b, c, d;
    return cli_parse_uint(s, &v) || is_uuid(s) || parse_bus_id(s, &a, &b, &c, &d);
}

bool cli_gpu_text_ok(const char *text, bool many)
{
    if (!text || !*text)
        return false;
    if (!many)
        return one_text_ok(text);
    if (strcmp(text, "all") == 0)
        return true;
    char buf[1024];
    if (strlen(text) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    int k = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), k++)
        if (!one_text_ok(t))
            return false;
    return k > 0 && text[strlen(text) - 1] != ',' && text[0] != ',';
}

/* One item against the states (read lazily: *st NULL until needed). */
static int resolve_item(mig_backend *b, const char *t, unsigned n_gpus, mig_gpu_state **st,
                        unsigned *idx, mig_error *e)
{
    unsigned v;
    if (cli_parse_uint(t, &v)) {
        if (v >= n_gpus)
            return mig_fail(e, MIG_ERR_INPUT, "GPU index %u out of range (%u GPU%s: 0-%u)", v,
                            n_gpus, n_gpus == 1 ? "" : "s", n_gpus ? n_gpus - 1 : 0);
        *idx = v;
        return 0;
    }
    unsigned long dom = 0, bus = 0, dev = 0, fn = 0;
    bool uuid = is_uuid(t);
    if (!uuid && !parse_bus_id(t, &dom, &bus, &dev, &fn))
        return mig_fail(e, MIG_ERR_INPUT,
                        "'%.64s' is not a GPU index, a GPU UUID (GPU-...) or a PCI bus id "
                        "(00000000:18:00.0)",
                        t);
    if (!*st) {
        unsigned n;
        if (cli_read_states(b, st, &n, e) < 0)
            return -1;
    }
    for (unsigned i = 0; i < n_gpus; i++) {
        const mig_gpu_state *g = &(*st)[i];
        unsigned long d2, b2, v2, f2;
        if (uuid ? strcasecmp(g->uuid, t) == 0
                 : (parse_bus_id(g->bus_id, &d2, &b2, &v2, &f2) && d2 == dom && b2 == bus &&
                    v2 == dev && f2 == fn)) {
            *idx = i;
            return 0;
        }
    }
    return mig_fail(e, MIG_ERR_INPUT, "no GPU has %s '%.64s' ('migctl list' shows them)",
                    uuid ? "UUID" : "PCI bus id", t);
}

int cli_gpu_select(mig_backend *b, const char *text, bool many, unsigned *out, unsigned *n_out,
                   mig_error *e)
{
    *n_out = 0;
    if (!cli_gpu_text_ok(text, many))
        return mig_fail(e, MIG_ERR_INPUT,
                        many ? "-i takes GPU indexes, UUIDs or PCI bus ids, comma separated, or "
                               "'all'; not '%.64s'"
                             : "-i takes one GPU: an index, a UUID or a PCI bus id; not '%.64s'",
                        text ? text : "");
    unsigned n_gpus;
    if (b->ops->gpu_count(b, &n_gpus, e) < 0)
        return -1;
    if (strcmp(text, "all") == 0) {
        for (unsigned i = 0; i < n_gpus && i < MIG_SELECT_MAX; i++)
            out[(*n_out)++] = i;
        return 0;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    mig_gpu_state *st = NULL;
    char *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(buf, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
        unsigned idx = 0;
        rc = resolve_item(b, t, n_gpus, &st, &idx, e);
        if (rc < 0)
            break;
        bool dup = false;
        for (unsigned k = 0; k < *n_out; k++)
            dup = dup || out[k] == idx;
        if (!dup && *n_out < MIG_SELECT_MAX)
            out[(*n_out)++] = idx;
    }
    free(st);
    return rc;
}

int cli_gpu_one(mig_backend *b, const char *text, unsigned *gpu, mig_error *e)
{
    unsigned n;
    return cli_gpu_select(b, text, false, gpu, &n, e);
}
