//! EDGE: the Docker API through bollard — where the daemon is ([`Endpoint`]), [`connect`] with errors that say
//! why not and how to fix it, `info` as plain facts ([`info::DaemonFacts`]) and the short-lived GPU probe container
//! ([`probe`]).
//!
//! Where the daemon is: `--docker-host`, else `DOCKER_HOST`, else the current docker context (`DOCKER_CONTEXT` or
//! `currentContext` in `$DOCKER_CONFIG/config.json`, default `~/.docker`), else `unix:///var/run/docker.sock`.
//! `unix://`, `tcp://` (plain, or TLS from `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH` or the context's material:
//! [`tls`]) and `ssh://[user@]host[:port]` (the system ssh running `docker system dial-stdio`: [`ssh`]) are
//! supported; `npipe://` is refused with a clear error.
//!
//! On Podman, one request goes to its own API instead ([`libpod`]): creating a container with CDI devices.

pub mod compose;
pub use crate::model::host::{Endpoint};
pub mod devcontainer;
pub mod info;
pub mod libpod;
pub mod probe;
pub mod ssh;
pub mod tls;

pub use info::{DaemonFacts, DockerProblem, RuntimeFact};
pub use probe::{ProbeOutcome, ProbeResult};

use crate::error::{Coded, ErrorCode};
use std::time::Duration;

pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// How long one API request may take (the probe container's wait has its own limit).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting and the first answer may take: a daemon that does not answer in this time is reported.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);


impl Endpoint {
    /// The socket path of a `unix://` endpoint (a bare absolute path counts as one).
    pub fn unix_path(&self) -> Option<&str> {
        self.url.strip_prefix("unix://").or_else(|| self.url.starts_with('/').then_some(self.url.as_str()))
    }

    /// A daemon on this machine: its daemon.json, pidfile and device nodes are this machine's.
    pub fn is_local(&self) -> bool {
        self.unix_path().is_some()
    }

    /// The server of an `ssh://` endpoint.
    pub fn ssh_target(&self) -> Option<ssh::SshTarget> {
        self.url.starts_with("ssh://").then(|| ssh::SshTarget::parse(&self.url).ok()).flatten()
    }
}

/// Resolve the endpoint (pure: the environment and the docker CLI's config files come in through `env` and
/// `read`). `docker_host` is `--docker-host` or `DOCKER_HOST` as [`crate::settings::Settings`] resolved them.
pub fn resolve_endpoint(docker_host: Option<&str>, env: &dyn Fn(&str) -> Option<String>, read: &dyn Fn(&str) -> Option<String>) -> Endpoint {
    let config_dir = env("DOCKER_CONFIG").filter(|d| !d.is_empty()).or_else(|| env("HOME").map(|h| format!("{h}/.docker")));
    let exists = |p: &str| read(p).is_some();
    if let Some(h) = docker_host.filter(|h| !h.is_empty()) {
        let origin = if env("DOCKER_HOST").as_deref() == Some(h) { "DOCKER_HOST" } else { "--docker-host" };
        let tls = if h.starts_with("tcp://") || h.starts_with("https://") { tls::resolve_env(env, config_dir.as_deref(), &exists) } else { None };
        return Endpoint { url: h.to_string(), origin: origin.into(), tls };
    }
    let context = env("DOCKER_CONTEXT").filter(|c| !c.is_empty()).or_else(|| {
        let text = read(&format!("{}/config.json", config_dir.as_deref()?))?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v.get("currentContext")?.as_str().map(str::to_string)
    });
    if let (Some(ctx), Some(dir)) = (context.filter(|c| c != "default"), config_dir) {
        if let Some((host, entry, skip_verify)) = context_host(&ctx, &dir, read) {
            let tls = if host.starts_with("tcp://") || host.starts_with("https://") {
                tls::resolve_context(&ctx, &format!("{dir}/contexts/tls/{entry}/docker"), skip_verify, &exists)
            } else {
                None
            };
            return Endpoint { url: host, origin: format!("docker context \"{ctx}\""), tls };
        }
    }
    Endpoint { url: DEFAULT_HOST.into(), origin: "the default socket".into(), tls: None }
}

