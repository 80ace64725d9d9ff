//! `devgpu::project::scan` over the fixture repositories in `tests/fixtures/projects/<scenario>/`.

use devgpu::error::Coded;
use devgpu::project::{scan, CudaSourceKind, OtherRequirementKind, ProjectError, ProjectFacts, RequirementFile, SourceLoc};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects").join(name)
}

fn scan_ok(name: &str) -> ProjectFacts {
    scan(&fixture(name)).unwrap_or_else(|e| panic!("scan {name}: {e}"))
}

fn at(file: &str, line: usize) -> SourceLoc {
    SourceLoc { file: file.into(), line: Some(line) }
}

/// (name, specifier, group, file:line) of every requirement.
fn reqs(f: &ProjectFacts) -> Vec<(String, String, String, String)> {
    f.requirements.iter().map(|r| (r.name.clone(), r.specifier.clone(), r.group.clone(), r.source.to_string())).collect()
}

fn r(name: &str, spec: &str, group: &str, loc: &str) -> (String, String, String, String) {
    (name.into(), spec.into(), group.into(), loc.into())
}

fn warnings(f: &ProjectFacts) -> Vec<String> {
    f.warnings.iter().map(|w| format!("{}: {}", w.source, w.message)).collect()
}

#[test]
fn requirements_with_includes_constraints_and_a_cuda_index() {
    let f = scan_ok("requirements-includes");
    assert_eq!(f.name, "requirements-includes");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert_eq!(
        f.files_read,
        ["requirements.txt", "requirements/base.txt", "constraints.txt", "requirements-dev.txt", "requirements/docs.txt"]
    );
    assert_eq!(
        f.requirement_files,
        vec![
            RequirementFile {
                path: "requirements.txt".into(),
                includes: vec!["requirements/base.txt".into(), "constraints.txt".into()],
                set_aside: None,
            },
            RequirementFile {
                path: "requirements-dev.txt".into(),
                includes: vec!["requirements.txt".into(), "requirements/base.txt".into(), "constraints.txt".into()],
                set_aside: None,
            },
            // base.txt includes ../requirements.txt, so docs.txt pulls in the main set too
            RequirementFile {
                path: "requirements/docs.txt".into(),
                includes: vec!["requirements/base.txt".into(), "requirements.txt".into(), "constraints.txt".into()],
                set_aside: Some("it is for building the documentation; the GPU image installs the project's other requirement files".into()),
            },
        ]
    );
    assert_eq!(
        reqs(&f),
        vec![
            r("torch", "==2.4.1+cu121", "main", "requirements.txt:6"),
            r("torchvision", "==0.19.1+cu121", "main", "requirements.txt:7"),
            r("transformers", ">=4.44,<5", "main", "requirements.txt:8"),
            r("accelerate", ">=0.33", "main", "requirements.txt:9"),
            r("numpy", ">=1.26,<2", "main", "requirements/base.txt:1"),
            r("pillow", "==10.4.0", "main", "requirements/base.txt:2"),
            r("pytest", "==8.3.2", "dev", "requirements-dev.txt:2"),
            r("ruff", "", "dev", "requirements-dev.txt:3"),
            r("mkdocs-material", "==9.5.34", "set-aside", "requirements/docs.txt:2"),
        ]
    );
    let torch = &f.requirements[0];
    assert_eq!(torch.pinned.as_deref(), Some("2.4.1"));
    assert_eq!(torch.local.as_deref(), Some("cu121"));
    let tf = &f.requirements[2];
    assert_eq!(tf.extras, ["torch"]);
    assert!(tf.marker.is_some());
    assert_eq!(f.constraints.len(), 1);
    assert_eq!((f.constraints[0].name.as_str(), f.constraints[0].pinned.as_deref()), ("numpy", Some("1.26.4")));
    assert_eq!(f.index_urls.len(), 1);
    assert!(f.index_urls[0].extra);
    assert_eq!(f.index_urls[0].cuda_variant.as_deref(), Some("cu121"));
    assert_eq!(f.index_urls[0].source, at("requirements.txt", 2));
    assert!(!f.installable);
    assert!(f.cuda_sources.is_empty());
}

