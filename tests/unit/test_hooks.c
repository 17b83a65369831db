/*
 * test_hooks.c: the hooks file parser (mig-parted's format, strict, with
 * file:line:col errors) and the runner: the environment a command sees
 * (caller's PATH, the hook's envs, migctl's variables, which win), workdir,
 * failure stopping the list, exec failures, and the timeout killing the
 * whole process group. Commands are /bin/sh one-liners writing into a
 * temporary directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply/hooks.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/migctl-test-hooks-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void parse_ok(const char *text, hooks_file *h)
{
    mig_error e = {0};
    int rc = hooks_parse_string(text, strlen(text), "hooks.yaml", h, &e);
    if (rc != 0)
        fail_msg("unexpected parse error: %s", e.msg);
}

static void expect_parse_error(const char *text, const char *where, const char *words)
{
    hooks_file h;
    mig_error e = {0};
    assert_int_equal(hooks_parse_string(text, strlen(text), "hooks.yaml", &h, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    char msg[2048];
    mig_error_format(&e, msg, sizeof msg);
    if (!strstr(msg, where) || !strstr(msg, words))
        fail_msg("error '%s' lacks '%s' or '%s'", msg, where, words);
}

/* Read a whole small file into buf; "" if missing. */
static const char *slurp(const char *name, char *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    return buf;
}

static bool exists(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return access(path, F_OK) == 0;
}

/* ------------------------------------------------------------ parsing */

static void test_parse_mig_parted_file(void **state)
{
    (void)state;
    hooks_file h;
    parse_ok("version: v1\n"
             "hooks:\n"
             "  apply-start:\n"
             "    - workdir: /etc\n"
             "      command: /bin/bash\n"
             "      args: [\"-c\", \"echo start\"]\n"
             "      envs:\n"
             "        A: \"1\"\n"
             "        B: two\n"
             "  apply-exit:\n"
             "    - command: true\n"
             "    - command: /bin/echo\n"
             "      args: [done]\n",
             &h);
    assert_int_equal(h.n[HOOK_APPLY_START], 1);
    assert_int_equal(h.n[HOOK_PRE_APPLY_MODE], 0);
    assert_int_equal(h.n[HOOK_PRE_APPLY_CONFIG], 0);
    assert_int_equal(h.n[HOOK_APPLY_EXIT], 2);
    const hook_command *c = &h.cmds[HOOK_APPLY_START][0];
    assert_string_equal(c->command, "/bin/bash");
    assert_string_equal(c->workdir, "/etc");
    assert_int_equal(c->n_args, 2);
    assert_string_equal(c->args[1], "echo start");
    assert_int_equal(c->n_envs, 2);
    assert_string_equal(c->envs[1].name, "B");
    assert_string_equal(c->envs[1].value, "two");
    assert_int_equal(c->line, 4);
    assert_int_equal(c->col, 7);
    assert_string_equal(h.cmds[HOOK_APPLY_EXIT][1].args[0], "done");
    hooks_free(&h);
}

static void test_parse_errors_name_line_and_column(void **state)
{
    (void)state;
    expect_parse_error("version: v2\nhooks: {}\n", "hooks.yaml:1:10", "expected v1");
    expect_parse_error("hooks: {}\n", "hooks.yaml:1:1", "version");
    expect_parse_error("version: v1\nhook: {}\n", "hooks.yaml:2:1", "unknown key 'hook'");
    expect_parse_error("version: v1\nhooks:\n  apply-begin: []\n", "hooks.yaml:3:3",
                       "unknown hook 'apply-begin'");
    expect_parse_error("version: v1\nhooks:\n  apply-start:\n    - args: [x]\n", "hooks.yaml:4:7",
                       "command");
    expect_parse_error("version: v1\nhooks:\n  apply-start:\n    - command: x\n      arg: [y]\n",
                       "hooks.yaml:5:7", "unknown key 'arg'");
    expect_parse_error("version: v1\nhooks:\n  apply-start:\n    - command: x\n      args: y\n",
                       "hooks.yaml:5:13", "list");
    expect_parse_error("version: v1\nhooks:\n  apply-start: {command: x}\n", "hooks.yaml:3:16",
                       "list of commands");
    expect_parse_error("version: v1\nhooks: [\n", "hooks.yaml:", "");
}

