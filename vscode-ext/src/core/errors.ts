// Every way a devgpu run can fail, as one error type the UI turns into a message with a way out.
// Plain TypeScript: no `vscode` import.

/** How devgpu is installed when it is missing or too old (shown and offered to copy). */
// devgpu is not published yet: it installs from a checkout of its repository.
export const INSTALL_COMMAND = 'cargo install --locked --path <devgpu checkout>';

export type DevgpuErrorKind =
  /** No executable at the configured path, none bundled, none on PATH. */
  | 'not-found'
  /** Found but cannot be started (permissions, not a binary for this machine). */
  | 'spawn-failed'
  /** `devgpu --version` is older than the extension needs, or does not look like devgpu at all. */
  | 'too-old'
  /** The JSON envelope's schemaVersion is not one this extension understands. */
  | 'unsupported-schema'
  /** This devgpu does not know the subcommand or a flag (an older CLI). */
  | 'unsupported-command'
  /** Exited without exactly one JSON object on stdout. */
  | 'bad-output'
  /** Panicked or was killed by a signal. */
  | 'crashed'
  /** The user cancelled. */
  | 'cancelled'
  /** Ran past the time limit and was stopped. */
  | 'timeout'
  /** The CLI reported an error in its envelope (`error.code`, `error.message`, `error.hints`). */
  | 'cli';

export interface DevgpuErrorDetails {
  kind: DevgpuErrorKind;
  message: string;
  /** `error.code` for `cli` errors; a synthetic code otherwise. */
  code?: string;
  hints?: string[];
  exitCode?: number | null;
  signal?: string | null;
  /** The last lines the CLI wrote to stderr (for the message and the logs). */
  stderrTail?: string;
  /** The subcommand, e.g. `doctor`. */
  command?: string;
  /** The executable that was run. */
  executable?: string;
}

export class DevgpuError extends Error {
  readonly kind: DevgpuErrorKind;
  readonly code: string;
  readonly hints: string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;
  readonly command: string | undefined;
  readonly executable: string | undefined;

  constructor(d: DevgpuErrorDetails) {
    super(d.message);
    this.name = 'DevgpuError';
    this.kind = d.kind;
    this.code = d.code ?? d.kind;
    this.hints = d.hints ?? [];
    this.exitCode = d.exitCode ?? null;
    this.signal = d.signal ?? null;
    this.stderrTail = d.stderrTail ?? '';
    this.command = d.command;
    this.executable = d.executable;
  }

  /** Whether installing or updating devgpu is the way out (the UI then offers the install command). */
  get needsInstall(): boolean {
    return (
      this.kind === 'not-found' ||
      this.kind === 'too-old' ||
      this.kind === 'unsupported-command' ||
      (this.kind === 'unsupported-schema' && !this.message.includes('update the DevGPU extension'))
    );
  }

  /** Whether the logs hold more than the message (a crash, garbage on stdout, a CLI error with progress before it). */
  get hasLogs(): boolean {
    return this.kind !== 'not-found' && this.kind !== 'cancelled';
  }
}

export function isDevgpuError(e: unknown): e is DevgpuError {
  return e instanceof DevgpuError;
}

/** A one-line message for a notification: the message, then the hints, then where to look. */
export function formatErrorMessage(err: DevgpuError, action?: string): string {
  const parts: string[] = [];
  const head = action ? `${action} failed: ` : '';
  parts.push(head + ensurePeriod(err.message));
  if (err.kind === 'cli' && err.code && err.code !== 'cli') parts[0] += ` [${err.code}]`;
  for (const h of err.hints) parts.push(`Hint: ${ensurePeriod(h)}`);
  return parts.join(' ');
}

function ensurePeriod(s: string): string {
  const t = s.trim();
  return /[.!?:)`]$/.test(t) ? t : `${t}.`;
}

/** Anything thrown, as a DevgpuError (unexpected exceptions become `crashed` with their message). */
export function toDevgpuError(e: unknown): DevgpuError {
  if (e instanceof DevgpuError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new DevgpuError({ kind: 'crashed', message: `unexpected error: ${msg}` });
}
