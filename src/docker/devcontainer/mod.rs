//! EDGE: a workspace's dev container through the Docker API — the image build (classic builder, context streamed
//! from [`context`]), create/start with the GPU and its diagnosis, lifecycle commands, exec, stop/remove.
//! Plans come from [`crate::plan::up`]; nothing here decides what the container looks like.

// UpError carries the diagnosis and log lines a user needs; it is returned once per command, so its size is moot.
#![allow(clippy::result_large_err)]

pub mod build;
pub mod container;
pub mod context;
pub mod exec;
pub mod features;
pub mod uid_image;
pub mod workspace;

use crate::checks::Diagnosed;
use crate::config::dockerignore::DockerignoreError;
use crate::docker::DockerError;
use crate::error::{Coded, ErrorCode};

/// What can go wrong starting a dev container.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpError {
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Dockerignore(#[from] DockerignoreError),
    /// Dev Container Features that cannot be installed (nothing was built).
    #[error(transparent)]
    Features(#[from] crate::plan::features::FeatureError),
    #[error("cannot read the build context at {path}: {message}")]
    Context { path: String, message: String },
    #[error("the image build failed{}: {message}{}", step.as_deref().map(|s| format!(" at {s}")).unwrap_or_default(), tail_text(tail))]
    BuildFailed { step: Option<String>, message: String, tail: Vec<String> },
    #[error("the image {image} is not on this machine and could not be pulled: {message}")]
    ImageUnavailable { image: String, message: String, diagnosis: Option<Diagnosed> },
    #[error("the container cannot get the GPU it asks for ({request}): {message}{}", diagnosis.as_ref().map(|d| format!(" — {}", d.cause)).unwrap_or_default())]
    GpuUnavailable { request: String, message: String, diagnosis: Option<Diagnosed> },
    #[error("the container did not start: {message}{}", diagnosis.as_ref().map(|d| format!(" — {}", d.cause)).unwrap_or_default())]
    StartFailed { message: String, diagnosis: Option<Diagnosed> },
    #[error("{hook}{} failed with exit code {code}{}{}", name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default(), if *removed { "; the container was removed so that the next `devgpu up` runs it again" } else { "" }, tail_text(tail))]
    Lifecycle { hook: String, name: Option<String>, code: i64, tail: Vec<String>, removed: bool },
    #[error("interrupted; {cleanup}")]
    Interrupted { cleanup: String },
    /// The daemon is on another machine and the workspace folder does not exist there (see [`workspace`]).
    #[error("the workspace {folder} does not exist on the Docker host {url} ({origin}): a bind mount names a path on the machine Docker runs on, so the container would not see this machine's files")]
    WorkspaceNotOnServer { folder: String, url: String, origin: String, server: Option<String> },
    /// A Compose config, and neither `docker-compose` nor `docker compose` answers.
    #[error("this devcontainer.json uses Docker Compose, and neither `docker-compose` nor `docker compose` runs on this machine")]
    ComposeMissing,
    /// A Compose step (config, build, up) failed.
    #[error("`{command}` failed: {message}{}{}", diagnosis.as_ref().map(|d| format!(" — {}", d.cause)).unwrap_or_default(), tail_text(tail))]
    ComposeFailed { command: String, message: String, tail: Vec<String>, diagnosis: Option<Diagnosed> },
    /// devgpu's compose override file (kept in its cache folder) could not be written.
    #[error("cannot write the compose override file {path}: {message}")]
    ComposeOverrideUnwritable { path: String, message: String },
}

fn tail_text(tail: &[String]) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("\n  | {}", tail.join("\n  | "))
    }
}

