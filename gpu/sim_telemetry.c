/*
 * sim_telemetry.c: the simulator's scripted load and health (gpu/sim.h
 * sim_load / sim_telemetry): setting it, reading it from and writing it to
 * the state file (gpu/sim_telemetry.h), and turning it into the telemetry a
 * driver would report, so the sim backend and the NVML shim (GPM, memory,
 * processes, ECC, remapped rows, Xid events) answer from the same figures.
 *
 * Load follows the simulated processes: an instance with no process is idle
 * whatever was scripted for it, and its memory used is what its processes
 * hold (SIM_PROC_MEMORY each unless memory was scripted).
 */
#include <stdio.h>
#include <string.h>

#include "gpu/sim.h"
#include "gpu/sim_telemetry.h"

/* ------------------------------------------------------------ loads */

static const mig_gi_state *find_gi(const mig_gpu_state *g, unsigned id)
{
    for (unsigned i = 0; i < g->n_gi; i++)
        if (g->gi[i].id == id)
            return &g->gi[i];
    return NULL;
}

static unsigned gi_procs(const mig_gi_state *gi)
{
    unsigned n = 0;
    for (unsigned k = 0; k < gi->n_ci; k++)
        n += gi->ci[k].n_procs;
    return n;
}

int sim_set_load(sim_state *s, unsigned gpu, int gi_id, const sim_load *l, mig_error *e)
{
    if (gpu >= s->n_gpus)
        return mig_fail(e, MIG_ERR_INPUT, "no GPU %u (%u GPUs)", gpu, s->n_gpus);
    sim_load *dst;
    if (gi_id < 0) {
        dst = &s->tele[gpu].gpu;
    } else {
        if (gi_id >= SIM_GI_IDS || !find_gi(&s->gpus[gpu], (unsigned)gi_id))
            return mig_fail(e, MIG_ERR_INPUT, "GPU %u has no GPU instance %d", gpu, gi_id);
        dst = &s->tele[gpu].gi[gi_id];
    }
    if (l) {
        *dst = *l;
        dst->set = true;
    } else {
        memset(dst, 0, sizeof *dst);
    }
    return 0;
}

void sim_effective_load(const sim_state *s, unsigned gpu, int gi_id, sim_load *out)
{
    memset(out, 0, sizeof *out);
    if (gpu >= s->n_gpus)
        return;
    const mig_gpu_state *g = &s->gpus[gpu];
    unsigned procs;
    const sim_load *l;
    if (gi_id < 0) {
        procs = g->n_procs;
        l = &s->tele[gpu].gpu;
    } else {
        const mig_gi_state *gi = gi_id < SIM_GI_IDS ? find_gi(g, (unsigned)gi_id) : NULL;
        if (!gi)
            return;
        procs = gi_procs(gi);
        l = &s->tele[gpu].gi[gi_id];
    }
    if (procs == 0)
        return;
    if (l->set)
        *out = *l;
    out->set = true;
    if (!out->memory_bytes)
        out->memory_bytes = procs * SIM_PROC_MEMORY;
}

void sim_gpu_load(const sim_state *s, unsigned gpu, sim_load *out)
{
    sim_effective_load(s, gpu, -1, out);
    if (gpu >= s->n_gpus || !s->gpus[gpu].mig_current)
        return;
    const mig_gpu_state *g = &s->gpus[gpu];
    const mig_model *m = g->model;
    for (unsigned i = 0; i < g->n_gi; i++) {
        sim_load l;
        sim_effective_load(s, gpu, (int)g->gi[i].id, &l);
        const mig_gi_profile *p = mig_profile_by_id(m, g->gi[i].profile_id);
        if (!l.set || !p)
            continue;
        double cw = (double)p->compute_slices / m->compute_slices;
        double mw = (double)p->memory_slices / m->memory_slices;
        out->set = true;
        out->sm += l.sm * cw;
        out->occupancy += l.occupancy * cw;
        out->tensor += l.tensor * cw;
        out->dram += l.dram * mw;
        out->memory_bytes += l.memory_bytes;
    }
}

/* ------------------------------------------------------------ health */

void sim_inject_xid(sim_state *s, unsigned gpu, unsigned code)
{
    sim_telemetry *t = &s->tele[gpu];
    if (t->n_xid == SIM_MAX_XID) {
        memmove(t->xid, t->xid + 1, (SIM_MAX_XID - 1) * sizeof t->xid[0]);
        t->n_xid--;
    }
    t->xid[t->n_xid++] = code;
    t->xid_total++;
}

unsigned sim_xids_since(const sim_state *s, unsigned gpu, unsigned seen, unsigned *last)
{
    const sim_telemetry *t = &s->tele[gpu];
    *last = t->n_xid ? t->xid[t->n_xid - 1] : 0;
    return t->xid_total > seen ? t->xid_total - seen : 0;
}

