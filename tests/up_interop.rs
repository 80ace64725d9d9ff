//! Parity with the real client (the official Dev Containers CLI, pinned in tests/tools/package.json) for
//! single-container configs (`image`, `build`, `runArgs`, a GPU request): `devgpu up` and `devcontainer up` make
//! containers that agree as `up_support::parity` compares them, and each tool reuses the other's container (found
//! by the `devcontainer.local_folder` / `devcontainer.config_file` labels, lifecycle commands not run again,
//! `devcontainer exec` running in it) — what VS Code's "Reopen in Container" relies on. Features configs are
//! compared in up_features.rs, Compose configs in up_compose_parity.rs.

mod common;
mod up_support;

use std::process::{Child, Command, Stdio};

use common::docker::{standin_images_available, STANDIN_IMAGE};
use serde_json::{json, Value};
use up_support::parity::{parity, parity_probe};
use up_support::{docker_exec, inspect, CaseImages, Workspace};

/// Named volumes a test's config makes (the same for both twins' containers), removed on drop.
struct Volumes(Vec<String>);

impl Drop for Volumes {
    fn drop(&mut self) {
        for v in &self.0 {
            let _ = Command::new("docker").args(["volume", "rm", "-f", v]).output();
        }
    }
}

/// An image config with most of what devcontainer.json sets on a container: environment with a `$`, remoteEnv,
/// a capability, a security option, init, a named volume, and a lifecycle command.
#[test]
fn an_image_config_matches_the_official_cli() {
    if !standin_images_available() {
        return;
    }
    let unique = common::docker::unique_suffix();
    let volume = format!("devgpu-parity-{unique}");
    let _volumes = Volumes(vec![volume.clone()]);
    let config = json!({
        "image": STANDIN_IMAGE,
        "containerEnv": {"FROM_JSON": "yes", "DOLLAR": "a$b"},
        "remoteEnv": {"R": "1"},
        "capAdd": ["SYS_PTRACE"],
        "securityOpt": ["seccomp=unconfined"],
        "init": true,
        "mounts": [format!("source={volume},target=/cache,type=volume")],
        "hostRequirements": {"gpu": "optional"},
        "postCreateCommand": "echo created >> /tmp/created.log",
    })
    .to_string();
    let (_ws, view, env) = parity(&|| Workspace::new(&config));
    assert_eq!(env["data"]["remoteUser"], "root");
    // The view is not trivially equal: it holds what the config asked for.
    assert_eq!(view["image"], STANDIN_IMAGE, "no image is derived for an image config without Features: {view:#}");
    assert!(view["env"].to_string().contains("FROM_JSON=yes") && view["env"].to_string().contains("DOLLAR=a$b"), "{view:#}");
    assert!(view["capAdd"].to_string().contains("SYS_PTRACE") && view["init"] == true && view["securityOpt"].to_string().contains("seccomp=unconfined"), "{view:#}");
    assert!(view["mounts"].to_string().contains("/cache") && view["mounts"].to_string().contains("<ws>"), "{view:#}");
    assert!(view["labels"]["labels.devcontainer.local_folder"] == "<ws>", "{view:#}");
}

/// A build config with a non-root `remoteUser` and `updateRemoteUserUID` at its default (true). The tests run as
/// root, so neither tool maps a uid (both skip the mapping for host uid 0): `dev` keeps the image's uid 1000 in
/// both containers; the mapping itself is tested in up_uid.rs.
#[test]
fn a_build_config_with_a_non_root_user_matches_the_official_cli() {
    if !standin_images_available() {
        return;
    }
    // Declared before the workspaces: their images go first, then what the classic builder left of the stages.
    let case = CaseImages::new();
    let unique = &case.0;
    let make = || {
        let ws = Workspace::new(
            r#"{ "build": { "dockerfile": "Dockerfile" }, "remoteUser": "dev", "runArgs": ["--network", "none"],
                 "containerEnv": {"FROM_JSON": "built"}, "onCreateCommand": "echo once >> /tmp/created.log" }"#,
        );
        ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nENV IMAGE_ENV=1\nRUN useradd -m -u 1000 dev\n"));
        ws
    };
    let (ws, view, env) = parity(&make);
    assert_eq!(env["data"]["remoteUser"], "dev");
    let id = env["data"]["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(id, None, "id -u dev"), "1000", "root runs the tests: no uid is mapped");
    assert_eq!(view["image"].as_str().map(|i| i.starts_with("devgpu-")), Some(true), "devgpu runs the image it built: {view:#}");
    assert!(view["env"].to_string().contains("IMAGE_ENV=1") && view["labels"].to_string().contains(unique), "{view:#}");
    assert_eq!(view["networkMode"], "none");
    // devgpu still reuses the container afterwards.
    let (_, again, _) = ws.devgpu(&["up"]);
    assert_eq!(again["data"]["containerId"], id);
}

