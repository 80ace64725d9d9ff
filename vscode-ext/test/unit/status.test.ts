// The status bar text and the fix helpers, from recorded doctor results.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DevgpuError } from '../../src/core/errors';
import {
  NOT_CHECKED,
  commandOfFix,
  countSummary,
  driverMajor,
  gpuLabel,
  shortGpuName,
  sortChecks,
  statusFromDoctor,
  statusFromError,
} from '../../src/core/status';
import { Check, DoctorData, Envelope } from '../../src/core/types';
import { recording } from './helpers';

const doctor = (name: string) => recording<Envelope<DoctorData>>(name).data!;

describe('statusFromDoctor', () => {
  it('a healthy H200 host: GPU ✓ H200 · driver 580', () => {
    const s = statusFromDoctor(doctor('doctor-h200'));
    assert.equal(s.state, 'ok');
    assert.equal(s.text, 'GPU ✓ H200 · driver 580');
    assert.match(s.tooltip, /GPU host OK \(20 checks passed\)/);
  });

  it('driver but no toolkit: GPU ✗ toolkit (the missing nvidia runtime follows from it), fixes in the hover', () => {
    const s = statusFromDoctor(doctor('doctor-no-toolkit'));
    assert.equal(s.state, 'fail');
    assert.equal(s.text, 'GPU ✗ toolkit');
    assert.match(s.tooltip, /2 of 20 host checks failed/);
    assert.match(s.tooltip, /fix: install nvidia-container-toolkit: `devgpu host install-toolkit`/);
  });

  it('the real doctor of a machine without GPU (recorded from devgpu 0.1.0): GPU ✗ driver +1', () => {
    const s = statusFromDoctor(doctor('doctor-no-gpu'));
    assert.equal(s.state, 'fail');
    assert.equal(s.text, 'GPU ✗ driver +1');
    assert.match(s.tooltip, /3 of 20 host checks failed/);
  });

  it('one failing layer has no count; warnings only show the GPU with !', () => {
    const checks: Check[] = [
      { id: 'toolkit.hook', status: 'fail', summary: 'no hook' },
      { id: 'toolkit.ctk', status: 'fail', summary: 'no ctk' },
    ];
    assert.equal(statusFromDoctor({ checks }).text, 'GPU ✗ toolkit');
    assert.equal(statusFromDoctor({ checks: [{ id: 'docker.nvidia-runtime', status: 'fail', summary: 'x' }] }).text, 'GPU ✗ nvidia runtime');
    assert.equal(statusFromDoctor({ checks: [{ id: 'daemon-json.valid', status: 'fail', summary: 'x' }, { id: 'docker.reachable', status: 'fail', summary: 'y' }] }).text, 'GPU ✗ daemon.json +1');
    const warn = statusFromDoctor({ host: { gpus: [{ name: 'NVIDIA A100-SXM4-80GB', driver: '550.54.15' }] }, checks: [{ id: 'docker.default-runtime', status: 'warn', summary: 'x' }] });
    assert.equal(warn.text, 'GPU ! A100-SXM4-80GB · driver 550');
    assert.equal(warn.state, 'warn');
  });

  it('reads the driver from the host facts or the GPUs, whichever is there', () => {
    const pass: Check[] = [{ id: 'gpu.present', status: 'pass', summary: 'ok' }];
    assert.equal(statusFromDoctor({ host: { driver: '570.124.06' }, checks: pass }).text, 'GPU ✓ driver 570');
    assert.equal(statusFromDoctor({ host: { driver: { version: '575.51.03' }, gpus: [{ name: 'NVIDIA L4' }] }, checks: pass }).text, 'GPU ✓ L4 · driver 575');
    assert.equal(statusFromDoctor({ host: { driverVersion: '560.28.03' }, checks: pass }).text, 'GPU ✓ driver 560');
    assert.equal(statusFromDoctor({ checks: pass }).text, 'GPU ✓');
    assert.equal(statusFromDoctor({ checks: [] }).text, 'GPU ?');
    assert.equal(statusFromDoctor(undefined).text, 'GPU ?');
  });

  it('errors and the initial state', () => {
    assert.equal(NOT_CHECKED.text, 'GPU ?');
    assert.equal(statusFromError(new DevgpuError({ kind: 'not-found', message: 'x' })).text, 'GPU ? devgpu missing');
    assert.equal(statusFromError(new DevgpuError({ kind: 'cli', message: 'x' })).text, 'GPU ?');
  });
});

describe('names and counts', () => {
  it('shortens GPU names and driver versions', () => {
    assert.equal(shortGpuName('NVIDIA H200'), 'H200');
    assert.equal(shortGpuName('NVIDIA GeForce RTX 4090'), 'RTX 4090');
    assert.equal(shortGpuName('Tesla T4'), 'T4');
    assert.equal(driverMajor('580.159.04'), '580');
    assert.equal(gpuLabel([{ name: 'NVIDIA H200' }, { name: 'NVIDIA H200' }]), '2× H200');
    assert.equal(gpuLabel([{ name: 'NVIDIA H200' }, { name: 'NVIDIA L4' }]), 'H200 +1');
    assert.equal(gpuLabel([]), undefined);
  });

  it('sorts failures first and counts', () => {
    const checks = doctor('doctor-no-toolkit').checks;
    const order = sortChecks(checks).map((c) => c.status);
    assert.deepEqual(order.slice(0, 4), ['fail', 'fail', 'warn', 'pass']);
    assert.equal(order[order.length - 1], 'skip');
    assert.equal(countSummary(checks), '2 failed, 1 warning, 12 passed, 5 skipped');
    assert.equal(countSummary(doctor('doctor-no-gpu').checks), '3 failed, 5 passed, 12 skipped');
  });
});

describe('commandOfFix', () => {
  it('finds the command in a fix', () => {
    assert.equal(commandOfFix('sudo systemctl restart docker'), 'sudo systemctl restart docker');
    assert.equal(commandOfFix('devgpu host install-toolkit --yes'), 'devgpu host install-toolkit --yes');
    assert.equal(commandOfFix('Install the toolkit: `sudo apt-get install -y nvidia-container-toolkit`'), 'sudo apt-get install -y nvidia-container-toolkit');
    assert.equal(commandOfFix('sudo usermod -aG docker $USER\nnewgrp docker'), 'sudo usermod -aG docker $USER\nnewgrp docker');
  });

  it('leaves prose and edits alone', () => {
    assert.equal(commandOfFix('install the NVIDIA driver for this GPU, then reboot'), undefined);
    assert.equal(commandOfFix('Reboot the host.'), undefined);
    assert.equal(commandOfFix('edit /etc/docker/daemon.json: remove the trailing comma at 3:5'), undefined);
    assert.equal(commandOfFix(''), undefined);
    assert.equal(commandOfFix(null), undefined);
  });
});
