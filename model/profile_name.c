/*
 * profile_name.c: the MIG profile-name grammar
 *     [MIG ][<C>c.]<G>g.<M>gb[+me|+me.all|-me|+gfx]
 * as a small hand-written scanner (one cursor, one function per token), so
 * that every error can say what was expected and at which character
 * (0-based offset into the text as given, "MIG " prefix included).
 * Letters compare case-insensitively; the canonical form is lower case.
 *
 * Also: "<profile>@<start>" references, NVIDIA's rule for deriving <M> from
 * NVML memory sizes, and resolving a parsed name against a catalogue model.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "model/profile_name.h"

#define MAX_NUMBER 9999u /* no real profile has more slices or GB than this */
#define SHOWN_LEN 64     /* how much of a bad name an error message repeats */

typedef struct {
    const char *text; /* the whole name as given, for messages */
    size_t pos;       /* cursor: offset into text */
    mig_error *e;
} scanner;

/* The name as an error message shows it: at most SHOWN_LEN characters,
 * non-printable bytes as '?', so a message is always one readable line. */
static void shown(const char *text, char out[SHOWN_LEN + 4])
{
    size_t i = 0;
    for (; text[i] && i < SHOWN_LEN; i++)
        out[i] = isprint((unsigned char)text[i]) ? text[i] : '?';
    if (text[i])
        out[i++] = '.', out[i++] = '.', out[i++] = '.';
    out[i] = '\0';
}

static int fail_at(scanner *s, const char *what)
{
    char name[SHOWN_LEN + 4];
    shown(s->text, name);
    return mig_fail(s->e, MIG_ERR_INPUT, "bad profile name '%s': %s at character %zu", name, what,
                    s->pos);
}

/* Consume `word` (case-insensitive) if it is next. */
static bool accept(scanner *s, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(s->text + s->pos, word, n) != 0)
        return false;
    s->pos += n;
    return true;
}

static int expect(scanner *s, const char *word, const char *what)
{
    return accept(s, word) ? 0 : fail_at(s, what);
}

static int number(scanner *s, unsigned *out)
{
    const char *p = s->text + s->pos;
    if (!isdigit((unsigned char)*p))
        return fail_at(s, "expected a number");
    unsigned v = 0;
    while (isdigit((unsigned char)*p)) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v > MAX_NUMBER)
            return fail_at(s, "number too large");
        p++;
    }
    *out = v;
    s->pos = (size_t)(p - s->text);
    return 0;
}

static int slices(scanner *s, unsigned *out)
{
    size_t at = s->pos;
    if (number(s, out) < 0)
        return -1;
    if (*out == 0) {
        s->pos = at;
        return fail_at(s, "slice count must be at least 1");
    }
    return 0;
}

/* The suffix after "<M>gb", longest first so "+me.all" is not read as "+me". */
static int suffix(scanner *s, mig_attr *attr)
{
    static const struct {
        const char *text;
        mig_attr attr;
    } suffixes[] = {
        {"+me.all", MIG_ATTR_ME_ALL},
        {"+me", MIG_ATTR_ME},
        {"-me", MIG_ATTR_NO_ME},
        {"+gfx", MIG_ATTR_GFX},
    };
    *attr = MIG_ATTR_NONE;
    if (s->text[s->pos] == '\0')
        return 0;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t at = s->pos;
        if (accept(s, suffixes[i].text)) {
            if (s->text[s->pos] == '\0') {
                *attr = suffixes[i].attr;
                return 0;
            }
            s->pos = at;
        }
    }
    return fail_at(s, "expected end of name or one of +me, +me.all, -me, +gfx");
}

int mig_profile_name_parse(const char *text, mig_profile_name *out, mig_error *e)
{
    if (!text || !*text)
        return mig_fail(e, MIG_ERR_INPUT, "bad profile name '': empty");
    scanner s = {.text = text, .pos = 0, .e = e};
    mig_profile_name n = {0};
    accept(&s, "MIG ");
    unsigned first;
    if (slices(&s, &first) < 0)
        return -1;
    if (accept(&s, "c")) {
        n.ci_slices = first;
        if (expect(&s, ".", "expected '.' after the compute-instance part") < 0 ||
            slices(&s, &n.gi_slices) < 0)
            return -1;
    } else {
        n.gi_slices = first;
    }
    if (expect(&s, "g", n.ci_slices ? "expected 'g'" : "expected 'g' or 'c'") < 0 ||
        expect(&s, ".", "expected '.'") < 0 || number(&s, &n.mem_gb) < 0 ||
        expect(&s, "gb", "expected 'gb'") < 0 || suffix(&s, &n.attr) < 0)
        return -1;
    if (n.ci_slices > n.gi_slices) {
        s.pos = 0;
        return fail_at(&s, "compute slices exceed the GPU instance's");
    }
    *out = n;
    return 0;
}

const char *mig_attr_suffix(mig_attr a)
{
    switch (a) {
    case MIG_ATTR_NONE: return "";
    case MIG_ATTR_ME: return "+me";
    case MIG_ATTR_ME_ALL: return "+me.all";
    case MIG_ATTR_NO_ME: return "-me";
    case MIG_ATTR_GFX: return "+gfx";
    }
    return "";
}

