/*
 * apply_fixture.h: what the apply tests (test_apply.c, test_engine_review.c)
 * share: a temporary simulator state per test program, a backend over it,
 * simulated processes, and one call that parses a config and applies it.
 * Included by exactly one .c file per test program; every function is
 * static and marked unused, since not every program uses all of them.
 */
#ifndef MIGCTL_TESTS_APPLY_FIXTURE_H
#define MIGCTL_TESTS_APPLY_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/migparted.h"
#include "apply/apply.h"
#include "gpu/sim.h"

static char dir[256], state_path[512], journal_path[512];

typedef struct {
    cfg_file f;
    const cfg_config *c;
} parsed_config;

__attribute__((unused)) static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/migctl-test-apply-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(state_path, sizeof state_path, "%s/state.json", dir);
    snprintf(journal_path, sizeof journal_path, "%s/state.json.journal", dir);
    return 0;
}

__attribute__((unused)) static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

__attribute__((unused)) static void check(int rc, const mig_error *e, const char *what)
{
    if (rc < 0)
        fail_msg("%s: %s", what, e->msg);
}

__attribute__((unused)) static void sim_reinit(const char *spec)
{
    mig_error e = {0};
    check(sim_init(state_path, spec, false, &e), &e, "sim_init");
    unlink(journal_path);
}

__attribute__((unused)) static mig_backend *open_backend(void)
{
    mig_backend *b = NULL;
    mig_error e = {0};
    check(sim_backend_open(state_path, &b, &e), &e, "sim_backend_open");
    return b;
}

/* Processes on a GI's first CI (gi >= 0) or on the whole GPU (gi < 0). */
__attribute__((unused)) static void procs(unsigned gpu, int gi, bool start)
{
    mig_error e = {0};
    sim_state *s = sim_open(state_path, true, &e);
    if (!s)
        fail_msg("sim_open: %s", e.msg);
    check(sim_procs(s, gpu, gi, -1, start, &e), &e, "sim_procs");
    check(sim_commit(s, &e), &e, "sim_commit");
    sim_close(s);
}

__attribute__((unused)) static void read_gpu(unsigned gpu, mig_gpu_state *g)
{
    mig_backend *b = open_backend();
    mig_error e = {0};
    check(b->ops->gpu_state(b, gpu, g, &e), &e, "gpu_state");
    backend_close(b);
}

__attribute__((unused)) static void parse_config(const char *yaml, const char *name,
                                                 parsed_config *pc)
{
    mig_error e = {0};
    check(cfg_parse_string(yaml, strlen(yaml), "test.yaml", &pc->f, &e), &e, "cfg_parse_string");
    pc->c = cfg_select(&pc->f, name, &e);
    if (!pc->c)
        fail_msg("cfg_select: %s", e.msg);
}

__attribute__((unused)) static apply_options base_options(void)
{
    return (apply_options){.config_file = "test.yaml", .config_name = "t",
                           .journal_path = journal_path, .hook_timeout_ms = 5000};
}

__attribute__((unused)) static apply_result run_apply(const char *yaml, const char *name,
                                                     const apply_options *o, apply_report *r)
{
    parsed_config pc;
    parse_config(yaml, name, &pc);
    mig_backend *b = open_backend();
    apply_run(b, pc.c, o, r);
    backend_close(b);
    cfg_free(&pc.f);
    return r->result;
}

#endif
