import type { Logger } from 'pino';
import type { Config } from '../domain/config.js';
import { sendCta, type CrmSettings, type CtaRecord } from '../crm/crm-sink.js';
import { decide, type RenderNote } from '../domain/decide.js';
import { isEmptyPlan, type Plan } from '../domain/plan.js';
import { readRequest } from '../domain/read-request.js';
import type { AccountIndex } from '../gitlab/account-index.js';
import { applyPlan, type ApplyResult } from '../gitlab/apply.js';
import type { GitLabClient } from '../gitlab/client.js';
import { AmbiguousWriteError, GitLabHttpError } from '../gitlab/errors.js';
import { loadSnapshot, relatedOf } from '../gitlab/snapshot.js';
import type { Workload } from '../domain/route.js';
import type { RoutingMemory } from './routing-state.js';

export interface ProcessDeps {
  client: GitLabClient;
  /** The configuration in use now (it may change between passes, never within one). */
  readonly config: Config;
  /** Who holds how much and each pool's rotation, derived from GitLab and kept in memory. */
  routing: RoutingMemory;
  /** Which requests name which account (duplicates, engagement limit). */
  accounts: AccountIndex;
  botUsername: () => string;
  render: RenderNote;
  now: () => Date;
  dryRun: boolean;
  /** The optional CRM sink; null when not configured. */
  crm: CrmSettings | null;
}

export type PassResult =
  | { outcome: 'gone'; plan: null; applied: null }
  | { outcome: 'unchanged' | 'applied' | 'dry-run'; plan: Plan; applied: ApplyResult | null };

/**
 * One reconcile pass over one issue: load what GitLab has now, decide, apply the difference. The
 * webhook worker, `replay` and the reconcile sweep all run exactly this.
 */
export async function processIssue(deps: ProcessDeps, iid: number, logger: Logger): Promise<PassResult> {
  let lost: string | null = null;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await pass(deps, iid, logger);
      // The first pass did write (what it wrote landed, as this pass found): say so.
      if (lost !== null && result.outcome === 'unchanged')
        return {
          ...result,
          outcome: 'applied',
          applied: { writes: 1, done: [`${lost} (its answer was lost; it had landed)`] },
        };
      return result;
    } catch (err) {
      // A write whose answer was lost (a 502 after it landed): a fresh pass reads what GitLab has
      // and writes only what is still missing, as `report` and `remind` look again.
      if (err instanceof AmbiguousWriteError && attempt === 1) {
        logger.info({ iid, err: err.message }, 'a write may or may not have landed; passing again');
        lost = err.message.split(': ')[0]!;
        continue;
      }
      if (!(err instanceof GitLabHttpError && err.status === 404)) throw err;
      if (await issueGone(deps.client, iid)) {
        // Deleted (or moved out of reach) since the event, perhaps in the middle of this pass.
        await deps.routing.markClosed(iid);
        deps.accounts.forget(iid);
        logger.info({ iid }, 'issue gone, job ends');
        return { outcome: 'gone', plan: null, applied: null };
      }
      // The issue is there but a note the pass read is not (deleted meanwhile): one fresh pass.
      if (attempt > 1) throw err;
      logger.info({ iid, err: err.message }, 'something the pass read is gone; passing again');
    }
  }
}

/**
 * A 404 from a notes call is not proof of deletion, and neither is one for the issue while the
 * project itself answers 404 (the bot lost access, or the project moved): that error is rethrown,
 * so the job is kept for `inbox retry` rather than dropped.
 */
async function issueGone(client: GitLabClient, iid: number): Promise<boolean> {
  try {
    await client.issue(iid);
    return false;
  } catch (err) {
    if (!(err instanceof GitLabHttpError && err.status === 404)) throw err;
  }
  await client.getProject();
  return true;
}

async function pass(deps: ProcessDeps, iid: number, logger: Logger): Promise<PassResult> {
  // One configuration for the whole pass, even if a newer one is loaded meanwhile.
  const config = deps.config;
  // The account index is brought up to date beside the issue's own reads: no extra round trip.
  const [snapshot] = await Promise.all([
    loadSnapshot(deps.client, iid, deps.botUsername(), config),
    deps.accounts.prepare(config),
  ]);
  // The description read once, for the account lookup and the decision alike.
  const request = readRequest(snapshot, config);
  const related = relatedOf(deps.accounts, snapshot, request, config);
  const crm = deps.crm ? { enabled: true } : undefined;
  const decideWith = (workload: Workload) =>
    decide(
      { issue: snapshot, request, related, workload, botUsername: deps.botUsername(), ...(crm ? { crm } : {}) },
      config,
      deps.now(),
      deps.render,
    );
  await deps.routing.ready();
  // A dry run reserves nothing: it writes nothing to GitLab, so it must not count as if it had.
  const dryWorkload = deps.dryRun ? await deps.routing.workload(iid) : null;
  const { decided: plan, workload } = dryWorkload
    ? { decided: decideWith(dryWorkload), workload: dryWorkload }
    : await deps.routing.decideAndRecord(iid, decideWith);
  logger.info(
    {
      iid,
      summary: plan.summary,
      labels: plan.labels,
      assignees: plan.assignees,
      notes: [...plan.notes.map((n) => `${n.action}:${n.key}`), ...plan.deleteNotes.map((n) => `delete:${n.key}`)],
    },
    'plan decided',
  );
  // A dry run says "would change" only where a real pass would write something.
  if (deps.dryRun) return { outcome: isEmptyPlan(plan) ? 'unchanged' : 'dry-run', plan, applied: null };
  const applied = await applyPlan(deps.client, plan, logger);
  if (plan.crm && deps.crm) {
    // Sent after the issue is updated, so a CRM outage never holds up the request itself; a failure
    // retries the whole (idempotent) pass, and the per-issue key keeps the CRM from a second record.
    const recordId = await sendCta(deps.crm, plan.crm.idempotencyKey, plan.crm.record as unknown as CtaRecord);
    logger.info({ iid, recordId }, 'CTA record sent to the CRM');
    const fresh = await loadSnapshot(deps.client, iid, deps.botUsername(), config);
    const recorded = decide(
      {
        issue: fresh,
        // Read afresh like the issue: its labels changed with the writes, and parse reads them.
        request: readRequest(fresh, config),
        related,
        workload,
        botUsername: deps.botUsername(),
        crm: { enabled: true, recordId },
      },
      config,
      deps.now(),
      deps.render,
    );
    const more = await applyPlan(deps.client, recorded, logger);
    applied.writes += more.writes;
    applied.done.push(...more.done);
  }
  if (!plan.engagement && snapshot.state === 'closed') await deps.routing.markClosed(iid);
  return { outcome: applied.writes === 0 ? 'unchanged' : 'applied', plan, applied };
}