#[test]
fn pep621_pyproject_with_python_version_file() {
    let f = scan_ok("pyproject-pep621");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert!(f.installable);
    assert_eq!(f.files_read, ["pyproject.toml", ".python-version"]);
    assert_eq!(
        reqs(&f),
        vec![
            r("torch", ">=2.3,<2.6", "main", "pyproject.toml:10"),
            r("torchvision", "", "main", "pyproject.toml:11"),
            r("timm", "==1.0.9", "main", "pyproject.toml:12"),
            r("cupy-cuda12x", ">=13", "gpu", "pyproject.toml:16"),
            r("pytest", ">=8", "dev", "pyproject.toml:17"),
        ]
    );
    let py: Vec<_> = f.python.iter().map(|p| (p.specifier.as_str(), p.source.to_string())).collect();
    assert_eq!(py, [(">=3.10,<3.13", "pyproject.toml:8".to_string()), ("==3.11.*", ".python-version:1".to_string())]);
    assert_eq!(f.index_urls[0].cuda_variant.as_deref(), Some("cu124"));
    assert_eq!(f.index_urls[0].source, at("pyproject.toml", 21));
    assert!(f.requirement_files.is_empty());
}

#[test]
fn poetry_project() {
    let f = scan_ok("poetry");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert!(f.installable);
    assert_eq!(
        reqs(&f),
        vec![
            r("torch", "==2.3.1+cu118", "main", "pyproject.toml:9"),
            r("transformers", ">=4.42,<5.0", "main", "pyproject.toml:10"),
            r("peft", ">=0.11,<0.12", "main", "pyproject.toml:11"),
            r("bitsandbytes", ">=0.43", "quant", "pyproject.toml:12"),
            r("pytest", ">=8.0,<9.0", "dev", "pyproject.toml:18"),
        ]
    );
    assert_eq!(f.requirements[0].local.as_deref(), Some("cu118"));
    assert_eq!(f.python.len(), 1);
    assert_eq!((f.python[0].specifier.as_str(), f.python[0].raw.as_str()), (">=3.10,<4.0", "^3.10"));
    assert_eq!(f.python[0].source, at("pyproject.toml", 8));
    assert_eq!(f.index_urls.len(), 1);
    assert_eq!(f.index_urls[0].url, "https://download.pytorch.org/whl/cu118");
    assert_eq!(f.index_urls[0].cuda_variant.as_deref(), Some("cu118"));
}

#[test]
fn conda_environment() {
    let f = scan_ok("conda-env");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert_eq!(f.files_read, ["environment.yml"]);
    assert!(!f.installable);
    let py: Vec<_> = f.python.iter().map(|p| (p.specifier.as_str(), p.raw.as_str(), p.source.to_string())).collect();
    assert_eq!(py, [("==3.10.*", "python=3.10", "environment.yml:7".to_string())]);
    let conda: Vec<_> = f.conda.iter().map(|c| (c.name.as_str(), c.version.as_str(), c.source.to_string())).collect();
    assert_eq!(
        conda,
        [("pytorch-cuda", "12.1", "environment.yml:10".to_string()), ("cudnn", "8.9", "environment.yml:11".to_string())]
    );
    assert_eq!(
        reqs(&f),
        vec![
            r("torch", "==2.1.2", "conda", "environment.yml:8"),
            r("torchvision", "==0.16.*", "conda", "environment.yml:9"),
            // installed with pip under its conda name (the image has no conda)
            r("numpy", ">=1.24", "conda", "environment.yml:12"),
            r("segment-anything", "==1.0", "conda-pip", "environment.yml:15"),
        ]
    );
    assert_eq!(f.requirements[0].pinned.as_deref(), Some("2.1.2"));
    assert_eq!(f.index_urls[0].cuda_variant.as_deref(), Some("cu121"));
    assert_eq!(f.index_urls[0].source, at("environment.yml", 16));
}

#[test]
fn pipfile_project() {
    let f = scan_ok("pipfile");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert_eq!(
        reqs(&f),
        vec![
            r("torch", "==2.0.1+cu118", "main", "Pipfile:12"),
            r("numpy", "", "main", "Pipfile:13"),
            r("scikit-learn", ">=1.3", "main", "Pipfile:14"),
            r("pytest", "", "dev", "Pipfile:17"),
        ]
    );
    assert_eq!(f.python[0].specifier, "==3.9.*");
    assert_eq!(f.python[0].source, at("Pipfile", 20));
    let idx: Vec<_> = f.index_urls.iter().map(|u| (u.extra, u.cuda_variant.as_deref())).collect();
    assert_eq!(idx, [(false, None), (true, Some("cu118"))]);
}

#[test]
fn literal_setup_py() {
    let f = scan_ok("setup-py");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert!(f.installable);
    assert_eq!(
        reqs(&f),
        vec![
            r("torch", ">=1.13", "main", "setup.py:9"),
            r("opencv-python-headless", "", "main", "setup.py:10"),
            r("pycocotools", ">=2.0.6", "main", "setup.py:11"),
            r("onnxruntime-gpu", ">=1.16", "onnx", "setup.py:13"),
        ]
    );
    assert_eq!(f.python[0].specifier, ">=3.8");
    assert_eq!(f.python[0].source, at("setup.py", 7));
    assert!(f.cuda_sources.is_empty());
}

