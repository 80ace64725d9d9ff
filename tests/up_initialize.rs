//! `initializeCommand`: a repository's command for the host runs only with `--allow-host-commands`. Without it,
//! `up` and `verify` stop before Docker is contacted, naming the command and the flag, and leave nothing behind;
//! with it, the command runs on the host in the workspace folder before the container exists (string, array and
//! parallel object forms), and a failing one stops `up` before anything is built.

mod common;
mod up_support;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use serde_json::Value;
use up_support::{docker_exec, Workspace};

fn config(initialize: &str) -> String {
    format!(
        r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"], "initializeCommand": {initialize},
             "postCreateCommand": "cat from-host.txt > /tmp/seen-by-container" }}"#
    )
}

#[test]
fn without_consent_up_and_verify_stop_before_docker_naming_command_and_flag() {
    // No daemon is needed: nothing may reach it. DOCKER_HOST points nowhere to prove it.
    let ws = Workspace::new(&config(r#""echo pwned > host-ran.txt""#));
    for sub in ["up", "verify"] {
        let mut cmd = common::tools::devgpu();
        cmd.current_dir(&ws.root).args([sub, "--json"]).env("DOCKER_HOST", "tcp://127.0.0.1:9");
        let out = common::tools::run_logged(&mut cmd);
        let (code, env, stderr) = up_support::parse(&cmd, out);
        assert_eq!(code, 1, "{env:#}\n{stderr}");
        assert_eq!(env["outcome"], "error");
        let error = &env["error"];
        assert_eq!(error["code"], "host-command-not-allowed", "{env:#}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("`echo pwned > host-ran.txt`") && message.contains(&ws.config_file().display().to_string()), "{message}");
        assert!(error["hints"][0].as_str().unwrap().contains("--allow-host-commands"), "{error:#}");
        assert!(!ws.root.join("host-ran.txt").exists(), "the command did not run");
    }
    assert!(ws.containers().is_empty());
}

#[test]
fn with_consent_it_runs_on_the_host_first_in_each_form() {
    if !standin_images_available() {
        return;
    }
    // String form: a shell in the workspace folder; the container's postCreateCommand then sees its file.
    let ws = Workspace::new(&config(r#""pwd > from-host.txt""#));
    let (code, env, stderr) = ws.devgpu(&["up", "--allow-host-commands"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert!(stderr.contains("initializeCommand"), "progress names the command: {stderr}");
    let folder = ws.root.display().to_string();
    assert_eq!(std::fs::read_to_string(ws.root.join("from-host.txt")).unwrap().trim(), folder, "ran on the host, in the workspace folder");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(docker_exec(&id, None, "cat /tmp/seen-by-container"), folder, "before the container's lifecycle commands");
    // On every up (the spec's "on subsequent starts" too), also when the container is reused.
    std::fs::remove_file(ws.root.join("from-host.txt")).unwrap();
    let (code, again, stderr) = ws.devgpu(&["up", "--allow-host-commands"]);
    assert_eq!((code, &again["data"]["reused"]), (0, &Value::Bool(true)), "{again:#}\n{stderr}");
    assert!(ws.root.join("from-host.txt").exists());
    // Consent is per run: the next up without the flag stops and leaves the running container alone.
    let (code, refused, _) = ws.devgpu(&["up"]);
    assert_eq!((code, &refused["error"]["code"]), (1, &Value::from("host-command-not-allowed")));
    assert_eq!(ws.containers(), vec![id]);

    // Array form (no shell: `>` is an argument) and the object form (named commands in parallel).
    let ws = Workspace::new(&config(r#"["sh", "-c", "printf '%s' \"$0\" > from-host.txt", "a > b"]"#));
    let (code, env, stderr) = ws.devgpu(&["up", "--allow-host-commands"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert_eq!(std::fs::read_to_string(ws.root.join("from-host.txt")).unwrap(), "a > b");
    let ws = Workspace::new(&config(r#"{"one": "echo 1 > from-host.txt", "two": ["touch", "second.txt"]}"#));
    let (code, env, stderr) = ws.devgpu(&["up", "--allow-host-commands"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    assert!(ws.root.join("from-host.txt").exists() && ws.root.join("second.txt").exists());
}

#[test]
fn a_failing_host_command_stops_up_before_anything_is_built() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(&config(r#"{"fetch": "echo cannot reach the weights >&2; exit 3", "ok": "true"}"#));
    let (code, env, stderr) = ws.devgpu(&["up", "--allow-host-commands"]);
    assert_eq!(code, 1, "{env:#}\n{stderr}");
    assert_eq!(env["error"]["code"], "initialize-command-failed");
    let message = env["error"]["message"].as_str().unwrap();
    assert!(message.contains("`fetch`") && message.contains("exit code 3") && message.contains("cannot reach the weights"), "{message}");
    assert!(ws.containers().is_empty(), "no container");
}
