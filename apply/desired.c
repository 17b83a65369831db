/*
 * desired.c: what a config entry means for one GPU, and whether a GPU
 * already is that way.
 *
 * desired_from_config resolves the entry's mig-devices keys against the
 * GPU's model: a GI key ("3g.40gb": 2) gives that many GIs, each with its
 * default CI (as mig-parted's created devices have); CI keys ("1c.3g.40gb": 3,
 * "2c.3g.40gb": 1) of one GI profile (and pin) are packed into the fewest GIs
 * of that profile that hold them, respecting the CI placement rules. The
 * packing is exact: every "bin" (a CI mix that fits one GI) is enumerated
 * and a small DP over the remaining counts picks the fewest bins, fullest
 * bins first on ties, so the same config always means the same structure.
 * Whatever cannot exist on the model is reported as impossible, with the
 * smallest set of keys that conflict (found by dropping keys one at a time
 * while the rest still does not fit).
 *
 * desired_satisfied compares structure: a bipartite matching between the
 * current GIs and the desired ones (same GI profile, same multiset of CI
 * profiles, same start when pinned and placements are asked for).
 *
 * reconcile_place / reconcile_place_cis are the exact placement searches
 * shared with reconcile.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/reconcile.h"
#include "model/layout.h"
#include "model/profile_name.h"

/* ------------------------------------------------------------ placements */

/* Profile positions ordered biggest first (memory, then compute slices):
 * the order in which remaining capacity is compared. */
static unsigned biggest_first(const mig_model *m, unsigned char *order)
{
    unsigned n = m->n_profiles;
    for (unsigned i = 0; i < n; i++)
        order[i] = (unsigned char)i;
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0; j--) {
            const mig_gi_profile *a = &m->profiles[order[j - 1]], *b = &m->profiles[order[j]];
            bool swap = b->memory_slices > a->memory_slices ||
                        (b->memory_slices == a->memory_slices && b->compute_slices > a->compute_slices);
            if (!swap)
                break;
            unsigned char t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    return n;
}

typedef struct {
    const mig_model *m;
    unsigned n;
    const unsigned char *prof;
    const int *pin;
    unsigned char idx[MIG_MAX_GI];     /* search order: pinned, then biggest first */
    unsigned char cur[MIG_MAX_GI];     /* starts chosen, by search position */
    unsigned char best[MIG_MAX_GI];
    unsigned best_score[MIG_MAX_PROFILES];
    unsigned char order[MIG_MAX_PROFILES];
    unsigned n_order;
    bool found;
    unsigned long visits;
} place_ctx;

/* A cap on the walk; the real spaces are far smaller (8 slices, <= 7 GIs). */
#define PLACE_MAX_VISITS 2000000UL

static void place_score(place_ctx *c, const mig_layout *l, unsigned *score)
{
    for (unsigned i = 0; i < c->n_order; i++)
        score[i] = layout_remaining(c->m, l, c->order[i]);
}

static void place_leaf(place_ctx *c, const mig_layout *l)
{
    unsigned bad;
    if (layout_check(c->m, l, &bad) != MIG_FIT_OK)
        return;
    unsigned score[MIG_MAX_PROFILES];
    place_score(c, l, score);
    if (c->found) {
        int cmp = 0;
        for (unsigned i = 0; i < c->n_order && !cmp; i++)
            cmp = score[i] > c->best_score[i] ? 1 : score[i] < c->best_score[i] ? -1 : 0;
        if (cmp <= 0)
            return;
    }
    c->found = true;
    memcpy(c->best_score, score, sizeof score);
    memcpy(c->best, c->cur, sizeof c->cur);
}

static void place_dfs(place_ctx *c, mig_layout *l, unsigned k)
{
    if (++c->visits > PLACE_MAX_VISITS)
        return;
    if (k == c->n) {
        place_leaf(c, l);
        return;
    }
    unsigned gi = c->idx[k];
    const mig_gi_profile *p = &c->m->profiles[c->prof[gi]];
    /* Two unpinned GIs of one profile are interchangeable: keep their starts
     * increasing so each set of placements is visited once. */
    int lowest = -1;
    if (k > 0 && c->pin[c->idx[k - 1]] < 0 && c->pin[gi] < 0 && c->prof[c->idx[k - 1]] == c->prof[gi])
        lowest = c->cur[k - 1] + 1;
    for (unsigned s = 0; s < p->n_starts; s++) {
        unsigned start = p->starts[s];
        if ((int)start < lowest || (c->pin[gi] >= 0 && (int)start != c->pin[gi]))
            continue;
        if (layout_fits(c->m, l, c->prof[gi], start) != MIG_FIT_OK)
            continue;
        c->cur[k] = (unsigned char)start;
        layout_add(l, c->prof[gi], start);
        place_dfs(c, l, k + 1);
        layout_remove(l, l->n - 1u);
    }
}