/// `runArgs` the CLI passes through to `docker run`, which devgpu maps onto the create request: a capability, a
/// security option, the shared-memory size, an environment variable, a tmpfs `--mount` and no network.
#[test]
fn run_args_match_the_official_cli() {
    if !standin_images_available() {
        return;
    }
    let config = json!({
        "image": STANDIN_IMAGE,
        "runArgs": ["--cap-add", "NET_ADMIN", "--security-opt", "label=disable", "--shm-size=256m", "-e", "FROM_RUN_ARGS=1",
                    "--mount", "type=tmpfs,target=/scratch,tmpfs-size=1048576", "--network", "none"],
        "containerEnv": {"FROM_JSON": "run-args"},
        "postCreateCommand": "echo created >> /tmp/created.log",
    })
    .to_string();
    let (_ws, view, _) = parity(&|| Workspace::new(&config));
    assert_eq!((view["networkMode"].as_str(), view["shmSize"].as_u64()), (Some("none"), Some(256 << 20)), "{view:#}");
    assert!(view["capAdd"].to_string().contains("NET_ADMIN") && view["securityOpt"].to_string().contains("label=disable"), "{view:#}");
    assert!(view["env"].to_string().contains("FROM_RUN_ARGS=1") && view["tmpfs"].to_string().contains("/scratch"), "{view:#}");
}

