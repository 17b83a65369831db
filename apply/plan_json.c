/*
 * plan_json.c: a reconcile plan as data for machines (the JSON shapes in
 * plan_json.h). People's text and slot maps are cli/render.c's: this layer
 * returns data, never text for a terminal or colour.
 */
#include <stdio.h>
#include <string.h>

#include "apply/plan_json.h"
#include "model/layout.h"

/* ------------------------------------------------------------ JSON */

static json_t *placement(unsigned start, unsigned size)
{
    return json_pack("{s:I, s:I}", "start", (json_int_t)start, "size", (json_int_t)size);
}

json_t *plan_op_to_json(const mig_plan *p, const mig_op *op)
{
    json_t *o = json_pack("{s:I, s:s}", "gpu", (json_int_t)op->gpu, "op", mig_op_kind_name(op->kind));
    if (!o)
        return NULL;
    if (op->kind == MIG_OP_SET_MODE) {
        json_object_set_new(o, "mig_enabled", json_boolean(op->enable));
        return o;
    }
    json_object_set_new(o, "profile", json_string(op->profile));
    json_object_set_new(o, "profile_id", json_integer(op->profile_id));
    json_object_set_new(o, "placement", placement(op->start, op->size));
    bool ci_op = op->kind == MIG_OP_DESTROY_CI || op->kind == MIG_OP_CREATE_CI;
    if (ci_op) {
        unsigned gi_size = 0;
        if (op->gi_ref >= 0 && (unsigned)op->gi_ref < p->n_ops)
            gi_size = p->ops[op->gi_ref].size;
        if (op->gi_ref >= 0)
            json_object_set_new(o, "gi_op", json_integer(op->gi_ref));
        json_object_set_new(o, "gi_placement", gi_size ? placement(op->gi_start, gi_size)
                                                        : json_pack("{s:I}", "start",
                                                                    (json_int_t)op->gi_start));
    }
    if (op->kind != MIG_OP_CREATE_GI && op->gi_ref < 0)
        json_object_set_new(o, "gi_id", json_integer(op->gi_id));
    if (op->kind == MIG_OP_DESTROY_CI)
        json_object_set_new(o, "ci_id", json_integer(op->ci_id));
    if (op->kind == MIG_OP_DESTROY_CI || op->kind == MIG_OP_DESTROY_GI)
        json_object_set_new(o, "busy", json_boolean(op->busy));
    return o;
}

json_t *plan_to_json(const mig_plan *p)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < p->n_ops; i++) {
        json_t *o = plan_op_to_json(p, &p->ops[i]);
        if (!o || json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *plan_gpus_to_json(const mig_plan *p, const mig_gpu_state *gpus, unsigned n_gpus)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < p->n_gpus; i++) {
        const mig_gpu_plan *gp = &p->gpus[i];
        json_t *blockers = json_array();
        for (unsigned j = 0; blockers && j < gp->n_blockers; j++)
            json_array_append_new(blockers, json_integer(gp->blocker_gi[j]));
        json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:b, s:b, s:I}", "gpu", (json_int_t)gp->gpu,
                              "status", mig_gpu_plan_status_name(gp->status), "reason", gp->reason,
                              "blockers", blockers ? blockers : json_array(), "mode_change",
                              gp->mode_change, "needs_reset", gp->needs_reset, "operations",
                              (json_int_t)gp->n_ops);
        for (unsigned j = 0; o && gpus && j < n_gpus; j++) {
            if (gpus[j].index != gp->gpu || !gpus[j].model || gp->status == MIG_GPU_UNTOUCHED ||
                gp->status == MIG_GPU_IMPOSSIBLE)
                continue;
            char text[256];
            if (layout_format(gpus[j].model, &gp->target, text, sizeof text) >= 0)
                json_object_set_new(o, "target", json_string(text));
        }
        if (!o || json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
