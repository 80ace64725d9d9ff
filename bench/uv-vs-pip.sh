#!/usr/bin/env bash
# bench/uv-vs-pip.sh — building the generated Dockerfile of examples/pytorch with uv (the default) and with pip
# (`init --installer pip`), side by side, on the local stand-in image with an offline wheelhouse.
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/uv-vs-pip.sh [--runs R] [--bin PATH] [--no-build]
#
#   --runs R     timed builds of each Dockerfile with each builder (default 5; medians)
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
#   3. The builds go through `devgpu up` (the image VS Code then reuses), with a bench config beside the generated
#      one (same Dockerfile and context, the wheelhouse as build args, no GPU), once per builder: BuildKit (devgpu's
#      builder on Docker's engine) and the classic builder (DOCKER_BUILDKIT=0; what `docker build` without buildx,
#      and so the Dev Containers CLI on such a machine, uses). For each: one warm-up build each (apt and the user
#      layers cached), then R builds each with the Python layers invalidated (a new PIP_FIND_LINKS query string:
#      every RUN after the ARG misses the cache) — the install phase: venv, installer bootstrap, framework,
#      dependencies — timed from devgpu's progress events (bench/up_events.py). Medians, and the ratio uv/pip.
#      For the classic builder, the time between a step's container exiting and its removal (committing the
#      step's layer: the same work for both installers, growing with the files a step wrote) is read from the
#      daemon's events and reported beside it.
#   4. A source-only edit (src/*.py) and a rebuild of each, with each builder: the dependency step must come from
#      the cache.
#   5. The installers alone, in one container, without any builder's per-step costs.
# Targets: uv's install phase with devgpu's builder (BuildKit) <= 0.3 x pip's; a source edit rebuilds no dependency layer. Exit 1 when missed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=5
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
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    [ -n "$PLAIN_PID" ] && kill "$PLAIN_PID" 2>/dev/null || true
    # What `devgpu up` left: containers and images labelled with the bench's folders.
    for installer in uv pip; do
        docker ps -aq --filter "label=devcontainer.local_folder=$WORK/$installer" | xargs -r docker rm -f > /dev/null 2>&1 || true
        docker images -q --filter "label=devgpu.local_folder=$WORK/$installer" | xargs -r docker rmi -f > /dev/null 2>&1 || true
    done
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


