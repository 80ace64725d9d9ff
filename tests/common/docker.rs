//! Helpers for tests that build and run the generated files against a real Docker daemon (DESIGN.md §4).
//!
//! The test machines have no registry, so nothing is ever pulled:
//! - base images are local stand-ins made by `tests/tools/standin-images.sh` (`.ci/run` runs it), and
//!   [`tag_standin_as`] gives the Debian stand-in whatever `nvidia/cuda:…` name a generated `FROM` asks for;
//! - Python dependencies come from a [`Wheelhouse`]: wheels `pip download`ed on the host (PyPI is reachable
//!   there, but HTTPS fails inside containers) and served on loopback by [`WheelhouseServer`]. The generated
//!   Dockerfile's `ARG PIP_NO_INDEX` / `ARG PIP_FIND_LINKS` pass-through points pip at it, so the real
//!   `pip install` line runs, offline.
//!
//! Builds use the docker CLI with the classic builder (`DOCKER_BUILDKIT=0`), which is what Debian's Docker
//! 20.10 has and what Dev Containers falls back to without buildx, and with `--network host` so that build
//! steps reach the loopback wheelhouse and Debian's plain-HTTP mirror. Containers run with `--network none`.
//!
//! Everything a test creates carries the label [`TEST_LABEL`] and a unique tag and is removed on `Drop`
//! (set `DEVGPU_TEST_KEEP_IMAGES=1` to keep images for debugging).
#![allow(dead_code)] // each test binary compiles this module and uses a different part of it

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::tools::{describe, manifest_dir, missing_prerequisite};

/// The Debian bookworm stand-in (glibc, python3, venv, pip) built by tests/tools/standin-images.sh. Not CUDA.
pub const STANDIN_IMAGE: &str = "devgpu-test/standin:bookworm";
/// The stand-in + g++ and python3-dev (tests/tools/standin-images.sh): what a `…-devel-…` CUDA image offers for
/// building C/C++ extensions (no nvcc).
pub const STANDIN_DEVEL_IMAGE: &str = "devgpu-test/standin-devel:bookworm";
/// `FROM scratch` + static busybox: no glibc, the negative case for "VS Code can attach".
pub const BUSYBOX_IMAGE: &str = "devgpu-test/busybox:latest";
/// The label on images the stand-in script makes (value: what it stands in for).
pub const STANDIN_LABEL: &str = "devgpu-test.standin";
/// The label on every image and container a test creates, so leftovers of a crashed run can be found:
/// `docker ps -a --filter label=devgpu-test`, `docker images --filter label=devgpu-test`.
pub const TEST_LABEL: &str = "devgpu-test";

const FIX_STANDIN: &str = "tests/tools/standin-images.sh   (as root; or run .ci/run)";

// ---------------------------------------------------------------------------------------------------------
// Availability

/// Is a Docker daemon answering? Under CI a missing daemon panics (a skipped Docker test would hide the
/// only end-to-end check); elsewhere the test prints a skip note and should return.
pub fn docker_available() -> bool {
    static ANSWER: OnceLock<Result<String, String>> = OnceLock::new();
    let answer = ANSWER.get_or_init(|| {
        match Command::new("docker")
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
        {
            Ok(out) if out.status.success() => {
                Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
            }
            Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
            Err(e) => Err(format!("cannot run the docker CLI: {e}")),
        }
    });
    match answer {
        Ok(_) => true,
        Err(why) => missing_prerequisite(
            &format!("the Docker daemon is not reachable ({why})"),
            "start it: setsid dockerd > /tmp/dockerd.log 2>&1 &   (or run .ci/run)",
        ),
    }
}

/// Docker is up and the stand-in base images exist (see tests/tools/standin-images.sh).
pub fn standin_images_available() -> bool {
    if !docker_available() {
        return false;
    }
    for image in [STANDIN_IMAGE, BUSYBOX_IMAGE] {
        if !image_exists(image) {
            return missing_prerequisite(
                &format!("the stand-in image {image} is missing"),
                FIX_STANDIN,
            );
        }
    }
    true
}

