//! `devgpu up` / `verify` / `down` errors that come before any Docker call (no daemon needed): a missing or
//! Compose-based devcontainer.json, unknown runArgs flags, bad values — each with its stable code, the place and
//! the fix, in the JSON envelope and as exit code 1.

mod common;
mod up_support;

use up_support::Workspace;

#[test]
fn no_devcontainer_json_says_how_to_get_one() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = common::tools::devgpu();
    cmd.args(["up", "--json"]).arg(tmp.path());
    let out = common::tools::run_logged(&mut cmd);
    let (code, env, _) = up_support::parse(&cmd, out);
    assert_eq!(code, 1);
    assert_eq!(env["outcome"], "error");
    assert_eq!(env["command"], "up");
    assert_eq!(env["error"]["code"], "devcontainer-missing");
    assert!(env["error"]["hints"][0].as_str().unwrap().contains("devgpu init"), "{env:#}");
}

#[test]
fn unknown_run_args_flag_is_named() {
    let ws = Workspace::new(r#"{ "image": "x", "runArgs": ["--gpus", "all", "--detach-keys=ctrl-x"] }"#);
    for cmd in ["up", "verify"] {
        let (code, env, _) = ws.devgpu(&[cmd]);
        assert_eq!(code, 1, "{env:#}");
        assert_eq!(env["error"]["code"], "run-args-unknown-flag");
        assert!(env["error"]["message"].as_str().unwrap().contains("`--detach-keys`"), "{env:#}");
    }
}

#[test]
fn joined_flag_and_bad_values() {
    let ws = Workspace::new(r#"{ "image": "x", "runArgs": ["--gpus all"] }"#);
    let (_, env, _) = ws.devgpu(&["up"]);
    assert_eq!(env["error"]["code"], "run-args-joined");
    assert!(env["error"]["hints"][0].as_str().unwrap().contains(r#""--gpus", "all""#), "{env:#}");

    ws.write(".devcontainer/devcontainer.json", r#"{ "image": "x", "runArgs": ["--shm-size", "lots"] }"#);
    let (_, env, _) = ws.devgpu(&["up"]);
    assert_eq!(env["error"]["code"], "run-args-invalid-value");

    ws.write(".devcontainer/devcontainer.json", "{\n  \"image\": \"x\",\n  \"mounts\": [\"type=bind,target=/x\"]\n}\n");
    let (_, env, _) = ws.devgpu(&["up"]);
    assert_eq!(env["error"]["code"], "devcontainer-invalid-value");
    assert!(env["error"]["message"].as_str().unwrap().contains("devcontainer.json:3:"), "{env:#}");

    ws.write(".devcontainer/devcontainer.json", "{ \"image\": \"x\", \"runArgs\": \"--gpus all\" }");
    let (_, env, _) = ws.devgpu(&["up"]);
    assert_eq!(env["error"]["code"], "devcontainer-wrong-type");
}

/// `build.options` that only BuildKit honours stop `up` before anything is built (an image without the secret the
/// Dockerfile expects is not the image VS Code would build), naming the line and the official CLI as the way on.
#[test]
fn buildkit_build_options_hand_over_before_building() {
    let ws = Workspace::new("{\n  \"build\": {\n    \"dockerfile\": \"Dockerfile\",\n    \"options\": [\"--network=host\", \"--secret\", \"id=pip,src=pip.conf\"]\n  }\n}\n");
    ws.write(".devcontainer/Dockerfile", "FROM scratch\n");
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{env:#}");
    assert_eq!(env["error"]["code"], "devcontainer-invalid-value");
    let message = env["error"]["message"].as_str().unwrap();
    assert!(message.contains("devcontainer.json:4:") && message.contains("`--secret` needs buildx") && message.contains("devcontainer up"), "{env:#}");
}

/// `--env-file` is read only from inside the workspace (a repository is untrusted input: no file of this machine
/// goes into the container because a repository names it), by an absolute path; a bad line is named.
#[test]
fn env_files_outside_the_workspace_or_with_bad_lines_are_refused() {
    let secret = tempfile::tempdir().unwrap();
    std::fs::write(secret.path().join("secret.env"), "TOKEN=s3cret\n").unwrap();
    let outside = secret.path().join("secret.env").display().to_string();
    let ws = Workspace::new(&format!(r#"{{ "image": "x", "runArgs": ["--env-file", "{outside}"] }}"#));
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!((code, env["error"]["code"].as_str()), (1, Some("run-args-invalid-value")), "{env:#}");
    let message = env["error"]["message"].as_str().unwrap();
    assert!(message.contains(&outside) && message.contains("outside the repository") && !message.contains("s3cret"), "{env:#}");
    assert!(env["error"]["hints"][0].as_str().unwrap().contains("${localWorkspaceFolder}/FILE"), "{env:#}");

    // Through a symlink in the workspace: the same.
    std::os::unix::fs::symlink(secret.path().join("secret.env"), ws.root.join("linked.env")).unwrap();
    ws.write(".devcontainer/devcontainer.json", r#"{ "image": "x", "runArgs": ["--env-file=${localWorkspaceFolder}/linked.env"] }"#);
    let (_, env, _) = ws.devgpu(&["up"]);
    assert!(env["error"]["message"].as_str().unwrap().contains("outside the repository"), "{env:#}");

    ws.write(".devcontainer/devcontainer.json", r#"{ "image": "x", "runArgs": ["--env-file", "vars.env"] }"#);
    let (_, env, _) = ws.devgpu(&["up"]);
    assert!(env["error"]["message"].as_str().unwrap().contains("a relative path"), "{env:#}");

    ws.write("vars.env", "A=1\nMY VAR=2\n");
    ws.write(".devcontainer/devcontainer.json", r#"{ "image": "x", "runArgs": ["--env-file", "${localWorkspaceFolder}/vars.env"] }"#);
    let (_, env, _) = ws.devgpu(&["up"]);
    assert_eq!(env["error"]["code"], "run-args-invalid-value", "{env:#}");
    assert!(env["error"]["message"].as_str().unwrap().contains("vars.env:2: the variable name `MY VAR` contains whitespace"), "{env:#}");
}

#[test]
fn compose_config_errors_are_named() {
    let ws = Workspace::new(r#"{ "dockerComposeFile": "compose.yml", "service": "app", "workspaceFolder": "/w" }"#);
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!(code, 1);
    assert_eq!(env["error"]["code"], "compose-file-missing");
    assert!(env["error"]["message"].as_str().unwrap().contains(".devcontainer/compose.yml"), "{env:#}");
    ws.write(".devcontainer/devcontainer.json", r#"{ "dockerComposeFile": "compose.yml" }"#);
    let (_, env, _) = ws.devgpu(&["up"]);
    assert_eq!(env["error"]["code"], "compose-no-service", "{env:#}");
}

#[test]
fn missing_dockerfile_is_named() {
    let ws = Workspace::new(r#"{ "build": { "dockerfile": "Dockerfile.gpu" } }"#);
    let (_, env, _) = ws.devgpu(&["up"]);
    assert_eq!(env["error"]["code"], "dockerfile-missing");
    assert!(env["error"]["message"].as_str().unwrap().contains("Dockerfile.gpu"), "{env:#}");
}

#[test]
fn help_lists_the_commands() {
    let out = common::tools::devgpu().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for c in ["up", "verify", "down"] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(c)), "{c} missing from:\n{text}");
    }
    let out = common::tools::devgpu().args(["up", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--rebuild") && text.contains("--no-cache") && text.contains("--config"), "{text}");
}
