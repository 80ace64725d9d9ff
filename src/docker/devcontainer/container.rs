//! EDGE: a workspace's containers and images — find them by the Dev Containers labels, inspect images, pull,
//! create + start (never leaving a `Created` container behind; an optional GPU falls back to none), stop, remove.
//! On Podman a container with CDI devices is created through Podman's own API (which applies them; its
//! Docker-compatible API drops them), from the same body translated; everything else uses the compatible API.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{ContainerCreateBody, ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::{CreateContainerOptions, CreateImageOptions, ListContainersOptions, RemoveContainerOptions, RemoveImageOptions, StopContainerOptions};
use futures_util::StreamExt;
use serde_json::Value;

use crate::checks::diagnose;
use crate::docker::libpod;
use crate::plan::podman_spec;
use crate::plan::up::{ImageFacts, UpPlan, LABEL_BUILD_HASH};
use crate::model::progress::ProgressSink;

use super::{api_message, is_not_found, UpError};

/// A container of the workspace, as listed.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub state: ContainerSummaryStateEnum,
    pub labels: HashMap<String, String>,
    pub image: String,
}

impl Found {
    pub fn running(&self) -> bool {
        self.state == ContainerSummaryStateEnum::RUNNING
    }
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(String::as_str)
    }
}

fn docker_err(docker: &crate::docker::Docker, e: bollard::errors::Error) -> UpError {
    UpError::Docker(crate::docker::map_error(e, &docker.endpoint))
}

/// The containers carrying all of `labels` (`devcontainer.local_folder` and `devcontainer.config_file`), newest
/// first, any state but `removing`.
pub async fn find(docker: &crate::docker::Docker, labels: &[(String, String)]) -> Result<Vec<Found>, UpError> {
    let filters: HashMap<String, Vec<String>> = [("label".to_string(), labels.iter().map(|(k, v)| format!("{k}={v}")).collect())].into_iter().collect();
    let list = docker
        .client
        .list_containers(Some(ListContainersOptions { all: true, filters: Some(filters), ..Default::default() }))
        .await
        .map_err(|e| docker_err(docker, e))?;
    let mut found: Vec<(i64, Found)> = list.into_iter().filter_map(|c: ContainerSummary| {
        let state = c.state.unwrap_or(ContainerSummaryStateEnum::EMPTY);
        if state == ContainerSummaryStateEnum::REMOVING {
            return None;
        }
        Some((
            c.created.unwrap_or(0),
            Found {
                id: c.id?,
                name: c.names.and_then(|n| n.into_iter().next()).unwrap_or_default().trim_start_matches('/').to_string(),
                state,
                labels: c.labels.unwrap_or_default(),
                image: c.image.unwrap_or_default(),
            },
        ))
    }).collect();
    found.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
    Ok(found.into_iter().map(|(_, f)| f).collect())
}

/// The image's facts, or `None` when there is no image of that name.
pub async fn image_facts(docker: &crate::docker::Docker, image: &str) -> Result<Option<(ImageFacts, HashMap<String, String>)>, UpError> {
    match docker.client.inspect_image(image).await {
        Ok(i) => {
            let config = i.config.unwrap_or_default();
            let labels = config.labels.clone().unwrap_or_default();
            let metadata = match labels.get(crate::plan::up::LABEL_METADATA).map(|s| serde_json::from_str::<Value>(s)) {
                Some(Ok(Value::Array(a))) => a,
                Some(Ok(v @ Value::Object(_))) => vec![v],
                _ => Vec::new(),
            };
            Ok(Some((
                ImageFacts {
                    id: i.id.unwrap_or_default(),
                    user: config.user.filter(|u| !u.is_empty()),
                    entrypoint: config.entrypoint.unwrap_or_default(),
                    cmd: config.cmd.unwrap_or_default(),
                    metadata,
                },
                labels,
            )))
        }
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(docker_err(docker, e)),
    }
}

/// Whether an image built by devgpu is up to date (its build-hash label matches).
pub fn image_is_current(labels: &HashMap<String, String>, build_hash: &str) -> bool {
    labels.get(LABEL_BUILD_HASH).map(String::as_str) == Some(build_hash)
}

/// Pulls an image, with progress.
pub async fn pull(docker: &crate::docker::Docker, image: &str, progress: &dyn ProgressSink) -> Result<(), UpError> {
    progress.step("pull", &format!("pulling {image}"));
    let (name, tag) = split_reference(image);
    let client = docker.client.clone().with_timeout(Duration::from_secs(24 * 3600));
    let mut stream = client.create_image(Some(CreateImageOptions { from_image: Some(name), tag: Some(tag), ..Default::default() }), None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(status) = info.status {
                    progress.log("pull", &format!("{}{status}", info.id.map(|i| format!("{i}: ")).unwrap_or_default()));
                }
            }
            Err(e) => {
                let message = api_message(&e);
                return Err(UpError::ImageUnavailable { image: image.to_string(), diagnosis: diagnose(&message), message });
            }
        }
    }
    Ok(())
}

