/*
 * draw.h: slot maps, the pictures people read layouts as (docs/design.md "What a
 * person sees"). A GPU is drawn as a bar of its memory slices, one cell per
 * slice; each GI is one bracketed box spanning its slices, labelled with its
 * profile name (shortened to "1g" and then nothing when the box is narrow)
 * and, for a live GPU, "GI <id>". A free slice is one "[ free  ]" cell.
 *
 * Cell width follows the number of slices (8 slices: 9 columns, 4: 18,
 * 12: 7) so that every line stays under ~110 columns. Colour (ANSI) only when
 * the caller says so; the text is the same either way.
 */
#ifndef MIGCTL_CLI_DRAW_H
#define MIGCTL_CLI_DRAW_H

#include <stdbool.h>
#include <stdio.h>

#include "model/catalogue.h"
#include "model/gpu_state.h"
#include "model/layout.h"

/* One GPU as its memory slices, one cell per slice, each GI labelled with its profile name (shortened
 * when the cell is narrow: "1g", then nothing) and "GI <id>", a header line with the GPU index, name,
 * "MIG on/off" (and "pending on/off" when pending differs), compute used/total, memory used/total;
 * a line under the bar marks each GI busy or idle. Colour (ANSI) only when color is true. */
void draw_gpu(FILE *out, const mig_gpu_state *g, bool color);

/* A bare layout of model m (no ids, no busy line), same cell geometry. */
void draw_layout(FILE *out, const mig_model *m, const mig_layout *l, bool color);

#endif
