/*
 * fileio.h: how migctl reads its inputs and writes its outputs, safely.
 *
 * migctl runs as root on production nodes, so every file it touches goes
 * through these two functions and no other path:
 *
 *  - Reading: the file is opened O_NONBLOCK (a FIFO cannot hang the open),
 *    checked with fstat to be a regular file (a FIFO, a device such as
 *    /dev/zero, a socket or a directory is refused at once), and read up to a
 *    byte limit (a larger file is refused, never read to the end). "-" reads
 *    standard input, also bounded. Every refusal is MIG_ERR_INPUT (exit 2)
 *    with a message naming the path and what is wrong.
 *
 *  - Writing: the data goes to a new file created with O_EXCL and an
 *    unpredictable name in the target's own directory, with an explicit mode
 *    (independent of the umask), is flushed, and is renamed over the target.
 *    rename() replaces a symlink at the target instead of following it, so no
 *    link planted by another user redirects root's write; a failure leaves
 *    the old file as it was.
 */
#ifndef MIGCTL_UTIL_FILEIO_H
#define MIGCTL_UTIL_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* Limits shared by every reader (the config reader's, now everyone's). */
#define FILEIO_MAX_INPUT_BYTES ((size_t)4 << 20) /* 4 MiB */

/* Read the whole file at `path` ("-": standard input) into a NUL-terminated
 * heap buffer (*data, free() it; *len excludes the NUL). `what` names the
 * input in messages ("config file", "workloads file"). Files over max_bytes,
 * and anything that is not a regular file, are refused with MIG_ERR_INPUT.
 * Returns 0, or -1 with e set. */
int fileio_read(const char *path, const char *what, size_t max_bytes, char **data,
                size_t *len, mig_error *e);

/* Open `path` for reading as fileio_read does (non-blocking open, regular
 * files only, size checked against max_bytes when max_bytes > 0) and return
 * the descriptor, in blocking mode and close-on-exec. -1 with e set. */
int fileio_open_regular(const char *path, const char *what, size_t max_bytes, mig_error *e);

/* Write `len` bytes to `path` atomically: a temp file created O_EXCL with a
 * random name in the same directory, fchmod(mode), write, fsync, rename over
 * the target, fsync of the directory. Never follows a symlink at `path`; a
 * directory at `path` is refused. Returns 0, or -1 with e set
 * (MIG_ERR_SYSTEM, or MIG_ERR_INPUT when the target's directory is missing). */
int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                        mig_error *e);

/* Create directory `path` with exactly `mode` (umask ignored) if it does not
 * exist; an existing one must be a real directory (not a symlink). 0 or -1. */
int fileio_mkdir(const char *path, mode_t mode, mig_error *e);

#endif
