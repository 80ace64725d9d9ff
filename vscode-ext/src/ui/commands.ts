// The four palette commands. Each runs the CLI through the Runner and shows the result; the logic that does
// not need the vscode API (arguments, summaries, status text) lives in ../core.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { toDevgpuError } from '../core/errors';
import { countSummary, commandOfFix } from '../core/status';
import {
  InitChoices,
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
} from '../core/initPlan';
import { hostCommandQuestion, withHostCommandsAllowed } from '../core/hostCommands';
import { hasDevcontainerConfig } from '../core/project';
import { DoctorData, InitData, UpData, VerifyData, checksOf } from '../core/types';
import { showChecksPick } from './checks';
import { showError } from './errors';
import { Output } from './output';
import { Runner } from './runner';
import { ResultsState } from './state';

export const DEV_CONTAINERS_ID = 'ms-vscode-remote.remote-containers';

export const TITLES = {
  doctor: 'Check GPU Host',
  init: 'Add GPU Dev Container Configuration',
  verify: 'Start and Verify GPU Container',
  reopen: 'Reopen in GPU Container',
} as const;

export class Commands {
  constructor(
    private readonly runner: Runner,
    private readonly state: ResultsState,
    private readonly output: Output,
  ) {}

  // ----- Check GPU Host ------------------------------------------------------------------------------------------

  async checkHost(): Promise<void> {
    const folder = activeFolder();
    try {
      const env = await this.runner.run<DoctorData>({
        title: 'DevGPU: checking the GPU host',
        args: ['doctor', folder ?? '.'],
        cwd: folder,
      });
      this.state.setDoctor(env.data);
      const checks = checksOf(env.data);
      const fails = checks.filter((c) => c.status === 'fail');
      const warns = checks.filter((c) => c.status === 'warn');
      this.output.info(`doctor: ${countSummary(checks)} → status bar "${this.state.host.text}"`);
      if (fails.length === 0 && warns.length === 0) {
        const c = await vscode.window.showInformationMessage(`GPU host OK: ${countSummary(checks)}.`, 'Show Checks');
        if (c) await this.showChecks();
        return;
      }
      const first = fails[0] ?? warns[0];
      const buttons = ['Show Checks'];
      if (first.fix) buttons.push('Copy Fix');
      const show = fails.length > 0 ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
      const c = await show(`GPU host: ${countSummary(checks)}. ${first.summary}${first.fix ? ` — fix: ${first.fix}` : ''}`, ...buttons);
      if (c === 'Show Checks') await this.showChecks();
      else if (c === 'Copy Fix' && first.fix) {
        const text = commandOfFix(first.fix) ?? first.fix;
        await vscode.env.clipboard.writeText(text);
      }
    } catch (e) {
      this.state.setDoctorError(toDevgpuError(e));
      await showError(e, TITLES.doctor, this.output);
    }
  }

  async showChecks(): Promise<void> {
    const run = [this.state.verify, this.state.doctor]
      .filter((r) => r !== undefined)
      .sort((a, b) => b!.when.getTime() - a!.when.getTime())[0];
    await showChecksPick(run, run?.source === 'verify' ? 'Container checks' : 'GPU host checks');
  }

  // ----- Add GPU Dev Container Configuration ---------------------------------------------------------------------

