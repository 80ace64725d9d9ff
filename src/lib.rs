//! devgpu: GPU dev containers for VS Code.
//!
//! Every command is the same pipeline: gather facts (edge) → plan (pure) → execute (edge) → report.
//! See `../shared/DESIGN.md` §2 for the map of modules.

pub mod checks;
pub mod cli;
pub mod commands;
pub mod compat;
pub mod config;
pub mod docker;
pub mod error;
pub mod facts;
pub mod fsx;
pub mod model;
pub mod host;
pub mod plan;
pub mod project;
pub mod render;
pub mod report;
pub mod settings;
pub mod text;

use std::ffi::OsString;
use std::process::ExitCode;

/// Parse arguments, run the command, print its result, and map the outcome to an exit code
/// (0 ok, 1 a user/config/host problem, 2 an internal error).
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match <cli::Cli as clap::Parser>::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout and usage errors to stderr itself.
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(2),
            };
        }
    };
    let settings = settings::Settings::from_cli(&cli, |k| std::env::var_os(k));
    let reporter = report::Reporter::new(&settings.output);
    let outcome = commands::dispatch(&cli.command, &settings);
    reporter.finish(outcome)
}

/// Run async (Docker API) work from the synchronous command code: one current-thread runtime per call,
/// which starts in microseconds and keeps devgpu single-threaded.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a current-thread tokio runtime starts").block_on(future)
}
