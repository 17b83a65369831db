/*
 * replan_milp.c: the exact replan model (see replan_milp.h) built as a sparse
 * column-major matrix and solved with CBC's C interface in two lexicographic
 * stages.
 *
 * Columns of a class are every valid layout over the placements worth
 * having on that GPU: every start of a profile some replica may need on
 * this model (the workloads' MIG decisions and the profiles of running
 * instances that may have to move), plus the GPU's own instances where
 * they are (keeping an idle instance saves two operations). A new instance
 * of a profile nobody needs only adds operations, so leaving those layouts
 * out loses no optimum.
 */
#include "plan/replan_milp.h"

#include <coin/Cbc_C_Interface.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- sparse builder */

typedef struct {
    unsigned nrow, caprow;
    double *rlb, *rub;
    unsigned ncol, capcol;
    double *obj1, *obj2, *clb, *cub;
    CoinBigIndex *start; /* ncol + 1 */
    unsigned nnz, capnz;
    int *idx;
    double *val;
    bool oom;
} builder;

static int grow(void **p, unsigned *cap, unsigned need, size_t sz)
{
    if (need <= *cap)
        return 0;
    unsigned nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, (size_t)nc * sz);
    if (!np)
        return -1;
    *p = np;
    *cap = nc;
    return 0;
}

static int row_new(builder *b, double lb, double ub)
{
    unsigned cap = b->caprow;
    if (grow((void **)&b->rlb, &cap, b->nrow + 1, sizeof *b->rlb) < 0 ||
        grow((void **)&b->rub, &b->caprow, b->nrow + 1, sizeof *b->rub) < 0) {
        b->oom = true;
        return 0;
    }
    b->rlb[b->nrow] = lb;
    b->rub[b->nrow] = ub;
    return (int)b->nrow++;
}

/* Start a column; its entries follow with nz(). */
static unsigned col_new(builder *b, double obj1, double obj2, double lb, double ub)
{
    unsigned c1 = b->capcol, c2 = b->capcol, c3 = b->capcol, c4 = b->capcol, c5 = b->capcol;
    if (grow((void **)&b->obj1, &c1, b->ncol + 1, sizeof(double)) < 0 ||
        grow((void **)&b->obj2, &c2, b->ncol + 1, sizeof(double)) < 0 ||
        grow((void **)&b->clb, &c3, b->ncol + 1, sizeof(double)) < 0 ||
        grow((void **)&b->cub, &c4, b->ncol + 1, sizeof(double)) < 0 ||
        grow((void **)&b->start, &c5, b->ncol + 2, sizeof(CoinBigIndex)) < 0) {
        b->oom = true;
        return 0;
    }
    b->capcol = c1 < c2 ? c1 : c2;
    b->capcol = b->capcol < c3 ? b->capcol : c3;
    b->capcol = b->capcol < c4 ? b->capcol : c4;
    b->capcol = b->capcol < c5 - 1 ? b->capcol : c5 - 1;
    b->obj1[b->ncol] = obj1;
    b->obj2[b->ncol] = obj2;
    b->clb[b->ncol] = lb;
    b->cub[b->ncol] = ub;
    b->start[b->ncol] = (CoinBigIndex)b->nnz;
    b->start[b->ncol + 1] = (CoinBigIndex)b->nnz;
    return b->ncol++;
}

static void nz(builder *b, int row, double v)
{
    if (row < 0) { /* a row that was never made: a bug, reported as failure */
        b->oom = true;
        return;
    }
    if (v == 0 || b->oom)
        return;
    unsigned c = b->capnz;
    if (grow((void **)&b->idx, &c, b->nnz + 1, sizeof *b->idx) < 0 ||
        grow((void **)&b->val, &b->capnz, b->nnz + 1, sizeof *b->val) < 0) {
        b->oom = true;
        return;
    }
    b->idx[b->nnz] = row;
    b->val[b->nnz++] = v;
    b->start[b->ncol] = (CoinBigIndex)b->nnz;
}

static void builder_free(builder *b)
{
    free(b->rlb);
    free(b->rub);
    free(b->obj1);
    free(b->obj2);
    free(b->clb);
    free(b->cub);
    free(b->start);
    free(b->idx);
    free(b->val);
}

/* ---------------------------------------------------------------- classes and columns */

enum { V_X, V_OTHER };

typedef struct {
    unsigned char type;   /* V_X: a GPU-state column of class cls */
    unsigned cls;
    rpm_gpu st;
    unsigned drained, moved, ops;
} colmeta;

typedef struct {
    const fl_gpu *rep;    /* representative (a blank GPU for a pool) */
    bool pool;            /* rpm_input.pooled: the drained GPUs of one model */
    unsigned first_gpu;   /* representative's fleet index (not for a pool) */
    unsigned size;
    unsigned *members;    /* fleet GPU indices */
    unsigned col0, ncol;
} gclass;

