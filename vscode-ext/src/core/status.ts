// The status bar's view of the GPU host, computed from the last doctor result. No `vscode` import.

import { DevgpuError } from './errors';
import { Check, DoctorData, GpuFacts, HostFacts, checksOf, isObject } from './types';

export type HostState = 'ok' | 'warn' | 'fail' | 'unknown';

export interface HostStatus {
  state: HostState;
  /** e.g. `GPU ✓ H200 · driver 580`, `GPU ✗ toolkit`, `GPU ?`. */
  text: string;
  /** One line per check (or the error), for the hover. */
  tooltip: string;
}

export const NOT_CHECKED: HostStatus = {
  state: 'unknown',
  text: 'GPU ?',
  tooltip: 'DevGPU: the GPU host has not been checked yet. Click to run "Check GPU Host".',
};

/**
 * The layer a check belongs to, as the status bar names it. Specific ids first (`gpu.kernel-module` is the driver,
 * `docker.nvidia-runtime` is Docker's runtime registration), then the id's first segment (`toolkit.installed` → toolkit).
 */
const ID_LAYERS: [RegExp, string][] = [
  [/^gpu\.(kernel-module|nvml|driver|driver-library)\b/, 'driver'],
  [/^gpu\.device-nodes\b/, '/dev/nvidia*'],
  [/^gpu\.(devices?|present|count)\b/, 'no GPU'],
  [/^docker\.(nvidia-runtime|default-runtime)\b/, 'nvidia runtime'],
  [/^docker\.restarted\b/, 'docker restart'],
];
const LAYER_WORDS: Record<string, string> = {
  gpu: 'GPU',
  gpus: 'GPU',
  nvml: 'driver',
  driver: 'driver',
  kernel: 'driver',
  toolkit: 'toolkit',
  'nvidia-container-toolkit': 'toolkit',
  runtime: 'nvidia runtime',
  docker: 'docker',
  daemon: 'daemon.json',
  'daemon-json': 'daemon.json',
  daemonjson: 'daemon.json',
  cdi: 'CDI',
  cgroup: 'cgroups',
  image: 'image',
  compat: 'CUDA',
  cuda: 'CUDA',
  probe: 'probe',
  project: 'project',
};

/** Layers that fail only because another one did: they are not named on their own. */
const CONSEQUENCES: Record<string, string[]> = {
  driver: ['no GPU', '/dev/nvidia*', 'CUDA'],
  toolkit: ['nvidia runtime', 'docker restart', 'CDI'],
  docker: ['nvidia runtime', 'docker restart', 'probe'],
};

export function layerOf(check: Check): string {
  for (const [re, word] of ID_LAYERS) if (re.test(check.id)) return word;
  const seg = check.id.split(/[.:/]/)[0].toLowerCase();
  return LAYER_WORDS[seg] ?? seg;
}

/** `NVIDIA H200` → `H200`, `NVIDIA GeForce RTX 4090` → `RTX 4090`, `Tesla T4` → `T4`. */
export function shortGpuName(name: string): string {
  let s = name.trim();
  s = s.replace(/^NVIDIA\s+/i, '');
  s = s.replace(/^(GeForce|Tesla|Quadro)\s+/i, '');
  return s || name.trim();
}

