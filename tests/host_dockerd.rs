//! The proof that dockerd accepts what `devgpu host configure-docker` writes: a second Docker daemon (its own
//! socket, data-root, exec-root, pidfile, containerd namespace and bridge — `../shared/recipes/docker-here.md`)
//! is started with the file devgpu wrote, and the API (bollard) shows the runtime registered and the default
//! runtime as asked. `runc` stands in for `nvidia-container-runtime` (there is no GPU toolkit here).
//!
//! The main daemon and `docker0` are never touched. Every daemon started here is stopped by its PID and its
//! bridge removed on every path (a Drop guard), also when an assertion fails.
//!
//! Needs root, `dockerd` and `ip` (Debian: `apt-get install docker.io iproute2`); missing ones skip the tests
//! outside CI and fail them under CI.

mod common;

use common::tools::{devgpu, fixture, in_ci, missing_prerequisite, run_logged};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

fn prerequisites() -> bool {
    let root = fs::read_to_string("/proc/self/status").unwrap().lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !root {
        return missing_prerequisite("starting a second dockerd needs root", "run the tests as root (the CI container does)");
    }
    for tool in ["dockerd", "ip"] {
        if Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().map_or(true, |o| !o.status.success()) {
            return missing_prerequisite(&format!("`{tool}` is not installed"), "apt-get install -y docker.io iproute2");
        }
    }
    true
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A second dockerd; dropping it stops the daemon (by the PID in its pidfile) and deletes its bridge.
struct SecondDaemon {
    dir: tempfile::TempDir,
    bridge: String,
    namespace: String,
}

impl SecondDaemon {
    /// Creates the bridge and the directories; does not start dockerd yet.
    fn new() -> SecondDaemon {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        // Interface names are at most 15 characters.
        let bridge = format!("dgt{}x{n}", std::process::id() % 100_000);
        let namespace = format!("devgpu-test-{}-{n}", std::process::id());
        // Short paths: the socket path must fit a sockaddr_un (108 bytes).
        let dir = tempfile::Builder::new().prefix("dgd").tempdir_in("/tmp").unwrap();
        let out = Command::new("ip").args(["link", "add", &bridge, "type", "bridge"]).output().unwrap();
        assert!(out.status.success(), "ip link add {bridge}: {}", String::from_utf8_lossy(&out.stderr));
        let d = SecondDaemon { dir, bridge, namespace };
        fs::create_dir(d.path("data")).unwrap();
        fs::create_dir(d.path("exec")).unwrap();
        d
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn socket(&self) -> PathBuf {
        self.path("docker.sock")
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The shell command line that starts dockerd with `config`, detached (it outlives the shell), logging to
    /// `dockerd.log`. Also what the `--restart-command` test runs.
    fn start_command(&self, config: &Path) -> String {
        format!(
            "setsid dockerd --config-file {config} --data-root {data} --exec-root {exec} --pidfile {pid} --host {host} --bridge {bridge} --iptables=false --ip-masq=false --containerd-namespace {ns} --containerd-plugins-namespace {ns}-plugins >>{log} 2>&1 </dev/null &",
            config = config.display(),
            data = self.path("data").display(),
            exec = self.path("exec").display(),
            pid = self.path("dockerd.pid").display(),
            host = self.host(),
            bridge = self.bridge,
            ns = self.namespace,
            log = self.path("dockerd.log").display(),
        )
    }

    /// Starts dockerd with `config` and waits until it answers; Err(dockerd's log) if it exits or never answers.
    fn start(&self, config: &Path) -> Result<(), String> {
        let status = Command::new("sh").args(["-c", &self.start_command(config)]).status().unwrap();
        assert!(status.success());
        self.wait_ready(Duration::from_secs(60))
    }

    fn log(&self) -> String {
        fs::read_to_string(self.path("dockerd.log")).unwrap_or_default()
    }

    fn wait_ready(&self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            if self.info().is_ok() {
                return Ok(());
            }
            if self.log().contains("unable to configure the Docker daemon") || Instant::now() > deadline {
                return Err(self.log());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn info(&self) -> Result<bollard::models::SystemInfo, String> {
        let socket = self.socket();
        devgpu::block_on(async move {
            let docker = bollard::Docker::connect_with_unix(socket.to_str().unwrap(), 10, bollard::API_DEFAULT_VERSION).map_err(|e| e.to_string())?;
            // Docker 20.10 speaks API 1.41.
            let docker = docker.negotiate_version().await.map_err(|e| e.to_string())?;
            docker.info().await.map_err(|e| e.to_string())
        })
    }

    fn pid(&self) -> Option<u32> {
        fs::read_to_string(self.path("dockerd.pid")).ok()?.trim().parse().ok()
    }

    /// Stops the running dockerd by its PID and waits until it is gone (its pidfile removed), then unmounts what
    /// it left mounted in its directories (dockerd 20.10 bind-mounts its data-root onto itself and does not
    /// always undo that, in particular when it refuses to start).
    fn stop(&self) {
        self.kill();
        self.unmount();
    }

    fn unmount(&self) {
        let prefix = format!("{}/", self.dir.path().display());
        for _ in 0..10 {
            let mounts: Vec<String> = fs::read_to_string("/proc/mounts")
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
                .filter(|m| m.starts_with(&prefix))
                .collect();
            if mounts.is_empty() {
                return;
            }
            for m in mounts.iter().rev() {
                let _ = Command::new("umount").arg(m).status();
            }
        }
    }

    fn kill(&self) {
        let Some(pid) = self.pid() else { return };
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = fs::remove_file(self.path("dockerd.pid"));
    }
}

impl Drop for SecondDaemon {
    fn drop(&mut self) {
        self.stop();
        let _ = Command::new("ip").args(["link", "del", &self.bridge]).status();
    }
}

fn configure(config: &Path, extra: &[&str]) -> serde_json::Value {
    let out = run_logged(devgpu().args(["--json", "host", "configure-docker", "--config"]).arg(config).args(extra));
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{envelope:#}");
    envelope
}

#[test]
fn dockerd_registers_the_runtime_devgpu_wrote_and_uses_it_as_default() {
    if !prerequisites() {
        return;
    }
    let daemon = SecondDaemon::new();
    // A realistic file to start from: devgpu adds to it.
    let config = daemon.path("daemon.json");
    fs::write(&config, "{\n  \"log-driver\": \"json-file\",\n  \"log-opts\": {\"max-size\": \"10m\"},\n  \"features\": {\"buildkit\": false}\n}\n").unwrap();
    let e = configure(&config, &["--set-default", "--runtime-path", "runc"]);
    assert_eq!(e["data"]["changed"], true);

    daemon.start(&config).unwrap_or_else(|log| panic!("dockerd refused the file devgpu wrote:\n{}\n--- dockerd log:\n{log}", fs::read_to_string(&config).unwrap()));
    let info = daemon.info().unwrap();
    let runtimes = info.runtimes.clone().unwrap_or_default();
    let nvidia = runtimes.get("nvidia").unwrap_or_else(|| panic!("runtime nvidia not registered: {:?}", runtimes.keys()));
    assert_eq!(nvidia.path.as_deref(), Some("runc"));
    assert_eq!(info.default_runtime.as_deref(), Some("nvidia"));

    // And devgpu's own --verify, through --docker-host, agrees (the file is unchanged: nothing is written).
    let e = configure(&config, &["--set-default", "--runtime-path", "runc", "--verify", "--docker-host", &daemon.host()]);
    assert_eq!(e["data"]["changed"], false);
    let v = &e["data"]["verify"];
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(v["runtimeRegistered"], true);
    assert_eq!(v["runtimePath"], "runc");
    assert_eq!(v["defaultRuntime"], "nvidia");
}

/// `--restart` runs the restart command, waits until the daemon answers, then verifies; a daemon that still
/// runs with the old file fails --verify with the restart command as the fix.
#[test]
fn restart_then_verify_against_a_second_daemon() {
    if !prerequisites() {
        return;
    }
    let daemon = SecondDaemon::new();
    let config = daemon.path("daemon.json");
    fs::write(&config, "{}\n").unwrap();
    daemon.start(&config).unwrap();

    // Before the restart the daemon has no nvidia runtime: --verify alone fails, exit 1, with the fix.
    let out = run_logged(
        devgpu().args(["--json", "--docker-host", &daemon.host(), "host", "configure-docker", "--config"]).arg(&config).args(["--set-default", "--runtime-path", "runc", "--verify", "--restart-command", "true"]),
    );
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{e:#}");
    assert_eq!(e["outcome"], "error");
    assert_eq!(e["data"]["written"], true);
    let problems = e["data"]["verify"]["problems"].to_string();
    assert!(problems.contains("does not list the runtime `nvidia`") && problems.contains("restart it"), "{problems}");

    // --restart with a command that stops this daemon by its PID and starts it again on the new file.
    let restart = format!("kill $(cat {pid}) && while [ -e {pid} ]; do sleep 0.1; done && {start}", pid = daemon.path("dockerd.pid").display(), start = daemon.start_command(&config));
    let e = configure(&config, &["--set-default", "--runtime-path", "runc", "--restart", "--restart-command", &restart, "--docker-host", &daemon.host()]);
    assert_eq!(e["data"]["restart"]["ok"], true, "{e:#}");
    assert_eq!(e["data"]["verify"]["ok"], true, "{e:#}");
    assert_eq!(e["data"]["verify"]["defaultRuntime"], "nvidia");
    let info = daemon.info().unwrap();
    assert_eq!(info.default_runtime.as_deref(), Some("nvidia"));
}

/// Every file the corpus expects devgpu to write starts a real dockerd 20.10 with the nvidia runtime registered
/// (the corpus's runtime path stands for a binary that is not here; dockerd only looks for it when a container
/// starts). A `data-root` in the file is pointed into the test's directory (dockerd refuses the flag and the key
/// together, and the test must not create /srv/docker).
#[test]
fn every_corpus_output_starts_dockerd() {
    if !prerequisites() {
        return;
    }
    let root = fixture("daemon-json");
    let mut cases: Vec<PathBuf> = fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("expected.json").exists()).collect();
    cases.sort();
    assert!(cases.len() >= 20, "{cases:?}");
    let daemon = SecondDaemon::new();
    let mut failures = Vec::new();
    for case in &cases {
        let text = fs::read_to_string(case.join("expected.json")).unwrap();
        let config = daemon.path("daemon.json");
        let mut args_data_root = false;
        let text = if text.contains("\"data-root\"") {
            args_data_root = true;
            text.replace("/srv/docker", &daemon.path("data").display().to_string())
        } else {
            text
        };
        fs::write(&config, &text).unwrap();
        let mut command = daemon.start_command(&config);
        if args_data_root {
            command = command.replace(&format!("--data-root {} ", daemon.path("data").display()), "");
        }
        let _ = fs::remove_file(daemon.path("dockerd.log"));
        assert!(Command::new("sh").args(["-c", &command]).stdin(Stdio::null()).status().unwrap().success());
        match daemon.wait_ready(Duration::from_secs(60)) {
            Ok(()) => {
                let info = daemon.info().unwrap();
                let names = info.runtimes.unwrap_or_default();
                if !names.contains_key("nvidia") {
                    failures.push(format!("{}: started, but no nvidia runtime: {:?}", case.display(), names.keys()));
                }
            }
            Err(log) => failures.push(format!("{}: dockerd refused it:\n{log}", case.display())),
        }
        daemon.stop();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    if !in_ci() {
        eprintln!("{} corpus outputs started dockerd", cases.len());
    }
}
