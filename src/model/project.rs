//! FACTS: plain data about a repository, as gathered by [`crate::project::scan`].
//! Pure structs: the resolver (`compat/`) and the planner (`plan/`) take these and nothing else.

use serde::Serialize;
use std::path::PathBuf;

/// Where a fact came from: a path relative to the project root and, where it makes sense, a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceLoc {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl std::fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}", self.file, l),
            None => write!(f, "{}", self.file),
        }
    }
}

/// One Python dependency, whatever file declared it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    /// PEP 503-normalised name (`Torch_Vision` → `torch-vision`).
    pub name: String,
    /// The requirement as pip would take it on one line, e.g. `torch==2.4.1+cu121; sys_platform == "linux"`.
    pub raw: String,
    /// Version specifiers only, PEP 440 syntax, e.g. `>=2.1,<2.5` (empty = any).
    pub specifier: String,
    /// Set when the specifier pins one version with `==` / `===` (without the local part).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    /// The PEP 440 local version label of a pin, e.g. `cu121` in `torch==2.4.1+cu121`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// Which group declared it: `main`, an optional-dependency/extra name, `dev`, `conda`, ….
    pub group: String,
    pub source: SourceLoc,
}

/// `--index-url` / `--extra-index-url` seen in a requirements file (or a Poetry/Pipfile source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexUrl {
    pub url: String,
    /// true for `--extra-index-url`.
    pub extra: bool,
    /// The CUDA variant the URL names, e.g. `cu121` for `https://download.pytorch.org/whl/cu121`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda_variant: Option<String>,
    pub source: SourceLoc,
}

/// A Python version requirement: `.python-version` (`3.11`), `runtime.txt` (`python-3.10.4`),
/// `requires-python` (`>=3.9,<3.12`), Poetry `python = "^3.10"`, conda `python=3.10`, Pipfile `python_version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PythonPin {
    /// PEP 440 specifier set equivalent of the pin, e.g. `==3.11.*` or `>=3.9,<3.12`.
    pub specifier: String,
    /// The text as written, for messages.
    pub raw: String,
    pub source: SourceLoc,
}

/// A conda package that matters for the GPU stack (`cudatoolkit=11.8`, `pytorch-cuda=12.1`, `cuda-version=12.4`, `cudnn=8.9`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CondaPin {
    pub name: String,
    /// Version text as written after `=`/`==` (may be empty).
    pub version: String,
    pub source: SourceLoc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CudaSourceKind {
    /// A `.cu`/`.cuh` file.
    CuFile,
    /// `project(... LANGUAGES CUDA)` or `enable_language(CUDA)` in a CMakeLists.txt.
    CmakeCuda,
    /// `CUDAExtension` / `torch.utils.cpp_extension` in setup.py.
    CudaExtension,
    /// A dependency that compiles CUDA code at install time (flash-attn, apex, …).
    BuildsFromSource,
    /// A source file that imports `torch.utils.cpp_extension` to compile its ops when first run (`load(…)`).
    JitExtension,
}

/// Evidence that something in the repository compiles CUDA code, so the image needs nvcc (`devel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CudaSource {
    pub kind: CudaSourceKind,
    pub source: SourceLoc,
}

/// A Dockerfile found at the root or in `.devcontainer/`, with the images its `FROM` lines name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerfileFacts {
    /// Relative path, e.g. `Dockerfile` or `.devcontainer/Dockerfile`.
    pub path: String,
    /// One entry per `FROM` (after `ARG` default substitution where simple), with its line.
    pub from: Vec<FromImage>,
    /// true when the file carries devgpu's generated-file marker (see `render::GENERATED_MARKER`).
    pub generated_by_devgpu: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FromImage {
    pub image: String,
    pub line: usize,
}

/// `import torch` / `from jax import numpy` in a source file: the top-level module and where it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportEvidence {
    /// The top-level module name as imported (`torch`, `tensorflow`, `jax`, `flash_attn`, `triton`, …).
    pub module: String,
    pub source: SourceLoc,
}

