import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Period } from '../domain/report-period.js';
import { createProgress } from '../jobs/progress.js';
import { runReport, type ReportJobResult } from '../jobs/report-job.js';
import { EXIT, type CliIO } from './io.js';
import { jobFailed, JOB_ENVIRONMENT, jobSession } from './job-session.js';
import { periodFrom } from './period-option.js';

interface ReportOpts {
  period: string;
  from?: string;
  to?: string;
  out?: string;
  post?: boolean;
  dryRun?: boolean;
}

function printResult(io: CliIO, opts: ReportOpts, period: Period, result: ReportJobResult): void {
  if (!opts.out && !opts.post) io.stdout(result.markdown);
  for (const f of result.files) io.stdout(`wrote ${f}\n`);
  if (result.posted)
    io.stdout(`${result.posted.action}: "${result.posted.title}"${result.posted.url ? ` ${result.posted.url}` : ''}\n`);
  const opened = result.report.opened.total;
  io.stdout(`${period.label}: ${opened} request(s) opened\n`);
}

export function registerReportCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('report')
    .description('the programme report for a period: requests, funnel, times, CSE load, SLA breaches, problems, risks')
    .option('--period <period>', 'the last complete "week" (ISO, Monday to Sunday, UTC) or "month"', 'week')
    .option('--from <date>', 'first day of a custom period (YYYY-MM-DD, with --to)')
    .option('--to <date>', 'last day of a custom period, included (YYYY-MM-DD, with --from)')
    .option('--out <dir>', 'write report.md, report.json and report.csv into this directory')
    .option('--post', "create the period's report issue in the project, or update it if it exists")
    .option('--dry-run', 'with --post: say what would be posted, post nothing')
    .addHelpText('after', `\nWithout --out or --post, the Markdown report is printed.\n${JOB_ENVIRONMENT}`)
    .action(async (opts: ReportOpts, command: Command) => {
      const period = periodFrom(opts, command.getOptionValueSource('period') === 'cli', io.now());
      const { config, logger, gitlab } = await jobSession(program, io);
      try {
        const result = await runReport(
          gitlab.client,
          config,
          {
            period,
            outDir: opts.out ? resolve(io.cwd, opts.out) : null,
            post: Boolean(opts.post),
            dryRun: Boolean(opts.dryRun),
            now: io.now(),
          },
          createProgress('report', io.terminal, logger),
        ).catch(jobFailed('report'));
        printResult(io, opts, period, result);
      } finally {
        await gitlab.stop();
      }
      setExit(EXIT.ok);
    });
}
