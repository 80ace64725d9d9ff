//! Docker over SSH, the docker CLI's way: every connection is the system `ssh` running `docker system dial-stdio`
//! on the server, and HTTP goes over its stdin/stdout. The user's `~/.ssh/config` (host aliases, `ProxyJump`,
//! `ControlMaster`), agent, keys and `known_hosts` all apply, as they do for `docker -H ssh://…` and VS Code.
//!
//! Why not bollard's `ssh` feature: it drops the port of `ssh://user@host:port` ("Could not resolve hostname
//! host:port"), starts a new ssh master for every connection, and its errors do not say why ssh failed. Here the
//! port and user go to ssh as `-p` / `-l` (as the docker CLI passes them), connections are pooled (one ssh process
//! serves many requests through HTTP keep-alive), and ssh's own stderr is read back to tell a refused key from an
//! unknown host key, a server without docker, or a user without access to its socket ([`classify`]).
//!
//! Pure: [`SshTarget`] (URL → ssh arguments) and [`classify`]. Edge: [`client_factory`] (the transport bollard uses) and
//! [`run_remote`] (one command on the server, for doctor's facts).

use crate::error::ErrorCode;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How long ssh may take to reach the server (`-o ConnectTimeout`, as the docker CLI sets it).
pub const SSH_CONNECT_TIMEOUT_S: u64 = 30;

/// An `ssh://[user@]host[:port][/socket/path]` Docker host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SshTarget {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A host name, an address, or a `Host` alias of `~/.ssh/config`.
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The daemon's socket on the server (`ssh://host/run/docker.sock`), else the docker CLI's default there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket_path: Option<String>,
}

impl SshTarget {
    /// Parse an `ssh://` URL as the docker CLI accepts it (pure).
    pub fn parse(url: &str) -> Result<SshTarget, String> {
        let rest = url.strip_prefix("ssh://").ok_or_else(|| format!("{url} is not an ssh:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        if authority.contains('?') || authority.contains('#') || path.is_some_and(|p| p.contains('?') || p.contains('#')) {
            return Err(format!("{url}: query strings and fragments are not allowed in an ssh:// Docker host"));
        }
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, _)) if u.contains(':') => return Err(format!("{url}: a password in the URL is not supported; use a key or the ssh agent (user `{}`)", u.split(':').next().unwrap_or(u))),
            Some((u, h)) if !u.is_empty() => (Some(u.to_string()), h),
            Some((_, h)) => (None, h),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| format!("{url}: unclosed [ in the host"))?;
            match after {
                "" => (h.to_string(), None),
                p => (h.to_string(), Some(p.strip_prefix(':').ok_or_else(|| format!("{url}: expected :PORT after ]"))?)),
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(format!("{url}: no host name"));
        }
        let port = match port {
            None | Some("") => None,
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("{url}: `{p}` is not a port number"))?),
        };
        let socket_path = path.filter(|p| *p != "/").map(str::to_string);
        Ok(SshTarget { user, host, port, socket_path })
    }

    /// `user@host:port` for messages.
    pub fn display(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{}{host}{}", self.user.as_ref().map(|u| format!("{u}@")).unwrap_or_default(), self.port.map(|p| format!(":{p}")).unwrap_or_default())
    }

    /// ssh's arguments before the remote command: the docker CLI's (`-o ConnectTimeout=30 -T [-l user] [-p port]
    /// -- host`). Nothing else, so the user's ssh configuration decides the rest.
    pub fn ssh_args(&self) -> Vec<String> {
        let mut a = vec!["-o".to_string(), format!("ConnectTimeout={SSH_CONNECT_TIMEOUT_S}"), "-T".to_string()];
        if let Some(u) = &self.user {
            a.extend(["-l".to_string(), u.clone()]);
        }
        if let Some(p) = self.port {
            a.extend(["-p".to_string(), p.to_string()]);
        }
        a.extend(["--".to_string(), self.host.clone()]);
        a
    }

    /// The remote command that connects stdin/stdout to the daemon.
    pub fn dial_stdio(&self) -> Vec<String> {
        let mut c = vec!["docker".to_string()];
        if let Some(p) = &self.socket_path {
            c.extend(["--host".to_string(), format!("unix://{p}")]);
        }
        c.extend(["system".to_string(), "dial-stdio".to_string()]);
        c
    }

    /// The command line a user can paste to reproduce what devgpu runs (for hints).
    pub fn command_line(&self, remote: &str) -> String {
        let mut s = String::from("ssh");
        if let Some(p) = self.port {
            s.push_str(&format!(" -p {p}"));
        }
        s.push(' ');
        s.push_str(&self.user.as_ref().map(|u| format!("{u}@")).unwrap_or_default());
        s.push_str(&self.host);
        if !remote.is_empty() {
            s.push(' ');
            s.push_str(remote);
        }
        s
    }

    /// `[host]:port` or `host`, as known_hosts names the server.
    pub fn known_hosts_name(&self) -> String {
        match self.port {
            Some(p) if p != 22 => format!("[{}]:{p}", self.host),
            _ => self.host.clone(),
        }
    }
}

