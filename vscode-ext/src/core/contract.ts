// Generated from schema/devgpu-output.schema.json (itself generated from the Rust types in
// src/report/contract.rs) by tests/contract.rs: do not edit; `DEVGPU_BLESS=1 cargo test --test contract`
// rewrites it. The extension's hand-written view of the contract is in types.ts.

/** What devgpu prints with --json: one Envelope on stdout, Event lines on stderr. */
export type Output = Envelope | Event;

export interface Check {
  /** Stable id, `area.name`: `docker.nvidia-runtime`. */
  id: string;
  status: Status;
  /** One line: what was found. */
  summary: string;
  /** The exact command or edit that fixes a warning or failure (None when there is nothing to do). */
  fix?: string | null;
}

/**
 * Why a command failed: a stable code, the message, and the exact fixes. Carried through `anyhow` and
 * recovered in `lib.rs`.
 */
export interface CliError {
  code: ErrorCode;
  message: string;
  hints?: string[];
}

/** `doctor`'s data. */
export interface DoctorData {
  /** The host facts the checks were made from (see `HostFacts` in the Rust sources). */
  host: Record<string, unknown>;
  checks: Check[];
}

/** What every `--json` run prints on stdout: exactly one envelope, on success and on failure. */
export interface Envelope {
  /** The version of this contract; a reader refuses a version it does not know. */
  schemaVersion: number;
  /** The subcommand, e.g. `doctor`, `init`, `up`, `verify` (`host configure-docker` for nested ones). */
  command: string;
  outcome: Outcome;
  /**
   * The command's result ([`DoctorData`], [`InitData`], [`UpData`], [`VerifyData`], …); absent when it failed
   * before producing one.
   */
  data?: unknown;
  /** Why the command failed; absent on success and when only a check failed. */
  error?: CliError | null;
}

/**
 * Every stable error code devgpu reports (`error.code` in `--json`, `error[CODE]` on stderr). A code
 * never changes meaning; new failures get new codes.
 */
export type ErrorCode = 
  | 'internal'
  | 'interrupted'
  | 'invalid-argument'
  | 'path-not-found'
  | 'outside-repository'
  | 'permission-denied'
  | 'read-failed'
  | 'write-failed'
  | 'no-backup'
  | 'os-release-unreadable'
  | 'unknown-distribution'
  | 'toolkit-steps-invalid'
  | 'runtime-not-installed'
  | 'daemon-json-read'
  | 'daemon-json-refused'
  | 'daemon-json-no-directory'
  | 'daemon-json-read-only'
  | 'cdi-read'
  | 'cdi-file-missing'
  | 'gpu-facts-unavailable'
  | 'no-gpu-device-nodes'
  | 'gpu-not-found'
  | 'invalid-gpus'
  | 'no-gpu-on-docker-host'
  | 'driver-files-not-found'
  | 'driver-files-missing'
  | 'driver-files-version-mismatch'
  | 'project-not-found'
  | 'project-not-a-directory'
  | 'project-unreadable'
  | 'toml-syntax'
  | 'yaml-syntax'
  | 'driver-too-old'
  | 'cuda-image-deleted'
  | 'cuda-unsuitable'
  | 'no-cuda-fits'
  | 'python-conflict'
  | 'framework-conflict'
  | 'gpu-driver-mismatch'
  | 'workspace-missing'
  | 'devcontainer-missing'
  | 'devcontainer-unreadable'
  | 'dockerfile-missing'
  | 'jsonc-syntax'
  | 'jsonc-empty'
  | 'devcontainer-not-object'
  | 'devcontainer-wrong-type'
  | 'devcontainer-duplicate-key'
  | 'devcontainer-compose-unsupported'
  | 'compose-no-service'
  | 'compose-file-missing'
  | 'compose-invalid-yaml'
  | 'compose-service-missing'
  | 'compose-unsupported-yaml'
  | 'compose-cli-missing'
  | 'compose-failed'
  | 'feature-out-of-reach'
  | 'feature-invalid'
  | 'feature-unreachable'
  | 'feature-cycle'
  | 'devcontainer-no-image'
  | 'devcontainer-invalid-value'
  | 'run-args-unknown-flag'
  | 'run-args-invalid-value'
  | 'run-args-stray-value'
  | 'run-args-joined'
  | 'dockerignore-invalid'
  | 'docker-socket-missing'
  | 'docker-permission-denied'
  | 'docker-daemon-down'
  | 'docker-host-unsupported'
  | 'docker-timeout'
  | 'docker-api-error'
  | 'docker-unreachable'
  | 'docker-tls-failed'
  | 'ssh-missing'
  | 'ssh-auth-failed'
  | 'ssh-host-key-unknown'
  | 'ssh-host-key-changed'
  | 'ssh-host-unknown'
  | 'ssh-connection-refused'
  | 'ssh-timeout'
  | 'ssh-no-docker'
  | 'ssh-docker-too-old'
  | 'ssh-docker-permission-denied'
  | 'ssh-docker-daemon-down'
  | 'ssh-failed'
  | 'facts-unreachable'
  | 'build-context-unreadable'
  | 'build-failed'
  | 'image-unavailable'
  | 'gpu-unavailable'
  | 'container-start-failed'
  | 'lifecycle-command-failed'
  | 'host-command-not-allowed'
  | 'initialize-command-failed'
  | 'workspace-not-on-docker-host';

