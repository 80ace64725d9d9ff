//! `devgpu init` end to end on real files: what it writes, that a second run changes nothing, that existing files
//! are merged or left alone, and that bad input stops it with file:line:column before anything is written.

mod common;

use common::tools::{copy_dir, devgpu, devgpu_init_json, fixture, manifest_dir, read_jsonc, run_logged, write_file};
use std::fs;
use std::path::Path;

const HOST: &[&str] = &["--driver", "550.54.15", "--compute-cap", "8.6"];

fn example(tmp: &Path) -> std::path::PathBuf {
    let dir = tmp.join("pytorch");
    copy_dir(&manifest_dir().join("examples/pytorch"), &dir);
    // The example's .gitignore lists what init writes; a copy starts clean regardless of earlier runs.
    let _ = fs::remove_dir_all(dir.join(".devcontainer"));
    let _ = fs::remove_file(dir.join(".dockerignore"));
    dir
}

/// Every file under `dir`, with its bytes, for before/after comparisons.
fn snapshot_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            out.push((e.path().strip_prefix(dir).unwrap().display().to_string(), fs::read(e.path()).unwrap()));
        }
    }
    out
}

fn init(dir: &Path, extra: &[&str]) -> std::process::Output {
    run_logged(devgpu().arg("init").arg(dir).args(HOST).args(extra))
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim().lines().count(), 1, "exactly one JSON object on stdout:\n{stdout}");
    serde_json::from_str(stdout.trim()).unwrap()
}

fn actions(env: &serde_json::Value) -> Vec<(String, String)> {
    env["data"]["files"].as_array().unwrap().iter().map(|f| (f["path"].as_str().unwrap().to_string(), f["action"].as_str().unwrap().to_string())).collect()
}

