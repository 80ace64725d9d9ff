//! `devgpu host cdi`'s result: JSON data, the spec or the diff on stdout, and the human summary.

use super::Render;
use crate::host::driver_files::DriverFiles;
use crate::host::gpu_devices::GpuNode;
use crate::settings::OutputSettings;
use serde_json::json;
use std::fmt::Write;

pub struct CdiReport {
    /// The path as given (`-`: stdout).
    pub output: String,
    pub to_stdout: bool,
    pub dry_run: bool,
    pub existed: bool,
    pub changed: bool,
    pub written: bool,
    pub backup: Option<String>,
    pub diff: Option<String>,
    /// The spec's text.
    pub spec: String,
    /// Fully qualified device names (`nvidia.com/gpu=all`).
    pub devices: Vec<String>,
    pub gpus: Vec<GpuNode>,
    /// One line about the driver's files.
    pub driver: String,
    pub files: DriverFiles,
    pub warnings: Vec<String>,
}

impl Render for CdiReport {
    fn data(&self) -> serde_json::Value {
        json!({
            "output": self.output,
            "dryRun": self.dry_run,
            "existed": self.existed,
            "changed": self.changed,
            "written": self.written,
            "backup": self.backup,
            "diff": self.diff,
            "devices": self.devices,
            "gpus": self.gpus,
            "driver": self.files,
            "warnings": self.warnings,
            "spec": serde_json::from_str::<serde_json::Value>(&self.spec).unwrap_or(serde_json::Value::Null),
        })
    }

    fn stdout_text(&self) -> String {
        if self.to_stdout {
            self.spec.clone()
        } else {
            self.diff.clone().unwrap_or_default()
        }
    }

    fn human(&self, out: &OutputSettings) -> String {
        let mut s = String::new();
        let state = match (self.to_stdout, self.changed, self.dry_run, self.written) {
            (true, ..) => " (printed on stdout)".to_string(),
            (_, false, ..) => " — already up to date, nothing written".to_string(),
            (_, true, true, _) => " (dry run: nothing written)".to_string(),
            (_, true, false, true) => " — written".to_string(),
            _ => String::new(),
        };
        let _ = writeln!(s, "devgpu host cdi {}{state}", if self.to_stdout { "-" } else { &self.output });
        let _ = writeln!(s, "  {}; capabilities {}", self.driver, self.files.capabilities.iter().map(|c| c.name()).collect::<Vec<_>>().join(","));
        for g in &self.gpus {
            let name = g.name.as_deref().unwrap_or("GPU");
            let _ = writeln!(s, "  GPU {} {name}{} → {}", g.index, g.uuid.as_ref().map(|u| format!(" {u}")).unwrap_or_default(), g.node.path);
        }
        let _ = writeln!(s, "  devices: {}", self.devices.join(", "));
        if let Some(b) = &self.backup {
            let _ = writeln!(s, "  backup  {b}   (undo: devgpu host undo --config {})", self.output);
        }
        if out.verbose > 0 && !self.files.absent.is_empty() {
            let _ = writeln!(s, "  not shipped by this driver: {}", self.files.absent.join(", "));
        }
        for w in &self.warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
        if !self.to_stdout {
            let _ = writeln!(
                s,
                "use: `docker run --device nvidia.com/gpu=all …` on Docker ≥ 25 with CDI on (`devgpu host configure-docker --cdi --restart`), or `devgpu init --gpu-mode cdi`"
            );
        }
        s
    }
}
