import { resolve } from 'node:path';
import { run } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output, a fixed day and optional standard input. */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string; today?: string; now?: Date } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => options.stdin ?? '',
    env: options.env ?? {},
    cwd: options.cwd ?? REPO_ROOT,
    today: () => options.today ?? '2026-11-22',
    now: () => options.now ?? new Date(`${options.today ?? '2026-11-22'}T12:00:00Z`),
    terminal: null,
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}