#[test]
fn writes_a_gpu_devcontainer_for_the_pytorch_example_and_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    let env = devgpu_init_json(&dir, &[]);
    let stack = &env["data"]["stack"];
    assert_eq!(stack["image"], "nvidia/cuda:12.4.1-base-ubuntu22.04", "{stack:#}");
    assert_eq!(stack["python"], "3.10");
    assert_eq!(stack["framework"]["name"], "pytorch");
    assert_eq!(stack["framework"]["wheelVariant"], "cu124");
    assert!(stack["reasons"].as_array().unwrap().len() >= 4);
    assert_eq!(
        actions(&env),
        vec![
            (".devcontainer/devcontainer.json".to_string(), "created".to_string()),
            (".devcontainer/Dockerfile".to_string(), "created".to_string()),
            (".dockerignore".to_string(), "created".to_string()),
            (".devcontainer/devgpu-lock.json".to_string(), "created".to_string())
        ]
    );
    // The lock names the whole stack and where its facts came from (offline in tests: the snapshot, said so).
    let lock: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.join(".devcontainer/devgpu-lock.json")).unwrap()).unwrap();
    assert_eq!(lock["image"]["name"], "nvidia/cuda:12.4.1-base-ubuntu22.04");
    assert_eq!(lock["driverFloor"], "550.54.14");
    assert_eq!(lock["target"]["computeCapabilities"], serde_json::json!(["8.6"]));
    assert_eq!(lock["framework"]["wheelIndex"], "https://download.pytorch.org/whl/cu124");
    assert_eq!(lock["python"]["version"], "3.10");
    assert_eq!(lock["facts"]["source"], "snapshot");
    assert!(lock["installer"].as_str().unwrap().starts_with("uv "), "{lock:#}");
    let warnings = env["data"]["warnings"].to_string();
    assert!(warnings.contains("embedded snapshot of") && warnings.contains("days old"), "{warnings}");
    let project = &env["data"]["project"];
    assert!(project["requirements"].as_array().unwrap().iter().any(|r| r["name"] == "torch"));

    let dc = read_jsonc(&dir.join(".devcontainer/devcontainer.json"));
    assert_eq!(dc["runArgs"], serde_json::json!(["--gpus", "all", "--shm-size", "8g"]));
    assert!(dc.get("hostRequirements").is_none(), "VS Code would add a second --gpus all");
    assert_eq!(dc["remoteUser"], "dev");
    assert_eq!(dc["build"]["context"], "..");
    let exts = dc["customizations"]["vscode"]["extensions"].as_array().unwrap();
    assert!(exts.contains(&"ms-toolsai.jupyter".into()), "the example has a notebook");
    if common::schema::schema_available() {
        common::schema::validate_devcontainer(&dc).unwrap_or_else(|e| panic!("schema: {e:#?}"));
    }

    let dockerfile = fs::read_to_string(dir.join(".devcontainer/Dockerfile")).unwrap();
    assert!(dockerfile.contains("FROM nvidia/cuda:12.4.1-base-ubuntu22.04\n"));
    assert!(dockerfile.contains("--index-url https://download.pytorch.org/whl/cu124 \"torch==2.6.*\" \"torchvision\""), "{dockerfile}");
    assert!(dockerfile.contains("COPY requirements.txt /tmp/devgpu-deps/requirements.txt"));
    assert!(dockerfile.contains("COPY requirements-dev.txt /tmp/devgpu-deps/requirements-dev.txt"));
    // requirements-dev.txt is included by requirements.txt: installed through it, not twice.
    assert!(dockerfile.contains("RUN umask 0002 && uv pip install -r /tmp/devgpu-deps/requirements.txt -c"), "{dockerfile}");
    assert!(!dockerfile.contains("curl"), "no curl | sh");
    assert!(dockerfile.contains("rm -rf /var/lib/apt/lists/*"));
    let ignore = fs::read_to_string(dir.join(".dockerignore")).unwrap();
    for must in [".git", "**/.venv", "**/.env", "!requirements.txt", "!requirements-dev.txt"] {
        assert!(ignore.lines().any(|l| l == must), "{must} in .dockerignore:\n{ignore}");
    }

    // A second run: every file unchanged, byte for byte.
    let before = snapshot_tree(&dir);
    let env2 = devgpu_init_json(&dir, &[]);
    assert!(actions(&env2).iter().all(|(_, a)| a == "unchanged"), "{:?}", actions(&env2));
    assert_eq!(before, snapshot_tree(&dir));
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    let before = snapshot_tree(&dir);
    let out = init(&dir, &["--dry-run"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("--- /dev/null\n+++ b/.devcontainer/Dockerfile"), "{diff}");
    assert!(diff.contains("+FROM nvidia/cuda:12.4.1-base-ubuntu22.04"), "{diff}");
    assert_eq!(before, snapshot_tree(&dir), "dry run wrote something");
    // With --json the diffs ride in the files list.
    let env = json_of(&init(&dir, &["--dry-run", "--json"]));
    assert_eq!(env["data"]["dryRun"], true);
    assert!(env["data"]["files"][1]["diff"].as_str().unwrap().contains("+FROM nvidia/cuda"));
    assert_eq!(before, snapshot_tree(&dir));
}

#[test]
fn an_existing_devcontainer_json_is_edited_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    let original = "// my notes stay\n{\n  \"name\": \"mine\",\n  // an image I like\n  \"image\": \"mcr.microsoft.com/devcontainers/python:3.11\",\n  \"runArgs\": [\"--gpus=all\"], // already asks for the GPU\n  \"forwardPorts\": [8888,],\n}\n";
    write_file(&dir, ".devcontainer/devcontainer.json", original);
    let env = json_of(&init(&dir, &["--json"]));
    assert_eq!(env["outcome"], "success", "{env:#}");
    let text = fs::read_to_string(dir.join(".devcontainer/devcontainer.json")).unwrap();
    for kept in ["// my notes stay", "// an image I like", "// already asks for the GPU", "\"name\": \"mine\"", "[8888,]"] {
        assert!(text.contains(kept), "{kept} lost:\n{text}");
    }
    assert_eq!(text.matches("--gpus").count(), 1, "no duplicate GPU request:\n{text}");
    assert!(!text.contains("hostRequirements"), "no second GPU request through hostRequirements:\n{text}");
    // The config builds from its own image: devgpu's Dockerfile is not written, and it says so.
    assert_eq!(actions(&env)[1], (".devcontainer/Dockerfile".to_string(), "skipped".to_string()));
    assert!(!dir.join(".devcontainer/Dockerfile").exists());
    // Idempotent.
    let env2 = json_of(&init(&dir, &["--json"]));
    assert_eq!(actions(&env2)[0].1, "unchanged");
    assert_eq!(text, fs::read_to_string(dir.join(".devcontainer/devcontainer.json")).unwrap());
    // --force: devgpu takes over the build (image replaced by build), comments still there.
    let env3 = json_of(&init(&dir, &["--json", "--force"]));
    assert_eq!(actions(&env3)[1].1, "created");
    let forced = read_jsonc(&dir.join(".devcontainer/devcontainer.json"));
    assert!(forced.get("image").is_none());
    assert_eq!(forced["build"]["dockerfile"], "Dockerfile");
    assert!(fs::read_to_string(dir.join(".devcontainer/devcontainer.json")).unwrap().contains("// my notes stay"));
}

