/*
 * strset.c: see strset.h. Capacity is a power of two kept at most half
 * full, so a probe sequence is short and always ends at an empty slot.
 */
#include "util/strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int grow(strset *s)
{
    size_t nc = s->cap ? s->cap * 2 : 64;
    const char **ns = calloc(nc, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i]) {
            size_t j = hash(s->slot[i]) & (nc - 1);
            while (ns[j])
                j = (j + 1) & (nc - 1);
            ns[j] = s->slot[i];
        }
    free(s->slot);
    s->slot = ns;
    s->cap = nc;
    return 0;
}

int strset_add(strset *s, const char *str, const char **first)
{
    if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
        return -1;
    size_t j = hash(str) & (s->cap - 1);
    while (s->slot[j]) {
        if (!strcmp(s->slot[j], str)) {
            if (first)
                *first = s->slot[j];
            return 0;
        }
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = str;
    s->n++;
    return 1;
}

void strset_free(strset *s)
{
    free(s->slot);
    memset(s, 0, sizeof *s);
}
