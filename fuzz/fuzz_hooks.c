/*
 * fuzz_hooks.c: the mig-parted hooks reader (hooks_parse_string) on
 * arbitrary bytes. A rejection must be MIG_ERR_INPUT with a message; an
 * accepted file must be freeable. Nothing is run: the harness checks the
 * reader, not the commands a file names.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "apply/hooks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hooks_file h;
    mig_error e = {0};
    if (hooks_parse_string((const char *)data, size, "fuzz-hooks.yaml", &h, &e) < 0) {
        if (e.kind != MIG_ERR_INPUT || !e.msg[0]) {
            fprintf(stderr, "fuzz_hooks: rejection without an input error: %s\n", e.msg);
            abort();
        }
        return 0;
    }
    hooks_free(&h);
    return 0;
}
