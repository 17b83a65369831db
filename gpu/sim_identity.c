/*
 * sim_identity.c: each simulated node its own GPU UUIDs and PCI bus ids.
 *
 * A real fleet never has two GPUs with one UUID, and two nodes rarely share
 * bus ids across different boards; a simulator that gave every node the same
 * ones (an A100 at index 1 getting the H100's UUID) let tests of `uuids:` and
 * `pci-bus-ids:` selectors pass by accident. `sim init` draws a random node
 * seed; a GPU's UUID follows from (seed, index, model) and its bus id from
 * (seed, index), distinct within the node. The results are stored in the
 * state file like any GPU's identity, so nothing else needs the seed; the
 * compute instances' UUIDs are salted with their GPU's UUID (sim.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "gpu/sim.h"

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

unsigned long long sim_node_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid());
    }
    return seed ? seed : 1; /* 0 is sim_new's fixed identities */
}

void sim_node_identities(sim_state *s, unsigned long long node_seed)
{
    if (!node_seed)
        return;
    /* Bus numbers as an HGX board numbers its eight GPUs, shifted per node
     * (the same shift for all, so they stay distinct within the node), and a
     * device number per node. */
    static const unsigned bus[8] = {0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb};
    uint64_t h = mix(node_seed);
    unsigned shift = (unsigned)(h & 0xff), dev = (unsigned)(h >> 8) % 0x20;
    for (unsigned i = 0; i < s->n_gpus; i++) {
        mig_gpu_state *g = &s->gpus[i];
        unsigned model = g->model ? g->model->pci_device_ids[0] : 0;
        sim_uuid("GPU-", i, mix(node_seed ^ mix((uint64_t)model << 8 | i)), g->uuid,
                 sizeof g->uuid);
        snprintf(g->bus_id, sizeof g->bus_id, "%08X:%02X:%02X.0", i / 8,
                 (bus[i % 8] + shift) & 0xff, dev);
    }
}

unsigned long long sim_uuid_salt(const char *gpu_uuid)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (const char *p = gpu_uuid; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return mix(h) & ((1ULL << 52) - 1);
}
