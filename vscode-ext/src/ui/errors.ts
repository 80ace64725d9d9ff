// Showing a failed run: the message with the CLI's hints, and a way out (logs, install command, settings).

import * as vscode from 'vscode';
import { DevgpuError, INSTALL_COMMAND, formatErrorMessage, toDevgpuError } from '../core/errors';
import { commandOfFix } from '../core/status';
import { Output } from './output';

const SHOW_LOGS = 'Show Logs';
const COPY_INSTALL = 'Copy Install Command';
const OPEN_SETTINGS = 'Open Settings';
const COPY_FIX = 'Copy Fix';

/** Report a failure of `action` (a command title). A cancel is logged, not shown as an error. */
export async function showError(e: unknown, action: string, output: Output): Promise<void> {
  const err: DevgpuError = toDevgpuError(e);
  output.error(err, action);
  if (err.kind === 'cancelled') {
    void vscode.window.showInformationMessage(`${action}: cancelled.`);
    return;
  }
  const buttons: string[] = [];
  if (err.needsInstall) buttons.push(COPY_INSTALL, OPEN_SETTINGS);
  const fix = err.hints.map(commandOfFix).find((c) => c !== undefined);
  if (!err.needsInstall && fix) buttons.push(COPY_FIX);
  if (err.hasLogs) buttons.push(SHOW_LOGS);

  const choice = await vscode.window.showErrorMessage(formatErrorMessage(err, action), ...buttons);
  if (choice === SHOW_LOGS) output.show();
  else if (choice === COPY_INSTALL) {
    await vscode.env.clipboard.writeText(INSTALL_COMMAND);
    void vscode.window.showInformationMessage(`Copied: ${INSTALL_COMMAND}`);
  } else if (choice === OPEN_SETTINGS) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'devgpu.path');
  } else if (choice === COPY_FIX && fix) {
    await vscode.env.clipboard.writeText(fix);
    void vscode.window.showInformationMessage(`Copied: ${fix}`);
  }
}