/// `repo[:tag][@digest]` → (repo, tag or digest); no tag means `latest`.
fn split_reference(image: &str) -> (String, String) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo.to_string(), digest.to_string());
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    }
}

/// Creates and starts the container. On a failed start the container is removed (never left in `Created`);
/// when the GPU is what failed and the plan's GPU is optional, it is created again without one.
/// `on_created` is told each container id as soon as it exists (so Ctrl-C can remove it).
/// Returns the container id and whether the GPU was granted.
pub async fn create_and_start(
    docker: &crate::docker::Docker,
    plan: &UpPlan,
    image: &ImageFacts,
    progress: &dyn ProgressSink,
    on_created: &dyn Fn(Option<&str>),
) -> Result<(String, bool), UpError> {
    let mut with_gpu = plan.gpu.request.is_some();
    loop {
        let body = plan.container_body(image, with_gpu);
        progress.step("create", &format!("creating the container {}", plan.container_name));
        let id = create(docker, &plan.container_name, body).await?;
        on_created(Some(&id));
        progress.step("start", "starting the container");
        match docker.client.start_container(&id, None).await {
            Ok(()) => return Ok((id, with_gpu)),
            Err(e) => {
                let message = api_message(&e);
                remove(docker, &id).await;
                on_created(None);
                let diagnosis = diagnose(&message);
                if with_gpu {
                    let request = format!("--gpus {}", plan.gpu.request.as_ref().map(|g| g.describe()).unwrap_or_default());
                    let gpu_error = diagnosis.is_some() || is_gpu_message(&message);
                    if gpu_error && plan.gpu.optional {
                        progress.step("start", "no GPU available: starting without one (hostRequirements.gpu is \"optional\")");
                        with_gpu = false;
                        continue;
                    }
                    if gpu_error {
                        return Err(UpError::GpuUnavailable { request, message, diagnosis });
                    }
                }
                return Err(UpError::StartFailed { message, diagnosis });
            }
        }
    }
}

/// Daemon texts that mean "this container cannot have the GPU" even when the diagnosis table has no entry.
fn is_gpu_message(message: &str) -> bool {
    let m = message.to_lowercase();
    ["could not select device driver", "nvidia-container-cli", "nvidia-container-runtime", "unknown or invalid runtime name: nvidia", "cdi device injection", "unresolvable cdi devices"]
        .iter()
        .any(|s| m.contains(s))
}

async fn create(docker: &crate::docker::Docker, name: &str, mut body: ContainerCreateBody) -> Result<String, UpError> {
    if docker.is_podman() {
        // Podman's compatible API drops `--gpus`: the GPU is asked for by its CDI name instead, as Podman 5's own
        // `--gpus` does, which takes the container through Podman's own API below.
        podman_spec::gpus_as_cdi(&mut body);
        if !cdi_devices(&body).is_empty() {
            return create_through_libpod(docker, name, &body).await;
        }
    }
    let opts = CreateContainerOptions { name: Some(name.to_string()), ..Default::default() };
    match docker.client.create_container(Some(opts), body.clone()).await {
        Ok(r) => Ok(r.id),
        // The name is taken by a container that is not this workspace's: let the daemon pick one.
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => {
            docker.client.create_container(None::<CreateContainerOptions>, body).await.map(|r| r.id).map_err(create_error)
        }
        Err(e) => Err(create_error(e)),
    }
}

/// The CDI devices the body asks for (device requests of the `cdi` driver).
fn cdi_devices(body: &ContainerCreateBody) -> Vec<String> {
    body.host_config.iter().flat_map(|h| h.device_requests.iter().flatten()).filter(|r| r.driver.as_deref() == Some("cdi")).flat_map(|r| r.device_ids.clone().unwrap_or_default()).collect()
}

/// Podman's compatible API drops CDI devices, its own applies them: the same body, translated
/// ([`crate::plan::podman_spec`]), created there. A taken name is left to Podman to pick, as on the compatible path.
async fn create_through_libpod(docker: &crate::docker::Docker, name: &str, body: &ContainerCreateBody) -> Result<String, UpError> {
    let rootless = crate::docker::info::gather(docker).await?.rootless;
    let request = cdi_devices(body).join(", ");
    let spec = podman_spec::spec_generator(name, body, rootless).map_err(|e| UpError::GpuUnavailable {
        request: request.clone(),
        message: e.to_string(),
        diagnosis: Some(crate::checks::Diagnosed {
            id: "podman-libpod-untranslatable".into(),
            cause: "on Podman, a container with CDI devices is created through Podman's own API, and this part of the configuration has no translation there".into(),
            fix: vec![format!("drop {} from devcontainer.json (runArgs or the image's metadata)", e.what), "or pass the GPU as device nodes and driver files: `devgpu init --gpu-mode inject`".into()],
            sources: vec!["Podman 4.3's /containers/create ignores CDI devices; /libpod/containers/create applies them".into()],
        }),
    })?;
    let failed = |e: libpod::LibpodError| {
        let message = e.to_string();
        let diagnosis = diagnose(&message);
        if diagnosis.is_some() || is_gpu_message(&message) {
            UpError::GpuUnavailable { request: request.clone(), message, diagnosis }
        } else {
            UpError::StartFailed { message, diagnosis }
        }
    };
    match libpod::create_container(docker, &spec).await {
        Ok(id) => Ok(id),
        Err(libpod::LibpodError::Status { message, .. }) if message.contains("already in use") => {
            let mut unnamed = spec.clone();
            if let Some(o) = unnamed.as_object_mut() {
                o.remove("name");
            }
            libpod::create_container(docker, &unnamed).await.map_err(failed)
        }
        Err(e) => Err(failed(e)),
    }
}

