// Where the CLI is found: setting, then bundled, then PATH.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DevgpuError } from '../../src/core/errors';
import { bundledCandidates, expandConfiguredPath, locateCli } from '../../src/core/locate';

const exists = (...paths: string[]) => (p: string) => paths.includes(p);

describe('locateCli', () => {
  it('prefers the setting, then the bundled binary, then PATH', () => {
    const all = exists('/opt/devgpu/bin/devgpu', '/ext/bin/linux-x64/devgpu', '/usr/local/bin/devgpu');
    const base = { extensionDir: '/ext', pathEnv: '/usr/bin:/usr/local/bin', platform: 'linux' as const, arch: 'x64', isExecutable: all };
    assert.deepEqual(locateCli({ ...base, configuredPath: '/opt/devgpu/bin/devgpu' }), { path: '/opt/devgpu/bin/devgpu', source: 'setting' });
    assert.deepEqual(locateCli({ ...base, configuredPath: '  ' }), { path: '/ext/bin/linux-x64/devgpu', source: 'bundled' });
    assert.deepEqual(locateCli({ ...base, extensionDir: undefined }), { path: '/usr/local/bin/devgpu', source: 'path' });
  });

  it('falls back to bin/devgpu in the extension', () => {
    const r = locateCli({ extensionDir: '/ext', pathEnv: '', platform: 'linux', arch: 'arm64', isExecutable: exists('/ext/bin/devgpu') });
    assert.equal(r.path, '/ext/bin/devgpu');
    assert.deepEqual(bundledCandidates('/ext', 'win32', 'x64'), [path.join('/ext', 'bin', 'win32-x64', 'devgpu.exe'), path.join('/ext', 'bin', 'devgpu.exe')]);
  });

  it('a configured path that is missing is an error, never a silent fallback', () => {
    assert.throws(
      () => locateCli({ configuredPath: '/missing/devgpu', pathEnv: '/usr/bin', isExecutable: exists('/usr/bin/devgpu') }),
      (e: unknown) => e instanceof DevgpuError && e.kind === 'not-found' && /points at \/missing\/devgpu/.test(e.message),
    );
  });

  it('nothing found: not-found', () => {
    assert.throws(
      () => locateCli({ pathEnv: '/usr/bin:/bin', isExecutable: () => false }),
      (e: unknown) => e instanceof DevgpuError && e.kind === 'not-found',
    );
  });
});

describe('expandConfiguredPath', () => {
  it('expands ~, ${userHome}, ${workspaceFolder} and relative paths', () => {
    assert.equal(expandConfiguredPath('~/bin/devgpu', '/ws', '/home/u'), '/home/u/bin/devgpu');
    assert.equal(expandConfiguredPath('${userHome}/devgpu', '/ws', '/home/u'), '/home/u/devgpu');
    assert.equal(expandConfiguredPath('${workspaceFolder}/target/release/devgpu', '/ws', '/home/u'), '/ws/target/release/devgpu');
    assert.equal(expandConfiguredPath('target/debug/devgpu', '/ws', '/home/u'), '/ws/target/debug/devgpu');
    assert.equal(expandConfiguredPath('/abs/devgpu', '/ws', '/home/u'), '/abs/devgpu');
  });
});