/** `580.159.04` → `580`. */
export function driverMajor(v: string): string {
  const m = /^(\d+)/.exec(v.trim());
  return m ? m[1] : v.trim();
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** The GPUs in doctor's host facts (tolerant of where they sit: `host.gpus`, `host.gpu.gpus`, `host.nvml.gpus`). */
export function gpusOf(host: HostFacts | undefined): GpuFacts[] {
  if (!isObject(host)) return [];
  const candidates: unknown[] = [host.gpus, isObject(host.gpu) ? host.gpu.gpus : undefined, isObject(host.nvml) ? host.nvml.gpus : undefined];
  for (const c of candidates) {
    if (Array.isArray(c)) return c.filter(isObject) as GpuFacts[];
  }
  return [];
}

/** The driver version from the host facts or its first GPU. */
export function driverOf(host: HostFacts | undefined): string | undefined {
  if (!isObject(host)) return undefined;
  const d = host.driver;
  const fromHost = str(d) ?? (isObject(d) ? str(d.version) ?? str(d.userSpace) ?? str(d.library) : undefined) ?? str(host.driverVersion);
  if (fromHost) return fromHost;
  for (const g of gpusOf(host)) {
    const v = str(g.driver) ?? str(g.driverVersion);
    if (v) return v;
  }
  return undefined;
}

/** `H200`, `2× H200`, `H200 +1` for mixed GPUs; undefined without GPUs. */
export function gpuLabel(gpus: GpuFacts[]): string | undefined {
  const names = gpus.map((g) => str(g.name)).filter((n): n is string => !!n).map(shortGpuName);
  if (names.length === 0) return undefined;
  if (names.every((n) => n === names[0])) return names.length === 1 ? names[0] : `${names.length}× ${names[0]}`;
  return `${names[0]} +${names.length - 1}`;
}

const MARK: Record<Check['status'], string> = { pass: '✓', warn: '!', fail: '✗', skip: '–' };

export function checkLine(c: Check): string {
  return `${MARK[c.status]} ${c.summary}${c.fix && c.status !== 'pass' ? `\n    fix: ${c.fix}` : ''}`;
}

/** Failures first, then warnings, then the rest, each group in the CLI's order. */
export function sortChecks(checks: Check[]): Check[] {
  const rank: Record<Check['status'], number> = { fail: 0, warn: 1, pass: 2, skip: 3 };
  return checks.map((c, i) => ({ c, i })).sort((a, b) => rank[a.c.status] - rank[b.c.status] || a.i - b.i).map((x) => x.c);
}

/** The distinct layers of some checks, in order, without those that only follow from an earlier one. */
export function layersOf(checks: Check[]): string[] {
  const out: string[] = [];
  for (const c of checks) {
    const l = layerOf(c);
    if (!out.includes(l)) out.push(l);
  }
  const implied = new Set(out.flatMap((l) => CONSEQUENCES[l] ?? []));
  const roots = out.filter((l) => !implied.has(l));
  return roots.length > 0 ? roots : out;
}

/** The status bar text and hover for a doctor result. */
export function statusFromDoctor(data: DoctorData | undefined, when?: Date): HostStatus {
  const checks = checksOf(data);
  const host = data?.host;
  const fails = checks.filter((c) => c.status === 'fail');
  const warns = checks.filter((c) => c.status === 'warn');
  const gpu = gpuLabel(gpusOf(host));
  const driver = driverOf(host);
  const ident = [gpu, driver ? `driver ${driverMajor(driver)}` : undefined].filter(Boolean).join(' · ');

  let state: HostState;
  let text: string;
  if (fails.length > 0) {
    const layers = layersOf(fails);
    state = 'fail';
    text = `GPU ✗ ${layers[0]}${layers.length > 1 ? ` +${layers.length - 1}` : ''}`;
  } else if (warns.length > 0) {
    const layers = layersOf(warns);
    state = 'warn';
    text = ident ? `GPU ! ${ident}` : `GPU ! ${layers[0]}`;
  } else if (checks.length > 0) {
    state = 'ok';
    text = ident ? `GPU ✓ ${ident}` : 'GPU ✓';
  } else {
    state = 'unknown';
    text = 'GPU ?';
  }

  const head =
    state === 'fail'
      ? `DevGPU: ${fails.length} of ${checks.length} host checks failed`
      : state === 'warn'
        ? `DevGPU: GPU host usable, ${warns.length} warning${warns.length === 1 ? '' : 's'}`
        : state === 'ok'
          ? `DevGPU: GPU host OK (${checks.length} checks passed)`
          : 'DevGPU: doctor returned no checks';
  const lines = [head + (when ? ` — ${when.toLocaleString()}` : '')];
  if (ident) lines.push(ident);
  for (const c of sortChecks(checks).filter((c) => c.status !== 'pass')) lines.push(checkLine(c));
  lines.push('Click to run "Check GPU Host" again.');
  return { state, text, tooltip: lines.join('\n') };
}

/** The status bar when doctor could not run at all. */
export function statusFromError(err: DevgpuError): HostStatus {
  const text = err.kind === 'not-found' || err.kind === 'too-old' ? 'GPU ? devgpu missing' : 'GPU ?';
  return { state: 'unknown', text, tooltip: `DevGPU: could not check the GPU host: ${err.message}\nClick to try again.` };
}

/** Counts for a one-line summary, e.g. `2 failed, 1 warning, 9 passed`. */
export function countSummary(checks: Check[]): string {
  const n = (s: Check['status']) => checks.filter((c) => c.status === s).length;
  const parts: string[] = [];
  if (n('fail')) parts.push(`${n('fail')} failed`);
  if (n('warn')) parts.push(`${n('warn')} warning${n('warn') === 1 ? '' : 's'}`);
  if (n('pass')) parts.push(`${n('pass')} passed`);
  if (n('skip')) parts.push(`${n('skip')} skipped`);
  return parts.join(', ') || 'no checks';
}

/**
 * The shell command in a fix, if it has one: the first `backticked` span of a prose fix ("Install the toolkit:
 * `sudo apt-get install -y nvidia-container-toolkit`"), or the whole fix when every line reads as a command
 * (starts with a lower-case word or a path, and is not a sentence ending in a period).
 */
export function commandOfFix(fix: string | null | undefined): string | undefined {
  if (!fix) return undefined;
  const f = fix.trim();
  if (!f) return undefined;
  const tick = /`([^`]+)`/.exec(f);
  if (tick) return tick[1].trim() || undefined;
  const lines = f.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const prose = (l: string) => /\b(the|a|an|your|this|then|to|of|with|from|into)\b/.test(l) || /^\S+ \S+: /.test(l);
  const looksLikeCommand = (l: string) =>
    /^(sudo\s+)?[a-z0-9_./~$-][\w./~$-]*(\s|$)/.test(l) && !/[.!]$/.test(l) && (/^sudo\s/.test(l) || !prose(l));
  return lines.length > 0 && lines.every(looksLikeCommand) ? f : undefined;
}
