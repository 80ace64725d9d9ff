// The init flow's plain parts, from the real CLI's recorded dry run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  changeSummary,
  combinedDiff,
  cudaOptions,
  effectiveChoices,
  filesToOpen,
  frameworkOptions,
  hasChanges,
  initArgs,
  pythonOptions,
  skippedFiles,
  stackSummary,
} from '../../src/core/initPlan';
import { Envelope, InitData } from '../../src/core/types';
import { recording } from './helpers';

const dry = recording<Envelope<InitData>>('init-dry-run').data!;
const written = recording<Envelope<InitData>>('init-write').data!;

describe('init plan', () => {
  it('summarises the stack and the changes', () => {
    assert.equal(stackSummary(dry.stack), 'CUDA 12.4.1 (base) · Ubuntu 22.04 · Python 3.10 · PyTorch 2.6 (cu124)');
    assert.equal(changeSummary(dry.files), 'create .devcontainer/devcontainer.json, create .devcontainer/Dockerfile, create .dockerignore');
    assert.equal(changeSummary(written.files, true), 'created .devcontainer/devcontainer.json, created .devcontainer/Dockerfile, created .dockerignore');
    assert.equal(changeSummary([{ path: 'a', action: 'unchanged' }]), 'nothing to change');
    assert.equal(hasChanges(dry), true);
    assert.deepEqual(skippedFiles(dry), []);
    assert.equal(stackSummary({ ...dry.stack, framework: null }), 'CUDA 12.4.1 (base) · Ubuntu 22.04 · Python 3.10 · no framework');
  });

  it('joins the diffs', () => {
    const d = combinedDiff(dry);
    assert.equal((d.match(/^--- /gm) ?? []).length, 3);
    assert.match(d, /\+\+\+ b\/\.devcontainer\/devcontainer\.json/);
    assert.match(d, /"--gpus", "all"/);
  });

  it('builds init arguments from choices', () => {
    assert.deepEqual(initArgs('/ws', {}, true), ['init', '/ws', '--dry-run']);
    assert.deepEqual(initArgs('/ws', { framework: 'auto' }, false), ['init', '/ws']);
    assert.deepEqual(initArgs('/ws', { framework: 'jax', cuda: '12.8', python: '3.12', force: true }, false), [
      'init', '/ws', '--framework', 'jax', '--cuda', '12.8', '--python', '3.12', '--force',
    ]);
  });

  it('seeds the quick picks with the dry run first', () => {
    const fw = frameworkOptions(dry.stack);
    assert.equal(fw[0].value, 'pytorch');
    assert.equal(fw[0].recommended, true);
    assert.match(fw[0].description ?? '', /2\.6 \(cu124\) — from the project/);
    assert.equal(frameworkOptions({ ...dry.stack, framework: null })[0].value, 'none');
    const cuda = cudaOptions(dry.stack);
    assert.equal(cuda[0].value, '12.4');
    assert.equal(cuda[0].description, 'recommended for this project');
    assert.equal(new Set(cuda.map((o) => o.value)).size, cuda.length, 'no duplicates');
    assert.equal(pythonOptions(dry.stack)[0].value, '3.10');
    assert.equal(pythonOptions({ ...dry.stack, python: '3.14' })[0].value, '3.14', 'an unlisted version is added');
  });

  it('passes only the choices that differ from the dry run', () => {
    assert.deepEqual(effectiveChoices(dry.stack, { framework: 'pytorch', cuda: '12.4', python: '3.10' }), {});
    assert.deepEqual(effectiveChoices(dry.stack, { framework: 'none', cuda: '12.8', python: '3.10' }), { framework: 'none', cuda: '12.8' });
  });

  it('opens devcontainer.json, then the Dockerfile', () => {
    assert.deepEqual(filesToOpen(written), ['.devcontainer/devcontainer.json', '.devcontainer/Dockerfile']);
  });
});
