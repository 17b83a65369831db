/*
 * fuzz_fleet.c: the fleet reader (fl_parse_string) on its own, on arbitrary
 * bytes (fuzz_workload also packs what parses, which makes each input
 * slower; this target spends its time on the reader). A rejection must be
 * MIG_ERR_INPUT with a message; an accepted fleet must count its GPUs
 * consistently with its nodes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/workload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fl_fleet f;
    mig_error e = {0};
    if (fl_parse_string((const char *)data, size, "fuzz-fleet.yaml", &f, &e) < 0) {
        if (e.kind != MIG_ERR_INPUT || !e.msg[0]) {
            fprintf(stderr, "fuzz_fleet: rejection without an input error: %s\n", e.msg);
            abort();
        }
        return 0;
    }
    unsigned n = 0;
    for (unsigned i = 0; i < f.n_nodes; i++)
        n += f.nodes[i].n_gpus;
    if (n != f.n_gpus) {
        fprintf(stderr, "fuzz_fleet: nodes hold %u GPUs, the fleet says %u\n", n, f.n_gpus);
        abort();
    }
    fl_free(&f);
    return 0;
}
