/*
 * journal.c: apply's journal on disk (see journal.h): JSON through jansson,
 * written with fileio_write_atomic (an O_EXCL temp file with a random name
 * in the same directory, fsynced, renamed over the journal, the directory
 * fsynced), so a crash leaves the old journal or the new one, never a torn
 * one, and no link planted at a predictable name redirects the write. Read
 * with fileio_read: bounded, regular files only.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/journal.h"
#include "util/fileio.h"

const char *journal_default_path(const char *explicit_path, const char *sim_state, char *buf,
                                 size_t len)
{
    if (explicit_path && *explicit_path)
        snprintf(buf, len, "%s", explicit_path);
    else if (sim_state && *sim_state)
        snprintf(buf, len, "%s.journal", sim_state);
    else
        snprintf(buf, len, "%s", MIG_JOURNAL_DEFAULT_PATH);
    return buf;
}

/* ------------------------------------------------------------ to JSON */

static json_t *ci_to_json(const mig_ci_state *ci)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:s}", "id", (json_int_t)ci->id, "profile_id",
                     (json_int_t)ci->profile_id, "start", (json_int_t)ci->start, "slices",
                     (json_int_t)ci->slices, "uuid", ci->uuid);
}

static json_t *gi_to_json(const mig_gi_state *gi)
{
    json_t *cis = json_array();
    for (unsigned i = 0; i < gi->n_ci; i++)
        json_array_append_new(cis, ci_to_json(&gi->ci[i]));
    return json_pack("{s:I, s:I, s:I, s:I, s:o}", "id", (json_int_t)gi->id, "profile_id",
                     (json_int_t)gi->profile_id, "start", (json_int_t)gi->start, "size",
                     (json_int_t)gi->size, "compute_instances", cis);
}

static json_t *gpu_to_json(const mig_gpu_state *g)
{
    json_t *gis = json_array();
    for (unsigned i = 0; i < g->n_gi; i++)
        json_array_append_new(gis, gi_to_json(&g->gi[i]));
    return json_pack("{s:I, s:s, s:s, s:{s:b, s:b}, s:o}", "index", (json_int_t)g->index, "uuid",
                     g->uuid, "model", g->model ? g->model->name : "", "mig", "current",
                     g->mig_current, "pending", g->mig_pending, "gpu_instances", gis);
}

static json_t *op_to_json(const mig_op *op)
{
    json_t *o = json_pack("{s:I, s:s}", "gpu", (json_int_t)op->gpu, "op",
                          mig_op_kind_name(op->kind));
    if (op->kind == MIG_OP_SET_MODE) {
        json_object_set_new(o, "enable", json_boolean(op->enable));
        return o;
    }
    json_object_set_new(o, "profile", json_string(op->profile));
    json_object_set_new(o, "placement", json_pack("{s:I, s:I}", "start", (json_int_t)op->start,
                                                  "size", (json_int_t)op->size));
    json_object_set_new(o, "gi_id", json_integer(op->gi_id));
    if (op->kind == MIG_OP_DESTROY_CI)
        json_object_set_new(o, "ci_id", json_integer(op->ci_id));
    if (op->kind == MIG_OP_CREATE_CI && op->gi_ref >= 0)
        json_object_set_new(o, "gi_ref", json_integer(op->gi_ref));
    return o;
}

static json_t *journal_to_json(const mig_journal *j, const mig_plan *plan)
{
    json_t *ops = json_array();
    for (unsigned i = 0; plan && i < plan->n_ops; i++)
        json_array_append_new(ops, op_to_json(&plan->ops[i]));
    json_t *before = json_array();
    for (unsigned i = 0; i < j->n_before; i++)
        json_array_append_new(before, gpu_to_json(&j->before[i]));
    return json_pack("{s:i, s:I, s:{s:s, s:s}, s:s, s:I, s:I, s:o, s:o}", "version", 1, "pid",
                     (json_int_t)j->pid, "config", "file", j->config_file, "name", j->config_name,
                     "phase", j->phase[0] ? j->phase : "apply", "done", (json_int_t)j->done,
                     "n_ops", (json_int_t)(plan ? plan->n_ops : j->n_ops), "operations", ops,
                     "before", before);
}

/* ------------------------------------------------------------ writing */

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: the rename is already atomic */
        close(fd);
    }
}

int journal_write(const char *path, const mig_journal *j, const mig_plan *plan, mig_error *e)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    /* The parent (by default /var/lib/migctl) is created 0755 whatever the
     * umask; the journal itself 0644, so that status can say it is there. */
    struct stat st;
    const char *dir = dirname(tmp);
    if (stat(dir, &st) != 0 && fileio_mkdir(dir, 0755, e) < 0) {
        mig_error_prefix(e, "cannot create the journal's directory");
        return -1;
    }
    json_t *root = journal_to_json(j, plan);
    if (!root)
        return mig_fail(e, MIG_ERR_SYSTEM, "journal %s: cannot build JSON", path);
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return mig_fail(e, MIG_ERR_SYSTEM, "journal %s: out of memory", path);
    /* O_EXCL temp with a random name in the journal's directory, fsync,
     * rename, fsync of the directory: never through a link, never torn. */
    int rc = fileio_write_atomic(path, text, strlen(text), 0644, e);
    free(text);
    if (rc < 0)
        mig_error_prefix(e, "cannot write the journal");
    return rc;
}

