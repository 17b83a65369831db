/*
 * layout.c: MIG layout geometry (see layout.h for the rules).
 *
 * A layout is tested incrementally: every question ("can this GI be added
 * now?") is answered from a small summary of the layout (slice mask,
 * per-profile counts, GI count, engine flags) so that the same check serves
 * the simulator, layout_check and the enumerator. The enumerator walks the
 * model's placements in one fixed order with an include/exclude DFS over that
 * summary, on the stack, and reports a leaf only when nothing more fits:
 * each maximal set is therefore produced exactly once, in a deterministic
 * order, without allocating.
 */
#include "model/layout.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/nvml_rc.h"

/* ---- the summary every fit check works from ---- */

typedef struct {
    unsigned mask;                       /* memory slices taken */
    unsigned n;                          /* GIs */
    unsigned count[MIG_MAX_PROFILES];    /* GIs per profile position */
    unsigned me_all;                     /* GIs with +me.all */
    unsigned not_no_me;                  /* GIs that are not -me */
} layout_sum;

static unsigned span_mask(unsigned start, unsigned size)
{
    return ((1u << size) - 1u) << start;
}

static void sum_add(layout_sum *s, const mig_gi_profile *p, unsigned pos, unsigned start)
{
    s->mask |= span_mask(start, p->memory_slices);
    s->n++;
    s->count[pos]++;
    s->me_all += p->attr == MIG_ATTR_ME_ALL;
    s->not_no_me += p->attr != MIG_ATTR_NO_ME;
}

static void sum_remove(layout_sum *s, const mig_gi_profile *p, unsigned pos, unsigned start)
{
    s->mask &= ~span_mask(start, p->memory_slices);
    s->n--;
    s->count[pos]--;
    s->me_all -= p->attr == MIG_ATTR_ME_ALL;
    s->not_no_me -= p->attr != MIG_ATTR_NO_ME;
}

static void sum_of(const mig_model *m, const mig_layout *l, layout_sum *s)
{
    memset(s, 0, sizeof *s);
    for (unsigned i = 0; i < l->n; i++)
        if (l->gi[i].profile < m->n_profiles)
            sum_add(s, &m->profiles[l->gi[i].profile], l->gi[i].profile, l->gi[i].start);
}

/* The engine rule of nvml.h: an _ALL_ME instance "prevents allocation of all
 * but _NO_ME profiles", and so cannot itself join anything but -me GIs. */
static bool engines_allow(const layout_sum *s, const mig_gi_profile *p)
{
    if (s->me_all && p->attr != MIG_ATTR_NO_ME)
        return false;
    if (p->attr == MIG_ATTR_ME_ALL && s->not_no_me)
        return false;
    return true;
}

/* Everything but the placement list and the slices: the profile-wide reasons. */
static mig_fit profile_blocked(const mig_model *m, const layout_sum *s, unsigned pos)
{
    const mig_gi_profile *p = &m->profiles[pos];
    if (s->count[pos] >= p->instance_count)
        return MIG_FIT_CAP;
    if (!engines_allow(s, p))
        return MIG_FIT_ENGINES;
    if (s->n >= m->max_gis || s->n >= MIG_MAX_GI)
        return MIG_FIT_FULL;
    return MIG_FIT_OK;
}

static mig_fit sum_fits(const mig_model *m, const layout_sum *s, unsigned pos, unsigned start)
{
    if (pos >= m->n_profiles || !layout_start_valid(&m->profiles[pos], start))
        return MIG_FIT_BAD_PLACEMENT;
    mig_fit f = profile_blocked(m, s, pos);
    if (f != MIG_FIT_OK)
        return f;
    if (s->mask & span_mask(start, m->profiles[pos].memory_slices))
        return MIG_FIT_OVERLAP;
    return MIG_FIT_OK;
}

/* ---- fit reasons ---- */

int mig_fit_nvml_rc(mig_fit f)
{
    switch (f) {
    case MIG_FIT_OK:
        return NVML_SUCCESS;
    case MIG_FIT_BAD_PLACEMENT:
        return NVML_ERROR_INVALID_ARGUMENT;
    default:
        return NVML_ERROR_INSUFFICIENT_RESOURCES;
    }
}