/* ------------------------------------------------------------ sample */

static void put_metrics(mig_metric m[MIG_M_COUNT], const sim_load *l, bool gpm)
{
    double v[MIG_M_COUNT] = {
        [MIG_M_GR_ACTIVE] = l->sm, /* the simulator runs compute only: GR = SM activity */
        [MIG_M_SM_ACTIVE] = l->sm,
        [MIG_M_SM_OCCUPANCY] = l->occupancy,
        [MIG_M_TENSOR] = l->tensor,
        [MIG_M_DRAM] = l->dram,
    };
    for (int i = 0; i < MIG_M_COUNT; i++)
        m[i] = gpm ? (mig_metric){MIG_MET_OK, v[i]} : (mig_metric){MIG_MET_UNSUPPORTED, 0};
}

static void add_procs(mig_gpu_sample *out, unsigned gpu, int gi, int ci, unsigned n,
                      unsigned long long each)
{
    for (unsigned k = 0; k < n && out->n_procs < MIG_SAMPLE_MAX_PROCS; k++)
        out->procs[out->n_procs++] = (mig_proc_sample){
            .pid = sim_proc_pid(gpu, gi, ci, k),
            .gi_id = gi,
            .ci_id = ci,
            .mem_known = true,
            .mem_bytes = each,
        };
}

void sim_fill_sample(const sim_state *s, unsigned gpu, mig_gpu_sample *out)
{
    memset(out, 0, sizeof *out);
    const mig_gpu_state *g = &s->gpus[gpu];
    bool gpm = g->model && g->model->gpm;
    sim_load l;
    sim_gpu_load(s, gpu, &l);
    out->mem_known = true;
    out->mem_total = g->memory_bytes;
    out->mem_used = l.memory_bytes;
    put_metrics(out->m, &l, gpm);
    out->procs_known = true;
    sim_effective_load(s, gpu, -1, &l);
    if (g->n_procs)
        add_procs(out, gpu, -1, -1, g->n_procs, l.memory_bytes / g->n_procs);
    for (unsigned i = 0; i < g->n_gi && g->mig_current; i++) {
        const mig_gi_state *gi = &g->gi[i];
        mig_gi_sample *gs = &out->gi[out->n_gi++];
        const mig_gi_profile *p = mig_profile_by_id(g->model, gi->profile_id);
        sim_effective_load(s, gpu, (int)gi->id, &l);
        gs->gi_id = gi->id;
        gs->mem_known = p && gi->n_ci; /* no MIG device, no memory query (as NVML) */
        gs->mem_total = p ? p->memory_mib << 20 : 0;
        gs->mem_used = l.memory_bytes;
        put_metrics(gs->m, &l, gpm);
        unsigned procs = gi_procs(gi);
        for (unsigned k = 0; k < gi->n_ci; k++)
            add_procs(out, gpu, (int)gi->id, (int)gi->ci[k].id, gi->ci[k].n_procs,
                      procs ? l.memory_bytes / procs : 0);
    }
    const sim_telemetry *t = &s->tele[gpu];
    mig_health_sample *h = &out->health;
    h->ecc_known = h->remap_known = h->xid_known = true;
    h->ecc_sbe_volatile = t->ecc_sbe_volatile;
    h->ecc_dbe_volatile = t->ecc_dbe_volatile;
    h->ecc_sbe_aggregate = t->ecc_sbe_aggregate;
    h->ecc_dbe_aggregate = t->ecc_dbe_aggregate;
    h->remap_correctable = t->remap_correctable;
    h->remap_uncorrectable = t->remap_uncorrectable;
    h->remap_pending = t->remap_pending;
    h->remap_failure = t->remap_failure;
    h->xid_count = sim_xids_since(s, gpu, 0, &h->xid_last);
}

/* ------------------------------------------------------------ file */

static bool load_empty(const sim_load *l)
{
    return !l->set;
}

static bool tele_empty(const sim_telemetry *t, const mig_gpu_state *g)
{
    if (!load_empty(&t->gpu) || t->ecc_sbe_volatile || t->ecc_dbe_volatile ||
        t->ecc_sbe_aggregate || t->ecc_dbe_aggregate || t->remap_correctable ||
        t->remap_uncorrectable || t->remap_pending || t->remap_failure || t->xid_total)
        return false;
    for (unsigned i = 0; i < SIM_GI_IDS; i++)
        if (!load_empty(&t->gi[i]) && find_gi(g, i))
            return false;
    return true;
}

