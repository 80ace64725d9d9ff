//! The error every command ends with: a stable kebab-case code, a message, and hints with the exact fix.
//! Module errors (`thiserror` enums) implement [`Coded`]; `commands/` turns them into [`CliError`] through `?`.

use serde::{Deserialize, Serialize};

/// Declares [`ErrorCode`]: each variant with its kebab-case code and its one documentation line, which
/// `ARCHITECTURE.md`'s list is checked against (`tests/architecture.rs`).
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $code:literal,)+) => {
        /// Every stable error code devgpu reports (`error.code` in `--json`, `error[CODE]` on stderr). A code
        /// never changes meaning; new failures get new codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ #[serde(rename = $code)] $variant,)+
        }

        impl ErrorCode {
            /// All codes, in the order of their documentation.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The kebab-case code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// Its documentation line.
            pub fn doc(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => concat!($($doc),+).trim_ascii(),)+
                }
            }
        }
    };
}

error_codes! {
    /// A bug or an I/O failure devgpu cannot blame on the input (exit 2).
    Internal = "internal",
    /// Ctrl-C or SIGTERM stopped the command; what it started was cleaned up (exit 130).
    Interrupted = "interrupted",
    /// A command-line argument has a value devgpu cannot use.
    InvalidArgument = "invalid-argument",
    /// A path named on the command line does not exist.
    PathNotFound = "path-not-found",
    /// A path would be written or read outside the repository (also through a symlink).
    OutsideRepository = "outside-repository",
    /// The file could not be read or written with the current user's rights.
    PermissionDenied = "permission-denied",
    /// A file could not be read.
    ReadFailed = "read-failed",
    /// A file could not be written; the old file is unchanged.
    WriteFailed = "write-failed",
    /// `host undo` found no backup devgpu made to restore.
    NoBackup = "no-backup",
    /// /etc/os-release could not be read, so the distribution is unknown.
    OsReleaseUnreadable = "os-release-unreadable",
    /// No toolkit install steps are known for this distribution.
    UnknownDistribution = "unknown-distribution",
    /// The embedded toolkit install steps do not parse (a build bug).
    ToolkitStepsInvalid = "toolkit-steps-invalid",
    /// The runtime binary daemon.json would name is not installed.
    RuntimeNotInstalled = "runtime-not-installed",
    /// Daemon.json could not be read.
    DaemonJsonRead = "daemon-json-read",
    /// Daemon.json is not JSON that dockerd accepts; nothing was changed.
    DaemonJsonRefused = "daemon-json-refused",
    /// The directory of daemon.json does not exist.
    DaemonJsonNoDirectory = "daemon-json-no-directory",
    /// Daemon.json is on a read-only file system or managed elsewhere.
    DaemonJsonReadOnly = "daemon-json-read-only",
    /// The existing CDI spec could not be read.
    CdiRead = "cdi-read",
    /// A driver file the CDI spec would name is missing.
    CdiFileMissing = "cdi-file-missing",
    /// Neither NVML nor nvidia-smi told devgpu about the GPUs.
    GpuFactsUnavailable = "gpu-facts-unavailable",
    /// No /dev/nvidia* device nodes exist on this host.
    NoGpuDeviceNodes = "no-gpu-device-nodes",
    /// A GPU named by --gpus (index, UUID or count) is not on this host.
    GpuNotFound = "gpu-not-found",
    /// The --gpus value or a CDI device name does not parse.
    InvalidGpus = "invalid-gpus",
    /// The Docker host has no GPU devgpu can hand to a container.
    NoGpuOnDockerHost = "no-gpu-on-docker-host",
    /// The NVIDIA driver's user-space files were not found.
    DriverFilesNotFound = "driver-files-not-found",
    /// A driver library a GPU container needs is missing or a dangling link.
    DriverFilesMissing = "driver-files-missing",
    /// The driver's files belong to another driver version than the loaded kernel module.
    DriverFilesVersionMismatch = "driver-files-version-mismatch",
    /// The project folder does not exist.
    ProjectNotFound = "project-not-found",
    /// The project path is not a folder.
    ProjectNotADirectory = "project-not-a-directory",
    /// The project folder or one of its files could not be read.
    ProjectUnreadable = "project-unreadable",
    /// A TOML file of the project (pyproject.toml, Pipfile) does not parse.
    TomlSyntax = "toml-syntax",
    /// A YAML file of the project (environment.yml) does not parse.
    YamlSyntax = "yaml-syntax",
    /// The host driver is older than every CUDA the project can use.
    DriverTooOld = "driver-too-old",
    /// The CUDA version asked for has no living nvidia/cuda image (end-of-life tags are deleted).
    CudaImageDeleted = "cuda-image-deleted",
    /// The CUDA version asked for does not fit the GPU, the driver or the framework.
    CudaUnsuitable = "cuda-unsuitable",
    /// No CUDA version fits the GPU, the driver and the project's pins together.
    NoCudaFits = "no-cuda-fits",
    /// The project's Python pins cannot be met together.
    PythonConflict = "python-conflict",
    /// The project's framework pins cannot be met with one CUDA.
    FrameworkConflict = "framework-conflict",
    /// The GPU needs a newer driver branch than the host has.
    GpuDriverMismatch = "gpu-driver-mismatch",
    /// The workspace folder does not exist.
    WorkspaceMissing = "workspace-missing",
    /// No devcontainer.json was found (or the one named does not exist).
    DevcontainerMissing = "devcontainer-missing",
    /// Devcontainer.json could not be read.
    DevcontainerUnreadable = "devcontainer-unreadable",
    /// The Dockerfile devcontainer.json names does not exist.
    DockerfileMissing = "dockerfile-missing",
    /// Devcontainer.json is not valid JSON with comments.
    JsoncSyntax = "jsonc-syntax",
    /// Devcontainer.json is empty.
    JsoncEmpty = "jsonc-empty",
    /// Devcontainer.json is not one JSON object.
    DevcontainerNotObject = "devcontainer-not-object",
    /// A devcontainer.json property has the wrong type.
    DevcontainerWrongType = "devcontainer-wrong-type",
    /// A devcontainer.json object names a key twice.
    DevcontainerDuplicateKey = "devcontainer-duplicate-key",
    /// Init does not merge into a Docker Compose devcontainer.json.
    DevcontainerComposeUnsupported = "devcontainer-compose-unsupported",
    /// A Docker Compose devcontainer.json lacks `service`, the service VS Code attaches to.
    ComposeNoService = "compose-no-service",
    /// A compose file named by `dockerComposeFile` does not exist.
    ComposeFileMissing = "compose-file-missing",
    /// A compose file is not valid YAML.
    ComposeInvalidYaml = "compose-invalid-yaml",
    /// The compose files do not define the service devcontainer.json names.
    ComposeServiceMissing = "compose-service-missing",
    /// Init would have to edit YAML written in a form it does not edit (flow style).
    ComposeUnsupportedYaml = "compose-unsupported-yaml",
    /// Neither `docker-compose` nor `docker compose` is installed.
    ComposeCliMissing = "compose-cli-missing",
    /// The Compose CLI failed to build or start the project.
    ComposeFailed = "compose-failed",
    /// A Dev Container Feature devgpu cannot install itself (tarball URL, retired form, a registry that needs
    /// credentials): the official CLI builds it.
    FeatureOutOfReach = "feature-out-of-reach",
    /// A Feature's devcontainer-feature.json or folder is not a valid Feature.
    FeatureInvalid = "feature-invalid",
    /// A Feature's registry could not be reached.
    FeatureUnreachable = "feature-unreachable",
    /// Features depend on each other in a cycle.
    FeatureCycle = "feature-cycle",
    /// Devcontainer.json names neither an image nor a Dockerfile.
    DevcontainerNoImage = "devcontainer-no-image",
    /// A devcontainer.json property has a value devgpu cannot use.
    DevcontainerInvalidValue = "devcontainer-invalid-value",
    /// RunArgs holds a flag docker run does not know.
    RunArgsUnknownFlag = "run-args-unknown-flag",
    /// A runArgs flag is missing its value or has a value docker run refuses.
    RunArgsInvalidValue = "run-args-invalid-value",
    /// RunArgs holds a value with no flag before it.
    RunArgsStrayValue = "run-args-stray-value",
    /// RunArgs joins a flag and its value in one string with a space.
    RunArgsJoined = "run-args-joined",
    /// A .dockerignore pattern does not parse.
    DockerignoreInvalid = "dockerignore-invalid",
    /// The Docker socket does not exist (Docker is not installed or not started).
    DockerSocketMissing = "docker-socket-missing",
    /// The user may not use the Docker socket.
    DockerPermissionDenied = "docker-permission-denied",
    /// The Docker daemon does not answer on its socket.
    DockerDaemonDown = "docker-daemon-down",
    /// The Docker host URL's scheme is not supported.
    DockerHostUnsupported = "docker-host-unsupported",
    /// The Docker daemon did not answer in time.
    DockerTimeout = "docker-timeout",
    /// The Docker daemon refused a request.
    DockerApiError = "docker-api-error",
    /// The Docker daemon could not be reached.
    DockerUnreachable = "docker-unreachable",
    /// The TLS connection to the Docker daemon failed (certificates).
    DockerTlsFailed = "docker-tls-failed",
    /// An ssh:// Docker host needs the ssh client, which is not installed.
    SshMissing = "ssh-missing",
    /// The SSH server refused the login.
    SshAuthFailed = "ssh-auth-failed",
    /// The SSH server's host key is not in known_hosts.
    SshHostKeyUnknown = "ssh-host-key-unknown",
    /// The SSH server's host key differs from the one in known_hosts.
    SshHostKeyChanged = "ssh-host-key-changed",
    /// The SSH host name does not resolve.
    SshHostUnknown = "ssh-host-unknown",
    /// The SSH server refused the connection.
    SshConnectionRefused = "ssh-connection-refused",
    /// The SSH connection timed out.
    SshTimeout = "ssh-timeout",
    /// The SSH server has no docker command.
    SshNoDocker = "ssh-no-docker",
    /// The SSH server's docker has no `system dial-stdio` (Docker 18.09 or later needed).
    SshDockerTooOld = "ssh-docker-too-old",
    /// The SSH user may not use the server's Docker socket.
    SshDockerPermissionDenied = "ssh-docker-permission-denied",
    /// The Docker daemon on the SSH server is not running.
    SshDockerDaemonDown = "ssh-docker-daemon-down",
    /// The SSH connection failed for another reason (its stderr is in the message).
    SshFailed = "ssh-failed",
    /// The package index or image registry could not be asked (live facts).
    FactsUnreachable = "facts-unreachable",
    /// A file of the build context could not be read.
    BuildContextUnreadable = "build-context-unreadable",
    /// The image build failed.
    BuildFailed = "build-failed",
    /// The image is neither local nor pullable.
    ImageUnavailable = "image-unavailable",
    /// Docker could not give the container the GPU (the daemon's error is diagnosed in the hints).
    GpuUnavailable = "gpu-unavailable",
    /// The container did not start.
    ContainerStartFailed = "container-start-failed",
    /// A devcontainer.json lifecycle command failed in the container.
    LifecycleCommandFailed = "lifecycle-command-failed",
    /// The repository's initializeCommand would run on this machine; devgpu runs it only with --allow-host-commands.
    HostCommandNotAllowed = "host-command-not-allowed",
    /// The initializeCommand could not be started or failed on this machine; nothing was built or started.
    InitializeCommandFailed = "initialize-command-failed",
    /// The workspace folder is not on the (remote) Docker host, so it cannot be mounted.
    WorkspaceNotOnDockerHost = "workspace-not-on-docker-host",
}

