//! The repository scan (edge): one pruned walk ([`walk`]), then the few dependency files at the root
//! read by pure parsers, into [`ProjectFacts`].
//!
//! What counts where:
//! - dependency files only at the root (plus `requirements/*.txt`, and Dockerfiles in `.devcontainer/`):
//!   `pyproject.toml`, `setup.cfg`, `setup.py`, `requirements*.txt` / `*requirements.txt` (with their
//!   `-r`/`-c` includes), `Pipfile`, `environment.yml`/`.yaml`, `.python-version`, `runtime.txt` — read in
//!   that order, which is the order of [`ProjectFacts::files_read`] and of the facts;
//! - CUDA sources (`.cu`/`.cuh`, CMake enabling CUDA, setup.py with `CUDAExtension`) and notebooks
//!   anywhere in the pruned tree; dependencies that compile CUDA at install time from any dependency file.
//!
//! Fatal: the root is missing / not a folder / unreadable, invalid TOML (pyproject.toml, Pipfile) or
//! YAML (environment.yml). Everything else becomes a [`ScanWarning`] and the scan goes on.

pub mod facts;
pub use facts::*;

mod error;
pub use error::ProjectError;

pub mod conda_env;
pub mod cuda_sources;
pub mod dockerfile;
pub mod pep508;
pub mod pipfile;
pub mod pyproject;
pub mod python_version;
pub mod requirements_txt;
pub mod setup_py;
pub mod walk;

use std::path::Path;

/// Files above this size are not read for CUDA evidence (CMakeLists.txt, nested setup.py).
const MAX_EVIDENCE_FILE_BYTES: u64 = 1 << 20;

/// Scan the repository at `root`.
pub fn scan(root: &Path) -> Result<ProjectFacts, ProjectError> {
    let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ProjectError::NotFound { path: root.to_path_buf() },
        _ => ProjectError::Unreadable { path: root.to_path_buf(), message: e.to_string() },
    })?;
    if !meta.is_dir() {
        return Err(ProjectError::NotADirectory { path: root.to_path_buf() });
    }
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let w = walk::walk(root).map_err(|message| ProjectError::Unreadable { path: root.to_path_buf(), message })?;

    let mut f = ProjectFacts {
        name: canonical.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        root: canonical,
        ..ProjectFacts::default()
    };
    for (path, reason) in &w.errors {
        f.warnings.push(ScanWarning {
            source: SourceLoc { file: path.clone(), line: None },
            message: format!("skipped a folder that cannot be read: {reason}"),
        });
    }
    let has = |name: &str| w.root_files.iter().any(|n| n == name);
    let read = |rel: &str| read_or_warn(root, rel);

    // pyproject.toml
    let mut pyproject_installable = false;
    if has("pyproject.toml") {
        match read("pyproject.toml") {
            Ok(text) => {
                f.files_read.push("pyproject.toml".into());
                let p = pyproject::parse_pyproject(&text, "pyproject.toml")?;
                pyproject_installable = p.installable;
                merge_pyproject(&mut f, p);
            }
            Err(w) => f.warnings.push(w),
        }
    }

    // setup.cfg, setup.py
    let mut setup_cfg_metadata = false;
    if has("setup.cfg") {
        match read("setup.cfg") {
            Ok(text) => {
                f.files_read.push("setup.cfg".into());
                let (s, meta) = setup_py::parse_setup_cfg(&text, "setup.cfg");
                setup_cfg_metadata = meta;
                merge_setup(&mut f, s);
            }
            Err(w) => f.warnings.push(w),
        }
    }
    let mut root_setup_cuda = None;
    if has("setup.py") {
        match read("setup.py") {
            Ok(text) => {
                f.files_read.push("setup.py".into());
                merge_setup(&mut f, setup_py::parse_setup_py(&text, "setup.py"));
                root_setup_cuda = setup_py::cuda_extension_line(&text);
            }
            Err(w) => f.warnings.push(w),
        }
    }
    // pip needs setup.py or pyproject.toml to build the project; setup.cfg alone is only metadata.
    f.installable = pyproject_installable || has("setup.py") || (has("pyproject.toml") && setup_cfg_metadata);

    // requirements files: requirements.txt, the other root ones, then requirements/*.txt
    let mut tops: Vec<String> = Vec::new();
    if has("requirements.txt") {
        tops.push("requirements.txt".into());
    }
    tops.extend(
        w.root_files
            .iter()
            .filter(|n| *n != "requirements.txt" && requirements_txt::is_root_requirements_name(n))
            .cloned(),
    );
    tops.extend(w.requirements_dir.iter().cloned());
    let mut reader = |rel: &str| read_text(root, rel);
    let collected = requirements_txt::collect(&tops, &[], &mut reader);
    merge_collected(&mut f, collected);

    // Pipfile
    if has("Pipfile") {
        match read("Pipfile") {
            Ok(text) => {
                f.files_read.push("Pipfile".into());
                merge_pyproject(&mut f, pipfile::parse_pipfile(&text, "Pipfile")?);
            }
            Err(w) => f.warnings.push(w),
        }
    }

    // environment.yml
    for env in ["environment.yml", "environment.yaml"] {
        if !has(env) {
            continue;
        }
        match read(env) {
            Ok(text) => {
                f.files_read.push(env.into());
                let c = conda_env::parse_environment_yml(&text, env)?;
                f.python.extend(c.python);
                f.conda.extend(c.conda);
                f.requirements.extend(c.requirements);
                f.warnings.extend(c.warnings);
                let pip = c.pip;
                f.requirements.extend(pip.requirements);
                f.other_requirements.extend(pip.other);
                f.index_urls.extend(pip.index_urls);
                f.find_links.extend(pip.find_links);
                f.warnings.extend(pip.warnings);
                // `- -r requirements.txt` in the pip list: conda resolves it next to environment.yml
                let mut more = Vec::new();
                for inc in pip.includes {
                    match requirements_txt::resolve_include(env, &inc.target) {
                        Ok(p) if !f.files_read.contains(&p) && !more.contains(&p) => more.push(p),
                        Ok(_) => {}
                        Err(why) => f.warnings.push(ScanWarning {
                            source: SourceLoc { file: env.into(), line: Some(inc.line) },
                            message: format!("not following `{}`: {why}", inc.target),
                        }),
                    }
                }
                if !more.is_empty() {
                    let collected = requirements_txt::collect(&more, &f.files_read, &mut reader);
                    merge_collected(&mut f, collected);
                }
            }
            Err(w) => f.warnings.push(w),
        }
    }

    // .python-version, runtime.txt
    for (file, parse) in [
        (".python-version", python_version::parse_python_version_file as fn(&str, &str) -> _),
        ("runtime.txt", python_version::parse_runtime_txt),
    ] {
        if !has(file) {
            continue;
        }
        match read(file) {
            Ok(text) => {
                f.files_read.push(file.into());
                match parse(&text, file) {
                    Ok(Some(pin)) => f.python.push(pin),
                    Ok(None) => {}
                    Err(w) => f.warnings.push(w),
                }
            }
            Err(w) => f.warnings.push(w),
        }
    }

    // Dockerfiles: root, then .devcontainer/
    let dockerfiles = w
        .root_files
        .iter()
        .filter(|n| dockerfile::is_dockerfile_name(n))
        .cloned()
        .chain(w.devcontainer_files.iter().filter(|p| dockerfile::is_dockerfile_name(p.rsplit('/').next().unwrap_or(p))).cloned());
    for path in dockerfiles {
        match read(&path) {
            Ok(text) => f.dockerfiles.push(dockerfile::parse_dockerfile(&text, &path)),
            Err(w) => f.warnings.push(w),
        }
    }

    // devcontainer.json, .dockerignore
    f.devcontainer = if w.devcontainer_files.iter().any(|p| p == ".devcontainer/devcontainer.json") {
        Some(".devcontainer/devcontainer.json".into())
    } else if has(".devcontainer.json") {
        Some(".devcontainer.json".into())
    } else {
        None
    };
    f.has_dockerignore = has(".dockerignore");
    f.has_notebooks = w.has_notebooks;

    // CUDA evidence: files (capped), then dependencies that build CUDA code when installed
    if let Some(line) = root_setup_cuda {
        f.cuda_sources.push(CudaSource { kind: CudaSourceKind::CudaExtension, source: SourceLoc { file: "setup.py".into(), line: Some(line) } });
    }
    for (path, kind) in &w.cuda_candidates {
        if f.cuda_sources.len() >= cuda_sources::MAX_FILE_HITS {
            break;
        }
        let hit = match kind {
            walk::CudaCandidate::CuFile => Some((CudaSourceKind::CuFile, None)),
            walk::CudaCandidate::CMakeLists => {
                read_evidence(root, path).and_then(|t| cuda_sources::cmake_cuda_line(&t)).map(|l| (CudaSourceKind::CmakeCuda, Some(l)))
            }
            walk::CudaCandidate::SetupPy => read_evidence(root, path)
                .and_then(|t| setup_py::cuda_extension_line(&t))
                .map(|l| (CudaSourceKind::CudaExtension, Some(l))),
        };
        if let Some((kind, line)) = hit {
            f.cuda_sources.push(CudaSource { kind, source: SourceLoc { file: path.clone(), line } });
        }
    }
    f.cuda_sources.extend(cuda_sources::builds_from_source(&f.requirements, &f.other_requirements));

    Ok(f)
}

