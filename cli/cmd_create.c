/*
 * cmd_create.c: `migctl create -i N PROFILE[@START] ... [-C] [--json]`, like
 * `nvidia-smi mig -cgi ... [-C]`: GPU instances are created in the order
 * given (with -C each one's default compute instance right after it), and
 * the first failure stops the run, naming what failed; what was created
 * before it stays.
 *
 * Every argument is checked against the GPU's model before anything is
 * created, so a typo (unknown profile, a compute-instance name, a placement
 * not in the profile's list, a GPU index out of range) is a usage error
 * (exit 2) and changes nothing. What only the GPU can know (overlap, no
 * room, MIG off) comes back from the backend with NVML's message (exit 3);
 * when there is no room, the message says what is still free.
 *
 * `--gi ID[,ID...]` is nvidia-smi's `-cci -gi`: compute instances in GPU
 * instances that exist, one per CI profile named (or the default one when
 * none is named). Profiles may also be given as comma lists, as nvidia-smi
 * takes them ("1g.10gb,1g.10gb"); nvidia-smi's ":start" is answered with a
 * pointer to migctl's "@start".
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/gpu_select.h"
#include "model/layout.h"
#include "model/profile_name.h"
#include "util/nvml_rc.h"

#define CREATE_MAX 64

static void create_usage(FILE *out)
{
    fprintf(out, "usage: migctl create -i GPU PROFILE[@START][,...] ... [-C] [--lock FILE] [--json]\n"
                 "       migctl create -i GPU --gi ID[,ID...] [CI-PROFILE[,...] ...] [--lock FILE]\n"
                 "                     [--json]\n\n"
                 "Create GPU instances on GPU N, in the order given, as nvidia-smi mig -cgi does.\n"
                 "PROFILE is a GPU-instance profile name of the GPU's model (3g.40gb, 1g.10gb+me;\n"
                 "see 'migctl profiles -i N') or its numeric id (9); @START pins the placement\n"
                 "(the first memory slice; it must be in the profile's placement list). Without\n"
                 "@START the driver chooses. Stops at the first failure; earlier instances stay.\n\n"
                 "With --gi, create compute instances in existing GPU instances instead, as\n"
                 "nvidia-smi mig -cci -gi does: one per CI-PROFILE (a name such as 1c.3g.40gb or\n"
                 "3g.40gb, or a CI profile id; see 'migctl profiles -i N --ci'), or the default\n"
                 "one when none is named.\n\n"
                 "  -i, --gpu GPU an index, a UUID or a PCI bus id (required)\n"
                 "  -C            also create each GPU instance's default compute instance\n"
                 "  --gi ID,...   create compute instances in these GPU instances (-C may be\n"
                 "                added; it changes nothing there)\n"
                 "  --lock FILE   apply's lock file (default $MIGCTL_LOCK, else beside the\n"
                 "                simulator's state file, else /run/migctl/apply.lock)\n"
                 "  --json        machine-readable result\n");
}

typedef struct {
    const char *text;             /* as typed */
    const mig_gi_profile *gi;
    int start;
} create_req;

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int parse_start(const char *text, const char *at, int *start, mig_error *e)
{
    unsigned v;
    if (!cli_parse_uint(at + 1, &v) || v >= MIG_MAX_SLOTS * 4)
        return mig_fail(e, MIG_ERR_INPUT, "'%s': expected a start slice after '@'", text);
    *start = (int)v;
    return 0;
}

