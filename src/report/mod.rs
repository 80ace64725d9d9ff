//! Output: the JSON envelope (DESIGN.md §1) on stdout, or human text on stderr; nothing else in devgpu prints.

pub mod contract;
mod doctor;
mod facts;
mod gpu;
mod host;
mod init;
pub mod progress;
mod up;
mod verify;

pub use doctor::{human_checks, DoctorReport};
pub use facts::{FactsProvenance, FactsReport};
pub use gpu::CdiReport;
pub use host::{ConfigureDockerReport, InstallToolkitReport, RestartOutcome, StepResult, UndoReport, VerifyOutcome};
pub use init::{GpuModeChoice, InitReport};
pub use up::{DownReport, UpReport};
pub use verify::VerifyReport;

use crate::error::CliError;
use crate::settings::OutputSettings;
use contract::{Envelope, Outcome as ContractOutcome};
use std::io::Write;
use std::process::ExitCode;

pub const SCHEMA_VERSION: u32 = 1;

/// What a command produced: JSON `data` and the human rendering of the same result.
pub trait Render {
    fn data(&self) -> serde_json::Value;
    /// Text for stdout (the result itself, e.g. a diff) — empty for most commands.
    fn stdout_text(&self) -> String {
        String::new()
    }
    /// Lines for stderr in human mode.
    fn human(&self, out: &OutputSettings) -> String;
    /// Whether the command's result is a failure (e.g. a failing check) even though it ran to the end.
    fn failed(&self) -> bool {
        false
    }
}

pub struct Outcome {
    pub command: &'static str,
    pub result: Result<Box<dyn Render>, anyhow::Error>,
}

pub struct Reporter {
    settings: OutputSettings,
}

impl Reporter {
    pub fn new(settings: &OutputSettings) -> Self {
        Reporter { settings: settings.clone() }
    }

    /// Print the result (or the error) and turn it into the exit code: 0 ok, 1 user/host problem, 2 internal.
    pub fn finish(&self, outcome: Outcome) -> ExitCode {
        let mut stdout = std::io::stdout().lock();
        let mut stderr = std::io::stderr().lock();
        match outcome.result {
            Ok(r) => {
                let failed = r.failed();
                if self.settings.json {
                    let env = Envelope {
                        schema_version: SCHEMA_VERSION,
                        command: outcome.command,
                        outcome: if failed { ContractOutcome::Error } else { ContractOutcome::Success },
                        data: Some(r.data()),
                        error: None,
                    };
                    let _ = writeln!(stdout, "{}", serde_json::to_string(&env).expect("envelope serialises"));
                } else {
                    let _ = stdout.write_all(r.stdout_text().as_bytes());
                    if !self.settings.quiet {
                        let _ = stderr.write_all(r.human(&self.settings).as_bytes());
                    }
                }
                if failed {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(err) => {
                let e = CliError::from_anyhow(&err);
                if self.settings.json {
                    let env = Envelope { schema_version: SCHEMA_VERSION, command: outcome.command, outcome: ContractOutcome::Error, data: None, error: Some(&e) };
                    let _ = writeln!(stdout, "{}", serde_json::to_string(&env).expect("envelope serialises"));
                } else {
                    let _ = writeln!(stderr, "error[{}]: {}", e.code, e.message);
                    for h in &e.hints {
                        let _ = writeln!(stderr, "  hint: {h}");
                    }
                }
                ExitCode::from(if e.code == crate::error::ErrorCode::Interrupted { 130 } else if e.internal { 2 } else { 1 })
            }
        }
    }
}
