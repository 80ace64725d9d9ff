//! `init`'s result: JSON data and the human summary.

use super::Render;
use crate::compat::{Stack, TargetHost};
use crate::plan::{FileAction, PlannedFile};
use crate::project::ProjectFacts;
use crate::settings::OutputSettings;
use std::fmt::Write;

pub struct InitReport {
    pub root: String,
    pub project: ProjectFacts,
    pub target: TargetHost,
    pub stack: Stack,
    pub files: Vec<PlannedFile>,
    /// Whether the container runs `stack` (false: the user's Dockerfile or image was kept; see the warning).
    pub stack_applied: bool,
    pub warnings: Vec<String>,
    pub dry_run: bool,
    /// Unified diffs of the files that would change (dry run), in file order.
    pub diffs: Vec<(String, String)>,
    /// How the container gets the GPU.
    pub gpu_mode: Option<GpuModeChoice>,
    /// Where the facts the stack was resolved against came from (live, cache, snapshot) and their date.
    pub facts: crate::compat::live::FactsProvenance,
}

/// The GPU mode `init` wrote runArgs for, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuModeChoice {
    pub mode: crate::plan::gpu_mode::GpuMode,
    pub reason: String,
    /// The GPU items for runArgs.
    pub run_args: Vec<String>,
    /// Inject mode: where the driver's files come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Render for InitReport {
    fn data(&self) -> serde_json::Value {
        let files = self
            .files
            .iter()
            .map(|f| super::contract::InitFile { file: f, diff: self.diffs.iter().find(|(p, _)| p == &f.path).map(|(_, d)| d.as_str()) })
            .collect();
        let data = super::contract::InitData {
            root: &self.root,
            dry_run: self.dry_run,
            project: &self.project,
            target: &self.target,
            stack: &self.stack,
            stack_applied: self.stack_applied,
            files,
            warnings: &self.warnings,
            gpu_mode: &self.gpu_mode,
            facts: &self.facts,
        };
        serde_json::to_value(data).expect("init data serialises")
    }

    fn stdout_text(&self) -> String {
        // A dry run's result is the diff itself.
        self.diffs.iter().map(|(_, d)| d.as_str()).collect()
    }

    fn human(&self, out: &OutputSettings) -> String {
        let mut s = String::new();
        let s_ = &self.stack;
        let fw = s_.framework.as_ref().map(|f| {
            format!(" · {} {}{}", f.name.as_str(), f.version, f.wheel_variant.as_ref().map(|v| format!(" ({v})")).unwrap_or_default())
        });
        let _ = writeln!(s, "devgpu init {}{}", self.root, if self.dry_run { " (dry run: nothing written)" } else { "" });
        let not_applied = if self.stack_applied { "" } else { " (not applied: your Dockerfile or image was kept)" };
        let _ = writeln!(s, "  stack   {} · Python {}{}{not_applied}", s_.image, s_.python, fw.unwrap_or_default());
        if out.verbose > 0 {
            for r in &s_.reasons {
                let _ = writeln!(s, "          - {r}");
            }
        }
        let f = &self.facts;
        let _ = writeln!(
            s,
            "  facts   {} ({}){}",
            f.source,
            f.date,
            if f.not_read.is_empty() { String::new() } else { format!("; not read: {}", f.not_read.join(", ")) }
        );
        if let Some(g) = &self.gpu_mode {
            let _ = writeln!(s, "  gpu     {} ({}){}", g.mode, g.reason, g.driver.as_ref().map(|d| format!(": {d}")).unwrap_or_default());
        }
        for f in &self.files {
            let (mark, word) = match (f.action, self.dry_run) {
                (FileAction::Created, false) => (if out.color { "\x1b[32m+\x1b[0m" } else { "+" }, "created"),
                (FileAction::Created, true) => ("+", "would create"),
                (FileAction::Updated, false) => (if out.color { "\x1b[33m~\x1b[0m" } else { "~" }, "updated"),
                (FileAction::Updated, true) => ("~", "would update"),
                (FileAction::Unchanged, _) => ("=", "unchanged"),
                (FileAction::Skipped, _) => ("-", "skipped"),
            };
            let _ = writeln!(s, "  {mark} {word:<12} {}", f.path);
            for n in &f.notes {
                let _ = writeln!(s, "      {n}");
            }
        }
        for a in &s_.assumptions {
            let _ = writeln!(s, "  assumed: {a}");
        }
        for w in &self.warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
        if !self.dry_run {
            let _ = writeln!(s, "next: open the folder in VS Code and run \"Dev Containers: Reopen in Container\"");
        }
        s
    }
}
