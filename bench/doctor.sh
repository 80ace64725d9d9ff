#!/usr/bin/env bash
# bench/doctor.sh — how long does `devgpu doctor` (no --probe) take, next to the one tool it replaces?
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/doctor.sh [--runs R] [--max-ms N] [--bin PATH] [--no-build] [--no-hyperfine]
#
#   --runs R        timed runs of each command (default 20; 3 warm-up runs first)
#   --max-ms N      fail when devgpu doctor's median is above N ms (default 100)
#   --bin PATH      the devgpu binary to time (default target/release/devgpu, built unless --no-build)
#   --no-build      do not run `cargo build --release` (implied by --bin)
#   --no-hyperfine  time with a `date +%s%N` loop even when hyperfine is installed
#
# What it times, side by side (hyperfine when installed, else the loop; medians):
#   - `devgpu doctor --json` in an empty folder (no repository to judge), stdout and stderr discarded;
#   - `docker info`, when a Docker daemon answers (the Docker half of what doctor checks);
#   - `nvidia-smi -q`, when nvidia-smi is installed (PATH, else /usr/local/nvidia/bin): the GPU half — on the
#     H200 machine, which has no Docker, this is the comparison.
# It prints each median and the ratio devgpu/baseline, and fails when devgpu's median is above --max-ms or, where
# nvidia-smi ran, slower than `nvidia-smi -q`.
#
# Exit status: 0 when the targets are met, 1 when one is missed, 2 on a usage or setup error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=20
MAX_MS=100
BUILD=1
BIN=""
HYPERFINE=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --max-ms) MAX_MS="$2"; shift 2 ;;
        --bin) BIN="$2"; BUILD=0; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --no-hyperfine) HYPERFINE=0; shift ;;
        -h|--help) bench_help "$0"; exit 0 ;;
        *) echo "doctor.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
BIN=$(bench_binary doctor.sh "$BIN" "$BUILD")

EMPTY=$(mktemp -d)
JSON=$(mktemp)
trap 'rm -rf "$EMPTY" "$JSON"' EXIT

# The commands. doctor exits 1 when a check fails (no GPU here, no Docker there): that is a result, not an error.
NAMES=("devgpu doctor")
CMDS=("$BIN doctor --json $EMPTY > /dev/null 2>&1 || true")
if command -v docker > /dev/null && docker info > /dev/null 2>&1; then
    NAMES+=("docker info")
    CMDS+=("docker info > /dev/null 2>&1")
fi
SMI=$(command -v nvidia-smi || true)
[ -z "$SMI" ] && [ -x /usr/local/nvidia/bin/nvidia-smi ] && SMI=/usr/local/nvidia/bin/nvidia-smi
if [ -n "$SMI" ] && "$SMI" -q > /dev/null 2>&1; then
    NAMES+=("nvidia-smi -q")
    CMDS+=("$SMI -q > /dev/null 2>&1")
fi
if [ ${#NAMES[@]} -eq 1 ]; then
    echo "doctor.sh: neither a Docker daemon nor nvidia-smi answers here: nothing to compare with" >&2
fi

MEDIANS=()
if [ "$HYPERFINE" = 1 ] && command -v hyperfine > /dev/null; then
    ARGS=()
    for i in "${!NAMES[@]}"; do ARGS+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
    hyperfine --style basic --warmup 3 --runs "$RUNS" --export-json "$JSON" "${ARGS[@]}" >&2
    read -r -a MEDIANS < <(python3 -c '
import json, sys
print(" ".join("%.1f" % (x["median"] * 1000) for x in json.load(open(sys.argv[1]))["results"]))' "$JSON")
else
    for i in "${!NAMES[@]}"; do MEDIANS+=("$(time_ns "${CMDS[$i]}" "$RUNS" 3 | median_ns_as_ms)"); done
fi

DOCTOR_MS=${MEDIANS[0]}
echo
printf '%-22s %8s ms\n' "devgpu doctor median:" "$DOCTOR_MS"
STATUS=0
for i in "${!NAMES[@]}"; do
    [ "$i" = 0 ] && continue
    RATIO=$(awk -v a="$DOCTOR_MS" -v b="${MEDIANS[$i]}" 'BEGIN {printf "%.2f", a / b}')
    printf '%-22s %8s ms   ratio devgpu/%s: %s\n' "${NAMES[$i]} median:" "${MEDIANS[$i]}" "${NAMES[$i]}" "$RATIO"
    if [ "${NAMES[$i]}" = "nvidia-smi -q" ] && awk -v r="$RATIO" 'BEGIN {exit !(r > 1)}'; then
        echo "FAIL: devgpu doctor is slower than nvidia-smi -q (${RATIO}x)" >&2
        STATUS=1
    fi
done
echo "target:                devgpu doctor <= ${MAX_MS} ms$( [ -n "$SMI" ] && echo ", and no slower than nvidia-smi -q" )"
if awk -v a="$DOCTOR_MS" -v m="$MAX_MS" 'BEGIN {exit !(a > m)}'; then
    echo "FAIL: devgpu doctor median ${DOCTOR_MS} ms is above ${MAX_MS} ms" >&2
    STATUS=1
fi
# What doctor saw, so the numbers can be read against it.
"$BIN" doctor --json "$EMPTY" 2> /dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
h = d["host"]
c = {}
for x in d["checks"]:
    c[x["status"]] = c.get(x["status"], 0) + 1
print("doctor saw:            GPU source %s, driver %s, %d GPU(s), Docker %s; checks %s" % (
    h.get("gpuSource"), h.get("driver"), len(h.get("gpus", [])),
    h["docker"].get("serverVersion") or "unreachable", ", ".join("%d %s" % (v, k) for k, v in sorted(c.items()))))' || true
exit $STATUS