/** One JSON Lines event on stderr while a `--json` command runs. */
export type Event = {
  type: 'progress';
  data: ProgressEvent;
} | {
  type: 'log';
  data: LogEvent;
} | {
  type: 'check';
  data: Check;
};

export type FileAction = 'created' | 'updated' | 'unchanged' | 'skipped';

/** `base` = cudart only; `runtime` = all CUDA shared libraries; `devel` = + nvcc and headers. */
export type Flavor = 'base' | 'runtime' | 'devel';

/** Which framework the project is built around (`--framework`). */
export type Framework = 'pytorch' | 'tensorflow' | 'jax';

export interface FrameworkStack {
  name: Framework;
  /** The release series chosen (`2.6`) or the exact pin (`2.4.1`). */
  version: string;
  /** PyTorch's wheel variant (`cu124`); None where the framework's wheels pick their CUDA themselves. */
  wheelVariant?: string | null;
  /** The index the framework wheels come from, e.g. `https://download.pytorch.org/whl/cu124`. */
  indexUrl?: string | null;
  /** pip arguments for the framework install step, e.g. `["torch==2.6.*", "torchvision"]`. */
  packages: string[];
}

/** `init`'s data. */
export interface InitData {
  /** The project folder, absolute. */
  root: string;
  dryRun: boolean;
  /** What the project scan found (see `ProjectFacts` in the Rust sources). */
  project: Record<string, unknown>;
  /** The GPU host the stack was resolved for. */
  target: Record<string, unknown>;
  stack: Stack;
  /** False when the user's Dockerfile or image was kept: `stack` is what devgpu would write, not what runs. */
  stackApplied: boolean;
  files: InitFile[];
  warnings: string[];
  /** How the container gets the GPU (absent: the config's own GPU request was kept). */
  gpuMode?: Record<string, unknown> | null;
  /** Where the facts the stack was resolved against came from. */
  facts: Record<string, unknown>;
}

/** One file of `init`'s plan. */
export interface InitFile {
  /** Relative to the repository root. */
  path: string;
  action: FileAction;
  /** Why it was skipped, or what changed. */
  notes?: string[];
  /** The unified diff of the change (dry run only). */
  diff?: string | null;
}

export interface LogEvent {
  /** What printed it, e.g. `build` or a lifecycle hook's name. */
  source: string;
  line: string;
}

/** Whether the command succeeded. A command that ran to the end but found a failing check is an `error` too. */
export type Outcome = 'success' | 'error';

export interface ProgressEvent {
  /** A stable id: `build`, `create`, `lifecycle`, … */
  step: string;
  /** What happens now, for people. */
  message: string;
}

/** How Python gets into the image. */
export type PythonSource = 'system' | 'deadsnakes';

export interface Stack {
  /** `12.4` */
  cuda: string;
  /** `12.4.1` */
  cudaFull: string;
  /** `nvidia/cuda:12.4.1-base-ubuntu22.04` */
  image: string;
  flavor: Flavor;
  cudnn: boolean;
  ubuntu: string;
  python: string;
  pythonSource: PythonSource;
  /**
   * The image's CUDA is newer than the driver's and starts only through minor-version compatibility (a devel
   * image matching a torch wheel's CUDA): the Dockerfile then sets NVIDIA_DISABLE_REQUIRE.
   */
  cudaMinorCompat?: boolean;
  framework?: FrameworkStack | null;
  /** Why each choice was made, in the order made. */
  reasons: string[];
  /** What was assumed for lack of facts. */
  assumptions: string[];
  /** Pins that were overruled and problems found in existing files, each with the fix. */
  warnings: string[];
}

export type Status = 'pass' | 'skip' | 'warn' | 'fail';

/** `up`'s data (also `verify`'s `container`). */
export interface UpData {
  containerId: string;
  containerName: string;
  image: string;
  /** An existing container was used as it was. */
  reused: boolean;
  /** A stale container was replaced. */
  recreated: boolean;
  /** The image was built in this run. */
  built: boolean;
  /** This run started the container. */
  started: boolean;
  gpu: UpGpu;
  /** Where the workspace is inside the container. */
  workspaceFolder: string;
  remoteUser: string;
  /**
   * What became of `updateRemoteUserUID`: `{"applied": true, "user", "uid", "gid", "image", "built"}` or
   * `{"applied": false, "reason"}`; null when it did not apply.
   */
  updateRemoteUserUID?: Record<string, unknown> | null;
  warnings: string[];
}

/** The GPU part of [`UpData`]. */
export interface UpGpu {
  /** devcontainer.json asks for GPUs with `--gpus`. */
  requested: boolean;
  /** The `--gpus` value asked for (`all`, `2`, `device=0,2`). */
  request?: string | null;
  /** `hostRequirements.gpu: "optional"`: the container starts without a GPU when the host has none. */
  optional: boolean;
  /** The container got the GPU it asked for. */
  granted: boolean;
  /** GPUs handed in without `--gpus` (device nodes or CDI devices). */
  injected?: string | null;
}

/** `verify`'s data. */
export interface VerifyData {
  /** The container that was verified, as `up` reports it. */
  container: UpData;
  checks: Check[];
  /** No check failed. */
  passed: boolean;
  /** `removed` / `stopped` when verify cleaned up a container it had started. */
  cleanup?: string | null;
}
