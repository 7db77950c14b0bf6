import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load-config.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { registerConfigCommand } from './config-command.js';
import { registerDemoCommand } from './demo-command.js';
import { CliError, EXIT, processIO, type CliIO } from './io.js';
import { registerInboxCommand } from './inbox-command.js';
import { registerParseCommand } from './parse-command.js';
import { registerReconcileCommand } from './reconcile-command.js';
import { registerRemindCommand } from './remind-command.js';
import { registerReplayCommand } from './replay-command.js';
import { registerReportCommand } from './report-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerSimulateCommand } from './simulate-command.js';
import { registerTemplatesCommand } from './templates-command.js';
import { registerWorkerCommand } from './worker-command.js';
import { registerWorkflowCommand } from './workflow-command.js';

function version(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('scale-bot')
    .description(
      'Scale Engagement Request bot: parse, validate, qualify and route CSE engagement requests filed as GitLab issues.',
    )
    .version(version())
    .option(
      '-c, --config <file>',
      "configuration file (default: $SCALE_BOT_CONFIG; else, for commands that talk to GitLab, .gitlab/scale-bot.yml on the project's default branch, and for the others .gitlab/scale-bot.yml here, else the bundled example)",
    )
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 problems found (invalid request, stale templates), 2 bad usage or invalid configuration.',
    );
  // In the order `--help` lists them.
  const commands = [
    registerParseCommand,
    registerTemplatesCommand,
    registerConfigCommand,
    registerServeCommand,
    registerWorkerCommand,
    registerInboxCommand,
    registerReconcileCommand,
    registerReplayCommand,
    registerReportCommand,
    registerRemindCommand,
    registerSimulateCommand,
    registerDemoCommand,
    registerWorkflowCommand,
  ];
  for (const register of commands) register(program, io, setExit);
  return program;
}

/** Runs the CLI and returns its exit code; never calls process.exit, so tests can use it. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = Math.max(code, c);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not failures; everything else commander rejects is bad usage.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (err instanceof ConfigError) {
      io.stderr(`${err.describe()}\n`);
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      io.stderr(`scale-bot: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

export async function main(): Promise<void> {
  // The reader went away (`scale-bot inbox list | head`): stop quietly, as other Unix tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(EXIT.ok);
  });
  process.exitCode = await run(process.argv.slice(2), processIO());
}

// Run as a script (`node dist/cli/main.js serve`), it behaves like the `scale-bot` bin instead of
// exiting silently; imported (by the bin, by tests), it only exports.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href)
  await main();
