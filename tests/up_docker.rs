//! `devgpu up` / `verify` / `down` against the real Docker daemon (DESIGN.md §4), on the locally built stand-in
//! images (tests/tools/standin-images.sh): image and build configs, reuse and recreate, the lifecycle markers,
//! verify on glibc and busybox images, the GPU request on this GPU-less daemon (required and optional), a failing
//! Dockerfile step, and Ctrl-C. Every container and image is removed when its workspace guard drops.
//!
//! Under `CI` a missing daemon or stand-in image fails the test; elsewhere it is skipped with a note.

mod common;
mod up_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::docker::{standin_images_available, BUSYBOX_IMAGE, STANDIN_IMAGE};
use serde_json::Value;
use up_support::{check, docker_exec, inspect, Workspace};

fn image_config(extra: &str) -> String {
    format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"]{extra} }}"#)
}

fn ok(ws: &Workspace, args: &[&str]) -> Value {
    let (code, env, stderr) = ws.devgpu(args);
    assert_eq!(code, 0, "devgpu {args:?} failed: {env:#}\n{stderr}");
    assert_eq!(env["outcome"], "success", "{env:#}");
    env["data"].clone()
}

#[test]
fn image_config_is_created_reused_recreated_stopped_and_removed() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(&image_config(
        r#", "containerEnv": {"GREETING": "one"}, "postCreateCommand": "echo created >> /tmp/created.log", "postStartCommand": "echo started >> /tmp/started.log""#,
    ));
    let first = ok(&ws, &["up"]);
    let id = first["containerId"].as_str().unwrap().to_string();
    assert_eq!(first["reused"], false);
    assert_eq!(first["image"], STANDIN_IMAGE);
    assert_eq!(first["workspaceFolder"], format!("/workspaces/{}", ws.root.file_name().unwrap().to_string_lossy()));
    assert_eq!(first["remoteUser"], "root");
    assert_eq!(first["gpu"]["requested"], false);
    assert_eq!(ws.containers(), vec![id.clone()]);

    // The labels the Dev Containers CLI and VS Code look for, with absolute paths, and the metadata label.
    assert_eq!(inspect(&id, "{{index .Config.Labels \"devcontainer.local_folder\"}}"), ws.root.display().to_string());
    assert_eq!(inspect(&id, "{{index .Config.Labels \"devcontainer.config_file\"}}"), ws.config_file().display().to_string());
    let metadata: Value = serde_json::from_str(&inspect(&id, "{{index .Config.Labels \"devcontainer.metadata\"}}")).unwrap();
    assert_eq!(metadata[0]["containerEnv"]["GREETING"], "one");
    assert_eq!(inspect(&id, "{{.State.Status}}"), "running");
    assert_eq!(docker_exec(&id, None, "echo $GREETING; cat /tmp/created.log /tmp/started.log"), "one\ncreated\nstarted");
    // The workspace is bound at the workspace folder.
    ws.write("marker.txt", "from the host");
    assert_eq!(docker_exec(&id, None, &format!("cat {}/marker.txt", first["workspaceFolder"].as_str().unwrap())), "from the host");

    // Second up: the same container, nothing run again, fast.
    let t = Instant::now();
    let second = ok(&ws, &["up"]);
    let warm = t.elapsed();
    assert_eq!(second["containerId"], id.as_str());
    assert_eq!(second["reused"], true);
    assert_eq!(second["started"], false);
    assert!(warm < Duration::from_secs(2), "a warm up took {warm:?}");
    assert_eq!(docker_exec(&id, None, "wc -l < /tmp/created.log"), "1");

    // Stopped by down, started by up (postStartCommand runs again, postCreateCommand does not).
    let down = ok(&ws, &["down"]);
    assert_eq!(down["containers"][0]["action"], "stopped");
    assert_eq!(inspect(&id, "{{.State.Status}}"), "exited");
    let third = ok(&ws, &["up"]);
    assert_eq!((third["containerId"].as_str(), &third["reused"], &third["started"]), (Some(id.as_str()), &Value::Bool(true), &Value::Bool(true)));
    assert_eq!(docker_exec(&id, None, "wc -l < /tmp/created.log; wc -l < /tmp/started.log"), "1\n2");

    // An edit to devcontainer.json recreates the container.
    ws.write(".devcontainer/devcontainer.json", &image_config(r#", "containerEnv": {"GREETING": "two"}"#));
    let fourth = ok(&ws, &["up"]);
    let id2 = fourth["containerId"].as_str().unwrap().to_string();
    assert_ne!(id2, id);
    assert_eq!(fourth["recreated"], true);
    assert_eq!(ws.containers(), vec![id2.clone()], "the stale container is gone");
    assert_eq!(docker_exec(&id2, None, "echo $GREETING"), "two");
    // An editor-only change (customizations) does not.
    ws.write(
        ".devcontainer/devcontainer.json",
        &image_config(r#", "containerEnv": {"GREETING": "two"}, "customizations": {"vscode": {"extensions": ["ms-python.python"]}}"#),
    );
    assert_eq!(ok(&ws, &["up"])["containerId"], id2.as_str());

    let removed = ok(&ws, &["down", "--remove"]);
    assert_eq!(removed["containers"][0]["action"], "removed");
    assert!(ws.containers().is_empty());
    assert_eq!(ok(&ws, &["down"])["containers"], serde_json::json!([]));
}

#[test]
fn build_config_with_a_non_root_remote_user_builds_once_and_verifies() {
    if !standin_images_available() {
        return;
    }
    let unique = common::docker::unique_suffix();
    let ws = Workspace::new(
        r#"{
          // a build config, JSONC
          "build": { "dockerfile": "Dockerfile", "context": "..", "args": { "GREETING": "hello" } },
          "remoteUser": "dev",
          "runArgs": ["--network=none", "--shm-size=256m"],
          "onCreateCommand": "id -un > /tmp/oncreate-user",
        }"#,
    );
    ws.write(
        ".devcontainer/Dockerfile",
        &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nARG GREETING=hi\nRUN useradd -m -u 1000 dev && echo \"$GREETING\" > /greeting\nCOPY app.py /opt/app.py\nCOPY . /ctx\nUSER dev\n"),
    );
    ws.write("app.py", "print('hi')\n");
    ws.write("data/big.bin", &"x".repeat(100_000));
    ws.write("data/keep.txt", "kept");
    ws.write("pkg/__pycache__/m.cpython-312.pyc", "x");
    ws.write(".dockerignore", "data\n!data/keep.txt\n**/__pycache__\n");
    // The remote user (uid 1000) must be able to write the workspace, as on a developer's machine.
    assert!(Command::new("chown").args(["-R", "1000:1000"]).arg(&ws.root).status().unwrap().success());

    let up = ok(&ws, &["up"]);
    let id = up["containerId"].as_str().unwrap().to_string();
    assert_eq!(up["built"], true);
    assert_eq!(up["remoteUser"], "dev");
    let image = up["image"].as_str().unwrap().to_string();
    assert!(image.starts_with("devgpu-ws-"), "{image}");
    assert_eq!(docker_exec(&id, None, "cat /greeting /tmp/oncreate-user; whoami; ls /opt"), "hello\ndev\ndev\napp.py");
    assert_eq!(docker_exec(&id, None, "test -e /home/dev/.devcontainer/.onCreateCommandMarker && echo marker"), "marker");
    // The context honoured .dockerignore (with its exception) and still carried the Dockerfile.
    assert_eq!(docker_exec(&id, None, "cd /ctx && find . -type f | sort | tr '\\n' ' '"), "./.devcontainer/Dockerfile ./.devcontainer/devcontainer.json ./.dockerignore ./app.py ./data/keep.txt");

    let verify = ok(&ws, &["verify"]);
    assert_eq!(verify["passed"], true, "{verify:#}");
    assert_eq!(check(&verify, "user.exists")["status"], "pass");
    assert_eq!(check(&verify, "user.workspace-writable")["status"], "pass");
    assert_eq!(check(&verify, "container.shm")["status"], "pass", "{verify:#}");
    assert_eq!(verify["cleanup"], Value::Null, "a running container is left running");

    // No container, image built: the image is used as it is (no build).
    ok(&ws, &["down", "--remove"]);
    let again = ok(&ws, &["up"]);
    assert_eq!(again["built"], false);
    assert_eq!(again["image"], image.as_str());

    // --rebuild: built again (from the cache) and a new container.
    let forced = ok(&ws, &["up", "--rebuild"]);
    assert_eq!((&forced["built"], &forced["recreated"]), (&Value::Bool(true), &Value::Bool(true)));
    assert_ne!(forced["containerId"], again["containerId"]);

    // A Dockerfile edit rebuilds the image and recreates the container; the replaced image is removed.
    let old_image_id = inspect(&image, "{{.Id}}");
    let dockerfile = std::fs::read_to_string(ws.root.join(".devcontainer/Dockerfile")).unwrap();
    ws.write(".devcontainer/Dockerfile", &dockerfile.replace("USER dev", "ENV EDITED=1\nUSER dev"));
    let rebuilt = ok(&ws, &["up"]);
    assert_eq!((&rebuilt["built"], &rebuilt["recreated"]), (&Value::Bool(true), &Value::Bool(true)));
    let cid = rebuilt["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(cid, None, "echo $EDITED"), "1");
    assert_ne!(inspect(&image, "{{.Id}}"), old_image_id);
    assert!(!Command::new("docker").args(["image", "inspect", &old_image_id]).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap().success(), "the replaced image is removed");
}

#[test]
fn verify_passes_on_debian_and_fails_the_glibc_check_on_busybox() {
    if !standin_images_available() {
        return;
    }
    let debian = Workspace::new(&image_config(""));
    let (code, env, stderr) = debian.devgpu(&["verify"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let data = &env["data"];
    assert_eq!(check(data, "vscode.glibc")["status"], "pass");
    assert_eq!(check(data, "vscode.libstdcxx")["status"], "pass");
    assert_eq!(check(data, "vscode.tools")["status"], "pass");
    assert_eq!(check(data, "gpu.visible")["status"], "skip");
    assert_eq!(data["cleanup"], "removed", "verify removes the container it started");
    assert!(debian.containers().is_empty());
    // Progress on stderr: JSON Lines, checks included.
    let kinds: Vec<String> = stderr.lines().map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"))["type"].as_str().unwrap().to_string()).collect();
    assert!(kinds.contains(&"progress".to_string()) && kinds.contains(&"check".to_string()), "{stderr}");

    let busybox = Workspace::new(&format!(r#"{{ "image": "{BUSYBOX_IMAGE}", "runArgs": ["--network", "none"] }}"#));
    let (code, env, _) = busybox.devgpu(&["verify", "--keep"]);
    assert_eq!(code, 1, "{env:#}");
    assert_eq!(env["outcome"], "error");
    let glibc = check(&env["data"], "vscode.glibc");
    assert_eq!(glibc["status"], "fail");
    assert!(glibc["summary"].as_str().unwrap().contains("glibc"), "{glibc}");
    assert!(glibc["fix"].as_str().unwrap().contains("Ubuntu"), "{glibc}");
    assert_eq!(busybox.containers().len(), 1, "--keep keeps it");
}

#[test]
fn gpus_all_on_a_gpu_less_daemon_fails_with_the_toolkit_diagnosis_and_leaves_nothing() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(&format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--gpus", "all", "--network", "none"] }}"#));
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{env:#}");
    let err = &env["error"];
    assert_eq!(err["code"], "gpu-unavailable", "{env:#}");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains(r#"could not select device driver "" with capabilities: [[gpu]]"#), "{message}");
    let hints = err["hints"].to_string();
    assert!(hints.contains("nvidia-container-toolkit"), "{hints}");
    assert!(hints.contains("systemctl restart docker"), "{hints}");
    assert!(ws.containers().is_empty(), "no container left behind (not even one in Created)");

    // hostRequirements.gpu true: the same.
    ws.write(".devcontainer/devcontainer.json", &image_config(r#", "hostRequirements": {"gpu": true}"#));
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!((code, env["error"]["code"].as_str()), (1, Some("gpu-unavailable")));
    assert!(ws.containers().is_empty());
}

#[test]
fn optional_gpu_starts_without_one_and_warns() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(&image_config(r#", "hostRequirements": {"gpu": "optional"}"#));
    let data = ok(&ws, &["up"]);
    assert_eq!(data["gpu"]["requested"], true);
    assert_eq!(data["gpu"]["optional"], true);
    assert_eq!(data["gpu"]["granted"], false);
    assert!(data["warnings"].to_string().contains("without a GPU"), "{data:#}");
    let id = data["containerId"].as_str().unwrap();
    assert_eq!(inspect(id, "{{.State.Status}}"), "running");
    assert_eq!(inspect(id, "{{json .HostConfig.DeviceRequests}}"), "null");
    assert_eq!(ws.containers().len(), 1, "the failed GPU attempt left nothing");
    // verify warns about the GPU but passes.
    let (code, env, _) = ws.devgpu(&["verify"]);
    assert_eq!(code, 0, "{env:#}");
    assert_eq!(check(&env["data"], "gpu.visible")["status"], "warn");
}

/// A failing RUN step, through each builder: BuildKit (what `up` asks Docker's engine for) and the classic builder
/// (`DOCKER_BUILDKIT=0`, as for the docker CLI). Both name the step as `step N/M`, give the builder's own exit
/// message and the step's output lines in order, and tag nothing.
#[test]
fn a_failing_dockerfile_step_is_reported_with_its_log_lines() {
    if !standin_images_available() {
        return;
    }
    for (docker_buildkit, builder, exit_text) in [("1", "BuildKit", "exit code: 7"), ("0", "the classic builder", "returned a non-zero code: 7")] {
        let unique = common::docker::unique_suffix();
        let ws = Workspace::new(r#"{ "build": { "dockerfile": "Dockerfile" } }"#);
        ws.write(
            ".devcontainer/Dockerfile",
            &format!("FROM {STANDIN_IMAGE}\nRUN echo 'case {unique}' && echo 'compiling libfoo' && echo 'error: libfoo.h: No such file' >&2 && exit 7\nRUN echo never\n"),
        );
        let (code, env, stderr) = ws.devgpu_env(&["up"], &[("DOCKER_BUILDKIT", std::ffi::OsStr::new(docker_buildkit))]);
        assert_eq!(code, 1, "{env:#}");
        assert_eq!(env["error"]["code"], "build-failed");
        assert!(stderr.contains(&format!("with {builder}")), "progress names {builder}: {stderr}");
        let message = env["error"]["message"].as_str().unwrap();
        assert!(message.contains("step 2/") && message.contains("`RUN echo 'case"), "names the step: {message}");
        assert!(message.contains(exit_text), "{builder}: {message}");
        let output = ["case ", "compiling libfoo", "error: libfoo.h: No such file"].map(|l| message.find(l).unwrap_or_else(|| panic!("shows `{l}`: {message}")));
        assert!(output[0] < output[1], "in order: {message}");
        assert!(!message.contains('\u{1b}'), "no terminal escapes: {message:?}");
        assert!(!message.contains("echo never"), "not the step after it: {message}");
        assert!(stderr.contains(r#""type":"progress""#), "{stderr}");
        assert!(ws.containers().is_empty());
        let tagged = Command::new("docker").args(["images", "-q", "--filter", &format!("label=devgpu.local_folder={}", ws.root.display())]).output().unwrap();
        assert!(tagged.stdout.is_empty(), "no image tagged for a failed build");
    }
}

/// Dockerfiles written for BuildKit build: `RUN --mount` (a cache mount and a bind mount of a context file), which
/// the classic builder rejects.
#[test]
fn a_run_mount_builds_with_buildkit() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(r#"{ "build": { "dockerfile": "Dockerfile" }, "runArgs": ["--network", "none"] }"#);
    ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nRUN --mount=type=cache,target=/root/.cache/x --mount=type=bind,source=devcontainer.json,target=/cfg.json grep -c dockerfile /cfg.json > /mounted\n"));
    let (code, env, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert!(stderr.contains("with BuildKit"), "{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap();
    let out = Command::new("docker").args(["exec", id, "cat", "/mounted"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "the bind mount showed the context's devcontainer.json");
}

/// `build.options` `--shm-size` reaches the RUN steps: the engine's BuildKit would leave them 64 MB of /dev/shm, so
/// this build goes to the classic builder, and the progress says why.
#[test]
fn a_build_shm_size_reaches_the_run_steps() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(r#"{ "build": { "dockerfile": "Dockerfile", "options": ["--shm-size", "256m"] }, "runArgs": ["--network", "none"] }"#);
    ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nRUN df -k /dev/shm | awk 'NR == 2 {{print $2}}' > /shm-kib\n"));
    let (code, env, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert!(stderr.contains("with the classic builder (build.options' --shm-size"), "{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap();
    let out = Command::new("docker").args(["exec", id, "cat", "/shm-kib"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), (256 * 1024).to_string());
}

#[test]
fn ctrl_c_during_setup_removes_the_container_and_exits_130() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(&image_config(r#", "postCreateCommand": "sleep 60""#));
    let child = common::tools::devgpu().current_dir(&ws.root).args(["up", "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Wait until the container exists and the lifecycle command runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    while ws.containers().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(700));
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let env: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env["error"]["code"], "interrupted");
    assert!(ws.containers().is_empty(), "no orphaned container");
}

#[test]
fn ctrl_c_during_a_build_tags_nothing_and_leaves_no_build_container() {
    if !standin_images_available() {
        return;
    }
    use std::io::{BufRead, BufReader};
    let unique = common::docker::unique_suffix();
    let ws = Workspace::new(r#"{ "build": { "dockerfile": "Dockerfile" } }"#);
    ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN sleep 60 && echo done > /x\n"));
    let mut child = common::tools::devgpu().current_dir(&ws.root).args(["up", "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Wait for the RUN step to start (its progress line), then interrupt.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("RUN sleep 60") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("the build reached the RUN step");
    std::thread::sleep(Duration::from_millis(500));
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let t = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(t.elapsed() < Duration::from_secs(20), "the interrupted build did not run to its end");
    let env: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env["error"]["code"], "interrupted");
    let tagged = Command::new("docker").args(["images", "-q", "--filter", &format!("label=devgpu.local_folder={}", ws.root.display())]).output().unwrap();
    assert!(tagged.stdout.is_empty(), "no image tagged for an interrupted build");
    // The builder's container for the RUN step (it carries the image's labels) goes away with the build.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ps = Command::new("docker").args(["ps", "-aq", "--filter", &format!("label=devgpu-test.case={unique}")]).output().unwrap();
        if ps.stdout.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the build container is still there: {}", String::from_utf8_lossy(&ps.stdout));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(ws.containers().is_empty());
}

#[test]
fn a_failing_post_create_command_is_reported_and_its_container_removed() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(&image_config(r#", "postCreateCommand": {"ok": "true", "bad": "echo 'pip: no matching distribution' >&2; exit 3"}"#));
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{env:#}");
    assert_eq!(env["error"]["code"], "lifecycle-command-failed");
    let message = env["error"]["message"].as_str().unwrap();
    assert!(message.contains("postCreateCommand `bad` failed with exit code 3"), "{message}");
    assert!(message.contains("pip: no matching distribution"), "{message}");
    assert!(message.contains("removed"), "{message}");
    assert!(ws.containers().is_empty());
}
