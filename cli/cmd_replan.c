/*
 * cmd_replan.c: `migctl replan -w WORKLOADS (-f FLEET | --live)`: from the
 * fleet's current layouts and busy instances and the new demand, the plan
 * that drains the fewest GPUs, then needs the fewest operations (plan/
 * replan). Prints the GPUs and nodes to drain, the running work affected,
 * where every new or moved instance goes, and the operations per GPU; with
 * --emit-config, one apply-able config per node of the resulting layouts.
 *
 * Exit: 0 planned with everything placed, 1 some instance cannot be placed
 * even with drains, 2 bad input, 3 backend error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/render.h"
#include "cli/plan_output.h"
#include "config/workload.h"
#include "plan/pack.h"
#include "plan/replan.h"


static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl replan -w WORKLOADS (-f FLEET | --live) [--json] [--emit-config DIR]\n"
            "                     [--time-limit SEC]\n\n"
            "Replan a running fleet for new demand: fewest GPUs drained, then the least running\n"
            "work moved (compute slices), then the fewest operations, solved exactly (a MILP,\n"
            "CBC) and printed with a lower bound on drains. WORKLOADS is the whole demand;\n"
            "busy instances labelled with a workload in the fleet file count towards it.\n"
            "A GPU is drained when a busy instance on it is destroyed or moved, or its MIG mode\n"
            "flips. Prints the GPUs and nodes to drain, the workloads affected and the\n"
            "operations per GPU.\n\n"
            "Current state in the fleet file, per GPU entry:\n"
            "  layout: [\"3g.40gb@4\", \"1g.10gb@0\"]   the GPU instances now\n"
            "  busy: [\"3g.40gb@4\"]                  instances with processes, or\n"
            "  busy: {\"3g.40gb@4\": finetune}        ... labelled with their workload\n"
            "  mig: false, busy: trainer             a whole GPU in use\n\n"
            "  -w, --workloads FILE  the demand (workloads YAML)\n"
            "  -f, --fleet FILE      the fleet with its current state\n"
            "      --live            this machine's GPUs as they are now\n"
            "      --json            machine-readable output\n"
            "      --emit-config DIR write DIR/<node>.yaml (the layouts after the plan)\n"
            "      --emit-k8s        with --emit-config: also the GPU Operator's ConfigMap and the\n"
            "                        nvidia.com/mig.config label per node (docs/kubernetes.md)\n"
            "      --time-limit SEC  time for each exact search (default 5); past it, the best\n"
            "                        plan found and its gap to the drain lower bound\n"
            "  -h, --help            this help\n\n"
            "Exit: 0 planned, 1 some instance cannot be placed, 2 bad input, 3 backend error.\n");
}

static void gpu_name(const rp_plan *p, unsigned g, char *buf, size_t len)
{
    const fl_gpu *fg = &p->fleet->gpus[g];
    snprintf(buf, len, "%s/%u", p->fleet->nodes[fg->node].name, fg->index);
}

static void where_text(const rp_plan *p, const rp_place *x, char *buf, size_t len)
{
    const fl_gpu *fg = &p->fleet->gpus[x->gpu];
    if (x->gi >= 0) {
        const mig_gi_place *gp = &p->after[x->gpu].layout.gi[x->gi];
        snprintf(buf, len, "%s@%u", fg->model->profiles[gp->profile].name, gp->start);
    } else {
        snprintf(buf, len, "%s", p->after[x->gpu].use == PK_GPU_MPS ? "MPS share" : "whole GPU");
    }
}

/* The operations of each GPU as a range of p->ops: replan emits them GPU by
 * GPU in fleet order, so first[g] .. first[g + 1] are GPU g's. Printing
 * then costs the operations once, not once per changed GPU. */
static unsigned *op_ranges(const rp_plan *p)
{
    unsigned *first = calloc(p->fleet->n_gpus + 2, sizeof *first);
    if (!first)
        return NULL;
    for (unsigned k = 0; k < p->n_ops; k++)
        first[p->ops[k].gpu + 1]++;
    for (unsigned g = 0; g < p->fleet->n_gpus; g++)
        first[g + 1] += first[g];
    return first;
}

