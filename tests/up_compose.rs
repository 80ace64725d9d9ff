//! Docker Compose configs against the real daemon and the Compose CLI the machine has (Debian's `docker-compose`
//! 1.29 in CI, installed by `.ci/run`): `devgpu up` builds and starts the project on the stand-in image (no
//! network), honours `runServices`, `verify` passes, `down` honours `shutdownAction`, and the official Dev
//! Containers CLI reuses devgpu's compose container (and devgpu reuses the CLI's).

mod common;
mod up_support;

use std::process::Command;

use common::docker::standin_images_available;
use common::tools::compose_available;
use up_support::compose::ComposeWs;
use up_support::{docker_exec, inspect};

fn ready() -> bool {
    standin_images_available() && compose_available()
}

#[test]
fn compose_up_reuse_official_cli_verify_and_down() {
    if !ready() {
        return;
    }
    let Some(cli) = common::tools::devcontainer_cli() else { return };
    let cws = ComposeWs::new(
        r#"{
  // A Compose config as the official templates write it.
  "name": "compose",
  "dockerComposeFile": "docker-compose.yml",
  "service": "app",
  "runServices": ["db"],
  "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}",
  "containerEnv": {"FROM_JSON": "yes", "DOLLAR": "a$b"},
  "remoteEnv": {"R": "1"},
  "postCreateCommand": "echo once >> /tmp/created.log"
}"#,
    );
    cws.ws.write("hello.txt", "from the host\n");
    let name = cws.ws.root.file_name().unwrap().to_string_lossy().to_string();
    let folder = format!("/workspaces/{name}");

    let (code, env, stderr) = cws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let d = &env["data"];
    assert_eq!((d["built"].as_bool(), d["reused"].as_bool(), d["recreated"].as_bool()), (Some(true), Some(false), Some(false)), "{d:#}");
    assert_eq!(d["workspaceFolder"], folder.as_str());
    let id = d["containerId"].as_str().unwrap().to_string();
    // runServices: the dev service and `db` run, `extra` was not started.
    assert_eq!(cws.services(), vec![("app".into(), "running".into()), ("db".into(), "running".into())]);
    // Compose's labels (what the official CLI finds it by) and the Dev Containers ones.
    assert_eq!(inspect(&id, "{{index .Config.Labels \"com.docker.compose.project\"}}"), cws.project);
    assert_eq!(inspect(&id, "{{index .Config.Labels \"devcontainer.local_folder\"}}"), cws.ws.root.display().to_string());
    assert_eq!(inspect(&id, "{{index .Config.Labels \"devcontainer.config_file\"}}"), cws.ws.config_file().display().to_string());
    assert!(inspect(&id, "{{index .Config.Labels \"devcontainer.metadata\"}}").contains("\"postCreateCommand\":\"echo once >> /tmp/created.log\""));
    // The keep-alive entrypoint in front of the service's command, containerEnv (a `$` survives Compose), the
    // image Compose built, the workspace the compose file mounts.
    assert_eq!(inspect(&id, "{{index .Config.Entrypoint 0}}"), "/bin/sh");
    assert_eq!(inspect(&id, "{{json .Config.Cmd}}"), r#"["sleep","infinity"]"#);
    assert_eq!(docker_exec(&id, None, "echo $FROM_JSON $DOLLAR"), "yes a$b");
    assert_eq!(docker_exec(&id, None, "cat /built.txt"), "built");
    assert_eq!(docker_exec(&id, None, &format!("cat {folder}/hello.txt")), "from the host");
    assert_eq!(docker_exec(&id, None, "wc -l < /tmp/created.log"), "1");

    // Again: the same container, untouched.
    let (code, again, _) = cws.devgpu(&["up"]);
    assert_eq!(code, 0);
    assert_eq!((again["data"]["containerId"].as_str(), again["data"]["reused"].as_bool()), (Some(id.as_str()), Some(true)));

    // The official CLI finds the same container (by the compose project and service) and runs nothing again.
    let ws_folder = cws.ws.root.display().to_string();
    let (ok, result, stderr) = common::tools::devcontainer_json(&cli, &["up", "--workspace-folder", &ws_folder]);
    assert!(ok && result["outcome"] == "success", "devcontainer up failed: {result:#}\n{stderr}");
    assert_eq!(result["containerId"], id.as_str(), "the official CLI reuses devgpu's compose container");
    assert_eq!(result["composeProjectName"], cws.project.as_str());
    assert_eq!(result["remoteWorkspaceFolder"], folder.as_str());
    assert_eq!(docker_exec(&id, None, "wc -l < /tmp/created.log"), "1", "postCreateCommand ran once");
    assert_eq!(cws.services().len(), 2, "and it started nothing else");

    // verify on the running container passes and leaves it running.
    let (code, v, stderr) = cws.devgpu(&["verify"]);
    assert_eq!(code, 0, "{v:#}\n{stderr}");
    assert_eq!(up_support::check(&v["data"], "user.workspace-writable")["status"], "pass");
    assert_eq!(inspect(&id, "{{.State.Running}}"), "true");

    // down: shutdownAction stopCompose (the default) stops the whole project.
    let (code, down, _) = cws.devgpu(&["down"]);
    assert_eq!(code, 0, "{down:#}");
    assert_eq!(down["data"]["containers"].as_array().unwrap().len(), 2, "{down:#}");
    assert_eq!(cws.services(), vec![("app".into(), "exited".into()), ("db".into(), "exited".into())]);

    // up starts the project again (same containers); --remove then removes containers and network.
    let (code, up3, _) = cws.devgpu(&["up"]);
    assert_eq!(code, 0, "{up3:#}");
    assert_eq!((up3["data"]["containerId"].as_str(), up3["data"]["started"].as_bool()), (Some(id.as_str()), Some(true)));
    assert_eq!(cws.services(), vec![("app".into(), "running".into()), ("db".into(), "running".into())]);
    let (code, _, _) = cws.devgpu(&["down", "--remove"]);
    assert_eq!(code, 0);
    assert!(cws.services().is_empty());
    let net = Command::new("docker").args(["network", "inspect", &format!("{}_default", cws.project)]).output().unwrap();
    assert!(!net.status.success(), "the project's network is removed");
}

