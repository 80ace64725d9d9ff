#!/usr/bin/env bash
# `devgpu up` over ssh:// against the official Dev Containers CLI's `devcontainer up` with DOCKER_HOST set to the
# same ssh:// host, side by side (hyperfine), the container already running — the laptop → GPU server case.
# Prints both medians and the ratio, and for reference `devgpu up` over the local socket.
#
# The "server" is this machine: a real sshd on 127.0.0.1 (its own port, a host key and a client key generated here,
# never the system's) in front of the local dockerd. ssh reads the client's ~/.ssh from the passwd database, so the
# client side runs as a throwaway user (useradd -m) whose ~/.ssh holds the key, the known_hosts line and
# `BatchMode yes`. Both tools go through that user's ssh the same way.
#
# Needs: root, openssh-server (sshd), a Docker daemon, the stand-in image devgpu-test/standin:bookworm
# (tests/tools/standin-images.sh), the CLI in tests/tools (npm ci --prefix tests/tools), hyperfine.
# Uses a release build of devgpu (DEVGPU=/path/to/devgpu to use another build). Everything created is removed at
# the end (sshd by PID, the user, containers).
#
#   bench/remote.sh [--runs N]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
RUNS=15
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        *) echo "usage: bench/remote.sh [--runs N]" >&2; exit 2 ;;
    esac
done

CLI="$REPO/tests/tools/node_modules/.bin/devcontainer"
STANDIN=devgpu-test/standin:bookworm
[ "$(id -u)" = 0 ] || { echo "run as root (starts sshd, adds a user)" >&2; exit 1; }
[ -x /usr/sbin/sshd ] || { echo "sshd is missing: apt-get install openssh-server" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }
[ -x "$CLI" ] || { echo "the Dev Containers CLI is missing: npm ci --prefix tests/tools" >&2; exit 1; }
docker image inspect "$STANDIN" >/dev/null 2>&1 || { echo "$STANDIN is missing: tests/tools/standin-images.sh" >&2; exit 1; }

DEVGPU=$(bench_binary remote.sh "${DEVGPU:-}" 1)

TMP=$(mktemp -d /tmp/devgpu-bench-remote.XXXXXX)
chmod 755 "$TMP"
BUSER="dgbench$$"
SSHD_PID=
cleanup() {
    [ -z "$SSHD_PID" ] || kill "$SSHD_PID" 2>/dev/null || true
    bench_rm_containers "/home/$BUSER/ws" 2>/dev/null || true
    docker rmi -f "vsc-ws-$(printf %s "/home/$BUSER/ws" | sha256sum | cut -d' ' -f1)" >/dev/null 2>&1 || true
    id "$BUSER" >/dev/null 2>&1 && userdel -r "$BUSER" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

echo "== sshd on 127.0.0.1 and the client user $BUSER" >&2
ssh-keygen -q -t ed25519 -N '' -f "$TMP/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/client_key"
cp "$TMP/client_key.pub" "$TMP/authorized_keys"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$TMP/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $TMP/host_key
AuthorizedKeysFile $TMP/authorized_keys
PidFile none
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
EOF
mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$TMP/sshd_config" 2>"$TMP/sshd.log" &
SSHD_PID=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done

useradd -m -s /bin/sh -p '*' "$BUSER"
H="/home/$BUSER"
install -d -m 700 -o "$BUSER" "$H/.ssh"
install -m 600 -o "$BUSER" "$TMP/client_key" "$H/.ssh/id_ed25519"
echo "[127.0.0.1]:$PORT $(cat "$TMP/host_key.pub")" > "$H/.ssh/known_hosts"
printf 'Host *\n  BatchMode yes\n  StrictHostKeyChecking yes\n  IdentitiesOnly yes\n' > "$H/.ssh/config"
chown "$BUSER" "$H/.ssh/known_hosts" "$H/.ssh/config"
install -m 755 "$DEVGPU" "$H/devgpu"
WS="$H/ws"
mkdir -p "$WS/.devcontainer"
cat > "$WS/.devcontainer/devcontainer.json" <<EOF
{ "name": "bench", "image": "$STANDIN", "runArgs": ["--network", "none", "--shm-size", "1g"] }
EOF
echo "print('hello')" > "$WS/app.py"
chown -R "$BUSER" "$WS"
URL="ssh://root@127.0.0.1:$PORT"
AS_USER="runuser -u $BUSER -- env -i HOME=$H PATH=$PATH DOCKER_HOST=$URL"

echo "== preparing: the container, started by devgpu over ssh (the CLI reuses it)" >&2
$AS_USER "$H/devgpu" up "$WS" -q
$AS_USER "$CLI" up --workspace-folder "$WS" >/dev/null 2>&1

echo "== container running: devgpu up vs devcontainer up, both over $URL" >&2
hyperfine --runs "$RUNS" --warmup 2 --export-json "$TMP/ssh.json" --style basic \
    -n "devgpu up (ssh)" "$AS_USER $H/devgpu up $WS -q" \
    -n "devcontainer up (ssh)" "$AS_USER $CLI up --workspace-folder $WS" >&2

echo "== for reference: devgpu up over the local socket (root)" >&2
hyperfine --runs "$RUNS" --warmup 2 --export-json "$TMP/local.json" --style basic \
    -n "devgpu up (local socket)" "env -u DOCKER_HOST $DEVGPU up $WS -q" >&2

python3 - "$TMP" <<'EOF'
import json, sys
tmp = sys.argv[1]
def med(f):
    return {r["command"]: r["median"] for r in json.load(open(f"{tmp}/{f}"))["results"]}
s, l = med("ssh.json"), med("local.json")
d, c = s["devgpu up (ssh)"], s["devcontainer up (ssh)"]
print("container running, DOCKER_HOST=ssh://root@127.0.0.1:PORT, medians:")
print(f"  devgpu up        {d*1000:8.1f} ms")
print(f"  devcontainer up  {c*1000:8.1f} ms")
print(f"  ratio            {d/c:8.3f}  (devgpu / devcontainer)")
print(f"  devgpu up over the local socket: {l['devgpu up (local socket)']*1000:.1f} ms")
EOF
