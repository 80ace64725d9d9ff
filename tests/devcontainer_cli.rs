//! The official Dev Containers CLI (`@devcontainers/cli`, pinned in tests/tools/package.json) accepts the
//! devcontainer.json `devgpu init` writes: `read-configuration` parses it and sees the GPU request, and with a
//! Docker daemon, `build` and `up` work from it (DESIGN.md §4 "A real client").
//!
//! Needs: the CLI (`npm ci --prefix tests/tools`, done by .ci/run); for the build/up test also Docker and the
//! stand-in images. Under `CI` a missing prerequisite fails the test; elsewhere it prints a skip note.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::docker::{self, Wheelhouse};
use common::tools;
use serde_json::{json, Value};

/// Copy a fixture (or example) repository into a fresh temp dir and run `devgpu init --json` on it.
/// The directory's name is unique because the Dev Containers CLI names its images `vsc-<dir name>-<hash>`,
/// which lets the cleanup find them.
fn init_copy(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::Builder::new()
        .prefix("devgpu-dc-cli-")
        .tempdir()
        .unwrap();
    let root = tmp.path().join(format!("ws-{}", docker::unique_suffix()));
    tools::copy_dir(src, &root);
    tools::devgpu_init_json(&root, &[]);
    (tmp, root)
}

/// `devcontainer <args…>` with its JSON result line parsed: `build`, `up` and `read-configuration` print
/// one JSON object on stdout and logs on stderr; for `exec`, stdout is the command's own output, so the
/// exec'd command prints JSON. Returns (exit ok, the last JSON line, stderr).
fn devcontainer(cli: &Path, args: &[&str]) -> (bool, Value, String) {
    let (ok, result, stderr) = tools::devcontainer_json_env(cli, args, &[]);
    assert!(!result.is_null(), "`devcontainer {}` printed no JSON result:\nstderr:\n{stderr}", args.join(" "));
    (ok, result, stderr)
}

/// How the configuration asks for GPUs: `runArgs` `--gpus X` and/or `hostRequirements.gpu`.
/// Panics when it asks in neither way (a GPU dev container that gets no GPU).
fn gpu_request(config: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(args) = config["runArgs"].as_array() {
        let args: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
        for (i, arg) in args.iter().enumerate() {
            if *arg == "--gpus" {
                let value = args.get(i + 1).copied().unwrap_or_default();
                assert!(
                    !value.is_empty(),
                    "runArgs ends with a bare --gpus: {args:?}"
                );
                found.push(format!("runArgs --gpus {value}"));
            } else if let Some(value) = arg.strip_prefix("--gpus=") {
                found.push(format!("runArgs --gpus={value}"));
            }
        }
    }
    match &config["hostRequirements"]["gpu"] {
        Value::Null => {}
        Value::Bool(true) => found.push("hostRequirements.gpu true".into()),
        Value::String(s) if s == "optional" => {
            found.push("hostRequirements.gpu \"optional\"".into())
        }
        Value::Object(o) => {
            found.push(format!("hostRequirements.gpu {}", Value::Object(o.clone())))
        }
        other => panic!(
            "hostRequirements.gpu must be true, \"optional\" or {{cores, memory}}; got {other}"
        ),
    }
    assert!(
        !found.is_empty(),
        "the configuration requests no GPU (runArgs --gpus / hostRequirements.gpu): {config:#}"
    );
    found
}

/// `devcontainer read-configuration` on a devgpu-initialised copy of `src` succeeds, reads the file devgpu
/// wrote, and reports a GPU request.
fn check_read_configuration(src: &Path) {
    let Some(cli) = tools::devcontainer_cli() else {
        return;
    };
    let (_tmp, root) = init_copy(src);
    let (ok, result, stderr) = devcontainer(
        &cli,
        &[
            "read-configuration",
            "--workspace-folder",
            root.to_str().unwrap(),
        ],
    );
    assert!(ok, "read-configuration failed: {result:#}\n{stderr}");
    let config = &result["configuration"];
    let expected = root.join(".devcontainer/devcontainer.json");
    assert_eq!(
        config["configFilePath"]["fsPath"].as_str(),
        expected.to_str(),
        "result: {result:#}"
    );
    let gpus = gpu_request(config);
    eprintln!("{}: GPU request {gpus:?}", src.display());
}

#[test]
fn read_configuration_accepts_the_config_written_for_examples_pytorch() {
    check_read_configuration(&tools::manifest_dir().join("examples/pytorch"));
}

#[test]
fn read_configuration_accepts_the_config_written_for_the_docker_build_fixture() {
    check_read_configuration(&tools::fixture("docker-build"));
}