bool reconcile_place(const mig_model *m, const mig_layout *kept, unsigned n,
                     const unsigned char *prof, const int *pin, unsigned char *start)
{
    if (kept->n + n > MIG_MAX_GI)
        return false;
    place_ctx c = {.m = m, .n = n, .prof = prof, .pin = pin};
    c.n_order = biggest_first(m, c.order);
    /* Pinned first (no choice), then biggest first (fewest choices). */
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (pin[i] >= 0)
            c.idx[k++] = (unsigned char)i;
    for (unsigned o = 0; o < c.n_order; o++)
        for (unsigned i = 0; i < n; i++)
            if (pin[i] < 0 && prof[i] == c.order[o])
                c.idx[k++] = (unsigned char)i;
    mig_layout l = *kept;
    place_dfs(&c, &l, 0);
    if (!c.found)
        return false;
    for (unsigned i = 0; i < n; i++)
        start[c.idx[i]] = c.best[i];
    return true;
}

static bool ci_dfs(const mig_model *m, const mig_gi_profile *gi, unsigned used,
                   const mig_desired_ci *ci, const unsigned char *ord, unsigned n, unsigned k,
                   unsigned char *start)
{
    if (k == n)
        return true;
    mig_ci_profile cp;
    if (!mig_ci_profile_by_id(m, gi, ci[ord[k]].profile_id, &cp))
        return false;
    int lowest = 0;
    if (k > 0 && ci[ord[k - 1]].profile_id == cp.id)
        lowest = start[ord[k - 1]] + 1;
    for (unsigned s = 0; s < cp.n_starts; s++) {
        unsigned st = cp.starts[s];
        if ((int)st < lowest || ci_fits(&cp, used, st) != MIG_FIT_OK)
            continue;
        start[ord[k]] = (unsigned char)st;
        unsigned mask = ((1u << cp.compute_slices) - 1u) << st;
        if (ci_dfs(m, gi, used | mask, ci, ord, n, k + 1, start))
            return true;
    }
    return false;
}

bool reconcile_place_cis(const mig_model *m, const mig_gi_profile *gi, unsigned used,
                         const mig_desired_ci *ci, unsigned n, unsigned char *start)
{
    if (n > MIG_MAX_CI)
        return false;
    /* Largest first, same profiles adjacent (for the symmetry cut). */
    unsigned char ord[MIG_MAX_CI];
    for (unsigned i = 0; i < n; i++)
        ord[i] = (unsigned char)i;
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0; j--) {
            const mig_desired_ci *a = &ci[ord[j - 1]], *b = &ci[ord[j]];
            if (b->slices < a->slices || (b->slices == a->slices && b->profile_id >= a->profile_id))
                break;
            unsigned char t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
    return ci_dfs(m, gi, used, ci, ord, n, 0, start);
}

/* ------------------------------------------------------------ resolving keys */

typedef struct {
    const cfg_mig_device *dev;
    const mig_gi_profile *gi;
    mig_ci_profile ci;
    bool ci_key;              /* a partial CI ("1c.3g.40gb"), packed */
} resolved_key;

/* One GI to be, with the key it came from (for the conflict report). */
typedef struct {
    unsigned n;
    mig_desired_gi gi[MIG_MAX_GI];
    unsigned key[MIG_MAX_GI];
    unsigned bins_over;       /* GIs asked beyond MIG_MAX_GI */
} gi_list;

static void gi_list_add(gi_list *l, const mig_gi_profile *p, int start, const mig_desired_ci *ci,
                        unsigned n_ci, unsigned key)
{
    if (l->n == MIG_MAX_GI) {
        l->bins_over++;
        return;
    }
    mig_desired_gi *g = &l->gi[l->n];
    memset(g, 0, sizeof *g);
    g->profile_id = p->id;
    g->start = start;
    g->n_ci = n_ci;
    memcpy(g->ci, ci, n_ci * sizeof ci[0]);
    l->key[l->n++] = key;
}

