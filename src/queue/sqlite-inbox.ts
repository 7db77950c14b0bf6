import { randomUUID } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { inboxFileProblem } from './inbox-health.js';
import type { AcceptResult, ClaimedJob, CoalescePolicy, Inbox, Job, JobStatus, NewDelivery } from './inbox.js';

export const DEFAULT_COALESCE_POLICY: CoalescePolicy = { quietMs: 250, maxWaitMs: 1000 };

/**
 * What a commit survives. `process`: the process crashing or being killed (SQLite's
 * `synchronous = NORMAL` in WAL mode: a commit is in the WAL, not yet fsynced, when `accept`
 * returns). `power`: also an OS crash or power cut (`FULL`: the WAL is fsynced at every commit).
 * Neither can corrupt the database; `process` may roll back the latest commits on a power cut.
 */
export type Durability = 'process' | 'power';

export interface StoreOptions {
  /**
   * How long a statement waits for another process's write lock before failing with SQLITE_BUSY.
   * better-sqlite3 waits synchronously, so in a server this is time the event loop stands still:
   * the service sets it to 0 and retries from timers instead. Opening and migrating always wait
   * up to 5 s.
   */
  busyTimeoutMs: number;
  durability: Durability;
  /**
   * Before each write of deliveries, check that the path still names the file opened (one stat):
   * deliveries written to a deleted or replaced inbox would be acknowledged and then lost.
   */
  checkFileOnWrite: boolean;
}

export const DEFAULT_STORE_OPTIONS: StoreOptions = {
  busyTimeoutMs: 5_000,
  durability: 'process',
  checkFileOnWrite: false,
};

/** The inbox file was deleted, replaced or emptied under the running service. */
export class InboxFileError extends Error {
  readonly code = 'SCALE_BOT_INBOX_FILE';
  constructor(problem: string) {
    super(problem);
    this.name = 'InboxFileError';
  }
}

export interface BackgroundCheckpointOptions {
  /**
   * The WAL bound: once the checkpoint thread finds more than this in the WAL, it holds the group
   * commits for a moment and runs a RESTART checkpoint, so the next commit rewinds the WAL to its
   * start (and `journal_size_limit` trims the file back to this size if it grew past it).
   */
  walLimitBytes: number;
  /** How often the checkpoint thread copies the WAL into the database (PASSIVE, never blocking). */
  intervalMs: number;
}

export const DEFAULT_BACKGROUND_CHECKPOINT: BackgroundCheckpointOptions = {
  walLimitBytes: 16 * 1024 * 1024,
  intervalMs: 100,
};

/** What the checkpoint thread has done so far (tests and diagnostics). */
export interface CheckpointStats {
  running: boolean;
  passive: number;
  restarts: number;
  /** Longest time writes were held back for a RESTART checkpoint (ms). */
  maxPauseMs: number;
  /** WAL frames found by the latest PASSIVE checkpoint (the WAL length it saw). */
  lastWalFrames: number;
  error: string | null;
}

/**
 * The checkpoint thread (plain JavaScript, run with `eval` so it works from the sources under test
 * and from dist/ alike). Its own connection copies the WAL into the database every `intervalMs`
 * with PASSIVE checkpoints, which never wait for the writer: the fsyncs of the database happen
 * here, not inside the COMMIT of a webhook request. PASSIVE alone cannot bound the WAL under
 * sustained writes (the writer only rewinds it when a checkpoint has copied every frame before its
 * next transaction), so past `limitFrames` the thread catches up once more, asks the main thread to
 * hold its group commits, runs RESTART (copying the few frames written since the last PASSIVE; the
 * next commit then writes the WAL from its start again) and lets the writes go on. The WAL thus
 * stays within the limit plus what is written during one checkpoint. RESTART rather than TRUNCATE:
 * the file is reused instead of cut to zero and regrown, and the truncation (block frees, discard)
 * made the pause 2–3 times longer (16–17 ms against 6–7 ms, at 500 deliveries/s on the bench VM).
 */