typedef struct {
    const rpm_input *in;
    builder b;
    colmeta *meta;
    unsigned capmeta;
    gclass *cls;
    unsigned ncls;
    unsigned *members;    /* the classes' member lists, one allocation */
    int *row_cls, *row_slot, *row_w, *row_whole, *row_fwhole, *row_mps;
    fl_gpu blank[PK_MAX_MODELS];     /* pooled: a blank GPU per model */
    fl_gpu blank_idle[PK_MAX_MODELS][2]; /* pooled: idle GPUs as blank, MIG off/on */
    int pool_cls[PK_MAX_MODELS];     /* pooled: the pool class per model, -1 none */
    bool useful[PK_MAX_MODELS][MIG_MAX_PROFILES];
    bool whole_demand[PK_MAX_MODELS], mps_demand[PK_MAX_MODELS];
    unsigned fixed_slot[PK_MAX_MODELS][MIG_MAX_PROFILES], fixed_whole[PK_MAX_MODELS];
    double w_unplaced, w_moved;
    unsigned max_ops;
} model;

static int model_of(const rpm_input *in, const mig_model *m)
{
    for (unsigned k = 0; k < in->n_models; k++)
        if (in->models[k] == m)
            return (int)k;
    return -1;
}

static bool gpu_busy(const fl_gpu *g)
{
    if (g->whole_busy)
        return true;
    for (unsigned i = 0; i < g->layout.n; i++)
        if (g->busy[i])
            return true;
    return false;
}

static int meta_push(model *M, const colmeta *cm)
{
    if (grow((void **)&M->meta, &M->capmeta, M->b.ncol, sizeof *M->meta) < 0)
        return -1;
    M->meta[M->b.ncol - 1] = *cm;
    return 0;
}

static bool has_gi(const mig_layout *l, const mig_gi_place *x)
{
    for (unsigned j = 0; j < l->n; j++)
        if (l->gi[j].profile == x->profile && l->gi[j].start == x->start)
            return true;
    return false;
}

/* Cost of a final state for GPU g, as plan/replan.c's finish() counts it. */
static void column_cost(const fl_gpu *g, const rpm_gpu *st, colmeta *cm)
{
    const mig_model *m = g->model;
    bool all_kept = true;
    unsigned moved = 0, ops = 0;
    for (unsigned i = 0; i < g->layout.n; i++) {
        bool kept = g->mig_enabled && st->use == PK_GPU_MIG && st->mig &&
                    has_gi(&st->layout, &g->layout.gi[i]);
        if (!kept) {
            ops += 2;
            if (g->busy[i]) {
                all_kept = false;
                moved += m->profiles[g->layout.gi[i].profile].compute_slices;
            }
        }
    }
    if (g->whole_busy && !(st->use == PK_GPU_WHOLE && st->drain_column == false)) {
        all_kept = false;
        moved += m->compute_slices;
    }
    if (st->use == PK_GPU_MIG)
        for (unsigned j = 0; j < st->layout.n; j++)
            if (!g->mig_enabled || !has_gi(&g->layout, &st->layout.gi[j]))
                ops += 2;
    bool flip = st->mig != g->mig_enabled && st->use != PK_GPU_FREE;
    bool drain_col = !all_kept;
    if (st->mig != g->mig_enabled && (st->use != PK_GPU_FREE || drain_col))
        ops += 1;
    cm->drained = drain_col || flip;
    cm->moved = moved;
    cm->ops = ops;
}

/* Add a column of class c with final state st (cost computed here). */
static int add_column(model *M, unsigned c, rpm_gpu st)
{
    const rpm_input *in = M->in;
    const gclass *gc = &M->cls[c];
    const fl_gpu *g = gc->rep;
    int k = model_of(in, g->model);
    colmeta cm = {.type = V_X, .cls = c, .st = st};
    /* which busy work stays where it runs */
    bool keep_gi[MIG_MAX_GI] = {0}, keep_whole = false;
    for (unsigned i = 0; i < g->layout.n; i++)
        keep_gi[i] = g->busy[i] && st.use == PK_GPU_MIG && has_gi(&st.layout, &g->layout.gi[i]);
    if (g->whole_busy)
        keep_whole = st.use == PK_GPU_WHOLE && !st.drain_column;
    bool all = !g->whole_busy || keep_whole;
    for (unsigned i = 0; i < g->layout.n; i++)
        all &= !g->busy[i] || keep_gi[i];
    cm.st.drain_column = !all;
    column_cost(g, &cm.st, &cm);
    if (in->no_moves && cm.moved)
        return 0;
    if (in->pooled && cm.st.drain_column)
        return 0; /* a drained busy GPU is the pool's, through its drain variable */
    if (gc->pool)
        cm.drained = 0; /* paid by the drain variable of the GPU it stands for */
    col_new(&M->b, cm.drained, M->w_moved * cm.moved + cm.ops, 0,
            gc->pool ? in->fleet->n_gpus : gc->size);
    nz(&M->b, M->row_cls[c], 1);
    if (st.use == PK_GPU_MIG) {
        unsigned slots[MIG_MAX_PROFILES] = {0};
        for (unsigned j = 0; j < st.layout.n; j++) {
            const mig_gi_place *x = &st.layout.gi[j];
            int cw = -1;
            for (unsigned i = 0; i < g->layout.n; i++)
                if (keep_gi[i] && g->layout.gi[i].profile == x->profile &&
                    g->layout.gi[i].start == x->start)
                    cw = in->counts_w[(size_t)gc->first_gpu * (MIG_MAX_GI + 1) + i];
            if (cw >= 0)
                nz(&M->b, M->row_w[cw], 1); /* a running replica stays */
            else
                slots[x->profile]++;
        }
        for (unsigned p = 0; p < g->model->n_profiles; p++)
            if (slots[p] && M->row_slot[(unsigned)k * MIG_MAX_PROFILES + p] >= 0)
                nz(&M->b, M->row_slot[(unsigned)k * MIG_MAX_PROFILES + p], slots[p]);
    } else if (st.use == PK_GPU_WHOLE) {
        if (keep_whole) {
            int cw = in->counts_w[(size_t)gc->first_gpu * (MIG_MAX_GI + 1) + MIG_MAX_GI];
            if (cw >= 0)
                nz(&M->b, M->row_w[cw], 1);
            else
                nz(&M->b, M->row_fwhole[k], 1);
        } else {
            nz(&M->b, M->row_whole[(unsigned)k * in->fleet->n_nodes + (in->pooled ? 0 : g->node)], 1);
        }
    } else if (st.use == PK_GPU_MPS) {
        int r = M->row_mps[gc->first_gpu];
        nz(&M->b, r, -1);
        nz(&M->b, r + 1, -1);
        nz(&M->b, r + 2, -(double)ADV_MPS_MAX_CLIENTS);
    }
    if (M->b.oom || meta_push(M, &cm) < 0)
        return -1;
    return 0;
}

