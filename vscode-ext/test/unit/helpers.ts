// Shared by the unit tests: where the fake devgpu is, a temp dir, and an environment selecting a scenario.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** vscode-ext/ (the tests run from out/test/unit). */
export const EXT_DIR = path.resolve(__dirname, '..', '..', '..');
export const FAKE_DEVGPU = path.join(EXT_DIR, 'test', 'fake-devgpu', 'devgpu');
export const RECORDINGS = path.join(EXT_DIR, 'test', 'fake-devgpu', 'recordings');

export function recording<T = unknown>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(RECORDINGS, `${name}.json`), 'utf8')) as T;
}

export function tempDir(prefix = 'devgpu-ext-test-'): string {
  return fs.mkdtempSync(path.join(process.env.TMPDIR ?? os.tmpdir(), prefix));
}

export function fakeEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('FAKE_DEVGPU_')) delete env[k];
  return { ...env, ...vars };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
