//! GPU drift at the edge, on this GPU-less machine: a stand-in NVIDIA device node (a character device made with
//! `mknod`, numbers of /dev/null, mode 0660 and a group the image does not know), handed in as devgpu's inject
//! mode does (`--device HOST:/dev/nvidia0`). `up` adds `--group-add` with the node's gid, so the non-root remote
//! user can open it; `verify` reports `drift.device-groups` as passing (its GPU checks fail: there is no GPU). A
//! root-only node (0600) gets the failing check with the driver's own module options as the fix.
//!
//! The driver-version drift (CDI spec, injected files, a container created under another driver) needs a loaded
//! NVIDIA kernel module; its checks are tested on captured text in `src/checks/drift.rs`.

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
    if !standin_images_available() {
        return;
    }
    if !common::tools::is_root() && !common::tools::missing_prerequisite("mknod needs root", "run the test as root (CI does)") {
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
    if !standin_images_available() {
        return;
    }
    if !common::tools::is_root() && !common::tools::missing_prerequisite("mknod needs root", "run the test as root (CI does)") {
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
