// Turning a finished run into the CLI's envelope, or a DevgpuError that says what went wrong and what to do.
// Plain TypeScript: no `vscode` import.

import { DevgpuError, INSTALL_COMMAND } from './errors';
import { RawResult } from './process';
import { Envelope, SUPPORTED_SCHEMA_VERSION, isObject } from './types';

export interface InterpretContext {
  /** The subcommand that ran, e.g. `doctor` (for messages). */
  command: string;
  executable: string;
}

/** The last `n` non-empty lines of a text, joined with newlines. */
export function lastLines(text: string, n: number): string {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0)
    .slice(-n)
    .join('\n');
}

/** The stderr lines that are not JSON Lines events (a panic message, clap's usage error, a plain log). */
function plainStderr(stderr: string): string {
  return stderr
    .split(/\r?\n/)
    .filter((l) => !l.trim().startsWith('{'))
    .join('\n');
}

/**
 * The single JSON object on stdout. Exactly one object is allowed (surrounding whitespace aside); a stream of
 * several, an array, or text around it is an error, because it means the CLI and this extension disagree.
 */
export function parseSingleJsonObject(stdout: string): { value: Record<string, unknown> } | { problem: string } {
  const t = stdout.trim();
  if (t.length === 0) return { problem: 'printed nothing on stdout' };
  try {
    const v: unknown = JSON.parse(t);
    if (!isObject(v)) return { problem: `printed JSON that is not an object (${Array.isArray(v) ? 'an array' : typeof v})` };
    return { value: v };
  } catch {
    const lines = t.split(/\r?\n/).filter((l) => l.trim());
    if (lines.length > 1 && lines.every((l) => isJson(l))) {
      return { problem: `printed ${lines.length} JSON values on stdout where one result object was expected` };
    }
    return { problem: `printed something that is not JSON on stdout: ${JSON.stringify(truncate(t, 120))}` };
  }
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}

/** clap's message when a subcommand or flag does not exist: the CLI is older than the extension. */
export function unsupportedArgument(stderr: string): string | undefined {
  const m =
    /unrecognized subcommand '([^']+)'/.exec(stderr) ??
    /unexpected argument '([^']+)' found/.exec(stderr) ??
    /Found argument '([^']+)' which wasn't expected/.exec(stderr);
  return m?.[1];
}

/**
 * The envelope of a finished run. Throws a DevgpuError for: a start failure, a cancel or timeout, no or bad JSON,
 * an unknown subcommand, a crash, a schemaVersion this extension does not understand, and an `error` envelope.
 * An `error` outcome that carries `data` and no `error` (checks ran, some failed) is returned, not thrown.
 */
export function interpretResult<T = unknown>(raw: RawResult, ctx: InterpretContext): Envelope<T> {
  const base = { command: ctx.command, executable: ctx.executable, exitCode: raw.exitCode, signal: raw.signal };
  const tail = lastLines(plainStderr(raw.stderrTail), 20);

  if (raw.spawnError) {
    const code = raw.spawnError.code;
    if (code === 'ENOENT') {
      return fail({
        ...base,
        kind: 'not-found',
        message: `devgpu was not found at ${ctx.executable}`,
        hints: [`install it: ${INSTALL_COMMAND}`, 'or set "devgpu.path" to the devgpu executable'],
      });
    }
    return fail({
      ...base,
      kind: 'spawn-failed',
      message: `could not start ${ctx.executable}: ${raw.spawnError.message}`,
      hints: code === 'EACCES' ? [`make it executable: chmod +x ${ctx.executable}`] : [],
    });
  }
  if (raw.cancelled) {
    return fail({ ...base, kind: 'cancelled', message: `devgpu ${ctx.command} was cancelled`, stderrTail: tail });
  }
  if (raw.timedOut) {
    return fail({ ...base, kind: 'timeout', message: `devgpu ${ctx.command} did not finish in time and was stopped`, stderrTail: tail });
  }

  const parsed = parseSingleJsonObject(raw.stdout);
  if ('problem' in parsed) {
    const arg = unsupportedArgument(raw.stderrTail);
    if (arg !== undefined) {
      const isSub = arg === ctx.command;
      return fail({
        ...base,
        kind: 'unsupported-command',
        message: isSub
          ? `this devgpu (${ctx.executable}) has no \`${ctx.command}\` command; it is older than the extension`
          : `this devgpu (${ctx.executable}) does not understand \`${arg}\` for \`${ctx.command}\`; it is older than the extension`,
        hints: [`update devgpu: ${INSTALL_COMMAND}`],
        stderrTail: tail,
      });
    }
    if (raw.signal) {
      return fail({ ...base, kind: 'crashed', message: `devgpu ${ctx.command} was killed by ${raw.signal}`, stderrTail: tail });
    }
    if (raw.exitCode === 101 || /panicked at/.test(raw.stderrTail)) {
      const panic = /panicked at[^\n]*\n?([^\n]*)/.exec(raw.stderrTail);
      return fail({
        ...base,
        kind: 'crashed',
        message: `devgpu ${ctx.command} crashed (exit ${raw.exitCode ?? '?'})${panic?.[1] ? `: ${panic[1].trim()}` : ''}`,
        hints: ['this is a bug in devgpu; the logs have the details'],
        stderrTail: tail,
      });
    }
    return fail({
      ...base,
      kind: 'bad-output',
      message: `devgpu ${ctx.command} exited with code ${raw.exitCode ?? '?'} and ${parsed.problem}`,
      stderrTail: tail,
    });
  }

  const env = parsed.value;
  const sv = env.schemaVersion;
  if (sv !== SUPPORTED_SCHEMA_VERSION) {
    const newer = typeof sv === 'number' && sv > SUPPORTED_SCHEMA_VERSION;
    return fail({
      ...base,
      kind: 'unsupported-schema',
      message: newer
        ? `devgpu speaks JSON schema version ${sv}; this extension understands version ${SUPPORTED_SCHEMA_VERSION}: update the DevGPU extension`
        : `devgpu printed ${sv === undefined ? 'no schemaVersion' : `schemaVersion ${JSON.stringify(sv)}`}; this extension needs version ${SUPPORTED_SCHEMA_VERSION}: update devgpu`,
      hints: newer ? [] : [`update devgpu: ${INSTALL_COMMAND}`],
      stderrTail: tail,
    });
  }
  if (env.outcome !== 'success' && env.outcome !== 'error') {
    return fail({ ...base, kind: 'bad-output', message: `devgpu ${ctx.command} printed an unknown outcome ${JSON.stringify(env.outcome)}`, stderrTail: tail });
  }
  if (env.outcome === 'error' && (isObject(env.error) || env.data === undefined)) {
    const e = isObject(env.error) ? env.error : {};
    const hints = Array.isArray(e.hints) ? e.hints.filter((h): h is string => typeof h === 'string') : [];
    return fail({
      ...base,
      kind: 'cli',
      code: typeof e.code === 'string' ? e.code : 'unknown',
      message: typeof e.message === 'string' && e.message ? e.message : `devgpu ${ctx.command} failed (exit ${raw.exitCode ?? '?'})`,
      hints,
      stderrTail: tail,
    });
  }
  return {
    schemaVersion: sv,
    command: typeof env.command === 'string' ? env.command : ctx.command,
    outcome: env.outcome,
    data: env.data as T | undefined,
    error: undefined,
  };
}

function fail(d: ConstructorParameters<typeof DevgpuError>[0]): never {
  throw new DevgpuError(d);
}