#[test]
fn shutdown_action_none_and_a_changed_compose_file() {
    if !ready() {
        return;
    }
    let cws = ComposeWs::new(r#"{"dockerComposeFile": ["docker-compose.yml"], "service": "app", "shutdownAction": "none"}"#);
    let (code, env, stderr) = cws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert_eq!(env["data"]["workspaceFolder"], "/", "the CLI's default for Compose");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    // No runServices: every service runs.
    assert_eq!(cws.services().len(), 3, "{:?}", cws.services());

    let (code, down, _) = cws.devgpu(&["down"]);
    assert_eq!(code, 0);
    assert!(down["data"]["containers"].as_array().unwrap().iter().all(|c| c["action"] == "left running (shutdownAction: none)"), "{down:#}");
    assert!(cws.services().iter().all(|(_, s)| s == "running"));

    // An edit of the compose file makes the container stale: Compose recreates it.
    let compose = std::fs::read_to_string(cws.ws.root.join(".devcontainer/docker-compose.yml")).unwrap();
    cws.ws.write(".devcontainer/docker-compose.yml", &compose.replacen("    command: sleep infinity\n", "    command: sleep infinity\n    environment:\n      EDITED: \"1\"\n", 1));
    let (code, env, stderr) = cws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let new_id = env["data"]["containerId"].as_str().unwrap();
    assert_ne!(new_id, id);
    assert_eq!(env["data"]["recreated"], true, "{env:#}");
    assert_eq!(docker_exec(new_id, None, "echo $EDITED"), "1");

    // --rebuild builds again and replaces the container even though nothing changed.
    let (code, env, stderr) = cws.devgpu(&["up", "--rebuild"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert_eq!((env["data"]["built"].as_bool(), env["data"]["recreated"].as_bool()), (Some(true), Some(true)), "{env:#}");
    assert_ne!(env["data"]["containerId"].as_str().unwrap(), new_id);
}

#[test]
fn devgpu_reuses_the_official_clis_compose_container() {
    if !ready() {
        return;
    }
    let Some(cli) = common::tools::devcontainer_cli() else { return };
    let cws = ComposeWs::new(r#"{"dockerComposeFile": "docker-compose.yml", "service": "app", "runServices": ["app"], "workspaceFolder": "/srv"}"#);
    let (ok, result, stderr) = common::tools::devcontainer_json(&cli, &["up", "--workspace-folder", &cws.ws.root.display().to_string()]);
    assert!(ok && result["outcome"] == "success", "devcontainer up failed: {result:#}\n{stderr}");
    let id = result["containerId"].as_str().unwrap();
    let (code, env, stderr) = cws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert_eq!((env["data"]["containerId"].as_str(), env["data"]["reused"].as_bool()), (Some(id), Some(true)));
    assert!(env["data"]["warnings"].to_string().contains("created by another tool"), "{env:#}");
    assert_eq!(cws.services(), vec![("app".into(), "running".into())]);
}

/// `hostRequirements.gpu` becomes a reservation with `driver: nvidia`: on a daemon without the NVIDIA runtime hook
/// (CI) a required GPU fails with the diagnosis and leaves no container; an optional one starts without a GPU.
#[test]
fn gpu_reservation_required_and_optional() {
    if !ready() {
        return;
    }
    let info = Command::new("docker").args(["info", "--format", "{{json .Runtimes}}"]).output().unwrap();
    let has_nvidia = String::from_utf8_lossy(&info.stdout).contains("nvidia");
    let cws = ComposeWs::new(r#"{"dockerComposeFile": "docker-compose.yml", "service": "app", "runServices": ["app"], "hostRequirements": {"gpu": true}}"#);
    let (code, env, stderr) = cws.devgpu(&["up"]);
    if has_nvidia {
        assert_eq!(code, 0, "{env:#}\n{stderr}");
        assert_eq!(env["data"]["gpu"]["granted"], true, "{env:#}");
        return;
    }
    assert_eq!(code, 1, "{env:#}\n{stderr}");
    assert_eq!(env["error"]["code"], "gpu-unavailable", "{env:#}");
    assert!(env["error"]["message"].as_str().unwrap().contains("could not select device driver \"nvidia\""), "{env:#}");
    assert!(cws.services().is_empty(), "no Created container is left: {:?}", cws.services());

    cws.ws.write(".devcontainer/devcontainer.json", r#"{"dockerComposeFile": "docker-compose.yml", "service": "app", "runServices": ["app"], "hostRequirements": {"gpu": "optional"}}"#);
    let (code, env, stderr) = cws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert_eq!(env["data"]["gpu"]["granted"], false, "{env:#}");
    let id = env["data"]["containerId"].as_str().unwrap();
    assert_eq!(inspect(id, "{{index .Config.Labels \"devgpu.gpu\"}}"), "not-granted");
    assert_eq!(inspect(id, "{{json .HostConfig.DeviceRequests}}"), "null");
}

/// A Feature devgpu does not fetch (a tarball URL) on a Compose service is handed over to the official CLI before
/// Compose builds or starts anything.
#[test]
fn a_feature_out_of_reach_is_handed_over_before_compose_builds() {
    if !ready() {
        return;
    }
    let cws = ComposeWs::new(r#"{"dockerComposeFile": "docker-compose.yml", "service": "app", "features": {"https://example.invalid/releases/tool.tgz": {}}}"#);
    let (code, env, _) = cws.devgpu(&["up"]);
    assert_eq!(code, 1, "{env:#}");
    assert_eq!(env["error"]["code"], "feature-out-of-reach", "{env:#}");
    assert!(env["error"]["hints"][0].as_str().unwrap().contains("devcontainer up --workspace-folder"), "{env:#}");
    assert!(cws.services().is_empty(), "no container: {:?}", cws.services());
    let built = Command::new("docker").args(["image", "inspect", &format!("{}_app", cws.project)]).output().unwrap();
    assert!(!built.status.success(), "Compose built nothing");
}
