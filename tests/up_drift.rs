//! GPU drift at the edge, on this GPU-less machine: a stand-in NVIDIA device node (a character device made with
//! `mknod`, numbers of /dev/null, mode 0660 and a group the image does not know), handed in as devgpu's inject
//! mode does (`--device HOST:/dev/nvidia0`). `up` adds `--group-add` with the node's gid, so the non-root remote
//! user can open it; `verify` reports `drift.device-groups` as passing (its GPU checks fail: there is no GPU). A
//! root-only node (0600) gets the failing check with the driver's own module options as the fix.
//!
//! The driver-version drift needs a loaded NVIDIA kernel module. Its checks are tested on captured text in
//! `src/checks/drift.rs`; here a driver change is played on a real daemon by pointing `DEVGPU_PROC_DRIVER_VERSION`
//! (the file devgpu reads the loaded module's version from) at a file in the format of
//! `/proc/driver/nvidia/version` whose version the test changes: the container is labelled with driver A, doctor
//! reports it stale once B is "loaded", `up` recreates it and names both, and reuses it while B stays. The same
//! file makes doctor judge injected driver files of one version against either.

mod common;
mod up_support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use up_support::{check, docker_exec, inspect, Workspace};

/// A gid no user of the stand-in image has.
const NODE_GID: u32 = 4747;

fn fake_node(dir: &std::path::Path, mode: u32) -> std::path::PathBuf {
    let node = dir.join("nvidia0");
    let ok = Command::new("mknod").arg(&node).args(["c", "1", "3"]).status().unwrap().success();
    assert!(ok, "mknod needs root (CI runs as root)");
    std::os::unix::fs::chown(&node, Some(0), Some(NODE_GID)).unwrap();
    std::fs::set_permissions(&node, std::fs::Permissions::from_mode(mode)).unwrap();
    node
}

/// The daemon with the stand-in image, and root for mknod (both fail the test under CI when missing).
fn docker_and_root() -> bool {
    standin_images_available() && (common::tools::is_root() || common::tools::missing_prerequisite("mknod needs root", "run the test as root (CI does)"))
}

fn workspace(node: &std::path::Path) -> Workspace {
    let unique = common::docker::unique_suffix();
    let ws = Workspace::new(&format!(
        r#"{{ "build": {{ "dockerfile": "Dockerfile" }}, "remoteUser": "dev", "runArgs": ["--network", "none", "--device", "{}:/dev/nvidia0"] }}"#,
        node.display()
    ));
    ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN useradd -m -u 1000 dev\n"));
    ws
}

