#!/usr/bin/env bash
# Build the local stand-in base images the Docker tests need, because no registry is reachable on CI:
#
#   devgpu-test/standin:bookworm  Debian bookworm rootfs (debootstrap minbase + python3, venv, pip), imported
#                                 with `docker import`. Tests `docker tag` it as whatever `nvidia/cuda:…` name a
#                                 generated Dockerfile's FROM asks for (tests/common/docker.rs `tag_standin_as`),
#                                 so FROM resolves without a pull. It is NOT CUDA; it only carries the name.
#   devgpu-test/standin-devel:bookworm
#                                 The stand-in + g++ and python3-dev: what a `nvidia/cuda:…-devel-…` image has for
#                                 building C/C++ extensions (no nvcc). Tests tag it as the devel name a CUDA-extension
#                                 project's Dockerfile asks for. Cached with `docker save` (DEVEL_TAR below).
#   devgpu-test/busybox:latest    FROM scratch + Debian's static busybox: the glibc-less negative case
#                                 (VS Code's server cannot attach to it).
#
# Idempotent: an image that already exists is left alone; the rootfs tarball is cached (DEVGPU_TEST_CACHE,
# default /var/cache/devgpu-test) so re-creating the image after `docker rmi` takes seconds, not a minute.
# Needs root (debootstrap), debootstrap, busybox-static and a running Docker daemon.
#
# Environment:
#   DEVGPU_TEST_CACHE           cache directory (default /var/cache/devgpu-test)
#   DEVGPU_TEST_DEBIAN_MIRROR   Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   DEVGPU_TEST_REBUILD=1       rebuild both images (and the rootfs tarball) even if present
set -euo pipefail

STANDIN_IMAGE=devgpu-test/standin:bookworm
BUSYBOX_IMAGE=devgpu-test/busybox:latest
DEVEL_IMAGE=devgpu-test/standin-devel:bookworm
CACHE_DIR=${DEVGPU_TEST_CACHE:-/var/cache/devgpu-test}
MIRROR=${DEVGPU_TEST_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
# The packages the stand-in carries. Bump ROOTFS_REV when this list or the stripping below changes,
# so a cached tarball from the old recipe is not reused.
INCLUDE=python3,python3-venv,python3-pip
ROOTFS_REV=1
ROOTFS_TAR="$CACHE_DIR/standin-$SUITE-rev$ROOTFS_REV.tar"
# The devel layer's packages; bump DEVEL_REV when they change.
DEVEL_PACKAGES="g++ python3-dev"
DEVEL_REV=1
DEVEL_TAR="$CACHE_DIR/standin-devel-$SUITE-rootfs$ROOTFS_REV-rev$DEVEL_REV.tar"

log() { printf 'standin-images: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found; $2"; }

build_rootfs_tar() {
    need debootstrap "install it: apt-get install -y debootstrap"
    [ "$(id -u)" = 0 ] || die "debootstrap needs root"
    mkdir -p "$CACHE_DIR"
    local dir
    dir=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" EXIT
    log "debootstrap --variant=minbase --include=$INCLUDE $SUITE ($MIRROR); about a minute"
    if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$dir" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1; then
        tail -n 40 "$CACHE_DIR/debootstrap.log" >&2 || true
        die "debootstrap failed (full log: $CACHE_DIR/debootstrap.log)"
    fi
    # Like the real base images: no apt lists or caches baked in (the generated Dockerfile runs apt-get update).
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
    mkdir -p "$dir/var/lib/apt/lists/partial"
    # Write to a temporary name and rename, so an interrupted run never leaves a truncated tarball in the cache.
    tar --numeric-owner -C "$dir" -cf "$ROOTFS_TAR.partial" .
    mv -f "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
    rm -rf "$dir"
    trap - EXIT
    log "cached $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1))"
}

build_standin() {
    if [ "${DEVGPU_TEST_REBUILD:-}" = 1 ]; then
        rm -f "$ROOTFS_TAR"
    elif image_exists "$STANDIN_IMAGE"; then
        log "$STANDIN_IMAGE present"
        return
    fi
    [ -s "$ROOTFS_TAR" ] || build_rootfs_tar
    log "docker import $STANDIN_IMAGE"
    docker import \
        -c 'CMD ["/bin/bash"]' \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'LABEL devgpu-test.standin=debian-bookworm' \
        -m "devgpu test stand-in: Debian $SUITE minbase + $INCLUDE (not CUDA)" \
        "$ROOTFS_TAR" "$STANDIN_IMAGE" >/dev/null
}

build_busybox() {
    if [ "${DEVGPU_TEST_REBUILD:-}" != 1 ] && image_exists "$BUSYBOX_IMAGE"; then
        log "$BUSYBOX_IMAGE present"
        return
    fi
    local busybox=/bin/busybox
    [ -x "$busybox" ] || die "$busybox missing: apt-get install -y busybox-static"
    # Debian's plain `busybox` package is dynamically linked; in FROM scratch it would not even start.
    if command -v ldd >/dev/null && ldd "$busybox" >/dev/null 2>&1; then
        die "$busybox is dynamically linked; install busybox-static"
    fi
    local ctx
    ctx=$(mktemp -d)
    cp "$busybox" "$ctx/busybox"
    cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
LABEL devgpu-test.standin=busybox-static
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
DOCKERFILE
    log "docker build $BUSYBOX_IMAGE"
    # Classic builder on purpose: it is what Debian's Docker 20.10 has, and BuildKit is not needed here.
    DOCKER_BUILDKIT=0 docker build -q -t "$BUSYBOX_IMAGE" "$ctx" >/dev/null 2>"$ctx/build.err" || {
        cat "$ctx/build.err" >&2; rm -rf "$ctx"; die "building $BUSYBOX_IMAGE failed"; }
    rm -rf "$ctx"
}

build_devel() {
    if [ "${DEVGPU_TEST_REBUILD:-}" = 1 ]; then
        rm -f "$DEVEL_TAR"
    elif image_exists "$DEVEL_IMAGE"; then
        log "$DEVEL_IMAGE present"
        return
    fi
    if [ -s "$DEVEL_TAR" ]; then
        log "docker load $DEVEL_IMAGE from $DEVEL_TAR"
        docker load -q -i "$DEVEL_TAR" >/dev/null
        return
    fi
    local ctx
    ctx=$(mktemp -d)
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $STANDIN_IMAGE
LABEL devgpu-test.standin=debian-bookworm-devel
RUN apt-get update \\
 && apt-get install -y --no-install-recommends $DEVEL_PACKAGES \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
DOCKERFILE
    log "docker build $DEVEL_IMAGE ($DEVEL_PACKAGES)"
    DOCKER_BUILDKIT=0 docker build -q -t "$DEVEL_IMAGE" "$ctx" >/dev/null 2>"$ctx/build.err" || {
        cat "$ctx/build.err" >&2; rm -rf "$ctx"; die "building $DEVEL_IMAGE failed"; }
    rm -rf "$ctx"
    mkdir -p "$CACHE_DIR"
    docker save -o "$DEVEL_TAR.partial" "$DEVEL_IMAGE" && mv -f "$DEVEL_TAR.partial" "$DEVEL_TAR"
    log "cached $DEVEL_TAR ($(du -h "$DEVEL_TAR" | cut -f1))"
}

need docker "install it: apt-get install -y docker.io"
docker version >/dev/null 2>&1 || die "the Docker daemon is not answering (docker version failed)"
build_standin
build_devel
build_busybox
log "ready: $STANDIN_IMAGE, $DEVEL_IMAGE, $BUSYBOX_IMAGE"