/* ---- exact packing of CI keys into GIs ---- */

#define PACK_MAX_KINDS MIG_MAX_CI_PROFILES
#define PACK_MAX_STATES 20000u
#define PACK_MAX_BINS 512u
#define PACK_NONE 0xFFFFu /* no packing exists */

typedef struct {
    unsigned kinds;
    mig_ci_profile prof[PACK_MAX_KINDS];
    unsigned key[PACK_MAX_KINDS];   /* key index of each kind */
    unsigned need[PACK_MAX_KINDS];
    unsigned radix[PACK_MAX_KINDS]; /* mixed-radix state encoding */
    unsigned n_bins;
    unsigned char bin[PACK_MAX_BINS][PACK_MAX_KINDS];
    unsigned bin_slices[PACK_MAX_BINS];
} pack_ctx;

static unsigned pack_bin_cis(const pack_ctx *p, const unsigned char *counts, mig_desired_ci *out)
{
    unsigned n = 0;
    for (unsigned k = 0; k < p->kinds; k++)
        for (unsigned j = 0; j < counts[k] && n < MIG_MAX_CI; j++)
            out[n++] = (mig_desired_ci){p->prof[k].id, p->prof[k].compute_slices};
    return n;
}

/* Every non-empty CI mix that fits one GI, fullest first. */
static void pack_enumerate_bins(const mig_model *m, const mig_gi_profile *gi, pack_ctx *p,
                                unsigned char *counts, unsigned k)
{
    if (k == p->kinds) {
        unsigned slices = 0, n = 0;
        for (unsigned i = 0; i < p->kinds; i++) {
            slices += counts[i] * p->prof[i].compute_slices;
            n += counts[i];
        }
        if (n == 0 || n > MIG_MAX_CI || slices > gi->compute_slices || p->n_bins == PACK_MAX_BINS)
            return;
        mig_desired_ci ci[MIG_MAX_CI];
        unsigned char st[MIG_MAX_CI];
        pack_bin_cis(p, counts, ci);
        if (!reconcile_place_cis(m, gi, 0, ci, n, st))
            return;
        unsigned b = p->n_bins++;
        memcpy(p->bin[b], counts, PACK_MAX_KINDS);
        p->bin_slices[b] = slices;
        for (; b > 0 && p->bin_slices[b - 1] < p->bin_slices[b]; b--) {
            unsigned char t[PACK_MAX_KINDS];
            memcpy(t, p->bin[b], sizeof t);
            memcpy(p->bin[b], p->bin[b - 1], sizeof t);
            memcpy(p->bin[b - 1], t, sizeof t);
            unsigned ts = p->bin_slices[b];
            p->bin_slices[b] = p->bin_slices[b - 1];
            p->bin_slices[b - 1] = ts;
        }
        return;
    }
    unsigned max = p->need[k] < p->prof[k].instance_count ? p->need[k] : p->prof[k].instance_count;
    for (unsigned c = 0; c <= max; c++) {
        counts[k] = (unsigned char)c;
        pack_enumerate_bins(m, gi, p, counts, k + 1);
    }
    counts[k] = 0;
}

static unsigned pack_encode(const pack_ctx *p, const unsigned *left)
{
    unsigned s = 0;
    for (unsigned k = p->kinds; k-- > 0;)
        s = s * p->radix[k] + left[k];
    return s;
}

/* Fewest bins for the counts `left`; memo[s] = bins + 1 (0 = unknown). */
static unsigned pack_min_bins(const pack_ctx *p, unsigned *left, unsigned *memo)
{
    unsigned s = pack_encode(p, left);
    if (s == 0)
        return 0;
    if (memo[s])
        return memo[s] - 1u;
    unsigned best = PACK_NONE;
    for (unsigned b = 0; b < p->n_bins; b++) {
        bool fits = true;
        for (unsigned k = 0; k < p->kinds && fits; k++)
            fits = p->bin[b][k] <= left[k];
        if (!fits)
            continue;
        for (unsigned k = 0; k < p->kinds; k++)
            left[k] -= p->bin[b][k];
        unsigned r = pack_min_bins(p, left, memo);
        for (unsigned k = 0; k < p->kinds; k++)
            left[k] += p->bin[b][k];
        if (r != PACK_NONE && r + 1 < best)
            best = r + 1;
    }
    memo[s] = best + 1u;
    return best;
}

