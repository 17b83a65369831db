/*
 * lock.h: the apply lock. Two applies on one node must never interleave
 * their operations (each plans from the state it read), so apply holds an
 * exclusive flock(2) on a lock file for its whole run. flock is released by
 * the kernel when the holder dies, so a SIGKILLed apply never leaves a stale
 * lock behind (its journal says what it was doing; see journal.h).
 *
 * The holder writes its pid into the file, only so that a waiter can say who
 * it waits for; the lock itself is the flock, never the file's content.
 */
#ifndef MIGCTL_ENGINE_LOCK_H
#define MIGCTL_ENGINE_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define MIG_LOCK_DEFAULT_PATH "/run/lock/migctl.lock"

/* Called once, before blocking, when another process holds the lock.
 * holder_pid is 0 when the file does not say. */
typedef void (*lock_wait_fn)(const char *path, long holder_pid, void *ctx);

/* Take the exclusive lock on path (created 0644 if missing). When it is
 * held elsewhere: wait=false fails at once with MIG_ERR_REFUSED naming the
 * holder; wait=true calls on_wait (if given) and blocks. On success *fd is
 * the open, locked descriptor (close-on-exec, so hooks do not inherit it). */
int lock_acquire(const char *path, bool wait, lock_wait_fn on_wait, void *ctx, int *fd,
                 mig_error *e);

/* Drop the lock (closing the descriptor). fd < 0 is ignored. */
void lock_release(int fd);

/* The lock file apply uses: explicit, else $MIGCTL_LOCK, else
 * "<sim state>.apply.lock" when a simulator state file names the node,
 * else MIG_LOCK_DEFAULT_PATH. Writes into buf and returns it. */
const char *lock_default_path(const char *explicit_path, const char *sim_state, char *buf,
                              size_t len);

#endif
