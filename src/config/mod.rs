//! PURE: the devcontainer.json model and comment-preserving JSONC edits (jsonc-parser's CST).
//!
//! - [`parse_jsonc`]: JSONC as VS Code reads devcontainer.json, errors with file:line:column and the fix.
//! - [`merge_gpu_settings`]: add devgpu's GPU settings to an existing devcontainer.json, keeping comments, key
//!   order and formatting; a second merge changes nothing.
//! - [`run_args`]: what counts as a GPU request or a shared-memory setting in `runArgs` (shared with the planner).
//! - [`compose_yaml`]: add the GPU to a Docker Compose service, keeping the YAML's comments and layout.
//! - [`summarize`]: the facts of a parsed devcontainer.json the planner needs (container source, GPU request).
//!
//! No file system access here: callers read and write the files.

pub mod compose_yaml;
pub mod docker_build_options;
pub mod docker_run_args;
pub mod dockerignore;
mod error;
mod jsonc;
mod merge;
pub mod model;
pub mod run_args;
mod settings;
pub mod substitute;
mod summary;
mod tree;

pub use error::ConfigError;
pub use jsonc::{line_col, parse_jsonc};
pub use merge::{merge_gpu_settings, replace_string_props};
pub use run_args::{
    gpu_request, gpu_requests, has_gpu_request, has_nvidia_runtime, has_shm_setting, shm_setting, shm_settings,
    split_joined, GpuRequest, RunArgFlag, ShmSetting,
};
pub use settings::{BuildSettings, GpuSettings, MergeOutcome};
pub use summary::{summarize, ContainerSource, DevcontainerSummary};

/// Where a repository's devcontainer.json may be, relative to its root, in the order the Dev Containers CLI
/// looks (a `.devcontainer/<name>/devcontainer.json` is picked only when named).
pub const DEVCONTAINER_CANDIDATES: [&str; 2] = [".devcontainer/devcontainer.json", ".devcontainer.json"];

/// The repository's devcontainer.json: the first of [`DEVCONTAINER_CANDIDATES`] for which `is_file` holds
/// (the caller answers from the disk or from the files it already walked).
pub fn find_devcontainer(is_file: impl Fn(&str) -> bool) -> Option<&'static str> {
    DEVCONTAINER_CANDIDATES.into_iter().find(|rel| is_file(rel))
}