pub fn image_exists(image: &str) -> bool {
    docker_quiet(&["image", "inspect", "--format", "{{.Id}}", image])
}

// ---------------------------------------------------------------------------------------------------------
// Stand-in base images under nvidia/cuda names

/// Serialises image creation and removal within one test binary: `docker rmi` of one test's image deletes
/// its untagged parent layers, which a concurrent classic build may be about to reuse from the cache.
/// (It also keeps two 2-core builds from competing.)
fn image_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A `docker tag` of the stand-in under a real image name, removed when the last guard for it drops.
pub struct StandinTag {
    pub image: String,
    /// False when a real image of that name already existed: it is used as is, never shadowed or removed.
    created: bool,
}

/// How many live [`StandinTag`] guards each tag we created has. Held while tagging and untagging, so a
/// test never sees the tag vanish between "it exists" and its build.
fn standin_holders() -> MutexGuard<'static, HashMap<String, usize>> {
    static HOLDERS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    HOLDERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Give the stand-in the name a generated Dockerfile's `FROM` asks for (e.g. `nvidia/cuda:12.4.1-runtime-ubuntu22.04`),
/// so the build resolves it locally instead of pulling. If the machine has a real image of that name, it is
/// left alone and used (it is at least as good a base). A stand-in tag we made is untagged when the last
/// guard drops, so no fake `nvidia/cuda` image is left behind to surprise a later real `docker run`.
pub fn tag_standin_as(image: &str) -> StandinTag {
    tag_as(STANDIN_IMAGE, image)
}

/// [`tag_standin_as`] with the devel stand-in ([`STANDIN_DEVEL_IMAGE`]), for Dockerfiles that build extensions.
pub fn tag_standin_devel_as(image: &str) -> StandinTag {
    tag_as(STANDIN_DEVEL_IMAGE, image)
}

/// The devel stand-in exists (besides [`standin_images_available`]).
pub fn standin_devel_available() -> bool {
    if !standin_images_available() {
        return false;
    }
    image_exists(STANDIN_DEVEL_IMAGE)
        || missing_prerequisite(&format!("the stand-in image {STANDIN_DEVEL_IMAGE} is missing"), FIX_STANDIN)
}

fn tag_as(source: &str, image: &str) -> StandinTag {
    let mut holders = standin_holders();
    if let Some(count) = holders.get_mut(image) {
        *count += 1;
        return StandinTag {
            image: image.to_string(),
            created: true,
        };
    }
    if image_exists(image) && !is_standin(image) {
        eprintln!("note: using the existing real image {image} instead of the stand-in");
        return StandinTag {
            image: image.to_string(),
            created: false,
        };
    }
    let _lock = image_lock();
    docker_ok(&["tag", source, image]);
    holders.insert(image.to_string(), 1);
    StandinTag {
        image: image.to_string(),
        created: true,
    }
}

/// Does the image carry the label tests/tools/standin-images.sh puts on stand-ins?
fn is_standin(image: &str) -> bool {
    let format = format!("{{{{index .Config.Labels \"{STANDIN_LABEL}\"}}}}");
    match Command::new("docker")
        .args(["image", "inspect", "--format", &format, image])
        .output()
    {
        Ok(out) if out.status.success() => {
            let value = String::from_utf8_lossy(&out.stdout).trim().to_string();
            !value.is_empty() && value != "<no value>"
        }
        _ => false,
    }
}

