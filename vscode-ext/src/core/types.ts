// The devgpu CLI's JSON contract (DESIGN.md §1), as the extension reads it. Plain TypeScript: no `vscode` import.
//
// Every `--json` run prints exactly one envelope on stdout; progress goes to stderr as JSON Lines events.
// Only the fields the extension uses are typed; anything else is carried along untouched.

/** The envelope schema this extension understands. A CLI that prints another one is refused with a clear message. */
export const SUPPORTED_SCHEMA_VERSION = 1;

export type Outcome = 'success' | 'error';

export interface CliErrorInfo {
  /** Stable kebab-case code, e.g. `gpu-unavailable`. */
  code: string;
  message: string;
  /** Exact fixes, one per line of advice. */
  hints?: string[];
}

export interface Envelope<T = unknown> {
  schemaVersion: number;
  command: string;
  outcome: Outcome;
  data?: T;
  error?: CliErrorInfo;
}

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One check, the same shape for doctor and verify. */
export interface Check {
  /** Dotted id; its first segment names the layer, e.g. `docker.nvidia-runtime`. */
  id: string;
  status: CheckStatus;
  summary: string;
  /** The exact command or edit that fixes it (absent or empty when there is nothing to do). */
  fix?: string | null;
}

export interface GpuFacts {
  name?: string;
  driver?: string;
  driverVersion?: string;
  computeCap?: string;
  [key: string]: unknown;
}

/** `doctor`'s host facts: only the GPU list and driver are read (for the status bar); the rest is shown as is. */
export interface HostFacts {
  gpus?: GpuFacts[];
  driver?: string | { version?: string; [key: string]: unknown } | null;
  driverVersion?: string;
  [key: string]: unknown;
}

export interface DoctorData {
  host?: HostFacts;
  checks: Check[];
}

export type FileAction = 'created' | 'updated' | 'unchanged' | 'skipped';

export interface InitFile {
  /** Relative to the project root, e.g. `.devcontainer/devcontainer.json`. */
  path: string;
  action: FileAction;
  /** Unified diff (dry run only). */
  diff?: string;
  notes?: string[];
}

export interface InitFramework {
  name: string;
  version: string;
  wheelVariant?: string | null;
  indexUrl?: string | null;
  packages?: string[];
}

export interface InitStack {
  cuda: string;
  cudaFull?: string;
  image: string;
  flavor?: string;
  cudnn?: boolean;
  ubuntu?: string;
  python: string;
  pythonSource?: string;
  framework?: InitFramework | null;
  reasons?: string[];
  assumptions?: string[];
  warnings?: string[];
}

export interface InitData {
  root: string;
  dryRun: boolean;
  stack: InitStack;
  /** False when the user's Dockerfile or image was kept: `stack` is what devgpu would write, not what runs. */
  stackApplied?: boolean;
  files: InitFile[];
  warnings?: string[];
  [key: string]: unknown;
}

export interface UpData {
  containerId?: string;
  containerName?: string;
  image?: string;
  reused?: boolean;
  recreated?: boolean;
  built?: boolean;
  gpu?: { requested?: unknown; request?: unknown; optional?: boolean; granted?: unknown };
  workspaceFolder?: string;
  remoteUser?: string;
  warnings?: string[];
  [key: string]: unknown;
}

export interface VerifyData {
  /** `up`'s data for the container that was verified. */
  container?: UpData;
  checks: Check[];
  passed?: boolean;
  [key: string]: unknown;
}

export type CliEventType = 'progress' | 'log' | 'check';

/** One JSON Lines event from stderr. */
export interface CliEvent {
  type: CliEventType;
  data: Record<string, unknown>;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isCheck(v: unknown): v is Check {
  return (
    isObject(v) &&
    typeof v.id === 'string' &&
    typeof v.summary === 'string' &&
    (v.status === 'pass' || v.status === 'warn' || v.status === 'fail' || v.status === 'skip')
  );
}

/** The checks of a doctor or verify result, ignoring malformed entries. */
export function checksOf(data: unknown): Check[] {
  if (!isObject(data) || !Array.isArray(data.checks)) return [];
  return data.checks.filter(isCheck);
}