const char *mig_fit_text(mig_fit f)
{
    switch (f) {
    case MIG_FIT_OK:
        return "fits";
    case MIG_FIT_BAD_PLACEMENT:
        return "placement not allowed for this profile";
    case MIG_FIT_OVERLAP:
        return "overlaps the memory slices of another GPU instance";
    case MIG_FIT_CAP:
        return "instance count of the profile reached";
    case MIG_FIT_ENGINES:
        return "media engines taken: +me.all allows only -me instances beside it";
    case MIG_FIT_FULL:
        return "no GPU instance slot left";
    case MIG_FIT_NO_ROOM:
        return "no free placement left for this profile";
    }
    return "unknown";
}

/* ---- GPU instances ---- */

unsigned layout_mask(const mig_model *m, const mig_layout *l)
{
    layout_sum s;
    sum_of(m, l, &s);
    return s.mask;
}

unsigned layout_compute_used(const mig_model *m, const mig_layout *l)
{
    unsigned c = 0;
    for (unsigned i = 0; i < l->n; i++)
        if (l->gi[i].profile < m->n_profiles)
            c += m->profiles[l->gi[i].profile].compute_slices;
    return c;
}

unsigned layout_memory_used(const mig_model *m, const mig_layout *l)
{
    return (unsigned)__builtin_popcount(layout_mask(m, l));
}

unsigned layout_count(const mig_layout *l, unsigned profile)
{
    unsigned c = 0;
    for (unsigned i = 0; i < l->n; i++)
        c += l->gi[i].profile == profile;
    return c;
}

bool layout_start_valid(const mig_gi_profile *p, unsigned start)
{
    for (unsigned i = 0; i < p->n_starts && i < MIG_MAX_STARTS; i++)
        if (p->starts[i] == start)
            return true;
    return false;
}

mig_fit layout_fits(const mig_model *m, const mig_layout *l, unsigned profile, unsigned start)
{
    layout_sum s;
    sum_of(m, l, &s);
    return sum_fits(m, &s, profile, start);
}

unsigned layout_remaining(const mig_model *m, const mig_layout *l, unsigned profile)
{
    if (profile >= m->n_profiles)
        return 0;
    layout_sum s;
    sum_of(m, l, &s);
    if (profile_blocked(m, &s, profile) != MIG_FIT_OK)
        return 0;
    const mig_gi_profile *p = &m->profiles[profile];
    unsigned free_places = 0;
    for (unsigned i = 0; i < p->n_starts; i++)
        free_places += !(s.mask & span_mask(p->starts[i], p->memory_slices));
    unsigned by_count = p->instance_count - s.count[profile];
    unsigned by_slots = m->max_gis - s.n;
    unsigned r = free_places < by_count ? free_places : by_count;
    return r < by_slots ? r : by_slots;
}

/* The driver's order of preference for auto placement on 8-slice GPUs
 * (reference/mig-profiles.md section 4.5): it keeps 0:4 free for a 4g as
 * long as it can. NULL: lowest start first. */
static const unsigned char *auto_order(const mig_model *m, const mig_gi_profile *p, unsigned *n)
{
    static const unsigned char one[] = {6, 4, 5, 0, 1, 2, 3};
    static const unsigned char two[] = {4, 0, 2};
    static const unsigned char one_double[] = {4, 0, 2, 6};
    static const unsigned char half[] = {4, 0};
    if (m->memory_slices != 8)
        return NULL;
    if (p->memory_slices == 1) {
        *n = sizeof one;
        return one;
    }
    if (p->memory_slices == 2) {
        *n = p->compute_slices == 1 ? sizeof one_double : sizeof two;
        return p->compute_slices == 1 ? one_double : two;
    }
    if (p->memory_slices == 4 && p->compute_slices == 3) {
        *n = sizeof half;
        return half;
    }
    return NULL; /* 4g and 7g have one start each */
}

int layout_auto_start(const mig_model *m, const mig_layout *l, unsigned profile)
{
    if (profile >= m->n_profiles)
        return -1;
    const mig_gi_profile *p = &m->profiles[profile];
    layout_sum s;
    sum_of(m, l, &s);
    unsigned n = 0;
    const unsigned char *order = auto_order(m, p, &n);
    for (unsigned i = 0; order && i < n; i++)
        if (sum_fits(m, &s, profile, order[i]) == MIG_FIT_OK)
            return order[i];
    /* Lowest first; also catches a start the preference list does not name. */
    for (unsigned i = 0; i < p->n_starts; i++)
        if (sum_fits(m, &s, profile, p->starts[i]) == MIG_FIT_OK)
            return p->starts[i];
    return -1;
}

