//! Podman through its Docker-compatible socket (Debian's podman 4.3, rootful, started by `.ci/run` on
//! /run/podman/podman.sock with the stand-in images loaded): `doctor`, `up`, `verify`, `down` with
//! `--docker-host unix:///run/podman/podman.sock`, and CDI: a spec whose device nodes are stand-ins gives a Podman
//! container the nodes, `init --gpu-mode cdi` writes `--device nvidia.com/gpu=all`, and `up` on Podman's compatible
//! API refuses that request with the reason (Podman 4.3 applies CDI devices only through its own CLI/API) instead of
//! starting a container without its GPU.

mod common;
mod up_support;

use std::process::Command;

use common::docker::STANDIN_IMAGE;
use common::tools::missing_prerequisite;
use serde_json::Value;
use up_support::Workspace;

const SOCKET: &str = "/run/podman/podman.sock";

fn host() -> String {
    format!("unix://{SOCKET}")
}

/// `podman --remote` against the service (Podman's own API).
fn podman(args: &[&str]) -> std::process::Output {
    Command::new("podman").args(["--remote", "--url", &host()]).args(args).output().expect("podman runs")
}

/// The Podman service answers and holds the stand-in image (a missing one fails under CI).
fn podman_ready() -> bool {
    let fix = "apt-get install podman; podman system service --time=0 unix:///run/podman/podman.sock &; docker save devgpu-test/standin:bookworm | podman load   (or run .ci/run)";
    match Command::new("podman").args(["--remote", "--url", &host(), "version"]).output() {
        Ok(o) if o.status.success() => {}
        _ => return missing_prerequisite(&format!("the Podman service does not answer on {SOCKET}"), fix),
    }
    if !podman(&["image", "exists", STANDIN_IMAGE]).status.success() {
        return missing_prerequisite(&format!("Podman has no {STANDIN_IMAGE}"), fix);
    }
    true
}

/// A workspace whose containers live in Podman (removed there on drop).
struct PodmanWs(Workspace);

impl PodmanWs {
    fn devgpu(&self, args: &[&str]) -> (i32, Value, String) {
        let h = host();
        let mut all = args.to_vec();
        all.extend(["--docker-host", h.as_str()]);
        self.0.devgpu(&all)
    }

    /// `podman ps -a` for this workspace: (id, state).
    fn containers(&self) -> Vec<(String, String)> {
        let out = podman(&["ps", "-a", "--filter", &format!("label=devcontainer.local_folder={}", self.0.root.display()), "--format", "{{.ID}} {{.State}}"]);
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string()))).collect()
    }
}

impl Drop for PodmanWs {
    fn drop(&mut self) {
        for (id, _) in self.containers() {
            let _ = podman(&["rm", "-f", &id]);
        }
    }
}