#[test]
fn a_dockerfile_devgpu_did_not_write_is_left_alone_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    let mine = "FROM nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04\nRUN echo mine\n";
    write_file(&dir, ".devcontainer/Dockerfile", mine);
    let env = json_of(&init(&dir, &["--json"]));
    assert_eq!(actions(&env)[1].1, "skipped");
    assert_eq!(fs::read_to_string(dir.join(".devcontainer/Dockerfile")).unwrap(), mine);
    let warnings = env["data"]["warnings"].to_string();
    assert!(warnings.contains(".devcontainer/Dockerfile:1") && warnings.contains("10.2"), "the seed image is judged: {warnings}");
    let env = json_of(&init(&dir, &["--json", "--force"]));
    assert_eq!(actions(&env)[1].1, "updated");
    assert!(fs::read_to_string(dir.join(".devcontainer/Dockerfile")).unwrap().contains("FROM nvidia/cuda:12.4.1"));

    // Once the user edits devgpu's Dockerfile it is theirs.
    let edited = fs::read_to_string(dir.join(".devcontainer/Dockerfile")).unwrap() + "RUN echo my addition\n";
    fs::write(dir.join(".devcontainer/Dockerfile"), &edited).unwrap();
    let env = json_of(&init(&dir, &["--json"]));
    assert_eq!(actions(&env)[1].1, "skipped");
    assert_eq!(fs::read_to_string(dir.join(".devcontainer/Dockerfile")).unwrap(), edited);
}

/// Bad input: exit 1, an error naming file:line:column, and not one file written or changed.
fn assert_refused(dir: &Path, code: &str, location: &str) {
    let before = snapshot_tree(dir);
    let out = init(dir, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let env = json_of(&out);
    assert_eq!(env["outcome"], "error");
    assert_eq!(env["error"]["code"], code, "{env:#}");
    let msg = env["error"]["message"].as_str().unwrap();
    assert!(msg.contains(location), "{msg} should name {location}");
    assert_eq!(before, snapshot_tree(dir), "nothing may be written on error");
    // Human mode says the same on stderr.
    let out = init(dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(location));
}

#[test]
fn invalid_jsonc_is_refused_with_its_position() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    write_file(&dir, ".devcontainer/devcontainer.json", "{\n  \"name\": \"x\"\n  \"image\": \"y\"\n}\n");
    // The comma is missing at the end of line 2, right after `"x"`.
    assert_refused(&dir, "jsonc-syntax", "devcontainer.json:2:14");
}

#[test]
fn invalid_toml_is_refused_with_its_position() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    write_file(&dir, "pyproject.toml", "[project]\nname = \"x\"\ndependencies = [\"torch\"\n");
    let out = init(&dir, &["--json"]);
    let env = json_of(&out);
    assert_eq!(env["outcome"], "error", "{env:#}");
    assert_refused(&dir, env["error"]["code"].as_str().unwrap(), "pyproject.toml:");
}

#[test]
fn invalid_yaml_is_refused_with_its_position() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    write_file(&dir, "environment.yml", "name: x\ndependencies:\n  - python=3.10\n  - [unclosed\n");
    let env = json_of(&init(&dir, &["--json"]));
    assert_eq!(env["outcome"], "error", "{env:#}");
    assert_refused(&dir, env["error"]["code"].as_str().unwrap(), "environment.yml:");
}

