import type { Logger } from 'pino';
import { planWrites } from '../domain/plan.js';
import type { ProcessDeps, PassResult } from './process-issue.js';
import { processIssue } from './process-issue.js';

export interface ReconcileOptions {
  /** Also issues (open or closed) updated since this ISO date or time. */
  since?: string;
  /**
   * Issues updated less than this long ago are left alone: their webhooks are in flight or being
   * processed by the service, and two passes over one issue at once (this sweep in CI, the
   * service elsewhere) could each create the same note or route with a different view of the load.
   */
  settleMs?: number;
}

export interface ReconcileLine {
  iid: number;
  outcome: PassResult['outcome'] | 'failed' | 'settling';
  detail: string;
}

/**
 * The sweep that heals whatever a missed or failed webhook left behind: every open issue (and,
 * with `since`, every issue updated since then) gets the same pass the webhook worker runs. The
 * routing state is seeded from that same listing of open issues (no second read), so routing in a
 * fresh CI job sees who already holds what and where each rotation stands, and then follows its
 * own assignments in memory.
 */
export async function reconcile(
  deps: ProcessDeps,
  options: ReconcileOptions,
  logger: Logger,
): Promise<ReconcileLine[]> {
  const open = await deps.client.listIssues({ state: 'opened' });
  const updated = options.since ? await deps.client.listIssues({ updatedAfter: options.since }) : [];
  const now = deps.now().getTime();
  await deps.routing.seed(open);
  const byIid = new Map([...open, ...updated].map((i) => [i.iid, i]));
  const iids = [...byIid.keys()].sort((a, b) => a - b);
  const settledBefore = now - (options.settleMs ?? 0);
  const lines: ReconcileLine[] = [];
  for (const iid of iids) {
    const updatedAt = Date.parse(byIid.get(iid)!.updated_at ?? '');
    if (updatedAt > settledBefore) {
      lines.push({
        iid,
        outcome: 'settling',
        detail: `updated ${new Date(updatedAt).toISOString()}: left to the webhook worker`,
      });
      continue;
    }
    try {
      const result = await processIssue(deps, iid, logger.child({ iid }));
      const done =
        result.outcome === 'dry-run' ? planWrites(result.plan).map((w) => `would ${w}`) : (result.applied?.done ?? []);
      const detail = result.plan ? [...result.plan.summary, ...done].join('; ') : 'issue gone';
      lines.push({ iid, outcome: result.outcome, detail });
    } catch (err) {
      logger.error({ iid, err: (err as Error).message }, 'reconcile pass failed');
      lines.push({ iid, outcome: 'failed', detail: (err as Error).message });
    }
  }
  return lines;
}
