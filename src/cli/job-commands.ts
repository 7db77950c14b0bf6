import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../config/load-config.js';
import { ConfigSource } from '../config/config-source.js';
import { GitLabHttpError } from '../gitlab/errors.js';
import { openGitLab } from '../jobs/gitlab-session.js';
import { createProgress } from '../jobs/progress.js';
import { runRemind } from '../jobs/remind-job.js';
import { runReport } from '../jobs/report-job.js';
import { createLogger } from '../service/logger.js';
import { CliError, EXIT, type CliIO } from './io.js';
import { periodFrom } from './period-option.js';
import { registerSimulateCommand } from './simulate-command.js';
import { settingsOrExit } from './settings.js';

const ENVIRONMENT =
  "\nEnvironment: GITLAB_URL, GITLAB_TOKEN (the bot user's token, api scope), GITLAB_PROJECT (id or group/project), " +
  "optional SCALE_BOT_CONFIG (a local configuration file instead of .gitlab/scale-bot.yml on the project's default branch), LOG_LEVEL (default info; logs go to stderr), GITLAB_REQUESTS_PER_MINUTE (2000), GITLAB_NOTES_PER_MINUTE (60), GITLAB_SEARCHES_PER_MINUTE (30). " +
  "Reads GitLab only, never the service's data directory, so it runs the same from a fresh CI job.";

/** The jobs that read GitLab: `report`, `remind` and `simulate` (reconcile lives with the service commands). */
export function registerJobCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  /** The connection alone: `simulate` reads its two configurations itself. */
  const connect = async (withConfig: boolean) => {
    const { settings, config } = settingsOrExit(program, io, { webhook: false });
    const logger = createLogger(io.env.LOG_LEVEL || 'info', 2);
    try {
      const gitlab = await openGitLab(settings, logger);
      return {
        config:
          withConfig && config === 'repository'
            ? (await ConfigSource.fromRepository(gitlab.client, logger)).config
            : config,
        logger,
        gitlab,
      };
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      if (err instanceof GitLabHttpError && err.status === 401)
        throw new CliError(
          `GitLab at ${settings.gitlabUrl} refused the token (401): check GITLAB_TOKEN`,
          EXIT.problems,
        );
      throw new CliError(`cannot reach GitLab at ${settings.gitlabUrl}: ${(err as Error).message}`, EXIT.problems);
    }
  };
  const session = async () => {
    const { config, ...rest } = await connect(true);
    if (config === 'repository') throw new Error('unreachable: the configuration was read above');
    return { config, ...rest };
  };
  /** A job that fails part-way (GitLab down past every retry, say) ends with its reason, exit 1. */
  const failed =
    (job: string) =>
    (err: unknown): never => {
      if (err instanceof CliError) throw err;
      throw new CliError(`${job} failed: ${(err as Error).message}`, EXIT.problems);
    };

  program
    .command('report')
    .description('the programme report for a period: requests, funnel, times, CSE load, SLA breaches, problems, risks')
    .option('--period <period>', 'the last complete "week" (ISO, Monday to Sunday, UTC) or "month"', 'week')
    .option('--from <date>', 'first day of a custom period (YYYY-MM-DD, with --to)')
    .option('--to <date>', 'last day of a custom period, included (YYYY-MM-DD, with --from)')
    .option('--out <dir>', 'write report.md, report.json and report.csv into this directory')
    .option('--post', "create the period's report issue in the project, or update it if it exists")
    .option('--dry-run', 'with --post: say what would be posted, post nothing')
    .addHelpText('after', `\nWithout --out or --post, the Markdown report is printed.\n${ENVIRONMENT}`)
    .action(
      async (
        opts: { period: string; from?: string; to?: string; out?: string; post?: boolean; dryRun?: boolean },
        command: Command,
      ) => {
        const period = periodFrom(opts, command.getOptionValueSource('period') === 'cli', io.now());
        const { config, logger, gitlab } = await session();
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
          ).catch(failed('report'));
          if (!opts.out && !opts.post) io.stdout(result.markdown);
          for (const f of result.files) io.stdout(`wrote ${f}\n`);
          if (result.posted)
            io.stdout(
              `${result.posted.action}: "${result.posted.title}"${result.posted.url ? ` ${result.posted.url}` : ''}\n`,
            );
          const opened = result.report.opened.total;
          io.stdout(`${period.label}: ${opened} request(s) opened\n`);
        } finally {
          await gitlab.stop();
        }
        setExit(EXIT.ok);
      },
    );

  program
    .command('remind')
    .description(
      'SLA reminders: one note per person on the reminders issue, each breach reminded once, never in quiet hours; requests waiting on their author too long are reminded on the request, then closed',
    )
    .option('--dry-run', 'list what would be sent or closed; write nothing')
    .addHelpText('after', ENVIRONMENT)
    .action(async (opts: { dryRun?: boolean }) => {
      const { config, logger, gitlab } = await session();
      try {
        const result = await runRemind(
          gitlab.client,
          config,
          { dryRun: Boolean(opts.dryRun), now: io.now(), botUsername: gitlab.botUsername },
          createProgress('remind', io.terminal, logger),
        ).catch(failed('remind'));
        const verb = opts.dryRun ? 'would remind' : 'reminded';
        for (const m of result.plan.messages) {
          io.stdout(`${verb} @${m.username}: ${m.items.map((i) => `#${i.iid} ${i.kind}`).join(', ')}\n`);
        }
        for (const h of result.plan.held)
          io.stdout(
            `held for @${h.username} until ${h.until} (quiet time): ${h.items.map((i) => `#${i.iid} ${i.kind}`).join(', ')}\n`,
          );
        for (const w of result.waiting) {
          const what =
            w.action === 'remind'
              ? `${opts.dryRun ? 'would remind' : 'reminded'} the author of #${w.iid}`
              : `${opts.dryRun ? 'would close' : 'closed'} #${w.iid}`;
          io.stdout(`${what}: waiting on @${w.author} since ${w.since}\n`);
        }
        io.stdout(
          `${result.plan.messages.length} person(s) ${verb}, ${result.plan.held.length} held, ${result.plan.alreadySent} reminder(s) already sent earlier` +
            `${result.issueUrl ? ` — ${result.issueUrl}` : ''}\n`,
        );
      } finally {
        await gitlab.stop();
      }
      setExit(EXIT.ok);
    });

  registerSimulateCommand(program, io, setExit, () => connect(false), failed);
}
