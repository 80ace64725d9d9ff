//! PURE: doctor's checks when Docker runs on another machine. The facts of the server come from ssh (all of them)
//! or a GPU container (only the GPU and driver): [`adjust`] adds `docker.remote`, which says so, and turns the
//! checks about what could not be read on the server into `skip` with the reason, instead of judging this
//! machine's files in its place.

use super::{Check, Status};
use crate::host::facts::HostFacts;

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
            Some(area) if !src.has(area) && c.status != Status::Skip => Check::skip(&c.id, format!("not known: the server's {} cannot be read through {url} ({how_to_know})", area_name(area))),
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