/// Why ssh (or the docker CLI it ran on the server) failed, read from ssh's stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SshProblem {
    /// No `ssh` program here.
    SshMissing,
    /// The server refused every key (and password) offered.
    Auth,
    /// The server's host key is not in known_hosts (and ssh may not ask).
    HostKeyUnknown,
    /// The server's host key differs from the one in known_hosts.
    HostKeyChanged,
    /// The host name does not resolve.
    Resolve,
    /// Nothing listens on the ssh port.
    Refused,
    /// The server did not answer in time.
    Timeout,
    /// The server has no `docker` command on the login PATH.
    NoDocker,
    /// The docker CLI on the server is too old for `docker system dial-stdio` (before 18.09).
    NoDialStdio,
    /// The remote user may not open the daemon's socket.
    DockerPermission,
    /// No daemon answers on the server.
    DaemonDown,
    /// Anything else: ssh's words are in the message.
    Other,
}

impl SshProblem {
    pub fn code(&self) -> ErrorCode {
        match self {
            SshProblem::SshMissing => ErrorCode::SshMissing,
            SshProblem::Auth => ErrorCode::SshAuthFailed,
            SshProblem::HostKeyUnknown => ErrorCode::SshHostKeyUnknown,
            SshProblem::HostKeyChanged => ErrorCode::SshHostKeyChanged,
            SshProblem::Resolve => ErrorCode::SshHostUnknown,
            SshProblem::Refused => ErrorCode::SshConnectionRefused,
            SshProblem::Timeout => ErrorCode::SshTimeout,
            SshProblem::NoDocker => ErrorCode::SshNoDocker,
            SshProblem::NoDialStdio => ErrorCode::SshDockerTooOld,
            SshProblem::DockerPermission => ErrorCode::SshDockerPermissionDenied,
            SshProblem::DaemonDown => ErrorCode::SshDockerDaemonDown,
            SshProblem::Other => ErrorCode::SshFailed,
        }
    }

