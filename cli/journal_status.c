/*
 * journal_status.c: `status`'s report on apply's journal (see
 * journal_status.h). Reads it with journal_read (bounded, regular files
 * only), so a FIFO or a huge file at the journal's path is reported as
 * unreadable, never waited on.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apply/journal.h"
#include "cli/journal_status.h"

typedef struct {
    bool exists, readable;
    bool no_permission; /* cannot even tell whether there is one */
    mig_journal *j; /* heap: the struct holds every GPU's state */
    mig_error e;
} journal_probe;

static void probe(const char *path, journal_probe *p)
{
    p->exists = p->readable = false;
    mig_error_clear(&p->e);
    p->j = calloc(1, sizeof *p->j);
    if (!p->j) {
        p->exists = true;
        mig_fail(&p->e, MIG_ERR_SYSTEM, "out of memory");
        return;
    }
    p->readable = journal_read(path, p->j, &p->exists, &p->e) == 0;
    if (!p->readable)
        p->exists = true; /* could not even look: say so rather than "none" */
    struct stat st;
    p->no_permission = !p->readable && lstat(path, &st) != 0 && errno == EACCES;
}

json_t *journal_status_json(const char *path)
{
    journal_probe p;
    probe(path, &p);
    json_t *o = json_null();
    if (p.exists && p.readable) {
        o = json_pack("{s:s, s:b, s:I, s:{s:s, s:s}, s:s, s:I, s:I}", "path", path, "readable",
                      1, "pid", (json_int_t)p.j->pid, "config", "file", p.j->config_file, "name",
                      p.j->config_name, "phase", p.j->phase[0] ? p.j->phase : "apply", "done",
                      (json_int_t)p.j->done, "operations", (json_int_t)p.j->n_ops);
    } else if (p.exists) {
        o = json_pack("{s:s, s:b, s:s}", "path", path, "readable", 0, "error", p.e.msg);
    }
    free(p.j);
    return o;
}

void journal_status_print(FILE *out, const char *path)
{
    journal_probe p;
    probe(path, &p);
    if (p.exists && p.readable)
        fprintf(out,
                "Journal: %s: an apply (pid %ld, config '%s' from %s) was interrupted%s with "
                "%u of %u operations done; the next apply converges and removes it\n",
                path, p.j->pid, p.j->config_name, p.j->config_file,
                p.j->phase[0] && strcmp(p.j->phase, "apply") ? " (rolling back)" : "", p.j->done,
                p.j->n_ops);
    else if (p.no_permission)
        fprintf(out, "Journal: %s: cannot tell whether there is one (%s)\n", path, p.e.msg);
    else if (p.exists)
        fprintf(out,
                "Journal: %s cannot be read (%s); apply refuses to run until an operator moves "
                "it aside with 'migctl apply ... --discard-journal'\n",
                path, p.e.msg);
    free(p.j);
}
