import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DevgpuError } from '../../src/core/errors';
import { RawResult } from '../../src/core/process';
import { checkVersionResult, compareVersions, parseVersion, parseVersionOutput } from '../../src/core/version';

const raw = (stdout: string, extra: Partial<RawResult> = {}): RawResult => ({
  exitCode: 0,
  signal: null,
  stdout,
  stderrTail: '',
  cancelled: false,
  timedOut: false,
  durationMs: 1,
  ...extra,
});

describe('version', () => {
  it('parses clap --version output', () => {
    assert.deepEqual(parseVersionOutput('devgpu 0.1.0\n'), { major: 0, minor: 1, patch: 0, text: '0.1.0' });
    assert.equal(parseVersionOutput('devgpu 1.10.2-rc.1+abc')?.text, '1.10.2-rc.1+abc');
    assert.equal(parseVersionOutput('devgpu-cli 0.1.0'), undefined);
    assert.equal(parseVersionOutput('0.1.0'), undefined);
  });

  it('compares numerically', () => {
    assert.ok(compareVersions(parseVersion('0.10.0')!, parseVersion('0.9.9')!) > 0);
    assert.ok(compareVersions(parseVersion('1.0.0')!, parseVersion('1.0.0')!) === 0);
    assert.ok(compareVersions(parseVersion('0.1.0')!, parseVersion('0.1.1')!) < 0);
  });

  it('turns each kind of --version result into the right error', () => {
    assert.equal(checkVersionResult(raw('devgpu 0.2.0'), '/x').text, '0.2.0');
    const kind = (r: RawResult) => {
      try {
        checkVersionResult(r, '/x', '0.1.0');
        return 'ok';
      } catch (e) {
        return (e as DevgpuError).kind;
      }
    };
    const enoent = Object.assign(new Error('spawn /x ENOENT'), { code: 'ENOENT' });
    const eacces = Object.assign(new Error('spawn /x EACCES'), { code: 'EACCES' });
    assert.equal(kind(raw('', { spawnError: enoent })), 'not-found');
    assert.equal(kind(raw('', { spawnError: eacces })), 'spawn-failed');
    assert.equal(kind(raw('', { timedOut: true })), 'timeout');
    assert.equal(kind(raw('devgpu 0.0.1')), 'too-old');
    assert.equal(kind(raw('hello')), 'too-old');
  });
});
