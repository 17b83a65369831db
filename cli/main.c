/*
 * main.c: migctl's entry point. Pulls the global options (--backend, --sim,
 * --no-color) out of argv wherever they stand, so `migctl status --sim F`
 * works as well as `migctl --sim F status`, then dispatches to the verb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <libgen.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define MIGCTL_VERSION "0.1.0"

static const struct {
    const char *name;
    cli_verb_fn fn;
    const char *summary;
} verbs[] = {
    {"models", cmd_models, "list the MIG-capable GPU models migctl knows"},
    {"profiles", cmd_profiles, "GPU-instance profiles and placements of a model or a GPU"},
    {"layouts", cmd_layouts, "every maximal layout of a model, drawn as slot maps"},
    {"status", cmd_status, "every GPU with its instances, UUIDs, busy state and slot map"},
    {"mode", cmd_mode, "turn MIG mode on or off on a GPU"},
    {"create", cmd_create, "create GPU instances (and their default compute instance)"},
    {"destroy", cmd_destroy, "destroy a GPU instance or a compute instance"},
    {"apply", cmd_apply, "make GPUs match a mig-parted v1 config, with the fewest operations"},
    {"assert", cmd_assert, "check that GPUs match a config (exit 1 with a drift report)"},
    {"export", cmd_export, "write the current layout as a v1 config"},
    {"generate-config", cmd_generate_config, "write the named layouts for a model or the GPUs present"},
    {"plan", cmd_plan, "decide slices for workloads and pack them onto a fleet"},
    {"replan", cmd_replan, "replan a running fleet for new demand with the fewest drains"},
    {"sim", cmd_sim, "manage the simulated GPUs (init, procs, fault, reboot)"},
    {"k8s", cmd_k8s, "labels and resources Kubernetes sees for this node's MIG devices"},
    {"top", cmd_top, "live view of every slice: SM, bandwidth, memory, processes, health"},
    {"exporter", cmd_exporter, "serve slice telemetry to Prometheus (dcgm-exporter names)"},
    {"profile", cmd_profile, "run a workload, measure it, recommend the smallest MIG profile"},
    {"list", cmd_list, "GPUs and MIG devices with UUIDs, as nvidia-smi -L, -lgi, -lci, -lcip"},
    {"mig-parted", cmd_mig_parted, "answer as nvidia-mig-parted (apply, assert, export, ...)"},
    {"slurm", cmd_slurm, "MIG slices as Slurm gres; reconfigure nodes through Slurm"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: migctl [--backend nvml|sim] [--sim FILE] [--no-color] VERB [ARGS]\n\n");
    fprintf(out, "Partition NVIDIA GPUs with MIG and keep them partitioned well.\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-16s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\nglobal options:\n"
                 "  --backend NAME  nvml or sim (default: nvml when libnvidia-ml.so.1 loads, else sim;\n"
                 "                  also $MIGCTL_BACKEND)\n"
                 "  --sim FILE      simulator state file (also $MIGCTL_SIM_STATE)\n"
                 "  --no-color      never colour the output\n"
                 "  --version       print the version\n\n"
                 "Run 'migctl VERB --help' for a verb's options.\n");
}

/* Remove argv[i] (and n-1 following) from the vector. */
static void drop_args(int *argc, char **argv, int i, int n)
{
    memmove(&argv[i], &argv[i + n], (size_t)(*argc - i - n + 1) * sizeof argv[0]);
    *argc -= n;
}

/* Take a global option out of argv. Stops at "--". */
static int take_globals(int *argc, char **argv, cli_globals *g)
{
    for (int i = 1; i < *argc;) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strcmp(a, "--no-color") == 0) {
            g->color = false;
            drop_args(argc, argv, i, 1);
        } else if (strcmp(a, "--backend") == 0 || strcmp(a, "--sim") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "migctl: %s needs a value\n", a);
                return -1;
            }
            if (a[2] == 'b')
                g->backend = argv[i + 1];
            else
                g->sim_path = argv[i + 1];
            drop_args(argc, argv, i, 2);
        } else if (strncmp(a, "--backend=", 10) == 0) {
            g->backend = a + 10;
            drop_args(argc, argv, i, 1);
        } else if (strncmp(a, "--sim=", 6) == 0) {
            g->sim_path = a + 6;
            drop_args(argc, argv, i, 1);
        } else {
            i++;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* no-color.org: NO_COLOR set to a non-empty value turns colour off; set
     * but empty, it does not. */
    const char *no_color = getenv("NO_COLOR");
    cli_globals g = {
        .backend = getenv("MIGCTL_BACKEND"),
        .sim_path = getenv("MIGCTL_SIM_STATE"),
        .color = isatty(STDOUT_FILENO) && !(no_color && *no_color),
        .nvml_lib = getenv("MIGCTL_NVML_LIB"),
        .lock_env = getenv("MIGCTL_LOCK"),
    };
    if (take_globals(&argc, argv, &g) < 0)
        return 2;
    /* Installed or linked as nvidia-mig-parted: be it (flags, environment,
     * messages and exit codes of mig-parted v0.13.1). */
    char self[4096];
    snprintf(self, sizeof self, "%s", argv[0] ? argv[0] : "");
    if (strcmp(basename(self), "nvidia-mig-parted") == 0)
        return cmd_mig_parted(argc, argv, &g);
    /* "migctl help VERB" is "migctl VERB --help". */
    if (argc >= 3 && strcmp(argv[1], "help") == 0)
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
            if (strcmp(argv[2], verbs[i].name) == 0) {
                char *help_argv[] = {argv[2], "--help", NULL};
                return verbs[i].fn(2, help_argv, &g);
            }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("migctl %s\n", MIGCTL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].fn(argc - 1, argv + 1, &g);
    fprintf(stderr, "migctl: unknown verb '%s'\nTry 'migctl --help'.\n", argv[1]);
    return 2;
}
