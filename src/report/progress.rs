//! Progress while a command works, on stderr (stdout carries only the result):
//! - `--json`: JSON Lines `{"type": "progress" | "log" | "check", "data": {…}}` (DESIGN.md §1);
//! - a terminal: an indicatif spinner with the current step (log lines shown above it with `-v`);
//! - otherwise (CI logs, pipes): one plain line per step, log lines with `-v`;
//! - `-q`: nothing.

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::settings::OutputSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Quiet,
    Json,
    Tty,
    Plain,
}

/// The progress emitter one command run uses.
pub struct Progress {
    mode: Mode,
    verbose: u8,
    bar: std::cell::OnceCell<ProgressBar>,
}

impl Progress {
    pub fn new(out: &OutputSettings) -> Self {
        let mode = if out.json {
            Mode::Json
        } else if out.quiet {
            Mode::Quiet
        } else if out.progress {
            Mode::Tty
        } else {
            Mode::Plain
        };
        Progress { mode, verbose: out.verbose, bar: Default::default() }
    }

    /// Silent (tests, or work whose progress nobody reads).
    pub fn quiet() -> Self {
        Progress { mode: Mode::Quiet, verbose: 0, bar: Default::default() }
    }

    fn json_line(&self, event: super::contract::Event) {
        let line = serde_json::to_string(&event).expect("an event serialises");
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }

    fn bar(&self) -> &ProgressBar {
        self.bar.get_or_init(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        })
    }

    /// A new step: `step` is a stable id (`build`, `create`, `lifecycle`), `message` what happens now.
    pub fn step(&self, step: &str, message: &str) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Json => self.json_line(super::contract::Event::Progress(super::contract::ProgressEvent { step, message })),
            Mode::Tty => {
                let msg = message.to_string();
                self.bar().set_message(msg);
            }
            Mode::Plain => {
                let _ = writeln!(std::io::stderr().lock(), "· {message}");
            }
        }
    }

    /// A line of output from something devgpu runs (the image build, a lifecycle command).
    pub fn log(&self, source: &str, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return;
        }
        match self.mode {
            Mode::Quiet => {}
            Mode::Json => self.json_line(super::contract::Event::Log(super::contract::LogEvent { source, line })),
            Mode::Tty => {
                let verbose = self.verbose > 0;
                let bar = self.bar();
                if verbose {
                    bar.println(format!("  {line}"));
                }
            }
            Mode::Plain => {
                if self.verbose > 0 {
                    let _ = writeln!(std::io::stderr().lock(), "  {line}");
                }
            }
        }
    }

    /// A check's result as soon as it is known (verify, doctor).
    pub fn check(&self, check: &crate::checks::Check) {
        if self.mode == Mode::Json {
            self.json_line(super::contract::Event::Check(check));
        }
    }

    /// Clears the spinner (before the result is printed).
    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The edges report through [`ProgressSink`](crate::model::progress::ProgressSink); this is the one sink a
/// command run has.
impl crate::model::progress::ProgressSink for Progress {
    fn step(&self, step: &str, message: &str) {
        Progress::step(self, step, message)
    }
    fn log(&self, source: &str, line: &str) {
        Progress::log(self, source, line)
    }
}