mig_fit layout_check(const mig_model *m, const mig_layout *l, unsigned *bad)
{
    layout_sum s;
    memset(&s, 0, sizeof s);
    for (unsigned i = 0; i < l->n; i++) {
        mig_fit f = sum_fits(m, &s, l->gi[i].profile, l->gi[i].start);
        if (f != MIG_FIT_OK) {
            if (bad)
                *bad = i;
            return f;
        }
        sum_add(&s, &m->profiles[l->gi[i].profile], l->gi[i].profile, l->gi[i].start);
    }
    return MIG_FIT_OK;
}

void layout_add(mig_layout *l, unsigned profile, unsigned start)
{
    if (l->n >= MIG_MAX_GI)
        return;
    l->gi[l->n].profile = (unsigned char)profile;
    l->gi[l->n].start = (unsigned char)start;
    l->n++;
}

void layout_remove(mig_layout *l, unsigned i)
{
    if (i >= l->n)
        return;
    memmove(&l->gi[i], &l->gi[i + 1], (l->n - i - 1) * sizeof l->gi[0]);
    l->n--;
}

static bool place_before(mig_gi_place a, mig_gi_place b)
{
    return a.start != b.start ? a.start < b.start : a.profile < b.profile;
}

void layout_sort(mig_layout *l)
{
    for (unsigned i = 1; i < l->n; i++) {
        mig_gi_place x = l->gi[i];
        unsigned j = i;
        for (; j > 0 && place_before(x, l->gi[j - 1]); j--)
            l->gi[j] = l->gi[j - 1];
        l->gi[j] = x;
    }
}

bool layout_equal(const mig_layout *a, const mig_layout *b)
{
    if (a->n != b->n)
        return false;
    mig_layout x = *a, y = *b;
    layout_sort(&x);
    layout_sort(&y);
    for (unsigned i = 0; i < x.n; i++)
        if (x.gi[i].profile != y.gi[i].profile || x.gi[i].start != y.gi[i].start)
            return false;
    return true;
}

void layout_base_profiles(const mig_model *m, bool allowed[MIG_MAX_PROFILES])
{
    for (unsigned i = 0; i < MIG_MAX_PROFILES; i++)
        allowed[i] = i < m->n_profiles && m->profiles[i].attr == MIG_ATTR_NONE;
}

static bool sum_maximal(const mig_model *m, const layout_sum *s, const bool *allowed)
{
    for (unsigned pos = 0; pos < m->n_profiles; pos++) {
        if (!allowed[pos])
            continue;
        const mig_gi_profile *p = &m->profiles[pos];
        for (unsigned i = 0; i < p->n_starts; i++)
            if (sum_fits(m, s, pos, p->starts[i]) == MIG_FIT_OK)
                return false;
    }
    return true;
}

bool layout_maximal(const mig_model *m, const mig_layout *l, const bool *allowed)
{
    bool base[MIG_MAX_PROFILES];
    if (!allowed) {
        layout_base_profiles(m, base);
        allowed = base;
    }
    layout_sum s;
    sum_of(m, l, &s);
    return sum_maximal(m, &s, allowed);
}

/* ---- enumeration of maximal layouts ---- */

typedef struct {
    const mig_model *m;
    const bool *allowed;
    unsigned n_places;
    mig_gi_place places[MIG_MAX_PROFILES * MIG_MAX_STARTS];
    layout_sum sum;
    mig_layout cur;
    layout_visit_fn visit;
    void *ctx;
} enum_walk;

/* Walk order: by start, then larger GIs first (memory, then compute), then
 * profile position. So the walk (include before exclude) begins with the
 * whole-GPU layout, and every layout it reports is in canonical order. */
static bool walk_before(const mig_model *m, mig_gi_place a, mig_gi_place b)
{
    const mig_gi_profile *pa = &m->profiles[a.profile], *pb = &m->profiles[b.profile];
    if (a.start != b.start)
        return a.start < b.start;
    if (pa->memory_slices != pb->memory_slices)
        return pa->memory_slices > pb->memory_slices;
    if (pa->compute_slices != pb->compute_slices)
        return pa->compute_slices > pb->compute_slices;
    return a.profile < b.profile;
}