/// More of what a config sets on the container: the remaining `runArgs` devgpu maps (a bind `-v` from the
/// workspace, `--ulimit`, `--ipc`, `--device`, `--label`, `--hostname`, `--add-host`, `--init`, `--privileged` is left
/// out as unsafe, `--cap-drop`, `--tmpfs`, `--group-add`, `-m`, `--cpus`, `--env-file`, `--stop-signal`, `--sysctl`) and the properties for the workspace and the user (`workspaceMount`, `workspaceFolder`,
/// `containerUser`, `remoteUser`).
#[test]
fn more_run_args_and_workspace_properties_match_the_official_cli() {
    if !standin_images_available() {
        return;
    }
    // Declared before the workspaces: their images go first, then what the classic builder left of the stages.
    let case = CaseImages::new();
    let unique = &case.0;
    let make = || {
        let ws = Workspace::new(
            r#"{ "build": { "dockerfile": "Dockerfile" },
                 "runArgs": ["-v", "${localWorkspaceFolder}/data:/data:ro", "--ulimit", "nofile=1024:2048", "--ipc=shareable",
                             "--device", "/dev/null:/dev/parity-null", "--label", "parity.label=yes", "--hostname", "parity-host",
                             "--add-host", "parity.test:127.0.0.2", "--init", "--network", "none",
                             "--cap-drop", "NET_RAW", "--tmpfs", "/run/parity:size=1m", "--group-add", "44", "-m", "512m", "--cpus", "1.5",
                             "--env-file", "${localWorkspaceFolder}/parity.env", "--stop-signal", "SIGINT", "--sysctl", "kernel.msgmax=65536"],
                 "workspaceMount": "source=${localWorkspaceFolder},target=/src/${localWorkspaceFolderBasename},type=bind",
                 "workspaceFolder": "/src/${localWorkspaceFolderBasename}",
                 "containerUser": "dev", "remoteUser": "dev", "updateRemoteUserUID": false,
                 "containerEnv": {"FROM_JSON": "${containerWorkspaceFolder}", "DOLLAR": "${localWorkspaceFolderBasename}"},
                 "postCreateCommand": "echo created >> /tmp/created.log" }"#,
        );
        ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN useradd -m -u 1000 dev\n"));
        ws.write("data/hello", "hi");
        ws.write("parity.env", "FROM_ENV_FILE=1\n");
        ws
    };
    // The open-files limit is read from PID 1, not from `ulimit -n` in the exec'd probe: runc before 1.1.13 (Debian 12
    // has 1.1.5) sets an exec'd process's limit in a race with the Go runtime's own raise of it (runc#4195), so an
    // exec now and then sees the hard limit as its soft one in either container (seen once in CI: 2048 vs 1024).
    let probe = "hostname; cat /data/hello; ls /dev/parity-null; awk '/open files/ {print $4, $5}' /proc/1/limits; grep parity.test /etc/hosts; id -un";
    let (_ws, view, env) = parity_probe(&make, &[], &[], probe);
    assert_eq!(env["data"]["workspaceFolder"].as_str().map(|f| f.starts_with("/src/")), Some(true), "{env:#}");
    assert_eq!(view["user"], "dev", "{view:#}");
    assert!(view["labels"].to_string().contains("parity.label") && view["devices"].to_string().contains("/dev/parity-null"), "{view:#}");
    assert!(view["ulimits"].to_string().contains("2048") && view["ipcMode"] == "shareable" && view["init"] == true, "{view:#}");
    assert!(view["env"].to_string().contains("FROM_ENV_FILE=1") && view["hostTmpfs"].to_string().contains("/run/parity") && view["memory"] == 512 << 20, "{view:#}");
}

