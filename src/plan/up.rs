//! PURE: `devgpu up`'s plan — from a devcontainer.json (text + where it is) to the image to build or use and the
//! container to create, exactly as the Dev Containers CLI would start it, so VS Code's "Reopen in Container" and
//! `devcontainer up` reuse it:
//!
//! - labels `devcontainer.local_folder` and `devcontainer.config_file` (absolute paths; how the CLI and VS Code
//!   find a workspace's container), `devcontainer.metadata` (the container-related keys of the config, raw, as
//!   the CLI writes them), and devgpu's own `devgpu.*` labels with a hash of the effective configuration;
//! - the workspace bound at `/workspaces/<folder name>` unless `workspaceMount` / `workspaceFolder` say otherwise;
//! - the CLI's keep-alive entrypoint (`/bin/sh -c "… while sleep 1 & wait $!; do :; done"`) unless
//!   `overrideCommand` is false;
//! - `runArgs` mapped flag by flag onto the API's `Config` / `HostConfig` ([`crate::config::docker_run_args`]);
//! - the GPU as a `DeviceRequest` from `--gpus` or `hostRequirements.gpu`.
//!
//! No I/O: the command reads the files and the image facts and hands them in.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use bollard::models::{
    ContainerCreateBody, DeviceMapping, DeviceRequest, HostConfig, Mount, MountBindOptions, MountBindOptionsPropagationEnum, MountTmpfsOptions, MountType,
    MountVolumeOptions, MountVolumeOptionsDriverConfig, PortBinding, ResourcesUlimits,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::docker_run_args::{parse_env_file, parse_publish, parse_run_args, EnvArg, GpuDeviceRequest, MountSpec, RunArgs, RunArgsError};
use crate::config::model::{DevContainer, GpuRequirement, ImageSource, Lifecycle, LifecycleCommand, ModelError, EDITOR_KEYS};
use crate::config::substitute::{devcontainer_id, substitute_str, substitute_value, SubstitutionContext};
use crate::config::{parse_jsonc, ConfigError};
use crate::plan::features::{self, FeatureError, FeatureRequests, MergedMetadata};
use crate::error::ErrorCode;

/// The label the Dev Containers CLI and VS Code find a workspace's container by (absolute workspace path).
pub const LABEL_LOCAL_FOLDER: &str = "devcontainer.local_folder";
/// The second identifying label: the absolute path of devcontainer.json.
pub const LABEL_CONFIG_FILE: &str = "devcontainer.config_file";
/// The container-related part of the config, as a JSON array (the CLI merges it with the image's metadata).
pub const LABEL_METADATA: &str = "devcontainer.metadata";
/// SHA-256 of the effective configuration: a different value means the container is stale.
pub const LABEL_CONFIG_HASH: &str = "devgpu.config_hash";
pub const LABEL_VERSION: &str = "devgpu.version";
/// The user VS Code attaches as, resolved when the container was created.
pub const LABEL_REMOTE_USER: &str = "devgpu.remote_user";
pub const LABEL_WORKSPACE_FOLDER: &str = "devgpu.workspace_folder";
/// `none` (no GPU asked for), `granted`, or `not-granted` (optional GPU the daemon could not provide).
pub const LABEL_GPU: &str = "devgpu.gpu";
/// On images devgpu builds: the hash of the build inputs (Dockerfile, args, target, context files).
pub const LABEL_BUILD_HASH: &str = "devgpu.build_hash";
/// On images devgpu builds: the workspace they belong to (for cleanup).
pub const LABEL_IMAGE_WORKSPACE: &str = "devgpu.local_folder";

/// The keys the Dev Containers CLI copies into `devcontainer.metadata`, in its order (cli `vj`).
const METADATA_KEYS: &[&str] = &[
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
    "waitFor",
    "customizations",
    "mounts",
    "containerEnv",
    "containerUser",
    "init",
    "privileged",
    "capAdd",
    "securityOpt",
    "remoteUser",
    "userEnvProbe",
    "remoteEnv",
    "overrideCommand",
    "portsAttributes",
    "otherPortsAttributes",
    "forwardPorts",
    "shutdownAction",
    "updateRemoteUserUID",
    "hostRequirements",
];

/// The keep-alive script of the Dev Containers CLI (`docker run --entrypoint /bin/sh … -c SCRIPT -`).
pub const KEEP_ALIVE_SCRIPT: &str = "echo Container started\ntrap \"exit 0\" 15\n\nexec \"$@\"\nwhile sleep 1 & wait $!; do :; done";

/// Bumped when the way devgpu turns a config into a container changes (old containers are then recreated).
const PLAN_VERSION: &str = "devgpu-up-1";

/// Where the configuration is and what the environment holds.
#[derive(Debug, Clone)]
pub struct ConfigInput<'a> {
    /// Absolute path of the workspace (the repository).
    pub local_folder: &'a Path,
    /// Absolute path of devcontainer.json.
    pub config_file: &'a Path,
    pub config_text: &'a str,
    /// devgpu's environment, for `${localEnv:…}` and `-e NAME` in runArgs.
    pub local_env: Vec<(String, String)>,
}

/// A devcontainer.json read, substituted and modelled.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    pub local_folder: String,
    pub config_file: String,
    /// As written (for `devcontainer.metadata`).
    pub raw: Value,
    /// With the variables replaced.
    pub substituted: Value,
    pub model: DevContainer,
    /// Where the workspace is in the container.
    pub workspace_folder: String,
    pub id_labels: Vec<(String, String)>,
    pub local_env: Vec<(String, String)>,
}

impl ResolvedConfig {
    /// Absolute path of the Dockerfile and of the build context, for a `build` config.
    pub fn build_paths(&self) -> Option<(PathBuf, PathBuf)> {
        let Some(ImageSource::Build(b)) = &self.model.source else { return None };
        let dir = Path::new(&self.config_file).parent().unwrap_or(Path::new("/"));
        Some((normalize(&dir.join(&b.dockerfile)), normalize(&dir.join(&b.context))))
    }
}

/// Lexically normalised absolute path (`a/./b/../c` → `a/c`), without touching the file system.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn basename(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)
}

/// Reads devcontainer.json: JSONC → variables replaced (`${localEnv:…}`, `${localWorkspaceFolder}`,
/// `${containerWorkspaceFolder}`, `${devcontainerId}`) → the model.
pub fn resolve_config(input: &ConfigInput) -> Result<ResolvedConfig, ModelError> {
    let file = input.config_file.display().to_string();
    let raw = parse_jsonc(input.config_text, &file)?;
    if !raw.is_object() {
        let found = match raw {
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            _ => "null",
        };
        return Err(ModelError::Config(ConfigError::NotObject { file, line: 1, column: 1, found }));
    }
    let local_folder = input.local_folder.display().to_string();
    let config_file = file.clone();
    let id_labels = vec![(LABEL_LOCAL_FOLDER.to_string(), local_folder.clone()), (LABEL_CONFIG_FILE.to_string(), config_file.clone())];
    let mut ctx = SubstitutionContext {
        local_workspace_folder: local_folder.clone(),
        container_workspace_folder: None,
        devcontainer_id: Some(devcontainer_id(&id_labels)),
        local_env: input.local_env.clone(),
    };
    let workspace_folder = match raw.get("workspaceFolder").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(w) => substitute_str(w, &ctx),
        // A compose file mounts the workspace where it likes; the Dev Containers CLI then opens `/`.
        None if raw.get("dockerComposeFile").is_some() => "/".into(),
        None => format!("/workspaces/{}", basename(&local_folder)),
    };
    ctx.container_workspace_folder = Some(workspace_folder.clone());
    let substituted = substitute_value(&raw, &ctx);
    let model = DevContainer::from_value(&substituted, input.config_text, &file)?;
    Ok(ResolvedConfig { local_folder, config_file, raw, substituted, model, workspace_folder, id_labels, local_env: input.local_env.clone() })
}