static json_t *replan_json(const rp_plan *p)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "gpus_drained",
                          (json_int_t)p->n_drained, "nodes_drained",
                          (json_int_t)p->n_nodes_drained, "operations", (json_int_t)p->n_ops,
                          "mode_changes", (json_int_t)p->n_mode_changes, "created",
                          (json_int_t)p->created, "destroyed", (json_int_t)p->destroyed,
                          "reused", (json_int_t)p->reused, "already_running",
                          (json_int_t)p->satisfied, "unplaced", (json_int_t)p->unplaced);
    json_object_set_new(o, "drain_lower_bound", json_integer(p->drain_bound));
    json_object_set_new(o, "drain_gap", json_integer(p->n_drained - p->drain_bound));
    json_object_set_new(o, "drains_optimal", json_boolean(p->drains_optimal));
    json_object_set_new(o, "moved_slices", json_integer(p->moved_slices));
    json_object_set_new(o, "optimal", json_boolean(p->optimal));
    json_object_set_new(o, "method", json_string(p->method));
    json_t *dg = json_array(), *dn = json_array(), *aff = json_array();
    char nm[128];
    for (unsigned g = 0; g < p->fleet->n_gpus; g++)
        if (p->drained[g]) {
            const fl_gpu *fg = &p->fleet->gpus[g];
            json_array_append_new(dg, json_pack("{s:s, s:I}", "node",
                                                p->fleet->nodes[fg->node].name, "index",
                                                (json_int_t)fg->index));
        }
    for (unsigned nd = 0; nd < p->fleet->n_nodes; nd++)
        if (rp_node_drained(p, nd))
            json_array_append_new(dn, json_string(p->fleet->nodes[nd].name));
    for (unsigned i = 0; i < p->n_affected; i++)
        json_array_append_new(aff, json_string(p->affected[i]));
    json_object_set_new(o, "drain_gpus", dg);
    json_object_set_new(o, "drain_nodes", dn);
    json_object_set_new(o, "affected", aff);
    json_object_set_new(o, "decisions", plan_decisions_json(p->wf, p->decisions, p->n_models));
    json_t *pl = json_array();
    for (unsigned i = 0; i < p->n_place; i++) {
        const rp_place *x = &p->place[i];
        json_t *it = json_pack("{s:s, s:b, s:b, s:b}", "instance", x->label, "moved", x->moved,
                               "kept", x->kept, "reused", x->reused);
        if (x->gpu >= 0) {
            const fl_gpu *fg = &p->fleet->gpus[x->gpu];
            where_text(p, x, nm, sizeof nm);
            json_object_set_new(it, "node", json_string(p->fleet->nodes[fg->node].name));
            json_object_set_new(it, "index", json_integer(fg->index));
            json_object_set_new(it, "placement", json_string(nm));
        }
        json_array_append_new(pl, it);
    }
    json_object_set_new(o, "placements", pl);
    json_t *gpus = json_array();
    unsigned *first = op_ranges(p);
    for (unsigned g = 0; first && g < p->fleet->n_gpus; g++) {
        if (!p->changed[g])
            continue;
        json_t *go = plan_gpu_json(p->fleet, p->after, g);
        json_object_set_new(go, "drained", json_boolean(p->drained[g]));
        json_t *ops = json_array();
        for (unsigned k = first[g]; k < first[g + 1]; k++) {
            const rp_op *op = &p->ops[k];
            json_t *oo = json_pack("{s:s}", "op", op->op);
            if (!strcmp(op->op, "set-mode"))
                json_object_set_new(oo, "mig_enabled", json_boolean(op->enable));
            else
                json_object_set_new(oo, "placement", json_string(op->profile));
            if (op->busy)
                json_object_set_new(oo, "busy", json_true());
            json_array_append_new(ops, oo);
        }
        json_object_set_new(go, "ops", ops);
        json_array_append_new(gpus, go);
    }
    free(first);
    json_object_set_new(o, "gpus", gpus);
    if (!first) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A GPU's state as a slot map, or one line when MIG is off. */
static void draw_state(const mig_model *m, bool mig, const mig_layout *l, const char *what,
                       bool color)
{
    printf("    %s:%s\n", what, mig ? "" : " MIG off (whole GPU or MPS)");
    if (mig)
        draw_layout(stdout, m, l, color);
}

