/*
 * gres.c: a node's GPUs as Slurm gres records, their text in gres.conf and
 * slurm.conf, and their device files. The layout rules (fixed slots per GPU,
 * spares, single-file records on MPS nodes) are explained in gres.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include "integrate/slurm/gres.h"
#include "util/fileio.h"

#define NVIDIA_MAJOR 195

/* ------------------------------------------------------------ minors */

void sg_minors_default(sg_minors *m)
{
    for (unsigned g = 0; g < SG_MAX_MINOR_GPUS; g++)
        for (unsigned i = 0; i < SG_MAX_MINOR_GIS; i++) {
            m->gi[g][i] = (int)(3 + g * 135 + i * 9);
            for (unsigned c = 0; c < 8; c++)
                m->ci[g][i][c] = (int)(3 + g * 135 + i * 9 + 1 + c);
        }
    m->spare_base = 3 + SG_MAX_MINOR_GPUS * 135;
}

int sg_minors_read(const char *path, sg_minors *m, mig_error *e)
{
    char *text;
    size_t len;
    if (fileio_read(path, "mig-minors file", 1 << 20, &text, &len, e) < 0)
        return -1;
    memset(m, 0xff, sizeof *m); /* every minor -1 */
    unsigned max = 0, lineno = 0;
    for (char *save = NULL, *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char name[128];
        unsigned minor, g, i, c;
        if (sscanf(ln, "%127s %u", name, &minor) != 2) {
            free(text);
            return mig_fail_at(e, path, lineno, 1, "expected '<name> <minor>'");
        }
        if (minor > max)
            max = minor;
        int used = 0;
        if (sscanf(name, "gpu%u/gi%u/ci%u/access%n", &g, &i, &c, &used) == 3 && !name[used]) {
            if (g < SG_MAX_MINOR_GPUS && i < SG_MAX_MINOR_GIS && c < 8)
                m->ci[g][i][c] = (int)minor;
        } else if (used = 0, sscanf(name, "gpu%u/gi%u/access%n", &g, &i, &used) == 2 && !name[used]) {
            if (g < SG_MAX_MINOR_GPUS && i < SG_MAX_MINOR_GIS)
                m->gi[g][i] = (int)minor;
        }
    }
    free(text);
    m->spare_base = max + 1;
    return 0;
}

/* ------------------------------------------------------------ building */

unsigned sg_slots(const mig_gpu_state *g)
{
    if (g->mig_capable && g->model && g->model->compute_slices)
        return g->model->compute_slices;
    return 1;
}

static void add_file(sg_entry *en, const char *dir, const char *name, unsigned major,
                     unsigned minor)
{
    if (en->n_files >= SG_MAX_FILES)
        return;
    snprintf(en->files[en->n_files], SG_PATH_LEN, "%s/%s", dir, name);
    en->major[en->n_files] = major;
    en->minor[en->n_files] = minor;
    en->n_files++;
}

static void gpu_file(sg_entry *en, const sg_params *p, unsigned gpu)
{
    char name[32];
    snprintf(name, sizeof name, "nvidia%u", gpu);
    add_file(en, p->dev_dir, name, NVIDIA_MAJOR, gpu);
}

static void cap_file(sg_entry *en, const sg_params *p, unsigned minor)
{
    char name[48];
    snprintf(name, sizeof name, "nvidia-caps/nvidia-cap%u", minor);
    add_file(en, p->dev_dir, name, p->caps_major, minor);
}

static void model_type(const mig_gpu_state *g, char *buf, size_t len)
{
    const char *src = g->model ? g->model->name : g->name;
    size_t j = 0;
    /* A gres type is one word: anything else in a GPU's name becomes '-'. */
    for (size_t i = 0; src[i] && j + 1 < len; i++)
        buf[j++] = (isalnum((unsigned char)src[i]) || strchr(".-_", src[i])) ? src[i] : '-';
    buf[j] = 0;
}

/* A candidate device of one GPU before slots are assigned. */
typedef struct {
    sg_entry en;
} cand;