const CHECKPOINT_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const { file, intervalMs, limitFrames } = workerData;
const db = new Database(file, { fileMustExist: true });
// RESTART waits (busy handler) for readers in other processes; never long, the writes are held.
db.pragma('busy_timeout = 250');
let stopped = false;
let onPaused = null;
parentPort.on('message', (m) => {
  if (m === 'paused' && onPaused) { const go = onPaused; onPaused = null; go(); }
  else if (m === 'stop') stopped = true;
});
const checkpoint = (mode) => db.pragma('wal_checkpoint(' + mode + ')')[0];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  try {
    parentPort.postMessage({ type: 'ready' });
    while (!stopped) {
      await sleep(intervalMs);
      if (stopped) break;
      const passive = checkpoint('PASSIVE');
      parentPort.postMessage({ type: 'passive', log: passive.log });
      if (passive.log > limitFrames) {
        // Catch up with the frames written during that checkpoint, still without blocking anyone,
        // so that the RESTART below (with the writes held) has only a few frames left to copy.
        checkpoint('PASSIVE');
        await new Promise((go) => { onPaused = go; parentPort.postMessage({ type: 'pause' }); });
        const t0 = performance.now();
        let restart = null;
        try { restart = checkpoint('RESTART'); }
        finally { parentPort.postMessage({ type: 'resume', busy: restart ? restart.busy : 1, ms: performance.now() - t0 }); }
      }
    }
    db.close();
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String(err && err.message || err) });
    try { db.close(); } catch {}
  }
})();
`;

/**
 * Schema migrations; entry i takes `user_version` from i to i + 1. Append, never edit.
 *
 * v1: `deliveries` is the append-only record of every accepted webhook (the UNIQUE key is the dedup).
 * `jobs` holds at most one non-done row per issue (partial unique index): deliveries coalesce into
 * it, and once done the next delivery starts a new row, so done rows are the issue's history.
 * Failed (dead-lettered) rows count as non-done: a new delivery for the issue re-queues that same
 * row instead of opening a second one. `dirty` counts deliveries that arrived while the job ran;
 * more than 0 means another pass is owed after this one.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id INTEGER PRIMARY KEY,
     project_id INTEGER NOT NULL,
     iid INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
     attempts INTEGER NOT NULL,
     run_at INTEGER NOT NULL,
     first_pending_at INTEGER NOT NULL,
     last_delivery_at INTEGER NOT NULL,
     dirty INTEGER NOT NULL DEFAULT 0,
     lease TEXT,
     lease_until INTEGER,
     last_error TEXT,
     deliveries INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL);
   CREATE UNIQUE INDEX jobs_one_open_per_issue ON jobs (project_id, iid) WHERE status IN ('pending', 'running', 'failed');
   CREATE INDEX jobs_due ON jobs (run_at) WHERE status IN ('pending', 'running');
   CREATE TABLE deliveries (
     id INTEGER PRIMARY KEY,
     key TEXT NOT NULL UNIQUE,
     event TEXT NOT NULL,
     uuid TEXT,
     body TEXT NOT NULL,
     project_id INTEGER,
     iid INTEGER,
     received_at INTEGER NOT NULL,
     job_id INTEGER REFERENCES jobs (id));`,
  // v2: facts about the store itself; `identity` is the marker written when the inbox is created.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

const JOB_COLUMNS =
  'id, project_id, iid, status, attempts, run_at, first_pending_at, last_error, deliveries, updated_at';

interface JobRow {
  id: number;
  project_id: number;
  iid: number;
  status: JobStatus;
  attempts: number;
  run_at: number;
  first_pending_at: number;
  last_error: string | null;
  deliveries: number;
  updated_at: number;
}

interface Lease {
  id: number;
  lease: string;
  now: number;
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    issue: { projectId: row.project_id, iid: row.iid },
    status: row.status,
    attempts: row.attempts,
    runAt: row.run_at,
    firstPendingAt: row.first_pending_at,
    lastError: row.last_error,
    deliveries: row.deliveries,
    updatedAt: row.updated_at,
  };
}