static void test_parse_file_missing(void **state)
{
    (void)state;
    hooks_file h;
    mig_error e = {0};
    assert_int_equal(hooks_parse_file("/nonexistent/hooks.yaml", &h, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_INPUT);
    assert_non_null(strstr(e.msg, "/nonexistent/hooks.yaml"));
}

/* ------------------------------------------------------------ running */

static int run_text(const char *yaml, hook_point p, const hook_run_options *o, mig_error *e)
{
    hooks_file h;
    parse_ok(yaml, &h);
    int rc = hooks_run(&h, p, o, e);
    hooks_free(&h);
    return rc;
}

static void test_environment_path_envs_and_vars(void **state)
{
    (void)state;
    char yaml[1024];
    /* "sh" without a slash: found only through the inherited PATH. */
    snprintf(yaml, sizeof yaml,
             "version: v1\n"
             "hooks:\n"
             "  pre-apply-config:\n"
             "    - command: sh\n"
             "      args: [\"-c\", \"printf %%s \\\"$PATH\\\" > path; printf %%s \\\"$MINE\\\" > mine; "
             "printf %%s \\\"$MIGCTL_GPUS\\\" > gpus; printf %%s \\\"$MIGCTL_OPERATIONS\\\" > ops; "
             "printf %%s \\\"$MIGCTL_GPUS_OVERRIDE\\\" > over; printf %%s \\\"$HOME\\\" > home\"]\n"
             "      workdir: %s\n"
             "      envs: {MINE: hello, MIGCTL_GPUS_OVERRIDE: from-hook, MIGCTL_GPUS: from-hook}\n",
             tmpdir);
    hook_var vars[] = {{"MIGCTL_GPUS", "0,3"},
                       {"MIGCTL_OPERATIONS", "0 create-gi 1g.10gb 6 1\n3 destroy-gi 7g.80gb 0 8\n"}};
    hook_run_options o = {.timeout_ms = 5000, .n_vars = 2, .vars = vars};
    mig_error e = {0};
    if (run_text(yaml, HOOK_PRE_APPLY_CONFIG, &o, &e) != 0)
        fail_msg("hook failed: %s", e.msg);
    char buf[4096];
    assert_string_equal(slurp("path", buf, sizeof buf), getenv("PATH"));
    assert_string_equal(slurp("mine", buf, sizeof buf), "hello");
    /* migctl's variables win over the hook's envs of the same name */
    assert_string_equal(slurp("gpus", buf, sizeof buf), "0,3");
    assert_string_equal(slurp("over", buf, sizeof buf), "from-hook");
    assert_string_equal(slurp("ops", buf, sizeof buf),
                        "0 create-gi 1g.10gb 6 1\n3 destroy-gi 7g.80gb 0 8");
    const char *home = getenv("HOME");
    assert_string_equal(slurp("home", buf, sizeof buf), home ? home : "");
}

static void test_failure_stops_the_list(void **state)
{
    (void)state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "version: v1\nhooks:\n  apply-start:\n"
             "    - {command: /bin/sh, args: [-c, 'touch first'], workdir: %s}\n"
             "    - {command: /bin/sh, args: [-c, 'exit 3'], workdir: %s}\n"
             "    - {command: /bin/sh, args: [-c, 'touch third'], workdir: %s}\n",
             tmpdir, tmpdir, tmpdir);
    mig_error e = {0};
    assert_int_equal(run_text(yaml, HOOK_APPLY_START, NULL, &e), -1);
    assert_int_equal(e.kind, MIG_ERR_SYSTEM);
    assert_non_null(strstr(e.msg, "apply-start #2"));
    assert_non_null(strstr(e.msg, "exited with status 3"));
    assert_true(exists("first"));
    assert_false(exists("third"));
}

