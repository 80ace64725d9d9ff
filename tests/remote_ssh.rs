//! devgpu against a Docker daemon "on another machine" over ssh:// — a real sshd on 127.0.0.1 (its own port, keys and
//! known_hosts made by the test) in front of this machine's dockerd, the client as a dedicated user (see
//! remote_support). `doctor`, `up`, `verify` and `down` over ssh:// give what they give over the local socket; a
//! wrong key, an unknown or changed host key, a server without docker and a user without Docker access each give
//! their own error; a docker context selects the ssh host; a workspace the server does not have is detected and
//! `--workspace-volume` works around it; a server with an (imitated) H200 feeds doctor and `init --from-host`.
//!
//! Under `CI` a missing prerequisite (sshd, root, Docker, the stand-in image) fails the test; elsewhere it is
//! skipped with a note. Network: loopback only.

mod common;
mod remote_support;

use std::fs;
use std::process::Command;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use remote_support::{check, devgpu_local, inspect, remove_volume, ssh_prerequisites, statuses, Keys, Sshd, TestUser};
use serde_json::Value;

fn image_config(extra: &str) -> String {
    format!(r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"]{extra} }}"#)
}

/// A server and a client user whose ssh trusts it and holds the authorized key.
fn server() -> Option<(Keys, Sshd, TestUser)> {
    if !standin_images_available() || !ssh_prerequisites() {
        return None;
    }
    let keys = Keys::new();
    let sshd = Sshd::start(&keys, &[]);
    let user = TestUser::new();
    user.ssh_setup(&keys, "client_key", &[sshd.known_hosts_line(&keys)]);
    Some((keys, sshd, user))
}

fn ok(code: i32, env: &Value, stderr: &str) -> Value {
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert_eq!(env["outcome"], "success", "{env:#}");
    env["data"].clone()
}

/// The doctor report over ssh:// equals the one over the local socket, check for check (plus `docker.remote`,
/// which says the server's facts were read over ssh).
#[test]
fn doctor_over_ssh_gives_the_local_results() {
    let Some((_keys, sshd, user)) = server() else { return };
    let dir = user.home.join("empty");
    fs::create_dir_all(&dir).unwrap();
    user.chown(&dir);
    let url = sshd.url("root");
    let (lc, local, _) = devgpu_local(&dir, &["doctor", "."]);
    let (rc, remote, stderr) = user.devgpu(&dir, &["doctor", "."], &[("DOCKER_HOST", &url)]);
    assert_eq!(lc, rc, "the same exit code\nlocal: {local:#}\nremote: {remote:#}\n{stderr}\nsshd: {}", sshd.log());
    assert_eq!(local["outcome"], remote["outcome"]);
    let remote_checks: Vec<(String, String)> = statuses(&remote["data"]["checks"]).into_iter().filter(|(id, _)| id != "docker.remote").collect();
    assert_eq!(statuses(&local["data"]["checks"]), remote_checks, "check for check\nlocal: {:#}\nremote: {:#}", local["data"]["checks"], remote["data"]["checks"]);
    let reachable = check(&remote["data"]["checks"], "docker.reachable");
    assert!(reachable["summary"].as_str().unwrap().contains(&format!("{url} (DOCKER_HOST)")), "{reachable}");
    let r = check(&remote["data"]["checks"], "docker.remote");
    assert_eq!(r["status"], "pass", "{r}");
    assert!(r["summary"].as_str().unwrap().contains("read over ssh"), "{r}");
    let facts = &remote["data"]["host"]["docker"]["serverFacts"];
    assert_eq!(facts["via"], "ssh", "{facts}");
    for area in ["driver", "gpu", "deviceNodes", "toolkit", "cdi", "daemonJson"] {
        assert!(facts["facts"].as_array().unwrap().iter().any(|f| f == area), "{area} in {facts}");
    }
    assert_eq!(remote["data"]["host"]["docker"]["local"], false);
    assert_eq!(local["data"]["host"]["docker"]["serverFacts"], Value::Null);
}

/// up → verify → down over ssh:// do what they do locally, on the same container: the labels let the local socket
/// (and VS Code or the Dev Containers CLI with the same Docker host) find and reuse it.
#[test]
fn up_verify_down_over_ssh_match_the_local_socket() {
    let Some((_keys, sshd, user)) = server() else { return };
    let ws = user.workspace(&image_config(r#", "containerEnv": {"WHERE": "server"}, "postCreateCommand": "echo created >> /tmp/created.log""#));
    common::tools::write_file(&ws, "marker.txt", "from the laptop");
    user.chown(&ws);
    let url = sshd.url("root");
    let over_ssh = |args: &[&str]| user.devgpu(&ws, args, &[("DOCKER_HOST", &url)]);

    let (c, e, s) = over_ssh(&["up"]);
    let up = ok(c, &e, &s);
    let id = up["containerId"].as_str().unwrap().to_string();
    assert_eq!((&up["reused"], &up["started"]), (&Value::Bool(false), &Value::Bool(true)), "{up:#}");
    assert_eq!(inspect(&id, "{{index .Config.Labels \"devcontainer.local_folder\"}}"), ws.display().to_string());
    assert_eq!(inspect(&id, "{{index .Config.Labels \"devcontainer.config_file\"}}"), ws.join(".devcontainer/devcontainer.json").display().to_string());
    assert_eq!(inspect(&id, "{{.State.Status}}"), "running");
    let workspace_folder = up["workspaceFolder"].as_str().unwrap().to_string();
    let out = Command::new("docker").args(["exec", &id, "sh", "-c", &format!("cat {workspace_folder}/marker.txt; echo; echo $WHERE; cat /tmp/created.log")]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "from the laptop\nserver\ncreated", "the bind mount and the lifecycle ran on the server");

    // The local socket finds the same container (the labels), and so does ssh again.
    let local = ok_local(&ws, &["up"]);
    assert_eq!((local["containerId"].as_str(), &local["reused"]), (Some(id.as_str()), &Value::Bool(true)));
    let (c, e, s) = over_ssh(&["up"]);
    let again = ok(c, &e, &s);
    assert_eq!((again["containerId"].as_str(), &again["reused"], &again["started"]), (Some(id.as_str()), &Value::Bool(true), &Value::Bool(false)));

    // verify: the same checks with the same results either way.
    let (c, e, s) = over_ssh(&["verify"]);
    let v_ssh = ok(c, &e, &s);
    let v_local = ok_local(&ws, &["verify"]);
    assert_eq!(v_ssh["passed"], true, "{v_ssh:#}");
    assert_eq!(statuses(&v_ssh["checks"]), statuses(&v_local["checks"]));

    // down stops it (seen over the local socket), up starts it again, down --remove removes it.
    let (c, e, s) = over_ssh(&["down"]);
    let down = ok(c, &e, &s);
    assert_eq!(down["containers"][0]["action"], "stopped", "{down:#}");
    assert_eq!(inspect(&id, "{{.State.Status}}"), "exited");
    let (c, e, s) = over_ssh(&["up"]);
    let restarted = ok(c, &e, &s);
    assert_eq!((restarted["containerId"].as_str(), &restarted["started"]), (Some(id.as_str()), &Value::Bool(true)));
    let (c, e, s) = over_ssh(&["down", "--remove"]);
    assert_eq!(ok(c, &e, &s)["containers"][0]["action"], "removed");
    assert_eq!(inspect(&id, "{{.Id}}"), "", "removed");
}

/// A Dockerfile config built over ssh:// with the server's BuildKit: its session (an HTTP upgrade beside the build
/// request) runs over `docker system dial-stdio` like every other request, and the image is the server's.
#[test]
fn a_dockerfile_builds_over_ssh_with_buildkit() {
    let Some((_keys, sshd, user)) = server() else { return };
    let ws = user.workspace(r#"{ "build": { "dockerfile": "Dockerfile" }, "runArgs": ["--network", "none"] }"#);
    common::tools::write_file(&ws, ".devcontainer/Dockerfile", format!("FROM {STANDIN_IMAGE}\nCOPY marker.txt /built\nRUN echo over ssh >> /built\n"));
    common::tools::write_file(&ws, ".devcontainer/marker.txt", "from the laptop\n");
    user.chown(&ws);
    let url = sshd.url("root");
    let (c, e, s) = user.devgpu(&ws, &["up"], &[("DOCKER_HOST", &url)]);
    let up = ok(c, &e, &s);
    assert!(s.contains("with BuildKit") && !s.contains("refused a BuildKit build"), "{s}");
    let id = up["containerId"].as_str().unwrap().to_string();
    let out = Command::new("docker").args(["exec", &id, "cat", "/built"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "from the laptop\nover ssh", "the context went over ssh, the RUN ran on the server");
    let image = inspect(&id, "{{.Image}}");
    let (c, e, s) = user.devgpu(&ws, &["down", "--remove"], &[("DOCKER_HOST", &url)]);
    ok(c, &e, &s);
    let _ = Command::new("docker").args(["rmi", &image]).output();
}

fn ok_local(ws: &std::path::Path, args: &[&str]) -> Value {
    let (c, e, s) = devgpu_local(ws, args);
    ok(c, &e, &s)
}

/// What goes wrong between the laptop and the server, each in its own words: the error code, the source that chose
/// the host, ssh's own message, and the exact fix.
#[test]
fn ssh_failures_say_why() {
    let Some((keys, sshd, user)) = server() else { return };
    let dir = user.home.clone();
    let url = sshd.url("root");
    let doctor_error = |env: &[(&str, &str)]| -> Value {
        let (code, v, stderr) = user.devgpu(&dir, &["doctor", "."], env);
        assert_eq!(code, 1, "{v:#}\n{stderr}");
        assert_eq!(check(&v["data"]["checks"], "docker.reachable")["status"], "fail");
        v["data"]["host"]["docker"]["error"].clone()
    };

    // A key the server does not know.
    user.ssh_setup(&keys, "other_key", &[sshd.known_hosts_line(&keys)]);
    let e = doctor_error(&[("DOCKER_HOST", &url)]);
    assert_eq!(e["code"], "ssh-auth-failed", "{e:#}");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains(&format!("{url} (DOCKER_HOST)")) && msg.contains("Permission denied (publickey)"), "{msg}");
    assert!(e["hints"][0].as_str().unwrap().contains(&format!("ssh-copy-id -p {} root@127.0.0.1", sshd.port)), "{e:#}");
    // `up` fails the same way, as a command error.
    let ws = user.workspace(&image_config(""));
    let (code, v, _) = user.devgpu(&ws, &["up"], &[("DOCKER_HOST", &url)]);
    assert_eq!((code, v["error"]["code"].as_str()), (1, Some("ssh-auth-failed")), "{v:#}");

    // An unknown host key (empty known_hosts; the user's ssh config does not accept new keys).
    user.ssh_setup(&keys, "client_key", &[]);
    let e = doctor_error(&[("DOCKER_HOST", &url)]);
    assert_eq!(e["code"], "ssh-host-key-unknown", "{e:#}");
    assert!(e["message"].as_str().unwrap().contains("Host key verification failed"), "{e:#}");
    assert!(e["hints"][0].as_str().unwrap().contains(&format!("[127.0.0.1]:{}", sshd.port)), "{e:#}");

    // A host key that changed (known_hosts names another key for this server).
    let wrong = format!("[127.0.0.1]:{} {}", sshd.port, fs::read_to_string(keys.path("other_key.pub")).unwrap().trim());
    user.ssh_setup(&keys, "client_key", &[wrong]);
    let e = doctor_error(&[("DOCKER_HOST", &url)]);
    assert_eq!(e["code"], "ssh-host-key-changed", "{e:#}");
    assert!(e["hints"][0].as_str().unwrap().contains(&format!("ssh-keygen -R '[127.0.0.1]:{}'", sshd.port)), "{e:#}");

    // A user on the server who may not use Docker (the client user itself: not root, not in the docker group).
    user.ssh_setup(&keys, "client_key", &[sshd.known_hosts_line(&keys)]);
    let e = doctor_error(&[("DOCKER_HOST", &sshd.url(&user.name))]);
    assert_eq!(e["code"], "ssh-docker-permission-denied", "{e:#}");
    assert!(e["hints"][0].as_str().unwrap().contains(&format!("sudo usermod -aG docker {}", user.name)), "{e:#}");

    // A server without docker: a second sshd whose sessions find no docker on PATH.
    let bare = Sshd::start(&keys, &["SetEnv PATH=/nonexistent"]);
    user.ssh_setup(&keys, "client_key", &[bare.known_hosts_line(&keys)]);
    let e = doctor_error(&[("DOCKER_HOST", &bare.url("root"))]);
    assert_eq!(e["code"], "ssh-no-docker", "{e:#}");
    assert!(e["message"].as_str().unwrap().contains("has no `docker` command"), "{e:#}");

    // Nothing listens: the port of the stopped server.
    let port = bare.port;
    drop(bare);
    let e = doctor_error(&[("DOCKER_HOST", &format!("ssh://root@127.0.0.1:{port}"))]);
    assert_eq!(e["code"], "ssh-connection-refused", "{e:#}");
}

/// The docker CLI's context files (config.json's currentContext + contexts/meta/<sha256>/meta.json) in the user's
/// ~/.docker select the ssh host, as they do for `docker` and VS Code; DOCKER_CONTEXT=default goes back to the
/// local socket (which this user may not open).
#[test]
fn a_docker_context_selects_the_ssh_host() {
    let Some((_keys, sshd, user)) = server() else { return };
    use sha2::Digest;
    let name = "gpubox";
    let hash: String = sha2::Sha256::digest(name.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let docker_dir = user.home.join(".docker");
    common::tools::write_file(&docker_dir, "config.json", format!(r#"{{"auths": {{}}, "currentContext": "{name}"}}"#));
    common::tools::write_file(
        &docker_dir,
        &format!("contexts/meta/{hash}/meta.json"),
        format!(r#"{{"Name":"{name}","Metadata":{{"Description":"the GPU server"}},"Endpoints":{{"docker":{{"Host":"{}","SkipTLSVerify":false}}}}}}"#, sshd.url("root")),
    );
    user.chown(&docker_dir);
    // The docker CLI reads the fixture the same way.
    let out = user.command("docker", &["info", "--format", "{{.ServerVersion}}"], &[]).output().unwrap();
    assert!(out.status.success(), "docker info through the context: {}", String::from_utf8_lossy(&out.stderr));

    let (code, v, stderr) = user.devgpu(&user.home, &["doctor", "."], &[]);
    let reachable = check(&v["data"]["checks"], "docker.reachable");
    assert_eq!(reachable["status"], "pass", "{v:#}\n{stderr}");
    assert!(reachable["summary"].as_str().unwrap().contains(&format!("{} (docker context \"{name}\")", sshd.url("root"))), "{reachable}");
    assert_eq!(check(&v["data"]["checks"], "docker.remote")["status"], "pass");
    let _ = code;

    let (_, v, _) = user.devgpu(&user.home, &["doctor", "."], &[("DOCKER_CONTEXT", "default")]);
    let e = &v["data"]["host"]["docker"]["error"];
    assert_eq!(e["code"], "docker-permission-denied", "the default socket, which this user may not open: {v:#}");
    assert!(e["message"].as_str().unwrap().contains("(the default socket)"), "{e}");
}

/// A workspace the server does not have (a folder that only this side sees: a private tmpfs in the client's mount
/// namespace) is refused before anything is created, with the two ways out; `--workspace-volume` copies it into a
/// volume on the server, and `verify` without the flag keeps using that volume.
#[test]
fn a_workspace_missing_on_the_server_and_the_volume_way_out() {
    let Some((_keys, sshd, user)) = server() else { return };
    let hidden = user.home.join("laptop-only");
    fs::create_dir_all(&hidden).unwrap();
    user.chown(&hidden);
    let ws = hidden.join("proj");
    let outdir = user.home.join("out");
    fs::create_dir_all(&outdir).unwrap();
    let devgpu = user.devgpu.display().to_string();
    let path = std::env::var("PATH").unwrap_or_default();
    let run = |n: usize, args: &str| {
        format!(
            "runuser -u {u} -- env -i HOME={h} PATH='{path}' NO_COLOR=1 DOCKER_HOST={url} {devgpu} {args} --json > {o}/{n}.json 2> {o}/{n}.err; echo $? > {o}/{n}.rc",
            u = user.name,
            h = user.home.display(),
            url = sshd.url("root"),
            o = outdir.display()
        )
    };
    let config = image_config("").replace('"', "\\\"");
    let script = format!(
        "set -e; mount -t tmpfs devgpu-test {hidden}; mkdir -p {ws}/.devcontainer {ws}/.git; printf '%s' \"{config}\" > {ws}/.devcontainer/devcontainer.json; \
         echo 'only on the laptop' > {ws}/notes.txt; echo 'ref: refs/heads/main' > {ws}/.git/HEAD; chown -R {u}:{u} {hidden}; cd {ws}; set +e; {r1}; {r2}; {r3}",
        hidden = hidden.display(),
        ws = ws.display(),
        u = user.name,
        r1 = run(1, "up"),
        r2 = run(2, "up --workspace-volume"),
        r3 = run(3, "verify"),
    );
    let status = Command::new("unshare").args(["--mount", "--propagation", "private", "sh", "-c", &script]).status().expect("unshare (util-linux)");
    assert!(status.success());
    let result = |n: usize| -> (i32, Value, String) {
        let rc: i32 = fs::read_to_string(outdir.join(format!("{n}.rc"))).unwrap().trim().parse().unwrap();
        let stdout = fs::read_to_string(outdir.join(format!("{n}.json"))).unwrap();
        let stderr = fs::read_to_string(outdir.join(format!("{n}.err"))).unwrap();
        (rc, serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}")), stderr)
    };

    let (code, v, stderr) = result(1);
    assert_eq!(code, 1, "{v:#}\n{stderr}");
    assert_eq!(v["error"]["code"], "workspace-not-on-docker-host", "{v:#}");
    assert!(v["error"]["message"].as_str().unwrap().contains(&format!("{} does not exist on the Docker host {}", ws.display(), sshd.url("root"))), "{v:#}");
    let hints = v["error"]["hints"].to_string();
    assert!(hints.contains("Remote-SSH") && hints.contains("--workspace-volume"), "{hints}");

    let (code, v, stderr) = result(2);
    let up = ok(code, &v, &stderr);
    let id = up["containerId"].as_str().unwrap().to_string();
    let volume = inspect(&id, "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}}{{end}}{{end}}");
    let _cleanup = VolumeGuard(volume.clone());
    assert!(volume.starts_with("devgpu-ws-proj-"), "{volume}");
    assert_eq!(inspect(&id, "{{index .Config.Labels \"devgpu.workspace_volume\"}}"), volume);
    assert_eq!(inspect(&id, "{{index .Config.Labels \"devcontainer.local_folder\"}}"), ws.display().to_string(), "VS Code still finds it by the laptop's folder");
    let folder = up["workspaceFolder"].as_str().unwrap();
    let out = Command::new("docker").args(["exec", &id, "sh", "-c", &format!("cat {folder}/notes.txt {folder}/.git/HEAD")]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "only on the laptop\nref: refs/heads/main\n", "the workspace, .git included, is in the volume");

    let (code, v, stderr) = result(3);
    let verify = ok(code, &v, &stderr);
    assert_eq!(verify["container"]["containerId"], id.as_str(), "verify keeps the volume container: {verify:#}");
    assert_eq!(verify["passed"], true);
    let _ = Command::new("docker").args(["rm", "-f", &id]).output();
}

struct VolumeGuard(String);

impl Drop for VolumeGuard {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            remove_volume(&self.0);
        }
    }
}

/// A server with a GPU, imitated: its sessions find an `nvidia-smi` that prints what the real one printed on an
/// H200 (tests/fixtures/h200). doctor over ssh judges that GPU; `init --from-host` aims the stack at it. A server
/// without a GPU makes `init --from-host` say so.
#[test]
fn the_servers_gpu_feeds_doctor_and_init_from_host() {
    let Some((keys, sshd, user)) = server() else { return };
    let fakebin = tempfile::Builder::new().prefix("devgpu-fake-smi-").tempdir().unwrap();
    let fx = common::tools::fixture("h200");
    let script = format!(
        "#!/bin/sh\ncase \"$*\" in\n  *-q*-x*) cat {0}/nvidia-smi-q.xml ;;\n  *--query-gpu*) cat {0}/query-gpu.csv ;;\n  *-L*) cat {0}/nvidia-smi-L.txt ;;\n  *) echo 'NVIDIA-SMI (imitated)' ;;\nesac\n",
        fx.display()
    );
    let smi = fakebin.path().join("nvidia-smi");
    fs::write(&smi, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&smi, fs::Permissions::from_mode(0o755)).unwrap();
    let gpu = Sshd::start(&keys, &[&format!("SetEnv PATH={}:/usr/local/bin:/usr/bin:/bin", fakebin.path().display())]);
    user.ssh_setup(&keys, "client_key", &[gpu.known_hosts_line(&keys), sshd.known_hosts_line(&keys)]);

    let dir = user.home.join("proj");
    common::tools::write_file(&dir, "requirements.txt", "torch\n");
    user.chown(&dir);
    let env = [("DOCKER_HOST", gpu.url("root"))];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let (_, v, stderr) = user.devgpu(&dir, &["doctor", "."], &env);
    let checks = &v["data"]["checks"];
    let devices = check(checks, "gpu.devices");
    assert_eq!(devices["status"], "pass", "{v:#}\n{stderr}");
    assert!(devices["summary"].as_str().unwrap().contains("NVIDIA H200 (compute capability 9.0"), "{devices}");
    assert_eq!(check(checks, "compat.gpu-cuda")["status"], "pass");
    assert_eq!(v["data"]["host"]["driver"], "580.159.04");
    assert_eq!(check(checks, "gpu.nvml")["status"], "pass");

    let (code, v, stderr) = user.devgpu(&dir, &["init", ".", "--from-host", "--dry-run"], &env);
    let data = ok(code, &v, &stderr);
    let target = &data["target"];
    assert_eq!((target["driver"].as_str(), target["computeCap"].as_str(), target["origin"].as_str()), (Some("580.159.04"), Some("9.0"), Some("docker-host")), "{target:#}");
    assert_eq!(target["gpuName"], "NVIDIA H200");

    // The GPU-less server (this machine as it is).
    let (code, v, _) = user.devgpu(&dir, &["init", ".", "--from-host", "--dry-run"], &[("DOCKER_HOST", &sshd.url("root"))]);
    assert_eq!((code, v["error"]["code"].as_str()), (1, Some("no-gpu-on-docker-host")), "{v:#}");
    assert!(v["error"]["hints"].to_string().contains("--driver VERSION --compute-cap X.Y"), "{v:#}");
}

/// The official Dev Containers CLI with DOCKER_HOST set to the same ssh:// host reuses the container devgpu started
/// there — what VS Code does with `docker.host` / the docker context pointing at the server.
#[test]
fn the_devcontainer_cli_over_the_same_ssh_host_reuses_the_container() {
    let Some((_keys, sshd, user)) = server() else { return };
    let Some(cli) = common::tools::devcontainer_cli() else { return };
    if !user.run(&["test", "-x", &cli.display().to_string()]).status.success() {
        common::tools::missing_prerequisite(&format!("the test user cannot run {}", cli.display()), "keep the repository in a folder other users can read (not under /root)");
        return;
    }
    let ws = user.workspace(&image_config(r#", "postCreateCommand": "echo once >> /tmp/created.log""#));
    let url = sshd.url("root");
    let (c, e, s) = user.devgpu(&ws, &["up"], &[("DOCKER_HOST", &url)]);
    let up = ok(c, &e, &s);
    let id = up["containerId"].as_str().unwrap();
    let out = user.command(&cli.display().to_string(), &["up", "--workspace-folder", &ws.display().to_string()], &[("DOCKER_HOST", &url)]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result: Value = stdout.lines().rev().find_map(|l| serde_json::from_str(l.trim()).ok()).unwrap_or_else(|| panic!("no JSON from devcontainer up: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(result["outcome"], "success", "{result:#}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(result["containerId"], id, "the official CLI over ssh:// reuses devgpu's container");
    let log = Command::new("docker").args(["exec", id, "sh", "-c", "wc -l < /tmp/created.log"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&log.stdout).trim(), "1", "postCreateCommand ran once");
}