int mig_profile_name_format(const mig_profile_name *p, char *buf, size_t len)
{
    if (p->ci_slices)
        return snprintf(buf, len, "%uc.%ug.%ugb%s", p->ci_slices, p->gi_slices, p->mem_gb,
                        mig_attr_suffix(p->attr));
    return snprintf(buf, len, "%ug.%ugb%s", p->gi_slices, p->mem_gb, mig_attr_suffix(p->attr));
}

int mig_profile_ref_parse(const char *text, char *profile, size_t len, int *start, mig_error *e)
{
    if (!text)
        text = "";
    const char *at = strchr(text, '@');
    size_t plen = at ? (size_t)(at - text) : strlen(text);
    char shown_text[SHOWN_LEN + 4];
    shown(text, shown_text);
    if (plen == 0 && at)
        return mig_fail(e, MIG_ERR_INPUT, "bad profile reference '%s': no profile name before '@'",
                        shown_text);
    if (plen >= len)
        return mig_fail(e, MIG_ERR_INPUT, "bad profile reference '%s': name too long", shown_text);
    memcpy(profile, text, plen);
    profile[plen] = '\0';
    mig_profile_name parsed;
    if (mig_profile_name_parse(profile, &parsed, e) < 0)
        return -1;
    *start = -1;
    if (!at)
        return 0;
    const char *p = at + 1;
    unsigned v = 0;
    if (!isdigit((unsigned char)*p))
        return mig_fail(e, MIG_ERR_INPUT,
                        "bad profile reference '%s': expected a start slice after '@' at character %zu",
                        shown_text, (size_t)(p - text));
    for (; isdigit((unsigned char)*p); p++) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v >= MIG_MAX_SLOTS * 10)
            return mig_fail(e, MIG_ERR_INPUT, "bad profile reference '%s': start slice too large",
                            shown_text);
    }
    if (*p)
        return mig_fail(e, MIG_ERR_INPUT,
                        "bad profile reference '%s': unexpected '%c' at character %zu", shown_text,
                        isprint((unsigned char)*p) ? *p : '?', (size_t)(p - text));
    *start = (int)v;
    return 0;
}

/* go-nvlib's rule in integers (no float rounding surprises):
 * eighths = ceil(8 * mib * 2^20 / total), GB = round(eighths / 8 * ceil(total / 2^30)),
 * rounding half away from zero as Go's math.Round does. */
void mig_profile_name_derive(unsigned gi_slices, unsigned long long profile_mib,
                             unsigned long long total_bytes, mig_attr attr, char *buf, size_t len)
{
    const unsigned long long gib = 1ULL << 30;
    unsigned long long gb = 0;
    if (total_bytes > 0 && profile_mib <= (1ULL << 40)) {
        unsigned long long num = profile_mib * 8ULL * (1ULL << 20); /* < 2^63 */
        unsigned long long eighths = num / total_bytes + (num % total_bytes != 0);
        unsigned long long total_gib = total_bytes / gib + (total_bytes % gib != 0);
        gb = (2 * eighths * total_gib + 8) / 16;
    }
    snprintf(buf, len, "%ug.%llugb%s", gi_slices, gb, mig_attr_suffix(attr));
}

/* "a, b, c" of the model's GI profile names. */
static void list_gi_names(const mig_model *m, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < m->n_profiles && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", m->profiles[i].name);
}

static void list_ci_names(const mig_ci_profile *cis, unsigned n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && used < len; i++) {
        /* The double-memory 1g lists its full CI twice (ids 0 and 7): name it once. */
        if (i && strcmp(cis[i].name, cis[i - 1].name) == 0)
            continue;
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", cis[i].name);
    }
}

int mig_profile_resolve(const mig_model *m, const mig_profile_name *n,
                        const mig_gi_profile **gi, mig_ci_profile *ci, mig_error *e)
{
    char full[MIG_NAME_LEN + 16], gi_name[MIG_NAME_LEN + 16], valid[640];
    mig_profile_name gi_part = *n;
    gi_part.ci_slices = 0;
    mig_profile_name_format(n, full, sizeof full);
    mig_profile_name_format(&gi_part, gi_name, sizeof gi_name);
    const mig_gi_profile *p = mig_profile_by_name(m, gi_name);
    if (!p) {
        list_gi_names(m, valid, sizeof valid);
        return mig_fail(e, MIG_ERR_INPUT, "no profile '%s' on %s (valid: %s)", full, m->name, valid);
    }
    mig_ci_profile cis[MIG_MAX_CI_PROFILES];
    unsigned n_ci = mig_ci_profiles(m, p, cis);
    bool found = false;
    if (n->ci_slices == 0 || n->ci_slices == p->compute_slices) {
        found = mig_ci_default(m, p, ci);
    } else {
        for (unsigned i = 0; i < n_ci && !found; i++)
            if (cis[i].compute_slices == n->ci_slices) {
                *ci = cis[i];
                found = true;
            }
    }
    if (!found) {
        list_ci_names(cis, n_ci, valid, sizeof valid);
        return mig_fail(e, MIG_ERR_INPUT,
                        "no compute instance profile '%s' on %s (valid in %s: %s)", full, m->name,
                        p->name, valid);
    }
    *gi = p;
    return 0;
}