#[test]
fn a_compose_config_without_its_compose_file_is_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    write_file(&dir, ".devcontainer/devcontainer.json", "{\n  \"dockerComposeFile\": \"compose.yml\",\n  \"service\": \"app\"\n}\n");
    assert_refused(&dir, "compose-file-missing", ".devcontainer/compose.yml");
    // A compose file outside the repository is not edited.
    write_file(&dir, ".devcontainer/devcontainer.json", "{\n  \"dockerComposeFile\": \"../../compose.yml\",\n  \"service\": \"app\"\n}\n");
    assert_refused(&dir, "outside-repository", "../../compose.yml");
}

/// The compose file of an official template (comments, blank lines, a second service), with `dockerComposeFile`
/// as an array whose last file defines the service.
const COMPOSE_TEMPLATE: &str = "version: '3.8'\n\nservices:\n  app:\n    build:\n      context: ..\n      dockerfile: .devcontainer/Dockerfile\n\n    volumes:\n      - ../..:/workspaces:cached\n\n    # Overrides default command so things don't shut down after the process ends.\n    command: sleep infinity\n\n    # Runs app on the same network as the database container, allows \"forwardPorts\" in devcontainer.json function.\n    network_mode: service:db\n\n    # Use \"forwardPorts\" in **devcontainer.json** to forward an app port locally.\n    # (Adding the \"ports\" property to this file will not forward from a Codespace.)\n\n  db:\n    image: postgres:latest\n    restart: unless-stopped\n";

#[test]
fn a_compose_config_gets_the_gpu_in_its_service_with_comments_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    let dc = "{\n  // compose\n  \"name\": \"x\",\n  \"dockerComposeFile\": [\"../base.yml\", \"docker-compose.yml\"],\n  \"service\": \"app\",\n  \"workspaceFolder\": \"/workspaces/${localWorkspaceFolderBasename}\"\n}\n";
    write_file(&dir, ".devcontainer/devcontainer.json", dc);
    write_file(&dir, "base.yml", "services:\n  db:\n    image: postgres\n");
    write_file(&dir, ".devcontainer/docker-compose.yml", COMPOSE_TEMPLATE);

    let out = init(&dir, &["--json"]);
    let env = json_of(&out);
    assert_eq!(env["outcome"], "success", "{env:#}");
    let text = fs::read_to_string(dir.join(".devcontainer/docker-compose.yml")).unwrap();
    // Every original line is still there, in order; only the reservation was added, after the last setting.
    let original: Vec<&str> = COMPOSE_TEMPLATE.lines().collect();
    let kept: Vec<&str> = text.lines().filter(|l| original.contains(l)).collect();
    assert_eq!(kept, original, "{text}");
    assert!(text.contains("    network_mode: service:db\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n              count: all\n              capabilities: [gpu]\n\n    # Use"), "{text}");
    assert_eq!(fs::read_to_string(dir.join(".devcontainer/devcontainer.json")).unwrap(), dc, "devcontainer.json is left as it is");
    assert_eq!(fs::read_to_string(dir.join("base.yml")).unwrap(), "services:\n  db:\n    image: postgres\n");
    assert!(!dir.join(".devcontainer/Dockerfile").exists(), "devgpu's Dockerfile would not be used");
    let files = env["data"]["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["path"] == ".devcontainer/docker-compose.yml" && f["action"] == "updated"), "{files:#?}");

    // Again: byte-identical.
    let env = json_of(&init(&dir, &["--json"]));
    assert_eq!(env["outcome"], "success", "{env:#}");
    assert_eq!(fs::read_to_string(dir.join(".devcontainer/docker-compose.yml")).unwrap(), text);
    assert!(env["data"]["files"].as_array().unwrap().iter().any(|f| f["path"] == ".devcontainer/docker-compose.yml" && f["action"] == "unchanged"));

    // CDI mode on a fresh copy: the CDI device name.
    write_file(&dir, ".devcontainer/docker-compose.yml", COMPOSE_TEMPLATE);
    let env = json_of(&init(&dir, &["--json", "--gpu-mode", "cdi"]));
    assert_eq!(env["outcome"], "success", "{env:#}");
    let text = fs::read_to_string(dir.join(".devcontainer/docker-compose.yml")).unwrap();
    assert!(text.contains("    network_mode: service:db\n    devices:\n      - \"nvidia.com/gpu=all\"\n"), "{text}");
}

#[test]
fn a_compose_file_with_bad_yaml_is_refused_with_its_position() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    write_file(&dir, ".devcontainer/devcontainer.json", "{ \"dockerComposeFile\": \"docker-compose.yml\", \"service\": \"app\" }\n");
    write_file(&dir, ".devcontainer/docker-compose.yml", "services:\n  app:\n    image: [x\n");
    let env = json_of(&init(&dir, &["--json"]));
    let code = env["error"]["code"].as_str().unwrap_or_default().to_string();
    assert_eq!(code, "compose-invalid-yaml", "{env:#}");
    assert_refused(&dir, &code, ".devcontainer/docker-compose.yml:");
    write_file(&dir, ".devcontainer/docker-compose.yml", "services:\n  web:\n    image: x\n");
    assert_refused(&dir, "compose-service-missing", "`app`");
}

