// The bridge end to end against the fake devgpu: envelopes, error mapping, version and schema checks, flags.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClientSettings, DevgpuClient, globalArgs } from '../../src/core/client';
import { DevgpuError, INSTALL_COMMAND, formatErrorMessage } from '../../src/core/errors';
import { DoctorData, InitData, VerifyData } from '../../src/core/types';
import { FAKE_DEVGPU, fakeEnv, tempDir } from './helpers';

function client(vars: Record<string, string> = {}, settings: ClientSettings = {}) {
  const env = fakeEnv(vars);
  return new DevgpuClient(() => ({ configuredPath: FAKE_DEVGPU, ...settings }), { env });
}

async function rejects(p: Promise<unknown>, check: (e: DevgpuError) => void): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DevgpuError, `expected a DevgpuError, got ${String(e)}`);
    check(e);
    return;
  }
  assert.fail('expected the run to fail');
}

describe('DevgpuClient.run', () => {
  it('returns the envelope of a successful run (recorded init --dry-run)', async () => {
    const env = await client({ FAKE_DEVGPU_RECORDING: 'dry-run' }).run<InitData>({ args: ['init', '/ws', '--dry-run'] });
    assert.equal(env.outcome, 'success');
    assert.equal(env.command, 'init');
    assert.equal(env.data?.stack.image, 'nvidia/cuda:12.4.1-base-ubuntu22.04');
    assert.equal(env.data?.files[0].path, '.devcontainer/devcontainer.json');
    assert.match(env.data?.files[0].diff ?? '', /^--- \/dev\/null/);
  });

  it('returns (does not throw) an error outcome that carries checks: doctor with failing checks, exit 1', async () => {
    const env = await client({ FAKE_DEVGPU_RECORDING: 'no-toolkit' }).run<DoctorData>({ args: ['doctor', '.'] });
    assert.equal(env.outcome, 'error');
    assert.equal(env.data?.checks.filter((c) => c.status === 'fail').length, 2);
  });

  it('adds --json and --docker-host to the argument array', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'argv.jsonl');
    await client({ FAKE_DEVGPU_RECORDING: 'ok', FAKE_DEVGPU_LOG: log }, { dockerHost: ' tcp://gpu-box:2375 ' }).run<VerifyData>({
      args: ['verify', '/my ws'],
    });
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(calls[0], ['--version']);
    assert.deepEqual(calls[1], ['verify', '/my ws', '--json', '--docker-host', 'tcp://gpu-box:2375']);
    assert.deepEqual(globalArgs({}), ['--json']);
    assert.deepEqual(globalArgs({ dockerHost: '  ' }), ['--json']);
  });

  it('checks --version once per binary', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'argv.jsonl');
    const c = client({ FAKE_DEVGPU_RECORDING: 'h200', FAKE_DEVGPU_LOG: log });
    await c.run({ args: ['doctor', '.'] });
    await c.run({ args: ['doctor', '.'] });
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)[0]);
    assert.deepEqual(calls, ['--version', 'doctor', 'doctor']);
  });

  it('maps error.code, message and hints of an error envelope', async () => {
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'cli-error' }).run({ args: ['init', '.'] }), (e) => {
      assert.equal(e.kind, 'cli');
      assert.equal(e.code, 'jsonc-syntax');
      assert.equal(e.exitCode, 1);
      assert.deepEqual(e.hints, ['fix the file at line 4, column 3', 'devgpu init --force']);
      assert.equal(
        formatErrorMessage(e, 'Add GPU Dev Container Configuration'),
        'Add GPU Dev Container Configuration failed: .devcontainer/devcontainer.json:4:3: expected a comma. [jsonc-syntax] Hint: fix the file at line 4, column 3. Hint: devgpu init --force.',
      );
      assert.equal(e.needsInstall, false);
      assert.equal(e.hasLogs, true);
    });
  });

  it('maps a recorded real CLI error (init --cuda 9.9)', async () => {
    await rejects(client({ FAKE_DEVGPU_RECORDING: 'error' }).run({ args: ['init', '.', '--cuda', '9.9'] }), (e) => {
      assert.equal(e.code, 'cuda-image-deleted');
      assert.match(e.message, /no nvidia\/cuda images for CUDA 9\.9/);
      assert.match(e.hints[0], /pick one of: 11\.8/);
    });
  });

  it('maps the real verify failure of a build that cannot pull its base image', async () => {
    await rejects(client({ FAKE_DEVGPU_RECORDING: 'build-failed' }).run({ args: ['verify', '.'] }), (e) => {
      assert.equal(e.kind, 'cli');
      assert.equal(e.code, 'build-failed');
      assert.match(e.message, /^the image build failed at step 1\/20 `FROM nvidia\/cuda:12\.4\.1-base-ubuntu22\.04`/);
      assert.equal(e.hints.length, 1);
    });
  });

  it('returns the real doctor result of a machine without GPU (outcome error, exit 1, 20 checks)', async () => {
    const env = await client({ FAKE_DEVGPU_RECORDING: 'no-gpu' }).run<DoctorData>({ args: ['doctor', '.'] });
    assert.equal(env.outcome, 'error');
    assert.equal(env.data?.checks.length, 20);
    assert.equal(env.data?.host?.driver, null);
  });

  it('an unknown subcommand (an older CLI) says which and how to update', async () => {
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'unknown-subcommand' }).run({ args: ['verify', '.'] }), (e) => {
      assert.equal(e.kind, 'unsupported-command');
      assert.match(e.message, /has no `verify` command/);
      assert.deepEqual(e.hints, [`update devgpu: ${INSTALL_COMMAND}`]);
      assert.equal(e.needsInstall, true);
    });
  });

  it('a panic is a crash with the panic message and the logs', async () => {
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'panic' }).run({ args: ['doctor', '.'] }), (e) => {
      assert.equal(e.kind, 'crashed');
      assert.equal(e.exitCode, 101);
      assert.match(e.message, /crashed \(exit 101\): index out of bounds/);
      assert.match(e.stderrTail, /panicked at src\/commands\/doctor\.rs/);
      assert.equal(e.hasLogs, true);
    });
  });

  it('a CLI killed by a signal mid-output is a crash naming the signal', async () => {
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'killed' }).run({ args: ['up', '.'] }), (e) => {
      assert.equal(e.kind, 'crashed');
      assert.equal(e.signal, 'SIGKILL');
      assert.match(e.message, /killed by SIGKILL/);
    });
  });

  it('text on stdout is bad output, quoting what came', async () => {
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'non-json' }).run({ args: ['doctor', '.'] }), (e) => {
      assert.equal(e.kind, 'bad-output');
      assert.match(e.message, /exited with code 0 and printed something that is not JSON on stdout: "Hello from/);
    });
  });

  it('two JSON objects are refused', async () => {
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'two-objects' }).run({ args: ['doctor', '.'] }), (e) => {
      assert.equal(e.kind, 'bad-output');
      assert.match(e.message, /printed 2 JSON values/);
    });
  });

  it('nothing at all is bad output with the exit code', async () => {
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'empty' }).run({ args: ['doctor', '.'] }), (e) => {
      assert.equal(e.kind, 'bad-output');
      assert.match(e.message, /exited with code 2 and printed nothing on stdout/);
    });
  });

  it('a newer schemaVersion asks to update the extension; a missing one asks to update devgpu', async () => {
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'schema-2' }).run({ args: ['doctor', '.'] }), (e) => {
      assert.equal(e.kind, 'unsupported-schema');
      assert.match(e.message, /schema version 2; this extension understands version 1: update the DevGPU extension/);
      assert.equal(e.needsInstall, false);
    });
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'no-schema' }).run({ args: ['doctor', '.'] }), (e) => {
      assert.equal(e.kind, 'unsupported-schema');
      assert.match(e.message, /no schemaVersion; this extension needs version 1: update devgpu/);
      assert.equal(e.needsInstall, true);
    });
  });

  it('cancel gives a cancelled error and stops the CLI', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    await rejects(client({ FAKE_DEVGPU_SCENARIO: 'hang' }).run({ args: ['up', '.'], signal: ac.signal }), (e) => {
      assert.equal(e.kind, 'cancelled');
      assert.equal(e.exitCode, 130);
      assert.equal(e.hasLogs, false);
    });
  });
});

