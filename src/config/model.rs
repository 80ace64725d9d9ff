//! The container part of the Dev Containers spec (devcontainer.json `image` / `build` configs, and Docker Compose
//! configs: `dockerComposeFile` + `service`), read from a parsed and variable-substituted config into typed
//! settings for `devgpu up`.
//!
//! Keys fall into three groups:
//! - container keys devgpu applies (see [`DevContainer`]);
//! - keys for the editor, which VS Code reads when it attaches (`customizations`, `forwardPorts`,
//!   `postAttachCommand`, …): devgpu carries them in the `devcontainer.metadata` label like the Dev Containers CLI
//!   and does nothing else with them;
//! - `features` and `overrideFeatureInstallOrder`: read by [`crate::plan::features`], which installs them;
//! - everything else (`initializeCommand`, unknown keys): named in a warning, never silently dropped.
//!
//! A value of the wrong type is an error with file:line:column (from the original text).

use crate::error::ErrorCode;
use serde_json::Value;

use super::docker_run_args::{parse_mount, MountSpec};
use super::error::ConfigError;

/// Keys VS Code (or the Dev Containers CLI) uses when attaching; devgpu passes them on untouched.
pub const EDITOR_KEYS: &[&str] = &[
    "$schema",
    "name",
    "customizations",
    "forwardPorts",
    "portsAttributes",
    "otherPortsAttributes",
    "postAttachCommand",
    "waitFor",
    "userEnvProbe",
    "shutdownAction",
    "updateRemoteUserUID",
];

/// Keys of a Docker Compose config (see [`ComposeConfig`]).
pub const COMPOSE_KEYS: &[&str] = &["dockerComposeFile", "service", "runServices"];

/// Keys that only shape a single container `devgpu up` creates itself: a Compose config's container comes from
/// its compose file, so these are named in a warning there (as the spec lists them for image/Dockerfile only).
const SINGLE_CONTAINER_KEYS: &[&str] = &["runArgs", "appPort", "workspaceMount"];

/// Keys devgpu applies when it creates the container.
pub const CONTAINER_KEYS: &[&str] = &[
    "image",
    "build",
    "dockerFile",
    "context",
    "runArgs",
    "mounts",
    "containerEnv",
    "remoteEnv",
    "workspaceMount",
    "workspaceFolder",
    "remoteUser",
    "containerUser",
    "overrideCommand",
    "init",
    "privileged",
    "capAdd",
    "securityOpt",
    "hostRequirements",
    "appPort",
    "initializeCommand",
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "features",
    "overrideFeatureInstallOrder",
];

/// Keys of `build` devgpu applies.
const BUILD_KEYS: &[&str] = &["dockerfile", "context", "args", "target", "cacheFrom", "options"];

/// Where the container's image comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageSource {
    Image(String),
    Build(BuildConfig),
    /// A service of a Docker Compose project (`dockerComposeFile` + `service`).
    Compose(ComposeConfig),
}

/// `dockerComposeFile`, `service`, `runServices` and `shutdownAction` of a Compose config.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComposeConfig {
    /// As written, relative to the folder holding devcontainer.json; in order (later files override earlier ones).
    pub files: Vec<String>,
    /// The service VS Code attaches to.
    pub service: String,
    /// The services to start (`runServices`); empty means all of them.
    pub run_services: Vec<String>,
    /// `shutdownAction`: `stopCompose` (the default) or `none`.
    pub stop_compose: bool,
}

/// `build` (or the legacy top-level `dockerFile` / `context`). Paths as written, relative to the folder holding
/// devcontainer.json.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BuildConfig {
    pub dockerfile: String,
    /// Default `"."`.
    pub context: String,
    pub args: Vec<(String, String)>,
    pub target: Option<String>,
    pub cache_from: Vec<String>,
    /// `build.options`: `docker build` flags, read as the docker CLI reads them.
    pub options: super::docker_build_options::BuildOptions,
}

