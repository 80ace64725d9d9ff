//! `devgpu host …` results: JSON data and the human summary, plus the progress lines `install-toolkit --yes`
//! prints while its steps run.

use super::Render;
use crate::plan::daemon::DaemonPlan;
use crate::plan::toolkit::ToolkitPlan;
use crate::settings::OutputSettings;
use serde::Serialize;
use serde_json::json;
use std::fmt::Write;

/// Restarting Docker and waiting for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartOutcome {
    pub command: String,
    pub ok: bool,
    /// The command's output (its tail) and, when the daemon never answered, why.
    pub detail: String,
    pub seconds: f64,
}

/// What the daemon said after the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyOutcome {
    pub ok: bool,
    pub endpoint: Option<String>,
    pub server_version: Option<String>,
    /// Runtimes `docker info` lists.
    pub runtimes: Vec<String>,
    pub runtime_registered: bool,
    pub runtime_path: Option<String>,
    pub default_runtime: Option<String>,
    /// What is not as asked, each with the fix.
    pub problems: Vec<String>,
}

pub struct ConfigureDockerReport {
    /// The path as given.
    pub file: String,
    /// The file actually edited, when `file` is a symbolic link.
    pub target: Option<String>,
    pub existed: bool,
    pub dry_run: bool,
    pub plan: DaemonPlan,
    pub backup: Option<String>,
    /// Unified diff of the change (dry run and repair).
    pub diff: Option<String>,
    /// The command that applies the change, when devgpu did not restart Docker itself.
    pub restart_command: String,
    pub restart: Option<RestartOutcome>,
    pub verify: Option<VerifyOutcome>,
}

impl Render for ConfigureDockerReport {
    fn data(&self) -> serde_json::Value {
        json!({
            "file": self.file,
            "target": self.target,
            "existed": self.existed,
            "dryRun": self.dry_run,
            "changed": self.plan.changed,
            "written": self.plan.changed && !self.dry_run,
            "changes": self.plan.changes,
            "notes": self.plan.notes,
            "warnings": self.plan.warnings,
            "repairs": self.plan.repairs,
            "previousDefaultRuntime": self.plan.previous_default,
            "existingRuntime": self.plan.existing_runtime,
            "blocker": self.plan.blocker,
            "backup": self.backup,
            "diff": self.diff,
            "restartCommand": self.restart_command,
            "restart": self.restart,
            "verify": self.verify,
        })
    }

    fn stdout_text(&self) -> String {
        self.diff.clone().unwrap_or_default()
    }

    fn human(&self, out: &OutputSettings) -> String {
        let mut s = String::new();
        let target = self.target.as_ref().map(|t| format!(" (a link to {t})")).unwrap_or_default();
        let state = match (self.plan.changed, self.dry_run) {
            (false, _) => " — already configured, nothing written",
            (true, true) => " (dry run: nothing written)",
            (true, false) => "",
        };
        let _ = writeln!(s, "devgpu host configure-docker {}{target}{state}", self.file);
        let mark = if out.color { "\x1b[33m~\x1b[0m" } else { "~" };
        for r in &self.plan.repairs {
            let _ = writeln!(s, "  {mark} repaired: {r}");
        }
        for c in &self.plan.changes {
            let _ = writeln!(s, "  {mark} {c}");
        }
        if let Some(b) = &self.backup {
            let _ = writeln!(s, "  backup  {b}   (undo: devgpu host undo --config {})", self.file);
        }
        for n in &self.plan.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        for w in &self.plan.warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
        if let Some(b) = &self.plan.blocker {
            let _ = writeln!(s, "  warning: {b}: devgpu would refuse to write this");
        }
        if let Some(r) = &self.restart {
            let word = if r.ok { "restarted Docker" } else { "restarting Docker failed" };
            let _ = writeln!(s, "  {word}: `{}` ({:.1} s){}", r.command, r.seconds, if r.detail.is_empty() { String::new() } else { format!("\n    {}", r.detail.trim().replace('\n', "\n    ")) });
        }
        if let Some(v) = &self.verify {
            if v.ok {
                let _ = writeln!(
                    s,
                    "  ✓ the daemon{} lists runtime nvidia ({}); default runtime: {}",
                    v.server_version.as_ref().map(|x| format!(" (Docker {x})")).unwrap_or_default(),
                    v.runtime_path.as_deref().unwrap_or("?"),
                    v.default_runtime.as_deref().unwrap_or("?")
                );
            } else {
                let _ = writeln!(s, "  ✗ verification failed:");
                for p in &v.problems {
                    let _ = writeln!(s, "    - {p}");
                }
            }
        }
        if self.restart.is_none() && self.plan.changed && !self.dry_run {
            let _ = writeln!(s, "next: restart Docker to apply: {}", self.restart_command);
        }
        s
    }