/** The inbox file opened with the pragmas the inbox relies on, before its schema is migrated. */
function openDatabase(file: string, durability: StoreOptions['durability']): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // Set first, so the pragmas and migration below wait for another process instead of failing.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL fsyncs at checkpoints, not at every commit (see `Durability`): that buys
  // thousands of accepts per second on the path GitLab waits on. FULL fsyncs the WAL per commit.
  db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  return db;
}

/** Statements that record a delivery and open or coalesce its job. */
function acceptStatements(db: Database.Database) {
  const insertDelivery = db.prepare<
    [
      {
        key: string;
        event: string;
        uuid: string | null;
        body: string | Buffer;
        projectId: number | null;
        iid: number | null;
        receivedAt: number;
        jobId: number | null;
      },
    ]
  >(`
    INSERT INTO deliveries (key, event, uuid, body, project_id, iid, received_at, job_id)
    VALUES (@key, @event, @uuid, @body, @projectId, @iid, @receivedAt, @jobId)`);
  const deliveryIdByKey = db.prepare<[string], { id: number }>('SELECT id FROM deliveries WHERE key = ?');
  const openJob = db.prepare<[number, number], { id: number; status: JobStatus }>(
    "SELECT id, status FROM jobs WHERE project_id = ? AND iid = ? AND status IN ('pending', 'running', 'failed')",
  );
  const insertJob = db.prepare<[{ projectId: number; iid: number; now: number; runAt: number }]>(`
    INSERT INTO jobs (project_id, iid, status, attempts, run_at, first_pending_at, last_delivery_at, deliveries, created_at, updated_at)
    VALUES (@projectId, @iid, 'pending', 0, @runAt, @now, @now, 1, @now, @now)`);
  const coalescePending = db.prepare<[{ id: number; now: number; quietMs: number; maxWaitMs: number }]>(`
    UPDATE jobs SET run_at = MAX(run_at, MIN(first_pending_at + @maxWaitMs, @now + @quietMs)),
      last_delivery_at = @now, deliveries = deliveries + 1, updated_at = @now
    WHERE id = @id`);
  const markDirty = db.prepare<[{ id: number; now: number }]>(`
    UPDATE jobs SET dirty = dirty + 1, last_delivery_at = @now, deliveries = deliveries + 1, updated_at = @now
    WHERE id = @id`);
  const requeueOnDelivery = db.prepare<[{ id: number; now: number; runAt: number }]>(`
    UPDATE jobs SET status = 'pending', attempts = 0, run_at = @runAt, first_pending_at = @now, last_delivery_at = @now,
      deliveries = deliveries + 1, updated_at = @now
    WHERE id = @id`);
  return { insertDelivery, deliveryIdByKey, openJob, insertJob, coalescePending, markDirty, requeueOnDelivery };
}