#[test]
fn doctor_up_verify_down_through_podmans_socket() {
    if !podman_ready() {
        return;
    }
    let ws = PodmanWs(Workspace::new(&format!(
        r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"], "containerEnv": {{"ON": "podman"}}, "postCreateCommand": "echo once >> /tmp/created.log" }}"#
    )));

    let (_, doctor, stderr) = ws.devgpu(&["doctor"]);
    let reachable = doctor["data"]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "docker.reachable").cloned().unwrap_or_default();
    assert_eq!(reachable["status"], "pass", "{doctor:#}\n{stderr}");
    assert!(reachable["summary"].as_str().unwrap().contains(SOCKET), "{reachable:#}");
    let engine = doctor["data"]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "docker.engine").cloned().unwrap_or_default();
    assert!(engine["summary"].as_str().unwrap().starts_with("Podman 4."), "{engine:#}");

    let (code, up, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{up:#}\n{stderr}");
    let id = up["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(ws.containers().len(), 1, "the container is Podman's");
    assert!(ws.0.containers().is_empty(), "and not Docker's");
    let out = podman(&["exec", &id, "sh", "-c", "echo $ON; wc -l < /tmp/created.log"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>(), ["podman", "1"]);

    let (code, again, _) = ws.devgpu(&["up"]);
    assert_eq!((code, again["data"]["reused"].as_bool(), again["data"]["containerId"].as_str()), (0, Some(true), Some(id.as_str())));

    let (code, verify, stderr) = ws.devgpu(&["verify"]);
    assert_eq!(code, 0, "{verify:#}\n{stderr}");
    assert_eq!(up_support::check(&verify["data"], "vscode.glibc")["status"], "pass");
    assert_eq!(up_support::check(&verify["data"], "user.workspace-writable")["status"], "pass");

    let (code, down, _) = ws.devgpu(&["down"]);
    assert_eq!((code, down["data"]["containers"][0]["action"].as_str()), (0, Some("stopped")), "{down:#}");
    assert!(ws.containers()[0].1.to_lowercase().starts_with("exited"), "{:?}", ws.containers());
    let (code, _, _) = ws.devgpu(&["down", "--remove"]);
    assert_eq!(code, 0);
    assert!(ws.containers().is_empty());
}

/// A CDI spec in /etc/cdi whose device nodes are stand-ins (character devices 1:3, like /dev/null, made with
/// mknod in a temp dir and mapped onto /dev/nvidia0 and /dev/nvidiactl with `hostPath`). Removed on drop.
struct CdiSpec {
    path: std::path::PathBuf,
    _nodes: tempfile::TempDir,
}

impl CdiSpec {
    fn new(unique: &str) -> CdiSpec {
        let nodes = tempfile::tempdir().unwrap();
        for n in ["nvidia0", "nvidiactl"] {
            let ok = Command::new("mknod").arg(nodes.path().join(n)).args(["c", "1", "3"]).status().is_ok_and(|s| s.success());
            assert!(ok, "mknod (as root) makes the stand-in device nodes");
        }
        let spec = format!(
            "cdiVersion: \"0.5.0\"\nkind: nvidia.com/gpu\ndevices:\n  - name: \"0\"\n    containerEdits:\n      deviceNodes:\n        - path: /dev/nvidia0\n          hostPath: {dir}/nvidia0\n  - name: all\n    containerEdits:\n      deviceNodes:\n        - path: /dev/nvidia0\n          hostPath: {dir}/nvidia0\n      env: [\"DEVGPU_TEST_CDI={unique}\"]\ncontainerEdits:\n  deviceNodes:\n    - path: /dev/nvidiactl\n      hostPath: {dir}/nvidiactl\n",
            dir = nodes.path().display()
        );
        std::fs::create_dir_all("/etc/cdi").unwrap();
        let path = std::path::PathBuf::from(format!("/etc/cdi/devgpu-test-{unique}.yaml"));
        std::fs::write(&path, spec).unwrap();
        CdiSpec { path, _nodes: nodes }
    }
}

impl Drop for CdiSpec {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[test]
fn cdi_mode_on_podman() {
    if !podman_ready() {
        return;
    }
    let unique = common::docker::unique_suffix();
    let _spec = CdiSpec::new(&unique);

    // The spec works on Podman: its own API hands the container the stand-in nodes and the spec's environment.
    let out = podman(&["run", "--rm", "--network", "none", "--device", "nvidia.com/gpu=all", STANDIN_IMAGE, "sh", "-c", "stat -c '%n %t:%T' /dev/nvidia0 /dev/nvidiactl; echo $DEVGPU_TEST_CDI"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().collect::<Vec<_>>(), ["/dev/nvidia0 1:3", "/dev/nvidiactl 1:3", unique.as_str()]);

    // init --gpu-mode cdi asks for the GPU by its CDI name.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("proj");
    common::tools::copy_dir(&common::tools::manifest_dir().join("examples/pytorch"), &dir);
    let _ = std::fs::remove_dir_all(dir.join(".devcontainer"));
    let env = common::tools::devgpu_init_json(&dir, &["--gpu-mode", "cdi", "--docker-host", &host()]);
    assert_eq!(env["outcome"], "success", "{env:#}");
    let dc = std::fs::read_to_string(dir.join(".devcontainer/devcontainer.json")).unwrap();
    assert!(dc.contains("\"--device\", \"nvidia.com/gpu=all\"") || dc.contains("\"--device=nvidia.com/gpu=all\""), "{dc}");

    // up through Podman's Docker-compatible API would start the container without the GPU (Podman 4.3 applies CDI
    // names there neither as devices nor as device requests): refused, with the ways that work, nothing created.
    let ws = PodmanWs(Workspace::new(&format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none", "--device", "nvidia.com/gpu=all"] }}"#)));
    let (code, up, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{up:#}\n{stderr}");
    assert_eq!(up["error"]["code"], "gpu-unavailable", "{up:#}");
    assert!(up["error"]["hints"].to_string().contains("--gpu-mode inject"), "{up:#}");
    assert!(ws.containers().is_empty());
}
