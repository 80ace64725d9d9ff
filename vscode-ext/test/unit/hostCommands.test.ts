// The consent question for a repository's initializeCommand, from devgpu's refusal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DevgpuError } from '../../src/core/errors';
import { ALLOW_HOST_COMMANDS_FLAG, hostCommandQuestion, withHostCommandsAllowed } from '../../src/core/hostCommands';

const refusal = new DevgpuError({
  kind: 'cli',
  code: 'host-command-not-allowed',
  message: '/w/.devcontainer/devcontainer.json asks to run a command on this machine (initializeCommand, before the container is built): `./fetch.sh`',
  hints: ['read initializeCommand in /w/.devcontainer/devcontainer.json; if you trust this repository to run it on your machine, run again with `--allow-host-commands`'],
  command: 'up',
});

describe('hostCommandQuestion', () => {
  it("asks with devgpu's message, which names the file and the command", () => {
    const q = hostCommandQuestion(refusal);
    assert.ok(q);
    assert.match(q.message, /`\.\/fetch\.sh`/);
    assert.match(q.message, /devcontainer\.json/);
    assert.match(q.detail, /this machine/);
  });

  it('asks nothing for any other failure', () => {
    assert.equal(hostCommandQuestion(new DevgpuError({ kind: 'cli', code: 'initialize-command-failed', message: 'failed' })), undefined);
    assert.equal(hostCommandQuestion(new DevgpuError({ kind: 'crashed', code: 'host-command-not-allowed', message: 'x' })), undefined);
    assert.equal(hostCommandQuestion(new Error('host-command-not-allowed')), undefined);
  });
});

describe('withHostCommandsAllowed', () => {
  it('adds the flag once and leaves the arguments as they were', () => {
    const args = ['up', '/w'];
    assert.deepEqual(withHostCommandsAllowed(args), ['up', '/w', ALLOW_HOST_COMMANDS_FLAG]);
    assert.deepEqual(args, ['up', '/w']);
    assert.deepEqual(withHostCommandsAllowed(['up', '/w', ALLOW_HOST_COMMANDS_FLAG]), ['up', '/w', ALLOW_HOST_COMMANDS_FLAG]);
  });
});