/* Pack the CI keys of one (GI profile, pin) group; false when they cannot
 * be packed at all (too many to even count: the GI list then overflows and
 * the GPU is impossible). */
static bool pack_group(const mig_model *m, const mig_gi_profile *gi, int pin, pack_ctx *p,
                       gi_list *out)
{
    unsigned states = 1;
    for (unsigned k = 0; k < p->kinds; k++) {
        p->radix[k] = p->need[k] + 1;
        if (states > PACK_MAX_STATES / p->radix[k])
            return false;
        states *= p->radix[k];
    }
    unsigned char counts[PACK_MAX_KINDS] = {0};
    p->n_bins = 0;
    pack_enumerate_bins(m, gi, p, counts, 0);
    unsigned *memo = calloc(states, sizeof *memo);
    if (!memo)
        return false;
    unsigned left[PACK_MAX_KINDS];
    memcpy(left, p->need, sizeof left);
    bool ok = pack_min_bins(p, left, memo) != PACK_NONE;
    /* Walk the DP: the first bin (fullest first) that keeps the optimum. */
    while (ok && pack_encode(p, left) != 0) {
        unsigned here = memo[pack_encode(p, left)] - 1u;
        unsigned b = 0;
        for (; b < p->n_bins; b++) {
            bool fits = true;
            for (unsigned k = 0; k < p->kinds && fits; k++)
                fits = p->bin[b][k] <= left[k];
            if (!fits)
                continue;
            for (unsigned k = 0; k < p->kinds; k++)
                left[k] -= p->bin[b][k];
            if (pack_min_bins(p, left, memo) + 1 == here)
                break;
            for (unsigned k = 0; k < p->kinds; k++)
                left[k] += p->bin[b][k];
        }
        if (b == p->n_bins)
            break; /* cannot happen: the DP found a way */
        mig_desired_ci ci[MIG_MAX_CI];
        unsigned n = pack_bin_cis(p, p->bin[b], ci);
        unsigned key = 0;
        for (unsigned k = 0; k < p->kinds; k++)
            if (p->bin[b][k]) {
                key = p->key[k];
                break;
            }
        gi_list_add(out, gi, pin, ci, n, key);
    }
    free(memo);
    return ok;
}

/* ---- from keys to GIs ---- */

static int resolve_keys(const cfg_entry *en, const mig_model *m, resolved_key *keys, unsigned *n,
                        mig_error *e)
{
    *n = 0;
    for (unsigned i = 0; i < en->n_devices; i++) {
        const cfg_mig_device *dv = &en->devices[i];
        resolved_key *k = &keys[(*n)++];
        k->dev = dv;
        if (mig_profile_resolve(m, &dv->name, &k->gi, &k->ci, e) < 0) {
            /* The key's place in the config; the caller names the file
             * (reconcile_error_in_file). */
            e->line = dv->line;
            e->col = dv->col;
            return -1;
        }
        k->ci_key = k->ci.compute_slices < k->gi->compute_slices;
        /* A pin at a start the profile never has is a typo, not a layout
         * that happens not to fit: bad input, worded as create words it. */
        if (dv->start >= 0 && !layout_start_valid(k->gi, (unsigned)dv->start)) {
            char list[64] = "";
            size_t used = 0;
            for (unsigned s = 0; s < k->gi->n_starts && used < sizeof list; s++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%u", s ? ", " : "",
                                         k->gi->starts[s]);
            /* The caller names the file (reconcile_error_in_file). */
            return mig_fail_at(e, "", dv->line, dv->col,
                               "'%s': placement not allowed: %s can start only at %s", dv->key,
                               k->gi->name, list);
        }
    }
    return 0;
}

/* The GIs the keys (those with use[i]) ask for. False when some group of
 * CI keys cannot be packed. */
