//! Helpers for the `up` / `verify` / `down` tests: a throwaway workspace whose containers and images are removed
//! on drop (found by the labels devgpu and the Dev Containers CLI put on them), and `devgpu` runs with the JSON
//! envelope parsed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common;

pub mod compose;
pub mod features;
pub mod parity;

/// A workspace in a fresh temp dir (`<tmp>/ws-<unique>`), cleaned up with everything Docker holds for it.
pub struct Workspace {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
}

impl Workspace {
    pub fn new(devcontainer_json: &str) -> Workspace {
        let tmp = tempfile::Builder::new().prefix("devgpu-up-").tempdir().unwrap();
        let root = tmp.path().join(format!("ws-{}", common::docker::unique_suffix()));
        std::fs::create_dir_all(root.join(".devcontainer")).unwrap();
        let ws = Workspace { _tmp: tmp, root };
        ws.write(".devcontainer/devcontainer.json", devcontainer_json);
        ws
    }

    pub fn write(&self, rel: &str, contents: &str) {
        common::tools::write_file(&self.root, rel, contents);
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn config_file(&self) -> PathBuf {
        self.root.join(".devcontainer/devcontainer.json")
    }

    /// `docker ps -aq` for this workspace's containers (any tool's).
    pub fn containers(&self) -> Vec<String> {
        let out = Command::new("docker")
            .args(["ps", "-aq", "--no-trunc", "--filter", &format!("label=devcontainer.local_folder={}", self.root.display())])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect()
    }

    /// `devgpu <args…> --json` in this workspace: (exit code, envelope, stderr).
    pub fn devgpu(&self, args: &[&str]) -> (i32, Value, String) {
        self.devgpu_env(args, &[])
    }

    /// [`Workspace::devgpu`] with environment variables set (e.g. `SSL_CERT_FILE`).
    pub fn devgpu_env(&self, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> (i32, Value, String) {
        let mut cmd = common::tools::devgpu();
        cmd.current_dir(&self.root).args(args).arg("--json").envs(env.iter().copied());
        let out = common::tools::run_logged(&mut cmd);
        parse(&cmd, out)
    }
}

pub fn parse(cmd: &Command, out: Output) -> (i32, Value, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let envelope: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("`{}` did not print one JSON object ({e}):\nstdout:\n{stdout}\nstderr:\n{stderr}", common::tools::describe(cmd))
    });
    assert_eq!(envelope["schemaVersion"], 1, "{envelope:#}");
    (out.status.code().unwrap_or(-1), envelope, stderr)
}

impl Drop for Workspace {
    fn drop(&mut self) {
        for id in self.containers() {
            let _ = Command::new("docker").args(["rm", "-f", "-v", &id]).output();
        }
        // Images devgpu built for this workspace (current and replaced ones).
        let out = Command::new("docker")
            .args(["images", "-aq", "--no-trunc", "--filter", &format!("label=devgpu.local_folder={}", self.root.display())])
            .output();
        if let Ok(out) = out {
            let mut ids: Vec<String> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect();
            ids.dedup();
            for id in ids {
                let _ = Command::new("docker").args(["rmi", "-f", &id]).output();
            }
        }
        // An image the Dev Containers CLI built for this folder: `vsc-<folder name>-<sha256 of the path>`.
        use sha2::Digest;
        let hash: String = sha2::Sha256::digest(self.root.display().to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let name = self.root.file_name().unwrap().to_string_lossy().to_lowercase();
        // The CLI's `-uid` and `-features` images built on it carry the same name with a suffix.
        for suffix in ["-uid", "-features", ""] {
            let _ = Command::new("docker").args(["rmi", "-f", &format!("vsc-{name}-{hash}{suffix}")]).output();
        }
    }
}

/// `docker exec CONTAINER sh -c SCRIPT` → trimmed stdout (asserting success).
pub fn docker_exec(container: &str, user: Option<&str>, script: &str) -> String {
    let mut cmd = Command::new("docker");
    cmd.arg("exec");
    if let Some(u) = user {
        cmd.args(["-u", u]);
    }
    cmd.args([container, "sh", "-c", script]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "docker exec {script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `docker inspect --format FORMAT ID`.
pub fn inspect(id: &str, format: &str) -> String {
    let out = Command::new("docker").args(["inspect", "--format", format, id]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The check with this id in a verify result.
pub fn check<'a>(data: &'a Value, id: &str) -> &'a Value {
    data["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no check {id} in {data:#}"))
}

/// The images built from a test's own base (`LABEL devgpu-test.case=<unique>`), removed on drop: the classic
/// builder leaves the stages before the last one (the official CLI's own build of a service, a stage a `target`
/// skips) behind, untagged. Removed newest first, children before their parents.
pub struct CaseImages(pub String);

impl CaseImages {
    pub fn new() -> CaseImages {
        CaseImages(common::docker::unique_suffix())
    }
}

impl Drop for CaseImages {
    fn drop(&mut self) {
        let out = std::process::Command::new("docker").args(["images", "-aq", "--filter", &format!("label=devgpu-test.case={}", self.0)]).output();
        // `docker images` lists the newest first.
        let mut ids = out.map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_string).collect::<Vec<_>>()).unwrap_or_default();
        ids.dedup();
        for id in ids {
            let _ = std::process::Command::new("docker").args(["rmi", "-f", &id]).output();
        }
    }
}
