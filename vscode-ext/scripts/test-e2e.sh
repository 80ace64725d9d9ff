#!/usr/bin/env bash
# End-to-end test of the extension in a real VS Code: code-server 4.139.1 (VS Code 1.139, Node 24 from npm),
# Debian's Chromium driven by playwright-core, the packaged .vsix installed, every DevGPU command run from the
# command palette against the real devgpu binary built from this repository, on a copy of test/fixtures/workspace.
#
#   vscode-ext/scripts/test-e2e.sh
#
# Needs: Debian's `chromium` (and `libkrb5-dev` the first time, to compile code-server), npm, and a devgpu binary:
# $DEVGPU_BIN, else the newer of target/release/devgpu and target/debug/devgpu (`cargo build --release`).
# Node 24 and code-server are installed once into $DEVGPU_TEST_CACHE/vscode-e2e (scripts/e2e-prereqs.sh).
#
# Everything the run writes stays in $DEVGPU_E2E_WORK (default vscode-ext/.work/e2e; emptied first): HOME and the
# XDG dirs, TMPDIR, code-server's user data and extensions, the browser profile, the workspace copy, and
# artifacts/ (final.png — the screenshot of the final state —, the DevGPU output channel, code-server's log).
set -euo pipefail
LOG_PREFIX=test-e2e
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
T0=$SECONDS

WORK=${DEVGPU_E2E_WORK:-$EXT_DIR/.work/e2e}
rm -rf "$WORK"
mkdir -p "$WORK/home" "$WORK/tmp" "$WORK/artifacts"
WORK="$(cd "$WORK" && pwd)"

# Prerequisites outside the repository.
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || die "Chromium not found at $CHROMIUM: apt-get install -y chromium   (or set CHROMIUM)"
eval "$("$EXT_DIR/scripts/e2e-prereqs.sh")"
[ -x "$NODE24_BIN" ] && [ -x "$CODE_SERVER_BIN" ] || die "e2e-prereqs.sh did not provide Node 24 and code-server"

# The devgpu under test.
if [ -z "${DEVGPU_BIN:-}" ]; then
    for c in "$REPO_DIR/target/release/devgpu" "$REPO_DIR/target/debug/devgpu"; do
        if [ -x "$c" ] && { [ -z "${DEVGPU_BIN:-}" ] || [ "$c" -nt "$DEVGPU_BIN" ]; }; then DEVGPU_BIN=$c; fi
    done
fi
[ -n "${DEVGPU_BIN:-}" ] && [ -x "$DEVGPU_BIN" ] || die "no devgpu binary: run \`cargo build --release\` in $REPO_DIR, or set DEVGPU_BIN"
DEVGPU_BIN="$(cd "$(dirname "$DEVGPU_BIN")" && pwd)/$(basename "$DEVGPU_BIN")"
log "devgpu under test: $DEVGPU_BIN ($("$DEVGPU_BIN" --version))"

# Build and package the extension (tsc also compiles src/core for the test's own cross-checks).
cd "$EXT_DIR"
ensure_node_modules
t0=$SECONDS
rm -rf out
node_modules/.bin/tsc -p .
VSIX="$WORK/devgpu-e2e.vsix"
node_modules/.bin/vsce package --no-yarn --no-dependencies --out "$VSIX" >"$WORK/artifacts/vsce.log" 2>&1 \
    || { cat "$WORK/artifacts/vsce.log" >&2; die "vsce package failed"; }
log "built and packaged the extension in $((SECONDS - t0)) s: $VSIX"

# Keep $HOME clean: everything the browser, code-server and the extension host write goes under $WORK.
REAL_HOME=$HOME
export HOME="$WORK/home"
export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share" XDG_CACHE_HOME="$HOME/.cache" XDG_STATE_HOME="$HOME/.local/state"
export TMPDIR="$WORK/tmp" NODE_COMPILE_CACHE="$WORK/home/node-compile-cache"
# devgpu may read the current docker context from the real ~/.docker.
if [ -z "${DOCKER_CONFIG:-}" ] && [ -d "$REAL_HOME/.docker" ]; then export DOCKER_CONFIG="$REAL_HOME/.docker"; fi

export E2E_WORK="$WORK" E2E_VSIX="$VSIX" E2E_FIXTURE="$EXT_DIR/test/fixtures/workspace"
export E2E_NODE24="$NODE24_BIN" E2E_CODE_SERVER="$CODE_SERVER_BIN" E2E_CHROMIUM="$CHROMIUM" DEVGPU_BIN
log "setup took $((SECONDS - T0)) s; running test/e2e/run.mjs"
t0=$SECONDS
status=0
node "$EXT_DIR/test/e2e/run.mjs" || status=$?
log "run.mjs took $((SECONDS - t0)) s (whole script $((SECONDS - T0)) s); artifacts in $WORK/artifacts"
exit $status
