//! PURE: facts → checks (`doctor`, later `verify`) and the diagnosis table (daemon error text → cause + fix).
//!
//! A check has one shape everywhere (DESIGN.md §1): `{"id", "status": pass|warn|fail|skip, "summary", "fix"}`.
//! `fix` is the exact command or edit (several lines when there are alternatives), present for `warn` and `fail`.

pub mod diagnosis;
pub mod drift;
pub mod lock;
pub mod doctor;
pub mod remote;

pub use diagnosis::{diagnose, Diagnosed};
pub use doctor::doctor_checks;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Check {
    /// Stable id, `area.name`: `docker.nvidia-runtime`.
    pub id: String,
    pub status: Status,
    /// One line: what was found.
    pub summary: String,
    /// The exact command or edit that fixes a warning or failure (None when there is nothing to do).
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(id: &str, summary: impl Into<String>) -> Self {
        Check { id: id.into(), status: Status::Pass, summary: summary.into(), fix: None }
    }
    pub fn skip(id: &str, summary: impl Into<String>) -> Self {
        Check { id: id.into(), status: Status::Skip, summary: summary.into(), fix: None }
    }
    pub fn warn(id: &str, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Check { id: id.into(), status: Status::Warn, summary: summary.into(), fix: Some(fix.into()) }
    }
    pub fn fail(id: &str, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Check { id: id.into(), status: Status::Fail, summary: summary.into(), fix: Some(fix.into()) }
    }
}

/// Whether any check failed (the command then exits 1).
pub fn any_failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Fail)
}

#[cfg(test)]
mod tests;
