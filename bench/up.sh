#!/usr/bin/env bash
# `devgpu up` against the official Dev Containers CLI's `devcontainer up`, side by side on the same workspace and
# the same Docker daemon, in one run (hyperfine), for:
#   (a) the container already running;
#   (b) no container, the image already built;
# and `devgpu verify` on a running container. Prints the medians and the ratios (targets: (a) ≤ 0.1×, (b) ≤ 0.4×,
# verify ≤ 0.5 s).
#
# Needs: a Docker daemon, the stand-in image devgpu-test/standin:bookworm (tests/tools/standin-images.sh),
# the CLI in tests/tools (npm ci --prefix tests/tools), hyperfine. Uses a release build of devgpu.
#
#   bench/up.sh [--runs N] [--image-config]
#
# The workspace is a build config (Dockerfile FROM the stand-in, a non-root remoteUser), as `devgpu init` writes;
# --image-config benchmarks an `image` config instead. Everything created is removed at the end.
set -euo pipefail

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

echo "== building devgpu (release)" >&2
cargo build --release --quiet
DEVGPU="$REPO/target/release/devgpu"

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

rm_containers() {
    local ids
    ids=$(docker ps -aq --filter "label=devcontainer.local_folder=$WS")
    [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
}
cleanup() {
    rm_containers
    # devgpu's images carry devgpu.local_folder; the CLI names its image vsc-<folder name>-<sha256 of the folder path>.
    docker images -q --filter "label=devgpu.local_folder=$WS" | xargs -r docker rmi -f >/dev/null 2>&1 || true
    docker rmi -f "vsc-ws-$(printf %s "$WS" | sha256sum | cut -d' ' -f1)" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
# hyperfine's --prepare runs through sh, which drops exported bash functions: a script file instead.
printf '#!/bin/sh\nids=$(docker ps -aq --filter "label=devcontainer.local_folder=%s")\n[ -z "$ids" ] || docker rm -f -v $ids >/dev/null\n' "$WS" > "$TMP/rm-containers.sh"
chmod +x "$TMP/rm-containers.sh"

echo "== preparing: both tools build their image once" >&2
"$DEVGPU" up "$WS" -q
rm_containers
"$CLI" up --workspace-folder "$WS" >/dev/null 2>&1
rm_containers
"$DEVGPU" up "$WS" -q

echo "== (a) container running" >&2
hyperfine --runs "$RUNS" --warmup 2 --export-json "$TMP/a.json" --style basic \
    -n "devgpu up" "$DEVGPU up $WS -q" \
    -n "devcontainer up" "$CLI up --workspace-folder $WS" >&2

echo "== (b) no container, image built" >&2
hyperfine --runs "$RUNS" --warmup 1 --export-json "$TMP/b.json" --style basic --prepare "$TMP/rm-containers.sh" \
    -n "devgpu up" "$DEVGPU up $WS -q" \
    -n "devcontainer up" "$CLI up --workspace-folder $WS" >&2

echo "== verify on a running container" >&2
"$DEVGPU" up "$WS" -q
hyperfine --runs "$RUNS" --warmup 2 --export-json "$TMP/v.json" --style basic \
    -n "devgpu verify" "$DEVGPU verify $WS -q" >&2

python3 - "$TMP" "$KIND" <<'EOF'
import json, sys
tmp, kind = sys.argv[1], sys.argv[2]
def med(f):
    return {r["command"]: r["median"] for r in json.load(open(f"{tmp}/{f}"))["results"]}
a, b, v = med("a.json"), med("b.json"), med("v.json")
print(f"devgpu up vs devcontainer up ({kind} config), medians:")
for name, m, target in (("(a) container running", a, 0.1), ("(b) no container, image built", b, 0.4)):
    d, c = m["devgpu up"], m["devcontainer up"]
    ok = "meets" if d / c <= target else "MISSES"
    print(f"  {name:32} devgpu {d*1000:7.1f} ms   devcontainer {c*1000:7.1f} ms   ratio {d/c:.3f} ({ok} ≤ {target}×)")
vt = v["devgpu verify"]
print(f"  {'devgpu verify (running)':32} {vt*1000:7.1f} ms   ({'meets' if vt <= 0.5 else 'MISSES'} ≤ 500 ms)")
EOF