  /** Returns whether files were written (or already up to date), so Reopen can continue. */
  async addConfig(folderArg?: string): Promise<boolean> {
    const folder = folderArg ?? (await pickFolder(TITLES.init));
    if (!folder) return false;
    const step = (n: number) => `${TITLES.init} (${n}/2)`;
    try {
      let choices: InitChoices = {};
      let plan = (await this.dryRun(folder, choices)).data!;

      const recommended: vscode.QuickPickItem = {
        label: '$(check) Use the recommended stack',
        description: stackSummary(plan.stack),
        detail: [...(plan.stack.assumptions ?? []), ...(plan.warnings ?? [])].join(' · ') || plan.stack.reasons?.[0],
      };
      const customize: vscode.QuickPickItem = { label: '$(settings-gear) Choose framework, CUDA and Python…' };
      const first = await vscode.window.showQuickPick([recommended, customize], {
        title: step(1),
        placeHolder: `Stack for ${path.basename(folder)}`,
        ignoreFocusOut: true,
      });
      if (!first) return false;

      if (first === customize) {
        const picked = await pickStack(plan);
        if (!picked) return false;
        choices = effectiveChoices(plan.stack, picked);
        if (Object.keys(choices).length > 0) plan = (await this.dryRun(folder, choices)).data!;
      }

      for (;;) {
        const skipped = skippedFiles(plan);
        if (!hasChanges(plan) && (skipped.length === 0 || choices.force)) {
          void vscode.window.showInformationMessage(`The dev container configuration of ${path.basename(folder)} is up to date (${stackSummary(plan.stack)}).`);
          await openFiles(folder, ['.devcontainer/devcontainer.json']);
          return true;
        }
        const write: vscode.QuickPickItem = { label: '$(check) Write the files', description: changeSummary(plan.files) };
        const diff: vscode.QuickPickItem = { label: '$(diff) Show the changes first' };
        const force: vscode.QuickPickItem = {
          label: `$(warning) Also replace ${skipped.map((f) => f.path).join(', ')} (--force)`,
          detail: skipped.flatMap((f) => f.notes ?? []).join(' · ') || 'devgpu did not write these files; it leaves them alone unless forced',
        };
        const items = [write, diff];
        if (skipped.length > 0 && !choices.force) items.push(force);
        const c = await vscode.window.showQuickPick(items, {
          title: step(2),
          placeHolder: stackSummary(plan.stack),
          ignoreFocusOut: true,
        });
        if (!c) return false;
        if (c === diff) {
          const doc = await vscode.workspace.openTextDocument({ content: combinedDiff(plan) || '# no changes\n', language: 'diff' });
          await vscode.window.showTextDocument(doc, { preview: true });
          continue;
        }
        if (c === force) {
          choices = { ...choices, force: true };
          plan = (await this.dryRun(folder, choices)).data!;
          continue;
        }
        break;
      }

      const env = await this.runner.run<InitData>({
        title: 'DevGPU: writing the dev container configuration',
        args: initArgs(folder, choices, false),
        cwd: folder,
        cancellable: false,
      });
      const done = env.data!;
      this.output.info(`init: ${changeSummary(done.files, true)} (${stackSummary(done.stack)})`);
      for (const w of [...(done.warnings ?? []), ...(done.stack.warnings ?? [])]) this.output.info(`warning: ${w}`);
      await openFiles(folder, filesToOpen(done));
      void vscode.window
        .showInformationMessage(`DevGPU: ${capitalize(changeSummary(done.files, true))}. ${stackSummary(done.stack)}.`, TITLES.reopen, TITLES.verify)
        .then((c) => {
          if (c === TITLES.reopen) void this.reopen(folder);
          else if (c === TITLES.verify) void this.verify(folder);
        });
      return true;
    } catch (e) {
      await showError(e, TITLES.init, this.output);
      return false;
    }
  }

  private dryRun(folder: string, choices: InitChoices) {
    return this.runner.run<InitData>({
      title: 'DevGPU: choosing a CUDA stack for this project',
      args: initArgs(folder, choices, true),
      cwd: folder,
    });
  }

  // ----- Start and Verify GPU Container --------------------------------------------------------------------------

  async verify(folderArg?: string): Promise<void> {
    const folder = folderArg ?? (await pickFolder(TITLES.verify));
    if (!folder || !(await requireTrust(TITLES.verify))) return;
    if (!(await this.ensureConfig(folder, TITLES.verify))) return;
    try {
      const env = await this.runner.run<VerifyData>({
        title: 'DevGPU: starting and verifying the GPU container',
        args: ['verify', folder],
        cwd: folder,
      });
      const checks = checksOf(env.data);
      this.state.setVerify(checks);
      this.output.info(`verify: ${countSummary(checks)}`);
      const name = env.data?.container?.containerName ? ` (${env.data.container.containerName})` : '';
      for (const w of env.data?.container?.warnings ?? []) this.output.info(`warning: ${w}`);
      if (env.outcome === 'success') {
        const c = await vscode.window.showInformationMessage(`GPU container verified${name}: ${countSummary(checks)}.`, TITLES.reopen, 'Show Checks');
        if (c === TITLES.reopen) await this.reopen(folder);
        else if (c === 'Show Checks') await this.showChecks();
      } else {
        const first = checks.find((x) => x.status === 'fail');
        const c = await vscode.window.showErrorMessage(
          `${TITLES.verify}${name}: ${countSummary(checks)}.${first ? ` ${first.summary}${first.fix ? ` — fix: ${first.fix}` : ''}` : ''}`,
          'Show Checks',
          'Show Logs',
        );
        if (c === 'Show Checks') await this.showChecks();
        else if (c === 'Show Logs') this.output.show();
      }
    } catch (e) {
      await showError(e, TITLES.verify, this.output);
    }
  }

