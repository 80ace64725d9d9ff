// The "DevGPU" output channel: the commands run, the CLI's stderr (events rendered as lines), and errors in full.

import * as vscode from 'vscode';
import { DevgpuError } from '../core/errors';
import { eventLogLine } from '../core/progress';
import { parseEventLine } from '../core/process';

export class Output implements vscode.Disposable {
  readonly channel: vscode.OutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('DevGPU');
  }

  /** A line of our own, timestamped. */
  info(line: string): void {
    const t = new Date().toISOString().slice(11, 23);
    this.channel.appendLine(`[${t}] ${line}`);
  }

  /** A stderr line of the CLI: JSON Lines events as readable lines, anything else as written. */
  stderr(line: string): void {
    const ev = parseEventLine(line);
    this.channel.appendLine(ev ? `  ${eventLogLine(ev)}` : `  ${line}`);
  }

  error(err: DevgpuError, action: string): void {
    if (err.kind === 'cancelled') {
      this.info(`${action}: cancelled`);
      return;
    }
    this.info(`${action} failed (${err.kind}${err.code !== err.kind ? `: ${err.code}` : ''}): ${err.message}`);
    for (const h of err.hints) this.channel.appendLine(`  hint: ${h}`);
    if (err.stderrTail && err.kind !== 'cli') {
      this.channel.appendLine('  --- last lines of stderr ---');
      for (const l of err.stderrTail.split('\n')) this.channel.appendLine(`  ${l}`);
    }
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
