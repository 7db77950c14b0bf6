/**
 * The durable inbox: webhook deliveries persisted before they are acknowledged, and per-issue jobs
 * that the worker runs. One issue never has two jobs running at once; a burst of deliveries for one
 * issue collapses into few passes. Implementations: SQLite (embedded default, synchronous) and
 * Redis with BullMQ (many replicas, asynchronous): callers await every result.
 */

/** A result now (SQLite) or later (Redis). */
export type Awaitable<T> = T | Promise<T>;

export interface IssueRef {
  projectId: number;
  iid: number;
}

export interface NewDelivery {
  /** Dedup key: the `Idempotency-Key` header, else a hash of event uuid + body. */
  key: string;
  /** `X-Gitlab-Event`, e.g. "Issue Hook". */
  event: string;
  /** `X-Gitlab-Event-UUID` when sent. */
  uuid: string | null;
  /**
   * The raw JSON body, kept for audit and `replay`: the bytes as received (the webhook route stores
   * the Buffer express already holds, without decoding it again), or a string.
   */
  body: string | Buffer;
  /** The issue this delivery is a hint about; null when it needs no job (ignored kinds). */
  issue: IssueRef | null;
  receivedAt: number;
}

export interface AcceptResult {
  duplicate: boolean;
  deliveryId: number;
}

export type JobStatus = 'pending' | 'running' | 'done' | 'failed';

export interface Job {
  id: number;
  issue: IssueRef;
  status: JobStatus;
  attempts: number;
  /** Epoch ms when the job may run next. */
  runAt: number;
  /** Epoch ms of the first delivery this pass answers (for the delivery-to-done latency). */
  firstPendingAt: number;
  lastError: string | null;
  /** Deliveries folded into this job since it last completed. */
  deliveries: number;
  updatedAt: number;
}

export interface ClaimedJob extends Job {
  /** Identifies this lease; completion with a stale lease is ignored. */
  lease: string;
}

export interface CoalescePolicy {
  /** Wait this long after the last delivery before running (ms). */
  quietMs: number;
  /** …but never longer than this after the first pending delivery (ms). */
  maxWaitMs: number;
}

export interface Inbox {
  /** Persists a delivery and (unless duplicate) schedules its issue's job, in one transaction. */
  accept(delivery: NewDelivery, now: number): Awaitable<AcceptResult>;
  /**
   * Persists several deliveries in one transaction (one commit, one fsync at most), each with the
   * same effect as `accept`; results in order. Bursts of webhooks are written this way.
   */
  acceptMany(deliveries: readonly NewDelivery[], now: number): Awaitable<AcceptResult[]>;
  /** Leases the next due job whose issue is not running; null when none is due. */
  claim(now: number, leaseMs: number): Awaitable<ClaimedJob | null>;
  /**
   * The pass finished: done, or pending again when deliveries arrived while it ran. This and the
   * three below return false (changing nothing) when the lease is no longer held.
   */
  complete(job: ClaimedJob, now: number): Awaitable<boolean>;
  /** A transient failure: try again at `runAt`. */
  retry(job: ClaimedJob, runAt: number, error: string, now: number): Awaitable<boolean>;
  /** A permanent failure or attempts exhausted: dead-letter with the error. */
  fail(job: ClaimedJob, error: string, now: number): Awaitable<boolean>;
  /** Returns a running job to pending (graceful shutdown), without counting an attempt. */
  release(job: ClaimedJob, now: number): Awaitable<boolean>;
  /**
   * Returns every running job to pending (attempt not counted): a worker starting up after a crash
   * or SIGKILL resumes what was in flight. Expired leases are also claimable without this.
   */
  recover(now: number): Awaitable<number>;
  /** Jobs, newest first; only failed ones with `failed`. */
  list(options: { failed?: boolean; limit?: number }): Awaitable<Job[]>;
  /** The pending job waiting longest since its first delivery (the status page's queue age), or null. */
  oldestPending(): Awaitable<Job | null>;
  /** Re-queues a failed job (attempts reset). Returns false when no such failed job. */
  retryFailed(jobId: number, now: number): Awaitable<boolean>;
  retryAllFailed(now: number): Awaitable<number>;
  /** Counts by status, for metrics and readiness. */
  depth(): Awaitable<Record<JobStatus, number>>;
  /** Earliest runAt among pending jobs (so the worker can sleep until then), or null. */
  nextRunAt(): Awaitable<number | null>;
  /** A raw delivery body by id (for replay and audit). */
  delivery(id: number): Awaitable<{ event: string; body: string; receivedAt: number } | null>;
  /** Cheap check that the store answers (readiness). */
  ping(): Awaitable<boolean>;
  /**
   * Optional: move WAL checkpoints off the caller's thread (the webhook server calls this once for
   * its own connection), keeping the WAL bounded. No-op for stores that have no WAL.
   */
  checkpointInBackground?(): void;
  /**
   * Optional: null when a write may go ahead now; else a promise that resolves when it may (a
   * background checkpoint is briefly restarting the WAL). Group commits wait on it instead of
   * blocking the event loop on the database lock.
   */
  whenWritable?(): Promise<void> | null;
  close(): Awaitable<void>;
}
