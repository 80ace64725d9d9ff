//! What the templates need, as plain data. The planner fills these from the stack and the project facts.

use crate::compat::{PythonSource, Stack};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileModel {
    pub name: String,
    pub stack: Stack,
    /// The non-root user's name.
    pub user: String,
    /// Requirement files to COPY (relative to the build context, includes first-class), in order.
    pub requirement_files: Vec<String>,
    /// The ones to `pip install -r` (top-level files; included ones come along through -r).
    pub install_files: Vec<String>,
    /// Requirements declared outside requirements files (pyproject, setup.cfg, Pipfile, environment.yml's pip list).
    pub inline_requirements: Vec<String>,
    /// The project compiles CUDA code against torch: the build settings for it (None otherwise).
    pub cuda_build: Option<CudaBuild>,
    /// What installs the packages in the image.
    pub installer: Installer,
}

/// How the generated Dockerfile installs Python packages (`init --installer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Installer {
    /// uv, pinned to [`UV_VERSION`] and bootstrapped from PyPI by pip.
    #[default]
    Uv,
    /// pip alone (projects whose installs rely on pip behaviour uv does not share).
    Pip,
}

/// The uv release the generated Dockerfile pins (PyPI `uv`, 2026-12-04). Pinned so an image rebuilt later resolves
/// with the same installer; the offline test wheelhouse carries this wheel.
pub const UV_VERSION: &str = "0.13.9";

impl Installer {
    /// `uv 0.13.9` or `pip`, for the lock.
    pub fn describe(self) -> String {
        match self {
            Installer::Uv => format!("uv {UV_VERSION}"),
            Installer::Pip => "pip".into(),
        }
    }
}

/// pip's settings as uv flags, expanded by the shell only when the build arg is set: uv does not read PIP_*.
const UV_PASS_THROUGH: &str = r#" ${PIP_INDEX_URL:+--index-url "$PIP_INDEX_URL"} ${PIP_EXTRA_INDEX_URL:+--extra-index-url "$PIP_EXTRA_INDEX_URL"} ${PIP_FIND_LINKS:+--find-links "$PIP_FIND_LINKS"} ${PIP_NO_INDEX:+--no-index} ${PIP_TRUSTED_HOST:+--allow-insecure-host "$PIP_TRUSTED_HOST"}"#;
/// The same without the index URL, for a step that names its own index (as pip's --index-url outranks PIP_INDEX_URL).
const UV_PASS_THROUGH_OWN_INDEX: &str = r#" ${PIP_EXTRA_INDEX_URL:+--extra-index-url "$PIP_EXTRA_INDEX_URL"} ${PIP_FIND_LINKS:+--find-links "$PIP_FIND_LINKS"} ${PIP_NO_INDEX:+--no-index} ${PIP_TRUSTED_HOST:+--allow-insecure-host "$PIP_TRUSTED_HOST"}"#;

/// What a CUDA-extension build needs in the image (see templates/Dockerfile.j2 for why each is there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CudaBuild {
    /// `TORCH_CUDA_ARCH_LIST`'s default, e.g. `8.6`.
    pub arch_list: String,
    /// Why that list (one line, goes into a comment).
    pub arch_comment: String,
    /// `MAX_JOBS`'s default.
    pub max_jobs: u32,
    /// Lines (1-based) to delete from copied requirement files: packages that compile CUDA at install time,
    /// installed in their own `--no-build-isolation` step instead.
    pub strip_lines: Vec<StripLines>,
    /// Requirements installed with `--no-build-isolation` after the project's other dependencies.
    pub from_source: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StripLines {
    /// Relative to the build context, as copied under /tmp/devgpu-deps/.
    pub file: String,
    pub lines: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevcontainerModel {
    pub name: String,
    pub summary: String,
    pub run_args: Vec<String>,
    /// `remoteUser`, only when the Dockerfile is devgpu's (it creates the user).
    pub user: Option<String>,
    pub extensions: Vec<String>,
    pub post_create: Option<String>,
}

/// A one-line description of a stack for comments and messages.
pub fn summary(stack: &Stack) -> String {
    let fw = stack
        .framework
        .as_ref()
        .map(|f| match &f.wheel_variant {
            Some(v) => format!(", {} {} ({v})", f.name.as_str(), f.version),
            None => format!(", {} {}", f.name.as_str(), f.version),
        })
        .unwrap_or_default();
    format!("CUDA {} ({}), Ubuntu {}, Python {}{fw}", stack.cuda_full, stack.flavor.as_str(), stack.ubuntu, stack.python)
}

#[derive(Serialize)]
struct FrameworkCtx<'a> {
    index_url: Option<&'a str>,
    packages: &'a [String],
}