    /// One phrase: what went wrong.
    pub fn reason(&self) -> &'static str {
        match self {
            SshProblem::SshMissing => "there is no `ssh` program on this machine",
            SshProblem::Auth => "ssh could not log in: the server refused the keys offered",
            SshProblem::HostKeyUnknown => "the server's ssh host key is not known here (not in known_hosts), so ssh refused to connect",
            SshProblem::HostKeyChanged => "the server's ssh host key differs from the one in known_hosts, so ssh refused to connect",
            SshProblem::Resolve => "the host name does not resolve",
            SshProblem::Refused => "nothing accepts ssh connections there",
            SshProblem::Timeout => "the server did not answer in time",
            SshProblem::NoDocker => "the server has no `docker` command (the docker CLI runs `docker system dial-stdio` there)",
            SshProblem::NoDialStdio => "the server's docker CLI is too old for `docker system dial-stdio` (Docker 18.09 or later is needed)",
            SshProblem::DockerPermission => "the user on the server may not use Docker (permission denied on its socket)",
            SshProblem::DaemonDown => "no Docker daemon is running on the server",
            SshProblem::Other => "ssh failed",
        }
    }

    /// The exact fixes for `target`.
    pub fn hints(&self, target: &SshTarget) -> Vec<String> {
        let login = target.command_line("");
        let user = target.user.clone().unwrap_or_else(|| "$USER".into());
        match self {
            SshProblem::SshMissing => vec!["install the OpenSSH client: Debian/Ubuntu `sudo apt install openssh-client`".into()],
            SshProblem::Auth => vec![
                format!(
                    "install your public key on the server: `ssh-copy-id{} {}{}` (or add it to the agent: `ssh-add`)",
                    target.port.map(|p| format!(" -p {p}")).unwrap_or_default(),
                    target.user.as_ref().map(|u| format!("{u}@")).unwrap_or_default(),
                    target.host
                ),
                format!("`{}` must log in without a password prompt; for a specific key add `IdentityFile` to a `Host {}` entry in ~/.ssh/config", target.command_line("docker version"), target.host),
            ],
            SshProblem::HostKeyUnknown => vec![format!(
                "connect once by hand and accept the host key after checking its fingerprint: `{login}` (or add the server's key to ~/.ssh/known_hosts as {})",
                target.known_hosts_name()
            )],
            SshProblem::HostKeyChanged => vec![format!(
                "if the server was reinstalled, remove the old key: `ssh-keygen -R '{}'`, then connect once by hand: `{login}`; otherwise find out why the key changed before connecting",
                target.known_hosts_name()
            )],
            SshProblem::Resolve => vec![format!("check the host name, or define it as a `Host {}` alias in ~/.ssh/config", target.host)],
            SshProblem::Refused | SshProblem::Timeout => vec![format!("check that sshd runs on the server and is reachable from here: `{}`", target.command_line("true"))],
            SshProblem::NoDocker => vec![
                "install Docker on the server (the docker CLI must be on the PATH of non-interactive ssh sessions): https://docs.docker.com/engine/install/ or the distribution's docker.io".into(),
                format!("check: `{}`", target.command_line("docker version")),
            ],
            SshProblem::NoDialStdio => vec!["upgrade Docker on the server to 18.09 or later".into()],
            SshProblem::DockerPermission => vec![
                format!("on the server: `sudo usermod -aG docker {user}`, then log in again"),
                format!("or connect as a user who may use Docker there: ssh://USER@{}", target.host),
            ],
            SshProblem::DaemonDown => vec![format!("start Docker on the server: `{}`", target.command_line("sudo systemctl start docker"))],
            SshProblem::Other => vec![format!("run `{}` to see the same error", target.command_line("docker version"))],
        }
    }
}

/// Classify ssh's stderr (pure). ssh's own messages come first, then the docker CLI's on the server.
pub fn classify(stderr: &str) -> SshProblem {
    let s = stderr.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| s.contains(n));
    if has(&["remote host identification has changed", "host key for", "offending"]) && has(&["changed", "offending"]) {
        return SshProblem::HostKeyChanged;
    }
    if has(&["host key verification failed", "no ed25519 host key is known", "no ecdsa host key is known", "no rsa host key is known", "host key is known for"]) {
        return SshProblem::HostKeyUnknown;
    }
    if has(&["permission denied (", "too many authentication failures", "no more authentication methods"]) {
        return SshProblem::Auth;
    }
    if has(&["could not resolve hostname", "name or service not known", "temporary failure in name resolution"]) {
        return SshProblem::Resolve;
    }
    if has(&["connection refused"]) && has(&["port", "connect to host"]) {
        return SshProblem::Refused;
    }
    if has(&["connection timed out", "operation timed out", "timed out during banner exchange"]) {
        return SshProblem::Timeout;
    }
    // The server's side: the docker CLI (or the shell that looked for it).
    if has(&["docker: command not found", "docker: not found", "docker: no such file or directory", "command not found: docker", "unknown command: docker", "exec: docker:"]) {
        return SshProblem::NoDocker;
    }
    if has(&["'system dial-stdio' is not a docker command", "unknown command \"dial-stdio\"", "'dial-stdio' is not a docker command"]) {
        return SshProblem::NoDialStdio;
    }
    // `docker system dial-stdio` says "failed to open the raw stream connection: dial unix …: connect: …".
    if has(&["permission denied while trying to connect to the docker daemon", "got permission denied while trying to connect"]) || (has(&["dial unix"]) && has(&["permission denied"])) {
        return SshProblem::DockerPermission;
    }
    if has(&["cannot connect to the docker daemon", "is the docker daemon running"]) || (has(&["dial unix"]) && has(&["no such file", "connection refused"])) {
        return SshProblem::DaemonDown;
    }
    SshProblem::Other
}

/// An ssh failure, carried inside bollard's error (see [`super::map_error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshFailure {
    pub problem: SshProblem,
    /// ssh's stderr, trimmed to its informative lines.
    pub detail: String,
}

