import { randomUUID } from 'node:crypto';
import { Queue, Worker as BullWorker, type Job as BullJob, type JobType } from 'bullmq';
import { Redis } from 'ioredis';
import type { AcceptResult, ClaimedJob, Inbox, IssueRef, Job, JobStatus, NewDelivery } from './inbox.js';
import { DEFAULT_REDIS_INBOX, type RedisInboxOptions } from './redis-inbox-options.js';

/** The BullMQ queue of per-issue passes. */
export const PASS_QUEUE = 'passes';

interface PassData {
  projectId: number;
  iid: number;
  /** Failed attempts so far (a release does not count). */
  retries: number;
  lastError: string | null;
}

/** Records a delivery once per key: [1, id] when the key was seen before, else [0, new id]. */
const RECORD_DELIVERY = `
local existing = redis.call('GET', KEYS[1])
if existing then return {1, tonumber(existing)} end
local id = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], id, 'PX', ARGV[1])
local body = ARGV[2] .. id
redis.call('HSET', body, 'event', ARGV[3], 'body', ARGV[4], 'receivedAt', ARGV[5])
redis.call('PEXPIRE', body, ARGV[1])
return {0, id}`;
/** Extends the lease when this token still holds it. */
const RENEW_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

interface LeaseCommands {
  recordDelivery(
    key: string,
    seq: string,
    ttl: number,
    bodyPrefix: string,
    event: string,
    body: string | Buffer,
    receivedAt: number,
  ): Promise<[number, number]>;
  renewLease(key: string, token: string, ms: number): Promise<number>;
  releaseLease(key: string, token: string): Promise<number>;
}

interface Claim {
  bull: BullJob<PassData>;
  renew: NodeJS.Timeout;
}

const STATUS_OF: Record<string, JobStatus> = {
  active: 'running',
  waiting: 'pending',
  wait: 'pending',
  delayed: 'pending',
  prioritized: 'pending',
  completed: 'done',
  failed: 'failed',
};

/** Resolves once `redis` is connected; rejects after `timeoutMs`. */
export async function connected(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', ready);
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const ready = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', ready);
  });
}

/**
 * The inbox on Redis with BullMQ, shared by every replica. One BullMQ job per issue: the job is
 * added with the issue as its deduplication id, so deliveries while it waits fold into it, and
 * `keepLastIfActive` queues exactly one more pass when deliveries arrive while it runs (the
 * SQLite inbox's `dirty`). On top of BullMQ's job lock, a pass holds a per-issue lease in Redis
 * (SET NX PX, renewed while it runs): a second job for the same issue (a dead letter retried while
 * a new one waits) is put back rather than run beside it, so one issue never has two passes at
 * once across replicas. Jobs whose replica died are handed back by BullMQ's stalled-job check once
 * their lock expires. Deliveries are kept `deliveryTtlMs` for replay and dedup.
 */
export class RedisInbox implements Inbox {
  private readonly claims = new Map<number, Claim>();
  private stalledCheck = false;

  private constructor(
    private readonly redis: Redis & LeaseCommands,
    private readonly fetcher: Redis,
    private readonly passes: Queue<PassData>,
    private readonly worker: BullWorker<PassData>,
    private readonly options: RedisInboxOptions,
    private readonly onError: (err: Error) => void,
  ) {}

  /**
   * Connects to `url`. Commands fail at once while Redis is unreachable (no offline queue), so a
   * delivery is answered 5xx instead of waiting; the clients reconnect by themselves.
   */
  static async connect(
    url: string,
    options: Partial<RedisInboxOptions> = {},
    onError: (err: Error) => void = () => {},
  ): Promise<RedisInbox> {
    const inbox = RedisInbox.open(url, options, onError);
    try {
      await inbox.whenConnected(10_000);
      return inbox;
    } catch (err) {
      await inbox.close();
      throw err;
    }
  }

