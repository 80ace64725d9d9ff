// Check results as a tree (Explorer › GPU Checks) and as a quick pick, with "Copy fix" and "Run in terminal".

import * as vscode from 'vscode';
import { checkLine, commandOfFix, countSummary, sortChecks } from '../core/status';
import { Check } from '../core/types';
import { CheckRun, ResultsState } from './state';

const ICON: Record<Check['status'], vscode.ThemeIcon> = {
  pass: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  warn: new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  fail: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
  skip: new vscode.ThemeIcon('circle-slash'),
};

const CODICON: Record<Check['status'], string> = { pass: '$(pass)', warn: '$(warning)', fail: '$(error)', skip: '$(circle-slash)' };

type Node = { kind: 'run'; run: CheckRun } | { kind: 'check'; check: Check };

export class ChecksTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly state: ResultsState) {
    this.sub = state.onDidChange(() => this.emitter.fire(undefined));
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      const runs = [this.state.doctor, this.state.verify].filter((r): r is CheckRun => !!r);
      return runs.map((run) => ({ kind: 'run', run }));
    }
    if (node.kind === 'run') return sortChecks(node.run.checks).map((check) => ({ kind: 'check', check }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'run') {
      const label = node.run.source === 'doctor' ? 'GPU host (doctor)' : 'Container (verify)';
      const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${countSummary(node.run.checks)} · ${node.run.when.toLocaleTimeString()}`;
      item.iconPath = new vscode.ThemeIcon(node.run.source === 'doctor' ? 'circuit-board' : 'package');
      return item;
    }
    const c = node.check;
    const item = new vscode.TreeItem(c.summary, vscode.TreeItemCollapsibleState.None);
    item.description = c.id;
    item.iconPath = ICON[c.status];
    item.tooltip = new vscode.MarkdownString().appendText(checkLine(c));
    const ctx: string[] = ['check'];
    if (c.fix) ctx.push('withFix');
    if (commandOfFix(c.fix)) ctx.push('withCommand');
    item.contextValue = ctx.join(' ');
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}

/** The check an inline tree action was invoked on. */
export function checkFromNode(node: unknown): Check | undefined {
  if (typeof node === 'object' && node !== null && (node as Node).kind === 'check') return (node as { check: Check }).check;
  return undefined;
}

export async function copyFix(check: Check | undefined): Promise<void> {
  if (!check?.fix) return;
  const text = commandOfFix(check.fix) ?? check.fix;
  await vscode.env.clipboard.writeText(text);
  void vscode.window.showInformationMessage(`Copied: ${text}`);
}

let fixTerminal: vscode.Terminal | undefined;

/** Runs the fix's command in a "DevGPU" terminal the user sees (sudo prompts included). */
export function runFixInTerminal(check: Check | undefined): void {
  const cmd = commandOfFix(check?.fix);
  if (!cmd) return;
  if (!fixTerminal || fixTerminal.exitStatus !== undefined) {
    fixTerminal = vscode.window.createTerminal({ name: 'DevGPU' });
  }
  fixTerminal.show();
  fixTerminal.sendText(cmd, true);
}

interface CheckPickItem extends vscode.QuickPickItem {
  check: Check;
}

const COPY_BUTTON: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('copy'), tooltip: 'Copy fix' };
const RUN_BUTTON: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('terminal'), tooltip: 'Run in terminal' };

/** A quick pick of the checks (failures first). Picking one with a fix offers "Copy fix" / "Run in terminal". */
export async function showChecksPick(run: CheckRun | undefined, title: string): Promise<void> {
  if (!run || run.checks.length === 0) {
    void vscode.window.showInformationMessage('DevGPU: no check results yet. Run "DevGPU: Check GPU Host" first.');
    return;
  }
  const qp = vscode.window.createQuickPick<CheckPickItem>();
  qp.title = `${title}: ${countSummary(run.checks)}`;
  qp.placeholder = 'Pick a check to copy or run its fix';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.items = sortChecks(run.checks).map((check) => {
    const buttons: vscode.QuickInputButton[] = [];
    if (check.fix) buttons.push(COPY_BUTTON);
    if (commandOfFix(check.fix)) buttons.push(RUN_BUTTON);
    return {
      check,
      label: `${CODICON[check.status]} ${check.summary}`,
      description: check.id,
      detail: check.fix && check.status !== 'pass' ? `fix: ${check.fix}` : undefined,
      buttons,
    };
  });
  const picked = await new Promise<CheckPickItem | undefined>((resolve) => {
    qp.onDidTriggerItemButton(async (e) => {
      if (e.button === COPY_BUTTON) await copyFix(e.item.check);
      if (e.button === RUN_BUTTON) {
        qp.hide();
        runFixInTerminal(e.item.check);
      }
    });
    qp.onDidAccept(() => {
      resolve(qp.selectedItems[0]);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!picked?.check.fix) return;
  const actions = ['Copy fix'];
  if (commandOfFix(picked.check.fix)) actions.push('Run in terminal');
  const action = await vscode.window.showQuickPick(actions, { title: picked.check.summary, placeHolder: picked.check.fix });
  if (action === 'Copy fix') await copyFix(picked.check);
  else if (action === 'Run in terminal') runFixInTerminal(picked.check);
}