    fn failed(&self) -> bool {
        self.restart.as_ref().is_some_and(|r| !r.ok) || self.verify.as_ref().is_some_and(|v| !v.ok)
    }
}

pub struct UndoReport {
    pub file: String,
    pub target: Option<String>,
    pub dry_run: bool,
    /// The backup restored.
    pub restored_from: String,
    /// The backup said the file did not exist: undo removes it.
    pub removed: bool,
    pub changed: bool,
    /// The backup of the file as it was before the undo.
    pub backup: Option<String>,
    pub diff: Option<String>,
    pub restart_command: String,
}

impl Render for UndoReport {
    fn data(&self) -> serde_json::Value {
        json!({
            "file": self.file,
            "target": self.target,
            "dryRun": self.dry_run,
            "restoredFrom": self.restored_from,
            "removed": self.removed,
            "changed": self.changed,
            "written": self.changed && !self.dry_run,
            "backup": self.backup,
            "diff": self.diff,
            "restartCommand": self.restart_command,
        })
    }

    fn stdout_text(&self) -> String {
        self.diff.clone().unwrap_or_default()
    }

    fn human(&self, _out: &OutputSettings) -> String {
        let mut s = String::new();
        let what = match (self.changed, self.removed, self.dry_run) {
            (false, _, _) => format!("{} already matches {}: nothing to undo", self.file, self.restored_from),
            (true, true, true) => format!("would remove {} (it did not exist before {})", self.file, self.restored_from),
            (true, true, false) => format!("removed {} (it did not exist before {})", self.file, self.restored_from),
            (true, false, true) => format!("would restore {} from {}", self.file, self.restored_from),
            (true, false, false) => format!("restored {} from {}", self.file, self.restored_from),
        };
        let _ = writeln!(s, "devgpu host undo: {what}");
        if let Some(b) = &self.backup {
            let _ = writeln!(s, "  backup of the file before the undo: {b}   (running undo again brings it back)");
        }
        if self.changed && !self.dry_run {
            let _ = writeln!(s, "next: restart Docker to apply: {}", self.restart_command);
        }
        s
    }
}

/// One step of `install-toolkit --yes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    pub title: String,
    pub run: String,
    /// "ok", "failed", or "not run" (after a failure).
    pub status: &'static str,
    pub exit_code: Option<i32>,
    /// The end of what the step printed (stdout and stderr).
    pub output: String,
}

pub struct InstallToolkitReport {
    pub plan: ToolkitPlan,
    pub ran: bool,
    pub results: Vec<StepResult>,
}

impl Render for InstallToolkitReport {
    fn data(&self) -> serde_json::Value {
        json!({
            "distribution": self.plan.distribution,
            "family": self.plan.family,
            "familyName": self.plan.family_name,
            "matchedBy": self.plan.matched_by,
            "source": self.plan.source,
            "steps": self.plan.steps,
            "ran": self.ran,
            "results": self.results,
        })
    }

    /// Without --yes the result is the steps themselves: a script on stdout that can be read or piped to a shell.
    fn stdout_text(&self) -> String {
        if self.ran {
            return String::new();
        }
        let mut s = String::new();
        let _ = writeln!(s, "# nvidia-container-toolkit on {} ({})", self.plan.distribution.display_name(), self.plan.family_name);
        let _ = writeln!(s, "# source: {}", self.plan.source);
        for (i, step) in self.plan.steps.iter().enumerate() {
            let _ = writeln!(s, "\n# {}. {}\n{}", i + 1, step.title, step.run);
        }
        s
    }

    fn human(&self, _out: &OutputSettings) -> String {
        let mut s = String::new();
        if !self.ran {
            let _ = writeln!(s, "devgpu host install-toolkit: the steps above are NVIDIA's for {} (matched `{}`); run them, or rerun with --yes to have devgpu run them", self.plan.family_name, self.plan.matched_by);
            return s;
        }
        let _ = writeln!(s, "devgpu host install-toolkit --yes ({})", self.plan.family_name);
        for r in &self.results {
            let mark = match r.status {
                "ok" => "✓",
                "failed" => "✗",
                _ => "-",
            };
            let _ = writeln!(s, "  {mark} {} — {}", r.title, r.status);
            if r.status == "failed" {
                let _ = writeln!(s, "    $ {}", r.run);
                let _ = writeln!(s, "    exit code {}", r.exit_code.map_or("none (killed by a signal)".to_string(), |c| c.to_string()));
                for line in r.output.lines() {
                    let _ = writeln!(s, "    | {line}");
                }
            }
        }
        s
    }

    fn failed(&self) -> bool {
        self.results.iter().any(|r| r.status == "failed")
    }
}
