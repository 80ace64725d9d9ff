//! `doctor`'s result: `data` = `{"host": {…facts…}, "checks": […]}`, and the human ✓/!/✗ list.

use super::Render;
use crate::checks::{Check, Status};
use crate::host::facts::HostFacts;
use crate::settings::OutputSettings;
use std::fmt::Write;

pub struct DoctorReport {
    pub host: HostFacts,
    pub checks: Vec<Check>,
}

impl Render for DoctorReport {
    fn data(&self) -> serde_json::Value {
        serde_json::to_value(super::contract::DoctorData { host: &self.host, checks: &self.checks }).expect("doctor data serialises")
    }

    fn human(&self, out: &OutputSettings) -> String {
        human_checks(&self.checks, out.color)
    }

    fn failed(&self) -> bool {
        crate::checks::any_failed(&self.checks)
    }
}

/// One line per check (`✓ id  summary`), fixes indented under warnings and failures, then the tally.
pub fn human_checks(checks: &[Check], color: bool) -> String {
    let paint = |code: &str, s: &str| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() };
    let width = checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    let mut s = String::new();
    for c in checks {
        let mark = match c.status {
            Status::Pass => paint("32", "✓"),
            Status::Warn => paint("33", "!"),
            Status::Fail => paint("31", "✗"),
            Status::Skip => paint("2", "-"),
        };
        let _ = writeln!(s, "{mark} {:<width$}  {}", c.id, c.summary);
        if matches!(c.status, Status::Warn | Status::Fail) {
            if let Some(fix) = &c.fix {
                for (i, line) in fix.lines().enumerate() {
                    let _ = writeln!(s, "    {} {line}", if i == 0 { "fix:" } else { "    " });
                }
            }
        }
    }
    let count = |st: Status| checks.iter().filter(|c| c.status == st).count();
    let _ = writeln!(
        s,
        "{} passed, {} warning{}, {} failed, {} skipped",
        count(Status::Pass),
        count(Status::Warn),
        if count(Status::Warn) == 1 { "" } else { "s" },
        count(Status::Fail),
        count(Status::Skip)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_check_with_fixes_indented() {
        let checks = vec![
            Check::pass("gpu.kernel-module", "NVIDIA kernel module 580.159.04 loaded"),
            Check::fail("toolkit.installed", "not installed", "install it\nthen restart"),
            Check::skip("probe.gpu", "not run"),
        ];
        let text = human_checks(&checks, false);
        assert_eq!(
            text,
            "✓ gpu.kernel-module  NVIDIA kernel module 580.159.04 loaded\n\
             ✗ toolkit.installed  not installed\n    fix: install it\n         then restart\n\
             - probe.gpu          not run\n\
             1 passed, 0 warnings, 1 failed, 1 skipped\n"
        );
    }
}
