/*
 * nvml_client.c: an NVML client written against the documented C ABI alone
 * (reference/nvml-mig-api.md), using no migctl code or header, that drives
 * the shim (build/shim/libnvidia-ml.so.1) as it would drive a real driver.
 *
 * It reads every struct by byte offset from a raw buffer, with the offsets
 * the reference gives, so a layout mistake in the shim (v2 vs v3 profile
 * info, say) fails here instead of agreeing with itself. Expected numbers
 * are the H100 readings in the reference (ids 19/14/9/5/0/20/15, 9984 MiB,
 * 16 SMs...), not values taken from the code under test.
 *
 * usage: nvml_client SHIM_PATH MIGCTL_PATH  (ctest passes both). It makes
 * its own state file with `migctl sim init` and prints one line per failed
 * check; the exit status is the number of failures (capped at 100).
 */

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the few NVML declarations this client needs ---- */
typedef int nvmlReturn_t;
typedef void *nvmlDevice_t;
typedef void *nvmlGpuInstance_t;
typedef void *nvmlComputeInstance_t;
typedef struct {
    unsigned start, size;
} nvmlPlacement_t; /* GPU and compute instance placements share this shape */

enum {
    OK = 0, UNINITIALIZED = 1, INVALID_ARGUMENT = 2, NOT_SUPPORTED = 3, NOT_FOUND = 6,
    INSUFFICIENT_SIZE = 7, IN_USE = 19, INSUFFICIENT_RESOURCES = 23,
};

#define GI_INFO_V2 (152u | 2u << 24)
#define GI_INFO_V3 (152u | 3u << 24)
#define CI_INFO_V2 (136u | 2u << 24)
#define CI_INFO_V3 (140u | 3u << 24)
#define MEMORY_V2 (40u | 2u << 24)

static struct {
    nvmlReturn_t (*Init_v2)(void);
    nvmlReturn_t (*Shutdown)(void);
    const char *(*ErrorString)(nvmlReturn_t);
    nvmlReturn_t (*DeviceGetCount_v2)(unsigned *);
    nvmlReturn_t (*DeviceGetHandleByIndex_v2)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*DeviceGetHandleByUUID)(const char *, nvmlDevice_t *);
    nvmlReturn_t (*DeviceGetHandleByPciBusId_v2)(const char *, nvmlDevice_t *);
    nvmlReturn_t (*DeviceGetName)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*DeviceGetPciInfo_v3)(nvmlDevice_t, void *);
    nvmlReturn_t (*DeviceGetMemoryInfo_v2)(nvmlDevice_t, void *);
    nvmlReturn_t (*DeviceGetMigMode)(nvmlDevice_t, unsigned *, unsigned *);
    nvmlReturn_t (*DeviceSetMigMode)(nvmlDevice_t, unsigned, nvmlReturn_t *);
    nvmlReturn_t (*DeviceGetGpuInstanceProfileInfo)(nvmlDevice_t, unsigned, void *);
    nvmlReturn_t (*DeviceGetGpuInstanceProfileInfoV)(nvmlDevice_t, unsigned, void *);
    nvmlReturn_t (*DeviceGetGpuInstanceProfileInfoByIdV)(nvmlDevice_t, unsigned, void *);
    nvmlReturn_t (*DeviceGetGpuInstancePossiblePlacements_v2)(nvmlDevice_t, unsigned,
                                                              nvmlPlacement_t *, unsigned *);
    nvmlReturn_t (*DeviceGetGpuInstancePossiblePlacements)(nvmlDevice_t, unsigned,
                                                           nvmlPlacement_t *, unsigned *);
    nvmlReturn_t (*DeviceGetGpuInstanceRemainingCapacity)(nvmlDevice_t, unsigned, unsigned *);
    nvmlReturn_t (*DeviceCreateGpuInstance)(nvmlDevice_t, unsigned, nvmlGpuInstance_t *);
    nvmlReturn_t (*DeviceCreateGpuInstanceWithPlacement)(nvmlDevice_t, unsigned,
                                                         const nvmlPlacement_t *,
                                                         nvmlGpuInstance_t *);
    nvmlReturn_t (*GpuInstanceDestroy)(nvmlGpuInstance_t);
    nvmlReturn_t (*DeviceGetGpuInstances)(nvmlDevice_t, unsigned, nvmlGpuInstance_t *,
                                          unsigned *);
    nvmlReturn_t (*DeviceGetGpuInstanceById)(nvmlDevice_t, unsigned, nvmlGpuInstance_t *);
    nvmlReturn_t (*GpuInstanceGetInfo)(nvmlGpuInstance_t, void *);
    nvmlReturn_t (*GpuInstanceGetComputeInstanceProfileInfo)(nvmlGpuInstance_t, unsigned,
                                                             unsigned, void *);
    nvmlReturn_t (*GpuInstanceGetComputeInstanceProfileInfoV)(nvmlGpuInstance_t, unsigned,
                                                              unsigned, void *);
    nvmlReturn_t (*GpuInstanceCreateComputeInstance)(nvmlGpuInstance_t, unsigned,
                                                     nvmlComputeInstance_t *);
    nvmlReturn_t (*GpuInstanceCreateComputeInstanceWithPlacement)(nvmlGpuInstance_t, unsigned,
                                                                  const nvmlPlacement_t *,
                                                                  nvmlComputeInstance_t *);
    nvmlReturn_t (*ComputeInstanceDestroy)(nvmlComputeInstance_t);
    nvmlReturn_t (*ComputeInstanceGetInfo_v2)(nvmlComputeInstance_t, void *);
    nvmlReturn_t (*DeviceGetMaxMigDeviceCount)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*DeviceGetMigDeviceHandleByIndex)(nvmlDevice_t, unsigned, nvmlDevice_t *);
    nvmlReturn_t (*DeviceIsMigDeviceHandle)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*DeviceGetDeviceHandleFromMigDeviceHandle)(nvmlDevice_t, nvmlDevice_t *);
    nvmlReturn_t (*DeviceGetGpuInstanceId)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*DeviceGetComputeInstanceId)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*DeviceGetComputeRunningProcesses_v3)(nvmlDevice_t, unsigned *, void *);
    nvmlReturn_t (*DeviceGetUtilizationRates)(nvmlDevice_t, void *);
    nvmlReturn_t (*DeviceGetIndex)(nvmlDevice_t, unsigned *);
} nv;