/// `hostRequirements.gpu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuRequirement {
    /// Absent or `false`.
    #[default]
    None,
    /// `true` or `{cores, memory}`.
    Required,
    /// `"optional"`.
    Optional,
}

/// A lifecycle command: a shell string, an argv array, or named commands run in parallel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum LifecycleCommand {
    Shell(String),
    Exec(Vec<String>),
    Parallel(Vec<(String, LifecycleCommand)>),
}

impl LifecycleCommand {
    fn is_empty(&self) -> bool {
        match self {
            LifecycleCommand::Shell(s) => s.trim().is_empty(),
            LifecycleCommand::Exec(a) => a.is_empty(),
            LifecycleCommand::Parallel(p) => p.is_empty(),
        }
    }
}

/// The lifecycle commands devgpu runs, in the spec's order: on create `onCreateCommand`, `updateContentCommand`,
/// `postCreateCommand`; on every start `postStartCommand`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lifecycle {
    pub on_create: Option<LifecycleCommand>,
    pub update_content: Option<LifecycleCommand>,
    pub post_create: Option<LifecycleCommand>,
    pub post_start: Option<LifecycleCommand>,
    /// `initializeCommand`: on the host, before anything else, and only with the user's consent
    /// (see [`crate::plan::host_command`]).
    pub initialize: Option<LifecycleCommand>,
}

/// A devcontainer.json for one container, as devgpu starts it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DevContainer {
    pub name: Option<String>,
    pub source: Option<ImageSource>,
    pub run_args: Vec<String>,
    pub mounts: Vec<MountSpec>,
    pub container_env: Vec<(String, String)>,
    /// `null` values unset a variable.
    pub remote_env: Vec<(String, Option<String>)>,
    pub workspace_mount: Option<MountSpec>,
    pub workspace_folder: Option<String>,
    pub remote_user: Option<String>,
    pub container_user: Option<String>,
    pub override_command: Option<bool>,
    pub init: Option<bool>,
    pub privileged: Option<bool>,
    pub cap_add: Vec<String>,
    pub security_opt: Vec<String>,
    pub gpu: GpuRequirement,
    /// `appPort`: `-p` values (a number `N` means `127.0.0.1:N:N`, as the Dev Containers CLI maps it).
    pub app_ports: Vec<String>,
    pub lifecycle: Lifecycle,
    /// Keys named for the user: not applied by devgpu.
    pub warnings: Vec<String>,
}

/// Why a devcontainer.json cannot be started by `devgpu up`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{file}: a Docker Compose config (`dockerComposeFile`) must name the `service` to attach to")]
    ComposeNoService { file: String },
    #[error("{file}: the configuration names no container image: set `image`, or `build.dockerfile`")]
    NoSource { file: String },
    #[error("{file}:{line}:{column}: `{path}`: {message}")]
    InvalidValue { file: String, line: usize, column: usize, path: String, message: String },
}

impl crate::error::Coded for ModelError {
    fn code(&self) -> ErrorCode {
        match self {
            ModelError::Config(e) => e.code(),
            ModelError::ComposeNoService { .. } => ErrorCode::ComposeNoService,
            ModelError::NoSource { .. } => ErrorCode::DevcontainerNoImage,
            ModelError::InvalidValue { .. } => ErrorCode::DevcontainerInvalidValue,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            ModelError::Config(e) => e.hints(),
            ModelError::ComposeNoService { .. } => vec!["add \"service\": \"NAME\" with the compose service VS Code attaches to".into()],
            ModelError::NoSource { .. } => vec!["add \"image\": \"…\" or \"build\": { \"dockerfile\": \"Dockerfile\" } (or run `devgpu init`)".into()],
            ModelError::InvalidValue { path, .. } => vec![format!("fix `{path}` (see https://containers.dev/implementors/json_reference/)")],
        }
    }
}

/// One step of a path into the JSON: a key or an index.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Reads values out of the substituted config, with errors located in the original text.
struct Reader<'a> {
    text: &'a str,
    file: &'a str,
}