impl Coded for UpError {
    fn code(&self) -> ErrorCode {
        match self {
            UpError::Docker(e) => e.code(),
            UpError::Dockerignore(e) => e.code(),
            UpError::Features(e) => e.code(),
            UpError::Context { .. } => ErrorCode::BuildContextUnreadable,
            UpError::BuildFailed { .. } => ErrorCode::BuildFailed,
            UpError::ImageUnavailable { .. } => ErrorCode::ImageUnavailable,
            UpError::GpuUnavailable { .. } => ErrorCode::GpuUnavailable,
            UpError::StartFailed { .. } => ErrorCode::ContainerStartFailed,
            UpError::Lifecycle { .. } => ErrorCode::LifecycleCommandFailed,
            UpError::Interrupted { .. } => ErrorCode::Interrupted,
            UpError::WorkspaceNotOnServer { .. } => ErrorCode::WorkspaceNotOnDockerHost,
            UpError::ComposeMissing => ErrorCode::ComposeCliMissing,
            UpError::ComposeFailed { .. } => ErrorCode::ComposeFailed,
            UpError::ComposeOverrideUnwritable { .. } => ErrorCode::WriteFailed,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            UpError::Docker(e) => e.hints(),
            UpError::Dockerignore(e) => e.hints(),
            UpError::Features(e) => e.hints(),
            UpError::Context { path, .. } => vec![format!("make {path} readable by the user running devgpu, or exclude it in .dockerignore")],
            UpError::BuildFailed { .. } => vec!["fix the failing Dockerfile step, then run `devgpu up` again (earlier steps come from the build cache)".into()],
            UpError::ImageUnavailable { diagnosis: Some(d), .. } => d.fix.clone(),
            UpError::ImageUnavailable { image, .. } => vec![format!("check the name, or pull it yourself: `docker pull {image}`")],
            UpError::GpuUnavailable { diagnosis: Some(d), .. } => {
                let mut h = d.fix.clone();
                h.push("or, to start without a GPU when none is available, set \"hostRequirements\": { \"gpu\": \"optional\" } in devcontainer.json".into());
                h
            }
            UpError::GpuUnavailable { .. } => vec!["run `devgpu doctor --probe` to see why Docker cannot give containers a GPU".into()],
            UpError::StartFailed { diagnosis: Some(d), .. } => d.fix.clone(),
            UpError::StartFailed { .. } => vec!["check runArgs, mounts and containerUser in devcontainer.json".into()],
            UpError::Lifecycle { hook, .. } => vec![format!("fix {hook} in devcontainer.json (or the script it runs), then run `devgpu up` again")],
            UpError::Interrupted { .. } => Vec::new(),
            UpError::ComposeMissing => vec![
                "install Docker Compose: `sudo apt-get install docker-compose` (Debian/Ubuntu) or the `docker-compose-plugin` package of docker-ce".into(),
            ],
            UpError::ComposeFailed { diagnosis: Some(d), .. } => d.fix.clone(),
            UpError::ComposeFailed { .. } => vec!["fix the compose file(s) named by `dockerComposeFile` in devcontainer.json, then run `devgpu up` again".into()],
            UpError::ComposeOverrideUnwritable { .. } => vec![
                "devgpu keeps it under $XDG_CACHE_HOME/devgpu/compose (else ~/.cache/devgpu/compose): make that folder yours, or set XDG_CACHE_HOME to a folder you can write".into(),
            ],
            UpError::WorkspaceNotOnServer { server, .. } => {
                let on = server.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
                vec![
                    format!("work on the server: in VS Code run \"Remote-SSH: Connect to Host…\"{on}, open the repository's folder there and run `devgpu up` in its terminal (Docker is then local to the workspace)"),
                    "or copy the workspace into a Docker volume on the server: `devgpu up --workspace-volume` (the volume is then the workspace — commit and push from the container; `devgpu down --remove` keeps the volume)".into(),
                ]
            }
        }
    }
    fn is_user_error(&self) -> bool {
        true
    }
}

/// The message of a bollard error: the daemon's own text for API errors, else the whole chain.
pub fn api_message(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        bollard::errors::Error::DockerStreamError { error } => error.clone(),
        other => crate::docker::error_chain(other),
    }
}

/// True for a 404 from the daemon.
pub fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}