/* DFS over candidate placements: every valid subset is one MIG column. */
typedef struct {
    model *M;
    unsigned c;
    const mig_model *m;
    mig_gi_place cand[64];
    unsigned n;
    int rc;
    unsigned count;
} enum_ctx;

static void enum_rec(enum_ctx *x, mig_layout *l, unsigned from)
{
    if (x->rc)
        return;
    rpm_gpu st = {.mig = true, .use = PK_GPU_MIG, .layout = *l};
    if (add_column(x->M, x->c, st) < 0) {
        x->rc = -1;
        return;
    }
    if (x->M->in->max_columns && x->M->b.ncol > x->M->in->max_columns) {
        x->rc = 1;
        return;
    }
    for (unsigned i = from; i < x->n; i++) {
        if (layout_fits(x->m, l, x->cand[i].profile, x->cand[i].start) != MIG_FIT_OK)
            continue;
        layout_add(l, x->cand[i].profile, x->cand[i].start);
        enum_rec(x, l, i + 1);
        layout_remove(l, l->n - 1);
        if (x->rc)
            return;
    }
}

static int class_columns(model *M, unsigned c)
{
    const rpm_input *in = M->in;
    gclass *gc = &M->cls[c];
    const fl_gpu *g = gc->rep;
    const mig_model *m = g->model;
    int k = model_of(in, m);
    gc->col0 = M->b.ncol;
    enum_ctx x = {.M = M, .c = c, .m = m};
    for (unsigned p = 0; p < m->n_profiles; p++) {
        const mig_gi_profile *pr = &m->profiles[p];
        if (M->useful[k][p])
            for (unsigned s = 0; s < pr->n_starts && x.n < 64; s++)
                x.cand[x.n++] = (mig_gi_place){.profile = (unsigned char)p, .start = pr->starts[s]};
    }
    for (unsigned i = 0; i < g->layout.n && g->mig_enabled; i++) {
        bool dup = false;
        for (unsigned j = 0; j < x.n; j++)
            dup |= x.cand[j].profile == g->layout.gi[i].profile &&
                   x.cand[j].start == g->layout.gi[i].start;
        if (!dup && x.n < 64)
            x.cand[x.n++] = g->layout.gi[i];
    }
    mig_layout l = {0};
    if (in->pooled && !gc->pool && g->mig_enabled && gpu_busy(g)) {
        /* only layouts that keep every busy instance: start from them and
         * enumerate what may be added */
        for (unsigned i = 0; i < g->layout.n; i++)
            if (g->busy[i])
                layout_add(&l, g->layout.gi[i].profile, g->layout.gi[i].start);
        unsigned w = 0;
        for (unsigned j = 0; j < x.n; j++)
            if (!has_gi(&l, &x.cand[j]))
                x.cand[w++] = x.cand[j];
        x.n = w;
    }
    enum_rec(&x, &l, 0);
    if (x.rc)
        return x.rc;
    /* MIG off: free, whole GPU, MPS */
    rpm_gpu off = {.mig = false, .use = PK_GPU_FREE};
    if (!g->mig_enabled && add_column(M, c, off) < 0)
        return -1;
    if (M->whole_demand[k] || g->whole_busy) {
        rpm_gpu wh = {.mig = false, .use = PK_GPU_WHOLE};
        if (g->whole_busy) { /* keep the job, or give the card to another */
            if (add_column(M, c, wh) < 0)
                return -1;
            wh.drain_column = true;
        }
        if (M->whole_demand[k] && add_column(M, c, wh) < 0)
            return -1;
    }
    if (in->pooled && !gc->pool && gpu_busy(g)) {
        /* drained: the GPU joins its model's pool */
        colmeta dm = {.type = V_OTHER};
        col_new(&M->b, 1, 0, 0, 1);
        nz(&M->b, M->row_cls[c], 1);
        nz(&M->b, M->row_cls[M->pool_cls[k]], -1);
        if (M->b.oom || meta_push(M, &dm) < 0)
            return -1;
    }
    if (M->mps_demand[k] && !gc->pool && M->row_mps[gc->first_gpu] >= 0) {
        rpm_gpu mp = {.mig = false, .use = PK_GPU_MPS};
        if (add_column(M, c, mp) < 0)
            return -1;
    }
    gc->ncol = M->b.ncol - gc->col0;
    return 0;
}

