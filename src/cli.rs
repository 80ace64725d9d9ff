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
    /// The Docker daemon to talk to (unix:///path, ssh://user@host[:port], tcp://host:port); default: DOCKER_HOST,
    /// else the current docker context, else the local socket.
    #[arg(long, global = true, value_name = "URL")]
    pub docker_host: Option<String>,
    /// Read no package index or registry: use the cached facts (any age), else the embedded snapshot
    /// (also DEVGPU_OFFLINE=1).
    #[arg(long, global = true)]
    pub offline: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write .devcontainer/devcontainer.json, a CUDA Dockerfile and .dockerignore for a repository.
    Init(InitArgs),
    /// Check the host's GPU stack (GPU, driver, toolkit, Docker, daemon.json) and say how to fix each failure.
    Doctor(DoctorArgs),
    /// Configure the host: Docker's nvidia runtime in daemon.json, the toolkit's install steps.
    #[command(subcommand)]
    Host(HostCommand),
    /// Start the workspace's dev container as VS Code would (building the image when needed), so "Reopen in Container" attaches to it.
    Up(UpArgs),
    /// Check from inside the dev container that the GPU works and that VS Code can attach (runs `up` first if needed).
    Verify(VerifyArgs),
    /// Stop (or remove) the workspace's dev container.
    Down(DownArgs),
    /// Today's releases devgpu resolves against (PyTorch wheels, nvidia/cuda tags, …): where from and how old.
    #[command(subcommand)]
    Facts(FactsCommand),
}

#[derive(Debug, Subcommand)]
pub enum FactsCommand {
    /// What is known now: the cached live facts (source, age) and what they change in the snapshot.
    Show,
    /// Read the package indexes and the registry again now, and cache the answer.
    Refresh,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The repository whose dev container image is judged against this host (default: the current directory).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Start a short-lived container with the GPU requested and run `nvidia-smi -L` in it.
    #[arg(long)]
    pub probe: bool,
    /// The image for --probe (default: the project's dev container image, else an nvidia/cuda base image).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Docker's daemon configuration file.
    #[arg(long, value_name = "PATH", default_value = "/etc/docker/daemon.json")]
    pub daemon_config: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Register the nvidia runtime in Docker's daemon.json (merged, backed up, written atomically).
    ConfigureDocker(ConfigureDockerArgs),
    /// Restore the newest backup of daemon.json that devgpu made.
    Undo(UndoArgs),
    /// Print (or with --yes, run) the signed install steps of nvidia-container-toolkit for this distribution.
    InstallToolkit(InstallToolkitArgs),
    /// Write a CDI spec (kind nvidia.com/gpu) for this host's GPUs: device nodes, the driver's files, LD_LIBRARY_PATH.
    Cdi(CdiArgs),
}