#[test]
fn dynamic_setup_py_reading_requirements_txt_counts_without_a_false_warning() {
    // install_requires=read_requirements() opens requirements.txt, which the scan read: its requirements are
    // known, so "could not read install_requires … list them in requirements.txt" would send the user in a circle.
    let f = scan_ok("setup-py-dynamic");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert_eq!(f.files_read, ["setup.py", "requirements.txt"]);
    assert_eq!(reqs(&f), vec![r("jax", "==0.4.31", "main", "requirements.txt:1"), r("optax", "", "main", "requirements.txt:2")]);
    assert_eq!(f.requirements[0].extras, ["cuda12"]);
}

#[test]
fn setup_cfg_project() {
    let f = scan_ok("setup-cfg");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert!(f.installable);
    assert_eq!(f.files_read, ["setup.cfg", "setup.py"]);
    assert_eq!(
        reqs(&f),
        vec![r("tensorflow", "==2.17.0", "main", "setup.cfg:9"), r("pandas", ">=2.0", "main", "setup.cfg:10")]
    );
    assert_eq!(f.requirements[0].extras, ["and-cuda"]);
    assert_eq!(f.python[0].specifier, ">=3.9");
    assert_eq!(f.python[0].source, at("setup.cfg", 7));
}

#[test]
fn cuda_extension_sources() {
    let f = scan_ok("cuda-extension");
    assert_eq!(warnings(&f), Vec::<String>::new());
    let cuda: Vec<_> = f.cuda_sources.iter().map(|c| (c.kind, c.source.to_string())).collect();
    assert_eq!(
        cuda,
        [
            (CudaSourceKind::CudaExtension, "setup.py:2".to_string()),
            (CudaSourceKind::CmakeCuda, "csrc/CMakeLists.txt:3".to_string()),
            (CudaSourceKind::CuFile, "csrc/fused_kernel.cu".to_string()),
            (CudaSourceKind::BuildsFromSource, "requirements.txt:2".to_string()),
        ]
    );
    assert!(f.installable);
}

#[test]
fn dockerfile_seed_and_devcontainer() {
    let f = scan_ok("dockerfile-seed");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert_eq!(f.dockerfiles.len(), 2);
    let root = &f.dockerfiles[0];
    assert_eq!(root.path, "Dockerfile");
    assert_eq!(root.from.len(), 1);
    assert_eq!((root.from[0].image.as_str(), root.from[0].line), ("nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04", 1));
    assert!(!root.generated_by_devgpu);
    let dc = &f.dockerfiles[1];
    assert_eq!(dc.path, ".devcontainer/Dockerfile");
    assert!(dc.generated_by_devgpu);
    let images: Vec<_> = dc.from.iter().map(|i| (i.image.as_str(), i.line)).collect();
    assert_eq!(images, [("nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04", 4)]);
    assert_eq!(f.devcontainer.as_deref(), Some(".devcontainer/devcontainer.json"));
    assert!(f.has_dockerignore);
    assert_eq!(reqs(&f)[0], r("torch", "==1.7.1", "main", "requirements.txt:1"));
    // Dockerfiles are not dependency files
    assert_eq!(f.files_read, ["requirements.txt"]);
}

#[test]
fn binder_repository() {
    let f = scan_ok("binder");
    assert!(f.has_notebooks);
    assert_eq!(f.python.len(), 1);
    assert_eq!((f.python[0].specifier.as_str(), f.python[0].raw.as_str()), ("==3.10.*", "python-3.10"));
    assert_eq!(f.python[0].source, at("runtime.txt", 1));
    assert_eq!(f.requirements.len(), 3);
    assert!(!f.has_dockerignore);
    assert_eq!(f.devcontainer, None);
}

#[test]
fn decoys_never_count() {
    let f = scan_ok("decoys");
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert_eq!(f.files_read, ["requirements.txt"]);
    assert_eq!(reqs(&f), vec![r("numpy", "==1.26.4", "main", "requirements.txt:1")]);
    assert!(f.python.is_empty(), "{:?}", f.python);
    assert!(f.cuda_sources.is_empty(), "{:?}", f.cuda_sources);
    assert!(f.conda.is_empty());
    assert!(!f.installable);
    assert!(!f.has_notebooks);
}