/// How the container asks for GPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuPlan {
    pub request: Option<GpuDeviceRequest>,
    /// `runArgs` (`--gpus`) or `hostRequirements`.
    pub source: &'static str,
    /// `hostRequirements.gpu: "optional"`: start without a GPU when the daemon cannot provide one.
    pub optional: bool,
}

/// The image to build.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildPlan {
    pub context_dir: PathBuf,
    pub dockerfile: PathBuf,
    /// The Dockerfile's path inside the context (`/`-separated), or `None` when it lies outside the context and
    /// must be added to the tar under [`BuildPlan::EXTERNAL_DOCKERFILE`].
    pub dockerfile_in_context: Option<String>,
    pub tag: String,
    pub args: Vec<(String, String)>,
    pub target: Option<String>,
    pub cache_from: Vec<String>,
    /// `build.options`; their target, cache sources and build args are already merged into the fields above,
    /// except build args named without a value (`args_from_env`), whose value the edge reads from its environment.
    pub options: crate::config::docker_build_options::BuildOptions,
    /// `--build-arg NAME` in `build.options`: the value comes from devgpu's environment, as from the docker CLI's.
    pub args_from_env: Vec<String>,
    /// Hash of the Dockerfile text, args, target and context path (not the context files: see
    /// [`build_hash`], which adds their fingerprint).
    pub definition_hash: String,
}

impl BuildPlan {
    /// Where a Dockerfile from outside the context goes in the context tar (as the docker CLI does).
    pub const EXTERNAL_DOCKERFILE: &'static str = ".devgpu.Dockerfile";

    /// The `dockerfile` parameter of the build API.
    pub fn dockerfile_param(&self) -> String {
        self.dockerfile_in_context.clone().unwrap_or_else(|| Self::EXTERNAL_DOCKERFILE.to_string())
    }
}

/// The full plan for `up`, before the image is known.
#[derive(Debug, Clone)]
pub struct UpPlan {
    pub config: ResolvedConfig,
    /// The image reference the container is created from (a pulled image, or the tag devgpu builds).
    pub image: String,
    pub build: Option<BuildPlan>,
    pub run_args: RunArgs,
    pub gpu: GpuPlan,
    pub container_name: String,
    pub config_hash: String,
    pub warnings: Vec<String>,
    /// The `features` of the config (empty: none); installed into [`UpPlan::features_tag`].
    pub features: FeatureRequests,
    /// The derived image with the Features installed.
    pub features_tag: String,
    /// The variables of the runArgs' `--env-file`s (read at the edge, [`UpPlan::add_env_files`]), in order.
    pub env_file_env: Vec<EnvArg>,
}

/// Why `up` cannot plan a container.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    RunArgs(#[from] RunArgsError),
    #[error("appPort `{value}`: {why}")]
    AppPort { value: String, why: String },
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error("{path}:{line}: {why} (an --env-file of runArgs)")]
    EnvFile { path: String, line: usize, why: String },
}

impl crate::error::Coded for PlanError {
    fn code(&self) -> ErrorCode {
        match self {
            PlanError::Model(e) => e.code(),
            PlanError::RunArgs(e) => e.code(),
            PlanError::AppPort { .. } => ErrorCode::DevcontainerInvalidValue,
            PlanError::Features(e) => e.code(),
            PlanError::EnvFile { .. } => ErrorCode::RunArgsInvalidValue,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            PlanError::Model(e) => e.hints(),
            PlanError::RunArgs(e) => e.hints(),
            PlanError::AppPort { .. } => vec!["write appPort as a port number or \"HOST:CONTAINER\"".into()],
            PlanError::Features(e) => e.hints(),
            PlanError::EnvFile { path, line, .. } => vec![format!("fix line {line} of {path}: `NAME=VALUE`, or `NAME` alone to pass this machine's value")],
        }
    }
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Docker names: lowercase `[a-z0-9]` runs joined by `-`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "workspace".into()
    } else {
        out.chars().take(40).collect()
    }
}

/// The tag of an image devgpu makes for this workspace: `devgpu-<folder>-<hash of the paths><suffix>:latest`
/// (the built image has no suffix; the image with the remote user's uid mapped adds `-uid`, as the CLI does).
pub fn workspace_image_tag(config: &ResolvedConfig, suffix: &str) -> String {
    let key = sha256_hex(format!("{}\n{}", config.local_folder, config.config_file).as_bytes());
    format!("devgpu-{}-{}{suffix}:latest", slug(basename(&config.local_folder)), &key[..8])
}

/// Plans `up` from a resolved config and, for a `build` config, the Dockerfile's text.
pub fn plan_up(config: ResolvedConfig, dockerfile_text: Option<&str>) -> Result<UpPlan, PlanError> {
    let model = &config.model;
    let compose = matches!(model.source, Some(ImageSource::Compose(_)));
    // A compose service takes its flags from the compose file: runArgs and appPort are named in a warning only.
    let run_args = if compose { RunArgs::default() } else { parse_run_args(&model.run_args)? };
    for p in model.app_ports.iter().filter(|_| !compose) {
        parse_publish(p).map_err(|why| PlanError::AppPort { value: p.clone(), why })?;
    }
    let mut warnings = model.warnings.clone();

    let gpu = match (&run_args.gpus, model.gpu) {
        (Some(req), g) => GpuPlan { request: Some(req.clone()), source: "runArgs", optional: g == GpuRequirement::Optional },
        (None, GpuRequirement::Required) => GpuPlan { request: Some(GpuDeviceRequest::all()), source: "hostRequirements", optional: false },
        (None, GpuRequirement::Optional) => GpuPlan { request: Some(GpuDeviceRequest::all()), source: "hostRequirements", optional: true },
        (None, GpuRequirement::None) => GpuPlan { request: None, source: "none", optional: false },
    };
    if run_args.gpus.is_some() && model.gpu != GpuRequirement::None {
        warnings.push(
            "both runArgs `--gpus` and hostRequirements.gpu ask for GPUs: VS Code adds a second `--gpus all` on hosts with the nvidia runtime, which Docker refuses; keep one of them"
                .into(),
        );
    }

    let key = sha256_hex(format!("{}\n{}", config.local_folder, config.config_file).as_bytes());
    let base = slug(basename(&config.local_folder));
    let container_name = run_args.name.clone().unwrap_or_else(|| format!("devgpu-{base}-{}", &key[..8]));

    let (image, build) = match &model.source {
        Some(ImageSource::Image(i)) => (i.clone(), None),
        // Compose names (or builds) the image; the command learns it from `compose config`.
        Some(ImageSource::Compose(c)) => (c.service.clone(), None),
        Some(ImageSource::Build(b)) => {
            let (dockerfile, context_dir) = config.build_paths().expect("a build config");
            let dockerfile_in_context = dockerfile.strip_prefix(&context_dir).ok().map(|p| p.to_string_lossy().replace('\\', "/"));
            let tag = workspace_image_tag(&config, "");
            let definition = serde_json::json!({
                "v": PLAN_VERSION,
                "dockerfile": dockerfile_text.unwrap_or(""),
                "dockerfilePath": dockerfile_in_context,
                "context": context_dir.display().to_string(),
                "args": b.args,
                "target": b.target,
                "options": format!("{:?}", b.options),
            });
            let definition_hash = sha256_hex(definition.to_string().as_bytes());
            // build.options come after the CLI's own flags on its command line: their --build-arg and --target win.
            let mut args = b.args.clone();
            let mut args_from_env = Vec::new();
            for (name, value) in &b.options.build_args {
                args.retain(|(k, _)| k != name);
                match value {
                    Some(v) => args.push((name.clone(), v.clone())),
                    None => args_from_env.push(name.clone()),
                }
            }
            let plan = BuildPlan {
                context_dir,
                dockerfile,
                dockerfile_in_context,
                tag: tag.clone(),
                args,
                target: b.options.target.clone().or_else(|| b.target.clone()),
                cache_from: b.cache_from.iter().chain(&b.options.cache_from).cloned().collect(),
                options: b.options.clone(),
                args_from_env,
                definition_hash,
            };
            (tag, Some(plan))
        }
        None => unreachable!("the model always has a source"),
    };

    // The effective configuration: everything that shapes the container, not what only the editor reads.
    let mut effective = config.substituted.clone();
    if let Value::Object(o) = &mut effective {
        for k in EDITOR_KEYS {
            o.shift_remove(*k);
        }
    }
    let hash_input = serde_json::json!({
        "v": PLAN_VERSION,
        "config": effective,
        "dockerfile": dockerfile_text,
        "localFolder": config.local_folder,
        "configFile": config.config_file,
    });
    let config_hash = sha256_hex(canonical(&hash_input).as_bytes());
    let features = FeatureRequests::from_config(&config.substituted, &config.config_file)?;
    let features_tag = format!("devgpu-{base}-{}-features:latest", &key[..8]);

    Ok(UpPlan { config, image, build, run_args, gpu, container_name, config_hash, warnings, features, features_tag, env_file_env: Vec::new() })
}

