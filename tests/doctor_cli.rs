//! `devgpu doctor` as a program, without Docker (its endpoint points at a socket that does not exist): the JSON
//! envelope's shape, the dev container image verdicts of a repository, daemon.json files dockerd 20.10 refuses,
//! and no panic on a machine without GPU, driver or toolkit (this one).

mod common;

use common::tools::{devgpu, run_logged, write_file};
use serde_json::Value;

const NO_DOCKER: &[&str] = &["--docker-host", "unix:///nonexistent.sock"];

fn doctor(args: &[&str]) -> (i32, Value) {
    let mut cmd = devgpu();
    cmd.arg("doctor").arg("--json").args(NO_DOCKER).args(args);
    let out = run_logged(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), v)
}

fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["data"]["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no {id}: {v:#}"))
}

#[test]
fn the_envelope_has_host_facts_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let (code, v) = doctor(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "no Docker here: a failing check");
    assert_eq!(v["outcome"], "error");
    let data = v["data"].as_object().unwrap();
    assert_eq!(data.keys().collect::<Vec<_>>(), ["host", "checks"]);
    for key in ["kernelModule", "nvml", "driver", "driverCuda", "gpus", "deviceNodes", "toolkit", "cdi", "docker", "daemonJson", "project", "probe"] {
        assert!(data["host"].get(key).is_some(), "host.{key} missing: {:#}", data["host"]);
    }
    let checks = data["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 21, "the 20 of checks::doctor_checks and gpu.mode");
    for c in checks {
        let o = c.as_object().unwrap();
        assert_eq!(o.keys().collect::<Vec<_>>(), ["id", "status", "summary", "fix"], "{c}");
        assert!(["pass", "warn", "fail", "skip"].contains(&c["status"].as_str().unwrap()));
        if matches!(c["status"].as_str(), Some("warn" | "fail")) {
            assert!(c["fix"].as_str().is_some_and(|f| !f.is_empty()), "every warning and failure says how to fix it: {c}");
        }
    }
    assert_eq!(check(&v, "docker.reachable")["status"], "fail");
    assert_eq!(check(&v, "project.image")["status"], "skip");
}

/// The blog-post image: deleted tag, Ubuntu 18.04's glibc too old for VS Code; the fix names a living tag.
#[test]
fn an_end_of_life_image_in_the_dockerfile_fails() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), ".devcontainer/devcontainer.json", "// hand-written\n{\n  \"build\": { \"dockerfile\": \"Dockerfile\" },\n}\n");
    write_file(dir.path(), ".devcontainer/Dockerfile", "FROM nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04\nRUN true\n");
    let (_, v) = doctor(&[dir.path().to_str().unwrap()]);
    let img = check(&v, "project.image");
    assert_eq!(img["status"], "fail", "{img:#}");
    let summary = img["summary"].as_str().unwrap();
    assert!(summary.starts_with(".devcontainer/Dockerfile:1: nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04: NVIDIA no longer publishes CUDA 10.2 images"), "{summary}");
    assert!(summary.contains("glibc"), "{summary}");
    let fix = img["fix"].as_str().unwrap();
    assert!(fix.starts_with("use nvidia/cuda:") && fix.contains("-cudnn-devel-ubuntu") && fix.ends_with("in .devcontainer/Dockerfile:1"), "{fix}");
    assert_eq!(v["data"]["host"]["project"]["images"][0]["source"], ".devcontainer/Dockerfile:1");
}

/// A living image and a pinned PyTorch CUDA variant: judged, and fine where nothing is known against them.
#[test]
fn a_living_image_and_a_pinned_torch_variant() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), ".devcontainer/devcontainer.json", r#"{"image": "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04", "runArgs": ["--gpus", "all"]}"#);
    write_file(dir.path(), "requirements.txt", "torch==2.4.1+cu121\nnumpy\n");
    let (_, v) = doctor(&[dir.path().to_str().unwrap()]);
    assert_eq!(check(&v, "project.image")["status"], "pass", "{v:#}");
    assert!(check(&v, "project.image")["summary"].as_str().unwrap().starts_with("nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 (.devcontainer/devcontainer.json) suits this host"));
    let p = &v["data"]["host"]["project"];
    assert_eq!(p["torchVariant"]["image"], "cu121");
    assert_eq!(p["torchVariant"]["source"], "requirements.txt:1");
    assert_eq!(check(&v, "project.framework")["status"], "pass");
}

/// Each daemon.json dockerd 20.10 refuses to start with: a failing check with file:line:column.
#[test]
fn daemon_json_files_dockerd_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("trailing-comma.json", b"{\n  \"default-runtime\": \"runc\",\n}\n", ":3:1: "),
        ("comment.json", b"{\n  // GPUs\n  \"default-runtime\": \"runc\"\n}\n", ":2:3: "),
        ("bom.json", b"\xef\xbb\xbf{\"default-runtime\": \"runc\"}\n", ":1:1: "),
        ("empty.json", b"", ":1:1: "),
    ];
    for (name, bytes, at) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (code, v) = doctor(&["--daemon-config", path.to_str().unwrap(), dir.path().to_str().unwrap()]);
        assert_eq!(code, 1);
        let c = check(&v, "daemon-json.valid");
        assert_eq!(c["status"], "fail", "{name}: {c:#}");
        let summary = c["summary"].as_str().unwrap();
        assert!(summary.starts_with(&format!("{}{at}dockerd will refuse to start", path.display())), "{name}: {summary}");
        assert_eq!(v["data"]["host"]["daemonJson"]["state"], "refused");
    }
    // Missing: Docker's defaults.
    let (_, v) = doctor(&["--daemon-config", dir.path().join("none.json").to_str().unwrap(), dir.path().to_str().unwrap()]);
    assert_eq!(check(&v, "daemon-json.valid")["status"], "pass");
}

/// This machine has no NVIDIA driver: the GPU checks say so, with the install fix, and nothing panics.
#[test]
fn no_driver_no_gpu_no_toolkit_is_reported_not_crashed() {
    if std::path::Path::new("/proc/driver/nvidia/version").exists() {
        eprintln!("this machine has an NVIDIA driver: the no-driver expectations do not apply");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, v) = doctor(&[dir.path().to_str().unwrap()]);
    let km = check(&v, "gpu.kernel-module");
    assert_eq!(km["status"], "fail");
    assert!(km["fix"].as_str().unwrap().contains("install the NVIDIA driver"));
    assert_eq!(v["data"]["host"]["nvml"]["status"], "library-not-found");
    assert_eq!(check(&v, "compat.driver-cuda")["status"], "skip");
}

#[test]
fn a_missing_repository_path_is_a_usage_error() {
    let (code, v) = doctor(&["/nonexistent/repo"]);
    assert_eq!(code, 1);
    assert_eq!(v["outcome"], "error");
    assert_eq!(v["error"]["code"], "path-not-found");
}
