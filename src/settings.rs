//! Resolve command-line arguments and environment into plain settings (pure: the environment is passed in).

use crate::cli::Cli;
use std::ffi::OsString;

/// How results and progress are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSettings {
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// Colour and spinners only on a terminal, without --json, without NO_COLOR, without --no-progress.
    pub color: bool,
    pub progress: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub output: OutputSettings,
    /// `--docker-host`, else `DOCKER_HOST`; None = the local default (see `docker::connect`).
    pub docker_host: Option<String>,
    /// Where live facts come from (indexes, registry, cache) and whether to read them at all.
    pub facts: crate::facts::FactsSettings,
}

impl Settings {
    pub fn from_cli(cli: &Cli, env: impl Fn(&str) -> Option<OsString>) -> Self {
        use std::io::IsTerminal;
        let g = &cli.global;
        let tty = std::io::stderr().is_terminal();
        let no_color = env("NO_COLOR").is_some_and(|v| !v.is_empty());
        Settings {
            output: OutputSettings {
                json: g.json,
                quiet: g.quiet,
                verbose: g.verbose,
                color: tty && !g.json && !no_color,
                progress: tty && !g.json && !g.no_progress,
            },
            facts: crate::facts::FactsSettings::from_env(g.offline, &|k| env(k).map(|v| v.to_string_lossy().into_owned())),
            docker_host: g.docker_host.clone().or_else(|| env("DOCKER_HOST").map(|v| v.to_string_lossy().into_owned())).filter(|h| !h.is_empty()),
        }
    }
}
