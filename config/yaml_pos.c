/*
 * yaml_pos.c: line and column of a libyaml error, including reader errors
 * (invalid UTF-8), which libyaml reports only as a byte offset.
 */
#include "config/yaml_pos.h"

void yaml_error_position(const yaml_parser_t *yp, const char *text, size_t len, unsigned *line,
                         unsigned *col)
{
    if (yp->error != YAML_READER_ERROR || !text) {
        const yaml_mark_t *m = yp->problem ? &yp->problem_mark : &yp->mark;
        *line = (unsigned)m->line + 1;
        *col = (unsigned)m->column + 1;
        return;
    }
    size_t end = yp->problem_offset < len ? yp->problem_offset : len;
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < end; i++) {
        unsigned char b = (unsigned char)text[i];
        if (b == '\n') {
            l++;
            c = 1;
        } else if ((b & 0xC0) != 0x80) { /* not a continuation byte: one more character */
            c++;
        }
    }
    *line = l;
    *col = c;
}
