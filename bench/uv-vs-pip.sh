#!/usr/bin/env bash
# bench/uv-vs-pip.sh — building the generated Dockerfile of examples/pytorch with uv (the default) and with pip
# (`init --installer pip`), side by side, on the local stand-in image with an offline wheelhouse.
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/uv-vs-pip.sh [--runs R] [--bin PATH] [--no-build]
#
#   --runs R     timed builds of each Dockerfile (default 3; medians)
#   --bin PATH   the devgpu binary (default target/release/devgpu, built unless --no-build)
#
# Needs: a Docker daemon, the stand-in image devgpu-test/standin:bookworm (tests/tools/standin-images.sh), python3
# with pip and PyPI access on the host for the wheelhouse (downloaded once into $DEVGPU_TEST_CACHE, default
# /var/cache/devgpu-test), and Debian's package mirror for the Dockerfile's apt step.
#
# What it does:
#   1. `devgpu init` (offline facts) on two copies of examples/pytorch: one Dockerfile with uv, one with pip;
#      the stand-in image is tagged as their FROM image.
#   2. A wheelhouse served on 127.0.0.1: real wheels of everything the example needs (numpy, tqdm, pytest,
#      ipykernel and their dependencies, pip, uv) except torch/torchvision, which are stand-in wheels (2 GB of CUDA
#      builds would measure the disk, not the installer). It is a find-links page served by
#      tests/tools/simple-index.py, which answers byte ranges as nginx, S3 or a CDN do; uv reads each wheel's
#      metadata through them. `python3 -m http.server` answers none, so uv downloads every wheel twice there: step 3
#      also times uv against such a server (its own line in the report) so the difference stays visible.
#   3. One warm-up build each (apt and the user layers cached), then R builds each with the Python layers
#      invalidated (a new PIP_FIND_LINKS query string: every RUN after the ARG misses the cache) — the install
#      phase: venv, installer bootstrap, framework, dependencies. Medians, and the ratio uv/pip. Of each build,
#      the time the classic builder spends between a step's container exiting and its removal (committing the
#      step's layer: the same work for both installers, growing with the files a step wrote) is read from the
#      daemon's events and reported beside it.
#   4. A source-only edit (src/*.py) and a rebuild of each: the dependency layer must come from the cache.
#   5. The installers alone, in one container, without the builder's per-step costs.
# Targets: uv's install phase <= 0.3 x pip's; a source edit rebuilds no dependency layer. Exit 1 when missed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=3
BUILD=1
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --bin) BIN="$2"; BUILD=0; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) bench_help "$0"; exit 0 ;;
        *) echo "uv-vs-pip.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
BIN=$(bench_binary uv-vs-pip.sh "$BIN" "$BUILD")
docker image inspect devgpu-test/standin:bookworm > /dev/null 2>&1 || { echo "uv-vs-pip.sh: no stand-in image: run tests/tools/standin-images.sh" >&2; exit 2; }
CACHE_DIR="${DEVGPU_TEST_CACHE:-/var/cache/devgpu-test}"

WORK=$(mktemp -d)
SERVER_PID=""
PLAIN_PID=""
TAGGED=""
IMAGES=()
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    [ -n "$PLAIN_PID" ] && kill "$PLAIN_PID" 2>/dev/null || true
    for i in "${IMAGES[@]}"; do docker rmi -f "$i" > /dev/null 2>&1 || true; done
    [ -n "$TAGGED" ] && docker rmi "$TAGGED" > /dev/null 2>&1 || true
    [ -n "${KEEP_WORK:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

# 1. Two generated Dockerfiles.
for installer in uv pip; do
    cp -r examples/pytorch "$WORK/$installer"
    rm -rf "$WORK/$installer/.devcontainer" "$WORK/$installer/.dockerignore"
    DEVGPU_OFFLINE=1 XDG_CACHE_HOME="$WORK/xdg" "$BIN" init "$WORK/$installer" --installer "$installer" \
        --driver 550.54.15 --compute-cap 8.6 --json > "$WORK/$installer.json" 2> /dev/null
done
FROM=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["stack"]["image"])' "$WORK/uv.json")
UV_PIN=$(grep -o 'uv==[0-9.]*' "$WORK/uv/.devcontainer/Dockerfile" | head -1)
if ! docker image inspect "$FROM" > /dev/null 2>&1; then
    docker tag devgpu-test/standin:bookworm "$FROM"
    TAGGED=$FROM
fi