static void collect_places(enum_walk *w)
{
    const mig_model *m = w->m;
    w->n_places = 0;
    for (unsigned pos = 0; pos < m->n_profiles; pos++) {
        const mig_gi_profile *p = &m->profiles[pos];
        for (unsigned i = 0; w->allowed[pos] && i < p->n_starts && i < MIG_MAX_STARTS; i++) {
            mig_gi_place x = {(unsigned char)pos, p->starts[i]};
            unsigned j = w->n_places++;
            for (; j > 0 && walk_before(m, x, w->places[j - 1]); j--)
                w->places[j] = w->places[j - 1];
            w->places[j] = x;
        }
    }
}

/* sum_fits for a placement known to be in its profile's list. */
static bool place_fits(const enum_walk *w, mig_gi_place pl)
{
    const mig_gi_profile *p = &w->m->profiles[pl.profile];
    return !(w->sum.mask & span_mask(pl.start, p->memory_slices)) &&
           profile_blocked(w->m, &w->sum, pl.profile) == MIG_FIT_OK;
}

/* Maximal = none of the allowed placements fits (they are all in places[]). */
static bool walk_maximal(const enum_walk *w)
{
    for (unsigned k = 0; k < w->n_places; k++)
        if (place_fits(w, w->places[k]))
            return false;
    return true;
}

static int walk(enum_walk *w, unsigned i)
{
    if (i == w->n_places)
        return walk_maximal(w) ? w->visit(&w->cur, w->ctx) : 0;
    mig_gi_place pl = w->places[i];
    const mig_gi_profile *p = &w->m->profiles[pl.profile];
    if (place_fits(w, pl)) {
        sum_add(&w->sum, p, pl.profile, pl.start);
        w->cur.gi[w->cur.n++] = pl;
        int rc = walk(w, i + 1);
        w->cur.n--;
        sum_remove(&w->sum, p, pl.profile, pl.start);
        if (rc)
            return rc;
    }
    return walk(w, i + 1);
}

int layout_enumerate_maximal(const mig_model *m, const bool *allowed,
                             layout_visit_fn visit, void *ctx)
{
    bool base[MIG_MAX_PROFILES];
    if (!allowed) {
        layout_base_profiles(m, base);
        allowed = base;
    }
    enum_walk w;
    memset(&w, 0, sizeof w);
    w.m = m;
    w.allowed = allowed;
    w.visit = visit;
    w.ctx = ctx;
    collect_places(&w);
    return walk(&w, 0);
}

/* ---- text form ---- */