/// Read a root-relative text file (BOM dropped, invalid UTF-8 replaced); `Err` is the reason.
fn read_text(root: &Path, rel: &str) -> Result<String, String> {
    match std::fs::read(root.join(rel)) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            Ok(text.strip_prefix('\u{feff}').unwrap_or(&text).to_string())
        }
        Err(e) => Err(io_reason(&e)),
    }
}

/// [`read_text`], with a failure as a warning on the file.
fn read_or_warn(root: &Path, rel: &str) -> Result<String, ScanWarning> {
    read_text(root, rel).map_err(|reason| ScanWarning {
        source: SourceLoc { file: rel.to_string(), line: None },
        message: format!("cannot read {rel}: {reason}"),
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Read a file for CUDA evidence; unreadable or huge files are simply not evidence.
fn read_evidence(root: &Path, rel: &str) -> Option<String> {
    let p = root.join(rel);
    if std::fs::metadata(&p).ok()?.len() > MAX_EVIDENCE_FILE_BYTES {
        return None;
    }
    std::fs::read(&p).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn merge_pyproject(f: &mut ProjectFacts, p: pyproject::PyprojectFacts) {
    f.requirements.extend(p.requirements);
    f.other_requirements.extend(p.other);
    f.python.extend(p.python);
    f.index_urls.extend(p.index_urls);
    f.warnings.extend(p.warnings);
}

fn merge_setup(f: &mut ProjectFacts, s: setup_py::SetupFacts) {
    f.requirements.extend(s.requirements);
    f.python.extend(s.python);
    f.warnings.extend(s.warnings);
}

fn merge_collected(f: &mut ProjectFacts, c: requirements_txt::Collected) {
    f.requirement_files.extend(c.files);
    f.files_read.extend(c.files_read);
    f.requirements.extend(c.requirements);
    f.constraints.extend(c.constraints);
    f.other_requirements.extend(c.other);
    f.index_urls.extend(c.index_urls);
    f.find_links.extend(c.find_links);
    f.warnings.extend(c.warnings);
}
