/*
 * advise.c: one decision per (workload, GPU model), with its reason in words.
 * The rules and their order are in advise.h. Everything here reads the
 * catalogue and the layout geometry only: the "best set of slices on one
 * GPU" for throughput comparisons is an exact maximum over the model's
 * maximal layouts built from the profiles that hold the workload.
 */
#include "plan/advise.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "model/layout.h"

static double gib(unsigned long long mib)
{
    return (double)mib / 1024.0;
}

static unsigned long long card_mib(const mig_model *m)
{
    return m->memory_bytes / (1024ULL * 1024ULL);
}

static bool partial(const mig_model *m, const mig_gi_profile *p)
{
    return p->compute_slices < m->compute_slices;
}

unsigned adv_slices_for_share(const mig_model *m, double share)
{
    double s = ceil(share * (double)m->compute_slices - 1e-6);
    return s < 1 ? 1 : (unsigned)s;
}

/* Does a slice of profile p hold the workload's memory and compute? */
static bool holds(const mig_model *m, const mig_gi_profile *p, const wl_workload *w)
{
    if (w->memory_mib && w->memory_mib > p->memory_mib)
        return false;
    if (w->compute > 0 && p->compute_slices < adv_slices_for_share(m, w->compute))
        return false;
    if (w->sms && p->sm_count < w->sms)
        return false;
    return true;
}

static int smallest_holding(const wl_workload *w, const mig_model *m, mig_attr attr,
                            bool need_decoder);

/* Can a slice of profile p serve the workload's media need? The same set
 * rule 6 chooses from: the +me profiles when one holds the workload, else
 * the base profiles with decoders. Without media, every profile. */
static bool media_ok(const mig_model *m, const mig_gi_profile *p, const wl_workload *w)
{
    if (!w->media)
        return true;
    if (smallest_holding(w, m, MIG_ATTR_ME, false) >= 0)
        return p->attr == MIG_ATTR_ME;
    return p->attr == MIG_ATTR_NONE && p->decoders > 0;
}

static unsigned per_gpu_of(const mig_model *m, int pos)
{
    mig_layout empty = {0};
    return layout_remaining(m, &empty, (unsigned)pos);
}

static void set_mig(adv_decision *d, const mig_model *m, int pos)
{
    const mig_gi_profile *p = &m->profiles[pos];
    d->kind = ADV_MIG;
    d->profile = pos;
    d->per_gpu = per_gpu_of(m, pos);
    d->compute_share = (double)p->compute_slices / m->compute_slices;
    d->memory_share = (double)p->memory_slices / m->memory_slices;
}

static void set_whole(adv_decision *d, unsigned gpus)
{
    d->kind = ADV_WHOLE;
    d->profile = -1;
    d->gpus = gpus ? gpus : 1;
    d->per_gpu = 1;
    d->compute_share = d->memory_share = (double)d->gpus;
}

/* ---- the best set of slices on one GPU, by a value per profile ---- */

typedef struct {
    const mig_model *m;
    const double *value; /* per profile position */
    double best;
    mig_layout best_layout;
} best_ctx;

static int visit_best(const mig_layout *l, void *vctx)
{
    best_ctx *c = vctx;
    double s = 0;
    for (unsigned i = 0; i < l->n; i++)
        s += c->value[l->gi[i].profile];
    if (s > c->best + 1e-12) {
        c->best = s;
        c->best_layout = *l;
    }
    return 0;
}

/* "2x 3g.40gb" style summary of a layout's profiles. */
static void describe_counts(const mig_model *m, const mig_layout *l, char *buf, size_t len)
{
    buf[0] = 0;
    size_t used = 0;
    for (unsigned p = 0; p < m->n_profiles && used < len; p++) {
        unsigned c = layout_count(l, p);
        if (c)
            used += (size_t)snprintf(buf + used, len - used, "%s%ux %s", used ? " + " : "", c,
                                     m->profiles[p].name);
    }
}

/* Max over maximal layouts of allowed profiles of the summed value. */
static double best_slices(const mig_model *m, const bool *allowed, const double *value,
                          mig_layout *layout)
{
    best_ctx c = {.m = m, .value = value, .best = 0};
    bool any = false;
    for (unsigned p = 0; p < m->n_profiles; p++)
        any |= allowed[p];
    if (any)
        layout_enumerate_maximal(m, allowed, visit_best, &c);
    *layout = c.best_layout;
    return c.best;
}

