// JSON Lines events from the CLI's stderr → progress notification text and output channel lines. No `vscode` import.
//
// The event payloads are `{"type": "progress" | "log" | "check", "data": {…}}`; `data`'s fields differ by command,
// so this reads the common ones (message/step/phase, current/total, level, and a check's id/status/summary) and
// falls back to the compact JSON for anything else.

import { CliEvent, isCheck } from './types';
import { checkLine } from './status';

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A short message for the progress notification, or undefined when the event does not change it. */
export function progressMessage(e: CliEvent): string | undefined {
  const d = e.data;
  if (e.type === 'progress') {
    const msg = str(d.message) ?? str(d.step) ?? str(d.stage) ?? str(d.phase) ?? str(d.status) ?? str(d.name);
    const cur = num(d.current) ?? num(d.done) ?? num(d.step_index) ?? num(d.index);
    const tot = num(d.total);
    const frac = cur !== undefined && tot ? ` (${cur}/${tot})` : '';
    return msg ? truncate(msg + frac, 100) : frac ? `working${frac}` : undefined;
  }
  if (e.type === 'check' && isCheck(d)) {
    return truncate(checkLine({ ...d, fix: undefined }), 100);
  }
  return undefined;
}

/** The fraction done (0..1) when the event carries one. */
export function progressFraction(e: CliEvent): number | undefined {
  if (e.type !== 'progress') return undefined;
  const d = e.data;
  const pct = num(d.percent);
  if (pct !== undefined) return clamp(pct / 100);
  const cur = num(d.current) ?? num(d.done);
  const tot = num(d.total);
  if (cur !== undefined && tot) return clamp(cur / tot);
  return undefined;
}

function clamp(x: number): number {
  return Math.max(0, Math.min(1, x));
}

function truncate(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length <= n ? one : `${one.slice(0, n - 1)}…`;
}

/**
 * Converts fractions into the increments VS Code's progress API wants (it adds them up), never going backwards
 * and never past 100.
 */
export class IncrementTracker {
  private reported = 0;
  next(fraction: number | undefined): number | undefined {
    if (fraction === undefined) return undefined;
    const target = Math.round(fraction * 100);
    if (target <= this.reported) return undefined;
    const inc = target - this.reported;
    this.reported = target;
    return inc;
  }
}

/** How an event reads in the output channel. */
export function eventLogLine(e: CliEvent): string {
  const d = e.data;
  if (e.type === 'log') {
    // devgpu writes `{"source": "build", "line": "…"}` (a line of the image build or a lifecycle command).
    const tag = str(d.source) ?? str(d.level);
    const msg = typeof d.line === 'string' ? d.line : str(d.message) ?? str(d.text) ?? JSON.stringify(d);
    return tag ? `[${tag}] ${msg}` : msg;
  }
  if (e.type === 'check' && isCheck(d)) return checkLine(d);
  const m = progressMessage(e);
  return m ? `… ${m}` : `… ${JSON.stringify(d)}`;
}
