#!/usr/bin/env bash
# bench/init-walk.sh — how fast is `devgpu init`'s repository scan, and do decoys stay out of it?
#
# Usage (from anywhere; paths are relative to the repository root):
#   bench/init-walk.sh [--files N] [--runs R] [--max-ratio X] [--no-build] [--regen] [--no-hyperfine]
#
#   --files N       files in the generated tree (default 100000)
#   --runs R        timed runs of each command (default 10; 2 warm-up runs first)
#   --max-ratio X   fail when median(devgpu) / median(find) exceeds X (default 1.5)
#   --no-build      use the existing target/release/devgpu instead of `cargo build --release`
#   --regen         regenerate the trees even when they exist with the same parameters
#   --no-hyperfine  time with the `date +%s%N` loop even when hyperfine is installed
#
# What it does:
#   1. bench/gen-tree.py writes .bench/tree (N files: src/, tests/, docs/, data/, examples/ with their own
#      requirements, plus the decoys: .git, node_modules, .venv and a venv under another name with
#      site-packages full of requirements.txt / pyproject.toml / setup.py with CUDAExtension / .cu /
#      notebooks, a conda env, build/, __pycache__, *.egg-info, .ipynb_checkpoints) and
#      .bench/nodecoys/tree (the same tree without the decoy folders). .bench/ is gitignored.
#   2. Times `find .bench/tree -type f > /dev/null` and
#      `target/release/devgpu init .bench/tree --dry-run --json > /dev/null` side by side (hyperfine when
#      installed — `apt-get install hyperfine` — else a loop with `date +%s%N`), prints both medians and
#      the ratio devgpu/find, and fails when the ratio is above --max-ratio.
#   3. Runs `devgpu init … --dry-run --json` on both trees and fails loudly unless `data.stack` and
#      `data.project` are identical: a decoy must never change the result.
#
# Exit status: 0 when both checks pass, 1 when one fails, 2 on a usage or setup error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FILES=100000
RUNS=10
MAX_RATIO=1.5
BUILD=1
REGEN=0
HYPERFINE=1
while [ $# -gt 0 ]; do
    case "$1" in
        --files) FILES="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --max-ratio) MAX_RATIO="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --regen) REGEN=1; shift ;;
        --no-hyperfine) HYPERFINE=0; shift ;;
        -h|--help) bench_help "$0"; exit 0 ;;
        *) echo "init-walk.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
TREE=.bench/tree
CLEAN=.bench/nodecoys/tree   # same base name, so data.project.name matches

# 1. trees (regenerated only when the parameters change)
STAMP="files=$FILES gen=$(cksum < bench/gen-tree.py | cut -d' ' -f1)"
if [ "$REGEN" = 1 ] || [ ! -d "$TREE" ] || [ "$(cat .bench/tree.stamp 2>/dev/null)" != "$STAMP" ]; then
    mkdir -p .bench/nodecoys
    python3 bench/gen-tree.py --out "$TREE" --files "$FILES"
    python3 bench/gen-tree.py --out "$CLEAN" --files "$FILES" --no-decoys
    echo "$STAMP" > .bench/tree.stamp
fi

DEVGPU=$(bench_binary init-walk.sh "" "$BUILD")

FIND_CMD="find $TREE -type f > /dev/null"
INIT_CMD="$DEVGPU init $TREE --dry-run --json > /dev/null 2>&1"

# 2. timing
if [ "$HYPERFINE" = 1 ] && command -v hyperfine > /dev/null; then
    JSON=$(mktemp)
    trap 'rm -f "$JSON"' EXIT
    hyperfine --style basic --warmup 2 --runs "$RUNS" --export-json "$JSON" \
        -n find "$FIND_CMD" -n "devgpu init" "$INIT_CMD" >&2
    read -r FIND_MS INIT_MS < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(" ".join("%.1f" % (x["median"] * 1000) for x in r))' "$JSON")
else
    FIND_MS=$(time_ns "$FIND_CMD" "$RUNS" 2 | median_ns_as_ms)
    INIT_MS=$(time_ns "$INIT_CMD" "$RUNS" 2 | median_ns_as_ms)
fi
RATIO=$(awk -v a="$INIT_MS" -v b="$FIND_MS" 'BEGIN {printf "%.2f", a / b}')
FILES_FOUND=$(find "$TREE" -type f | wc -l)
echo
echo "tree:                 $TREE ($FILES_FOUND files)"
echo "find -type f median:  ${FIND_MS} ms"
echo "devgpu init median:   ${INIT_MS} ms   (--dry-run --json)"
echo "ratio devgpu/find:    ${RATIO}   (limit ${MAX_RATIO})"

STATUS=0
if awk -v r="$RATIO" -v m="$MAX_RATIO" 'BEGIN {exit !(r > m)}'; then
    echo "FAIL: devgpu init is ${RATIO}x find (more than ${MAX_RATIO}x)" >&2
    STATUS=1
fi

# 3. decoys must not change the result
OUT_A=$(mktemp); OUT_B=$(mktemp)
trap 'rm -f "${JSON:-}" "$OUT_A" "$OUT_B"' EXIT
"$DEVGPU" init "$TREE" --dry-run --json > "$OUT_A" 2> /dev/null || true
"$DEVGPU" init "$CLEAN" --dry-run --json > "$OUT_B" 2> /dev/null || true
if python3 - "$OUT_A" "$OUT_B" <<'PY'
import json, sys

def load(path):
    try:
        doc = json.load(open(path))
    except ValueError as e:
        sys.exit(f"FAIL: {path}: devgpu init did not print one JSON object ({e})")
    if doc.get("outcome") != "success":
        sys.exit(f"FAIL: devgpu init failed: {json.dumps(doc.get('error'))}")
    return doc["data"]

a, b = load(sys.argv[1]), load(sys.argv[2])
bad = False
for key in ("stack", "project"):
    if a.get(key) != b.get(key):
        bad = True
        print(f"FAIL: data.{key} differs between the tree with decoys and without:", file=sys.stderr)
        ka, kb = a.get(key) or {}, b.get(key) or {}
        for k in sorted(set(ka) | set(kb)):
            if ka.get(k) != kb.get(k):
                print(f"  {key}.{k}:\n    with decoys:    {json.dumps(ka.get(k))[:400]}\n    without:        {json.dumps(kb.get(k))[:400]}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
then
    echo "decoys:               ignored (data.stack and data.project identical with and without them)"
else
    STATUS=1
fi
exit $STATUS
