// spawnCli: argument arrays, JSON Lines on stderr, cancellation of the whole process group, timeouts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LineSplitter, parseEventLine, processGroupAlive, spawnCli } from '../../src/core/process';
import { CliEvent } from '../../src/core/types';
import { FAKE_DEVGPU, alive, fakeEnv, tempDir, waitFor } from './helpers';

describe('parseEventLine', () => {
  it('reads the three event types and ignores everything else', () => {
    assert.deepEqual(parseEventLine('{"type":"progress","data":{"message":"x"}}'), { type: 'progress', data: { message: 'x' } });
    assert.deepEqual(parseEventLine('  {"type":"check","data":{"id":"a"}}  '), { type: 'check', data: { id: 'a' } });
    assert.deepEqual(parseEventLine('{"type":"log"}'), { type: 'log', data: {} });
    assert.equal(parseEventLine('{"type":"other","data":{}}'), undefined);
    assert.equal(parseEventLine('warning: plain text'), undefined);
    assert.equal(parseEventLine('{not json'), undefined);
    assert.equal(parseEventLine('[1,2]'), undefined);
  });
});

describe('LineSplitter', () => {
  it('joins lines split across chunks and flushes the last partial line', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push('ab');
    s.push('c\r\nde');
    s.push('f\n\ng');
    s.end();
    assert.deepEqual(lines, ['abc', 'def', '', 'g']);
  });
});

describe('spawnCli', () => {
  it('passes arguments verbatim (no shell) and collects stdout', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'argv.jsonl');
    const tricky = ['doctor', '/path with spaces/$(rm -rf x)', '--json', "it's; echo pwned"];
    const r = await spawnCli({
      executable: FAKE_DEVGPU,
      args: tricky,
      env: fakeEnv({ FAKE_DEVGPU_LOG: log, FAKE_DEVGPU_SCENARIO: 'non-json' }),
    });
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /not devgpu/);
    assert.deepEqual(JSON.parse(fs.readFileSync(log, 'utf8').trim()), tricky);
  });

  it('streams JSON Lines events in order, including one split across writes', async () => {
    const events: CliEvent[] = [];
    const lines: string[] = [];
    const r = await spawnCli({
      executable: FAKE_DEVGPU,
      args: ['verify', '--json'],
      env: fakeEnv({ FAKE_DEVGPU_SCENARIO: 'slow-progress', FAKE_DEVGPU_STEPS: '4', FAKE_DEVGPU_DELAY_MS: '10' }),
      onEvent: (e) => events.push(e),
      onStderrLine: (l) => lines.push(l),
    });
    assert.equal(r.exitCode, 0);
    const progress = events.filter((e) => e.type === 'progress').map((e) => e.data.current);
    assert.deepEqual(progress, [1, 2, 3, 4]);
    assert.ok(events.some((e) => e.type === 'check' && e.data.id === 'gpu.visible'));
    assert.ok(events.some((e) => e.type === 'log' && e.data.message === 'split event'), 'the split event was reassembled');
    assert.ok(lines.includes('a plain stderr line'));
    assert.match(r.stderrTail, /a plain stderr line/);
  });

  it('reports a missing executable as a spawn error, not an exception', async () => {
    const r = await spawnCli({ executable: '/nonexistent/devgpu', args: ['--version'] });
    assert.equal(r.spawnError?.code, 'ENOENT');
  });

  it('cancel sends SIGINT to the process group: the CLI and its child both end', async () => {
    const dir = tempDir();
    const pidfile = path.join(dir, 'pids.json');
    const ac = new AbortController();
    const started = Date.now();
    const p = spawnCli({
      executable: FAKE_DEVGPU,
      args: ['up', '--json'],
      env: fakeEnv({ FAKE_DEVGPU_SCENARIO: 'hang', FAKE_DEVGPU_PIDFILE: pidfile }),
      signal: ac.signal,
      killGraceMs: 3000,
    });
    await waitFor(() => fs.existsSync(pidfile) && fs.statSync(pidfile).size > 0, 5000, 'the fake to start');
    const { pid, grandchild } = JSON.parse(fs.readFileSync(pidfile, 'utf8'));
    assert.ok(alive(pid) && alive(grandchild));
    ac.abort();
    const r = await p;
    assert.equal(r.cancelled, true);
    assert.equal(r.exitCode, 130, 'the CLI handled SIGINT (its cleanup path), no SIGKILL needed');
    assert.ok(Date.now() - started < 3000 + 2500);
    await waitFor(() => !alive(grandchild), 2000, 'the grandchild to end');
    assert.equal(processGroupAlive(pid), false);
  });

  it('cancel escalates to SIGKILL for a process group that ignores SIGINT', async () => {
    const dir = tempDir();
    const pidfile = path.join(dir, 'pids.json');
    const ac = new AbortController();
    const p = spawnCli({
      executable: FAKE_DEVGPU,
      args: ['up', '--json'],
      env: fakeEnv({ FAKE_DEVGPU_SCENARIO: 'hang-stubborn', FAKE_DEVGPU_PIDFILE: pidfile }),
      signal: ac.signal,
      killGraceMs: 300,
    });
    await waitFor(() => fs.existsSync(pidfile) && fs.statSync(pidfile).size > 0, 5000, 'the fake to start');
    const { pid, grandchild } = JSON.parse(fs.readFileSync(pidfile, 'utf8'));
    const t0 = Date.now();
    ac.abort();
    const r = await p;
    assert.equal(r.cancelled, true);
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(Date.now() - t0 >= 250, 'waited the grace period first');
    await waitFor(() => !alive(grandchild), 2000, 'the stubborn grandchild to be killed');
    assert.equal(processGroupAlive(pid), false);
  });

  it('an already aborted signal starts nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    const dir = tempDir();
    const log = path.join(dir, 'argv.jsonl');
    const r = await spawnCli({ executable: FAKE_DEVGPU, args: ['doctor'], env: fakeEnv({ FAKE_DEVGPU_LOG: log }), signal: ac.signal });
    assert.equal(r.cancelled, true);
    assert.equal(fs.existsSync(log), false);
  });

  it('a timeout stops the run like a cancel', async () => {
    const r = await spawnCli({
      executable: FAKE_DEVGPU,
      args: ['up', '--json'],
      env: fakeEnv({ FAKE_DEVGPU_SCENARIO: 'hang' }),
      timeoutMs: 300,
      killGraceMs: 1000,
    });
    assert.equal(r.timedOut, true);
    assert.equal(r.cancelled, false);
  });
});
