//! PURE: doctor's checks when Docker runs on another machine. The facts of the server come from ssh (all of them)
//! or a GPU container (only the GPU and driver): [`adjust`] adds `docker.remote`, which says so, and turns the
//! checks about what could not be read on the server into `skip` with the reason, instead of judging this
//! machine's files in its place.

use super::{Check, Status};
use crate::model::host::HostFacts;

/// The check areas and the facts they need (see `host::remote::ServerFactsSource::facts`).
const NEEDS: &[(&str, &str)] = &[
    ("gpu.kernel-module", "driver"),
    ("gpu.nvml", "driver"),
    ("gpu.driver-library", "driver"),
    ("gpu.devices", "gpu"),
    ("gpu.device-nodes", "deviceNodes"),
    ("compat.driver-cuda", "driver"),
    ("compat.minor-version", "driver"),
    ("compat.gpu-cuda", "gpu"),
    ("toolkit.installed", "toolkit"),
    ("toolkit.cdi", "cdi"),
    ("daemon-json.valid", "daemonJson"),
    ("docker.restarted", "dockerd"),
];

/// Add `docker.remote` after `docker.reachable` and skip what is not known about the server (pure). Unchanged for
/// a local daemon.
pub fn adjust(f: &HostFacts, checks: Vec<Check>) -> Vec<Check> {
    let Some(src) = &f.docker.server_facts else { return checks };
    let url = &f.docker.endpoint.url;
    let how_to_know = "only an ssh:// Docker host lets devgpu read the server's files: --docker-host ssh://USER@SERVER, or run `devgpu doctor` on the server";
    let mut out = Vec::with_capacity(checks.len() + 1);
    for c in checks {
        let needed = NEEDS.iter().find(|(id, _)| *id == c.id).map(|(_, area)| *area);
        let c = match needed {
            Some(area) if !src.has(area) => Check::skip(&c.id, format!("not known: the server's {} cannot be read through {url} ({how_to_know})", area_name(area))),
            _ if c.id == "docker.nvidia-runtime" && !src.has("toolkit") && c.status == Status::Fail => {
                if src.has("gpu") {
                    Check::warn(
                        &c.id,
                        "no NVIDIA runtime registered on the server: --gpus works there (the GPU container ran), but Dev Containers' hostRequirements.gpu looks for an nvidia runtime in `docker info`",
                        "on the server: `devgpu host configure-docker` (or `sudo nvidia-ctk runtime configure --runtime=docker`), then `sudo systemctl restart docker`",
                    )
                } else {
                    Check { summary: "Docker on the server lists no NVIDIA runtime (whether nvidia-container-toolkit is installed there is not known from here)".into(), ..c }
                }
            }
            _ => c,
        };
        let after_reachable = c.id == "docker.reachable";
        out.push(c);
        if after_reachable && f.docker.reachable() {
            out.push(remote_check(f));
        }
    }
    out
}

fn area_name(area: &str) -> &str {
    match area {
        "driver" => "NVIDIA driver",
        "gpu" => "GPUs",
        "deviceNodes" => "/dev/nvidia* device nodes",
        "toolkit" => "nvidia-container-toolkit",
        "cdi" => "CDI specs",
        "daemonJson" => "daemon.json",
        "dockerd" => "dockerd start time",
        other => other,
    }
}

