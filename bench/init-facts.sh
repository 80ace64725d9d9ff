#!/usr/bin/env bash
# bench/init-facts.sh — how long does `devgpu init` take with live facts, cold (no cache: every index and the
# registry read now) and warm (the cached facts), against real servers on loopback?
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/init-facts.sh [--runs R] [--tags N] [--bin PATH] [--no-build]
#
#   --runs R     timed runs of each case (default 10)
#   --tags N     stand-in nvidia/cuda tags in the registry (default 400, in pages of 100: NVIDIA's real list has
#                a few thousand, Docker Hub pages by 100 when asked for more)
#   --bin PATH   the devgpu binary (default target/release/devgpu, built unless --no-build)
#
# The servers (the same as tests/live_facts.rs): tests/tools/simple-index.py (PEP 691/503, stand-in wheels for
# PyTorch's wheel index and the Python index), Debian's docker-registry (apt-get install docker-registry) behind
# tests/tools/registry-token-proxy.py (Bearer token challenge, Link pagination). The project is examples/pytorch.
# Cases, each `devgpu init --dry-run --json --driver 580.95.05 --compute-cap 9.0 examples/pytorch` (a dry run:
# the example stays untouched):
#   offline  --offline, no cache: the embedded snapshot (the floor: scan + resolve + render)
#   cold     live facts, the cache deleted before every run
#   warm     live facts from the cache (within its time to live)
# Targets: warm <= 300 ms, cold <= 2000 ms (medians). Exit 1 when one is missed, 2 on a setup error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=10
TAGS=400
BUILD=1
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --tags) TAGS="$2"; shift 2 ;;
        --bin) BIN="$2"; BUILD=0; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) bench_help "$0"; exit 0 ;;
        *) echo "init-facts.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