static const char *const symbols[] = {
    "nvmlInit_v2", "nvmlShutdown", "nvmlErrorString", "nvmlDeviceGetCount_v2",
    "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByUUID",
    "nvmlDeviceGetHandleByPciBusId_v2", "nvmlDeviceGetName", "nvmlDeviceGetUUID",
    "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetMigMode",
    "nvmlDeviceSetMigMode", "nvmlDeviceGetGpuInstanceProfileInfo",
    "nvmlDeviceGetGpuInstanceProfileInfoV", "nvmlDeviceGetGpuInstanceProfileInfoByIdV",
    "nvmlDeviceGetGpuInstancePossiblePlacements_v2",
    "nvmlDeviceGetGpuInstancePossiblePlacements", "nvmlDeviceGetGpuInstanceRemainingCapacity",
    "nvmlDeviceCreateGpuInstance", "nvmlDeviceCreateGpuInstanceWithPlacement",
    "nvmlGpuInstanceDestroy", "nvmlDeviceGetGpuInstances", "nvmlDeviceGetGpuInstanceById",
    "nvmlGpuInstanceGetInfo", "nvmlGpuInstanceGetComputeInstanceProfileInfo",
    "nvmlGpuInstanceGetComputeInstanceProfileInfoV", "nvmlGpuInstanceCreateComputeInstance",
    "nvmlGpuInstanceCreateComputeInstanceWithPlacement", "nvmlComputeInstanceDestroy",
    "nvmlComputeInstanceGetInfo_v2", "nvmlDeviceGetMaxMigDeviceCount",
    "nvmlDeviceGetMigDeviceHandleByIndex", "nvmlDeviceIsMigDeviceHandle",
    "nvmlDeviceGetDeviceHandleFromMigDeviceHandle", "nvmlDeviceGetGpuInstanceId",
    "nvmlDeviceGetComputeInstanceId", "nvmlDeviceGetComputeRunningProcesses_v3",
    "nvmlDeviceGetUtilizationRates", "nvmlDeviceGetIndex",
};

/* ---- checks ---- */

static int failures;
static const char *migctl;
static char state_dir[64];
static char state_path[4096];

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                               \
        }                                                             \
    } while (0)

#define CHECK_RC(call, want)                                                           \
    do {                                                                               \
        int got_ = (call);                                                             \
        if (got_ != (want)) {                                                          \
            fprintf(stderr, "%s:%d: FAIL: %s returned %d, expected %d\n", __FILE__,    \
                    __LINE__, #call, got_, (int)(want));                               \
            failures++;                                                                \
        }                                                                              \
    } while (0)

static unsigned u32(const void *buf, size_t off)
{
    uint32_t v;
    memcpy(&v, (const char *)buf + off, sizeof v);
    return v;
}

static unsigned long long u64(const void *buf, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)buf + off, sizeof v);
    return v;
}

static void put32(void *buf, size_t off, unsigned v)
{
    uint32_t x = v;
    memcpy((char *)buf + off, &x, sizeof x);
}

/* Run migctl with arguments on our state file; its exit status. */
static int run_migctl(const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "MIGCTL_BACKEND=sim '%s' --sim '%s' %s >/dev/null", migctl,
             state_path, args);
    return system(cmd);
}

/* ---- the scenarios ---- */

