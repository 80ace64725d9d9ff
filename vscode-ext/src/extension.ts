// Entry point: wires the CLI bridge (../core, plain TypeScript) to VS Code's UI (./ui).

import * as vscode from 'vscode';
import { DevgpuClient } from './core/client';
import { ChecksTree, checkFromNode, copyFix, runFixInTerminal } from './ui/checks';
import { Commands } from './ui/commands';
import { Output } from './ui/output';
import { Runner } from './ui/runner';
import { ResultsState } from './ui/state';
import { HostStatusBar } from './ui/statusBar';

export function activate(context: vscode.ExtensionContext): void {
  const output = new Output();
  const client = new DevgpuClient(
    () => {
      // devgpu.path and devgpu.dockerHost are restricted settings: in an untrusted workspace VS Code hands us
      // only the user/machine values (package.json capabilities.untrustedWorkspaces.restrictedConfigurations).
      const cfg = vscode.workspace.getConfiguration('devgpu');
      const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
      return {
        configuredPath: cfg.get<string>('path', ''),
        dockerHost: cfg.get<string>('dockerHost', ''),
        workspaceFolder: folder,
      };
    },
    { extensionDir: context.extensionPath, log: (l) => output.info(l) },
  );
  const runner = new Runner(client, output);
  const state = new ResultsState(context.globalState);
  const statusBar = new HostStatusBar(state);
  const tree = new ChecksTree(state);
  const commands = new Commands(runner, state, output);

  context.subscriptions.push(
    output,
    runner,
    state,
    statusBar,
    tree,
    vscode.window.registerTreeDataProvider('devgpu.checks', tree),
    vscode.commands.registerCommand('devgpu.checkHost', () => commands.checkHost()),
    vscode.commands.registerCommand('devgpu.init', () => commands.addConfig()),
    vscode.commands.registerCommand('devgpu.verify', () => commands.verify()),
    vscode.commands.registerCommand('devgpu.reopen', () => commands.reopen()),
    vscode.commands.registerCommand('devgpu.showLogs', () => output.show()),
    vscode.commands.registerCommand('devgpu.showChecks', () => commands.showChecks()),
    vscode.commands.registerCommand('devgpu.copyFix', (node: unknown) => copyFix(checkFromNode(node))),
    vscode.commands.registerCommand('devgpu.runFix', (node: unknown) => runFixInTerminal(checkFromNode(node))),
    vscode.workspace.onDidChangeConfiguration((e) => {
      for (const key of ['devgpu.path', 'devgpu.dockerHost']) {
        if (e.affectsConfiguration(key)) output.info(`setting changed: ${key} = ${JSON.stringify(vscode.workspace.getConfiguration().get(key))}`);
      }
    }),
  );
  output.info(`DevGPU ${context.extension.packageJSON.version} activated`);
}

export function deactivate(): void {
  // The Runner (in context.subscriptions) aborts any devgpu run still going.
}
