//! FACTS: what the gathering edges found about the host and its Docker daemon — the plain structs `doctor`'s checks,
//! the planners and the reports read. Gathered by `host/` (files, NVML, nvidia-smi, the toolkit's programs, over
//! ssh) and `docker/` (the daemon's info, the probe container); defined here so that the pure core takes them
//! without depending on that code. The original modules re-export them under their old paths.

use super::versions::{ComputeCap, CudaVersion, DriverVersion};
use serde::{Deserialize, Serialize, Serializer};

/// Everything the doctor's checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostFacts {
    /// The loaded NVIDIA kernel module (`/proc/driver/nvidia/version`); None: not loaded (or not visible, as in WSL).
    pub kernel_module: Option<KernelModule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_module_error: Option<String>,
    pub nvml: NvmlFacts,
    /// The `nvidia-smi` fallback, run only when NVML did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nvidia_smi: Option<SmiFallback>,
    /// Where `driver`, `driverCuda` and `gpus` came from: `nvml`, `nvidia-smi`, `kernel-module`, or None.
    pub gpu_source: Option<String>,
    pub driver: Option<DriverVersion>,
    /// The newest CUDA the driver says it supports.
    #[serde(serialize_with = "ser_cuda")]
    pub driver_cuda: Option<CudaVersion>,
    pub gpus: Vec<GpuInfo>,
    pub device_nodes: DeviceNodes,
    pub toolkit: ToolkitFacts,
    pub cdi: CdiFacts,
    pub docker: DaemonFacts,
    pub daemon_json: DaemonJsonFacts,
    /// The repository's dev container, when run in one.
    pub project: Option<ProjectImageFacts>,
    /// `--probe`'s container, when asked for.
    pub probe: Option<ProbeResult>,
}

/// The NVIDIA device nodes in `/dev`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeviceNodes {
    pub nvidiactl: bool,
    pub nvidia_uvm: bool,
    /// `/dev/nvidia0`, `/dev/nvidia1`, …
    pub gpus: Vec<String>,
    /// NVIDIA device nodes without their `/dev/char/MAJOR:MINOR` symlink (systemd's cgroup device rules refer to
    /// devices by those links; without them a `systemctl daemon-reload` cuts running containers off their GPUs).
    pub dev_char_missing: Vec<String>,
}

/// What dockerd would make of daemon.json (from `host::daemon_json`), in the shape the checks and `--json` use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonJsonFacts {
    pub path: String,
    /// `missing`, `ok`, `refused` (dockerd will not start with it), `unreadable`.
    pub state: String,
    pub runtimes: Vec<RuntimeFact>,
    pub default_runtime: Option<String>,
    pub features_cdi: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exec_opts: Vec<String>,
    pub cgroup_driver: Option<String>,
    /// Dead duplicate keys, ignored `args`, …: one sentence each with file:line:column.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<DaemonJsonProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonJsonProblem {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// dockerd's own words, for a refused file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub hints: Vec<String>,
}

/// The repository's dev container image(s), for the compatibility verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectImageFacts {
    /// `.devcontainer/devcontainer.json` or `.devcontainer.json`, relative to the repository.
    pub devcontainer: String,
    /// The image, or every `FROM` of the Dockerfile it builds, each with where it is written.
    pub images: Vec<ImageRef>,
    /// A Docker Compose config (its images are in the compose file, not judged here).
    pub compose: bool,
    /// The PyTorch wheel variant the project pins (`cu121`), with where.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub torch_variant: Option<ImageRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRef {
    /// An image name, or for `torch_variant` the variant.
    pub image: String,
    /// `.devcontainer/devcontainer.json`, `.devcontainer/Dockerfile:1`, `requirements.txt:3`.
    pub source: String,
}