static void before_init(void)
{
    unsigned n;
    nvmlDevice_t dev;
    nvmlGpuInstance_t gi;
    nvmlComputeInstance_t ci;
    CHECK_RC(nv.DeviceGetCount_v2(&n), UNINITIALIZED);
    /* UNINITIALIZED before any argument check (reference §7.5) */
    CHECK_RC(nv.DeviceGetHandleByPciBusId_v2("garbage", &dev), UNINITIALIZED);
    CHECK_RC(nv.DeviceCreateGpuInstanceWithPlacement(NULL, 19, NULL, &gi), UNINITIALIZED);
    CHECK_RC(nv.GpuInstanceCreateComputeInstanceWithPlacement(NULL, 0, NULL, &ci), UNINITIALIZED);
    CHECK(strcmp(nv.ErrorString(INSUFFICIENT_RESOURCES), "Insufficient Resources") == 0);
    CHECK(strcmp(nv.ErrorString(IN_USE), "In use by another client") == 0);
}

static void identity(nvmlDevice_t dev)
{
    char name[96], uuid[96];
    unsigned char pci[68], mem[40];
    nvmlDevice_t other = NULL;
    CHECK_RC(nv.DeviceGetName(dev, name, sizeof name), OK);
    CHECK(strcmp(name, "NVIDIA H100 80GB HBM3") == 0);
    CHECK_RC(nv.DeviceGetName(dev, name, 4), INSUFFICIENT_SIZE);
    CHECK_RC(nv.DeviceGetUUID(dev, uuid, sizeof uuid), OK);
    CHECK(strncmp(uuid, "GPU-", 4) == 0 && strlen(uuid) == 40);
    CHECK_RC(nv.DeviceGetHandleByUUID(uuid, &other), OK);
    CHECK(other == dev);
    CHECK_RC(nv.DeviceGetHandleByUUID("GPU-00000000-0000-0000-0000-000000000000", &other),
             NOT_FOUND);
    CHECK_RC(nv.DeviceGetPciInfo_v3(dev, pci), OK);
    CHECK(u32(pci, 28) == 0x233010DEu); /* pciDeviceId@28 */
    other = NULL;
    CHECK_RC(nv.DeviceGetHandleByPciBusId_v2((const char *)pci + 36, &other), OK); /* busId@36 */
    CHECK(other == dev);
    memset(mem, 0, sizeof mem);
    put32(mem, 0, MEMORY_V2);
    CHECK_RC(nv.DeviceGetMemoryInfo_v2(dev, mem), OK);
    CHECK(u64(mem, 8) == 85520809984ull); /* total@8: the H100 reading's mem_total */
}

/* Profiles answer with MIG off, through all three struct layouts. */
static void profiles(nvmlDevice_t dev)
{
    unsigned char v1[48], v[152];
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfo(dev, 0, v1), OK);
    CHECK(u32(v1, 0) == 19 && u32(v1, 8) == 1 && u32(v1, 12) == 7 && u32(v1, 16) == 16);
    CHECK(u64(v1, 40) == 9984);
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfo(dev, 5, v1), NOT_SUPPORTED);
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfo(dev, 0x12, v1), INVALID_ARGUMENT);
    /* 0x11 (_3_SLICE_GFX) is past what NVML 13.580 knows: the live 580 library
     * answered 0x11-0x13 with INVALID_ARGUMENT (reference §3) */
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfo(dev, 0x11, v1), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfo(dev, 0x10, v1), NOT_SUPPORTED);

    /* Enumerate indices until INVALID_ARGUMENT: the H100's ids, in index order. */
    const unsigned want[] = {19, 14, 9, 5, 0, 20, 15};
    unsigned got[32], n = 0;
    for (unsigned i = 0; i < 32; i++) {
        int rc = nv.DeviceGetGpuInstanceProfileInfo(dev, i, v1);
        if (rc == INVALID_ARGUMENT)
            break;
        if (rc == OK)
            got[n++] = u32(v1, 0);
    }
    CHECK(n == 7 && memcmp(got, want, sizeof want) == 0);

    memset(v, 0xff, sizeof v);
    put32(v, 0, GI_INFO_V2); /* v2: id@4 isP2p@8 sliceCount@12 memorySizeMB@48 name@56 */
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfoV(dev, 2, v), OK);
    CHECK(u32(v, 4) == 9 && u32(v, 8) == 0 && u32(v, 12) == 3 && u64(v, 48) == 40448);
    CHECK(strcmp((char *)v + 56, "MIG 3g.40gb") == 0);
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfoV(dev, 2, v), INVALID_ARGUMENT); /* version reset */
    memset(v, 0xff, sizeof v);
    put32(v, 0, GI_INFO_V3); /* v3: id@4 sliceCount@8 memorySizeMB@40 name@48 capabilities@144 */
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfoV(dev, 7, v), OK);
    CHECK(u32(v, 4) == 20 && u32(v, 8) == 1 && u32(v, 36) == 1 && u64(v, 40) == 9984);
    CHECK(strcmp((char *)v + 48, "MIG 1g.10gb+me") == 0 && u32(v, 144) == 0);
    put32(v, 0, 152u | 4u << 24);
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfoV(dev, 0, v), INVALID_ARGUMENT);
    put32(v, 0, GI_INFO_V3);
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfoByIdV(dev, 15, v), OK);
    CHECK(u32(v, 4) == 15 && u32(v, 16) == 26); /* 1g.20gb: 26 SMs */
    put32(v, 0, GI_INFO_V3);
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfoByIdV(dev, 7, v), INVALID_ARGUMENT);
}

