import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IncrementTracker, eventLogLine, progressFraction, progressMessage } from '../../src/core/progress';

describe('progress events', () => {
  it('makes notification messages', () => {
    assert.equal(progressMessage({ type: 'progress', data: { message: 'building image', current: 3, total: 12 } }), 'building image (3/12)');
    assert.equal(progressMessage({ type: 'progress', data: { step: 'Step 2/9 : RUN pip install' } }), 'Step 2/9 : RUN pip install');
    // devgpu's own shape (src/report/progress.rs): a stable step id and the message.
    assert.equal(progressMessage({ type: 'progress', data: { step: 'build', message: 'Step 1/20 : FROM nvidia/cuda:12.4.1-base-ubuntu22.04' } }), 'Step 1/20 : FROM nvidia/cuda:12.4.1-base-ubuntu22.04');
    assert.equal(progressMessage({ type: 'progress', data: {} }), undefined);
    assert.equal(progressMessage({ type: 'check', data: { id: 'gpu.visible', status: 'fail', summary: 'no GPU', fix: 'x' } }), '✗ no GPU');
    assert.equal(progressMessage({ type: 'log', data: { message: 'x' } }), undefined);
  });

  it('turns fractions into increments that never go back', () => {
    const t = new IncrementTracker();
    assert.equal(t.next(progressFraction({ type: 'progress', data: { current: 1, total: 4 } })), 25);
    assert.equal(t.next(progressFraction({ type: 'progress', data: { percent: 20 } })), undefined);
    assert.equal(t.next(progressFraction({ type: 'progress', data: { percent: 60 } })), 35);
    assert.equal(t.next(progressFraction({ type: 'progress', data: { current: 9, total: 4 } })), 40);
    assert.equal(t.next(undefined), undefined);
  });

  it('renders events for the output channel', () => {
    assert.equal(eventLogLine({ type: 'log', data: { level: 'warn', message: 'slow' } }), '[warn] slow');
    assert.equal(eventLogLine({ type: 'log', data: { source: 'build', line: ' ---> Running in 3f2a' } }), '[build]  ---> Running in 3f2a');
    assert.equal(eventLogLine({ type: 'check', data: { id: 'a', status: 'pass', summary: 'fine' } }), '✓ fine');
    assert.equal(eventLogLine({ type: 'progress', data: { message: 'pulling' } }), '… pulling');
    assert.equal(eventLogLine({ type: 'progress', data: { bytes: 5 } }), '… {"bytes":5}');
  });
});
