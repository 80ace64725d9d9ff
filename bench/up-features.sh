#!/usr/bin/env bash
# `devgpu up` against the official Dev Containers CLI's `devcontainer up` for a config with Dev Container Features,
# side by side on the same workspace and the same Docker daemon, in one run (hyperfine), warm cache:
#   (a) the container already running;
#   (b) no container, the Features already installed once (devgpu: its derived image; the CLI: its build cache).
# Prints the medians and the ratios (target for (b): ≤ 0.5×).
#
# Needs: a Docker daemon, the stand-in image devgpu-test/standin:bookworm (tests/tools/standin-images.sh),
# the CLI in tests/tools (npm ci --prefix tests/tools), hyperfine. Uses a release build of devgpu
# (DEVGPU=/path/to/devgpu to use another build).
#
#   bench/up-features.sh [--runs N]
#
# The workspace is an image config with two local Features (options, containerEnv, a capability, a
# postCreateCommand; one dependsOn the other). Everything created is removed at the end.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
RUNS=10
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        *) echo "usage: bench/up-features.sh [--runs N]" >&2; exit 2 ;;
    esac
done

CLI="${DEVGPU_TEST_TOOLS:-$REPO/tests/tools}/node_modules/.bin/devcontainer"
STANDIN=devgpu-test/standin:bookworm
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }
[ -x "$CLI" ] || { echo "the Dev Containers CLI is missing: npm ci --prefix tests/tools" >&2; exit 1; }
docker image inspect "$STANDIN" >/dev/null 2>&1 || { echo "$STANDIN is missing: tests/tools/standin-images.sh" >&2; exit 1; }

DEVGPU=$(bench_binary up-features.sh "${DEVGPU:-}" 1)

TMP=$(mktemp -d /tmp/devgpu-bench-upf.XXXXXX)
WS="$TMP/ws"
mkdir -p "$WS/.devcontainer/tool" "$WS/.devcontainer/base"
cat > "$WS/.devcontainer/devcontainer.json" <<EOF
{
  "name": "bench-features",
  "image": "$STANDIN",
  "runArgs": ["--network", "none"],
  "features": { "./tool": { "level": "3" } },
  "containerEnv": { "FROM_CONFIG": "1" },
  "postCreateCommand": "echo config >> /tmp/hooks.log"
}
EOF
cat > "$WS/.devcontainer/base/devcontainer-feature.json" <<'EOF'
{ "id": "base", "version": "1.0.0", "containerEnv": { "BASE_HOME": "/opt/base" } }
EOF
printf '#!/bin/sh\nset -e\nmkdir -p /opt/base\necho base > /opt/base/installed\n' > "$WS/.devcontainer/base/install.sh"
cat > "$WS/.devcontainer/tool/devcontainer-feature.json" <<'EOF'
{
  "id": "tool", "version": "1.0.0",
  "options": { "level": { "type": "string", "default": "1" }, "flavor": { "type": "string", "default": "plain" } },
  "dependsOn": { "./base": {} },
  "containerEnv": { "TOOL_HOME": "/opt/tool" },
  "capAdd": ["SYS_PTRACE"],
  "postCreateCommand": "echo tool >> /tmp/hooks.log"
}
EOF
printf '#!/bin/sh\nset -e\nmkdir -p "$TOOL_HOME"\necho "$LEVEL $FLAVOR $_REMOTE_USER" > "$TOOL_HOME/installed"\n' > "$WS/.devcontainer/tool/install.sh"

cleanup() {
    bench_rm_containers "$WS"
    docker images -q --filter "label=devgpu.local_folder=$WS" | xargs -r docker rmi -f >/dev/null 2>&1 || true
    local cli_image
    cli_image="vsc-ws-$(printf %s "$WS" | sha256sum | cut -d' ' -f1)"
    docker rmi -f "$cli_image-features" "$cli_image" >/dev/null 2>&1 || true
    docker rmi dev_container_feature_content_temp >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
bench_up_pair "$DEVGPU" "$CLI" "$WS" "$TMP" "$RUNS" "install the Features" "no container, Features installed before (warm cache)"
bench_up_report "$TMP" "image config with local Features" 0.05 "(b) no container, warm cache" 0.5
