//! `initializeCommand` on the host, for `up` and `verify`: consent and forms decided in
//! [`crate::plan::host_command`]; run here, in the workspace folder, before Docker is contacted. The named commands
//! of the object form run in parallel; any failure stops `up` before anything is built.

use std::process::{Command, Stdio};

use crate::plan::host_command::{initialize_command, HostCommandError};
use crate::plan::up::UpPlan;
use crate::report::progress::Progress;

/// How many lines of a failing command's output the error shows.
const TAIL_LINES: usize = 15;

/// Runs the config's `initializeCommand` when `allowed`; without consent, a config that has one is an error.
pub fn run_initialize(plan: &UpPlan, allowed: bool, progress: &Progress) -> Result<(), HostCommandError> {
    let Some(cmd) = initialize_command(plan.lifecycle().initialize.as_ref(), allowed, &plan.config.config_file, &plan.config.local_folder)? else {
        return Ok(());
    };
    progress.step("initialize", &format!("running initializeCommand on this machine (allowed by --allow-host-commands): {}", cmd.shown));
    let cwd = cmd.cwd.as_str();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = cmd
            .runs
            .iter()
            .map(|(name, argv)| s.spawn(move || (name.clone(), Command::new(&argv[0]).args(&argv[1..]).current_dir(cwd).stdin(Stdio::null()).output())))
            .collect();
        handles.into_iter().map(|h| h.join().expect("a host command thread panicked")).collect()
    });
    for (name, out) in results {
        let out = out.map_err(|e| HostCommandError::Spawn { name: name.clone(), message: e.to_string() })?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        for l in &lines {
            progress.log("initialize", l);
        }
        if !out.status.success() {
            let status = match out.status.code() {
                Some(c) => format!("exit code {c}"),
                None => "a signal".to_string(),
            };
            let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].iter().map(|l| l.to_string()).collect();
            return Err(HostCommandError::Failed { name, status, tail });
        }
    }
    Ok(())
}
