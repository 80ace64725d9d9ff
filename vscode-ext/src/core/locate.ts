// Where the devgpu executable is: the `devgpu.path` setting, then a binary bundled with the extension, then PATH.
// Plain TypeScript: no `vscode` import (the file system is reached through the injected `isExecutable`).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DevgpuError, INSTALL_COMMAND } from './errors';

export type CliSource = 'setting' | 'bundled' | 'path';

export interface LocatedCli {
  path: string;
  source: CliSource;
}

export interface LocateInput {
  /** `devgpu.path` as configured (may be empty, relative to the workspace folder, start with `~`, or use `${workspaceFolder}`). */
  configuredPath?: string;
  workspaceFolder?: string;
  /** The extension's own folder (a bundled binary lives in `bin/` there). */
  extensionDir?: string;
  /** The PATH to search (default: process.env.PATH). */
  pathEnv?: string;
  platform?: NodeJS.Platform;
  arch?: string;
  homeDir?: string;
  isExecutable?: (p: string) => boolean;
}

export function defaultIsExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    if (process.platform === 'win32') return true;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `devgpu.path` as an absolute path. */
export function expandConfiguredPath(p: string, workspaceFolder: string | undefined, homeDir: string): string {
  let s = p.trim();
  if (workspaceFolder) s = s.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  s = s.replace(/\$\{userHome\}/g, homeDir);
  if (s === '~' || s.startsWith('~/')) s = path.join(homeDir, s.slice(1));
  if (!path.isAbsolute(s)) s = path.resolve(workspaceFolder ?? process.cwd(), s);
  return s;
}

/** The places a bundled binary may be: `bin/<platform>-<arch>/devgpu`, then `bin/devgpu`. */
export function bundledCandidates(extensionDir: string, platform: NodeJS.Platform, arch: string): string[] {
  const exe = platform === 'win32' ? 'devgpu.exe' : 'devgpu';
  return [path.join(extensionDir, 'bin', `${platform}-${arch}`, exe), path.join(extensionDir, 'bin', exe)];
}

/**
 * The executable to run. A configured path that does not exist is an error (no silent fallback: the user asked
 * for that binary). Nothing anywhere is a `not-found` error with the install command.
 */
export function locateCli(input: LocateInput): LocatedCli {
  const platform = input.platform ?? process.platform;
  const arch = input.arch ?? process.arch;
  const isExec = input.isExecutable ?? defaultIsExecutable;
  const home = input.homeDir ?? os.homedir();

  const configured = input.configuredPath?.trim();
  if (configured) {
    const p = expandConfiguredPath(configured, input.workspaceFolder, home);
    if (!isExec(p)) {
      throw new DevgpuError({
        kind: 'not-found',
        message: `the "devgpu.path" setting points at ${p}, which is not an executable file`,
        hints: ['fix or clear the "devgpu.path" setting', `install devgpu: ${INSTALL_COMMAND}`],
        executable: p,
      });
    }
    return { path: p, source: 'setting' };
  }

  if (input.extensionDir) {
    for (const c of bundledCandidates(input.extensionDir, platform, arch)) {
      if (isExec(c)) return { path: c, source: 'bundled' };
    }
  }

  const exe = platform === 'win32' ? 'devgpu.exe' : 'devgpu';
  const pathEnv = input.pathEnv ?? process.env.PATH ?? '';
  const sep = platform === 'win32' ? ';' : ':';
  for (const dir of pathEnv.split(sep)) {
    if (!dir) continue;
    const c = path.join(dir, exe);
    if (isExec(c)) return { path: c, source: 'path' };
  }

  throw new DevgpuError({
    kind: 'not-found',
    message: 'devgpu is not installed: it is not on PATH and "devgpu.path" is not set',
    hints: [`install it: ${INSTALL_COMMAND}`, 'or set "devgpu.path" to the devgpu executable'],
  });
}
