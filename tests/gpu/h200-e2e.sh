#!/usr/bin/env bash
# The GPU end-to-end test of devgpu's `inject` mode, on a real GPU machine without Docker, without
# nvidia-container-toolkit and without a registry (written for the H200 test machine; any Linux GPU host works).
#
#   tests/gpu/h200-e2e.sh bundle   on a Debian 12 dev machine: build .device/dk.tar.xz — dockerd, containerd,
#                                  containerd-shim-runc-v2, runc, docker-init (tini), docker-proxy and the two
#                                  libraries they need — from Debian's packages (`apt-get download` + `dpkg -x`;
#                                  about 36 MB; .device/ is git-ignored: never commit it)
#   tests/gpu/h200-e2e.sh run      on the GPU machine, from the repository root, with .device/dk.tar.xz and a
#                                  devgpu binary (.device/devgpu, else target/release/devgpu, else $DEVGPU)
#
# What `run` does, each step timed (OUT/timings.tsv) and logged (OUT/transcript.txt):
#   1. records the host's GPU facts (nvidia-smi -L, /dev/nvidia*, /proc/driver/nvidia/gpus, the driver root);
#   2. unpacks the Docker bundle and starts dockerd on a private socket (no bridge, no iptables);
#   3. makes a local image without a registry: the machine's own userland (tar of / without /proc, /sys, /opt,
#      the driver, CUDA, caches …) imported through the API (POST /images/create?fromSrc=-, a few lines of
#      Python over the unix socket: there is no docker CLI here);
#   4. `devgpu doctor` (which GPU mode works here) and `devgpu host cdi` (the CDI spec from this host's facts,
#      to OUT/cdi-spec.json, and written twice to a file: the second run changes nothing);
#   5. a fixture workspace whose devcontainer.json names that image and binds this machine's PyTorch read-only
#      (found by asking the Pythons on the machine which one imports torch), then `devgpu init --gpu-mode inject`
#      adds the GPU: device nodes, the driver root read-only at /usr/local/nvidia, LD_LIBRARY_PATH;
#   6. `devgpu up` (cold, then warm), `devgpu verify` — every GPU check must pass: nvidia-smi lists the GPU,
#      libcuda.so.1 resolves, torch.cuda.is_available() — and the postCreateCommand's own proof (nvidia-smi -L and a
#      matrix multiplication on the GPU, written into the workspace);
#   7. `devgpu down --remove`, dockerd stopped; OUT/summary.txt says PASS or FAIL.
#
# Environment: OUT (default ./e2e-out), WORK (default /tmp/devgpu-e2e), DEVGPU, DK_BUNDLE (default
# .device/dk.tar.xz), E2E_IMAGE (an image already in the daemon instead of importing the userland),
# DOCKER_HOST (a running daemon instead of the bundle's), E2E_REHEARSAL=1 (a machine without a GPU: fake device
# nodes and a fake driver root, via devgpu's hidden --dev-dir; checks the script itself, not the GPU).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cmd=${1:-run}

log() { printf '%s\n' "$*" | tee -a "$TRANSCRIPT" >&2; }
die() { log "FAIL: $*"; echo "FAIL: $*" >>"$OUT/summary.txt"; exit 1; }

