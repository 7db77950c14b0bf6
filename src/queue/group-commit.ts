import type { AcceptResult, Awaitable, Inbox, NewDelivery } from './inbox.js';

export interface GroupCommitOptions {
  maxBatch: number;
  /**
   * How long a delivery may wait for a store that refuses writes (locked by another process, disk
   * full, read-only) before its request is answered with a `StoreUnavailableError`. Under GitLab's
   * webhook timeout (10 s by default), so the answer still reaches GitLab.
   */
  deadlineMs: number;
  /** Delay before the n-th retry (n ≥ 1) of a batch the store refused. */
  retryMs: (attempt: number) => number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = {
  maxBatch: 256,
  deadlineMs: 7_000,
  retryMs: (attempt) => Math.min(500, 5 * 2 ** (attempt - 1)),
};

/** The store did not take the delivery in time: nothing was written for it. */
export class StoreUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`the inbox refused writes: ${reason}`);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Whether a failed write may succeed later unchanged: SQLite's lock, space and I/O errors (another
 * process holds the write lock, the disk is full or read-only). Constraint and type errors would
 * fail again, as would any error that is not SQLite's.
 */
export function isRetryableStoreError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && code.startsWith('SQLITE_') && !/^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code)
  );
}

interface Waiting {
  delivery: NewDelivery;
  deadline: number;
  resolve: (r: AcceptResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Writes deliveries that arrive together in one transaction: each request waits for the commit
 * that holds its delivery (so nothing is acknowledged before it is durable), but a burst of
 * webhooks pays for one commit instead of one each. A lone delivery is written on the next turn
 * of the event loop, microseconds later. While the inbox holds writes back (a background
 * checkpoint restarting the WAL, `whenWritable`), deliveries gather and are written together after.
 *
 * A write the store refuses for now (see `isRetryableStoreError`) is retried from a timer, never
 * by blocking the event loop on the lock; the waiting deliveries stay in memory (bounded by the
 * caller's body budget) until they are written or their deadline passes.
 */
export class GroupCommit {
  private pending: Waiting[] = [];
  private scheduled = false;
  /** Waiting for the store to accept writes again. */
  private waiting = false;
  private failures = 0;
  private readonly options: GroupCommitOptions;

  constructor(
    private readonly inbox: Inbox,
    private readonly now: () => number,
    options: Partial<GroupCommitOptions> = {},
  ) {
    this.options = { ...DEFAULT_GROUP_COMMIT, ...options };
  }

  accept(delivery: NewDelivery): Promise<AcceptResult> {
    return new Promise((resolve, reject) => {
      // Deadlines on the monotonic clock: `now` stamps the rows and may be a test's fixed time.
      this.pending.push({ delivery, deadline: performance.now() + this.options.deadlineMs, resolve, reject });
      if (this.waiting) return;
      if (this.pending.length >= this.options.maxBatch && this.failures === 0) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.waiting) return;
    const gate = this.inbox.whenWritable?.();
    if (gate) {
      // Requests keep arriving and are answered after the commit that follows; the event loop is
      // never blocked on the database lock meanwhile.
      this.hold(gate);
      return;
    }
    const batch = this.pending.splice(0, this.options.maxBatch);
    if (batch.length === 0) return;
    let written: Awaitable<AcceptResult[]>;
    try {
      written = this.inbox.acceptMany(
        batch.map((b) => b.delivery),
        this.now(),
      );
    } catch (err) {
      this.refused(batch, err);
      return;
    }
    if (!(written instanceof Promise)) return this.written(batch, written);
    // An asynchronous store (Redis): deliveries arriving during this write gather for the next one.
    this.waiting = true;
    written.then(
      (results) => {
        this.waiting = false;
        this.written(batch, results);
      },
      (err: unknown) => {
        this.waiting = false;
        this.refused(batch, err);
      },
    );
  }

  private written(batch: Waiting[], results: AcceptResult[]): void {
    this.failures = 0;
    batch.forEach((b, i) => b.resolve(results[i]!));
    if (this.pending.length > 0) this.flush();
  }

  private refused(batch: Waiting[], err: unknown): void {
    if (!isRetryableStoreError(err)) {
      // The whole transaction rolled back: every request in it is answered with the error.
      for (const b of batch) b.reject(err);
      if (this.pending.length > 0) this.flush();
      return;
    }
    this.failures++;
    const now = performance.now();
    const reason = err instanceof Error ? err.message : String(err);
    const kept = batch.filter((b) => b.deadline > now || (b.reject(new StoreUnavailableError(reason)), false));
    this.pending.unshift(...kept);
    if (this.pending.length > 0)
      this.hold(new Promise((r) => setTimeout(r, this.options.retryMs(this.failures)).unref()));
  }

  private hold(gate: Promise<unknown>): void {
    this.waiting = true;
    void gate.then(() => {
      this.waiting = false;
      this.flush();
    });
  }
}
