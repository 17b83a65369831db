/*
 * cmd_destroy.c: `migctl destroy -i N --gi ID [--ci ID] [--force] [--json]`.
 *
 * With --ci: that compute instance. Without: the GPU instance's compute
 * instances (lowest id first), then the GPU instance, each printed as it
 * goes, like nvidia-smi mig -dci / -dgi. A busy instance (processes running
 * on it) is refused (exit 1) and nothing is destroyed. --force skips that
 * check but kills nothing: the driver still answers "In use" for an
 * instance that has processes, so --force only helps when the busy report
 * is stale. Ids that do not exist are bad input (exit 2).
 *
 * --gi takes a comma list (2,3), and --all every GPU instance of the GPU
 * (nvidia-smi mig -dci + -dgi with no -gi); every target is checked before
 * the first is destroyed, so one busy instance refuses the whole run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/gpu_select.h"
#include "model/gpu_state.h"
#include "util/nvml_rc.h"

static void destroy_usage(FILE *out)
{
    fprintf(out, "usage: migctl destroy -i GPU --gi ID[,ID...] [--ci ID] [--force] [--lock FILE]\n"
                 "                      [--json]\n"
                 "       migctl destroy -i GPU --all [--force] [--lock FILE] [--json]\n\n"
                 "Destroy compute instance --ci ID of GPU instance --gi ID on GPU N, or, without\n"
                 "--ci, every compute instance of the GPU instance and then the GPU instance.\n"
                 "Busy instances (processes running) are refused.\n\n"
                 "  -i, --gpu GPU an index, a UUID or a PCI bus id (required)\n"
                 "  --gi ID,...   the GPU instance(s) (ids from 'migctl status' or 'migctl list -lgi')\n"
                 "  --all         every GPU instance of the GPU\n"
                 "  --ci ID       only this compute instance\n"
                 "  --force       do not refuse busy instances; processes are NOT stopped, and\n"
                 "                the driver still refuses an instance with running processes\n"
                 "  --lock FILE   apply's lock file (default $MIGCTL_LOCK, else beside the\n"
                 "                simulator's state file, else /run/migctl/apply.lock)\n"
                 "  --json        machine-readable result\n");
}

typedef struct {
    unsigned gpu, gi, ci;
    bool have_ci, force, json, all;
    const char *gpu_text;
    unsigned n_gis;
    unsigned gis[MIG_MAX_GI * 2];
} destroy_args;

static void id_list(const mig_gpu_state *st, const mig_gi_state *gi, char *buf, size_t len)
{
    size_t used = 0;
    unsigned n = gi ? gi->n_ci : st->n_gi;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? ", " : "",
                                 gi ? gi->ci[i].id : st->gi[i].id);
    if (n == 0)
        snprintf(buf, len, "none");
}

/* Busy check before anything is destroyed: all or nothing. */
static int check_targets(const destroy_args *a, const mig_gpu_state *st, mig_error *e)
{
    char ids[128];
    const mig_gi_state *gi = gpu_state_find_gi(st, a->gi);
    if (!gi) {
        id_list(st, NULL, ids, sizeof ids);
        return mig_fail(e, MIG_ERR_INPUT, "GPU %u has no GPU instance %u (it has: %s)", a->gpu,
                        a->gi, ids);
    }
    for (unsigned k = 0; k < gi->n_ci; k++) {
        const mig_ci_state *ci = &gi->ci[k];
        if (a->have_ci && ci->id != a->ci)
            continue;
        /* The busy policy is model/gpu_state.c's (processes, or the driver
         * cannot say); only the wording differs by why. */
        if (ci_state_busy(ci) && !a->force && !ci->n_procs)
            return mig_fail(e, MIG_ERR_REFUSED,
                            "GPU %u GPU instance %u compute instance %u may be busy (the driver "
                            "cannot list processes): not destroyed without --force",
                            a->gpu, a->gi, ci->id);
        if (ci_state_busy(ci) && !a->force)
            return mig_fail(e, MIG_ERR_REFUSED,
                            "GPU %u GPU instance %u compute instance %u is busy (%u process%s): "
                            "not destroyed (stop the processes first; --force does not stop "
                            "them)",
                            a->gpu, a->gi, ci->id, ci->n_procs, ci->n_procs == 1 ? "" : "es");
        if (a->have_ci)
            return 0;
    }
    if (a->have_ci) {
        id_list(st, gi, ids, sizeof ids);
        return mig_fail(e, MIG_ERR_INPUT,
                        "GPU %u GPU instance %u has no compute instance %u (it has: %s)", a->gpu,
                        a->gi, a->ci, ids);
    }
    return 0;
}

static int destroy_ci(mig_backend *b, const destroy_args *a, unsigned ci, json_t *done,
                      mig_error *e)
{
    if (b->ops->destroy_ci(b, a->gpu, a->gi, ci, e) < 0) {
        mig_error_prefix(e, "GPU %u: destroy compute instance %u of GPU instance %u", a->gpu, ci,
                         a->gi);
        return -1;
    }
    json_array_append_new(done, json_pack("{s:i,s:i}", "gi", (int)a->gi, "ci", (int)ci));
    if (!a->json)
        printf("Destroyed compute instance ID %2u from GPU %2u GPU instance ID %2u\n", ci, a->gpu,
               a->gi);
    return 0;
}