#[test]
fn decoys_removed_give_the_same_facts() {
    let with = scan_ok("decoys");
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("decoys");
    std::fs::create_dir_all(copy.join("src/app")).unwrap();
    std::fs::copy(fixture("decoys").join("requirements.txt"), copy.join("requirements.txt")).unwrap();
    std::fs::copy(fixture("decoys").join("src/app/main.py"), copy.join("src/app/main.py")).unwrap();
    let without = scan(&copy).unwrap();
    let strip = |mut f: ProjectFacts| {
        f.root = PathBuf::new();
        f
    };
    assert_eq!(strip(with), strip(without));
}

#[test]
fn bad_requirement_lines_are_warnings_with_file_and_line() {
    let f = scan_ok("bad-requirement-line");
    assert_eq!(reqs(&f), vec![r("numpy", "==1.26.4", "main", "requirements.txt:1"), r("scipy", ">=1.11", "main", "requirements.txt:6")]);
    let w = warnings(&f);
    assert_eq!(w.len(), 3, "{w:#?}");
    assert!(w[0].starts_with("requirements.txt:3: could not parse requirement `torch=2.1.0`"), "{}", w[0]);
    assert!(w[1].starts_with("requirements.txt:5: skipped `--frobnicate`"), "{}", w[1]);
    assert!(w[2].starts_with("requirements.txt:4: cannot read included file missing-requirements.txt"), "{}", w[2]);
    assert_eq!(f.requirement_files, vec![RequirementFile { path: "requirements.txt".into(), includes: vec![], set_aside: None }]);
}

#[test]
fn invalid_toml_is_fatal_with_file_line_column() {
    let e = scan(&fixture("bad-toml")).unwrap_err();
    assert_eq!(e.code(), "toml-syntax");
    assert!(e.is_user_error());
    match &e {
        ProjectError::TomlSyntax { file, line, column, .. } => {
            assert_eq!((file.as_str(), *line, *column), ("pyproject.toml", 7, 1));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().starts_with("pyproject.toml:7:1: invalid TOML: "), "{e}");
    assert!(e.hints().iter().any(|h| h.contains("pyproject.toml:7:1")));
}

#[test]
fn invalid_yaml_is_fatal_with_file_line_column() {
    let e = scan(&fixture("bad-yaml")).unwrap_err();
    assert_eq!(e.code(), "yaml-syntax");
    match &e {
        ProjectError::YamlSyntax { file, line, column, .. } => {
            assert_eq!((file.as_str(), *line, *column), ("environment.yml", 5, 2));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().starts_with("environment.yml:5:2: invalid YAML: "), "{e}");
}

#[test]
fn missing_root_and_file_root() {
    let e = scan(&fixture("does-not-exist")).unwrap_err();
    assert_eq!(e.code(), "project-not-found");
    assert!(matches!(e, ProjectError::NotFound { .. }));
    let e = scan(&fixture("binder").join("requirements.txt")).unwrap_err();
    assert_eq!(e.code(), "project-not-a-directory");
    assert!(!e.hints().is_empty());
}

#[test]
fn other_requirements_and_wheels() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "-e .\n-e git+https://github.com/NVIDIA/apex.git#egg=apex\nhttps://download.pytorch.org/whl/cu118/torch-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl\n-f https://data.pyg.org/whl/torch-2.0.0+cu118.html\ntorch-scatter\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("pyproject.toml"), "[build-system]\nrequires = [\"setuptools\"]\n").unwrap();
    let f = scan(tmp.path()).unwrap();
    assert!(f.installable);
    let other: Vec<_> = f.other_requirements.iter().map(|o| (o.kind, o.editable, o.name.as_deref())).collect();
    assert_eq!(
        other,
        [
            (OtherRequirementKind::Path, true, None),
            (OtherRequirementKind::Vcs, true, Some("apex")),
            (OtherRequirementKind::Url, false, Some("torch")),
        ]
    );
    let torch = f.requirements.iter().find(|r| r.name == "torch").unwrap();
    assert_eq!((torch.pinned.as_deref(), torch.local.as_deref()), (Some("2.0.0"), Some("cu118")));
    assert_eq!(f.find_links[0].cuda_variant.as_deref(), Some("cu118"));
    // apex from git compiles CUDA at install time
    let cuda: Vec<_> = f.cuda_sources.iter().map(|c| (c.kind, c.source.to_string())).collect();
    assert_eq!(cuda, [(CudaSourceKind::BuildsFromSource, "requirements.txt:2".to_string())]);
}

#[test]
fn facts_serialize_to_camel_case_json() {
    let f = scan_ok("requirements-includes");
    let v = serde_json::to_value(&f).unwrap();
    assert!(v.get("requirementFiles").is_some());
    assert!(v.get("filesRead").is_some());
    assert_eq!(v["indexUrls"][0]["cudaVariant"], "cu121");
    assert_eq!(v["requirements"][0]["source"]["file"], "requirements.txt");
    assert!(v.get("root").is_none());
}

#[test]
fn conda_pip_includes_are_followed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &str| std::fs::write(tmp.path().join(name), text).unwrap();
    w("requirements.txt", "numpy\n");
    w("environment.yml", "dependencies:\n  - python=3.11\n  - pip:\n    - -r extra/gpu.txt\n    - -r requirements.txt\n");
    std::fs::create_dir(tmp.path().join("extra")).unwrap();
    w("extra/gpu.txt", "-r ../requirements.txt\ncupy-cuda12x==13.3.0\n");
    let f = scan(tmp.path()).unwrap();
    assert_eq!(warnings(&f), Vec::<String>::new());
    assert_eq!(f.files_read, ["requirements.txt", "environment.yml", "extra/gpu.txt"]);
    let names: Vec<_> = f.requirements.iter().map(|r| (r.name.as_str(), r.group.as_str())).collect();
    assert_eq!(names, [("numpy", "main"), ("cupy-cuda12x", "gpu")]);
    assert_eq!(f.python[0].specifier, "==3.11.*");
}