impl Drop for StandinTag {
    fn drop(&mut self) {
        if !self.created {
            return;
        }
        let mut holders = standin_holders();
        let Some(count) = holders.get_mut(&self.image) else {
            return;
        };
        *count -= 1;
        if *count > 0 {
            return;
        }
        holders.remove(&self.image);
        let _lock = image_lock();
        // Removing one of several tags only untags; the stand-in (and images built FROM it) stay.
        let _ = docker_quiet(&["rmi", &self.image]);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Cache directory

/// Where downloaded wheels are kept across runs: `$DEVGPU_TEST_CACHE`, else `/var/cache/devgpu-test` when it
/// can be created (CI runs as root), else a directory under cargo's target/ tmp dir.
pub fn cache_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("DEVGPU_TEST_CACHE").filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            fs::create_dir_all(&dir)
                .unwrap_or_else(|e| panic!("DEVGPU_TEST_CACHE={}: {e}", dir.display()));
            return dir;
        }
        let system = PathBuf::from("/var/cache/devgpu-test");
        if fs::create_dir_all(&system).is_ok() && is_writable_dir(&system) {
            return system;
        }
        let fallback = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("devgpu-test-cache");
        fs::create_dir_all(&fallback).unwrap();
        fallback
    })
    .clone()
}

fn is_writable_dir(dir: &Path) -> bool {
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    let ok = fs::write(&probe, b"").is_ok();
    let _ = fs::remove_file(&probe);
    ok
}

/// A string unique within this machine for the test run: for tags, labels and temporary names.
pub fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

// ---------------------------------------------------------------------------------------------------------
// Wheelhouse: offline pip installs inside `docker build`

/// A directory of wheels for one test (a temp dir, so tests can add different wheels without interfering).
pub struct Wheelhouse {
    dir: tempfile::TempDir,
}

impl Wheelhouse {
    pub fn new() -> Wheelhouse {
        Wheelhouse {
            dir: tempfile::Builder::new()
                .prefix("devgpu-wheelhouse-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Add wheels for `requirements` (pip requirement specifiers such as `six==1.17.0`) and their
    /// dependencies. They are `pip download`ed once on the host into the cache (keyed by the sorted
    /// specifiers) and copied from there on later runs, so re-runs need no network.
    /// Wheels only (`--only-binary=:all:`): an sdist would need build dependencies inside the offline build.
    pub fn add_pip_downloads(&self, requirements: &[&str]) -> &Self {
        let cached = cached_pip_download(requirements);
        for entry in fs::read_dir(&cached).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), self.path().join(entry.file_name())).unwrap();
        }
        self
    }

    /// Add every requirement line of a requirements.txt (comments, blank lines and `-`/`--` option lines
    /// skipped).
    pub fn add_requirements_file(&self, requirements_txt: &Path) -> &Self {
        let text = fs::read_to_string(requirements_txt).unwrap();
        let specs = requirement_lines(&text);
        let specs: Vec<&str> = specs.iter().map(String::as_str).collect();
        self.add_pip_downloads(&specs)
    }

    /// Build a clearly-labelled stand-in wheel `<name>-<version>-py3-none-any.whl` here (see
    /// tests/tools/make-standin-wheel.py): a package that has only the name and version of, say, a
    /// `torch` CUDA build, so the generated `pip install` line can be exercised without the 2 GB download.
    pub fn add_standin_wheel(&self, name: &str, version: &str) -> PathBuf {
        let script = manifest_dir().join("tests/tools/make-standin-wheel.py");
        let out = Command::new(python3())
            .arg(&script)
            .args([name, version])
            .arg(self.path())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "make-standin-wheel.py failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    }

    /// The wheel file names present, sorted (for assertions and messages).
    pub fn wheels(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Serve this directory on 127.0.0.1 (pip treats loopback HTTP as a secure origin) until the server drops.
    /// The pinned uv wheel and pip are always there: every generated Dockerfile bootstraps uv from the index (here:
    /// this wheelhouse) and seeds the venv with pip from it before any other install.
    pub fn serve(&self) -> WheelhouseServer {
        self.add_pip_downloads(&[&format!("uv=={}", devgpu::render::UV_VERSION), "pip"]);
        WheelhouseServer::start(self.path())
    }
}

/// Requirement specifiers from requirements.txt text: no comments, blanks or option lines.
pub fn requirement_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .map(str::to_string)
        .collect()
}

fn python3() -> &'static str {
    "python3"
}

