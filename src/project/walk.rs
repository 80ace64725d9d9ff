//! The one walk over the repository (walkdir, symlinks not followed). It reads no file: it sorts
//! names into the few lists `scan` needs, deciding by name and depth alone.
//!
//! Pruning, without ever descending into what is pruned:
//! - by name ([`PRUNED_DIRS`], and `*.egg-info`), at any depth below the root, through `filter_entry`;
//! - virtual environments and conda environments under any name (a folder holding `pyvenv.cfg` or
//!   `conda-meta/`), with no extra system call: entries are sorted so that `conda-meta` and
//!   `pyvenv.cfg` come first in their folder; when one shows up, its folder is skipped before any of
//!   its other entries is visited. The sort (by name otherwise) also makes the walk order, and so the
//!   scan's output, the same on every machine.

use super::cuda_sources::MAX_FILE_HITS;
use std::cmp::Ordering;
use std::ffi::OsStr;
use std::path::Path;
use walkdir::{DirEntry, WalkDir};

/// Folder names never descended into (below the root): VCS data, dependency and virtualenv folders,
/// caches, build outputs.
pub const PRUNED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    "site-packages",
    "dist-packages",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".ipynb_checkpoints",
    ".cache",
    ".direnv",
    ".eggs",
    "build",
    "dist",
    "target",
];

/// Whether a folder (below the root) is skipped by its name alone.
pub fn is_pruned_dir_name(name: &OsStr) -> bool {
    let b = name.as_encoded_bytes();
    PRUNED_DIRS.iter().any(|p| p.as_bytes() == b) || b.ends_with(b".egg-info")
}

/// Names that mark an environment folder; sorted first so the folder can be skipped at once.
fn is_env_marker(name: &OsStr) -> bool {
    let b = name.as_encoded_bytes();
    b == b"pyvenv.cfg" || b == b"conda-meta"
}

fn sort_entries(a: &DirEntry, b: &DirEntry) -> Ordering {
    let (an, bn) = (a.file_name(), b.file_name());
    is_env_marker(bn).cmp(&is_env_marker(an)).then_with(|| an.cmp(bn))
}

/// A file that may show CUDA code, to be confirmed (CMake, setup.py) or taken as is (`.cu`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CudaCandidate {
    CuFile,
    CMakeLists,
    SetupPy,
}

/// What the walk found, paths relative to the root with `/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    /// Names of the root's files (and symlinks) that `scan` may read, sorted.
    pub root_files: Vec<String>,
    /// `requirements/*.txt`, sorted.
    pub requirements_dir: Vec<String>,
    /// Files directly in `.devcontainer/`, sorted.
    pub devcontainer_files: Vec<String>,
    /// CUDA evidence candidates in walk order (`.cu` files capped at [`MAX_FILE_HITS`], CMake/setup.py at
    /// [`MAX_READ_CANDIDATES`]); the root's setup.py is not among them (`scan` reads it anyway).
    pub cuda_candidates: Vec<(String, CudaCandidate)>,
    pub has_notebooks: bool,
    /// `.py` files and notebooks for import evidence, in walk order, at most [`MAX_SOURCE_FILES`] in all.
    pub sources: Vec<String>,
    /// Install docs at the root (`README.md`, `README.rst`, `README`, `INSTALL.md`, `DEVELOPERS.md`,
    /// `GETTING_STARTED.md`) and `docs/install*.md`.
    pub readmes: Vec<String>,
    /// Root `*.yml`/`*.yaml` files other than `environment.yml`/`.yaml`: conda files by another name
    /// once their content shows a top-level `dependencies:` list.
    pub root_yaml: Vec<String>,
    /// `requirements*.txt` one or two folders down and `requirements/*.txt` below a first-level folder
    /// (`pkg/requirements.txt`, `a/b/requirements-gpu.txt`, `pkg/requirements/base.txt`), sorted,
    /// outside folders that are not the project itself ([`NOT_THE_PROJECT_DIRS`]).
    pub sub_requirements: Vec<String>,
    /// Folders that could not be read: (relative path, reason).
    pub errors: Vec<(String, String)>,
}

/// At most this many `.py`/`.ipynb` files are read for import evidence (bounded time on huge repositories).
pub const MAX_SOURCE_FILES: usize = 2000;

/// Folders whose requirements files belong to examples, docs or tooling, not to the project being set up.
pub const NOT_THE_PROJECT_DIRS: &[&str] = &[
    "examples", "example", "docs", "doc", "tests", "test", "benchmarks", "benchmark", "scripts", "tools",
    "third_party", "third-party", "vendor", "demo", "demos", "tutorials", "notebooks", ".github", "ci",
];

/// At most this many CMakeLists.txt / nested setup.py files are kept to be read.
pub const MAX_READ_CANDIDATES: usize = 200;