impl Reader<'_> {
    fn pos(&self, path: &[Seg]) -> (usize, usize) {
        locate(self.text, path).unwrap_or((1, 1))
    }

    fn wrong_type(&self, path: &[Seg], expected: &'static str, found: &Value) -> ModelError {
        let (line, column) = self.pos(path);
        ModelError::Config(ConfigError::WrongType { file: self.file.into(), line, column, path: display(path), expected, found: kind(found) })
    }

    fn invalid(&self, path: &[Seg], message: String) -> ModelError {
        let (line, column) = self.pos(path);
        ModelError::InvalidValue { file: self.file.into(), line, column, path: display(path), message }
    }

    fn string(&self, v: Option<&Value>, path: &[Seg]) -> Result<Option<String>, ModelError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong_type(path, "a string", other)),
        }
    }

    fn boolean(&self, v: Option<&Value>, path: &[Seg]) -> Result<Option<bool>, ModelError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong_type(path, "true or false", other)),
        }
    }

    fn strings(&self, v: Option<&Value>, path: &[Seg]) -> Result<Vec<String>, ModelError> {
        match v {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.wrong_type(&join(path, Seg::Index(i)), "a string", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong_type(path, "an array of strings", other)),
        }
    }

    fn string_map(&self, v: Option<&Value>, path: &[Seg], allow_null: bool) -> Result<Vec<(String, Option<String>)>, ModelError> {
        match v {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Object(o)) => o
                .iter()
                .map(|(k, val)| match val {
                    Value::String(s) => Ok((k.clone(), Some(s.clone()))),
                    Value::Null if allow_null => Ok((k.clone(), None)),
                    other => Err(self.wrong_type(&join(path, Seg::Key(k.clone())), "a string", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong_type(path, "an object of strings", other)),
        }
    }

    fn lifecycle(&self, v: Option<&Value>, path: &[Seg]) -> Result<Option<LifecycleCommand>, ModelError> {
        let single = |v: &Value, p: &[Seg]| -> Result<LifecycleCommand, ModelError> {
            match v {
                Value::String(s) => Ok(LifecycleCommand::Shell(s.clone())),
                Value::Array(_) => Ok(LifecycleCommand::Exec(self.strings(Some(v), p)?)),
                other => Err(self.wrong_type(p, "a string or an array of strings", other)),
            }
        };
        let cmd = match v {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(o)) => LifecycleCommand::Parallel(
                o.iter().map(|(k, c)| Ok((k.clone(), single(c, &join(path, Seg::Key(k.clone())))?))).collect::<Result<_, ModelError>>()?,
            ),
            Some(other) => single(other, path)?,
        };
        Ok((!cmd.is_empty()).then_some(cmd))
    }

    fn mount(&self, v: &Value, path: &[Seg]) -> Result<MountSpec, ModelError> {
        match v {
            Value::String(s) => parse_mount(s).map_err(|why| self.invalid(path, why)),
            Value::Object(o) => {
                let kind = self.string(o.get("type"), &join(path, Seg::Key("type".into())))?.unwrap_or_else(|| "volume".into());
                let source = self.string(o.get("source"), &join(path, Seg::Key("source".into())))?;
                let target = self.string(o.get("target"), &join(path, Seg::Key("target".into())))?;
                if !matches!(kind.as_str(), "bind" | "volume" | "tmpfs" | "npipe") {
                    return Err(self.invalid(path, format!("unknown mount type `{kind}`")));
                }
                let target = target.filter(|t| !t.is_empty()).ok_or_else(|| self.invalid(path, "a mount needs a target".into()))?;
                if kind == "bind" && source.as_deref().is_none_or(str::is_empty) {
                    return Err(self.invalid(path, "a bind mount needs a source".into()));
                }
                Ok(MountSpec { kind, source, target, ..Default::default() })
            }
            other => Err(self.wrong_type(path, "a mount string (type=…,source=…,target=…) or an object {type, source, target}", other)),
        }
    }
}