/* "3g.40gb", "3g.40gb@4", "9", "9@4" -> profile + start, checked against m. */
static int resolve_arg(const mig_model *m, const char *text, create_req *r, mig_error *e)
{
    r->text = text;
    r->start = -1;
    const char *colon = strchr(text, ':');
    if (colon && !strchr(text, '@'))
        return mig_fail(e, MIG_ERR_INPUT,
                        "'%s': migctl pins a placement with '@', not ':' (try '%.*s@%s')", text,
                        (int)(colon - text), text, colon + 1);
    const char *at = strchr(text, '@');
    size_t plen = at ? (size_t)(at - text) : strlen(text);
    if (all_digits(text, plen)) {
        unsigned id = 0;
        for (size_t i = 0; i < plen && id < 1000; i++)
            id = id * 10 + (unsigned)(text[i] - '0');
        r->gi = mig_profile_by_id(m, id);
        if (!r->gi)
            return mig_fail(e, MIG_ERR_INPUT, "'%s': %s has no GPU instance profile with id %u",
                            text, m->name, id);
        if (at && parse_start(text, at, &r->start, e) < 0)
            return -1;
    } else {
        char name[MIG_NAME_LEN + 16];
        mig_profile_name n;
        mig_ci_profile ci;
        if (mig_profile_ref_parse(text, name, sizeof name, &r->start, e) < 0 ||
            mig_profile_name_parse(name, &n, e) < 0)
            return -1;
        if (n.ci_slices)
            return mig_fail(e, MIG_ERR_INPUT,
                            "'%s' is a compute-instance profile; create takes GPU-instance "
                            "profiles (with -C each gets its default compute instance)",
                            text);
        if (mig_profile_resolve(m, &n, &r->gi, &ci, e) < 0)
            return -1;
    }
    if (r->start >= 0 && !layout_start_valid(r->gi, (unsigned)r->start)) {
        char list[64] = "";
        size_t used = 0;
        for (unsigned i = 0; i < r->gi->n_starts && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%u", i ? ", " : "",
                                     r->gi->starts[i]);
        return mig_fail(e, MIG_ERR_INPUT,
                        "'%s': placement not allowed: %s can start only at %s", text,
                        r->gi->name, list);
    }
    return 0;
}

/* Create one GI (and with -C its default CI); appends to `done` for --json. */
static int create_one(mig_backend *b, unsigned gpu, const mig_model *m, const create_req *r,
                      bool with_ci, bool json, json_t *done, mig_error *e)
{
    unsigned gi_id, ci_id;
    if (b->ops->create_gi(b, gpu, r->gi->id, r->start, &gi_id, e) < 0) {
        mig_error_prefix(e, "GPU %u: create %s", gpu, r->text);
        return -1;
    }
    mig_gpu_state st;
    if (cli_gpu_state(b, gpu, &st, e) < 0)
        return -1;
    const mig_gi_state *gi = gpu_state_find_gi(&st, gi_id);
    unsigned start = gi ? gi->start : 0, size = gi ? gi->size : r->gi->memory_slices;
    json_t *entry = json_pack("{s:i,s:s,s:i,s:{s:i,s:i},s:[]}", "id", (int)gi_id, "profile",
                              r->gi->name, "profile_id", (int)r->gi->id, "placement", "start",
                              (int)start, "size", (int)size, "compute_instances");
    json_array_append_new(done, entry);
    if (!json)
        printf("Created GPU instance ID %2u on GPU %2u using profile %s (ID %2u) at %u:%u\n",
               gi_id, gpu, r->gi->name, r->gi->id, start, size);
    if (!with_ci)
        return 0;
    mig_ci_profile ci;
    if (!mig_ci_default(m, r->gi, &ci))
        return mig_fail(e, MIG_ERR_INPUT, "%s has no default compute instance profile",
                        r->gi->name);
    if (b->ops->create_ci(b, gpu, gi_id, ci.id, -1, &ci_id, e) < 0) {
        mig_error_prefix(e, "GPU %u: create the compute instance of GPU instance %u", gpu, gi_id);
        return -1;
    }
    if (cli_gpu_state(b, gpu, &st, e) < 0)
        return -1;
    const char *uuid = "";
    gi = gpu_state_find_gi(&st, gi_id);
    for (unsigned k = 0; gi && k < gi->n_ci; k++)
        if (gi->ci[k].id == ci_id)
            uuid = gi->ci[k].uuid;
    json_array_append_new(json_object_get(entry, "compute_instances"),
                          json_pack("{s:i,s:s,s:i,s:s}", "id", (int)ci_id, "profile", ci.name,
                                    "profile_id", (int)ci.id, "uuid", uuid));
    if (!json)
        printf("Created compute instance ID %2u on GPU %2u GPU instance ID %2u using profile %s "
               "(ID %2u)\n",
               ci_id, gpu, gi_id, ci.name, ci.id);
    return 0;
}

