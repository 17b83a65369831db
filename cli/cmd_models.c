/*
 * cmd_models.c: `migctl models`: every GPU model in the catalogue with its
 * NVML name, architecture, PCI device ids, memory, slices and instance limit,
 * as a table or as JSON. Offline: reads model/catalogue only.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "model/catalogue.h"

#define VERB "models"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: migctl models [--json]\n\n"
            "The MIG-capable GPU models migctl knows: catalogue name (what --model takes), the\n"
            "name NVML reports, architecture, PCI device ids, memory, memory/compute slices and\n"
            "the most GPU instances at once (SLICES: compute/memory slices).\n"
            "'migctl profiles --model NAME' shows a model's profiles.\n\n"
            "  --json   {\"models\": [{\"name\", \"nvml_name\", \"arch\", \"pci_device_ids\",\n"
            "           \"memory_bytes\", \"memory_mib\", \"memory_slices\", \"compute_slices\",\n"
            "           \"sm_count\", \"max_gpu_instances\", \"gpm\", \"profiles\", \"source\"}]}\n");
}

static void pci_ids_text(const mig_model *m, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < m->n_pci_ids && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s0x%08X", i ? "," : "",
                                 m->pci_device_ids[i]);
}

static void print_table(const mig_model *all, unsigned n)
{
    /* Columns as wide as the longest name. */
    int wname = 5, wnvml = 9;
    for (unsigned i = 0; i < n; i++) {
        if ((int)strlen(all[i].name) > wname)
            wname = (int)strlen(all[i].name);
        if ((int)strlen(all[i].nvml_name) > wnvml)
            wnvml = (int)strlen(all[i].nvml_name);
    }
    printf("%-*s %-*s %-9s %10s %4s %7s %6s  %s\n", wname, "MODEL", wnvml, "NVML NAME", "ARCH",
           "MEMORY", "SMS", "SLICES", "MAX GI", "PCI DEVICE IDS");
    for (unsigned i = 0; i < n; i++) {
        const mig_model *m = &all[i];
        char mem[24], slices[16], ids[128];
        snprintf(mem, sizeof mem, "%llu MiB", m->memory_bytes >> 20);
        snprintf(slices, sizeof slices, "%uc/%um", m->compute_slices, m->memory_slices);
        pci_ids_text(m, ids, sizeof ids);
        printf("%-*s %-*s %-9s %10s %4u %7s %6u  %s\n", wname, m->name, wnvml, m->nvml_name,
               mig_arch_name(m->arch), mem, m->sm_count, slices, m->max_gis,
               m->n_pci_ids ? ids : "unknown (matched by NVML name)");
    }
}

static json_t *model_json(const mig_model *m)
{
    json_t *ids = json_array(), *profiles = json_array();
    for (unsigned k = 0; k < m->n_pci_ids; k++) {
        char hex[16];
        snprintf(hex, sizeof hex, "0x%08X", m->pci_device_ids[k]);
        json_array_append_new(ids, json_string(hex));
    }
    for (unsigned k = 0; k < m->n_profiles; k++)
        json_array_append_new(profiles, json_string(m->profiles[k].name));
    return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:i, s:i, s:i, s:i, s:b, s:o, s:s}", "name",
                     m->name, "nvml_name", m->nvml_name, "arch", mig_arch_name(m->arch),
                     "pci_device_ids", ids, "memory_bytes", (json_int_t)m->memory_bytes,
                     "memory_mib", (json_int_t)(m->memory_bytes >> 20), "memory_slices",
                     (int)m->memory_slices, "compute_slices", (int)m->compute_slices, "sm_count",
                     (int)m->sm_count, "max_gpu_instances", (int)m->max_gis, "gpm", m->gpm,
                     "profiles", profiles, "source", m->source);
}

static int print_json(const mig_model *all, unsigned n)
{
    json_t *list = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(list, model_json(&all[i]));
    json_t *root = json_pack("{s:o}", "models", list);
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    putchar('\n');
    json_decref(root);
    return rc == 0 ? 0 : 3;
}

int cmd_models(int argc, char **argv, cli_globals *g)
{
    (void)g;
    static const struct option longs[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default: return cli_option_error(VERB, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]);
    unsigned n;
    const mig_model *all = mig_catalogue(&n);
    if (json)
        return print_json(all, n);
    print_table(all, n);
    return 0;
}