static void placements(nvmlDevice_t dev)
{
    nvmlPlacement_t pl[8];
    unsigned n = 0;
    CHECK_RC(nv.DeviceGetGpuInstancePossiblePlacements_v2(dev, 19, NULL, &n), OK);
    CHECK(n == 7);
    CHECK_RC(nv.DeviceGetGpuInstancePossiblePlacements_v2(dev, 19, pl, &n), OK);
    for (unsigned i = 0; i < 7; i++)
        CHECK(pl[i].start == i && pl[i].size == 1);
    n = 8;
    CHECK_RC(nv.DeviceGetGpuInstancePossiblePlacements_v2(dev, 9, pl, &n), OK);
    CHECK(n == 2 && pl[0].start == 0 && pl[1].start == 4 && pl[0].size == 4);
    n = 1;
    CHECK_RC(nv.DeviceGetGpuInstancePossiblePlacements_v2(dev, 15, pl, &n), INSUFFICIENT_SIZE);
    CHECK(n == 4);
    CHECK_RC(nv.DeviceGetGpuInstancePossiblePlacements(dev, 19, NULL, &n), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetGpuInstancePossiblePlacements_v2(dev, 7, pl, &n), INVALID_ARGUMENT);
}

static void mig_off(nvmlDevice_t dev)
{
    unsigned cur = 9, pend = 9, n = 8;
    nvmlGpuInstance_t gi, gis[8];
    nvmlDevice_t mig;
    nvmlPlacement_t p = {0, 1};
    CHECK_RC(nv.DeviceGetMigMode(dev, &cur, &pend), OK);
    CHECK(cur == 0 && pend == 0);
    CHECK_RC(nv.DeviceCreateGpuInstance(dev, 19, &gi), NOT_SUPPORTED);
    CHECK_RC(nv.DeviceCreateGpuInstanceWithPlacement(dev, 19, &p, &gi), NOT_SUPPORTED);
    CHECK_RC(nv.DeviceGetGpuInstances(dev, 19, gis, &n), NOT_SUPPORTED);
    CHECK_RC(nv.DeviceGetGpuInstanceById(dev, 7, &gi), NOT_FOUND);
    CHECK_RC(nv.DeviceGetMaxMigDeviceCount(dev, &n), OK);
    CHECK(n == 0);
    CHECK_RC(nv.DeviceGetMigDeviceHandleByIndex(dev, 0, &mig), NOT_FOUND);
    CHECK_RC(nv.DeviceGetGpuInstanceRemainingCapacity(dev, 19, &n), OK);
    CHECK(n == 7);
}

static unsigned gi_info(nvmlGpuInstance_t gi, nvmlPlacement_t *where, unsigned *profile_id)
{
    unsigned char info[24]; /* device@0 id@8 profileId@12 placement@16 */
    memset(info, 0, sizeof info);
    CHECK_RC(nv.GpuInstanceGetInfo(gi, info), OK);
    if (where)
        memcpy(where, info + 16, sizeof *where);
    if (profile_id)
        *profile_id = u32(info, 12);
    return u32(info, 8);
}

static unsigned ci_info(nvmlComputeInstance_t ci, nvmlPlacement_t *where)
{
    unsigned char info[32]; /* device@0 gpuInstance@8 id@16 profileId@20 placement@24 */
    memset(info, 0, sizeof info);
    CHECK_RC(nv.ComputeInstanceGetInfo_v2(ci, info), OK);
    if (where)
        memcpy(where, info + 24, sizeof *where);
    return u32(info, 16);
}

static void gpu_instances(nvmlDevice_t dev, nvmlGpuInstance_t *big)
{
    nvmlReturn_t act = -1;
    unsigned cur = 0, pend = 0, n, profile = 0;
    nvmlGpuInstance_t gi, gis[8];
    nvmlPlacement_t where, at44 = {4, 4}, at42 = {4, 2}, at24 = {2, 4};
    CHECK_RC(nv.DeviceSetMigMode(dev, 1, &act), OK);
    CHECK(act == OK);
    CHECK_RC(nv.DeviceGetMigMode(dev, &cur, &pend), OK);
    CHECK(cur == 1 && pend == 1);

    CHECK_RC(nv.DeviceCreateGpuInstanceWithPlacement(dev, 9, &at44, big), OK);
    gi_info(*big, &where, &profile);
    CHECK(profile == 9 && where.start == 4 && where.size == 4);
    CHECK_RC(nv.DeviceCreateGpuInstanceWithPlacement(dev, 14, &at42, &gi), INSUFFICIENT_RESOURCES);
    CHECK_RC(nv.DeviceCreateGpuInstanceWithPlacement(dev, 9, &at24, &gi), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceCreateGpuInstance(dev, 19, &gi), OK);
    gi_info(gi, &where, &profile);
    CHECK(profile == 19 && where.size == 1 && where.start < 4); /* 4..7 are taken */
    CHECK_RC(nv.DeviceGetGpuInstanceRemainingCapacity(dev, 9, &n), OK);
    CHECK(n == 0);
    CHECK_RC(nv.DeviceGetGpuInstanceRemainingCapacity(dev, 19, &n), OK);
    CHECK(n == 3);
    n = 0;
    CHECK_RC(nv.DeviceGetGpuInstances(dev, 9, gis, &n), OK);
    CHECK(n == 1 && gis[0] == *big);
    nvmlGpuInstance_t again = NULL;
    CHECK_RC(nv.DeviceGetGpuInstanceById(dev, gi_info(*big, NULL, NULL), &again), OK);
    CHECK(again == *big);
    CHECK_RC(nv.GpuInstanceDestroy(gi), OK);
    CHECK_RC(nv.GpuInstanceGetInfo(gi, gis), INVALID_ARGUMENT); /* stale handle */
    CHECK_RC(nv.GpuInstanceDestroy(gi), INVALID_ARGUMENT);
}