# ---------------------------------------------------------------------------------------------------------
bundle() {
    local dest="$REPO/.device/dk.tar.xz"
    command -v apt-get >/dev/null && command -v dpkg >/dev/null || { echo "bundle: needs apt-get and dpkg (Debian/Ubuntu)" >&2; exit 1; }
    local tmp; tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    (
        cd "$tmp" || exit 1
        # Debian 12's Docker 20.10 and what it runs; the two shared libraries the GPU machine lacks.
        apt-get download docker.io containerd runc tini libdevmapper1.02.1 libseccomp2 >&2 || exit 1
        for d in ./*.deb; do dpkg -x "$d" x; done
        mkdir -p dk/bin dk/lib
        # Exact paths in Debian 12's packages (dpkg-deb -c): a name search can hit other files of that name
        # (runc ships a 31-byte lintian override called `runc`, and dockerd then fails "failed to find runc").
        for pair in usr/sbin/dockerd:dockerd usr/bin/containerd:containerd \
                    usr/bin/containerd-shim-runc-v2:containerd-shim-runc-v2 usr/sbin/runc:runc \
                    usr/sbin/docker-proxy:docker-proxy usr/bin/tini-static:docker-init; do
            src="x/${pair%%:*}" name="${pair##*:}"
            [ -f "$src" ] && [ ! -L "$src" ] || { echo "bundle: ${pair%%:*} not found in the packages" >&2; exit 1; }
            # An executable ELF, not a script, a link or a text file of the same name.
            [ -x "$src" ] && [ "$(head -c4 "$src" | od -An -c | tr -d ' ')" = '177ELF' ] \
                || { echo "bundle: ${pair%%:*} is not an executable ELF file" >&2; exit 1; }
            cp "$src" "dk/bin/$name"
        done
        cp -L "$(find x -name 'libdevmapper.so.1.02.1' | head -n1)" dk/lib/
        cp -L "$(find x -name 'libseccomp.so.2' | head -n1)" dk/lib/libseccomp.so.2
        strip dk/bin/* 2>/dev/null || true
        mkdir -p "$(dirname "$dest")"
        tar -cJf "$dest" dk
    ) || exit 1
    ls -l "$dest" >&2
}

# ---------------------------------------------------------------------------------------------------------
# The Docker API over a unix socket, in Python's standard library (no docker CLI, no curl needed): written to
# $WORK/dockerapi.py by `run`.
api() { python3 "$WORK/dockerapi.py" "$@"; }
write_api() {
    cat >"$WORK/dockerapi.py" <<'PY'
import http.client, json, socket, sys, urllib.parse

class Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=3600)
        self.unix_path = path
    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.unix_path)
        self.sock = s

sock, action = sys.argv[1], sys.argv[2]
c = Unix(sock)
if action == "ping":
    c.request("GET", "/_ping")
    r = c.getresponse()
    print(r.status, r.read().decode())
    sys.exit(0 if r.status == 200 else 1)
elif action == "version":
    c.request("GET", "/version")
    v = json.loads(c.getresponse().read())
    print(v.get("Version"), "API", v.get("ApiVersion"))
elif action == "import":
    # POST /images/create?fromSrc=- with the tar streamed from stdin (chunked): `docker import` without the CLI.
    repo, tag = sys.argv[3], sys.argv[4]
    def chunks():
        while True:
            b = sys.stdin.buffer.read(1 << 20)
            if not b:
                return
            yield b
    q = urllib.parse.urlencode({"fromSrc": "-", "repo": repo, "tag": tag, "changes": 'CMD ["/bin/bash"]'})
    c.request("POST", "/images/create?" + q, body=chunks(), headers={"Content-Type": "application/x-tar"}, encode_chunked=True)
    r = c.getresponse()
    out = r.read().decode()
    last = [json.loads(l) for l in out.splitlines() if l.strip()][-1:]
    print(r.status, json.dumps(last))
    sys.exit(0 if r.status == 200 and not any("error" in x for x in last) else 1)
elif action == "inspect-image":
    c.request("GET", "/images/%s/json" % urllib.parse.quote(sys.argv[3], safe=""))
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(1)
    v = json.loads(body)
    print(v["Id"], v["Size"])
PY
}

# A timed step: `step NAME command…` appends "NAME<TAB>seconds<TAB>exit code" to timings.tsv.
step() {
    local name=$1; shift
    log ""
    log "== $name: $*"
    local t0 t1 rc
    t0=$(date +%s.%N)
    "$@" 2>&1 | tee -a "$TRANSCRIPT"
    rc=${PIPESTATUS[0]}
    t1=$(date +%s.%N)
    local secs; secs=$(python3 -c "print(f'{$t1-$t0:.2f}')")
    printf '%s\t%s\t%s\n' "$name" "$secs" "$rc" >>"$OUT/timings.tsv"
    log "-- $name: exit $rc, ${secs} s"
    return "$rc"
}

# ---------------------------------------------------------------------------------------------------------
run() {
    OUT=${OUT:-$PWD/e2e-out}
    WORK=${WORK:-/tmp/devgpu-e2e}
    mkdir -p "$OUT"
    TRANSCRIPT="$OUT/transcript.txt"
    : >"$TRANSCRIPT"
    printf 'step\tseconds\texit\n' >"$OUT/timings.tsv"
    : >"$OUT/summary.txt"
    local T_START; T_START=$(date +%s.%N)

    local DEVGPU=${DEVGPU:-}
    for c in "$REPO/.device/devgpu" "$REPO/target/release/devgpu"; do
        [ -z "$DEVGPU" ] && [ -x "$c" ] && DEVGPU=$c
    done
    [ -n "$DEVGPU" ] || die "no devgpu binary: build it (cargo build --release) or set DEVGPU"
    local DK_BUNDLE=${DK_BUNDLE:-$REPO/.device/dk.tar.xz}
    # The driver's tools where GPU clouds put them (for devgpu's own nvidia-smi calls and the facts step).
    [ -d /usr/local/nvidia/bin ] && export PATH="$PATH:/usr/local/nvidia/bin"
    local REHEARSAL=${E2E_REHEARSAL:-0}
    local FAKE=()
    rm -rf "$WORK"
    mkdir -p "$WORK"
    write_api
    log "devgpu GPU end-to-end, $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname): $(uname -sr)"
    log "devgpu: $DEVGPU ($("$DEVGPU" --version))"

    # 1. The host's GPU facts.
    step facts sh -c 'nvidia-smi -L 2>&1 || /usr/local/nvidia/bin/nvidia-smi -L 2>&1; ls -l /dev/nvidia* 2>&1; for f in /proc/driver/nvidia/gpus/*/information; do echo "$f:"; cat "$f"; done 2>&1; cat /proc/driver/nvidia/version 2>&1; ls -la /usr/local/nvidia 2>&1; head -c 2048 /usr/local/nvidia/bin/nvidia-smi 2>/dev/null | tr -c "[:print:]" "\n" | grep -m2 -e "ld-linux" -e "/nix/" ; grep -E "^(PRETTY_NAME)" /etc/os-release'
    if [ "$REHEARSAL" = 1 ]; then
        # No GPU here: fake nodes (1:3, as /dev/null) and a fake driver root, passed with devgpu's hidden --dev-dir.
        mkdir -p "$WORK/fake/dev" "$WORK/fake/nvidia/lib64" "$WORK/fake/nvidia/bin"
        for n in nvidia0 nvidiactl nvidia-uvm nvidia-uvm-tools; do mknod "$WORK/fake/dev/$n" c 1 3; done
        for l in libcuda.so libnvidia-ml.so; do echo fake >"$WORK/fake/nvidia/lib64/$l.999.1.2"; ln -s "$l.999.1.2" "$WORK/fake/nvidia/lib64/$l.1"; done
        printf '#!/bin/sh\necho "GPU 0: NVIDIA Rehearsal (UUID: GPU-00000000-rehearsal)"\n' >"$WORK/fake/nvidia/bin/nvidia-smi"
        chmod +x "$WORK/fake/nvidia/bin/nvidia-smi"
        FAKE=(--dev-dir "$WORK/fake/dev" --driver-root "$WORK/fake/nvidia")
    fi

    # 2. Docker.
    local SOCK
    DOCKERD_PID=""
    if [ -n "${DOCKER_HOST:-}" ]; then
        SOCK=${DOCKER_HOST#unix://}
        log "using the running daemon at $DOCKER_HOST"
    else
        [ -f "$DK_BUNDLE" ] || die "$DK_BUNDLE is missing: build it on a Debian machine with \`$0 bundle\`"
        SOCK="$WORK/dk.sock"
        step unpack-docker tar -C "$WORK" -xJf "$DK_BUNDLE" || die "cannot unpack $DK_BUNDLE"
        log "starting dockerd (log: $OUT/dockerd.log)"
        local t0; t0=$(date +%s.%N)
        PATH="$WORK/dk/bin:$PATH" LD_LIBRARY_PATH="$WORK/dk/lib" setsid dockerd --iptables=false --bridge=none \
            --data-root "$WORK/dkdata" --exec-root /tmp/devgpu-e2e-exec --pidfile "$WORK/dockerd.pid" \
            --host "unix://$SOCK" >"$OUT/dockerd.log" 2>&1 </dev/null &
        DOCKERD_PID=$!
        for _ in $(seq 1 100); do api "$SOCK" ping >/dev/null 2>&1 && break; sleep 0.2; done
        api "$SOCK" ping >/dev/null 2>&1 || { tail -20 "$OUT/dockerd.log" >&2; die "dockerd did not answer"; }
        printf 'dockerd-ready\t%s\t0\n' "$(python3 -c "print(f'{$(date +%s.%N)-$t0:.2f}')")" >>"$OUT/timings.tsv"
        log "dockerd ready: $(api "$SOCK" version)"
        export DOCKER_HOST="unix://$SOCK"
    fi
    cleanup() {
        if [ -n "$DOCKERD_PID" ]; then
            kill "$DOCKERD_PID" 2>/dev/null
            for _ in $(seq 1 50); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
        fi
    }
    trap cleanup EXIT

    # 3. The image.
    local IMAGE=${E2E_IMAGE:-devgpu-e2e/userland:latest}
    if [ -z "${E2E_IMAGE:-}" ]; then
        # The machine's userland, as the recipe does it: one file system, without what the container gets
        # otherwise (the driver, bound by devgpu) or does not need. Directories stay (empty): /root is the
        # remote user's home, /tmp must be writable.
        step image-import sh -c "tar -C / --one-file-system --numeric-owner -cf - \
            --exclude=./proc --exclude=./sys --exclude=./dev --exclude='./tmp/*' --exclude='./run/*' \
            --exclude='./opt/*' --exclude=./usr/local/nvidia --exclude='./usr/local/cuda*' --exclude='./root/*' \
            --exclude='./var/lib/*' --exclude='./var/cache/*' --exclude='./var/log/*' --exclude=./usr/share \
            --exclude='./home/*' --exclude='./usr/lib/x86_64-linux-gnu/libcudnn*' --exclude='./usr/lib/x86_64-linux-gnu/libcublas*' \
            --exclude='./usr/lib/x86_64-linux-gnu/libnccl*' --exclude='./usr/lib/x86_64-linux-gnu/libcusparse*' \
            --exclude='./usr/lib/x86_64-linux-gnu/libcufft*' --exclude='./usr/lib/x86_64-linux-gnu/libcurand*' \
            --exclude='./usr/lib/x86_64-linux-gnu/libcusolver*' --exclude='./usr/lib/x86_64-linux-gnu/libnvinfer*' \
            --exclude='./swap*' --exclude='./lost+found' . 2>/dev/null | \
            python3 '$WORK/dockerapi.py' '$SOCK' import devgpu-e2e/userland latest" || die "the image import failed"
    fi
    step image-inspect api "$SOCK" inspect-image "$IMAGE" || die "no image $IMAGE"

    # 4. doctor and host cdi.
    step doctor "$DEVGPU" doctor "$WORK"
    "$DEVGPU" doctor "$WORK" --json >"$OUT/doctor.json" 2>/dev/null
    step host-cdi-stdout sh -c "\"$DEVGPU\" host cdi --output - ${FAKE[*]} > '$OUT/cdi-spec.json'" || die "devgpu host cdi failed"
    cat "$OUT/cdi-spec.json" >>"$TRANSCRIPT"
    step host-cdi-write "$DEVGPU" host cdi --output "$WORK/cdi/devgpu-nvidia.json" "${FAKE[@]}" || die "host cdi (write) failed"
    step host-cdi-again "$DEVGPU" host cdi --output "$WORK/cdi/devgpu-nvidia.json" "${FAKE[@]}" --json || die "host cdi (again) failed"

    # 5. The workspace: the userland image, this machine's PyTorch bound read-only, then init --gpu-mode inject.
    local WS="$WORK/ws"
    mkdir -p "$WS/.devcontainer"
    echo "torch" >"$WS/requirements.txt"
    local TORCH_JSON
    TORCH_JSON=$(python3 - <<'PY'
import json, os, subprocess
# Which Python on this machine imports torch: the venvs under /opt first, then the ones on PATH.
cands = []
for root in ["/opt/torch", "/opt"]:
    for dirpath, dirs, files in os.walk(root):
        if dirpath.count("/") > 4:
            dirs[:] = []
            continue
        if os.path.basename(dirpath) == "bin":
            for f in ("python3", "python"):
                if f in files:
                    cands.append(os.path.join(dirpath, f))
cands += ["python3", "python"]
probe = "import json, os, sys, torch; print(json.dumps({'exe': sys.executable, 'real': os.path.realpath(sys.executable), 'prefix': sys.prefix, 'base': sys.base_prefix, 'torch': os.path.dirname(os.path.dirname(torch.__file__)), 'version': torch.__version__}))"
for c in cands:
    try:
        out = subprocess.run([c, "-c", probe], capture_output=True, text=True, timeout=120)
    except Exception:
        continue
    if out.returncode == 0 and out.stdout.strip():
        print(out.stdout.strip().splitlines()[-1])
        break
else:
    print("{}")
PY
)
    log "PyTorch on this machine: $TORCH_JSON"
    python3 - "$WS/.devcontainer/devcontainer.json" "$IMAGE" "$TORCH_JSON" <<'PY'
import json, os, sys
path, image, torch = sys.argv[1], sys.argv[2], json.loads(sys.argv[3] or "{}")
mounts, env = [], {}
path_dirs = ["/usr/local/nvidia/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
in_image = lambda p: not (p.startswith("/opt/") or p.startswith("/root/") or p.startswith("/home/") or p.startswith("/usr/local/cuda") or p.startswith("/usr/share/"))
if torch:
    # Bind what the image lacks, read-only: the venv (sys.prefix), its interpreter's prefix, torch's site dir.
    need = []
    for p in (torch["prefix"], torch["base"], os.path.dirname(os.path.dirname(torch["real"])), torch["torch"]):
        if p and not in_image(p):
            top = p if p.startswith("/root/") or p.startswith("/home/") else "/".join(p.split("/")[:3])
            if not any(top == n or top.startswith(n + "/") for n in need):
                need = [n for n in need if not n.startswith(top + "/")] + [top]
    mounts = ["source=%s,target=%s,type=bind,readonly" % (n, n) for n in need]
    if torch["prefix"] != torch["base"]:
        path_dirs.insert(0, os.path.join(torch["prefix"], "bin"))
    else:
        path_dirs.insert(0, os.path.dirname(torch["exe"]))
        env["PYTHONPATH"] = torch["torch"]
env["PATH"] = ":".join(path_dirs)
config = {
    "name": "devgpu GPU e2e",
    "image": image,
    "runArgs": ["--network", "none"],
    "mounts": mounts,
    "containerEnv": env,
    # The container's own proof, written into the (bound) workspace.
    "postCreateCommand": "nvidia-smi -L > .e2e-nvidia-smi.txt 2>&1; python3 -c \"import torch, time; t=time.time(); x=torch.randn(8192, 8192, device='cuda'); y=(x@x).sum().item(); torch.cuda.synchronize(); print(torch.__version__, torch.cuda.get_device_name(0), 'matmul 8192^2 ok', round(time.time()-t, 3), 's')\" > .e2e-torch.txt 2>&1 || true",
}
open(path, "w").write(json.dumps(config, indent=2) + "\n")
PY
    cat "$WS/.devcontainer/devcontainer.json" | tee -a "$TRANSCRIPT" >/dev/null
    step init-inject "$DEVGPU" init "$WS" --gpu-mode inject "${FAKE[@]}" || die "devgpu init --gpu-mode inject failed"
    step init-again "$DEVGPU" init "$WS" --gpu-mode inject "${FAKE[@]}" || die "devgpu init (again) failed"
    cp "$WS/.devcontainer/devcontainer.json" "$OUT/devcontainer.json"
    cat "$OUT/devcontainer.json" >>"$TRANSCRIPT"

    # 6. up, up again, verify.
    step up-cold "$DEVGPU" up "$WS" || die "devgpu up failed"
    step up-warm "$DEVGPU" up "$WS" || die "devgpu up (warm) failed"
    step verify sh -c "\"$DEVGPU\" verify '$WS' --json > '$OUT/verify.json'; rc=\$?; python3 -c \"import json,sys; d=json.load(open('$OUT/verify.json')); [print(('✓' if c['status']=='pass' else '-' if c['status']=='skip' else '!' if c['status']=='warn' else '✗'), c['id'], c['summary']) for c in d.get('data',{}).get('checks',[])]; print(d.get('error',''))\"; exit \$rc"
    local VERIFY_RC; VERIFY_RC=$(awk -F'\t' '$1=="verify"{print $3}' "$OUT/timings.tsv")
    log ""
    log "== inside the container (postCreateCommand):"
    cat "$WS/.e2e-nvidia-smi.txt" "$WS/.e2e-torch.txt" 2>&1 | tee -a "$TRANSCRIPT" "$OUT/container-proof.txt" >&2

    # 7. down.
    step down "$DEVGPU" down "$WS" --remove
    local total; total=$(python3 -c "print(f'{$(date +%s.%N)-$T_START:.1f}')")
    printf 'total\t%s\t0\n' "$total" >>"$OUT/timings.tsv"

    # The verdict: every GPU check passes (in a rehearsal, without torch).
    local verdict
    verdict=$(python3 - "$OUT/verify.json" "$REHEARSAL" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
checks = {c["id"]: c for c in d.get("data", {}).get("checks", [])}
need = ["gpu.visible", "gpu.device-nodes", "gpu.libcuda"] + ([] if sys.argv[2] == "1" else ["framework.torch"])
bad = [f"{i}: {checks[i]['status'] if i in checks else 'missing'} {checks.get(i, {}).get('summary', '')}" for i in need if checks.get(i, {}).get("status") != "pass"]
print("PASS" if not bad else "FAIL " + "; ".join(bad))
PY
)
    log ""
    log "== timings (s)"
    column -t -s $'\t' "$OUT/timings.tsv" 2>/dev/null | tee -a "$TRANSCRIPT" >&2 || cat "$OUT/timings.tsv" >&2
    log ""
    log "verify exit $VERIFY_RC; GPU checks: $verdict; total ${total} s"
    echo "$verdict (verify exit $VERIFY_RC, total ${total} s)" >"$OUT/summary.txt"
    [[ "$verdict" == PASS* ]]
}

case "$cmd" in
    bundle) bundle ;;
    run) run ;;
    *) echo "usage: $0 bundle|run" >&2; exit 2 ;;
esac
