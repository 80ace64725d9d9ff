//! `devgpu doctor` against real Docker daemons (DESIGN.md §4): the machine's daemon (no NVIDIA runtime), a second
//! dockerd started by the test with a daemon.json that registers an `nvidia` runtime (path `runc` as a stand-in)
//! as the default, a daemon.json with a trailing comma (which the real dockerd then refuses, as doctor says), and
//! endpoints that cannot be reached (a missing socket, a refused TCP port, a socket this user may not open).
//!
//! Needs: root (a second dockerd, its bridge), `dockerd` and `ip` on PATH, the machine's daemon on
//! /var/run/docker.sock and the stand-in image (tests/tools/standin-images.sh) — `.ci/run` prepares all of it.
//! Under `CI` a missing prerequisite fails the test; elsewhere it prints a skip note.
//!
//! Cleanup on every path (panics included, through `Drop`): probe containers are removed by devgpu itself (the
//! tests check none is left), second daemons are stopped by their PID, their bridges deleted, their folders removed.

mod common;

use common::docker::{docker_available, standin_images_available, unique_suffix, STANDIN_IMAGE};
use common::tools::{devgpu, missing_prerequisite, run_logged};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Second daemons are started one at a time (2 cores; each starts its own containerd).
static SECOND_DAEMON: Mutex<()> = Mutex::new(());
/// The probe tests look for leftover probe containers, so they do not overlap.
static PROBES: Mutex<()> = Mutex::new(());

/// Run `devgpu doctor --json <args>` with a clean Docker environment; returns (exit code, envelope, stderr).
fn doctor_json(args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
    let mut cmd = devgpu();
    cmd.arg("doctor").arg("--json").args(args).env_remove("DOCKER_HOST").env_remove("DOCKER_CONTEXT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_logged(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "devgpu panicked:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "stdout must be exactly one JSON object:\n{stdout}\nstderr:\n{stderr}");
    let v: Value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["command"], "doctor");
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn check<'a>(envelope: &'a Value, id: &str) -> &'a Value {
    envelope["data"]["checks"].as_array().expect("data.checks").iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no check {id} in {envelope:#}"))
}

