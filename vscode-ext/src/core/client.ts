// The CLI bridge: find devgpu, check its version once per binary, run a subcommand with `--json`, return the
// envelope or throw a DevgpuError. Plain TypeScript: no `vscode` import; the UI passes settings and callbacks.

import * as fs from 'node:fs';
import { DevgpuError } from './errors';
import { interpretResult } from './interpret';
import { LocateInput, LocatedCli, locateCli } from './locate';
import { spawnCli } from './process';
import { CliEvent, Envelope } from './types';
import { MIN_CLI_VERSION, Version, probeVersion } from './version';

export interface ClientSettings {
  /** `devgpu.path` (empty: bundled, then PATH). */
  configuredPath?: string;
  /** `devgpu.dockerHost` (empty: the CLI's own default). */
  dockerHost?: string;
  workspaceFolder?: string;
}

export interface RunRequest {
  /** The subcommand and its own arguments, e.g. `['init', '/ws', '--dry-run']`. */
  args: string[];
  cwd?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  killGraceMs?: number;
  onEvent?: (e: CliEvent) => void;
  onStderrLine?: (line: string) => void;
}

export interface ClientLogger {
  (line: string): void;
}

/** The global flags every run gets: `--json`, and `--docker-host` when configured. */
export function globalArgs(settings: ClientSettings): string[] {
  const args = ['--json'];
  const host = settings.dockerHost?.trim();
  if (host) args.push('--docker-host', host);
  return args;
}

export class DevgpuClient {
  private verified = new Map<string, { stamp: string; version: Version }>();

  constructor(
    private readonly getSettings: () => ClientSettings,
    private readonly opts: {
      extensionDir?: string;
      env?: NodeJS.ProcessEnv;
      log?: ClientLogger;
      minVersion?: string;
      locate?: (input: LocateInput) => LocatedCli;
    } = {},
  ) {}

  /** Find the executable and check `--version` (cached until the file changes). */
  async resolve(): Promise<LocatedCli & { version: Version }> {
    const s = this.getSettings();
    const located = (this.opts.locate ?? locateCli)({
      configuredPath: s.configuredPath,
      workspaceFolder: s.workspaceFolder,
      extensionDir: this.opts.extensionDir,
      pathEnv: this.opts.env?.PATH ?? process.env.PATH,
    });
    const stamp = fileStamp(located.path);
    const cached = this.verified.get(located.path);
    if (cached && cached.stamp === stamp) return { ...located, version: cached.version };
    const version = await probeVersion(located.path, this.opts.env, this.opts.minVersion ?? MIN_CLI_VERSION);
    this.verified.set(located.path, { stamp, version });
    this.opts.log?.(`using devgpu ${version.text} at ${located.path} (from ${describeSource(located.source)})`);
    return { ...located, version };
  }

  /** Run one subcommand with `--json` (plus the global flags) and interpret the result. */
  async run<T>(req: RunRequest): Promise<Envelope<T>> {
    const cli = await this.resolve();
    const command = req.args[0] ?? '';
    const args = [...req.args, ...globalArgs(this.getSettings())];
    this.opts.log?.(`$ ${[cli.path, ...args].map(shellQuote).join(' ')}`);
    const raw = await spawnCli({
      executable: cli.path,
      args,
      cwd: req.cwd,
      env: this.opts.env,
      signal: req.signal,
      timeoutMs: req.timeoutMs,
      killGraceMs: req.killGraceMs,
      onEvent: req.onEvent,
      onStderrLine: req.onStderrLine,
    });
    const how = raw.cancelled ? 'cancelled' : raw.signal ? `killed by ${raw.signal}` : `exit ${raw.exitCode}`;
    this.opts.log?.(`devgpu ${command}: ${how} after ${(raw.durationMs / 1000).toFixed(1)} s`);
    try {
      return interpretResult<T>(raw, { command, executable: cli.path });
    } catch (e) {
      if (e instanceof DevgpuError && e.kind === 'unsupported-command') this.verified.delete(cli.path);
      throw e;
    }
  }
}

function fileStamp(p: string): string {
  try {
    const st = fs.statSync(p);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

function describeSource(s: LocatedCli['source']): string {
  return s === 'setting' ? 'the devgpu.path setting' : s === 'bundled' ? 'the extension' : 'PATH';
}

/** For the log line only (the process is spawned with an argument array, never through a shell). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
