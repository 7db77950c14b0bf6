import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Job } from '../queue/inbox.js';
import { SqliteInbox } from '../queue/sqlite-inbox.js';
import { CliError, EXIT, type CliIO } from './io.js';

function openInbox(io: CliIO): SqliteInbox {
  const file = join(resolve(io.cwd, io.env.SCALE_BOT_DATA || './data'), 'inbox.sqlite');
  // Reading must not create an empty store where none was (a typo in SCALE_BOT_DATA, say).
  // A setting that points nowhere: exit 2, like any missing or invalid setting.
  if (!existsSync(file)) throw new CliError(`no inbox at ${file} (set SCALE_BOT_DATA to the service's data directory)`);
  return SqliteInbox.open(file);
}

/** Opens the inbox for one command and closes it whatever happens. */
function withInbox<T>(io: CliIO, use: (store: SqliteInbox) => T): T {
  const store = openInbox(io);
  try {
    return use(store);
  } finally {
    store.close();
  }
}

function jobLine(j: Job): string {
  return (
    `${String(j.id).padStart(6)}  issue ${j.issue.iid}  ${j.status.padEnd(7)}  attempts ${j.attempts}  ${new Date(j.updatedAt).toISOString()}` +
    `${j.lastError ? `\n        ${j.lastError}` : ''}\n`
  );
}

function listJobs(io: CliIO, opts: { failed?: boolean; limit: string; json?: boolean }): void {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new CliError(`--limit must be a positive whole number, not "${opts.limit}"`);
  const jobs = withInbox(io, (store) => store.list({ failed: opts.failed ?? false, limit }));
  if (opts.json) io.stdout(`${JSON.stringify(jobs, null, 2)}\n`);
  else if (jobs.length === 0) io.stdout(opts.failed ? 'no failed jobs\n' : 'no jobs\n');
  else for (const j of jobs) io.stdout(jobLine(j));
}

function retryJobs(io: CliIO, id: string | undefined, opts: { allFailed?: boolean }): void {
  if ((id === undefined) === !opts.allFailed) throw new CliError('give a job id or --all-failed (one of them)');
  const jobId = Number(id);
  if (id !== undefined && !(Number.isInteger(jobId) && jobId > 0))
    throw new CliError(`a job id is a positive whole number, not "${id}"`);
  withInbox(io, (store) => {
    if (opts.allFailed) io.stdout(`re-queued ${store.retryAllFailed(Date.now())} job(s)\n`);
    else {
      if (!store.retryFailed(jobId, Date.now())) throw new CliError(`no failed job with id ${jobId}`, EXIT.problems);
      io.stdout(`re-queued job ${jobId}\n`);
    }
  });
}

export function registerInboxCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const inbox = program
    .command('inbox')
    .description('inspect and retry queued and dead-lettered jobs (reads SCALE_BOT_DATA)');
  inbox
    .command('list')
    .description('list jobs, newest first')
    .option('--failed', 'only dead-lettered jobs')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action((opts: { failed?: boolean; limit: string; json?: boolean }) => {
      listJobs(io, opts);
      setExit(EXIT.ok);
    });
  inbox
    .command('retry')
    .description('re-queue a dead-lettered job by id, or all of them')
    .argument('[id]', 'job id from `inbox list --failed`')
    .option('--all-failed', 're-queue every failed job')
    .action((id: string | undefined, opts: { allFailed?: boolean }) => {
      retryJobs(io, id, opts);
      setExit(EXIT.ok);
    });
}