/// A build config with `build.args` and a `build.target` stage whose image has its own ENTRYPOINT and CMD, kept by
/// `overrideCommand: false` (the keep-alive runs them), and a port published by `appPort`.
#[test]
fn a_build_target_with_its_own_command_and_a_port_matches_the_official_cli() {
    if !standin_images_available() {
        return;
    }
    // Declared before the workspaces: their images go first, then what the classic builder left of the stages.
    let case = CaseImages::new();
    let unique = &case.0;
    let make = || {
        let ws = Workspace::new(
            r#"{ "build": { "dockerfile": "Dockerfile", "context": "..", "args": {"GREETING": "hola"}, "target": "dev" },
                 "overrideCommand": false, "appPort": ["127.0.0.1::8080"],
                 "containerEnv": {"FROM_JSON": "target"}, "postCreateCommand": "echo created >> /tmp/created.log" }"#,
        );
        ws.write(
            ".devcontainer/Dockerfile",
            &format!(
                "FROM {STANDIN_IMAGE} AS base\nLABEL devgpu-test.case=\"{unique}\"\nARG GREETING=hello\nRUN echo \"$GREETING\" > /greeting\n\
                 FROM base AS dev\nCOPY marker.txt image-ep.sh /\nENTRYPOINT [\"/image-ep.sh\"]\nCMD [\"sleep\", \"infinity\"]\n\
                 FROM base AS other\nRUN echo other > /other\n"
            ),
        );
        ws.write("image-ep.sh", "#!/bin/sh\necho \"started:$*\" >> /tmp/image-cmd.log\nexec \"$@\"\n");
        std::fs::set_permissions(ws.root.join("image-ep.sh"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        ws.write("marker.txt", "from the context\n");
        ws
    };
    let (_ws, view, env) = parity_probe(&make, &[], &[], "cat /greeting /marker.txt /tmp/image-cmd.log; test ! -e /other && echo not-other");
    let id = env["data"]["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(id, None, "cat /greeting /marker.txt /tmp/image-cmd.log; test ! -e /other && echo not-other"), "hola\nfrom the context\nstarted:sleep infinity\nnot-other");
    assert!(view["cmd"].to_string().contains("/image-ep.sh") && view["ports"].to_string().contains("8080"), "{view:#}");
}

/// A front for the Docker socket that records the requests devgpu makes (tests/tools/record-docker-proxy.py).
struct Recorder {
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Recorder {
    fn start() -> Recorder {
        let dir = tempfile::Builder::new().prefix("devgpu-record-").tempdir().unwrap();
        let script = common::tools::manifest_dir().join("tests/tools/record-docker-proxy.py");
        let (child, line) = common::tools::start_until_first_line(
            Command::new("python3").arg(&script).arg(dir.path().join("docker.sock")).arg(dir.path().join("requests.log")),
            Stdio::null(),
        );
        assert_eq!(line, "ready", "the recording front did not start");
        Recorder { dir, child }
    }

    fn url(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }

    /// The JSON bodies of the `POST …/containers/create` requests, in order.
    fn create_bodies(&self) -> Vec<Value> {
        let log = std::fs::read(self.dir.path().join("requests.log")).unwrap();
        let log = String::from_utf8_lossy(&log);
        log.match_indices("POST /")
            .filter(|(at, _)| log[*at..].lines().next().is_some_and(|l| l.contains("/containers/create")))
            .filter_map(|(at, _)| {
                let body = &log[at..][log[at..].find("\r\n\r\n")? + 4..];
                serde_json::Deserializer::from_str(body).into_iter::<Value>().next()?.ok()
            })
            .collect()
    }
}

/// `build.options`, which the official CLI appends to its `docker build`: their `--build-arg` wins over `build.args`,
/// `--build-arg NAME` takes the value from the tool's environment, `--label` lands on the image (and so on the
/// container), `--add-host` reaches the build's RUN steps. (A `--target` there wins too, in both tools, but the
/// CLI then builds the named stage instead of its own last stage and loses its metadata label: a unit test in
/// plan/up.rs covers devgpu's side.)
#[test]
fn build_options_match_the_official_cli() {
    if !standin_images_available() {
        return;
    }
    let case = CaseImages::new();
    let unique = &case.0;
    let make = || {
        let ws = Workspace::new(
            r#"{ "build": { "dockerfile": "Dockerfile", "args": {"GREETING": "hello"}, "target": "dev",
                            "options": ["--build-arg=GREETING=hola", "--build-arg", "FROM_ENV_ARG",
                                        "--label", "devgpu-test.option=set", "--add-host", "mirror.test:10.1.2.3"] },
                 "runArgs": ["--network", "none"], "postCreateCommand": "echo created >> /tmp/created.log" }"#,
        );
        ws.write(
            ".devcontainer/Dockerfile",
            &format!(
                "FROM {STANDIN_IMAGE} AS base\nLABEL devgpu-test.case=\"{unique}\"\nARG GREETING\nARG FROM_ENV_ARG\n\
                 RUN echo \"$GREETING $FROM_ENV_ARG\" > /greeting && getent hosts mirror.test > /build-hosts\n\
                 FROM base AS dev\nRUN echo dev > /stage\nFROM base AS other\nRUN echo other > /stage\n"
            ),
        );
        ws
    };
    let env = [("FROM_ENV_ARG", std::ffi::OsStr::new("from-the-environment"))];
    let probe = "cat /greeting /stage; tr -s ' ' < /build-hosts";
    let (_ws, view, up) = parity_probe(&make, &env, &env, probe);
    let id = up["data"]["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(id, None, probe), "hola from-the-environment\ndev\n10.1.2.3 mirror.test");
    assert_eq!(view["labels"]["labels.devgpu-test.option"], "set", "{view:#}");
}

/// A device request with Docker's defaults written out (the API omits what inspect shows as null or empty).
fn device_requests(v: &Value) -> Value {
    let list: Vec<Value> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            json!({
                "Driver": r["Driver"].as_str().unwrap_or_default(),
                "Count": r["Count"].as_i64().unwrap_or(0),
                "DeviceIDs": r["DeviceIDs"].as_array().cloned().unwrap_or_default(),
                "Capabilities": r["Capabilities"].as_array().cloned().unwrap_or_default(),
                "Options": r["Options"].as_object().cloned().unwrap_or_default(),
            })
        })
        .collect();
    json!(list)
}