#[derive(Debug, Args)]
pub struct CdiArgs {
    /// Where to write the spec (`-` prints it on stdout).
    #[arg(long, value_name = "PATH", default_value = crate::plan::cdi::DEFAULT_SPEC_PATH)]
    pub output: PathBuf,
    /// The driver's folder: a root with lib64/ and bin/ (e.g. /usr/local/nvidia) or a library folder (e.g.
    /// /usr/lib/x86_64-linux-gnu). Default: /usr/local/nvidia if it holds the driver, else the loader cache.
    #[arg(long, value_name = "DIR")]
    pub driver_root: Option<PathBuf>,
    /// The driver capabilities the containers get (NVIDIA_DRIVER_CAPABILITIES classes, or `all`).
    #[arg(long, value_name = "LIST", default_value = "compute,utility")]
    pub capabilities: String,
    /// Show the unified diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// What installs Python packages in the generated Dockerfile: uv (pinned, fast; the default) or pip.
    #[arg(long, value_enum, default_value_t = InstallerArg::Uv)]
    pub installer: InstallerArg,
    /// Read the device nodes from this folder instead of /dev (for tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub dev_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ConfigureDockerArgs {
    /// Docker's daemon configuration file.
    #[arg(long, value_name = "PATH", default_value = "/etc/docker/daemon.json")]
    pub config: PathBuf,
    /// Also make nvidia the default runtime (needed for GPU steps in `docker build`).
    #[arg(long)]
    pub set_default: bool,
    /// Also enable CDI (`features.cdi: true`).
    #[arg(long)]
    pub cdi: bool,
    /// The runtime binary to register.
    #[arg(long, value_name = "PATH", default_value = "nvidia-container-runtime")]
    pub runtime_path: String,
    /// Show the unified diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Rewrite a file dockerd refuses (comments, trailing commas, BOM) as strict JSON, after showing the diff.
    #[arg(long)]
    pub repair: bool,
    /// Restart Docker afterwards and wait until it answers.
    #[arg(long)]
    pub restart: bool,
    /// Ask the daemon whether the runtime is registered (implied by --restart).
    #[arg(long)]
    pub verify: bool,
    /// The command that restarts Docker (default: `systemctl restart docker` under systemd, else
    /// `service docker restart`), e.g. `systemctl --user restart docker` for rootless Docker.
    #[arg(long, value_name = "COMMAND")]
    pub restart_command: Option<String>,
    /// How long to wait for the daemon to answer after the restart, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// Docker's daemon configuration file.
    #[arg(long, value_name = "PATH", default_value = "/etc/docker/daemon.json")]
    pub config: PathBuf,
    /// Show the unified diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct InstallToolkitArgs {
    /// Run the steps instead of printing them.
    #[arg(long)]
    pub yes: bool,
    /// Read this file instead of /etc/os-release (for testing other distributions).
    #[arg(long, value_name = "PATH", default_value = "/etc/os-release", hide = true)]
    pub os_release: PathBuf,
    /// Read the steps from this TOML file instead of the built-in ones (for testing the runner).
    #[arg(long, value_name = "PATH", hide = true)]
    pub steps: Option<PathBuf>,
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
    /// Aim at the GPU of the Docker host (--docker-host, DOCKER_HOST or the docker context, e.g. ssh://user@gpubox):
    /// its driver and compute capability are read there, as `devgpu doctor` reads them.
    #[arg(long, conflicts_with_all = ["driver", "compute_cap"])]
    pub from_host: bool,
    /// How the container gets the GPU: `toolkit` (--gpus), `cdi` (--device nvidia.com/gpu=…), `inject` (this host's
    /// device nodes and driver files in runArgs: no toolkit needed), or `auto` (toolkit where it is installed, else
    /// inject where this machine has the GPU, else toolkit).
    #[arg(long, value_enum, default_value_t = GpuModeArg::Auto)]
    pub gpu_mode: GpuModeArg,
    /// For `--gpu-mode inject`: the driver's folder (default: /usr/local/nvidia if it holds the driver, else the
    /// loader cache).
    #[arg(long, value_name = "DIR")]
    pub driver_root: Option<PathBuf>,
    /// What installs Python packages in the generated Dockerfile: uv (pinned, fast; the default) or pip.
    #[arg(long, value_enum, default_value_t = InstallerArg::Uv)]
    pub installer: InstallerArg,
    /// Read the device nodes from this folder instead of /dev (for tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub dev_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InstallerArg {
    Uv,
    Pip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GpuModeArg {
    Auto,
    Toolkit,
    Cdi,
    Inject,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// The workspace folder (default: the current directory).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The devcontainer.json (default: .devcontainer/devcontainer.json, else .devcontainer.json in PATH).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Rebuild the image (for a Dockerfile config) and recreate the container.
    #[arg(long)]
    pub rebuild: bool,
    /// Rebuild without the build cache (implies --rebuild).
    #[arg(long)]
    pub no_cache: bool,
    /// Run the repository's initializeCommand on this machine (the spec runs it on the host before the build):
    /// without this flag, `up` stops before building when devcontainer.json has one.
    #[arg(long)]
    pub allow_host_commands: bool,
    /// Put the workspace in a Docker volume (filled once from this folder) instead of bind-mounting the folder:
    /// for a Docker host on another machine that does not have the folder. Default name: devgpu-ws-FOLDER-HASH.
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
    pub workspace_volume: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The workspace folder (default: the current directory).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The devcontainer.json (default: .devcontainer/devcontainer.json, else .devcontainer.json in PATH).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keep a container that verify started (default: remove it, or stop it again when it existed).
    #[arg(long)]
    pub keep: bool,
    /// As for `up`: run the repository's initializeCommand on this machine.
    #[arg(long)]
    pub allow_host_commands: bool,
    /// As for `up`: the workspace in a Docker volume instead of a bind mount of this folder.
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
    pub workspace_volume: Option<String>,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// The workspace folder (default: the current directory).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The devcontainer.json (default: .devcontainer/devcontainer.json, else .devcontainer.json in PATH).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Remove the container instead of stopping it.
    #[arg(long)]
    pub remove: bool,
}