static void compute_instances(nvmlGpuInstance_t gi, nvmlComputeInstance_t ci[2])
{
    unsigned char v1[36], v[140];
    nvmlComputeInstance_t other;
    nvmlPlacement_t where, at1 = {1, 1}, at12 = {1, 2};
    CHECK_RC(nv.GpuInstanceGetComputeInstanceProfileInfo(gi, 2, 0, v1), OK);
    CHECK(u32(v1, 0) == 2 && u32(v1, 4) == 3 && u32(v1, 12) == 60);
    CHECK_RC(nv.GpuInstanceGetComputeInstanceProfileInfo(gi, 3, 0, v1), NOT_SUPPORTED);
    CHECK_RC(nv.GpuInstanceGetComputeInstanceProfileInfo(gi, 9, 0, v1), INVALID_ARGUMENT);
    /* 8 (_7_SLICE_NVL) came with header 13.3, after the 580 library */
    CHECK_RC(nv.GpuInstanceGetComputeInstanceProfileInfo(gi, 8, 0, v1), INVALID_ARGUMENT);
    memset(v, 0xff, sizeof v);
    put32(v, 0, CI_INFO_V3); /* id@4 sliceCount@8 name@40 capabilities@136 */
    CHECK_RC(nv.GpuInstanceGetComputeInstanceProfileInfoV(gi, 0, 0, v), OK);
    CHECK(u32(v, 4) == 0 && u32(v, 8) == 1 && u32(v, 12) == 3 && u32(v, 136) == 0);
    CHECK(strcmp((char *)v + 40, "MIG 1c.3g.40gb") == 0);
    put32(v, 0, CI_INFO_V2);
    CHECK_RC(nv.GpuInstanceGetComputeInstanceProfileInfoV(gi, 1, 0, v), OK);
    CHECK(u32(v, 8) == 2);
    put32(v, 0, 0);
    CHECK_RC(nv.GpuInstanceGetComputeInstanceProfileInfoV(gi, 1, 0, v), INVALID_ARGUMENT);

    CHECK_RC(nv.GpuInstanceCreateComputeInstanceWithPlacement(gi, 0, &at1, &ci[0]), OK);
    CHECK(ci_info(ci[0], &where) == 0 && where.start == 1 && where.size == 1);
    CHECK_RC(nv.GpuInstanceCreateComputeInstanceWithPlacement(gi, 0, &at1, &other),
             INSUFFICIENT_RESOURCES);
    CHECK_RC(nv.GpuInstanceCreateComputeInstanceWithPlacement(gi, 1, &at12, &other),
             INVALID_ARGUMENT);
    CHECK_RC(nv.GpuInstanceCreateComputeInstance(gi, 0, &ci[1]), OK);
    CHECK(ci_info(ci[1], &where) == 1 && where.size == 1 && where.start != 1);
    CHECK_RC(nv.GpuInstanceDestroy(gi), IN_USE); /* it has compute instances */
}

