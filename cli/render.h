/*
 * render.h: the one renderer of slot maps and apply plans (docs/design.md "What a
 * person sees"). Everything migctl draws for people goes through here, so
 * `status`, `layouts`, `replan` and `apply --dry-run` draw a GPU with the
 * same cells; the library layers below cli/ return data (states, layouts,
 * plans, progress events) and never text or colour.
 *
 * A GPU is a bar of its memory slices, one cell per slice; each GI is one
 * bracketed box spanning its slices, labelled with the longest form that
 * fits (profile name and "GI <id>", then shorter ones); a free slice is one
 * "[ free ]" cell. Cell width follows the number of slices (8 slices:
 * 9 columns, 4: 18, 12: 7) so that every line stays under ~110 columns. The
 * index line, every bar and the busy line start at the same column, so a
 * picture of a GPU in `status` and its "before" bar in a plan line up cell for
 * cell. Colour (ANSI) only when the caller says so; the text is the same
 * either way.
 *
 * A plan, per GPU: a status line, the slot map before and after, each box
 * marked "=" kept, "~" kept with its compute instances changed, "x"
 * destroyed, "+" created, "!" busy and in the way of a blocked plan, then
 * the operations in the order they run; blocked and impossible GPUs say why.
 */
#ifndef MIGCTL_CLI_RENDER_H
#define MIGCTL_CLI_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "apply/apply.h"
#include "apply/reconcile.h"
#include "model/catalogue.h"
#include "model/gpu_state.h"
#include "model/layout.h"

/* One GPU as its memory slices, each GI labelled with its profile name and
 * "GI <id>", a header line with the GPU index, name, "MIG on/off" (and
 * "pending on/off" when pending differs), compute used/total, memory
 * used/total; a line under the bar marks each GI busy or idle. */
void draw_gpu(FILE *out, const mig_gpu_state *g, bool color);

/* A bare layout of model m (no ids, no busy line), same cell geometry. */
void draw_layout(FILE *out, const mig_model *m, const mig_layout *l, bool color);

/* Every GPU of the plan; gpus[] are the states the plan was made from (the
 * "before" maps), matched by index. GPUs the config does not select, and
 * unchanged ones, get one line. */
void render_plan(FILE *out, const mig_plan *p, const mig_gpu_state *gpus, unsigned n_gpus,
                 bool color);

/* One GPU of the plan; g may be NULL (no "before" map then). */
void render_plan_gpu(FILE *out, const mig_plan *p, const mig_gpu_plan *gp,
                     const mig_gpu_state *g, bool color);

/* One operation as one line of text ("create-gi   1g.10gb@6"), no newline. */
void render_op_text(const mig_plan *p, const mig_op *op, char *buf, size_t len);

/* apply's progress events as the lines people read ("[1/3] GPU 0:
 * create-gi 1g.10gb@6 ... ok (GI 9)"); ctx is the FILE * to write to. Give
 * it to apply_options.on_progress. */
void render_apply_progress(void *ctx, const apply_progress *ev);

#endif
