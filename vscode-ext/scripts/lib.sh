# Sourced by the test scripts: paths, a cache outside the repository, npm without $HOME, installing node_modules.
# shellcheck shell=bash

EXT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$EXT_DIR/.." && pwd)"

log() { printf '%s: %s\n' "${LOG_PREFIX:-vscode-ext}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The cache for npm downloads, Node 24 and code-server: $DEVGPU_TEST_CACHE (CI: /var/cache/devgpu-test), else
# vscode-ext/.work/cache when that is not writable (a developer without root).
CACHE_ROOT=${DEVGPU_TEST_CACHE:-/var/cache/devgpu-test}
if ! mkdir -p "$CACHE_ROOT" 2>/dev/null || [ ! -w "$CACHE_ROOT" ]; then
    CACHE_ROOT="$EXT_DIR/.work/cache"
    mkdir -p "$CACHE_ROOT"
fi
export DEVGPU_TEST_CACHE="$CACHE_ROOT"
export npm_config_cache="$CACHE_ROOT/vscode-e2e/npm-cache"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# npm ci when node_modules is missing or older than package-lock.json (npm writes node_modules/.package-lock.json).
ensure_node_modules() {
    local stamp="$EXT_DIR/node_modules/.package-lock.json"
    if [ -f "$stamp" ] && [ ! "$EXT_DIR/package-lock.json" -nt "$stamp" ] && [ -x "$EXT_DIR/node_modules/.bin/tsc" ]; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || die "npm not found (Node >= 20 with npm is needed)"
    log "npm ci (vscode-ext)"
    local t0=$SECONDS
    (cd "$EXT_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
    log "npm ci took $((SECONDS - t0)) s"
}
