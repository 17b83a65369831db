/*
 * nvml_abi.h: the part of the NVML C ABI migctl speaks, declared from the
 * documented layouts (reference/nvml-mig-api.md sections 3-4), so that
 * neither migctl nor its shim needs an NVIDIA header to build.
 *
 * Every struct carries _Static_assert()s on its size and on the offset of each
 * field, checked against the offsets the reference computed from nvml.h on
 * LP64; a typo here would otherwise corrupt memory silently inside the real
 * driver. Versioned structs (the *_v2/_v3 ones with a leading `version`) take
 * NVML_STRUCT_VERSION(size, ver) = size | ver << 24 in that field, which the
 * caller must set again before every call (the real library overwrites it).
 * Return codes and their strings live in util/nvml_rc.h.
 */
#ifndef MIGCTL_GPU_NVML_ABI_H
#define MIGCTL_GPU_NVML_ABI_H

#include <stddef.h>

#include "util/nvml_rc.h"

typedef int nvmlReturn_t;

/* Opaque handles: pointers the library hands out and takes back. */
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct nvmlGpuInstance_st *nvmlGpuInstance_t;
typedef struct nvmlComputeInstance_st *nvmlComputeInstance_t;

/* ---- constants ---- */

#define NVML_DEVICE_MIG_DISABLE 0u
#define NVML_DEVICE_MIG_ENABLE 1u

#define NVML_INIT_FLAG_NO_GPUS 1u
#define NVML_INIT_FLAG_NO_ATTACH 2u

/* GPU-instance profile indices (the argument of GetGpuInstanceProfileInfo*). */
enum {
    NVML_GPU_INSTANCE_PROFILE_1_SLICE = 0x0,
    NVML_GPU_INSTANCE_PROFILE_2_SLICE = 0x1,
    NVML_GPU_INSTANCE_PROFILE_3_SLICE = 0x2,
    NVML_GPU_INSTANCE_PROFILE_4_SLICE = 0x3,
    NVML_GPU_INSTANCE_PROFILE_7_SLICE = 0x4,
    NVML_GPU_INSTANCE_PROFILE_8_SLICE = 0x5,
    NVML_GPU_INSTANCE_PROFILE_6_SLICE = 0x6,
    NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV1 = 0x7,
    NVML_GPU_INSTANCE_PROFILE_2_SLICE_REV1 = 0x8,
    NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV2 = 0x9,
    NVML_GPU_INSTANCE_PROFILE_1_SLICE_GFX = 0xA,
    NVML_GPU_INSTANCE_PROFILE_2_SLICE_GFX = 0xB,
    NVML_GPU_INSTANCE_PROFILE_4_SLICE_GFX = 0xC,
    NVML_GPU_INSTANCE_PROFILE_1_SLICE_NO_ME = 0xD,
    NVML_GPU_INSTANCE_PROFILE_2_SLICE_NO_ME = 0xE,
    NVML_GPU_INSTANCE_PROFILE_1_SLICE_ALL_ME = 0xF,
    NVML_GPU_INSTANCE_PROFILE_2_SLICE_ALL_ME = 0x10,
    NVML_GPU_INSTANCE_PROFILE_3_SLICE_GFX = 0x11,
    NVML_GPU_INSTANCE_PROFILE_COUNT = 0x12, /* header 13.2+ */
};

/* Compute-instance profile indices (on every GPU seen, id == index). */
enum {
    NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE = 0x0,
    NVML_COMPUTE_INSTANCE_PROFILE_2_SLICE = 0x1,
    NVML_COMPUTE_INSTANCE_PROFILE_3_SLICE = 0x2,
    NVML_COMPUTE_INSTANCE_PROFILE_4_SLICE = 0x3,
    NVML_COMPUTE_INSTANCE_PROFILE_7_SLICE = 0x4,
    NVML_COMPUTE_INSTANCE_PROFILE_8_SLICE = 0x5,
    NVML_COMPUTE_INSTANCE_PROFILE_6_SLICE = 0x6,
    NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE_REV1 = 0x7,
    NVML_COMPUTE_INSTANCE_PROFILE_7_SLICE_NVL = 0x8,
    NVML_COMPUTE_INSTANCE_PROFILE_COUNT = 0x9, /* header 13.3 */
};