fn cached_pip_download(requirements: &[&str]) -> PathBuf {
    let mut sorted: Vec<&str> = requirements.to_vec();
    sorted.sort_unstable();
    let key: String = sorted
        .join(",")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "=.,-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let root = cache_dir().join("wheelhouse");
    let dir = root.join(&key);
    if dir.is_dir() {
        return dir;
    }
    fs::create_dir_all(&root).unwrap();
    // Download into a private directory and rename it into place, so concurrent tests (or an interrupted
    // run) never see a half-filled cache entry.
    let partial = root.join(format!(".partial-{}", unique_suffix()));
    let mut cmd = Command::new(python3());
    cmd.args([
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        "--dest",
    ])
    .arg(&partial)
    .args(&sorted);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(&cmd)));
    if !out.status.success() {
        let _ = fs::remove_dir_all(&partial);
        let msg = format!(
            "`{}` failed; the host needs python3 with pip and access to PyPI:\n{}{}",
            describe(&cmd),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        panic!("{msg}");
    }
    if fs::rename(&partial, &dir).is_err() {
        // Another test filled the same entry first: use theirs.
        let _ = fs::remove_dir_all(&partial);
        assert!(
            dir.is_dir(),
            "cannot move {} to {}",
            partial.display(),
            dir.display()
        );
    }
    dir
}

/// `python3 -m http.server` on 127.0.0.1 and a port the kernel picks, killed on drop.
pub struct WheelhouseServer {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl WheelhouseServer {
    fn start(dir: &Path) -> WheelhouseServer {
        // The request log goes beside the served directory, not into it (pip would see it in the listing).
        let log = dir.with_extension("http.log");
        let log_file = fs::File::create(&log).unwrap();
        // Port 0 and reading the port back from the banner avoids the pick-a-free-port race.
        let mut child = Command::new(python3())
            .args([
                "-u",
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 -m http.server: {e}"));
        let mut banner = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut banner)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 40667 (http://127.0.0.1:40667/) ..."
        let port = banner
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "http.server did not report its port: {banner:?}; log: {}",
                    fs::read_to_string(&log).unwrap_or_default()
                )
            });
        WheelhouseServer { child, port, log }
    }

    /// The find-links URL (a directory listing pip reads for wheel links).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Build args for the generated Dockerfile's pip pass-through: no index at all (so the
    /// download.pytorch.org extra index and PyPI are never contacted), only this wheelhouse.
    pub fn build_args(&self) -> Vec<(String, String)> {
        vec![
            ("PIP_NO_INDEX".into(), "1".into()),
            ("PIP_FIND_LINKS".into(), self.url()),
        ]
    }

