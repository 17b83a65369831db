#!/usr/bin/env bash
# check-real-gpu.sh: on a machine with an NVIDIA GPU, check that migctl's nvml
# backend sees what nvidia-smi sees. READ-ONLY: it runs only listing commands
# (nvidia-smi -q, -L, mig -lgip, -lgipp, -lgi, -lci; migctl profiles, status)
# and never changes MIG mode or instances.
#
# usage: scripts/check-real-gpu.sh [-i GPU] [--migctl PATH]
#   compares, for GPU (default 0):
#   - `migctl profiles -i GPU --json` with `nvidia-smi mig -lgip` (name, id,
#     free/total, memory GiB, SM, DEC, ENC, CE, JPEG, OFA) and `-lgipp`
#     (placements);
#   - `migctl status -i GPU --json` with `nvidia-smi -q` (name, UUID, bus id,
#     PCI device id, MIG mode current/pending) and, with MIG on, with
#     `nvidia-smi mig -lgi` / `-lci` (GIs, CIs, placements) and `nvidia-smi -L`
#     (MIG device UUIDs).
# Exit: 0 everything matches, 1 a difference (printed as a diff), 2 usage or a
# missing tool. Needs jq. Written from nvidia-smi's documented formats
# (reference/nvidia-smi-mig-cli.md, the H100/H200 readings); it has been run
# against recorded outputs, not yet on a live GPU.
set -uo pipefail

