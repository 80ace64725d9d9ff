//! The repository scan (edge): one pruned walk ([`walk`]), then the few dependency files at the root
//! read by pure parsers, into [`ProjectFacts`].
//!
//! What counts where:
//! - dependency files only at the root (plus `requirements/*.txt`, and Dockerfiles in `.devcontainer/`):
//!   `pyproject.toml`, `setup.cfg`, `setup.py`, `requirements*.txt` / `*requirements.txt` (with their
//!   `-r`/`-c` includes), `Pipfile`, `environment.yml`/`.yaml`, `.python-version`, `runtime.txt` — read in
//!   that order, which is the order of [`ProjectFacts::files_read`] and of the facts;
//! - requirements files below the root (`pkg/requirements.txt`; `a/b/requirements.txt` only when one folder
//!   down has none; `pkg/requirements/*.txt`), outside examples/docs/tests/tools folders
//!   ([`walk::NOT_THE_PROJECT_DIRS`]): read only when the root declares no dependency at all (no requirements
//!   file, no pyproject/setup dependencies, no Pipfile or environment.yml). Then they are what a user installs
//!   by hand, so they go into `requirement_files` and the Dockerfile installs them. With anything at the root,
//!   a file below is read only when a root file pulls it in (`-r pkg/requirements.txt`), as pip would;
//! - `.txt` files a root setup.py names in string literals (`open("requirements.txt")`,
//!   `parse_requirements("requirements/runtime.txt")`), when they exist and were not read yet: group `main`
//!   (pip installs them through setup.py, so they are not listed in `requirement_files`);
//! - conda files by other names at the root (`conda.yaml`, `env.yml`, `environment-*.yml`, or any root
//!   YAML with a top-level `dependencies:` list): read like environment.yml, their errors are warnings;
//!   as one conda environment gets created, several kept files are alternatives: the one named for the GPU
//!   is read, else environment.yml(.yaml), else the first by name, and the others are set aside with a warning;
//! - alternatives ([`alternatives`]): requirement and conda files named for another platform or for the
//!   docs are set aside when a GPU/default alternative exists ([`RequirementFile::set_aside`]); what only
//!   they declare gets the group `set-aside`, their index URLs are dropped, a set-aside conda file is not read;
//! - evidence, never installed by the planner: `pip install` lines in READMEs/INSTALL.md/`docs/install*.md`
//!   (group `readme`; their conda pins, `python=` pins and index URLs keep the document as source, see
//!   [`install_lines::is_prose_source`]), `!pip install` in notebooks (group `notebook`), and imports of
//!   framework modules in `.py` files and notebook code cells ([`ProjectFacts::imports`], [`imports`]);
//! - CUDA sources (`.cu`/`.cuh`, CMake enabling CUDA, setup.py with `CUDAExtension`) and notebooks
//!   anywhere in the pruned tree; dependencies that compile CUDA at install time from any dependency file.
//!
//! Untrusted input: every read goes through [`inside_root`], so nothing outside the repository is read
//! through a symlink (the file, or a folder above it); such a file is skipped with a warning naming it.
//!
//! Fatal: the root is missing / not a folder / unreadable, invalid TOML (pyproject.toml, Pipfile) or
//! YAML (environment.yml). Everything else becomes a [`ScanWarning`] and the scan goes on.

/// The fact types live in the pure layer; `project::Requirement` etc. stay valid paths.
pub use crate::model::project::*;

mod error;
pub use error::ProjectError;

/// A pure rule over file names; it lives with the facts so that the resolver can use it too.
pub use crate::model::alternatives;
pub mod conda_env;
pub mod cuda_sources;
pub mod dockerfile;
pub mod imports;
pub mod install_lines;
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

