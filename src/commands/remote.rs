//! `devgpu init --from-host`: aim the stack at the GPU of the Docker host instead of this machine's — read the way
//! `doctor` reads a daemon on another machine (`host::remote`: the server's nvidia-smi over ssh, or a GPU
//! container there), or this machine's GPU when Docker is local.

use anyhow::Result;

use crate::compat::{TargetHost, TargetOrigin};
use crate::error::{CliError, ErrorCode};
use crate::settings::Settings;

/// The Docker host's first GPU as the init target (edge: connects, and reads the server's facts).
pub fn target_from_docker_host(settings: &Settings) -> Result<(TargetHost, Option<String>)> {
    let endpoint = crate::docker::endpoint_from_env(settings.docker_host.as_deref());
    let url = endpoint.url.clone();
    let where_ = format!("the Docker host {url} ({})", endpoint.origin);
    let flags_hint = "or give the GPU host's facts yourself: `devgpu init --driver VERSION --compute-cap X.Y` (`nvidia-smi --query-gpu=driver_version,compute_cap --format=csv` on it prints them)";
    if endpoint.is_local() {
        // Docker runs here: its GPU is this machine's.
        let gpus = crate::host::local_gpus().map_err(|e| CliError::user(ErrorCode::GpuFactsUnavailable, format!("{where_} is this machine, and {e}"), vec![flags_hint.into()]))?;
        let g = gpus.into_iter().next().ok_or_else(|| {
            CliError::user(ErrorCode::NoGpuOnDockerHost, format!("{where_} is this machine, and it has no NVIDIA GPU (nvidia-smi lists none)"), vec![flags_hint.into()])
        })?;
        return Ok((TargetHost { driver: Some(g.driver), compute_cap: g.compute_cap, gpu_name: Some(g.name), origin: TargetOrigin::DockerHost }, None));
    }
    let k = crate::compat::knowledge();
    let newest = k.images.last().expect("the image catalog is not empty");
    let image = (
        format!("{}:{}-base-ubuntu{}", crate::compat::image_tag::CUDA_REPO, newest.cuda.full(), newest.ubuntu.last().cloned().unwrap_or_else(|| "22.04".into())),
        "the newest nvidia/cuda base image".to_string(),
    );
    let gathered = crate::block_on(async {
        let docker = crate::docker::connect_endpoint(endpoint.clone()).await?;
        Ok::<_, crate::docker::DockerError>(crate::host::remote::gather(&docker, "/etc/docker/daemon.json", image, true).await)
    });
    let (server, source, _) = gathered.map_err(CliError::from)?;
    let Some(server) = server else {
        return Err(CliError::user(
            ErrorCode::GpuFactsUnavailable,
            format!("cannot read the GPU of {where_}: {}", source.error.unwrap_or_else(|| "no facts".into())),
            vec!["`devgpu doctor` shows the same in detail".into(), flags_hint.into()],
        )
        .into());
    };
    let (_, driver, _, gpus) = crate::host::facts::driver_and_gpus(&server.nvml, server.nvidia_smi.as_ref(), server.kernel_module.as_ref());
    match gpus.into_iter().next() {
        Some(g) => Ok((TargetHost { driver: Some(g.driver), compute_cap: g.compute_cap, gpu_name: Some(g.name), origin: TargetOrigin::DockerHost }, None)),
        // A driver without a listable GPU (nvidia-smi failing): aim at the driver, say why the GPU is unknown.
        None if driver.is_some() => {
            let why = server.nvml.error.clone().unwrap_or_else(|| "nvidia-smi lists no GPU".into());
            Ok((TargetHost { driver, compute_cap: None, gpu_name: None, origin: TargetOrigin::DockerHost }, Some(format!("{where_}: {why}; the GPU's compute capability is unknown"))))
        }
        None => Err(CliError::user(
            ErrorCode::NoGpuOnDockerHost,
            format!(
                "{where_} has no NVIDIA driver or GPU that devgpu can see ({})",
                server.nvml.error.clone().or_else(|| server.nvidia_smi.as_ref().and_then(|s| s.error.clone())).unwrap_or_else(|| "no nvidia-smi, no /proc/driver/nvidia/version".into())
            ),
            vec!["`devgpu doctor` (with the same Docker host) says what is missing there".into(), flags_hint.into()],
        )
        .into()),
    }
}