#[test]
fn a_group_only_node_gets_group_add_and_the_remote_user_opens_it() {
    if !docker_and_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let node = fake_node(dir.path(), 0o660);
    let ws = workspace(&node);
    let (code, env, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(env["data"]["gpu"]["injected"], "1");
    assert_eq!(inspect(&id, "{{json .HostConfig.GroupAdd}}"), format!("[\"{NODE_GID}\"]"));
    // The remote user (not in that group in the image) opens the node for writing.
    let groups = docker_exec(&id, Some("dev"), "echo probe > /dev/nvidia0 && id -G");
    assert!(groups.split_whitespace().any(|g| g == NODE_GID.to_string()), "{groups}");

    // verify: no GPU here, so the GPU checks fail, but the node's group is in order.
    let (code, env, stderr) = ws.devgpu(&["verify"]);
    assert_eq!(code, 1, "{env:#}\n{stderr}");
    let groups_check = check(&env["data"], "drift.device-groups");
    assert_eq!(groups_check["status"], "pass", "{env:#}");
    assert_eq!(check(&env["data"], "drift.container-driver")["status"], "skip", "no kernel module here: {env:#}");
}

#[test]
fn a_root_only_node_fails_verify_with_the_drivers_module_options() {
    if !docker_and_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let node = fake_node(dir.path(), 0o600);
    let ws = workspace(&node);
    let (code, env, stderr) = ws.devgpu(&["verify"]);
    assert_eq!(code, 1, "{env:#}\n{stderr}");
    let c = check(&env["data"], "drift.device-groups");
    assert_eq!(c["status"], "fail", "{env:#}");
    assert!(c["summary"].as_str().unwrap().contains("0600"), "{c}");
    assert!(c["fix"].as_str().unwrap().contains("NVreg_DeviceFileMode=0660"), "{c}");
    assert!(ws.containers().is_empty(), "verify removed the container it started");
}

#[test]
fn doctor_judges_the_drift_of_a_gpu_workspace_only() {
    // No daemon or image is needed for this part: doctor reads the workspace's config and this host.
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("libcuda.so.550.54.15");
    std::fs::write(&lib, "").unwrap();
    let gpu = Workspace::new(&format!(
        r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--device", "/dev/nvidia0", "--mount", "type=bind,source={},target=/usr/local/nvidia/lib64/libcuda.so.550.54.15,readonly"] }}"#,
        lib.display()
    ));
    let (_, env, stderr) = gpu.devgpu(&["doctor", "."]);
    let checks = env["data"]["checks"].as_array().unwrap_or_else(|| panic!("{env:#}\n{stderr}"));
    let inject = checks.iter().find(|c| c["id"] == "drift.inject-driver").unwrap_or_else(|| panic!("no drift.inject-driver: {env:#}"));
    // This machine has no NVIDIA kernel module: the 550.54.15 files cannot be judged, and doctor says so.
    assert_eq!(inject["status"], "skip", "{inject}");
    assert!(inject["summary"].as_str().unwrap().contains("kernel module"), "{inject}");
    assert!(checks.iter().any(|c| c["id"] == "drift.container-driver"));
    assert!(!checks.iter().any(|c| c["id"] == "drift.device-groups"), "the groups need the container: verify's");

    let plain = Workspace::new(&format!(r#"{{ "image": "{STANDIN_IMAGE}" }}"#));
    let (_, env, _) = plain.devgpu(&["doctor", "."]);
    assert!(!env["data"]["checks"].as_array().unwrap().iter().any(|c| c["id"].as_str().unwrap().starts_with("drift.")), "{env:#}");
}

/// `/proc/driver/nvidia/version` as a driver of `version` writes it (the format of the captured fixtures).
fn loaded_driver(file: &std::path::Path, version: &str) {
    std::fs::write(file, format!("NVRM version: NVIDIA UNIX x86_64 Kernel Module  {version}  Tue Mar  5 22:23:56 UTC 2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n")).unwrap();
}

#[test]
fn a_driver_change_recreates_the_container_and_says_why() {
    if !docker_and_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let node = fake_node(dir.path(), 0o666);
    let version_file = dir.path().join("version");
    let ws = Workspace::new(&format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none", "--device", "{}:/dev/nvidia0"] }}"#, node.display()));
    let devgpu = |args: &[&str]| {
        let mut cmd = common::tools::devgpu();
        cmd.current_dir(&ws.root).args(args).arg("--json").env("DEVGPU_PROC_DRIVER_VERSION", &version_file);
        let out = common::tools::run_logged(&mut cmd);
        up_support::parse(&cmd, out)
    };
    let container_check = |env: &serde_json::Value| {
        env["data"]["checks"].as_array().unwrap_or_else(|| panic!("{env:#}")).iter().find(|c| c["id"] == "drift.container-driver").cloned().unwrap_or_else(|| panic!("no drift.container-driver: {env:#}"))
    };

    // Driver A: the container is labelled with it, and reused while A stays loaded.
    loaded_driver(&version_file, "550.54.15");
    let (code, env, stderr) = devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let first = env["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(inspect(&first, "{{index .Config.Labels \"devgpu.driver_version\"}}"), "550.54.15");
    let (code, env, _) = devgpu(&["up"]);
    assert_eq!((code, env["data"]["reused"].as_bool(), env["data"]["containerId"].as_str()), (0, Some(true), Some(first.as_str())), "{env:#}");
    let (_, env, _) = devgpu(&["doctor", "."]);
    let c = container_check(&env);
    assert_eq!(c["status"], "pass", "{c}");
    assert!(c["summary"].as_str().unwrap().contains("550.54.15"), "{c}");

    // Driver B loaded: doctor reports the container stale, naming both versions; nothing is touched by it.
    loaded_driver(&version_file, "580.65.06");
    let (_, env, _) = devgpu(&["doctor", "."]);
    let c = container_check(&env);
    assert_eq!(c["status"], "fail", "{c}");
    let summary = c["summary"].as_str().unwrap();
    assert!(summary.contains("550.54.15") && summary.contains("580.65.06"), "{c}");
    assert!(c["fix"].as_str().unwrap().contains("devgpu up"), "{c}");
    assert_eq!(ws.containers(), [first.clone()]);

    // up recreates it and says why.
    let (code, env, stderr) = devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert_eq!((env["data"]["recreated"].as_bool(), env["data"]["reused"].as_bool()), (Some(true), Some(false)), "{env:#}");
    let second = env["data"]["containerId"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let why = env["data"]["warnings"].as_array().unwrap().iter().filter_map(|w| w.as_str()).find(|w| w.contains("recreating")).unwrap_or_else(|| panic!("no reason given: {env:#}")).to_string();
    assert!(why.contains("550.54.15") && why.contains("580.65.06"), "{why}");
    assert_eq!(ws.containers(), [second.clone()], "the stale container is gone");
    assert_eq!(inspect(&second, "{{index .Config.Labels \"devgpu.driver_version\"}}"), "580.65.06");

    // B stays: reused, and verify finds the container in order with the loaded driver.
    let (code, env, _) = devgpu(&["up"]);
    assert_eq!((code, env["data"]["reused"].as_bool(), env["data"]["containerId"].as_str()), (0, Some(true), Some(second.as_str())), "{env:#}");
    let (_, env, stderr) = devgpu(&["verify"]);
    let c = check(&env["data"], "drift.container-driver");
    assert_eq!(c["status"], "pass", "{env:#}\n{stderr}");
    assert!(c["summary"].as_str().unwrap().contains("580.65.06"), "{c}");
    assert_eq!(ws.containers(), [second.clone()], "verify used the running container");
}

/// Injected driver files against the loaded driver (named through `DEVGPU_PROC_DRIVER_VERSION`): doctor passes
/// them while their version is the module's, and fails them, naming both versions, once another driver is loaded.
#[test]
fn doctor_judges_injected_files_against_the_loaded_driver() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("libcuda.so.550.54.15");
    std::fs::write(&lib, "").unwrap();
    let version_file = dir.path().join("version");
    let ws = Workspace::new(&format!(
        r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--device", "/dev/nvidia0", "--mount", "type=bind,source={},target=/usr/local/nvidia/lib64/libcuda.so.550.54.15,readonly"] }}"#,
        lib.display()
    ));
    let inject_check = |loaded: &str| {
        loaded_driver(&version_file, loaded);
        let mut cmd = common::tools::devgpu();
        cmd.current_dir(&ws.root).args(["doctor", ".", "--json"]).env("DEVGPU_PROC_DRIVER_VERSION", &version_file);
        let out = common::tools::run_logged(&mut cmd);
        let (_, env, stderr) = up_support::parse(&cmd, out);
        let checks = env["data"]["checks"].as_array().unwrap_or_else(|| panic!("{env:#}\n{stderr}")).clone();
        checks.into_iter().find(|c| c["id"] == "drift.inject-driver").unwrap_or_else(|| panic!("no drift.inject-driver: {env:#}"))
    };
    let same = inject_check("550.54.15");
    assert_eq!(same["status"], "pass", "{same}");
    let other = inject_check("580.65.06");
    assert_eq!(other["status"], "fail", "{other}");
    let summary = other["summary"].as_str().unwrap();
    assert!(summary.contains("550.54.15") && summary.contains("580.65.06"), "{other}");
}
