/*
 * cmd_k8s.c: `migctl k8s labels`: the labels gpu-feature-discovery would
 * publish for this node's MIG devices (mixed or single strategy) and the
 * extended resources the NVIDIA device plugin would advertise, so that an
 * operator can see what Kubernetes will schedule on before relabelling a
 * node. Thin: the computation is in integrate/k8s.
 *
 * Exit: 0; 1 when the single strategy cannot describe the node (GFD labels
 * it "...-MIG-INVALID"); 2 bad input; 3 backend error.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "integrate/k8s/k8s.h"

#define VERB "k8s"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl k8s labels [--strategy mixed|single] [--json]\n\n"
            "What Kubernetes sees of this node's GPUs through NVIDIA's GPU Operator:\n"
            "the labels gpu-feature-discovery publishes for the MIG devices (mixed:\n"
            "nvidia.com/mig-<profile>.count, .memory, .multiprocessors, .product, .replicas,\n"
            ".sharing-strategy, .slices.gi, .slices.ci, .engines.{copy,decoder,encoder,jpeg,ofa};\n"
            "single: the same as nvidia.com/gpu.*), and the extended resources the device\n"
            "plugin advertises (mixed: nvidia.com/mig-1g.10gb; single: nvidia.com/gpu).\n"
            "A '+' in a profile name becomes '.' (1g.10gb+me -> nvidia.com/mig-1g.10gb.me).\n"
            "plan/replan --emit-config DIR --emit-k8s write the ConfigMap and node labels that\n"
            "drive the mig-manager (docs/kubernetes.md).\n\n"
            "  --strategy S  mixed (default) or single, as the ClusterPolicy's mig.strategy\n"
            "  --json        {\"strategy\", \"valid\", \"problem\", \"labels\": {key: value},\n"
            "                \"resources\": {name: count}}\n"
            "  -h, --help    this help\n\n"
            "Exit: 0; 1 the single strategy cannot describe this node (GFD would label its\n"
            "product <GPU>-MIG-INVALID); 2 bad input; 3 backend error.\n");
}

static int labels(int argc, char **argv, cli_globals *g)
{
    static const struct option opts[] = {
        {"strategy", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    k8s_strategy strategy = K8S_STRATEGY_MIXED;
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (strcmp(optarg, "mixed") == 0)
                strategy = K8S_STRATEGY_MIXED;
            else if (strcmp(optarg, "single") == 0)
                strategy = K8S_STRATEGY_SINGLE;
            else
                return cli_usage_error(VERB, "--strategy takes mixed or single, not '%s'", optarg);
            break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default: return cli_option_error(VERB, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]);

    mig_error e = {0};
    mig_backend *b;
    if (cli_open_backend(g, &b, &e) < 0)
        return cli_report(VERB, &e);
    mig_gpu_state *gpus;
    unsigned n;
    int rc = cli_read_states(b, &gpus, &n, &e);
    backend_close(b);
    if (rc < 0)
        return cli_report(VERB, &e);
    k8s_labels *out = malloc(sizeof *out);
    if (!out) {
        free(gpus);
        mig_fail(&e, MIG_ERR_SYSTEM, "out of memory");
        return cli_report(VERB, &e);
    }
    rc = k8s_node_labels(gpus, n, strategy, out, &e);
    free(gpus);
    if (rc < 0) {
        free(out);
        return cli_report(VERB, &e);
    }
    if (json) {
        json_t *lab = json_object(), *res = json_object();
        for (unsigned i = 0; i < out->n_labels; i++)
            json_object_set_new(lab, out->labels[i].key, json_string(out->labels[i].value));
        for (unsigned i = 0; i < out->n_resources; i++)
            json_object_set_new(res, out->resources[i].name,
                                json_integer((json_int_t)out->resources[i].count));
        cli_print_json(json_pack("{s:s, s:b, s:s?, s:o, s:o}", "strategy",
                                 k8s_strategy_name(strategy), "valid", out->valid, "problem",
                                 out->valid ? NULL : out->problem, "labels", lab, "resources",
                                 res));
    } else {
        printf("Labels (gpu-feature-discovery, MIG strategy %s):\n", k8s_strategy_name(strategy));
        for (unsigned i = 0; i < out->n_labels; i++)
            printf("  %s=%s\n", out->labels[i].key, out->labels[i].value);
        printf("Extended resources (device plugin):\n");
        for (unsigned i = 0; i < out->n_resources; i++)
            printf("  %-40s %u\n", out->resources[i].name, out->resources[i].count);
        if (!out->valid)
            fprintf(stderr, "migctl: k8s: the single strategy cannot describe this node: %s\n",
                    out->problem);
    }
    rc = out->valid ? 0 : 1;
    free(out);
    return rc;
}

int cmd_k8s(int argc, char **argv, cli_globals *g)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "labels") == 0)
        return labels(argc - 1, argv + 1, g);
    return cli_usage_error(VERB, "unknown subcommand '%s' (known: labels)", argv[1]);
}
