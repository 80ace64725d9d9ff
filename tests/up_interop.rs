//! Interop with the real client (the official Dev Containers CLI, pinned in tests/tools/package.json): after
//! `devgpu up`, `devcontainer up --workspace-folder …` returns the same container (it finds it by the
//! `devcontainer.local_folder` / `devcontainer.config_file` labels), does not run the lifecycle commands again
//! (devgpu wrote the CLI's marker files), and `devcontainer exec` runs in it — what VS Code's "Reopen in
//! Container" relies on.

mod common;
mod up_support;

use std::path::Path;
use std::process::Command;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use serde_json::Value;
use up_support::{docker_exec, Workspace};

fn devcontainer(cli: &Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(cli);
    cmd.args(args);
    let out = common::tools::run_logged(&mut cmd);
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

fn last_json(stdout: &str) -> Value {
    stdout.lines().rev().find_map(|l| serde_json::from_str::<Value>(l.trim()).ok()).unwrap_or_else(|| panic!("no JSON result in {stdout}"))
}

fn interop(ws: &Workspace, cli: &Path) {
    let (code, env, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    let remote_user = env["data"]["remoteUser"].as_str().unwrap().to_string();

    let folder = ws.root.display().to_string();
    let (ok, stdout, stderr) = devcontainer(cli, &["up", "--workspace-folder", &folder]);
    let result = last_json(&stdout);
    assert!(ok && result["outcome"] == "success", "devcontainer up failed: {result:#}\n{stderr}");
    assert_eq!(result["containerId"], id.as_str(), "the official CLI reuses devgpu's container");
    assert_eq!(result["remoteUser"], remote_user.as_str());
    assert_eq!(result["remoteWorkspaceFolder"], env["data"]["workspaceFolder"]);
    assert_eq!(ws.containers(), vec![id.clone()], "and creates no other");

    let (ok, stdout, stderr) = devcontainer(cli, &["exec", "--workspace-folder", &folder, "sh", "-c", "echo in:$(hostname):$(id -un):$(pwd)"]);
    assert!(ok, "devcontainer exec failed: {stderr}");
    assert_eq!(stdout.trim(), format!("in:{}:{remote_user}:{}", &id[..12], env["data"]["workspaceFolder"].as_str().unwrap()));

    // The lifecycle commands ran once: devgpu's run, not again by the CLI.
    assert_eq!(docker_exec(&id, None, "wc -l < /tmp/created.log"), "1");
    // devgpu still reuses the container afterwards.
    let (_, again, _) = ws.devgpu(&["up"]);
    assert_eq!(again["data"]["containerId"], id.as_str());
}

#[test]
fn official_cli_reuses_an_image_config_container() {
    if !standin_images_available() {
        return;
    }
    let Some(cli) = common::tools::devcontainer_cli() else { return };
    let ws = Workspace::new(&format!(
        r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"], "containerEnv": {{"A": "1"}}, "postCreateCommand": "echo once >> /tmp/created.log" }}"#
    ));
    interop(&ws, &cli);
}

#[test]
fn official_cli_reuses_a_build_config_container_with_a_non_root_user() {
    if !standin_images_available() {
        return;
    }
    let Some(cli) = common::tools::devcontainer_cli() else { return };
    let unique = common::docker::unique_suffix();
    let ws = Workspace::new(
        r#"{ "build": { "dockerfile": "Dockerfile" }, "remoteUser": "dev", "runArgs": ["--network", "none"],
             "onCreateCommand": "echo once >> /tmp/created.log" }"#,
    );
    ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN useradd -m -u 1000 dev\n"));
    interop(&ws, &cli);
}
