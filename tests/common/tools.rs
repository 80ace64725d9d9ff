//! The external programs the integration tests drive: `devgpu` itself and the official Dev Containers CLI
//! (installed from `tests/tools/package.json` by `.ci/run`), plus small filesystem helpers for fixture copies.
//!
//! Missing tools never make a test pass silently in CI: when `CI` is set, a missing tool panics with the
//! command that installs it; on a developer machine the test prints a skip note and returns.
#![allow(dead_code)] // each test binary compiles this module and uses a different part of it

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

/// The package root, for fixture paths that do not depend on the current directory.
/// Starts a helper server (stdin closed, stdout piped, stderr as given) and waits for the first line it prints,
/// which each of tests/tools' servers prints once it serves (`PORT <n>`, `port <n>` or `ready`). Returns the child
/// (the caller kills it) and that line, trimmed; "" when it exited first.
pub fn start_until_first_line(cmd: &mut Command, stderr: Stdio) -> (Child, String) {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(stderr).spawn().unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().to_string())
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/<name>` in the repository.
pub fn fixture(name: &str) -> PathBuf {
    manifest_dir().join("tests").join("fixtures").join(name)
}

/// True when running under CI (`CI` set to anything but empty, `0` or `false`), where skipping a test
/// because a tool or the Docker daemon is missing must be impossible.
pub fn in_ci() -> bool {
    match std::env::var("CI") {
        Ok(v) => !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false")),
        Err(_) => false,
    }
}

/// True when the tests run as root (CI does): needed to create host users or device nodes.
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// Called when a prerequisite is missing: panics under CI, else prints why the test is skipped.
/// Returns `false` so callers can write `if !have_x() { return; }`.
pub fn missing_prerequisite(what: &str, fix: &str) -> bool {
    if in_ci() {
        panic!("{what}; CI must not skip this test. Fix: {fix}");
    }
    eprintln!("SKIPPED (not under CI): {what}. To run this test: {fix}");
    false
}

/// Where the npm test tools live: `$DEVGPU_TEST_TOOLS` (set by `.ci/run`) or `tests/tools` in the repository.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("DEVGPU_TEST_TOOLS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => manifest_dir().join("tests").join("tools"),
    }
}

/// `docker-compose` or `docker compose` answers (`.ci/run` installs Debian's docker-compose; a missing one fails
/// under CI).
pub fn compose_available() -> bool {
    let v1 = Command::new("docker-compose").args(["version", "--short"]).output().is_ok_and(|o| o.status.success());
    let v2 = || Command::new("docker").args(["compose", "version", "--short"]).output().is_ok_and(|o| o.status.success());
    v1 || v2() || missing_prerequisite("neither docker-compose nor `docker compose` runs", "apt-get install docker-compose   (or run .ci/run)")
}

/// The pinned Dev Containers CLI (`@devcontainers/cli`, see tests/tools/package.json), or `None` (after a
/// skip note) when it is not installed outside CI.
pub fn devcontainer_cli() -> Option<PathBuf> {
    let bin = tools_dir()
        .join("node_modules")
        .join(".bin")
        .join("devcontainer");
    let fix = "npm ci --prefix tests/tools   (or run .ci/run)";
    if !bin.exists() {
        missing_prerequisite(
            &format!(
                "the Dev Containers CLI is not installed at {}",
                bin.display()
            ),
            fix,
        );
        return None;
    }
    // The bin is a node script: check that it actually starts (node present, install not truncated).
    match Command::new(&bin).arg("--version").output() {
        Ok(out) if out.status.success() => Some(bin),
        Ok(out) => {
            missing_prerequisite(
                &format!(
                    "`{} --version` failed: {}",
                    bin.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                fix,
            );
            None
        }
        Err(e) => {
            missing_prerequisite(
                &format!("cannot run {} ({e}); is node on PATH?", bin.display()),
                fix,
            );
            None
        }
    }
}

/// A `Command` for the devgpu binary cargo built for this test run.
pub fn devgpu() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_devgpu"));
    // Keep the output machine-shaped regardless of the developer's terminal.
    cmd.env("NO_COLOR", "1");
    // The builder is the engine's choice unless a test asks (a developer's DOCKER_BUILDKIT=0 would change it).
    cmd.env_remove("DOCKER_BUILDKIT");
    offline_facts(&mut cmd);
    cmd
}

/// No test may depend on a public host: devgpu reads no package index or registry (the embedded snapshot, with
/// its warning), and no developer's cached facts. Tests of the live facts (tests/live_facts.rs) undo this and
/// point devgpu at servers on loopback.
pub fn offline_facts(cmd: &mut Command) -> &mut Command {
    cmd.env("DEVGPU_OFFLINE", "1").env("XDG_CACHE_HOME", "/nonexistent/devgpu-test-cache")
}

/// The host facts the Docker tests pass to `devgpu init`, so the resolved stack does not depend on the
/// (GPU-less) machine: driver 550.54.15 is the minimum for CUDA 12.4.1; compute capability 8.6 is an RTX 30xx/A40.
pub const INIT_HOST_ARGS: &[&str] = &["--driver", "550.54.15", "--compute-cap", "8.6"];

/// Run `devgpu init <dir> --json <INIT_HOST_ARGS> <extra>` and return the parsed JSON envelope, asserting
/// the command succeeded and printed exactly the documented envelope for `init`.
pub fn devgpu_init_json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut cmd = devgpu();
    cmd.arg("init")
        .arg(dir)
        .arg("--json")
        .args(INIT_HOST_ARGS)
        .args(extra);
    let out = run_logged(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "devgpu init failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let envelope: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("devgpu init --json stdout is not one JSON object ({e}):\n{stdout}")
    });
    assert_eq!(envelope["schemaVersion"], 1, "envelope: {envelope:#}");
    assert_eq!(envelope["command"], "init", "envelope: {envelope:#}");
    assert_eq!(envelope["outcome"], "success", "envelope: {envelope:#}");
    envelope
}

/// The official Dev Containers CLI (`cli`, from [`devcontainer_cli`]) with `args`: (exit ok, its last JSON line on
/// stdout or null when it printed none, stderr). `up` and `read-configuration` print one JSON result line.
pub fn devcontainer_json(cli: &Path, args: &[&str]) -> (bool, serde_json::Value, String) {
    devcontainer_json_env(cli, args, &[])
}

/// [`devcontainer_json`] with environment variables set for the CLI (e.g. `NODE_EXTRA_CA_CERTS`).
pub fn devcontainer_json_env(cli: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> (bool, serde_json::Value, String) {
    let mut cmd = Command::new(cli);
    // The CLI writes each build's Dockerfile-with-features to `$TMPDIR/devcontainercli-USER/container-features/
    // VERSION-<Date.now()>`: two builds that start in the same millisecond (tests run in parallel) share the folder
    // and one builds the other's Dockerfile (seen in CI: "COPY failed: … marker.txt" from another test's stage).
    // Each call gets its own TMPDIR.
    let tmp = tempfile::Builder::new().prefix("devgpu-devcontainer-cli-").tempdir().expect("a temporary folder");
    cmd.args(args).env("TMPDIR", tmp.path()).envs(env.iter().copied());
    let out = run_logged(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let result = stdout.lines().rev().find_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok()).unwrap_or(serde_json::Value::Null);
    (out.status.success(), result, String::from_utf8_lossy(&out.stderr).to_string())
}

/// Run a command, capturing its output; panics (with the command line) only if it cannot be started.
pub fn run_logged(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)))
}

/// `program arg arg …` for messages.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Recursively copy a fixture tree into `dst` (created), so a test can run `devgpu init` on a throwaway copy.
pub fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap_or_else(|e| panic!("create {}: {e}", dst.display()));
    for entry in fs::read_dir(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display())) {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&entry.path(), &to);
        } else if kind.is_symlink() {
            let target = fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(target, &to).unwrap();
        } else {
            fs::copy(entry.path(), &to)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// Write `contents` to `dir/rel`, creating parent directories.
pub fn write_file(dir: &Path, rel: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Parse a JSONC file (comments, trailing commas: what devcontainer.json allows) into a JSON value.
pub fn read_jsonc(path: &Path) -> serde_json::Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    jsonc_parser::parse_to_serde_value::<serde_json::Value>(&text, &Default::default())
        .unwrap_or_else(|e| panic!("{} is not valid JSONC: {e}", path.display()))
}