static int build_gpu(const mig_gpu_state *g, unsigned slots, bool mps, const sg_params *p,
                     bool single_file, sg_node *out, mig_error *e)
{
    cand c[64];
    unsigned nc = 0;
    const sg_minors *mn = p->minors;
    if (g->mig_current) {
        for (unsigned i = 0; i < g->n_gi; i++)
            for (unsigned k = 0; k < g->gi[i].n_ci; k++) {
                if (nc >= 64)
                    return mig_fail(e, MIG_ERR_INPUT, "GPU %u: too many MIG devices", g->index);
                const mig_gi_state *gi = &g->gi[i];
                const mig_ci_state *ci = &gi->ci[k];
                sg_entry *en = &c[nc].en;
                memset(&c[nc], 0, sizeof c[nc]);
                en->kind = SG_MIG;
                en->gpu = g->index;
                en->gi = (int)gi->id;
                en->ci = (int)ci->id;
                ci_state_name(g->model, gi, ci, en->type, sizeof en->type);
                snprintf(en->uuid, sizeof en->uuid, "%s", ci->uuid);
                if (g->index >= SG_MAX_MINOR_GPUS || gi->id >= SG_MAX_MINOR_GIS || ci->id >= 8 ||
                    mn->gi[g->index][gi->id] < 0 || mn->ci[g->index][gi->id][ci->id] < 0)
                    return mig_fail(e, MIG_ERR_INPUT,
                                    "GPU %u GI %u CI %u: no capability minor in mig-minors",
                                    g->index, gi->id, ci->id);
                if (!single_file) {
                    gpu_file(en, p, g->index);
                    cap_file(en, p, (unsigned)mn->gi[g->index][gi->id]);
                }
                cap_file(en, p, (unsigned)mn->ci[g->index][gi->id][ci->id]);
                nc++;
            }
    } else {
        sg_entry *en = &c[0].en;
        memset(&c[0], 0, sizeof c[0]);
        en->kind = SG_WHOLE;
        en->gpu = g->index;
        en->gi = en->ci = -1;
        model_type(g, en->type, sizeof en->type);
        snprintf(en->uuid, sizeof en->uuid, "%s", g->uuid);
        gpu_file(en, p, g->index);
        nc = 1;
    }
    if (nc > slots)
        return mig_fail(e, MIG_ERR_INPUT, "GPU %u: %u MIG devices, more than its %u gres slots",
                        g->index, nc, slots);

    /* Slots: a device that was there before keeps its slot. */
    int slot_of[64];
    bool taken[64] = {false};
    for (unsigned i = 0; i < nc; i++) {
        slot_of[i] = -1;
        if (!p->prev)
            continue;
        for (unsigned j = 0; j < p->prev->n; j++) {
            const sg_entry *o = &p->prev->e[j];
            if (o->kind == SG_MPS || o->kind == SG_SPARE || o->gpu != g->index ||
                o->slot >= slots || taken[o->slot])
                continue;
            if (o->kind == c[i].en.kind && o->gi == c[i].en.gi && o->ci == c[i].en.ci &&
                !strcmp(o->type, c[i].en.type)) {
                slot_of[i] = (int)o->slot;
                taken[o->slot] = true;
                break;
            }
        }
    }
    for (unsigned i = 0; i < nc; i++)
        if (slot_of[i] < 0) {
            unsigned s = 0;
            while (taken[s])
                s++;
            slot_of[i] = (int)s;
            taken[s] = true;
        }
    for (unsigned s = 0; s < slots; s++) {
        if (out->n >= SG_MAX_ENTRIES)
            return mig_fail(e, MIG_ERR_INPUT, "more than %d gres records", SG_MAX_ENTRIES);
        sg_entry *en = &out->e[out->n];
        unsigned i = 0;
        while (i < nc && slot_of[i] != (int)s)
            i++;
        if (i < nc) {
            *en = c[i].en;
        } else {
            memset(en, 0, sizeof *en);
            en->kind = SG_SPARE;
            en->gpu = g->index;
            en->gi = en->ci = -1;
            snprintf(en->type, sizeof en->type, "spare");
            cap_file(en, p, mn->spare_base + g->index * 16 + s);
        }
        en->slot = s;
        out->n++;
    }
    if (mps && !g->mig_current) {
        if (out->n >= SG_MAX_ENTRIES)
            return mig_fail(e, MIG_ERR_INPUT, "more than %d gres records", SG_MAX_ENTRIES);
        sg_entry *en = &out->e[out->n++];
        memset(en, 0, sizeof *en);
        en->kind = SG_MPS;
        en->gpu = g->index;
        en->gi = en->ci = -1;
        snprintf(en->uuid, sizeof en->uuid, "%s", g->uuid);
        gpu_file(en, p, g->index);
    }
    return 0;
}

/* Slurm's index of each gpu record. slurmd merges the records of one type
 * (types in the order they first appear, records of a type in file order)
 * before numbering them, as its "Final gres.conf list" shows, so that is the
 * numbering CUDA_VISIBLE_DEVICES / SLURM_STEP_GPUS and IDX: use. An mps
 * record gets the index of its GPU's whole-GPU record. */