int journal_remove(const char *path, mig_error *e)
{
    if (unlink(path) < 0 && errno != ENOENT)
        return mig_fail(e, MIG_ERR_SYSTEM, "cannot remove journal %s: %s", path, strerror(errno));
    char tmp[PATH_MAX], dir[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(dir, sizeof dir, "%s", dirname(tmp));
    fsync_dir(dir);
    return 0;
}

int journal_discard(const char *path, char *aside, size_t len, mig_error *e)
{
    if ((size_t)snprintf(aside, len, "%s.discarded", path) >= len)
        return mig_fail(e, MIG_ERR_INPUT, "journal path too long");
    /* rename moves whatever is at the path (a link, a FIFO) without opening
     * it, and replaces an older .discarded the same way. */
    if (rename(path, aside) < 0) {
        if (errno == ENOENT)
            return 0;
        return mig_fail(e, MIG_ERR_SYSTEM, "cannot move the journal %s aside to %s: %s", path,
                        aside, strerror(errno));
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    fsync_dir(dirname(tmp));
    return 0;
}

/* ------------------------------------------------------------ reading */

static unsigned uint_field(json_t *o, const char *key, bool *ok)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        *ok = false;
        return 0;
    }
    return (unsigned)json_integer_value(v);
}

static void str_field(json_t *o, const char *key, char *buf, size_t len)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(buf, len, "%s", s ? s : "");
}

static bool ci_from_json(json_t *o, mig_ci_state *ci)
{
    bool ok = json_is_object(o);
    ci->id = uint_field(o, "id", &ok);
    ci->profile_id = uint_field(o, "profile_id", &ok);
    ci->start = uint_field(o, "start", &ok);
    ci->slices = uint_field(o, "slices", &ok);
    str_field(o, "uuid", ci->uuid, sizeof ci->uuid);
    return ok;
}

static bool gi_from_json(json_t *o, mig_gi_state *gi)
{
    bool ok = json_is_object(o);
    gi->id = uint_field(o, "id", &ok);
    gi->profile_id = uint_field(o, "profile_id", &ok);
    gi->start = uint_field(o, "start", &ok);
    gi->size = uint_field(o, "size", &ok);
    json_t *cis = json_object_get(o, "compute_instances");
    if (!json_is_array(cis) || json_array_size(cis) > MIG_MAX_CI)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(cis, i, v) if (!ci_from_json(v, &gi->ci[gi->n_ci++])) return false;
    return ok;
}

static bool gpu_from_json(json_t *o, mig_gpu_state *g)
{
    bool ok = json_is_object(o);
    memset(g, 0, sizeof *g);
    g->index = uint_field(o, "index", &ok);
    str_field(o, "uuid", g->uuid, sizeof g->uuid);
    char model[64];
    str_field(o, "model", model, sizeof model);
    g->model = mig_model_by_name(model);
    g->mig_capable = g->model != NULL;
    json_t *mig = json_object_get(o, "mig");
    g->mig_current = json_is_true(json_object_get(mig, "current"));
    g->mig_pending = json_is_true(json_object_get(mig, "pending"));
    json_t *gis = json_object_get(o, "gpu_instances");
    if (!json_is_array(gis) || json_array_size(gis) > MIG_MAX_GI)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(gis, i, v) if (!gi_from_json(v, &g->gi[g->n_gi++])) return false;
    return ok;
}

static bool journal_from_json(json_t *root, mig_journal *j)
{
    bool ok = json_is_object(root) && json_integer_value(json_object_get(root, "version")) == 1;
    j->pid = (long)json_integer_value(json_object_get(root, "pid"));
    json_t *cfg = json_object_get(root, "config");
    str_field(cfg, "file", j->config_file, sizeof j->config_file);
    str_field(cfg, "name", j->config_name, sizeof j->config_name);
    str_field(root, "phase", j->phase, sizeof j->phase);
    j->done = uint_field(root, "done", &ok);
    j->n_ops = uint_field(root, "n_ops", &ok);
    json_t *before = json_object_get(root, "before");
    if (!json_is_array(before) || json_array_size(before) > MIG_MAX_GPUS)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(before, i, v) if (!gpu_from_json(v, &j->before[j->n_before++])) return false;
    return ok;
}

int journal_read(const char *path, mig_journal *out, bool *exists, mig_error *e)
{
    memset(out, 0, sizeof *out);
    *exists = false;
    /* Bounded and non-blocking: a FIFO, a device or a directory at the
     * journal's path is refused at once (exit 2), never read from. */
    char *text;
    size_t len;
    /* migctl only ever renames a regular file into place: a link there is
     * not its journal, and is not followed (an operator moves it aside with
     * --discard-journal, which renames the link itself). */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        *exists = true;
        return mig_fail(e, MIG_ERR_INPUT, "journal %s: a symbolic link, not a journal", path);
    }
    if (fileio_read(path, "journal", MIG_JOURNAL_MAX_BYTES, &text, &len, e) < 0) {
        if (e->kind == MIG_ERR_INPUT && access(path, F_OK) < 0 && errno == ENOENT) {
            mig_error_clear(e);
            return 0;
        }
        *exists = true;
        return -1;
    }
    *exists = true;
    int rc = journal_parse(text, len, path, out, e);
    free(text);
    return rc;
}

int journal_parse(const char *text, size_t len, const char *path, mig_journal *out,
                  mig_error *e)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return mig_fail(e, MIG_ERR_INPUT, "%s:%d:%d: not a migctl journal: %s", path, jerr.line,
                        jerr.column, jerr.text);
    bool ok = journal_from_json(root, out);
    json_decref(root);
    if (!ok)
        return mig_fail(e, MIG_ERR_INPUT, "%s: not a migctl journal (unexpected content)", path);
    return 0;
}