impl Reader<'_> {
    /// `dockerComposeFile` (a string or a non-empty array), `service` (required), `runServices`, `shutdownAction`.
    fn compose(&self, obj: &serde_json::Map<String, Value>) -> Result<ComposeConfig, ModelError> {
        let files = match obj.get("dockerComposeFile") {
            Some(Value::String(s)) => vec![s.clone()],
            other => self.strings(other, &key("dockerComposeFile"))?,
        };
        if files.is_empty() || files.iter().any(|f| f.trim().is_empty()) {
            return Err(self.invalid(&key("dockerComposeFile"), "name the compose file(s), relative to devcontainer.json: \"docker-compose.yml\"".into()));
        }
        let service = self.string(obj.get("service"), &key("service"))?.filter(|s| !s.is_empty()).ok_or_else(|| ModelError::ComposeNoService { file: self.file.into() })?;
        let run_services = self.strings(obj.get("runServices"), &key("runServices"))?;
        let stop_compose = match self.string(obj.get("shutdownAction"), &key("shutdownAction"))?.as_deref() {
            None | Some("stopCompose") => true,
            Some("none") => false,
            Some(other) => return Err(self.invalid(&key("shutdownAction"), format!("`{other}` is not a shutdownAction of a Compose config: use \"stopCompose\" or \"none\""))),
        };
        Ok(ComposeConfig { files, service, run_services, stop_compose })
    }
}

fn join(path: &[Seg], s: Seg) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(s);
    p
}

fn key(k: &str) -> Vec<Seg> {
    vec![Seg::Key(k.to_string())]
}

fn display(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// 1-based line and column of the value at `path` in the JSONC text.
fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    use jsonc_parser::ast::Value as A;
    use jsonc_parser::common::Ranged;
    let (_, body) = super::jsonc::split_bom(text);
    let parsed = jsonc_parser::parse_to_ast(body, &Default::default(), &super::jsonc::parse_options()).ok()?;
    let mut cur = parsed.value?;
    for seg in path {
        cur = match (cur, seg) {
            (A::Object(o), Seg::Key(k)) => o.properties.into_iter().rev().find(|p| p.name.as_str() == k)?.value,
            (A::Array(a), Seg::Index(i)) => a.elements.into_iter().nth(*i)?,
            _ => return None,
        };
    }
    Some(super::jsonc::line_col(body, cur.start()))
}

