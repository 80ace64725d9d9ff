// `devgpu --version`: parse it and compare with the oldest CLI this extension works with. No `vscode` import.

import { DevgpuError, INSTALL_COMMAND } from './errors';
import { RawResult, spawnCli } from './process';

/** The oldest devgpu this extension talks to (the first with the JSON envelope, schemaVersion 1). */
export const MIN_CLI_VERSION = '0.1.0';

export interface Version {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** `devgpu 0.1.0` (clap's format; a pre-release or build suffix is allowed) → 0.1.0; anything else → undefined. */
export function parseVersionOutput(out: string): Version | undefined {
  const m = /^devgpu\s+v?(\d+)\.(\d+)\.(\d+)([-+][0-9A-Za-z.+-]*)?\s*$/m.exec(out.trim());
  if (!m) return undefined;
  return { major: +m[1], minor: +m[2], patch: +m[3], text: `${m[1]}.${m[2]}.${m[3]}${m[4] ?? ''}` };
}

export function parseVersion(text: string): Version | undefined {
  return parseVersionOutput(`devgpu ${text}`);
}

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** Throws the right DevgpuError when `--version`'s result shows a missing, broken, foreign or too old CLI. */
export function checkVersionResult(raw: RawResult, executable: string, min: string = MIN_CLI_VERSION): Version {
  if (raw.spawnError) {
    if (raw.spawnError.code === 'ENOENT') {
      throw new DevgpuError({
        kind: 'not-found',
        message: `devgpu was not found at ${executable}`,
        hints: [`install it: ${INSTALL_COMMAND}`, 'or set "devgpu.path" to the devgpu executable'],
        executable,
      });
    }
    throw new DevgpuError({
      kind: 'spawn-failed',
      message: `could not start ${executable}: ${raw.spawnError.message}`,
      hints: raw.spawnError.code === 'EACCES' ? [`make it executable: chmod +x ${executable}`] : [],
      executable,
    });
  }
  if (raw.timedOut) {
    throw new DevgpuError({ kind: 'timeout', message: `\`${executable} --version\` did not answer in time`, executable });
  }
  const v = parseVersionOutput(raw.stdout);
  if (!v) {
    const said = raw.stdout.trim().split('\n')[0] || raw.stderrTail.trim().split('\n')[0] || `exit ${raw.exitCode}`;
    throw new DevgpuError({
      kind: 'too-old',
      message: `${executable} does not look like devgpu: \`--version\` printed ${JSON.stringify(said.slice(0, 120))}`,
      hints: [`install devgpu: ${INSTALL_COMMAND}`, 'or set "devgpu.path" to the devgpu executable'],
      executable,
      exitCode: raw.exitCode,
      stderrTail: raw.stderrTail,
    });
  }
  const minV = parseVersion(min)!;
  if (compareVersions(v, minV) < 0) {
    throw new DevgpuError({
      kind: 'too-old',
      message: `devgpu ${v.text} at ${executable} is too old; this extension needs devgpu ${min} or newer`,
      hints: [`update it: ${INSTALL_COMMAND}`],
      executable,
    });
  }
  return v;
}

/** Run `devgpu --version` (10 s limit) and check it. */
export async function probeVersion(executable: string, env?: NodeJS.ProcessEnv, min?: string): Promise<Version> {
  const raw = await spawnCli({ executable, args: ['--version'], env, timeoutMs: 10_000, killGraceMs: 500 });
  return checkVersionResult(raw, executable, min);
}