  private static open(url: string, options: Partial<RedisInboxOptions>, onError: (err: Error) => void): RedisInbox {
    const o = { ...DEFAULT_REDIS_INBOX, ...options };
    const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false }) as Redis & LeaseCommands;
    redis.on('error', onError);
    redis.defineCommand('recordDelivery', { numberOfKeys: 2, lua: RECORD_DELIVERY });
    redis.defineCommand('renewLease', { numberOfKeys: 1, lua: RENEW_LEASE });
    redis.defineCommand('releaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
    const queue = new Queue<PassData>(PASS_QUEUE, {
      connection: redis,
      prefix: o.prefix,
      defaultJobOptions: { removeOnComplete: { count: o.keepDone }, removeOnFail: false },
    });
    queue.on('error', onError);
    // The worker only fetches jobs (no processor): our Worker class runs the passes. A stalled job
    // goes back to the queue however often it stalls (a killed replica is not the pass's fault).
    const fetcher = new Redis(url, { maxRetriesPerRequest: null });
    fetcher.on('error', onError);
    const worker = new BullWorker<PassData>(PASS_QUEUE, null, {
      connection: fetcher,
      prefix: o.prefix,
      autorun: false,
      lockDuration: o.leaseMs,
      // A dead replica's job moves on within 1.5 locks: expired, then seen by the next check.
      stalledInterval: Math.min(30_000, o.leaseMs / 2),
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    worker.on('error', onError);
    return new RedisInbox(redis, fetcher, queue, worker, o, onError);
  }

  /** The BullMQ queue of passes, for the read-only queue dashboard (everything else goes through the inbox's methods). */
  get queue(): Queue {
    return this.passes;
  }

  private whenConnected(timeoutMs: number): Promise<void> {
    return connected(this.redis, timeoutMs);
  }

  private key(name: string): string {
    return `${this.options.prefix}:${PASS_QUEUE}:${name}`;
  }

  private leaseKey(issue: IssueRef): string {
    return this.key(`lease:${issue.projectId}:${issue.iid}`);
  }

  /** Queues the issue's pass: a no-op while one waits, one more after it when one runs. */
  private async enqueue(issue: IssueRef, retries = 0, lastError: string | null = null): Promise<void> {
    await this.passes.add(
      'pass',
      { projectId: issue.projectId, iid: issue.iid, retries, lastError },
      {
        delay: this.options.quietMs,
        deduplication: { id: `issue:${issue.projectId}:${issue.iid}`, keepLastIfActive: true },
      },
    );
  }

  /**
   * The pass is queued before the delivery is recorded: should Redis fail between the two, the
   * delivery is refused (5xx, then the catch-up sweep) but never marked seen without its pass.
   */
  async accept(delivery: NewDelivery): Promise<AcceptResult> {
    const seen = await this.redis.get(this.key(`delivery-key:${delivery.key}`));
    if (seen !== null) return { duplicate: true, deliveryId: Number(seen) };
    if (delivery.issue) {
      await this.enqueue(delivery.issue);
      await this.redis.incr(this.key(`deliveries:${delivery.issue.projectId}:${delivery.issue.iid}`));
    }
    const [duplicate, id] = await this.redis.recordDelivery(
      this.key(`delivery-key:${delivery.key}`),
      this.key('delivery-seq'),
      this.options.deliveryTtlMs,
      this.key('delivery:'),
      delivery.event,
      delivery.body,
      delivery.receivedAt,
    );
    return { duplicate: duplicate === 1, deliveryId: id };
  }

  async acceptMany(deliveries: readonly NewDelivery[]): Promise<AcceptResult[]> {
    return Promise.all(deliveries.map((d) => this.accept(d)));
  }

  /**
   * The next due job whose issue's lease is free. A job whose issue is leased elsewhere goes back
   * to the delayed set for one quiet window and the next job is tried. The lease is this inbox's
   * `leaseMs` (not the worker's, which is the SQLite inbox's): BullMQ locked the job for that long,
   * and the lease and the lock are renewed together.
   */
  async claim(now: number): Promise<ClaimedJob | null> {
    const { leaseMs } = this.options;
    for (let tries = 0; tries < 16; tries++) {
      const token = randomUUID();
      const bull = (await this.worker.getNextJob(token, { block: false })) as BullJob<PassData> | undefined;
      if (!bull) return null;
      const issue = { projectId: bull.data.projectId, iid: bull.data.iid };
      const leased = await this.redis.set(this.leaseKey(issue), token, 'PX', leaseMs, 'NX');
      if (leased === null) {
        await bull.moveToDelayed(now + this.options.quietMs, token);
        continue;
      }
      const deliveries = await this.redis.getdel(this.key(`deliveries:${issue.projectId}:${issue.iid}`));
      const id = Number(bull.id);
      const renew = setInterval(() => void this.renew(bull, token, leaseMs, issue), leaseMs / 3);
      renew.unref();
      this.claims.set(id, { bull, renew });
      return {
        id,
        issue,
        status: 'running',
        attempts: bull.data.retries + 1,
        runAt: bull.timestamp + (bull.delay ?? 0),
        firstPendingAt: bull.timestamp,
        lastError: bull.data.lastError,
        deliveries: Number(deliveries ?? 1),
        updatedAt: now,
        lease: token,
      };
    }
    return null;
  }

  private async renew(bull: BullJob<PassData>, token: string, leaseMs: number, issue: IssueRef): Promise<void> {
    try {
      await bull.extendLock(token, leaseMs);
      await this.redis.renewLease(this.leaseKey(issue), token, leaseMs);
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Stops renewing and gives up the issue's lease; the BullMQ move itself checks the job lock. */
  private async finish(job: ClaimedJob, move: (bull: BullJob<PassData>) => Promise<unknown>): Promise<boolean> {
    const claim = this.claims.get(job.id);
    if (!claim) return false;
    this.claims.delete(job.id);
    clearInterval(claim.renew);
    try {
      await move(claim.bull);
      return true;
    } catch (err) {
      // "Missing lock": the lease expired and the job was handed to another replica.
      if (/lock/i.test((err as Error).message)) return false;
      throw err;
    } finally {
      await this.redis.releaseLease(this.leaseKey(job.issue), job.lease);
    }
  }

  complete(job: ClaimedJob): Promise<boolean> {
    return this.finish(job, (bull) => bull.moveToCompleted('done', job.lease, false));
  }

  retry(job: ClaimedJob, runAt: number, error: string): Promise<boolean> {
    return this.finish(job, async (bull) => {
      await bull.updateData({ ...bull.data, retries: bull.data.retries + 1, lastError: error });
      await bull.moveToDelayed(runAt, job.lease);
    });
  }

  fail(job: ClaimedJob, error: string): Promise<boolean> {
    return this.finish(job, async (bull) => {
      await bull.updateData({ ...bull.data, lastError: error });
      await bull.moveToFailed(new Error(error), job.lease, false);
    });
  }

  release(job: ClaimedJob): Promise<boolean> {
    return this.finish(job, (bull) => bull.moveToWait(job.lease));
  }

  /**
   * Other replicas' passes are theirs: nothing is taken back at start. Starts BullMQ's stalled-job
   * check instead (one replica at a time runs it), which returns jobs whose lock expired.
   */
  async recover(): Promise<number> {
    if (!this.stalledCheck) {
      this.stalledCheck = true;
      void this.worker.startStalledCheckTimer().catch(this.onError);
    }
    return 0;
  }

  private toJob(bull: BullJob<PassData>, status: JobStatus): Job {
    return {
      id: Number(bull.id),
      issue: { projectId: bull.data.projectId, iid: bull.data.iid },
      status,
      attempts: bull.data.retries,
      runAt: bull.timestamp + (bull.delay ?? 0),
      firstPendingAt: bull.timestamp,
      lastError: bull.data.lastError ?? bull.failedReason ?? null,
      deliveries: 1,
      updatedAt: bull.finishedOn ?? bull.processedOn ?? bull.timestamp,
    };
  }

  private async jobsIn(types: JobType[], limit: number): Promise<Job[]> {
    const lists = await Promise.all(
      types.map(async (type) =>
        (await this.passes.getJobs([type], 0, limit - 1)).filter(Boolean).map((b) => this.toJob(b, STATUS_OF[type]!)),
      ),
    );
    return lists.flat().sort((a, b) => b.updatedAt - a.updatedAt || b.id - a.id);
  }

  async list(options: { failed?: boolean; limit?: number }): Promise<Job[]> {
    const limit = options.limit ?? 1_000;
    const types: JobType[] = options.failed ? ['failed'] : ['active', 'wait', 'delayed', 'failed', 'completed'];
    return (await this.jobsIn(types, limit)).slice(0, limit);
  }

  async oldestPending(): Promise<Job | null> {
    const pending = await this.jobsIn(['wait', 'delayed'], 100);
    return pending.reduce<Job | null>((o, j) => (o === null || j.firstPendingAt < o.firstPendingAt ? j : o), null);
  }

  /** The dead letter is removed and its issue queued again (one job per issue stays the rule). */
  async retryFailed(jobId: number): Promise<boolean> {
    const bull = await this.passes.getJob(String(jobId));
    if (!bull || (await bull.getState()) !== 'failed') return false;
    await bull.remove();
    await this.enqueue({ projectId: bull.data.projectId, iid: bull.data.iid });
    return true;
  }

  async retryAllFailed(): Promise<number> {
    let n = 0;
    for (const bull of await this.passes.getFailed(0, -1)) if (await this.retryFailed(Number(bull.id))) n++;
    return n;
  }

  async depth(): Promise<Record<JobStatus, number>> {
    const c = await this.passes.getJobCounts('active', 'wait', 'delayed', 'prioritized', 'completed', 'failed');
    return {
      pending: (c.wait ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0),
      running: c.active ?? 0,
      done: c.completed ?? 0,
      failed: c.failed ?? 0,
    };
  }

  async nextRunAt(): Promise<number | null> {
    const c = await this.passes.getJobCounts('wait', 'prioritized');
    if ((c.wait ?? 0) + (c.prioritized ?? 0) > 0) return Date.now();
    // BullMQ scores a delayed job by its due time × 0x1000 plus a counter.
    const [, score] = await this.redis.zrange(this.key('delayed'), 0, 0, 'WITHSCORES');
    return score === undefined ? null : Math.floor(Number(score) / 0x1000);
  }

  async delivery(id: number): Promise<{ event: string; body: string; receivedAt: number } | null> {
    const row = await this.redis.hgetall(this.key(`delivery:${id}`));
    if (row.event === undefined) return null;
    return { event: row.event, body: row.body ?? '', receivedAt: Number(row.receivedAt) };
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Where Redis stands, for /readyz: null when it answers, else why not. */
  async problem(): Promise<string | null> {
    try {
      await this.redis.ping();
      return null;
    } catch (err) {
      return `redis: ${(err as Error).message}`;
    }
  }

  async close(): Promise<void> {
    for (const { renew } of this.claims.values()) clearInterval(renew);
    this.claims.clear();
    await this.worker.close(true);
    await this.passes.close();
    this.redis.disconnect();
    this.fetcher.disconnect();
  }
}
