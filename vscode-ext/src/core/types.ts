// The devgpu CLI's JSON contract (DESIGN.md §1), as the extension reads it. Plain TypeScript: no `vscode` import.
//
// Every `--json` run prints exactly one envelope on stdout; progress goes to stderr as JSON Lines events.
// The shapes come from ./contract.ts, generated from the CLI's Rust types through schema/devgpu-output.schema.json
// (tests/contract.rs keeps both in step). This file adds only what a reader needs on top: the envelope generic in
// its data, and a loose view of the host facts, which the contract leaves open.

/** The envelope schema this extension understands. A CLI that prints another one is refused with a clear message. */
export const SUPPORTED_SCHEMA_VERSION = 1;

import type * as contract from './contract';
import type { Check } from './contract';

export type { Check, DoctorData as ContractDoctorData, InitData, InitFile, UpData, VerifyData } from './contract';
export type Outcome = contract.Outcome;
export type CliErrorInfo = contract.CliError;
export type CheckStatus = contract.Status;
export type FileAction = contract.FileAction;
export type InitFramework = contract.FrameworkStack;
export type InitStack = contract.Stack;
export type CliEventType = contract.Event['type'];
/**
 * One JSON Lines event from stderr as the reader takes it: the `type` of the contract, its `data` still unchecked
 * (stderr lines are read defensively, field by field, so an older or newer devgpu degrades to plain text).
 * What devgpu writes is `contract.Event`.
 */
export interface CliEvent {
  type: CliEventType;
  data: Record<string, unknown>;
}

/** The envelope with its `data` typed by the caller, who knows which command ran. */
export interface Envelope<T = unknown> extends Omit<contract.Envelope, 'data'> {
  data?: T;
}

export interface GpuFacts {
  name?: string;
  driver?: string;
  driverVersion?: string;
  computeCap?: string;
  [key: string]: unknown;
}

/** `doctor`'s host facts (an open object in the contract): only the GPU list and driver are read, for the status bar. */
export interface HostFacts {
  gpus?: GpuFacts[];
  driver?: string | { version?: string; [key: string]: unknown } | null;
  driverVersion?: string;
  [key: string]: unknown;
}

export interface DoctorData extends Omit<contract.DoctorData, 'host'> {
  host?: HostFacts;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isCheck(v: unknown): v is Check {
  return (
    isObject(v) &&
    typeof v.id === 'string' &&
    typeof v.summary === 'string' &&
    (v.status === 'pass' || v.status === 'warn' || v.status === 'fail' || v.status === 'skip')
  );
}

/** The checks of a doctor or verify result, ignoring malformed entries. */
export function checksOf(data: unknown): Check[] {
  if (!isObject(data) || !Array.isArray(data.checks)) return [];
  return data.checks.filter(isCheck);
}