pub fn ser_cuda<S: Serializer>(v: &Option<CudaVersion>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(c) => s.serialize_str(&c.short()),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CdiSpec {
    pub path: String,
    /// `nvidia.com/gpu`
    pub kind: String,
    pub cdi_version: Option<String>,
    /// Fully qualified device names: `nvidia.com/gpu=all`.
    pub devices: Vec<String>,
    /// Driver versions named in the spec's library paths (`libcuda.so.550.54.15` → `550.54.15`), sorted, unique.
    pub driver_versions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CdiFacts {
    pub dirs: Vec<String>,
    pub specs: Vec<CdiSpec>,
}

/// The loaded kernel module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KernelModule {
    pub version: DriverVersion,
    /// The open kernel module (`NVIDIA UNIX Open Kernel Module`) rather than the proprietary one.
    pub open: bool,
    /// The `NVRM version:` line as the kernel printed it.
    pub line: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NvmlStatus {
    /// NVML started; the facts below are NVML's.
    Ok,
    /// No `libnvidia-ml.so.1` anywhere devgpu looked.
    LibraryNotFound,
    /// The library loaded but `nvmlInit` (or a symbol) failed: see `error_code`.
    InitFailed,
}

/// What NVML said, or why it could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NvmlFacts {
    pub status: NvmlStatus,
    /// For `init-failed`: `driver-library-mismatch`, `driver-not-loaded`, `no-permission`, `unknown`, `symbol-missing`, `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The library file the loader mapped (symlinks resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// The version in the library's file name (the user-space driver version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_version: Option<DriverVersion>,
    /// The names and paths tried, in order.
    pub tried: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_version: Option<DriverVersion>,
    /// The newest CUDA the driver supports (`nvmlSystemGetCudaDriverVersion_v2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "ser_cuda")]
    pub cuda_version: Option<CudaVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nvml_version: Option<String>,
    pub gpus: Vec<GpuInfo>,
    /// GPUs NVML lists but cannot read (e.g. one that fell off the bus), one message each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gpu_errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuInfo {
    pub index: u32,
    pub name: String,
    pub uuid: String,
    pub pci_bus_id: String,
    pub driver: DriverVersion,
    pub compute_cap: Option<ComputeCap>,
    pub memory_mib: Option<u64>,
    pub mig_mode: Option<String>,
}

/// The result of the `nvidia-smi` fallback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmiFallback {
    /// The nvidia-smi that ran (None: not found).
    pub path: Option<String>,
    pub driver_version: Option<DriverVersion>,
    #[serde(serialize_with = "ser_cuda")]
    pub cuda_version: Option<CudaVersion>,
    pub gpus: Vec<GpuInfo>,
    /// Its error text (e.g. `Failed to initialize NVML: Driver/library version mismatch`), when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Seconds since the epoch of the file's last change (to tell whether Docker started before the install).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_unix: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ToolkitFacts {
    pub tools: Vec<Tool>,
}

pub const HOOK: &str = "nvidia-container-runtime-hook";

pub const CLI: &str = "nvidia-container-cli";

pub const RUNTIME: &str = "nvidia-container-runtime";

pub const CTK: &str = "nvidia-ctk";

pub const TOOLS: [&str; 4] = [HOOK, CLI, RUNTIME, CTK];

/// Folders searched after PATH: where the distribution packages put the programs.
pub const SYSTEM_BIN_DIRS: &[&str] = &["/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin", "/sbin"];

/// Where the machine facts of a doctor report came from when Docker is not on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerFactsSource {
    /// `ssh` (the server's files and nvidia-smi, over ssh), `container` (nvidia-smi in a GPU container there),
    /// or `none` (nothing could be read on the server).
    pub via: String,
    /// The areas that describe the server: `gpu`, `driver`, `deviceNodes`, `toolkit`, `cdi`, `daemonJson`, `dockerd`.
    pub facts: Vec<String>,
    /// What could not be read there, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeFact {
    pub name: String,
    pub path: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

/// Why Docker could not be asked: the error's code, message and fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerProblem {
    pub code: String,
    pub message: String,
    pub hints: Vec<String>,
}

/// The Docker daemon as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonFacts {
    pub endpoint: Endpoint,
    /// The endpoint is a local unix socket: the daemon's daemon.json, pidfile and devices are this machine's.
    pub local: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<DockerProblem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_root_dir: Option<String>,
    /// Sorted by name.
    pub runtimes: Vec<RuntimeFact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_runtime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup_driver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup_version: Option<String>,
    pub rootless: bool,
    /// Docker Desktop (a VM: the host's NVIDIA driver is not inside it on Linux).
    pub desktop: bool,
    /// Docker from the snap store (its own confinement and runtime setup).
    pub snap: bool,
    /// Podman's Docker-compatible service (`podman system service`), not dockerd.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub podman: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cdi_spec_dirs: Vec<String>,
    /// When the local daemon process started (seconds since the epoch), from its pidfile and /proc.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_unix: Option<u64>,
    /// For a daemon on another machine: where the report's machine facts (GPU, driver, toolkit, daemon.json, …)
    /// came from. None for a local daemon (they are this machine's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_facts: Option<ServerFactsSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum ProbeOutcome {
    /// The container ran `nvidia-smi -L`.
    #[serde(rename_all = "camelCase")]
    Ran { exit_code: i64, output: String },
    /// The daemon refused at some stage (`pull`, `create`, `start`, `wait`).
    #[serde(rename_all = "camelCase")]
    DaemonError { stage: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    pub image: String,
    /// Where the image name came from: `--image`, `.devcontainer/devcontainer.json`, a default.
    pub image_origin: String,
    pub outcome: ProbeOutcome,
    /// Whether the container was removed (false only when removal itself failed).
    pub removed: bool,
}

