// Runs devgpu under a progress notification: JSON Lines events become the notification's message, stderr goes
// to the output channel, the notification's Cancel aborts the run (the CLI's whole process group).

import * as vscode from 'vscode';
import { DevgpuClient } from '../core/client';
import { IncrementTracker, progressFraction, progressMessage } from '../core/progress';
import { CliEvent, Envelope } from '../core/types';
import { Output } from './output';

export interface RunWithProgress {
  /** Notification title, e.g. "DevGPU: checking the GPU host". */
  title: string;
  args: string[];
  cwd?: string;
  cancellable?: boolean;
  timeoutMs?: number;
  onEvent?: (e: CliEvent) => void;
}

export class Runner implements vscode.Disposable {
  private readonly running = new Set<AbortController>();

  constructor(
    readonly client: DevgpuClient,
    private readonly output: Output,
  ) {}

  run<T>(opts: RunWithProgress): Promise<Envelope<T>> {
    return Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: opts.title, cancellable: opts.cancellable ?? true },
        async (progress, token) => {
          const ac = new AbortController();
          this.running.add(ac);
          const sub = token.onCancellationRequested(() => {
            this.output.info(`cancel requested: stopping devgpu ${opts.args[0]} (SIGINT to its process group, then SIGKILL)`);
            ac.abort();
          });
          const inc = new IncrementTracker();
          try {
            return await this.client.run<T>({
              args: opts.args,
              cwd: opts.cwd,
              signal: ac.signal,
              timeoutMs: opts.timeoutMs,
              onStderrLine: (l) => this.output.stderr(l),
              onEvent: (e) => {
                const message = progressMessage(e);
                const increment = inc.next(progressFraction(e));
                if (message !== undefined || increment !== undefined) progress.report({ message, increment });
                opts.onEvent?.(e);
              },
            });
          } finally {
            sub.dispose();
            this.running.delete(ac);
          }
        },
      ),
    );
  }

  /** Stops every run still going (extension deactivation). */
  dispose(): void {
    for (const ac of this.running) ac.abort();
    this.running.clear();
  }
}