# 2. The wheelhouse (downloads cached across runs).
WH="$WORK/serve/wh"
mkdir -p "$WH"
DL="$CACHE_DIR/bench-uv-vs-pip-$(echo "$UV_PIN numpy tqdm pytest ipykernel pip" | sha256sum | cut -c1-12)"
if [ ! -d "$DL" ]; then
    mkdir -p "$DL.tmp"
    python3 -m pip download -q --only-binary=:all: --python-version 3.11 -d "$DL.tmp" "$UV_PIN" "numpy>=1.24" tqdm "pytest>=8" ipykernel pip setuptools wheel
    mv "$DL.tmp" "$DL"
fi
cp "$DL"/* "$WH"/
TORCH_SPEC=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["stack"]["framework"]["packages"][0])' "$WORK/uv.json")
TORCH_VERSION=$(echo "$TORCH_SPEC" | sed 's/torch==//; s/\.\*$/.0/')+$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["stack"]["framework"]["wheelVariant"])' "$WORK/uv.json")
python3 tests/tools/make-standin-wheel.py torch "$TORCH_VERSION" "$WH" > /dev/null
python3 tests/tools/make-standin-wheel.py torchvision "0.99.0" "$WH" > /dev/null
python3 - "$WH" <<'PY'
import os, sys, urllib.parse
wh = sys.argv[1]
links = "".join('<a href="%s">%s</a>\n' % (urllib.parse.quote(f), f) for f in sorted(os.listdir(wh)) if f.endswith(".whl"))
open(os.path.join(wh, "index.html"), "w").write("<!DOCTYPE html>\n<html><body>\n%s</body></html>\n" % links)
PY
python3 tests/tools/simple-index.py "$WORK/serve" > "$WORK/index.out" 2> "$WORK/index.log" &
SERVER_PID=$!
python3 -m http.server --bind 127.0.0.1 --directory "$WH" 0 > "$WORK/http.out" 2> "$WORK/http.log" &
PLAIN_PID=$!
for _ in $(seq 1 50); do grep -q port "$WORK/http.out" 2>/dev/null && grep -q PORT "$WORK/index.out" && break; sleep 0.1; done
PORT=$(awk '/^PORT/ {print $2}' "$WORK/index.out")
PLAIN_PORT=$(grep -o 'port [0-9]*' "$WORK/http.out" | head -1 | cut -d' ' -f2)


# One classic-builder build (the builder VS Code uses without buildx); prints its milliseconds.
# One classic-builder build; prints its milliseconds and, after a space, those of its layer commits.
build() { # installer, run-id, log[, find-links URL]
    local installer=$1 run=$2 log=$3 links=${4:-http://127.0.0.1:$PORT/wh/} t0 t1
    t0=$(date +%s%N)
    DOCKER_BUILDKIT=0 docker build --network host -f "$WORK/$installer/.devcontainer/Dockerfile" \
        --build-arg PIP_NO_INDEX=1 --build-arg "PIP_FIND_LINKS=$links?run=$run" \
        -t "devgpu-bench-$installer:latest" "$WORK/$installer" > "$log" 2>&1 || { echo "build failed ($installer):"; tail -30 "$log"; exit 2; }
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000000 )) $(commit_ms "$t0" "$t1")"
}
# The builder's intermediate containers between two `date +%s%N` times: the sum of die → destroy (the commit of
# each step's layer, then the container's removal), in ms.
commit_ms() { # t0, t1 (ns)
    docker events --since "$(awk -v t="$1" 'BEGIN {printf "%.3f", t / 1e9}')" --until "$(awk -v t="$2" 'BEGIN {printf "%.3f", t / 1e9 + 1}')" \
        --filter type=container --format '{{.TimeNano}} {{.Action}} {{.Actor.ID}}' |
        awk '$2 == "die" {d[$3] = $1} $2 == "destroy" && ($3 in d) {s += $1 - d[$3]} END {printf "%d", s / 1e6}'
}
IMAGES=(devgpu-bench-uv:latest devgpu-bench-pip:latest)

# 3. Warm-up, then the install phase R times each, alternating so that both see the same machine.
WARM_UV=$(build uv warmup "$WORK/uv-warm.log"); WARM_UV=${WARM_UV% *}
WARM_PIP=$(build pip warmup "$WORK/pip-warm.log"); WARM_PIP=${WARM_PIP% *}
uv_times=(); pip_times=(); plain_times=(); uv_commits=(); pip_commits=()
for r in $(seq 1 "$RUNS"); do
    out=$(build uv "$r-$RANDOM" "$WORK/uv-$r.log"); uv_times+=("${out% *}"); uv_commits+=("${out#* }")
    out=$(build pip "$r-$RANDOM" "$WORK/pip-$r.log"); pip_times+=("${out% *}"); pip_commits+=("${out#* }")
    out=$(build uv "$r-$RANDOM" "$WORK/uv-plain-$r.log" "http://127.0.0.1:$PLAIN_PORT/"); plain_times+=("${out% *}")
done
UV=$(printf '%s\n' "${uv_times[@]}" | median)
PIP=$(printf '%s\n' "${pip_times[@]}" | median)
PLAIN=$(printf '%s\n' "${plain_times[@]}" | median)
UV_COMMITS=$(printf '%s\n' "${uv_commits[@]}" | median)
PIP_COMMITS=$(printf '%s\n' "${pip_commits[@]}" | median)
# The packages really came from the wheelhouse into each image.
for installer in uv pip; do
    docker run --rm "devgpu-bench-$installer:latest" python -c 'import numpy, tqdm, pytest, ipykernel, torch; print(torch.__version__)' > /dev/null
done

# 4. A source-only edit: the dependency step (`… install -r /tmp/devgpu-deps/requirements.txt`) must be cached.
dep_cached() { # log → "cached" | "rebuilt"
    awk '/^Step [0-9]+\/[0-9]+ : RUN .*install -r \/tmp\/devgpu-deps/ {s=1; next} s && /Using cache/ {print "cached"; exit} s && /^Step / {print "rebuilt"; exit}' "$1"
}
# Build with fixed args, edit a source file, build again with the same args: only the source changed.
for installer in uv pip; do
    build "$installer" stable "$WORK/$installer-stable.log" > /dev/null
    echo "# edited again $(date +%s%N)" >> "$(find "$WORK/$installer/src" -name '*.py' | head -1)"
    t=$(build "$installer" stable "$WORK/$installer-stable-edit.log"); t="${t% *}"
    eval "EDIT_$installer=\"$t ms, dependency layer $(dep_cached "$WORK/$installer-stable-edit.log")\""
done

# 5. The installers alone, without the builder's per-step container and layer costs (the same for both): the
#    example's requirements into fresh venvs in one container, from the wheelhouse mounted as a folder.
ALONE=$(docker run --rm --network none -v "$WORK/uv:/src:ro" -v "$WH:/wh:ro" devgpu-bench-uv:latest sh -c '
  set -e; cd /tmp; python3 -m venv /tmp/a; python3 -m venv /tmp/b
  ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
  t=$(date +%s%N); VIRTUAL_ENV=/tmp/a UV_CONSTRAINT= uv pip install -q --no-index --find-links /wh -r /src/requirements.txt; u=$(ms $t)
  t=$(date +%s%N); PIP_CONSTRAINT= /tmp/b/bin/pip install -q --no-index --find-links /wh -r /src/requirements.txt; p=$(ms $t)
  echo "$u $p"')
ALONE_UV=${ALONE% *}; ALONE_PIP=${ALONE#* }
RATIO=$(awk -v a="$UV" -v b="$PIP" 'BEGIN {printf "%.2f", a / b}')
echo "generated Dockerfile of examples/pytorch ($FROM on the stand-in image), offline wheelhouse, classic builder"
echo "  first build incl. apt (warm-up):     uv $WARM_UV ms · pip $WARM_PIP ms"
echo "  install phase, median of $RUNS:        uv $UV ms · pip $PIP ms · ratio uv/pip $RATIO (target <= 0.30)"
echo "    of which the builder's layer commits: uv $UV_COMMITS ms · pip $PIP_COMMITS ms (the rest, uv $((UV - UV_COMMITS)) ms · pip $((PIP - PIP_COMMITS)) ms: ratio $(awk -v a="$((UV - UV_COMMITS))" -v b="$((PIP - PIP_COMMITS))" 'BEGIN {printf "%.2f", a / b}'))"
echo "  uv's install phase from a server without byte ranges (python3 -m http.server): $PLAIN ms (ratio $(awk -v a="$PLAIN" -v b="$PIP" 'BEGIN {printf "%.2f", a / b}'))"
echo "  rebuild after a source-only edit:    uv $EDIT_uv · pip $EDIT_pip"
echo "  the installers alone (requirements.txt into a fresh venv): uv $ALONE_UV ms · pip $ALONE_PIP ms · ratio $(awk -v a="$ALONE_UV" -v b="$ALONE_PIP" 'BEGIN {printf "%.2f", a / b}')"
fail=0
awk -v r="$RATIO" 'BEGIN {exit !(r <= 0.30)}' || { echo "MISSED: uv/pip $RATIO > 0.30"; fail=1; }
case "$EDIT_uv $EDIT_pip" in *rebuilt*) echo "MISSED: a source edit rebuilt a dependency layer"; fail=1 ;; esac
exit $fail
