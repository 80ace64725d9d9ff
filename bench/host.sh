#!/usr/bin/env bash
# bench/host.sh — how long does `devgpu host configure-docker` take on a realistic daemon.json?
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/host.sh [--runs R] [--bin PATH] [--no-build]
#
#   --runs R     timed runs of each case (default 50; 3 warm-up runs first)
#   --bin PATH   the devgpu binary to time (default target/release/devgpu, built unless --no-build)
#   --no-build   do not run `cargo build --release` (implied by --bin)
#
# Cases, each on a fresh copy of tests/fixtures/daemon-json/realistic/input.json in a temporary directory:
#   write    --set-default --cdi on the unconfigured file: parse, plan, backup, atomic write (fsync x3)
#   no-op    the same on the already configured file: parse, plan, nothing written
#   dry-run  --dry-run with the unified diff on stdout
#   python   baseline: python3 json.load + json.dump of the same file (what a naive script does; it loses
#            nothing here, but re-serialises the whole file and neither backs up nor syncs)
# Prints the median and p90 of each in milliseconds. Measures only; it asserts nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=50
BUILD=1
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --bin) BIN="$2"; BUILD=0; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) bench_help "$0"; exit 0 ;;
        *) echo "host.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
BIN=$(bench_binary host.sh "$BIN" "$BUILD")
INPUT=$(realpath tests/fixtures/daemon-json/realistic/input.json)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# --set-default refuses a runtime that is not installed: a stand-in on PATH.
mkdir -p "$WORK/bin" && printf '#!/bin/sh\nexec runc "$@"\n' > "$WORK/bin/nvidia-container-runtime" && chmod +x "$WORK/bin/nvidia-container-runtime"
export PATH="$WORK/bin:$PATH"

# time_case NAME SETUP COMMAND: runs SETUP (untimed) then COMMAND (timed) RUNS times; prints median and p90.
time_case() {
    local name=$1 setup=$2 cmd=$3 i t0 t1
    local samples=()
    for i in $(seq 1 $((RUNS + 3))); do
        rm -rf "$WORK/d" && mkdir "$WORK/d" && (cd "$WORK/d" && eval "$setup")
        t0=$(date +%s%N)
        (cd "$WORK/d" && eval "$cmd") >/dev/null 2>&1
        t1=$(date +%s%N)
        [ "$i" -gt 3 ] && samples+=($(( (t1 - t0) / 1000 )))
    done
    printf '%s\n' "${samples[@]}" | sort -n | awk -v name="$name" '{a[NR]=$1} END {printf "%-8s median %6.2f ms   p90 %6.2f ms   (%d runs)\n", name, a[int((NR+1)/2)]/1000, a[int(NR*0.9)]/1000, NR}'
}

echo "devgpu host configure-docker on $(basename "$(dirname "$INPUT")")/input.json ($(wc -c < "$INPUT") bytes), $(nproc) cores"
time_case write   "cp '$INPUT' daemon.json" "'$BIN' host configure-docker --config daemon.json --set-default --cdi"
time_case no-op   "cp '$INPUT' daemon.json && '$BIN' host configure-docker --config daemon.json --set-default --cdi >/dev/null 2>&1" "'$BIN' host configure-docker --config daemon.json --set-default --cdi"
time_case dry-run "cp '$INPUT' daemon.json" "'$BIN' host configure-docker --config daemon.json --set-default --cdi --dry-run"
time_case python  "cp '$INPUT' daemon.json" "python3 -c 'import json; d=json.load(open(\"daemon.json\")); d.setdefault(\"runtimes\", {})[\"nvidia\"]={\"path\": \"nvidia-container-runtime\", \"args\": []}; json.dump(d, open(\"daemon.json\", \"w\"), indent=2)'"
