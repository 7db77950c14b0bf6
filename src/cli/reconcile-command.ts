import type { Command } from 'commander';
import { reconcile, type ReconcileLine } from '../worker/reconcile.js';
import { CliError, EXIT, type CliIO } from './io.js';
import { passDepsOrExplain, SERVICE_ENVIRONMENT } from './service-start.js';
import { settingsOrExit } from './settings.js';

interface ReconcileOpts {
  since?: string;
  settle: string;
  dryRun?: boolean;
}

/** The settle window in minutes, from `--settle`; `--since` checked on the way. */
function checkOptions(opts: ReconcileOpts): number {
  if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since)))
    throw new CliError(`--since must be an ISO date or time, not "${opts.since}"`);
  const settleMinutes = Number(opts.settle);
  if (opts.settle.trim() === '' || !Number.isFinite(settleMinutes) || settleMinutes < 0)
    throw new CliError(`--settle must be a number of minutes (0 or more), not "${opts.settle}"`);
  return settleMinutes;
}

/** One line per issue, then the tally; the number of failed issues. */
function printLines(io: CliIO, lines: ReconcileLine[], dryRun: boolean, settleMinutes: number): number {
  for (const l of lines) io.stdout(`#${l.iid} ${l.outcome}${l.outcome === 'unchanged' ? '' : `: ${l.detail}`}\n`);
  const changed = lines.filter((l) => l.outcome === 'applied' || l.outcome === 'dry-run').length;
  const failed = lines.filter((l) => l.outcome === 'failed').length;
  const settling = lines.filter((l) => l.outcome === 'settling').length;
  io.stdout(
    `${lines.length - settling} issue(s) checked, ${changed} ${dryRun ? 'would change' : 'changed'}, ${failed} failed` +
      `${settling > 0 ? `, ${settling} left to the webhook worker (updated in the last ${settleMinutes} min; --settle 0 takes them too)` : ''}\n`,
  );
  return failed;
}

export function registerReconcileCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('reconcile')
    .description(
      "run the worker's pass over every open request issue (and those updated since --since); print what changed",
    )
    .option('--since <date>', 'also issues updated since this date or time (ISO 8601), open or closed')
    .option(
      '--settle <minutes>',
      'leave issues updated in the last N minutes to the webhook worker, which may be passing them right now (0: take every issue)',
      '10',
    )
    .option(
      '--dry-run',
      'print each write a pass would make, issue by issue (issues with none are unchanged); write nothing to GitLab',
    )
    .addHelpText('after', SERVICE_ENVIRONMENT)
    .action(async (opts: ReconcileOpts) => {
      const settleMinutes = checkOptions(opts);
      const { settings, config } = settingsOrExit(program, io, { webhook: false });
      const pass = await passDepsOrExplain(settings, config, io, opts.dryRun);
      try {
        const lines = await reconcile(
          pass.processDeps,
          { ...(opts.since ? { since: new Date(opts.since).toISOString() } : {}), settleMs: settleMinutes * 60_000 },
          pass.logger,
        );
        const failed = printLines(io, lines, pass.processDeps.dryRun, settleMinutes);
        setExit(failed > 0 ? EXIT.problems : EXIT.ok);
      } finally {
        await pass.stop();
      }
    });
}