static json_t *load_json(const sim_load *l)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:I}", "sm", l->sm, "occupancy", l->occupancy, "tensor",
                     l->tensor, "dram", l->dram, "memory_mib",
                     (json_int_t)(l->memory_bytes >> 20));
}

void sim_telemetry_dump(const sim_state *s, json_t *root)
{
    json_t *arr = NULL;
    for (unsigned i = 0; i < s->n_gpus; i++) {
        const sim_telemetry *t = &s->tele[i];
        const mig_gpu_state *g = &s->gpus[i];
        if (tele_empty(t, g))
            continue;
        json_t *j = json_pack("{s:i}", "gpu", (int)i);
        if (t->gpu.set)
            json_object_set_new(j, "load", load_json(&t->gpu));
        json_t *gl = json_array();
        for (unsigned k = 0; k < SIM_GI_IDS; k++)
            if (t->gi[k].set && find_gi(g, k)) {
                json_t *o = load_json(&t->gi[k]);
                json_object_set_new(o, "gi", json_integer(k));
                json_array_append_new(gl, o);
            }
        json_object_set_new(j, "gi_load", gl);
        json_object_set_new(j, "ecc",
                            json_pack("{s:I,s:I,s:I,s:I}", "sbe_volatile",
                                      (json_int_t)t->ecc_sbe_volatile, "dbe_volatile",
                                      (json_int_t)t->ecc_dbe_volatile, "sbe_aggregate",
                                      (json_int_t)t->ecc_sbe_aggregate, "dbe_aggregate",
                                      (json_int_t)t->ecc_dbe_aggregate));
        json_object_set_new(j, "remapped_rows",
                            json_pack("{s:i,s:i,s:b,s:b}", "correctable",
                                      (int)t->remap_correctable, "uncorrectable",
                                      (int)t->remap_uncorrectable, "pending", t->remap_pending,
                                      "failure", t->remap_failure));
        json_t *recent = json_array();
        for (unsigned k = 0; k < t->n_xid; k++)
            json_array_append_new(recent, json_integer(t->xid[k]));
        json_object_set_new(j, "xid", json_pack("{s:i,s:o}", "total", (int)t->xid_total,
                                                "recent", recent));
        if (!arr)
            arr = json_array();
        json_array_append_new(arr, j);
    }
    if (arr)
        json_object_set_new(root, "telemetry", arr);
}

typedef struct {
    const char *name;
    char where[96];
    mig_error *e;
} tctx;

static int tbad(tctx *c, const char *what, const char *key)
{
    return mig_fail(c->e, MIG_ERR_INPUT, "%s: %s: \"%s\" %s", c->name, c->where, key, what);
}

static int get_frac(tctx *c, json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
        return tbad(c, "must be a number from 0 to 1", key);
    *out = json_number_value(v);
    return 0;
}

static int get_count(tctx *c, json_t *o, const char *key, unsigned long long max,
                     unsigned long long *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) > max)
        return tbad(c, "must be a non-negative integer", key);
    *out = (unsigned long long)json_integer_value(v);
    return 0;
}