static void mig_devices(nvmlDevice_t dev, unsigned gi_id)
{
    unsigned max = 0, seen = 0, is_mig = 9, id;
    CHECK_RC(nv.DeviceGetMaxMigDeviceCount(dev, &max), OK);
    CHECK(max >= 2);
    CHECK_RC(nv.DeviceIsMigDeviceHandle(dev, &is_mig), OK);
    CHECK(is_mig == 0);
    CHECK_RC(nv.DeviceGetGpuInstanceId(dev, &id), INVALID_ARGUMENT);
    for (unsigned i = 0; i < max; i++) {
        nvmlDevice_t mig, parent = NULL, again = NULL;
        int rc = nv.DeviceGetMigDeviceHandleByIndex(dev, i, &mig);
        if (rc == NOT_FOUND || rc == INVALID_ARGUMENT)
            continue;
        CHECK_RC(rc, OK);
        seen++;
        char uuid[96], name[96];
        unsigned char mem[40];
        CHECK_RC(nv.DeviceIsMigDeviceHandle(mig, &is_mig), OK);
        CHECK(is_mig == 1);
        CHECK_RC(nv.DeviceGetGpuInstanceId(mig, &id), OK);
        CHECK(id == gi_id);
        CHECK_RC(nv.DeviceGetComputeInstanceId(mig, &id), OK);
        CHECK(id < 2);
        CHECK_RC(nv.DeviceGetUUID(mig, uuid, sizeof uuid), OK);
        CHECK(strncmp(uuid, "MIG-", 4) == 0 && strlen(uuid) == 40);
        CHECK_RC(nv.DeviceGetHandleByUUID(uuid, &again), OK);
        CHECK(again == mig);
        CHECK_RC(nv.DeviceGetName(mig, name, sizeof name), OK);
        CHECK(strcmp(name, "NVIDIA H100 80GB HBM3 MIG 1c.3g.40gb") == 0);
        CHECK_RC(nv.DeviceGetDeviceHandleFromMigDeviceHandle(mig, &parent), OK);
        CHECK(parent == dev);
        memset(mem, 0, sizeof mem);
        put32(mem, 0, MEMORY_V2);
        CHECK_RC(nv.DeviceGetMemoryInfo_v2(mig, mem), OK);
        CHECK(u64(mem, 8) == 40448ull << 20); /* the 3g.40gb GI's memory */
    }
    CHECK(seen == 2);
}

/* MIG device indices have gaps (reference section 5: iterate 0..max-1 and
 * skip NOT_FOUND): with the 3g GI holding two 1c CIs and a 1g GI beside it
 * with a higher id, at least one index below the 1g's MIG device is empty,
 * and nvmlDeviceGetIndex gives back the index each handle was found at. */
static void mig_device_gaps(nvmlDevice_t dev, unsigned big_id)
{
    nvmlGpuInstance_t small;
    nvmlComputeInstance_t ci;
    nvmlPlacement_t at0 = {0, 1};
    CHECK_RC(nv.DeviceCreateGpuInstanceWithPlacement(dev, 19, &at0, &small), OK);
    CHECK_RC(nv.GpuInstanceCreateComputeInstance(small, 0, &ci), OK);
    unsigned small_id = gi_info(small, NULL, NULL);
    CHECK(small_id > big_id); /* canonical ids: 3g@4 is GI 2, 1g@0 is GI 7 */
    unsigned max = 0, found = 0, gaps_before_small = 0, index;
    CHECK_RC(nv.DeviceGetMaxMigDeviceCount(dev, &max), OK);
    for (unsigned i = 0; i < max; i++) {
        nvmlDevice_t mig;
        int rc = nv.DeviceGetMigDeviceHandleByIndex(dev, i, &mig);
        if (rc == NOT_FOUND) {
            gaps_before_small += found < 3;
            continue;
        }
        CHECK_RC(rc, OK);
        found++;
        CHECK_RC(nv.DeviceGetIndex(mig, &index), OK);
        CHECK(index == i);
    }
    CHECK(found == 3 && gaps_before_small > 0);
    CHECK_RC(nv.ComputeInstanceDestroy(ci), OK);
    CHECK_RC(nv.GpuInstanceDestroy(small), OK);
}

/* A process started by another program (migctl) shows up here, and keeps
 * its compute instance from being destroyed. */
static void processes(nvmlDevice_t dev, unsigned gi_id, nvmlComputeInstance_t ci)
{
    char args[128];
    snprintf(args, sizeof args, "sim procs -i 0 --gi %u --ci 0 --start", gi_id);
    CHECK(run_migctl(args) == 0);
    unsigned n = 0;
    unsigned char procs[4][24]; /* pid@0 usedGpuMemory@8 gpuInstanceId@16 computeInstanceId@20 */
    CHECK_RC(nv.DeviceGetComputeRunningProcesses_v3(dev, &n, NULL), INSUFFICIENT_SIZE);
    CHECK(n == 1);
    n = 4;
    CHECK_RC(nv.DeviceGetComputeRunningProcesses_v3(dev, &n, procs), OK);
    CHECK(n == 1 && u32(procs[0], 16) == gi_id && u32(procs[0], 20) == 0 && u32(procs[0], 0));
    CHECK_RC(nv.ComputeInstanceDestroy(ci), IN_USE);
    snprintf(args, sizeof args, "sim procs -i 0 --gi %u --ci 0 --stop", gi_id);
    CHECK(run_migctl(args) == 0);
    n = 0;
    CHECK_RC(nv.DeviceGetComputeRunningProcesses_v3(dev, &n, NULL), OK);
    CHECK(n == 0);
}

static void teardown(nvmlGpuInstance_t gi, nvmlComputeInstance_t ci[2])
{
    unsigned char info[32];
    CHECK_RC(nv.ComputeInstanceDestroy(ci[0]), OK);
    CHECK_RC(nv.ComputeInstanceGetInfo_v2(ci[0], info), INVALID_ARGUMENT);
    CHECK_RC(nv.ComputeInstanceDestroy(ci[1]), OK);
    CHECK_RC(nv.GpuInstanceDestroy(gi), OK);
}