/// JSON with object keys sorted at every level: the same configuration hashes the same whatever its key order.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys.iter().map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&o[k.as_str()]))).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// The build hash: the definition hash plus a fingerprint of the context files (from the edge that walked them).
pub fn build_hash(build: &BuildPlan, context_fingerprint: &str) -> String {
    sha256_hex(format!("{}\n{}", build.definition_hash, context_fingerprint).as_bytes())
}

/// What the container needs to know about its image.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageFacts {
    pub id: String,
    /// `Config.User`; empty = root.
    pub user: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Entries of the image's own `devcontainer.metadata` label (images made by the Dev Containers tooling).
    pub metadata: Vec<Value>,
}

impl UpPlan {
    /// Folds a fingerprint of the local Features' files into the configuration hash: editing a local Feature
    /// makes the container stale, as editing the Dockerfile does.
    pub fn add_features_fingerprint(&mut self, fingerprint: &str) {
        self.config_hash = sha256_hex(format!("{}\n{fingerprint}", self.config_hash).as_bytes());
    }

    /// Adds the variables of the runArgs' `--env-file`s from their texts (path, text; in runArgs order). An edit of
    /// a file makes the container stale, as an edit of `containerEnv` does.
    pub fn add_env_files(&mut self, files: &[(String, String)]) -> Result<(), PlanError> {
        for (path, text) in files {
            let vars = parse_env_file(text).map_err(|(line, why)| PlanError::EnvFile { path: path.clone(), line, why })?;
            self.env_file_env.extend(vars);
            self.config_hash = sha256_hex(format!("{}\n{path}\n{text}", self.config_hash).as_bytes());
        }
        Ok(())
    }

    /// The config's own `devcontainer.metadata` entry: its container-related keys, raw, in the CLI's order.
    pub fn config_metadata_entry(&self) -> Option<Value> {
        let mut entry = serde_json::Map::new();
        if let Value::Object(raw) = &self.config.raw {
            for k in METADATA_KEYS {
                if let Some(v) = raw.get(*k) {
                    entry.insert(k.to_string(), v.clone());
                }
            }
        }
        (!entry.is_empty()).then_some(Value::Object(entry))
    }

    /// The image's part of a container's `devcontainer.metadata` label (the label less the config's own entry).
    pub fn image_part_of_label(&self, label: Option<&str>) -> Vec<Value> {
        let mut entries: Vec<Value> = match label.map(serde_json::from_str::<Value>) {
            Some(Ok(Value::Array(a))) => a,
            _ => Vec::new(),
        };
        if entries.last().is_some_and(|l| Some(l) == self.config_metadata_entry().as_ref()) {
            entries.pop();
        }
        entries
    }

    /// The image's metadata entries with the config's variables replaced (`${devcontainerId}` in a Feature's
    /// volume name, `${containerWorkspaceFolder}`…), as the CLI substitutes them before applying them; the label
    /// keeps them raw.
    pub fn substituted_metadata(&self, entries: &[Value]) -> Vec<Value> {
        let ctx = SubstitutionContext {
            local_workspace_folder: self.config.local_folder.clone(),
            container_workspace_folder: Some(self.config.workspace_folder.clone()),
            devcontainer_id: Some(devcontainer_id(&self.config.id_labels)),
            local_env: self.config.local_env.clone(),
        };
        entries.iter().map(|e| substitute_value(e, &ctx)).collect()
    }

    /// The commands of a lifecycle hook: the image's metadata entries (a base image's, then each Feature's, in
    /// install order) first, then the config's own (substituted) command, as the CLI runs them.
    pub fn hook_commands(&self, image_metadata: &[Value], hook: &str) -> Vec<LifecycleCommand> {
        let mut cmds = MergedMetadata::from_entries(&self.substituted_metadata(image_metadata)).hook(hook).to_vec();
        let l = self.lifecycle();
        let own = match hook {
            "onCreateCommand" => &l.on_create,
            "updateContentCommand" => &l.update_content,
            "postCreateCommand" => &l.post_create,
            _ => &l.post_start,
        };
        cmds.extend(own.iter().cloned());
        cmds
    }