impl std::fmt::Display for SshFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.detail.is_empty() {
            write!(f, "{}", self.problem.reason())
        } else {
            write!(f, "{} (ssh: {})", self.problem.reason(), self.detail)
        }
    }
}

impl std::error::Error for SshFailure {}

/// ssh's stderr without the noise (`Warning: Permanently added …`, blank lines), joined with `; `, at most
/// a few lines.
pub fn stderr_detail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added") && !l.starts_with("@@@") && !l.starts_with("debug"))
        .collect();
    let keep = if lines.len() > 4 { &lines[lines.len() - 4..] } else { &lines[..] };
    keep.join("; ")
}

// ---------------------------------------------------------------------------------------------------------
// Edge: the connector and the transport

/// The stderr of ssh processes that ended, newest last (a few kept), so a failed request can say why.
#[derive(Default)]
struct StderrLog {
    ended: Vec<String>,
    count: usize,
}

#[derive(Clone)]
struct SshConnector {
    target: Arc<SshTarget>,
    log: Arc<Mutex<StderrLog>>,
}

/// One `ssh … docker system dial-stdio` process as a byte stream.
struct SshIo {
    _child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
}

impl AsyncRead for SshIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.stdin.as_mut() {
            Some(s) => Pin::new(s).poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.stdin.as_mut() {
            Some(s) => Pin::new(s).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }
    /// Closing the write side closes ssh's stdin: dial-stdio half-closes the daemon connection, as
    /// the docker CLI's `CloseWrite` does.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(s) = self.stdin.as_mut() {
            match Pin::new(s).poll_shutdown(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(_) => {}
            }
        }
        self.stdin = None;
        Poll::Ready(Ok(()))
    }
}

impl Connection for SshIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

fn spawn_ssh(target: &SshTarget, remote: &[String]) -> io::Result<Child> {
    Command::new("ssh")
        .args(target.ssh_args())
        .args(remote)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
}

impl tower_service::Service<hyper::Uri> for SshConnector {
    type Response = TokioIo<SshIo>;
    type Error = io::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let target = self.target.clone();
        let log = self.log.clone();
        Box::pin(async move {
            let mut child = spawn_ssh(&target, &target.dial_stdio()).map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    io::Error::other(SshFailure { problem: SshProblem::SshMissing, detail: String::new() })
                } else {
                    e
                }
            })?;
            let stdin = child.stdin.take().expect("piped stdin");
            let stdout = child.stdout.take().expect("piped stdout");
            if let Some(mut stderr) = child.stderr.take() {
                tokio::spawn(async move {
                    let mut text = Vec::new();
                    let _ = (&mut stderr).take(64 * 1024).read_to_end(&mut text).await;
                    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
                    l.ended.push(String::from_utf8_lossy(&text).into_owned());
                    l.count += 1;
                    if l.ended.len() > 8 {
                        l.ended.remove(0);
                    }
                });
            }
            Ok(TokioIo::new(SshIo { _child: child, stdin: Some(stdin), stdout }))
        })
    }
}

/// Bollard clients whose every connection is `ssh … docker system dial-stdio` to `target`: one per API version
/// asked for, all sharing one pool of ssh connections (so agreeing on the version costs no new connection).
pub fn client_factory(target: &SshTarget, timeout_s: u64) -> impl Fn(&bollard::ClientVersion) -> Result<bollard::Docker, bollard::errors::Error> {
    let log: Arc<Mutex<StderrLog>> = Arc::default();
    let connector = SshConnector { target: Arc::new(target.clone()), log: log.clone() };
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    move |version| {
        let client = client.clone();
        let log = log.clone();
        bollard::Docker::connect_with_custom_transport(
            move |req: bollard::BollardRequest| {
                let client = client.clone();
                let log = log.clone();
                async move {
                    let seen = log.lock().map(|l| l.count).unwrap_or(0);
                    match client.request(req).await {
                        Ok(r) => Ok(r),
                        Err(e) => Err(request_error(e, &log, seen).await),
                    }
                }
            },
            Some("http://docker"),
            timeout_s,
            version,
        )
    }
}