typedef struct {
    unsigned gpu;
    bool with_ci, json;
    int n;
    char **profiles;
    const char *gpu_text;         /* -i as typed */
    unsigned n_gi;                /* --gi: create CIs in these GIs */
    unsigned gi[MIG_MAX_GI * 2];
} create_args;

/* After "Insufficient Resources": what the GPU still has room for, so the
 * user need not go and look ("still free on GPU 0: 1x 1g.10gb, ..." or
 * "nothing is free on GPU 0"). */
static void append_free(mig_backend *b, unsigned gpu, const mig_model *m, mig_error *e)
{
    char list[256] = "";
    size_t used = 0;
    for (unsigned i = 0; i < m->n_profiles && used < sizeof list; i++) {
        unsigned count = 0;
        mig_error ignored;
        if (b->ops->remaining_capacity(b, gpu, m->profiles[i].id, &count, &ignored) < 0 ||
            !count)
            continue;
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%ux %s", used ? ", " : "",
                                 count, m->profiles[i].name);
    }
    char msg[sizeof e->msg + 300];
    if (used)
        snprintf(msg, sizeof msg, "%s; still free on GPU %u: %s", e->msg, gpu, list);
    else
        snprintf(msg, sizeof msg, "%s; nothing is free on GPU %u", e->msg, gpu);
    msg[sizeof e->msg - 1] = '\0';
    memcpy(e->msg, msg, sizeof e->msg);
}

/* A CI profile of GI profile p by id or name ("1c.3g.40gb", "MIG 3g.40gb");
 * a name that two profiles share (the full CI of a 1g.20gb GI: ids 0 and 7)
 * means the default one. */
static int resolve_ci(const mig_model *m, const mig_gi_profile *p, const char *text,
                      mig_ci_profile *out, mig_error *e)
{
    mig_ci_profile all[MIG_MAX_CI_PROFILES];
    unsigned n = mig_ci_profiles(m, p, all);
    unsigned id;
    const char *name = strncasecmp(text, "MIG ", 4) == 0 ? text + 4 : text;
    bool numeric = cli_parse_uint(text, &id);
    int found = -1;
    for (unsigned i = 0; i < n; i++)
        if (numeric ? all[i].id == id : strcasecmp(all[i].name, name) == 0)
            if (found < 0 || all[i].is_default)
                found = (int)i;
    if (found >= 0) {
        *out = all[found];
        return 0;
    }
    char list[256] = "";
    size_t used = 0;
    for (unsigned i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s (ID %u)", i ? ", " : "",
                                 all[i].name, all[i].id);
    return mig_fail(e, MIG_ERR_INPUT,
                    "'%s' is not a compute-instance profile of a %s GPU instance (valid: %s)",
                    text, p->name, list);
}

