//! The `init` plan: from project facts, the resolved stack and the files already there, decide each file's new
//! contents. Pure: the command reads the existing files and writes the results.

use super::gpus::GpuSelection;
use crate::compat::{check_image, knowledge, Stack};
use crate::config::{merge_gpu_settings, parse_jsonc, BuildSettings, ConfigError, GpuSettings};
use crate::project::ProjectFacts;
use crate::render::{self, is_unedited_devgpu_file, DevcontainerModel, DockerfileModel, GENERATED_MARKER};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    Created,
    Updated,
    Unchanged,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitPlan {
    pub files: Vec<PlannedFile>,
    pub warnings: Vec<String>,
}

/// Requirement files named for another platform or purpose are not installed into the GPU image.
/// Whether the image installs a requirement file: the scan sets aside alternatives for other platforms
/// (`requirements-cpu.txt` beside `requirements.txt`) and docs files (see `project::alternatives`).
fn installs_into_gpu_image(rf: &crate::project::RequirementFile) -> bool {
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
            warnings.push(format!("{} is not installed into the image (its name says it is for another platform or purpose)", rf.path));
            continue;
        }
        let mut files = vec![rf.path.clone()];
        files.extend(rf.includes.iter().cloned());
        let local = p
            .other_requirements
            .iter()
            .any(|o| o.kind == crate::project::OtherRequirementKind::Path && files.contains(&o.source.file));
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
    if p.installable {
        post_create.push("pip install -e .".to_string());
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
            let mut f = file(&dc_path, Some(text), outcome.text, None);
            f.notes.extend(outcome.changes);
            f.notes.extend(outcome.notes);
            f
        }
    };

    // .dockerignore at the build context's root (the repository): Docker's classic builder reads only that one.
    let block = render::dockerignore_block(&copy_files);
    let di_new = render::merge_dockerignore(existing.dockerignore.as_deref(), &block);
    let di_plan = file(DOCKERIGNORE, existing.dockerignore.as_deref(), di_new, None);

    Ok(InitPlan { files: vec![dc_plan, dockerfile_plan, di_plan], warnings })
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