static void number(sg_node *n)
{
    int idx = 0;
    for (unsigned i = 0; i < n->n; i++)
        n->e[i].index = -2; /* not numbered yet */
    for (unsigned i = 0; i < n->n; i++) {
        if (n->e[i].kind == SG_MPS || n->e[i].index != -2)
            continue;
        for (unsigned j = i; j < n->n; j++)
            if (n->e[j].kind != SG_MPS && n->e[j].index == -2 &&
                !strcmp(n->e[j].type, n->e[i].type))
                n->e[j].index = idx++;
    }
    for (unsigned i = 0; i < n->n; i++) {
        if (n->e[i].kind != SG_MPS)
            continue;
        n->e[i].index = -1;
        for (unsigned j = 0; j < n->n; j++)
            if (n->e[j].kind == SG_WHOLE && n->e[j].gpu == n->e[i].gpu)
                n->e[i].index = n->e[j].index;
    }
}

int sg_build(const mig_gpu_state *gpus, unsigned n, const sg_params *p, sg_node *out,
             mig_error *e)
{
    memset(out, 0, sizeof *out);
    snprintf(out->node, sizeof out->node, "%s", p->node);
    bool single_file = false;
    for (unsigned i = 0; i < n; i++)
        if (p->mps && p->mps[i] && !gpus[i].mig_current)
            single_file = true;
    for (unsigned i = 0; i < n; i++)
        if (build_gpu(&gpus[i], sg_slots(&gpus[i]), p->mps && p->mps[i], p, single_file, out,
                      e) < 0)
            return -1;
    number(out);
    return 0;
}

bool sg_has_mps(const sg_node *n)
{
    for (unsigned i = 0; i < n->n; i++)
        if (n->e[i].kind == SG_MPS)
            return true;
    return false;
}

/* ------------------------------------------------------------ text out */

static void write_files(FILE *out, const sg_entry *en)
{
    fputs(en->n_files > 1 ? "MultipleFiles=" : "File=", out);
    for (unsigned f = 0; f < en->n_files; f++)
        fprintf(out, "%s%s", f ? "," : "", en->files[f]);
}

void sg_write_conf(FILE *out, const sg_node *n)
{
    fprintf(out, "# migctl: begin NodeName=%s (written by 'migctl slurm'; do not edit)\n", n->node);
    for (unsigned i = 0; i < n->n; i++) {
        const sg_entry *en = &n->e[i];
        fprintf(out, "NodeName=%s ", n->node);
        if (en->kind == SG_MPS) {
            fputs("Name=mps Count=100 ", out);
            write_files(out, en);
            fprintf(out, " # migctl: gpu=%u mps uuid=%s\n", en->gpu, en->uuid);
            continue;
        }
        fprintf(out, "Name=gpu Type=%s ", en->type);
        write_files(out, en);
        fprintf(out, " # migctl: slot=%u gpu=%u", en->slot, en->gpu);
        if (en->kind == SG_MIG)
            fprintf(out, " gi=%d ci=%d", en->gi, en->ci);
        if (en->kind == SG_SPARE)
            fputs(" spare", out);
        if (en->uuid[0])
            fprintf(out, " uuid=%s", en->uuid);
        fputc('\n', out);
    }
    fprintf(out, "# migctl: end NodeName=%s\n", n->node);
}

void sg_gres_string(const sg_node *n, char *buf, size_t len)
{
    char types[SG_MAX_ENTRIES][SG_TYPE_LEN];
    unsigned counts[SG_MAX_ENTRIES], nt = 0, mps = 0;
    for (unsigned i = 0; i < n->n; i++) {
        if (n->e[i].kind == SG_MPS) {
            mps += 100;
            continue;
        }
        unsigned t = 0;
        while (t < nt && strcmp(types[t], n->e[i].type))
            t++;
        if (t == nt) {
            snprintf(types[nt], SG_TYPE_LEN, "%s", n->e[i].type);
            counts[nt++] = 0;
        }
        counts[t]++;
    }
    size_t u = 0;
    buf[0] = 0;
    for (unsigned t = 0; t < nt && u < len; t++)
        u += (size_t)snprintf(buf + u, len - u, "%sgpu:%s:%u", t ? "," : "", types[t], counts[t]);
    if (mps && u < len)
        snprintf(buf + u, len - u, "%smps:%u", nt ? "," : "", mps);
}

