/*
 * cmd_mode.c: `migctl mode -i N on|off` and `migctl mode -i N --reset`.
 *
 * A mode request either takes effect at once (Hopper and later switch
 * without a reset; on Ampere the driver resets the GPU itself) or stays
 * pending while something holds the GPU; the verb says which, and for a
 * pending change what holds the GPU and how to finish (stop it, then
 * --reset, or reboot). Turning MIG off with GPU instances present is refused:
 * they would be torn down under their users. A reset loses every GPU
 * instance, so it is refused while any exist unless --force.
 *
 * Like `nvidia-smi -mig 1`, no -i (or -i all) means every MIG-capable GPU,
 * and -i takes indexes, UUIDs and PCI bus ids, comma separated; each GPU is
 * done in turn, a failure on one does not stop the others, and the exit
 * code is the worst. With one GPU named, --json prints its object as
 * before; with several, {"gpus": [...]}.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/gpu_select.h"
#include "util/nvml_rc.h"

static void mode_usage(FILE *out)
{
    fprintf(out, "usage: migctl mode [-i GPUS] on|off [--lock FILE] [--json]\n"
                 "       migctl mode [-i GPUS] --reset [--force] [--lock FILE] [--json]\n\n"
                 "Turn MIG mode on or off on GPU N. Hopper and later switch at once; on Ampere\n"
                 "the driver resets the GPU to switch. While processes hold the GPU the change\n"
                 "stays pending: stop them and run 'migctl mode -i N --reset' (or reboot).\n"
                 "Turning MIG off is refused while GPU instances exist (destroy them first).\n\n"
                 "  -i, --gpu GPUS  indexes, UUIDs or PCI bus ids, comma separated, or 'all'\n"
                 "                (default: every MIG-capable GPU, as nvidia-smi -mig does)\n"
                 "  --reset       reset the GPU now: a pending mode becomes current; every GPU\n"
                 "                instance is lost, so with instances present it needs --force\n"
                 "  --force       allow --reset to drop existing GPU instances\n"
                 "  --lock FILE   apply's lock file (default $MIGCTL_LOCK, else beside the\n"
                 "                simulator's state file, else /run/migctl/apply.lock)\n"
                 "  --json        machine-readable result\n");
}

typedef struct {
    unsigned gpu;
    bool json, reset, force, want;
    json_t *many;  /* several GPUs with --json: objects gathered here */
} mode_args;

/* One GPU's JSON object: printed, or gathered when several GPUs are done. */
static void emit_json(const mode_args *a, json_t *j)
{
    if (a->many)
        json_array_append_new(a->many, j);
    else
        cli_print_json(j);
}

static unsigned holders(const mig_gpu_state *st)
{
    unsigned procs = st->n_procs;
    for (unsigned i = 0; i < st->n_gi; i++)
        for (unsigned k = 0; k < st->gi[i].n_ci; k++)
            procs += st->gi[i].ci[k].n_procs;
    return procs;
}

static json_t *state_json(const mode_args *a, const mig_gpu_state *st)
{
    unsigned procs = holders(st);
    return json_pack("{s:i,s:s,s:{s:b,s:b},s:{s:i}}", "gpu", (int)a->gpu, "bus_id", st->bus_id,
                     "mig", "current", st->mig_current, "pending", st->mig_pending, "holders",
                     "procs", (int)procs);
}

static int do_reset(mig_backend *b, const mode_args *a, mig_error *e)
{
    mig_gpu_state st;
    if (cli_gpu_state(b, a->gpu, &st, e) < 0)
        return -1;
    if (st.n_gi && !a->force)
        return mig_fail(e, MIG_ERR_REFUSED,
                        "GPU %u has %u GPU instance%s; a reset destroys them: not reset (add "
                        "--force to reset anyway)",
                        a->gpu, st.n_gi, st.n_gi == 1 ? "" : "s");
    if (b->ops->reset(b, a->gpu, e) < 0) {
        if (e->nvml == NVML_ERROR_IN_USE)
            mig_error_prefix(e, "GPU %u: reset (%u process%s the GPU)", a->gpu,
                             holders(&st), holders(&st) == 1 ? " holds" : "es hold");
        else
            mig_error_prefix(e, "GPU %u: reset", a->gpu);
        return -1;
    }
    if (cli_gpu_state(b, a->gpu, &st, e) < 0)
        return -1;
    if (a->json) {
        json_t *j = state_json(a, &st);
        json_object_set_new(j, "reset", json_true());
        emit_json(a, j);
    } else {
        printf("Reset GPU %u (%s): MIG mode %s\n", a->gpu, st.bus_id,
               st.mig_current ? "on" : "off");
    }
    return 0;
}

static void print_outcome(const mode_args *a, const mig_gpu_state *st, bool changed,
                          bool pending, int why)
{
    const char *verb = a->want ? "enable" : "disable";
    unsigned procs = holders(st);
    if (a->json) {
        json_t *j = state_json(a, st);
        json_object_set_new(j, "requested", json_string(a->want ? "on" : "off"));
        json_object_set_new(j, "changed", json_boolean(changed));
        json_object_set_new(j, "took_effect", json_boolean(!pending));
        json_object_set_new(j, "why", pending ? json_string(nvml_rc_name(why)) : json_null());
        json_object_set_new(j, "why_text", pending ? json_string(nvml_rc_string(why)) : json_null());
        json_object_set_new(j, "arch", json_string(st->model ? mig_arch_name(st->model->arch) : "?"));
        emit_json(a, j);
        return;
    }
    if (!changed) {
        printf("MIG mode already %s on GPU %u (%s)\n", a->want ? "on" : "off", a->gpu, st->bus_id);
    } else if (!pending) {
        bool ampere = st->model && st->model->arch == MIG_ARCH_AMPERE;
        printf("%s MIG mode on GPU %u (%s)%s\n", a->want ? "Enabled" : "Disabled", a->gpu,
               st->bus_id,
               ampere ? ": the driver reset the GPU (Ampere needs a reset)"
                      : ": no reset needed (Hopper and later)");
    } else {
        printf("Warning: MIG mode is in pending %s state for GPU %u (%s): %s\n", verb, a->gpu,
               st->bus_id, nvml_rc_string(why));
        if (procs)
            printf("%u process%s hold%s the GPU; stop %s, then run 'migctl mode -i %u --reset' "
                   "(or reboot) to make MIG mode effective\n",
                   procs, procs == 1 ? "" : "es", procs == 1 ? "s" : "",
                   procs == 1 ? "it" : "them", a->gpu);
        else
            printf("Run 'migctl mode -i %u --reset' (or reboot) to make MIG mode effective\n",
                   a->gpu);
    }
}