# One build of an installer's Dockerfile through `devgpu up` (the image as VS Code gets it), then its container
# removed. The config is the bench's own beside the generated one (same Dockerfile and context, no GPU: this
# machine has none), with the wheelhouse as build args: a new run id in PIP_FIND_LINKS misses the cache from that
# ARG on. Prints the build phase's milliseconds (from devgpu's progress events), whether the dependency step came
# from the cache, and, after them, the classic builder's layer commits in that time (0 for BuildKit, which
# commits no layer per step).
build() { # installer, run-id, DOCKER_BUILDKIT (1|0), log[, find-links URL]
    local installer=$1 run=$2 bk=$3 log=$4 links=${5:-http://127.0.0.1:$PORT/wh/} t0 t1
    cat > "$WORK/$installer/.devcontainer/bench.json" <<JSON
{ "build": { "dockerfile": "Dockerfile", "context": "..", "options": ["--network", "host"],
             "args": { "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "$links?run=$run" } },
  "remoteUser": "dev", "updateRemoteUserUID": false }
JSON
    t0=$(date +%s%N)
    DOCKER_BUILDKIT=$bk "$BIN" up "$WORK/$installer" --config "$WORK/$installer/.devcontainer/bench.json" --json 2>&1 > "$log.json" |
        python3 bench/up_events.py stamp > "$log" || { echo "devgpu up failed ($installer, DOCKER_BUILDKIT=$bk):"; tail -30 "$log" "$log.json"; exit 2; }
    t1=$(date +%s%N)
    "$BIN" down "$WORK/$installer" --config "$WORK/$installer/.devcontainer/bench.json" --remove -q > /dev/null 2>&1 || true
    echo "$(python3 bench/up_events.py build "$log") $(commit_ms "$t0" "$t1")"
}
# The classic builder's intermediate containers between two `date +%s%N` times: the sum of die → destroy (the
# commit of each step's layer, then the container's removal), in ms. Containers of BuildKit's steps are not the
# engine's containers and are not counted; `up`'s own container is never destroyed inside the window.
commit_ms() { # t0, t1 (ns)
    docker events --since "$(awk -v t="$1" 'BEGIN {printf "%.3f", t / 1e9}')" --until "$(awk -v t="$2" 'BEGIN {printf "%.3f", t / 1e9 + 1}')" \
        --filter type=container --format '{{.TimeNano}} {{.Action}} {{.Actor.ID}}' |
        awk '$2 == "die" {d[$3] = $1} $2 == "destroy" && ($3 in d) {s += $1 - d[$3]} END {printf "%d", s / 1e6}'
}

# 3. For each builder: a warm-up build of each (apt and the user layers cached), then the install phase R times
#    each, alternating so that both see the same machine.
declare -A RESULT
for bk in 1 0; do
    build uv "warmup-$bk" "$bk" "$WORK/uv-warm-$bk.log" > /dev/null
    build pip "warmup-$bk" "$bk" "$WORK/pip-warm-$bk.log" > /dev/null
    uv_t=(); pip_t=(); plain_t=(); uv_c=(); pip_c=()
    for r in $(seq 1 "$RUNS"); do
        read -r ms _ commits < <(build uv "$r-$RANDOM" "$bk" "$WORK/uv-$bk-$r.log"); uv_t+=("$ms"); uv_c+=("$commits")
        read -r ms _ commits < <(build pip "$r-$RANDOM" "$bk" "$WORK/pip-$bk-$r.log"); pip_t+=("$ms"); pip_c+=("$commits")
        read -r ms _ _ < <(build uv "$r-$RANDOM" "$bk" "$WORK/uv-plain-$bk-$r.log" "http://127.0.0.1:$PLAIN_PORT/"); plain_t+=("$ms")
    done
    # Each run's uv and pip builds follow each other: their ratio is one observation of the machine as it was then.
    RESULT[pairs$bk]=$(for i in "${!uv_t[@]}"; do awk -v a="${uv_t[$i]}" -v b="${pip_t[$i]}" 'BEGIN {printf "%.2f ", a / b}'; done)
    RESULT[uv$bk]=$(printf '%s\n' "${uv_t[@]}" | median)
    RESULT[pip$bk]=$(printf '%s\n' "${pip_t[@]}" | median)
    RESULT[plain$bk]=$(printf '%s\n' "${plain_t[@]}" | median)
    RESULT[uvc$bk]=$(printf '%s\n' "${uv_c[@]}" | median)
    RESULT[pipc$bk]=$(printf '%s\n' "${pip_c[@]}" | median)
    # 4. A source-only edit: build with fixed args, edit a source file, build again with the same args; the
    #    dependency step (`… install -r /tmp/devgpu-deps/requirements.txt`) must come from the cache.
    for installer in uv pip; do
        build "$installer" "stable-$bk" "$bk" "$WORK/$installer-stable-$bk.log" > /dev/null
        echo "# edited again $(date +%s%N)" >> "$(find "$WORK/$installer/src" -name '*.py' | head -1)"
        read -r ms deps _ < <(build "$installer" "stable-$bk" "$bk" "$WORK/$installer-stable-edit-$bk.log")
        RESULT[edit$installer$bk]="$ms ms, dependency layer $deps"
    done
done
# The packages really came from the wheelhouse into each image (the last build of each is tagged vsc-…).
for installer in uv pip; do
    image=$(docker images --filter "label=devgpu.local_folder=$WORK/$installer" --format '{{.Repository}}:{{.Tag}}' | head -1)
    [ -n "$image" ] || { echo "no image for $installer"; exit 2; }
    [ "$installer" = uv ] && UV_IMAGE=$image
    docker run --rm "$image" python -c 'import numpy, tqdm, pytest, ipykernel, torch; print(torch.__version__)' > /dev/null
done

# 5. The installers alone, without the builder's per-step container and layer costs (the same for both): the
#    example's requirements into fresh venvs in one container, from the wheelhouse mounted as a folder.
ALONE=$(docker run --rm --network none -v "$WORK/uv:/src:ro" -v "$WH:/wh:ro" "$UV_IMAGE" sh -c '
  set -e; cd /tmp; python3 -m venv /tmp/a; python3 -m venv /tmp/b
  ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
  t=$(date +%s%N); VIRTUAL_ENV=/tmp/a UV_CONSTRAINT= uv pip install -q --no-index --find-links /wh -r /src/requirements.txt; u=$(ms $t)
  t=$(date +%s%N); PIP_CONSTRAINT= /tmp/b/bin/pip install -q --no-index --find-links /wh -r /src/requirements.txt; p=$(ms $t)
  echo "$u $p"')
ALONE_UV=${ALONE% *}; ALONE_PIP=${ALONE#* }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
RATIO=$(ratio "${RESULT[uv1]}" "${RESULT[pip1]}")
echo "generated Dockerfile of examples/pytorch ($FROM on the stand-in image), offline wheelhouse, built by devgpu up"
echo "  install phase, median of $RUNS (venv + installer, framework, dependencies):"
echo "    BuildKit (devgpu's builder on Docker):       uv ${RESULT[uv1]} ms · pip ${RESULT[pip1]} ms · ratio uv/pip $RATIO (target <= 0.30)"
echo "      each run's uv/pip:                         ${RESULT[pairs1]}"
echo "    classic builder (DOCKER_BUILDKIT=0):         uv ${RESULT[uv0]} ms · pip ${RESULT[pip0]} ms · ratio $(ratio "${RESULT[uv0]}" "${RESULT[pip0]}")"
echo "      each run's uv/pip:                         ${RESULT[pairs0]}"
echo "      of which its layer commits:                uv ${RESULT[uvc0]} ms · pip ${RESULT[pipc0]} ms"
echo "  uv from a server without byte ranges (python3 -m http.server): BuildKit ${RESULT[plain1]} ms (ratio $(ratio "${RESULT[plain1]}" "${RESULT[pip1]}")) · classic ${RESULT[plain0]} ms"
echo "  rebuild after a source-only edit, BuildKit:  uv ${RESULT[edituv1]} · pip ${RESULT[editpip1]}"
echo "  rebuild after a source-only edit, classic:   uv ${RESULT[edituv0]} · pip ${RESULT[editpip0]}"
echo "  the installers alone (requirements.txt into a fresh venv): uv $ALONE_UV ms · pip $ALONE_PIP ms · ratio $(ratio "$ALONE_UV" "$ALONE_PIP")"
fail=0
awk -v r="$RATIO" 'BEGIN {exit !(r <= 0.30)}' || { echo "MISSED: uv/pip $RATIO > 0.30"; fail=1; }
case "${RESULT[edituv1]} ${RESULT[editpip1]} ${RESULT[edituv0]} ${RESULT[editpip0]}" in *rebuilt*|*none*) echo "MISSED: a source edit rebuilt a dependency layer"; fail=1 ;; esac
exit $fail