static const wl_throughput *figure_for(const wl_workload *w, const char *name)
{
    for (unsigned i = 0; i < w->n_tput; i++)
        if (!strcasecmp(w->tput[i].profile, name))
            return &w->tput[i];
    return NULL;
}

/* Rule 5 from measured figures. True (and d set) when the card wins. */
static bool whole_by_figures(const wl_workload *w, const mig_model *m, adv_decision *d)
{
    const wl_throughput *whole = figure_for(w, "whole");
    for (unsigned p = 0; !whole && p < m->n_profiles; p++)
        if (!partial(m, &m->profiles[p]))
            whole = figure_for(w, m->profiles[p].name);
    if (!whole)
        return false;
    bool allowed[MIG_MAX_PROFILES] = {0};
    double value[MIG_MAX_PROFILES] = {0};
    bool any = false;
    for (unsigned p = 0; p < m->n_profiles; p++) {
        const wl_throughput *t = figure_for(w, m->profiles[p].name);
        if (t && partial(m, &m->profiles[p]) && holds(m, &m->profiles[p], w) &&
            media_ok(m, &m->profiles[p], w)) {
            allowed[p] = any = true;
            value[p] = t->value;
        }
    }
    if (!any)
        return false;
    mig_layout best_l;
    double best = best_slices(m, allowed, value, &best_l);
    if (whole->value <= best)
        return false;
    char what[160];
    describe_counts(m, &best_l, what, sizeof what);
    set_whole(d, 1);
    snprintf(d->reason, sizeof d->reason,
             "throughput per GPU is better on the whole card: %g vs %g from the best slices "
             "on one GPU (%s)", whole->value, best, what);
    return true;
}

/* Rule 5 without figures: a slice's HBM bandwidth follows its memory slices,
 * so a bandwidth-bound workload replicated on one GPU as profile p gets
 * (instances of p per GPU) x (memory slices of p) / (the card's). The card
 * wins when no profile that holds the workload reaches the whole bandwidth;
 * otherwise the smallest profile that does is the decision. */
static bool decide_by_bandwidth(const wl_workload *w, const mig_model *m, adv_decision *d)
{
    if (!w->bandwidth_bound || w->n_tput)
        return false;
    int best = -1;
    unsigned best_v = 0, one_per = 0;
    for (unsigned p = 0; p < m->n_profiles; p++) {
        const mig_gi_profile *pr = &m->profiles[p];
        if ((w->media ? !media_ok(m, pr, w) : pr->attr != MIG_ATTR_NONE) || !partial(m, pr) ||
            !holds(m, pr, w))
            continue;
        unsigned per = per_gpu_of(m, (int)p), v = per * pr->memory_slices;
        const mig_gi_profile *b = best >= 0 ? &m->profiles[best] : NULL;
        if (best < 0 || v > best_v ||
            (v == best_v && (pr->compute_slices < b->compute_slices ||
                             (pr->compute_slices == b->compute_slices &&
                              pr->memory_slices < b->memory_slices)))) {
            best = (int)p;
            best_v = v;
            one_per = per;
        }
    }
    if (best < 0)
        return false;
    const mig_gi_profile *b = &m->profiles[best];
    if (best_v < m->memory_slices) {
        set_whole(d, 1);
        snprintf(d->reason, sizeof d->reason,
                 "bandwidth-bound: the best slices that hold it (%ux %s) get %u/%u of the card's "
                 "HBM bandwidth per GPU; the whole card gets %u/%u", one_per, b->name, best_v,
                 m->memory_slices, m->memory_slices, m->memory_slices);
        return true;
    }
    set_mig(d, m, best);
    snprintf(d->reason, sizeof d->reason,
             "bandwidth-bound: %ux %s per GPU get all %u/%u of the HBM bandwidth (a slice gets "
             "bandwidth by its memory slices); smallest such slice (%.1f GiB)", one_per, b->name,
             best_v, m->memory_slices, gib(b->memory_mib));
    return true;
}