BIN=$(bench_binary init-facts.sh "$BIN" "$BUILD")
[ -x /usr/bin/docker-registry ] || { echo "init-facts.sh: needs Debian's docker-registry (apt-get install docker-registry)" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Read "PORT n" from a helper's first output line.
port_of() {
    local fifo=$1 line
    read -r line < "$fifo"
    echo "${line#PORT }"
}

# The index: PyTorch's wheel index (HTML) and the Python index (JSON + HTML).
python3 - "$WORK/index" <<'EOF'
import json, os, sys
root = sys.argv[1]
def project(index, name, files, versions=None):
    d = os.path.join(root, index, name); os.makedirs(d, exist_ok=True)
    html = "<!DOCTYPE html><html><body>\n"
    for f in files:
        open(os.path.join(d, f), "w").write("stand-in\n")
        html += '<a href="%s">%s</a><br/>\n' % (f.replace("+", "%2B"), f.replace("+", "&#43;"))
    open(os.path.join(d, "index.html"), "w").write(html + "</body></html>\n")
    if versions is not None:
        json.dump({"meta": {"api-version": "1.1"}, "name": name, "versions": versions,
                   "files": [{"filename": f, "url": f, "hashes": {}} for f in files]}, open(os.path.join(d, "index.json"), "w"))
torch = []
for minor in range(1, 17):
    for patch in (0, 1):
        # variant sets as PyTorch publishes them (frameworks.toml), continued past the snapshot
        variants = ("cu118", "cu121", "cu124") if minor <= 5 else ("cu118", "cu124", "cu126") if minor == 6 else ("cu118", "cu126", "cu128") if minor == 7 else ("cu126", "cu128", "cu130")
        for v in variants:
            for py in ("cp310-cp310", "cp311-cp311", "cp312-cp312", "cp313-cp313"):
                torch.append("torch-2.%d.%d+%s-%s-manylinux_2_28_x86_64.whl" % (minor, patch, v, py))
                torch.append("torch-2.%d.%d+%s-%s-win_amd64.whl" % (minor, patch, v, py))
project("whl", "torch", torch)
project("whl", "torchvision", ["torchvision-0.%d.0+cu130-cp312-cp312-manylinux_2_28_x86_64.whl" % (m + 15) for m in range(1, 17)])
project("whl", "torchaudio", ["torchaudio-2.%d.0+cu130-cp312-cp312-manylinux_2_28_x86_64.whl" % m for m in range(1, 17)])
for name, versions in {"torch": ["2.%d.0" % m for m in range(1, 17)], "jax": ["0.10.2"], "jaxlib": ["0.10.2"],
                       "jax-cuda12-plugin": ["0.10.2"], "jax-cuda13-plugin": ["0.10.2"], "tensorflow": ["2.21.0"],
                       "cupy-cuda12x": ["14.2.0"], "cupy-cuda13x": ["14.2.0"], "nvidia-cuda-runtime": ["13.5.37"]}.items():
    project("pypi", name, ["%s-%s-py3-none-manylinux_2_28_x86_64.whl" % (name.replace("-", "_"), v) for v in versions], versions)
print("index: %d torch files" % len(torch))
EOF
mkfifo "$WORK/index.port"
python3 tests/tools/simple-index.py "$WORK/index" > "$WORK/index.port" 2> "$WORK/index.log" &
PIDS+=($!)
INDEX_PORT=$(port_of "$WORK/index.port")

# The registry, and its token front with pages of 100.
REG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: 127.0.0.1:$REG_PORT
EOF
/usr/bin/docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$REG_PORT/v2/', timeout=1)" 2>/dev/null && break
    sleep 0.1
done
mkfifo "$WORK/front.port"
python3 tests/tools/registry-token-proxy.py "$REG_PORT" 100 > "$WORK/front.port" 2> "$WORK/front.log" &
PIDS+=($!)
FRONT_PORT=$(port_of "$WORK/front.port")
# Living lines first, then filler tags of other (older, deleted-upstream-style) releases up to --tags.
tags=()
for line in 12.4.1 12.6.3 12.8.1 12.9.1 13.0.2; do
    for flavor in base runtime devel cudnn-runtime cudnn-devel; do
        for u in 22.04 24.04; do tags+=("$line-$flavor-ubuntu$u"); done
    done
done
i=0
while [ ${#tags[@]} -lt "$TAGS" ]; do
    tags+=("11.$((i / 40)).$((i % 40))-base-ubi8"); i=$((i + 1))
done
python3 tests/tools/push-standin-tags.py "http://127.0.0.1:$REG_PORT" "${tags[@]}"

export NO_PROXY='*' PIP_INDEX_URL="http://127.0.0.1:$INDEX_PORT/pypi" DEVGPU_TORCH_INDEX_URL="http://127.0.0.1:$INDEX_PORT/whl" \
    DEVGPU_REGISTRY_MIRROR="http://127.0.0.1:$FRONT_PORT" NO_COLOR=1
unset UV_INDEX_URL UV_DEFAULT_INDEX DEVGPU_OFFLINE HTTPS_PROXY HTTP_PROXY ALL_PROXY https_proxy http_proxy all_proxy
CACHE="$WORK/cache"
INIT=("$BIN" init examples/pytorch --dry-run --json --driver 580.95.05 --compute-cap 9.0)


run_case() { # name, setup-before-each, extra args...
    local name=$1 before=$2; shift 2
    local times=()
    for _ in $(seq 1 "$RUNS"); do
        eval "$before"
        local t0; t0=$(date +%s%N)
        XDG_CACHE_HOME=$CACHE "${INIT[@]}" "$@" > "$WORK/out.json" 2> /dev/null || { echo "init failed:"; cat "$WORK/out.json"; exit 2; }
        times+=("$(ms_since "$t0")")
    done
    printf '%s\n' "${times[@]}" | median
}

OFFLINE=$(run_case offline 'rm -rf "$CACHE"' --offline)
COLD=$(run_case cold 'rm -rf "$CACHE"')
STACK=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data"]["stack"]; print(d["image"], d["framework"]["version"], d["framework"]["wheelVariant"])' "$WORK/out.json")
WARM=$(run_case warm ':')

echo "devgpu init examples/pytorch (dry run) against loopback servers: $TAGS registry tags, medians of $RUNS runs"
echo "  chosen with live facts: $STACK"
printf '  %-8s %6s ms   %s\n' offline "$OFFLINE" "(--offline: the embedded snapshot)"
printf '  %-8s %6s ms   %s\n' cold "$COLD" "(no cache: indexes and registry read now; target <= 2000 ms)"
printf '  %-8s %6s ms   %s\n' warm "$WARM" "(cached facts; target <= 300 ms)"
fail=0
[ "$WARM" -le 300 ] || { echo "MISSED: warm $WARM ms > 300 ms"; fail=1; }
[ "$COLD" -le 2000 ] || { echo "MISSED: cold $COLD ms > 2000 ms"; fail=1; }
exit $fail
