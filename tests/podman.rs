//! Podman through its Docker-compatible socket (Debian's podman 4.3, started by `.ci/run` with the stand-in images
//! loaded: rootful on /run/podman/podman.sock, rootless as the user `devgpu-rootless` on
//! /run/user/UID/podman/podman.sock): `doctor`, `up`, `verify`, `down` with `--docker-host unix://…`, and CDI: a spec whose device nodes are stand-ins gives a Podman
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
const ROOTLESS_USER: &str = "devgpu-rootless";

fn host() -> String {
    format!("unix://{SOCKET}")
}

/// The rootless service's socket: `/run/user/UID/podman/podman.sock` of [`ROOTLESS_USER`].
fn rootless_socket() -> Option<String> {
    let out = Command::new("id").args(["-u", ROOTLESS_USER]).output().ok().filter(|o| o.status.success())?;
    Some(format!("/run/user/{}/podman/podman.sock", String::from_utf8_lossy(&out.stdout).trim()))
}

/// `podman --remote` against a service (Podman's own API).
fn podman_at(socket: &str, args: &[&str]) -> std::process::Output {
    Command::new("podman").args(["--remote", "--url", &format!("unix://{socket}")]).args(args).output().expect("podman runs")
}

fn podman(args: &[&str]) -> std::process::Output {
    podman_at(SOCKET, args)
}

/// The Podman service on `socket` answers and holds the stand-in image (a missing one fails under CI).
fn service_ready(socket: &str) -> bool {
    let fix = "run .ci/run (it installs podman, starts the rootful and rootless services and loads the stand-in images)";
    if !podman_at(socket, &["version"]).status.success() {
        return missing_prerequisite(&format!("the Podman service does not answer on {socket}"), fix);
    }
    if !podman_at(socket, &["image", "exists", STANDIN_IMAGE]).status.success() {
        return missing_prerequisite(&format!("the Podman service on {socket} has no {STANDIN_IMAGE}"), fix);
    }
    true
}

fn podman_ready() -> bool {
    service_ready(SOCKET)
}

/// A workspace whose containers live in a Podman service (removed there on drop).
struct PodmanWs {
    ws: Workspace,
    socket: String,
}

impl PodmanWs {
    fn new(devcontainer_json: &str, socket: &str) -> PodmanWs {
        PodmanWs { ws: Workspace::new(devcontainer_json), socket: socket.into() }
    }

    fn devgpu(&self, args: &[&str]) -> (i32, Value, String) {
        let h = format!("unix://{}", self.socket);
        let mut all = args.to_vec();
        all.extend(["--docker-host", h.as_str()]);
        self.ws.devgpu(&all)
    }

    /// `podman ps -a` for this workspace: (id, state).
    fn containers(&self) -> Vec<(String, String)> {
        let out = podman_at(&self.socket, &["ps", "-a", "--filter", &format!("label=devcontainer.local_folder={}", self.ws.root.display()), "--format", "{{.ID}} {{.State}}"]);
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string()))).collect()
    }
}

impl Drop for PodmanWs {
    fn drop(&mut self) {
        for (id, _) in self.containers() {
            let _ = podman_at(&self.socket, &["rm", "-f", &id]);
        }
    }
}

