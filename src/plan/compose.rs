//! PURE: a Docker Compose dev container (`dockerComposeFile` + `service`), started the way the Dev Containers CLI
//! starts it, so that `devcontainer up` and VS Code's "Reopen in Container" find devgpu's container and devgpu
//! finds theirs:
//!
//! - the **project name** the CLI derives (`COMPOSE_PROJECT_NAME`, the workspace's `.env`, a `name:` the compose
//!   files declare (Compose v2), else the first file's folder — `<workspace>_devcontainer` for `.devcontainer/`),
//!   because the CLI finds the container by `com.docker.compose.project` + `com.docker.compose.service`;
//! - an **override file** laid over the user's compose files, like the CLI's
//!   `docker-compose.devcontainer.containerFeatures-*.yml`: the keep-alive entrypoint (in front of the service's own
//!   entrypoint unless `overrideCommand` is true), the `devcontainer.*` labels, `containerEnv`, `mounts`,
//!   `containerUser`, `init`, `privileged`, `capAdd`, `securityOpt`, and the GPU for `hostRequirements.gpu` as a
//!   device reservation that really gives one (`driver: nvidia`, `count`/`device_ids`, `capabilities: [gpu]`; the
//!   CLI writes only `capabilities`).
//!
//! No I/O: the command runs the Compose CLI, reads the files and hands their text in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::features::{merge_mounts, MergedMetadata};
use super::up::{normalize, union_unique, ImageFacts, UpPlan};
use crate::config::docker_run_args::GpuDeviceRequest;
use crate::config::model::ComposeConfig;

/// Compose's own labels: how the Dev Containers CLI (and devgpu) find a compose dev container.
pub const LABEL_PROJECT: &str = "com.docker.compose.project";
pub const LABEL_SERVICE: &str = "com.docker.compose.service";
/// The compose files a container was created from (comma-separated), as Compose records them.
pub const LABEL_CONFIG_FILES: &str = "com.docker.compose.project.config_files";

/// The override file's name starts like the CLI's, so that the CLI, finding it in the container's
/// `config_files` label, restarts a stopped container with it (GPU included) instead of writing its own.
pub const OVERRIDE_PREFIX: &str = "docker-compose.devcontainer.containerFeatures";

/// The compose files, absolute (relative ones are relative to the folder holding devcontainer.json).
pub fn compose_files(config_file: &str, c: &ComposeConfig) -> Vec<PathBuf> {
    let dir = Path::new(config_file).parent().unwrap_or(Path::new("/"));
    c.files.iter().map(|f| normalize(&dir.join(f))).collect()
}

/// The services `up` starts: `runServices` plus the dev service (all services when `runServices` is absent).
pub fn up_services(c: &ComposeConfig) -> Vec<String> {
    let mut s = c.run_services.clone();
    if !s.is_empty() && !s.contains(&c.service) {
        s.push(c.service.clone());
    }
    s
}