/* --gi: CIs in existing GIs, like nvidia-smi mig -cci [profiles] -gi IDs. */
static int run_create_ci(mig_backend *b, const create_args *a, const mig_gpu_state *st,
                         json_t *done, mig_error *e)
{
    const mig_model *m = st->model;
    /* Check every GI and every profile first: a typo changes nothing. */
    for (unsigned k = 0; k < a->n_gi; k++) {
        const mig_gi_state *gi = gpu_state_find_gi(st, a->gi[k]);
        if (!gi)
            return mig_fail(e, MIG_ERR_INPUT, "GPU %u has no GPU instance %u", a->gpu, a->gi[k]);
        const mig_gi_profile *p = mig_profile_by_id(m, gi->profile_id);
        if (!p)
            return mig_fail(e, MIG_ERR_BACKEND, "GPU %u: GPU instance %u has unknown profile %u",
                            a->gpu, gi->id, gi->profile_id);
        mig_ci_profile cp;
        for (int i = 0; i < a->n; i++)
            if (resolve_ci(m, p, a->profiles[i], &cp, e) < 0)
                return -1;
    }
    for (unsigned k = 0; k < a->n_gi; k++) {
        const mig_gi_state *gi = gpu_state_find_gi(st, a->gi[k]);
        const mig_gi_profile *p = mig_profile_by_id(m, gi->profile_id);
        json_t *cis = json_array();
        json_array_append_new(done, json_pack("{s:i,s:s,s:i,s:o}", "id", (int)gi->id, "profile",
                                              p->name, "profile_id", (int)p->id,
                                              "compute_instances", cis));
        for (int i = 0; i < (a->n ? a->n : 1); i++) {
            mig_ci_profile cp;
            if (a->n ? resolve_ci(m, p, a->profiles[i], &cp, e) < 0 : !mig_ci_default(m, p, &cp))
                return a->n ? -1 : mig_fail(e, MIG_ERR_INPUT, "%s has no default compute "
                                            "instance profile", p->name);
            unsigned ci_id;
            if (b->ops->create_ci(b, a->gpu, gi->id, cp.id, -1, &ci_id, e) < 0) {
                mig_error_prefix(e, "GPU %u: create compute instance %s in GPU instance %u",
                                 a->gpu, cp.name, gi->id);
                return -1;
            }
            json_array_append_new(cis, json_pack("{s:i,s:s,s:i}", "id", (int)ci_id, "profile",
                                                 cp.name, "profile_id", (int)cp.id));
            if (!a->json)
                printf("Created compute instance ID %2u on GPU %2u GPU instance ID %2u using "
                       "profile %s (ID %2u)\n",
                       ci_id, a->gpu, gi->id, cp.name, cp.id);
        }
    }
    return 0;
}

/* NOT_SUPPORTED with MIG off: say what to do about it after NVML's text. */
static void append_hint(mig_error *e, unsigned gpu)
{
    char msg[sizeof e->msg + 128];
    snprintf(msg, sizeof msg, "%s (MIG mode is off on GPU %u: run 'migctl mode -i %u on')", e->msg,
             gpu, gpu);
    msg[sizeof e->msg - 1] = '\0';
    memcpy(e->msg, msg, sizeof e->msg);
}

static int run_create(mig_backend *b, create_args *a, json_t *done, mig_error *e)
{
    mig_gpu_state st;
    if (cli_gpu_one(b, a->gpu_text, &a->gpu, e) < 0 || cli_gpu_state(b, a->gpu, &st, e) < 0)
        return -1;
    if (!st.model)
        return mig_fail(e, MIG_ERR_REFUSED, "GPU %u (%s) is not a MIG-capable GPU migctl knows",
                        a->gpu, st.name);
    if (a->n_gi)
        return run_create_ci(b, a, &st, done, e);
    create_req reqs[CREATE_MAX];
    for (int i = 0; i < a->n; i++)
        if (resolve_arg(st.model, a->profiles[i], &reqs[i], e) < 0)
            return -1;
    for (int i = 0; i < a->n; i++) {
        if (create_one(b, a->gpu, st.model, &reqs[i], a->with_ci, a->json, done, e) < 0) {
            if (e->nvml == NVML_ERROR_NOT_SUPPORTED && !st.mig_current)
                append_hint(e, a->gpu);
            if (e->nvml == NVML_ERROR_INSUFFICIENT_RESOURCES)
                append_free(b, a->gpu, st.model, e);
            return -1;
        }
    }
    return 0;
}