/// doctor, up (twice: reused), verify, down, down --remove against one Podman service.
fn lifecycle_on(socket: &str, rootless: bool) {
    let ws = PodmanWs::new(
        &format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"], "containerEnv": {{"ON": "podman"}}, "postCreateCommand": "echo once >> /tmp/created.log" }}"#),
        socket,
    );
    if rootless {
        // The rootless user's containers see the workspace through its uid: it must own the folder (and reach it).
        let mut dir = ws.ws.root.clone();
        while dir.pop() && dir != std::path::Path::new("/tmp") && dir != std::path::Path::new("/") {
            let _ = Command::new("chmod").arg("755").arg(&dir).status();
        }
        assert!(Command::new("chown").args(["-R", ROOTLESS_USER]).arg(&ws.ws.root).status().unwrap().success());
    }

    let (_, doctor, stderr) = ws.devgpu(&["doctor"]);
    let check = |id: &str| doctor["data"]["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap_or_default();
    assert_eq!(check("docker.reachable")["status"], "pass", "{doctor:#}\n{stderr}");
    assert!(check("docker.reachable")["summary"].as_str().unwrap().contains(socket), "{doctor:#}");
    let engine = check("docker.engine")["summary"].as_str().unwrap_or_default().to_string();
    assert!(engine.starts_with("Podman 4.") && engine.ends_with(if rootless { "rootless" } else { "rootful" }), "{engine}");

    let (code, up, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{up:#}\n{stderr}");
    let id = up["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(ws.containers().len(), 1, "the container is Podman's");
    assert!(ws.ws.containers().is_empty(), "and not Docker's");
    let out = podman_at(socket, &["exec", &id, "sh", "-c", "echo $ON; wc -l < /tmp/created.log"]);
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

#[test]
fn doctor_up_verify_down_through_podmans_socket() {
    if !podman_ready() {
        return;
    }
    lifecycle_on(SOCKET, false);
}

#[test]
fn rootless_podman() {
    let Some(socket) = rootless_socket() else {
        missing_prerequisite(&format!("no user {ROOTLESS_USER} for rootless Podman"), "run .ci/run");
        return;
    };
    if !service_ready(&socket) {
        return;
    }
    lifecycle_on(&socket, true);
}

/// A Compose config on Podman: Debian's docker-compose drives Podman's compatible socket like dockerd's.
#[test]
fn compose_on_podman() {
    if !podman_ready() || !common::tools::compose_available() {
        return;
    }
    let ws = PodmanWs::new(r#"{ "dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/srv", "postCreateCommand": "echo once >> /tmp/created.log" }"#, SOCKET);
    let name = ws.ws.root.file_name().unwrap().to_string_lossy().to_lowercase();
    ws.ws.write(".devcontainer/docker-compose.yml", "version: '3.8'\nservices:\n  app:\n    build:\n      context: .\n    volumes:\n      - ..:/srv\n    command: sleep infinity\n");
    ws.ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nRUN echo built > /built.txt\n"));
    let cache = tempfile::tempdir().unwrap();
    let project = format!("{name}_devcontainer");
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = podman(&["rm", "-f", "--filter", &format!("label=com.docker.compose.project={}", self.0)]);
            let _ = podman(&["rmi", "-f", &format!("{}_app", self.0)]);
            let _ = podman(&["network", "rm", &format!("{}_default", self.0)]);
        }
    }
    let _cleanup = Cleanup(project.clone());
    let devgpu = |args: &[&str]| {
        let mut cmd = common::tools::devgpu();
        cmd.current_dir(&ws.ws.root).args(args).args(["--json", "--docker-host", &host()]).env("XDG_CACHE_HOME", cache.path());
        let out = common::tools::run_logged(&mut cmd);
        up_support::parse(&cmd, out)
    };
    let (code, up, stderr) = devgpu(&["up"]);
    assert_eq!(code, 0, "{up:#}\n{stderr}");
    assert_eq!(up["data"]["built"], true);
    let id = up["data"]["containerId"].as_str().unwrap().to_string();
    let out = podman(&["exec", &id, "sh", "-c", "cat /built.txt /tmp/created.log; ls /srv/.devcontainer/Dockerfile"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().collect::<Vec<_>>(), ["built", "once", "/srv/.devcontainer/Dockerfile"]);
    let out = podman(&["inspect", "--format", "{{index .Config.Labels \"com.docker.compose.project\"}}", &id]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), project);
    let (code, verify, stderr) = devgpu(&["verify"]);
    assert_eq!(code, 0, "{verify:#}\n{stderr}");
    let (code, _, _) = devgpu(&["down", "--remove"]);
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
    let ws = PodmanWs::new(&format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none", "--device", "nvidia.com/gpu=all"] }}"#), SOCKET);
    let (code, up, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{up:#}\n{stderr}");
    assert_eq!(up["error"]["code"], "gpu-unavailable", "{up:#}");
    assert!(up["error"]["hints"].to_string().contains("--gpu-mode inject"), "{up:#}");
    assert!(ws.containers().is_empty());
}