#[test]
fn an_unparsable_requirement_line_is_a_warning_not_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    let reqs = fs::read_to_string(dir.join("requirements.txt")).unwrap() + "this is ((( not a requirement\n";
    fs::write(dir.join("requirements.txt"), reqs).unwrap();
    let out = init(&dir, &["--json"]);
    let env = json_of(&out);
    assert_eq!(env["outcome"], "success", "{env:#}");
    assert!(env["data"]["warnings"].to_string().contains("requirements.txt:8"), "{:#}", env["data"]["warnings"]);
}

#[test]
fn flags_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    for (args, code) in [
        (vec!["--gpus", "0;rm"], "invalid-gpus"),
        (vec!["--cuda", "twelve"], "invalid-argument"),
        (vec!["--cuda", "10.2"], "cuda-image-deleted"),
    ] {
        let mut all = vec!["--json"];
        all.extend(args.iter());
        let out = init(&dir, &all);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(json_of(&out)["error"]["code"], code, "{args:?}");
    }
    let out = run_logged(devgpu().arg("init").arg(&dir).args(["--json", "--driver", "470.82.01"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["error"]["code"], "driver-too-old");
    let out = run_logged(devgpu().args(["init", "/nonexistent/devgpu-test", "--json"]).args(HOST));
    assert_eq!(out.status.code(), Some(1));
    // --gpus with device IDs lands in runArgs with docker's quoting.
    let env = json_of(&init(&dir, &["--json", "--gpus", "0,2"]));
    assert_eq!(env["outcome"], "success");
    let dc = read_jsonc(&dir.join(".devcontainer/devcontainer.json"));
    assert_eq!(dc["runArgs"][1], "\"device=0,2\"");
}

#[test]
fn local_references_move_to_post_create_and_pyproject_deps_go_inline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pkg");
    write_file(&dir, "requirements.txt", "numpy>=1.24\n-e .\n");
    write_file(
        &dir,
        "pyproject.toml",
        "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"pkg\"\nversion = \"0.1\"\ndependencies = [\"einops>=0.7\", \"rich\"]\n",
    );
    let env = devgpu_init_json(&dir, &["--framework", "none"]);
    assert_eq!(env["data"]["stack"]["flavor"], "runtime");
    let dockerfile = fs::read_to_string(dir.join(".devcontainer/Dockerfile")).unwrap();
    // requirements.txt needs the sources (-e .), so it is not installed in the image layer...
    assert!(!dockerfile.contains("COPY requirements.txt"), "{dockerfile}");
    // ...but the pyproject dependencies are, inline.
    assert!(dockerfile.contains("RUN umask 0002 && uv pip install \"einops>=0.7\" \"rich\""), "{dockerfile}");
    let dc = read_jsonc(&dir.join(".devcontainer/devcontainer.json"));
    assert_eq!(dc["postCreateCommand"], "pip install -r requirements.txt && pip install -e .");
    assert!(env["data"]["warnings"].to_string().contains("postCreateCommand"));
}

