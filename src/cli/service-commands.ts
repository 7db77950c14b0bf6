import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { GitLabHttpError } from '../gitlab/requester.js';
import { isHandledEvent, isOtherWorkItem, parseWebhook } from '../gitlab/webhook-schemas.js';
import { SqliteInbox } from '../queue/sqlite-inbox.js';
import type { Config } from '../domain/config.js';
import { InstanceLockedError } from '../service/instance-lock.js';
import { createLogger, startService, type RunningService, type ServiceOptions } from '../service/service.js';
import type { ServiceSettings } from '../service/settings.js';
import { InboxRefusedError } from '../queue/inbox-identity.js';
import { processIssue } from '../worker/process-issue.js';
import { reconcile } from '../worker/reconcile.js';
import { CliError, EXIT, type CliIO } from './io.js';
import { settingsOrExit } from './settings.js';

/**
 * Resolves on SIGTERM/SIGINT; the caller then shuts down gracefully. Until then it keeps the
 * process alive: the worker's and the store's timers do not (they are unref'd so that tests and
 * one-shot commands can exit), and `scale-bot worker` has no server socket to do it.
 */
export function untilSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const on = (signal: string) => () => {
      clearInterval(keepAlive);
      resolveSignal(signal);
    };
    process.once('SIGTERM', on('SIGTERM'));
    process.once('SIGINT', on('SIGINT'));
  });
}

/**
 * Starts the service (or its one-shot form), explaining what stops it: a data directory another
 * process holds (exit 2), a project configuration GitLab could not give (exit 1); an invalid
 * configuration is a ConfigError, listed problem by problem (exit 2).
 */
async function startOrExplain(
  settings: ServiceSettings,
  config: Config | 'repository',
  options: ServiceOptions,
): Promise<RunningService> {
  try {
    return await startService(settings, config, options);
  } catch (err) {
    if (err instanceof InstanceLockedError) throw new CliError(err.message, EXIT.usage);
    if (err instanceof InboxRefusedError) throw new CliError(`cannot start: ${err.message}`, EXIT.usage);
    if (err instanceof GitLabHttpError)
      throw new CliError(`cannot read the configuration from the project in GitLab: ${err.message}`, EXIT.problems);
    throw err;
  }
}

const FRESH_INBOX = [
  '--fresh-inbox',
  'start with an empty inbox, setting aside (never deleting) the one in the data directory, whatever it is; only when that inbox is lost or unwanted',
] as const;