/// `docker.remote`: where the server's facts came from.
fn remote_check(f: &HostFacts) -> Check {
    const ID: &str = "docker.remote";
    let src = f.docker.server_facts.as_ref().expect("called for remote daemons");
    let summary = src.describe(&f.docker.endpoint.url);
    match (src.via.as_str(), &src.error) {
        ("ssh", None) => Check::pass(ID, summary),
        ("ssh", Some(_)) => Check::warn(
            ID,
            summary,
            f.docker.endpoint.ssh_target().map(|t| format!("run `{}` to see why", t.command_line("sh -c 'nvidia-smi; cat /etc/docker/daemon.json'"))).unwrap_or_default(),
        ),
        ("container", None) => Check::pass(ID, summary),
        _ => Check::warn(
            ID,
            summary,
            "use an ssh:// Docker host (--docker-host ssh://USER@SERVER, or `docker context create gpu --docker host=ssh://USER@SERVER`) so that doctor reads the server's files; `devgpu doctor --probe` pulls a CUDA image there to ask nvidia-smi",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::{DaemonFacts, Endpoint};
    use crate::host::facts::{DaemonJsonFacts, DeviceNodes};
    use crate::host::remote::{apply, parse_facts, ServerFactsSource};

    /// A machine with nothing NVIDIA on it, and Debian's Docker 20.10 at `url`.
    fn bare(url: &str) -> HostFacts {
        let info = serde_json::from_str(include_str!("../../tests/fixtures/docker/info-20.10.json")).unwrap();
        let version = serde_json::from_str(include_str!("../../tests/fixtures/docker/version-20.10.json")).unwrap();
        HostFacts {
            kernel_module: None,
            kernel_module_error: None,
            nvml: crate::host::nvml::NvmlFacts::not_found(vec![]),
            nvidia_smi: None,
            gpu_source: None,
            driver: None,
            driver_cuda: None,
            gpus: vec![],
            device_nodes: DeviceNodes::default(),
            toolkit: Default::default(),
            cdi: Default::default(),
            docker: DaemonFacts::from_api(Endpoint { url: url.into(), origin: "DOCKER_HOST".into(), tls: None }, &version, &info),
            daemon_json: DaemonJsonFacts::from_read(std::path::Path::new("/etc/docker/daemon.json"), Ok(None)),
            project: None,
            probe: None,
        }
    }

    fn status<'a>(checks: &'a [Check], id: &str) -> &'a Check {
        checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}"))
    }

    #[test]
    fn a_local_daemon_is_left_alone() {
        let f = bare("unix:///var/run/docker.sock");
        let checks = crate::checks::doctor_checks(&f, crate::compat::knowledge());
        assert_eq!(adjust(&f, checks.clone()), checks);
    }

    #[test]
    fn over_tcp_what_was_not_read_is_not_judged() {
        let mut f = bare("tcp://10.0.0.5:2376");
        apply(&mut f, None, ServerFactsSource { via: "none".into(), facts: vec![], error: Some("the server has no image".into()) });
        let checks = adjust(&f, crate::checks::doctor_checks(&f, crate::compat::knowledge()));
        for id in ["gpu.kernel-module", "gpu.nvml", "gpu.devices", "toolkit.installed", "daemon-json.valid", "compat.driver-cuda"] {
            let c = status(&checks, id);
            assert_eq!(c.status, Status::Skip, "{c:?}");
            assert!(c.summary.starts_with("not known: "), "{c:?}");
        }
        let r = status(&checks, "docker.remote");
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("the server has no image"), "{r:?}");
        let pos = |id: &str| checks.iter().position(|c| c.id == id).unwrap();
        assert_eq!(pos("docker.remote"), pos("docker.reachable") + 1);
        assert!(status(&checks, "docker.nvidia-runtime").summary.contains("not known from here"));
    }

    #[test]
    fn over_ssh_the_servers_facts_are_judged_like_local_ones() {
        let mut f = bare("ssh://me@gpubox");
        let out = "\n@@devgpu proc-driver@@\n@missing\n\n@@devgpu smi-path@@\n\n@@devgpu toolkit@@\n@tool nvidia-container-runtime-hook 1 /usr/bin/nvidia-container-runtime-hook\nNVIDIA Container Runtime Hook version 1.17.8\n\n@@devgpu daemon-json@@\n@missing\n\n@@devgpu end@@\n";
        apply(&mut f, Some(parse_facts(out, "/etc/docker/daemon.json", true)), ServerFactsSource { via: "ssh".into(), facts: vec![], error: None });
        assert!(f.docker.machine_known());
        let checks = adjust(&f, crate::checks::doctor_checks(&f, crate::compat::knowledge()));
        assert_eq!(status(&checks, "docker.remote").status, Status::Pass);
        let t = status(&checks, "toolkit.installed");
        assert!(t.summary.contains("nvidia-container-cli") && !t.summary.contains("is not installed"), "the server's toolkit (its hook, without the CLI): {t:?}");
        assert_eq!(status(&checks, "daemon-json.valid").status, Status::Pass, "the server's daemon.json is judged: {:?}", status(&checks, "daemon-json.valid"));
        assert_eq!(status(&checks, "gpu.kernel-module").status, Status::Fail, "no driver on the server");
    }
}