/// At most this many requirements files below the root are taken as the project's own (monorepos).
const MAX_SUB_REQUIREMENTS: usize = 4;

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
    let mut setup_py_text = None;
    if has("setup.py") {
        match read("setup.py") {
            Ok(text) => {
                setup_py_text = Some(text.clone());
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

    // Requirements files below the root, when the root declares no dependency at all (`pkg/requirements.txt`):
    // the project's own install then is these files, so the Dockerfile installs them. One folder down
    // first; two folders down only when one folder down has none; at most MAX_SUB_REQUIREMENTS files.
    let root_declares = !tops.is_empty()
        || !f.requirements.is_empty()
        || has("Pipfile")
        || has("environment.yml")
        || has("environment.yaml");
    if !root_declares && !w.sub_requirements.is_empty() {
        let depth = |p: &String| p.matches('/').count();
        let shallowest = w.sub_requirements.iter().map(depth).min().unwrap_or(1);
        let subs: Vec<String> =
            w.sub_requirements.iter().filter(|p| depth(p) == shallowest).take(MAX_SUB_REQUIREMENTS).cloned().collect();
        let collected = requirements_txt::collect(&subs, &f.files_read, &mut reader);
        merge_collected(&mut f, collected);
    }

    // setup.py that reads its install_requires from a file (`open("requirements.txt")`,
    // `parse_requirements("requirements/runtime.txt")`): that file is the project's requirements too.
    // pip installs it through setup.py, so it is not listed in `requirement_files`.
    if let Some(text) = &setup_py_text {
        let opened: Vec<String> = setup_py::txt_literals(text)
            .into_iter()
            .filter(|p| !f.files_read.contains(p) && inside_root(root, p).is_ok())
            .collect();
        if !opened.is_empty() {
            let mut c = requirements_txt::collect(&opened, &f.files_read, &mut reader);
            c.files.clear();
            // What setup.py reads is what `pip install .` installs: `main`, whatever the file's name
            // (`deps.txt`), unless the name says it is for development, tests or docs (extras_require).
            for r in &mut c.requirements {
                if !matches!(r.group.as_str(), "dev" | "test" | "tests" | "docs" | "doc" | "lint") {
                    r.group = "main".into();
                }
            }
            merge_collected(&mut f, c);
        }
        // install_requires computed from a file that was read (`[str(r) for r in parse_requirements(open(
        // "requirements.txt"))]`): its requirements are known, so the "could not read" warning would mislead.
        if setup_py::txt_literals(text).iter().any(|p| f.files_read.contains(p)) {
            f.warnings.retain(|w| !(w.source.file == "setup.py" && w.message.starts_with("could not read install_requires")));
        }
    }

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

    // environment.yml, then conda files by other names (`conda.yaml`, `env.yml`, `environment-gpu.yml`, or
    // any root YAML file with a top-level `dependencies:` list). Invalid YAML is fatal only in environment.yml(.yaml).
    let mut conda_files: Vec<(String, String, bool)> = Vec::new();
    for env in ["environment.yml", "environment.yaml"] {
        if has(env) {
            match read(env) {
                Ok(text) => conda_files.push((env.to_string(), text, true)),
                Err(w) => f.warnings.push(w),
            }
        }
    }
    for name in &w.root_yaml {
        let named = conda_env::is_conda_file_name(name);
        match read_evidence_checked(root, name) {
            Ok(Some(text)) if named || conda_env::has_top_level_dependencies(&text) => conda_files.push((name.clone(), text, false)),
            Ok(_) => {}
            Err(why) if named || why == OUTSIDE_ROOT => f.warnings.push(ScanWarning {
                source: SourceLoc { file: name.clone(), line: None },
                message: format!("cannot read {name}: {why}"),
            }),
            Err(_) => {}
        }
    }
    let conda_choice = alternatives::choose(&conda_files.iter().map(|(n, _, _)| (n.clone(), n.starts_with("environment."))).collect::<Vec<_>>());
    for (file, why) in conda_choice.1 {
        f.warnings.push(ScanWarning { source: SourceLoc { file, line: None }, message: why });
    }
    let mut conda_aside = conda_choice.0;
    // One conda environment gets created, so the kept files are alternatives too: the one named for the
    // GPU, else environment.yml(.yaml), else the first by name.
    let kept: Vec<usize> = (0..conda_files.len()).filter(|&i| conda_aside[i].is_none()).collect();
    if kept.len() > 1 {
        let chosen = kept
            .iter()
            .copied()
            .find(|&i| alternatives::names_gpu(&conda_files[i].0))
            .or_else(|| kept.iter().copied().find(|&i| conda_files[i].2))
            .unwrap_or(kept[0]);
        for &i in &kept {
            if i != chosen {
                conda_aside[i] = Some(format!("one conda environment is created, from {}", conda_files[chosen].0));
            }
        }
    }
    for ((env, text, fatal), aside) in conda_files.iter().zip(conda_aside) {
        let env = env.as_str();
        if let Some(why) = aside {
            f.warnings.push(ScanWarning { source: SourceLoc { file: env.into(), line: None }, message: format!("{env} is set aside: {why}") });
            continue;
        }
        let c = match conda_env::parse_environment_yml(text, env) {
            Ok(c) => c,
            Err(e) if *fatal => return Err(e),
            Err(e) => {
                f.warnings.push(ScanWarning { source: SourceLoc { file: env.into(), line: None }, message: format!("{env} skipped: {e}") });
                continue;
            }
        };
        {
            {
                f.files_read.push(env.into());
                f.python.extend(c.python);
                f.conda.extend(c.conda);
                f.requirements.extend(c.requirements);
                f.warnings.extend(c.warnings);
                let pip = c.pip;
                f.requirements.extend(pip.requirements);
                for o in &pip.other {
                    if o.kind != OtherRequirementKind::Path {
                        f.warnings.push(ScanWarning {
                            source: o.source.clone(),
                            message: format!("`{}` in {env}'s pip list is not a PyPI requirement: kept as it is, devgpu pins nothing for it", o.raw),
                        });
                    }
                }
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
    f.devcontainer = crate::config::find_devcontainer(|rel| has(rel) || w.devcontainer_files.iter().any(|p| p == rel)).map(Into::into);
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
                read_evidence(root, path, &mut f.warnings).and_then(|t| cuda_sources::cmake_cuda_line(&t)).map(|l| (CudaSourceKind::CmakeCuda, Some(l)))
            }
            walk::CudaCandidate::SetupPy => read_evidence(root, path, &mut f.warnings)
                .and_then(|t| setup_py::cuda_extension_line(&t))
                .map(|l| (CudaSourceKind::CudaExtension, Some(l))),
        };
        if let Some((kind, line)) = hit {
            f.cuda_sources.push(CudaSource { kind, source: SourceLoc { file: path.clone(), line } });
        }
    }
    f.cuda_sources.extend(cuda_sources::builds_from_source(&f.requirements, &f.other_requirements));

    // Install lines in READMEs and install docs: evidence only (group `readme`).
    for doc in &w.readmes {
        match read_evidence_checked(root, doc) {
            Ok(Some(text)) => merge_install_lines(&mut f, install_lines::parse_document(&text, doc)),
            Ok(None) => {}
            Err(why) => f.warnings.push(ScanWarning { source: SourceLoc { file: doc.clone(), line: None }, message: format!("cannot read {doc}: {why}") }),
        }
    }

    // Imports in .py files and notebook code cells; `!pip install` lines in notebooks (group `notebook`).
    scan_sources(root, &w.sources, &mut f);

    // One set of requirement files for the GPU image.
    set_aside_alternatives(&mut f);

    Ok(f)
}

/// Why a path is not read: it resolves (through a symlink, itself or a folder above it) to a place
/// outside the repository. A repository is untrusted input: `requirements.txt -> /etc/shadow` must not
/// put that file's lines into warnings or a Dockerfile. The message names the file only, never the target.
pub const OUTSIDE_ROOT: &str = "it is a symlink (or lies under one) that leads outside the repository; skipped, not read";

/// The one gate for every read in `project/`: `root.join(rel)` canonicalised, and only when it stays
/// under the canonical root. `Err` is the reason (missing, dangling link, outside the root).
pub(crate) fn inside_root(root: &Path, rel: &str) -> Result<std::path::PathBuf, String> {
    let root_c = root.canonicalize().map_err(|e| io_reason(&e))?;
    let p = root.join(rel).canonicalize().map_err(|e| io_reason(&e))?;
    if p.starts_with(&root_c) {
        Ok(p)
    } else {
        Err(OUTSIDE_ROOT.to_string())
    }
}

/// Read a root-relative text file (BOM dropped, invalid UTF-8 replaced) through [`inside_root`];
/// `Err` is the reason.
fn read_text(root: &Path, rel: &str) -> Result<String, String> {
    let p = inside_root(root, rel)?;
    match std::fs::read(p) {
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

/// Read a file for evidence (CUDA sources, imports, READMEs) through [`inside_root`]; huge files are
/// not evidence. `Err` is the reason, so that a file skipped for leading outside the root can be reported.
fn read_evidence_checked(root: &Path, rel: &str) -> Result<Option<String>, String> {
    let p = inside_root(root, rel)?;
    let meta = std::fs::metadata(&p).map_err(|e| io_reason(&e))?;
    if meta.len() > MAX_EVIDENCE_FILE_BYTES {
        return Ok(None);
    }
    std::fs::read(&p).map(|b| Some(String::from_utf8_lossy(&b).into_owned())).map_err(|e| io_reason(&e))
}

/// [`read_evidence_checked`]: an unreadable file is simply not evidence, but one skipped because it
/// leads outside the repository is reported (the file's name only).
fn read_evidence(root: &Path, rel: &str, warnings: &mut Vec<ScanWarning>) -> Option<String> {
    match read_evidence_checked(root, rel) {
        Ok(t) => t,
        Err(why) => {
            if why == OUTSIDE_ROOT {
                warnings.push(ScanWarning { source: SourceLoc { file: rel.to_string(), line: None }, message: format!("{rel}: {why}") });
            }
            None
        }
    }
}

fn merge_install_lines(f: &mut ProjectFacts, i: install_lines::InstallFacts) {
    f.requirements.extend(i.requirements);
    f.index_urls.extend(i.index_urls);
    f.conda.extend(i.conda);
    f.python.extend(i.python);
    f.warnings.extend(i.warnings);
}

/// Import evidence from the walk's `.py`/`.ipynb` files (already capped in number; each capped in size).
fn scan_sources(root: &Path, sources: &[String], f: &mut ProjectFacts) {
    let record = |f: &mut ProjectFacts, module: String, source: SourceLoc| {
        let n = f.import_counts.entry(module.clone()).or_insert(0);
        *n += 1;
        if *n <= imports::MAX_HITS_PER_MODULE {
            f.imports.push(ImportEvidence { module, source });
        }
    };
    for path in sources {
        let Some(text) = read_evidence(root, path, &mut f.warnings) else { continue };
        if !path.ends_with(".ipynb") {
            for (module, line) in imports::python_imports(&text) {
                record(f, module, SourceLoc { file: path.clone(), line: Some(line) });
            }
            // setup.py's CUDAExtension is read on its own; elsewhere cpp_extension means ops compiled at run time.
            let is_setup = path == "setup.py" || path.ends_with("/setup.py");
            if let (false, Some(line)) = (is_setup, imports::cpp_extension_import_line(&text)) {
                if !f.cuda_sources.iter().any(|c| c.kind == CudaSourceKind::JitExtension) {
                    f.cuda_sources.push(CudaSource { kind: CudaSourceKind::JitExtension, source: SourceLoc { file: path.clone(), line: Some(line) } });
                }
            }
            continue;
        }
        // A notebook that is not notebook JSON is no evidence, and no reason to warn.
        let Ok(cells) = imports::notebook_code_cells(&text) else { continue };
        // Lines are counted through the code cells in order (see imports::notebook_loc).
        let mut offset = 0;
        for (cell, _) in cells {
            for (module, line) in imports::python_imports(&cell) {
                record(f, module, imports::notebook_loc(path, offset + line));
            }
            for (i, l) in cell.lines().enumerate() {
                let t = l.trim_start();
                if t.starts_with('!') || t.starts_with('%') {
                    merge_install_lines(f, install_lines::parse_command_line(t, path, offset + i + 1, "notebook"));
                }
            }
            offset += cell.lines().count();
        }
    }
}

/// Mark alternative requirement files ([`alternatives`]) and move what only they declare to group
/// `set-aside`; their index URLs and find-links are dropped, as pip never sees them.
fn set_aside_alternatives(f: &mut ProjectFacts) {
    let default_group = |p: &str| requirements_txt::group_for_file(p) == "main";
    let files: Vec<(String, bool)> = f.requirement_files.iter().map(|rf| (rf.path.clone(), default_group(&rf.path))).collect();
    let (aside, kept_warnings) = alternatives::choose(&files);
    for (file, message) in kept_warnings {
        f.warnings.push(ScanWarning { source: SourceLoc { file, line: None }, message });
    }
    mark_set_aside(f, aside);
}

/// Set aside the requirement files whose entry in `aside` holds a reason (one entry per
/// `requirement_files` element, `None` = keep the file's current state), and move what only set-aside
/// files declare to group `set-aside`.
fn mark_set_aside(f: &mut ProjectFacts, aside: Vec<Option<String>>) {
    for (rf, why) in f.requirement_files.iter_mut().zip(aside) {
        if why.is_some() {
            rf.set_aside = why;
        }
    }
    let mut kept: Vec<String> = Vec::new();
    let mut aside_files: Vec<String> = Vec::new();
    for rf in &f.requirement_files {
        let own = std::iter::once(rf.path.clone()).chain(rf.includes.iter().cloned());
        if rf.set_aside.is_some() {
            aside_files.extend(own);
        } else {
            kept.extend(own);
        }
    }
    aside_files.retain(|p| !kept.contains(p));
    if aside_files.is_empty() {
        return;
    }
    let only_aside = |file: &str| aside_files.iter().any(|p| p == file);
    for r in f.requirements.iter_mut().chain(f.constraints.iter_mut()) {
        if only_aside(&r.source.file) {
            r.group = "set-aside".into();
        }
    }
    for o in &mut f.other_requirements {
        if only_aside(&o.source.file) {
            o.group = "set-aside".into();
        }
    }
    f.index_urls.retain(|u| !only_aside(&u.source.file));
    f.find_links.retain(|u| !only_aside(&u.source.file));
}

/// One framework backend a multi-backend project can be set up for: its GPU requirement file, the framework
/// the file is named for (`pytorch`, `jax`, `tensorflow`), and the project's facts with every other
/// backend's file (and a default file that is a complete set of its own) set aside.
#[derive(Debug, Clone)]
pub struct BackendAlternative {
    pub file: String,
    pub framework: &'static str,
    pub facts: ProjectFacts,
}

/// Projects such as Keras ship one complete GPU requirement file per framework backend
/// (`requirements-jax-cuda.txt`, `requirements-torch-cuda.txt`, …) beside a CPU default: they exclude each
/// other (each pins its own CUDA build, and the others' CPU wheels), so installing them together fails. With
/// two or more such files, each becomes an alternative; the caller resolves them in order and takes the
/// first that runs on the target. A default file that includes what the backend files include (they share a
/// `-r requirements-common.txt`) is a complete set of its own and is set aside in every alternative.
/// Empty when the project has fewer than two backend files.
pub fn backend_alternatives(f: &ProjectFacts) -> Vec<BackendAlternative> {
    let kept: Vec<usize> = (0..f.requirement_files.len()).filter(|&i| f.requirement_files[i].set_aside.is_none()).collect();
    let backends: Vec<(usize, &'static str)> = kept
        .iter()
        .filter(|&&i| alternatives::names_gpu(&f.requirement_files[i].path))
        .filter_map(|&i| alternatives::names_framework(&f.requirement_files[i].path).map(|fw| (i, fw)))
        .collect();
    if backends.len() < 2 {
        return Vec::new();
    }
    let shared_includes = |i: usize| {
        let rf = &f.requirement_files[i];
        backends.iter().any(|&(b, _)| f.requirement_files[b].includes.iter().any(|inc| rf.includes.contains(inc)))
    };
    backends
        .iter()
        .map(|&(chosen, framework)| {
            let chosen_path = f.requirement_files[chosen].path.clone();
            let aside = f
                .requirement_files
                .iter()
                .enumerate()
                .map(|(i, rf)| {
                    if i == chosen || rf.set_aside.is_some() {
                        None
                    } else if backends.iter().any(|&(b, _)| b == i) {
                        Some(format!("another framework backend's GPU set; the image is set up for {chosen_path}"))
                    } else if kept.contains(&i) && shared_includes(i) {
                        Some(format!("a complete set of its own (it includes what the backend files include); the image is set up for {chosen_path}"))
                    } else {
                        None
                    }
                })
                .collect();
            let mut facts = f.clone();
            mark_set_aside(&mut facts, aside);
            BackendAlternative { file: chosen_path, framework, facts }
        })
        .collect()
}

fn merge_pyproject(f: &mut ProjectFacts, p: pyproject::PyprojectFacts) {
    f.package_name = f.package_name.take().or(p.package_name);
    f.requirements.extend(p.requirements);
    f.other_requirements.extend(p.other);
    f.python.extend(p.python);
    f.index_urls.extend(p.index_urls);
    f.warnings.extend(p.warnings);
}

fn merge_setup(f: &mut ProjectFacts, s: setup_py::SetupFacts) {
    f.package_name = f.package_name.take().or(s.package_name);
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
