//! Snapshot tests of the rendered files. Snapshots live in tests/snapshots/; after an intended change, rerun with
//! UPDATE_SNAPSHOTS=1 and review the diff in git.

use super::*;
use crate::compat::{resolve, StackRequest, TargetHost, TargetOrigin};
use crate::project::{ProjectFacts, Requirement, SourceLoc};

fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing snapshot {}; run with UPDATE_SNAPSHOTS=1", path.display()));
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual).unified_diff().header("snapshot", "actual").to_string();
        panic!("snapshot {name} differs (UPDATE_SNAPSHOTS=1 to accept):\n{diff}");
    }
}

fn req(name: &str, raw: &str, group: &str, file: &str) -> Requirement {
    Requirement {
        name: name.into(),
        raw: raw.into(),
        specifier: raw.trim_start_matches(name).into(),
        pinned: None,
        local: None,
        extras: vec![],
        marker: None,
        group: group.into(),
        source: SourceLoc { file: file.into(), line: Some(1) },
    }
}

fn stack_for(p: &ProjectFacts, driver: &str, cc: &str) -> crate::compat::Stack {
    let host = TargetHost { driver: Some(driver.parse().unwrap()), compute_cap: Some(cc.parse().unwrap()), gpu_name: None, origin: TargetOrigin::Flags };
    resolve(p, &host, &StackRequest::default()).unwrap()
}

#[test]
fn pytorch_dockerfile() {
    let p = ProjectFacts { name: "vision".into(), requirements: vec![req("torch", "torch", "main", "requirements.txt")], ..Default::default() };
    let m = DockerfileModel {
        installer: Installer::Uv,
        name: "vision".into(),
        stack: stack_for(&p, "550.54.15", "8.6"),
        user: "dev".into(),
        requirement_files: vec!["requirements.txt".into(), "requirements/base.txt".into()],
        install_files: vec!["requirements.txt".into()],
        inline_requirements: vec![],
        cuda_build: None,
    };
    let text = dockerfile(&m);
    assert!(is_unedited_devgpu_file(&text));
    snapshot("Dockerfile.pytorch", &text);
}

#[test]
fn cuda_extension_dockerfile() {
    let mut p = ProjectFacts { name: "kernels".into(), requirements: vec![req("torch", "torch", "main", "requirements.txt")], ..Default::default() };
    p.cuda_sources.push(crate::project::CudaSource { kind: crate::project::CudaSourceKind::CudaExtension, source: SourceLoc { file: "setup.py".into(), line: Some(3) } });
    let m = DockerfileModel {
        installer: Installer::Uv,
        name: "kernels".into(),
        stack: stack_for(&p, "550.54.15", "8.6"),
        user: "dev".into(),
        requirement_files: vec!["requirements.txt".into(), "requirements/base.txt".into()],
        install_files: vec!["requirements.txt".into()],
        inline_requirements: vec![],
        cuda_build: Some(CudaBuild {
            arch_list: "8.6".into(),
            arch_comment: "8.6, the target GPU's compute capability".into(),
            max_jobs: 4,
            strip_lines: vec![StripLines { file: "requirements.txt".into(), lines: vec![2, 5] }, StripLines { file: "requirements/base.txt".into(), lines: vec![1] }],
            from_source: vec!["flash-attn>=2.5".into(), "git+https://github.com/NVIDIA/apex".into()],
        }),
    };
    let text = dockerfile(&m);
    assert!(is_unedited_devgpu_file(&text));
    // ninja and the env come before the dependency layer; the from-source packages after it, without isolation.
    let ninja = text.find("RUN uv pip install ninja").unwrap();
    let deps = text.find("RUN uv pip install -r /tmp/devgpu-deps/requirements.txt").unwrap();
    let strip = text.find("RUN sed -i -e '2d' -e '5d' /tmp/devgpu-deps/requirements.txt \\\n && sed -i -e '1d' /tmp/devgpu-deps/requirements/base.txt\n").expect("strip step");
    let built = text.find("RUN uv pip install --no-build-isolation \"flash-attn>=2.5\" \"git+https://github.com/NVIDIA/apex\" ${PIP_INDEX_URL:+").expect("from-source step");
    assert!(ninja < strip && strip < deps && deps < built, "{text}");
    snapshot("Dockerfile.cuda-extension", &text);

    // `--installer pip`: the same steps with pip, which reads the PIP_* build args itself.
    let pip = dockerfile(&DockerfileModel { installer: Installer::Pip, ..m });
    assert!(!pip.contains("RUN uv") && !pip.contains("uv=="), "{pip}");
    assert!(pip.contains("-m pip install --upgrade pip"));
    assert!(pip.contains("RUN pip install --no-build-isolation \"flash-attn>=2.5\" \"git+https://github.com/NVIDIA/apex\"\n"), "{pip}");
}

