//! `verify`'s result: the container (as `up` reports it), the checks, and what was cleaned up.

use std::fmt::Write;

use super::up::{up_data, up_human};
use super::Render;
use crate::checks::{any_failed, Check, Status};
use crate::plan::up::UpOutcome;
use crate::settings::OutputSettings;

pub struct VerifyReport {
    pub up: UpOutcome,
    pub checks: Vec<Check>,
    /// `removed` / `stopped` when verify cleaned up a container it had started.
    pub cleanup: Option<&'static str>,
}

impl Render for VerifyReport {
    fn data(&self) -> serde_json::Value {
        let data = super::contract::VerifyData { container: up_data(&self.up), checks: &self.checks, passed: !any_failed(&self.checks), cleanup: self.cleanup };
        serde_json::to_value(data).expect("verify data serialises")
    }

    fn human(&self, out: &OutputSettings) -> String {
        let mut s = String::new();
        up_human(&self.up, out, &mut s);
        let paint = |code: &str, t: &str| if out.color { format!("\x1b[{code}m{t}\x1b[0m") } else { t.to_string() };
        for c in &self.checks {
            let mark = match c.status {
                Status::Pass => paint("32", "✓"),
                Status::Skip => paint("2", "-"),
                Status::Warn => paint("33", "!"),
                Status::Fail => paint("31", "✗"),
            };
            let _ = writeln!(s, "{mark} {:<24} {}", c.id, c.summary);
            if matches!(c.status, Status::Warn | Status::Fail) {
                if let Some(fix) = &c.fix {
                    for line in fix.lines() {
                        let _ = writeln!(s, "    fix: {line}");
                    }
                }
            }
        }
        if let Some(what) = self.cleanup {
            let _ = writeln!(s, "the container started for verification was {what} (--keep keeps it)");
        }
        let _ = writeln!(s, "{}", if self.failed() { "verify: FAILED" } else { "verify: ok — VS Code can attach to this container" });
        s
    }

    fn failed(&self) -> bool {
        any_failed(&self.checks)
    }
}