/// Root file names `scan` cares about.
fn is_root_file_of_interest(name: &str) -> bool {
    matches!(
        name,
        "pyproject.toml"
            | "setup.py"
            | "setup.cfg"
            | "Pipfile"
            | "environment.yml"
            | "environment.yaml"
            | ".python-version"
            | "runtime.txt"
            | ".dockerignore"
            | ".devcontainer.json"
    ) || super::requirements_txt::is_root_requirements_name(name)
        || super::dockerfile::is_dockerfile_name(name)
}

fn rel(root: &Path, p: &Path) -> String {
    let r = p.strip_prefix(root).unwrap_or(p);
    r.to_string_lossy().replace('\\', "/")
}

/// Walk `root`. `Err` only when the root itself cannot be listed.
pub fn walk(root: &Path) -> Result<Walk, String> {
    let mut w = Walk::default();
    let mut cu_count = 0usize;
    let mut read_count = 0usize;
    let mut it = WalkDir::new(root)
        .follow_links(false)
        .sort_by(sort_entries)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_type().is_dir() || !is_pruned_dir_name(e.file_name()));
    loop {
        let entry = match it.next() {
            None => break,
            Some(Ok(e)) => e,
            Some(Err(err)) => {
                let path = err.path().map(|p| rel(root, p)).unwrap_or_default();
                if err.depth() == 0 {
                    return Err(err.io_error().map(|e| e.to_string()).unwrap_or_else(|| err.to_string()));
                }
                let reason = err.io_error().map(|e| e.to_string()).unwrap_or_else(|| err.to_string());
                w.errors.push((path, reason));
                continue;
            }
        };
        let depth = entry.depth();
        if depth == 0 {
            continue;
        }
        let name = entry.file_name();
        let ft = entry.file_type();
        if ft.is_dir() {
            if name.as_encoded_bytes() == b"conda-meta" {
                // conda-meta itself, and (below the root) the environment that holds it
                it.skip_current_dir();
                if depth >= 2 {
                    it.skip_current_dir();
                }
            }
            continue;
        }
        if depth >= 2 && name.as_encoded_bytes() == b"pyvenv.cfg" {
            it.skip_current_dir();
            continue;
        }
        let Some(name) = name.to_str() else { continue };
        let parent = entry.path().parent().and_then(Path::file_name).and_then(OsStr::to_str).unwrap_or("");
        if depth == 1 {
            if is_root_file_of_interest(name) {
                w.root_files.push(name.to_string());
            }
            if matches!(name.to_ascii_uppercase().as_str(), "README.MD" | "README.RST" | "README" | "README.TXT" | "INSTALL.MD" | "INSTALL" | "DEVELOPERS.MD" | "GETTING_STARTED.MD") {
                w.readmes.push(name.to_string());
            }
            let lower = name.to_ascii_lowercase();
            if (lower.ends_with(".yml") || lower.ends_with(".yaml")) && !matches!(name, "environment.yml" | "environment.yaml") {
                w.root_yaml.push(name.to_string());
            }
        } else if depth == 2 {
            if parent == "requirements" && name.ends_with(".txt") {
                w.requirements_dir.push(rel(root, entry.path()));
            } else if parent == ".devcontainer" {
                w.devcontainer_files.push(rel(root, entry.path()));
            } else if parent == "docs" && name.to_ascii_lowercase().starts_with("install") && name.ends_with(".md") {
                w.readmes.push(rel(root, entry.path()));
            }
        }
        if (2..=3).contains(&depth) {
            let r = rel(root, entry.path());
            let first = r.split('/').next().unwrap_or("");
            let in_project = !NOT_THE_PROJECT_DIRS.contains(&first.to_ascii_lowercase().as_str())
                && !r.split('/').any(|c| NOT_THE_PROJECT_DIRS.contains(&c));
            let sub_req = (super::requirements_txt::is_root_requirements_name(name) && parent != "requirements")
                || (depth == 3 && parent == "requirements" && name.ends_with(".txt"));
            if in_project && sub_req {
                w.sub_requirements.push(r);
            }
        }
        let bytes = name.as_bytes();
        if (bytes.ends_with(b".py") || bytes.ends_with(b".ipynb")) && w.sources.len() < MAX_SOURCE_FILES {
            w.sources.push(rel(root, entry.path()));
        }
        if bytes.ends_with(b".ipynb") {
            w.has_notebooks = true;
        } else if bytes.ends_with(b".cu") || bytes.ends_with(b".cuh") {
            if cu_count < MAX_FILE_HITS {
                cu_count += 1;
                w.cuda_candidates.push((rel(root, entry.path()), CudaCandidate::CuFile));
            }
        } else if (name == "CMakeLists.txt" || (name == "setup.py" && depth >= 2)) && read_count < MAX_READ_CANDIDATES {
            read_count += 1;
            let kind = if name == "setup.py" { CudaCandidate::SetupPy } else { CudaCandidate::CMakeLists };
            w.cuda_candidates.push((rel(root, entry.path()), kind));
        }
    }
    w.root_files.sort();
    w.readmes.sort();
    w.root_yaml.sort();
    w.sub_requirements.sort();
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, "x\n").unwrap();
    }

    #[test]
    fn prunes_and_classifies() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for f in [
            "requirements.txt",
            "requirements-dev.txt",
            "README.md",
            "Dockerfile",
            "setup.py",
            "requirements/base.txt",
            "requirements/README.md",
            ".devcontainer/devcontainer.json",
            ".devcontainer/Dockerfile",
            "src/pkg/kernels/a.cu",
            "src/pkg/kernels/a.cuh",
            "csrc/CMakeLists.txt",
            "notebooks/demo.ipynb",
            "examples/requirements.txt",
            "examples/ext/setup.py",
            // decoys
            "node_modules/x/requirements.txt",
            "node_modules/x/k.cu",
            ".venv/lib/python3.11/site-packages/p/setup.py",
            "myenv/pyvenv.cfg",
            "myenv/lib/python3.11/site-packages/q/CMakeLists.txt",
            "myenv/aaa/k.cu",
            "tools/conda/conda-meta/history",
            "tools/conda/aaa/k.cu",
            "tools/conda/lib/q.cu",
            "pkg.egg-info/requires.txt",
            "build/lib/k.cu",
            "src/__pycache__/k.cu",
            ".git/hooks/k.cu",
        ] {
            touch(r, f);
        }
        let w = walk(r).unwrap();
        assert_eq!(w.root_files, ["Dockerfile", "requirements-dev.txt", "requirements.txt", "setup.py"]);
        assert_eq!(w.requirements_dir, ["requirements/base.txt"]);
        assert_eq!(w.devcontainer_files, [".devcontainer/Dockerfile", ".devcontainer/devcontainer.json"]);
        assert_eq!(
            w.cuda_candidates,
            vec![
                ("csrc/CMakeLists.txt".to_string(), CudaCandidate::CMakeLists),
                ("examples/ext/setup.py".to_string(), CudaCandidate::SetupPy),
                ("src/pkg/kernels/a.cu".to_string(), CudaCandidate::CuFile),
                ("src/pkg/kernels/a.cuh".to_string(), CudaCandidate::CuFile),
            ]
        );
        assert!(w.has_notebooks);
        assert!(w.errors.is_empty());
        assert_eq!(w.readmes, ["README.md"]);
        // examples/ is not the project; node_modules is pruned
        assert!(w.sub_requirements.is_empty(), "{:?}", w.sub_requirements);
        assert_eq!(w.sources, ["examples/ext/setup.py", "notebooks/demo.ipynb", "setup.py"]);
    }

    #[test]
    fn source_files_are_capped() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..MAX_SOURCE_FILES + 5 {
            touch(d.path(), &format!("m/f{i:05}.py"));
        }
        let w = walk(d.path()).unwrap();
        assert_eq!(w.sources.len(), MAX_SOURCE_FILES);
        assert_eq!(w.sources[0], "m/f00000.py");
    }

    #[test]
    fn evidence_lists() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "README.rst",
            "docs/install.md",
            "docs/api.md",
            "conda.yaml",
            "mkdocs.yml",
            "environment.yml",
            "pkg/requirements.txt",
            "pkg/requirements-gpu.txt",
            "pkg/requirements/base.txt",
            "a/b/requirements.txt",
            "a/b/c/requirements.txt",
            "tests/requirements.txt",
            "src/examples/requirements.txt",
            "src/m.py",
        ] {
            touch(d.path(), f);
        }
        let w = walk(d.path()).unwrap();
        assert_eq!(w.readmes, ["README.rst", "docs/install.md"]);
        assert_eq!(w.root_yaml, ["conda.yaml", "mkdocs.yml"]);
        assert_eq!(
            w.sub_requirements,
            ["a/b/requirements.txt", "pkg/requirements-gpu.txt", "pkg/requirements.txt", "pkg/requirements/base.txt"]
        );
        assert_eq!(w.sources, ["src/m.py"]);
    }

    #[test]
    fn cu_hits_are_capped() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..30 {
            touch(d.path(), &format!("kernels/k{i:02}.cu"));
        }
        let w = walk(d.path()).unwrap();
        assert_eq!(w.cuda_candidates.len(), MAX_FILE_HITS);
        assert_eq!(w.cuda_candidates[0].0, "kernels/k00.cu");
    }

    #[test]
    #[cfg(unix)]
    fn symlinked_dirs_are_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        touch(outside.path(), "k.cu");
        std::os::unix::fs::symlink(outside.path(), d.path().join("linked")).unwrap();
        let w = walk(d.path()).unwrap();
        assert!(w.cuda_candidates.is_empty());
    }

    #[test]
    fn pruned_names() {
        for n in ["node_modules", ".venv", "venv", "site-packages", "foo.egg-info", "build", "dist", "target", ".git"] {
            assert!(is_pruned_dir_name(OsStr::new(n)), "{n}");
        }
        for n in ["src", "env", "requirements", ".devcontainer", "builds"] {
            assert!(!is_pruned_dir_name(OsStr::new(n)), "{n}");
        }
    }
}
