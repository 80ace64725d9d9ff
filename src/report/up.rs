//! `up` and `down` results: JSON data and the human summary.

use std::fmt::Write;

use serde_json::json;

use super::Render;
use crate::plan::up::UpOutcome;
use crate::settings::OutputSettings;

pub struct UpReport(pub UpOutcome);

impl From<UpOutcome> for UpReport {
    fn from(o: UpOutcome) -> Self {
        UpReport(o)
    }
}

/// `up`'s `data` (also part of `verify`'s): the typed contract's [`UpData`](super::contract::UpData).
pub fn up_data(o: &UpOutcome) -> serde_json::Value {
    serde_json::to_value(super::contract::UpData::from(o)).expect("UpData serialises")
}

/// The lines `up` and `verify` print about the container.
pub fn up_human(o: &UpOutcome, out: &OutputSettings, s: &mut String) {
    let mark = if out.color { "\x1b[32m✓\x1b[0m" } else { "✓" };
    let how = if o.reused && o.started {
        "started"
    } else if o.reused {
        "reused"
    } else if o.recreated {
        "recreated"
    } else {
        "created"
    };
    let _ = writeln!(s, "{mark} dev container {} ({how}): {}", o.container_name, &o.container_id[..12.min(o.container_id.len())]);
    let _ = writeln!(s, "  image      {}{}", o.image, if o.built { " (built)" } else { "" });
    let _ = writeln!(s, "  workspace  {} as {}", o.workspace_folder, o.remote_user);
    if let Some(line) = o.uid.as_ref().and_then(|u| u.describe()) {
        let _ = writeln!(s, "  user       {line}");
    }
    match (&o.gpu_requested, o.gpu_granted) {
        (None, _) => match &o.gpu_injected {
            Some(n) => {
                let _ = writeln!(s, "  GPU        {n} passed in by runArgs (device nodes or CDI devices: devgpu's inject/cdi mode)");
            }
            None => {
                let _ = writeln!(s, "  GPU        none requested");
            }
        },
        (Some(r), true) => {
            let _ = writeln!(s, "  GPU        --gpus {r}");
        }
        (Some(r), false) => {
            let _ = writeln!(s, "  GPU        --gpus {r} NOT granted (optional)");
        }
    }
    for w in &o.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
}

impl Render for UpReport {
    fn data(&self) -> serde_json::Value {
        up_data(&self.0)
    }

    fn human(&self, out: &OutputSettings) -> String {
        let mut s = String::new();
        up_human(&self.0, out, &mut s);
        let _ = writeln!(s, "next: open the folder in VS Code and run \"Dev Containers: Reopen in Container\" (it attaches to this container); `devgpu verify` checks the GPU and VS Code's needs inside it");
        s
    }
}

/// What `down` did to each container of the workspace.
pub struct DownReport {
    pub containers: Vec<(String, String, &'static str)>,
}

impl Render for DownReport {
    fn data(&self) -> serde_json::Value {
        json!({
            "containers": self.containers.iter().map(|(id, name, action)| json!({"containerId": id, "containerName": name, "action": action})).collect::<Vec<_>>(),
        })
    }

    fn human(&self, _out: &OutputSettings) -> String {
        if self.containers.is_empty() {
            return "no dev container for this workspace\n".into();
        }
        self.containers.iter().map(|(id, name, action)| format!("{action} {name} ({})\n", &id[..12.min(id.len())])).collect()
    }
}