#define NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED 0u
#define NVML_GPU_INSTANCE_PROFILE_CAPS_P2P 0x1u
#define NVML_GPU_INSTANCE_PROFILE_CAPS_GFX 0x2u
#define NVML_COMPUTE_INSTANCE_PROFILE_CAPS_GFX 0x1u

#define NVML_INVALID_INSTANCE_ID 0xFFFFFFFFu /* gpuInstanceId/computeInstanceId outside MIG */

#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE 32
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE 16
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80
#define NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE 80

#define NVML_STRUCT_VERSION_OF(size, ver) ((unsigned)(size) | ((unsigned)(ver) << 24))

/* ---- structs (x86_64 / aarch64 LP64) ---- */

#define NVML_ABI_CHECK(type, field, off) \
    _Static_assert(offsetof(type, field) == (off), #type "." #field " offset")
#define NVML_ABI_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " size")

typedef struct {
    unsigned start; /* first memory slice */
    unsigned size;  /* memory slices */
} nvmlGpuInstancePlacement_t;
NVML_ABI_SIZE(nvmlGpuInstancePlacement_t, 8);
NVML_ABI_CHECK(nvmlGpuInstancePlacement_t, size, 4);

typedef struct {
    unsigned start; /* compute slices within the GI */
    unsigned size;
} nvmlComputeInstancePlacement_t;
NVML_ABI_SIZE(nvmlComputeInstancePlacement_t, 8);

typedef struct {
    unsigned id;
    unsigned isP2pSupported;
    unsigned sliceCount;
    unsigned instanceCount;
    unsigned multiprocessorCount;
    unsigned copyEngineCount;
    unsigned decoderCount;
    unsigned encoderCount;
    unsigned jpegCount;
    unsigned ofaCount;
    unsigned long long memorySizeMB;
} nvmlGpuInstanceProfileInfo_t;
NVML_ABI_SIZE(nvmlGpuInstanceProfileInfo_t, 48);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_t, sliceCount, 8);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_t, ofaCount, 36);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_t, memorySizeMB, 40);

typedef struct {
    unsigned version;
    unsigned id;
    unsigned isP2pSupported;
    unsigned sliceCount;
    unsigned instanceCount;
    unsigned multiprocessorCount;
    unsigned copyEngineCount;
    unsigned decoderCount;
    unsigned encoderCount;
    unsigned jpegCount;
    unsigned ofaCount;
    unsigned long long memorySizeMB;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
} nvmlGpuInstanceProfileInfo_v2_t;
NVML_ABI_SIZE(nvmlGpuInstanceProfileInfo_v2_t, 152);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v2_t, id, 4);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v2_t, isP2pSupported, 8);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v2_t, sliceCount, 12);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v2_t, ofaCount, 40);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v2_t, memorySizeMB, 48);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v2_t, name, 56);

/* v3 drops isP2pSupported (P2P moved to capabilities bit 0x1): same size as
 * v2, different offsets, passed through the v2 pointer type. */
typedef struct {
    unsigned version;
    unsigned id;
    unsigned sliceCount;
    unsigned instanceCount;
    unsigned multiprocessorCount;
    unsigned copyEngineCount;
    unsigned decoderCount;
    unsigned encoderCount;
    unsigned jpegCount;
    unsigned ofaCount;
    unsigned long long memorySizeMB;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    unsigned capabilities;
} nvmlGpuInstanceProfileInfo_v3_t;
NVML_ABI_SIZE(nvmlGpuInstanceProfileInfo_v3_t, 152);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v3_t, sliceCount, 8);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v3_t, ofaCount, 36);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v3_t, memorySizeMB, 40);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v3_t, name, 48);
NVML_ABI_CHECK(nvmlGpuInstanceProfileInfo_v3_t, capabilities, 144);