gpu=0
here=$(cd "$(dirname "$0")/.." && pwd)
migctl="${MIGCTL:-$here/build/migctl}"
while [ $# -gt 0 ]; do
    case "$1" in
    -i) gpu="${2:?-i needs a GPU index}"; shift 2 ;;
    --migctl) migctl="${2:?--migctl needs a path}"; shift 2 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-real-gpu: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for tool in nvidia-smi jq "$migctl"; do
    command -v "$tool" >/dev/null || { echo "check-real-gpu: '$tool' not found" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# compare WHAT EXPECTED(nvidia-smi) ACTUAL(migctl)
compare() {
    if diff -u --label "nvidia-smi $1" --label "migctl $1" "$2" "$3"; then
        echo "ok   $1"
    else
        echo "FAIL $1"
        failed=1
    fi
}

lower() { tr '[:upper:]' '[:lower:]'; }

# ---------------------------------------------------------------- migctl side
"$migctl" --backend nvml profiles -i "$gpu" --json >"$tmp/profiles.json" ||
    { echo "check-real-gpu: migctl profiles failed" >&2; exit 1; }
"$migctl" --backend nvml status -i "$gpu" --json >"$tmp/status.json" ||
    { echo "check-real-gpu: migctl status failed" >&2; exit 1; }

# ---------------------------------------------------------------- profiles
# -lgip: row 1 "|   0  MIG 1g.10gb   19   7/7   9.75   No   16   1   0   |",
# row 2 "|                                 1   1   0   |" (CE JPEG OFA).
nvidia-smi mig -i "$gpu" -lgip >"$tmp/lgip.txt" 2>&1
awk '
    /^\|[ ]+[0-9]+[ ]+MIG / { gsub(/\|/, ""); split($0, a, " "); row = a[3] " " a[4] " " a[5] " " a[6] " " a[8] " " a[9] " " a[10]; next }
    row != "" && /^\|[ 0-9]+\|$/ { gsub(/\|/, ""); split($0, b, " "); print row " " b[1] " " b[2] " " b[3]; row = "" }
' "$tmp/lgip.txt" >"$tmp/lgip.smi"
# nvidia-smi prints GiB with two decimals (9.75, 79.25, 16.00): format the same.
jq -r '.gpu_instance_profiles[] |
    [.name, .id, "\(.free)/\(.instance_count)", .memory_mib, .sm_count, .decoders,
     .encoders, .copy_engines, .jpeg, .ofa] | @tsv' "$tmp/profiles.json" |
    awk -F'\t' '{ printf "%s %s %s %.2f %s %s %s %s %s %s\n", $1, $2, $3, $4 / 1024, $5, $6, $7, $8, $9, $10 }' \
        >"$tmp/lgip.migctl"
if [ -s "$tmp/lgip.smi" ]; then
    compare "mig -lgip (GPU $gpu)" "$tmp/lgip.smi" "$tmp/lgip.migctl"
else
    echo "skip mig -lgip: nvidia-smi listed no profiles ($(head -1 "$tmp/lgip.txt"))"
fi

# -lgipp: "GPU  0 Profile ID 19 Placements: {0,1,2,3,4,5,6}:1"
nvidia-smi mig -i "$gpu" -lgipp >"$tmp/lgipp.txt" 2>&1
sed -n 's/^GPU *[0-9]* *Profile ID *\([0-9]*\) *Placements* *: *{\([0-9,]*\)}:\([0-9]*\).*/\1 \2 \3/p' \
    "$tmp/lgipp.txt" >"$tmp/lgipp.smi"
jq -r '.gpu_instance_profiles[] |
    "\(.id) \([.placements[].start] | map(tostring) | join(",")) \(.placements[0].size)"' \
    "$tmp/profiles.json" >"$tmp/lgipp.migctl"
if [ -s "$tmp/lgipp.smi" ]; then
    compare "mig -lgipp (GPU $gpu)" "$tmp/lgipp.smi" "$tmp/lgipp.migctl"
else
    echo "skip mig -lgipp: nvidia-smi listed no placements ($(head -1 "$tmp/lgipp.txt"))"
fi

# ---------------------------------------------------------------- identity, mode
# nvidia-smi -q: "    Product Name : ...", "    GPU UUID : ...", under "    PCI":
# "Bus Id : 00000000:18:00.0", "Device Id : 0x233010DE"; "MIG Mode" then
# "Current : Enabled|Disabled", "Pending : ...".
nvidia-smi -q -i "$gpu" >"$tmp/q.txt" 2>&1
awk -F' : ' '
    function val() { v = $2; sub(/^[ ]+/, "", v); sub(/[ ]+$/, "", v); return v }
    /^    Product Name / { print "name " val() }
    /^    GPU UUID / { print "uuid " val() }
    /^        Bus Id / { print "bus_id " tolower(val()) }
    /^        Device Id / { print "pci_device_id " tolower(val()) }
    /^    MIG Mode/ { mig = 1; next }
    mig && /^        Current / { print "mig_current " (val() == "Enabled" ? "true" : "false") }
    mig && /^        Pending / { print "mig_pending " (val() == "Enabled" ? "true" : "false"); mig = 0 }
' "$tmp/q.txt" | sort >"$tmp/q.smi"
jq -r '.gpus[0] | "name \(.name)", "uuid \(.uuid)", "bus_id \(.bus_id | ascii_downcase)",
    "pci_device_id \(.pci_device_id | ascii_downcase)", "mig_current \(.mig.current)",
    "mig_pending \(.mig.pending)"' "$tmp/status.json" | sort >"$tmp/q.migctl"
compare "-q identity and MIG mode (GPU $gpu)" "$tmp/q.smi" "$tmp/q.migctl"

# ---------------------------------------------------------------- instances
if [ "$(jq '.gpus[0].mig.current' "$tmp/status.json")" != true ]; then
    echo "skip instances: MIG mode is off on GPU $gpu"
    exit "$failed"
fi

# -lgi: "|   0  MIG 1g.10gb   19   7   0:1   |" -> profile, profile id, GI id, start:size
nvidia-smi mig -i "$gpu" -lgi >"$tmp/lgi.txt" 2>&1
awk '/^\|[ ]+[0-9]+[ ]+MIG / { gsub(/\|/, ""); print $3, $4, $5, $6 }' "$tmp/lgi.txt" |
    sort >"$tmp/lgi.smi"
jq -r '.gpus[0].gpu_instances[] |
    "\(.profile) \(.profile_id) \(.id) \(.placement.start):\(.placement.size)"' \
    "$tmp/status.json" | sort >"$tmp/lgi.migctl"
compare "mig -lgi (GPU $gpu)" "$tmp/lgi.smi" "$tmp/lgi.migctl"

# -lci: "|   0   1   MIG 1c.3g.40gb   0   0   0:1   |" -> GI id, name, CI profile id, CI id, placement
nvidia-smi mig -i "$gpu" -lci >"$tmp/lci.txt" 2>&1
awk '/^\|[ ]+[0-9]+[ ]+[0-9]+[ ]+MIG / { gsub(/\|/, ""); print $2, $4, $5, $6, $7 }' \
    "$tmp/lci.txt" | sort >"$tmp/lci.smi"
jq -r '.gpus[0].gpu_instances[] | .id as $gi | .compute_instances[] |
    "\($gi) \(.profile) \(.profile_id) \(.id) \(.placement.start):\(.placement.size)"' \
    "$tmp/status.json" | sort >"$tmp/lci.migctl"
compare "mig -lci (GPU $gpu)" "$tmp/lci.smi" "$tmp/lci.migctl"

# -L: the MIG device UUIDs listed under "GPU <gpu>:".
nvidia-smi -L >"$tmp/L.txt" 2>&1
awk -v g="$gpu" '
    /^GPU [0-9]+:/ { split($2, a, ":"); on = (a[1] == g); next }
    on && /UUID: MIG-/ { sub(/.*UUID: /, ""); sub(/\).*/, ""); print }
' "$tmp/L.txt" | sort >"$tmp/L.smi"
jq -r '.gpus[0].gpu_instances[].compute_instances[].uuid' "$tmp/status.json" | sort \
    >"$tmp/L.migctl"
compare "-L MIG device UUIDs (GPU $gpu)" "$tmp/L.smi" "$tmp/L.migctl"

exit "$failed"