/// Where the daemon is and who said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2375`
    pub url: String,
    /// `--docker-host`, `DOCKER_HOST`, `docker context "name"`, `the default socket`
    pub origin: String,
    /// TLS for a `tcp://` endpoint (the environment's or the context's), None for plain TCP and the rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSettings>,
}

/// The TLS material and policy for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsSettings {
    /// Check the daemon's certificate against `ca`.
    pub verify: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// The client certificate and key, when both exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `DOCKER_TLS_VERIFY, DOCKER_CERT_PATH=/home/u/.docker`, `docker context "gpu"`.
    pub origin: String,
}

pub const NVML_LIB: &str = "libnvidia-ml.so.1";

/// An `NVIDIA_DRIVER_CAPABILITIES` class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    Compute,
    Utility,
    Video,
    Graphics,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Library,
    Binary,
    Firmware,
}

/// One file the container gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriverFile {
    pub capability: Capability,
    pub kind: FileKind,
    /// The catalog name it was found for (`libcuda.so`, `nvidia-smi`, `gsp*.bin`).
    pub wanted: String,
    /// The file on the host (`/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15`).
    pub host_path: String,
    /// The names it gets in the container's folder: the soname links (`libcuda.so.1`, and `libcuda.so`), the
    /// binary's name, or the firmware's file name.
    pub names: Vec<String>,
}

/// How the files reach the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum DriverLayout {
    /// A folder that holds only the driver: bound whole at `/usr/local/nvidia`; `lib_subdirs` are its library
    /// folders relative to it (`lib64`).
    Dedicated { root: String, lib_subdirs: Vec<String> },
    /// Files mixed with the system's: each bound on its own.
    Shared,
}

/// The driver's files for a set of capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriverFiles {
    pub version: String,
    pub source: String,
    pub layout: DriverLayout,
    pub capabilities: Vec<Capability>,
    pub files: Vec<DriverFile>,
    /// Catalog entries of the requested classes that this driver does not ship (not an error: older and newer
    /// drivers differ), e.g. `libnvidia-fatbinaryloader.so (compute)`.
    pub absent: Vec<String>,
    pub warnings: Vec<String>,
}

/// Where devgpu puts the driver's files in the container.
pub const CONTAINER_DRIVER_ROOT: &str = "/usr/local/nvidia";

/// nvidia-container-toolkit's default when `NVIDIA_DRIVER_CAPABILITIES` is unset.
pub const DEFAULT_CAPABILITIES: [Capability; 2] = [Capability::Compute, Capability::Utility];

/// A device node: where it is in the container (`/dev/nvidia0`) and on the host (the same, unless a test dev dir).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DevNode {
    pub path: String,
    pub host_path: String,
    pub major: u32,
    pub minor: u32,
}

/// One GPU and its node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuNode {
    /// nvidia-smi / NVML index (PCI order); for nodes without GPU facts, the order of their minors.
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pci_bus_id: Option<String>,
    pub node: DevNode,
    /// How the node was matched: `proc` (device minor by UUID/bus), `nvidia-smi`, `index` (assumed), `node`
    /// (no GPU facts: the node alone).
    pub matched_by: String,
}

/// The NVIDIA device nodes and the GPU → node map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuDeviceFacts {
    pub dev_dir: String,
    pub nvidiactl: Option<DevNode>,
    pub uvm: Option<DevNode>,
    pub uvm_tools: Option<DevNode>,
    pub modeset: Option<DevNode>,
    pub caps: Vec<DevNode>,
    pub gpus: Vec<GpuNode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What `/proc/driver/nvidia/gpus/<bus>/information` says about one GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinorHint {
    pub uuid: Option<String>,
    pub pci_bus_id: Option<String>,
    pub minor: u32,
}

/// Why a container cannot get (these) GPUs from this host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpuAccessError {
    #[error("no NVIDIA device nodes on this host: {} missing in {dev_dir} — containers cannot reach a GPU in any mode (toolkit, CDI or inject)", missing.join(", "))]
    NoDeviceNodes { dev_dir: String, missing: Vec<String> },
    #[error("no GPU `{id}` on this host (GPUs: {})", if available.is_empty() { "none".to_string() } else { available.join("; ") })]
    UnknownGpu { id: String, available: Vec<String> },
    #[error("{wanted} GPUs asked for, this host has {have}")]
    TooFewGpus { wanted: u32, have: usize },
}

/// The fields devgpu uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OsRelease {
    /// `ID` (defaults to `linux`, as os-release(5) says).
    pub id: String,
    /// `ID_LIKE`, split on spaces.
    pub id_like: Vec<String>,
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
}

/// The real uid and gid of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalUser {
    pub uid: u32,
    pub gid: u32,
}