#[test]
fn a_kept_dockerfile_is_reported_as_not_running_the_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    write_file(&dir, ".devcontainer/Dockerfile", "FROM nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04\nRUN echo mine\n");
    let env = json_of(&init(&dir, &["--json"]));
    assert_eq!(env["data"]["stackApplied"], false, "{env:#}");
    let warnings = env["data"]["warnings"].to_string();
    assert!(warnings.contains("is yours and was kept") && warnings.contains("--force"), "{warnings}");
    let out = init(&dir, &[]);
    let human = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(human.contains("not applied"), "{human}");
    let env = json_of(&init(&dir, &["--json", "--force"]));
    assert_eq!(env["data"]["stackApplied"], true);
    assert!(!env["data"]["warnings"].to_string().contains("was kept"));
}

#[test]
fn forced_takeover_fixes_a_foreign_remote_user_and_warns_about_sudo() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    let original = "{\n  // Microsoft's image\n  \"image\": \"mcr.microsoft.com/devcontainers/python:3.11\",\n  \"remoteUser\": \"vscode\", // theirs\n  \"postCreateCommand\": \"sudo apt-get update && pip install -r requirements.txt\"\n}\n";
    write_file(&dir, ".devcontainer/devcontainer.json", original);
    // Without --force the config keeps its own image, so its user stays and nothing is said about sudo.
    let env = json_of(&init(&dir, &["--json"]));
    assert_eq!(env["data"]["stackApplied"], false);
    assert_eq!(read_jsonc(&dir.join(".devcontainer/devcontainer.json"))["remoteUser"], "vscode");
    let env = json_of(&init(&dir, &["--json", "--force"]));
    let text = fs::read_to_string(dir.join(".devcontainer/devcontainer.json")).unwrap();
    let config = read_jsonc(&dir.join(".devcontainer/devcontainer.json"));
    assert_eq!(config["remoteUser"], "dev", "{text}");
    assert!(text.contains("// theirs") && text.contains("// Microsoft's image"), "comments kept:\n{text}");
    let notes = env["data"]["files"][0]["notes"].to_string();
    assert!(notes.contains("changed remoteUser \\\"vscode\\\" to \\\"dev\\\""), "{notes}");
    let warnings = env["data"]["warnings"].to_string();
    assert!(warnings.contains("postCreateCommand calls sudo"), "{warnings}");
    // Idempotent: a second forced run changes nothing more.
    let again = json_of(&init(&dir, &["--json", "--force"]));
    assert_eq!(actions(&again)[0].1, "unchanged", "{again:#}");
}

#[test]
fn a_cuda_extension_project_builds_against_the_target() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cext");
    copy_dir(&manifest_dir().join("tests/fixtures/docker-build-cext"), &dir);
    write_file(&dir, "requirements.txt", "torch==2.4.1\nsix==1.17.0\nflash-attn==2.6.3\n");
    json_of(&init(&dir, &["--json"]));
    let dockerfile = fs::read_to_string(dir.join(".devcontainer/Dockerfile")).unwrap();
    assert!(dockerfile.contains("-devel-"), "{dockerfile}");
    assert!(dockerfile.contains("ARG TORCH_CUDA_ARCH_LIST=\"8.6\""), "{dockerfile}");
    assert!(dockerfile.contains("ARG MAX_JOBS=4") && dockerfile.contains("CUDA_HOME=/usr/local/cuda"), "{dockerfile}");
    // flash-attn (line 3) leaves the main install for its own --no-build-isolation step, after torch and ninja.
    assert!(dockerfile.contains("sed -i -e '3d' /tmp/devgpu-deps/requirements.txt"), "{dockerfile}");
    let torch_at = dockerfile.find("devgpu-framework-constraints.txt\"\n").unwrap();
    let ninja_at = dockerfile.find("pip install ninja").unwrap();
    let fa_at = dockerfile.find("RUN umask 0002 && uv pip install --no-build-isolation \"flash-attn==2.6.3\"").expect("flash-attn step");
    assert!(torch_at < ninja_at && ninja_at < fa_at, "{dockerfile}");
    let config = read_jsonc(&dir.join(".devcontainer/devcontainer.json"));
    assert_eq!(config["postCreateCommand"], "pip install --no-build-isolation -e .");
    // No target GPU known: a broad list, said in the comment.
    let other = tmp.path().join("cext2");
    copy_dir(&manifest_dir().join("tests/fixtures/docker-build-cext"), &other);
    run_logged(devgpu().arg("init").arg(&other).args(["--driver", "550.54.15"]));
    let dockerfile = fs::read_to_string(other.join(".devcontainer/Dockerfile")).unwrap();
    assert!(dockerfile.contains("ARG TORCH_CUDA_ARCH_LIST=\"7.5;8.0;8.6;8.9;9.0+PTX\"") && dockerfile.contains("target GPU is unknown"), "{dockerfile}");
}