/* ---------------------------------------------------------------- classes */

/* GPUs that may share a class sort next to each other: by model, node, MIG
 * mode and canonical layout (pooled: model and mode only: for the drain
 * count an idle GPU's instances do not matter, destroying idle ones drains
 * nothing, nor does its node without gangs). A GPU with running work, or on
 * a model with MPS demand (its MPS rows are per GPU), is a class alone. */
typedef struct {
    const model *M;
    const bool *alone;
} class_sort;

static int class_key_cmp(const void *pa, const void *pb, void *vctx)
{
    const class_sort *cs = vctx;
    unsigned a = *(const unsigned *)pa, b = *(const unsigned *)pb;
    if (cs->alone[a] || cs->alone[b])
        return cs->alone[a] != cs->alone[b] ? (cs->alone[a] ? 1 : -1) : (a > b) - (a < b);
    const fl_gpu *x = &cs->M->in->fleet->gpus[a], *y = &cs->M->in->fleet->gpus[b];
    int kx = model_of(cs->M->in, x->model), ky = model_of(cs->M->in, y->model);
    if (kx != ky)
        return kx < ky ? -1 : 1;
    if (x->mig_enabled != y->mig_enabled)
        return x->mig_enabled ? 1 : -1;
    if (!cs->M->in->pooled) {
        if (x->node != y->node)
            return x->node < y->node ? -1 : 1;
        mig_layout lx = x->layout, ly = y->layout;
        layout_sort(&lx);
        layout_sort(&ly);
        if (lx.n != ly.n)
            return lx.n < ly.n ? -1 : 1;
        int r = memcmp(lx.gi, ly.gi, lx.n * sizeof lx.gi[0]);
        if (r)
            return r;
    }
    return (a > b) - (a < b);
}

static int make_classes(model *M)
{
    const fl_fleet *f = M->in->fleet;
    M->cls = calloc(f->n_gpus + PK_MAX_MODELS + 1, sizeof *M->cls);
    unsigned *members = calloc(f->n_gpus + 1, sizeof *members);
    bool *alone = calloc(f->n_gpus + 1, sizeof *alone);
    M->members = members;
    if (!M->cls || !members || !alone) {
        free(alone);
        return -1;
    }
    for (unsigned g = 0; g < f->n_gpus; g++) {
        members[g] = g;
        alone[g] = gpu_busy(&f->gpus[g]) || M->mps_demand[model_of(M->in, f->gpus[g].model)];
    }
    /* O(n log n): a fleet of tens of thousands of GPUs reaches here before
     * the column cap sends it to the greedy search */
    class_sort cs = {.M = M, .alone = alone};
    qsort_r(members, f->n_gpus, sizeof *members, class_key_cmp, &cs);
    for (unsigned i = 0; i < f->n_gpus; i++) {
        unsigned g = members[i];
        const fl_gpu *fg = &f->gpus[g];
        gclass *prev = M->ncls ? &M->cls[M->ncls - 1] : NULL;
        bool join = prev && !alone[g] && !alone[prev->first_gpu];
        if (join) {
            /* sorted, so a GPU with the class's key follows its class */
            const fl_gpu *x = &f->gpus[prev->first_gpu];
            join = model_of(M->in, x->model) == model_of(M->in, fg->model) &&
                   x->mig_enabled == fg->mig_enabled &&
                   (M->in->pooled || (x->node == fg->node && layout_equal(&x->layout, &fg->layout)));
        }
        if (join) {
            prev->size++;
            continue;
        }
        int k = model_of(M->in, fg->model);
        gclass *gc = &M->cls[M->ncls++];
        gc->first_gpu = g;
        gc->rep = fg;
        if (M->in->pooled && !gpu_busy(fg)) {
            fl_gpu *bl = &M->blank_idle[k][fg->mig_enabled];
            *bl = (fl_gpu){.model = fg->model, .mig_enabled = fg->mig_enabled};
            gc->rep = bl;
        }
        gc->members = &members[i];
        gc->size = 1;
    }
    free(alone);
    for (unsigned k = 0; k < PK_MAX_MODELS; k++)
        M->pool_cls[k] = -1;
    if (M->in->pooled) /* one pool per model with busy GPUs */
        for (unsigned g = 0; g < f->n_gpus; g++) {
            int k = model_of(M->in, f->gpus[g].model);
            if (!gpu_busy(&f->gpus[g]) || M->pool_cls[k] >= 0)
                continue;
            M->blank[k] = (fl_gpu){.model = f->gpus[g].model, .mig_enabled = true};
            M->pool_cls[k] = (int)M->ncls;
            M->cls[M->ncls++] = (gclass){.rep = &M->blank[k], .pool = true, .first_gpu = g};
        }
    return 0;
}

