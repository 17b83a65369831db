/*
 * strset.h: a set of strings (open addressing, FNV-1a), for duplicate-name
 * checks in readers that see thousands of names: one pass, not a scan of
 * every earlier name for each new one. The set keeps pointers: the strings
 * must outlive it.
 */
#ifndef MIGCTL_UTIL_STRSET_H
#define MIGCTL_UTIL_STRSET_H

#include <stddef.h>

typedef struct {
    const char **slot;
    size_t cap, n;
} strset;

/* 1: added; 0: already there (*first = the string added before); -1: out of memory. */
int strset_add(strset *s, const char *str, const char **first);
void strset_free(strset *s);

#endif
