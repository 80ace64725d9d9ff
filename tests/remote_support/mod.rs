//! A GPU server on loopback for the remote tests: a real sshd (Debian's openssh-server) started by the test on its
//! own 127.0.0.1 port with a host key and an authorized key generated for it — never the system's keys or
//! configuration — in front of this machine's dockerd, and a dedicated client user (ssh reads the client's
//! `~/.ssh` from the passwd database, not from `$HOME`, so the client side is a user made with `useradd -m`,
//! whose ~/.ssh holds the key, the known_hosts line and a config with `BatchMode yes`).
//!
//! Cleanup on every path (panics included, through `Drop`): the sshd is stopped by its PID, the user and its home
//! are removed, containers and volumes of its workspaces are removed by label / name.
//!
//! Needs root, `sshd`, `ssh-keygen`, `useradd`/`userdel`, `runuser`: `.ci/run` installs openssh-server.
#![allow(dead_code)]

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;
use crate::common::tools::missing_prerequisite;

/// useradd/userdel take /etc/passwd's lock: one at a time within a test binary.
static USERS: Mutex<()> = Mutex::new(());

const SSHD: &str = "/usr/sbin/sshd";
const FIX: &str = "apt-get install openssh-server   (as root; or run .ci/run)";

fn have(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Everything the remote tests need besides Docker: root, sshd and the user tools. Panics under CI when missing.
pub fn ssh_prerequisites() -> bool {
    if !is_root() {
        return missing_prerequisite("the remote tests run as root (they start sshd and add a user)", "run the tests as root (.ci/run does)");
    }
    if !Path::new(SSHD).exists() {
        return missing_prerequisite("sshd (openssh-server) is not installed", FIX);
    }
    for p in ["ssh", "ssh-keygen", "useradd", "userdel", "runuser"] {
        if !have(p) {
            return missing_prerequisite(&format!("{p} is not on PATH"), FIX);
        }
    }
    true
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", common::tools::describe(cmd)));
    assert!(out.status.success(), "{} failed: {}{}", common::tools::describe(cmd), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

/// A free port on 127.0.0.1 (bound and released; sshd takes it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The sshd's key pair and host key, made for one test.
pub struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    pub fn new() -> Keys {
        let dir = tempfile::Builder::new().prefix("devgpu-sshd-").tempdir().unwrap();
        for name in ["host_key", "client_key", "other_key"] {
            run_ok(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", &format!("devgpu-test {name}"), "-f"]).arg(dir.path().join(name)));
        }
        fs::copy(dir.path().join("client_key.pub"), dir.path().join("authorized_keys")).unwrap();
        Keys { dir }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub fn host_public(&self) -> String {
        fs::read_to_string(self.path("host_key.pub")).unwrap().trim().to_string()
    }
}

/// A running sshd on 127.0.0.1:port, killed on drop.
pub struct Sshd {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _config: tempfile::TempDir,
}

impl Sshd {
    /// Start sshd with `keys`, plus `extra` config lines (e.g. `SetEnv PATH=…` for a server without docker).
    pub fn start(keys: &Keys, extra: &[&str]) -> Sshd {
        fs::create_dir_all("/run/sshd").unwrap(); // the privilege separation directory sshd insists on
        let dir = tempfile::Builder::new().prefix("devgpu-sshd-conf-").tempdir().unwrap();
        for attempt in 0..5 {
            let port = free_port();
            let log = dir.path().join(format!("sshd-{attempt}.log"));
            let config = dir.path().join("sshd_config");
            let mut text = format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {auth}\nPidFile none\nStrictModes no\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUseDNS no\nLogLevel VERBOSE\n",
                host = keys.path("host_key").display(),
                auth = keys.path("authorized_keys").display(),
            );
            for l in extra {
                text.push_str(l);
                text.push('\n');
            }
            fs::write(&config, text).unwrap();
            let mut child = Command::new(SSHD).args(["-D", "-e", "-f"]).arg(&config).stdin(Stdio::null()).stdout(Stdio::null()).stderr(fs::File::create(&log).unwrap()).spawn().unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut up = false;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken meanwhile: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    up = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if up {
                return Sshd { child, port, log, _config: dir };
            }
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("sshd on {port} did not start: {}", fs::read_to_string(&log).unwrap_or_default());
        }
        panic!("sshd did not start on any port");
    }

    /// `ssh://USER@127.0.0.1:PORT`.
    pub fn url(&self, user: &str) -> String {
        format!("ssh://{user}@127.0.0.1:{}", self.port)
    }

    /// The known_hosts line for this server.
    pub fn known_hosts_line(&self, keys: &Keys) -> String {
        format!("[127.0.0.1]:{} {}", self.port, keys.host_public())
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A dedicated client user (`useradd -m`), removed with its home on drop.
pub struct TestUser {
    pub name: String,
    pub home: PathBuf,
    /// The devgpu binary this user can run (the build's, or a copy in its home when the build is not reachable).
    pub devgpu: PathBuf,
}

impl TestUser {
    pub fn new() -> TestUser {
        let digits: String = common::docker::unique_suffix().chars().filter(|c| c.is_ascii_digit()).collect();
        let name = format!("dgt{}", &digits[..digits.len().min(28)]);
        {
            let _lock = USERS.lock().unwrap_or_else(|p| p.into_inner());
            // `-p '*'`: no password, but not a locked account (sshd refuses locked accounts even with a key).
            run_ok(Command::new("useradd").args(["-m", "-s", "/bin/sh", "-p", "*", &name]));
        }
        let home = PathBuf::from(format!("/home/{name}"));
        let mut user = TestUser { name, home, devgpu: PathBuf::from(env!("CARGO_BIN_EXE_devgpu")) };
        if !user.run(&["test", "-x", &user.devgpu.display().to_string()]).status.success() {
            let copy = user.home.join("devgpu");
            fs::copy(&user.devgpu, &copy).unwrap();
            fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
            user.devgpu = copy;
        }
        user
    }

    /// Give this user the client key (or another one), the server's known_hosts line (or none) and an ssh config
    /// that never prompts.
    pub fn ssh_setup(&self, keys: &Keys, key: &str, known_hosts: &[String]) {
        let ssh = self.home.join(".ssh");
        fs::create_dir_all(&ssh).unwrap();
        fs::copy(keys.path(key), ssh.join("id_ed25519")).unwrap();
        fs::set_permissions(ssh.join("id_ed25519"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(ssh.join("known_hosts"), known_hosts.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        fs::write(ssh.join("config"), "Host *\n  BatchMode yes\n  StrictHostKeyChecking yes\n  IdentitiesOnly yes\n  IdentityFile ~/.ssh/id_ed25519\n").unwrap();
        fs::set_permissions(&ssh, fs::Permissions::from_mode(0o700)).unwrap();
        self.chown(&ssh);
    }

    pub fn chown(&self, path: &Path) {
        run_ok(Command::new("chown").arg("-R").arg(format!("{0}:{0}", self.name)).arg(path));
    }

    /// `runuser -u USER -- env -i … PROGRAM ARGS…` with a clean environment (`env`: extra variables).
    pub fn command(&self, program: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", &self.name, "--", "env", "-i"]);
        cmd.arg(format!("HOME={}", self.home.display()));
        cmd.arg(format!("USER={}", self.name));
        cmd.arg(format!("PATH={}", std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into())));
        cmd.arg("NO_COLOR=1");
        // No test depends on a public host (see tools::offline_facts).
        cmd.arg("DEVGPU_OFFLINE=1");
        for (k, v) in env {
            cmd.arg(format!("{k}={v}"));
        }
        cmd.arg(program).args(args);
        cmd.stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, argv: &[&str]) -> Output {
        let mut cmd = self.command(argv[0], &argv[1..], &[]);
        cmd.output().unwrap()
    }

    /// `devgpu ARGS… --json` as this user in `dir` with `env`: (exit code, envelope, stderr).
    pub fn devgpu(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
        let mut full: Vec<&str> = args.to_vec();
        full.push("--json");
        let mut cmd = self.command(&self.devgpu.display().to_string(), &full, env);
        cmd.current_dir(dir);
        let out = cmd.output().unwrap();
        envelope(&cmd, out)
    }

    /// A workspace in this user's home holding `devcontainer_json`, owned by the user.
    pub fn workspace(&self, devcontainer_json: &str) -> PathBuf {
        let ws = self.home.join(format!("ws-{}", common::docker::unique_suffix()));
        common::tools::write_file(&ws, ".devcontainer/devcontainer.json", devcontainer_json);
        self.chown(&ws);
        ws
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        // Containers of this user's workspaces (found by the Dev Containers label).
        if let Ok(out) = Command::new("docker").args(["ps", "-aq", "--filter", "label=devcontainer.local_folder"]).output() {
            for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let folder = Command::new("docker").args(["inspect", "--format", "{{index .Config.Labels \"devcontainer.local_folder\"}}", id]).output();
                if folder.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim().starts_with(&format!("{}/", self.home.display()))) {
                    let _ = Command::new("docker").args(["rm", "-f", "-v", id]).output();
                }
            }
        }
        let _lock = USERS.lock().unwrap_or_else(|p| p.into_inner());
        let ok = Command::new("userdel").args(["-r", &self.name]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("userdel").args(["-r", "-f", &self.name]).stderr(Stdio::null()).status();
        }
    }
}

/// One JSON envelope on stdout, parsed.
pub fn envelope(cmd: &Command, out: Output) -> (i32, Value, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "devgpu panicked:\n{stderr}");
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("`{}` did not print one JSON object ({e}):\nstdout:\n{stdout}\nstderr:\n{stderr}", common::tools::describe(cmd)));
    assert_eq!(v["schemaVersion"], 1, "{v:#}");
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// `devgpu ARGS… --json` as root (this process's user) over the local socket, in `dir`.
pub fn devgpu_local(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut cmd = common::tools::devgpu();
    cmd.current_dir(dir).args(args).arg("--json").env_remove("DOCKER_HOST").env_remove("DOCKER_CONTEXT").env_remove("DOCKER_TLS_VERIFY").env_remove("DOCKER_TLS");
    let out = cmd.output().unwrap();
    envelope(&cmd, out)
}

/// The checks of a doctor or verify result as (id, status), in order.
pub fn statuses(checks: &Value) -> Vec<(String, String)> {
    checks.as_array().unwrap_or_else(|| panic!("not a check list: {checks:#}")).iter().map(|c| (c["id"].as_str().unwrap().to_string(), c["status"].as_str().unwrap().to_string())).collect()
}

pub fn check<'a>(checks: &'a Value, id: &str) -> &'a Value {
    checks.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no check {id} in {checks:#}"))
}

/// `docker inspect --format FORMAT ID` over the local socket.
pub fn inspect(id: &str, format: &str) -> String {
    let out = Command::new("docker").args(["inspect", "--format", format, id]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Remove a named volume (ignores a missing one).
pub fn remove_volume(name: &str) {
    let _ = Command::new("docker").args(["volume", "rm", "-f", name]).output();
}