// ---- issue 11: framework evidence beyond the root's dependency files, alternatives, symlinks ----

/// A temporary repository with the given files (`(path, text)`).
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = d.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

#[test]
fn imports_in_sources_and_notebooks_are_evidence() {
    let nb = r##"{"cells":[{"cell_type":"markdown","source":["import tensorflow\n"]},{"cell_type":"code","source":["%pip install -q jax==0.4.30\n","import jax\n","from flax import linen\n"]}],"nbformat":4}"##;
    let mut files: Vec<(String, String)> = vec![
        ("train.py".into(), "import os\nimport torch.nn as nn\nfrom flash_attn import flash_attn_func\n".into()),
        ("pkg/model.py".into(), "  # import tensorflow\n    from torch.utils.data import DataLoader\n".into()),
        ("notebooks/demo.ipynb".into(), nb.into()),
        ("node_modules/x/bad.py".into(), "import tensorflow\n".into()),
    ];
    for i in 0..7 {
        files.push((format!("scripts/s{i}.py"), "import torch\n".into()));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let d = repo(&refs);
    let f = scan(d.path()).unwrap();
    let hits: Vec<(String, String)> = f.imports.iter().map(|i| (i.module.clone(), i.source.to_string())).collect();
    assert_eq!(
        hits,
        vec![
            ("jax".to_string(), "notebooks/demo.ipynb:2".to_string()),
            ("flax".into(), "notebooks/demo.ipynb:3".into()),
            ("torch".into(), "pkg/model.py:2".into()),
            ("torch".into(), "scripts/s0.py:1".into()),
            ("torch".into(), "scripts/s1.py:1".into()),
            ("torch".into(), "scripts/s2.py:1".into()),
            ("torch".into(), "scripts/s3.py:1".into()),
            ("flash_attn".into(), "train.py:3".into()),
        ]
    );
    assert_eq!(f.import_counts.get("torch"), Some(&9));
    assert_eq!(f.import_counts.get("tensorflow"), None);
    let big = format!("import tensorflow\n{}", "x = 1\n".repeat(200_000));
    let f2 = scan(repo(&[("big.py", big.as_str())]).path()).unwrap();
    assert!(f2.imports.is_empty(), "files over 1 MiB are not read");
    // notebook install lines are requirements of group `notebook`, which the planner does not install
    assert_eq!(reqs(&f), vec![r("jax", "==0.4.30", "notebook", "notebooks/demo.ipynb:1")]);
}

#[test]
fn readme_install_lines_are_evidence_only() {
    let readme = "# Seed\n\n```bash\nconda create -n seed python=3.8\npip install -r requirements.txt\npip install torch==1.12.1+cu113 torchvision==0.13.1+cu113 --extra-index-url https://download.pytorch.org/whl/cu113\nconda install pytorch==1.11.0 cudatoolkit=11.3 -c pytorch\n```\n";
    let d = repo(&[("README.md", readme), ("requirements.txt", "numpy\n"), ("docs/install.md", "$ pip install einops\n")]);
    let f = scan(d.path()).unwrap();
    assert_eq!(
        reqs(&f),
        vec![
            r("numpy", "", "main", "requirements.txt:1"),
            r("torch", "==1.12.1+cu113", "readme", "README.md:6"),
            r("torchvision", "==0.13.1+cu113", "readme", "README.md:6"),
            // the conda line's framework, under its pip name, as environment.yml's are
            r("torch", "==1.11.0", "readme", "README.md:7"),
            r("einops", "", "readme", "docs/install.md:1"),
        ]
    );
    assert_eq!(f.index_urls.len(), 1);
    assert_eq!(f.index_urls[0].source, at("README.md", 6));
    assert_eq!(f.index_urls[0].cuda_variant.as_deref(), Some("cu113"));
    let conda: Vec<(&str, &str)> = f.conda.iter().map(|c| (c.name.as_str(), c.version.as_str())).collect();
    assert_eq!(conda, vec![("pytorch", "1.11.0"), ("cudatoolkit", "11.3")]);
    assert_eq!(f.python.len(), 1);
    assert_eq!((f.python[0].specifier.as_str(), f.python[0].source.to_string()), ("==3.8.*", "README.md:4".to_string()));
    assert_eq!(f.files_read, ["requirements.txt"], "a README is evidence, not a dependency file");
}

#[test]
fn setup_py_that_opens_a_requirements_file_reads_it() {
    let setup = "from setuptools import setup\n\ndef fetch_requirements(path):\n    with open(path) as f:\n        return f.read().splitlines()\n\nsetup(name='x', long_description=open('README.txt').read(),\n      install_requires=fetch_requirements('requirements/runtime.txt'))\n";
    let d = repo(&[("setup.py", setup), ("README.txt", "pip install me\n"), ("reqs/runtime.txt", "x\n"), ("requirements/runtime.txt", "torch>=1.8\n")]);
    let f = scan(d.path()).unwrap();
    // requirements/ is read anyway; a literal naming another file is read once it exists
    assert!(reqs(&f).contains(&r("torch", ">=1.8", "main", "requirements/runtime.txt:1")), "{:?}", reqs(&f));
    let d = repo(&[("setup.py", "setup(install_requires=open(\"deps.txt\").read().splitlines())\n"), ("deps.txt", "torch==2.0.0\n")]);
    let f = scan(d.path()).unwrap();
    assert_eq!(reqs(&f), vec![r("torch", "==2.0.0", "main", "deps.txt:1")]);
    assert!(f.files_read.contains(&"deps.txt".to_string()));
    assert!(f.requirement_files.is_empty(), "pip installs deps.txt through setup.py");
    assert!(!f.files_read.iter().any(|p| p.starts_with("README")));
}

#[test]
fn requirements_one_folder_down_are_the_projects_when_the_root_has_none() {
    let d = repo(&[
        ("pkg/requirements.txt", "torch==2.1.0\n"),
        ("examples/demo/requirements.txt", "gradio\n"),
        ("docs/requirements.txt", "sphinx\n"),
        ("a/b/requirements.txt", "deep\n"),
    ]);
    let f = scan(d.path()).unwrap();
    assert_eq!(reqs(&f), vec![r("torch", "==2.1.0", "main", "pkg/requirements.txt:1")]);
    assert_eq!(f.requirement_files, vec![RequirementFile { path: "pkg/requirements.txt".into(), includes: vec![], set_aside: None }]);
    // with a root requirements file, nothing below it is read unless that file says so
    let d = repo(&[("requirements.txt", "numpy\n"), ("pkg/requirements.txt", "torch\n")]);
    let f = scan(d.path()).unwrap();
    assert_eq!(reqs(&f), vec![r("numpy", "", "main", "requirements.txt:1")]);
    // two folders down only when one folder down has none
    let d = repo(&[("src/pkg/requirements.txt", "jax\n"), ("README.md", "hi\n")]);
    let f = scan(d.path()).unwrap();
    assert_eq!(reqs(&f), vec![r("jax", "", "main", "src/pkg/requirements.txt:1")]);
}

#[test]
fn conda_files_by_other_names() {
    let env = "name: x\nchannels:\n  - pytorch\ndependencies:\n  - python=3.8\n  - pytorch=1.11\n  - cudatoolkit=11.3\n  - pip\n  - pip:\n    - -e git+https://github.com/a/b.git#egg=b\n    - numpy==1.19.2\n";
    let d = repo(&[("conda.yaml", env), ("mkdocs.yml", "site_name: x\n"), (".pre-commit-config.yaml", "repos: [\n")]);
    let f = scan(d.path()).unwrap();
    assert_eq!(f.files_read, ["conda.yaml"]);
    assert_eq!(f.python[0].specifier, "==3.8.*");
    assert!(f.conda.iter().any(|c| c.name == "cudatoolkit" && c.version == "11.3"));
    assert!(reqs(&f).contains(&r("numpy", "==1.19.2", "conda-pip", "conda.yaml:11")));
    assert_eq!(f.other_requirements.len(), 1);
    assert_eq!(f.other_requirements[0].kind, OtherRequirementKind::Vcs);
    assert!(warnings(&f).iter().any(|w| w.contains("git+https://github.com/a/b.git") && w.contains("not a PyPI requirement")), "{:?}", warnings(&f));
    // any root YAML with a top-level dependencies list; alternatives for other platforms set aside
    let d = repo(&[
        ("env-gpu.yml", "dependencies:\n  - pytorch-cuda=12.1\n"),
        ("environment-cpu.yml", "dependencies:\n  - cpuonly\n  - python=3.11\n"),
    ]);
    let f = scan(d.path()).unwrap();
    assert_eq!(f.files_read, ["env-gpu.yml"]);
    assert!(f.python.is_empty(), "the CPU file's python pin is set aside");
    assert!(warnings(&f).iter().any(|w| w.starts_with("environment-cpu.yml") && w.contains("set aside")), "{:?}", warnings(&f));
    // invalid YAML in a file not named environment.yml is a warning, not a failure
    let f = scan(repo(&[("broken.yml", "dependencies: [\n")]).path()).unwrap();
    assert!(warnings(&f).iter().any(|w| w.starts_with("broken.yml") && w.contains("skipped")), "{:?}", warnings(&f));
    // environment.yml beside a GPU one: one environment is created, the GPU one
    let d = repo(&[
        ("environment.yml", "dependencies:\n  - python=3.9\n"),
        ("environment_gpu.yml", "dependencies:\n  - python=3.10\n  - cudatoolkit=11.8\n"),
        ("conda.yml", "dependencies:\n  - python=3.8\n"),
    ]);
    let f = scan(d.path()).unwrap();
    assert_eq!(f.files_read, ["environment_gpu.yml"]);
    assert_eq!(f.python.len(), 1);
    assert_eq!(f.python[0].specifier, "==3.10.*");
    assert!(warnings(&f).iter().any(|w| w.starts_with("environment.yml") && w.contains("from environment_gpu.yml")), "{:?}", warnings(&f));
}

#[test]
fn alternative_requirement_files_are_set_aside() {
    let d = repo(&[
        ("requirements-cpu.txt", "-r requirements-common.txt\n--index-url https://download.pytorch.org/whl/cpu\ntorch==2.4.0\njax[cpu]\n"),
        ("requirements-cuda.txt", "-r requirements-common.txt\ntorch==2.4.0\n"),
        ("requirements-common.txt", "numpy\n"),
        ("requirements-docs.txt", "sphinx\n"),
    ]);
    let f = scan(d.path()).unwrap();
    let aside: Vec<(&str, bool)> = f.requirement_files.iter().map(|rf| (rf.path.as_str(), rf.set_aside.is_some())).collect();
    assert_eq!(aside, vec![("requirements-common.txt", false), ("requirements-cpu.txt", true), ("requirements-cuda.txt", false), ("requirements-docs.txt", true)]);
    let groups: Vec<(String, String)> = f.requirements.iter().map(|r| (r.source.to_string(), r.group.clone())).collect();
    assert!(groups.contains(&("requirements-cpu.txt:3".into(), "set-aside".into())));
    assert!(groups.contains(&("requirements-cpu.txt:4".into(), "set-aside".into())));
    assert!(groups.contains(&("requirements-docs.txt:1".into(), "set-aside".into())));
    // shared by a kept file: not set aside
    assert!(groups.contains(&("requirements-common.txt:1".into(), "common".into())) || groups.contains(&("requirements-common.txt:1".into(), "main".into())), "{groups:?}");
    assert!(groups.contains(&("requirements-cuda.txt:2".into(), "cuda".into())), "{groups:?}");
    assert!(f.index_urls.is_empty(), "the CPU file's index is not the image's: {:?}", f.index_urls);
}

#[test]
#[cfg(unix)]
fn nothing_outside_the_repository_is_read_through_a_symlink() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "root:$6$SECRET-HASH-LINE:19000:0:99999:7:::\ntorch==9.9.9-secret\n").unwrap();
    std::fs::write(outside.path().join("leak.py"), "import tensorflow  # SECRET-PY\n").unwrap();
    std::fs::write(outside.path().join("README.md"), "```\npip install secret-readme-pkg\n```\n").unwrap();
    std::fs::create_dir(outside.path().join("dir")).unwrap();
    std::fs::write(outside.path().join("dir/requirements.txt"), "secret-include-pkg\n").unwrap();
    let d = repo(&[("train.py", "import torch\n"), ("inside.txt", "numpy\n")]);
    let r = d.path();
    symlink(&secret, r.join("requirements.txt")).unwrap();
    symlink(&secret, r.join("requirements-dev.txt")).unwrap();
    symlink("/etc/shadow", r.join("requirements-shadow.txt")).unwrap();
    symlink(outside.path().join("leak.py"), r.join("leak.py")).unwrap();
    symlink(outside.path().join("README.md"), r.join("README.md")).unwrap();
    symlink(outside.path().join("dir"), r.join("linked")).unwrap();
    symlink(&secret, r.join("conda.yaml")).unwrap();
    std::fs::write(r.join("requirements-extra.txt"), "-r linked/requirements.txt\n").unwrap();
    // a link that stays inside the repository is fine
    symlink(r.join("inside.txt"), r.join("requirements-gpu.txt")).unwrap();

    let f = scan(r).unwrap();
    let names: Vec<&str> = f.requirements.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["numpy"], "{:?}", reqs(&f));
    assert_eq!(f.imports.len(), 1);
    let w = warnings(&f);
    for file in ["requirements.txt", "requirements-dev.txt", "requirements-shadow.txt", "leak.py", "README.md", "conda.yaml"] {
        assert!(w.iter().any(|m| m.starts_with(file) && m.contains("leads outside the repository")), "{file}: {w:?}");
    }
    assert!(w.iter().any(|m| m.contains("linked/requirements.txt") && m.contains("leads outside the repository")), "{w:?}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_devgpu"))
        .env("DEVGPU_OFFLINE", "1")
        .env("XDG_CACHE_HOME", "/nonexistent/devgpu-test-cache")
        .args(["init", "--dry-run", "--json", "--driver", "535.230.02", "--compute-cap", "8.6"])
        .arg(r)
        .output()
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for needle in ["SECRET", "secret-readme-pkg", "secret-include-pkg", "9.9.9", "root:"] {
        assert!(!all.contains(needle), "`{needle}` leaked into init's output:\n{all}");
    }
    assert!(all.contains("requirements.txt") && all.contains("leads outside the repository"), "{all}");
}

