//! The `init` plan: from project facts, the resolved stack and the files already there, decide each file's new
//! contents. Pure: the command reads the existing files and writes the results.

use super::gpus::GpuSelection;
use crate::compat::{check_image, knowledge, ComputeCap, Framework, Stack};
use crate::config::{merge_gpu_settings, parse_jsonc, replace_string_props, BuildSettings, ConfigError, GpuSettings};
use crate::model::project::{CudaSourceKind, ProjectFacts};
use crate::render::{self, is_unedited_devgpu_file, CudaBuild, DevcontainerModel, DockerfileModel, StripLines, GENERATED_MARKER};
use serde::Serialize;

/// Where devgpu's files go, relative to the repository root.
pub const DEVCONTAINER_DIR: &str = ".devcontainer";
pub const DEVCONTAINER_JSON: &str = ".devcontainer/devcontainer.json";
pub const DOCKERFILE: &str = ".devcontainer/Dockerfile";
pub const DOCKERIGNORE: &str = ".dockerignore";
/// The user the generated Dockerfile creates.
pub const CONTAINER_USER: &str = "dev";
/// Shared memory for data-loader workers (Docker's default of 64 MB makes PyTorch's DataLoader crash with "bus error").
pub const SHM_ARGS: [&str; 2] = ["--shm-size", "8g"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    Created,
    Updated,
    Unchanged,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlannedFile {
    /// Relative to the repository root.
    pub path: String,
    pub action: FileAction,
    #[serde(skip)]
    pub old: Option<String>,
    /// The contents to write (for `unchanged`/`skipped`, what is there).
    #[serde(skip)]
    pub new: String,
    /// Why it was skipped, or what changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Text of the files that may already exist (read by the command; `None` = absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExistingFiles {
    /// Path (`.devcontainer/devcontainer.json` or `.devcontainer.json`) and text.
    pub devcontainer: Option<(String, String)>,
    pub dockerfile: Option<String>,
    pub dockerignore: Option<String>,
    /// `.devcontainer/devgpu-lock.json` (see [`crate::plan::lock`]).
    pub lock: Option<String>,
    /// For a Docker Compose config: its compose files (repository-relative path, text), in `dockerComposeFile`'s
    /// order (see [`compose_file_paths`]).
    pub compose_files: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOptions {
    pub gpus: GpuSelection,
    pub force: bool,
    /// The GPU request for runArgs when it is not `--gpus` (a GPU mode other than toolkit: see
    /// [`crate::plan::gpu_mode`]); `None` = `gpus.run_args()`.
    pub gpu_run_args: Option<Vec<String>>,
    /// Replace a GPU request of another mode already in runArgs (the user chose the mode explicitly).
    pub replace_gpu_request: bool,
    /// The target GPU's compute capability (`TargetHost::compute_cap`): CUDA-extension builds compile for it
    /// (`TORCH_CUDA_ARCH_LIST`); `None` = unknown, a broad list.
    pub compute_cap: Option<ComputeCap>,
    /// uv (default) or pip in the generated Dockerfile.
    pub installer: render::Installer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitPlan {
    pub files: Vec<PlannedFile>,
    pub warnings: Vec<String>,
    /// Whether the container will run the resolved stack: devgpu's Dockerfile is written (or already there,
    /// unedited) and the config builds it. False when the user's Dockerfile or image was kept.
    pub stack_applied: bool,
}

/// `MAX_JOBS` for CUDA-extension builds: each nvcc job takes several GB of RAM, and ninja's default of one job
/// per core exhausts memory on most workstations (PyTorch's cpp_extension and flash-attn's README both say to
/// cap it). 4 fits in 16 GB; the user raises it through the build arg or containerEnv.
pub const DEFAULT_MAX_JOBS: u32 = 4;

/// `TORCH_CUDA_ARCH_LIST` when the target GPU is unknown: Turing to Hopper, plus PTX that newer GPUs JIT-compile.
pub const BROAD_ARCH_LIST: &str = "7.5;8.0;8.6;8.9;9.0+PTX";

/// Lifecycle commands that run inside the container (as remoteUser), where the image has no sudo.
const LIFECYCLE_COMMANDS: [&str; 5] = ["onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand"];

/// Requirement files named for another platform or purpose are not installed into the GPU image.
/// Whether the image installs a requirement file: the scan sets aside alternatives for other platforms
/// (`requirements-cpu.txt` beside `requirements.txt`) and docs files (see `project::alternatives`).
fn installs_into_gpu_image(rf: &crate::model::project::RequirementFile) -> bool {
    rf.set_aside.is_none()
}

fn file(path: &str, old: Option<&str>, new: String, force_skip: Option<String>) -> PlannedFile {
    match (old, force_skip) {
        (Some(o), Some(why)) => PlannedFile { path: path.into(), action: FileAction::Skipped, old: Some(o.into()), new: o.into(), notes: vec![why] },
        (Some(o), None) if o == new => PlannedFile { path: path.into(), action: FileAction::Unchanged, old: Some(o.into()), new, notes: vec![] },
        (Some(o), None) => PlannedFile { path: path.into(), action: FileAction::Updated, old: Some(o.into()), new, notes: vec![] },
        (None, _) => PlannedFile { path: path.into(), action: FileAction::Created, old: None, new, notes: vec![] },
    }
}

/// Plan `init`. Errors (invalid devcontainer.json, a Compose config) leave every file untouched.
pub fn plan_init(p: &ProjectFacts, stack: &Stack, existing: &ExistingFiles, opts: &InitOptions) -> Result<InitPlan, ConfigError> {
    let mut warnings = Vec::new();
    let name = sanitize_name(&p.name);

    // Dependencies for the Dockerfile's layer: requirement files as they are, unless they hold local references.
    let mut copy_files = Vec::new();
    let mut install_files = Vec::new();
    let mut inline = Vec::new();
    let mut post_create = Vec::new();
    // A top-level file that another one pulls in with -r is installed through that one, not twice.
    let included_elsewhere = |path: &str| p.requirement_files.iter().any(|other| other.path != path && other.includes.iter().any(|i| i == path));
    for rf in &p.requirement_files {
        if included_elsewhere(&rf.path) {
            continue;
        }
        if !installs_into_gpu_image(rf) {
            warnings.push(format!("{} is not installed into the image: {}", rf.path, rf.set_aside.as_deref().unwrap_or("set aside")));
            continue;
        }
        let mut files = vec![rf.path.clone()];
        files.extend(rf.includes.iter().cloned());
        let local = p
            .other_requirements
            .iter()
            .any(|o| o.kind == crate::model::project::OtherRequirementKind::Path && files.contains(&o.source.file));
        if local {
            // `-e .` needs the sources, which are mounted only when the container runs.
            post_create.push(format!("pip install -r {}", rf.path));
            warnings.push(format!("{} installs local paths (-e/.): it runs as postCreateCommand, after the sources are mounted", rf.path));
            continue;
        }
        for f in files {
            if !copy_files.contains(&f) {
                copy_files.push(f);
            }
        }
        install_files.push(rf.path.clone());
    }
    let in_files = |name: &str| p.requirements.iter().any(|r| r.name == name && copy_files.contains(&r.source.file));
    for r in &p.requirements {
        let from_requirements_txt = p.requirement_files.iter().any(|rf| rf.path == r.source.file || rf.includes.contains(&r.source.file));
        let wanted_group = matches!(r.group.as_str(), "main" | "dev" | "test" | "tests" | "conda" | "conda-pip");
        if from_requirements_txt || !wanted_group || r.name.is_empty() || in_files(&r.name) {
            continue;
        }
        if inline.iter().any(|i: &String| i == &r.raw) {
            continue;
        }
        inline.push(r.raw.clone());
    }
    let cuda_build = plan_cuda_build(p, stack, opts.compute_cap, &copy_files, &mut inline);
    if p.installable {
        post_create.push("pip install -e .".to_string());
    }
    if cuda_build.is_some() {
        // The editable build (and local -r files) compile against the torch in the venv: no build isolation.
        for c in &mut post_create {
            *c = c.replacen("pip install ", "pip install --no-build-isolation ", 1);
        }
    }

    let mut extensions = vec!["ms-python.python".to_string()];
    if p.has_notebooks {
        extensions.push("ms-toolsai.jupyter".to_string());
    }
    let gpu_args = opts.gpu_run_args.clone().unwrap_or_else(|| opts.gpus.run_args());
    let summary = render::model::summary(stack);

    // devcontainer.json: merged into an existing one, or rendered new.
    let (dc_path, dc_old) = match &existing.devcontainer {
        Some((path, text)) => (path.clone(), Some(text.as_str())),
        None => (DEVCONTAINER_JSON.to_string(), None),
    };
    let existing_config = match dc_old {
        Some(text) => Some(parse_jsonc(text, &dc_path)?),
        None => None,
    };
    if let (Some(cfg), Some(text)) = (existing_config.as_ref().filter(|c| c.get("dockerComposeFile").is_some()), dc_old) {
        return plan_compose(&dc_path, text, cfg, existing, &gpu_args, warnings);
    }
    let config_image = existing_config.as_ref().and_then(|v| v.get("image")).and_then(|v| v.as_str()).map(str::to_string);
    let config_build = existing_config.as_ref().and_then(|v| v.get("build")).cloned();
    let dockerfile_from_config = config_build.as_ref().and_then(|b| b.get("dockerfile")).and_then(|d| d.as_str()).map(|d| resolve_rel(&dc_path, d));
    let dockerfile_is_ours_to_write = match &existing.dockerfile {
        None => true,
        Some(text) => opts.force || is_unedited_devgpu_file(text),
    };
    // devgpu owns the build when the config has none, already points at devgpu's Dockerfile, or --force says so.
    let owns_build = existing_config.is_none()
        || opts.force
        || (config_image.is_none() && config_build.is_none())
        || dockerfile_from_config.as_deref() == Some(DOCKERFILE);
    if let (Some(img), false) = (&config_image, owns_build) {
        for problem in check_image(knowledge(), img, None, None) {
            warnings.push(format!("{dc_path}: {}", problem.message));
        }
    }

    // The Dockerfile.
    let dockerfile_model = DockerfileModel {
        name: name.clone(),
        stack: stack.clone(),
        user: CONTAINER_USER.into(),
        requirement_files: copy_files.clone(),
        install_files,
        inline_requirements: inline,
        cuda_build,
        installer: opts.installer,
    };
    let rendered_dockerfile = render::dockerfile(&dockerfile_model);
    let write_dockerfile = owns_build && dockerfile_is_ours_to_write;
    let dockerfile_skip = if write_dockerfile {
        None
    } else if !owns_build {
        Some(format!("{dc_path} builds from its own image or Dockerfile; pass --force to build from devgpu's Dockerfile instead"))
    } else {
        let why = match &existing.dockerfile {
            Some(t) if t.contains(GENERATED_MARKER) => "was edited since devgpu wrote it",
            _ => "was not written by devgpu",
        };
        Some(format!("{DOCKERFILE} {why}: left as it is (pass --force to replace it)"))
    };
    let dockerfile_plan = match (&existing.dockerfile, dockerfile_skip) {
        (None, Some(why)) => PlannedFile { path: DOCKERFILE.into(), action: FileAction::Skipped, old: None, new: String::new(), notes: vec![why] },
        (old, skip) => file(DOCKERFILE, old.as_deref(), rendered_dockerfile, skip),
    };
    // The user exists only in devgpu's Dockerfile.
    let user_is_ours = write_dockerfile || existing.dockerfile.as_deref().is_some_and(is_unedited_devgpu_file);
    let stack_applied = write_dockerfile;
    if !stack_applied {
        let kept = if owns_build { format!("{DOCKERFILE} is yours and was kept") } else { format!("{dc_path} builds from its own image or Dockerfile, which was kept") };
        warnings.push(format!("{kept}; the stack above is what devgpu would write, not what the container runs (pass --force to use it)"));
    }

    let post_create = (!post_create.is_empty() && user_is_ours).then(|| post_create.join(" && "));
    let dc_plan = match dc_old {
        None => {
            let model = DevcontainerModel {
                name: name.clone(),
                summary: summary.clone(),
                run_args: gpu_args.iter().cloned().chain(SHM_ARGS.iter().map(|s| s.to_string())).collect(),
                user: user_is_ours.then(|| CONTAINER_USER.to_string()),
                extensions: extensions.clone(),
                post_create: post_create.clone(),
            };
            file(&dc_path, None, render::devcontainer_json(&model), None)
        }
        Some(text) => {
            let dir_prefix = dc_path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            // A config that already asks for the GPU through hostRequirements.gpu gets it from VS Code
            // (`--gpus all` where Docker has the nvidia runtime); adding runArgs too would request it twice.
            let host_req_gpu = existing_config
                .as_ref()
                .and_then(|v| v.pointer("/hostRequirements/gpu"))
                .is_some_and(|g| !matches!(g, serde_json::Value::Bool(false) | serde_json::Value::Null));
            let runs_args_gpu = existing_config
                .as_ref()
                .and_then(|v| v.get("runArgs"))
                .and_then(|a| a.as_array())
                .is_some_and(|a| crate::config::has_gpu_request(&a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect::<Vec<_>>()));
            let mut gpu_run_args = gpu_args.clone();
            if host_req_gpu && !runs_args_gpu {
                gpu_run_args.clear();
                warnings.push(format!(
                    "{dc_path}: hostRequirements.gpu already asks VS Code for the GPU (it adds --gpus all where Docker lists the nvidia runtime); no --gpus added to runArgs"
                ));
            }
            let settings = GpuSettings {
                gpu_run_args,
                replace_gpu_request: opts.replace_gpu_request,
                shm_run_args: SHM_ARGS.iter().map(|s| s.to_string()).collect(),
                host_requirements_gpu: None,
                build: owns_build.then(|| BuildSettings {
                    dockerfile: relative_from(dir_prefix, DOCKERFILE),
                    context: relative_from(dir_prefix, ""),
                    args: Vec::new(),
                }),
                remote_user: user_is_ours.then(|| CONTAINER_USER.to_string()),
                extensions: extensions.clone(),
                name: Some(format!("{name} (GPU)")),
            };
            let outcome = merge_gpu_settings(text, &dc_path, &settings)?;
            let mut notes = outcome.notes;
            let mut new_text = outcome.text;
            let mut changes = outcome.changes;
            if write_dockerfile {
                // devgpu's Dockerfile creates only `dev` (and root exists everywhere): a user from another base
                // image (`vscode` of Microsoft's images) would make the attach fail.
                let users = ["remoteUser", "containerUser"].map(|k| (k, existing_config.as_ref().and_then(|v| v.get(k)).and_then(|u| u.as_str())));
                let wrong: Vec<(&str, &str)> =
                    users.iter().filter_map(|(k, u)| u.filter(|u| *u != CONTAINER_USER && *u != "root").map(|_| (*k, CONTAINER_USER))).collect();
                if !wrong.is_empty() {
                    let (t, changed) = replace_string_props(&new_text, &dc_path, &wrong)?;
                    new_text = t;
                    for (k, old) in changed {
                        notes.retain(|n| !n.starts_with(&format!("kept {k} ")));
                        changes.push(format!("changed {k} {old} to \"{CONTAINER_USER}\": devgpu's Dockerfile creates only the user {CONTAINER_USER}"));
                    }
                }
                for w in sudo_in_lifecycle(existing_config.as_ref()) {
                    warnings.push(format!(
                        "{dc_path}: {w} calls sudo, which devgpu's image does not have; the venv belongs to {CONTAINER_USER}, so `pip install` needs no sudo: drop `sudo` there (apt packages go into the Dockerfile)"
                    ));
                }
            }
            let mut f = file(&dc_path, Some(text), new_text, None);
            f.notes.extend(changes);
            f.notes.extend(notes);
            f
        }
    };

    // .dockerignore at the build context's root (the repository): Docker's classic builder reads only that one.
    let block = render::dockerignore_block(&copy_files);
    let di_new = render::merge_dockerignore(existing.dockerignore.as_deref(), &block);
    let di_plan = file(DOCKERIGNORE, existing.dockerignore.as_deref(), di_new, None);

    Ok(InitPlan { files: vec![dc_plan, dockerfile_plan, di_plan], warnings, stack_applied })
}

/// The compose files a Compose config names, repository-relative (`dockerComposeFile` is relative to the folder
/// holding devcontainer.json). A file outside the repository is an error: `init` edits only the project's files.
pub fn compose_file_paths(dc_path: &str, config: &serde_json::Value) -> Result<Vec<String>, String> {
    let files: Vec<&str> = match config.get("dockerComposeFile") {
        Some(serde_json::Value::String(s)) => vec![s.as_str()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for f in files {
        let mut parts: Vec<&str> = dc_path.split('/').collect();
        parts.pop();
        for seg in f.split('/') {
            match seg {
                "." | "" => {}
                ".." if parts.is_empty() => return Err(format!("{dc_path}: the compose file `{f}` lies outside the repository; devgpu edits only the project's files")),
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        if f.starts_with('/') {
            return Err(format!("{dc_path}: the compose file `{f}` is an absolute path; devgpu edits only the project's files (write it relative to devcontainer.json)"));
        }
        out.push(parts.join("/"));
    }
    Ok(out)
}

/// `init` on a Docker Compose config: the GPU goes into the service, in the last compose file that defines it
/// (a comment-preserving YAML edit); devcontainer.json stays as it is, and devgpu's Dockerfile is not written,
/// since the compose file names or builds the service's image.
fn plan_compose(dc_path: &str, dc_text: &str, config: &serde_json::Value, existing: &ExistingFiles, gpu_args: &[String], mut warnings: Vec<String>) -> Result<InitPlan, ConfigError> {
    use crate::config::compose_yaml::{add_gpu, ComposeGpu, ComposeYamlError};
    let Some(service) = config.get("service").and_then(|s| s.as_str()).filter(|s| !s.is_empty()) else {
        let (line, column) = crate::config::line_col(dc_text, dc_text.find("dockerComposeFile").unwrap_or(0));
        return Err(ConfigError::WrongType { file: dc_path.into(), line, column, path: "service".into(), expected: "the name of the compose service VS Code attaches to", found: "nothing" });
    };
    let defines = |text: &str| crate::text::yaml_to_json(text).ok().is_some_and(|v| v.pointer(&format!("/services/{service}")).is_some());
    let (path, text) = existing
        .compose_files
        .iter()
        .rev()
        .find(|(_, t)| defines(t))
        .or(existing.compose_files.first())
        .ok_or_else(|| ComposeYamlError::NoService { file: dc_path.into(), service: service.into() })?;
    let gpu = ComposeGpu::from_run_args(gpu_args).unwrap_or_default();
    let edit = add_gpu(text, path, service, &gpu)?;
    let mut compose = file(path, Some(text), edit.text, None);
    compose.notes.extend(edit.changes);
    compose.notes.extend(edit.notes);
    let mut dc = file(dc_path, Some(dc_text), dc_text.to_string(), None);
    dc.notes.push(format!("a Docker Compose config: the GPU is requested by the service `{service}` in {path}"));
    let dockerfile = PlannedFile {
        path: DOCKERFILE.into(),
        action: FileAction::Skipped,
        old: existing.dockerfile.clone(),
        new: existing.dockerfile.clone().unwrap_or_default(),
        notes: vec![format!("the compose service `{service}` names or builds its own image ({path}); devgpu's Dockerfile would not be used")],
    };
    warnings.push(format!("{dc_path} uses Docker Compose: the service's own image was kept; the stack above is what devgpu would write, not what the container runs"));
    Ok(InitPlan { files: vec![dc, compose, dockerfile], warnings, stack_applied: false })
}

/// The lifecycle commands of a config that call `sudo` (string, array or object forms).
fn sudo_in_lifecycle(config: Option<&serde_json::Value>) -> Vec<String> {
    let Some(config) = config else { return Vec::new() };
    fn calls_sudo(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.split(|c: char| c.is_whitespace() || ";&|()`".contains(c)).any(|w| w == "sudo"),
            // ["sudo", "apt-get", …] or ["bash", "-c", "sudo …"]
            serde_json::Value::Array(a) => a.iter().any(calls_sudo),
            serde_json::Value::Object(o) => o.values().any(calls_sudo),
            _ => false,
        }
    }
    LIFECYCLE_COMMANDS.iter().filter(|k| config.get(**k).is_some_and(calls_sudo)).map(|k| k.to_string()).collect()
}

/// The CUDA-extension build settings, when the project compiles CUDA code against torch. Packages that compile
/// at install time leave the main `pip install` (their lines are deleted from the copied files, or taken out of
/// `inline`) for a `--no-build-isolation` step after it.
fn plan_cuda_build(p: &ProjectFacts, stack: &Stack, cc: Option<ComputeCap>, copy_files: &[String], inline: &mut Vec<String>) -> Option<CudaBuild> {
    let torch = stack.framework.as_ref().is_some_and(|f| f.name == Framework::Pytorch);
    if p.cuda_sources.is_empty() || !torch {
        return None;
    }
    let (arch_list, arch_comment) = match cc {
        Some(cc) => (format!("{cc}"), format!("{cc}, the target GPU's compute capability (other GPUs need their own entry)")),
        None => (BROAD_ARCH_LIST.to_string(), "the target GPU is unknown, so a broad list (Turing to Hopper, PTX for newer); pass --compute-cap to build for one".to_string()),
    };
    let mut strip: Vec<StripLines> = Vec::new();
    let mut from_source = Vec::new();
    for cs in p.cuda_sources.iter().filter(|c| c.kind == CudaSourceKind::BuildsFromSource) {
        let raw = p
            .requirements
            .iter()
            .find(|r| r.source == cs.source)
            .map(|r| r.raw.clone())
            .or_else(|| p.other_requirements.iter().find(|o| o.source == cs.source && !o.editable).map(|o| o.raw.clone()));
        let Some(raw) = raw else { continue };
        if let Some(i) = inline.iter().position(|r| r == &raw) {
            inline.remove(i);
        } else if let (true, Some(line)) = (copy_files.contains(&cs.source.file), cs.source.line) {
            match strip.iter_mut().find(|s| s.file == cs.source.file) {
                Some(s) => s.lines.push(line),
                None => strip.push(StripLines { file: cs.source.file.clone(), lines: vec![line] }),
            }
        } else {
            // installed after the sources are mounted (a file with local paths): postCreateCommand has the flag
            continue;
        }
        if !from_source.contains(&raw) {
            from_source.push(raw);
        }
    }
    Some(CudaBuild { arch_list, arch_comment, max_jobs: DEFAULT_MAX_JOBS, strip_lines: strip, from_source })
}

/// A path relative to the repository root, as seen from the folder `dir` (also relative to the root).
fn relative_from(dir: &str, target: &str) -> String {
    let depth = dir.split('/').filter(|s| !s.is_empty()).count();
    let up = vec![".."; depth].join("/");
    match (up.is_empty(), target.is_empty()) {
        (true, true) => ".".into(),
        (true, false) => target.into(),
        (false, true) => up,
        (false, false) => {
            // Inside the same folder no `..` is needed.
            if let Some(rest) = target.strip_prefix(&format!("{dir}/")) {
                rest.into()
            } else {
                format!("{up}/{target}")
            }
        }
    }
}

/// `build.dockerfile` is relative to devcontainer.json's folder; express it relative to the repository root.
fn resolve_rel(config_path: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = config_path.split('/').collect();
    parts.pop();
    for seg in rel.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Folder names go into comments and the container's name: keep them printable.
fn sanitize_name(name: &str) -> String {
    let n: String = name.chars().map(|c| if c.is_control() { '_' } else { c }).collect();
    if n.trim().is_empty() {
        "project".into()
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative_from(".devcontainer", DOCKERFILE), "Dockerfile");
        assert_eq!(relative_from(".devcontainer", ""), "..");
        assert_eq!(relative_from("", DOCKERFILE), ".devcontainer/Dockerfile");
        assert_eq!(relative_from("", ""), ".");
        assert_eq!(resolve_rel(".devcontainer/devcontainer.json", "Dockerfile"), ".devcontainer/Dockerfile");
        assert_eq!(resolve_rel(".devcontainer/devcontainer.json", "../Dockerfile"), "Dockerfile");
        assert_eq!(resolve_rel(".devcontainer.json", ".devcontainer/Dockerfile"), ".devcontainer/Dockerfile");
    }

    #[test]
    fn sudo_is_found_in_every_lifecycle_command_form() {
        let config = serde_json::json!({
            "postCreateCommand": "pip install -e . && sudo apt-get install -y ffmpeg",
            "postStartCommand": ["bash", "-c", "sudo service ssh start"],
            "onCreateCommand": {"deps": "pip install -r requirements.txt", "tools": ["sudo", "apt-get", "update"]},
            "postAttachCommand": "echo pseudo-sudoers",
            "updateContentCommand": "pip install sudo-less"
        });
        assert_eq!(sudo_in_lifecycle(Some(&config)), vec!["onCreateCommand", "postCreateCommand", "postStartCommand"]);
        assert!(sudo_in_lifecycle(None).is_empty());
    }

    fn torch_stack(p: &ProjectFacts) -> Stack {
        let host = crate::compat::TargetHost { driver: Some("550.54.15".parse().unwrap()), compute_cap: Some("8.6".parse().unwrap()), gpu_name: None, origin: crate::compat::TargetOrigin::Flags };
        crate::compat::resolve(p, &host, &crate::compat::StackRequest::default()).unwrap()
    }

    fn requirement(name: &str, raw: &str, file: &str, line: usize) -> crate::project::Requirement {
        crate::project::Requirement {
            name: name.into(),
            raw: raw.into(),
            specifier: String::new(),
            pinned: None,
            local: None,
            extras: vec![],
            marker: None,
            group: "main".into(),
            source: crate::project::SourceLoc { file: file.into(), line: Some(line) },
        }
    }

    #[test]
    fn cuda_build_only_for_torch_projects_that_compile_cuda() {
        let mut p = ProjectFacts { requirements: vec![requirement("torch", "torch", "pyproject.toml", 3)], ..Default::default() };
        let stack = torch_stack(&p);
        assert_eq!(plan_cuda_build(&p, &stack, None, &[], &mut vec![]), None, "no CUDA sources: no extension build");
        p.requirements.push(requirement("flash-attn", "flash-attn>=2", "pyproject.toml", 4));
        p.requirements.push(requirement("apex", "apex", "requirements.txt", 2));
        p.cuda_sources = crate::project::cuda_sources::builds_from_source(&p.requirements, &[]);
        let mut inline = vec!["torch".to_string(), "flash-attn>=2".to_string()];
        let b = plan_cuda_build(&p, &stack, Some("9.0".parse().unwrap()), &["requirements.txt".to_string()], &mut inline).unwrap();
        assert_eq!(b.arch_list, "9.0");
        assert_eq!(b.max_jobs, DEFAULT_MAX_JOBS);
        assert_eq!(inline, vec!["torch"], "flash-attn leaves the main install");
        assert_eq!(b.from_source, vec!["flash-attn>=2", "apex"]);
        assert_eq!(b.strip_lines, vec![StripLines { file: "requirements.txt".into(), lines: vec![2] }]);
        // Unknown target: the broad list.
        assert_eq!(plan_cuda_build(&p, &stack, None, &[], &mut vec![]).unwrap().arch_list, BROAD_ARCH_LIST);
    }

    #[test]
    fn platform_files_are_not_installed() {
        let rf = |path: &str, set_aside: Option<&str>| crate::project::RequirementFile {
            path: path.into(),
            includes: vec![],
            set_aside: set_aside.map(str::to_string),
        };
        assert!(installs_into_gpu_image(&rf("requirements.txt", None)));
        // the scan decides: a CPU file with no GPU alternative is installed, one set aside is not
        assert!(installs_into_gpu_image(&rf("requirements-cpu.txt", None)));
        assert!(!installs_into_gpu_image(&rf("requirements-cpu.txt", Some("it is for CPU-only use"))));
    }
}