json_t *sg_json(const sg_node *n)
{
    char gres[8192];
    sg_gres_string(n, gres, sizeof gres);
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "node", json_string(n->node));
    json_object_set_new(root, "gres", json_string(gres));
    for (unsigned i = 0; i < n->n; i++) {
        const sg_entry *en = &n->e[i];
        json_t *o = json_object(), *files = json_array();
        json_object_set_new(o, "name", json_string(en->kind == SG_MPS ? "mps" : "gpu"));
        json_object_set_new(o, "type", en->kind == SG_MPS ? json_null() : json_string(en->type));
        json_object_set_new(o, "index", json_integer(en->index));
        json_object_set_new(o, "gpu", json_integer(en->gpu));
        json_object_set_new(o, "gi", en->gi < 0 ? json_null() : json_integer(en->gi));
        json_object_set_new(o, "ci", en->ci < 0 ? json_null() : json_integer(en->ci));
        json_object_set_new(o, "uuid", en->uuid[0] ? json_string(en->uuid) : json_null());
        if (en->kind == SG_MPS)
            json_object_set_new(o, "count", json_integer(100));
        for (unsigned f = 0; f < en->n_files; f++)
            json_array_append_new(files, json_string(en->files[f]));
        json_object_set_new(o, "files", files);
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "entries", arr);
    return root;
}

/* ------------------------------------------------------------ text in */

/* The value of "key=" among the space-separated words of s (before any '#'),
 * into buf; false when absent. */
static bool word_value(const char *s, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key);
    const char *end = strchr(s, '#');
    if (!end)
        end = s + strlen(s);
    for (const char *p = s; p < end;) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        const char *w = p;
        while (p < end && !isspace((unsigned char)*p))
            p++;
        if ((size_t)(p - w) > kl && !strncasecmp(w, key, kl) && w[kl] == '=') {
            size_t vl = (size_t)(p - w) - kl - 1;
            if (vl >= len)
                vl = len - 1;
            memcpy(buf, w + kl + 1, vl);
            buf[vl] = 0;
            return true;
        }
    }
    return false;
}

/* "key=" in the migctl comment of a line. */
static bool comment_value(const char *line, const char *key, char *buf, size_t len)
{
    const char *c = strstr(line, "# migctl:");
    if (!c)
        return false;
    return word_value(c + strlen("# migctl:"), key, buf, len);
}

/* A bare word in the migctl comment ("spare"). */
static bool comment_flag(const char *line, const char *flag)
{
    const char *c = strstr(line, "# migctl:");
    if (!c)
        return false;
    size_t fl = strlen(flag);
    for (const char *p = c; (p = strstr(p, flag)); p += fl)
        if (isspace((unsigned char)p[-1]) && (!p[fl] || isspace((unsigned char)p[fl])))
            return true;
    return false;
}

static bool is_node_line(const char *ln, const char *node)
{
    while (isspace((unsigned char)*ln))
        ln++;
    size_t nl = strlen(node);
    return !strncasecmp(ln, "NodeName=", 9) && !strncmp(ln + 9, node, nl) &&
           (ln[9 + nl] == 0 || isspace((unsigned char)ln[9 + nl]));
}

