/*
 * sim_file.c: the simulator's state file. JSON through jansson, read under a
 * shared lock and rewritten under an exclusive one, both open-file-description
 * record locks on a sidecar "<path>.lock" (the state file itself is replaced
 * by rename, so a lock on it would be a lock on a file that no longer has the
 * name). Reads are bounded and refuse anything but a regular file
 * (fileio_read); a write goes through fileio_write_atomic (O_EXCL temp file
 * in the same directory, fsync, rename, fsync of the directory): a reader
 * sees the old or the new state, never half of one, a killed writer leaves
 * the old state, and no link at the path is followed.
 *
 * Loading validates everything a hand-edited or damaged file could get
 * wrong (syntax, types, unknown models, placements, overlaps, ids, caps)
 * and reports the first problem as MIG_ERR_INPUT naming the file and the
 * JSON path of the bad value. A file that fails to load is never rewritten.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "gpu/sim.h"
#include "gpu/sim_telemetry.h"
#include "model/layout.h"
#include "util/fileio.h"
#include "util/nvml_rc.h"

#define SIM_FILE_VERSION 1
#define SIM_MAX_FILE_BYTES (16u << 20)

/* ------------------------------------------------------------ identity */

static uint64_t mix64(uint64_t x)
{
    /* splitmix64 finaliser: cheap, well distributed, deterministic */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void sim_uuid(const char *prefix, unsigned gpu, unsigned long long serial, char *buf, size_t len)
{
    uint64_t seed = mix64(((uint64_t)gpu << 48) ^ serial ^ 0x6d69677363746cULL);
    uint64_t hi = mix64(seed), lo = mix64(seed ^ 0xa5a5a5a5a5a5a5a5ULL);
    hi = (hi & ~0xf000ULL) | 0x4000ULL;                 /* version 4 */
    lo = (lo & ~(3ULL << 62)) | (2ULL << 62);           /* RFC 4122 variant */
    snprintf(buf, len, "%s%08x-%04x-%04x-%04x-%012llx", prefix, (unsigned)(hi >> 32),
             (unsigned)(hi >> 16) & 0xffff, (unsigned)hi & 0xffff, (unsigned)(lo >> 48),
             (unsigned long long)(lo & 0xffffffffffffULL));
}

unsigned sim_proc_pid(unsigned gpu, int gi_id, int ci_id, unsigned k)
{
    /* injective over gpu < 64, gi -1..14, ci -1..7, k < 64, and below pid_max */
    unsigned gi = gi_id < 0 ? 0 : (unsigned)gi_id + 1;
    unsigned ci = ci_id < 0 ? 0 : (unsigned)ci_id + 1;
    return 100000 + ((gpu * 16 + gi) * 9 + ci) * SIM_MAX_PROCS + k;
}

/* Bus ids as an HGX board numbers its eight GPUs; a new PCI domain per eight. */
static void sim_bus_id(unsigned index, char *buf, size_t len)
{
    static const unsigned bus[8] = {0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb};
    snprintf(buf, len, "%08X:%02X:00.0", index / 8, bus[index % 8]);
}

static void sim_gpu_identity(mig_gpu_state *g, unsigned index, const mig_model *m)
{
    memset(g, 0, sizeof *g);
    g->index = index;
    g->model = m;
    g->mig_capable = true;
    snprintf(g->name, sizeof g->name, "%s", m->nvml_name);
    sim_uuid("GPU-", index, 0, g->uuid, sizeof g->uuid);
    sim_bus_id(index, g->bus_id, sizeof g->bus_id);
    g->pci_device_id = m->pci_device_ids[0];
    g->pci_subsystem_id = m->pci_subsystem_id;
    g->memory_bytes = m->memory_bytes;
}

/* ------------------------------------------------------------ init spec */

static void known_models(char *buf, size_t len)
{
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", all[i].name);
}

/* "8xH100-SXM5-80GB,2xA100-SXM4-40GB" (a count of 1 may be left out). */
static int parse_spec(const char *spec, sim_state *s, mig_error *e)
{
    if (!spec || !*spec)
        return mig_fail(e, MIG_ERR_INPUT, "empty GPU list; expected e.g. 8xH100-SXM5-80GB");
    char *copy = strdup(spec);
    if (!copy)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    int rc = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && rc == 0;
         item = strtok_r(NULL, ",", &save)) {
        unsigned long count = 1;
        const char *name = item;
        if (*item >= '0' && *item <= '9') {
            char *end;
            count = strtoul(item, &end, 10);
            if ((*end != 'x' && *end != 'X') || count == 0 || count > SIM_MAX_GPUS) {
                rc = mig_fail(e, MIG_ERR_INPUT,
                              "bad GPU group '%s'; expected COUNTxMODEL with COUNT 1-%d", item,
                              SIM_MAX_GPUS);
                break;
            }
            name = end + 1;
        }
        const mig_model *m = mig_model_by_name(name);
        if (!m) {
            char models[1024];
            known_models(models, sizeof models);
            rc = mig_fail(e, MIG_ERR_INPUT, "unknown GPU model '%s'; known models: %s", name,
                          models);
            break;
        }
        if (s->n_gpus + count > SIM_MAX_GPUS) {
            rc = mig_fail(e, MIG_ERR_INPUT, "too many GPUs in '%s' (at most %d)", spec,
                          SIM_MAX_GPUS);
            break;
        }
        for (unsigned long i = 0; i < count; i++, s->n_gpus++)
            sim_gpu_identity(&s->gpus[s->n_gpus], s->n_gpus, m);
    }
    if (rc == 0 && s->n_gpus == 0)
        rc = mig_fail(e, MIG_ERR_INPUT, "empty GPU list '%s'; expected e.g. 8xH100-SXM5-80GB",
                      spec);
    free(copy);
    return rc;
}

