//! PURE: `initializeCommand` — the one lifecycle command the spec runs on the host, before anything else, on
//! every `up`. A repository is untrusted input, so devgpu runs it only when the user says so for this run
//! (`--allow-host-commands`); without that, `up` stops before it touches Docker, naming the command and the flag.
//! It is never skipped silently (the container would be built without what the command prepares), and never
//! half-run: the consent is checked before the first command starts.
//!
//! Forms as the spec has them: a string runs through `/bin/sh -c`, an array runs as argv without a shell, an object
//! runs its named commands in parallel. They run in the workspace folder, with devgpu's environment.

use crate::config::model::LifecycleCommand;
use crate::plan::up::lifecycle_argvs;

/// The flag that allows a repository's host commands for one run.
pub const ALLOW_FLAG: &str = "--allow-host-commands";

/// The commands to run on the host, in the form the edge runs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCommand {
    /// `(name, argv)`: one entry, or one per named command of the object form (run in parallel).
    pub runs: Vec<(Option<String>, Vec<String>)>,
    /// The command as the user should read it before allowing it.
    pub shown: String,
    /// Where the command lives in the workspace (devcontainer.json) and the folder it runs in.
    pub config_file: String,
    pub cwd: String,
}

/// Why the host command was not run, or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostCommandError {
    #[error("{file} asks to run a command on this machine (initializeCommand, before the container is built): {command} — devgpu runs a repository's host commands only when you allow them; nothing was built or started")]
    NotAllowed { file: String, command: String },
    #[error("initializeCommand{} could not be started on this machine: {message}", name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default())]
    Spawn { name: Option<String>, message: String },
    #[error("initializeCommand{} failed on this machine with {status}; nothing was built or started{}", name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default(), tail.iter().map(|l| format!("\n  | {l}")).collect::<String>())]
    Failed { name: Option<String>, status: String, tail: Vec<String> },
}

impl crate::error::Coded for HostCommandError {
    fn code(&self) -> crate::error::ErrorCode {
        match self {
            HostCommandError::NotAllowed { .. } => crate::error::ErrorCode::HostCommandNotAllowed,
            HostCommandError::Spawn { .. } | HostCommandError::Failed { .. } => crate::error::ErrorCode::InitializeCommandFailed,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            HostCommandError::NotAllowed { file, .. } => vec![
                format!("read initializeCommand in {file}; if you trust this repository to run it on your machine, run again with `{ALLOW_FLAG}`"),
                "or, if the container does not need it, remove initializeCommand from devcontainer.json".into(),
            ],
            HostCommandError::Spawn { .. } => vec!["check that the program initializeCommand names is installed on this machine and on PATH".into()],
            HostCommandError::Failed { .. } => vec!["fix initializeCommand (or the script it runs) in devcontainer.json, then run `devgpu up` again".into()],
        }
    }
    fn is_user_error(&self) -> bool {
        true
    }
}

/// How a command is shown for consent: a string as it is, an array as JSON, an object as `name: command` pairs.
pub fn describe(cmd: &LifecycleCommand) -> String {
    match cmd {
        LifecycleCommand::Shell(s) => format!("`{s}`"),
        LifecycleCommand::Exec(a) => format!("`{}`", serde_json::to_string(a).unwrap_or_default()),
        LifecycleCommand::Parallel(items) => items.iter().map(|(n, c)| format!("{n}: {}", describe(c))).collect::<Vec<_>>().join(", "),
    }
}

/// The host command of a config, if it has one, and whether it may run. `Ok(None)`: nothing to run.
pub fn initialize_command(cmd: Option<&LifecycleCommand>, allowed: bool, config_file: &str, workspace: &str) -> Result<Option<HostCommand>, HostCommandError> {
    let Some(cmd) = cmd else { return Ok(None) };
    let shown = describe(cmd);
    if !allowed {
        return Err(HostCommandError::NotAllowed { file: config_file.to_string(), command: shown });
    }
    Ok(Some(HostCommand { runs: lifecycle_argvs(cmd), shown, config_file: config_file.to_string(), cwd: workspace.to_string() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Coded;

    const FILE: &str = "/w/.devcontainer/devcontainer.json";

    #[test]
    fn nothing_to_run_without_a_command() {
        assert_eq!(initialize_command(None, false, FILE, "/w"), Ok(None));
    }

    #[test]
    fn without_consent_it_stops_naming_the_command_and_the_flag() {
        let e = initialize_command(Some(&LifecycleCommand::Shell("./scripts/fetch-weights.sh".into())), false, FILE, "/w").unwrap_err();
        assert_eq!(e.code(), "host-command-not-allowed");
        let text = e.to_string();
        assert!(text.contains(FILE) && text.contains("`./scripts/fetch-weights.sh`") && text.contains("nothing was built"), "{text}");
        assert!(e.hints()[0].contains("--allow-host-commands"), "{:?}", e.hints());
    }

    #[test]
    fn with_consent_each_form_becomes_argvs() {
        let run = |c: LifecycleCommand| initialize_command(Some(&c), true, FILE, "/w").unwrap().unwrap();
        let s = run(LifecycleCommand::Shell("echo hi > x".into()));
        assert_eq!(s.runs, vec![(None, vec!["/bin/sh".to_string(), "-c".into(), "echo hi > x".into()])]);
        assert_eq!(s.cwd, "/w");
        let a = run(LifecycleCommand::Exec(vec!["touch".into(), "a b".into()]));
        assert_eq!(a.runs, vec![(None, vec!["touch".to_string(), "a b".into()])]);
        assert_eq!(a.shown, r#"`["touch","a b"]`"#);
        let p = run(LifecycleCommand::Parallel(vec![("one".into(), LifecycleCommand::Shell("1".into())), ("two".into(), LifecycleCommand::Exec(vec!["2".into()]))]));
        assert_eq!(p.runs.len(), 2);
        assert_eq!(p.runs[1], (Some("two".to_string()), vec!["2".to_string()]));
        assert_eq!(p.shown, "one: `1`, two: `[\"2\"]`");
    }

    #[test]
    fn a_failure_says_nothing_was_built() {
        let e = HostCommandError::Failed { name: Some("fetch".into()), status: "exit code 3".into(), tail: vec!["no network".into()] };
        assert_eq!(e.to_string(), "initializeCommand `fetch` failed on this machine with exit code 3; nothing was built or started\n  | no network");
        assert_eq!(e.code(), "initialize-command-failed");
    }
}