/* Rule 6: the smallest profile among those with attribute `attr`. */
static int smallest_holding(const wl_workload *w, const mig_model *m, mig_attr attr,
                            bool need_decoder)
{
    int best = -1;
    for (unsigned p = 0; p < m->n_profiles; p++) {
        const mig_gi_profile *pr = &m->profiles[p];
        if (pr->attr != attr || !partial(m, pr) || !holds(m, pr, w))
            continue;
        if (need_decoder && !pr->decoders)
            continue;
        if (best < 0)
            best = (int)p;
        else {
            const mig_gi_profile *b = &m->profiles[best];
            if (pr->compute_slices < b->compute_slices ||
                (pr->compute_slices == b->compute_slices && pr->memory_slices < b->memory_slices))
                best = (int)p;
        }
    }
    return best;
}

static void needs_text(const wl_workload *w, const mig_model *m, char *buf, size_t len)
{
    size_t u = 0;
    buf[0] = 0;
    if (w->memory_mib)
        u += (size_t)snprintf(buf + u, len - u, "%.1f GiB", gib(w->memory_mib));
    if (w->compute > 0 && u < len)
        u += (size_t)snprintf(buf + u, len - u, "%s%u of %u compute slices", u ? " and " : "",
                              adv_slices_for_share(m, w->compute), m->compute_slices);
    if (w->sms && u < len)
        snprintf(buf + u, len - u, "%s%u SMs", u ? " and " : "", w->sms);
    if (!buf[0])
        snprintf(buf, len, "no stated memory or compute");
}

/* Rule 7: an MPS share instead of the MIG profile in d, when it saves GPUs. */
static void maybe_mps(const wl_workload *w, const mig_model *m, adv_decision *d)
{
    if (w->isolation == WL_ISO_REQUIRED || !w->memory_mib || !(w->compute > 0 || w->sms))
        return;
    double c = w->compute > 0 ? w->compute : (double)w->sms / m->sm_count;
    double mem = (double)w->memory_mib / (double)card_mib(m);
    if (c > 0.5 || mem > 0.5)
        return;
    unsigned by_c = (unsigned)floor(1.0 / c + 1e-9), by_m = (unsigned)floor(1.0 / mem + 1e-9);
    unsigned per = by_c < by_m ? by_c : by_m;
    if (per > ADV_MPS_MAX_CLIENTS)
        per = ADV_MPS_MAX_CLIENTS;
    unsigned r = w->replicas ? w->replicas : 1;
    unsigned g_mig = (r + d->per_gpu - 1) / d->per_gpu, g_mps = (r + per - 1) / per;
    bool saves = w->isolation == WL_ISO_NONE ? g_mps < g_mig : 4 * g_mps <= 3 * g_mig;
    if (!saves)
        return;
    char mig[MIG_NAME_LEN];
    snprintf(mig, sizeof mig, "%s", m->profiles[d->profile].name);
    unsigned mig_per = d->per_gpu;
    d->kind = ADV_MPS;
    d->profile = -1;
    d->per_gpu = per;
    d->compute_share = c;
    d->memory_share = mem;
    snprintf(d->reason, sizeof d->reason,
             "isolation %s and small: an MPS share (%.0f%% compute, %.1f GiB) fits %u per GPU "
             "vs %u per GPU as %s, so %u replica%s need %u GPU%s instead of %u",
             wl_isolation_name(w->isolation), c * 100, gib(w->memory_mib), per, mig_per, mig, r,
             r == 1 ? "" : "s", g_mps, g_mps == 1 ? "" : "s", g_mig);
}

static void decide_pinned(const wl_workload *w, const mig_model *m, adv_decision *d)
{
    const mig_gi_profile *p = mig_profile_by_name(m, w->profile);
    if (!p) {
        snprintf(d->reason, sizeof d->reason, "pinned profile %s does not exist on %s",
                 w->profile, m->name);
        return;
    }
    if (w->memory_mib && w->memory_mib > p->memory_mib) {
        snprintf(d->reason, sizeof d->reason, "pinned profile %s holds %.1f GiB, less than the "
                 "%.1f GiB it needs", p->name, gib(p->memory_mib), gib(w->memory_mib));
        return;
    }
    set_mig(d, m, mig_profile_pos(m, p));
    snprintf(d->reason, sizeof d->reason, "pinned to %s by the workload file (%u per GPU)",
             p->name, d->per_gpu);
}

