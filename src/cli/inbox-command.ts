import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Job } from '../queue/inbox.js';
import { DEFAULT_REDIS_INBOX } from '../queue/redis-inbox-options.js';
import { CliError, EXIT, type CliIO } from './io.js';

/** What these commands do with the inbox, in SQLite or in Redis alike. */
interface InboxAdmin {
  list(options: { failed: boolean; limit: number }): Promise<Job[]> | Job[];
  retryFailed(jobId: number, now: number): Promise<boolean> | boolean;
  retryAllFailed(now: number): Promise<number> | number;
  close(): Promise<void> | void;
}

/**
 * The service's inbox: in Redis when SCALE_BOT_QUEUE=redis (as `serve` reads it), else the SQLite
 * file. Each is loaded only here, so other commands do not pay for loading either.
 */
async function openInbox(io: CliIO): Promise<InboxAdmin> {
  if (io.env.SCALE_BOT_QUEUE === 'redis') {
    if (!io.env.REDIS_URL) throw new CliError('REDIS_URL is required when SCALE_BOT_QUEUE is redis');
    const prefix = io.env.SCALE_BOT_REDIS_PREFIX || DEFAULT_REDIS_INBOX.prefix;
    const { RedisInbox } = await import('../queue/redis-inbox.js');
    try {
      return await RedisInbox.connect(io.env.REDIS_URL, { prefix });
    } catch (err) {
      throw new CliError(`cannot reach the inbox in Redis: ${(err as Error).message}`, EXIT.problems);
    }
  }
  const file = join(resolve(io.cwd, io.env.SCALE_BOT_DATA || './data'), 'inbox.sqlite');
  // Reading must not create an empty store where none was (a typo in SCALE_BOT_DATA, say).
  // A setting that points nowhere: exit 2, like any missing or invalid setting.
  if (!existsSync(file)) throw new CliError(`no inbox at ${file} (set SCALE_BOT_DATA to the service's data directory)`);
  const { SqliteInbox } = await import('../queue/sqlite-inbox.js');
  return SqliteInbox.open(file);
}

/** Opens the inbox for one command and closes it whatever happens. */
async function withInbox<T>(io: CliIO, use: (store: InboxAdmin) => Promise<T>): Promise<T> {
  const store = await openInbox(io);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

function jobLine(j: Job): string {
  return (
    `${String(j.id).padStart(6)}  issue ${j.issue.iid}  ${j.status.padEnd(7)}  attempts ${j.attempts}  ${new Date(j.updatedAt).toISOString()}` +
    `${j.lastError ? `\n        ${j.lastError}` : ''}\n`
  );
}

async function listJobs(io: CliIO, opts: { failed?: boolean; limit: string; json?: boolean }): Promise<void> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new CliError(`--limit must be a positive whole number, not "${opts.limit}"`);
  const jobs = await withInbox(io, async (store) => store.list({ failed: opts.failed ?? false, limit }));
  if (opts.json) io.stdout(`${JSON.stringify(jobs, null, 2)}\n`);
  else if (jobs.length === 0) io.stdout(opts.failed ? 'no failed jobs\n' : 'no jobs\n');
  else for (const j of jobs) io.stdout(jobLine(j));
}

async function retryJobs(io: CliIO, id: string | undefined, opts: { allFailed?: boolean }): Promise<void> {
  if ((id === undefined) === !opts.allFailed) throw new CliError('give a job id or --all-failed (one of them)');
  const jobId = Number(id);
  if (id !== undefined && !(Number.isInteger(jobId) && jobId > 0))
    throw new CliError(`a job id is a positive whole number, not "${id}"`);
  await withInbox(io, async (store) => {
    if (opts.allFailed) io.stdout(`re-queued ${await store.retryAllFailed(Date.now())} job(s)\n`);
    else {
      if (!(await store.retryFailed(jobId, Date.now())))
        throw new CliError(`no failed job with id ${jobId}`, EXIT.problems);
      io.stdout(`re-queued job ${jobId}\n`);
    }
  });
}

export function registerInboxCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const inbox = program
    .command('inbox')
    .description(
      'inspect and retry queued and dead-lettered jobs (reads SCALE_BOT_DATA, or Redis when SCALE_BOT_QUEUE=redis)',
    );
  inbox
    .command('list')
    .description('list jobs, newest first')
    .option('--failed', 'only dead-lettered jobs')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (opts: { failed?: boolean; limit: string; json?: boolean }) => {
      await listJobs(io, opts);
      setExit(EXIT.ok);
    });
  inbox
    .command('retry')
    .description('re-queue a dead-lettered job by id, or all of them')
    .argument('[id]', 'job id from `inbox list --failed`')
    .option('--all-failed', 're-queue every failed job')
    .action(async (id: string | undefined, opts: { allFailed?: boolean }) => {
      await retryJobs(io, id, opts);
      setExit(EXIT.ok);
    });
}
