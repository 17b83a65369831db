/*
 * catalogue_data.c: the one table of MIG-capable GPU models and their
 * GPU-instance profiles, transcribed from reference/mig-profiles.md section 2.
 *
 * Each model lists its profiles in `nvidia-smi mig -lgip` order (compute
 * slices, then memory, then profile id). Columns follow NVML's
 * nvmlGpuInstanceProfileInfo_t; where NVIDIA's guide and nvidia-smi/NVML
 * disagree (engine counts), nvidia-smi/NVML wins because that is what the
 * driver returns. memory_mib is NVML memorySizeMB: the H100 and H200 rows are
 * the readings in tests/data/hardware/; other rows are nvidia-smi's GiB column
 * x 1024. memory_bytes is NVML's total; together they must reproduce every
 * profile name by NVIDIA's derivation rule (mig_profile_name_derive), which
 * the unit tests check for every row. What no public output shows is inferred
 * and each model's `source` says which numbers those are.
 *
 * Nothing else in the tree holds hardware numbers: model/ answers from here.
 */
#include "model/catalogue.h"

#define MIB (1024ULL * 1024ULL)

/* Count the placement starts given to GI(). */
#define NSTARTS(...) NSTARTS_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define NSTARTS_(a1, a2, a3, a4, a5, a6, a7, a8, n, ...) n

/* One GI profile row: name, NVML index, profile id, compute slices, memory
 * slices (placement size), memorySizeMB, SMs, CE, DEC, ENC, JPEG, OFA,
 * instance count, suffix attribute, then the placement starts. */
#define GI(nm, ix, pid, c, ms, mib, sm, ce, dec, enc, jpg, ofa_, n, at, ...)                    \
    {                                                                                          \
        .name = nm, .index = ix, .id = pid, .compute_slices = c, .memory_slices = ms,          \
        .memory_mib = mib, .sm_count = sm, .copy_engines = ce, .decoders = dec,                \
        .encoders = enc, .jpeg = jpg, .ofa = ofa_, .instance_count = n, .attr = MIG_ATTR_##at, \
        .n_starts = NSTARTS(__VA_ARGS__), .starts = {__VA_ARGS__}, .p2p = false,               \
    }

/* Placement lists shared by every 8-memory-slice GPU (A100, H100, H200,
 * GH200, B200, GB200): slice 7 has no compute slice of its own, so 1g starts
 * stop at 6 and only 7g, 3g@4 and the double-memory 1g@6 cover it. */
#define AT_1G 0, 1, 2, 3, 4, 5, 6
#define AT_1G_2X 0, 2, 4, 6
#define AT_2G 0, 2, 4
#define AT_3G 0, 4
#define AT_4G 0
#define AT_7G 0

#define PCI(dev) (((unsigned)(dev) << 16) | 0x10DEu)

/* RTX PRO 6000 Blackwell: the guide gives all three editions (Server,
 * Workstation, Max-Q Workstation) the same profiles; the rows are the Server
 * Edition's (mig-profiles.md 2.12). */
#define RTX_PRO_6000_PROFILES                                                                   \
    GI("1g.24gb",        0x0,  14, 1,  3, 24192,  46, 1, 1, 1, 1, 0, 4, NONE,   0, 3, 6, 9), \
    GI("1g.24gb+me",     0x7,  21, 1,  3, 24192,  46, 1, 1, 1, 1, 1, 1, ME,     0, 3, 6, 9), \
    GI("1g.24gb+gfx",    0xA,  47, 1,  3, 24192,  46, 1, 1, 1, 1, 0, 4, GFX,    0, 3, 6, 9), \
    GI("1g.24gb+me.all", 0xF,  65, 1,  3, 24192,  46, 1, 4, 4, 4, 1, 1, ME_ALL, 0, 3, 6, 9), \
    GI("1g.24gb-me",     0xD,  67, 1,  3, 24192,  46, 1, 0, 0, 0, 0, 4, NO_ME,  0, 3, 6, 9), \
    GI("2g.48gb",        0x1,   5, 2,  6, 48512,  94, 2, 2, 2, 2, 0, 2, NONE,   0, 6), \
    GI("2g.48gb+gfx",    0xB,  35, 2,  6, 48512,  94, 2, 2, 2, 2, 0, 2, GFX,    0, 6), \
    GI("2g.48gb+me.all", 0x10, 64, 2,  6, 48512,  94, 2, 4, 4, 4, 1, 1, ME_ALL, 0, 6), \
    GI("2g.48gb-me",     0xE,  66, 2,  6, 48512,  94, 2, 0, 0, 0, 0, 2, NO_ME,  0, 6), \
    GI("4g.96gb",        0x3,   0, 4, 12, 97408, 188, 4, 4, 4, 4, 1, 1, NONE,   0), \
    GI("4g.96gb+gfx",    0xC,  32, 4, 12, 97408, 188, 4, 4, 4, 4, 1, 1, GFX,    0),