/// A multi-backend project (Keras's layout): one complete GPU file per framework backend beside a CPU default
/// that shares their `-r requirements-common.txt`. Each backend becomes an alternative in which the other
/// backends' files and the default are set aside, and what only they declare leaves the pins.
#[test]
fn one_gpu_file_per_framework_backend_gives_one_alternative_each() {
    let tmp = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| std::fs::write(tmp.path().join(rel), text).unwrap();
    w("requirements-common.txt", "numpy\n");
    w("requirements.txt", "tensorflow-cpu\n--extra-index-url https://download.pytorch.org/whl/cpu\ntorch\njax[cpu]\n-r requirements-common.txt\n");
    w("requirements-jax-cuda.txt", "tensorflow-cpu\njax[cuda12]\n-r requirements-common.txt\n");
    w("requirements-torch-cuda.txt", "--extra-index-url https://download.pytorch.org/whl/cu126\ntorch\n-r requirements-common.txt\n");
    let f = scan(tmp.path()).unwrap();
    let alts = devgpu::project::backend_alternatives(&f);
    let names: Vec<(&str, &str)> = alts.iter().map(|a| (a.file.as_str(), a.framework)).collect();
    assert_eq!(names, [("requirements-jax-cuda.txt", "jax"), ("requirements-torch-cuda.txt", "pytorch")]);

    let jax = &alts[0].facts;
    let kept: Vec<&str> = jax.requirement_files.iter().filter(|rf| rf.set_aside.is_none()).map(|rf| rf.path.as_str()).collect();
    assert_eq!(kept, ["requirements-common.txt", "requirements-jax-cuda.txt"].iter().copied().filter(|p| jax.requirement_files.iter().any(|rf| rf.path == *p)).collect::<Vec<_>>());
    assert!(jax.requirements.iter().filter(|r| r.name == "torch").all(|r| r.group == "set-aside"), "{:?}", reqs(jax));
    assert!(jax.index_urls.is_empty(), "the torch files' index URLs are not the jax image's: {:?}", jax.index_urls);
    assert!(jax.requirements.iter().any(|r| r.name == "numpy" && r.group != "set-aside"), "the shared include stays");

    let torch = &alts[1].facts;
    assert!(torch.requirements.iter().filter(|r| r.name == "jax").all(|r| r.group == "set-aside"));
    assert_eq!(torch.index_urls.iter().map(|u| u.url.as_str()).collect::<Vec<_>>(), ["https://download.pytorch.org/whl/cu126"]);

    // One backend file alone is no alternative: nothing changes.
    std::fs::remove_file(tmp.path().join("requirements-jax-cuda.txt")).unwrap();
    assert!(devgpu::project::backend_alternatives(&scan(tmp.path()).unwrap()).is_empty());
}
