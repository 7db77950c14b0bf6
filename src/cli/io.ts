/** What a command needs from the process, passed in so tests can run commands in-process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Today's date (YYYY-MM-DD) for rules that depend on it. */
  today: () => string;
  /** The current time, for reports and reminders. */
  now: () => Date;
  /** stderr when it is a terminal (progress bars), else null (plain log lines). */
  terminal: NodeJS.WriteStream | null;
}

export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

export function processIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
    today: () => new Date().toISOString().slice(0, 10),
    now: () => new Date(),
    terminal: process.stderr.isTTY ? process.stderr : null,
  };
}

/** A failure the user can fix; carries the exit code and a message without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
