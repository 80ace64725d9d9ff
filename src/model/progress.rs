//! FACTS (pure): how the edges say what they are doing while a command works — a step begins, a line of a tool's
//! output arrives. The edges (`docker/devcontainer/*`) take this trait; `report::progress::Progress` implements it
//! for the terminal and the JSON Lines stream, so code that gathers or changes things never imports the report
//! layer above it (`tests/architecture.rs`).

/// Receives progress from the edges. Both calls must be cheap and must not fail: progress is advisory.
pub trait ProgressSink {
    /// A new step: `step` is a stable id (`build`, `create`, `lifecycle`), `message` what happens now.
    fn step(&self, step: &str, message: &str);
    /// A line of output from something devgpu runs (the image build, a lifecycle command).
    fn log(&self, source: &str, line: &str);
}