/// The uv Dockerfile: one pinned bootstrap (the image's pip into a scratch folder, never ensurepip), every install
/// through uv with pip's build args passed on, the framework's own index never overridden by PIP_INDEX_URL (as with
/// pip, whose --index-url outranks it), and the venv made and filled as the user, in the framework's step.
#[test]
fn uv_installs_with_the_pip_build_args_and_keeps_the_constraints() {
    let p = ProjectFacts { name: "t".into(), requirements: vec![req("torch", "torch", "main", "requirements.txt")], ..Default::default() };
    let text = dockerfile(&DockerfileModel {
        installer: Installer::Uv,
        name: "t".into(),
        stack: stack_for(&p, "550.54.15", "8.6"),
        user: "dev".into(),
        requirement_files: vec!["requirements.txt".into()],
        install_files: vec!["requirements.txt".into()],
        inline_requirements: vec![],
        cuda_build: None,
    });
    assert_eq!(text.matches("-m pip install").count(), 1, "pip only bootstraps uv: {text}");
    assert!(text.contains(&format!("RUN python3 -m pip install --target /tmp/uv-bootstrap \"uv=={}\"", crate::render::UV_VERSION)), "{text}");
    assert!(!text.contains("-m venv \"$VIRTUAL_ENV\"") && text.contains("uv venv --quiet --python python3 \"$VIRTUAL_ENV\""), "{text}");
    // Everything after the user exists runs as the user: no chown pass over the venv.
    assert!(!text.contains("chown -R") && text.contains("install -d -o \"$USER_UID\" -g \"$USER_GID\" /opt/venv"), "{text}");
    let user_at = text.find("USER $USERNAME").unwrap();
    assert!(user_at < text.find("uv-bootstrap").unwrap());
    let fw = text.lines().find(|l| l.starts_with(" && uv pip install --index-url https://download.pytorch.org/whl/")).expect("framework step");
    assert!(!fw.contains("PIP_INDEX_URL") && fw.contains("${PIP_NO_INDEX:+--no-index}") && fw.contains("${PIP_FIND_LINKS:+--find-links \"$PIP_FIND_LINKS\"}"), "{fw}");
    assert!(text.contains("&& uv pip freeze | grep"));
    assert!(text.contains("PIP_CONSTRAINT=/opt/venv/devgpu-framework-constraints.txt") && text.contains("UV_CONSTRAINT=/opt/venv/devgpu-framework-constraints.txt"));
    let deps = text.lines().find(|l| l.starts_with("RUN uv pip install -r /tmp/devgpu-deps/requirements.txt")).expect("deps step");
    assert!(deps.contains("-c \"$VIRTUAL_ENV/devgpu-framework-constraints.txt\" ${PIP_INDEX_URL:+--index-url \"$PIP_INDEX_URL\"}"), "{deps}");
}

#[test]
fn deadsnakes_dockerfile_with_inline_requirements() {
    let mut p = ProjectFacts { name: "pkg".into(), ..Default::default() };
    p.python.push(crate::project::PythonPin { specifier: "==3.11.*".into(), raw: "3.11".into(), source: SourceLoc { file: ".python-version".into(), line: Some(1) } });
    let m = DockerfileModel {
        installer: Installer::Uv,
        name: "pkg".into(),
        stack: stack_for(&p, "535.54.03", "7.5"),
        user: "dev".into(),
        requirement_files: vec![],
        install_files: vec![],
        inline_requirements: vec!["numpy>=1.24; python_version >= \"3.9\"".into(), "rich".into()],
        cuda_build: None,
    };
    let text = dockerfile(&m);
    assert!(text.contains("ppa:deadsnakes/ppa"));
    assert!(text.contains(r#""numpy>=1.24; python_version >= \"3.9\"""#), "{text}");
    snapshot("Dockerfile.deadsnakes", &text);
}

#[test]
fn devcontainer_json_is_valid_jsonc_with_separate_gpu_args() {
    let m = DevcontainerModel {
        name: "vision".into(),
        summary: "CUDA 12.4.1 (base), Ubuntu 22.04, Python 3.10, pytorch 2.6 (cu124)".into(),
        run_args: vec!["--gpus".into(), "all".into(), "--shm-size".into(), "8g".into()],
        user: Some("dev".into()),
        extensions: vec!["ms-python.python".into(), "ms-toolsai.jupyter".into()],
        post_create: Some("pip install -e .".into()),
    };
    let text = devcontainer_json(&m);
    let v = crate::config::parse_jsonc(&text, "devcontainer.json").unwrap();
    assert_eq!(v["runArgs"], serde_json::json!(["--gpus", "all", "--shm-size", "8g"]));
    assert!(v.get("hostRequirements").is_none());
    assert_eq!(v["postCreateCommand"], "pip install -e .");
    snapshot("devcontainer.json", &text);
    let bare = devcontainer_json(&DevcontainerModel { post_create: None, user: None, ..m });
    let v = crate::config::parse_jsonc(&bare, "devcontainer.json").unwrap();
    assert!(v.get("postCreateCommand").is_none() && v.get("remoteUser").is_none());
}

#[test]
fn dockerignore_block_merges_without_touching_user_lines() {
    let block = dockerignore_block(&["requirements.txt".into()]);
    assert!(block.starts_with(DOCKERIGNORE_BEGIN) && block.trim_end().ends_with(DOCKERIGNORE_END));
    assert!(block.contains("\n!requirements.txt\n"));
    snapshot("dockerignore", &block);
    assert_eq!(merge_dockerignore(None, &block), block);
    let user = "# mine\nbuild/\n";
    let once = merge_dockerignore(Some(user), &block);
    assert!(once.starts_with(user));
    assert_eq!(merge_dockerignore(Some(&once), &block), once, "a second merge changes nothing");
    // A changed block replaces the old one in place; lines after it stay.
    let with_tail = format!("{once}tail/\n");
    let other = dockerignore_block(&["reqs.txt".into()]);
    let merged = merge_dockerignore(Some(&with_tail), &other);
    assert!(merged.starts_with(user) && merged.ends_with("tail/\n") && merged.contains("!reqs.txt") && !merged.contains("!requirements.txt"));
    // No trailing newline in the user's file: one blank line before the block.
    assert_eq!(merge_dockerignore(Some("build/"), &block), format!("build/\n\n{block}"));
}