static int get_flag(tctx *c, json_t *o, const char *key, bool *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return tbad(c, "must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

static int parse_load(tctx *c, json_t *o, sim_load *l)
{
    if (!json_is_object(o))
        return mig_fail(c->e, MIG_ERR_INPUT, "%s: %s: must be an object", c->name, c->where);
    unsigned long long mib = 0;
    memset(l, 0, sizeof *l);
    if (get_frac(c, o, "sm", &l->sm) < 0 || get_frac(c, o, "occupancy", &l->occupancy) < 0 ||
        get_frac(c, o, "tensor", &l->tensor) < 0 || get_frac(c, o, "dram", &l->dram) < 0 ||
        get_count(c, o, "memory_mib", 1ull << 24, &mib) < 0)
        return -1;
    l->memory_bytes = mib << 20;
    l->set = true;
    return 0;
}

static int parse_one(tctx *c, json_t *j, sim_state *s)
{
    if (!json_is_object(j))
        return mig_fail(c->e, MIG_ERR_INPUT, "%s: %s: must be an object", c->name, c->where);
    unsigned long long gpu = 0, v;
    json_t *gj = json_object_get(j, "gpu");
    if (!gj)
        return tbad(c, "is missing", "gpu");
    if (get_count(c, j, "gpu", SIM_MAX_GPUS - 1, &gpu) < 0)
        return -1;
    if (gpu >= s->n_gpus)
        return tbad(c, "names a GPU the state does not have", "gpu");
    sim_telemetry *t = &s->tele[gpu];
    size_t keep = strlen(c->where);
    json_t *load = json_object_get(j, "load");
    if (load) {
        snprintf(c->where + keep, sizeof c->where - keep, ".load");
        if (parse_load(c, load, &t->gpu) < 0)
            return -1;
    }
    json_t *gl = json_object_get(j, "gi_load");
    if (gl && !json_is_array(gl))
        return tbad(c, "must be a list", "gi_load");
    size_t i;
    json_t *o;
    json_array_foreach(gl, i, o)
    {
        snprintf(c->where + keep, sizeof c->where - keep, ".gi_load[%zu]", i);
        unsigned long long gi = SIM_GI_IDS;
        if (!json_is_object(o) || !json_object_get(o, "gi"))
            return tbad(c, "is missing", "gi");
        if (get_count(c, o, "gi", SIM_GI_IDS - 1, &gi) < 0)
            return -1;
        if (parse_load(c, o, &t->gi[gi]) < 0)
            return -1;
    }
    c->where[keep] = '\0';
    json_t *ecc = json_object_get(j, "ecc");
    if (ecc && (!json_is_object(ecc) ||
                get_count(c, ecc, "sbe_volatile", 1ull << 53, &t->ecc_sbe_volatile) < 0 ||
                get_count(c, ecc, "dbe_volatile", 1ull << 53, &t->ecc_dbe_volatile) < 0 ||
                get_count(c, ecc, "sbe_aggregate", 1ull << 53, &t->ecc_sbe_aggregate) < 0 ||
                get_count(c, ecc, "dbe_aggregate", 1ull << 53, &t->ecc_dbe_aggregate) < 0))
        return ecc && !json_is_object(ecc) ? tbad(c, "must be an object", "ecc") : -1;
    json_t *rr = json_object_get(j, "remapped_rows");
    if (rr && !json_is_object(rr))
        return tbad(c, "must be an object", "remapped_rows");
    v = 0;
    if (rr && get_count(c, rr, "correctable", 1u << 30, &v) < 0)
        return -1;
    t->remap_correctable = (unsigned)v;
    v = 0;
    if (rr && get_count(c, rr, "uncorrectable", 1u << 30, &v) < 0)
        return -1;
    t->remap_uncorrectable = (unsigned)v;
    if (rr && (get_flag(c, rr, "pending", &t->remap_pending) < 0 ||
               get_flag(c, rr, "failure", &t->remap_failure) < 0))
        return -1;
    json_t *xid = json_object_get(j, "xid");
    if (xid && !json_is_object(xid))
        return tbad(c, "must be an object", "xid");
    v = 0;
    if (xid && get_count(c, xid, "total", 1u << 30, &v) < 0)
        return -1;
    t->xid_total = (unsigned)v;
    json_t *recent = json_object_get(xid, "recent");
    if (recent && (!json_is_array(recent) || json_array_size(recent) > SIM_MAX_XID ||
                   json_array_size(recent) > t->xid_total))
        return tbad(c, "must be a list of at most 16 codes, no more than \"total\"", "recent");
    json_array_foreach(recent, i, o)
    {
        if (!json_is_integer(o) || json_integer_value(o) < 0 || json_integer_value(o) > 100000)
            return tbad(c, "must hold Xid codes (0 to 100000)", "recent");
        t->xid[t->n_xid++] = (unsigned)json_integer_value(o);
    }
    return 0;
}

int sim_telemetry_parse(json_t *root, const char *name, sim_state *s, mig_error *e)
{
    memset(s->tele, 0, sizeof s->tele);
    json_t *arr = json_object_get(root, "telemetry");
    if (!arr)
        return 0;
    tctx c = {.name = name, .e = e};
    if (!json_is_array(arr) || json_array_size(arr) > SIM_MAX_GPUS)
        return mig_fail(e, MIG_ERR_INPUT, "%s: \"telemetry\" must be a list of at most %d",
                        name, SIM_MAX_GPUS);
    /* One entry per GPU: a second one would merge into the first field by
     * field and could leave a state that does not dump back as it was read
     * (found by fuzz_sim_state: xid "total" from one entry, "recent" from
     * the other). */
    bool seen[SIM_MAX_GPUS] = {false};
    size_t i;
    json_t *j;
    json_array_foreach(arr, i, j)
    {
        snprintf(c.where, sizeof c.where, "telemetry[%zu]", i);
        json_int_t gpu = json_is_object(j) ? json_integer_value(json_object_get(j, "gpu")) : -1;
        if (gpu >= 0 && gpu < SIM_MAX_GPUS && json_is_integer(json_object_get(j, "gpu"))) {
            if (seen[gpu])
                return tbad(&c, "names a GPU an earlier entry already gave", "gpu");
            seen[gpu] = true;
        }
        if (parse_one(&c, j, s) < 0)
            return -1;
    }
    return 0;
}