static void test_other_points_do_not_run(void **state)
{
    (void)state;
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "version: v1\nhooks:\n  apply-exit:\n"
             "    - {command: /bin/sh, args: [-c, 'touch exit-ran'], workdir: %s}\n",
             tmpdir);
    mig_error e = {0};
    assert_int_equal(run_text(yaml, HOOK_APPLY_START, NULL, &e), 0);
    assert_false(exists("exit-ran"));
    assert_int_equal(run_text(yaml, HOOK_APPLY_EXIT, NULL, &e), 0);
    assert_true(exists("exit-ran"));
    assert_int_equal(hooks_run(NULL, HOOK_APPLY_EXIT, NULL, &e), 0);
}

static void test_exec_and_workdir_failures(void **state)
{
    (void)state;
    mig_error e = {0};
    assert_int_equal(run_text("version: v1\nhooks:\n  apply-start:\n"
                              "    - command: /nonexistent/migctl-hook\n",
                              HOOK_APPLY_START, NULL, &e),
                     -1);
    assert_non_null(strstr(e.msg, "cannot run"));
    assert_non_null(strstr(e.msg, strerror(ENOENT)));
    assert_int_equal(run_text("version: v1\nhooks:\n  apply-start:\n"
                              "    - {command: /bin/true, workdir: /nonexistent/dir}\n",
                              HOOK_APPLY_START, NULL, &e),
                     -1);
    assert_non_null(strstr(e.msg, "cannot enter workdir"));
    assert_int_equal(run_text("version: v1\nhooks:\n  apply-start:\n"
                              "    - {command: /bin/sh, args: [-c, 'kill -TERM $$']}\n",
                              HOOK_APPLY_START, NULL, &e),
                     -1);
    assert_non_null(strstr(e.msg, "killed by signal"));
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_timeout_kills_the_process_group(void **state)
{
    (void)state;
    char yaml[1024];
    /* The shell starts a grandchild and waits: a timeout must take both. */
    snprintf(yaml, sizeof yaml,
             "version: v1\nhooks:\n  pre-apply-mode:\n"
             "    - {command: /bin/sh, args: [-c, 'sleep 30 & echo $! > grandchild; wait'], "
             "workdir: %s}\n",
             tmpdir);
    hook_run_options o = {.timeout_ms = 300};
    mig_error e = {0};
    long long t0 = now_ms();
    assert_int_equal(run_text(yaml, HOOK_PRE_APPLY_MODE, &o, &e), -1);
    long long took = now_ms() - t0;
    assert_non_null(strstr(e.msg, "timed out"));
    assert_true(took >= 300 && took < 5000);
    char buf[64];
    long pid = strtol(slurp("grandchild", buf, sizeof buf), NULL, 10);
    assert_true(pid > 0);
    /* The orphaned grandchild is reaped by init; give it a moment. */
    bool gone = false;
    for (int i = 0; i < 200 && !gone; i++) {
        gone = kill((pid_t)pid, 0) < 0 && errno == ESRCH;
        if (!gone) {
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (!gone) {
        kill((pid_t)pid, SIGKILL);
        fail_msg("grandchild %ld outlived the hook's timeout", pid);
    }
}

static void test_cancel_kills_the_running_command(void **state)
{
    (void)state;
    volatile sig_atomic_t cancel = 1; /* as if SIGTERM had arrived */
    hook_run_options o = {.timeout_ms = 20000, .cancel = &cancel};
    mig_error e = {0};
    long long t0 = now_ms();
    assert_int_equal(run_text("version: v1\nhooks:\n  apply-start:\n"
                              "    - {command: sleep, args: ['30']}\n",
                              HOOK_APPLY_START, &o, &e),
                     -1);
    assert_non_null(strstr(e.msg, "interrupted"));
    assert_true(now_ms() - t0 < 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_mig_parted_file),
        cmocka_unit_test(test_parse_errors_name_line_and_column),
        cmocka_unit_test(test_parse_file_missing),
        cmocka_unit_test_setup_teardown(test_environment_path_envs_and_vars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_stops_the_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_points_do_not_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_and_workdir_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills_the_process_group, setup, teardown),
        cmocka_unit_test(test_cancel_kills_the_running_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