static void free_all(char **p, int n)
{
    for (int i = 0; i < n; i++)
        free(p[i]);
}

/* "2" or "2,3": GI ids, at most cap. */
static int split_ids(const char *text, unsigned *out, unsigned *n, unsigned cap)
{
    char buf[256];
    if (!*text || strlen(text) >= sizeof buf || text[strlen(text) - 1] == ',')
        return -1;
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    *n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == cap || !cli_parse_uint(t, &out[*n]))
            return -1;
        (*n)++;
    }
    return *n ? 0 : -1;
}

int cmd_create(int argc, char **argv, cli_globals *g)
{
    static const struct option opts[] = {{"gpu", required_argument, 0, 'i'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {"gi", required_argument, 0, 'G'},
                                         {"lock", required_argument, 0, 'L'},
                                         {0, 0, 0, 0}};
    create_args a = {0};
    const char *lock = NULL;
    bool have_gpu = false;
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":i:Ch", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_gpu_text_ok(optarg, false))
                return cli_usage_error("create", "-i needs a GPU index, UUID or PCI bus id, not "
                                       "'%s'", optarg);
            a.gpu_text = optarg;
            have_gpu = true;
            break;
        case 'G':
            if (split_ids(optarg, a.gi, &a.n_gi, sizeof a.gi / sizeof a.gi[0]) < 0)
                return cli_usage_error("create", "--gi needs GPU instance ids (2 or 2,3), not "
                                       "'%s'", optarg);
            break;
        case 'C': a.with_ci = true; break;
        case 'L': lock = optarg; break;
        case 'j': a.json = true; break;
        case 'h': create_usage(stdout); return 0;
        default: return cli_option_error("create", c, argv);
        }
    }
    if (!have_gpu)
        return cli_usage_error("create", "-i N (the GPU) is required");
    /* "1g.10gb,1g.10gb 3g.40gb" = three profiles, as nvidia-smi takes them. */
    char *split[CREATE_MAX];
    char *copies[CREATE_MAX];
    int n_copies = 0;
    a.n = 0;
    for (int i = optind; i < argc; i++) {
        if (n_copies == CREATE_MAX)
            break;
        char *copy = strdup(argv[i]), *save = NULL;
        if (!copy)
            return cli_usage_error("create", "out of memory");
        copies[n_copies++] = copy;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (a.n == CREATE_MAX) {
                free_all(copies, n_copies);
                return cli_usage_error("create", "at most %d profiles at once", CREATE_MAX);
            }
            split[a.n++] = t;
        }
    }
    a.profiles = split;
    if (a.n == 0 && !a.n_gi) {
        free_all(copies, n_copies);
        return cli_usage_error("create", "name at least one profile (e.g. 3g.40gb or 3g.40gb@4)");
    }
    /* With --gi, -C (compute instances) is what is done anyway: accepted. */

    mig_error e;
    mig_backend *b;
    int lock_fd;
    if (cli_change_lock(g, "create", lock, &lock_fd, &e) < 0) {
        free_all(copies, n_copies);
        return cli_report("create", &e);
    }
    if (cli_open_backend(g, &b, &e) < 0) {
        cli_change_unlock(lock_fd);
        free_all(copies, n_copies);
        return cli_report("create", &e);
    }
    json_t *done = json_array();
    int rc = run_create(b, &a, done, &e);
    backend_close(b);
    cli_change_unlock(lock_fd);
    if (a.json) {
        json_t *root = json_pack("{s:i,s:o,s:o}", "gpu", (int)a.gpu, "created", done, "error",
                                 rc < 0 ? json_string(e.msg) : json_null());
        cli_print_json(root);
    } else {
        json_decref(done);
    }
    free_all(copies, n_copies);
    return rc < 0 ? cli_report("create", &e) : 0;
}
