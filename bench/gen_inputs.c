/*
 * gen_inputs.c: deterministic inputs for the whole-command benchmarks
 * (scripts/bench.sh): a workloads file and a fleet file per scenario, as a
 * user would write them.
 *
 *   gen_inputs plan   INSTANCES GPUS_PER_NODE NODES DIR
 *       five workloads pinned to the H100's 1g/2g/3g/4g/7g shapes, replicas
 *       in a fixed mix adding up to INSTANCES; NODES nodes of H100s.
 *   gen_inputs replan WORKLOADS GPUS SEED DIR
 *       GPUS H100s on nodes of 8, each with a random valid layout of which
 *       some instances run labelled work; WORKLOADS workloads: the running
 *       ones (so they count) plus new ones of random sizes, about as much
 *       new demand as the free room holds, so some plans need drains.
 *
 * Writes DIR/workloads.yaml and DIR/fleet.yaml.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    return f;
}

static int gen_plan(unsigned long n, unsigned per_node, unsigned nodes, const char *dir)
{
    static const char *prof[] = {"1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"};
    static const unsigned share[] = {40, 25, 20, 10, 5}; /* percent of the instances */
    FILE *w = open_out(dir, "workloads.yaml");
    fprintf(w, "workloads:\n");
    unsigned long left = n;
    for (int i = 0; i < 5; i++) {
        unsigned long r = i == 4 ? left : n * share[i] / 100;
        left -= r;
        fprintf(w, "  - {name: w-%s, replicas: %lu, profile: %s}\n", prof[i], r, prof[i]);
    }
    fclose(w);
    FILE *f = open_out(dir, "fleet.yaml");
    fprintf(f, "nodes:\n");
    for (unsigned i = 0; i < nodes; i++)
        fprintf(f, "  - {name: node-%u, gpus: [{model: H100-SXM5-80GB, count: %u}]}\n", i, per_node);
    fclose(f);
    return 0;
}

/* H100 base placements: profile, start, memory slices, compute slices. */
static const struct {
    const char *name;
    unsigned start, mem, comp;
} place[] = {
    {"1g.10gb", 0, 1, 1}, {"1g.10gb", 1, 1, 1}, {"1g.10gb", 2, 1, 1}, {"1g.10gb", 3, 1, 1},
    {"1g.10gb", 4, 1, 1}, {"1g.10gb", 5, 1, 1}, {"1g.10gb", 6, 1, 1}, {"2g.20gb", 0, 2, 2},
    {"2g.20gb", 2, 2, 2}, {"2g.20gb", 4, 2, 2}, {"3g.40gb", 0, 4, 3}, {"3g.40gb", 4, 4, 3},
    {"4g.40gb", 0, 4, 4},
};
#define NPLACE (sizeof place / sizeof place[0])

static int gen_replan(unsigned nw, unsigned gpus, unsigned seed, const char *dir)
{
    FILE *f = open_out(dir, "fleet.yaml");
    FILE *w = open_out(dir, "workloads.yaml");
    fprintf(f, "nodes:\n");
    fprintf(w, "workloads:\n");
    unsigned running = 0;
    for (unsigned g = 0; g < gpus; g++) {
        if (g % 8 == 0)
            fprintf(f, "  - name: node-%u\n    gpus:\n", g / 8);
        unsigned used = 0, n = 0, comp = 0;
        char layout[512] = "", busy[1024] = "";
        size_t lu = 0, bu = 0;
        for (unsigned t = 0; t < 4; t++) {
            unsigned q = lcg(&seed) % NPLACE;
            unsigned mask = ((1u << place[q].mem) - 1) << place[q].start;
            if ((used & mask) || comp + place[q].comp > 7)
                continue;
            used |= mask;
            comp += place[q].comp;
            lu += (size_t)snprintf(layout + lu, sizeof layout - lu, "%s\"%s@%u\"", n ? ", " : "",
                                   place[q].name, place[q].start);
            n++;
            if (lcg(&seed) % 3 && running < nw / 2) {
                /* a running replica of its own workload */
                bu += (size_t)snprintf(busy + bu, sizeof busy - bu, "%s\"%s@%u\": run-%u",
                                       bu ? ", " : "", place[q].name, place[q].start, running);
                fprintf(w, "  - {name: run-%u, profile: %s}\n", running, place[q].name);
                running++;
            }
        }
        fprintf(f, "      - model: H100-SXM5-80GB\n        layout: [%s]\n", layout);
        if (bu)
            fprintf(f, "        busy: {%s}\n", busy);
    }
    static const char *sizes[] = {"1g.10gb", "1g.10gb", "1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb"};
    for (unsigned i = running; i < nw; i++)
        fprintf(w, "  - {name: new-%u, profile: %s}\n", i, sizes[lcg(&seed) % 6]);
    fclose(f);
    fclose(w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "plan"))
        return gen_plan(strtoul(argv[2], NULL, 10), (unsigned)strtoul(argv[3], NULL, 10),
                        (unsigned)strtoul(argv[4], NULL, 10), argv[5]);
    if (argc == 6 && !strcmp(argv[1], "replan"))
        return gen_replan((unsigned)strtoul(argv[2], NULL, 10),
                          (unsigned)strtoul(argv[3], NULL, 10),
                          (unsigned)strtoul(argv[4], NULL, 10), argv[5]);
    fprintf(stderr, "usage: gen_inputs plan INSTANCES GPUS_PER_NODE NODES DIR\n"
                    "       gen_inputs replan WORKLOADS GPUS SEED DIR\n");
    return 2;
}