impl DevContainer {
    /// Reads a parsed and substituted devcontainer.json. `text` (the original file) and `file` only locate errors.
    pub fn from_value(config: &Value, text: &str, file: &str) -> Result<DevContainer, ModelError> {
        let r = Reader { text, file };
        let obj = match config {
            Value::Object(o) => o,
            other => {
                return Err(ModelError::Config(ConfigError::NotObject { file: file.into(), line: 1, column: 1, found: kind(other) }));
            }
        };
        let mut m = DevContainer { name: r.string(obj.get("name"), &key("name"))?, ..Default::default() };
        let compose = obj.contains_key("dockerComposeFile");

        // Where the image comes from: a compose service, else build (which wins over image, as in the CLI).
        let build = match obj.get("build") {
            None | Some(Value::Null) => None,
            Some(Value::Object(b)) => Some(b),
            Some(other) => return Err(r.wrong_type(&key("build"), "an object", other)),
        };
        let bpath = |k: &str| vec![Seg::Key("build".into()), Seg::Key(k.into())];
        let dockerfile = match build.and_then(|b| b.get("dockerfile")) {
            Some(v) => r.string(Some(v), &bpath("dockerfile"))?,
            None => r.string(obj.get("dockerFile"), &key("dockerFile"))?,
        };
        if compose {
            m.source = Some(ImageSource::Compose(r.compose(obj)?));
            for k in ["image", "build", "dockerFile", "context"].iter().chain(SINGLE_CONTAINER_KEYS).filter(|k| obj.contains_key(**k)) {
                m.warnings.push(format!("`{k}` does not apply to a Docker Compose config (set it on the service in the compose file) and is ignored"));
            }
        } else if let Some(dockerfile) = dockerfile {
            let context = match build.and_then(|b| b.get("context")) {
                Some(v) => r.string(Some(v), &bpath("context"))?,
                None => r.string(obj.get("context"), &key("context"))?,
            };
            let b = build.cloned().unwrap_or_default();
            let args = r.string_map(b.get("args"), &bpath("args"), false)?.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect();
            let cache_from = match b.get("cacheFrom") {
                Some(Value::String(s)) => vec![s.clone()],
                other => r.strings(other, &bpath("cacheFrom"))?,
            };
            for k in b.keys().filter(|k| !BUILD_KEYS.contains(&k.as_str())) {
                m.warnings.push(format!("`build.{k}` is not supported by devgpu up and is ignored"));
            }
            let options = super::docker_build_options::parse_build_options(&r.strings(b.get("options"), &bpath("options"))?)
                .map_err(|e| r.invalid(&bpath("options"), e.to_string()))?;
            m.source = Some(ImageSource::Build(BuildConfig {
                dockerfile,
                context: context.unwrap_or_else(|| ".".into()),
                args,
                target: r.string(b.get("target"), &bpath("target"))?,
                cache_from,
                options,
            }));
        } else if let Some(image) = r.string(obj.get("image"), &key("image"))? {
            m.source = Some(ImageSource::Image(image));
        } else {
            return Err(ModelError::NoSource { file: file.into() });
        }

        m.run_args = r.strings(obj.get("runArgs"), &key("runArgs"))?;
        m.mounts = match obj.get("mounts") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                items.iter().enumerate().map(|(i, v)| r.mount(v, &[Seg::Key("mounts".into()), Seg::Index(i)])).collect::<Result<_, _>>()?
            }
            Some(other) => return Err(r.wrong_type(&key("mounts"), "an array", other)),
        };
        m.container_env = r.string_map(obj.get("containerEnv"), &key("containerEnv"), false)?.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect();
        m.remote_env = r.string_map(obj.get("remoteEnv"), &key("remoteEnv"), true)?;
        m.workspace_mount = match r.string(obj.get("workspaceMount"), &key("workspaceMount"))? {
            Some(s) if !s.trim().is_empty() => Some(parse_mount(&s).map_err(|why| r.invalid(&key("workspaceMount"), why))?),
            _ => None,
        };
        m.workspace_folder = r.string(obj.get("workspaceFolder"), &key("workspaceFolder"))?.filter(|s| !s.is_empty());
        m.remote_user = r.string(obj.get("remoteUser"), &key("remoteUser"))?.filter(|s| !s.is_empty());
        m.container_user = r.string(obj.get("containerUser"), &key("containerUser"))?.filter(|s| !s.is_empty());
        m.override_command = r.boolean(obj.get("overrideCommand"), &key("overrideCommand"))?;
        m.init = r.boolean(obj.get("init"), &key("init"))?;
        m.privileged = r.boolean(obj.get("privileged"), &key("privileged"))?;
        m.cap_add = r.strings(obj.get("capAdd"), &key("capAdd"))?;
        m.security_opt = r.strings(obj.get("securityOpt"), &key("securityOpt"))?;
        m.app_ports = match obj.get("appPort") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| app_port(v).ok_or_else(|| r.wrong_type(&[Seg::Key("appPort".into()), Seg::Index(i)], "a port number or string", v)))
                .collect::<Result<_, _>>()?,
            Some(v) => vec![app_port(v).ok_or_else(|| r.wrong_type(&key("appPort"), "a port number, string or array", v))?],
        };
        match obj.get("hostRequirements") {
            None | Some(Value::Null) => {}
            Some(Value::Object(h)) => {
                m.gpu = match h.get("gpu") {
                    None | Some(Value::Null) | Some(Value::Bool(false)) => GpuRequirement::None,
                    Some(Value::Bool(true)) | Some(Value::Object(_)) => GpuRequirement::Required,
                    Some(Value::String(s)) if s == "optional" => GpuRequirement::Optional,
                    Some(other) => {
                        return Err(r.wrong_type(&[Seg::Key("hostRequirements".into()), Seg::Key("gpu".into())], "true, false, \"optional\" or {cores, memory}", other));
                    }
                };
                if matches!(h.get("gpu"), Some(Value::Object(_))) {
                    m.warnings.push("`hostRequirements.gpu` cores/memory are not checked by devgpu up: all GPUs are requested".into());
                }
                for k in h.keys().filter(|k| k.as_str() != "gpu") {
                    m.warnings.push(format!("`hostRequirements.{k}` is not checked by devgpu up"));
                }
            }
            Some(other) => return Err(r.wrong_type(&key("hostRequirements"), "an object", other)),
        }
        m.lifecycle = Lifecycle {
            on_create: r.lifecycle(obj.get("onCreateCommand"), &key("onCreateCommand"))?,
            update_content: r.lifecycle(obj.get("updateContentCommand"), &key("updateContentCommand"))?,
            post_create: r.lifecycle(obj.get("postCreateCommand"), &key("postCreateCommand"))?,
            post_start: r.lifecycle(obj.get("postStartCommand"), &key("postStartCommand"))?,
            initialize: r.lifecycle(obj.get("initializeCommand"), &key("initializeCommand"))?,
        };
        // Validated even though VS Code runs it.
        r.lifecycle(obj.get("postAttachCommand"), &key("postAttachCommand"))?;
        // `waitFor` names the hook VS Code waits for before it connects (devgpu up runs them all first anyway).
        if let Some(w) = r.string(obj.get("waitFor"), &key("waitFor"))? {
            const HOOKS: [&str; 5] = ["initializeCommand", "onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand"];
            if !HOOKS.contains(&w.as_str()) {
                return Err(r.invalid(&key("waitFor"), format!("`{w}` is not a lifecycle command VS Code can wait for: use one of {}", HOOKS.join(", "))));
            }
        }
        r.string(obj.get("shutdownAction"), &key("shutdownAction"))?;

        for k in obj.keys() {
            if CONTAINER_KEYS.contains(&k.as_str()) || EDITOR_KEYS.contains(&k.as_str()) || (compose && COMPOSE_KEYS.contains(&k.as_str())) {
                continue;
            }
            m.warnings.push(format!("`{k}` is not supported by devgpu up and is ignored"));
        }
        Ok(m)
    }
}