/// A non-fatal problem met while scanning: an unreadable file, a requirement line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanWarning {
    pub source: SourceLoc,
    pub message: String,
}

/// Everything `init` needs to know about a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectFacts {
    #[serde(skip)]
    pub root: PathBuf,
    /// The folder name, for the container's name.
    pub name: String,
    /// Dependency files read, relative paths, in the order read.
    pub files_read: Vec<String>,
    /// Top-level `requirements*.txt` files (relative paths) with the files they include via `-r`/`-c`,
    /// so the Dockerfile can copy exactly these and `pip install -r` the first ones.
    pub requirement_files: Vec<RequirementFile>,
    pub requirements: Vec<Requirement>,
    pub index_urls: Vec<IndexUrl>,
    pub python: Vec<PythonPin>,
    pub conda: Vec<CondaPin>,
    pub cuda_sources: Vec<CudaSource>,
    pub dockerfiles: Vec<DockerfileFacts>,
    /// Relative path of `.devcontainer/devcontainer.json` or `.devcontainer.json` when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devcontainer: Option<String>,
    /// Whether the repository holds Jupyter notebooks (adds the Jupyter extension).
    pub has_notebooks: bool,
    /// Framework-relevant modules the project's own `.py`/`.ipynb` sources import (first few hits per module),
    /// the evidence for a framework when no dependency file names it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<ImportEvidence>,
    /// How many imports of each module of interest the sources hold in all (`imports` keeps only the first few).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub import_counts: std::collections::BTreeMap<String, usize>,
    /// Whether a `pyproject.toml`/`setup.py`/`setup.cfg` makes the repository itself installable (`pip install -e .`).
    pub installable: bool,
    /// The distribution name the repository declares (pyproject `project.name`, setup.py `name=`), normalised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// Whether the root has a `.dockerignore` (devgpu then merges into it).
    pub has_dockerignore: bool,
    pub warnings: Vec<ScanWarning>,
    /// Pins from constraints files (`-c`/`--constraint`): they limit versions but install nothing,
    /// so they are kept apart from [`ProjectFacts::requirements`] (group `constraint`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Requirement>,
    /// Requirement lines that are not PEP 508 names: `-e .`, `-e git+https://…`, a URL, a local path or wheel.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_requirements: Vec<OtherRequirement>,
    /// `-f`/`--find-links` locations seen in requirements files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub find_links: Vec<FindLinks>,
}

/// What an [`OtherRequirement`] points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OtherRequirementKind {
    /// A local directory or archive (`.`, `./pkg`, `dist/foo.whl`): the Dockerfile must copy it before `pip install`.
    Path,
    /// A version-control URL (`git+https://…`).
    Vcs,
    /// An archive or wheel URL (`https://…/foo.whl`).
    Url,
}

/// A requirement line pip accepts that names no PEP 508 distribution (see [`OtherRequirementKind`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherRequirement {
    /// The line as written, without the `-e` flag and without comments.
    pub raw: String,
    pub kind: OtherRequirementKind,
    /// `-e`/`--editable`.
    pub editable: bool,
    /// The distribution name where the line tells it (`#egg=name`, a wheel file name), PEP 503-normalised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub group: String,
    pub source: SourceLoc,
}

/// A `-f`/`--find-links` location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindLinks {
    pub url: String,
    /// The CUDA variant the URL names, e.g. `cu121` in `https://data.pyg.org/whl/torch-2.1.0+cu121.html`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda_variant: Option<String>,
    pub source: SourceLoc,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequirementFile {
    pub path: String,
    /// Files it pulls in through `-r`/`-c`/`--requirement`/`--constraint`, transitively, relative to the root.
    pub includes: Vec<String>,
    /// Set when the file is an alternative the GPU image does not install (`requirements-cpu.txt` beside
    /// `requirements.txt`), with the reason. Requirements found only through set-aside files carry the group
    /// `set-aside`, which the resolver ignores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<String>,
}