/// The configuration hash of a compose dev container: devcontainer.json's plus the compose files' text, so an
/// edit of either recreates the container.
pub fn compose_hash(config_hash: &str, file_texts: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(config_hash.as_bytes());
    for t in file_texts {
        h.update(b"\0");
        h.update(t.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compose's project-name normalisation (Compose ≥ 1.21: lowercase, `[-_a-z0-9]` kept).
fn to_project_name(s: &str) -> String {
    s.to_lowercase().chars().filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_').collect()
}

/// What the project name is derived from, in the Dev Containers CLI's order.
#[derive(Debug, Clone)]
pub struct ProjectNameInputs<'a> {
    /// `$COMPOSE_PROJECT_NAME`.
    pub env: Option<&'a str>,
    /// The workspace folder's `.env` file.
    pub dotenv: Option<&'a str>,
    /// A top-level `name:` the compose files declare, the last file's first (only Compose v2 reads it).
    pub declared: Option<&'a str>,
    /// Absolute workspace folder.
    pub local_folder: &'a str,
    pub first_file: &'a Path,
}

/// The compose project name the Dev Containers CLI uses for this workspace.
pub fn project_name(i: &ProjectNameInputs) -> String {
    if let Some(n) = i.env.map(to_project_name).filter(|n| !n.is_empty()) {
        return n;
    }
    let from_dotenv = i.dotenv.and_then(|t| t.lines().find_map(|l| l.strip_prefix("COMPOSE_PROJECT_NAME="))).map(|v| to_project_name(v.trim()));
    if let Some(n) = from_dotenv.filter(|n| !n.is_empty()) {
        return n;
    }
    if let Some(n) = i.declared.map(to_project_name).filter(|n| !n.is_empty()) {
        return n;
    }
    let dir = i.first_file.parent().unwrap_or(Path::new("/"));
    let ws = Path::new(i.local_folder);
    let base = |p: &Path| p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    if dir == ws.join(".devcontainer") {
        to_project_name(&format!("{}_devcontainer", base(ws)))
    } else {
        to_project_name(&base(dir))
    }
}

/// The top-level `name:` of a compose file, if it declares one.
pub fn declared_name(compose_text: &str) -> Option<String> {
    let v = crate::text::yaml_to_json(compose_text).ok()?;
    v.get("name").and_then(Value::as_str).map(str::to_string)
}

/// The `version:` line of the first compose file: Compose v1 refuses an override of another version.
pub fn version_line(first_compose_text: &str) -> Option<String> {
    first_compose_text.lines().find(|l| l.starts_with("version:")).map(|l| l.trim_end().to_string())
}

/// One service of the merged compose configuration (`compose config`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComposeService {
    pub image: Option<String>,
    /// The service is built from a Dockerfile.
    pub build: bool,
    pub entrypoint: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub user: Option<String>,
    /// The compose file already reserves GPUs for it (`deploy.resources.reservations.devices` with `gpu`), or
    /// hands it CDI GPU devices.
    pub has_gpu: bool,
}

/// The merged compose configuration, as far as `up` needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComposeFacts {
    pub services: BTreeMap<String, ComposeService>,
}

/// A string or list of words (`entrypoint`, `command`), as Compose reads it (a string is shell-split).
fn words(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(crate::text::shell_split(s).unwrap_or_else(|_| vec![s.clone()])),
        Value::Array(a) => Some(a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect()),
        _ => None,
    }
}

/// Reads the output of `compose config`.
pub fn parse_compose_config(text: &str) -> Result<ComposeFacts, String> {
    let v = crate::text::yaml_to_json(text)?;
    let Some(services) = v.get("services").and_then(Value::as_object) else {
        return Err("the compose configuration has no `services`".into());
    };
    let mut facts = ComposeFacts::default();
    for (name, s) in services {
        let devices = s.pointer("/deploy/resources/reservations/devices").and_then(Value::as_array);
        let reserves_gpu = devices.is_some_and(|d| {
            d.iter().any(|d| d.get("capabilities").and_then(Value::as_array).is_some_and(|c| c.iter().any(|c| c.as_str() == Some("gpu"))))
        });
        let cdi_gpu = s.get("devices").and_then(Value::as_array).is_some_and(|d| d.iter().any(|d| d.as_str().is_some_and(|d| d.starts_with("nvidia.com/gpu="))));
        facts.services.insert(
            name.clone(),
            ComposeService {
                image: s.get("image").and_then(Value::as_str).map(str::to_string),
                build: s.get("build").is_some(),
                entrypoint: s.get("entrypoint").and_then(words),
                command: s.get("command").and_then(words),
                user: s.get("user").and_then(Value::as_str).map(str::to_string),
                has_gpu: reserves_gpu || cdi_gpu,
            },
        );
    }
    Ok(facts)
}

/// The image Compose tags a built service with: `<project>_<service>` before Compose 2.8, `<project>-<service>` after.
pub fn default_image_name(project: &str, service: &str, separator_underscore: bool) -> String {
    format!("{project}{}{service}", if separator_underscore { "_" } else { "-" })
}

/// Whether a Compose version string (`1.29.2`, `v2.24.1`, `2.24.1-desktop.1`) is before `major.minor`.
pub fn version_before(version: &str, major: u64, minor: u64) -> bool {
    let v: Vec<u64> = version.trim_start_matches('v').split(['.', '-', '+']).take(2).map(|p| p.parse().unwrap_or(0)).collect();
    (v.first().copied().unwrap_or(0), v.get(1).copied().unwrap_or(0)) < (major, minor)
}