/* ---------------------------------------------------------------- solve */

typedef struct {
    bool ok, proven;
    double obj, bound;
    double *x;
} stage_out;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_stage(const builder *b, const double *obj, const double *lex_coef, double lex_rhs,
                     double seconds, stage_out *so)
{
    memset(so, 0, sizeof *so);
    Cbc_Model *cm = Cbc_newModel();
    if (!cm)
        return -1;
    Cbc_loadProblem(cm, (int)b->ncol, (int)b->nrow, b->start, b->idx, b->val, b->clb, b->cub,
                    obj, b->rlb, b->rub);
    for (unsigned c = 0; c < b->ncol; c++)
        Cbc_setInteger(cm, (int)c);
    if (lex_coef) {
        int *cols = malloc((b->ncol + 1) * sizeof *cols);
        double *v = malloc((b->ncol + 1) * sizeof *v);
        if (!cols || !v) {
            free(cols);
            free(v);
            Cbc_deleteModel(cm);
            return -1;
        }
        int n = 0;
        for (unsigned c = 0; c < b->ncol; c++)
            if (lex_coef[c] != 0) {
                cols[n] = (int)c;
                v[n++] = lex_coef[c];
            }
        Cbc_addRow(cm, "lex", n, cols, v, 'L', lex_rhs + 0.5); /* integer: < rhs + 1 */
        free(cols);
        free(v);
    }
    Cbc_setLogLevel(cm, 0);
    Cbc_setMaximumSeconds(cm, seconds > 0.05 ? seconds : 0.05);
    Cbc_setParameter(cm, "allowableGap", "0.5"); /* objectives are integers */
    Cbc_setParameter(cm, "ratioGap", "0");
    Cbc_solve(cm);
    const double *x = Cbc_getColSolution(cm);
    so->proven = Cbc_isProvenOptimal(cm);
    so->bound = Cbc_getBestPossibleObjValue(cm);
    if (x) {
        /* rounded; feasible() below rejects a point that is not a solution
         * (CBC hands back the LP point when it found no integer one) */
        so->x = malloc((b->ncol + 1) * sizeof *so->x);
        if (!so->x) {
            Cbc_deleteModel(cm);
            return -1;
        }
        bool integral = true;
        for (unsigned c = 0; c < b->ncol; c++) {
            so->x[c] = floor(x[c] + 0.5);
            integral &= fabs(x[c] - so->x[c]) < 1e-6;
        }
        so->ok = integral;
        so->obj = 0;
        for (unsigned c = 0; c < b->ncol; c++)
            so->obj += obj[c] * so->x[c];
    }
    Cbc_deleteModel(cm);
    return 0;
}

/* Does x satisfy every row (and the lex row)? Guards against a point CBC
 * returns without an integer solution behind it. */
static bool feasible(const builder *b, const double *x, const double *lex, double lex_rhs)
{
    double *act = calloc(b->nrow + 1, sizeof *act);
    if (!act)
        return false;
    double lx = 0;
    for (unsigned c = 0; c < b->ncol; c++) {
        if (x[c] < b->clb[c] - 1e-9 || x[c] > b->cub[c] + 1e-9) {
            free(act);
            return false;
        }
        for (CoinBigIndex k = b->start[c]; k < b->start[c + 1]; k++)
            act[b->idx[k]] += b->val[k] * x[c];
        if (lex)
            lx += lex[c] * x[c];
    }
    bool ok = !lex || lx <= lex_rhs + 1e-6;
    for (unsigned r = 0; r < b->nrow && ok; r++)
        ok = act[r] >= b->rlb[r] - 1e-6 && act[r] <= b->rub[r] + 1e-6;
    free(act);
    return ok;
}

