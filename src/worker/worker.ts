import type { Logger } from 'pino';
import { CrmError } from '../crm/crm-sink.js';
import { isPermanent as isPermanentGitLabError } from '../gitlab/errors.js';
import type { ClaimedJob, Inbox, IssueRef } from '../queue/inbox.js';
import type { Metrics } from '../metrics/metrics.js';

export interface WorkerOptions {
  /** Different issues processed at once (one issue is never processed twice at once). */
  concurrency: number;
  leaseMs: number;
  /** Passes tried before a job is dead-lettered. */
  maxAttempts: number;
  /** Delay before attempt n+1 (n ≥ 1). */
  backoffMs: (attempt: number) => number;
  /** Longest sleep between looks at the inbox when nothing wakes the worker. */
  idlePollMs: number;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  concurrency: 16,
  leaseMs: 120_000,
  maxAttempts: 6,
  backoffMs: (attempt) => Math.min(300_000, 2_000 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2),
  idlePollMs: 1_000,
};

/**
 * Errors no retry can fix: dead-letter at once, with the message for `inbox list --failed`. A CRM
 * error reaching the worker is final: the CRM sink has already retried what could pass.
 */
function isPermanent(err: unknown): boolean {
  return isPermanentGitLabError(err) || err instanceof CrmError;
}

/**
 * Runs per-issue jobs from the inbox. Wakes on new deliveries, sleeps until the next due job,
 * retries transient failures with backoff and dead-letters the rest. `stop()` stops claiming,
 * lets in-flight passes finish within a grace period and returns the others to the queue.
 */
export class Worker {
  private running = false;
  private readonly inFlight = new Map<number, { job: ClaimedJob; done: Promise<void> }>();
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private idleWaiters: Array<() => void> = [];
  /** The store's latest failure while claiming or recording, until a look at the inbox succeeds again. */
  private storeFailure: { since: number; error: string; attempts: number } | null = null;
  private recovered = false;

