/*
 * lock.h: the apply lock. Two applies on one node must never interleave
 * their operations (each plans from the state it read), so apply (and
 * create, destroy, mode) holds an exclusive flock(2) on a lock file for its
 * whole run. flock is released by the kernel when the holder dies, so a
 * SIGKILLed apply never leaves a stale lock behind (its journal says what it
 * was doing; see journal.h).
 *
 * migctl runs as root, so the lock must be out of reach of other users: one
 * who could open it could hold it (and block every apply), and one who could
 * plant a link at its path could make root create or open a file elsewhere.
 * The rules (docs/apply.md, "The lock"):
 *
 *  - The default is /run/migctl/apply.lock, in a directory created 0700 for
 *    the caller; for a simulated node (a state file given) it is
 *    "<state file>.apply.lock", beside the state, so that the node's owner
 *    (any user, in tests) may lock it.
 *  - The lock's directory must be owned by the caller and writable by no one
 *    else (not group- or world-writable: /tmp and /run/lock are refused).
 *  - The file is opened with O_NOFOLLOW relative to that directory, created
 *    0600 when missing, and must be a regular file owned by the caller.
 *  - Nothing is ever written into it: the holder a waiter names is read from
 *    the kernel's lock table (/proc/locks), not from the file's content.
 *
 * Every failure is returned, never ignored: a verb that cannot lock does not
 * run (fail closed). Ownership problems and permission denied are
 * MIG_ERR_SYSTEM (exit 3, as NVML's NO_PERMISSION); an unsafe path (a
 * directory others may write, a link or non-regular file at the path) is
 * MIG_ERR_INPUT (exit 2); another holder with wait=false is MIG_ERR_REFUSED.
 *
 * The simulator's own state lock (gpu/sim_file.c) uses open-file-description
 * record locks, which never conflict with flock, so no path given to --lock
 * (the simulator's lock file, its state file) can make migctl wait on itself.
 */
#ifndef MIGCTL_ENGINE_LOCK_H
#define MIGCTL_ENGINE_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define MIG_LOCK_DEFAULT_DIR "/run/migctl"
#define MIG_LOCK_DEFAULT_PATH MIG_LOCK_DEFAULT_DIR "/apply.lock"

/* Called once, before blocking, when another process holds the lock.
 * holder_pid is 0 when the kernel does not say (a holder in another pid
 * namespace, or one that passed its descriptor on and exited). */
typedef void (*lock_wait_fn)(const char *path, long holder_pid, void *ctx);

/* Where the lock is and how to take it. cli/ fills it: the library reads
 * neither argv nor the environment. */
typedef struct {
    const char *path;      /* --lock FILE; NULL or "": the defaults below */
    const char *env_path;  /* $MIGCTL_LOCK as cli/ read it; NULL when unset */
    const char *sim_state; /* the simulated node's state file; NULL for GPUs */
    bool wait;             /* block while another process holds it */
    lock_wait_fn on_wait;  /* told once before blocking; may be NULL */
    void *ctx;
} lock_options;

/* The lock file o names: path, else env_path, else "<sim_state>.apply.lock",
 * else MIG_LOCK_DEFAULT_PATH. Writes into buf and returns it. */
const char *lock_path(const lock_options *o, char *buf, size_t len);

/* Take the exclusive lock at lock_path(o) under the rules above (the default
 * directory is created 0700 when missing). On success *fd is the open,
 * locked descriptor (close-on-exec, so hooks do not inherit it). */
int lock_acquire(const lock_options *o, int *fd, mig_error *e);

/* Drop the lock (closing the descriptor). fd < 0 is ignored. */
void lock_release(int fd);

/* The pid holding a flock on the file open at fd, other than this process,
 * read from /proc/locks; 0 when none is found. */
long lock_holder_pid(int fd);

#endif
