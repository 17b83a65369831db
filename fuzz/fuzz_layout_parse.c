/*
 * fuzz_layout_parse.c: layout_parse on arbitrary text. The first byte picks
 * the catalogue model, the rest is the layout text. Whatever parses must be a
 * valid layout (layout_check), must print back with layout_format, and the
 * printed form must parse to the same layout; whatever fails must fail with
 * MIG_ERR_INPUT and a message. Any other outcome aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/catalogue.h"
#include "model/layout.h"

static void round_trip(const mig_model *m, const mig_layout *l)
{
    char text[512];
    int len = layout_format(m, l, text, sizeof text);
    if (len < 0 || (size_t)len >= sizeof text || strlen(text) != (size_t)len)
        abort();
    mig_layout back;
    mig_error e = {0};
    if (layout_parse(m, text, &back, &e) != 0 || back.n != l->n)
        abort();
    for (unsigned i = 0; i < l->n; i++)
        if (back.gi[i].profile != l->gi[i].profile || back.gi[i].start != l->gi[i].start)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    unsigned n_models;
    const mig_model *all = mig_catalogue(&n_models);
    const mig_model *m = &all[data[0] % n_models];
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0'; /* embedded NULs just end the text early */
    mig_layout l;
    mig_error e = {0};
    if (layout_parse(m, text, &l, &e) == 0) {
        if (layout_check(m, &l, NULL) != MIG_FIT_OK || l.n > MIG_MAX_GI)
            abort();
        round_trip(m, &l);
    } else if (e.kind != MIG_ERR_INPUT || e.msg[0] == '\0') {
        abort();
    }
    free(text);
    return 0;
}