/// A repository is untrusted input: an existing devcontainer.json (or Dockerfile) that is a symlink leading
/// outside the repository is neither read (its text would reach the diff) nor written through.
#[test]
fn an_existing_file_linking_outside_the_repository_is_neither_read_nor_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = example(tmp.path());
    let outside = tmp.path().join("outside-secret.json");
    let secret = "{ \"name\": \"TOP-SECRET-LINE-4711\" }\n";
    fs::write(&outside, secret).unwrap();
    fs::create_dir_all(dir.join(".devcontainer")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join(".devcontainer/devcontainer.json")).unwrap();

    for extra in [&["--json"][..], &["--json", "--dry-run"][..], &["--json", "--force"][..]] {
        let out = init(&dir, extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        let env = json_of(&out);
        assert_eq!(env["error"]["code"], "outside-repository", "{env:#}");
        assert!(env["error"]["message"].as_str().unwrap().contains(".devcontainer/devcontainer.json"), "{env:#}");
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains("TOP-SECRET"), "{extra:?}: the outside file's contents leaked:\n{all}");
    }
    assert_eq!(fs::read_to_string(&outside).unwrap(), secret, "the file outside the repository must be untouched");
    assert!(!dir.join(".devcontainer/Dockerfile").exists(), "nothing written on error");
}

/// The seed project (a CUDA 10.2 / Ubuntu 18.04 Dockerfile and torch==1.12.1): on Ampere it gets a stack that
/// installs — torch 1.12.1's newest CUDA build with sm_86 kernels, on a living image VS Code can attach to, with
/// the old Dockerfile's problems named; on Hopper a refusal whose reason is the GPU (torch 1.12 has no sm_90
/// kernels) and whose way out works (torch 2.0+ with cu118 wheels), never "too old".
#[test]
fn the_seed_project_gets_a_stack_on_ampere_and_the_true_refusal_on_hopper() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("seed");
    copy_dir(&fixture("projects/seed-torch-1.12"), &dir);

    let out = run_logged(devgpu().arg("init").arg(&dir).args(["--dry-run", "--json", "--driver", "535.230.02", "--compute-cap", "8.6"]));
    assert!(out.status.success());
    let env = json_of(&out);
    let stack = &env["data"]["stack"];
    assert_eq!(stack["framework"]["version"], "1.12.1");
    let variant = stack["framework"]["wheelVariant"].as_str().unwrap();
    assert!(["cu113", "cu116"].contains(&variant), "{variant}");
    assert_eq!(stack["framework"]["packages"], serde_json::json!(["torch==1.12.1", "torchvision==0.13.1"]));
    let image = stack["image"].as_str().unwrap();
    assert!(image.starts_with("nvidia/cuda:11.8.0-") && !image.contains("ubuntu18.04"), "{image}");
    assert!(["3.8", "3.9", "3.10"].contains(&stack["python"].as_str().unwrap()), "torch 1.12 has wheels for Python 3.7–3.10");
    let warnings = env["data"]["warnings"].to_string();
    assert!(warnings.contains("no longer publishes CUDA 10.2") && warnings.contains("glibc 2.27"), "{warnings}");

    let out = devgpu().arg("init").arg(&dir).args(["--dry-run", "--json", "--driver", "580.159.04", "--compute-cap", "9.0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let env = json_of(&out);
    assert_eq!(env["error"]["code"], "framework-conflict");
    let message = env["error"]["message"].as_str().unwrap();
    assert!(message.contains("compute capability 9.0") && message.contains("sm_86"), "{message}");
    assert!(!message.contains("older releases"), "the reason is the GPU, not the release's age: {message}");
    let hints = env["error"]["hints"].to_string();
    assert!(hints.contains("torch==2.0.* or newer") && hints.contains("torchvision"), "{hints}");
    assert!(!dir.join(".devcontainer").exists(), "nothing written on a dry run or a refusal");
}
