//! One file per subcommand: the only place that orders I/O (gather facts → plan → execute → report).

pub mod init;

use crate::cli::Command;
use crate::report::{Outcome, Reporter};
use crate::settings::Settings;

pub fn dispatch(command: &Command, settings: &Settings, reporter: &Reporter) -> Outcome {
    match command {
        Command::Init(args) => Outcome { command: "init", result: init::run(args, settings, reporter).map(|r| Box::new(r) as _) },
    }
}
