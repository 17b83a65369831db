/*
 * journal_status.h: what `status` says about apply's journal. A journal on
 * disk means an apply was interrupted (the next apply finishes it) or left
 * a file it could not read (an operator decides, with
 * `apply --discard-journal`); status says which, so nobody has to find the
 * file by hand.
 */
#ifndef MIGCTL_CLI_JOURNAL_STATUS_H
#define MIGCTL_CLI_JOURNAL_STATUS_H

#include <stdio.h>

#include <jansson.h>

/* null when there is no journal at path, else {"path", "readable", and
 * either "pid", "config": {"file", "name"}, "phase", "done", "operations"
 * or "error"}. */
json_t *journal_status_json(const char *path);

/* One paragraph on out when there is a journal at path; nothing otherwise. */
void journal_status_print(FILE *out, const char *path);

#endif
