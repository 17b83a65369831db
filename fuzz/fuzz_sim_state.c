/*
 * fuzz_sim_state.c: the simulator's state-file loader (sim_parse) on
 * arbitrary bytes. Anything it rejects must come back as MIG_ERR_INPUT with
 * a message; anything it accepts must be a state the operations can work
 * on: it is dumped and parsed again (the two dumps must be identical), its
 * capacities queried and an instance created and destroyed on every GPU,
 * and the result must still dump and re-parse. A violation aborts, which
 * libFuzzer (or the replay under ctest) reports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/sim.h"
#include "util/nvml_rc.h"

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_sim_state: %s\n", what);
        abort();
    }
}

static void roundtrip(const sim_state *s, sim_state *scratch)
{
    mig_error e;
    char *text = sim_dump(s);
    must(text != NULL, "dump failed");
    must(sim_parse(text, strlen(text), "dump", scratch, &e) == 0, e.msg);
    char *again = sim_dump(scratch);
    must(again && strcmp(text, again) == 0, "dump/parse/dump differs");
    free(text);
    free(again);
}

static void exercise(sim_state *s)
{
    for (unsigned g = 0; g < s->n_gpus; g++) {
        const mig_model *m = s->gpus[g].model;
        for (unsigned p = 0; p < m->n_profiles; p++) {
            unsigned left = 0, id;
            must(sim_remaining(s, g, m->profiles[p].id, &left) == NVML_SUCCESS, "remaining");
            int rc = sim_create_gi(s, g, m->profiles[p].id, -1, &id);
            if (!s->gpus[g].mig_current) {
                must(rc == NVML_ERROR_NOT_SUPPORTED, "create with MIG off");
                continue;
            }
            must((rc == NVML_SUCCESS) == (left > 0), "remaining disagrees with create");
            if (rc == NVML_SUCCESS)
                must(sim_destroy_gi(s, g, id) == NVML_SUCCESS, "destroy what was created");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sim_state *s = calloc(2, sizeof *s);
    must(s != NULL, "out of memory");
    mig_error e = {0};
    if (sim_parse((const char *)data, size, "fuzz", s, &e) < 0) {
        must(e.kind == MIG_ERR_INPUT && e.msg[0], "rejection without a message");
    } else {
        roundtrip(s, s + 1);
        exercise(s);
        roundtrip(s, s + 1);
    }
    free(s);
    return 0;
}