  constructor(
    private readonly inbox: Inbox,
    private readonly pass: (issue: IssueRef, job: ClaimedJob) => Promise<void>,
    private readonly options: WorkerOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics | null,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Null while the worker can use the inbox; else since when and why it cannot (for /readyz). */
  storeProblem(): { since: number; error: string } | null {
    return this.storeFailure && { since: this.storeFailure.since, error: this.storeFailure.error };
  }

  wake(): void {
    this.wakeUp?.();
  }

  /** Resolves once nothing is running and nothing is due (tests, demo, benchmarks). */
  async idle(): Promise<void> {
    for (;;) {
      const next = await this.inbox.nextRunAt();
      if (this.inFlight.size === 0 && (next === null || next > this.now() + 60_000)) return;
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        setTimeout(resolve, 50).unref();
      });
    }
  }

  /**
   * The grace period bounds the whole stop, a look at the inbox included: one waiting for an
   * unreachable store (Redis reconnecting) is left behind, and a job it claims later goes back.
   */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.wake();
    const graceOver = new Promise<true>((r) => setTimeout(() => r(true), graceMs).unref());
    const loop = this.loop ?? Promise.resolve();
    const stuckLooking = await Promise.race([loop.then(() => false as const), graceOver]);
    const all = Promise.all([...this.inFlight.values()].map((f) => f.done));
    const timedOut = stuckLooking || (await Promise.race([all.then(() => false), graceOver]));
    if (timedOut && this.inFlight.size > 0) await this.releaseInFlight();
  }

  /** Passes still running go back to the queue; a pass is idempotent, so redoing one is safe. */
  private async releaseInFlight(): Promise<void> {
    const released = await Promise.allSettled(
      [...this.inFlight.values()].map(({ job }) => this.inbox.release(job, this.now())),
    );
    const failed = released.filter((r) => r.status === 'rejected').length;
    this.logger.warn(
      { released: released.length - failed, failed },
      'stopped with passes in flight; returned them to the queue (those not returned run again once their lease expires)',
    );
  }

  private async run(): Promise<void> {
    while (this.running) {
      let sleep: number;
      try {
        sleep = await this.claimDue();
        if (this.storeFailure) this.logger.info({ downMs: this.now() - this.storeFailure.since }, 'inbox usable again');
        this.storeFailure = null;
      } catch (err) {
        sleep = this.storeFailed(err);
      }
      if (!this.running) break;
      for (const w of this.idleWaiters.splice(0)) w();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleep);
        timer.unref();
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = null;
    }
  }

  /** Starts every due job there is room for; returns how long to sleep before looking again. */
  private async claimDue(): Promise<number> {
    if (!this.recovered) {
      const recovered = await this.inbox.recover(this.now());
      this.recovered = true;
      if (recovered > 0) this.logger.warn({ recovered }, 'resumed jobs left running by a previous process');
    }
    while (this.running && this.inFlight.size < this.options.concurrency) {
      const job = await this.inbox.claim(this.now(), this.options.leaseMs);
      if (!job) break;
      if (!this.running) {
        // Claimed after a stop gave up waiting for this look: not started, back to the queue.
        await this.inbox.release(job, this.now());
        break;
      }
      const done = this.execute(job).finally(() => {
        this.inFlight.delete(job.id);
        this.wake();
      });
      this.inFlight.set(job.id, { job, done });
    }
    const next = await this.inbox.nextRunAt();
    return Math.max(5, Math.min(this.options.idlePollMs, next === null ? Infinity : next - this.now()));
  }

  /**
   * The inbox refused a read or write (locked by another process past the busy timeout, disk full,
   * read-only, deleted): logged, shown by `storeProblem`, and tried again with backoff. A store
   * error never ends the process; jobs whose completion could not be recorded keep their lease
   * and are claimed again once it expires (a pass is idempotent).
   */
  private storeFailed(err: unknown): number {
    const error = err instanceof Error ? err.message : String(err);
    const attempts = (this.storeFailure?.attempts ?? 0) + 1;
    this.storeFailure = { since: this.storeFailure?.since ?? this.now(), error, attempts };
    const delay = Math.min(30_000, 100 * 2 ** (attempts - 1));
    this.logger.error({ err: error, attempts, retryInMs: delay }, 'inbox unusable; will retry');
    return delay;
  }

  private async execute(job: ClaimedJob): Promise<void> {
    const log = this.logger.child({ job: job.id, iid: job.issue.iid, attempt: job.attempts });
    try {
      await this.runPass(job, log);
    } catch (err) {
      this.storeFailed(err);
      log.error(
        { err: err instanceof Error ? err.message : String(err) },
        'could not record the outcome of a pass; it runs again when its lease expires',
      );
    }
  }

  /** One pass and the record of its outcome; throws only when the inbox refuses that record. */
  private async runPass(job: ClaimedJob, log: Logger): Promise<void> {
    const started = this.now();
    try {
      await this.pass(job.issue, job);
      await this.inbox.complete(job, this.now());
      this.metrics?.jobDuration.observe({ outcome: 'done' }, (this.now() - started) / 1000);
      this.metrics?.jobLatency.observe((this.now() - job.firstPendingAt) / 1000);
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (!isPermanent(err) && job.attempts < this.options.maxAttempts) {
        const delay = this.options.backoffMs(job.attempts);
        await this.inbox.retry(job, this.now() + delay, message, this.now());
        this.metrics?.jobDuration.observe({ outcome: 'retry' }, (this.now() - started) / 1000);
        log.warn({ err: message, retryInMs: Math.round(delay) }, 'pass failed, will retry');
      } else {
        await this.inbox.fail(job, message, this.now());
        this.metrics?.jobDuration.observe({ outcome: 'failed' }, (this.now() - started) / 1000);
        log.error({ err: message }, 'pass failed for good, dead-lettered');
      }
    }
  }
}
