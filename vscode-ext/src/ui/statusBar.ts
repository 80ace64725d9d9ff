// The status bar item: the GPU host state from the last doctor run; a click runs "Check GPU Host".

import * as vscode from 'vscode';
import { ResultsState } from './state';

export class HostStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly state: ResultsState) {
    this.item = vscode.window.createStatusBarItem('devgpu.hostStatus', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'DevGPU GPU Host';
    this.item.command = 'devgpu.checkHost';
    this.subs.push(state.onDidChange(() => this.render()));
    this.subs.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('devgpu.showStatusBar')) this.render();
      }),
    );
    this.render();
  }

  /** The text shown now (for tests and logs). */
  get text(): string {
    return this.item.text;
  }

  private render(): void {
    const s = this.state.host;
    this.item.text = s.text;
    this.item.tooltip = s.tooltip;
    this.item.accessibilityInformation = { label: `DevGPU GPU host: ${s.text}`, role: 'button' };
    this.item.backgroundColor =
      s.state === 'fail'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : s.state === 'warn'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    if (vscode.workspace.getConfiguration('devgpu').get<boolean>('showStatusBar', true)) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
