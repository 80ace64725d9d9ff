// The choices of "Add GPU Dev Container Configuration", seeded from a dry run, and the arguments they become.
// No `vscode` import.

import { InitData, InitFile, InitStack } from './types';

export type Framework = 'auto' | 'pytorch' | 'tensorflow' | 'jax' | 'none';

export interface InitChoices {
  framework?: Framework;
  cuda?: string;
  python?: string;
  force?: boolean;
}

const FRAMEWORK_NAMES: Record<string, string> = { pytorch: 'PyTorch', tensorflow: 'TensorFlow', jax: 'JAX' };

/** `CUDA 12.4.1 (base) · Ubuntu 22.04 · Python 3.10 · PyTorch 2.6 (cu124)`. */
export function stackSummary(stack: InitStack): string {
  const parts = [`CUDA ${stack.cudaFull ?? stack.cuda}${stack.flavor ? ` (${stack.flavor})` : ''}`];
  if (stack.ubuntu) parts.push(`Ubuntu ${stack.ubuntu}`);
  parts.push(`Python ${stack.python}`);
  const fw = stack.framework;
  if (fw) parts.push(`${FRAMEWORK_NAMES[fw.name] ?? fw.name} ${fw.version}${fw.wheelVariant ? ` (${fw.wheelVariant})` : ''}`);
  else parts.push('no framework');
  return parts.join(' · ');
}

const VERB: Record<InitFile['action'], [string, string]> = {
  created: ['create', 'created'],
  updated: ['update', 'updated'],
  unchanged: ['keep', 'unchanged'],
  skipped: ['skip', 'skipped'],
};

/** `create .devcontainer/devcontainer.json, update .dockerignore` (files that change only, in the CLI's order). */
export function changeSummary(files: InitFile[], done = false): string {
  const changing = files.filter((f) => f.action === 'created' || f.action === 'updated');
  if (changing.length === 0) return 'nothing to change';
  return changing.map((f) => `${VERB[f.action][done ? 1 : 0]} ${f.path}`).join(', ');
}

export function hasChanges(data: InitData): boolean {
  return data.files.some((f) => f.action === 'created' || f.action === 'updated');
}

/** Files the CLI left alone because it did not write them (a hand-written Dockerfile): `--force` replaces them. */
export function skippedFiles(data: InitData): InitFile[] {
  return data.files.filter((f) => f.action === 'skipped');
}

/** Every file's diff, one after another (a dry run's `files[].diff`). */
export function combinedDiff(data: InitData): string {
  return data.files
    .map((f) => f.diff ?? '')
    .filter((d) => d.length > 0)
    .map((d) => (d.endsWith('\n') ? d : `${d}\n`))
    .join('');
}

/** `devgpu init` arguments for a folder and the user's choices (global flags such as --json are added by the client). */
export function initArgs(folder: string, choices: InitChoices, dryRun: boolean): string[] {
  const args = ['init', folder];
  if (dryRun) args.push('--dry-run');
  if (choices.framework && choices.framework !== 'auto') args.push('--framework', choices.framework);
  if (choices.cuda) args.push('--cuda', choices.cuda);
  if (choices.python) args.push('--python', choices.python);
  if (choices.force) args.push('--force');
  return args;
}

export interface Option<T> {
  value: T;
  label: string;
  description?: string;
  /** The dry run's own choice. */
  recommended?: boolean;
}

/** Framework options, the dry run's first. */
export function frameworkOptions(stack: InitStack): Option<Framework>[] {
  const detected = stack.framework?.name;
  const all: Option<Framework>[] = [
    { value: 'pytorch', label: 'PyTorch' },
    { value: 'tensorflow', label: 'TensorFlow' },
    { value: 'jax', label: 'JAX' },
    { value: 'none', label: 'No framework', description: 'CUDA and Python only' },
  ];
  for (const o of all) {
    if (o.value === detected || (o.value === 'none' && !detected)) {
      o.recommended = true;
      o.description = stack.framework ? `${stack.framework.version}${stack.framework.wheelVariant ? ` (${stack.framework.wheelVariant})` : ''} — from the project` : 'from the project';
    }
  }
  return [...all.filter((o) => o.recommended), ...all.filter((o) => !o.recommended)];
}

/** CUDA lines with living `nvidia/cuda` images (DESIGN.md §3), newest first; the dry run's choice first. */
export const CUDA_LINES = ['13.0', '12.9', '12.8', '12.6', '12.5', '12.4', '12.3', '12.2', '12.1', '12.0', '11.8'];
/** Python versions offered; the CLI decides whether the image can have them. */
export const PYTHON_VERSIONS = ['3.13', '3.12', '3.11', '3.10', '3.9'];

function seeded(values: string[], current: string | undefined, what: string): Option<string>[] {
  const list = current && !values.includes(current) ? [current, ...values] : [...values];
  const opts: Option<string>[] = list.map((v) => ({ value: v, label: `${what} ${v}`, recommended: v === current }));
  for (const o of opts) if (o.recommended) o.description = 'recommended for this project';
  return [...opts.filter((o) => o.recommended), ...opts.filter((o) => !o.recommended)];
}

export function cudaOptions(stack: InitStack): Option<string>[] {
  return seeded(CUDA_LINES, stack.cuda, 'CUDA');
}

export function pythonOptions(stack: InitStack): Option<string>[] {
  return seeded(PYTHON_VERSIONS, stack.python, 'Python');
}

/**
 * The choices as flags, leaving out any that equal the dry run's own resolution (so the CLI keeps resolving
 * the rest from the project, e.g. the wheel variant for a chosen CUDA).
 */
export function effectiveChoices(stack: InitStack, picked: InitChoices): InitChoices {
  const out: InitChoices = {};
  const fw = stack.framework?.name ?? 'none';
  if (picked.framework && picked.framework !== 'auto' && picked.framework !== fw) out.framework = picked.framework;
  if (picked.cuda && picked.cuda !== stack.cuda) out.cuda = picked.cuda;
  if (picked.python && picked.python !== stack.python) out.python = picked.python;
  if (picked.force) out.force = true;
  return out;
}

/** The written files to open afterwards: devcontainer.json first, then the Dockerfile. */
export function filesToOpen(data: InitData): string[] {
  const order = (p: string) => (p.endsWith('devcontainer.json') ? 0 : /Dockerfile$/.test(p) ? 1 : 2);
  return data.files
    .filter((f) => f.action === 'created' || f.action === 'updated')
    .map((f) => f.path)
    .filter((p) => order(p) < 2)
    .sort((a, b) => order(a) - order(b));
}
