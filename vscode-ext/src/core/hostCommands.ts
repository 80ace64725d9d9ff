// A repository's initializeCommand runs on this machine, outside the container, so devgpu runs it only when asked
// (`--allow-host-commands`) and otherwise fails with `host-command-not-allowed`, naming the command. The extension
// turns that failure into a question to the user and, only on an explicit yes, runs the same command again with
// the flag. Plain TypeScript: no `vscode` import.
import { DevgpuError } from './errors';

export const ALLOW_HOST_COMMANDS_FLAG = '--allow-host-commands';

/** What to ask the user: devgpu's own message (file and command) and why it matters. */
export interface HostCommandQuestion {
  message: string;
  detail: string;
}

/** The question to ask when `e` is devgpu refusing to run a host command without consent; else undefined. */
export function hostCommandQuestion(e: unknown): HostCommandQuestion | undefined {
  if (!(e instanceof DevgpuError) || e.kind !== 'cli' || e.code !== 'host-command-not-allowed') return undefined;
  return {
    message: e.message,
    detail:
      'It runs on this machine with your permissions, not in the container. Allow it only if you trust this repository; the answer holds for this run only.',
  };
}

/** The same devgpu arguments with host commands allowed (the flag once). */
export function withHostCommandsAllowed(args: readonly string[]): string[] {
  return args.includes(ALLOW_HOST_COMMANDS_FLAG) ? [...args] : [...args, ALLOW_HOST_COMMANDS_FLAG];
}
