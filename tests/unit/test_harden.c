/*
 * test_harden.c: the apply lock's and the journal's defences (issue 10):
 * the lock refuses a link, a non-regular file, a file or directory another
 * user owns and a directory others may write; it names its holder from the
 * kernel's lock table, not from what the file says; the journal is written
 * without following a link at its path, read bounded and never from a FIFO
 * or a device, and an unreadable one can be moved aside.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply/journal.h"
#include "apply/lock.h"

static char dir[256];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/migctl-harden-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static char *slurp(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    return buf;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ lock */

static void test_lock_path_precedence(void **st)
{
    (void)st;
    char buf[256];
    lock_options o = {0};
    assert_string_equal(lock_path(&o, buf, sizeof buf), "/run/migctl/apply.lock");
    o.sim_state = "/x/state.json";
    assert_string_equal(lock_path(&o, buf, sizeof buf), "/x/state.json.apply.lock");
    o.env_path = "/y/env.lock";
    assert_string_equal(lock_path(&o, buf, sizeof buf), "/y/env.lock");
    o.path = "/z/flag.lock";
    assert_string_equal(lock_path(&o, buf, sizeof buf), "/z/flag.lock");
}

static void test_lock_refuses_symlink(void **st)
{
    (void)st;
    char victim[300], link[300];
    path_in(victim, sizeof victim, "victim");
    path_in(link, sizeof link, "link.lock");
    write_file(victim, "precious\n", 0600);
    assert_int_equal(symlink(victim, link), 0);
    lock_options o = {.path = link};
    int fd = -1;
    mig_error e = {0};
    assert_int_equal(lock_acquire(&o, &fd, &e), -1);
    assert_int_equal(fd, -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "symbolic link"));
    assert_string_equal(slurp(victim), "precious\n");
    struct stat sb;
    assert_int_equal(stat(victim, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    /* a dangling link must not make root create its target either */
    char dangling[300], target[300];
    path_in(dangling, sizeof dangling, "dangling.lock");
    path_in(target, sizeof target, "created-through-link");
    assert_int_equal(symlink(target, dangling), 0);
    o.path = dangling;
    assert_int_equal(lock_acquire(&o, &fd, &e), -1);
    assert_int_equal(access(target, F_OK), -1);
}

static void test_lock_refuses_fifo_at_once(void **st)
{
    (void)st;
    char fifo[300];
    path_in(fifo, sizeof fifo, "fifo.lock");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    lock_options o = {.path = fifo, .wait = true};
    int fd = -1;
    mig_error e = {0};
    double t0 = now_s();
    assert_int_equal(lock_acquire(&o, &fd, &e), -1);
    assert_true(now_s() - t0 < 1.0);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "not a regular file"));
}

static void test_lock_refuses_writable_dir(void **st)
{
    (void)st;
    char sub[300], lock[320];
    path_in(sub, sizeof sub, "shared");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(chmod(sub, 01777), 0); /* like /tmp and /run/lock */
    snprintf(lock, sizeof lock, "%s/apply.lock", sub);
    lock_options o = {.path = lock};
    int fd = -1;
    mig_error e = {0};
    assert_int_equal(lock_acquire(&o, &fd, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "writable by everyone"));
    assert_int_equal(access(lock, F_OK), -1); /* nothing created there */
    assert_int_equal(chmod(sub, 0770), 0);
    assert_int_equal(lock_acquire(&o, &fd, &e), -1);
    assert_non_null(strstr(e.msg, "writable by its group"));
    assert_int_equal(chmod(sub, 0755), 0);
    assert_int_equal(lock_acquire(&o, &fd, &e), 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600); /* created 0600 whatever the umask */
    lock_release(fd);
}