static int replan_text(const rp_plan *p, bool color)
{
    plan_print_decisions(p->wf, p->decisions, p->n_models);
    char nm[128];
    printf("\nDrains: %u GPU%s on %u node%s", p->n_drained, p->n_drained == 1 ? "" : "s",
           p->n_nodes_drained, p->n_nodes_drained == 1 ? "" : "s");
    for (unsigned g = 0, first = 1; g < p->fleet->n_gpus; g++)
        if (p->drained[g]) {
            gpu_name(p, g, nm, sizeof nm);
            printf("%s%s", first ? ": " : ", ", nm);
            first = 0;
        }
    printf("\n");
    printf("Drain lower bound: %u%s; running work moved: %u compute slice%s%s\n", p->drain_bound,
           p->drains_optimal ? " (drains optimal)" : "", p->moved_slices,
           p->moved_slices == 1 ? "" : "s",
           p->optimal ? "; plan optimal (drains, then moved work, then operations)"
           : !strcmp(p->method, "greedy") ? "; greedy search (fleet too large for the exact model)"
           : !strcmp(p->method, "pooled")
               ? "; pooled model (fleet too large for the exact model: moved work and operations "
                 "not minimised)"
               : "; exact search stopped at the time limit");
    if (p->n_affected) {
        printf("Running work affected (moved):\n");
        for (unsigned i = 0; i < p->n_affected; i++)
            printf("  %s\n", p->affected[i]);
    }
    printf("Already running: %u replica%s; reused idle instances: %u\n", p->satisfied,
           p->satisfied == 1 ? "" : "s", p->reused);
    printf("\nPlacements\n");
    for (unsigned i = 0; i < p->n_place; i++) {
        const rp_place *x = &p->place[i];
        if (x->gpu < 0) {
            printf("  %-32s NOT PLACED\n", x->label);
            continue;
        }
        char w[64];
        gpu_name(p, (unsigned)x->gpu, nm, sizeof nm);
        where_text(p, x, w, sizeof w);
        printf("  %-32s %s %s%s\n", x->label, nm, w,
               x->kept ? " (stays where it runs)" : x->reused ? " (idle instance reused)" : "");
    }
    printf("\nOperations: %u (%u created, %u destroyed, %u mode changes)\n", p->n_ops, p->created,
           p->destroyed, p->n_mode_changes);
    unsigned *first = op_ranges(p);
    if (!first)
        return -1;
    for (unsigned g = 0; g < p->fleet->n_gpus; g++) {
        if (!p->changed[g])
            continue;
        gpu_name(p, g, nm, sizeof nm);
        printf("  %s%s:", nm, p->drained[g] ? " (drain)" : "");
        for (unsigned k = first[g]; k < first[g + 1]; k++) {
            const rp_op *op = &p->ops[k];
            if (!strcmp(op->op, "set-mode"))
                printf(" set-mode %s;", op->enable ? "on" : "off");
            else
                printf(" %s %s%s;", op->op, op->profile, op->busy ? " (busy)" : "");
        }
        printf("\n");
        const fl_gpu *fg = &p->fleet->gpus[g];
        draw_state(fg->model, fg->mig_enabled, &fg->layout, "before", color);
        draw_state(fg->model, p->after[g].use == PK_GPU_MIG, &p->after[g].layout, "after", color);
    }
    free(first);
    return 0;
}

int cmd_replan(int argc, char **argv, cli_globals *g)
{
    plan_args a;
    int rc;
    if (plan_parse_args("replan", argc, argv, false, usage, &a, &rc) < 0)
        return rc;
    wl_file wf;
    fl_fleet fleet;
    if (plan_load_inputs(g, "replan", &a, &wf, &fleet, &rc) < 0)
        return rc;
    mig_error e = {0};
    rp_plan p;
    rp_options opt = {.time_limit = a.time_limit};
    if (replan_plan_opts(&wf, &fleet, &opt, &p, &e) < 0) {
        rc = cli_report("replan", &e);
    } else {
        json_t *o = NULL;
        if (a.json ? !(o = replan_json(&p)) : replan_text(&p, g->color) < 0) {
            mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
            rc = cli_report("replan", &e);
        } else {
            rc = plan_finish_output("replan", o, &a, &fleet, p.after, p.unplaced);
        }
        rp_plan_free(&p);
    }
    fl_free(&fleet);
    wl_free(&wf);
    return rc;
}