/// A failed request: when an ssh process ended meanwhile with something on stderr, its words say why.
async fn request_error(e: hyper_util::client::legacy::Error, log: &Mutex<StderrLog>, seen: usize) -> bollard::errors::Error {
    // A spawn failure (no ssh) is already an SshFailure inside the connect error.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(f) = s.downcast_ref::<io::Error>().and_then(|io| io.get_ref()).and_then(|i| i.downcast_ref::<SshFailure>()) {
            return bollard::errors::Error::IOError { err: io::Error::other(f.clone()) };
        }
        source = s.source();
    }
    // ssh closes stdout when it exits; its stderr may arrive a moment later.
    let mut stderr = None;
    for _ in 0..40 {
        {
            let l = log.lock().unwrap_or_else(|p| p.into_inner());
            if l.count > seen {
                stderr = l.ended.iter().rev().find(|t| !stderr_detail(t).is_empty()).cloned().or_else(|| l.ended.last().cloned());
            }
        }
        if stderr.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    match stderr {
        Some(text) => bollard::errors::Error::IOError { err: io::Error::other(SshFailure { problem: classify(&text), detail: stderr_detail(&text) }) },
        None => bollard::errors::Error::HyperLegacyError { err: e },
    }
}

/// What one command on the server printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Run `remote` on the server through ssh with `stdin` as its input (edge). ssh's own failures (exit 255)
/// come back as [`SshFailure`]; the command's exit code is the caller's to judge.
pub async fn run_remote(target: &SshTarget, remote: &[String], stdin: &str, timeout: Duration) -> Result<RemoteOutput, SshFailure> {
    let mut child = spawn_ssh(target, remote).map_err(|e| SshFailure {
        problem: if e.kind() == io::ErrorKind::NotFound { SshProblem::SshMissing } else { SshProblem::Other },
        detail: e.to_string(),
    })?;
    let mut input = child.stdin.take().expect("piped stdin");
    let data = stdin.as_bytes().to_vec();
    let writer = async move {
        let _ = input.write_all(&data).await;
        let _ = input.shutdown().await;
    };
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let work = async {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let ((), r1, r2) = tokio::join!(writer, out.read_to_end(&mut o), err.read_to_end(&mut e));
        let _ = (r1, r2);
        let status = child.wait().await;
        (status, o, e)
    };
    let (status, o, e) = tokio::time::timeout(timeout, work).await.map_err(|_| SshFailure {
        problem: SshProblem::Timeout,
        detail: format!("`{}` did not finish within {} s", target.command_line(&remote.join(" ")), timeout.as_secs()),
    })?;
    let stderr = String::from_utf8_lossy(&e).into_owned();
    let code = status.ok().and_then(|s| s.code());
    if code == Some(255) || code.is_none() {
        return Err(SshFailure { problem: classify(&stderr), detail: stderr_detail(&stderr) });
    }
    Ok(RemoteOutput { code, stdout: String::from_utf8_lossy(&o).into_owned(), stderr })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(url: &str) -> SshTarget {
        SshTarget::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn urls_with_user_port_and_path() {
        assert_eq!(t("ssh://root@127.0.0.1:2299"), SshTarget { user: Some("root".into()), host: "127.0.0.1".into(), port: Some(2299), socket_path: None });
        assert_eq!(t("ssh://gpubox"), SshTarget { user: None, host: "gpubox".into(), port: None, socket_path: None });
        assert_eq!(t("ssh://me@gpubox/"), SshTarget { user: Some("me".into()), host: "gpubox".into(), port: None, socket_path: None });
        assert_eq!(t("ssh://me@gpubox:22/run/user/1000/docker.sock").socket_path.as_deref(), Some("/run/user/1000/docker.sock"));
        assert_eq!(t("ssh://u@[::1]:2222"), SshTarget { user: Some("u".into()), host: "::1".into(), port: Some(2222), socket_path: None });
        assert_eq!(t("ssh://first.last@corp@host").user.as_deref(), Some("first.last@corp"));
        for bad in ["ssh://", "ssh://u@", "ssh://h:port", "ssh://h:0", "ssh://h:70000", "ssh://u:pw@h", "tcp://h", "ssh://[::1", "ssh://h?x=1"] {
            assert!(SshTarget::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn ssh_gets_the_port_and_user_as_flags_like_the_docker_cli() {
        let target = t("ssh://root@127.0.0.1:2299");
        assert_eq!(target.ssh_args(), ["-o", "ConnectTimeout=30", "-T", "-l", "root", "-p", "2299", "--", "127.0.0.1"]);
        assert_eq!(target.dial_stdio(), ["docker", "system", "dial-stdio"]);
        assert_eq!(t("ssh://gpubox").ssh_args(), ["-o", "ConnectTimeout=30", "-T", "--", "gpubox"]);
        assert_eq!(t("ssh://h/run/docker.sock").dial_stdio(), ["docker", "--host", "unix:///run/docker.sock", "system", "dial-stdio"]);
        assert_eq!(target.command_line("docker version"), "ssh -p 2299 root@127.0.0.1 docker version");
        assert_eq!(target.known_hosts_name(), "[127.0.0.1]:2299");
        assert_eq!(target.display(), "root@127.0.0.1:2299");
        assert_eq!(t("ssh://u@[::1]:2").display(), "u@[::1]:2");
    }

    /// The stderr texts of OpenSSH 9.2 and the docker CLI, as seen against a real sshd on loopback.
    #[test]
    fn stderr_says_why() {
        assert_eq!(classify("root@127.0.0.1: Permission denied (publickey).\r\n"), SshProblem::Auth);
        assert_eq!(classify("Host key verification failed.\r\n"), SshProblem::HostKeyUnknown);
        assert_eq!(
            classify("No ED25519 host key is known for [127.0.0.1]:2299 and you have requested strict checking.\r\nHost key verification failed.\r\n"),
            SshProblem::HostKeyUnknown
        );
        let changed = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\nOffending ED25519 key in /root/.ssh/known_hosts:3\nHost key for [127.0.0.1]:2299 has changed and you have requested strict checking.\nHost key verification failed.\n";
        assert_eq!(classify(changed), SshProblem::HostKeyChanged);
        assert_eq!(classify("ssh: Could not resolve hostname gpubox: Name or service not known\r\n"), SshProblem::Resolve);
        assert_eq!(classify("ssh: connect to host 127.0.0.1 port 2299: Connection refused\r\n"), SshProblem::Refused);
        assert_eq!(classify("ssh: connect to host 10.0.0.1 port 22: Connection timed out\r\n"), SshProblem::Timeout);
        assert_eq!(classify("bash: line 1: docker: command not found\n"), SshProblem::NoDocker);
        assert_eq!(classify("sh: 1: docker: not found\n"), SshProblem::NoDocker);
        assert_eq!(classify("docker: 'system dial-stdio' is not a docker command.\nSee 'docker --help'\n"), SshProblem::NoDialStdio);
        assert_eq!(
            classify("permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/_ping\": dial unix /var/run/docker.sock: connect: permission denied\n"),
            SshProblem::DockerPermission
        );
        assert_eq!(classify("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"), SshProblem::DaemonDown);
        // What `docker system dial-stdio` (Docker 28) prints.
        assert_eq!(classify("failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: permission denied\n"), SshProblem::DockerPermission);
        assert_eq!(classify("failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: no such file or directory\n"), SshProblem::DaemonDown);
        assert_eq!(classify("kex_exchange_identification: read: Connection reset by peer\n"), SshProblem::Other);
    }

    #[test]
    fn details_drop_the_noise() {
        let s = "Warning: Permanently added '[127.0.0.1]:2299' (ED25519) to the list of known hosts.\r\n\nroot@127.0.0.1: Permission denied (publickey).\r\n";
        assert_eq!(stderr_detail(s), "root@127.0.0.1: Permission denied (publickey).");
        let f = SshFailure { problem: classify(s), detail: stderr_detail(s) };
        assert_eq!(f.to_string(), "ssh could not log in: the server refused the keys offered (ssh: root@127.0.0.1: Permission denied (publickey).)");
    }

    #[test]
    fn hints_name_the_exact_commands() {
        let target = t("ssh://root@127.0.0.1:2299");
        assert!(SshProblem::HostKeyUnknown.hints(&target)[0].contains("`ssh -p 2299 root@127.0.0.1`"));
        assert!(SshProblem::HostKeyChanged.hints(&target)[0].contains("ssh-keygen -R '[127.0.0.1]:2299'"));
        assert!(SshProblem::Auth.hints(&target)[0].contains("ssh-copy-id -p 2299 root@127.0.0.1"), "{:?}", SshProblem::Auth.hints(&target));
        assert!(SshProblem::DockerPermission.hints(&target)[0].contains("sudo usermod -aG docker root"));
    }
}
