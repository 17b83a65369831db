/*
 * fuzz_journal.c: apply's journal reader (journal_parse, what journal_read
 * runs on a file's bytes) on arbitrary bytes. A journal is read at the start
 * of every apply, possibly after a crash mid-write of something else, so it
 * must reject anything that is not a journal as MIG_ERR_INPUT with a
 * message, and whatever it accepts must stay within the fixed-size arrays
 * it fills.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "apply/journal.h"

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_journal: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mig_journal *j = malloc(sizeof *j);
    must(j != NULL, "out of memory");
    mig_error e = {0};
    if (journal_parse((const char *)data, size, "fuzz-journal.json", j, &e) < 0) {
        must(e.kind == MIG_ERR_INPUT && e.msg[0], "rejection without an input error");
    } else {
        must(j->n_before <= MIG_MAX_GPUS, "more GPUs than the array holds");
        for (unsigned i = 0; i < j->n_before; i++) {
            must(j->before[i].n_gi <= MIG_MAX_GI, "more GIs than the array holds");
            for (unsigned k = 0; k < j->before[i].n_gi; k++)
                must(j->before[i].gi[k].n_ci <= MIG_MAX_CI, "more CIs than the array holds");
        }
    }
    free(j);
    return 0;
}
