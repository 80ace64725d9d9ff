//! The ground truth: a short-lived container that asks for every GPU the way `docker run --gpus all` does
//! (`DeviceRequest{Driver:"", Count:-1, Capabilities:[["gpu"]]}`), runs `nvidia-smi -L`, and is removed whatever
//! happens. Daemon errors are kept verbatim for the diagnosis table (`checks::diagnosis`).

use super::{error_chain, Docker};
use bollard::models::{ContainerCreateBody, DeviceRequest, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, CreateImageOptions, LogsOptions, RemoveContainerOptions, WaitContainerOptions};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;
pub use crate::model::host::{ProbeOutcome, ProbeResult};

/// The label on probe containers (value: `probe`), so a leftover of a killed run can be found and removed.
pub const PROBE_LABEL: &str = "devgpu.probe";
/// How long `nvidia-smi -L` may run in the probe container.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// `--gpus all` as the API has it.
pub fn all_gpus_request() -> DeviceRequest {
    DeviceRequest { driver: Some(String::new()), count: Some(-1), capabilities: Some(vec![vec!["gpu".to_string()]]), ..Default::default() }
}



impl ProbeResult {
    /// The `GPU N: …` lines of `nvidia-smi -L`.
    pub fn gpu_lines(&self) -> Vec<&str> {
        match &self.outcome {
            ProbeOutcome::Ran { output, .. } => output.lines().filter(|l| l.trim_start().starts_with("GPU ")).collect(),
            ProbeOutcome::DaemonError { .. } => Vec::new(),
        }
    }
}

/// Run the probe. The image is pulled when it is not present (a failed pull is the outcome, stage `pull`).
pub async fn probe_gpu(docker: &Docker, image: &str, image_origin: &str) -> ProbeResult {
    probe_with(docker, image, image_origin, vec!["nvidia-smi".into(), "-L".into()]).await
}

/// The probe for a daemon on another machine: `nvidia-smi -L`, then `facts_script` (the GPU part of the server
/// facts script, which the caller in `host::remote` writes and reads back; passed in so that the Docker layer
/// does not depend on the host layer); the exit code stays `nvidia-smi -L`'s. The image needs `sh` (every CUDA
/// image has it).
pub async fn probe_gpu_facts(docker: &Docker, image: &str, image_origin: &str, facts_script: &str) -> ProbeResult {
    let script = format!("nvidia-smi -L; rc=$?\n{facts_script}exit $rc\n");
    probe_with(docker, image, image_origin, vec!["/bin/sh".into(), "-c".into(), script]).await
}

async fn probe_with(docker: &Docker, image: &str, image_origin: &str, cmd: Vec<String>) -> ProbeResult {
    let d = &docker.client;
    let result = |outcome, removed| ProbeResult { image: image.to_string(), image_origin: image_origin.to_string(), outcome, removed };
    let err = |stage: &str, e: bollard::errors::Error| ProbeOutcome::DaemonError { stage: stage.into(), message: daemon_message(&e) };

    if d.inspect_image(image).await.is_err() {
        let mut pull = d.create_image(Some(CreateImageOptions { from_image: Some(image.to_string()), ..Default::default() }), None, None);
        while let Some(item) = pull.next().await {
            if let Err(e) = item {
                return result(err("pull", e), true);
            }
        }
    }

    let name = format!("devgpu-probe-{}-{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.subsec_nanos()).unwrap_or(0));
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(cmd),
        labels: Some(HashMap::from([(PROBE_LABEL.to_string(), "probe".to_string())])),
        network_disabled: Some(true),
        host_config: Some(HostConfig { device_requests: Some(vec![all_gpus_request()]), network_mode: Some("none".into()), ..Default::default() }),
        ..Default::default()
    };
    let created = match d.create_container(Some(CreateContainerOptions { name: Some(name), ..Default::default() }), body).await {
        Ok(c) => c,
        Err(e) => return result(err("create", e), true),
    };
    let outcome = run_created(docker, &created.id).await;
    let removed = d.remove_container(&created.id, Some(RemoveContainerOptions { force: true, v: true, ..Default::default() })).await.is_ok();
    result(outcome, removed)
}

async fn run_created(docker: &Docker, id: &str) -> ProbeOutcome {
    let d = &docker.client;
    if let Err(e) = d.start_container(id, None).await {
        return ProbeOutcome::DaemonError { stage: "start".into(), message: daemon_message(&e) };
    }
    let mut wait = d.wait_container(id, Some(WaitContainerOptions { condition: "not-running".into() }));
    let exit_code = match tokio::time::timeout(PROBE_TIMEOUT, wait.next()).await {
        Err(_) => return ProbeOutcome::DaemonError { stage: "wait".into(), message: format!("`nvidia-smi -L` did not finish within {} s", PROBE_TIMEOUT.as_secs()) },
        Ok(Some(Ok(r))) => r.status_code,
        // bollard reports a non-zero exit as an error carrying the code.
        Ok(Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. }))) => code,
        Ok(Some(Err(e))) => return ProbeOutcome::DaemonError { stage: "wait".into(), message: daemon_message(&e) },
        Ok(None) => -1,
    };
    let mut output = String::new();
    let mut logs = d.logs(id, Some(LogsOptions { stdout: true, stderr: true, ..Default::default() }));
    while let Some(Ok(chunk)) = logs.next().await {
        output.push_str(&chunk.to_string());
    }
    ProbeOutcome::Ran { exit_code, output }
}

/// The daemon's own words (what `docker run` would print after "Error response from daemon:").
fn daemon_message(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => error_chain(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_docker_run_gpus_all() {
        let v = serde_json::to_value(all_gpus_request()).unwrap();
        assert_eq!(v, serde_json::json!({"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}));
    }

    #[test]
    fn counts_gpu_lines() {
        let r = ProbeResult {
            image: "x".into(),
            image_origin: "--image".into(),
            outcome: ProbeOutcome::Ran { exit_code: 0, output: include_str!("../../tests/fixtures/h200/nvidia-smi-L.txt").into() },
            removed: true,
        };
        assert_eq!(r.gpu_lines(), ["GPU 0: NVIDIA H200 (UUID: GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4)"]);
    }
}