    /// The server's request log, for failure messages.
    pub fn request_log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for WheelhouseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Build and run

/// An image a test built, removed (by its unique tag) on drop.
#[derive(Debug)]
pub struct BuiltImage {
    /// `sha256:…`
    pub id: String,
    /// `devgpu-test/build:<unique>`
    pub tag: String,
    /// The classic builder's full output (`Step N/M : …`, ` ---> Using cache`, …).
    pub log: String,
}

/// A failed `docker build`, with everything it printed.
#[derive(Debug)]
pub struct BuildFailure {
    pub command: String,
    pub log: String,
}

impl std::fmt::Display for BuildFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` failed:\n{}", self.command, self.log)
    }
}

/// `docker build` with the classic builder and host networking (see the module comment for why), labelled
/// and tagged uniquely. `build_args` are passed in order (a later duplicate wins, like the docker CLI).
pub fn build(
    dockerfile: &Path,
    context: &Path,
    build_args: &[(String, String)],
) -> Result<BuiltImage, BuildFailure> {
    let tag = format!("devgpu-test/build:{}", unique_suffix());
    let iidfile = std::env::temp_dir().join(format!("devgpu-test-iid-{}", unique_suffix()));
    let mut cmd = Command::new("docker");
    cmd.env("DOCKER_BUILDKIT", "0")
        .args([
            "build",
            "--network",
            "host",
            "--force-rm",
            "--label",
            TEST_LABEL,
            "-t",
            &tag,
            "--iidfile",
        ])
        .arg(&iidfile)
        .arg("-f")
        .arg(dockerfile);
    for (k, v) in build_args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    cmd.arg(context);
    let command = describe(&cmd);
    let out = {
        let _lock = image_lock();
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run {command}: {e}"))
    };
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let id = fs::read_to_string(&iidfile)
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let _ = fs::remove_file(&iidfile);
    if !out.status.success() || id.is_empty() {
        remove_layers_of_failed_build(&log);
        return Err(BuildFailure { command, log });
    }
    Ok(BuiltImage { id, tag, log })
}

/// A failed classic build leaves the layers of its successful steps behind as an untagged image (`--force-rm`
/// only removes containers). Remove the last one the log names (its untagged parents go with it), but only
/// if it is untagged: the last id can be the base image itself when the first step after FROM failed.
fn remove_layers_of_failed_build(log: &str) {
    let last_layer = log.lines().rev().find_map(|l| {
        let id = l.trim().strip_prefix("---> ")?;
        (id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_string())
    });
    let Some(layer) = last_layer else { return };
    let tags = Command::new("docker")
        .args(["image", "inspect", "--format", "{{len .RepoTags}}", &layer])
        .output();
    if matches!(tags, Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "0")
    {
        let _lock = image_lock();
        let _ = docker_quiet(&["rmi", &layer]);
    }
}

impl Drop for BuiltImage {
    fn drop(&mut self) {
        if keep_images() {
            eprintln!(
                "DEVGPU_TEST_KEEP_IMAGES: keeping {} ({})",
                self.tag, self.id
            );
            return;
        }
        let _lock = image_lock();
        // By tag, not id: two builds can produce the same id (a fully cached rebuild), each with its own tag.
        let _ = docker_quiet(&["rmi", &self.tag]);
    }
}

fn keep_images() -> bool {
    std::env::var_os("DEVGPU_TEST_KEEP_IMAGES").is_some_and(|v| !v.is_empty() && v != "0")
}

/// What a container printed.
#[derive(Debug)]
pub struct RunOutput {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutput {
    /// stdout, trimmed, after asserting the command succeeded.
    pub fn ok(&self) -> &str {
        assert!(
            self.success,
            "container command failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self.stdout.trim()
    }
}

/// `docker run --rm --network none <image> <cmd…>` as the image's own user (the generated `USER`),
/// labelled so a crashed test's container can be found.
pub fn run(image: &str, cmd: &[&str]) -> RunOutput {
    run_with(image, &[], cmd)
}

/// `run` with `docker run` options before the image (e.g. `--user root`).
pub fn run_with(image: &str, options: &[&str], cmd: &[&str]) -> RunOutput {
    let mut docker = Command::new("docker");
    docker
        .args(["run", "--rm", "--network", "none", "--label", TEST_LABEL])
        .args(options)
        .arg(image)
        .args(cmd);
    let out = docker
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(&docker)));
    RunOutput {
        success: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `docker run --rm --network none -v host_dir:container_dir -w container_dir <image> sh -c script` as the
/// image's user: the sources mounted as VS Code mounts the workspace, for postCreateCommand-like steps.
pub fn run_sh_mounted(image: &str, host_dir: &Path, container_dir: &str, script: &str) -> RunOutput {
    let mount = format!("{}:{container_dir}", host_dir.display());
    run_with(image, &["-v", &mount, "-w", container_dir], &["sh", "-c", script])
}

/// `run(image, ["sh", "-c", script])`.
pub fn run_sh(image: &str, script: &str) -> RunOutput {
    run(image, &["sh", "-c", script])
}

/// `docker image inspect` of one image, as JSON.
pub fn inspect_image(image: &str) -> serde_json::Value {
    let out = Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker image inspect {image}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    all[0].take()
}

/// Remove containers carrying `label` (`key` or `key=value`), e.g. ones `devcontainer up` started.
/// Returns the image names they ran, so the caller can remove those too.
pub fn remove_containers_labelled(label: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("label={label}")])
        .output()
        .unwrap();
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut images = Vec::new();
    for id in &ids {
        if let Ok(o) = Command::new("docker")
            .args(["inspect", "--format", "{{.Config.Image}}", id])
            .output()
        {
            images.push(String::from_utf8_lossy(&o.stdout).trim().to_string());
        }
        let _ = docker_quiet(&["rm", "-f", id]);
    }
    images
}

/// Remove an image by name or id if present (ignores "no such image"), unless DEVGPU_TEST_KEEP_IMAGES is set.
pub fn remove_image(image: &str) {
    if keep_images() {
        eprintln!("DEVGPU_TEST_KEEP_IMAGES: keeping {image}");
        return;
    }
    let _lock = image_lock();
    let _ = docker_quiet(&["rmi", image]);
}

// ---------------------------------------------------------------------------------------------------------
// Reading Dockerfiles and classic-builder logs

/// The image of the first `FROM` instruction (`FROM [--platform=…] image [AS name]`), or None.
/// Line continuations and comments are handled; build-arg substitution in FROM is not (devgpu does not use it).
pub fn dockerfile_from(text: &str) -> Option<String> {
    let joined = text.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut words = l.split_whitespace();
            let first = words.next()?;
            if !first.eq_ignore_ascii_case("FROM") {
                return None;
            }
            words.find(|w| !w.starts_with("--")).map(str::to_string)
        })
}

/// One `Step N/M : INSTRUCTION` section of a classic-builder log.
#[derive(Debug, Clone)]
pub struct BuildStep {
    pub instruction: String,
    pub body: String,
}

impl BuildStep {
    /// The classic builder prints ` ---> Using cache` when it reused the layer of an earlier build.
    pub fn used_cache(&self) -> bool {
        self.body.lines().any(|l| l.trim() == "---> Using cache")
    }
}

/// Split a classic-builder log into its steps.
pub fn build_steps(log: &str) -> Vec<BuildStep> {
    let mut steps: Vec<BuildStep> = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("Step ") {
            // "Step 15/16 : RUN pip install …"
            let instruction = rest
                .split_once(" : ")
                .map(|(_, i)| i)
                .unwrap_or(rest)
                .to_string();
            steps.push(BuildStep {
                instruction,
                body: String::new(),
            });
        } else if let Some(step) = steps.last_mut() {
            step.body.push_str(line);
            step.body.push('\n');
        }
    }
    steps
}

/// The first step whose instruction contains `needle`, e.g. `"pip install"`.
pub fn find_step(log: &str, needle: &str) -> Option<BuildStep> {
    build_steps(log)
        .into_iter()
        .find(|s| s.instruction.contains(needle))
}

/// Signs in a build log that pip tried to reach an index (PyPI, the PyTorch index) although the build was
/// given `PIP_NO_INDEX=1`: a pip command that runs before the Dockerfile's `ARG PIP_*` lines never sees them.
/// Without network pip only warns ("Could not fetch URL … - skipping") after seconds of retries, and a
/// `pip install --upgrade pip` then "succeeds", so the exit status alone does not show it.
pub fn pip_index_attempt(log: &str) -> Option<&'static str> {
    [
        "Could not fetch URL",
        "Retrying (Retry(",
        "SSLError",
        "Max retries exceeded",
    ]
    .into_iter()
    .find(|sign| log.contains(sign))
}

/// The build context size the classic builder reports ("Sending build context to Docker daemon  10.29kB"),
/// in bytes.
pub fn build_context_bytes(log: &str) -> Option<u64> {
    // The CLI rewrites this line with `\r` while sending a large context; the last value is the total.
    const PREFIX: &str = "Sending build context to Docker daemon";
    let after = &log[log.rfind(PREFIX)? + PREFIX.len()..];
    let size = after.split_whitespace().next()?;
    let split = size.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = size.split_at(split);
    let num: f64 = num.parse().ok()?;
    let factor = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => return None,
    };
    Some((num * factor) as u64)
}

// ---------------------------------------------------------------------------------------------------------
// docker CLI plumbing

fn docker_quiet(args: &[&str]) -> bool {
    Command::new("docker")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn docker_ok(args: &[&str]) {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}