/// The docker endpoint of a named context: `contexts/meta/<sha256(name)>/meta.json`. The folder name is a hash,
/// so the folders are listed by the caller's `read` of the index: devgpu reads each meta.json and matches `Name`.
/// Returns the host, the folder (the context's TLS material is under `contexts/tls/<folder>/docker`) and
/// `SkipTLSVerify`.
fn context_host(name: &str, config_dir: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<(String, String, bool)> {
    let listing = read(&format!("{config_dir}/contexts/meta/"))?;
    for entry in listing.lines() {
        let Some(text) = read(&format!("{config_dir}/contexts/meta/{entry}/meta.json")) else { continue };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        if v.get("Name").and_then(|n| n.as_str()) == Some(name) {
            let host = v.pointer("/Endpoints/docker/Host").and_then(|h| h.as_str())?.to_string();
            let skip = v.pointer("/Endpoints/docker/SkipTLSVerify").and_then(|b| b.as_bool()).unwrap_or(false);
            return Some((host, entry.to_string(), skip));
        }
    }
    None
}

/// The real environment and file system for [`resolve_endpoint`]: a path ending in `/` lists the folder.
pub fn endpoint_from_env(docker_host: Option<&str>) -> Endpoint {
    let env = |k: &str| std::env::var(k).ok();
    let read = |p: &str| -> Option<String> {
        if let Some(dir) = p.strip_suffix('/') {
            let names: Vec<String> = std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            Some(names.join("\n"))
        } else {
            std::fs::read_to_string(p).ok()
        }
    };
    resolve_endpoint(docker_host, &env, &read)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DockerError {
    #[error("cannot reach Docker at {url} ({origin}): the socket {path} does not exist — the Docker daemon is not running, or is not installed")]
    SocketMissing { url: String, origin: String, path: String },
    #[error("cannot reach Docker at {url} ({origin}): permission denied while trying to connect to the Docker daemon socket {path}")]
    PermissionDenied { url: String, origin: String, path: String },
    #[error("cannot reach Docker at {url} ({origin}): nothing answers there ({detail}) — the Docker daemon is not running")]
    DaemonDown { url: String, origin: String, detail: String },
    #[error("cannot use Docker at {url} ({origin}): {reason}")]
    Unsupported { url: String, origin: String, reason: String, hint: String },
    #[error("Docker at {url} ({origin}) did not answer within {seconds} s")]
    Timeout { url: String, origin: String, seconds: u64 },
    #[error("{message}")]
    Api { status: u16, message: String },
    #[error("Docker at {url} ({origin}): {message}")]
    Other { url: String, origin: String, message: String },
    /// ssh (or the docker CLI it runs on the server) failed; `code` is the [`ssh::SshProblem`]'s.
    #[error("cannot reach Docker at {url} ({origin}) over ssh: {message}")]
    Ssh { url: String, origin: String, code: ErrorCode, message: String, hints: Vec<String> },
    #[error("cannot reach Docker at {url} ({origin}) over TLS: {message}")]
    Tls { url: String, origin: String, message: String, hints: Vec<String> },
}

impl Coded for DockerError {
    fn code(&self) -> ErrorCode {
        match self {
            DockerError::SocketMissing { .. } => ErrorCode::DockerSocketMissing,
            DockerError::PermissionDenied { .. } => ErrorCode::DockerPermissionDenied,
            DockerError::DaemonDown { .. } => ErrorCode::DockerDaemonDown,
            DockerError::Unsupported { .. } => ErrorCode::DockerHostUnsupported,
            DockerError::Timeout { .. } => ErrorCode::DockerTimeout,
            DockerError::Api { .. } => ErrorCode::DockerApiError,
            DockerError::Other { .. } => ErrorCode::DockerUnreachable,
            DockerError::Ssh { code, .. } => *code,
            DockerError::Tls { .. } => ErrorCode::DockerTlsFailed,
        }
    }
    fn hints(&self) -> Vec<String> {
        let start = "start it: `sudo systemctl start docker` (not installed? Docker Engine: https://docs.docker.com/engine/install/ or the distribution's docker.io)";
        match self {
            DockerError::SocketMissing { origin, .. } if origin == "the default socket" => vec![start.into()],
            DockerError::SocketMissing { origin, .. } => vec![start.into(), format!("or correct {origin}, which names this socket")],
            DockerError::PermissionDenied { .. } => vec!["add yourself to the docker group: `sudo usermod -aG docker $USER`, then log out and in again (or run `newgrp docker`)".into()],
            DockerError::DaemonDown { url, .. } if url.starts_with("unix") => vec![start.into(), "the socket file exists but no daemon listens on it: `sudo systemctl status docker` shows why it stopped".into()],
            DockerError::DaemonDown { url, origin, .. } | DockerError::Timeout { url, origin, .. } => {
                vec![format!("check that a Docker daemon listens at {url} and is reachable from here, or correct {origin}")]
            }
            DockerError::Unsupported { hint, .. } => vec![hint.clone()],
            DockerError::Api { .. } => vec![],
            DockerError::Other { .. } => vec!["`docker info` shows whether the docker CLI can reach it".into()],
            DockerError::Ssh { hints, .. } | DockerError::Tls { hints, .. } => hints.clone(),
        }
    }
    fn is_user_error(&self) -> bool {
        true
    }
}

/// A connected client: bollard's, the endpoint, and what `/version` said.
#[derive(Debug, Clone)]
pub struct Docker {
    pub client: bollard::Docker,
    pub endpoint: Endpoint,
    pub version: bollard::models::SystemVersion,
    /// The server of an `ssh://` endpoint (commands can run there too: doctor's facts).
    pub ssh: Option<ssh::SshTarget>,
}

/// Connect to the daemon `docker_host` names (else `DOCKER_HOST`'s, the docker context's, the default socket) and
/// agree on the API version: one `/version` round-trip, which also proves the daemon answers.
impl Docker {
    /// The daemon is Podman's Docker-compatible service (`podman system service`).
    pub fn is_podman(&self) -> bool {
        self.version.components.iter().flatten().any(|c| c.name.to_lowercase().contains("podman"))
    }
}

pub async fn connect(docker_host: Option<&str>) -> Result<Docker, DockerError> {
    connect_endpoint(endpoint_from_env(docker_host)).await
}

pub async fn connect_endpoint(endpoint: Endpoint) -> Result<Docker, DockerError> {
    let timeout = REQUEST_TIMEOUT.as_secs();
    let url = endpoint.url.clone();
    let origin = endpoint.origin.clone();
    let unsupported = |reason: &str, hint: &str| DockerError::Unsupported { url: url.clone(), origin: origin.clone(), reason: reason.into(), hint: hint.into() };
    let ssh_target = if url.starts_with("ssh://") {
        Some(ssh::SshTarget::parse(&url).map_err(|e| unsupported(&e, "write it as ssh://USER@HOST[:PORT] (or a Host alias of ~/.ssh/config: ssh://ALIAS)"))?)
    } else {
        None
    };
    let ssh_factory = ssh_target.as_ref().map(|t| ssh::client_factory(t, timeout));
    let tls_factory = match (&endpoint.tls, url.starts_with("tcp://") || url.starts_with("https://")) {
        (Some(t), true) => Some(tls::client_factory(&url, t, timeout).map_err(|f| DockerError::Tls { url: url.clone(), origin: origin.clone(), message: f.reason, hints: f.hints })?),
        _ => None,
    };
    let build = |version: &bollard::ClientVersion| -> Result<bollard::Docker, DockerError> {
        if let Some(path) = endpoint.unix_path() {
            bollard::Docker::connect_with_unix(path, timeout, version).map_err(|e| map_error(e, &endpoint))
        } else if let Some(f) = &tls_factory {
            f(version).map_err(|f| DockerError::Tls { url: url.clone(), origin: origin.clone(), message: f.reason, hints: f.hints })
        } else if url.starts_with("tcp://") || url.starts_with("http://") {
            bollard::Docker::connect_with_http(&url, timeout, version).map_err(|e| map_error(e, &endpoint))
        } else if let Some(f) = &ssh_factory {
            f(version).map_err(|e| map_error(e, &endpoint))
        } else {
            Err(unsupported(
                "not a Docker host URL devgpu knows (unix://PATH, tcp://HOST:PORT or ssh://USER@HOST[:PORT])",
                "pass --docker-host unix:///var/run/docker.sock, ssh://USER@HOST or tcp://HOST:2376",
            ))
        }
    };
    // ssh may take its own ConnectTimeout (and a passphrase prompt) before the first answer.
    let connect_timeout = if ssh_target.is_some() { Duration::from_secs(ssh::SSH_CONNECT_TIMEOUT_S + 15) } else { CONNECT_TIMEOUT };
    let first = build(bollard::API_DEFAULT_VERSION)?;
    let version = match tokio::time::timeout(connect_timeout, first.version()).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return Err(map_error(e, &endpoint)),
        Err(_) => return Err(DockerError::Timeout { url, origin, seconds: connect_timeout.as_secs() }),
    };
    // Talk the daemon's API version when it is older than bollard's (Docker 20.10 speaks 1.41); over TLS and ssh
    // the new client shares the first one's connections.
    let client = match version.api_version.as_deref().and_then(parse_api_version) {
        Some(v) if v < *bollard::API_DEFAULT_VERSION => build(&v)?,
        _ => first,
    };
    Ok(Docker { client, endpoint, version, ssh: ssh_target })
}

fn parse_api_version(v: &str) -> Option<bollard::ClientVersion> {
    let (a, b) = v.split_once('.')?;
    Some(bollard::ClientVersion { major_version: a.parse().ok()?, minor_version: b.parse().ok()? })
}

/// Turn bollard's error into one that names the endpoint, where it came from, and why it failed.
pub fn map_error(e: bollard::errors::Error, endpoint: &Endpoint) -> DockerError {
    use bollard::errors::Error as B;
    let url = endpoint.url.clone();
    let origin = endpoint.origin.clone();
    let path = endpoint.unix_path().unwrap_or_default().to_string();
    if let Some(f) = transport_failure::<ssh::SshFailure>(&e) {
        let target = endpoint.ssh_target();
        let hints = target.map(|t| f.problem.hints(&t)).unwrap_or_default();
        return DockerError::Ssh { url, origin, code: f.problem.code(), message: f.to_string(), hints };
    }
    if let Some(f) = transport_failure::<tls::TlsFailure>(&e) {
        return DockerError::Tls { url, origin, message: f.reason, hints: f.hints };
    }
    match e {
        B::SocketNotFoundError(p) => DockerError::SocketMissing { url, origin, path: p },
        B::RequestTimeoutError => DockerError::Timeout { url, origin, seconds: REQUEST_TIMEOUT.as_secs() },
        B::DockerResponseServerError { status_code, message } => DockerError::Api { status: status_code, message },
        other => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&other);
            while let Some(s) = source {
                if let Some(io) = s.downcast_ref::<std::io::Error>() {
                    use std::io::ErrorKind as K;
                    match io.kind() {
                        K::PermissionDenied => return DockerError::PermissionDenied { url, origin, path },
                        K::NotFound if !path.is_empty() => return DockerError::SocketMissing { url, origin, path },
                        K::ConnectionRefused | K::ConnectionReset => return DockerError::DaemonDown { url, origin, detail: io.to_string() },
                        _ => {}
                    }
                }
                source = s.source();
            }
            DockerError::Other { url, origin, message: error_chain(&other) }
        }
    }
}