static bool build_gis(const mig_model *m, const resolved_key *keys, unsigned n, const bool *use,
                      gi_list *out)
{
    memset(out, 0, sizeof *out);
    bool ok = true;
    for (unsigned i = 0; i < n; i++) {
        if (!use[i] || keys[i].ci_key)
            continue;
        mig_desired_ci ci = {keys[i].ci.id, keys[i].ci.compute_slices};
        unsigned count = keys[i].dev->count;
        for (unsigned c = 0; c < count && c <= MIG_MAX_GI; c++)
            gi_list_add(out, keys[i].gi, keys[i].dev->start, &ci, 1, i);
        if (count > MIG_MAX_GI + 1u)
            out->bins_over += count - (MIG_MAX_GI + 1u);
    }
    /* CI keys, grouped by (GI profile, pin), in key order. */
    bool done[64] = {0};
    for (unsigned i = 0; i < n && i < 64; i++) {
        if (!use[i] || !keys[i].ci_key || done[i] || keys[i].dev->count == 0)
            continue;
        pack_ctx *p = calloc(1, sizeof *p);
        if (!p)
            return false;
        for (unsigned j = i; j < n && j < 64; j++) {
            if (!use[j] || !keys[j].ci_key || done[j] || keys[j].gi != keys[i].gi ||
                keys[j].dev->start != keys[i].dev->start || keys[j].dev->count == 0)
                continue;
            done[j] = true;
            unsigned k = 0;
            while (k < p->kinds && p->prof[k].id != keys[j].ci.id)
                k++;
            if (k == PACK_MAX_KINDS)
                continue;
            if (k == p->kinds) {
                p->prof[k] = keys[j].ci;
                p->key[k] = j;
                p->kinds++;
            }
            p->need[k] += keys[j].dev->count;
        }
        ok = pack_group(m, keys[i].gi, keys[i].dev->start, p, out) && ok;
        free(p);
    }
    return ok;
}

/* ---- impossibility ---- */

/* Does the GI list fit on an empty GPU of m? On false, why in words. */
static bool gis_fit(const mig_model *m, const gi_list *l, bool packed, char *why, size_t len)
{
    unsigned total = l->n + l->bins_over;
    if (!packed) {
        snprintf(why, len, "more compute instances than fit");
        return false;
    }
    if (total > m->max_gis) {
        snprintf(why, len, "%u GPU instances, at most %u fit", total, m->max_gis);
        return false;
    }
    for (unsigned p = 0; p < m->n_profiles; p++) {
        unsigned c = 0;
        for (unsigned i = 0; i < l->n; i++)
            c += l->gi[i].profile_id == m->profiles[p].id;
        if (c > m->profiles[p].instance_count) {
            snprintf(why, len, "%u x %s, at most %u fit", c, m->profiles[p].name,
                     m->profiles[p].instance_count);
            return false;
        }
    }
    unsigned compute = 0;
    for (unsigned i = 0; i < l->n; i++)
        compute += mig_profile_by_id(m, l->gi[i].profile_id)->compute_slices;
    if (compute > m->compute_slices) {
        snprintf(why, len, "%u compute slices, the GPU has %u", compute, m->compute_slices);
        return false;
    }
    unsigned memory = 0;
    for (unsigned i = 0; i < l->n; i++)
        memory += mig_profile_by_id(m, l->gi[i].profile_id)->memory_slices;
    if (memory > m->memory_slices) {
        snprintf(why, len, "%u memory slices, the GPU has %u", memory, m->memory_slices);
        return false;
    }
    unsigned char prof[MIG_MAX_GI], start[MIG_MAX_GI];
    int pin[MIG_MAX_GI];
    for (unsigned i = 0; i < l->n; i++) {
        prof[i] = (unsigned char)mig_profile_pos(m, mig_profile_by_id(m, l->gi[i].profile_id));
        pin[i] = l->gi[i].start;
    }
    mig_layout empty = {0};
    if (!reconcile_place(m, &empty, l->n, prof, pin, start)) {
        snprintf(why, len, "no placement holds them all");
        return false;
    }
    return true;
}

/* The keys in conflict: drop keys one at a time while the rest still does
 * not fit; what remains is a minimal conflicting set. */
static void explain_impossible(const mig_model *m, const resolved_key *keys, unsigned n,
                               mig_desired_gpu *out)
{
    bool use[64] = {0};
    for (unsigned i = 0; i < n && i < 64; i++)
        use[i] = keys[i].dev->count > 0;
    gi_list *l = malloc(sizeof *l);
    if (!l)
        return;
    char why[160] = "";
    for (unsigned i = 0; i < n && i < 64; i++) {
        if (!use[i])
            continue;
        use[i] = false;
        bool packed = build_gis(m, keys, n, use, l);
        if (gis_fit(m, l, packed, why, sizeof why))
            use[i] = true; /* needed for the conflict */
    }
    bool packed = build_gis(m, keys, n, use, l);
    gis_fit(m, l, packed, why, sizeof why);
    free(l);
    size_t off = (size_t)snprintf(out->reason, sizeof out->reason, "cannot fit on %s:", m->name);
    const char *sep = " ";
    for (unsigned i = 0; i < n && i < 64 && off < sizeof out->reason; i++) {
        if (!use[i])
            continue;
        off += (size_t)snprintf(out->reason + off, sizeof out->reason - off, "%s\"%s\": %u (%u:%u)",
                                sep, keys[i].dev->key, keys[i].dev->count, keys[i].dev->line,
                                keys[i].dev->col);
        sep = " + ";
    }
    if (off < sizeof out->reason)
        snprintf(out->reason + off, sizeof out->reason - off, ": %s", why);
}

