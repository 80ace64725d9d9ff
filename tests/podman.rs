//! Podman through its Docker-compatible socket (Debian's podman 4.3, started by `.ci/run` with the stand-in images
//! loaded: rootful on /run/podman/podman.sock, rootless as the user `devgpu-rootless` on
//! /run/user/UID/podman/podman.sock): `doctor`, `up`, `verify`, `down` with `--docker-host unix://…`, and CDI,
//! rootful and rootless, with a spec in /etc/cdi whose device nodes are stand-ins: `init --gpu-mode cdi` writes
//! `--device nvidia.com/gpu=all`, and `up` creates that container through Podman's own API (its compatible API
//! drops CDI devices), which gives it the nodes and the spec's environment; the container equals the one the
//! compatible API makes from the same body, but for the devices.

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

/// The service's URL: a socket path as `unix://PATH`, a URL as it is.
fn url_of(socket: &str) -> String {
    if socket.contains("://") {
        socket.to_string()
    } else {
        format!("unix://{socket}")
    }
}

/// `podman --remote` against a service (Podman's own API): `socket` is a socket path or a URL.
fn podman_at(socket: &str, args: &[&str]) -> std::process::Output {
    Command::new("podman").args(["--remote", "--url", &url_of(socket)]).args(args).output().expect("podman runs")
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

/// The rootless service's socket when it answers with the stand-in image (a missing one fails under CI).
fn rootless_ready() -> Option<String> {
    let Some(socket) = rootless_socket() else {
        missing_prerequisite(&format!("no user {ROOTLESS_USER} for rootless Podman"), "run .ci/run");
        return None;
    };
    service_ready(&socket).then_some(socket)
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
        let h = url_of(&self.socket);
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
            let _ = podman_at(&self.socket, &["rm", "-f", "-v", &id]);
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
        share_with_rootless_user(&ws.ws.root);
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
    let Some(socket) = rootless_ready() else { return };
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
    // The GPU reservation `devgpu init` writes: Podman's compatible API drops it, and `up` must say so.
    ws.ws.write(
        ".devcontainer/docker-compose.yml",
        "version: '3.8'\nservices:\n  app:\n    build:\n      context: .\n    volumes:\n      - ..:/srv\n    command: sleep infinity\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n              count: all\n              capabilities: [gpu]\n",
    );
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
    assert_eq!((up["data"]["gpu"]["requested"].as_bool(), up["data"]["gpu"]["granted"].as_bool()), (Some(true), Some(false)), "{up:#}");
    assert!(up["data"]["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("on Podman the service starts without a GPU")), "{up:#}");
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

/// A CDI spec in /etc/cdi whose device nodes are stand-ins: character devices 1:3 (as /dev/null) made with mknod.
/// Removed on drop, with the nodes.
struct CdiSpec {
    path: std::path::PathBuf,
    /// The nodes' paths in the container: `/dev/nvidia0` and `/dev/nvidiactl`, or the host paths of [`CdiSpec::at_host_paths`].
    nodes: [String; 2],
    host_nodes: Vec<std::path::PathBuf>,
    _dir: tempfile::TempDir,
    /// Two specs defining `nvidia.com/gpu=all` at once make the name unresolvable: one spec at a time.
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

static CDI_SPEC_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl CdiSpec {
    /// The nodes are made in a temp dir and mapped onto /dev/nvidia0 and /dev/nvidiactl with `hostPath`, as a spec
    /// for a GPU whose nodes the host has elsewhere.
    fn new(unique: &str) -> CdiSpec {
        let dir = tempfile::tempdir().unwrap();
        let host = [dir.path().join("nvidia0"), dir.path().join("nvidiactl")];
        CdiSpec::write(unique, dir, host.to_vec(), ["/dev/nvidia0".into(), "/dev/nvidiactl".into()])
    }

    /// The nodes are made in the host's /dev under names of their own (`/dev/devgpu-test-UNIQUE-nvidia0`, which no
    /// `/dev/nvidia*` lookup of another test sees), each at the same path in the container, as NVIDIA's generated
    /// specs have them (`hostPath` = `path`).
    fn at_host_paths(unique: &str) -> CdiSpec {
        let host: Vec<std::path::PathBuf> = ["nvidia0", "nvidiactl"].iter().map(|n| std::path::PathBuf::from(format!("/dev/devgpu-test-{unique}-{n}"))).collect();
        let nodes = [host[0].display().to_string(), host[1].display().to_string()];
        CdiSpec::write(unique, tempfile::tempdir().unwrap(), host, nodes)
    }

    fn write(unique: &str, dir: tempfile::TempDir, host: Vec<std::path::PathBuf>, nodes: [String; 2]) -> CdiSpec {
        let one_at_a_time = CDI_SPEC_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // Rootless Podman binds the nodes in as its user: it must reach them.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        for n in &host {
            let ok = Command::new("mknod").arg(n).args(["c", "1", "3"]).status().is_ok_and(|s| s.success());
            assert!(ok, "mknod (as root) makes the stand-in device node {}", n.display());
        }
        let spec = format!(
            "cdiVersion: \"0.5.0\"\nkind: nvidia.com/gpu\ndevices:\n  - name: \"0\"\n    containerEdits:\n      deviceNodes:\n        - path: {n0}\n          hostPath: {h0}\n  - name: all\n    containerEdits:\n      deviceNodes:\n        - path: {n0}\n          hostPath: {h0}\n      env: [\"DEVGPU_TEST_CDI={unique}\"]\ncontainerEdits:\n  deviceNodes:\n    - path: {n1}\n      hostPath: {h1}\n",
            n0 = nodes[0],
            n1 = nodes[1],
            h0 = host[0].display(),
            h1 = host[1].display(),
        );
        std::fs::create_dir_all("/etc/cdi").unwrap();
        let path = std::path::PathBuf::from(format!("/etc/cdi/devgpu-test-{unique}.yaml"));
        std::fs::write(&path, spec).unwrap();
        CdiSpec { path, nodes, host_nodes: host, _dir: dir, _one_at_a_time: one_at_a_time }
    }
}

impl Drop for CdiSpec {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        for n in &self.host_nodes {
            let _ = std::fs::remove_file(n);
        }
    }
}

/// A workspace on the Podman service at `socket` with the stand-in image, `init --gpu-mode cdi` applied to it.
fn cdi_workspace(socket: &str, rootless: bool) -> PodmanWs {
    let ws = PodmanWs::new(
        &format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"], "containerEnv": {{"ON": "podman"}}, "postCreateCommand": "echo once >> /tmp/created.log" }}"#),
        socket,
    );
    if rootless {
        share_with_rootless_user(&ws.ws.root);
    }
    // init --gpu-mode cdi asks for the GPU by its CDI name (the image and the rest are kept).
    let (code, init, stderr) = ws.devgpu(&["init", ".", "--gpu-mode", "cdi"]);
    assert_eq!(code, 0, "{init:#}\n{stderr}");
    let dc = std::fs::read_to_string(ws.ws.config_file()).unwrap();
    assert!(dc.contains("\"--device\", \"nvidia.com/gpu=all\"") || dc.contains("\"--device=nvidia.com/gpu=all\""), "{dc}");
    assert!(dc.contains(STANDIN_IMAGE), "{dc}");
    ws
}

/// `init --gpu-mode cdi`, then `up` (twice: reused), `verify`, `down` on one Podman service with a stand-in CDI
/// spec: the container is created through Podman's own API (its compatible one drops CDI devices) and gets the
/// spec's nodes and environment.
fn cdi_up_on(socket: &str, rootless: bool, spec: &CdiSpec, unique: &str) {
    let [n0, n1] = &spec.nodes;
    // The spec works on this service: Podman's own CLI hands a container the stand-in nodes and the environment.
    let out = podman_at(socket, &["run", "--rm", "--network", "none", "--device", "nvidia.com/gpu=all", STANDIN_IMAGE, "sh", "-c", &format!("stat -c '%n %t:%T' {n0} {n1}; echo $DEVGPU_TEST_CDI")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().collect::<Vec<_>>(), [format!("{n0} 1:3"), format!("{n1} 1:3"), unique.to_string()]);

    let ws = cdi_workspace(socket, rootless);
    let (code, up, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{up:#}\n{stderr}");
    let id = up["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(up["data"]["reused"], false);
    assert_eq!(ws.containers().len(), 1, "the container is Podman's");
    // The spec's environment is the main process's: Podman 4.3 applies CDI edits to the container's process, and
    // `podman exec` (its own CLI's containers alike) starts from the container's configured environment instead.
    let script = format!("stat -c '%n %t:%T' {n0} {n1}; tr '\\0' '\\n' < /proc/1/environ | grep '^DEVGPU_TEST_CDI='; echo \"exec:${{DEVGPU_TEST_CDI:-unset}} $ON\"; wc -l < /tmp/created.log");
    let out = podman_at(socket, &["exec", &id, "sh", "-c", &script]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = [format!("{n0} 1:3"), format!("{n1} 1:3"), format!("DEVGPU_TEST_CDI={unique}"), "exec:unset podman".into(), "1".into()];
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().collect::<Vec<_>>(), expected);
    // Found by the Dev Containers labels, as VS Code and the official CLI look for it.
    let out = podman_at(socket, &["inspect", "--format", "{{index .Config.Labels \"devcontainer.local_folder\"}}", &id]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), ws.ws.root.display().to_string());

    let (code, again, _) = ws.devgpu(&["up"]);
    assert_eq!((code, again["data"]["reused"].as_bool(), again["data"]["containerId"].as_str()), (0, Some(true), Some(id.as_str())), "{again:#}");
    // The official CLI driving the podman CLI (as VS Code does on Podman) reuses it: as root, the podman CLI sees
    // the rootful service's containers.
    if !rootless {
        if let Some(cli) = common::tools::devcontainer_cli() {
            let folder = ws.ws.root.display().to_string();
            let (ok, result, stderr) = common::tools::devcontainer_json(&cli, &["up", "--workspace-folder", &folder, "--docker-path", "podman"]);
            assert!(ok && result["outcome"] == "success", "{result:#}\n{stderr}");
            assert_eq!(result["containerId"], id.as_str(), "{result:#}");
            assert_eq!(ws.containers().len(), 1);
        }
    }

    // verify: stand-ins are no GPU, so the checks that need one fail (and verify with them); the device-node check
    // passes where the nodes are /dev/nvidia0 and /dev/nvidiactl.
    let (code, verify, stderr) = ws.devgpu(&["verify"]);
    assert_eq!(code, 1, "{verify:#}\n{stderr}");
    let nodes = up_support::check(&verify["data"], "gpu.device-nodes");
    if n0 == "/dev/nvidia0" {
        assert_eq!(nodes["status"], "pass", "{verify:#}");
        assert!(nodes["summary"].as_str().unwrap().contains("/dev/nvidia0"), "{nodes}");
    } else {
        assert_eq!(nodes["status"], "fail", "no /dev/nvidia* here: {verify:#}");
    }
    assert_eq!(up_support::check(&verify["data"], "vscode.glibc")["status"], "pass");
    let failed: Vec<&str> = verify["data"]["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "fail").map(|c| c["id"].as_str().unwrap()).collect();
    assert!(!failed.is_empty() && failed.iter().all(|c| c.starts_with("gpu.")), "only the GPU checks fail: {failed:?}\n{verify:#}");
    assert_eq!(ws.containers().len(), 1, "verify used the running container");

    let (code, down, _) = ws.devgpu(&["down"]);
    assert_eq!((code, down["data"]["containers"][0]["action"].as_str()), (0, Some("stopped")), "{down:#}");
    // Stopped, it starts again with its devices (start stays on the compatible API).
    let (code, again, stderr) = ws.devgpu(&["up"]);
    assert_eq!((code, again["data"]["reused"].as_bool(), again["data"]["started"].as_bool()), (0, Some(true), Some(true)), "{again:#}\n{stderr}");
    let out = podman_at(socket, &["exec", &id, "stat", "-c", "%n", n0]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), n0);
    let (code, _, _) = ws.devgpu(&["down", "--remove"]);
    assert_eq!(code, 0);
    assert!(ws.containers().is_empty());
}

/// The rootless user's containers see the workspace through its uid: it must own the folder (and reach it).
fn share_with_rootless_user(root: &std::path::Path) {
    let mut dir = root.to_path_buf();
    while dir.pop() && dir != std::path::Path::new("/tmp") && dir != std::path::Path::new("/") {
        let _ = Command::new("chmod").arg("755").arg(&dir).status();
    }
    assert!(Command::new("chown").args(["-R", ROOTLESS_USER]).arg(root).status().unwrap().success());
}

#[test]
fn cdi_mode_on_podman() {
    if !podman_ready() {
        return;
    }
    let unique = common::docker::unique_suffix();
    let spec = CdiSpec::new(&unique);
    cdi_up_on(SOCKET, false, &spec, &unique);
}

/// `--gpus all` on Podman: its compatible API drops the request, so the container would start without a GPU and
/// nothing would say so. devgpu asks for the GPU by its CDI name through Podman's own API instead (as Podman 5's
/// own `--gpus` does), and the container gets the spec's nodes and environment.
#[test]
fn gpus_all_on_podman_is_given_as_the_cdi_device() {
    if !podman_ready() {
        return;
    }
    let unique = common::docker::unique_suffix();
    let spec = CdiSpec::new(&unique);
    let [n0, n1] = &spec.nodes;
    let ws = PodmanWs::new(&format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none", "--gpus", "all"] }}"#), SOCKET);
    let (code, up, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{up:#}\n{stderr}");
    let id = up["data"]["containerId"].as_str().unwrap().to_string();
    let script = format!("stat -c '%n %t:%T' {n0} {n1}; tr '\\0' '\\n' < /proc/1/environ | grep '^DEVGPU_TEST_CDI='");
    let out = podman(&["exec", &id, "sh", "-c", &script]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().collect::<Vec<_>>(), [format!("{n0} 1:3"), format!("{n1} 1:3"), format!("DEVGPU_TEST_CDI={unique}")]);
    let (code, again, _) = ws.devgpu(&["up"]);
    assert_eq!((code, again["data"]["reused"].as_bool(), again["data"]["containerId"].as_str()), (0, Some(true), Some(id.as_str())), "{again:#}");
    let (code, _, _) = ws.devgpu(&["down", "--remove"]);
    assert_eq!(code, 0);
    assert!(ws.containers().is_empty());
}

/// Rootless Podman cannot make device nodes: runc bind-mounts each one from the host path equal to its path in the
/// container, whatever the spec's `hostPath`. So a spec that maps nodes from elsewhere (the stand-ins of
/// [`CdiSpec::new`]) gives a container that does not start, and `up` says so and leaves nothing behind; a spec with
/// the nodes at their own paths (as NVIDIA's generated specs have them) works as rootful does.
#[test]
fn cdi_mode_on_rootless_podman() {
    let Some(socket) = rootless_ready() else { return };
    let unique = common::docker::unique_suffix();
    {
        let _spec = CdiSpec::new(&unique);
        let ws = cdi_workspace(&socket, true);
        let (code, up, stderr) = ws.devgpu(&["up"]);
        assert_eq!(code, 1, "{up:#}\n{stderr}");
        let message = up["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("error creating device nodes") && message.contains("/dev/nvidia"), "{up:#}");
        assert!(message.contains("rootless") && message.contains("hostPath"), "the cause is named: {up:#}");
        assert!(up["error"]["hints"].to_string().contains("devgpu host cdi"), "{up:#}");
        assert!(ws.containers().is_empty(), "nothing left behind: {:?}", ws.containers());
    }
    let spec = CdiSpec::at_host_paths(&unique);
    cdi_up_on(&socket, true, &spec, &unique);
}

/// Where two JSON values differ: the paths (`a.b[2].c`) of the leaves that are not equal.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                differences(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), &format!("{path}.{k}"), out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} ≠ {b}")),
        _ => {}
    }
}

/// `podman inspect` of a container (Podman's own view, which VS Code reads on Podman), with its id, short id, name
/// and the names of its anonymous volumes (each container gets its own) replaced by placeholders, lists of strings
/// and the mounts sorted.
fn podman_inspect_normalised(socket: &str, id: &str, name: &str) -> (Value, Vec<String>) {
    let out = podman_at(socket, &["inspect", id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let raw: Value = serde_json::from_slice(&out.stdout).unwrap();
    let anonymous: Vec<String> = raw[0]["Mounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["Name"].as_str())
        .filter(|n| n.len() == 64 && n.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect();
    let mut text = String::from_utf8_lossy(&out.stdout).replace(id, "<ID>").replace(&id[..12], "<ID>").replace(name, "<NAME>");
    for v in &anonymous {
        text = text.replace(v, "<ANONYMOUS VOLUME>");
    }
    fn sort(v: &mut Value) {
        match v {
            Value::Array(a) => {
                a.iter_mut().for_each(sort);
                if a.iter().all(Value::is_string) {
                    a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
                }
            }
            Value::Object(o) => o.values_mut().for_each(sort),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(&text).unwrap();
    sort(&mut v);
    // Podman lists the mounts in no fixed order.
    if let Some(m) = v[0]["Mounts"].as_array_mut() {
        m.sort_by(|a, b| a["Destination"].as_str().cmp(&b["Destination"].as_str()));
    }
    (v[0].clone(), anonymous)
}

/// What differs by design between the two: when each was created, its state, the storage layer made for it, the
/// addresses the network gave each, and `CreateCommand`, where the compatible API records the service's own
/// command line (`podman system service …`).
const BY_DESIGN: &[&str] = &[
    ".Created",
    ".Config.Annotations.io.kubernetes.cri-o.Created",
    ".State.",
    ".GraphDriver.Data.",
    ".NetworkSettings.IPAddress",
    ".NetworkSettings.MacAddress",
    ".NetworkSettings.SandboxKey",
    ".NetworkSettings.Networks.podman.IPAddress",
    ".NetworkSettings.Networks.podman.MacAddress",
    ".Config.CreateCommand",
];

/// The container `up` creates through Podman's own API equals the one Podman's compatible API makes from the same
/// body, as `podman inspect` shows them once started, but for what differs by design ([`BY_DESIGN`]) and what the
/// compatible API drops: the CDI devices and the spec's environment. The body has every kind of option devgpu sets
/// (mounts of each type, env, labels with the Dev Containers metadata, user, entrypoint and command, capabilities,
/// security options, shm size, groups, hosts, ports, tmpfs, a device, a cgroup rule, resources, a sysctl, the
/// working directory). Not `init` (Debian's podman 4.3 lacks the catatonit it needs) nor `--ulimit` (a container
/// with one does not start on this machine, `error setting rlimit type 6`, through either API): their translation
/// is unit-tested in `plan::podman_spec`.
#[test]
fn the_libpod_container_equals_the_compatible_one() {
    if !podman_ready() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let ws = PodmanWs::new(
        &format!(
            r#"{{ "image": "{STANDIN_IMAGE}", "containerUser": "nobody", "containerEnv": {{"ON": "podman", "PATH": "/opt/x:/usr/bin:/bin"}},
                 "mounts": ["source=devgpu-parity-vol,target=/cache,type=volume", "source=/etc,target=/host-etc,type=bind,readonly"],
                 "capAdd": ["SYS_PTRACE"], "securityOpt": ["seccomp=unconfined"],
                 "runArgs": ["--shm-size", "256m", "--group-add", "44", "--add-host", "gpu.test:10.1.2.3",
                             "-p", "127.0.0.1:{port}:8080", "--tmpfs", "/scratch:rw,size=16m", "--label", "parity=yes", "-e", "FROM_RUN_ARGS=1",
                             "--device", "/dev/null:/dev/fake0:rwm", "--hostname", "devbox", "--cap-drop", "NET_RAW",
                             "-v", "/anonymous", "-v", "/tmp:/host-tmp:ro", "--memory", "512m", "--cpus", "1.5", "--security-opt", "no-new-privileges",
                             "--sysctl", "net.ipv4.ip_unprivileged_port_start=80", "--device-cgroup-rule", "c 195:* rwm", "--workdir", "/srv"] }}"#
        ),
        SOCKET,
    );
    /// The volumes the containers use, removed (with the containers, `-f`) on drop.
    struct Volumes(std::cell::RefCell<Vec<String>>);
    impl Drop for Volumes {
        fn drop(&mut self) {
            for v in self.0.borrow().iter() {
                let _ = podman(&["volume", "rm", "-f", v]);
            }
        }
    }
    let volumes = Volumes(vec!["devgpu-parity-vol".to_string()].into());
    let plan = devgpu::commands::up::prepare(ws.ws.path(), None).unwrap_or_else(|e| panic!("plan: {e:?}"));
    let unique = common::docker::unique_suffix();
    let _spec = CdiSpec::new(&unique);
    // The CDI request as `--device nvidia.com/gpu=all` puts it in the body: the compatible API drops it.
    let mut body = plan.container_body(&devgpu::plan::up::ImageFacts::default(), true);
    body.host_config.as_mut().unwrap().device_requests = Some(vec![bollard::models::DeviceRequest { driver: Some("cdi".into()), device_ids: Some(vec!["nvidia.com/gpu=all".into()]), ..Default::default() }]);
    let (compat_name, libpod_name) = (format!("devgpu-parity-compat-{unique}"), format!("devgpu-parity-libpod-{unique}"));
    let (compat, libpod) = devgpu::block_on(async {
        let docker = devgpu::docker::connect(Some(&host())).await.expect("Podman's socket");
        let opts = bollard::query_parameters::CreateContainerOptions { name: Some(compat_name.clone()), ..Default::default() };
        let compat = docker.client.create_container(Some(opts), body.clone()).await.expect("the compatible API creates it").id;
        let spec = devgpu::plan::podman_spec::spec_generator(&libpod_name, &body, false).expect("it translates");
        let libpod = devgpu::docker::libpod::create_container(&docker, &spec).await.unwrap_or_else(|e| panic!("Podman's own API refused {spec:#}: {e}"));
        (compat, libpod)
    });
    // Each inspected while it runs (the CDI edits are applied at start), one after the other (one host port).
    let running = |id: &str, name: &str| {
        let out = podman(&["start", id]);
        assert!(out.status.success(), "{name} starts: {}", String::from_utf8_lossy(&out.stderr));
        let (v, anonymous) = podman_inspect_normalised(SOCKET, id, name);
        volumes.0.borrow_mut().extend(anonymous);
        assert!(podman(&["stop", "-t", "0", id]).status.success());
        v
    };
    let a = running(&compat, &compat_name);
    let b = running(&libpod, &libpod_name);
    let mut diff = Vec::new();
    differences(&a, &b, "", &mut diff);
    diff.retain(|d| !BY_DESIGN.iter().any(|p| d.starts_with(p)));
    let paths: Vec<&str> = diff.iter().map(|d| d.split(':').next().unwrap()).collect();
    assert_eq!(paths, [".Config.Env", ".HostConfig.Devices"], "the containers differ:\n{}", diff.join("\n"));
    let cdi_env = format!("DEVGPU_TEST_CDI={unique}");
    let with_cdi_env: Vec<Value> = a["Config"]["Env"].as_array().unwrap().iter().cloned().chain([Value::from(cdi_env.as_str())]).collect();
    let mut with_cdi_env = Value::Array(with_cdi_env);
    with_cdi_env.as_array_mut().unwrap().sort_by(|x, y| x.as_str().cmp(&y.as_str()));
    assert_eq!(b["Config"]["Env"], with_cdi_env, "only the spec's environment is added");
    let added: Vec<&Value> = b["HostConfig"]["Devices"].as_array().unwrap().iter().filter(|d| !a["HostConfig"]["Devices"].as_array().unwrap().contains(d)).collect();
    let mut in_container: Vec<&str> = added.iter().map(|d| d["PathInContainer"].as_str().unwrap()).collect();
    in_container.sort();
    assert_eq!(in_container, ["/dev/nvidia0", "/dev/nvidiactl"], "only the spec's nodes are added: {b:#}");
    // And both have what the config asked for (so the comparison is not of two empty containers).
    assert_eq!(a["Config"]["User"], "nobody");
    assert_eq!(a["HostConfig"]["ShmSize"], 256 << 20);
    assert!(a["Config"]["Labels"]["devcontainer.metadata"].as_str().is_some_and(|m| m.contains("SYS_PTRACE")), "{a:#}");
    assert!(a["Mounts"].as_array().unwrap().iter().any(|m| m["Destination"] == "/cache"), "{a:#}");
}

/// A rootful Podman service of this test's own on a loopback TCP port (`podman system service tcp://…`), stopped
/// on drop.
struct TcpService {
    child: std::process::Child,
    url: String,
}

impl TcpService {
    fn start() -> TcpService {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new("podman")
            .args(["system", "service", "--time=0", &url])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("podman system service starts");
        let service = TcpService { child, url };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !podman_at(&service.url, &["version"]).status.success() {
            assert!(std::time::Instant::now() < deadline, "the Podman service on {} did not answer in 20 s", service.url);
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        service
    }
}

impl Drop for TcpService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Podman's own API over plain TCP (the other transport devgpu reaches it by): the CDI container is created
/// through it and has the spec's nodes.
#[test]
fn cdi_mode_on_podman_over_tcp() {
    if !podman_ready() {
        return;
    }
    let service = TcpService::start();
    let unique = common::docker::unique_suffix();
    let _spec = CdiSpec::new(&unique);
    let ws = cdi_workspace(&service.url, false);
    let (code, up, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{up:#}\n{stderr}");
    let id = up["data"]["containerId"].as_str().unwrap().to_string();
    let out = podman_at(&service.url, &["exec", &id, "stat", "-c", "%n %t:%T", "/dev/nvidia0", "/dev/nvidiactl"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().collect::<Vec<_>>(), ["/dev/nvidia0 1:3", "/dev/nvidiactl 1:3"], "{}", String::from_utf8_lossy(&out.stderr));
    let (code, _, _) = ws.devgpu(&["down", "--remove"]);
    assert_eq!(code, 0);
    assert!(ws.containers().is_empty());
}