/** Statements that claim a job and settle its lease. */
function leaseStatements(db: Database.Database) {
  // Expired leases are claimable: their worker crashed or hung. The one-open-job-per-issue index
  // means a claimable row's issue has no other running job, so an issue never runs twice at once.
  // The `status IN (...)` terms here and in `earliestPending` repeat the partial index's condition
  // word for word: only then does SQLite use `jobs_due` instead of scanning every done job.
  const claimNext = db.prepare<[{ now: number; lease: string; leaseUntil: number }], JobRow & { lease: string }>(`
    UPDATE jobs SET status = 'running', lease = @lease, lease_until = @leaseUntil, dirty = 0, attempts = attempts + 1, updated_at = @now
    WHERE id = (
      SELECT id FROM jobs
      WHERE status IN ('pending', 'running')
        AND ((status = 'pending' AND run_at <= @now) OR (status = 'running' AND lease_until < @now))
      ORDER BY run_at, id LIMIT 1)
    RETURNING ${JOB_COLUMNS}, lease`);
  // Every lease-holding update matches on the lease, so a worker whose lease expired and was taken
  // over changes nothing.
  const leaseHeld = "WHERE id = @id AND lease = @lease AND status = 'running'";
  const unleased = 'dirty = 0, lease = NULL, lease_until = NULL, updated_at = @now';
  const completeJob = db.prepare<[Lease & { runAt: number }]>(`
    UPDATE jobs SET status = CASE WHEN dirty > 0 THEN 'pending' ELSE 'done' END,
      run_at = CASE WHEN dirty > 0 THEN @runAt ELSE run_at END,
      first_pending_at = CASE WHEN dirty > 0 THEN @now ELSE first_pending_at END,
      deliveries = dirty, attempts = 0, last_error = NULL, ${unleased}
    ${leaseHeld}`);
  const retryJob = db.prepare<[Lease & { runAt: number; error: string }]>(`
    UPDATE jobs SET status = 'pending', run_at = @runAt, last_error = @error, ${unleased} ${leaseHeld}`);
  const failJob = db.prepare<[Lease & { runAt: number; error: string }]>(`
    UPDATE jobs SET status = CASE WHEN dirty > 0 THEN 'pending' ELSE 'failed' END,
      attempts = CASE WHEN dirty > 0 THEN 0 ELSE attempts END,
      run_at = CASE WHEN dirty > 0 THEN @runAt ELSE run_at END,
      first_pending_at = CASE WHEN dirty > 0 THEN @now ELSE first_pending_at END,
      last_error = @error, ${unleased}
    ${leaseHeld}`);
  const releaseJob = db.prepare<[Lease]>(`
    UPDATE jobs SET status = 'pending', attempts = MAX(attempts - 1, 0), run_at = @now, ${unleased} ${leaseHeld}`);
  const recoverAll = db.prepare<[{ now: number }]>(`
    UPDATE jobs SET status = 'pending', attempts = MAX(attempts - 1, 0), run_at = @now, ${unleased}
    WHERE status = 'running'`);
  return { claimNext, completeJob, retryJob, failJob, releaseJob, recoverAll };
}