fn create_error(e: bollard::errors::Error) -> UpError {
    let message = api_message(&e);
    UpError::StartFailed { diagnosis: diagnose(&message), message }
}

/// Starts an existing (stopped) container.
pub async fn start(docker: &crate::docker::Docker, id: &str) -> Result<(), String> {
    docker.client.start_container(id, None).await.map_err(|e| api_message(&e))
}

/// Removes a container (forced: a running one is killed), ignoring one that is already gone.
pub async fn remove(docker: &crate::docker::Docker, id: &str) {
    let _ = docker.client.remove_container(id, Some(RemoveContainerOptions { force: true, v: true, ..Default::default() })).await;
}

/// Stops a container (SIGTERM, then SIGKILL after `timeout_s`).
pub async fn stop(docker: &crate::docker::Docker, id: &str, timeout_s: i32) -> Result<(), UpError> {
    match docker.client.stop_container(id, Some(StopContainerOptions { t: Some(timeout_s), ..Default::default() })).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 304 | 404, .. }) => Ok(()),
        Err(e) => Err(docker_err(docker, e)),
    }
}

/// Removes an image by id if nothing uses it any more (errors are ignored: it may be in use or shared).
pub async fn remove_image_if_unused(docker: &crate::docker::Docker, id: &str) {
    let _ = docker.client.remove_image(id, Some(RemoveImageOptions { force: false, noprune: false, ..Default::default() }), None).await;
}

/// `Created` and `State.StartedAt` of a container (the times the lifecycle markers hold), and its environment.
pub async fn times_and_env(docker: &crate::docker::Docker, id: &str) -> Result<(String, String, Vec<String>), UpError> {
    let c = docker.client.inspect_container(id, None).await.map_err(|e| docker_err(docker, e))?;
    let created = c.created.map(|d| go_rfc3339_nano(&d)).unwrap_or_default();
    let started = c.state.and_then(|s| s.started_at).unwrap_or_default();
    let env = c.config.and_then(|c| c.env).unwrap_or_default();
    Ok((created, started, env))
}

/// A time as the engine wrote it (Go's `RFC3339Nano`: fraction without trailing zeros, `Z` for UTC). bollard
/// parses `Created`; the lifecycle markers must hold the engine's own text, which the official CLI compares too.
fn go_rfc3339_nano(d: &bollard::models::BollardDate) -> String {
    let mut out = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", d.year(), d.month() as u8, d.day(), d.hour(), d.minute(), d.second());
    if d.nanosecond() != 0 {
        out.push_str(format!(".{:09}", d.nanosecond()).trim_end_matches('0'));
    }
    let offset = d.offset().whole_seconds();
    if offset == 0 {
        out.push('Z');
    } else {
        let a = offset.abs();
        out.push_str(&format!("{}{:02}:{:02}", if offset < 0 { '-' } else { '+' }, a / 3600, (a % 3600) / 60));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_times_keep_the_engines_text() {
        for text in ["2026-12-07T14:23:51.12345Z", "2026-12-07T14:23:51Z", "2026-01-02T03:04:05.000000001Z"] {
            let parsed: bollard::models::ContainerInspectResponse = serde_json::from_value(serde_json::json!({ "Created": text })).unwrap();
            assert_eq!(go_rfc3339_nano(&parsed.created.unwrap()), text);
        }
    }

    #[test]
    fn references() {
        assert_eq!(split_reference("nvidia/cuda:12.4.1-base-ubuntu22.04"), ("nvidia/cuda".into(), "12.4.1-base-ubuntu22.04".into()));
        assert_eq!(split_reference("debian"), ("debian".into(), "latest".into()));
        assert_eq!(split_reference("localhost:5000/x"), ("localhost:5000/x".into(), "latest".into()));
        assert_eq!(split_reference("x@sha256:ab"), ("x".into(), "sha256:ab".into()));
    }

    #[test]
    fn gpu_messages() {
        assert!(is_gpu_message("could not select device driver \"\" with capabilities: [[gpu]]"));
        assert!(is_gpu_message("OCI runtime create failed: nvidia-container-cli: initialization error"));
        assert!(!is_gpu_message("no such image"));
    }
}
