/*
 * fileio.c: bounded, non-blocking reads and atomic, link-proof writes (see
 * fileio.h for the contract and why).
 */
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/* fstat-check an open descriptor; stdin may also be a pipe or a terminal,
 * which is what a user means by "-". */
static int check_regular(int fd, const char *path, const char *what, size_t max_bytes,
                         int allow_stream, mig_error *e)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "%s %s: %s", what, path, strerror(errno));
    if (S_ISREG(st.st_mode)) {
        if (max_bytes > 0 && (unsigned long long)st.st_size > max_bytes)
            return mig_fail(e, MIG_ERR_INPUT, "%s %s: %lld bytes, more than the limit of %zu",
                            what, path, (long long)st.st_size, max_bytes);
        return 0;
    }
    if (allow_stream && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
        return 0;
    return mig_fail(e, MIG_ERR_INPUT, "%s %s: is %s, not a regular file", what, path,
                    file_kind(st.st_mode));
}

int fileio_open_regular(const char *path, const char *what, size_t max_bytes, mig_error *e)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        mig_err_kind k = (errno == ENOENT || errno == ENOTDIR || errno == EACCES ||
                          errno == ELOOP || errno == ENXIO)
                             ? MIG_ERR_INPUT
                             : MIG_ERR_SYSTEM;
        return mig_fail(e, k, "%s %s: %s", what, path, strerror(errno));
    }
    if (check_regular(fd, path, what, max_bytes, 0, e) != 0) {
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

int fileio_read(const char *path, const char *what, size_t max_bytes, char **data,
                size_t *len, mig_error *e)
{
    *data = NULL;
    *len = 0;
    int is_stdin = strcmp(path, "-") == 0;
    int fd;
    if (is_stdin) {
        fd = STDIN_FILENO;
        if (check_regular(fd, "(standard input)", what, max_bytes, 1, e) != 0)
            return -1;
    } else {
        fd = fileio_open_regular(path, what, max_bytes, e);
        if (fd < 0)
            return -1;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int rc = -1;
    if (!buf) {
        mig_fail(e, MIG_ERR_SYSTEM, "%s %s: out of memory", what, path);
        goto out;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max_bytes + 1) {
                mig_fail(e, MIG_ERR_INPUT, "%s %s: more than the limit of %zu bytes", what,
                         is_stdin ? "(standard input)" : path, max_bytes);
                goto out;
            }
            size_t ncap = cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                mig_fail(e, MIG_ERR_SYSTEM, "%s %s: out of memory", what, path);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            mig_fail(e, errno == EISDIR ? MIG_ERR_INPUT : MIG_ERR_SYSTEM, "%s %s: %s", what,
                     is_stdin ? "(standard input)" : path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max_bytes) {
            mig_fail(e, MIG_ERR_INPUT, "%s %s: more than the limit of %zu bytes", what,
                     is_stdin ? "(standard input)" : path, max_bytes);
            goto out;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (!is_stdin)
        close(fd);
    return rc;
}

static void split_dir(const char *path, char *dir, size_t dcap, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dcap, ".");
        *base = path;
    } else if (slash == path) {
        snprintf(dir, dcap, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dcap, "%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
}

int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                        mig_error *e)
{
    char dir[PATH_MAX];
    const char *base;
    if (!path || !*path)
        return mig_fail(e, MIG_ERR_INPUT, "no output path given");
    split_dir(path, dir, sizeof dir, &base);
    if (!*base)
        return mig_fail(e, MIG_ERR_INPUT, "%s: names a directory, not a file", path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return mig_fail(e, MIG_ERR_INPUT, "%s: is a directory", path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return mig_fail(e, MIG_ERR_INPUT, "%s: directory %s does not exist", path, dir);

    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base) >= (int)sizeof tmp)
        return mig_fail(e, MIG_ERR_INPUT, "%s: path too long", path);
    /* mkstemp: O_CREAT|O_EXCL with a random suffix; mode 0600 until fchmod. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return mig_fail(e, MIG_ERR_SYSTEM, "%s: cannot create a temp file in %s: %s", path, dir,
                        strerror(errno));
    const char *p = data;
    size_t left = len;
    int rc = 0;
    if (fchmod(fd, mode) != 0)
        rc = mig_fail(e, MIG_ERR_SYSTEM, "%s: fchmod: %s", path, strerror(errno));
    while (rc == 0 && left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = mig_fail(e, MIG_ERR_SYSTEM, "%s: write: %s", path, strerror(errno));
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = mig_fail(e, MIG_ERR_SYSTEM, "%s: fsync: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = mig_fail(e, MIG_ERR_SYSTEM, "%s: close: %s", path, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = mig_fail(e, MIG_ERR_SYSTEM, "%s: rename: %s", path, strerror(errno));
    if (rc != 0) {
        unlink(tmp);
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

int fileio_mkdir(const char *path, mode_t mode, mig_error *e)
{
    if (mkdir(path, mode) == 0) {
        if (chmod(path, mode) != 0)
            return mig_fail(e, MIG_ERR_SYSTEM, "%s: chmod: %s", path, strerror(errno));
        return 0;
    }
    if (errno != EEXIST)
        return mig_fail(e, errno == ENOENT || errno == ENOTDIR || errno == EACCES ||
                                   errno == EROFS
                               ? MIG_ERR_INPUT
                               : MIG_ERR_SYSTEM,
                        "%s: mkdir: %s", path, strerror(errno));
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return mig_fail(e, MIG_ERR_INPUT, "%s: exists and is not a directory", path);
    return 0;
}
