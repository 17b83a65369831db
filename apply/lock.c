/*
 * lock.c: the apply lock (see lock.h): flock(LOCK_EX) on a lock file, first
 * without blocking so that a waiter can say whom it waits for, then blocking
 * unless the caller asked not to wait. EINTR is retried.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "apply/lock.h"

static long read_holder_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? pid : 0;
}

static void write_own_pid(int fd)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    /* Informational only: a failed write does not weaken the lock. */
    if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) < 0)
        return;
}

static int flock_retry(int fd, int op)
{
    int rc;
    do
        rc = flock(fd, op);
    while (rc < 0 && errno == EINTR);
    return rc;
}

int lock_acquire(const char *path, bool wait, lock_wait_fn on_wait, void *ctx, int *fd,
                 mig_error *e)
{
    *fd = -1;
    int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "cannot open lock file %s: %s", path, strerror(errno));
    if (flock_retry(lfd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK) {
            int err = errno;
            close(lfd);
            return mig_fail(e, MIG_ERR_SYSTEM, "cannot lock %s: %s", path, strerror(err));
        }
        long holder = read_holder_pid(lfd);
        if (!wait) {
            close(lfd);
            if (holder)
                return mig_fail(e, MIG_ERR_REFUSED,
                                "another apply (pid %ld) holds the lock %s; not waiting (--no-wait)",
                                holder, path);
            return mig_fail(e, MIG_ERR_REFUSED,
                            "another apply holds the lock %s; not waiting (--no-wait)", path);
        }
        if (on_wait)
            on_wait(path, holder, ctx);
        if (flock_retry(lfd, LOCK_EX) < 0) {
            int err = errno;
            close(lfd);
            return mig_fail(e, MIG_ERR_SYSTEM, "cannot lock %s: %s", path, strerror(err));
        }
    }
    write_own_pid(lfd);
    *fd = lfd;
    return 0;
}

void lock_release(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the last descriptor drops the flock */
}

const char *lock_default_path(const char *explicit_path, const char *sim_state, char *buf,
                              size_t len)
{
    const char *env = getenv("MIGCTL_LOCK");
    if (explicit_path && *explicit_path)
        snprintf(buf, len, "%s", explicit_path);
    else if (env && *env)
        snprintf(buf, len, "%s", env);
    else if (sim_state && *sim_state)
        snprintf(buf, len, "%s.apply.lock", sim_state);
    else
        snprintf(buf, len, "%s", MIG_LOCK_DEFAULT_PATH);
    return buf;
}