export function registerServiceCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const environment =
    '\nEnvironment: GITLAB_URL, GITLAB_TOKEN, GITLAB_WEBHOOK_SECRET, GITLAB_PROJECT (id or group/project), ' +
    "optional GITLAB_WEBHOOK_SIGNING_KEY (the hook's signing token; enough without the secret token), SCALE_BOT_CONFIG (a local configuration file instead of .gitlab/scale-bot.yml on the project's default branch, which is followed on every push), SCALE_BOT_DATA (the webhook inbox; default ./data; one serve per directory), HOST, PORT (default 8080), " +
    'DRY_RUN=1, LOG_LEVEL, GITLAB_REQUESTS_PER_MINUTE (2000), GITLAB_NOTES_PER_MINUTE (60), GITLAB_SEARCHES_PER_MINUTE (30), WORKER_CONCURRENCY (16), optional SCALE_BOT_CRM_URL + SCALE_BOT_CRM_TOKEN (CRM sink for CTA records), optional SCALE_BOT_OAUTH_APP_ID + SCALE_BOT_OAUTH_SECRET + SCALE_BOT_PUBLIC_URL + SCALE_BOT_SESSION_SECRET (the status page at /, signed in with GitLab), ' +
    'SCALE_BOT_DURABILITY (process: an acknowledged delivery survives a killed process, the default; power: also a power cut, slower).';

  program
    .command('serve')
    .description(
      'run the webhook server (POST /webhooks/gitlab, /healthz, /readyz, /metrics, the status page at /) with the worker in the same process',
    )
    .option('--no-worker', 'only receive and queue deliveries; run `scale-bot worker` separately')
    .option(...FRESH_INBOX)
    .addHelpText('after', environment)
    .action(async (opts: { worker: boolean; freshInbox?: boolean }) => {
      const { settings, config } = settingsOrExit(program, io, { webhook: true });
      const service = await startOrExplain(settings, config, {
        server: true,
        worker: opts.worker,
        freshInbox: Boolean(opts.freshInbox),
      });
      const signal = await untilSignal();
      service.logger.info({ signal }, 'shutting down');
      await service.stop();
      setExit(EXIT.ok);
    });

  program
    .command('worker')
    .description(
      'run only the worker: process queued per-issue jobs from the data directory (beside one `serve --no-worker`)',
    )
    .option(...FRESH_INBOX)
    .addHelpText('after', environment)
    .action(async (opts: { freshInbox?: boolean }) => {
      const { settings, config } = settingsOrExit(program, io, { webhook: false });
      const service = await startOrExplain(settings, config, {
        server: false,
        worker: true,
        freshInbox: Boolean(opts.freshInbox),
      });
      const signal = await untilSignal();
      service.logger.info({ signal }, 'shutting down');
      await service.stop();
      setExit(EXIT.ok);
    });

  const inbox = program
    .command('inbox')
    .description('inspect and retry queued and dead-lettered jobs (reads SCALE_BOT_DATA)');
  const openInbox = () => {
    const file = join(resolve(io.cwd, io.env.SCALE_BOT_DATA || './data'), 'inbox.sqlite');
    // Reading must not create an empty store where none was (a typo in SCALE_BOT_DATA, say).
    // A setting that points nowhere: exit 2, like any missing or invalid setting.
    if (!existsSync(file))
      throw new CliError(`no inbox at ${file} (set SCALE_BOT_DATA to the service's data directory)`);
    return SqliteInbox.open(file);
  };
  inbox
    .command('list')
    .description('list jobs, newest first')
    .option('--failed', 'only dead-lettered jobs')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action((opts: { failed?: boolean; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit <= 0)
        throw new CliError(`--limit must be a positive whole number, not "${opts.limit}"`);
      const store = openInbox();
      try {
        const jobs = store.list({ failed: opts.failed ?? false, limit });
        if (opts.json) io.stdout(`${JSON.stringify(jobs, null, 2)}\n`);
        else if (jobs.length === 0) io.stdout(opts.failed ? 'no failed jobs\n' : 'no jobs\n');
        else {
          for (const j of jobs) {
            io.stdout(
              `${String(j.id).padStart(6)}  issue ${j.issue.iid}  ${j.status.padEnd(7)}  attempts ${j.attempts}  ${new Date(j.updatedAt).toISOString()}` +
                `${j.lastError ? `\n        ${j.lastError}` : ''}\n`,
            );
          }
        }
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });
  inbox
    .command('retry')
    .description('re-queue a dead-lettered job by id, or all of them')
    .argument('[id]', 'job id from `inbox list --failed`')
    .option('--all-failed', 're-queue every failed job')
    .action((id: string | undefined, opts: { allFailed?: boolean }) => {
      if ((id === undefined) === !opts.allFailed) throw new CliError('give a job id or --all-failed (one of them)');
      const jobId = Number(id);
      if (id !== undefined && !(Number.isInteger(jobId) && jobId > 0))
        throw new CliError(`a job id is a positive whole number, not "${id}"`);
      const store = openInbox();
      try {
        if (opts.allFailed) io.stdout(`re-queued ${store.retryAllFailed(Date.now())} job(s)\n`);
        else {
          if (!store.retryFailed(jobId, Date.now()))
            throw new CliError(`no failed job with id ${jobId}`, EXIT.problems);
          io.stdout(`re-queued job ${jobId}\n`);
        }
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });

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
    .addHelpText('after', environment)
    .action(async (opts: { since?: string; settle: string; dryRun?: boolean }) => {
      if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since)))
        throw new CliError(`--since must be an ISO date or time, not "${opts.since}"`);
      const settleMinutes = Number(opts.settle);
      if (opts.settle.trim() === '' || !Number.isFinite(settleMinutes) || settleMinutes < 0)
        throw new CliError(`--settle must be a number of minutes (0 or more), not "${opts.settle}"`);
      const { settings, config } = settingsOrExit(program, io, { webhook: false });
      const service = await startOrExplain({ ...settings, dryRun: settings.dryRun || Boolean(opts.dryRun) }, config, {
        server: false,
        worker: false,
        // Results go to stdout; log lines to stderr, so the two never mix.
        logger: createLogger(io.env.LOG_LEVEL || 'warn', 2),
      });
      try {
        const lines = await reconcile(
          service.processDeps,
          { ...(opts.since ? { since: new Date(opts.since).toISOString() } : {}), settleMs: settleMinutes * 60_000 },
          service.logger,
        );
        for (const l of lines) io.stdout(`#${l.iid} ${l.outcome}${l.outcome === 'unchanged' ? '' : `: ${l.detail}`}\n`);
        const changed = lines.filter((l) => l.outcome === 'applied' || l.outcome === 'dry-run').length;
        const failed = lines.filter((l) => l.outcome === 'failed').length;
        const settling = lines.filter((l) => l.outcome === 'settling').length;
        io.stdout(
          `${lines.length - settling} issue(s) checked, ${changed} ${opts.dryRun || settings.dryRun ? 'would change' : 'changed'}, ${failed} failed` +
            `${settling > 0 ? `, ${settling} left to the webhook worker (updated in the last ${settleMinutes} min; --settle 0 takes them too)` : ''}\n`,
        );
        setExit(failed > 0 ? EXIT.problems : EXIT.ok);
      } finally {
        await service.stop();
      }
    });

  program
    .command('replay')
    .description('run one saved webhook payload through the same path as the worker; print the plan and what was done')
    .argument('<payload>', 'a JSON file holding a GitLab Issue Hook or Note Hook body')
    .option('--dry-run', 'decide and print the plan; write nothing to GitLab')
    .option('--event <name>', 'the X-Gitlab-Event of the payload (default: from object_kind)')
    .addHelpText('after', environment)
    .action(async (file: string, opts: { dryRun?: boolean; event?: string }) => {
      let text: string;
      try {
        text = readFileSync(resolve(io.cwd, file), 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new CliError(
          `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`}`,
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new CliError(`${file}: not valid JSON (${(err as Error).message})`);
      }
      if (isOtherWorkItem(json))
        throw new CliError(
          `${file}: a work item that is not an issue (task, epic, …); nothing to replay`,
          EXIT.problems,
        );
      const kind = (json as { object_kind?: unknown } | null)?.object_kind;
      const event = opts.event ?? (kind === 'issue' ? 'Issue Hook' : kind === 'note' ? 'Note Hook' : '');
      if (!isHandledEvent(event))
        throw new CliError(`${file}: not an Issue Hook or Note Hook payload (object_kind ${JSON.stringify(kind)})`);
      const parsed = parseWebhook(event, json);
      if (!parsed.ok)
        throw new CliError(`${file}: does not match the ${event} schema:\n  ${parsed.problems.join('\n  ')}`);
      if (parsed.value.iid === null)
        throw new CliError(`${file}: the event is not about an issue; nothing to replay`, EXIT.problems);
      const { settings, config } = settingsOrExit(program, io, { webhook: false });
      const payloadProject = parsed.value.body.project;
      const sameProject =
        typeof settings.project === 'number'
          ? payloadProject.id === settings.project
          : payloadProject.path_with_namespace?.toLowerCase() === settings.project.toLowerCase() ||
            payloadProject.path_with_namespace === undefined;
      if (!sameProject) {
        throw new CliError(
          `${file}: the payload is from project ${payloadProject.path_with_namespace ?? payloadProject.id}, not GITLAB_PROJECT=${settings.project}`,
        );
      }
      const service = await startOrExplain({ ...settings, dryRun: settings.dryRun || Boolean(opts.dryRun) }, config, {
        server: false,
        worker: false,
        logger: createLogger(io.env.LOG_LEVEL || 'warn', 2),
      });
      try {
        const result = await processIssue(service.processDeps, parsed.value.iid, service.logger);
        io.stdout(`issue ${parsed.value.iid}: ${result.outcome}\n`);
        if (result.plan) {
          io.stdout(`plan:\n${result.plan.summary.map((s) => `  ${s}`).join('\n')}\n`);
          io.stdout(`  labels +[${result.plan.labels.add.join(', ')}] -[${result.plan.labels.remove.join(', ')}]\n`);
          io.stdout(`  assignees ${result.plan.assignees ? result.plan.assignees.join(', ') : '(unchanged)'}\n`);
          for (const n of result.plan.notes) io.stdout(`  note ${n.action} ${n.key}\n`);
          for (const n of result.plan.deleteNotes) io.stdout(`  note delete ${n.key} (#${n.noteId}, a later copy)\n`);
        }
        io.stdout(
          result.applied
            ? `done:\n${result.applied.done.map((d) => `  ${d}`).join('\n') || '  (nothing to write)'}\n`
            : 'done: nothing (dry run)\n',
        );
      } finally {
        await service.stop();
      }
      setExit(EXIT.ok);
    });
}