#[derive(Serialize)]
pub(super) struct DockerfileCtx<'a> {
    marker: &'static str,
    name: &'a str,
    summary: String,
    reasons: &'a [String],
    image: &'a str,
    cuda_minor_compat: bool,
    ubuntu: &'a str,
    python: &'a str,
    python_source: &'static str,
    python_exe: String,
    user: &'a str,
    framework: Option<FrameworkCtx<'a>>,
    framework_comment: String,
    constraint_pattern: String,
    requirement_files: &'a [String],
    install_files: &'a [String],
    inline_requirements: Vec<String>,
    cuda_build: Option<CudaBuild>,
    installer: &'static str,
    uv_version: &'static str,
    /// `uv pip install` or `pip install`.
    install: &'static str,
    freeze: &'static str,
    /// Appended to every install line: uv's flags from the PIP_* build args (empty for pip, which reads them).
    pass_through: &'static str,
    pass_through_no_index: &'static str,
}

/// Quote for a double-quoted shell word inside a Dockerfile RUN line (pip specifiers may hold `<`, `>`, `;`, `"`).
fn shell_dq(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('$', "\\$").replace('`', "\\`")
}

impl DockerfileModel {
    pub(super) fn template_context(&self) -> DockerfileCtx<'_> {
        let s = &self.stack;
        let (python_source, python_exe) = match s.python_source {
            PythonSource::System => ("system", "python3".to_string()),
            PythonSource::Deadsnakes => ("deadsnakes", format!("python{}", s.python)),
        };
        let framework = s.framework.as_ref().map(|f| FrameworkCtx { index_url: f.index_url.as_deref(), packages: &f.packages });
        let framework_comment = match &s.framework {
            Some(f) if f.index_url.is_some() => format!(
                "{} {} built for {}, from its own index (PyPI's wheels are another CUDA build).",
                f.name.as_str(),
                f.version,
                f.wheel_variant.as_deref().unwrap_or("")
            ),
            Some(f) => format!("{} {}: its pip packages bring CUDA with them.", f.name.as_str(), f.version),
            None => String::new(),
        };
        let constraint_pattern = match &s.framework {
            Some(f) => f
                .packages
                .iter()
                .map(|p| p.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')).next().unwrap_or(p).to_string())
                .collect::<Vec<_>>()
                .join("|"),
            None => String::new(),
        };
        DockerfileCtx {
            marker: super::GENERATED_MARKER,
            name: &self.name,
            summary: summary(s),
            reasons: &s.reasons,
            image: &s.image,
            cuda_minor_compat: s.cuda_minor_compat,
            ubuntu: &s.ubuntu,
            python: &s.python,
            python_source,
            python_exe,
            user: &self.user,
            framework,
            framework_comment,
            constraint_pattern,
            requirement_files: &self.requirement_files,
            install_files: &self.install_files,
            inline_requirements: self.inline_requirements.iter().map(|r| shell_dq(r)).collect(),
            cuda_build: self.cuda_build.as_ref().map(|c| CudaBuild { from_source: c.from_source.iter().map(|r| shell_dq(r)).collect(), ..c.clone() }),
            installer: match self.installer {
                Installer::Uv => "uv",
                Installer::Pip => "pip",
            },
            uv_version: UV_VERSION,
            install: match self.installer {
                Installer::Uv => "uv pip install",
                Installer::Pip => "pip install",
            },
            freeze: match self.installer {
                Installer::Uv => "uv pip freeze",
                Installer::Pip => "pip freeze",
            },
            pass_through: if self.installer == Installer::Uv { UV_PASS_THROUGH } else { "" },
            pass_through_no_index: match (self.installer, s.framework.as_ref().and_then(|f| f.index_url.as_ref())) {
                (Installer::Pip, _) => "",
                (Installer::Uv, Some(_)) => UV_PASS_THROUGH_OWN_INDEX,
                (Installer::Uv, None) => UV_PASS_THROUGH,
            },
        }
    }
}

#[derive(Serialize)]
pub(super) struct DevcontainerCtx {
    marker: &'static str,
    name: String,
    display_name: String,
    summary: String,
    run_args: String,
    user: Option<String>,
    extensions: String,
    post_create: Option<String>,
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

fn json_list(items: &[String]) -> String {
    items.iter().map(|i| json_str(i)).collect::<Vec<_>>().join(", ")
}

impl DevcontainerModel {
    pub(super) fn template_context(&self) -> DevcontainerCtx {
        DevcontainerCtx {
            marker: super::GENERATED_MARKER,
            name: self.name.clone(),
            display_name: json_str(&format!("{} (GPU)", self.name)),
            summary: self.summary.clone(),
            run_args: json_list(&self.run_args),
            user: self.user.as_deref().map(json_str),
            extensions: json_list(&self.extensions),
            post_create: self.post_create.as_deref().map(json_str),
        }
    }
}