static const mig_model catalogue[] = {
    {
        .name = "A30-24GB",
        .nvml_name = "NVIDIA A30",
        .arch = MIG_ARCH_AMPERE,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x20B7)},
        .memory_bytes = 24258ULL * MIB,
        .memory_slices = 4,
        .compute_slices = 4,
        .sm_count = 56,
        .max_gis = 4,
        .gpm = false,
        .source = "mig-profiles.md 2.1: nvidia-smi 535.183.01 (engines, SMs, GiB, placements); "
                  "memory_mib = GiB column x 1024 (4g: 23.50); memory_bytes inferred (24258 MiB)",
        .n_profiles = 5,
        .profiles = {
            /*  name          idx  id C mem   MiB    SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.6gb",      0x0, 14, 1, 1,  5952, 14, 1, 1, 0, 0, 0, 4, NONE, 0, 1, 2, 3),
            GI("1g.6gb+me",   0x7, 21, 1, 1,  5952, 14, 1, 1, 0, 1, 1, 1, ME,   0, 1, 2, 3),
            GI("2g.12gb",     0x1,  5, 2, 2, 11968, 28, 2, 2, 0, 0, 0, 2, NONE, 0, 2),
            GI("2g.12gb+me",  0x8,  6, 2, 2, 11968, 28, 2, 2, 0, 1, 1, 1, ME,   0, 2),
            GI("4g.24gb",     0x3,  0, 4, 4, 24064, 56, 4, 4, 0, 1, 1, 1, NONE, 0),
        },
    },
    {
        .name = "A100-SXM4-40GB",
        .nvml_name = "NVIDIA A100-SXM4-40GB",
        .arch = MIG_ARCH_AMPERE,
        /* A100-SXM4-40GB, A100-PCIE-40GB (0x20F1, 0x20B1), A800-40GB PCIe:
         * the same profile numbers. */
        .n_pci_ids = 4,
        .pci_device_ids = {PCI(0x20B0), PCI(0x20F1), PCI(0x20B1), PCI(0x20F6)},
        .memory_bytes = 40960ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 108,
        .max_gis = 7,
        .gpm = false,
        .source = "mig-profiles.md 2.2: nvidia-smi and the MIG guide; memorySizeMB "
                  "4864/9856/19968/40192 as seen in NVML; memory_bytes inferred (40960 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB    SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.5gb",      0x0, 19, 1, 1,  4864, 14, 1, 0, 0, 0, 0, 7, NONE, AT_1G),
            GI("1g.5gb+me",   0x7, 20, 1, 1,  4864, 14, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.10gb",     0x9, 15, 1, 2,  9856, 14, 1, 1, 0, 0, 0, 4, NONE, AT_1G_2X),
            GI("2g.10gb",     0x1, 14, 2, 2,  9856, 28, 2, 1, 0, 0, 0, 3, NONE, AT_2G),
            GI("3g.20gb",     0x2,  9, 3, 4, 19968, 42, 3, 2, 0, 0, 0, 2, NONE, AT_3G),
            GI("4g.20gb",     0x3,  5, 4, 4, 19968, 56, 4, 2, 0, 0, 0, 1, NONE, AT_4G),
            GI("7g.40gb",     0x4,  0, 7, 8, 40192, 98, 7, 5, 0, 1, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "A100-SXM4-80GB",
        .nvml_name = "NVIDIA A100-SXM4-80GB",
        .arch = MIG_ARCH_AMPERE,
        .n_pci_ids = 2, /* A100-SXM4-80GB, A800-SXM4-80GB */
        .pci_device_ids = {PCI(0x20B2), PCI(0x20F3)},
        .memory_bytes = 81920ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 108,
        .max_gis = 7,
        .gpm = false,
        .source = "mig-profiles.md 2.3: nvidia-smi (newer driver's GiB column: 9.75/19.62/39.50/79.25, "
                  "x 1024); engines as A100-40GB; memory_bytes inferred (81920 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB    SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.10gb",     0x0, 19, 1, 1,  9984, 14, 1, 0, 0, 0, 0, 7, NONE, AT_1G),
            GI("1g.10gb+me",  0x7, 20, 1, 1,  9984, 14, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.20gb",     0x9, 15, 1, 2, 20096, 14, 1, 1, 0, 0, 0, 4, NONE, AT_1G_2X),
            GI("2g.20gb",     0x1, 14, 2, 2, 20096, 28, 2, 1, 0, 0, 0, 3, NONE, AT_2G),
            GI("3g.40gb",     0x2,  9, 3, 4, 40448, 42, 3, 2, 0, 0, 0, 2, NONE, AT_3G),
            GI("4g.40gb",     0x3,  5, 4, 4, 40448, 56, 4, 2, 0, 0, 0, 1, NONE, AT_4G),
            GI("7g.80gb",     0x4,  0, 7, 8, 81152, 98, 7, 5, 0, 1, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "A100-PCIE-80GB",
        .nvml_name = "NVIDIA A100 80GB PCIe",
        .arch = MIG_ARCH_AMPERE,
        .n_pci_ids = 2, /* A100 PCIe 80GB, A800 80GB PCIe */
        .pci_device_ids = {PCI(0x20B5), PCI(0x20F5)},
        .memory_bytes = 81920ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 108,
        .max_gis = 7,
        .gpm = false,
        .source = "mig-profiles.md 2.3: as A100-SXM4-80GB (same geometry, ids, SMs, engines); "
                  "memory_bytes inferred (81920 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB    SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.10gb",     0x0, 19, 1, 1,  9984, 14, 1, 0, 0, 0, 0, 7, NONE, AT_1G),
            GI("1g.10gb+me",  0x7, 20, 1, 1,  9984, 14, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.20gb",     0x9, 15, 1, 2, 20096, 14, 1, 1, 0, 0, 0, 4, NONE, AT_1G_2X),
            GI("2g.20gb",     0x1, 14, 2, 2, 20096, 28, 2, 1, 0, 0, 0, 3, NONE, AT_2G),
            GI("3g.40gb",     0x2,  9, 3, 4, 40448, 42, 3, 2, 0, 0, 0, 2, NONE, AT_3G),
            GI("4g.40gb",     0x3,  5, 4, 4, 40448, 56, 4, 2, 0, 0, 0, 1, NONE, AT_4G),
            GI("7g.80gb",     0x4,  0, 7, 8, 81152, 98, 7, 5, 0, 1, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "H100-SXM5-80GB",
        .nvml_name = "NVIDIA H100 80GB HBM3",
        .arch = MIG_ARCH_HOPPER,
        .n_pci_ids = 2, /* H100 SXM5 80GB, H800 */
        .pci_device_ids = {PCI(0x2330), PCI(0x2324)},
        .pci_subsystem_id = 0x16C110DE,
        .memory_bytes = 85520809984ULL,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 132,
        .max_gis = 7,
        .gpm = true,
        .source = "reference/hardware/h100-80gb-hbm3.*: NVML 13.580.159.04 readings off a real "
                  "H100 80GB HBM3 (every number); nothing inferred",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB     SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.10gb",     0x0, 19, 1, 1,  9984,  16, 1, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.10gb+me",  0x7, 20, 1, 1,  9984,  16, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.20gb",     0x9, 15, 1, 2, 20096,  26, 1, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.20gb",     0x1, 14, 2, 2, 20096,  32, 2, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.40gb",     0x2,  9, 3, 4, 40448,  60, 3, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.40gb",     0x3,  5, 4, 4, 40448,  64, 4, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.80gb",     0x4,  0, 7, 8, 81152, 132, 8, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "H100-PCIE-80GB",
        .nvml_name = "NVIDIA H100 PCIe",
        .arch = MIG_ARCH_HOPPER,
        .n_pci_ids = 2, /* H100 PCIe, H800 PCIe */
        .pci_device_ids = {PCI(0x2331), PCI(0x2322)},
        .memory_bytes = 85520809984ULL,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 114,
        .max_gis = 7,
        .gpm = true,
        .source = "mig-profiles.md 2.4: nvidia-smi 570.169 (SMs); memory and engines as H100 SXM5; "
                  "memory_bytes inferred equal to the SXM5 reading",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB     SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.10gb",     0x0, 19, 1, 1,  9984,  14, 1, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.10gb+me",  0x7, 20, 1, 1,  9984,  14, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.20gb",     0x9, 15, 1, 2, 20096,  14, 1, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.20gb",     0x1, 14, 2, 2, 20096,  30, 2, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.40gb",     0x2,  9, 3, 4, 40448,  46, 3, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.40gb",     0x3,  5, 4, 4, 40448,  62, 4, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.80gb",     0x4,  0, 7, 8, 81152, 114, 8, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "H100-NVL-94GB",
        .nvml_name = "NVIDIA H100 NVL",
        .arch = MIG_ARCH_HOPPER,
        .n_pci_ids = 2, /* H100 NVL, H800 NVL */
        .pci_device_ids = {PCI(0x2321), PCI(0x233A)},
        .memory_bytes = 95830ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 132,
        .max_gis = 7,
        .gpm = true,
        .source = "mig-profiles.md 2.5: nvidia-smi 550.127.06 (GiB 10.62/21.50/46.12/92.62 x 1024); "
                  "SMs and engines as H100 SXM5; memory_bytes inferred (95830 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB     SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.12gb",     0x0, 19, 1, 1, 10880,  16, 1, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.12gb+me",  0x7, 20, 1, 1, 10880,  16, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.24gb",     0x9, 15, 1, 2, 22016,  26, 1, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.24gb",     0x1, 14, 2, 2, 22016,  32, 2, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.47gb",     0x2,  9, 3, 4, 47232,  60, 3, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.47gb",     0x3,  5, 4, 4, 47232,  64, 4, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.94gb",     0x4,  0, 7, 8, 94848, 132, 8, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "GH200-96GB",
        .nvml_name = "NVIDIA GH200 480GB",
        .arch = MIG_ARCH_HOPPER,
        /* GH200 96GB, H100-96GB (mig-parted's device filter). mig-parted also
         * lists 0x20B6 there, but pci.ids names 0x20B6 "GA100 [PG506-232]", an
         * Ampere A100 board whose memory size no public output shows, so it is
         * in no model here; the H20 it also lists has its own row. */
        .n_pci_ids = 2,
        .pci_device_ids = {PCI(0x2342), PCI(0x233D)},
        .memory_bytes = 97871ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 132,
        .max_gis = 7,
        .gpm = true,
        .source = "mig-profiles.md 2.6: nvidia-smi on GH200 (GiB 11.00/23.00/46.50/93.00 x 1024, SMs); "
                  "engines as H100 SXM5; memory_bytes inferred (97871 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB     SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.12gb",     0x0, 19, 1, 1, 11264,  16, 1, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.12gb+me",  0x7, 20, 1, 1, 11264,  16, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.24gb",     0x9, 15, 1, 2, 23552,  26, 1, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.24gb",     0x1, 14, 2, 2, 23552,  32, 2, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.48gb",     0x2,  9, 3, 4, 47616,  60, 3, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.48gb",     0x3,  5, 4, 4, 47616,  64, 4, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.96gb",     0x4,  0, 7, 8, 95232, 132, 8, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "GH200-144GB",
        .nvml_name = "NVIDIA GH200 144G HBM3e",
        .arch = MIG_ARCH_HOPPER,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x2348)},
        .memory_bytes = 146944ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 132,
        .max_gis = 7,
        .gpm = true,
        .source = "mig-profiles.md 2.8: nvidia-smi (mig-parted #139) for 1g.18gb, 1g.36gb, 2g.36gb "
                  "(GiB 17.50/35.25, SMs, engines); INFERRED: 1g.18gb+me (as 1g.18gb plus OFA), "
                  "3g/4g.72gb (71.00 GiB, SM 60/64, engines as H100), 7g.144gb (142.00 GiB, SM 132, "
                  "engines as H100), memory_bytes (146944 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB      SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.18gb",     0x0, 19, 1, 1,  17920,  16, 1, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.18gb+me",  0x7, 20, 1, 1,  17920,  16, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.36gb",     0x9, 15, 1, 2,  36096,  26, 1, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.36gb",     0x1, 14, 2, 2,  36096,  32, 2, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.72gb",     0x2,  9, 3, 4,  72704,  60, 3, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.72gb",     0x3,  5, 4, 4,  72704,  64, 4, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.144gb",    0x4,  0, 7, 8, 145408, 132, 8, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "H200-SXM-141GB",
        .nvml_name = "NVIDIA H200",
        .arch = MIG_ARCH_HOPPER,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x2335)},
        .pci_subsystem_id = 0x18BF10DE,
        .memory_bytes = 150754820096ULL,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 132,
        .max_gis = 7,
        .gpm = true,
        .source = "reference/hardware/h200-141gb.*: NVML 13.580.159.04 readings off a real "
                  "H200 (every number); nothing inferred",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB      SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.18gb",     0x0, 19, 1, 1,  16384,  16, 1, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.18gb+me",  0x7, 20, 1, 1,  16384,  16, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.35gb",     0x9, 15, 1, 2,  33280,  26, 1, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.35gb",     0x1, 14, 2, 2,  33280,  32, 2, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.71gb",     0x2,  9, 3, 4,  71424,  60, 3, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.71gb",     0x3,  5, 4, 4,  71424,  64, 4, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.141gb",    0x4,  0, 7, 8, 143360, 132, 8, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "H200-NVL-141GB",
        .nvml_name = "NVIDIA H200 NVL",
        .arch = MIG_ARCH_HOPPER,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x233B)},
        .memory_bytes = 150754820096ULL,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 132,
        .max_gis = 7,
        .gpm = true,
        .source = "mig-profiles.md 2.7: INFERRED: every number taken from the H200 SXM reading "
                  "(same die and memory; no H200 NVL output seen)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB      SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.18gb",     0x0, 19, 1, 1,  16384,  16, 1, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.18gb+me",  0x7, 20, 1, 1,  16384,  16, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.35gb",     0x9, 15, 1, 2,  33280,  26, 1, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.35gb",     0x1, 14, 2, 2,  33280,  32, 2, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.71gb",     0x2,  9, 3, 4,  71424,  60, 3, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.71gb",     0x3,  5, 4, 4,  71424,  64, 4, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.141gb",    0x4,  0, 7, 8, 143360, 132, 8, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "B200-180GB",
        .nvml_name = "NVIDIA B200",
        .arch = MIG_ARCH_BLACKWELL,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x2901)},
        .memory_bytes = 183359ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 148,
        .max_gis = 7,
        .gpm = true,
        .source = "mig-profiles.md 2.9: nvidia-smi (mig-parted #166/#187) for 1g/1g+me/1g.45gb/2g "
                  "(GiB 22.00/44.25, SMs, engines); INFERRED: placements (= H100 layout), "
                  "3g.90gb (88.75 GiB, SM 68, CE 6, DEC/JPEG 3), 4g.90gb (88.75 GiB, SM 72, CE 8, "
                  "DEC/JPEG 4), 7g.180gb (177.50 GiB, SM 148, CE 16, DEC/JPEG 7, OFA 1), "
                  "memory_bytes (183359 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB      SM CE  DEC ENC JPG OFA N  attr  placements */
            GI("1g.23gb",     0x0, 19, 1, 1,  22528,  18,  2, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.23gb+me",  0x7, 20, 1, 1,  22528,  18,  2, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.45gb",     0x9, 15, 1, 2,  45312,  30,  2, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.45gb",     0x1, 14, 2, 2,  45312,  36,  4, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.90gb",     0x2,  9, 3, 4,  90880,  68,  6, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.90gb",     0x3,  5, 4, 4,  90880,  72,  8, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.180gb",    0x4,  0, 7, 8, 181760, 148, 16, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "GB200-186GB",
        .nvml_name = "NVIDIA GB200",
        .arch = MIG_ARCH_BLACKWELL,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x2941)},
        .memory_bytes = 189471ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 152,
        .max_gis = 7,
        .gpm = true,
        .source = "mig-profiles.md 2.10: nvidia-smi (gpu-operator #1303, mig-parted #227) for 1g.23gb, "
                  "1g.47gb, 2g.47gb (GiB 22.00/45.50, SMs, CE); INFERRED: 1g.23gb+me (as 1g plus OFA), "
                  "1g.47gb DEC/JPEG 1, placements (= H100 layout), 3g.93gb (91.50 GiB, SM 72, CE 6, "
                  "DEC/JPEG 3), 4g.93gb (91.50 GiB, SM 76, CE 8, DEC/JPEG 4), 7g.186gb (183.50 GiB, "
                  "SM 152, CE 16, DEC/JPEG 7, OFA 1), sm_count 152, memory_bytes (189471 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB      SM CE  DEC ENC JPG OFA N  attr  placements */
            GI("1g.23gb",     0x0, 19, 1, 1,  22528,  18,  2, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.23gb+me",  0x7, 20, 1, 1,  22528,  18,  2, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.47gb",     0x9, 15, 1, 2,  46592,  32,  2, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.47gb",     0x1, 14, 2, 2,  46592,  38,  4, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.93gb",     0x2,  9, 3, 4,  93696,  72,  6, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.93gb",     0x3,  5, 4, 4,  93696,  76,  8, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.186gb",    0x4,  0, 7, 8, 187904, 152, 16, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "RTX-PRO-6000-96GB",
        .nvml_name = "NVIDIA RTX PRO 6000 Blackwell Server Edition",
        .arch = MIG_ARCH_BLACKWELL,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x2BB5)},
        .memory_bytes = 97887ULL * MIB,
        .memory_slices = 12,
        .compute_slices = 4,
        .sm_count = 188,
        .max_gis = 4,
        .gpm = true,
        .source = "mig-profiles.md 2.12: MIG guide and nvidia-smi (ids, GiB 23.62/47.38/95.12 x 1024, "
                  "SMs, engines, 12-unit placements); INFERRED: the NVML index of each profile "
                  "(from its suffix), memory_bytes (97887 MiB)",
        .n_profiles = 11,
        .profiles = {RTX_PRO_6000_PROFILES},
    },
    {
        .name = "RTX-PRO-6000-WS-96GB",
        .nvml_name = "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
        .arch = MIG_ARCH_BLACKWELL,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x2BB1)},
        .memory_bytes = 97887ULL * MIB,
        .memory_slices = 12,
        .compute_slices = 4,
        .sm_count = 188,
        .max_gis = 4,
        .gpm = true,
        .source = "MIG guide 'Supported GPUs' (96GB, 4 instances, same profiles as the Server "
                  "Edition; MIG needs vBIOS >= 98.02.55 and DisplayModeSelector compute mode); "
                  "PCI 0x2BB1 and NVML name as posted from a real card; INFERRED: every profile "
                  "number (taken from the Server Edition, mig-profiles.md 2.12), memory_bytes",
        .n_profiles = 11,
        .profiles = {RTX_PRO_6000_PROFILES},
    },
    {
        .name = "RTX-PRO-6000-MAXQ-96GB",
        .nvml_name = "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
        .arch = MIG_ARCH_BLACKWELL,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x2BB4)},
        .memory_bytes = 97887ULL * MIB,
        .memory_slices = 12,
        .compute_slices = 4,
        .sm_count = 188,
        .max_gis = 4,
        .gpm = true,
        .source = "MIG guide 'Supported GPUs' (96GB, 4 instances, same profiles as the Server "
                  "Edition); PCI 0x2BB4 from pci.ids; INFERRED: the NVML name (the guide's "
                  "product name), every profile number (the Server Edition's, mig-profiles.md "
                  "2.12; the Max-Q has the same 188 SMs at lower clocks), memory_bytes",
        .n_profiles = 11,
        .profiles = {RTX_PRO_6000_PROFILES},
    },
    {
        .name = "H100-SXM5-94GB",
        .nvml_name = "NVIDIA H100 SXM5 94GB",
        .arch = MIG_ARCH_HOPPER,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x2339)},
        .memory_bytes = 95830ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 132,
        .max_gis = 7,
        .gpm = true,
        .source = "MIG guide 'Supported GPUs' (H100-SXM5 94GB, 7 instances); PCI 0x2339 from "
                  "pci.ids (GH100 [H100 SXM5 94GB]); INFERRED: the NVML name, every profile "
                  "(names, memory and engines as H100 NVL 94GB, mig-profiles.md 2.5; SMs as "
                  "H100 SXM5 80GB), memory_bytes (95830 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB     SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.12gb",     0x0, 19, 1, 1, 10880,  16, 1, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.12gb+me",  0x7, 20, 1, 1, 10880,  16, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.24gb",     0x9, 15, 1, 2, 22016,  26, 1, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.24gb",     0x1, 14, 2, 2, 22016,  32, 2, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.47gb",     0x2,  9, 3, 4, 47232,  60, 3, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.47gb",     0x3,  5, 4, 4, 47232,  64, 4, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.94gb",     0x4,  0, 7, 8, 94848, 132, 8, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "H20-96GB",
        .nvml_name = "NVIDIA H20",
        .arch = MIG_ARCH_HOPPER,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x2329)},
        .memory_bytes = 97871ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 78,
        .max_gis = 7,
        .gpm = true,
        .source = "MIG guide 'Supported GPUs' (H20, GH100, 96GB, 7 instances; R535 >= 535.161.07); "
                  "profile names and PCI id from mig-parted's config (the 96GB group with "
                  "device-filter 0x2329); sm_count 78 (NVIDIA's H20 specification); INFERRED: "
                  "the NVML name, memory and engines (as GH200 96GB, mig-profiles.md 2.6), every "
                  "profile's SMs (H100's per-profile SMs scaled by 78/132), memory_bytes",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB     SM CE DEC ENC JPG OFA N  attr  placements */
            GI("1g.12gb",     0x0, 19, 1, 1, 11264,   9, 1, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.12gb+me",  0x7, 20, 1, 1, 11264,   9, 1, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.24gb",     0x9, 15, 1, 2, 23552,  15, 1, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.24gb",     0x1, 14, 2, 2, 23552,  19, 2, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.48gb",     0x2,  9, 3, 4, 47616,  35, 3, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.48gb",     0x3,  5, 4, 4, 47616,  38, 4, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.96gb",     0x4,  0, 7, 8, 95232,  78, 8, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "B300-269GB",
        .nvml_name = "NVIDIA B300 SXM6 AC",
        .arch = MIG_ARCH_BLACKWELL,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x3182)},
        .memory_bytes = 275040ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 148,
        .max_gis = 7,
        .gpm = true,
        .source = "MIG guide (B300: R580 >= 580.82.07); profile names, counts and PCI 0x3182 from "
                  "mig-parted/GPU Operator configs (mig-profiles.md 2.11: 1g.34gb x7, 1g.34gb+me, "
                  "1g.67gb x4, 2g.67gb x3, 3g.135gb x2, 4g.135gb, 7g.269gb); INFERRED: the NVML "
                  "name, placements and ids (= B200), SMs and engines (= B200), memory per "
                  "profile (chosen to give the names by NVIDIA's rule), memory_bytes (275040 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB      SM CE  DEC ENC JPG OFA N  attr  placements */
            GI("1g.34gb",     0x0, 19, 1, 1,  33792,  18,  2, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.34gb+me",  0x7, 20, 1, 1,  33792,  18,  2, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.67gb",     0x9, 15, 1, 2,  67840,  30,  2, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.67gb",     0x1, 14, 2, 2,  67840,  36,  4, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.135gb",    0x2,  9, 3, 4, 135936,  68,  6, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.135gb",    0x3,  5, 4, 4, 135936,  72,  8, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.269gb",    0x4,  0, 7, 8, 272384, 148, 16, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "GB300-278GB",
        .nvml_name = "NVIDIA GB300",
        .arch = MIG_ARCH_BLACKWELL,
        .n_pci_ids = 1,
        .pci_device_ids = {PCI(0x31C2)},
        .memory_bytes = 284160ULL * MIB,
        .memory_slices = 8,
        .compute_slices = 7,
        .sm_count = 152,
        .max_gis = 7,
        .gpm = true,
        .source = "MIG guide (GB300: R595 >= 595.58.03); profile names, counts and PCI 0x31C2 from "
                  "mig-parted's config (mig-profiles.md 2.11: 1g.35gb x7, 1g.35gb+me, 1g.70gb x4, "
                  "2g.70gb x3, 3g.139gb x2, 4g.139gb, 7g.278gb); INFERRED: the NVML name, "
                  "placements and ids (= GB200), SMs and engines (= GB200), memory per profile "
                  "(chosen to give the names by NVIDIA's rule), memory_bytes (284160 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name          idx  id C mem   MiB      SM CE  DEC ENC JPG OFA N  attr  placements */
            GI("1g.35gb",     0x0, 19, 1, 1,  34816,  18,  2, 1, 0, 1, 0, 7, NONE, AT_1G),
            GI("1g.35gb+me",  0x7, 20, 1, 1,  34816,  18,  2, 1, 0, 1, 1, 1, ME,   AT_1G),
            GI("1g.70gb",     0x9, 15, 1, 2,  70144,  32,  2, 1, 0, 1, 0, 4, NONE, AT_1G_2X),
            GI("2g.70gb",     0x1, 14, 2, 2,  70144,  38,  4, 2, 0, 2, 0, 3, NONE, AT_2G),
            GI("3g.139gb",    0x2,  9, 3, 4, 140800,  72,  6, 3, 0, 3, 0, 2, NONE, AT_3G),
            GI("4g.139gb",    0x3,  5, 4, 4, 140800,  76,  8, 4, 0, 4, 0, 1, NONE, AT_4G),
            GI("7g.278gb",    0x4,  0, 7, 8, 281600, 152, 16, 7, 0, 7, 1, 1, NONE, AT_7G),
        },
    },
    {
        .name = "RTX-PRO-5000-48GB",
        .nvml_name = "NVIDIA RTX PRO 5000 Blackwell",
        .arch = MIG_ARCH_BLACKWELL,
        .n_pci_ids = 0, /* PCI device id unknown: recognised by its NVML name */
        .memory_bytes = 48935ULL * MIB,
        .memory_slices = 2,
        .compute_slices = 2,
        .sm_count = 110,
        .max_gis = 2,
        .gpm = true,
        .source = "MIG guide (RTX PRO 5000 Blackwell, GB202, 48GB, 2 instances; profiles 1g.24gb "
                  "(1/2 memory, 1/2 SMs, 2 instances), 1g.24gb+me, +gfx, +me.all, -me, 2g.48gb, "
                  "2g.48gb+gfx; R575 >= 575.57.08); sm_count 110 (NVIDIA's datasheet); PCI "
                  "device id unknown (recognised by NVML name only); INFERRED: profile ids and "
                  "NVML indices (from the memory fraction, as on RTX PRO 6000 and A30), 2 "
                  "placement units, SMs per profile (half), engines, memory per profile, "
                  "memory_bytes (48935 MiB)",
        .n_profiles = 7,
        .profiles = {
            /*  name             idx   id C mem  MiB     SM CE DEC ENC JPG OFA N  attr    placements */
            GI("1g.24gb",        0x0,   5, 1, 1, 24192,  55, 1, 1, 1, 1, 0, 2, NONE,   0, 1),
            GI("1g.24gb+me",     0x7,   6, 1, 1, 24192,  55, 1, 1, 1, 1, 1, 1, ME,     0, 1),
            GI("1g.24gb+gfx",    0xB,  35, 1, 1, 24192,  55, 1, 1, 1, 1, 0, 2, GFX,    0, 1),
            GI("1g.24gb+me.all", 0x10, 64, 1, 1, 24192,  55, 1, 2, 2, 2, 1, 1, ME_ALL, 0, 1),
            GI("1g.24gb-me",     0xE,  66, 1, 1, 24192,  55, 1, 0, 0, 0, 0, 2, NO_ME,  0, 1),
            GI("2g.48gb",        0x1,   0, 2, 2, 48512, 110, 2, 2, 2, 2, 1, 1, NONE,   0),
            GI("2g.48gb+gfx",    0xC,  32, 2, 2, 48512, 110, 2, 2, 2, 2, 1, 1, GFX,    0),
        },
    },
    {
        .name = "RTX-PRO-4500-32GB",
        .nvml_name = "NVIDIA RTX PRO 4500 Blackwell",
        .arch = MIG_ARCH_BLACKWELL,
        .n_pci_ids = 0, /* PCI device id unknown: recognised by its NVML name */
        .memory_bytes = 32623ULL * MIB,
        .memory_slices = 2,
        .compute_slices = 2,
        .sm_count = 82,
        .max_gis = 2,
        .gpm = true,
        .source = "MIG guide (RTX PRO 4500 Blackwell, GB203, 32GB, 2 instances; profiles 1g.16gb, "
                  "1g.16gb+gfx, 1g.16gb+me.all, 1g.16gb-me, 2g.32gb, 2g.32gb+gfx; R575 >= 575.64); "
                  "PCI device id unknown (recognised by NVML name only); INFERRED: sm_count 82 "
                  "(10496 CUDA cores / 128), profile ids and NVML indices (from the memory "
                  "fraction, as on RTX PRO 6000 and A30), 2 placement units, SMs per profile "
                  "(half), engines, memory per profile, memory_bytes (32623 MiB)",
        .n_profiles = 6,
        .profiles = {
            /*  name             idx   id C mem  MiB     SM CE DEC ENC JPG OFA N  attr    placements */
            GI("1g.16gb",        0x0,   5, 1, 1, 16128,  41, 1, 1, 1, 1, 0, 2, NONE,   0, 1),
            GI("1g.16gb+gfx",    0xB,  35, 1, 1, 16128,  41, 1, 1, 1, 1, 0, 2, GFX,    0, 1),
            GI("1g.16gb+me.all", 0x10, 64, 1, 1, 16128,  41, 1, 2, 2, 2, 1, 1, ME_ALL, 0, 1),
            GI("1g.16gb-me",     0xE,  66, 1, 1, 16128,  41, 1, 0, 0, 0, 0, 2, NO_ME,  0, 1),
            GI("2g.32gb",        0x1,   0, 2, 2, 32256,  82, 2, 2, 2, 2, 1, 1, NONE,   0),
            GI("2g.32gb+gfx",    0xC,  32, 2, 2, 32256,  82, 2, 2, 2, 2, 1, 1, GFX,    0),
        },
    },
};

const mig_model *mig_catalogue(unsigned *n_models)
{
    if (n_models)
        *n_models = (unsigned)(sizeof catalogue / sizeof catalogue[0]);
    return catalogue;
}