/// A code compares equal to its kebab-case text (tests and JSON read it that way).
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What each module's error type tells the user beyond its message.
pub trait Coded: std::error::Error {
    /// Stable machine-readable code, e.g. `jsonc-syntax`.
    fn code(&self) -> ErrorCode;
    /// Exact fixes, one per line of advice.
    fn hints(&self) -> Vec<String> {
        Vec::new()
    }
    /// false for bugs and I/O failures devgpu cannot blame on the user's input (exit 2).
    fn is_user_error(&self) -> bool {
        true
    }
}

/// Why a command failed: a stable code, the message, and the exact fixes. Carried through `anyhow` and
/// recovered in `lib.rs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    #[serde(skip)]
    pub internal: bool,
}

impl CliError {
    pub fn user(code: ErrorCode, message: impl Into<String>, hints: Vec<String>) -> Self {
        CliError { code, message: message.into(), hints, internal: false }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        CliError { code: ErrorCode::Internal, message: message.into(), hints: Vec::new(), internal: true }
    }

    /// Any error that reached the top: a [`CliError`] keeps its code; anything else is internal.
    pub fn from_anyhow(err: &anyhow::Error) -> Self {
        match err.downcast_ref::<CliError>() {
            Some(e) => e.clone(),
            None => CliError::internal(format!("{err:#}")),
        }
    }
}

impl<E: Coded> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError { code: e.code(), message: e.to_string(), hints: e.hints(), internal: !e.is_user_error() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(!s.is_empty() && s.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())), "{s}");
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::Value::String(s.into()));
            assert!(c.doc().ends_with('.') && c.doc().len() > 10, "{s}: {}", c.doc());
        }
    }
}
