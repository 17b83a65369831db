/*
 * lock.c: the apply lock (see lock.h for the rules and why). The directory
 * is opened and checked first, the file is opened relative to it with
 * O_NOFOLLOW and checked with fstat, so the checks are about the very
 * objects that are then used, not about a path someone may swap in between.
 * flock(LOCK_EX) is tried without blocking first so that a waiter can say
 * whom it waits for; EINTR is retried.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "apply/lock.h"
#include "util/fileio.h"

const char *lock_path(const lock_options *o, char *buf, size_t len)
{
    if (o->path && *o->path)
        snprintf(buf, len, "%s", o->path);
    else if (o->env_path && *o->env_path)
        snprintf(buf, len, "%s", o->env_path);
    else if (o->sim_state && *o->sim_state)
        snprintf(buf, len, "%s.apply.lock", o->sim_state);
    else
        snprintf(buf, len, "%s", MIG_LOCK_DEFAULT_PATH);
    return buf;
}

long lock_holder_pid(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return 0;
    FILE *f = fopen("/proc/locks", "re");
    if (!f)
        return 0;
    /* "1: FLOCK  ADVISORY  WRITE 1234 fe:00:10953619 0 EOF"; a waiter's line
     * has "->" after the number and is skipped. */
    char line[256];
    long found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char type[16], adv[16], rw[16];
        long pid;
        unsigned maj, min;
        unsigned long long ino;
        if (strstr(line, "->"))
            continue;
        if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", type, adv, rw, &pid, &maj, &min,
                   &ino) != 7)
            continue;
        if (strcmp(type, "FLOCK") != 0 || ino != (unsigned long long)st.st_ino ||
            maj != major(st.st_dev) || min != minor(st.st_dev))
            continue;
        if (pid > 0 && pid != (long)getpid())
            found = pid;
    }
    fclose(f);
    return found;
}

static int flock_retry(int fd, int op)
{
    int rc;
    do
        rc = flock(fd, op);
    while (rc < 0 && errno == EINTR);
    return rc;
}

static int open_errno_fail(mig_error *e, int err, const char *what, const char *path)
{
    mig_err_kind k = (err == ELOOP || err == ENOENT || err == ENOTDIR || err == ENXIO ||
                      err == EISDIR)
                         ? MIG_ERR_INPUT
                         : MIG_ERR_SYSTEM;
    if (err == ELOOP)
        return mig_fail(e, k, "refusing the lock %s: it is a symbolic link", path);
    return mig_fail(e, k, "cannot open %s %s: %s", what, path, strerror(err));
}

/* Open the lock's directory and check it: owned by us, writable by no one
 * else. Returns the directory's descriptor, or -1 with e set. */
static int open_lock_dir(const char *dir, bool create, mig_error *e)
{
    if (create && fileio_mkdir(dir, 0700, e) < 0)
        return -1;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return open_errno_fail(e, errno, "the lock directory", dir);
    struct stat st;
    if (fstat(dfd, &st) != 0) {
        int err = errno;
        close(dfd);
        return mig_fail(e, MIG_ERR_SYSTEM, "lock directory %s: %s", dir, strerror(err));
    }
    if (st.st_uid != geteuid()) {
        close(dfd);
        return mig_fail(e, MIG_ERR_SYSTEM,
                        "refusing the lock directory %s: owned by uid %lu, not by this user "
                        "(uid %lu)",
                        dir, (unsigned long)st.st_uid, (unsigned long)geteuid());
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        close(dfd);
        return mig_fail(e, MIG_ERR_INPUT,
                        "refusing the lock directory %s: writable by %s (mode %04o); the lock "
                        "must live where only its owner can create files (give --lock FILE or "
                        "$MIGCTL_LOCK in such a directory, or keep a simulated node's state file "
                        "in one)",
                        dir, (st.st_mode & S_IWOTH) ? "everyone" : "its group",
                        (unsigned)(st.st_mode & 07777));
    }
    return dfd;
}

/* Open (creating 0600) the lock file in dfd and check it. */
static int open_lock_file(int dfd, const char *base, const char *path, mig_error *e)
{
    int fd = openat(dfd, base, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                    0600);
    if (fd < 0)
        return open_errno_fail(e, errno, "the lock file", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return mig_fail(e, MIG_ERR_SYSTEM, "lock file %s: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return mig_fail(e, MIG_ERR_INPUT, "refusing the lock %s: not a regular file", path);
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return mig_fail(e, MIG_ERR_SYSTEM,
                        "refusing the lock %s: owned by uid %lu, not by this user (uid %lu)", path,
                        (unsigned long)st.st_uid, (unsigned long)geteuid());
    }
    /* Readable by others, another user could open it and hold the flock:
     * a file left by an older migctl (0644) is narrowed. */
    if ((st.st_mode & 077) && fchmod(fd, 0600) != 0) {
        int err = errno;
        close(fd);
        return mig_fail(e, MIG_ERR_SYSTEM, "lock file %s: chmod: %s", path, strerror(err));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

int lock_acquire(const lock_options *o, int *fd, mig_error *e)
{
    *fd = -1;
    char path[PATH_MAX], dir[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s", lock_path(o, dir, sizeof dir)) >= sizeof path)
        return mig_fail(e, MIG_ERR_INPUT, "lock path too long");
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return mig_fail(e, MIG_ERR_INPUT, "lock path %s names a directory, not a file", path);
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    bool is_default = strcmp(path, MIG_LOCK_DEFAULT_PATH) == 0;

    int dfd = open_lock_dir(dir, is_default, e);
    if (dfd < 0)
        return -1;
    int lfd = open_lock_file(dfd, base, path, e);
    close(dfd);
    if (lfd < 0)
        return -1;
    if (flock_retry(lfd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK) {
            int err = errno;
            close(lfd);
            return mig_fail(e, MIG_ERR_SYSTEM, "cannot lock %s: %s", path, strerror(err));
        }
        long holder = lock_holder_pid(lfd);
        if (!o->wait) {
            close(lfd);
            if (holder)
                return mig_fail(e, MIG_ERR_REFUSED,
                                "another migctl (pid %ld) holds the lock %s; not waiting "
                                "(--no-wait)",
                                holder, path);
            return mig_fail(e, MIG_ERR_REFUSED,
                            "another migctl holds the lock %s; not waiting (--no-wait)", path);
        }
        if (o->on_wait)
            o->on_wait(path, holder, o->ctx);
        if (flock_retry(lfd, LOCK_EX) < 0) {
            int err = errno;
            close(lfd);
            return mig_fail(e, MIG_ERR_SYSTEM, "cannot lock %s: %s", path, strerror(err));
        }
    }
    *fd = lfd;
    return 0;
}

void lock_release(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the last descriptor drops the flock */
}
