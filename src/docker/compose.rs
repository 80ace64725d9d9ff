//! EDGE: the Docker Compose CLI the machine has — `docker-compose` (v1, Debian's 1.29 package; the Dev Containers
//! CLI tries it first too) or the `docker compose` plugin (v2) — run against the same daemon devgpu talks to
//! (`DOCKER_HOST` set from the endpoint), with its output kept for errors.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::docker::Endpoint;

/// A Compose CLI that answered `version --short`.
#[derive(Debug, Clone)]
pub struct ComposeCli {
    program: String,
    /// `["compose"]` for the docker CLI plugin.
    prefix: Vec<String>,
    pub version: String,
    docker_host: String,
}

/// What a Compose run printed.
#[derive(Debug, Clone)]
pub struct ComposeOutput {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl ComposeOutput {
    /// The line that says what went wrong: Compose v1 ends with a summary ("Encountered errors while bringing up
    /// the project.") after the daemon's own error line, which is the one worth showing.
    pub fn key_line(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        lines
            .iter()
            .rev()
            .find(|l| l.to_lowercase().contains("error") && !l.starts_with("Encountered errors"))
            .or(lines.last())
            .map(|l| l.to_string())
            .unwrap_or_else(|| "it printed nothing".into())
    }

    /// The last `n` lines of stderr (Compose reports there), for an error.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let lines: Vec<&str> = self.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(n)..].iter().map(|l| l.to_string()).collect()
    }
}

impl ComposeCli {
    /// `docker-compose`, else `docker compose`; `None` when neither answers.
    pub async fn detect(endpoint: &Endpoint) -> Option<ComposeCli> {
        for (program, prefix) in [("docker-compose", vec![]), ("docker", vec!["compose".to_string()])] {
            let mut cli = ComposeCli { program: program.into(), prefix, version: String::new(), docker_host: endpoint.url.clone() };
            let out = cli.run_raw(&["version".into(), "--short".into()], None).await;
            if let Ok(o) = out {
                if o.ok {
                    cli.version = o.stdout.trim().to_string();
                    return Some(cli);
                }
            }
        }
        None
    }

    /// The command as a user would type it (for messages).
    pub fn name(&self) -> String {
        std::iter::once(self.program.as_str()).chain(self.prefix.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
    }

    /// Compose v1 (`docker-compose` 1.x): image names `<project>_<service>`, no top-level `name:`.
    pub fn is_v1(&self) -> bool {
        crate::plan::compose::version_before(&self.version, 2, 0)
    }

    async fn run_raw(&self, args: &[String], cwd: Option<&Path>) -> std::io::Result<ComposeOutput> {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.prefix).args(args).env("DOCKER_HOST", &self.docker_host).stdin(Stdio::null()).kill_on_drop(true);
        // No colours or progress bars in the captured output.
        cmd.env("COMPOSE_INTERACTIVE_NO_CLI", "1").env("NO_COLOR", "1").env("COMPOSE_ANSI", "never");
        if let Some(d) = cwd {
            cmd.current_dir(d);
        }
        let out = cmd.output().await?;
        Ok(ComposeOutput { ok: out.status.success(), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() })
    }

    /// `<compose> -p PROJECT -f FILE… ARGS…`, run in the first file's folder (Compose's project directory).
    pub async fn run(&self, project: &str, files: &[PathBuf], args: &[&str]) -> Result<ComposeOutput, String> {
        let mut all: Vec<String> = vec!["-p".into(), project.into()];
        for f in files {
            all.push("-f".into());
            all.push(f.display().to_string());
        }
        all.extend(args.iter().map(|a| a.to_string()));
        let cwd = files.first().and_then(|f| f.parent());
        self.run_raw(&all, cwd).await.map_err(|e| format!("cannot run `{}`: {e}", self.name()))
    }
}