#define nvmlGpuInstanceProfileInfo_v2 NVML_STRUCT_VERSION_OF(sizeof(nvmlGpuInstanceProfileInfo_v2_t), 2)
#define nvmlGpuInstanceProfileInfo_v3 NVML_STRUCT_VERSION_OF(sizeof(nvmlGpuInstanceProfileInfo_v3_t), 3)
_Static_assert(nvmlGpuInstanceProfileInfo_v2 == 0x02000098u, "GI profile info v2 version");
_Static_assert(nvmlGpuInstanceProfileInfo_v3 == 0x03000098u, "GI profile info v3 version");

typedef struct {
    nvmlDevice_t device;
    unsigned id;        /* GI id, 0-14 */
    unsigned profileId; /* the profile *id*, e.g. 19 */
    nvmlGpuInstancePlacement_t placement;
} nvmlGpuInstanceInfo_t;
NVML_ABI_SIZE(nvmlGpuInstanceInfo_t, 24);
NVML_ABI_CHECK(nvmlGpuInstanceInfo_t, id, 8);
NVML_ABI_CHECK(nvmlGpuInstanceInfo_t, profileId, 12);
NVML_ABI_CHECK(nvmlGpuInstanceInfo_t, placement, 16);

typedef struct {
    unsigned id;
    unsigned sliceCount;
    unsigned instanceCount;
    unsigned multiprocessorCount;
    unsigned sharedCopyEngineCount;
    unsigned sharedDecoderCount;
    unsigned sharedEncoderCount;
    unsigned sharedJpegCount;
    unsigned sharedOfaCount;
} nvmlComputeInstanceProfileInfo_t;
NVML_ABI_SIZE(nvmlComputeInstanceProfileInfo_t, 36);
NVML_ABI_CHECK(nvmlComputeInstanceProfileInfo_t, sharedOfaCount, 32);

typedef struct {
    unsigned version;
    unsigned id;
    unsigned sliceCount;
    unsigned instanceCount;
    unsigned multiprocessorCount;
    unsigned sharedCopyEngineCount;
    unsigned sharedDecoderCount;
    unsigned sharedEncoderCount;
    unsigned sharedJpegCount;
    unsigned sharedOfaCount;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
} nvmlComputeInstanceProfileInfo_v2_t;
NVML_ABI_SIZE(nvmlComputeInstanceProfileInfo_v2_t, 136);
NVML_ABI_CHECK(nvmlComputeInstanceProfileInfo_v2_t, id, 4);
NVML_ABI_CHECK(nvmlComputeInstanceProfileInfo_v2_t, sharedOfaCount, 36);
NVML_ABI_CHECK(nvmlComputeInstanceProfileInfo_v2_t, name, 40);

typedef struct {
    unsigned version;
    unsigned id;
    unsigned sliceCount;
    unsigned instanceCount;
    unsigned multiprocessorCount;
    unsigned sharedCopyEngineCount;
    unsigned sharedDecoderCount;
    unsigned sharedEncoderCount;
    unsigned sharedJpegCount;
    unsigned sharedOfaCount;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    unsigned capabilities;
} nvmlComputeInstanceProfileInfo_v3_t;
NVML_ABI_SIZE(nvmlComputeInstanceProfileInfo_v3_t, 140);
NVML_ABI_CHECK(nvmlComputeInstanceProfileInfo_v3_t, capabilities, 136);

#define nvmlComputeInstanceProfileInfo_v2 \
    NVML_STRUCT_VERSION_OF(sizeof(nvmlComputeInstanceProfileInfo_v2_t), 2)
#define nvmlComputeInstanceProfileInfo_v3 \
    NVML_STRUCT_VERSION_OF(sizeof(nvmlComputeInstanceProfileInfo_v3_t), 3)
