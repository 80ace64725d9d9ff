//! `docker info` (and `/version`) as plain facts for the checks: runtimes, default runtime, cgroups, the kind of
//! install (Docker Desktop, snap, rootless). The conversion is pure ([`DaemonFacts::from_api`]); [`gather`] asks.

use super::{Docker, DockerError, Endpoint};
use crate::error::Coded;
use bollard::models::{SystemInfo, SystemVersion};
pub use crate::model::host::{RuntimeFact, DockerProblem, DaemonFacts};


impl RuntimeFact {
    /// An NVIDIA runtime: called `nvidia`, or running `nvidia-container-runtime` (`nvidia-cdi`, `nvidia-legacy` too).
    pub fn is_nvidia(&self) -> bool {
        self.name == "nvidia" || self.path.rsplit('/').next().is_some_and(|b| b.starts_with("nvidia-container-runtime"))
    }
}


impl From<&DockerError> for DockerProblem {
    fn from(e: &DockerError) -> Self {
        DockerProblem { code: e.code().to_string(), message: e.to_string(), hints: e.hints() }
    }
}


impl DaemonFacts {
    pub fn unreachable(endpoint: Endpoint, error: &DockerError) -> Self {
        DaemonFacts { error: Some(error.into()), ..DaemonFacts::empty(endpoint) }
    }

    fn empty(endpoint: Endpoint) -> Self {
        DaemonFacts {
            local: endpoint.is_local(),
            endpoint,
            error: None,
            server_version: None,
            api_version: None,
            operating_system: None,
            kernel_version: None,
            docker_root_dir: None,
            runtimes: Vec::new(),
            default_runtime: None,
            cgroup_driver: None,
            cgroup_version: None,
            rootless: false,
            desktop: false,
            snap: false,
            podman: false,
            cdi_spec_dirs: Vec::new(),
            started_unix: None,
            server_facts: None,
        }
    }

    pub fn reachable(&self) -> bool {
        self.error.is_none()
    }

    /// The machine facts (daemon.json, the toolkit, /dev, …) in the report are those of the daemon's machine:
    /// a local daemon, or a remote one whose files were read over ssh.
    pub fn machine_known(&self) -> bool {
        self.local || self.server_facts.as_ref().is_some_and(|s| s.has("daemonJson"))
    }

    pub fn nvidia_runtimes(&self) -> impl Iterator<Item = &RuntimeFact> {
        self.runtimes.iter().filter(|r| r.is_nvidia())
    }

    /// Build the facts from the API's answers (pure).
    pub fn from_api(endpoint: Endpoint, version: &SystemVersion, info: &SystemInfo) -> Self {
        let mut f = DaemonFacts::empty(endpoint);
        f.server_version = info.server_version.clone().or_else(|| version.version.clone());
        f.api_version = version.api_version.clone();
        f.operating_system = info.operating_system.clone();
        f.kernel_version = info.kernel_version.clone();
        f.docker_root_dir = info.docker_root_dir.clone();
        let mut runtimes: Vec<RuntimeFact> = info
            .runtimes
            .iter()
            .flatten()
            .map(|(name, r)| RuntimeFact { name: name.clone(), path: r.path.clone().unwrap_or_default(), args: r.runtime_args.clone().unwrap_or_default() })
            .collect();
        runtimes.sort_by(|a, b| a.name.cmp(&b.name));
        f.runtimes = runtimes;
        f.default_runtime = info.default_runtime.clone();
        f.cgroup_driver = info.cgroup_driver.as_ref().map(|d| d.to_string()).filter(|d| !d.is_empty());
        f.cgroup_version = info.cgroup_version.as_ref().map(|d| d.to_string()).filter(|d| !d.is_empty());
        let security = info.security_options.clone().unwrap_or_default();
        f.rootless = security.iter().any(|s| s.split(',').any(|p| p == "name=rootless"));
        let platform = version.platform.as_ref().map(|p| p.name.clone()).unwrap_or_default();
        f.desktop = f.operating_system.as_deref().is_some_and(|o| o.contains("Docker Desktop"))
            || platform.contains("Docker Desktop")
            || f.endpoint.url.contains("/.docker/desktop/");
        f.snap = f.docker_root_dir.as_deref().is_some_and(|d| d.starts_with("/var/snap/docker")) || f.endpoint.url.contains("/snap/");
        f.cdi_spec_dirs = info.cdi_spec_dirs.clone().unwrap_or_default();
        f.podman = version.components.iter().flatten().any(|c| c.name.to_lowercase().contains("podman"));
        // Podman's /info says `"Rootless": true` in a field of its own (not in Docker's API); its store under the
        // user's home says the same.
        f.rootless |= f.podman && f.docker_root_dir.as_deref().is_some_and(|d| d.contains("/.local/share/containers/"));
        f
    }

    /// What the daemon is, for messages: `Podman` or `Docker`.
    pub fn engine_name(&self) -> &'static str {
        if self.podman {
            "Podman"
        } else {
            "Docker"
        }
    }
}

/// The start time of a process in seconds since the epoch, from `/proc/PID/stat` and `/proc/stat` (pure).
/// `ticks_per_second` is the kernel's USER_HZ (100 on every mainstream Linux).
pub fn process_start_unix(proc_pid_stat: &str, proc_stat: &str, ticks_per_second: u64) -> Option<u64> {
    // Field 22 (starttime), counted after the `(comm)` field, which may contain spaces.
    let after_comm = &proc_pid_stat[proc_pid_stat.rfind(')')? + 1..];
    let start_ticks: u64 = after_comm.split_whitespace().nth(19)?.parse().ok()?;
    let btime: u64 = proc_stat.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse().ok()?;
    Some(btime + start_ticks / ticks_per_second)
}