/// A YAML scalar for the override: a JSON string (valid YAML) with `$` doubled, since Compose interpolates `$`.
fn q(s: &str) -> String {
    Value::String(s.replace('$', "$$")).to_string()
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", "))
}

/// A list of words that are escaped for Compose already: what `compose config` prints keeps a `$$` as `$$`.
fn escaped_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| Value::String(s.clone()).to_string()).collect::<Vec<_>>().join(", "))
}

/// The keep-alive script exactly as the container the Dev Containers CLI makes for a Compose service holds it:
/// its override writes the script as a double-quoted YAML scalar over several lines, and YAML folds each line
/// break into a space, so every line after the first starts with one. The shell reads it the same as
/// [`crate::plan::features::keep_alive_script`]; the same text makes both tools' containers inspect alike.
pub fn keep_alive_script(entrypoints: &[String]) -> String {
    format!("echo Container started\n trap \"exit 0\" 15\n {}\n exec \"$@\"\n while sleep 1 & wait $!; do :; done", entrypoints.join("\n "))
}

/// The GPU reservation for a `--gpus`-style request: `driver: nvidia` and `count`/`device_ids`, which is what
/// Docker needs to pick the NVIDIA device driver.
pub fn gpu_reservation(req: &GpuDeviceRequest) -> String {
    let mut s = String::from("    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n");
    if !req.device_ids.is_empty() {
        s.push_str(&format!("              device_ids: {}\n", list(&req.device_ids)));
    } else if req.count < 0 {
        s.push_str("              count: all\n");
    } else {
        s.push_str(&format!("              count: {}\n", req.count));
    }
    let caps: Vec<String> = req.capabilities.iter().flatten().cloned().collect();
    s.push_str(&format!("              capabilities: {}\n", list(if caps.is_empty() { &[] } else { &caps })));
    s
}

/// Everything the override file needs besides the plan.
#[derive(Debug, Clone)]
pub struct OverrideInput<'a> {
    pub service: &'a ComposeService,
    pub image: &'a ImageFacts,
    /// The first compose file's `version:` line.
    pub version_line: Option<&'a str>,
    /// Add the GPU reservation (`hostRequirements.gpu`, unless the compose file reserves one already; false for
    /// an optional GPU the daemon could not give).
    pub with_gpu: bool,
    pub remote_user: &'a str,
    /// The image the service runs instead of its own: the uid image `updateRemoteUserUID` built on top of it
    /// (as the CLI points its override at `vsc-…-uid`).
    pub run_image: Option<&'a str>,
}

/// The labels of the compose dev container (the Dev Containers ones and devgpu's), sorted for a stable file.
fn labels(plan: &UpPlan, image: &ImageFacts, remote_user: &str, gpu_label: &str) -> BTreeMap<String, String> {
    plan.labels(image, remote_user, gpu_label).into_iter().collect()
}