static int do_mode(mig_backend *b, const mode_args *a, mig_error *e)
{
    mig_gpu_state st;
    if (cli_gpu_state(b, a->gpu, &st, e) < 0)
        return -1;
    if (!st.mig_capable || !st.model)
        return mig_fail(e, MIG_ERR_REFUSED, "GPU %u (%s) is not a MIG-capable GPU migctl knows",
                        a->gpu, st.name);
    if (st.mig_current == a->want && st.mig_pending == a->want) {
        print_outcome(a, &st, false, false, NVML_SUCCESS);
        return 0;
    }
    if (!a->want && st.n_gi)
        return mig_fail(e, MIG_ERR_REFUSED,
                        "GPU %u has %u GPU instance%s; MIG mode stays on (destroy them first: "
                        "migctl destroy -i %u --gi ID)",
                        a->gpu, st.n_gi, st.n_gi == 1 ? "" : "s", a->gpu);
    bool pending = false;
    int why = NVML_SUCCESS;
    if (b->ops->set_mode(b, a->gpu, a->want, &pending, &why, e) < 0) {
        mig_error_prefix(e, "GPU %u: %s MIG mode", a->gpu, a->want ? "enable" : "disable");
        return -1;
    }
    if (cli_gpu_state(b, a->gpu, &st, e) < 0)
        return -1;
    print_outcome(a, &st, true, pending, why);
    return 0;
}

int cmd_mode(int argc, char **argv, cli_globals *g)
{
    static const struct option opts[] = {{"gpu", required_argument, 0, 'i'},
                                         {"json", no_argument, 0, 'j'},
                                         {"reset", no_argument, 0, 'r'},
                                         {"force", no_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {"lock", required_argument, 0, 'L'},
                                         {0, 0, 0, 0}};
    mode_args a = {0};
    const char *lock = NULL;
    const char *which = NULL;
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_gpu_text_ok(optarg, true))
                return cli_usage_error("mode", "-i needs GPU indexes, UUIDs or PCI bus ids, or "
                                       "'all', not '%s'", optarg);
            which = optarg;
            break;
        case 'j': a.json = true; break;
        case 'r': a.reset = true; break;
        case 'f': a.force = true; break;
        case 'L': lock = optarg; break;
        case 'h': mode_usage(stdout); return 0;
        default: return cli_option_error("mode", c, argv);
        }
    }
    int rest = argc - optind;
    if (a.reset && rest)
        return cli_usage_error("mode", "--reset takes no on/off, not '%s'", argv[optind]);
    if (!a.reset) {
        if (rest == 0)
            return cli_usage_error("mode", "say on or off");
        if (rest > 1)
            return cli_usage_error("mode", "unexpected argument '%s'", argv[optind + 1]);
        const char *w = argv[optind];
        if (strcmp(w, "on") == 0 || strcmp(w, "1") == 0 || strcmp(w, "enable") == 0)
            a.want = true;
        else if (strcmp(w, "off") == 0 || strcmp(w, "0") == 0 || strcmp(w, "disable") == 0)
            a.want = false;
        else
            return cli_usage_error("mode", "'%s' is not on or off", w);
        if (a.force)
            return cli_usage_error("mode", "--force goes with --reset");
    }
    mig_error e;
    mig_backend *b;
    int lock_fd;
    if (cli_change_lock(g, "mode", lock, &lock_fd, &e) < 0)
        return cli_report("mode", &e);
    if (cli_open_backend(g, &b, &e) < 0) {
        cli_change_unlock(lock_fd);
        return cli_report("mode", &e);
    }
    unsigned sel[MIG_SELECT_MAX], n_sel = 0;
    bool all = !which || strcmp(which, "all") == 0;
    int code = 0;
    if (cli_gpu_select(b, which ? which : "all", true, sel, &n_sel, &e) < 0) {
        code = cli_report("mode", &e);
        n_sel = 0;
    }
    bool one = !all && n_sel == 1;
    if (a.json && !one)
        a.many = json_array();
    for (unsigned k = 0; k < n_sel; k++) {
        a.gpu = sel[k];
        if (all) {
            /* every GPU: those that cannot do MIG are not asked */
            mig_gpu_state st;
            if (b->ops->gpu_state(b, a.gpu, &st, &e) == 0 && (!st.mig_capable || !st.model))
                continue;
        }
        int rc = a.reset ? do_reset(b, &a, &e) : do_mode(b, &a, &e);
        if (rc < 0) {
            int c2 = cli_report("mode", &e);
            code = c2 > code ? c2 : code;
        }
    }
    backend_close(b);
    cli_change_unlock(lock_fd);
    if (a.many)
        cli_print_json(json_pack("{s:o}", "gpus", a.many));
    return code;
}