/// When the local dockerd started, from its pidfile (edge).
pub fn local_daemon_started(pidfile: &str) -> Option<u64> {
    let pid = std::fs::read_to_string(pidfile).ok()?.trim().parse::<u32>().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let proc_stat = std::fs::read_to_string("/proc/stat").ok()?;
    process_start_unix(&stat, &proc_stat, 100)
}

/// Ask the daemon for `info` (one round-trip after [`super::connect`]'s `/version`).
pub async fn gather(docker: &Docker) -> Result<DaemonFacts, DockerError> {
    let info = docker.client.info().await.map_err(|e| super::map_error(e, &docker.endpoint))?;
    let mut f = DaemonFacts::from_api(docker.endpoint.clone(), &docker.version, &info);
    if docker.endpoint.unix_path() == Some(super::DEFAULT_SOCKET) {
        f.started_unix = local_daemon_started("/var/run/docker.pid");
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint { url: super::super::DEFAULT_HOST.into(), origin: "the default socket".into(), tls: None }
    }

    /// `GET /info` and `/version` from Debian 12's Podman 4.3 service (tests/fixtures/docker/).
    #[test]
    fn podman_4_3_on_debian() {
        let info: SystemInfo = serde_json::from_str(include_str!("../../tests/fixtures/docker/info-podman-4.3.json")).unwrap();
        let version: SystemVersion = serde_json::from_str(include_str!("../../tests/fixtures/docker/version-podman-4.3.json")).unwrap();
        let f = DaemonFacts::from_api(endpoint(), &version, &info);
        assert!(f.podman);
        assert_eq!((f.engine_name(), f.server_version.as_deref()), ("Podman", Some("4.3.1")));
        assert!(!f.desktop && !f.snap);
        let docker: SystemVersion = serde_json::from_str(include_str!("../../tests/fixtures/docker/version-20.10.json")).unwrap();
        let info: SystemInfo = serde_json::from_str(include_str!("../../tests/fixtures/docker/info-20.10.json")).unwrap();
        assert!(!DaemonFacts::from_api(endpoint(), &docker, &info).podman);
        assert!(!f.rootless);
        let info: SystemInfo = serde_json::from_str(include_str!("../../tests/fixtures/docker/info-podman-4.3-rootless.json")).unwrap();
        let rootless = DaemonFacts::from_api(endpoint(), &version, &info);
        assert!(rootless.podman && rootless.rootless);
    }

    /// `GET /info` and `/version` from Debian 12's Docker 20.10 (tests/fixtures/docker/).
    #[test]
    fn docker_20_10_on_debian() {
        let info: SystemInfo = serde_json::from_str(include_str!("../../tests/fixtures/docker/info-20.10.json")).unwrap();
        let version: SystemVersion = serde_json::from_str(include_str!("../../tests/fixtures/docker/version-20.10.json")).unwrap();
        let f = DaemonFacts::from_api(endpoint(), &version, &info);
        assert_eq!(f.server_version.as_deref(), Some("20.10.24+dfsg1"));
        assert_eq!(f.api_version.as_deref(), Some("1.41"));
        assert_eq!(f.runtimes.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["io.containerd.runc.v2", "io.containerd.runtime.v1.linux", "runc"]);
        assert_eq!(f.default_runtime.as_deref(), Some("runc"));
        assert_eq!(f.nvidia_runtimes().count(), 0);
        assert_eq!(f.cgroup_driver.as_deref(), Some("cgroupfs"));
        assert_eq!(f.cgroup_version.as_deref(), Some("1"));
        assert!(!f.rootless && !f.desktop && !f.snap);
        assert!(f.local && f.reachable());
    }

    #[test]
    fn desktop_snap_rootless_and_nvidia_runtimes() {
        let info: SystemInfo = serde_json::from_value(serde_json::json!({
            "OperatingSystem": "Docker Desktop",
            "DockerRootDir": "/var/snap/docker/common/var-lib-docker",
            "SecurityOptions": ["name=seccomp,profile=builtin", "name=rootless", "name=cgroupns"],
            "Runtimes": {"nvidia": {"path": "nvidia-container-runtime"}, "cdi": {"path": "/usr/bin/nvidia-container-runtime.cdi"}, "runc": {"path": "runc"}},
            "DefaultRuntime": "nvidia",
            "CgroupDriver": "systemd",
            "CgroupVersion": "2"
        }))
        .unwrap();
        let f = DaemonFacts::from_api(endpoint(), &SystemVersion::default(), &info);
        assert!(f.desktop && f.snap && f.rootless);
        assert_eq!(f.nvidia_runtimes().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["cdi", "nvidia"]);
        assert_eq!(f.cgroup_driver.as_deref(), Some("systemd"));
    }

    #[test]
    fn process_start_time() {
        let stat = "1234 (docker d) S 1 1234 1234 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 0 4500 1000000 100 ...";
        assert_eq!(process_start_unix(stat, "cpu 1 2 3\nbtime 1700000000\n", 100), Some(1700000045));
        assert_eq!(process_start_unix("garbage", "btime 1", 100), None);
    }
}