fn app_port(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n.as_u64().map(|p| format!("127.0.0.1:{p}:{p}")),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(v: Value) -> DevContainer {
        let text = serde_json::to_string_pretty(&v).unwrap();
        DevContainer::from_value(&v, &text, "devcontainer.json").unwrap()
    }

    fn err(text: &str) -> ModelError {
        let v = super::super::parse_jsonc(text, "d.json").unwrap();
        DevContainer::from_value(&v, text, "d.json").unwrap_err()
    }

    #[test]
    fn image_config_with_everything() {
        let m = model(json!({
            "name": "n", "image": "img", "runArgs": ["--gpus", "all"],
            "mounts": ["source=/a,target=/b,type=bind", {"type": "volume", "source": "v", "target": "/v"}],
            "containerEnv": {"A": "1"}, "remoteEnv": {"B": "2", "C": null},
            "workspaceMount": "source=/w,target=/src,type=bind", "workspaceFolder": "/src",
            "remoteUser": "dev", "containerUser": "root", "overrideCommand": false, "init": true, "privileged": false,
            "capAdd": ["SYS_PTRACE"], "securityOpt": ["seccomp=unconfined"], "hostRequirements": {"gpu": "optional"},
            "shutdownAction": "none", "appPort": [3000, "8080:80"],
            "onCreateCommand": "a", "updateContentCommand": ["b", "c"], "postCreateCommand": {"x": "1", "y": ["2"]}, "postStartCommand": "d",
            "postAttachCommand": "e", "customizations": {"vscode": {}}, "forwardPorts": [1],
        }));
        assert_eq!(m.source, Some(ImageSource::Image("img".into())));
        assert_eq!(m.mounts.len(), 2);
        assert_eq!(m.mounts[1].kind, "volume");
        assert_eq!(m.container_env, vec![("A".to_string(), "1".to_string())]);
        assert_eq!(m.remote_env, vec![("B".to_string(), Some("2".to_string())), ("C".to_string(), None)]);
        assert_eq!(m.workspace_mount.as_ref().unwrap().target, "/src");
        assert_eq!(m.workspace_folder.as_deref(), Some("/src"));
        assert_eq!((m.remote_user.as_deref(), m.container_user.as_deref()), (Some("dev"), Some("root")));
        assert_eq!((m.override_command, m.init, m.privileged), (Some(false), Some(true), Some(false)));
        assert_eq!(m.gpu, GpuRequirement::Optional);
        assert_eq!(m.app_ports, ["127.0.0.1:3000:3000", "8080:80"]);
        assert!(m.lifecycle.on_create.is_some() && m.lifecycle.update_content.is_some() && m.lifecycle.post_create.is_some());
        assert_eq!(m.lifecycle.update_content, Some(LifecycleCommand::Exec(vec!["b".into(), "c".into()])));
        assert!(matches!(m.lifecycle.post_create, Some(LifecycleCommand::Parallel(ref p)) if p.len() == 2));
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }

    #[test]
    fn build_forms() {
        let m = model(json!({"build": {"dockerfile": "Dockerfile", "context": "..", "args": {"A": "1"}, "target": "dev", "cacheFrom": "x:y"}, "image": "ignored"}));
        let Some(ImageSource::Build(b)) = m.source else { panic!() };
        assert_eq!((b.dockerfile.as_str(), b.context.as_str(), b.target.as_deref()), ("Dockerfile", "..", Some("dev")));
        assert_eq!(b.args, vec![("A".to_string(), "1".to_string())]);
        assert_eq!(b.cache_from, ["x:y"]);
        let m = model(json!({"dockerFile": "D"}));
        assert_eq!(m.source, Some(ImageSource::Build(BuildConfig { dockerfile: "D".into(), context: ".".into(), ..Default::default() })));
        let m = model(json!({"build": {"dockerfile": "D", "options": ["--network=host"], "unknownKey": 1}}));
        assert!(m.warnings.iter().any(|w| w.contains("build.unknownKey")) && !m.warnings.iter().any(|w| w.contains("build.options")), "{:?}", m.warnings);
        let Some(ImageSource::Build(b)) = m.source else { panic!("a build") };
        assert_eq!(b.options.network.as_deref(), Some("host"));
    }

    #[test]
    fn build_options_errors_name_the_line_and_the_way_on() {
        let e = err("{\n  \"build\": {\n    \"dockerfile\": \"D\",\n    \"options\": [\"--secret\", \"id=npm\"]\n  }\n}");
        let text = e.to_string();
        assert!(text.starts_with("d.json:4:") && text.contains("`--secret` needs buildx") && text.contains("devcontainer up"), "{text}");
    }

    #[test]
    fn host_requirements_gpu() {
        assert_eq!(model(json!({"image": "i", "hostRequirements": {"gpu": true}})).gpu, GpuRequirement::Required);
        assert_eq!(model(json!({"image": "i", "hostRequirements": {"gpu": false}})).gpu, GpuRequirement::None);
        let m = model(json!({"image": "i", "hostRequirements": {"gpu": {"cores": 2}, "memory": "8gb"}}));
        assert_eq!(m.gpu, GpuRequirement::Required);
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
        assert_eq!(model(json!({"image": "i"})).gpu, GpuRequirement::None);
    }

    #[test]
    fn unsupported_keys_are_named() {
        let m = model(json!({"image": "i", "features": {"x": {}}, "initializeCommand": "x", "bogus": 1, "customizations": {}}));
        assert_eq!(m.warnings.len(), 1, "features are installed and initializeCommand is run (with consent), not named: {:?}", m.warnings);
        assert!(m.warnings[0].contains("`bogus`"));
        assert_eq!(m.lifecycle.initialize, Some(LifecycleCommand::Shell("x".into())));
    }

    #[test]
    fn errors_are_located() {
        match err("{\n  \"image\": \"x\",\n  \"runArgs\": \"--gpus all\"\n}") {
            ModelError::Config(ConfigError::WrongType { line, column, path, .. }) => assert_eq!((line, column, path.as_str()), (3, 14, "runArgs")),
            other => panic!("{other:?}"),
        }
        match err("{\"image\": \"x\",\n \"mounts\": [\"type=bind,target=/x\"]}") {
            ModelError::InvalidValue { line, path, message, .. } => {
                assert_eq!((line, path.as_str()), (2, "mounts[0]"));
                assert!(message.contains("source"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match err("{\"image\": \"x\", \"containerEnv\": {\"A\": 1}}") {
            ModelError::Config(ConfigError::WrongType { path, .. }) => assert_eq!(path, "containerEnv.A"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(err("{\"dockerComposeFile\": \"c.yml\"}"), ModelError::ComposeNoService { .. }));
        match err("{\"service\": \"a\",\n \"dockerComposeFile\": []}") {
            ModelError::InvalidValue { line, path, .. } => assert_eq!((line, path.as_str()), (2, "dockerComposeFile")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(err("{\"service\": \"a\", \"dockerComposeFile\": \"c.yml\", \"shutdownAction\": \"stopContainer\"}"), ModelError::InvalidValue { .. }));
        assert!(matches!(err("{\"name\": \"x\"}"), ModelError::NoSource { .. }));
        assert!(matches!(err("{\"image\": \"x\", \"hostRequirements\": {\"gpu\": \"yes\"}}"), ModelError::Config(ConfigError::WrongType { .. })));
        use crate::error::Coded;
        assert_eq!(err("{\"dockerComposeFile\": \"c.yml\"}").code(), "compose-no-service");
    }

    #[test]
    fn compose_config() {
        let m = model(json!({
            "dockerComposeFile": ["../docker-compose.yml", "docker-compose.gpu.yml"], "service": "app", "runServices": ["app", "db"],
            "workspaceFolder": "/workspaces/x", "shutdownAction": "none", "remoteUser": "dev", "containerEnv": {"A": "1"},
            "runArgs": ["--gpus", "all"], "hostRequirements": {"gpu": true},
        }));
        let Some(ImageSource::Compose(c)) = &m.source else { panic!("{:?}", m.source) };
        assert_eq!(c.files, ["../docker-compose.yml", "docker-compose.gpu.yml"]);
        assert_eq!((c.service.as_str(), c.run_services.len(), c.stop_compose), ("app", 2, false));
        assert_eq!(m.gpu, GpuRequirement::Required);
        assert_eq!(m.warnings.len(), 1, "runArgs is named: {:?}", m.warnings);
        assert!(m.warnings[0].contains("`runArgs`"), "{:?}", m.warnings);
        let m = model(json!({"dockerComposeFile": "docker-compose.yml", "service": "app"}));
        let Some(ImageSource::Compose(c)) = &m.source else { panic!() };
        assert_eq!((c.files.as_slice(), c.stop_compose), (&["docker-compose.yml".to_string()][..], true));
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }

    #[test]
    fn wait_for_names_a_lifecycle_command() {
        assert!(DevContainer::from_value(&json!({"image": "i", "waitFor": "postCreateCommand"}), "{}", "f").is_ok());
        let text = "{\n  \"image\": \"i\",\n  \"waitFor\": \"postCreate\"\n}";
        match err(text) {
            ModelError::InvalidValue { line, path, message, .. } => {
                assert_eq!((line, path.as_str()), (3, "waitFor"));
                assert!(message.contains("postCreateCommand"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_lifecycle_commands_are_none() {
        let m = model(json!({"image": "i", "postCreateCommand": "", "onCreateCommand": []}));
        assert_eq!(m.lifecycle, Lifecycle::default());
    }
}