int sg_parse_conf(const char *text, const char *node, sg_node *out, mig_error *e)
{
    memset(out, 0, sizeof *out);
    snprintf(out->node, sizeof out->node, "%s", node);
    char *copy = strdup(text);
    if (!copy)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    for (char *save = NULL, *ln = strtok_r(copy, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        if (!is_node_line(ln, node))
            continue;
        if (out->n >= SG_MAX_ENTRIES) {
            free(copy);
            return mig_fail(e, MIG_ERR_INPUT, "more than %d gres records for %s", SG_MAX_ENTRIES,
                            node);
        }
        char name[32] = "", v[64];
        word_value(ln, "Name", name, sizeof name);
        if (strcasecmp(name, "gpu") && strcasecmp(name, "mps"))
            continue;
        sg_entry *en = &out->e[out->n++];
        memset(en, 0, sizeof *en);
        en->gi = en->ci = -1;
        bool mps = !strcasecmp(name, "mps");
        word_value(ln, "Type", en->type, sizeof en->type);
        /* A line migctl did not write names no GPU it knows of. */
        en->gpu = comment_value(ln, "gpu", v, sizeof v) ? (unsigned)strtoul(v, NULL, 10)
                                                         : SG_NO_GPU;
        if (comment_value(ln, "slot", v, sizeof v))
            en->slot = (unsigned)strtoul(v, NULL, 10);
        if (comment_value(ln, "gi", v, sizeof v))
            en->gi = atoi(v);
        if (comment_value(ln, "ci", v, sizeof v))
            en->ci = atoi(v);
        comment_value(ln, "uuid", en->uuid, sizeof en->uuid);
        en->kind = mps ? SG_MPS : comment_flag(ln, "spare") ? SG_SPARE
                                : en->gi >= 0                ? SG_MIG
                                                             : SG_WHOLE;
        char files[SG_PATH_LEN * SG_MAX_FILES];
        if (word_value(ln, "MultipleFiles", files, sizeof files) ||
            word_value(ln, "File", files, sizeof files)) {
            for (char *s2 = NULL, *f = strtok_r(files, ",", &s2); f && en->n_files < SG_MAX_FILES;
                 f = strtok_r(NULL, ",", &s2))
                snprintf(en->files[en->n_files++], SG_PATH_LEN, "%s", f);
        }
    }
    free(copy);
    number(out);
    return 0;
}

/* ------------------------------------------------------------ devices */

static int mkdir_p(const char *dir, mig_error *e)
{
    char tmp[SG_PATH_LEN];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return mig_fail(e, MIG_ERR_SYSTEM, "mkdir %s: %s", tmp, strerror(errno));
            *p = '/';
        }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return mig_fail(e, MIG_ERR_SYSTEM, "mkdir %s: %s", tmp, strerror(errno));
    return 0;
}

int sg_make_devices(const sg_node *n, mig_error *e)
{
    for (unsigned i = 0; i < n->n; i++)
        for (unsigned f = 0; f < n->e[i].n_files; f++) {
            const char *path = n->e[i].files[f];
            struct stat st;
            if (lstat(path, &st) == 0) {
                if (!S_ISCHR(st.st_mode))
                    return mig_fail(e, MIG_ERR_INPUT,
                                    "%s exists and is not a character device", path);
                continue;
            }
            char dir[SG_PATH_LEN];
            snprintf(dir, sizeof dir, "%s", path);
            char *slash = strrchr(dir, '/');
            if (slash && slash != dir) {
                *slash = 0;
                if (mkdir_p(dir, e) < 0)
                    return -1;
            }
            if (mknod(path, S_IFCHR | 0666, makedev(n->e[i].major[f], n->e[i].minor[f])) < 0 &&
                errno != EEXIST)
                return mig_fail(e, MIG_ERR_SYSTEM, "mknod %s: %s", path, strerror(errno));
        }
    return 0;
}

/* ------------------------------------------------------------ conf edits */

typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static char *sb_done(sbuf *b, mig_error *e)
{
    if (b->oom || !b->s) {
        free(b->s);
        mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        return NULL;
    }
    return b->s;
}

char *sg_replace_block(const char *conf, const sg_node *n, mig_error *e)
{
    char *block = NULL;
    size_t blen = 0;
    FILE *m = open_memstream(&block, &blen);
    if (!m) {
        mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
        return NULL;
    }
    sg_write_conf(m, n);
    fclose(m);
    char begin[128], end[128];
    snprintf(begin, sizeof begin, "# migctl: begin NodeName=%s ", n->node);
    snprintf(end, sizeof end, "# migctl: end NodeName=%s", n->node);
    sbuf out = {0};
    bool in = false, placed = false;
    for (const char *p = conf; *p;) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        char line[8192];
        snprintf(line, sizeof line, "%.*s", (int)(ll < sizeof line ? ll : sizeof line - 1), p);
        p += ll + (nl ? 1 : 0);
        if (!strncmp(line, begin, strlen(begin))) {
            in = true;
            if (!placed)
                sb_add(&out, block, blen);
            placed = true;
            continue;
        }
        if (in) {
            if (!strcmp(line, end))
                in = false;
            continue;
        }
        if (is_node_line(line, n->node))
            continue; /* an older hand-written record for the node */
        sb_add(&out, line, strlen(line));
        sb_add(&out, "\n", 1);
    }
    if (!placed)
        sb_add(&out, block, blen);
    free(block);
    return sb_done(&out, e);
}

static const char *find_node_line(const char *conf, const char *node, size_t *len)
{
    for (const char *p = conf; *p;) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)(ll < sizeof line ? ll : sizeof line - 1), p);
        if (is_node_line(line, node)) {
            *len = ll;
            return p;
        }
        p += ll + (nl ? 1 : 0);
    }
    return NULL;
}

