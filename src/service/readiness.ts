import type { ConfigSource } from '../config/config-source.js';
import { DEFAULT_INBOX_HEALTH, InboxHealth, inboxFileProblem, type InboxHealthOptions } from '../queue/inbox-health.js';
import type { SqliteInbox } from '../queue/sqlite-inbox.js';
import type { ReadinessReport } from '../server/app.js';
import type { Worker } from '../worker/worker.js';
import type { BotIdentity } from './bot-identity.js';
import type { RefusalCatchUp } from './refusal-catch-up.js';

/** GitLab is asked at most this often, however often the orchestrator probes. */
const GITLAB_CHECK_MS = 30_000;

export interface ReadinessSources {
  inbox: SqliteInbox;
  worker: Worker | null;
  catchUp: RefusalCatchUp;
  identity: BotIdentity;
  configSource: ConfigSource;
  /** Copies a lost inbox file beside the data (once). */
  rescue: () => Promise<void>;
  inboxHealth?: Partial<InboxHealthOptions>;
}

/** `/readyz`: the store, the worker, refused deliveries, GitLab and the configuration, each with its word. */
export function readinessCheck(sources: ReadinessSources): () => Promise<ReadinessReport> {
  const { inbox, worker, catchUp, identity, configSource } = sources;
  const health = new InboxHealth(inbox, { ...DEFAULT_INBOX_HEALTH, ...sources.inboxHealth });
  let gitlabCheck: { at: number; ok: boolean; detail: string } | null = null;
  const checkGitLab = async (): Promise<{ ok: boolean; detail: string }> => {
    if (gitlabCheck !== null && Date.now() - gitlabCheck.at <= GITLAB_CHECK_MS) return gitlabCheck;
    try {
      await identity.learn();
      gitlabCheck = {
        at: Date.now(),
        ok: true,
        detail: `ok (bot user ${identity.username}, project ${identity.projectPath ?? identity.projectId})`,
      };
    } catch (err) {
      gitlabCheck = { at: Date.now(), ok: false, detail: identity.unreachable(err) };
    }
    return gitlabCheck;
  };
  return async () => {
    const checks: Record<string, string> = {};
    const storeProblem = await health.problem(Date.now());
    if (storeProblem && inboxFileProblem(inbox, false)) await sources.rescue();
    checks.store = storeProblem ?? 'ok';
    const workerProblem = worker?.storeProblem() ?? null;
    if (worker)
      checks.worker = workerProblem
        ? `inbox unusable since ${new Date(workerProblem.since).toISOString()}: ${workerProblem.error}`
        : 'ok';
    const refusedSince = catchUp.pendingSince();
    checks.deliveries =
      refusedSince === null
        ? 'ok'
        : `refused since ${new Date(refusedSince).toISOString()}; issues updated since are being reconciled`;
    const gitlab = await checkGitLab();
    checks.gitlab = gitlab.detail;
    checks.config = configSource.status();
    return { ok: storeProblem === null && workerProblem === null && gitlab.ok && identity.known, checks };
  };
}
