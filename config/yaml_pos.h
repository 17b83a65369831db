/*
 * yaml_pos.h: where a libyaml parse error is, as a 1-based line and column.
 *
 * libyaml reports reader errors (bytes that are not UTF-8, a control
 * character) with problem_offset, a byte offset into the input, and leaves
 * problem_mark at 0:0, so every such error read "1:1". This turns the
 * offset into a line and column of the text the parser was given; scanner
 * and parser errors keep their problem_mark.
 */
#ifndef MIGCTL_CONFIG_YAML_POS_H
#define MIGCTL_CONFIG_YAML_POS_H

#include <stddef.h>

#include <yaml.h>

/* The position of yp's error in text[0..len): *line and *col are 1-based;
 * the column counts characters (UTF-8 sequences count once), as libyaml's
 * marks do. */
void yaml_error_position(const yaml_parser_t *yp, const char *text, size_t len, unsigned *line,
                         unsigned *col);

#endif
