//! A Docker Compose workspace for the `up` tests: devgpu's override files in a private cache, and everything the
//! compose project holds (containers, network, named volumes, the image Compose built) removed on drop, whichever
//! tool (devgpu or the official Dev Containers CLI) made it.

use std::process::Command;

use serde_json::Value;

use super::Workspace;
use crate::common;
use crate::common::docker::STANDIN_IMAGE;

pub struct ComposeWs {
    pub ws: Workspace,
    pub cache: tempfile::TempDir,
    /// The project name the Dev Containers CLI derives for compose files in `<workspace>/.devcontainer`.
    pub project: String,
}

impl ComposeWs {
    /// `.devcontainer/{devcontainer.json,docker-compose.yml,Dockerfile}`, three services (`app` built from the
    /// stand-in, `db` and `extra` from the stand-in image).
    pub fn new(devcontainer_json: &str) -> ComposeWs {
        let cws = ComposeWs::bare(devcontainer_json);
        let name = cws.name();
        let unique = common::docker::unique_suffix();
        cws.ws.write(
            ".devcontainer/docker-compose.yml",
            &format!(
                "version: '3.8'\nservices:\n  app:\n    build:\n      context: .\n      dockerfile: Dockerfile\n    volumes:\n      - ..:/workspaces/{name}\n    command: sleep infinity\n    labels:\n      devgpu-test: compose\n  db:\n    image: {STANDIN_IMAGE}\n    command: sleep infinity\n    labels:\n      devgpu-test: compose\n  extra:\n    image: {STANDIN_IMAGE}\n    command: sleep infinity\n    labels:\n      devgpu-test: compose\n"
            ),
        );
        cws.ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN echo built > /built.txt\n"));
        cws
    }

    /// Only devcontainer.json: the test writes the compose files.
    pub fn bare(devcontainer_json: &str) -> ComposeWs {
        let ws = Workspace::new(devcontainer_json);
        let name = ws.root.file_name().unwrap().to_string_lossy().to_string();
        // The Dev Containers CLI's rule: compose files in <workspace>/.devcontainer → "<workspace>_devcontainer".
        let project = format!("{}_devcontainer", name.to_lowercase());
        ComposeWs { ws, cache: tempfile::tempdir().unwrap(), project }
    }

    /// The workspace folder's name.
    pub fn name(&self) -> String {
        self.ws.root.file_name().unwrap().to_string_lossy().to_string()
    }

    pub fn devgpu(&self, args: &[&str]) -> (i32, Value, String) {
        self.devgpu_env(args, &[])
    }

    /// [`ComposeWs::devgpu`] with environment variables set (e.g. `SSL_CERT_FILE`).
    pub fn devgpu_env(&self, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> (i32, Value, String) {
        let mut cmd = common::tools::devgpu();
        cmd.current_dir(&self.ws.root).args(args).arg("--json").env("XDG_CACHE_HOME", self.cache.path()).envs(env.iter().copied());
        let out = common::tools::run_logged(&mut cmd);
        super::parse(&cmd, out)
    }

    /// (service, state) of every container of the project, sorted by service.
    pub fn services(&self) -> Vec<(String, String)> {
        let out = Command::new("docker")
            .args(["ps", "-a", "--filter", &format!("label=com.docker.compose.project={}", self.project), "--format", "{{.Label \"com.docker.compose.service\"}} {{.State}}"])
            .output()
            .unwrap();
        let mut v: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect();
        v.sort();
        v
    }
}

impl Drop for ComposeWs {
    fn drop(&mut self) {
        let out = Command::new("docker").args(["ps", "-aq", "--filter", &format!("label=com.docker.compose.project={}", self.project)]).output();
        if let Ok(out) = out {
            for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("docker").args(["rm", "-f", "-v", id]).output();
            }
        }
        let _ = Command::new("docker").args(["network", "rm", &format!("{}_default", self.project)]).output();
        let volumes = Command::new("docker").args(["volume", "ls", "-q", "--filter", &format!("label=com.docker.compose.project={}", self.project)]).output();
        if let Ok(out) = volumes {
            for v in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("docker").args(["volume", "rm", v]).output();
            }
        }
        // Compose v1 tags the built image <project>_app, v2 <project>-app; devgpu's uid and Features images of
        // the service are labelled with the workspace and go with `Workspace`'s drop.
        for sep in ["_", "-"] {
            let _ = Command::new("docker").args(["rmi", "-f", &format!("{}{sep}app", self.project)]).output();
        }
    }
}