  // ----- Reopen in GPU Container ---------------------------------------------------------------------------------

  async reopen(folderArg?: string): Promise<void> {
    if (vscode.env.remoteName === 'dev-container') {
      void vscode.window.showInformationMessage('DevGPU: this window is already inside a dev container.');
      return;
    }
    const folder = folderArg ?? (await pickFolder(TITLES.reopen));
    if (!folder || !(await requireTrust(TITLES.reopen))) return;
    if (!(await this.ensureConfig(folder, TITLES.reopen))) return;

    if (!vscode.extensions.getExtension(DEV_CONTAINERS_ID)) {
      await this.devContainersMissing(folder);
      return;
    }
    if (!(await this.up(folder))) return;
    this.output.info(`handing over to Dev Containers: remote-containers.reopenInContainer`);
    try {
      await vscode.commands.executeCommand('remote-containers.reopenInContainer');
    } catch (e) {
      await showError(e, TITLES.reopen, this.output);
    }
  }

  /** `devgpu up`; true when the container runs. A repository's initializeCommand runs only after the user allows it. */
  private async up(folder: string, allowHostCommands = false): Promise<boolean> {
    const args = allowHostCommands ? withHostCommandsAllowed(['up', folder]) : ['up', folder];
    try {
      const env = await this.runner.run<UpData>({ title: 'DevGPU: starting the GPU container', args, cwd: folder });
      const d: Partial<UpData> = env.data ?? {};
      this.output.info(
        `up: container ${d.containerName ?? d.containerId ?? '?'} ${d.reused ? 'reused' : 'started'} from ${d.image ?? '?'}` +
          (d.gpu ? ` (GPU requested ${JSON.stringify(d.gpu.request ?? d.gpu.requested)}, granted ${JSON.stringify(d.gpu.granted)})` : ''),
      );
      for (const w of d.warnings ?? []) this.output.info(`warning: ${w}`);
      return true;
    } catch (e) {
      const question = allowHostCommands ? undefined : hostCommandQuestion(e);
      if (question) {
        const allow = 'Allow and Run';
        const c = await vscode.window.showWarningMessage(question.message, { modal: true, detail: question.detail }, allow);
        if (c === allow) return this.up(folder, true);
        this.output.info('initializeCommand not allowed: the container was not started');
        return false;
      }
      await showError(e, TITLES.reopen, this.output);
      return false;
    }
  }

  private async devContainersMissing(folder: string): Promise<void> {
    const manual = manualSteps(folder);
    this.output.info('Dev Containers extension not installed; steps to do by hand:');
    for (const l of manual) this.output.info(`  ${l}`);
    const install = 'Install Dev Containers';
    const only = 'Start Container Only';
    const steps = 'Show Manual Steps';
    const c = await vscode.window.showWarningMessage(
      `${TITLES.reopen} needs the Dev Containers extension (${DEV_CONTAINERS_ID}), which is not installed. ` +
        `Install it and run this command again, or by hand: run "devgpu up ${folder}", then "Dev Containers: Reopen in Container" (it reuses devgpu's container).`,
      install,
      only,
      steps,
    );
    if (c === install) {
      try {
        await vscode.commands.executeCommand('workbench.extensions.installExtension', DEV_CONTAINERS_ID);
        void vscode.window.showInformationMessage(`Dev Containers installed. Run "DevGPU: ${TITLES.reopen}" again.`);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        this.output.info(`installing ${DEV_CONTAINERS_ID} failed: ${msg}`);
        void vscode.window.showErrorMessage(
          `Could not install ${DEV_CONTAINERS_ID} here (${msg}). It is published on the Visual Studio Marketplace only: in desktop VS Code run "code --install-extension ${DEV_CONTAINERS_ID}".`,
        );
      }
    } else if (c === only) {
      if (await this.up(folder)) {
        void vscode.window.showInformationMessage(`DevGPU: the GPU container for ${path.basename(folder)} is running. Attach with "Dev Containers: Reopen in Container" once the extension is installed.`);
      }
    } else if (c === steps) {
      this.output.show();
    }
  }

