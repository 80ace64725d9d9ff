//! What the planner needs to know about a parsed devcontainer.json (from [`super::parse_jsonc`]), without
//! editing it: where the container comes from and how it asks for GPUs.

use serde_json::Value;

use super::run_args::{self, GpuRequest, ShmSetting};

/// Where the container of a devcontainer.json comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerSource {
    /// `"image": "…"`
    Image(String),
    /// `"build": {"dockerfile": …, "context": …}` or the legacy top-level `"dockerFile"` / `"context"`.
    /// Paths are as written, relative to the folder holding devcontainer.json; `context` defaults to `"."`.
    Dockerfile { dockerfile: String, context: String },
    /// `"dockerComposeFile"` (devgpu does not edit these).
    Compose { service: Option<String> },
    /// None of the above (the schema rejects such a file; the CLI cannot start it).
    Missing,
}

/// The facts of a parsed devcontainer.json that devgpu plans with. Wrongly typed values read as absent.
#[derive(Debug, Clone, PartialEq)]
pub struct DevcontainerSummary {
    pub name: Option<String>,
    pub source: ContainerSource,
    /// `runArgs`, string items only.
    pub run_args: Vec<String>,
    /// The first GPU request in runArgs (see [`run_args`] for what counts).
    pub gpu_request: Option<GpuRequest>,
    /// The first `--shm-size` / `--ipc` in runArgs.
    pub shm: Option<ShmSetting>,
    /// `hostRequirements.gpu` as written.
    pub host_requirements_gpu: Option<Value>,
    pub remote_user: Option<String>,
    /// `customizations.vscode.extensions`, string items only.
    pub extensions: Vec<String>,
}

impl DevcontainerSummary {
    /// True when the config asks for a GPU either way: in runArgs, or through `hostRequirements.gpu`
    /// (`true`, `"optional"` or an object; the Dev Containers CLI then adds `--gpus all` itself when Docker has
    /// the nvidia runtime).
    pub fn wants_gpu(&self) -> bool {
        self.gpu_request.is_some() || self.host_requirements_gpu.as_ref().is_some_and(|g| g != &Value::Bool(false))
    }
}

/// Summarises a parsed devcontainer.json. A value that is not an object summarises as empty.
pub fn summarize(config: &Value) -> DevcontainerSummary {
    let str_of = |v: &Value| v.as_str().map(str::to_string);
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array).map(|a| a.iter().filter_map(str_of).collect()).unwrap_or_default()
    };
    let run_args = strings(config.get("runArgs"));
    let build = config.get("build");
    let source = if config.get("dockerComposeFile").is_some() {
        ContainerSource::Compose { service: config.get("service").and_then(str_of) }
    } else if let Some(dockerfile) = build.and_then(|b| b.get("dockerfile")).and_then(str_of) {
        let context = build.and_then(|b| b.get("context")).and_then(str_of).unwrap_or_else(|| ".".to_string());
        ContainerSource::Dockerfile { dockerfile, context }
    } else if let Some(dockerfile) = config.get("dockerFile").and_then(str_of) {
        let context = config.get("context").and_then(str_of).unwrap_or_else(|| ".".to_string());
        ContainerSource::Dockerfile { dockerfile, context }
    } else if let Some(image) = config.get("image").and_then(str_of) {
        ContainerSource::Image(image)
    } else {
        ContainerSource::Missing
    };
    DevcontainerSummary {
        name: config.get("name").and_then(str_of),
        source,
        gpu_request: run_args::gpu_request(&run_args),
        shm: run_args::shm_setting(&run_args),
        run_args,
        host_requirements_gpu: config.get("hostRequirements").and_then(|h| h.get("gpu")).cloned(),
        remote_user: config.get("remoteUser").and_then(str_of),
        extensions: strings(config.pointer("/customizations/vscode/extensions")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_config() {
        let s = summarize(
            &json!({"name": "n", "image": "x", "runArgs": ["--gpus=all", 5, "--ipc=host"], "remoteUser": "u"}),
        );
        assert_eq!(s.name.as_deref(), Some("n"));
        assert_eq!(s.source, ContainerSource::Image("x".into()));
        assert_eq!(s.run_args, ["--gpus=all", "--ipc=host"]);
        assert_eq!(s.gpu_request, Some(GpuRequest::Gpus(Some("all".into()))));
        assert_eq!(s.shm, Some(ShmSetting::Ipc(Some("host".into()))));
        assert_eq!(s.remote_user.as_deref(), Some("u"));
        assert!(s.wants_gpu());
    }

    #[test]
    fn build_forms() {
        let s = summarize(&json!({"build": {"dockerfile": "Dockerfile", "context": ".."}, "image": "ignored"}));
        assert_eq!(s.source, ContainerSource::Dockerfile { dockerfile: "Dockerfile".into(), context: "..".into() });
        let s = summarize(&json!({"dockerFile": "D"}));
        assert_eq!(s.source, ContainerSource::Dockerfile { dockerfile: "D".into(), context: ".".into() });
        let s = summarize(&json!({"dockerComposeFile": "c.yml", "service": "app"}));
        assert_eq!(s.source, ContainerSource::Compose { service: Some("app".into()) });
        assert_eq!(summarize(&json!({})).source, ContainerSource::Missing);
        assert_eq!(summarize(&json!([1])).source, ContainerSource::Missing);
    }

    #[test]
    fn gpu_wishes() {
        assert!(summarize(&json!({"image": "x", "hostRequirements": {"gpu": "optional"}})).wants_gpu());
        assert!(!summarize(&json!({"image": "x", "hostRequirements": {"gpu": false}})).wants_gpu());
        assert!(!summarize(&json!({"image": "x", "runArgs": ["--runtime=nvidia"]})).wants_gpu());
        let s = summarize(&json!({"customizations": {"vscode": {"extensions": ["a", 1, "b"]}}}));
        assert_eq!(s.extensions, ["a", "b"]);
    }
}