int desired_from_config(const cfg_config *c, const mig_gpu_state *g, mig_desired_gpu *out,
                        mig_error *e)
{
    memset(out, 0, sizeof *out);
    const cfg_entry *en = cfg_entry_for_gpu(c, g);
    if (!en)
        return 0;
    out->selected = true;
    out->mig_enabled = en->mig_enabled;
    if (!en->mig_enabled)
        return 0;
    const mig_model *m = g->model;
    if (!m || !g->mig_capable) {
        out->impossible = true;
        snprintf(out->reason, sizeof out->reason, "GPU %u (%s) is not MIG capable", g->index,
                 g->name[0] ? g->name : "unknown model");
        return 0;
    }
    if (en->n_devices > 64) {
        out->impossible = true;
        snprintf(out->reason, sizeof out->reason, "%u mig-devices keys: too many for one GPU",
                 en->n_devices);
        return 0;
    }
    resolved_key keys[64];
    unsigned n;
    if (resolve_keys(en, m, keys, &n, e) < 0)
        return -1;
    bool use[64];
    for (unsigned i = 0; i < n; i++)
        use[i] = true;
    gi_list *l = malloc(sizeof *l);
    if (!l)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    bool packed = build_gis(m, keys, n, use, l);
    char why[160];
    if (!gis_fit(m, l, packed, why, sizeof why)) {
        out->impossible = true;
        explain_impossible(m, keys, n, out);
    } else {
        out->n_gi = l->n;
        memcpy(out->gi, l->gi, l->n * sizeof l->gi[0]);
    }
    free(l);
    return 0;
}

void reconcile_error_in_file(mig_error *e, const char *path)
{
    if (e->line && !e->file[0])
        snprintf(e->file, sizeof e->file, "%s", path); /* the position is the file's */
    else if (!e->line)
        mig_error_prefix(e, "%s", path);
}

/* ------------------------------------------------------------ satisfied? */

