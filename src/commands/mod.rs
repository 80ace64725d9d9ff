//! One file per subcommand: the only place that orders I/O (gather facts → plan → execute → report).

pub mod doctor;
pub mod down;
pub mod facts;
pub mod host;
pub mod host_cdi;
pub mod init;
pub mod remote;
pub mod drift;
pub mod host_command;
pub mod up;
pub mod up_uid;
pub mod verify;

use crate::cli::{Command, FactsCommand, HostCommand};
use crate::report::Outcome;
use crate::settings::Settings;

pub fn dispatch(command: &Command, settings: &Settings) -> Outcome {
    match command {
        Command::Init(args) => Outcome { command: "init", result: init::run(args, settings).map(|r| Box::new(r) as _) },
        Command::Doctor(args) => Outcome { command: "doctor", result: doctor::run(args, settings) },
        Command::Host(cmd) => Outcome {
            command: match cmd {
                HostCommand::ConfigureDocker(_) => "host configure-docker",
                HostCommand::Undo(_) => "host undo",
                HostCommand::InstallToolkit(_) => "host install-toolkit",
                HostCommand::Cdi(_) => "host cdi",
            },
            result: host::run(cmd, settings),
        },
        Command::Up(args) => Outcome { command: "up", result: up::run(args, settings) },
        Command::Verify(args) => Outcome { command: "verify", result: verify::run(args, settings) },
        Command::Down(args) => Outcome { command: "down", result: down::run(args, settings) },
        Command::Facts(cmd) => Outcome {
            command: match cmd {
                FactsCommand::Show => "facts show",
                FactsCommand::Refresh => "facts refresh",
            },
            result: facts::run(cmd, settings),
        },
    }
}