/// Does this daemon have an NVIDIA runtime (then `--gpus` works)? Not on the CI machines.
fn daemon_has_nvidia_runtime() -> bool {
    let out = Command::new("docker")
        .args(["info", "--format", "{{json .Runtimes}}"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains("nvidia")
}

/// Removes what `devcontainer build`/`up` made for one workspace, even when the test fails midway.
struct DevcontainerCleanup {
    id_label: String,
    workspace_name: String,
    extra_images: Vec<String>,
}

impl Drop for DevcontainerCleanup {
    fn drop(&mut self) {
        let mut images = docker::remove_containers_labelled(&self.id_label);
        images.append(&mut self.extra_images);
        // `up` builds vsc-<workspace dir name>-<hash> and, to match the host UID, vsc-…-uid on top of it.
        let out = Command::new("docker")
            .args(["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter"])
            .arg(format!("reference=vsc-{}-*", self.workspace_name))
            .output();
        if let Ok(out) = out {
            images.extend(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(str::to_string),
            );
        }
        images.sort();
        images.dedup();
        // Children first (…-uid is built FROM the other), so every removal succeeds.
        images.sort_by_key(|i| std::cmp::Reverse(i.contains("-uid")));
        for image in images {
            docker::remove_image(&image);
        }
    }
}

/// `devcontainer build` and `devcontainer up` from the generated config, against the real daemon.
///
/// The CLI passes only devcontainer.json's `build.args` / `build.options` to `docker build`, so the test
/// adds the offline-install settings to the generated file in its temp copy: the wheelhouse build args and
/// `--network=host` (for the loopback wheelhouse). Everything else stays as devgpu wrote it. (A sibling
/// file via `--config` would be cleaner, but `up` insists on the name devcontainer.json.)
///
/// Without an NVIDIA runtime (CI), a config whose `runArgs` carry `--gpus` cannot start: `up` must then
/// fail with Docker's "could not select device driver" (proof the GPU request reached `docker run`).
/// With `hostRequirements.gpu` only, the CLI adds `--gpus` just when the runtime exists, so `up` succeeds.
#[test]
fn devcontainer_build_and_up_work_from_the_generated_config() {
    let Some(cli) = tools::devcontainer_cli() else {
        return;
    };
    if !docker::standin_images_available() {
        return;
    }
    let (_tmp, root) = init_copy(&tools::fixture("docker-build"));
    let workspace_name = root.file_name().unwrap().to_str().unwrap().to_string();
    let generated_path = root.join(".devcontainer/devcontainer.json");
    let generated = tools::read_jsonc(&generated_path);
    let dockerfile = generated_path.parent().unwrap().join(
        generated["build"]["dockerfile"]
            .as_str()
            .unwrap_or("Dockerfile"),
    );
    let from_image =
        docker::dockerfile_from(&std::fs::read_to_string(&dockerfile).unwrap()).expect("FROM");
    let _base = docker::tag_standin_as(&from_image);

    let wheelhouse = Wheelhouse::new();
    wheelhouse.add_requirements_file(&root.join("requirements.txt"));
    let server = wheelhouse.serve();

    let mut offline = generated.clone();
    for (key, value) in server.build_args() {
        offline["build"]["args"][key] = json!(value);
    }
    let mut options = offline["build"]["options"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    options.push(json!("--network=host"));
    offline["build"]["options"] = json!(options);
    std::fs::write(
        &generated_path,
        serde_json::to_string_pretty(&offline).unwrap(),
    )
    .unwrap();

    let id_label = format!("{}={}", docker::TEST_LABEL, docker::unique_suffix());
    let image_name = format!("devgpu-test/dcbuild:{}", docker::unique_suffix());
    let _cleanup = DevcontainerCleanup {
        id_label: id_label.clone(),
        workspace_name,
        extra_images: vec![image_name.clone()],
    };
    let ws = root.to_str().unwrap();

    // build
    let (ok, result, stderr) = devcontainer(
        &cli,
        &[
            "build",
            "--workspace-folder",
            ws,
            "--image-name",
            &image_name,
            "--label",
            &format!("{}=1", docker::TEST_LABEL),
        ],
    );
    assert!(
        ok && result["outcome"] == "success",
        "devcontainer build failed: {result:#}\n{stderr}"
    );
    if let Some(sign) = docker::pip_index_attempt(&stderr) {
        panic!("a pip step tried to reach an index during the offline `devcontainer build` ({sign:?}):\n{stderr}");
    }
    let import = docker::run(
        &image_name,
        &["python", "-c", "import six, packaging, idna"],
    );
    import.ok();

    // up
    let (ok, result, stderr) = devcontainer(
        &cli,
        &["up", "--workspace-folder", ws, "--id-label", &id_label],
    );
    let run_args_gpus = gpu_request(&generated)
        .iter()
        .any(|g| g.starts_with("runArgs"));
    if run_args_gpus && !daemon_has_nvidia_runtime() {
        assert!(
            !ok && result["outcome"] == "error",
            "up should fail without an NVIDIA runtime: {result:#}"
        );
        assert!(
            format!("{result}\n{stderr}").contains("could not select device driver"),
            "up failed, but not with Docker's missing-GPU-runtime error: {result:#}\n{stderr}"
        );
        return;
    }
    assert!(
        ok && result["outcome"] == "success",
        "devcontainer up failed: {result:#}\n{stderr}"
    );
    let remote_user = result["remoteUser"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(
        remote_user, "root",
        "the dev container should run as the non-root user: {result:#}"
    );
    let (ok, result, stderr) = devcontainer(
        &cli,
        &[
            "exec",
            "--workspace-folder",
            ws,
            "--id-label",
            &id_label,
            "python",
            "-c",
            "import json, os, six; print(json.dumps({'uid': os.getuid(), 'six': six.__version__}))",
        ],
    );
    assert!(ok, "devcontainer exec failed: {result:#}\n{stderr}");
    assert_eq!(result["six"], "1.17.0", "exec result: {result:#}");
    assert_ne!(result["uid"], 0, "exec ran as root: {result:#}");
}