fn status(envelope: &Value, id: &str) -> String {
    check(envelope, id)["status"].as_str().unwrap().to_string()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn probe_containers() -> Vec<String> {
    let out = Command::new("docker").args(["ps", "-aq", "--filter", "label=devgpu.probe"]).output().expect("docker ps");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn have(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// (1) The machine's daemon has no NVIDIA runtime and no toolkit: doctor names the toolkit fix, and `--probe`
/// turns the daemon's `could not select device driver` into the same diagnosis. The probe container is gone after.
#[test]
fn the_local_daemon_without_nvidia_names_the_toolkit_fix_and_the_probe_agrees() {
    if !standin_images_available() {
        return;
    }
    let _probes = PROBES.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (code, v, _) = doctor_json(&[dir.path().to_str().unwrap()], &[]);
    assert_eq!(code, 1, "a failing check exits 1");
    assert_eq!(v["outcome"], "error");
    assert_eq!(status(&v, "docker.reachable"), "pass", "{v:#}");
    assert!(text(&check(&v, "docker.reachable")["summary"]).contains("unix:///var/run/docker.sock (the default socket)"));
    let runtimes: Vec<&str> = v["data"]["host"]["docker"]["runtimes"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(runtimes.contains(&"runc") && !runtimes.contains(&"nvidia"), "{runtimes:?}");
    let rt = check(&v, "docker.nvidia-runtime");
    assert_eq!(rt["status"], "fail", "{rt:#}");
    let fix = text(&rt["fix"]).to_string();
    assert!(fix.contains("install nvidia-container-toolkit") && fix.contains("sudo systemctl restart docker"), "{fix}");
    assert_eq!(status(&v, "probe.gpu"), "skip");

    let before = probe_containers();
    let (code, v, stderr) = doctor_json(&[dir.path().to_str().unwrap(), "--probe", "--image", STANDIN_IMAGE], &[]);
    assert_eq!(code, 1);
    let p = check(&v, "probe.gpu");
    assert_eq!(p["status"], "fail", "{p:#}\n{stderr}");
    let summary = text(&p["summary"]);
    assert!(summary.contains("could not select device driver \"\" with capabilities: [[gpu]]"), "the daemon's own words: {summary}");
    assert!(summary.contains("nvidia-container-toolkit is not installed"), "the cause from the table: {summary}");
    assert_eq!(text(&p["fix"]), fix, "the probe's diagnosis is the one predicted from the facts");
    let probe = &v["data"]["host"]["probe"];
    assert_eq!(probe["image"], STANDIN_IMAGE);
    assert_eq!(probe["outcome"]["stage"], "start", "create succeeds, start fails (Docker 20.10): {probe:#}");
    assert_eq!(probe["removed"], true);
    assert_eq!(probe_containers(), before, "the probe container was removed");
}

/// An image that is neither present nor pullable (no registry here): the probe fails at `pull`, creates nothing.
#[test]
fn a_probe_image_that_cannot_be_pulled() {
    if !docker_available() {
        return;
    }
    let _probes = PROBES.lock().unwrap_or_else(|p| p.into_inner());
    let image = format!("devgpu-test/no-such-image:{}", unique_suffix());
    let dir = tempfile::tempdir().unwrap();
    let before = probe_containers();
    let (code, v, _) = doctor_json(&[dir.path().to_str().unwrap(), "--probe", "--image", &image], &[]);
    assert_eq!(code, 1);
    let p = check(&v, "probe.gpu");
    assert_eq!(p["status"], "fail", "{p:#}");
    assert_eq!(v["data"]["host"]["probe"]["outcome"]["stage"], "pull", "{p:#}");
    assert!(text(&p["summary"]).contains(&image));
    assert_eq!(probe_containers(), before);
}

/// The human form of the same run: one ✓/!/✗ line per check on stderr, fixes indented, nothing on stdout.
#[test]
fn human_output_lists_each_check_on_stderr() {
    if !docker_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = run_logged(devgpu().arg("doctor").arg(dir.path()).env_remove("DOCKER_HOST").env_remove("DOCKER_CONTEXT"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "human mode prints nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().any(|l| l.starts_with("✓ docker.reachable ")), "{err}");
    let i = err.lines().position(|l| l.starts_with("✗ docker.nvidia-runtime ")).unwrap_or_else(|| panic!("{err}"));
    let next = err.lines().nth(i + 1).unwrap();
    assert!(next.starts_with("    fix: install nvidia-container-toolkit"), "{next}");
    assert!(err.lines().any(|l| l.starts_with("- probe.gpu ")), "{err}");
    assert!(err.lines().last().unwrap().contains(" failed, "), "{err}");
    assert!(!err.contains('\x1b'), "no colour when stderr is not a terminal");
}

/// A dockerd of the test's own: own socket, data-root, exec-root, pidfile and bridge, never the machine's daemon
/// or docker0. Stopped by its PID and cleaned up on drop.
struct SecondDaemon {
    child: Option<Child>,
    bridge: String,
    dir: PathBuf,
    exec_root: PathBuf,
    socket: PathBuf,
    log: PathBuf,
}

impl SecondDaemon {
    fn prerequisites() -> bool {
        if !is_root() {
            return missing_prerequisite("a second dockerd needs root", "run the tests as root (.ci/run does)");
        }
        for p in ["dockerd", "ip"] {
            if !have(p) {
                return missing_prerequisite(&format!("`{p}` is not on PATH"), "apt-get install docker.io iproute2   (or run .ci/run)");
            }
        }
        true
    }

    /// Start dockerd with `config` as its daemon.json. `Err((guard, log))` when it exits instead of answering.
    #[allow(clippy::result_large_err)]
    fn start(config: &Path) -> Result<SecondDaemon, (SecondDaemon, String)> {
        let id = std::process::id() % 100_000;
        let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 1000;
        let bridge = format!("dgt{id}x{n}");
        let dir = std::env::temp_dir().join(format!("devgpu-dockerd-{}", unique_suffix()));
        // exec-root holds containerd's socket: keep its path short (sun_path is 108 bytes).
        let exec_root = PathBuf::from(format!("/tmp/dgx{id}-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("docker.sock");
        let log = dir.join("dockerd.log");
        let mut d = SecondDaemon { child: None, bridge: bridge.clone(), dir: dir.clone(), exec_root: exec_root.clone(), socket: socket.clone(), log: log.clone() };
        let ok = Command::new("ip").args(["link", "add", &bridge, "type", "bridge"]).status().is_ok_and(|s| s.success());
        assert!(ok, "ip link add {bridge} type bridge failed");
        let child = Command::new("dockerd")
            .arg("--config-file")
            .arg(config)
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(&exec_root)
            .arg("--pidfile")
            .arg(dir.join("docker.pid"))
            .arg("--host")
            .arg(format!("unix://{}", socket.display()))
            .arg("--bridge")
            .arg(&bridge)
            .arg("--iptables=false")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.join("dockerd.stderr")).unwrap())
            .spawn()
            .expect("start dockerd");
        d.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = d.child.as_mut().unwrap().try_wait().unwrap() {
                d.child = None;
                let log = d.logs();
                return Err((d, format!("dockerd exited ({status}):\n{log}")));
            }
            let answered = socket.exists()
                && Command::new("docker").arg("-H").arg(format!("unix://{}", socket.display())).args(["version", "--format", "{{.Server.Version}}"]).output().is_ok_and(|o| o.status.success());
            if answered {
                return Ok(d);
            }
            if Instant::now() > deadline {
                let log = d.logs();
                panic!("the second dockerd did not answer within 60 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    fn logs(&self) -> String {
        let a = std::fs::read_to_string(&self.log).unwrap_or_default();
        let b = std::fs::read_to_string(self.dir.join("dockerd.stderr")).unwrap_or_default();
        format!("{a}{b}")
    }
}

impl Drop for SecondDaemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    // its supervised containerd, by the pid it recorded
                    if let Ok(p) = std::fs::read_to_string(self.exec_root.join("containerd/containerd.pid")) {
                        let _ = Command::new("kill").args(["-KILL", p.trim()]).status();
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = Command::new("ip").args(["link", "del", &self.bridge]).stderr(Stdio::null()).status();
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(&self.exec_root);
    }
}

/// (2) A daemon.json that registers an `nvidia` runtime (path `runc`, standing in for nvidia-container-runtime)
/// and makes it the default: doctor reports both, from the running daemon and from the file.
#[test]
fn a_second_daemon_with_the_nvidia_runtime_as_default() {
    if !docker_available() || !SecondDaemon::prerequisites() {
        return;
    }
    let _one = SECOND_DAEMON.lock().unwrap_or_else(|p| p.into_inner());
    let cfg_dir = tempfile::tempdir().unwrap();
    let config = cfg_dir.path().join("daemon.json");
    std::fs::write(&config, "{\n  \"runtimes\": {\n    \"nvidia\": {\"path\": \"runc\", \"runtimeArgs\": []}\n  },\n  \"default-runtime\": \"nvidia\"\n}\n").unwrap();
    let daemon = match SecondDaemon::start(&config) {
        Ok(d) => d,
        Err((_d, log)) => panic!("the second dockerd did not start: {log}"),
    };
    let (_, v, stderr) = doctor_json(&["--docker-host", &daemon.host(), "--daemon-config", config.to_str().unwrap(), cfg_dir.path().to_str().unwrap()], &[]);
    let reach = check(&v, "docker.reachable");
    assert_eq!(reach["status"], "pass", "{reach:#}\n{stderr}\n{}", daemon.logs());
    assert!(text(&reach["summary"]).contains(&format!("{} (--docker-host)", daemon.host())), "{reach:#}");
    let rt = check(&v, "docker.nvidia-runtime");
    assert_eq!(rt["status"], "pass", "{rt:#}");
    assert_eq!(rt["summary"], "NVIDIA runtime registered: nvidia (runc)");
    let def = check(&v, "docker.default-runtime");
    assert_eq!(def["status"], "pass", "{def:#}");
    assert!(text(&def["summary"]).starts_with("default runtime: nvidia"), "{def:#}");
    let dj = check(&v, "daemon-json.valid");
    assert_eq!(dj["status"], "pass", "{dj:#}");
    assert!(text(&dj["summary"]).contains("runtimes nvidia → runc; default-runtime nvidia"), "{dj:#}");
    let host = &v["data"]["host"];
    assert_eq!(host["docker"]["defaultRuntime"], "nvidia");
    assert!(host["docker"]["runtimes"].as_array().unwrap().iter().any(|r| r["name"] == "nvidia" && r["path"] == "runc"));
    assert_eq!(host["daemonJson"]["defaultRuntime"], "nvidia");
    // The toolkit is still missing here, so the hook check fails; the runtime facts are what this test is about.
    assert_eq!(status(&v, "toolkit.installed"), "fail");
    drop(daemon);
}

/// (3) A daemon.json with a trailing comma: doctor says dockerd will refuse it, with line and column — and the real
/// dockerd 20.10 then refuses to start with it, in the words doctor quoted.
#[test]
fn a_trailing_comma_that_dockerd_refuses() {
    let cfg_dir = tempfile::tempdir().unwrap();
    let config = cfg_dir.path().join("daemon.json");
    std::fs::write(&config, "{\n  \"runtimes\": {\n    \"nvidia\": {\"path\": \"runc\"}\n  },\n}\n").unwrap();
    let (code, v, _) = doctor_json(&["--daemon-config", config.to_str().unwrap(), "--docker-host", "unix:///nonexistent.sock", cfg_dir.path().to_str().unwrap()], &[]);
    assert_eq!(code, 1);
    let dj = check(&v, "daemon-json.valid");
    assert_eq!(dj["status"], "fail", "{dj:#}");
    let summary = text(&dj["summary"]);
    let at = format!("{}:5:1: dockerd will refuse to start with this daemon.json", config.display());
    assert!(summary.starts_with(&at), "{summary}");
    assert!(text(&dj["fix"]).contains(&format!("remove the trailing comma at {}:4:4", config.display())), "{dj:#}");
    let err = &v["data"]["host"]["daemonJson"]["error"];
    assert_eq!((err["line"].as_u64(), err["column"].as_u64()), (Some(5), Some(1)));
    let reason = err["reason"].as_str().unwrap().to_string();
    assert_eq!(reason, "invalid character '}' looking for beginning of object key string");

    // The real daemon agrees.
    if !SecondDaemon::prerequisites() {
        return;
    }
    let _one = SECOND_DAEMON.lock().unwrap_or_else(|p| p.into_inner());
    match SecondDaemon::start(&config) {
        Ok(d) => panic!("dockerd started with a daemon.json doctor says it refuses:\n{}", d.logs()),
        Err((d, log)) => {
            assert!(log.contains(&format!("unable to configure the Docker daemon with file {}: {reason}", config.display())), "{log}");
            drop(d);
        }
    }
}

/// (4) Endpoints that cannot be reached: each a clear failing check with where the host came from and the fix.
#[test]
fn unreachable_endpoints_are_check_results() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();

    let (code, v, _) = doctor_json(&["--docker-host", "unix:///nonexistent.sock", d, "--probe"], &[]);
    assert_eq!(code, 1);
    let r = check(&v, "docker.reachable");
    assert_eq!(r["status"], "fail");
    assert_eq!(
        r["summary"],
        "cannot reach Docker at unix:///nonexistent.sock (--docker-host): the socket /nonexistent.sock does not exist — the Docker daemon is not running, or is not installed"
    );
    assert!(text(&r["fix"]).contains("sudo systemctl start docker"));
    assert_eq!(v["data"]["host"]["docker"]["error"]["code"], "docker-socket-missing");
    for id in ["docker.engine", "docker.nvidia-runtime", "docker.default-runtime", "docker.cgroups", "probe.gpu"] {
        assert_eq!(status(&v, id), "skip", "{id}");
    }

    let (_, v, _) = doctor_json(&[d], &[("DOCKER_HOST", "unix:///nonexistent.sock")]);
    assert!(text(&check(&v, "docker.reachable")["summary"]).contains("(DOCKER_HOST)"));

    let (_, v, _) = doctor_json(&[d], &[("DOCKER_HOST", "tcp://127.0.0.1:9")]);
    let r = check(&v, "docker.reachable");
    assert_eq!(r["status"], "fail");
    assert!(text(&r["summary"]).contains("nothing answers there"), "{r:#}");

    // ssh:// is supported (tests/remote_ssh.rs); here nothing listens on the port.
    let (_, v, _) = doctor_json(&[d], &[("DOCKER_HOST", "ssh://root@127.0.0.1:9")]);
    assert_eq!(v["data"]["host"]["docker"]["error"]["code"], "ssh-connection-refused", "{v:#}");
    let (_, v, _) = doctor_json(&[d], &[("DOCKER_HOST", "npipe:////./pipe/docker_engine")]);
    assert_eq!(v["data"]["host"]["docker"]["error"]["code"], "docker-host-unsupported");

    // A socket this user may not open: the docker-group fix.
    if !docker_available() || !is_root() || !have("runuser") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_devgpu");
    let out = run_logged(Command::new("runuser").args(["-u", "nobody", "--", bin, "doctor", "--json", "/"]).env_remove("DOCKER_HOST").env_remove("DOCKER_CONTEXT"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let r = check(&v, "docker.reachable");
    assert_eq!(v["data"]["host"]["docker"]["error"]["code"], "docker-permission-denied", "{r:#}");
    assert!(text(&r["fix"]).contains("sudo usermod -aG docker $USER"), "{r:#}");
}