int sg_get_node_gres(const char *slurm_conf, const char *node, char *buf, size_t len,
                     mig_error *e)
{
    size_t ll;
    const char *l = find_node_line(slurm_conf, node, &ll);
    if (!l)
        return mig_fail(e, MIG_ERR_INPUT, "slurm.conf has no line 'NodeName=%s ...'", node);
    char *line = strndup(l, ll);
    if (!line)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    if (!word_value(line, "Gres", buf, len))
        buf[0] = 0;
    free(line);
    return 0;
}

char *sg_set_node_gres(const char *slurm_conf, const char *node, const char *gres, bool with_mps,
                       mig_error *e)
{
    size_t ll;
    const char *l = find_node_line(slurm_conf, node, &ll);
    if (!l) {
        mig_fail(e, MIG_ERR_INPUT, "slurm.conf has no line 'NodeName=%s ...' to set Gres= on",
                 node);
        return NULL;
    }
    sbuf out = {0};
    /* Lines before the node's, with GresTypes= given mps when needed. */
    for (const char *p = slurm_conf; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (p == l) {
            /* The node line: every word but Gres=, then the new Gres=. */
            char *line = strndup(l, ll);
            if (!line) {
                out.oom = true;
                break;
            }
            bool first = true;
            for (char *s2 = NULL, *w = strtok_r(line, " \t", &s2); w; w = strtok_r(NULL, " \t", &s2)) {
                if (!strncasecmp(w, "Gres=", 5))
                    continue;
                if (!first)
                    sb_add(&out, " ", 1);
                sb_add(&out, w, strlen(w));
                first = false;
            }
            free(line);
            if (gres[0]) {
                sb_add(&out, " Gres=", 6);
                sb_add(&out, gres, strlen(gres));
            }
            sb_add(&out, "\n", 1);
        } else if (with_mps && !strncasecmp(p, "GresTypes=", 10)) {
            char types[256];
            snprintf(types, sizeof types, "%.*s", (int)(n - 10 - (nl ? 1 : 0)), p + 10);
            bool has = false;
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", types);
            for (char *s2 = NULL, *w = strtok_r(tmp, ",", &s2); w; w = strtok_r(NULL, ",", &s2))
                has |= !strcasecmp(w, "mps");
            sb_add(&out, p, 10);
            sb_add(&out, types, strlen(types));
            if (!has)
                sb_add(&out, ",mps", 4);
            sb_add(&out, "\n", 1);
        } else {
            sb_add(&out, p, n);
        }
        p += n;
    }
    return sb_done(&out, e);
}

/* ------------------------------------------------------------ task prolog */

int sg_map_indices(const sg_node *n, const char *indices, char *buf, size_t len, mig_error *e)
{
    size_t u = 0;
    buf[0] = 0;
    char *copy = strdup(indices);
    if (!copy)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    int rc = 0;
    for (char *s2 = NULL, *w = strtok_r(copy, ",", &s2); w && rc == 0; w = strtok_r(NULL, ",", &s2)) {
        unsigned a, b;
        int used = 0;
        if (sscanf(w, "%u-%u%n", &a, &b, &used) == 2 && !w[used]) {
        } else if (used = 0, sscanf(w, "%u%n", &a, &used) == 1 && !w[used]) {
            b = a;
        } else {
            rc = mig_fail(e, MIG_ERR_INPUT, "'%s' in the GPU list '%s' is not an index", w,
                          indices);
            break;
        }
        for (unsigned i = a; i <= b && rc == 0; i++) {
            const sg_entry *en = NULL;
            for (unsigned k = 0; k < n->n; k++)
                if (n->e[k].kind != SG_MPS && n->e[k].index == (int)i)
                    en = &n->e[k];
            if (!en)
                rc = mig_fail(e, MIG_ERR_INPUT, "gres index %u: node %s has no such gpu record", i,
                              n->node);
            else if (!en->uuid[0])
                rc = mig_fail(e, MIG_ERR_INPUT, "gres index %u of node %s (type %s) has no UUID%s",
                              i, n->node, en->type,
                              en->kind == SG_SPARE ? ": a spare slot, request a typed gres" : "");
            else
                u += (size_t)snprintf(buf + u, u < len ? len - u : 0, "%s%s", u ? "," : "",
                                      en->uuid);
        }
    }
    free(copy);
    if (rc == 0 && u >= len)
        return mig_fail(e, MIG_ERR_INPUT, "too many GPUs for the buffer");
    return rc;
}