    /// The hooks that have commands, in the order they run on a new container.
    pub fn hooks_with_commands(&self, image_metadata: &[Value]) -> Vec<&'static str> {
        features::HOOKS.iter().copied().filter(|h| !self.hook_commands(image_metadata, h).is_empty()).collect()
    }

    /// The compose part of a Docker Compose config.
    pub fn compose(&self) -> Option<&crate::config::model::ComposeConfig> {
        match &self.config.model.source {
            Some(ImageSource::Compose(c)) => Some(c),
            _ => None,
        }
    }

    /// The user VS Code and lifecycle commands run as: `remoteUser`, else `containerUser`, else runArgs
    /// `--user`, else the image's metadata, else the image's `USER`, else root.
    pub fn remote_user(&self, image: &ImageFacts) -> String {
        let m = &self.config.model;
        let from_metadata = |k: &str| image.metadata.iter().rev().find_map(|e| e.get(k).and_then(Value::as_str).map(str::to_string));
        m.remote_user
            .clone()
            .or_else(|| m.container_user.clone())
            .or_else(|| self.run_args.user.clone())
            .or_else(|| from_metadata("remoteUser"))
            .or_else(|| from_metadata("containerUser"))
            .or_else(|| image.user.clone().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "root".into())
    }

    /// The `Config.User` of the container: `containerUser`, else runArgs `--user` (else the image's own).
    fn container_user(&self) -> Option<String> {
        self.config.model.container_user.clone().or_else(|| self.run_args.user.clone())
    }

    /// The environment of the container: `containerEnv`, then runArgs `-e` (which win, as in `docker run`).
    pub fn container_env(&self) -> Vec<String> {
        self.container_env_with(&[])
    }

    /// The environment with the image metadata's `containerEnv` (a base image's, Features' entries) under the
    /// config's: the CLI merges all entries, the config's last.
    pub fn container_env_with(&self, image_env: &[(String, String)]) -> Vec<String> {
        let mut env: Vec<(String, String)> = image_env.to_vec();
        for (k, v) in &self.config.model.container_env {
            env.retain(|(n, _)| n != k);
            env.push((k.clone(), v.clone()));
        }
        // `docker run` applies the env files first, then `-e`.
        for e in self.env_file_env.iter().chain(&self.run_args.env) {
            let (k, v) = match e {
                EnvArg::Set(k, v) => (k.clone(), v.clone()),
                EnvArg::Inherit(k) => match self.config.local_env.iter().find(|(n, _)| n == k) {
                    Some((_, v)) => (k.clone(), v.clone()),
                    None => continue,
                },
            };
            env.retain(|(n, _)| *n != k);
            env.push((k, v));
        }
        env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// GPUs the runArgs hand in without a `DeviceRequest` (devgpu's `inject` mode, CDI): `Some("N")` for N
    /// `--device /dev/nvidiaN` nodes, `Some("all")` / `Some("N")` for CDI devices; `None` when there are none.
    pub fn injected_gpus(&self) -> Option<String> {
        let is_gpu_node = |p: &str| p.strip_prefix("/dev/nvidia").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        let nodes = self.run_args.devices.iter().filter(|d| is_gpu_node(&d.host) || is_gpu_node(&d.container)).count();
        let cdi: Vec<&String> = self.run_args.cdi_devices.iter().filter(|d| d.starts_with("nvidia.com/gpu=")).collect();
        if nodes > 0 {
            Some(nodes.to_string())
        } else if cdi.iter().any(|d| d.ends_with("=all")) {
            Some("all".into())
        } else if !cdi.is_empty() {
            Some(cdi.len().to_string())
        } else {
            None
        }
    }

    /// The lifecycle commands to run.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.config.model.lifecycle
    }

    /// The labels of the container (identifying, metadata, devgpu's own, runArgs `--label`).
    pub fn labels(&self, image: &ImageFacts, remote_user: &str, gpu_label: &str) -> HashMap<String, String> {
        let mut labels: HashMap<String, String> = self.run_args.labels.iter().cloned().collect();
        for (k, v) in &self.config.id_labels {
            labels.insert(k.clone(), v.clone());
        }
        let mut metadata: Vec<Value> = image.metadata.clone();
        metadata.extend(self.config_metadata_entry());
        labels.insert(LABEL_METADATA.into(), Value::Array(metadata).to_string());
        labels.insert(LABEL_CONFIG_HASH.into(), self.config_hash.clone());
        labels.insert(LABEL_VERSION.into(), env!("CARGO_PKG_VERSION").into());
        labels.insert(LABEL_REMOTE_USER.into(), remote_user.into());
        labels.insert(LABEL_WORKSPACE_FOLDER.into(), self.config.workspace_folder.clone());
        labels.insert(LABEL_GPU.into(), gpu_label.into());
        labels
    }

    /// The workspace mount: `workspaceMount`, else the workspace bound at the workspace folder.
    fn workspace_mount(&self) -> MountSpec {
        self.config.model.workspace_mount.clone().unwrap_or_else(|| MountSpec {
            kind: "bind".into(),
            source: Some(self.config.local_folder.clone()),
            target: self.config.workspace_folder.clone(),
            ..Default::default()
        })
    }

    /// The container to create. `with_gpu` false drops the GPU request (optional GPU on a host without one).
    pub fn container_body(&self, image: &ImageFacts, with_gpu: bool) -> ContainerCreateBody {
        let m = &self.config.model;
        let r = &self.run_args;
        let remote_user = self.remote_user(image);
        let gpu_label = match (&self.gpu.request, with_gpu) {
            (None, _) => "none",
            (Some(_), true) => "granted",
            (Some(_), false) => "not-granted",
        };

        let merged = MergedMetadata::from_entries(&self.substituted_metadata(&image.metadata));
        let mut mounts = vec![to_mount(&self.workspace_mount())];
        let from_metadata = features::merge_mounts(merged.mounts.iter().chain(m.mounts.iter()).cloned().collect());
        mounts.extend(from_metadata.iter().map(to_mount));
        mounts.extend(r.mounts.iter().map(to_mount));

        let mut device_requests = Vec::new();
        if with_gpu {
            if let Some(g) = &self.gpu.request {
                device_requests.push(DeviceRequest {
                    driver: Some(g.driver.clone()),
                    count: Some(g.count),
                    device_ids: (!g.device_ids.is_empty()).then(|| g.device_ids.clone()),
                    capabilities: Some(g.capabilities.clone()),
                    options: Some(g.options.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                });
            }
        }
        for cdi in &r.cdi_devices {
            device_requests.push(DeviceRequest { driver: Some("cdi".into()), device_ids: Some(vec![cdi.clone()]), ..Default::default() });
        }

        let mut ports: Vec<_> = m.app_ports.iter().filter_map(|p| parse_publish(p).ok()).collect();
        ports.extend(r.publish.iter().cloned());
        let mut port_bindings: BTreeMap<String, Vec<PortBinding>> = BTreeMap::new();
        for p in &ports {
            port_bindings
                .entry(p.container_port.clone())
                .or_default()
                .push(PortBinding { host_ip: p.host_ip.clone(), host_port: Some(p.host_port.clone()) });
        }

        let union = union_unique;
        let cap_add = union(&union(&merged.cap_add, &m.cap_add), &r.cap_add);
        let security_opt = union(&union(&merged.security_opt, &m.security_opt), &r.security_opt);
        let nonempty = |v: Vec<String>| (!v.is_empty()).then_some(v);

        let host_config = HostConfig {
            mounts: Some(mounts),
            binds: nonempty(r.binds.clone()),
            device_requests: (!device_requests.is_empty()).then_some(device_requests),
            devices: (!r.devices.is_empty()).then(|| {
                r.devices
                    .iter()
                    .map(|d| DeviceMapping {
                        path_on_host: Some(d.host.clone()),
                        path_in_container: Some(d.container.clone()),
                        cgroup_permissions: Some(d.permissions.clone()),
                    })
                    .collect()
            }),
            device_cgroup_rules: nonempty(r.device_cgroup_rules.clone()),
            shm_size: r.shm_size,
            ipc_mode: r.ipc.clone(),
            ulimits: (!r.ulimits.is_empty())
                .then(|| r.ulimits.iter().map(|u| ResourcesUlimits { name: Some(u.name.clone()), soft: Some(u.soft), hard: Some(u.hard) }).collect()),
            cap_add: nonempty(cap_add),
            cap_drop: nonempty(r.cap_drop.clone()),
            security_opt: nonempty(security_opt),
            runtime: r.runtime.clone(),
            network_mode: r.network.clone(),
            privileged: (merged.privileged || m.privileged == Some(true) || r.privileged == Some(true)).then_some(true),
            init: (merged.init || m.init == Some(true) || r.init == Some(true)).then_some(true),
            extra_hosts: nonempty(r.add_hosts.clone()),
            port_bindings: (!port_bindings.is_empty()).then(|| port_bindings.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect()),
            tmpfs: (!r.tmpfs.is_empty()).then(|| r.tmpfs.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            sysctls: (!r.sysctls.is_empty()).then(|| r.sysctls.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            group_add: nonempty(r.group_add.clone()),
            memory: r.memory,
            nano_cpus: r.nano_cpus,
            pid_mode: r.pid.clone(),
            userns_mode: r.userns.clone(),
            uts_mode: r.uts.clone(),
            ..Default::default()
        };

        let mut cmd = vec!["-c".to_string(), features::keep_alive_script(&merged.entrypoints), "-".to_string()];
        if m.override_command == Some(false) {
            cmd.extend(image.entrypoint.iter().cloned());
            cmd.extend(image.cmd.iter().cloned());
        }
        let env = self.container_env_with(&merged.container_env);
        ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: Some(vec!["/bin/sh".into()]),
            cmd: Some(cmd),
            env: nonempty(env),
            user: self.container_user(),
            hostname: r.hostname.clone(),
            working_dir: r.workdir.clone(),
            stop_signal: r.stop_signal.clone(),
            labels: Some(self.labels(image, &remote_user, gpu_label)),
            exposed_ports: (!port_bindings.is_empty()).then(|| port_bindings.keys().cloned().collect()),
            volumes: nonempty(r.anonymous_volumes.clone()),
            attach_stdout: Some(false),
            attach_stderr: Some(false),
            host_config: Some(host_config),
            ..Default::default()
        }
    }
}

/// `a` then what `b` adds to it, each value once (capabilities, security options from metadata and config).
pub fn union_unique(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn to_mount(m: &MountSpec) -> Mount {
    let typ = match m.kind.as_str() {
        "bind" => MountType::BIND,
        "tmpfs" => MountType::TMPFS,
        "npipe" => MountType::NPIPE,
        _ => MountType::VOLUME,
    };
    let propagation = m.bind_propagation.as_deref().and_then(|p| match p {
        "private" => Some(MountBindOptionsPropagationEnum::PRIVATE),
        "rprivate" => Some(MountBindOptionsPropagationEnum::RPRIVATE),
        "shared" => Some(MountBindOptionsPropagationEnum::SHARED),
        "rshared" => Some(MountBindOptionsPropagationEnum::RSHARED),
        "slave" => Some(MountBindOptionsPropagationEnum::SLAVE),
        "rslave" => Some(MountBindOptionsPropagationEnum::RSLAVE),
        _ => None,
    });
    let volume = m.kind == "volume"
        && (m.volume_nocopy || m.volume_driver.is_some() || !m.volume_labels.is_empty() || !m.volume_options.is_empty());
    Mount {
        target: Some(m.target.clone()),
        source: m.source.clone(),
        typ: Some(typ),
        read_only: m.read_only.then_some(true),
        consistency: m.consistency.clone(),
        bind_options: propagation.map(|p| MountBindOptions { propagation: Some(p), ..Default::default() }),
        volume_options: volume.then(|| MountVolumeOptions {
            no_copy: m.volume_nocopy.then_some(true),
            labels: (!m.volume_labels.is_empty()).then(|| m.volume_labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            driver_config: (m.volume_driver.is_some() || !m.volume_options.is_empty()).then(|| MountVolumeOptionsDriverConfig {
                name: m.volume_driver.clone(),
                options: (!m.volume_options.is_empty()).then(|| m.volume_options.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            }),
            ..Default::default()
        }),
        tmpfs_options: (m.tmpfs_size.is_some() || m.tmpfs_mode.is_some())
            .then(|| MountTmpfsOptions { size_bytes: m.tmpfs_size, mode: m.tmpfs_mode, ..Default::default() }),
        ..Default::default()
    }
}

/// A lifecycle command as the argv lists to exec (several for the parallel object form), each with its name.
pub fn lifecycle_argvs(cmd: &LifecycleCommand) -> Vec<(Option<String>, Vec<String>)> {
    fn argv(c: &LifecycleCommand) -> Vec<String> {
        match c {
            LifecycleCommand::Shell(s) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
            LifecycleCommand::Exec(a) => a.clone(),
            LifecycleCommand::Parallel(_) => Vec::new(),
        }
    }
    match cmd {
        LifecycleCommand::Parallel(items) => items.iter().map(|(n, c)| (Some(n.clone()), argv(c))).filter(|(_, a)| !a.is_empty()).collect(),
        other => vec![(None, argv(other))],
    }
}

/// The shell snippet (run as the remote user) that decides which lifecycle hooks are due, with the Dev
/// Containers CLI's marker files: `$HOME/.devcontainer/.<hook>Marker` holds the container's creation time
/// (onCreate, updateContent, postCreate) or last start time (postStart). A hook is due when its marker holds
/// another time; the marker is written before the hook runs, as the CLI does, so the CLI and VS Code do not run
/// it again when they attach to the container. Prints the names of the due hooks, one a line.
pub fn marker_script(hooks: &[&str], created: &str, started: &str) -> String {
    let q = crate::text::shell_quote_always;
    let mut s = String::from("d=\"${HOME:-/root}/.devcontainer\"; mkdir -p \"$d\" 2>/dev/null || d=/tmp/.devcontainer-$(id -u); mkdir -p \"$d\"\n");
    for hook in hooks {
        let t = if *hook == "postStartCommand" { started } else { created };
        s.push_str(&format!(
            "m=\"$d/.{hook}Marker\"; c=\"$(cat \"$m\" 2>/dev/null || echo ENOENT)\"; if [ \"$c\" != {t} ]; then echo {t} > \"$m\" && echo {hook}; fi\n",
            t = q(t)
        ));
    }
    s
}

/// What `up` did.
#[derive(Debug, Clone)]
pub struct UpOutcome {
    pub container_id: String,
    pub container_name: String,
    pub image: String,
    /// An existing container was used as it was.
    pub reused: bool,
    /// This run created the container.
    pub created: bool,
    /// This run started a stopped container (or created one).
    pub started: bool,
    /// A stale container was replaced.
    pub recreated: bool,
    /// The image was built in this run.
    pub built: bool,
    pub gpu_requested: Option<String>,
    pub gpu_optional: bool,
    pub gpu_granted: bool,
    /// GPUs handed in without a `--gpus` request: `--device` nodes (inject mode) or CDI devices, as
    /// [`UpPlan::injected_gpus`] counts them.
    pub gpu_injected: Option<String>,
    pub workspace_folder: String,
    pub remote_user: String,
    /// What `updateRemoteUserUID` did for a container this run created (`None`: an existing one was used).
    pub uid: Option<crate::plan::remote_user::UidOutcome>,
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::docker_run_args::parse_gpus;

    fn resolve(text: &str) -> ResolvedConfig {
        let input = ConfigInput {
            local_folder: Path::new("/home/u/My Proj"),
            config_file: Path::new("/home/u/My Proj/.devcontainer/devcontainer.json"),
            config_text: text,
            local_env: vec![("HOME".into(), "/home/u".into()), ("TOKEN".into(), "t0k".into())],
        };
        resolve_config(&input).unwrap()
    }

    fn plan(text: &str) -> UpPlan {
        plan_up(resolve(text), Some("FROM x\n")).unwrap()
    }

    #[test]
    fn image_config_defaults_match_the_cli() {
        let p = plan(r#"{"image": "img:1"}"#);
        assert_eq!(p.image, "img:1");
        assert!(p.build.is_none());
        assert_eq!(p.config.workspace_folder, "/workspaces/My Proj");
        let body = p.container_body(&ImageFacts::default(), true);
        assert_eq!(body.entrypoint, Some(vec!["/bin/sh".to_string()]));
        assert_eq!(body.cmd.as_ref().unwrap()[1], KEEP_ALIVE_SCRIPT);
        let labels = body.labels.as_ref().unwrap();
        assert_eq!(labels[LABEL_LOCAL_FOLDER], "/home/u/My Proj");
        assert_eq!(labels[LABEL_CONFIG_FILE], "/home/u/My Proj/.devcontainer/devcontainer.json");
        assert_eq!(labels[LABEL_METADATA], "[]");
        assert_eq!(labels[LABEL_GPU], "none");
        assert_eq!(labels[LABEL_REMOTE_USER], "root");
        let hc = body.host_config.as_ref().unwrap();
        let ws = &hc.mounts.as_ref().unwrap()[0];
        assert_eq!((ws.typ, ws.source.as_deref(), ws.target.as_deref()), (Some(MountType::BIND), Some("/home/u/My Proj"), Some("/workspaces/My Proj")));
        assert_eq!(hc.device_requests, None);
        assert!(p.container_name.starts_with("devgpu-my-proj-"), "{}", p.container_name);
    }

    #[test]
    fn metadata_label_is_the_raw_container_part_in_cli_order() {
        let p = plan(r#"{"image": "i", "remoteUser": "dev", "containerEnv": {"H": "${localEnv:HOME}"}, "postCreateCommand": "x", "customizations": {"vscode": {}}, "runArgs": []}"#);
        let body = p.container_body(&ImageFacts::default(), true);
        assert_eq!(
            body.labels.unwrap()[LABEL_METADATA],
            r#"[{"postCreateCommand":"x","customizations":{"vscode":{}},"containerEnv":{"H":"${localEnv:HOME}"},"remoteUser":"dev"}]"#
        );
        assert_eq!(body.env, Some(vec!["H=/home/u".to_string()]), "the container gets the substituted value");
    }

    #[test]
    fn image_metadata_comes_first_and_feeds_the_remote_user() {
        let p = plan(r#"{"image": "i"}"#);
        let img = ImageFacts { user: Some("app".into()), metadata: vec![serde_json::json!({"remoteUser": "vscode"})], ..Default::default() };
        assert_eq!(p.remote_user(&img), "vscode");
        let img2 = ImageFacts { user: Some("app".into()), ..Default::default() };
        assert_eq!(p.remote_user(&img2), "app");
        let p = plan(r#"{"image": "i", "containerUser": "c"}"#);
        assert_eq!(p.remote_user(&img), "c");
        let body = p.container_body(&img, true);
        assert_eq!(body.user.as_deref(), Some("c"));
        assert!(body.labels.unwrap()[LABEL_METADATA].starts_with(r#"[{"remoteUser":"vscode"},{"containerUser":"c"}]"#));
    }

    #[test]
    fn feature_metadata_shapes_the_container_and_its_hooks() {
        let p = plan(r#"{"image": "i", "capAdd": ["NET_ADMIN"], "containerEnv": {"K": "config"}, "mounts": ["type=volume,source=mine,target=/data"],
                      "postCreateCommand": "config", "features": {"./f": {}}}"#);
        assert_eq!(p.features.features.len(), 1);
        assert!(p.features_tag.ends_with("-features:latest"));
        let feature = serde_json::json!({"id": "./f", "init": true, "capAdd": ["SYS_PTRACE"], "entrypoint": "/f.sh", "postCreateCommand": ["f", "${containerWorkspaceFolder}"],
                                         "mounts": ["type=volume,source=theirs,target=/data", "type=tmpfs,target=/cache"], "containerEnv": {"K": "image", "J": "1"}});
        let img = ImageFacts { metadata: vec![feature.clone()], ..Default::default() };
        let body = p.container_body(&img, true);
        let hc = body.host_config.as_ref().unwrap();
        assert_eq!(hc.cap_add, Some(vec!["SYS_PTRACE".to_string(), "NET_ADMIN".to_string()]));
        assert_eq!((hc.init, hc.privileged), (Some(true), None));
        let privileged = ImageFacts { metadata: vec![serde_json::json!({"id": "./dind", "privileged": true})], ..Default::default() };
        assert_eq!(p.container_body(&privileged, true).host_config.unwrap().privileged, Some(true), "as VS Code starts it (up warns: privileged_warnings)");
        let mounts: Vec<(Option<String>, Option<String>)> = hc.mounts.as_ref().unwrap()[1..].iter().map(|m| (m.source.clone(), m.target.clone())).collect();
        assert_eq!(mounts, [(None, Some("/cache".into())), (Some("mine".into()), Some("/data".into()))], "one mount per target: the config's, which comes last, wins");
        assert!(body.cmd.as_ref().unwrap()[1].contains("15\n/f.sh\nexec"));
        assert_eq!(body.env, Some(vec!["J=1".to_string(), "K=config".to_string()]), "the config's containerEnv wins");
        let label = &body.labels.as_ref().unwrap()[LABEL_METADATA];
        assert!(label.starts_with(r#"[{"id":"./f","#) && label.ends_with(r#"{"postCreateCommand":"config","mounts":["type=volume,source=mine,target=/data"],"containerEnv":{"K":"config"},"capAdd":["NET_ADMIN"]}]"#), "{label}");
        assert_eq!(p.image_part_of_label(Some(label)), vec![feature.clone()], "the config's own entry is split off again");
        assert_eq!(
            p.hook_commands(&img.metadata, "postCreateCommand"),
            [LifecycleCommand::Exec(vec!["f".into(), "/workspaces/My Proj".into()]), LifecycleCommand::Shell("config".into())],
            "variables in the image's entries are replaced"
        );
        assert!(label.contains(r#"["f","${containerWorkspaceFolder}"]"#), "the label keeps them raw");
        assert_eq!(p.hooks_with_commands(&img.metadata), ["postCreateCommand"]);
    }

    #[test]
    fn gpu_from_run_args_or_host_requirements() {
        let p = plan(r#"{"image": "i", "runArgs": ["--gpus", "all"]}"#);
        assert_eq!(p.gpu, GpuPlan { request: Some(GpuDeviceRequest::all()), source: "runArgs", optional: false });
        let hc = p.container_body(&ImageFacts::default(), true).host_config.unwrap();
        let dr = &hc.device_requests.unwrap()[0];
        assert_eq!((dr.driver.as_deref(), dr.count, dr.capabilities.clone()), (Some(""), Some(-1), Some(vec![vec!["gpu".to_string()]])));
        let hc = p.container_body(&ImageFacts::default(), false).host_config.unwrap();
        assert_eq!(hc.device_requests, None);

        let p = plan(r#"{"image": "i", "hostRequirements": {"gpu": "optional"}}"#);
        assert_eq!((p.gpu.source, p.gpu.optional), ("hostRequirements", true));
        assert_eq!(p.container_body(&ImageFacts::default(), false).labels.unwrap()[LABEL_GPU], "not-granted");
        let p = plan(r#"{"image": "i", "hostRequirements": {"gpu": true}}"#);
        assert_eq!((p.gpu.request.is_some(), p.gpu.optional), (true, false));
        let p = plan(r#"{"image": "i", "runArgs": ["--gpus", "\"device=1\""], "hostRequirements": {"gpu": "optional"}}"#);
        assert_eq!(p.gpu.request, Some(parse_gpus("\"device=1\"").unwrap()));
        assert!(p.gpu.optional);
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        let p = plan(r#"{"image": "i", "runArgs": ["--device", "nvidia.com/gpu=all"]}"#);
        let dr = p.container_body(&ImageFacts::default(), true).host_config.unwrap().device_requests.unwrap();
        assert_eq!(dr[0].driver.as_deref(), Some("cdi"));
    }

    #[test]
    fn run_args_map_onto_host_config() {
        let p = plan(
            r#"{"image": "i", "runArgs": ["--shm-size=8g", "--ipc", "private", "--ulimit", "memlock=-1", "--cap-add", "SYS_ADMIN", "--security-opt=label=disable",
              "--device", "/dev/fuse", "--runtime=runc", "-e", "A=1", "-e", "TOKEN", "-e", "NOPE", "-v", "/data:/data:ro", "-v", "/anon",
              "--mount", "type=tmpfs,target=/scratch,tmpfs-size=1g", "--network", "none", "--privileged", "--init", "-u", "1000",
              "--hostname", "h", "--add-host", "db:10.0.0.1", "--label", "team=ml", "-p", "8888:8888", "--cpus", "2", "-m", "4g"],
              "capAdd": ["SYS_PTRACE", "SYS_ADMIN"], "containerEnv": {"A": "0", "B": "2"}, "appPort": 3000}"#,
        );
        let body = p.container_body(&ImageFacts::default(), true);
        let hc = body.host_config.as_ref().unwrap();
        assert_eq!(hc.shm_size, Some(8 << 30));
        assert_eq!(hc.ipc_mode.as_deref(), Some("private"));
        assert_eq!(hc.ulimits.as_ref().unwrap()[0].name.as_deref(), Some("memlock"));
        assert_eq!(hc.cap_add, Some(vec!["SYS_PTRACE".into(), "SYS_ADMIN".into()]));
        assert_eq!(hc.security_opt, Some(vec!["label=disable".into()]));
        assert_eq!(hc.devices.as_ref().unwrap()[0].path_on_host.as_deref(), Some("/dev/fuse"));
        assert_eq!(hc.runtime.as_deref(), Some("runc"));
        assert_eq!(body.env, Some(vec!["B=2".into(), "A=1".into(), "TOKEN=t0k".into()]), "runArgs -e wins; -e NAME from devgpu's env; unset names dropped");
        assert_eq!(hc.binds, Some(vec!["/data:/data:ro".into()]));
        assert_eq!(body.volumes, Some(vec!["/anon".into()]));
        let tmpfs = &hc.mounts.as_ref().unwrap()[1];
        assert_eq!((tmpfs.typ, tmpfs.tmpfs_options.as_ref().unwrap().size_bytes), (Some(MountType::TMPFS), Some(1 << 30)));
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!((hc.privileged, hc.init), (Some(true), Some(true)));
        assert_eq!(body.user.as_deref(), Some("1000"));
        assert_eq!(body.hostname.as_deref(), Some("h"));
        assert_eq!(hc.extra_hosts, Some(vec!["db:10.0.0.1".into()]));
        assert_eq!(body.labels.as_ref().unwrap()["team"], "ml");
        let pb = hc.port_bindings.as_ref().unwrap();
        assert_eq!(pb["3000/tcp"].as_ref().unwrap()[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(pb["8888/tcp"].as_ref().unwrap()[0].host_port.as_deref(), Some("8888"));
        assert_eq!(body.exposed_ports, Some(vec!["3000/tcp".into(), "8888/tcp".into()]));
        assert_eq!((hc.nano_cpus, hc.memory), (Some(2_000_000_000), Some(4 << 30)));
    }

    #[test]
    fn env_files_go_under_dash_e_and_into_the_config_hash() {
        let mut p = plan(r#"{"image": "i", "containerEnv": {"A": "json"}, "runArgs": ["--env-file", "/w/a.env", "-e", "B=flag", "--stop-signal", "SIGINT"]}"#);
        let before = p.config_hash.clone();
        p.add_env_files(&[("/w/a.env".into(), "A=file\nB=file\nTOKEN\nNOPE\n".into())]).unwrap();
        // The file's A over containerEnv's, `-e B` over the file's, TOKEN from this machine, NOPE unset here.
        let mut env = p.container_env();
        env.sort();
        assert_eq!(env, ["A=file", "B=flag", "TOKEN=t0k"]);
        assert_ne!(p.config_hash, before, "an edit of the file makes the container stale");
        let again = {
            let mut q = plan(r#"{"image": "i", "containerEnv": {"A": "json"}, "runArgs": ["--env-file", "/w/a.env", "-e", "B=flag", "--stop-signal", "SIGINT"]}"#);
            q.add_env_files(&[("/w/a.env".into(), "A=file\nB=file\nTOKEN\nNOPE\n".into())]).unwrap();
            q.config_hash
        };
        assert_eq!(p.config_hash, again);
        let body = p.container_body(&ImageFacts::default(), false);
        assert_eq!(body.stop_signal.as_deref(), Some("SIGINT"));
        let e = p.add_env_files(&[("/w/b.env".into(), "OK=1\n=x\n".into())]).unwrap_err();
        assert_eq!(e.to_string(), "/w/b.env:2: the variable name is empty (an --env-file of runArgs)");
    }

    #[test]
    fn injected_gpus_count() {
        assert_eq!(plan(r#"{"image": "i"}"#).injected_gpus(), None);
        let p = plan(r#"{"image": "i", "runArgs": ["--device", "/dev/nvidia0", "--device=/dev/nvidia1", "--device", "/dev/nvidiactl", "--device", "/dev/nvidia-uvm"]}"#);
        assert_eq!(p.injected_gpus().as_deref(), Some("2"));
        assert_eq!(p.gpu.request, None);
        assert_eq!(plan(r#"{"image": "i", "runArgs": ["--device", "nvidia.com/gpu=all"]}"#).injected_gpus().as_deref(), Some("all"));
        assert_eq!(plan(r#"{"image": "i", "runArgs": ["--device", "nvidia.com/gpu=0", "--device", "nvidia.com/gpu=1"]}"#).injected_gpus().as_deref(), Some("2"));
        assert_eq!(plan(r#"{"image": "i", "runArgs": ["--device", "/dev/fuse"]}"#).injected_gpus(), None);
    }

    #[test]
    fn bad_run_args_fail_the_plan() {
        let e = plan_up(resolve(r#"{"image": "i", "runArgs": ["--rm"]}"#), None).unwrap_err();
        assert_eq!(e, PlanError::RunArgs(RunArgsError::UnknownFlag { flag: "--rm".into() }));
        assert!(plan_up(resolve(r#"{"image": "i", "appPort": "x:y"}"#), None).is_err());
    }

    #[test]
    fn workspace_mount_folder_and_variables() {
        let p = plan(
            r#"{"image": "i", "workspaceMount": "source=${localWorkspaceFolder},target=/src/${localWorkspaceFolderBasename},type=bind",
               "workspaceFolder": "/src/${localWorkspaceFolderBasename}", "remoteEnv": {"P": "${containerWorkspaceFolder}/bin", "I": "${devcontainerId}"}}"#,
        );
        assert_eq!(p.config.workspace_folder, "/src/My Proj");
        let hc = p.container_body(&ImageFacts::default(), true).host_config.unwrap();
        assert_eq!(hc.mounts.unwrap()[0].target.as_deref(), Some("/src/My Proj"));
        assert_eq!(p.config.model.remote_env[0].1.as_deref(), Some("/src/My Proj/bin"));
        assert_eq!(p.config.model.remote_env[1].1.as_ref().unwrap().len(), 52);
    }

    #[test]
    fn override_command_false_runs_the_image_command() {
        let p = plan(r#"{"image": "i", "overrideCommand": false}"#);
        let img = ImageFacts { entrypoint: vec!["/init".into()], cmd: vec!["serve".into()], ..Default::default() };
        let cmd = p.container_body(&img, true).cmd.unwrap();
        assert_eq!(&cmd[2..], ["-", "/init", "serve"]);
    }

    #[test]
    fn build_config_paths_tag_and_hashes() {
        let p = plan(r#"{"build": {"dockerfile": "Dockerfile", "context": "..", "args": {"PY": "3.12"}}}"#);
        let b = p.build.as_ref().unwrap();
        assert_eq!(b.context_dir, Path::new("/home/u/My Proj"));
        assert_eq!(b.dockerfile, Path::new("/home/u/My Proj/.devcontainer/Dockerfile"));
        assert_eq!(b.dockerfile_in_context.as_deref(), Some(".devcontainer/Dockerfile"));
        assert!(b.tag.starts_with("devgpu-my-proj-") && b.tag.ends_with(":latest"), "{}", b.tag);
        assert_eq!(p.image, b.tag);
        // Outside the context: sent under a fixed name.
        let p2 = plan(r#"{"build": {"dockerfile": "../../Dockerfile.gpu", "context": "."}}"#);
        let b2 = p2.build.unwrap();
        assert_eq!(b2.dockerfile_in_context, None);
        assert_eq!(b2.dockerfile_param(), ".devgpu.Dockerfile");
        assert_ne!(build_hash(b, "a"), build_hash(b, "b"));
    }

    #[test]
    fn build_options_come_after_the_build_keys() {
        let p = plan(
            r#"{"build": {"dockerfile": "D", "args": {"A": "1", "B": "2"}, "target": "base", "cacheFrom": "c:1",
                          "options": ["--target=dev", "--build-arg", "A=9", "--build-arg", "FROM_ENV", "--cache-from", "c:2", "--network=host"]}}"#,
        );
        let b = p.build.unwrap();
        assert_eq!(b.target.as_deref(), Some("dev"), "the CLI appends build.options: their --target wins");
        assert_eq!(b.args, vec![("B".to_string(), "2".to_string()), ("A".to_string(), "9".to_string())]);
        assert_eq!((b.args_from_env, b.cache_from), (vec!["FROM_ENV".to_string()], vec!["c:1".to_string(), "c:2".to_string()]));
        assert_eq!(b.options.network.as_deref(), Some("host"));
        let other = plan(r#"{"build": {"dockerfile": "D", "options": ["--network=none"]}}"#).build.unwrap();
        let host = plan(r#"{"build": {"dockerfile": "D", "options": ["--network=host"]}}"#).build.unwrap();
        assert_ne!(other.definition_hash, host.definition_hash, "changed options rebuild the image");
    }

    #[test]
    fn config_hash_tracks_container_keys_only() {
        let base = plan(r#"{"image": "i", "runArgs": ["--shm-size", "1g"]}"#).config_hash;
        assert_eq!(base, plan(r#"{"image": "i", "runArgs": ["--shm-size", "1g"]} // comment"#).config_hash);
        assert_eq!(base, plan(r#"{"name": "x", "image": "i", "runArgs": ["--shm-size", "1g"], "customizations": {"vscode": {"extensions": ["a"]}}}"#).config_hash);
        assert_eq!(base, plan(r#"{"runArgs": ["--shm-size", "1g"], "image": "i"}"#).config_hash, "key order does not matter");
        assert_ne!(base, plan(r#"{"image": "i", "runArgs": ["--shm-size", "2g"]}"#).config_hash);
        assert_ne!(base, plan(r#"{"image": "i", "runArgs": ["--shm-size", "1g"], "postCreateCommand": "x"}"#).config_hash);
        let d1 = plan_up(resolve(r#"{"build": {"dockerfile": "D"}}"#), Some("FROM a")).unwrap();
        let d2 = plan_up(resolve(r#"{"build": {"dockerfile": "D"}}"#), Some("FROM b")).unwrap();
        assert_ne!(d1.config_hash, d2.config_hash, "a Dockerfile edit recreates the container");
        assert_ne!(d1.build.unwrap().definition_hash, d2.build.unwrap().definition_hash);
    }

    #[test]
    fn lifecycle_argv_forms() {
        assert_eq!(lifecycle_argvs(&LifecycleCommand::Shell("a && b".into())), vec![(None, vec!["/bin/sh".into(), "-c".into(), "a && b".into()])]);
        assert_eq!(lifecycle_argvs(&LifecycleCommand::Exec(vec!["x".into()])), vec![(None, vec!["x".into()])]);
        let par = LifecycleCommand::Parallel(vec![("one".into(), LifecycleCommand::Shell("1".into())), ("two".into(), LifecycleCommand::Exec(vec!["2".into()]))]);
        let v = lifecycle_argvs(&par);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].0.as_deref(), Some("one"));
    }

    #[test]
    fn marker_script_uses_the_cli_files_and_times() {
        let s = marker_script(&["onCreateCommand", "postStartCommand"], "2026-01-01T00:00:00.1Z", "2026-01-01T00:00:01Z");
        assert!(s.contains(".onCreateCommandMarker"));
        assert!(s.contains("'2026-01-01T00:00:00.1Z'"));
        assert!(s.contains(".postStartCommandMarker\"; c=\"$(cat \"$m\" 2>/dev/null || echo ENOENT)\"; if [ \"$c\" != '2026-01-01T00:00:01Z' ]"));
    }

    #[test]
    fn compose_config_plans_no_single_container() {
        let p = plan(r#"{"dockerComposeFile": "c.yml", "service": "app", "runArgs": ["--rm"], "appPort": "x:y", "hostRequirements": {"gpu": true}}"#);
        assert_eq!(p.compose().unwrap().service, "app");
        assert_eq!(p.config.workspace_folder, "/", "the CLI's default for Compose");
        assert_eq!(p.run_args, RunArgs::default(), "runArgs do not apply to a compose service");
        assert_eq!(p.gpu.source, "hostRequirements");
        assert!(p.build.is_none());
        let p = plan(r#"{"dockerComposeFile": "c.yml", "service": "app", "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}"}"#);
        assert_eq!(p.config.workspace_folder, "/workspaces/My Proj");
    }

    /// Features on a Compose service are planned as for any config (installed into an image on top of the
    /// service's); one out of reach is still handed over before anything runs.
    #[test]
    fn features_on_a_compose_service_are_planned() {
        use crate::error::Coded;
        let p = plan_up(resolve(r#"{"dockerComposeFile": "c.yml", "service": "app", "features": {"./local": {}, "ghcr.io/devcontainers/features/git:1": {}}}"#), None).unwrap();
        assert_eq!(p.features.features.len(), 2);
        let err = plan_up(resolve(r#"{"dockerComposeFile": "c.yml", "service": "app", "features": {"https://example.invalid/f.tgz": {}}}"#), None).unwrap_err();
        assert_eq!(err.code(), crate::error::ErrorCode::FeatureOutOfReach);
    }

    #[test]
    fn compose_and_syntax_errors_surface() {
        let input = ConfigInput { local_folder: Path::new("/w"), config_file: Path::new("/w/.devcontainer/devcontainer.json"), config_text: "{\"dockerComposeFile\": \"x\"}", local_env: vec![] };
        assert!(matches!(resolve_config(&input), Err(ModelError::ComposeNoService { .. })));
        let input = ConfigInput { config_text: "{\"image\": }", ..input };
        assert!(matches!(resolve_config(&input), Err(ModelError::Config(ConfigError::Syntax { .. }))));
        let input = ConfigInput { config_text: "[1]", ..input };
        assert!(matches!(resolve_config(&input), Err(ModelError::Config(ConfigError::NotObject { .. }))));
    }
}
