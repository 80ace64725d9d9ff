//! `updateRemoteUserUID` against the real daemon: a developer who is not root (a host user this test creates, with
//! a uid no user of the image has) runs `devgpu up` / `verify` on a workspace they own, for a config whose
//! Dockerfile makes a non-root `remoteUser` with another uid. The remote user must get the developer's uid and gid
//! (so `verify`'s `user.workspace-writable` passes and files made in the container are the developer's), and the
//! official Dev Containers CLI, run as the same developer, must reuse that container.
//!
//! CI runs as root: devgpu and the CLI run under `setpriv --reuid/--regid` with the Docker socket's group, as a
//! developer in the `docker` group would. The host user is removed again when the test ends.

mod common;
mod up_support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use serde_json::Value;
use up_support::{check, docker_exec, inspect, Workspace};

/// The uid the image's `dev` user starts with (the developer's is different, so a mapping must happen).
const IMAGE_UID: u32 = 4321;

/// A host user made for the test (`useradd`), deleted on drop.
struct HostUser {
    name: String,
    uid: u32,
    gid: u32,
    home: tempfile::TempDir,
}

impl HostUser {
    fn create() -> Option<HostUser> {
        if !common::tools::is_root() {
            common::tools::missing_prerequisite("creating a host user for the test needs root", "run the test as root (CI does)");
            return None;
        }
        // A uid free on the host and in the stand-in image (whose users are all below 100 or 65534); tests running
        // at the same time may race for one, so the next is tried when useradd refuses it.
        let name = format!("dgu{}", common::docker::unique_suffix().replace('-', "").chars().rev().take(12).collect::<String>());
        let free = |u: &u32| !Command::new("getent").args(["passwd", &u.to_string()]).stdout(std::process::Stdio::null()).status().unwrap().success();
        let uid = (23000..24000)
            .filter(free)
            .find(|u| Command::new("useradd").args(["--no-create-home", "--user-group", "--shell", "/bin/sh", "--uid", &u.to_string(), &name]).status().unwrap().success())
            .unwrap_or_else(|| panic!("useradd {name} failed for every uid tried"));
        let gid: u32 = String::from_utf8(Command::new("id").args(["-g", &name]).output().unwrap().stdout).unwrap().trim().parse().unwrap();
        let home = tempfile::Builder::new().prefix("devgpu-uid-home-").tempdir().unwrap();
        chown_r(home.path(), uid, gid);
        Some(HostUser { name, uid, gid, home })
    }

    /// `cmd` run as this user (real and effective ids), with the Docker socket's group and its own HOME.
    fn command(&self, program: &Path) -> Command {
        let socket_gid = std::fs::metadata("/var/run/docker.sock").map(|m| m.gid()).expect("the local Docker socket");
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid", &self.uid.to_string(), "--regid", &self.gid.to_string(), "--groups", &socket_gid.to_string(), "--"]).arg(program);
        cmd.env("HOME", self.home.path()).env("USER", &self.name).env("LOGNAME", &self.name);
        cmd
    }
}

impl Drop for HostUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
    }
}

fn chown_r(path: &Path, uid: u32, gid: u32) {
    assert!(Command::new("chown").args(["-R", &format!("{uid}:{gid}")]).arg(path).status().unwrap().success());
}

/// `program` as `user` can run it: itself where they can reach it, else a copy in their home — a checkout under
/// root's home (mode 0700) is out of their reach. `package` is the folder to copy with it (the CLI's package).
fn reachable(user: &HostUser, program: &Path, package: Option<&Path>) -> PathBuf {
    if user.command(Path::new("/usr/bin/test")).arg("-x").arg(program).status().unwrap().success() {
        return program.to_path_buf();
    }
    let dir = user.home.path().join(format!("tools-{}", common::docker::unique_suffix()));
    let copy = match package {
        Some(pkg) => {
            common::tools::copy_dir(pkg, &dir);
            dir.join(program.strip_prefix(pkg).unwrap())
        }
        None => {
            std::fs::create_dir_all(&dir).unwrap();
            let to = dir.join(program.file_name().unwrap());
            std::fs::copy(program, &to).unwrap();
            to
        }
    };
    chown_r(&dir, user.uid, user.gid);
    copy
}