static int cmp_uint(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

/* Sorted CI profile ids: the CI multiset of a GI. */
static unsigned desired_ci_set(const mig_model *m, const mig_desired_gi *g, unsigned *ids)
{
    const mig_gi_profile *p = mig_profile_by_id(m, g->profile_id);
    for (unsigned i = 0; i < g->n_ci; i++)
        ids[i] = mig_ci_canonical_id(m, p, g->ci[i].profile_id);
    qsort(ids, g->n_ci, sizeof ids[0], cmp_uint);
    return g->n_ci;
}

/* CI profile ids compared canonically: a CI spanning its GI is one device
 * whatever its id (mig-parted's 0 in a 1g.20gb GI, migctl's default 7). */
static unsigned state_ci_set(const mig_model *m, const mig_gi_state *g, unsigned *ids)
{
    const mig_gi_profile *p = mig_profile_by_id(m, g->profile_id);
    for (unsigned i = 0; i < g->n_ci; i++)
        ids[i] = mig_ci_canonical_id(m, p, g->ci[i].profile_id);
    qsort(ids, g->n_ci, sizeof ids[0], cmp_uint);
    return g->n_ci;
}

static bool gi_matches(const mig_model *m, const mig_gi_state *have, const mig_desired_gi *want,
                       bool placements)
{
    if (have->profile_id != want->profile_id || have->n_ci != want->n_ci)
        return false;
    if (placements && want->start >= 0 && (unsigned)want->start != have->start)
        return false;
    unsigned a[MIG_MAX_CI], b[MIG_MAX_CI];
    state_ci_set(m, have, a);
    desired_ci_set(m, want, b);
    return memcmp(a, b, have->n_ci * sizeof a[0]) == 0;
}

/* Kuhn's augmenting paths over "current GI i can be desired GI j". */
static bool match_try(bool adj[MIG_MAX_GI][MIG_MAX_GI], unsigned nd, unsigned i, bool *seen,
                      int *owner)
{
    for (unsigned j = 0; j < nd; j++) {
        if (!adj[i][j] || seen[j])
            continue;
        seen[j] = true;
        if (owner[j] < 0 || match_try(adj, nd, (unsigned)owner[j], seen, owner)) {
            owner[j] = (int)i;
            return true;
        }
    }
    return false;
}

static bool structure_matches(const mig_gpu_state *g, const mig_desired_gpu *d, bool placements)
{
    if (g->n_gi != d->n_gi)
        return false;
    bool adj[MIG_MAX_GI][MIG_MAX_GI];
    for (unsigned i = 0; i < g->n_gi; i++)
        for (unsigned j = 0; j < d->n_gi; j++)
            adj[i][j] = gi_matches(g->model, &g->gi[i], &d->gi[j], placements);
    int owner[MIG_MAX_GI];
    for (unsigned j = 0; j < MIG_MAX_GI; j++)
        owner[j] = -1;
    for (unsigned i = 0; i < g->n_gi; i++) {
        bool seen[MIG_MAX_GI] = {0};
        if (!match_try(adj, d->n_gi, i, seen, owner))
            return false;
    }
    return true;
}

/* ---- counting by name ---- */

typedef struct {
    unsigned gi_pos, ci_slices; /* sort key */
    char name[MIG_NAME_LEN + 8];
    unsigned count;
} name_count;

static void count_add(name_count *t, unsigned *n, unsigned cap, unsigned gi_pos, unsigned ci_slices,
                      const char *name)
{
    for (unsigned i = 0; i < *n; i++)
        if (strcmp(t[i].name, name) == 0) {
            t[i].count++;
            return;
        }
    if (*n == cap)
        return;
    name_count *c = &t[(*n)++];
    c->gi_pos = gi_pos;
    c->ci_slices = ci_slices;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->count = 1;
}

static int cmp_count(const void *a, const void *b)
{
    const name_count *x = a, *y = b;
    if (x->gi_pos != y->gi_pos)
        return x->gi_pos < y->gi_pos ? -1 : 1;
    if (x->ci_slices != y->ci_slices)
        return x->ci_slices < y->ci_slices ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int format_counts(name_count *t, unsigned n, char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
    if (n == 0)
        return snprintf(buf, len, "no MIG devices");
    qsort(t, n, sizeof t[0], cmp_count);
    size_t off = 0;
    for (unsigned i = 0; i < n; i++) {
        int w = snprintf(buf + (off < len ? off : len), off < len ? len - off : 0, "%s%ux%s",
                         i ? " + " : "", t[i].count, t[i].name);
        off += (size_t)(w > 0 ? w : 0);
    }
    return (int)off;
}

static void ci_name(const mig_model *m, const mig_gi_profile *gi, unsigned ci_id, char *buf,
                    size_t len)
{
    mig_ci_profile cp;
    if (mig_ci_profile_by_id(m, gi, ci_id, &cp))
        snprintf(buf, len, "%s", cp.name);
    else
        snprintf(buf, len, "ci%u.%s", ci_id, gi->name);
}

int desired_format_counts(const mig_model *m, const mig_desired_gpu *d, char *buf, size_t len)
{
    name_count t[MIG_MAX_GI * MIG_MAX_CI];
    unsigned n = 0;
    for (unsigned i = 0; m && i < d->n_gi; i++) {
        const mig_gi_profile *p = mig_profile_by_id(m, d->gi[i].profile_id);
        if (!p)
            continue;
        for (unsigned j = 0; j < d->gi[i].n_ci; j++) {
            char name[MIG_NAME_LEN + 8];
            ci_name(m, p, d->gi[i].ci[j].profile_id, name, sizeof name);
            count_add(t, &n, MIG_MAX_GI * MIG_MAX_CI, (unsigned)mig_profile_pos(m, p),
                      d->gi[i].ci[j].slices, name);
        }
    }
    return format_counts(t, n, buf, len);
}

int state_format_counts(const mig_gpu_state *g, char *buf, size_t len)
{
    name_count t[MIG_MAX_GI * MIG_MAX_CI];
    unsigned n = 0;
    for (unsigned i = 0; g->model && i < g->n_gi; i++) {
        const mig_gi_state *gi = &g->gi[i];
        const mig_gi_profile *p = mig_profile_by_id(g->model, gi->profile_id);
        if (!p)
            continue;
        for (unsigned j = 0; j < gi->n_ci; j++) {
            char name[MIG_NAME_LEN + 8];
            ci_state_name(g->model, gi, &gi->ci[j], name, sizeof name);
            count_add(t, &n, MIG_MAX_GI * MIG_MAX_CI, (unsigned)mig_profile_pos(g->model, p),
                      gi->ci[j].slices, name);
        }
    }
    return format_counts(t, n, buf, len);
}

/* ---- the drift sentence ---- */

static void describe_pins(const mig_gpu_state *g, const mig_desired_gpu *d, char *out, size_t len)
{
    size_t off = (size_t)snprintf(out, len, "placements differ: has");
    for (unsigned i = 0; i < g->n_gi && off < len; i++) {
        const mig_gi_profile *p = mig_profile_by_id(g->model, g->gi[i].profile_id);
        off += (size_t)snprintf(out + off, len - off, "%s%s@%u", i ? ", " : " ", p ? p->name : "?",
                                g->gi[i].start);
    }
    if (off < len)
        off += (size_t)snprintf(out + off, len - off, "; wants");
    bool any = false;
    for (unsigned i = 0; i < d->n_gi && off < len; i++) {
        if (d->gi[i].start < 0)
            continue;
        const mig_gi_profile *p = mig_profile_by_id(g->model, d->gi[i].profile_id);
        off += (size_t)snprintf(out + off, len - off, "%s%s@%d", any ? ", " : " ", p ? p->name : "?",
                                d->gi[i].start);
        any = true;
    }
}

static void describe_grouping(const mig_gpu_state *g, const mig_desired_gpu *d, char *out,
                              size_t len)
{
    unsigned want_gi[MIG_MAX_PROFILES] = {0}, have_gi[MIG_MAX_PROFILES] = {0};
    for (unsigned i = 0; i < d->n_gi; i++) {
        int p = mig_profile_pos(g->model, mig_profile_by_id(g->model, d->gi[i].profile_id));
        if (p >= 0)
            want_gi[p]++;
    }
    for (unsigned i = 0; i < g->n_gi; i++) {
        int p = mig_profile_pos(g->model, mig_profile_by_id(g->model, g->gi[i].profile_id));
        if (p >= 0)
            have_gi[p]++;
    }
    size_t off = (size_t)snprintf(out, len, "same devices, grouped into other GPU instances:");
    const char *sep = " has ";
    for (unsigned p = 0; p < g->model->n_profiles && off < len; p++)
        if (have_gi[p] != want_gi[p]) {
            off += (size_t)snprintf(out + off, len - off, "%s%u %s GI%s, wants %u", sep, have_gi[p],
                                    g->model->profiles[p].name, have_gi[p] == 1 ? "" : "s",
                                    want_gi[p]);
            sep = "; has ";
        }
    if (sep[0] == ' ' && off < len)
        snprintf(out + off, len - off, " the compute instances are split differently");
}

bool desired_satisfied(const mig_gpu_state *g, const mig_desired_gpu *d, bool placements,
                       char *drift, size_t drift_len)
{
    if (drift_len)
        drift[0] = '\0';
    if (!d->selected)
        return true;
    if (d->impossible) {
        snprintf(drift, drift_len, "impossible: %s", d->reason);
        return false;
    }
    const char *want = d->mig_enabled ? "on" : "off";
    if (g->mig_current != d->mig_enabled || g->mig_pending != d->mig_enabled) {
        if (g->mig_current != g->mig_pending)
            snprintf(drift, drift_len, "MIG mode is %s (pending %s after reset), wants %s",
                     g->mig_current ? "on" : "off", g->mig_pending ? "on" : "off", want);
        else
            snprintf(drift, drift_len, "MIG mode is %s, wants %s", g->mig_current ? "on" : "off",
                     want);
        return false;
    }
    if (!d->mig_enabled)
        return true;
    if (structure_matches(g, d, placements))
        return true;
    char have[256], wants[256];
    state_format_counts(g, have, sizeof have);
    desired_format_counts(g->model, d, wants, sizeof wants);
    if (strcmp(have, wants) != 0) {
        snprintf(drift, drift_len, "has %s, wants %s", have, wants);
        return false;
    }
    if (placements && structure_matches(g, d, false)) {
        describe_pins(g, d, drift, drift_len);
        return false;
    }
    describe_grouping(g, d, drift, drift_len);
    return false;
}