/// The override compose file laid over the user's files. The service image's `devcontainer.metadata` entries
/// (a base image's, Features') are merged under the config's values, as the CLI's `mergeConfiguration` does:
/// their entrypoints run in the keep-alive, their environment, capabilities, security options, mounts, init and
/// containerUser apply.
pub fn override_file(plan: &UpPlan, i: &OverrideInput) -> String {
    let m = &plan.config.model;
    let merged = MergedMetadata::from_entries(&plan.substituted_metadata(&i.image.metadata));
    let c = plan.compose().expect("a compose plan");
    let svc = i.service;
    let override_command = m.override_command == Some(true);
    // The service's entrypoint comes from `compose config`, escaped already; the image's is escaped here.
    let escape = |v: &[String]| v.iter().map(|w| w.replace('$', "$$")).collect::<Vec<_>>();
    let user_entrypoint: Vec<String> = if override_command { Vec::new() } else { svc.entrypoint.clone().unwrap_or_else(|| escape(&i.image.entrypoint)) };
    // The service's own command stays; else the image's CMD (none when the service replaces the entrypoint, as
    // Compose ignores the image's CMD then).
    let user_command: Option<Vec<String>> = if override_command {
        Some(Vec::new())
    } else if svc.command.is_some() {
        None
    } else if svc.entrypoint.is_some() {
        Some(Vec::new())
    } else {
        Some(i.image.cmd.clone())
    };

    let mut s = String::new();
    if let Some(v) = i.version_line {
        s.push_str(v);
        s.push_str("\n\n");
    }
    s.push_str("# Written by devgpu up: the dev container settings of devcontainer.json, laid over the compose files.\n");
    s.push_str(&format!("services:\n  {}:\n", q(&c.service)));
    if let Some(image) = i.run_image {
        s.push_str(&format!("    image: {}\n", q(image)));
    }
    let mut entrypoint = escape(&["/bin/sh".to_string(), "-c".to_string(), keep_alive_script(&merged.entrypoints), "-".to_string()]);
    entrypoint.extend(user_entrypoint);
    s.push_str(&format!("    entrypoint: {}\n", escaped_list(&entrypoint)));
    if let Some(cmd) = user_command {
        s.push_str(&format!("    command: {}\n", list(&cmd)));
    }
    if merged.init || m.init == Some(true) {
        s.push_str("    init: true\n");
    }
    let metadata_user = i.image.metadata.iter().rev().find_map(|e| e.get("containerUser").and_then(Value::as_str).map(str::to_string));
    if let Some(u) = m.container_user.clone().or(metadata_user) {
        s.push_str(&format!("    user: {}\n", q(&u)));
    }
    let env = plan.container_env_with(&merged.container_env);
    if !env.is_empty() {
        s.push_str("    environment:\n");
        for (k, v) in env.iter().filter_map(|e| e.split_once('=')) {
            s.push_str(&format!("      {}: {}\n", q(k), q(v)));
        }
    }
    if merged.privileged || m.privileged == Some(true) {
        s.push_str("    privileged: true\n");
    }
    let cap_add = union_unique(&merged.cap_add, &m.cap_add);
    if !cap_add.is_empty() {
        s.push_str(&format!("    cap_add: {}\n", list(&cap_add)));
    }
    let security_opt = union_unique(&merged.security_opt, &m.security_opt);
    if !security_opt.is_empty() {
        s.push_str(&format!("    security_opt: {}\n", list(&security_opt)));
    }
    let gpu_label = match (&plan.gpu.request, i.with_gpu || svc.has_gpu) {
        (None, _) if svc.has_gpu => "granted",
        (None, _) => "none",
        (Some(_), true) => "granted",
        (Some(_), false) => "not-granted",
    };
    s.push_str("    labels:\n");
    for (k, v) in labels(plan, i.image, i.remote_user, gpu_label) {
        s.push_str(&format!("      {}: {}\n", q(&k), q(&v)));
    }
    let mut named = Vec::new();
    let mounts = merge_mounts(merged.mounts.iter().chain(m.mounts.iter()).cloned().collect());
    if !mounts.is_empty() {
        s.push_str("    volumes:\n");
        for mount in &mounts {
            let mut v = match &mount.source {
                Some(src) if !src.is_empty() => format!("{src}:{}", mount.target),
                _ => mount.target.clone(),
            };
            if mount.read_only {
                v.push_str(":ro");
            }
            if mount.kind == "volume" {
                if let Some(src) = mount.source.as_ref().filter(|s| !s.is_empty()) {
                    named.push(src.clone());
                }
            }
            s.push_str(&format!("      - {}\n", q(&v)));
        }
    }
    if let (Some(req), true, false) = (&plan.gpu.request, i.with_gpu, svc.has_gpu) {
        s.push_str(&gpu_reservation(req));
    }
    if !named.is_empty() {
        s.push_str("volumes:\n");
        for n in named {
            s.push_str(&format!("  {}: {{}}\n", q(&n)));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::up::{plan_up, resolve_config, ConfigInput, LABEL_CONFIG_FILE, LABEL_CONFIG_HASH, LABEL_LOCAL_FOLDER};

    fn plan(text: &str) -> UpPlan {
        let input = ConfigInput {
            local_folder: Path::new("/home/u/My Proj"),
            config_file: Path::new("/home/u/My Proj/.devcontainer/devcontainer.json"),
            config_text: text,
            local_env: vec![("HOME".into(), "/home/u".into())],
        };
        plan_up(resolve_config(&input).unwrap(), None).unwrap()
    }

    fn yaml(text: &str) -> Value {
        crate::text::yaml_to_json(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn project_name_follows_the_cli() {
        let ws = "/home/u/My Proj";
        let first = PathBuf::from("/home/u/My Proj/.devcontainer/docker-compose.yml");
        let base = ProjectNameInputs { env: None, dotenv: None, declared: None, local_folder: ws, first_file: &first };
        assert_eq!(project_name(&base), "myproj_devcontainer");
        let other = PathBuf::from("/home/u/My Proj/docker-compose.yml");
        assert_eq!(project_name(&ProjectNameInputs { first_file: &other, ..base.clone() }), "myproj");
        assert_eq!(project_name(&ProjectNameInputs { env: Some("Team.App"), ..base.clone() }), "teamapp");
        assert_eq!(project_name(&ProjectNameInputs { dotenv: Some("A=1\nCOMPOSE_PROJECT_NAME= web-1 \n"), ..base.clone() }), "web-1");
        assert_eq!(project_name(&ProjectNameInputs { env: Some(""), dotenv: Some("X=1"), declared: Some("named"), ..base.clone() }), "named");
        assert_eq!(declared_name("name: proj\nservices: {}\n").as_deref(), Some("proj"));
        assert_eq!(declared_name("services: {}\n"), None);
    }

    #[test]
    fn compose_config_output_is_read() {
        let facts = parse_compose_config(
            "services:\n  app:\n    build:\n      context: /w\n    command: sleep infinity\n    entrypoint: [\"/init\", \"-v\"]\n    user: dev\n    deploy:\n      resources:\n        reservations:\n          devices:\n          - capabilities:\n            - gpu\n  db:\n    image: postgres:16\n    devices:\n    - nvidia.com/gpu=all\n  web:\n    image: nginx\nversion: '3.8'\n",
        )
        .unwrap();
        let app = &facts.services["app"];
        assert!(app.build && app.has_gpu);
        assert_eq!(app.command, Some(vec!["sleep".into(), "infinity".into()]));
        assert_eq!(app.entrypoint, Some(vec!["/init".into(), "-v".into()]));
        assert_eq!(app.user.as_deref(), Some("dev"));
        assert!(facts.services["db"].has_gpu, "a CDI device counts");
        assert_eq!((facts.services["web"].image.as_deref(), facts.services["web"].has_gpu), (Some("nginx"), false));
        assert!(parse_compose_config("version: '3'\n").is_err());
    }

    #[test]
    fn versions_and_image_names() {
        assert!(version_before("1.29.2", 2, 8));
        assert!(!version_before("v2.24.6", 2, 8));
        assert!(!version_before("2.8.0-desktop.1", 2, 8));
        assert_eq!(default_image_name("p", "app", true), "p_app");
        assert_eq!(default_image_name("p", "app", false), "p-app");
        let c = ComposeConfig { files: vec!["a.yml".into(), "../b.yml".into()], service: "app".into(), run_services: vec!["db".into()], stop_compose: true };
        assert_eq!(up_services(&c), ["db", "app"]);
        assert_eq!(compose_files("/w/.devcontainer/devcontainer.json", &c), [PathBuf::from("/w/.devcontainer/a.yml"), PathBuf::from("/w/b.yml")]);
        assert!(up_services(&ComposeConfig { run_services: vec![], ..c }).is_empty());
        assert_ne!(compose_hash("h", &["a".into()]), compose_hash("h", &["b".into()]));
    }

    #[test]
    fn override_mirrors_the_cli_with_a_working_gpu_request() {
        let p = plan(
            r#"{"dockerComposeFile": "docker-compose.yml", "service": "app", "hostRequirements": {"gpu": true}, "remoteUser": "dev",
                "containerEnv": {"HOME_ON_HOST": "${localEnv:HOME}", "P": "a$b"}, "capAdd": ["SYS_PTRACE"], "init": true,
                "mounts": ["source=cache,target=/cache,type=volume", "source=/data,target=/data,type=bind,readonly"], "postCreateCommand": "echo $HOME"}"#,
        );
        let svc = ComposeService { command: Some(vec!["sleep".into(), "infinity".into()]), ..Default::default() };
        let img = ImageFacts { entrypoint: vec!["/docker-entrypoint.sh".into()], cmd: vec!["bash".into()], ..Default::default() };
        let text = override_file(&p, &OverrideInput { service: &svc, image: &img, version_line: Some("version: '3.8'"), with_gpu: true, remote_user: "dev", run_image: None });
        assert!(text.starts_with("version: '3.8'\n\n"), "{text}");
        let v = yaml(&text);
        let app = &v["services"]["app"];
        let ep = app["entrypoint"].as_array().unwrap();
        assert_eq!(ep[0], "/bin/sh");
        assert_eq!(ep[2].as_str().unwrap(), keep_alive_script(&[]).replace('$', "$$"), "Compose's interpolation gets $$");
        assert_eq!(ep[4], "/docker-entrypoint.sh", "the image's entrypoint runs behind the keep-alive (overrideCommand defaults to false)");
        assert!(app.get("command").is_none(), "the service's own command stays");
        assert_eq!(app["init"], true);
        assert_eq!(app["environment"]["HOME_ON_HOST"], "/home/u");
        assert_eq!(app["environment"]["P"], "a$$b");
        assert_eq!(app["cap_add"][0], "SYS_PTRACE");
        assert_eq!(app["volumes"][0], "cache:/cache");
        assert_eq!(app["volumes"][1], "/data:/data:ro");
        assert!(v["volumes"].get("cache").is_some());
        let labels = &app["labels"];
        assert_eq!(labels[LABEL_LOCAL_FOLDER], "/home/u/My Proj");
        assert_eq!(labels[LABEL_CONFIG_FILE], "/home/u/My Proj/.devcontainer/devcontainer.json");
        assert_eq!(labels[LABEL_CONFIG_HASH].as_str().unwrap(), p.config_hash);
        assert_eq!(labels["devgpu.gpu"], "granted");
        assert!(labels["devcontainer.metadata"].as_str().unwrap().contains("echo $$HOME"), "the raw metadata, escaped for Compose");
        let dev = &app["deploy"]["resources"]["reservations"]["devices"][0];
        assert_eq!((dev["driver"].as_str(), dev["count"].as_str(), dev["capabilities"][0].as_str()), (Some("nvidia"), Some("all"), Some("gpu")));

        // No GPU when the daemon cannot give an optional one, or when the compose file reserves it already.
        let text = override_file(&p, &OverrideInput { service: &svc, image: &img, version_line: None, with_gpu: false, remote_user: "dev", run_image: None });
        assert!(yaml(&text)["services"]["app"].get("deploy").is_none());
        assert_eq!(yaml(&text)["services"]["app"]["labels"]["devgpu.gpu"], "not-granted");
        let reserved = ComposeService { has_gpu: true, ..svc.clone() };
        let text = override_file(&p, &OverrideInput { service: &reserved, image: &img, version_line: None, with_gpu: true, remote_user: "dev", run_image: None });
        assert!(yaml(&text)["services"]["app"].get("deploy").is_none());
    }

    #[test]
    fn the_service_images_metadata_is_merged_under_the_config() {
        // A base image's (or a Feature's) devcontainer.metadata, as the CLI's mergeConfiguration applies it.
        let p = plan(r#"{"dockerComposeFile": "c.yml", "service": "app", "containerEnv": {"A": "config"}, "capAdd": ["SYS_PTRACE"], "mounts": ["source=/x,target=/same,type=bind"]}"#);
        let img = ImageFacts {
            metadata: vec![serde_json::json!({"id": "f", "entrypoint": "/usr/local/share/f-init.sh", "containerEnv": {"A": "image", "B": "${containerWorkspaceFolder}"},
                "capAdd": ["SYS_PTRACE", "NET_ADMIN"], "securityOpt": ["label=disable"], "init": true, "containerUser": "svc",
                "mounts": [{"type": "volume", "source": "f-cache", "target": "/f-cache"}, {"type": "bind", "source": "/y", "target": "/same"}]})],
            ..Default::default()
        };
        let input = OverrideInput { service: &ComposeService::default(), image: &img, version_line: None, with_gpu: false, remote_user: "svc", run_image: Some("devgpu-x-uid:latest") };
        let v = yaml(&override_file(&p, &input));
        let app = &v["services"]["app"];
        assert_eq!(app["image"], "devgpu-x-uid:latest", "the uid image replaces the service's");
        assert!(app["entrypoint"][2].as_str().unwrap().contains("/usr/local/share/f-init.sh\n exec"), "{app:#}");
        assert_eq!((app["environment"]["A"].as_str(), app["environment"]["B"].as_str()), (Some("config"), Some("/")), "the config's value wins; variables substituted");
        assert_eq!(app["cap_add"], serde_json::json!(["SYS_PTRACE", "NET_ADMIN"]));
        assert_eq!((app["security_opt"][0].as_str(), app["init"].as_bool(), app["user"].as_str()), (Some("label=disable"), Some(true), Some("svc")));
        // One mount per target, the config's last: /same from the config, the image's volume declared.
        assert_eq!(app["volumes"], serde_json::json!(["f-cache:/f-cache", "/x:/same"]));
        assert!(v["volumes"].get("f-cache").is_some());
        let labels = &app["labels"];
        assert!(labels["devcontainer.metadata"].as_str().unwrap().starts_with("[{\"id\":\"f\""), "the image's entries lead the label: {labels:#}");
    }

    #[test]
    fn override_command_and_gpu_selection() {
        let p = plan(r#"{"dockerComposeFile": "c.yml", "service": "app", "overrideCommand": true}"#);
        let svc = ComposeService { entrypoint: Some(vec!["/e".into()]), command: Some(vec!["serve".into()]), ..Default::default() };
        let v = yaml(&override_file(&p, &OverrideInput { service: &svc, image: &ImageFacts::default(), version_line: None, with_gpu: true, remote_user: "root", run_image: None }));
        assert_eq!(v["services"]["app"]["entrypoint"].as_array().unwrap().len(), 4, "overrideCommand drops the service's entrypoint");
        assert_eq!(v["services"]["app"]["command"], serde_json::json!([]));
        assert!(v["services"]["app"].get("deploy").is_none(), "no GPU asked for");
        // Without a command of its own, the image's CMD is handed on.
        let p = plan(r#"{"dockerComposeFile": "c.yml", "service": "app"}"#);
        let img = ImageFacts { cmd: vec!["bash".into()], ..Default::default() };
        let v = yaml(&override_file(&p, &OverrideInput { service: &ComposeService::default(), image: &img, version_line: None, with_gpu: true, remote_user: "root", run_image: None }));
        assert_eq!(v["services"]["app"]["command"], serde_json::json!(["bash"]));

        // What `compose config` prints is escaped already (`$$` stays `$$`): not doubled again. The image's is.
        let svc = ComposeService { entrypoint: Some(vec!["/bin/sh".into(), "-c".into(), "exec \"$$@\"".into()]), ..Default::default() };
        let img = ImageFacts { entrypoint: vec!["/run-$X".into()], ..Default::default() };
        let text = override_file(&p, &OverrideInput { service: &svc, image: &img, version_line: None, with_gpu: true, remote_user: "root", run_image: None });
        assert!(text.contains(r#""-", "/bin/sh", "-c", "exec \"$$@\""]"#), "{text}");
        let text = override_file(&p, &OverrideInput { service: &ComposeService::default(), image: &img, version_line: None, with_gpu: true, remote_user: "root", run_image: None });
        assert!(text.contains(r#""-", "/run-$$X"]"#), "{text}");
        // The keep-alive as the CLI's container holds it (its YAML folds each line break into a space).
        assert_eq!(keep_alive_script(&[]), "echo Container started\n trap \"exit 0\" 15\n \n exec \"$@\"\n while sleep 1 & wait $!; do :; done");

        let r = crate::config::docker_run_args::parse_gpus("\"device=0,2\"").unwrap();
        let g = yaml(&format!("services:\n  a:\n{}", gpu_reservation(&r)));
        assert_eq!(g["services"]["a"]["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"], serde_json::json!(["0", "2"]));
        let r = crate::config::docker_run_args::parse_gpus("2").unwrap();
        let g = yaml(&format!("services:\n  a:\n{}", gpu_reservation(&r)));
        assert_eq!(g["services"]["a"]["deploy"]["resources"]["reservations"]["devices"][0]["count"], 2);
    }
}