int rpm_solve(const rpm_input *in, rpm_result *out, mig_error *e)
{
    const fl_fleet *f = in->fleet;
    const wl_file *wf = in->wf;
    unsigned K = in->n_models, W = wf->n, G = f->n_gpus, N = f->n_nodes;
    memset(out, 0, sizeof *out);
    model M = {.in = in};
    int rc = -1;
    M.row_cls = malloc((G + PK_MAX_MODELS + 1) * sizeof(int));
    M.row_slot = malloc(((size_t)K * MIG_MAX_PROFILES + 1) * sizeof(int));
    M.row_w = malloc((W + 1) * sizeof(int));
    M.row_whole = malloc(((size_t)K * N + 1) * sizeof(int));
    M.row_fwhole = malloc((K + 1) * sizeof(int));
    M.row_mps = malloc((G + 1) * sizeof(int));
    if (!M.row_cls || !M.row_slot || !M.row_w || !M.row_whole || !M.row_fwhole || !M.row_mps)
        goto oom;
    /* what is needed where */
    for (unsigned w = 0; w < W; w++)
        for (unsigned k = 0; k < K && wf->items[w].replicas; k++) {
            const adv_decision *d = adv_at(in->decisions, K, w, k);
            if (d->kind == ADV_MIG)
                M.useful[k][d->profile] = true;
            else if (d->kind == ADV_WHOLE)
                M.whole_demand[k] = true;
            else if (d->kind == ADV_MPS)
                M.mps_demand[k] = true;
        }
    for (unsigned g = 0; g < G; g++) {
        const fl_gpu *fg = &f->gpus[g];
        int k = model_of(in, fg->model);
        for (unsigned i = 0; i < fg->layout.n; i++)
            if (fg->busy[i] && in->counts_w[(size_t)g * (MIG_MAX_GI + 1) + i] < 0) {
                M.useful[k][fg->layout.gi[i].profile] = true;
                M.fixed_slot[k][fg->layout.gi[i].profile]++;
            }
        if (fg->whole_busy && in->counts_w[(size_t)g * (MIG_MAX_GI + 1) + MIG_MAX_GI] < 0) {
            M.fixed_whole[k]++;
            M.whole_demand[k] = true;
        }
    }
    if (in->pooled) {
        bool gang = false, mps = false;
        for (unsigned w = 0; w < W; w++)
            for (unsigned k = 0; k < K && wf->items[w].replicas; k++) {
                const adv_decision *d = adv_at(in->decisions, K, w, k);
                gang |= d->kind == ADV_WHOLE && d->gpus > 1;
                mps |= d->kind == ADV_MPS;
            }
        if (gang || mps) {
            rc = 1;
            goto done;
        }
    }
    if (make_classes(&M) < 0)
        goto oom;
    /* weights: stage 1 (GPUs + 1) x unplaced + drains; stage 2
     * (max ops + 1) x moved + ops, max ops bounded per GPU */
    M.w_unplaced = G + 1;
    M.max_ops = 0;
    for (unsigned g = 0; g < G; g++)
        M.max_ops += 2 * f->gpus[g].layout.n + 2 * MIG_MAX_GI + 1;
    M.w_moved = M.max_ops + 1;
    /* rows */
    builder *b = &M.b;
    for (unsigned c = 0; c < M.ncls; c++)
        M.row_cls[c] = M.cls[c].pool ? row_new(b, 0, 0) : row_new(b, M.cls[c].size, M.cls[c].size);
    for (unsigned k = 0; k < K; k++)
        for (unsigned p = 0; p < MIG_MAX_PROFILES; p++)
            M.row_slot[k * MIG_MAX_PROFILES + p] =
                M.useful[k][p] ? row_new(b, M.fixed_slot[k][p], INFINITY) : -1;
    for (unsigned w = 0; w < W; w++) {
        /* replicas still to be had: all of them, less the running ones
         * counted in the columns that keep them */
        M.row_w[w] = row_new(b, wf->items[w].replicas, INFINITY);
    }
    for (unsigned k = 0; k < K; k++)
        for (unsigned nd = 0; nd < N; nd++)
            M.row_whole[k * N + nd] = M.whole_demand[k] ? row_new(b, 0, INFINITY) : -1;
    for (unsigned k = 0; k < K; k++)
        M.row_fwhole[k] = M.fixed_whole[k] ? row_new(b, M.fixed_whole[k], INFINITY) : -1;
    for (unsigned g = 0; g < G; g++) {
        int k = model_of(in, f->gpus[g].model);
        M.row_mps[g] = -1;
        if (M.mps_demand[k]) {
            M.row_mps[g] = row_new(b, -INFINITY, 0);
            row_new(b, -INFINITY, 0);
            row_new(b, -INFINITY, 0);
        }
    }
    if (b->oom)
        goto oom;
    /* GPU-state columns */
    for (unsigned c = 0; c < M.ncls; c++) {
        int r = class_columns(&M, c);
        if (r < 0)
            goto oom;
        if (r > 0) {
            rc = 1;
            goto done;
        }
    }
    unsigned n_x = b->ncol;
    /* replica columns */
    colmeta other = {.type = V_OTHER};
    for (unsigned w = 0; w < W; w++) {
        const wl_workload *wl = &wf->items[w];
        unsigned parts = wl->p2p || wl->gpus > 1 ? wl->gpus : 1;
        for (unsigned k = 0; k < K && wl->replicas; k++) { /* no columns for 0 replicas */
            const adv_decision *d = adv_at(in->decisions, K, w, k);
            if (d->kind == ADV_MIG) {
                col_new(b, 0, 0, 0, wl->replicas);
                nz(b, M.row_w[w], 1);
                int rs = M.row_slot[k * MIG_MAX_PROFILES + (unsigned)d->profile];
                if (rs >= 0) /* no row when the workload has no replicas (column fixed at 0) */
                    nz(b, rs, -1);
                if (meta_push(&M, &other) < 0)
                    goto oom;
            } else if (d->kind == ADV_WHOLE) {
                for (unsigned nd = 0; nd < N; nd++) {
                    bool has = false;
                    for (unsigned i = 0; i < f->nodes[nd].n_gpus; i++)
                        has |= f->gpus[f->nodes[nd].first_gpu + i].model == in->models[k];
                    if (in->pooled) /* one whole-GPU row per model: no gangs here */
                        has = nd == 0;
                    if (!has)
                        continue;
                    col_new(b, 0, 0, 0, wl->replicas);
                    nz(b, M.row_w[w], 1);
                    nz(b, M.row_whole[k * N + nd], -(double)parts);
                    if (meta_push(&M, &other) < 0)
                        goto oom;
                }
            } else if (d->kind == ADV_MPS) {
                for (unsigned g = 0; g < G; g++) {
                    if (f->gpus[g].model != in->models[k])
                        continue;
                    col_new(b, 0, 0, 0, wl->replicas < ADV_MPS_MAX_CLIENTS ? wl->replicas
                                                                             : ADV_MPS_MAX_CLIENTS);
                    nz(b, M.row_w[w], 1);
                    nz(b, M.row_mps[g], d->compute_share - 1e-9);
                    nz(b, M.row_mps[g] + 1, d->memory_share - 1e-9);
                    nz(b, M.row_mps[g] + 2, 1);
                    if (meta_push(&M, &other) < 0)
                        goto oom;
                }
            }
        }
        col_new(b, M.w_unplaced, 0, 0, wl->replicas); /* unplaced replicas of w */
        nz(b, M.row_w[w], 1);
        if (meta_push(&M, &other) < 0)
            goto oom;
    }
    for (unsigned k = 0; k < K; k++) {
        for (unsigned p = 0; p < MIG_MAX_PROFILES; p++)
            if (M.fixed_slot[k][p]) { /* moved unlabelled instances with no slot */
                col_new(b, M.w_unplaced, 0, 0, M.fixed_slot[k][p]);
                nz(b, M.row_slot[k * MIG_MAX_PROFILES + p], 1);
                if (meta_push(&M, &other) < 0)
                    goto oom;
            }
        if (M.fixed_whole[k]) {
            for (unsigned nd = 0; nd < (in->pooled ? 1 : N); nd++) {
                col_new(b, 0, 0, 0, M.fixed_whole[k]);
                nz(b, M.row_fwhole[k], 1);
                nz(b, M.row_whole[k * N + nd], -1);
                if (meta_push(&M, &other) < 0)
                    goto oom;
            }
            col_new(b, M.w_unplaced, 0, 0, M.fixed_whole[k]);
            nz(b, M.row_fwhole[k], 1);
            if (meta_push(&M, &other) < 0)
                goto oom;
        }
    }
    if (b->oom)
        goto oom;
    out->n_columns = b->ncol;
    /* stage 1 */
    double t0 = now_s();
    stage_out s1 = {0}, s2 = {0};
    if (in->stage1_zero && !in->pooled) {
        s1.ok = s1.proven = true; /* 0 unplaced, 0 drains: nothing is lower */
    } else if (run_stage(b, b->obj1, NULL, 0, in->time_limit, &s1) < 0) {
        goto oom;
    }
    if (in->pooled) {
        double lb1 = s1.proven && s1.ok ? s1.obj : ceil(s1.bound - 1e-6);
        out->feasible = true;
        out->stage1_proven = s1.proven;
        out->drain_bound = lb1 > 0 && lb1 <= G ? (unsigned)lb1 : 0;
        out->pooled = true;
        if (!s1.ok || !feasible(b, s1.x, NULL, 0)) { /* the bound alone */
            out->unplaced = s1.proven && s1.obj > G ? 1 : 0; /* every plan leaves some */
            out->feasible = false;
            free(s1.x);
            rc = 0;
            goto done;
        }
        /* else a plan with the fewest drains: read it below (no stage 2) */
    }
    if (!s1.ok || (s1.x && !feasible(b, s1.x, NULL, 0))) {
        free(s1.x);
        rc = 0; /* no solution in time: out->feasible stays false */
        goto done;
    }
    double left = in->time_limit - (now_s() - t0);
    if (left < in->time_limit * 0.2)
        left = in->time_limit * 0.2;
    if (!in->pooled && run_stage(b, b->obj2, b->obj1, s1.obj, left, &s2) < 0) {
        free(s1.x);
        goto oom;
    }
    const double *x = s1.x;
    bool two = s2.ok && feasible(b, s2.x, b->obj1, s1.obj);
    if (two)
        x = s2.x;
    if (!x) { /* stage 1 skipped and stage 2 found nothing in time */
        free(s2.x);
        rc = 0;
        goto done;
    }
    out->feasible = true;
    out->stage1_proven = s1.proven;
    out->proven = s1.proven && two && s2.proven && !in->pooled;
    /* read the solution */
    out->gpus = calloc(G + 1, sizeof *out->gpus);
    out->mig_repl = calloc((size_t)W * K + 1, sizeof *out->mig_repl);
    out->whole_repl = calloc((size_t)W * N + 1, sizeof *out->whole_repl);
    out->mps_repl = calloc((size_t)W * G + 1, sizeof *out->mps_repl);
    out->fixed_whole = calloc((size_t)K * N + 1, sizeof *out->fixed_whole);
    if (!out->gpus || !out->mig_repl || !out->whole_repl || !out->mps_repl || !out->fixed_whole) {
        free(s1.x);
        free(s2.x);
        goto oom;
    }
    bool *pending = calloc(G + 1, sizeof *pending); /* pooled: drained, layout to come */
    if (!pending) {
        free(s1.x);
        free(s2.x);
        goto oom;
    }
    for (unsigned c = 0; c < M.ncls; c++) {
        unsigned next = 0;
        if (M.cls[c].pool)
            continue;
        for (unsigned j = 0; j < M.cls[c].ncol; j++) {
            unsigned col = M.cls[c].col0 + j;
            for (unsigned r = 0; r < (unsigned)x[col] && next < M.cls[c].size; r++) {
                const colmeta *cm = &M.meta[col];
                if (cm->type != V_X) { /* pooled: the GPU's drain variable */
                    pending[M.cls[c].members[next++]] = true;
                    continue;
                }
                out->gpus[M.cls[c].members[next++]] = cm->st;
                out->drains += cm->drained;
                out->moved += cm->moved;
                out->ops += cm->ops;
            }
        }
    }
    /* pooled: each drained GPU takes, of its model's pool states, the one
     * that keeps the most of its busy instances where they run */
    for (unsigned c = 0; c < M.ncls; c++) {
        if (!M.cls[c].pool)
            continue;
        const mig_model *pm = M.cls[c].rep->model;
        for (unsigned g = 0; g < G; g++) {
            if (!pending[g] || f->gpus[g].model != pm)
                continue;
            const fl_gpu *fg = &f->gpus[g];
            int best = -1, best_keep = -1;
            for (unsigned j = 0; j < M.cls[c].ncol; j++) {
                unsigned col = M.cls[c].col0 + j;
                if (x[col] < 0.5)
                    continue;
                const rpm_gpu *st = &M.meta[col].st;
                int keep = 0;
                for (unsigned i = 0; i < fg->layout.n; i++)
                    keep += fg->busy[i] && st->use == PK_GPU_MIG && has_gi(&st->layout, &fg->layout.gi[i]);
                if (keep > best_keep) {
                    best_keep = keep;
                    best = (int)col;
                }
            }
            if (best < 0)
                continue;
            s1.x[best] -= 1; /* x aliases s1.x in the pooled case */
            out->gpus[g] = M.meta[best].st;
            out->gpus[g].drain_column = true;
            pending[g] = false;
            out->drains++;
        }
    }
    free(pending);
    unsigned col = n_x;
    for (unsigned w = 0; w < W; w++) {
        for (unsigned k = 0; k < K && wf->items[w].replicas; k++) {
            const adv_decision *d = adv_at(in->decisions, K, w, k);
            if (d->kind == ADV_MIG) {
                out->mig_repl[w * K + k] = (unsigned)x[col++];
            } else if (d->kind == ADV_WHOLE) {
                for (unsigned nd = 0; nd < N; nd++) {
                    bool has = false;
                    for (unsigned i = 0; i < f->nodes[nd].n_gpus; i++)
                        has |= f->gpus[f->nodes[nd].first_gpu + i].model == in->models[k];
                    if (in->pooled)
                        has = nd == 0; /* one per model (whole_repl[w * N]: any node) */
                    if (has)
                        out->whole_repl[w * N + nd] += (unsigned)x[col++];
                }
            } else if (d->kind == ADV_MPS) {
                for (unsigned g = 0; g < G; g++)
                    if (f->gpus[g].model == in->models[k])
                        out->mps_repl[(size_t)w * G + g] = (unsigned)x[col++];
            }
        }
        out->unplaced += (unsigned)x[col++];
    }
    for (unsigned k = 0; k < K; k++) {
        for (unsigned p = 0; p < MIG_MAX_PROFILES; p++)
            if (M.fixed_slot[k][p])
                out->unplaced += (unsigned)x[col++];
        if (M.fixed_whole[k]) {
            for (unsigned nd = 0; nd < (in->pooled ? 1 : N); nd++)
                out->fixed_whole[k * N + nd] = (unsigned)x[col++];
            out->unplaced += (unsigned)x[col++];
        }
    }
    /* lower bound on drains among plans that place everything: any such
     * plan has stage-1 value = its drains <= G < weight of one unplaced */
    double lb = s1.proven ? s1.obj : ceil(s1.bound - 1e-6);
    if (lb < 0)
        lb = 0;
    out->drain_bound = lb > out->drains ? out->drains : (unsigned)lb;
    free(s1.x);
    free(s2.x);
    rc = 0;
    goto done;
oom:
    rc = mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
done:
    free(M.members);
    free(M.cls);
    free(M.meta);
    free(M.row_cls);
    free(M.row_slot);
    free(M.row_w);
    free(M.row_whole);
    free(M.row_fwhole);
    free(M.row_mps);
    builder_free(&M.b);
    if (rc != 0)
        rpm_result_free(out);
    return rc;
}

void rpm_result_free(rpm_result *r)
{
    free(r->gpus);
    free(r->mig_repl);
    free(r->whole_repl);
    free(r->mps_repl);
    free(r->fixed_whole);
    memset(r, 0, sizeof *r);
}