/* Changes made here are in the file: migctl (another process) sees them. */
static void other_process_sees(const char *profile_arg, int want_status)
{
    char args[256];
    snprintf(args, sizeof args, "status --json | grep -q '\"profile_id\": %s'", profile_arg);
    int st = run_migctl(args);
    CHECK((st == 0) == (want_status == 0));
}

static void second_gpu(void)
{
    nvmlDevice_t dev;
    unsigned char v[152];
    CHECK_RC(nv.DeviceGetHandleByIndex_v2(1, &dev), OK);
    memset(v, 0, sizeof v);
    put32(v, 0, GI_INFO_V3);
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfoV(dev, 0, v), OK);
    CHECK(u32(v, 4) == 19 && strcmp((char *)v + 48, "MIG 1g.5gb") == 0); /* A100-SXM4-40GB */
    CHECK_RC(nv.DeviceGetHandleByIndex_v2(2, &dev), INVALID_ARGUMENT);
}

/* NULL outputs and handles that are not handles: INVALID_ARGUMENT, no crash. */
static void bad_arguments(nvmlDevice_t dev)
{
    unsigned n = 0;
    int not_a_handle;
    nvmlDevice_t junk = (nvmlDevice_t)&not_a_handle;
    nvmlGpuInstance_t gi;
    CHECK_RC(nv.DeviceGetCount_v2(NULL), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetHandleByIndex_v2(0, NULL), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetName(dev, NULL, 96), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetName(junk, (char[96]){0}, 96), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetName(NULL, (char[96]){0}, 96), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetMigMode(dev, NULL, &n), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetGpuInstanceProfileInfoV(dev, 0, NULL), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetGpuInstancePossiblePlacements_v2(dev, 19, NULL, NULL), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceCreateGpuInstanceWithPlacement(dev, 19, NULL, &gi), INVALID_ARGUMENT);
    CHECK_RC(nv.GpuInstanceGetInfo((nvmlGpuInstance_t)junk, (char[24]){0}), INVALID_ARGUMENT);
    CHECK_RC(nv.GpuInstanceDestroy(NULL), INVALID_ARGUMENT);
    CHECK_RC(nv.ComputeInstanceDestroy((nvmlComputeInstance_t)dev), INVALID_ARGUMENT);
    CHECK_RC(nv.DeviceGetComputeRunningProcesses_v3(dev, NULL, NULL), INVALID_ARGUMENT);
}

/* Threads querying while the main thread changes the state: every answer is
 * one of the states the file went through, and nothing crashes. */
static void *query_loop(void *arg)
{
    nvmlDevice_t dev = arg;
    long bad = 0;
    for (int i = 0; i < 300; i++) {
        char name[96];
        unsigned char v[152];
        nvmlGpuInstance_t gis[8];
        unsigned n = 8;
        memset(v, 0, sizeof v);
        put32(v, 0, GI_INFO_V3);
        bad += nv.DeviceGetName(dev, name, sizeof name) != OK ||
               strcmp(name, "NVIDIA H100 80GB HBM3") != 0;
        bad += nv.DeviceGetGpuInstanceProfileInfoV(dev, 0, v) != OK || u32(v, 4) != 19;
        int rc = nv.DeviceGetGpuInstances(dev, 19, gis, &n);
        bad += rc != OK || n > 7;
        for (unsigned k = 0; rc == OK && k < n; k++) {
            unsigned char info[24];
            rc = nv.GpuInstanceGetInfo(gis[k], info); /* may have gone meanwhile */
            bad += rc != OK && rc != INVALID_ARGUMENT;
        }
    }
    return (void *)bad;
}

static void threads(nvmlDevice_t dev)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, query_loop, dev) == 0);
    for (int round = 0; round < 20; round++) {
        nvmlGpuInstance_t gi;
        if (nv.DeviceCreateGpuInstance(dev, 19, &gi) == OK)
            CHECK_RC(nv.GpuInstanceDestroy(gi), OK);
    }
    for (int i = 0; i < 4; i++) {
        void *bad = NULL;
        pthread_join(t[i], &bad);
        CHECK(bad == NULL);
    }
}

