import type { AcceptResult, Inbox, NewDelivery } from './inbox.js';

/**
 * Writes deliveries that arrive together in one transaction: each request waits for the commit
 * that holds its delivery (so nothing is acknowledged before it is durable), but a burst of
 * webhooks pays for one commit instead of one each. A lone delivery is written on the next turn
 * of the event loop, microseconds later. While the inbox holds writes back (a background
 * checkpoint restarting the WAL, `whenWritable`), deliveries gather and are written together after.
 */
export class GroupCommit {
  private pending: Array<{ delivery: NewDelivery; resolve: (r: AcceptResult) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  /** Waiting for the store to accept writes again. */
  private waiting = false;

  constructor(
    private readonly inbox: Inbox,
    private readonly now: () => number,
    private readonly maxBatch = 256,
  ) {}

  accept(delivery: NewDelivery): Promise<AcceptResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ delivery, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
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
      this.waiting = true;
      void gate.then(() => {
        this.waiting = false;
        this.flush();
      });
      return;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      const results = this.inbox.acceptMany(
        batch.map((b) => b.delivery),
        this.now(),
      );
      batch.forEach((b, i) => b.resolve(results[i]!));
    } catch (err) {
      // The whole transaction rolled back: every request in it is answered with the error.
      for (const b of batch) b.reject(err);
    }
  }
}