describe('DevgpuClient.resolve (version check)', () => {
  it('accepts devgpu 0.1.0 and newer, pre-releases included', async () => {
    assert.equal((await client().resolve()).version.text, '0.1.0');
    assert.equal((await client({ FAKE_DEVGPU_VERSION: '1.2.3-beta.1' }).resolve()).version.text, '1.2.3-beta.1');
  });

  it('refuses an older devgpu with the install command', async () => {
    await rejects(client({ FAKE_DEVGPU_VERSION: '0.0.9' }).resolve(), (e) => {
      assert.equal(e.kind, 'too-old');
      assert.match(e.message, /devgpu 0\.0\.9 at .* is too old; this extension needs devgpu 0\.1\.0 or newer/);
      assert.deepEqual(e.hints, [`update it: ${INSTALL_COMMAND}`]);
      assert.equal(e.needsInstall, true);
    });
  });

  it('refuses a program that is not devgpu', async () => {
    await rejects(client({ FAKE_DEVGPU_VERSION: 'garbage' }).resolve(), (e) => {
      assert.equal(e.kind, 'too-old');
      assert.match(e.message, /does not look like devgpu: `--version` printed "Usage: something-else/);
    });
  });

  it('a devgpu.path that does not exist is not-found, with no fallback to PATH', async () => {
    const c = new DevgpuClient(() => ({ configuredPath: '/nonexistent/devgpu' }), { env: fakeEnv({ PATH: path.dirname(FAKE_DEVGPU) }) });
    await rejects(c.resolve(), (e) => {
      assert.equal(e.kind, 'not-found');
      assert.match(e.message, /"devgpu.path" setting points at \/nonexistent\/devgpu/);
      assert.equal(e.needsInstall, true);
    });
  });

  it('finds devgpu on PATH when nothing is configured', async () => {
    const c = new DevgpuClient(() => ({}), { env: fakeEnv({ PATH: `/nonexistent:${path.dirname(FAKE_DEVGPU)}:${process.env.PATH}` }) });
    const r = await c.resolve();
    assert.equal(r.source, 'path');
    assert.equal(r.path, FAKE_DEVGPU);
  });

  it('nothing anywhere: not-found with the install command', async () => {
    const c = new DevgpuClient(() => ({}), { env: fakeEnv({ PATH: '/nonexistent' }) });
    await rejects(c.resolve(), (e) => {
      assert.equal(e.kind, 'not-found');
      assert.match(e.message, /not on PATH and "devgpu.path" is not set/);
      assert.equal(e.hints[0], `install it: ${INSTALL_COMMAND}`);
    });
  });
});