static int run_one(mig_backend *b, const destroy_args *a, json_t *done, mig_error *e)
{
    mig_gpu_state st;
    if (cli_gpu_state(b, a->gpu, &st, e) < 0)
        return -1;
    if (a->have_ci)
        return destroy_ci(b, a, a->ci, done, e);
    const mig_gi_state *gi = gpu_state_find_gi(&st, a->gi);
    unsigned ids[MIG_MAX_CI], n = gi->n_ci;
    for (unsigned k = 0; k < n; k++)
        ids[k] = gi->ci[k].id;
    for (unsigned i = 0; i < n; i++) /* lowest id first, whatever the backend's order */
        for (unsigned j = i + 1; j < n; j++)
            if (ids[j] < ids[i]) {
                unsigned t = ids[i];
                ids[i] = ids[j];
                ids[j] = t;
            }
    for (unsigned k = 0; k < n; k++)
        if (destroy_ci(b, a, ids[k], done, e) < 0)
            return -1;
    if (b->ops->destroy_gi(b, a->gpu, a->gi, e) < 0) {
        mig_error_prefix(e, "GPU %u: destroy GPU instance %u", a->gpu, a->gi);
        return -1;
    }
    json_array_append_new(done, json_pack("{s:i,s:n}", "gi", (int)a->gi, "ci"));
    if (!a->json)
        printf("Destroyed GPU instance ID %2u from GPU %2u\n", a->gi, a->gpu);
    return 0;
}

/* Every target checked first (ids exist, none busy), then each destroyed. */
static int run_destroy(mig_backend *b, destroy_args *a, json_t *done, mig_error *e)
{
    mig_gpu_state st;
    if (cli_gpu_one(b, a->gpu_text, &a->gpu, e) < 0 || cli_gpu_state(b, a->gpu, &st, e) < 0)
        return -1;
    if (a->all) {
        a->n_gis = 0;
        for (unsigned i = 0; i < st.n_gi; i++)
            a->gis[a->n_gis++] = st.gi[i].id;
        if (!a->n_gis) {
            if (!a->json)
                printf("No GPU instances on GPU %u: nothing to destroy\n", a->gpu);
            return 0;
        }
    }
    for (unsigned k = 0; k < a->n_gis; k++) {
        a->gi = a->gis[k];
        if (check_targets(a, &st, e) < 0)
            return -1;
    }
    for (unsigned k = 0; k < a->n_gis; k++) {
        a->gi = a->gis[k];
        if (run_one(b, a, done, e) < 0)
            return -1;
    }
    return 0;
}

static int parse_gi_list(const char *text, destroy_args *a)
{
    char buf[256];
    if (!*text || strlen(text) >= sizeof buf || text[strlen(text) - 1] == ',')
        return -1;
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    a->n_gis = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (a->n_gis == sizeof a->gis / sizeof a->gis[0] || !cli_parse_uint(t, &a->gis[a->n_gis]))
            return -1;
        a->n_gis++;
    }
    return a->n_gis ? 0 : -1;
}

int cmd_destroy(int argc, char **argv, cli_globals *g)
{
    static const struct option opts[] = {{"gpu", required_argument, 0, 'i'},
                                         {"gi", required_argument, 0, 'G'},
                                         {"ci", required_argument, 0, 'c'},
                                         {"all", no_argument, 0, 'A'},
                                         {"force", no_argument, 0, 'f'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {"lock", required_argument, 0, 'L'},
                                         {0, 0, 0, 0}};
    destroy_args a = {0};
    const char *lock = NULL;
    bool have_gpu = false, have_gi = false;
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_gpu_text_ok(optarg, false))
                return cli_usage_error("destroy", "-i needs a GPU index, UUID or PCI bus id, "
                                       "not '%s'", optarg);
            a.gpu_text = optarg;
            have_gpu = true;
            break;
        case 'G':
            if (parse_gi_list(optarg, &a) < 0)
                return cli_usage_error("destroy", "--gi needs instance ids (2 or 2,3), not '%s'",
                                       optarg);
            have_gi = true;
            break;
        case 'A': a.all = true; break;
        case 'c':
            if (!cli_parse_uint(optarg, &a.ci))
                return cli_usage_error("destroy", "--ci needs an instance id, not '%s'", optarg);
            a.have_ci = true;
            break;
        case 'f': a.force = true; break;
        case 'L': lock = optarg; break;
        case 'j': a.json = true; break;
        case 'h': destroy_usage(stdout); return 0;
        default: return cli_option_error("destroy", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("destroy", "unexpected argument '%s'", argv[optind]);
    if (!have_gpu || (!have_gi && !a.all))
        return cli_usage_error("destroy", "-i GPU and --gi ID (or --all) are required");
    if (a.all && (have_gi || a.have_ci))
        return cli_usage_error("destroy", "--all excludes --gi and --ci");
    if (a.have_ci && a.n_gis > 1)
        return cli_usage_error("destroy", "--ci needs exactly one --gi");

    mig_error e;
    mig_backend *b;
    int lock_fd;
    if (cli_change_lock(g, "destroy", lock, &lock_fd, &e) < 0)
        return cli_report("destroy", &e);
    if (cli_open_backend(g, &b, &e) < 0) {
        cli_change_unlock(lock_fd);
        return cli_report("destroy", &e);
    }
    json_t *done = json_array();
    int rc = run_destroy(b, &a, done, &e);
    backend_close(b);
    cli_change_unlock(lock_fd);
    if (rc < 0 && e.nvml == NVML_ERROR_IN_USE && a.force) {
        char msg[sizeof e.msg + 96];
        snprintf(msg, sizeof msg, "%s (--force does not stop processes: stop them first)", e.msg);
        msg[sizeof e.msg - 1] = '\0';
        memcpy(e.msg, msg, sizeof e.msg);
    }
    if (a.json) {
        json_t *root = json_pack("{s:i,s:o,s:o}", "gpu", (int)a.gpu, "destroyed", done, "error",
                                 rc < 0 ? json_string(e.msg) : json_null());
        cli_print_json(root);
    } else {
        json_decref(done);
    }
    return rc < 0 ? cli_report("destroy", &e) : 0;
}