  /** A configuration exists, or the user lets init write one now. */
  private async ensureConfig(folder: string, action: string): Promise<boolean> {
    if (hasDevcontainerConfig(folder)) return true;
    const add = 'Add Configuration';
    const c = await vscode.window.showInformationMessage(
      `${action}: ${path.basename(folder)} has no dev container configuration yet. Let devgpu write one?`,
      add,
    );
    if (c !== add) return false;
    return this.addConfig(folder);
  }
}

export function manualSteps(folder: string): string[] {
  return [
    `1. devgpu up ${folder}       (builds and starts the GPU container with the labels Dev Containers looks for)`,
    `2. install the Dev Containers extension: code --install-extension ${DEV_CONTAINERS_ID}`,
    '3. in VS Code: "Dev Containers: Reopen in Container" (it finds and reuses the running container)',
    `   or without VS Code's extension: npx @devcontainers/cli up --workspace-folder ${folder}`,
  ];
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The folder of the active editor, else the first workspace folder. */
function activeFolder(): string | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  const f = (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
  return f?.uri.scheme === 'file' ? f.uri.fsPath : undefined;
}

async function pickFolder(action: string): Promise<string | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (folders.length === 0) {
    void vscode.window.showErrorMessage(`${action}: open a folder first (File › Open Folder…).`);
    return undefined;
  }
  if (folders.length === 1) return folders[0].uri.fsPath;
  const f = await vscode.window.showWorkspaceFolderPick({ placeHolder: `${action}: which folder?` });
  return f?.uri.fsPath;
}

async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const c = await vscode.window.showWarningMessage(
    `${action} builds and runs this folder's dev container, so it needs a trusted workspace.`,
    manage,
  );
  if (c === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

async function pickStack(plan: InitData): Promise<InitChoices | undefined> {
  const stack = plan.stack;
  const title = 'Add GPU Dev Container Configuration: stack';
  const fw = await vscode.window.showQuickPick(
    frameworkOptions(stack).map((o) => ({ label: o.label, description: o.description, value: o.value })),
    { title: `${title} (framework)`, placeHolder: 'Framework', ignoreFocusOut: true },
  );
  if (!fw) return undefined;
  const cuda = await vscode.window.showQuickPick(
    cudaOptions(stack).map((o) => ({ label: o.label, description: o.description, value: o.value })),
    { title: `${title} (CUDA)`, placeHolder: 'CUDA version of the image (devgpu checks it against the framework and driver)', ignoreFocusOut: true },
  );
  if (!cuda) return undefined;
  const py = await vscode.window.showQuickPick(
    pythonOptions(stack).map((o) => ({ label: o.label, description: o.description, value: o.value })),
    { title: `${title} (Python)`, placeHolder: 'Python version', ignoreFocusOut: true },
  );
  if (!py) return undefined;
  return { framework: fw.value, cuda: cuda.value, python: py.value };
}

async function openFiles(folder: string, rel: string[]): Promise<void> {
  let first = true;
  for (const r of rel) {
    const uri = vscode.Uri.file(path.join(folder, r));
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: !first, viewColumn: vscode.ViewColumn.Active });
      first = false;
    } catch {
      /* not there (e.g. skipped); nothing to open */
    }
  }
  // Show devcontainer.json in front.
  if (rel.length > 1) {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === path.join(folder, rel[0]));
    if (doc) await vscode.window.showTextDocument(doc, { preview: false });
  }
}
