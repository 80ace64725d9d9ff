// What the last doctor and verify runs found; the status bar and the checks view listen to it.
// The host result is kept in globalState so the status bar shows it again after a reload.

import * as vscode from 'vscode';
import { DevgpuError } from '../core/errors';
import { HostStatus, NOT_CHECKED, statusFromDoctor, statusFromError } from '../core/status';
import { Check, DoctorData, checksOf } from '../core/types';

export interface CheckRun {
  source: 'doctor' | 'verify';
  when: Date;
  checks: Check[];
}

const KEY = 'devgpu.lastDoctor';

export class ResultsState implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  host: HostStatus = NOT_CHECKED;
  doctor: CheckRun | undefined;
  verify: CheckRun | undefined;

  constructor(private readonly memento: vscode.Memento) {
    const saved = memento.get<{ data: DoctorData; when: string }>(KEY);
    if (saved?.data) {
      const when = new Date(saved.when);
      this.doctor = { source: 'doctor', when, checks: checksOf(saved.data) };
      this.host = statusFromDoctor(saved.data, when);
    }
  }

  setDoctor(data: DoctorData | undefined): void {
    const when = new Date();
    this.doctor = { source: 'doctor', when, checks: checksOf(data) };
    this.host = statusFromDoctor(data, when);
    void this.memento.update(KEY, { data, when: when.toISOString() });
    this.emitter.fire();
  }

  setDoctorError(err: DevgpuError): void {
    this.host = statusFromError(err);
    this.emitter.fire();
  }

  setVerify(checks: Check[]): void {
    this.verify = { source: 'verify', when: new Date(), checks };
    this.emitter.fire();
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