/// An ssh or TLS failure devgpu's transports put inside an `io::Error` somewhere in bollard's error chain.
fn transport_failure<T: std::error::Error + Clone + 'static>(e: &bollard::errors::Error) -> Option<T> {
    // bollard's IOError is `#[error(transparent)]`: its source() skips the io::Error itself.
    if let bollard::errors::Error::IOError { err } = e {
        if let Some(f) = err.get_ref().and_then(|i| i.downcast_ref::<T>()) {
            return Some(f.clone());
        }
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(f) = s.downcast_ref::<T>() {
            return Some(f.clone());
        }
        if let Some(f) = s.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|i| i.downcast_ref::<T>()) {
            return Some(f.clone());
        }
        source = s.source();
    }
    None
}

/// An error and its sources, `: `-joined, without repeats.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut s = e.source();
    while let Some(x) = s {
        let t = x.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        s = x.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(flag: Option<&str>, env: &[(&str, &str)], files: &[(&str, &str)]) -> Endpoint {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let files: HashMap<String, String> = files.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        resolve_endpoint(flag, &|k| env.get(k).cloned(), &|p| files.get(p).cloned())
    }

    #[test]
    fn the_flag_or_docker_host_wins() {
        let e = resolve(Some("unix:///tmp/x.sock"), &[], &[]);
        assert_eq!((e.url.as_str(), e.origin.as_str()), ("unix:///tmp/x.sock", "--docker-host"));
        let e = resolve(Some("tcp://1.2.3.4:2375"), &[("DOCKER_HOST", "tcp://1.2.3.4:2375")], &[]);
        assert_eq!(e.origin, "DOCKER_HOST");
        assert!(!e.is_local());
    }

    #[test]
    fn the_current_context_then_the_default_socket() {
        let files = [
            ("/home/u/.docker/config.json", r#"{"auths":{},"currentContext":"gpu"}"#),
            ("/home/u/.docker/contexts/meta/", "abc123\ndef456"),
            ("/home/u/.docker/contexts/meta/abc123/meta.json", r#"{"Name":"other","Endpoints":{"docker":{"Host":"unix:///other.sock"}}}"#),
            ("/home/u/.docker/contexts/meta/def456/meta.json", r#"{"Name":"gpu","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///run/user/1000/docker.sock","SkipTLSVerify":false}}}"#),
        ];
        let e = resolve(None, &[("HOME", "/home/u")], &files);
        assert_eq!(e.url, "unix:///run/user/1000/docker.sock");
        assert_eq!(e.origin, "docker context \"gpu\"");
        // DOCKER_CONTEXT overrides the config file; `default` means the default socket.
        let e = resolve(None, &[("HOME", "/home/u"), ("DOCKER_CONTEXT", "default")], &files);
        assert_eq!((e.url.as_str(), e.origin.as_str()), (DEFAULT_HOST, "the default socket"));
        let e = resolve(None, &[("HOME", "/nowhere")], &[]);
        assert_eq!(e.url, DEFAULT_HOST);
        assert_eq!(e.unix_path(), Some(DEFAULT_SOCKET));
    }

    #[test]
    fn tls_from_the_environment_and_from_the_context() {
        let certs = [("/c/ca.pem", "x"), ("/c/cert.pem", "x"), ("/c/key.pem", "x")];
        let e = resolve(Some("tcp://10.0.0.5:2376"), &[("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", "/c")], &certs);
        let tls = e.tls.expect("TLS");
        assert!(tls.verify);
        assert_eq!((tls.ca.as_deref(), tls.cert.as_deref(), tls.key.as_deref()), (Some("/c/ca.pem"), Some("/c/cert.pem"), Some("/c/key.pem")));
        assert_eq!(resolve(Some("tcp://10.0.0.5:2375"), &[], &certs).tls, None, "plain TCP unless asked for");
        assert_eq!(resolve(Some("ssh://me@gpubox"), &[("DOCKER_TLS_VERIFY", "1")], &certs).tls, None, "TLS is for tcp:// only");
        let files = [
            ("/h/.docker/config.json", r#"{"currentContext":"gpu"}"#),
            ("/h/.docker/contexts/meta/", "abc"),
            ("/h/.docker/contexts/meta/abc/meta.json", r#"{"Name":"gpu","Endpoints":{"docker":{"Host":"tcp://gpubox:2376","SkipTLSVerify":false}}}"#),
            ("/h/.docker/contexts/tls/abc/docker/ca.pem", "x"),
            ("/h/.docker/contexts/tls/abc/docker/cert.pem", "x"),
            ("/h/.docker/contexts/tls/abc/docker/key.pem", "x"),
        ];
        let e = resolve(None, &[("HOME", "/h")], &files);
        assert_eq!((e.url.as_str(), e.origin.as_str()), ("tcp://gpubox:2376", "docker context \"gpu\""));
        assert_eq!(e.tls.unwrap().cert.as_deref(), Some("/h/.docker/contexts/tls/abc/docker/cert.pem"));
        let ssh = [("/h/.docker/config.json", r#"{"currentContext":"gpu"}"#), ("/h/.docker/contexts/meta/", "abc"), ("/h/.docker/contexts/meta/abc/meta.json", r#"{"Name":"gpu","Endpoints":{"docker":{"Host":"ssh://me@gpubox:2222"}}}"#)];
        let e = resolve(None, &[("HOME", "/h")], &ssh);
        assert_eq!(e.ssh_target().unwrap().port, Some(2222));
        assert!(!e.is_local());
    }

    #[test]
    fn errors_say_where_and_how_to_fix() {
        let e = DockerError::PermissionDenied { url: DEFAULT_HOST.into(), origin: "the default socket".into(), path: DEFAULT_SOCKET.into() };
        assert!(e.to_string().contains("permission denied while trying to connect to the Docker daemon socket"));
        assert!(e.hints()[0].contains("sudo usermod -aG docker $USER"));
        let e = DockerError::SocketMissing { url: "unix:///nonexistent.sock".into(), origin: "--docker-host".into(), path: "/nonexistent.sock".into() };
        assert!(e.to_string().contains("(--docker-host)"), "{e}");
        assert_eq!(e.code(), "docker-socket-missing");
        assert!(e.hints().iter().any(|h| h.contains("systemctl start docker")));
    }

    #[test]
    fn api_versions_parse() {
        let v = parse_api_version("1.41").unwrap();
        assert!(v < *bollard::API_DEFAULT_VERSION);
        assert!(parse_api_version("x").is_none());
    }
}
