// Running the devgpu CLI: spawn with an argument array (never a shell), stream stderr's JSON Lines events,
// collect stdout, and cancel by signalling the whole process group. Plain TypeScript: no `vscode` import.

import { spawn } from 'node:child_process';
import { CliEvent, isObject } from './types';

export interface SpawnOptions {
  executable: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Aborting cancels the run: SIGINT to the process group (devgpu cleans up, exit 130), SIGKILL after `killGraceMs`. */
  signal?: AbortSignal;
  /** Stop the run after this long (same escalation as a cancel). */
  timeoutMs?: number;
  /** Time between SIGINT and SIGKILL. Default 5000 ms: devgpu removes half-created containers on Ctrl-C. */
  killGraceMs?: number;
  /** Every stderr line as written (the output channel shows these). */
  onStderrLine?: (line: string) => void;
  /** The stderr lines that are JSON Lines events. */
  onEvent?: (event: CliEvent) => void;
}

export interface RawResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last `STDERR_TAIL_BYTES` of stderr. */
  stderrTail: string;
  cancelled: boolean;
  timedOut: boolean;
  /** Set when the process could not be started at all (ENOENT, EACCES, ENOEXEC…). */
  spawnError?: NodeJS.ErrnoException;
  durationMs: number;
}

const STDERR_TAIL_BYTES = 16 * 1024;
const STDOUT_LIMIT_BYTES = 64 * 1024 * 1024;

/** A stderr line as an event, or undefined when it is a plain log line. */
export function parseEventLine(line: string): CliEvent | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!isObject(v)) return undefined;
  if (v.type !== 'progress' && v.type !== 'log' && v.type !== 'check') return undefined;
  return { type: v.type, data: isObject(v.data) ? v.data : {} };
}

/** Splits a byte stream into lines, keeping a partial last line until more arrives or the stream ends. */
export class LineSplitter {
  private buf = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).replace(/\r$/, '');
      this.buf = this.buf.slice(i + 1);
      this.onLine(line);
    }
  }
  end(): void {
    if (this.buf.length > 0) {
      const line = this.buf.replace(/\r$/, '');
      this.buf = '';
      this.onLine(line);
    }
  }
}

const usesProcessGroups = process.platform !== 'win32';

/** Signal the child's process group (POSIX) or the child itself (Windows). Errors (already gone) are ignored. */
function signalTree(pid: number | undefined, sig: NodeJS.Signals, child: { kill(s: NodeJS.Signals): boolean }): void {
  if (pid === undefined) return;
  try {
    if (usesProcessGroups) process.kill(-pid, sig);
    else child.kill(sig);
  } catch {
    /* the group is gone already */
  }
}

/** Whether any process of the group led by `pid` still exists. */
export function processGroupAlive(pid: number): boolean {
  if (!usesProcessGroups) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Run the CLI to completion. Never rejects: start failures, cancellation and timeouts are reported in the result.
 * The child leads its own process group (`detached` on POSIX), so a cancel reaches everything it started.
 */
export function spawnCli(opts: SpawnOptions): Promise<RawResult> {
  const started = Date.now();
  return new Promise<RawResult>((resolve) => {
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrTail = '';
    let cancelled = false;
    let timedOut = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let closeFallback: NodeJS.Timeout | undefined;

    const finish = (r: Omit<RawResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      if (timeoutTimer) clearTimeout(timeoutTimer);
      if (closeFallback) clearTimeout(closeFallback);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, durationMs: Date.now() - started });
    };

    if (opts.signal?.aborted) {
      finish({ exitCode: null, signal: null, stdout: '', stderrTail: '', cancelled: true, timedOut: false });
      return;
    }

    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(opts.executable, [...opts.args], {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        shell: false,
        detached: usesProcessGroups,
        windowsHide: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      finish({
        exitCode: null,
        signal: null,
        stdout: '',
        stderrTail: '',
        cancelled: false,
        timedOut: false,
        spawnError: e as NodeJS.ErrnoException,
      });
      return;
    }

    const stop = () => {
      signalTree(child.pid, 'SIGINT', child);
      if (!killTimer) {
        killTimer = setTimeout(() => signalTree(child.pid, 'SIGKILL', child), opts.killGraceMs ?? 5000);
      }
    };
    function onAbort() {
      cancelled = true;
      stop();
    }
    opts.signal?.addEventListener('abort', onAbort);
    if (opts.timeoutMs !== undefined) {
      timeoutTimer = setTimeout(() => {
        timedOut = true;
        stop();
      }, opts.timeoutMs);
    }

    const splitter = new LineSplitter((line) => {
      opts.onStderrLine?.(line);
      const ev = parseEventLine(line);
      if (ev) opts.onEvent?.(ev);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
      splitter.push(chunk);
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      if (stdoutBytes < STDOUT_LIMIT_BYTES) {
        stdoutChunks.push(chunk);
        stdoutBytes += chunk.length;
      }
    });

    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    const done = () => {
      splitter.end();
      // Anything of the group still running after a cancel or timeout (a grandchild that ignored SIGINT) goes now.
      if ((cancelled || timedOut) && child.pid !== undefined && processGroupAlive(child.pid)) {
        signalTree(child.pid, 'SIGKILL', child);
      }
      finish({
        exitCode,
        signal: exitSignal,
        stdout: Buffer.concat(stdoutChunks).toString('utf8'),
        stderrTail,
        cancelled,
        timedOut,
      });
    };

    child.on('error', (e: NodeJS.ErrnoException) => {
      // Start failures (ENOENT, EACCES) arrive here with no exit event.
      if (child.pid === undefined) {
        finish({ exitCode: null, signal: null, stdout: '', stderrTail, cancelled, timedOut, spawnError: e });
      }
    });
    child.on('exit', (code, sig) => {
      exitCode = code;
      exitSignal = sig;
      // 'close' waits for stdio to close; a grandchild holding the pipes open must not hang us forever.
      closeFallback = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        done();
      }, 2000);
    });
    child.on('close', (code, sig) => {
      if (exitCode === null && exitSignal === null) {
        exitCode = code;
        exitSignal = sig;
      }
      done();
    });
  });
}