/** Statements that list, count and re-queue jobs, and read deliveries back. */
function listingStatements(db: Database.Database) {
  const listJobs = db.prepare<[number], JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs ORDER BY updated_at DESC, id DESC LIMIT ?`,
  );
  const listFailed = db.prepare<[number], JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE status = 'failed' ORDER BY updated_at DESC, id DESC LIMIT ?`,
  );
  // Pending and running jobs are few; the IN term repeats the jobs_due index's own condition so
  // SQLite may read that partial index instead of every job ever done.
  const oldestPendingJob = db.prepare<[], JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE status IN ('pending', 'running') AND status = 'pending' ORDER BY first_pending_at, id LIMIT 1`,
  );
  const requeue = "SET status = 'pending', attempts = 0, run_at = @now, first_pending_at = @now, updated_at = @now";
  const requeueFailed = db.prepare<[{ id: number; now: number }]>(
    `UPDATE jobs ${requeue} WHERE id = @id AND status = 'failed'`,
  );
  const requeueAllFailed = db.prepare<[{ now: number }]>(`UPDATE jobs ${requeue} WHERE status = 'failed'`);
  const countByStatus = db.prepare<[], { status: JobStatus; n: number }>(
    'SELECT status, COUNT(*) AS n FROM jobs GROUP BY status',
  );
  const earliestPending = db.prepare<[], { runAt: number | null }>(
    "SELECT MIN(run_at) AS runAt FROM jobs WHERE status IN ('pending', 'running') AND status = 'pending'",
  );
  const deliveryById = db.prepare<[number], { event: string; body: string | Buffer; receivedAt: number }>(
    'SELECT event, body, received_at AS receivedAt FROM deliveries WHERE id = ?',
  );
  const select1 = db.prepare('SELECT 1');
  return {
    listJobs,
    listFailed,
    oldestPendingJob,
    requeueFailed,
    requeueAllFailed,
    countByStatus,
    earliestPending,
    deliveryById,
    select1,
  };
}

type AcceptStatements = ReturnType<typeof acceptStatements>;
type LeaseStatements = ReturnType<typeof leaseStatements>;
type ListingStatements = ReturnType<typeof listingStatements>;

/**
 * The inbox in one SQLite file. Every method is one statement or one IMMEDIATE transaction, so the
 * webhook server, the worker and the `inbox` CLI can share the file from separate processes.
 *
 * Scheduling: a new job runs `quietMs` after its delivery; each further delivery pushes that out to
 * `quietMs` after itself, capped at `maxWaitMs` after the first pending one. A delivery never
 * brings a job forward, so it does not cut a retry's backoff short. A delivery for a running job
 * marks it dirty: it runs once more after it completes. A delivery for a dead-lettered job re-queues
 * it with attempts reset, because a new event is a new reason to try; for the same reason a job
 * that fails for good with deliveries that arrived during its pass is re-queued, not dead-lettered.
 */
export class SqliteInbox implements Inbox {
  private readonly db: Database.Database;
  readonly file: string;
  /** The inode of the file opened; null in memory. */
  readonly inode: number | null;
  private readonly checkFileOnWrite: boolean;
  private readonly policy: CoalescePolicy;
  private checkpointer: Worker | null = null;
  private readonly stats: CheckpointStats = {
    running: false,
    passive: 0,
    restarts: 0,
    maxPauseMs: 0,
    lastWalFrames: 0,
    error: null,
  };
  /** Set while the checkpoint thread restarts the WAL: group commits wait for it. */
  private paused: { promise: Promise<void>; resume: () => void; since: number; timer: NodeJS.Timeout } | null = null;
  private readonly insertDelivery: AcceptStatements['insertDelivery'];
  private readonly deliveryIdByKey: AcceptStatements['deliveryIdByKey'];
  private readonly openJob: AcceptStatements['openJob'];
  private readonly insertJob: AcceptStatements['insertJob'];
  private readonly coalescePending: AcceptStatements['coalescePending'];
  private readonly markDirty: AcceptStatements['markDirty'];
  private readonly requeueOnDelivery: AcceptStatements['requeueOnDelivery'];
  private readonly claimNext: LeaseStatements['claimNext'];
  private readonly completeJob: LeaseStatements['completeJob'];
  private readonly retryJob: LeaseStatements['retryJob'];
  private readonly failJob: LeaseStatements['failJob'];
  private readonly releaseJob: LeaseStatements['releaseJob'];
  private readonly recoverAll: LeaseStatements['recoverAll'];
  private readonly listJobs: ListingStatements['listJobs'];
  private readonly listFailed: ListingStatements['listFailed'];
  private readonly oldestPendingJob: ListingStatements['oldestPendingJob'];
  private readonly requeueFailed: ListingStatements['requeueFailed'];
  private readonly requeueAllFailed: ListingStatements['requeueAllFailed'];
  private readonly countByStatus: ListingStatements['countByStatus'];
  private readonly earliestPending: ListingStatements['earliestPending'];
  private readonly deliveryById: ListingStatements['deliveryById'];
  private readonly select1: ListingStatements['select1'];
  private readonly acceptTx: Database.Transaction<(delivery: NewDelivery, now: number) => AcceptResult>;
  private readonly acceptManyTx: Database.Transaction<
    (deliveries: readonly NewDelivery[], now: number) => AcceptResult[]
  >;

  private constructor(file: string, policy: CoalescePolicy, store: StoreOptions) {
    this.file = file;
    this.policy = policy;
    this.db = openDatabase(file, store.durability);
    this.migrate();
    this.db.pragma(`busy_timeout = ${store.busyTimeoutMs}`);
    // The file opened, to tell later whether the path still names it (deleted, replaced).
    this.inode = file === ':memory:' ? null : statSync(file).ino;
    this.checkFileOnWrite = store.checkFileOnWrite;
    ({
      insertDelivery: this.insertDelivery,
      deliveryIdByKey: this.deliveryIdByKey,
      openJob: this.openJob,
      insertJob: this.insertJob,
      coalescePending: this.coalescePending,
      markDirty: this.markDirty,
      requeueOnDelivery: this.requeueOnDelivery,
    } = acceptStatements(this.db));
    ({
      claimNext: this.claimNext,
      completeJob: this.completeJob,
      retryJob: this.retryJob,
      failJob: this.failJob,
      releaseJob: this.releaseJob,
      recoverAll: this.recoverAll,
    } = leaseStatements(this.db));
    ({
      listJobs: this.listJobs,
      listFailed: this.listFailed,
      oldestPendingJob: this.oldestPendingJob,
      requeueFailed: this.requeueFailed,
      requeueAllFailed: this.requeueAllFailed,
      countByStatus: this.countByStatus,
      earliestPending: this.earliestPending,
      deliveryById: this.deliveryById,
      select1: this.select1,
    } = listingStatements(this.db));
    this.acceptTx = this.db.transaction((delivery: NewDelivery, now: number) => this.acceptIn(delivery, now));
    this.acceptManyTx = this.db.transaction((deliveries: readonly NewDelivery[], now: number) =>
      deliveries.map((d) => this.acceptIn(d, now)),
    );
  }

  /** Opens (creating and migrating as needed) the inbox at `file`, or `:memory:`. */
  static open(file: string, policy?: Partial<CoalescePolicy>, store: Partial<StoreOptions> = {}): SqliteInbox {
    const quietMs = policy?.quietMs ?? DEFAULT_COALESCE_POLICY.quietMs;
    const maxWaitMs = policy?.maxWaitMs ?? DEFAULT_COALESCE_POLICY.maxWaitMs;
    if (!(Number.isFinite(quietMs) && quietMs >= 0 && Number.isFinite(maxWaitMs) && maxWaitMs >= quietMs)) {
      throw new RangeError(
        `coalesce policy needs 0 ≤ quietMs ≤ maxWaitMs, got quietMs ${quietMs}, maxWaitMs ${maxWaitMs}`,
      );
    }
    return new SqliteInbox(file, { quietMs, maxWaitMs }, { ...DEFAULT_STORE_OPTIONS, ...store });
  }

  private checkFile(): void {
    if (!this.checkFileOnWrite) return;
    const problem = inboxFileProblem(this, false);
    if (problem) throw new InboxFileError(problem);
  }

  private migrate(): void {
    // Version read and bumped inside one IMMEDIATE transaction: two processes opening a new file at
    // once cannot both apply the same migration.
    this.db
      .transaction(() => {
        const from = this.db.pragma('user_version', { simple: true }) as number;
        if (from > MIGRATIONS.length) {
          throw new Error(
            `inbox schema version ${from} is newer than this scale-bot understands (${MIGRATIONS.length}); upgrade scale-bot`,
          );
        }
        for (const [version, sql] of MIGRATIONS.entries()) if (version >= from) this.db.exec(sql);
        this.db.pragma(`user_version = ${MIGRATIONS.length}`);
      })
      .immediate();
  }

  accept(delivery: NewDelivery, now: number): AcceptResult {
    this.checkFile();
    // IMMEDIATE takes the write lock up front, so a concurrent writer waits (busy_timeout) instead of
    // failing halfway through a read-then-write.
    return this.acceptTx.immediate(delivery, now);
  }

  acceptMany(deliveries: readonly NewDelivery[], now: number): AcceptResult[] {
    this.checkFile();
    return this.acceptManyTx.immediate(deliveries, now);
  }

  /**
   * The dedup check comes first and the delivery row is written last, already linked to its job:
   * one write of the (body-sized) row, not an insert and then an update of it. The transaction
   * holds the write lock, so nothing can insert the same key between the check and the insert.
   */
  private acceptIn(delivery: NewDelivery, now: number): AcceptResult {
    const { key, event, uuid, body, issue, receivedAt } = delivery;
    const existing = this.deliveryIdByKey.get(key);
    if (existing) return { duplicate: true, deliveryId: existing.id };
    let jobId: number | null = null;
    if (issue) {
      const job = this.openJob.get(issue.projectId, issue.iid);
      const runAt = now + this.policy.quietMs;
      if (!job)
        jobId = Number(this.insertJob.run({ projectId: issue.projectId, iid: issue.iid, now, runAt }).lastInsertRowid);
      else {
        jobId = job.id;
        if (job.status === 'pending') this.coalescePending.run({ id: job.id, now, ...this.policy });
        else if (job.status === 'running') this.markDirty.run({ id: job.id, now });
        else this.requeueOnDelivery.run({ id: job.id, now, runAt });
      }
    }
    const inserted = this.insertDelivery.run({
      key,
      event,
      uuid,
      body,
      projectId: issue?.projectId ?? null,
      iid: issue?.iid ?? null,
      receivedAt,
      jobId,
    });
    return { duplicate: false, deliveryId: Number(inserted.lastInsertRowid) };
  }

  claim(now: number, leaseMs: number): ClaimedJob | null {
    const row = this.claimNext.get({ now, lease: randomUUID(), leaseUntil: now + leaseMs });
    return row ? { ...toJob(row), lease: row.lease } : null;
  }

  /** Returns false (and changes nothing) when the lease is no longer held; likewise below. */
  complete(job: ClaimedJob, now: number): boolean {
    return this.completeJob.run({ id: job.id, lease: job.lease, now, runAt: now + this.policy.quietMs }).changes > 0;
  }

  /** Attempts are kept: the worker dead-letters once they reach its limit. */
  retry(job: ClaimedJob, runAt: number, error: string, now: number): boolean {
    return this.retryJob.run({ id: job.id, lease: job.lease, now, runAt, error }).changes > 0;
  }

  fail(job: ClaimedJob, error: string, now: number): boolean {
    return this.failJob.run({ id: job.id, lease: job.lease, now, runAt: now + this.policy.quietMs, error }).changes > 0;
  }

  release(job: ClaimedJob, now: number): boolean {
    return this.releaseJob.run({ id: job.id, lease: job.lease, now }).changes > 0;
  }

  /** Meant for the only worker's start-up: it also takes back leases another live worker holds. */
  recover(now: number): number {
    return this.recoverAll.run({ now }).changes;
  }

  list(options: { failed?: boolean; limit?: number }): Job[] {
    // SQLite reads a negative LIMIT as "no limit".
    const limit = options.limit ?? -1;
    return (options.failed ? this.listFailed : this.listJobs).all(limit).map(toJob);
  }

  oldestPending(): Job | null {
    const row = this.oldestPendingJob.get();
    return row ? toJob(row) : null;
  }

  retryFailed(jobId: number, now: number): boolean {
    return this.requeueFailed.run({ id: jobId, now }).changes > 0;
  }

  retryAllFailed(now: number): number {
    return this.requeueAllFailed.run({ now }).changes;
  }

  depth(): Record<JobStatus, number> {
    const counts: Record<JobStatus, number> = { pending: 0, running: 0, done: 0, failed: 0 };
    for (const { status, n } of this.countByStatus.all()) counts[status] = n;
    return counts;
  }

  nextRunAt(): number | null {
    return this.earliestPending.get()?.runAt ?? null;
  }

  delivery(id: number): { event: string; body: string; receivedAt: number } | null {
    const row = this.deliveryById.get(id);
    if (!row) return null;
    // Webhook bodies are stored as the bytes received (a BLOB); older rows and other callers' are TEXT.
    return {
      event: row.event,
      body: typeof row.body === 'string' ? row.body : row.body.toString('utf8'),
      receivedAt: row.receivedAt,
    };
  }

  ping(): boolean {
    try {
      this.select1.get();
      return true;
    } catch {
      return false;
    }
  }

  /** The marker written when this inbox was created (see inbox-identity.ts); null in an older one. */
  identity(): string | null {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'identity'").get() as { value: string } | undefined;
    return row?.value ?? null;
  }

  setIdentity(id: string): void {
    this.db
      .prepare(
        "INSERT INTO meta (key, value) VALUES ('identity', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(id);
  }

  /**
   * Writes one small row and commits, without waiting for a lock: null when the store took it,
   * else why not (locked by another process, disk full, read-only, I/O error).
   */
  probeWrite(now: number): string | null {
    try {
      this.db
        .prepare(
          "INSERT INTO meta (key, value) VALUES ('probed_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .run(String(now));
      return null;
    } catch (err) {
      const code = (err as { code?: string }).code;
      return `${code ?? 'error'}: ${(err as Error).message}`;
    }
  }

  /** Copies the open database, as it is now, to `target` (the SQLite online backup). */
  async copyTo(target: string): Promise<void> {
    await this.db.backup(target);
  }

  /**
   * Takes WAL checkpoints off this connection's commits: a thread with its own connection runs them
   * (see CHECKPOINT_THREAD), and this connection's auto-checkpoint is raised to 4× the bound, a
   * safety net should the thread stall or die (if it dies, the default of 1000 pages is restored).
   * `journal_size_limit` trims the WAL file whenever this connection rewinds it. For the webhook
   * server's connection; a no-op for `:memory:` or when already running.
   */
  checkpointInBackground(options: Partial<BackgroundCheckpointOptions> = {}): void {
    if (this.file === ':memory:' || this.checkpointer) return;
    const { walLimitBytes, intervalMs } = { ...DEFAULT_BACKGROUND_CHECKPOINT, ...options };
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const limitFrames = Math.max(1, Math.ceil(walLimitBytes / pageSize));
    this.db.pragma(`journal_size_limit = ${walLimitBytes}`);
    this.db.pragma(`wal_autocheckpoint = ${4 * limitFrames}`);
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(CHECKPOINT_THREAD, {
      eval: true,
      workerData: { driver, file: this.file, intervalMs, limitFrames },
    });
    worker.unref(); // never keeps the process alive
    this.checkpointer = worker;
    this.stats.running = true;
    worker.on('message', (m: { type: string; log?: number; busy?: number; ms?: number; message?: string }) => {
      if (m.type === 'passive') {
        this.stats.passive++;
        this.stats.lastWalFrames = m.log ?? 0;
      } else if (m.type === 'pause') {
        // Between two tasks of the event loop no transaction of this connection is open: hold the
        // group commits and let the thread take the write lock. Bounded, should the thread hang.
        let resume!: () => void;
        const promise = new Promise<void>((r) => (resume = r));
        const timer = setTimeout(() => this.resumeWrites(), 1_000);
        timer.unref();
        this.paused = { promise, resume, since: performance.now(), timer };
        worker.postMessage('paused');
      } else if (m.type === 'resume') {
        if (m.busy === 0) this.stats.restarts++;
        this.resumeWrites();
      } else if (m.type === 'error') {
        this.stats.error = m.message ?? 'unknown error';
      }
    });
    const fallBack = () => {
      if (this.checkpointer !== worker) return; // closed on purpose
      this.checkpointer = null;
      this.stats.running = false;
      this.resumeWrites();
      if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    };
    worker.on('error', (err) => {
      this.stats.error = err.message;
      fallBack();
    });
    worker.on('exit', fallBack);
  }

  private resumeWrites(): void {
    const paused = this.paused;
    if (!paused) return;
    this.paused = null;
    clearTimeout(paused.timer);
    this.stats.maxPauseMs = Math.max(this.stats.maxPauseMs, performance.now() - paused.since);
    paused.resume();
  }

  whenWritable(): Promise<void> | null {
    return this.paused?.promise ?? null;
  }

  backgroundStats(): CheckpointStats {
    return { ...this.stats };
  }

  close(): void {
    const worker = this.checkpointer;
    this.checkpointer = null;
    this.stats.running = false;
    this.resumeWrites();
    if (worker) {
      worker.postMessage('stop');
      void worker.terminate();
    }
    this.db.close();
  }
}
