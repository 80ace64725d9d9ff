//! One file per subcommand: the only place that orders I/O (gather facts → plan → execute → report).

pub mod init;

use crate::cli::Command;
use crate::report::Outcome;

pub fn dispatch(command: &Command) -> Outcome {
    match command {
        Command::Init(args) => Outcome { command: "init", result: init::run(args).map(|r| Box::new(r) as _) },
    }
}
