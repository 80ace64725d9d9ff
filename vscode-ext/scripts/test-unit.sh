#!/usr/bin/env bash
# Unit tests of the extension's plain-TypeScript core (the CLI bridge: parsing, error mapping, cancellation,
# version check, status bar text, init choices) against the fake devgpu in test/fake-devgpu. No VS Code needed.
#
#   vscode-ext/scripts/test-unit.sh      (from anywhere; installs node_modules with `npm ci` if missing)
#
# Type-checks everything (src/ and test/unit/) with tsc into out/, then runs Node's test runner on out/test/unit.
set -euo pipefail
LOG_PREFIX=test-unit
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$EXT_DIR"
ensure_node_modules

work="$EXT_DIR/.work/unit"
rm -rf "$work" out
mkdir -p "$work"
# Temp dirs of the tests go here, not to the system's /tmp.
export TMPDIR="$work"

t0=$SECONDS
node_modules/.bin/tsc -p .
log "tsc took $((SECONDS - t0)) s"
t0=$SECONDS
node --test --test-reporter=spec out/test/unit/
log "tests took $((SECONDS - t0)) s"
rm -rf "$work"