static sim_state *state_alloc(mig_error *e)
{
    sim_state *s = calloc(1, sizeof *s);
    if (!s) {
        mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        return NULL;
    }
    s->lock_fd = -1;
    s->fail_rc = NVML_ERROR_UNKNOWN;
    return s;
}

sim_state *sim_new(const char *spec, bool swizzled, mig_error *e)
{
    sim_state *s = state_alloc(e);
    if (!s)
        return NULL;
    s->swizzled = swizzled;
    if (parse_spec(spec, s, e) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------ parsing */

typedef struct {
    const char *name; /* file name for messages */
    char where[128];  /* JSON path of the value being checked */
    mig_error *e;
} pctx;

__attribute__((format(printf, 2, 3))) static int bad(pctx *c, const char *fmt, ...)
{
    char what[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mig_fail(c->e, MIG_ERR_INPUT, "%s: %s%s%s", c->name, c->where, *c->where ? ": " : "",
                    what);
}

/* An optional unsigned field; *out keeps its default when absent. */
static int get_uint(pctx *c, json_t *obj, const char *key, bool required, unsigned long long max,
                    unsigned long long *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return bad(c, "missing \"%s\"", key);
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) > max)
        return bad(c, "\"%s\" must be an integer from 0 to %llu", key, max);
    *out = (unsigned long long)json_integer_value(v);
    return 0;
}

static int get_u(pctx *c, json_t *obj, const char *key, bool required, unsigned max,
                 unsigned *out)
{
    unsigned long long v = *out;
    if (get_uint(c, obj, key, required, max, &v) < 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int get_str(pctx *c, json_t *obj, const char *key, const char *prefix, char *out,
                   size_t len)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    const char *t = json_string_value(v);
    if (!t)
        return bad(c, "\"%s\" must be a string", key);
    if (strlen(t) >= len || strncmp(t, prefix, strlen(prefix)) != 0 || strlen(t) == strlen(prefix))
        return bad(c, "\"%s\" must be \"%s...\" (at most %zu characters)", key, prefix, len - 1);
    snprintf(out, len, "%s", t);
    return 0;
}

static int get_bool(pctx *c, json_t *obj, const char *key, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return bad(c, "\"%s\" must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

/* "procs": [pid, ...] -> a count; pids themselves are sim_proc_pid(). */
static int get_procs(pctx *c, json_t *obj, unsigned *n)
{
    json_t *v = json_object_get(obj, "procs");
    *n = 0;
    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) > SIM_MAX_PROCS)
        return bad(c, "\"procs\" must be a list of at most %d pids", SIM_MAX_PROCS);
    size_t i;
    json_t *p;
    json_array_foreach(v, i, p)
    {
        if (!json_is_integer(p) || json_integer_value(p) <= 0 ||
            json_integer_value(p) > 4194304)
            return bad(c, "\"procs\"[%zu] must be a pid (1 to 4194304)", i);
    }
    *n = (unsigned)json_array_size(v);
    return 0;
}

static int where_push(pctx *c, size_t keep, const char *fmt, size_t i)
{
    c->where[keep] = '\0';
    snprintf(c->where + keep, sizeof c->where - keep, fmt, i);
    return 0;
}

static int parse_ci(pctx *c, json_t *j, const mig_model *m, const mig_gi_profile *gp,
                    mig_gi_state *gi, unsigned *used, unsigned *ids)
{
    mig_ci_state *ci = &gi->ci[gi->n_ci];
    memset(ci, 0, sizeof *ci);
    if (!json_is_object(j))
        return bad(c, "must be an object");
    if (get_u(c, j, "id", true, MIG_MAX_CI - 1, &ci->id) < 0 ||
        get_u(c, j, "profile_id", true, 255, &ci->profile_id) < 0 ||
        get_u(c, j, "start", true, MIG_MAX_SLOTS, &ci->start) < 0)
        return -1;
    if (*ids & (1u << ci->id))
        return bad(c, "compute instance id %u used twice in GPU instance %u", ci->id, gi->id);
    mig_ci_profile cp;
    if (!mig_ci_profile_by_id(m, gp, ci->profile_id, &cp))
        return bad(c, "compute instance profile %u is not valid in a %s GPU instance",
                   ci->profile_id, gp->name);
    ci->slices = cp.compute_slices;
    unsigned size = ci->slices;
    if (get_u(c, j, "size", false, MIG_MAX_SLOTS, &size) < 0)
        return -1;
    if (size != ci->slices)
        return bad(c, "\"size\" %u does not match profile %u (%u compute slices)", size,
                   ci->profile_id, ci->slices);
    mig_fit f = ci_fits(&cp, *used, ci->start);
    if (f != MIG_FIT_OK)
        return bad(c, "compute instance %u at %u:%u: %s", ci->id, ci->start, ci->slices,
                   mig_fit_text(f));
    if (!json_object_get(j, "uuid"))
        return bad(c, "missing \"uuid\"");
    if (get_str(c, j, "uuid", "MIG-", ci->uuid, sizeof ci->uuid) < 0 ||
        get_procs(c, j, &ci->n_procs) < 0)
        return -1;
    *used |= ((1u << ci->slices) - 1) << ci->start;
    *ids |= 1u << ci->id;
    gi->n_ci++;
    return 0;
}

static int parse_gi(pctx *c, json_t *j, mig_gpu_state *g, unsigned *gi_ids)
{
    const mig_model *m = g->model;
    mig_gi_state *gi = &g->gi[g->n_gi];
    memset(gi, 0, sizeof *gi);
    if (!json_is_object(j))
        return bad(c, "must be an object");
    if (get_u(c, j, "id", true, 31, &gi->id) < 0 ||
        get_u(c, j, "profile_id", true, 255, &gi->profile_id) < 0 ||
        get_u(c, j, "start", true, MIG_MAX_SLOTS, &gi->start) < 0)
        return -1;
    const mig_gi_profile *p = mig_profile_by_id(m, gi->profile_id);
    if (!p)
        return bad(c, "%s has no GPU instance profile id %u", m->name, gi->profile_id);
    gi->size = p->memory_slices;
    unsigned size = gi->size;
    if (get_u(c, j, "size", false, MIG_MAX_SLOTS, &size) < 0)
        return -1;
    if (size != gi->size)
        return bad(c, "\"size\" %u does not match %s (%u memory slices)", size, p->name, gi->size);
    if (!layout_start_valid(p, gi->start))
        return bad(c, "%s cannot be placed at %u", p->name, gi->start);
    unsigned lo, hi;
    gi_id_range(m, p, &lo, &hi);
    if (gi->id < lo || gi->id > hi)
        return bad(c, "GPU instance id %u is outside %u-%u, the ids of %s", gi->id, lo, hi,
                   p->name);
    if (*gi_ids & (1u << gi->id))
        return bad(c, "GPU instance id %u used twice", gi->id);
    json_t *cis = json_object_get(j, "compute_instances");
    if (cis && (!json_is_array(cis) || json_array_size(cis) > MIG_MAX_CI))
        return bad(c, "\"compute_instances\" must be a list of at most %d", MIG_MAX_CI);
    size_t keep = strlen(c->where), i;
    json_t *cj;
    unsigned used = 0, ids = 0;
    json_array_foreach(cis, i, cj)
    {
        where_push(c, keep, ".compute_instances[%zu]", i);
        if (parse_ci(c, cj, m, p, gi, &used, &ids) < 0)
            return -1;
    }
    c->where[keep] = '\0';
    *gi_ids |= 1u << gi->id;
    g->n_gi++;
    return 0;
}

/* The GI set as a whole: overlap, caps, engines, count (model/layout.h). */
static int check_layout(pctx *c, const mig_gpu_state *g)
{
    mig_layout l;
    mig_error le;
    if (gpu_state_layout(g, &l, &le) < 0)
        return bad(c, "%s", le.msg);
    unsigned first_bad = 0;
    mig_fit f = layout_check(g->model, &l, &first_bad);
    if (f != MIG_FIT_OK && first_bad < g->n_gi)
        return bad(c, "GPU instance %u (%s at %u): %s", g->gi[first_bad].id,
                   g->model->profiles[l.gi[first_bad].profile].name, g->gi[first_bad].start,
                   mig_fit_text(f));
    if (f != MIG_FIT_OK)
        return bad(c, "%s", mig_fit_text(f));
    return 0;
}

static int parse_gpu(pctx *c, json_t *j, unsigned index, mig_gpu_state *g)
{
    if (!json_is_object(j))
        return bad(c, "must be an object");
    unsigned idx = index;
    if (get_u(c, j, "index", false, SIM_MAX_GPUS - 1, &idx) < 0)
        return -1;
    if (idx != index)
        return bad(c, "\"index\" is %u but the GPU is number %u in the list", idx, index);
    const char *model = json_string_value(json_object_get(j, "model"));
    if (!model)
        return bad(c, "missing \"model\" (a catalogue name such as H100-SXM5-80GB)");
    const mig_model *m = mig_model_by_name(model);
    if (!m)
        return bad(c, "unknown GPU model '%s'", model);
    sim_gpu_identity(g, index, m);
    if (get_str(c, j, "uuid", "GPU-", g->uuid, sizeof g->uuid) < 0)
        return -1;
    json_t *bus = json_object_get(j, "bus_id");
    if (bus) {
        const char *t = json_string_value(bus);
        if (!t || !*t || strlen(t) >= sizeof g->bus_id)
            return bad(c, "\"bus_id\" must be a PCI bus id like 00000000:18:00.0");
        snprintf(g->bus_id, sizeof g->bus_id, "%s", t);
    }
    json_t *pci = json_object_get(j, "pci_device_id");
    if (pci) {
        const char *t = json_string_value(pci);
        char *end = NULL;
        unsigned long v = t ? strtoul(t, &end, 16) : 0;
        bool known = false;
        for (unsigned i = 0; t && *end == '\0' && i < m->n_pci_ids; i++)
            known |= m->pci_device_ids[i] == v;
        /* A model whose PCI id is unknown (n_pci_ids 0) is simulated as 0. */
        if (!known && !(m->n_pci_ids == 0 && t && *end == '\0' && v == 0))
            return bad(c, "\"pci_device_id\" must be one of %s's ids, e.g. \"0x%08X\"", m->name,
                       m->pci_device_ids[0]);
        g->pci_device_id = (unsigned)v;
    }
    json_t *mig = json_object_get(j, "mig");
    if (mig && !json_is_object(mig))
        return bad(c, "\"mig\" must be {\"current\": bool, \"pending\": bool}");
    if (mig && (get_bool(c, mig, "current", &g->mig_current) < 0 ||
                get_bool(c, mig, "pending", &g->mig_pending) < 0))
        return -1;
    if (get_procs(c, j, &g->n_procs) < 0)
        return -1;
    json_t *gis = json_object_get(j, "gpu_instances");
    if (gis && (!json_is_array(gis) || json_array_size(gis) > MIG_MAX_GI))
        return bad(c, "\"gpu_instances\" must be a list of at most %d", MIG_MAX_GI);
    if (json_array_size(gis) && !g->mig_current)
        return bad(c, "GPU instances present while MIG mode is off");
    size_t keep = strlen(c->where), i;
    json_t *gj;
    unsigned gi_ids = 0;
    json_array_foreach(gis, i, gj)
    {
        where_push(c, keep, ".gpu_instances[%zu]", i);
        if (parse_gi(c, gj, g, &gi_ids) < 0)
            return -1;
    }
    c->where[keep] = '\0';
    return check_layout(c, g);
}

/* Every CI UUID names one MIG device: no two alike in a file. */
static int check_unique_uuids(pctx *c, const sim_state *s)
{
    for (unsigned a = 0; a < s->n_gpus; a++)
        for (unsigned b = a + 1; b < s->n_gpus; b++)
            if (strcmp(s->gpus[a].uuid, s->gpus[b].uuid) == 0)
                return bad(c, "GPUs %u and %u have the same uuid %s", a, b, s->gpus[a].uuid);
    for (unsigned a = 0; a < s->n_gpus; a++) {
        const mig_gpu_state *g = &s->gpus[a];
        for (unsigned i = 0; i < g->n_gi; i++)
            for (unsigned k = 0; k < g->gi[i].n_ci; k++) {
                const char *u = g->gi[i].ci[k].uuid;
                for (unsigned b = a; b < s->n_gpus; b++) {
                    const mig_gpu_state *h = &s->gpus[b];
                    for (unsigned i2 = 0; i2 < h->n_gi; i2++)
                        for (unsigned k2 = 0; k2 < h->gi[i2].n_ci; k2++) {
                            bool later = b > a || i2 > i || (i2 == i && k2 > k);
                            if (later && strcmp(u, h->gi[i2].ci[k2].uuid) == 0)
                                return bad(c, "MIG uuid %s used twice", u);
                        }
                }
            }
    }
    return 0;
}

static int parse_top(pctx *c, json_t *root, sim_state *s)
{
    if (!json_is_object(root))
        return bad(c, "the state must be a JSON object");
    unsigned version = 0;
    if (get_u(c, root, "version", true, 1000, &version) < 0)
        return -1;
    if (version != SIM_FILE_VERSION)
        return bad(c, "unsupported version %u (this migctl reads version %d)", version,
                   SIM_FILE_VERSION);
    json_t *opt = json_object_get(root, "options");
    if (opt && !json_is_object(opt))
        return bad(c, "\"options\" must be an object");
    json_t *ids = json_object_get(opt, "gi_ids");
    const char *mode = ids ? json_string_value(ids) : "canonical";
    if (!mode || (strcmp(mode, "canonical") && strcmp(mode, "swizzled")))
        return bad(c, "options.gi_ids must be \"canonical\" or \"swizzled\"");
    s->swizzled = strcmp(mode, "swizzled") == 0;
    if (get_uint(c, root, "serial", false, 1ULL << 53, &s->serial) < 0)
        return -1;
    json_t *fault = json_object_get(root, "fault");
    if (fault && !json_is_object(fault))
        return bad(c, "\"fault\" must be an object");
    unsigned rc = NVML_ERROR_UNKNOWN;
    snprintf(c->where, sizeof c->where, "fault");
    if (fault && (get_u(c, fault, "fail_op", false, 1000000, &s->fail_op) < 0 ||
                  get_u(c, fault, "kill_op", false, 1000000, &s->kill_op) < 0 ||
                  get_u(c, fault, "fail_rc", false, 100000, &rc) < 0))
        return -1;
    if (rc == NVML_SUCCESS)
        return bad(c, "\"fail_rc\" must be an NVML error code, not 0 (success)");
    s->fail_rc = (int)rc;
    c->where[0] = '\0';
    json_t *gpus = json_object_get(root, "gpus");
    if (!json_is_array(gpus) || json_array_size(gpus) == 0 ||
        json_array_size(gpus) > SIM_MAX_GPUS)
        return bad(c, "\"gpus\" must be a list of 1 to %d GPUs", SIM_MAX_GPUS);
    size_t i;
    json_t *gj;
    json_array_foreach(gpus, i, gj)
    {
        snprintf(c->where, sizeof c->where, "gpus[%zu]", i);
        if (parse_gpu(c, gj, (unsigned)i, &s->gpus[i]) < 0)
            return -1;
        s->n_gpus = (unsigned)i + 1;
    }
    c->where[0] = '\0';
    if (sim_telemetry_parse(root, c->name, s, c->e) < 0)
        return -1;
    return check_unique_uuids(c, s);
}

int sim_parse(const char *text, size_t len, const char *name, sim_state *out, mig_error *e)
{
    pctx c = {.name = name ? name : "<state>", .e = e};
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return mig_fail(e, MIG_ERR_INPUT, "%s:%d:%d: not a valid state file: %s", c.name,
                        jerr.line, jerr.column, jerr.text);
    out->n_gpus = 0;
    out->swizzled = false;
    out->serial = 0;
    out->fail_op = out->kill_op = 0;
    out->fail_rc = NVML_ERROR_UNKNOWN;
    out->kill_armed = false;
    int rc = parse_top(&c, root, out);
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------ dumping */

static json_t *procs_json(unsigned gpu, int gi, int ci, unsigned n)
{
    json_t *a = json_array();
    for (unsigned k = 0; k < n; k++)
        json_array_append_new(a, json_integer(sim_proc_pid(gpu, gi, ci, k)));
    return a;
}

static json_t *gpu_json(const mig_gpu_state *g)
{
    char pci[16];
    json_t *j = json_object();
    json_object_set_new(j, "index", json_integer(g->index));
    json_object_set_new(j, "model", json_string(g->model->name));
    json_object_set_new(j, "uuid", json_string(g->uuid));
    json_object_set_new(j, "bus_id", json_string(g->bus_id));
    snprintf(pci, sizeof pci, "0x%08X", g->pci_device_id);
    json_object_set_new(j, "pci_device_id", json_string(pci));
    snprintf(pci, sizeof pci, "0x%08X", g->pci_subsystem_id);
    json_object_set_new(j, "pci_subsystem_id", json_string(pci));
    json_object_set_new(j, "mig", json_pack("{s:b,s:b}", "current", g->mig_current, "pending",
                                            g->mig_pending));
    json_object_set_new(j, "procs", procs_json(g->index, -1, -1, g->n_procs));
    json_t *gis = json_array();
    for (unsigned i = 0; i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        json_t *cis = json_array();
        for (unsigned k = 0; k < gi->n_ci; k++) {
            const mig_ci_state *ci = &gi->ci[k];
            json_array_append_new(
                cis, json_pack("{s:i,s:i,s:i,s:i,s:s,s:o}", "id", (int)ci->id, "profile_id",
                               (int)ci->profile_id, "start", (int)ci->start, "size",
                               (int)ci->slices, "uuid", ci->uuid, "procs",
                               procs_json(g->index, (int)gi->id, (int)ci->id, ci->n_procs)));
        }
        json_array_append_new(gis, json_pack("{s:i,s:i,s:i,s:i,s:o}", "id", (int)gi->id,
                                             "profile_id", (int)gi->profile_id, "start",
                                             (int)gi->start, "size", (int)gi->size,
                                             "compute_instances", cis));
    }
    json_object_set_new(j, "gpu_instances", gis);
    return j;
}

char *sim_dump(const sim_state *s)
{
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(SIM_FILE_VERSION));
    json_object_set_new(root, "options", json_pack("{s:s}", "gi_ids",
                                                   s->swizzled ? "swizzled" : "canonical"));
    json_object_set_new(root, "serial", json_integer((json_int_t)s->serial));
    json_object_set_new(root, "fault", json_pack("{s:i,s:i,s:i}", "fail_op", (int)s->fail_op,
                                                 "fail_rc", s->fail_rc, "kill_op",
                                                 (int)s->kill_op));
    json_t *gpus = json_array();
    for (unsigned i = 0; i < s->n_gpus; i++)
        json_array_append_new(gpus, gpu_json(&s->gpus[i]));
    json_object_set_new(root, "gpus", gpus);
    sim_telemetry_dump(s, root);
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!text)
        return NULL;
    /* end with a newline, as text files do */
    size_t n = strlen(text);
    char *out = malloc(n + 2);
    if (out) {
        memcpy(out, text, n);
        out[n] = '\n';
        out[n + 1] = '\0';
    }
    free(text);
    return out;
}

/* ------------------------------------------------------------ files */

static const char NO_STATE_HINT[] =
    "create one with 'migctl sim init --gpus 8xH100-SXM5-80GB' (file: --sim FILE or "
    "$MIGCTL_SIM_STATE)";

/* The state lock: open-file-description record locks (F_OFD_SETLKW) on
 * "<state>.lock", shared to read and exclusive to change. OFD locks, not
 * flock: they never conflict with the apply lock's flock (apply/lock.h), so
 * `apply --lock <state>.lock` cannot make migctl wait on itself. The file is
 * created 0600 (a user who could open it could hold it and stall the node's
 * owner), opened with O_NOFOLLOW, and must be a regular file owned by the
 * caller or by the state file's owner (root working on a user's simulated
 * node). A reader that may not open it reads without it: the writer replaces
 * the state by rename, so a read never sees half of one. */
static int take_lock(const char *path, bool exclusive, int *fd_out, mig_error *e)
{
    char lock[PATH_MAX + 8];
    snprintf(lock, sizeof lock, "%s.lock", path);
    *fd_out = -1;
    int flags = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    int fd = exclusive ? open(lock, O_RDWR | O_CREAT | flags, 0600) : open(lock, O_RDONLY | flags);
    if (fd < 0 && !exclusive)
        return 0;
    if (fd < 0) {
        if (errno == ELOOP)
            return mig_fail(e, MIG_ERR_INPUT, "%s: refusing the lock file: it is a symbolic link",
                            lock);
        return mig_fail(e, errno == EACCES || errno == EROFS ? MIG_ERR_INPUT : MIG_ERR_SYSTEM,
                        "%s: cannot open the lock file: %s", lock, strerror(errno));
    }
    struct stat ls, ss;
    bool owner_ok = fstat(fd, &ls) == 0 && S_ISREG(ls.st_mode) &&
                    (ls.st_uid == geteuid() || (stat(path, &ss) == 0 && ls.st_uid == ss.st_uid));
    if (!owner_ok) {
        close(fd);
        if (!exclusive)
            return 0;
        return mig_fail(e, MIG_ERR_INPUT,
                        "%s: refusing the lock file: not a regular file owned by you or by the "
                        "state file's owner",
                        lock);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    struct flock lk = {.l_type = exclusive ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET};
    int r;
    while ((r = fcntl(fd, F_OFD_SETLKW, &lk)) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        int err = errno;
        close(fd);
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: cannot lock: %s", lock, strerror(err));
    }
    *fd_out = fd;
    return 0;
}

static const char *kind_of(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

sim_state *sim_open(const char *path, bool writable, mig_error *e)
{
    if (!path || !*path) {
        mig_fail(e, MIG_ERR_INPUT, "no simulator state file given; %s", NO_STATE_HINT);
        return NULL;
    }
    if (strlen(path) >= PATH_MAX - 16) {
        mig_fail(e, MIG_ERR_INPUT, "state file path too long");
        return NULL;
    }
    struct stat st;
    int st_rc = stat(path, &st);
    if (st_rc < 0 && errno == ENOENT) {
        mig_fail(e, MIG_ERR_INPUT, "%s: no simulator state file; %s", path, NO_STATE_HINT);
        return NULL;
    }
    if (st_rc == 0 && S_ISDIR(st.st_mode)) {
        mig_fail(e, MIG_ERR_INPUT, "%s: is a directory; expected a simulator state file", path);
        return NULL;
    }
    if (st_rc == 0 && !S_ISREG(st.st_mode)) {
        /* Refused before any lock is taken or file created beside it. */
        mig_fail(e, MIG_ERR_INPUT, "%s: is %s, not a regular file; expected a simulator state "
                                   "file", path, kind_of(st.st_mode));
        return NULL;
    }
    sim_state *s = state_alloc(e);
    if (!s)
        return NULL;
    snprintf(s->path, sizeof s->path, "%s", path);
    s->writable = writable;
    if (take_lock(path, writable, &s->lock_fd, e) < 0) {
        free(s);
        return NULL;
    }
    size_t len = 0;
    char *text = NULL;
    /* Bounded, non-blocking, regular files only (a file swapped for a FIFO
     * after the stat above is still refused, not waited on). */
    if (fileio_read(path, "simulator state file", SIM_MAX_FILE_BYTES, &text, &len, e) < 0)
        text = NULL;
    if (!text || sim_parse(text, len, path, s, e) < 0) {
        free(text);
        sim_close(s);
        return NULL;
    }
    free(text);
    return s;
}

int sim_commit(sim_state *s, mig_error *e)
{
    if (!s->writable || s->lock_fd < 0 || !s->path[0])
        return mig_fail(e, MIG_ERR_SYSTEM, "simulator state not opened for writing");
    char *text = sim_dump(s);
    if (!text)
        return mig_fail(e, MIG_ERR_SYSTEM, "cannot serialize the simulator state");
    /* O_EXCL temp with a random name beside the state, 0644 whatever the
     * umask, fsync, rename, fsync of the directory: a reader sees the old or
     * the new state, and no link at the path is followed. */
    int rc = fileio_write_atomic(s->path, text, strlen(text), 0644, e);
    free(text);
    return rc;
}

void sim_close(sim_state *s)
{
    if (!s)
        return;
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* drops the flock */
    free(s);
}

int sim_init(const char *path, const char *spec, bool swizzled, mig_error *e)
{
    if (!path || !*path)
        return mig_fail(e, MIG_ERR_INPUT, "no simulator state file given; pass --sim FILE or "
                                          "set MIGCTL_SIM_STATE");
    if (strlen(path) >= PATH_MAX - 16)
        return mig_fail(e, MIG_ERR_INPUT, "state file path too long");
    sim_state *s = sim_new(spec, swizzled, e);
    if (!s)
        return -1;
    sim_node_identities(s, sim_node_seed()); /* no two nodes share UUIDs */
    snprintf(s->path, sizeof s->path, "%s", path);
    s->writable = true;
    int rc = take_lock(path, true, &s->lock_fd, e);
    if (rc == 0)
        rc = sim_commit(s, e);
    sim_close(s);
    return rc;
}