/// GPU requests in `runArgs` (`--gpus all`, `--gpus device=0`). This daemon has no NVIDIA runtime hook, so a
/// container that asks for a GPU is created but cannot start, with either tool: there is no running container to
/// reuse or exec in. What is compared instead is the request each tool makes: the CLI leaves its created container
/// behind (`docker run` does not remove it), whose `HostConfig.DeviceRequests` is read back; devgpu removes its
/// own after the failed start, so its create request is read on the way to the daemon (a recording front on the
/// Docker socket, `--docker-host`). Both must ask for the same devices, and both must fail to start.
#[test]
fn gpu_requests_in_run_args_match_the_official_cli() {
    if !standin_images_available() {
        return;
    }
    if !Command::new("sh").args(["-c", "command -v python3"]).stdout(Stdio::null()).status().is_ok_and(|s| s.success()) {
        common::tools::missing_prerequisite("python3 is not on PATH", "apt-get install python3");
        return;
    }
    let cli = common::tools::devcontainer_cli().expect("the official Dev Containers CLI");
    for (gpus, expected) in [
        ("all", json!([{"Driver": "", "Count": -1, "DeviceIDs": [], "Capabilities": [["gpu"]], "Options": {}}])),
        ("device=0", json!([{"Driver": "", "Count": 0, "DeviceIDs": ["0"], "Capabilities": [["gpu"]], "Options": {}}])),
    ] {
        let config = json!({"image": STANDIN_IMAGE, "runArgs": ["--gpus", gpus, "--network", "none"], "postCreateCommand": "echo created >> /tmp/created.log"}).to_string();

        let theirs = Workspace::new(&config);
        let (ok, result, stderr) = common::tools::devcontainer_json(&cli, &["up", "--workspace-folder", &theirs.root.display().to_string()]);
        let cli_containers = theirs.containers();
        assert_eq!(cli_containers.len(), 1, "the CLI's created container: {result:#}\n{stderr}");
        let cli_state = inspect(&cli_containers[0], "{{.State.Status}}");

        let ours = Workspace::new(&config);
        let recorder = Recorder::start();
        let (code, env, stderr) = ours.devgpu(&["--docker-host", &recorder.url(), "up"]);
        let bodies = recorder.create_bodies();
        assert_eq!(bodies.len(), 1, "devgpu created one container: {env:#}\n{stderr}");
        let cli_request = device_requests(&serde_json::from_str::<Value>(&inspect(&cli_containers[0], "{{json .HostConfig.DeviceRequests}}")).unwrap());
        let devgpu_request = device_requests(&bodies[0]["HostConfig"]["DeviceRequests"]);
        assert_eq!(devgpu_request, cli_request, "--gpus {gpus}: devgpu's device request differs from the official CLI's");
        assert_eq!(devgpu_request, expected, "--gpus {gpus}");
        // The rest of the request agrees too where the create body and inspect speak of the same thing.
        assert_eq!(bodies[0]["HostConfig"]["NetworkMode"], "none");
        let labels = &bodies[0]["Labels"];
        assert_eq!(labels["devcontainer.local_folder"], ours.root.display().to_string().as_str(), "{labels:#}");

        if ok {
            // A daemon with the NVIDIA hook (not CI's): the CLI's container started, so must devgpu's.
            assert_eq!(code, 0, "{env:#}\n{stderr}");
        } else {
            assert!(!ok && cli_state == "created", "the CLI's container cannot start without a GPU runtime: {cli_state}\n{result:#}");
            assert_eq!((code, env["error"]["code"].as_str()), (1, Some("gpu-unavailable")), "{env:#}\n{stderr}");
            assert!(ours.containers().is_empty(), "devgpu removed its container after the failed start");
        }
    }
}