_Static_assert(nvmlComputeInstanceProfileInfo_v2 == 0x02000088u, "CI profile info v2 version");
_Static_assert(nvmlComputeInstanceProfileInfo_v3 == 0x0300008Cu, "CI profile info v3 version");

typedef struct {
    nvmlDevice_t device;
    nvmlGpuInstance_t gpuInstance;
    unsigned id;        /* CI id within its GI, 0-7 */
    unsigned profileId;
    nvmlComputeInstancePlacement_t placement;
} nvmlComputeInstanceInfo_t;
NVML_ABI_SIZE(nvmlComputeInstanceInfo_t, 32);
NVML_ABI_CHECK(nvmlComputeInstanceInfo_t, gpuInstance, 8);
NVML_ABI_CHECK(nvmlComputeInstanceInfo_t, id, 16);
NVML_ABI_CHECK(nvmlComputeInstanceInfo_t, profileId, 20);
NVML_ABI_CHECK(nvmlComputeInstanceInfo_t, placement, 24);

typedef struct {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;
NVML_ABI_SIZE(nvmlMemory_t, 24);

typedef struct {
    unsigned version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;
NVML_ABI_SIZE(nvmlMemory_v2_t, 40);
NVML_ABI_CHECK(nvmlMemory_v2_t, total, 8);
NVML_ABI_CHECK(nvmlMemory_v2_t, used, 32);
#define nvmlMemory_v2 NVML_STRUCT_VERSION_OF(sizeof(nvmlMemory_v2_t), 2)
_Static_assert(nvmlMemory_v2 == 0x02000028u, "memory v2 version");

typedef struct {
    unsigned multiprocessorCount;
    unsigned sharedCopyEngineCount;
    unsigned sharedDecoderCount;
    unsigned sharedEncoderCount;
    unsigned sharedJpegCount;
    unsigned sharedOfaCount;
    unsigned gpuInstanceSliceCount;
    unsigned computeInstanceSliceCount;
    unsigned long long memorySizeMB;
} nvmlDeviceAttributes_t;
NVML_ABI_SIZE(nvmlDeviceAttributes_t, 40);
NVML_ABI_CHECK(nvmlDeviceAttributes_t, computeInstanceSliceCount, 28);
NVML_ABI_CHECK(nvmlDeviceAttributes_t, memorySizeMB, 32);

/* nvmlProcessInfo_t (= _v2_t), what GetComputeRunningProcesses_v3 fills. */
typedef struct {
    unsigned pid;
    unsigned long long usedGpuMemory;
    unsigned gpuInstanceId;     /* NVML_INVALID_INSTANCE_ID outside MIG */
    unsigned computeInstanceId;
} nvmlProcessInfo_t;
NVML_ABI_SIZE(nvmlProcessInfo_t, 24);
NVML_ABI_CHECK(nvmlProcessInfo_t, usedGpuMemory, 8);
NVML_ABI_CHECK(nvmlProcessInfo_t, gpuInstanceId, 16);
NVML_ABI_CHECK(nvmlProcessInfo_t, computeInstanceId, 20);

typedef struct {
    char busIdLegacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
    unsigned domain;
    unsigned bus;
    unsigned device;
    unsigned pciDeviceId;    /* (device << 16) | vendor, e.g. 0x233010DE */
    unsigned pciSubSystemId;
    char busId[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
} nvmlPciInfo_t;
NVML_ABI_SIZE(nvmlPciInfo_t, 68);
NVML_ABI_CHECK(nvmlPciInfo_t, domain, 16);
NVML_ABI_CHECK(nvmlPciInfo_t, pciDeviceId, 28);
NVML_ABI_CHECK(nvmlPciInfo_t, pciSubSystemId, 32);
NVML_ABI_CHECK(nvmlPciInfo_t, busId, 36);

#undef NVML_ABI_CHECK
#undef NVML_ABI_SIZE

#endif
