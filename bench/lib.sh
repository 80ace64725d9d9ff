# bench/lib.sh — what the bench scripts share; sourced (`. "$(dirname "$0")/lib.sh"`), never run.
# Each script keeps its own options; these are the parts that were copied from script to script.

# The script's header comment, as its --help: the lines from 2 up to `set -euo …`.
bench_help() { # script path
    sed -n '2,/^set -euo/p' "$1" | sed '$d; s/^# \{0,1\}//'
}

# The absolute path of the devgpu binary to time: BIN when given, else the release build in the target dir
# (CARGO_TARGET_DIR honoured), built first when BUILD is 1. Exits 2 with a message naming the script otherwise.
# Run it from the repository root. cargo's output goes to stderr: the path is the only thing on stdout.
bench_binary() { # script name, BIN (may be empty), BUILD (1 or 0)
    local name=$1 bin=$2 build=$3
    if [ -z "$bin" ]; then
        bin="${CARGO_TARGET_DIR:-target}/release/devgpu"
        if [ "$build" = 1 ]; then
            echo "== building devgpu (release)" >&2
            cargo build --release --quiet >&2
        fi
    fi
    [ -x "$bin" ] || { echo "$name: $bin is not an executable (build it, or pass --bin)" >&2; exit 2; }
    echo "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
}

# Milliseconds since T0 (a `date +%s%N` value).
ms_since() { # t0
    echo $(( ($(date +%s%N) - $1) / 1000000 ))
}

# The median of the integers on stdin (the mean of the two middle ones, truncated, for an even count).
median() {
    sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'
}

# The median of the nanosecond counts on stdin, in milliseconds with one decimal.
median_ns_as_ms() {
    sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1e6}'
}

# Prints the duration of each of RUNS runs of a shell command in ns, after WARMUP untimed ones (the loop used
# where hyperfine is not installed).
time_ns() { # command, runs, warm-ups
    local i s e
    for i in $(seq "$3"); do bash -c "$1"; done
    for i in $(seq "$2"); do
        s=$(date +%s%N); bash -c "$1"; e=$(date +%s%N); echo $((e - s))
    done
}

# The containers the Dev Containers labels tie to the workspace WS, removed with their anonymous volumes.
bench_rm_containers() { # ws
    local ids
    ids=$(docker ps -aq --filter "label=devcontainer.local_folder=$1")
    [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
}

# `devgpu up` against the official CLI's `devcontainer up` on the workspace WS, side by side in hyperfine:
# (a) the container running; (b) no container (removed before each run), whatever both built once kept.
# Writes TMP/a.json and TMP/b.json; bench_up_report reads them.
bench_up_pair() { # devgpu, cli, ws, tmp, runs, what the preparation builds, the name of case (b)
    local devgpu=$1 cli=$2 ws=$3 tmp=$4 runs=$5
    echo "== preparing: both tools $6 once" >&2
    "$devgpu" up "$ws" -q
    bench_rm_containers "$ws"
    "$cli" up --workspace-folder "$ws" >/dev/null 2>&1
    bench_rm_containers "$ws"
    "$devgpu" up "$ws" -q

    echo "== (a) container running" >&2
    hyperfine --runs "$runs" --warmup 2 --export-json "$tmp/a.json" --style basic \
        -n "devgpu up" "$devgpu up $ws -q" \
        -n "devcontainer up" "$cli up --workspace-folder $ws" >&2

    echo "== (b) $7" >&2
    # hyperfine's --prepare runs through sh, which drops exported bash functions: a script file instead.
    printf '#!/bin/sh\nids=$(docker ps -aq --filter "label=devcontainer.local_folder=%s")\n[ -z "$ids" ] || docker rm -f -v $ids >/dev/null\n' "$ws" > "$tmp/rm-containers.sh"
    chmod +x "$tmp/rm-containers.sh"
    hyperfine --runs "$runs" --warmup 1 --export-json "$tmp/b.json" --style basic --prepare "$tmp/rm-containers.sh" \
        -n "devgpu up" "$devgpu up $ws -q" \
        -n "devcontainer up" "$cli up --workspace-folder $ws" >&2
}

# bench_up_pair's medians and ratios, each against its target.
bench_up_report() { # tmp, title, target (a), name of case (b), target (b)
    python3 - "$@" <<'PY'
import json, sys
tmp, title, target_a, name_b, target_b = sys.argv[1:6]
def med(f):
    return {r["command"]: r["median"] for r in json.load(open(f"{tmp}/{f}"))["results"]}
print(f"devgpu up vs devcontainer up ({title}), medians:")
for name, m, target in (("(a) container running", med("a.json"), float(target_a)), (name_b, med("b.json"), float(target_b))):
    d, c = m["devgpu up"], m["devcontainer up"]
    ok = "meets" if d / c <= target else "MISSES"
    print(f"  {name:32} devgpu {d*1000:7.1f} ms   devcontainer {c*1000:7.1f} ms   ratio {d/c:.3f} ({ok} ≤ {target:g}×)")
PY
}