static int setup(const char *shim)
{
    snprintf(state_dir, sizeof state_dir, "%s", "/tmp/nvml_client.XXXXXX");
    if (!mkdtemp(state_dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(state_path, sizeof state_path, "%s/state.json", state_dir);
    if (run_migctl("sim init --gpus 1xH100-SXM5-80GB,1xA100-SXM4-40GB") != 0) {
        fprintf(stderr, "migctl sim init failed\n");
        return -1;
    }
    setenv("MIGCTL_SIM_STATE", state_path, 1);
    void *lib = dlopen(shim, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return -1;
    }
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *sym = dlsym(lib, symbols[i]);
        if (!sym) {
            fprintf(stderr, "missing symbol %s\n", symbols[i]);
            return -1;
        }
        memcpy((char *)&nv + i * sizeof sym, &sym, sizeof sym);
    }
    if (dlsym(lib, "sim_open") || dlsym(lib, "mig_catalogue"))
        fprintf(stderr, "FAIL: internal symbols are exported\n"), failures++;
    /* Every MIG/GPM symbol the live 580 library exports (reference section 1)
     * is there, if only to say NOT_SUPPORTED. */
    static const char *const real_580[] = {
        "nvmlComputeInstanceDestroy", "nvmlComputeInstanceGetInfo",
        "nvmlComputeInstanceGetInfo_v2", "nvmlDeviceCreateGpuInstance",
        "nvmlDeviceCreateGpuInstanceWithPlacement", "nvmlDeviceGetComputeInstanceId",
        "nvmlDeviceGetDeviceHandleFromMigDeviceHandle", "nvmlDeviceGetGpuInstanceById",
        "nvmlDeviceGetGpuInstanceId", "nvmlDeviceGetGpuInstancePossiblePlacements",
        "nvmlDeviceGetGpuInstancePossiblePlacements_v2", "nvmlDeviceGetGpuInstanceProfileInfo",
        "nvmlDeviceGetGpuInstanceProfileInfoByIdV", "nvmlDeviceGetGpuInstanceProfileInfoV",
        "nvmlDeviceGetGpuInstanceRemainingCapacity", "nvmlDeviceGetGpuInstances",
        "nvmlDeviceGetMaxMigDeviceCount", "nvmlDeviceGetMigDeviceHandleByIndex",
        "nvmlDeviceGetMigMode", "nvmlDeviceIsMigDeviceHandle", "nvmlDeviceSetMigMode",
        "nvmlGpmMetricsGet", "nvmlGpmMigSampleGet", "nvmlGpmQueryDeviceSupport",
        "nvmlGpmQueryIfStreamingEnabled", "nvmlGpmSampleAlloc", "nvmlGpmSampleFree",
        "nvmlGpmSampleGet", "nvmlGpmSetStreamingEnabled", "nvmlGpuInstanceCreateComputeInstance",
        "nvmlGpuInstanceCreateComputeInstanceWithPlacement", "nvmlGpuInstanceDestroy",
        "nvmlGpuInstanceGetComputeInstanceById",
        "nvmlGpuInstanceGetComputeInstancePossiblePlacements",
        "nvmlGpuInstanceGetComputeInstanceProfileInfo",
        "nvmlGpuInstanceGetComputeInstanceProfileInfoV",
        "nvmlGpuInstanceGetComputeInstanceRemainingCapacity",
        "nvmlGpuInstanceGetComputeInstances", "nvmlGpuInstanceGetInfo",
    };
    for (size_t i = 0; i < sizeof real_580 / sizeof real_580[0]; i++)
        if (!dlsym(lib, real_580[i]))
            fprintf(stderr, "FAIL: %s is not exported\n", real_580[i]), failures++;
    return 0;
}

int main(int argc, char **argv)
{
    _Static_assert(sizeof nv == sizeof symbols / sizeof symbols[0] * sizeof(void *),
                   "one symbol per function pointer");
    if (argc != 3) {
        fprintf(stderr, "usage: nvml_client SHIM_PATH MIGCTL_PATH\n");
        return 2;
    }
    migctl = argv[2];
    if (setup(argv[1]) < 0)
        return 100;

    before_init();
    CHECK_RC(nv.Init_v2(), OK);
    CHECK_RC(nv.Init_v2(), OK); /* reference counted */
    nvmlDevice_t dev;
    unsigned n = 0;
    CHECK_RC(nv.DeviceGetCount_v2(&n), OK);
    CHECK(n == 2);
    CHECK_RC(nv.DeviceGetHandleByIndex_v2(0, &dev), OK);
    identity(dev);
    profiles(dev);
    placements(dev);
    mig_off(dev);

    nvmlGpuInstance_t big;
    nvmlComputeInstance_t ci[2];
    gpu_instances(dev, &big);
    other_process_sees("9", 0);
    unsigned big_id = gi_info(big, NULL, NULL);
    compute_instances(big, ci);
    mig_devices(dev, big_id);
    mig_device_gaps(dev, big_id);
    processes(dev, big_id, ci[0]);
    teardown(big, ci);
    other_process_sees("9", 1);
    threads(dev);
    bad_arguments(dev);
    second_gpu();
    unsigned char util[8];
    CHECK_RC(nv.DeviceGetUtilizationRates(dev, util), NOT_SUPPORTED);

    CHECK_RC(nv.Shutdown(), OK);
    CHECK_RC(nv.DeviceGetCount_v2(&n), OK); /* still one init outstanding */
    CHECK_RC(nv.Shutdown(), OK);
    CHECK_RC(nv.DeviceGetCount_v2(&n), UNINITIALIZED);
    CHECK_RC(nv.Shutdown(), UNINITIALIZED);

    char lock[4200];
    snprintf(lock, sizeof lock, "%s.lock", state_path);
    unlink(lock);
    unlink(state_path);
    rmdir(state_dir);
    printf("nvml_client: %d failure(s)\n", failures);
    return failures > 100 ? 100 : failures;
}
