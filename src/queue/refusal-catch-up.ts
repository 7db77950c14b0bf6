import type { Logger } from 'pino';
import type { Inbox } from './inbox.js';

export interface CatchUpDeps {
  inbox: Inbox;
  /** Issues of the request project updated after the ISO time, by iid. */
  updatedAfter: (iso: string) => Promise<Array<{ iid: number }>>;
  projectId: () => number | null;
  now: () => number;
  logger: Logger;
  /** Passes were queued (wake the worker). */
  onQueued: () => void;
  /** Between attempts while GitLab or the store still fail. */
  retryMs?: number;
  /** Taken off the window's start (default `CATCH_UP_MARGIN_MS`). */
  marginMs?: number;
}

/**
 * How far before the first refused delivery the sweep reaches. A comment moves its issue's
 * `updated_at` only when that is over a minute old (`Note#touch_noteable` with `ThrottledTouch`),
 * so an issue commented on at T may show T - 60 s; and GitLab sends a hook from a Sidekiq queue,
 * so the refused delivery may reach us minutes after its event; and GitLab's clock is not ours.
 * A pass more is cheap (it writes nothing when nothing changed); a missed one is a lost request.
 */
export const CATCH_UP_MARGIN_MS = 10 * 60_000;

/** One catch-up sweep: when it ran, the start of the window it covered, how many issues it queued. */
export interface CatchUpSweep {
  at: number;
  since: number;
  issues: number;
}

/**
 * GitLab does not redeliver a webhook the service answered with an error. After deliveries were
 * refused (the store could not take them), this queues a pass for every issue updated since the
 * first refusal, from the issue list: what the lost deliveries would have queued. It keeps trying
 * until both GitLab and the store answer; meanwhile `/readyz` reports the open window.
 */
export class RefusalCatchUp {
  private window: { since: number; latest: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private last: CatchUpSweep | null = null;

  constructor(private readonly deps: CatchUpDeps) {}

  /** A delivery received at `receivedAt` was refused. */
  refused(receivedAt: number): void {
    if (this.window === null)
      this.deps.logger.error(
        { since: new Date(receivedAt).toISOString() },
        'deliveries refused; issues updated since will be reconciled',
      );
    this.window = {
      since: Math.min(this.window?.since ?? receivedAt, receivedAt),
      latest: Math.max(this.window?.latest ?? receivedAt, receivedAt),
    };
    this.schedule();
  }

  /** The last sweep that queued its passes (this process only), or null. */
  lastSweep(): CatchUpSweep | null {
    return this.last;
  }

  /** The start of the window still to reconcile, or null. */
  pendingSince(): number | null {
    return this.window?.since ?? null;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, this.deps.retryMs ?? 5_000);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const window = this.window;
    const projectId = this.deps.projectId();
    if (!window) return;
    this.running = true;
    const startedAt = this.deps.now();
    try {
      if (projectId === null) throw new Error('project id not known yet (GitLab not reachable)');
      const issues = await this.deps.updatedAfter(
        new Date(window.since - (this.deps.marginMs ?? CATCH_UP_MARGIN_MS)).toISOString(),
      );
      await this.deps.inbox.acceptMany(
        issues.map(({ iid }) => ({
          key: `catch-up:${projectId}:${iid}:${window.since}`,
          event: 'Catch-up',
          uuid: null,
          body: JSON.stringify({ reason: 'deliveries refused', since: new Date(window.since).toISOString() }),
          issue: { projectId, iid },
          receivedAt: startedAt,
        })),
        startedAt,
      );
      this.deps.onQueued();
      this.last = { at: startedAt, since: window.since, issues: issues.length };
      // Refusals during this run that the list may have missed open a window from its start.
      this.window = this.window!.latest >= startedAt ? { since: startedAt, latest: this.window!.latest } : null;
      this.deps.logger.info(
        { since: new Date(window.since).toISOString(), issues: issues.length },
        'refused deliveries reconciled: passes queued',
      );
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'catch-up after refused deliveries failed; will retry');
    } finally {
      this.running = false;
    }
    if (this.window) this.schedule();
  }
}