/// `devgpu ARGS --json` in the workspace, as `user`.
fn devgpu_as(user: &HostUser, ws: &Workspace, args: &[&str]) -> (i32, Value, String) {
    let mut cmd = user.command(&reachable(user, Path::new(env!("CARGO_BIN_EXE_devgpu")), None));
    cmd.current_dir(&ws.root).args(args).arg("--json").env("NO_COLOR", "1");
    common::tools::offline_facts(&mut cmd);
    let out = common::tools::run_logged(&mut cmd);
    up_support::parse(&cmd, out)
}

/// `devgpu ARGS --json` as `user`, with a cache folder of theirs (where a compose config's override file goes).
fn devgpu_as_with_cache(user: &HostUser, ws: &Workspace, args: &[&str]) -> (i32, Value, String) {
    let mut cmd = user.command(&reachable(user, Path::new(env!("CARGO_BIN_EXE_devgpu")), None));
    cmd.current_dir(&ws.root).args(args).arg("--json").env("NO_COLOR", "1");
    common::tools::offline_facts(&mut cmd).env("XDG_CACHE_HOME", user.home.path().join(".cache"));
    let out = common::tools::run_logged(&mut cmd);
    up_support::parse(&cmd, out)
}

/// `verify --keep` run as the developer on a container `sudo devgpu up` made: it was recreated with their uid and
/// gid (and said why), and verify passes, the workspace writable, `dev` holding their uid.
fn assert_recreated_for(data: &Value, user: &HostUser) {
    assert_eq!(data["container"]["recreated"], true, "{data:#}");
    assert!(data["container"]["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("updateRemoteUserUID")), "{data:#}");
    assert_eq!(data["passed"], true, "{data:#}");
    assert_eq!(check(data, "user.workspace-writable")["status"], "pass", "{data:#}");
    assert_eq!(check(data, "user.exists")["summary"], format!("remote user `dev` (uid {})", user.uid));
    let uid = &data["container"]["updateRemoteUserUID"];
    assert_eq!((&uid["applied"], &uid["uid"], &uid["gid"]), (&Value::Bool(true), &Value::from(user.uid), &Value::from(user.gid)), "{data:#}");
}

/// A workspace the developer owns (its temp parent opened for them to reach it).
fn owned_workspace(user: &HostUser, config: &str, dockerfile: &str) -> Workspace {
    let ws = Workspace::new(config);
    ws.write(".devcontainer/Dockerfile", dockerfile);
    let parent: PathBuf = ws.root.parent().unwrap().to_path_buf();
    assert!(Command::new("chmod").arg("755").arg(&parent).status().unwrap().success());
    chown_r(&ws.root, user.uid, user.gid);
    ws
}

#[test]
fn a_non_root_remote_user_takes_the_developers_uid_and_verify_passes() {
    if !standin_images_available() {
        return;
    }
    let Some(user) = HostUser::create() else { return };
    let unique = common::docker::unique_suffix();
    let ws = owned_workspace(
        &user,
        r#"{ "build": { "dockerfile": "Dockerfile" }, "remoteUser": "dev", "runArgs": ["--network", "none"],
             "postCreateCommand": "id -u > /tmp/postcreate-uid; touch made-in-container 2>/dev/null || echo the workspace is not writable" }"#,
        &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN useradd -m -u {IMAGE_UID} dev\nUSER dev\n"),
    );

    // First `sudo devgpu up` (as root): root's uid is never mapped, so dev keeps the image's uid.
    let (code, as_root, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{as_root:#}\n{stderr}");
    assert_eq!(as_root["data"]["updateRemoteUserUID"]["applied"], false);
    assert!(as_root["data"]["updateRemoteUserUID"]["reason"].as_str().unwrap().contains("root"), "{as_root:#}");
    let root_made = as_root["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(docker_exec(&root_made, None, "id -u dev"), IMAGE_UID.to_string());
    assert!(!ws.root.join("made-in-container").exists(), "with the image's uid, dev cannot write the developer's workspace");

    // Then the developer: that container does not fit them, so it is recreated with their ids, and says why.
    let (code, env, stderr) = devgpu_as(&user, &ws, &["verify", "--keep"]);
    assert_eq!(code, 0, "verify failed as uid {}: {env:#}\n{stderr}", user.uid);
    let data = &env["data"];
    assert_recreated_for(data, &user);
    assert_eq!(check(data, "user.home")["status"], "pass", "the home moved to the new uid too: {data:#}");
    let container = &data["container"];
    let uid = &container["updateRemoteUserUID"];
    assert_eq!(uid["user"], "dev", "{data:#}");
    let uid_image = uid["image"].as_str().unwrap().to_string();
    assert!(uid_image.ends_with("-uid:latest"), "{uid_image}");
    assert_eq!(container["image"], uid_image.as_str());

    let id = container["containerId"].as_str().unwrap().to_string();
    assert_eq!(inspect(&id, "{{.Config.Image}}"), uid_image);
    assert_eq!(inspect(&id, "{{.Config.User}}"), "dev", "the image's USER is restored");
    assert_eq!(docker_exec(&id, None, "id -u dev; id -g dev; stat -c %u:%g /home/dev; cat /tmp/postcreate-uid"), format!("{0}\n{1}\n{0}:{1}\n{0}", user.uid, user.gid));
    // What the container writes in the workspace belongs to the developer on the host.
    let made = std::fs::metadata(ws.root.join("made-in-container")).expect("postCreateCommand wrote into the workspace");
    assert_eq!((made.uid(), made.gid()), (user.uid, user.gid));

    // The official CLI, run by the same developer, reuses devgpu's container (found by its labels).
    if let Some(cli) = common::tools::devcontainer_cli() {
        // The bin is a link to the package's devcontainer.js; the package is self-contained.
        let script = std::fs::canonicalize(&cli).unwrap();
        let cli = reachable(&user, &script, Some(script.parent().unwrap()));
        let folder = ws.root.display().to_string();
        let mut cmd = user.command(&cli);
        cmd.current_dir(&ws.root).args(["up", "--workspace-folder", &folder]);
        let out = common::tools::run_logged(&mut cmd);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let result: Value = stdout.lines().rev().find_map(|l| serde_json::from_str(l.trim()).ok()).unwrap_or_else(|| panic!("no JSON from devcontainer up: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(result["outcome"], "success", "{result:#}\n{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(result["containerId"], id.as_str(), "the official CLI reuses devgpu's container");
        assert_eq!(result["remoteUser"], "dev");
        let mut cmd = user.command(&cli);
        cmd.current_dir(&ws.root).args(["exec", "--workspace-folder", &folder, "sh", "-c", "id -u; touch by-cli-exec"]);
        let out = common::tools::run_logged(&mut cmd);
        assert!(out.status.success(), "devcontainer exec: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), user.uid.to_string());
        assert_eq!(std::fs::metadata(ws.root.join("by-cli-exec")).unwrap().uid(), user.uid);
        assert_eq!(ws.containers(), vec![id.clone()], "and creates no other");
    }

    // devgpu reuses it too; a new container (after `down --remove`) reuses the uid image without building.
    let (code, again, stderr) = devgpu_as(&user, &ws, &["up"]);
    assert_eq!(code, 0, "{again:#}\n{stderr}");
    assert_eq!((&again["data"]["containerId"], &again["data"]["reused"]), (&Value::from(id.as_str()), &Value::Bool(true)));
    let (code, down, _) = devgpu_as(&user, &ws, &["down", "--remove"]);
    assert_eq!(code, 0, "{down:#}");
    let (code, fresh, stderr) = devgpu_as(&user, &ws, &["up"]);
    assert_eq!(code, 0, "{fresh:#}\n{stderr}");
    assert_eq!((&fresh["data"]["built"], &fresh["data"]["updateRemoteUserUID"]["built"]), (&Value::Bool(false), &Value::Bool(false)), "{fresh:#}");
    let fresh_id = fresh["data"]["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(fresh_id, Some("dev"), "id -u"), user.uid.to_string());

    // The uid image goes before the workspace's cleanup removes the image it was built on.
    let _ = Command::new("docker").args(["rm", "-f", fresh_id]).output();
    let _ = Command::new("docker").args(["rmi", "-f", &uid_image]).output();
}

#[test]
fn a_uid_held_by_another_image_user_is_left_alone_a_held_gid_is_kept_and_root_is_never_mapped() {
    if !standin_images_available() {
        return;
    }
    let Some(user) = HostUser::create() else { return };
    let unique = common::docker::unique_suffix();
    // The developer's uid already belongs to `other` in the image: `dev` keeps its uid (as the CLI does).
    let ws = owned_workspace(
        &user,
        r#"{ "build": { "dockerfile": "Dockerfile" }, "remoteUser": "dev", "runArgs": ["--network", "none"] }"#,
        &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN useradd -m -u {} other && useradd -m -u {IMAGE_UID} dev\n", user.uid),
    );
    let (code, env, stderr) = devgpu_as(&user, &ws, &["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(docker_exec(&id, None, "id -u dev; id -u other"), format!("{IMAGE_UID}\n{}", user.uid));
    let uid_image = env["data"]["updateRemoteUserUID"]["image"].as_str().unwrap().to_string();
    let _ = Command::new("docker").args(["rm", "-f", &id]).output();
    let _ = Command::new("docker").args(["rmi", "-f", &uid_image]).output();

    // The developer's gid belongs to a group of the image: dev takes the uid and keeps its own gid.
    let ws = owned_workspace(
        &user,
        r#"{ "build": { "dockerfile": "Dockerfile" }, "remoteUser": "dev", "runArgs": ["--network", "none"] }"#,
        &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}-gid\"\nRUN groupadd -g {} devs && useradd -m -u {IMAGE_UID} dev\n", user.gid),
    );
    let (code, env, stderr) = devgpu_as(&user, &ws, &["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(docker_exec(&id, None, "id -u dev; id -g dev; stat -c %u:%g /home/dev"), format!("{}\n{IMAGE_UID}\n{}:{IMAGE_UID}", user.uid, user.uid));
    let uid_image = env["data"]["updateRemoteUserUID"]["image"].as_str().unwrap().to_string();
    let _ = Command::new("docker").args(["rm", "-f", &id]).output();
    let _ = Command::new("docker").args(["rmi", "-f", &uid_image]).output();

    // A root remote user (the image's default user) is not mapped, and no uid image is built.
    let root_ws = owned_workspace(&user, &format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"] }}"#), "");
    let (code, env, stderr) = devgpu_as(&user, &root_ws, &["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert_eq!(env["data"]["image"], STANDIN_IMAGE);
    assert_eq!(env["data"]["updateRemoteUserUID"]["applied"], false);
    assert!(env["data"]["updateRemoteUserUID"]["reason"].as_str().unwrap().contains("root"), "{env:#}");
}

/// The same for a Docker Compose config (issue 14): the service is built from a Dockerfile whose `dev` has
/// another uid; devgpu builds the uid image on top of the image Compose built, points the service at it in its
/// override file (as the CLI points its override at `vsc-…-uid`), and `verify` passes on the developer's workspace.
#[test]
fn a_compose_service_gives_its_non_root_remote_user_the_developers_uid() {
    if !standin_images_available() || !common::tools::compose_available() {
        return;
    }
    let Some(user) = HostUser::create() else { return };
    let unique = common::docker::unique_suffix();
    let cws = up_support::compose::ComposeWs::bare(
        r#"{ "dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}",
             "remoteUser": "dev", "postCreateCommand": "id -u > /tmp/postcreate-uid; touch made-in-container 2>/dev/null || echo the workspace is not writable" }"#,
    );
    let name = cws.name();
    cws.ws.write(
        ".devcontainer/docker-compose.yml",
        &format!("version: '3.8'\nservices:\n  app:\n    build:\n      context: .\n      dockerfile: Dockerfile\n    volumes:\n      - ..:/workspaces/{name}\n    command: sleep infinity\n    network_mode: none\n"),
    );
    cws.ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN useradd -m -u {IMAGE_UID} dev\nUSER dev\n"));
    assert!(Command::new("chmod").arg("755").arg(cws.ws.root.parent().unwrap()).status().unwrap().success());
    chown_r(&cws.ws.root, user.uid, user.gid);

    // First `sudo devgpu up`: root's uid is never mapped, so the service runs Compose's image and dev keeps 4321.
    let (code, as_root, stderr) = cws.devgpu(&["up"]);
    assert_eq!(code, 0, "{as_root:#}\n{stderr}");
    assert_eq!(as_root["data"]["updateRemoteUserUID"]["applied"], false, "{as_root:#}");
    let root_made = as_root["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(docker_exec(&root_made, None, "id -u dev"), IMAGE_UID.to_string());

    // Then the developer: that container does not fit them; Compose recreates the service from the uid image.
    let (code, env, stderr) = devgpu_as_with_cache(&user, &cws.ws, &["verify", "--keep"]);
    assert_eq!(code, 0, "verify failed as uid {}: {env:#}\n{stderr}", user.uid);
    let data = &env["data"];
    assert_recreated_for(data, &user);
    let container = &data["container"];
    let uid = &container["updateRemoteUserUID"];
    let uid_image = uid["image"].as_str().unwrap().to_string();
    assert!(uid_image.ends_with("-uid:latest"), "{uid_image}");

    // The service runs the uid image, and is still the compose project's service (what the CLI finds it by).
    let id = container["containerId"].as_str().unwrap().to_string();
    assert_ne!(id, root_made);
    assert_eq!(cws.services(), vec![("app".to_string(), "running".to_string())], "the replaced container is gone");
    assert_eq!(inspect(&id, "{{.Config.Image}}"), uid_image);
    assert_eq!(inspect(&id, "{{index .Config.Labels \"com.docker.compose.service\"}}"), "app");
    assert_eq!(inspect(&id, "{{.Config.User}}"), "dev", "the image's USER is restored");
    assert_eq!(docker_exec(&id, None, "id -u dev; id -g dev; stat -c %u:%g /home/dev; cat /tmp/postcreate-uid"), format!("{0}\n{1}\n{0}:{1}\n{0}", user.uid, user.gid));
    let made = std::fs::metadata(cws.ws.root.join("made-in-container")).expect("postCreateCommand wrote into the workspace");
    assert_eq!((made.uid(), made.gid()), (user.uid, user.gid));

    // The official CLI, run by the same developer, reuses it.
    if let Some(cli) = common::tools::devcontainer_cli() {
        let script = std::fs::canonicalize(&cli).unwrap();
        let cli = reachable(&user, &script, Some(script.parent().unwrap()));
        let mut cmd = user.command(&cli);
        cmd.current_dir(&cws.ws.root).args(["up", "--workspace-folder", &cws.ws.root.display().to_string()]);
        let out = common::tools::run_logged(&mut cmd);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let result: Value = stdout.lines().rev().find_map(|l| serde_json::from_str(l.trim()).ok()).unwrap_or_else(|| panic!("no JSON from devcontainer up: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(result["outcome"], "success", "{result:#}\n{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!((result["containerId"].as_str(), result["remoteUser"].as_str()), (Some(id.as_str()), Some("dev")), "the official CLI reuses devgpu's compose container");
    }

    // devgpu reuses it too; run as root afterwards it is not remapped to root's ids (root is never mapped), and
    // as the developer again the mapped container is still theirs.
    let (code, again, stderr) = devgpu_as_with_cache(&user, &cws.ws, &["up"]);
    assert_eq!(code, 0, "{again:#}\n{stderr}");
    assert_eq!((&again["data"]["containerId"], &again["data"]["reused"]), (&Value::from(id.as_str()), &Value::Bool(true)));
}