int layout_format(const mig_model *m, const mig_layout *l, char *buf, size_t len)
{
    size_t total = 0;
    if (len)
        buf[0] = '\0';
    for (unsigned i = 0; i < l->n; i++) {
        const char *name = l->gi[i].profile < m->n_profiles ? m->profiles[l->gi[i].profile].name : "?";
        int k = snprintf(total < len ? buf + total : NULL, total < len ? len - total : 0, "%s%s@%u",
                         i ? "," : "", name, l->gi[i].start);
        if (k < 0)
            return -1;
        total += (size_t)k;
    }
    return (int)total;
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Profile position whose name equals text[0..len) ignoring case, or -1. */
static int profile_named(const mig_model *m, const char *text, size_t len)
{
    for (unsigned pos = 0; pos < m->n_profiles; pos++)
        if (strlen(m->profiles[pos].name) == len && strncasecmp(m->profiles[pos].name, text, len) == 0)
            return (int)pos;
    return -1;
}

/* Why auto placement found nothing: a profile-wide reason, else no room. */
static mig_fit auto_fail_reason(const mig_model *m, const mig_layout *l, unsigned pos)
{
    const mig_gi_profile *p = &m->profiles[pos];
    for (unsigned i = 0; i < p->n_starts; i++) {
        mig_fit f = layout_fits(m, l, pos, p->starts[i]);
        if (f != MIG_FIT_OVERLAP)
            return f;
    }
    return MIG_FIT_NO_ROOM;
}

/* One "<profile>[@<start>]" item at text[*at]; advances *at past it. */
static int parse_item(const mig_model *m, const char *text, size_t *at, mig_layout *l, mig_error *e)
{
    const char *begin = skip_spaces(text + *at);
    size_t col = (size_t)(begin - text) + 1;
    size_t name_len = strcspn(begin, "@, \t");
    if (name_len == 0)
        return mig_fail(e, MIG_ERR_INPUT, "column %zu: expected a profile name", col);
    int pos = profile_named(m, begin, name_len);
    if (pos < 0)
        return mig_fail(e, MIG_ERR_INPUT, "column %zu: %s has no profile '%.*s'", col, m->name,
                        (int)name_len, begin);
    const char *p = begin + name_len;
    int start = -1;
    if (*p == '@') {
        p++;
        if (*p < '0' || *p > '9')
            return mig_fail(e, MIG_ERR_INPUT, "column %zu: expected a start slice after '@'",
                            (size_t)(p - text) + 1);
        unsigned v = 0;
        for (; *p >= '0' && *p <= '9'; p++)
            if (v < 1000) /* larger is just as invalid, and must not wrap */
                v = v * 10 + (unsigned)(*p - '0');
        start = (int)v;
    }
    p = skip_spaces(p);
    if (*p && *p != ',')
        return mig_fail(e, MIG_ERR_INPUT, "column %zu: unexpected '%c'", (size_t)(p - text) + 1, *p);
    if (l->n >= MIG_MAX_GI)
        return mig_fail(e, MIG_ERR_INPUT, "column %zu: more than %d GPU instances", col, MIG_MAX_GI);
    if (start < 0 && (start = layout_auto_start(m, l, (unsigned)pos)) < 0)
        return mig_fail(e, MIG_ERR_INPUT, "column %zu: %s: %s", col, m->profiles[pos].name,
                        mig_fit_text(auto_fail_reason(m, l, (unsigned)pos)));
    mig_fit f = layout_fits(m, l, (unsigned)pos, (unsigned)start);
    if (f != MIG_FIT_OK)
        return mig_fail(e, MIG_ERR_INPUT, "column %zu: %s@%d: %s", col, m->profiles[pos].name, start,
                        mig_fit_text(f));
    layout_add(l, (unsigned)pos, (unsigned)start);
    *at = (size_t)(p - text);
    return 0;
}

int layout_parse(const mig_model *m, const char *text, mig_layout *l, mig_error *e)
{
    memset(l, 0, sizeof *l);
    size_t at = 0;
    if (*skip_spaces(text) == '\0')
        return 0;
    for (;;) {
        if (parse_item(m, text, &at, l, e) < 0)
            return -1;
        if (text[at] == '\0')
            return 0;
        at++; /* the comma */
    }
}

/* ---- GI ids ---- */

unsigned gi_canonical_id(const mig_model *m, const mig_gi_profile *p, unsigned start)
{
    unsigned per_gpu = m->memory_slices / p->memory_slices;
    return (per_gpu - 1) + start / p->memory_slices;
}

void gi_id_range(const mig_model *m, const mig_gi_profile *p, unsigned *lo, unsigned *hi)
{
    unsigned per_gpu = m->memory_slices / p->memory_slices;
    *lo = per_gpu - 1;
    *hi = 2 * per_gpu - 2;
}

/* ---- compute instances ---- */

static bool ci_start_valid(const mig_ci_profile *c, unsigned start)
{
    for (unsigned i = 0; i < c->n_starts && i < MIG_MAX_STARTS; i++)
        if (c->starts[i] == start)
            return true;
    return false;
}

mig_fit ci_fits(const mig_ci_profile *c, unsigned used, unsigned start)
{
    if (!ci_start_valid(c, start))
        return MIG_FIT_BAD_PLACEMENT;
    if (used & span_mask(start, c->compute_slices))
        return MIG_FIT_OVERLAP;
    return MIG_FIT_OK;
}

unsigned ci_remaining(const mig_ci_profile *c, unsigned used)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->n_starts && i < MIG_MAX_STARTS; i++)
        n += !(used & span_mask(c->starts[i], c->compute_slices));
    return n;
}

int ci_auto_start(const mig_model *m, const mig_gi_profile *gi, const mig_ci_profile *c,
                  unsigned used)
{
    mig_ci_profile all[MIG_MAX_CI_PROFILES];
    unsigned n_all = mig_ci_profiles(m, gi, all);
    int best = -1;
    unsigned best_left = 0;
    for (unsigned i = 0; i < c->n_starts && i < MIG_MAX_STARTS; i++) {
        unsigned start = c->starts[i];
        if (ci_fits(c, used, start) != MIG_FIT_OK)
            continue;
        unsigned after = used | span_mask(start, c->compute_slices), left = 0;
        for (unsigned k = 0; k < n_all; k++)
            left += ci_remaining(&all[k], after);
        if (best < 0 || left > best_left || (left == best_left && (int)start < best)) {
            best = (int)start;
            best_left = left;
        }
    }
    return best;
}