static void test_lock_refuses_other_owner(void **st)
{
    (void)st;
    if (geteuid() != 0) {
        skip(); /* needs root to make a file another user owns */
        return;
    }
    char lock[300], sub[300], lock2[320];
    path_in(lock, sizeof lock, "theirs.lock");
    write_file(lock, "", 0600);
    assert_int_equal(chown(lock, 65534, 65534), 0);
    lock_options o = {.path = lock};
    int fd = -1;
    mig_error e = {0};
    assert_int_equal(lock_acquire(&o, &fd, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_SYSTEM);
    assert_non_null(strstr(e.msg, "owned by uid 65534"));
    path_in(sub, sizeof sub, "theirdir");
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(chown(sub, 65534, 65534), 0);
    snprintf(lock2, sizeof lock2, "%s/apply.lock", sub);
    o.path = lock2;
    assert_int_equal(lock_acquire(&o, &fd, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_SYSTEM);
    assert_non_null(strstr(e.msg, "lock directory"));
    assert_int_equal(access(lock2, F_OK), -1);
}

/* An older migctl's 0644 lock could be opened (and held) by anyone: it is
 * narrowed to 0600 when taken. */
static void test_lock_narrows_mode(void **st)
{
    (void)st;
    char lock[300];
    path_in(lock, sizeof lock, "old.lock");
    write_file(lock, "1\n", 0644);
    assert_int_equal(chmod(lock, 0644), 0);
    lock_options o = {.path = lock};
    int fd = -1;
    mig_error e = {0};
    assert_int_equal(lock_acquire(&o, &fd, &e), 0);
    struct stat sb;
    assert_int_equal(stat(lock, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_string_equal(slurp(lock), "1\n"); /* never written to */
    lock_release(fd);
}

/* The holder is the process the kernel says holds the flock, whatever the
 * file's content claims (here: "pid 1"). */
static void test_lock_names_real_holder(void **st)
{
    (void)st;
    char lock[300];
    path_in(lock, sizeof lock, "held.lock");
    write_file(lock, "1\n", 0600);
    int locked[2], release[2];
    assert_int_equal(pipe(locked), 0);
    assert_int_equal(pipe(release), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(lock, O_RDWR);
        char c;
        if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(locked[1], "x", 1) != 1 ||
            read(release[0], &c, 1) != 1)
            _exit(1);
        _exit(0);
    }
    char c;
    assert_int_equal(read(locked[0], &c, 1), 1);
    lock_options o = {.path = lock, .wait = false};
    int fd = -1;
    mig_error e = {0};
    assert_int_equal(lock_acquire(&o, &fd, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_REFUSED);
    char want[64];
    snprintf(want, sizeof want, "(pid %ld)", (long)pid);
    assert_non_null(strstr(e.msg, want));
    assert_null(strstr(e.msg, "(pid 1)"));
    assert_int_equal(write(release[1], "r", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(lock_acquire(&o, &fd, &e), 0);
    assert_int_equal(lock_holder_pid(fd), 0); /* only we hold it now */
    lock_release(fd);
    close(locked[0]);
    close(locked[1]);
    close(release[0]);
    close(release[1]);
}

/* ------------------------------------------------------------ journal */

static void sample_journal(mig_journal *j)
{
    memset(j, 0, sizeof *j);
    j->pid = 4242;
    snprintf(j->config_file, sizeof j->config_file, "/etc/migctl/config.yaml");
    snprintf(j->config_name, sizeof j->config_name, "balanced");
    snprintf(j->phase, sizeof j->phase, "apply");
    j->done = 1;
    j->n_ops = 3;
}

static void test_journal_write_replaces_link(void **st)
{
    (void)st;
    char victim[300], jpath[300];
    path_in(victim, sizeof victim, "victim2");
    path_in(jpath, sizeof jpath, "journal.json");
    write_file(victim, "root only\n", 0600);
    assert_int_equal(symlink(victim, jpath), 0);
    /* the old predictable temp name, pre-made as a link, is ignored too */
    char oldtmp[340];
    snprintf(oldtmp, sizeof oldtmp, "%s.tmp.%ld", jpath, (long)getpid());
    assert_int_equal(symlink(victim, oldtmp), 0);
    mode_t old = umask(0);
    mig_journal j;
    sample_journal(&j);
    mig_error e = {0};
    assert_int_equal(journal_write(jpath, &j, NULL, &e), 0);
    umask(old);
    assert_string_equal(slurp(victim), "root only\n");
    struct stat sb;
    assert_int_equal(lstat(jpath, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0644); /* not 0666 under umask 0 */
    mig_journal back;
    bool exists = false;
    assert_int_equal(journal_read(jpath, &back, &exists, &e), 0);
    assert_true(exists);
    assert_int_equal(back.pid, 4242);
    assert_int_equal(back.done, 1);
    assert_string_equal(back.config_name, "balanced");
}

static void test_journal_read_refuses_non_regular(void **st)
{
    (void)st;
    char fifo[300];
    path_in(fifo, sizeof fifo, "journal.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *paths[] = {fifo, "/dev/zero", dir};
    for (size_t i = 0; i < 3; i++) {
        mig_journal j;
        bool exists = false;
        mig_error e = {0};
        double t0 = now_s();
        assert_int_equal(journal_read(paths[i], &j, &exists, &e), -1);
        assert_true(now_s() - t0 < 1.0);
        assert_true(exists);
        assert_int_equal(e.kind, MIG_ERR_INPUT);
        assert_non_null(strstr(e.msg, "not a regular file"));
    }
}

static void test_journal_read_bounded(void **st)
{
    (void)st;
    char big[300];
    path_in(big, sizeof big, "big.json");
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)100 << 20), 0); /* 100 MB, sparse */
    close(fd);
    mig_journal j;
    bool exists = false;
    mig_error e = {0};
    double t0 = now_s();
    assert_int_equal(journal_read(big, &j, &exists, &e), -1);
    assert_true(now_s() - t0 < 1.0);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "limit"));
    /* missing: no journal, no error */
    char none[300];
    path_in(none, sizeof none, "none.json");
    assert_int_equal(journal_read(none, &j, &exists, &e), 0);
    assert_false(exists);
}

static void test_journal_discard(void **st)
{
    (void)st;
    char jpath[300], aside[400];
    path_in(jpath, sizeof jpath, "bad-journal.json");
    write_file(jpath, "{\"version\": 1, \"pid\": tru", 0644);
    mig_journal j;
    bool exists = false;
    mig_error e = {0};
    assert_int_equal(journal_read(jpath, &j, &exists, &e), -1);
    assert_true(exists);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_int_equal(journal_discard(jpath, aside, sizeof aside, &e), 0);
    assert_int_equal(access(jpath, F_OK), -1);
    assert_string_equal(slurp(aside), "{\"version\": 1, \"pid\": tru");
    assert_int_equal(journal_read(jpath, &j, &exists, &e), 0);
    assert_false(exists);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_path_precedence),
        cmocka_unit_test_setup_teardown(test_lock_refuses_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_refuses_fifo_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_refuses_writable_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_refuses_other_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_narrows_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_names_real_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_write_replaces_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_read_refuses_non_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_read_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_discard, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