static void decide_profile(const wl_workload *w, const mig_model *m, adv_decision *d)
{
    char needs[160];
    needs_text(w, m, needs, sizeof needs);
    int pos = -1;
    const char *media_note = "";
    if (w->media) {
        pos = smallest_holding(w, m, MIG_ATTR_ME, false);
        if (pos < 0) {
            pos = smallest_holding(w, m, MIG_ATTR_NONE, true);
            media_note = " (no +me profile holds it; this slice has its own decoders)";
        }
    } else {
        pos = smallest_holding(w, m, MIG_ATTR_NONE, false);
    }
    if (pos < 0) {
        const mig_gi_profile *big = NULL;
        for (unsigned p = 0; p < m->n_profiles; p++)
            if (partial(m, &m->profiles[p]) &&
                (!big || m->profiles[p].memory_mib > big->memory_mib ||
                 (m->profiles[p].memory_mib == big->memory_mib &&
                  m->profiles[p].compute_slices > big->compute_slices)))
                big = &m->profiles[p];
        set_whole(d, 1);
        if (big)
            snprintf(d->reason, sizeof d->reason, "needs %s: more than the largest partial "
                     "slice (%s, %.1f GiB, %u of %u compute slices), so a whole GPU", needs,
                     big->name, gib(big->memory_mib), big->compute_slices, m->compute_slices);
        else
            snprintf(d->reason, sizeof d->reason, "needs %s; %s has no partial slice, so a "
                     "whole GPU", needs, m->name);
        return;
    }
    set_mig(d, m, pos);
    const mig_gi_profile *p = &m->profiles[pos];
    snprintf(d->reason, sizeof d->reason, "smallest %sslice that holds %s: %s (%.1f GiB, %u of "
             "%u compute slices, %u per GPU)%s", w->media ? "media " : "", needs, p->name,
             gib(p->memory_mib), p->compute_slices, m->compute_slices, d->per_gpu, media_note);
    maybe_mps(w, m, d);
}

void advise_one(const wl_workload *w, const mig_model *m, adv_decision *d)
{
    memset(d, 0, sizeof *d);
    d->model = m;
    d->kind = ADV_UNPLACED;
    d->profile = -1;
    if (w->memory_mib > card_mib(m)) {
        snprintf(d->reason, sizeof d->reason, "needs %.1f GiB, more than the %.1f GiB of a "
                 "whole %s", gib(w->memory_mib), gib(card_mib(m)), m->name);
        return;
    }
    if (w->sms > m->sm_count) {
        snprintf(d->reason, sizeof d->reason, "needs %u SMs, more than the %u SMs of a whole %s",
                 w->sms, m->sm_count, m->name);
        return;
    }
    if (w->p2p) {
        set_whole(d, w->gpus);
        snprintf(d->reason, sizeof d->reason, "needs NVLink/PCIe peer-to-peer, which MIG "
                 "instances do not have: %u whole GPU%s with MIG off%s", d->gpus,
                 d->gpus > 1 ? "s on one node" : "", w->profile[0] ? " (pinned profile ignored)" : "");
        return;
    }
    if (w->gpus > 1) {
        set_whole(d, w->gpus);
        snprintf(d->reason, sizeof d->reason, "spans %u GPUs: whole GPUs on one node, MIG off",
                 w->gpus);
        return;
    }
    if (w->profile[0]) {
        decide_pinned(w, m, d);
        return;
    }
    if (whole_by_figures(w, m, d) || decide_by_bandwidth(w, m, d))
        return;
    decide_profile(w, m, d);
}

void advise_all(const wl_file *wf, const mig_model *const *models, unsigned n_models,
                adv_decision *out)
{
    for (unsigned i = 0; i < wf->n; i++)
        for (unsigned k = 0; k < n_models; k++)
            advise_one(&wf->items[i], models[k], &out[i * n_models + k]);
}

const char *adv_kind_name(adv_kind k)
{
    switch (k) {
    case ADV_MIG:
        return "mig";
    case ADV_MPS:
        return "mps";
    case ADV_WHOLE:
        return "whole-gpu";
    default:
        return "unplaced";
    }
}

const char *adv_profile_name(const adv_decision *d)
{
    switch (d->kind) {
    case ADV_MIG:
        return d->model->profiles[d->profile].name;
    case ADV_MPS:
        return "mps";
    case ADV_WHOLE:
        return "whole";
    default:
        return "-";
    }
}
