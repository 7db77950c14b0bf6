import type { Logger } from 'pino';
import type { Config } from '../domain/config.js';
import { decide, type RenderNote } from '../domain/decide.js';
import type { Plan } from '../domain/plan.js';
import { applyPlan, type ApplyResult } from '../gitlab/apply.js';
import type { GitLabClient } from '../gitlab/client.js';
import { GitLabHttpError } from '../gitlab/requester.js';
import { loadRelated, loadSnapshot } from '../gitlab/snapshot.js';
import type { EngagementIndex } from '../queue/engagement-index.js';

export interface ProcessDeps {
  client: GitLabClient;
  config: Config;
  index: EngagementIndex;
  projectId: number;
  botUsername: () => string;
  render: RenderNote;
  now: () => Date;
  dryRun: boolean;
}

export type PassResult =
  | { outcome: 'gone'; plan: null; applied: null }
  | { outcome: 'unchanged' | 'applied' | 'dry-run'; plan: Plan; applied: ApplyResult | null };

/**
 * One reconcile pass over one issue: load what GitLab has now, decide, apply the difference. The
 * webhook worker, `replay` and the reconcile sweep all run exactly this.
 */
export async function processIssue(deps: ProcessDeps, iid: number, logger: Logger): Promise<PassResult> {
  let snapshot;
  try {
    snapshot = await loadSnapshot(deps.client, iid, deps.botUsername(), deps.config);
  } catch (err) {
    if (err instanceof GitLabHttpError && err.status === 404) {
      // Deleted (or moved) since the event: nothing left to do.
      deps.index.markClosed(deps.projectId, iid, deps.now().getTime());
      logger.info({ iid }, 'issue gone, job ends');
      return { outcome: 'gone', plan: null, applied: null };
    }
    throw err;
  }
  const related = await loadRelated(deps.client, snapshot, deps.config);
  const workload = deps.index.workload(deps.projectId, iid);
  const plan = decide({ issue: snapshot, related, workload, botUsername: deps.botUsername() }, deps.config, deps.now(), deps.render);
  logger.info({ iid, summary: plan.summary, labels: plan.labels, assignees: plan.assignees, notes: plan.notes.map((n) => `${n.action}:${n.key}`) }, 'plan decided');
  if (deps.dryRun) return { outcome: 'dry-run', plan, applied: null };
  const applied = await applyPlan(deps.client, plan, logger);
  const at = deps.now().getTime();
  if (plan.engagement) deps.index.record(deps.projectId, plan.engagement, at);
  else if (snapshot.state === 'closed') deps.index.markClosed(deps.projectId, iid, at);
  return { outcome: applied.writes === 0 ? 'unchanged' : 'applied', plan, applied };
}
