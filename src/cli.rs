//! The command line, as clap derive types only. Resolution into plain settings happens in `settings.rs`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "devgpu", version, about = "GPU dev containers for VS Code, in one command", propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print one JSON result object on stdout (progress goes to stderr as JSON Lines).
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (every reason and assumption).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never draw progress bars or spinners.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write .devcontainer/devcontainer.json, a CUDA Dockerfile and .dockerignore for a repository.
    Init(InitArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FrameworkArg {
    Auto,
    Pytorch,
    Tensorflow,
    Jax,
    None,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository (default: the current directory).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Show a unified diff of every file that would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace files that devgpu did not write (an existing Dockerfile).
    #[arg(long)]
    pub force: bool,
    /// The framework to build the stack around.
    #[arg(long, value_enum, default_value_t = FrameworkArg::Auto)]
    pub framework: FrameworkArg,
    /// CUDA version of the image, X.Y (default: resolved from the project and the target host).
    #[arg(long, value_name = "X.Y")]
    pub cuda: Option<String>,
    /// Python version, X.Y (default: resolved from the project's pins and the framework).
    #[arg(long, value_name = "X.Y")]
    pub python: Option<String>,
    /// GPUs for the container: `all`, a count, or device IDs/UUIDs separated by commas.
    #[arg(long, default_value = "all", value_name = "all|N|ID,ID")]
    pub gpus: String,
    /// The target host's NVIDIA driver version, when init runs away from the GPU box (e.g. 550.54.15).
    #[arg(long, value_name = "VERSION")]
    pub driver: Option<String>,
    /// The target GPU's compute capability (e.g. 8.6), when init runs away from the GPU box.
    #[arg(long, value_name = "X.Y")]
    pub compute_cap: Option<String>,
}
