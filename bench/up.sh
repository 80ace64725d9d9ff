#!/usr/bin/env bash
# `devgpu up` against the official Dev Containers CLI's `devcontainer up`, side by side on the same workspace and
# the same Docker daemon, in one run (hyperfine), for:
#   (a) the container already running;
#   (b) no container, the image already built;
# and `devgpu verify` on a running container. Prints the medians and the ratios (targets: (a) ≤ 0.1×, (b) ≤ 0.4×,
# verify ≤ 0.5 s).
#
# Needs: a Docker daemon, the stand-in image devgpu-test/standin:bookworm (tests/tools/standin-images.sh),
# the CLI in tests/tools (npm ci --prefix tests/tools), hyperfine. Uses a release build of devgpu
# (DEVGPU=/path/to/devgpu to use another build).
#
#   bench/up.sh [--runs N] [--image-config]
#
# The workspace is a build config (Dockerfile FROM the stand-in, a non-root remoteUser), as `devgpu init` writes;
# --image-config benchmarks an `image` config instead. Everything created is removed at the end.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
RUNS=15
KIND=build
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --image-config) KIND=image; shift ;;
        *) echo "usage: bench/up.sh [--runs N] [--image-config]" >&2; exit 2 ;;
    esac
done

CLI="$REPO/tests/tools/node_modules/.bin/devcontainer"
STANDIN=devgpu-test/standin:bookworm
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }
[ -x "$CLI" ] || { echo "the Dev Containers CLI is missing: npm ci --prefix tests/tools" >&2; exit 1; }
docker image inspect "$STANDIN" >/dev/null 2>&1 || { echo "$STANDIN is missing: tests/tools/standin-images.sh" >&2; exit 1; }

DEVGPU=$(bench_binary up.sh "${DEVGPU:-}" 1)

TMP=$(mktemp -d /tmp/devgpu-bench-up.XXXXXX)
WS="$TMP/ws"
mkdir -p "$WS/.devcontainer"
if [ "$KIND" = build ]; then
    cat > "$WS/.devcontainer/Dockerfile" <<EOF
FROM $STANDIN
LABEL devgpu-bench=up
RUN useradd -m -u 1000 dev
USER dev
EOF
    cat > "$WS/.devcontainer/devcontainer.json" <<'EOF'
{
  "name": "bench",
  "build": { "dockerfile": "Dockerfile", "context": ".." },
  "remoteUser": "dev",
  "updateRemoteUserUID": false,
  "runArgs": ["--network", "none", "--shm-size", "1g"]
}
EOF
else
    cat > "$WS/.devcontainer/devcontainer.json" <<EOF
{ "name": "bench", "image": "$STANDIN", "runArgs": ["--network", "none", "--shm-size", "1g"] }
EOF
fi
echo "print('hello')" > "$WS/app.py"
chown -R 1000:1000 "$WS"

cleanup() {
    bench_rm_containers "$WS"
    # devgpu's images carry devgpu.local_folder; the CLI names its image vsc-<folder name>-<sha256 of the folder path>.
    docker images -q --filter "label=devgpu.local_folder=$WS" | xargs -r docker rmi -f >/dev/null 2>&1 || true
    docker rmi -f "vsc-ws-$(printf %s "$WS" | sha256sum | cut -d' ' -f1)" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
bench_up_pair "$DEVGPU" "$CLI" "$WS" "$TMP" "$RUNS" "build their image" "no container, image built"

echo "== verify on a running container" >&2
"$DEVGPU" up "$WS" -q
hyperfine --runs "$RUNS" --warmup 2 --export-json "$TMP/v.json" --style basic \
    -n "devgpu verify" "$DEVGPU verify $WS -q" >&2

bench_up_report "$TMP" "$KIND config" 0.1 "(b) no container, image built" 0.4
python3 - "$TMP/v.json" <<'EOF'
import json, sys
vt = json.load(open(sys.argv[1]))["results"][0]["median"]
print(f"  {'devgpu verify (running)':32} {vt*1000:7.1f} ms   ({'meets' if vt <= 0.5 else 'MISSES'} ≤ 500 ms)")
EOF
