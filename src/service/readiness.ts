import type { ConfigSource } from '../config/config-source.js';
import { DEFAULT_INBOX_HEALTH, InboxHealth, inboxFileProblem, type InboxHealthOptions } from '../queue/inbox-health.js';
import type { SqliteInbox } from '../queue/sqlite-inbox.js';
import type { ReadinessReport } from '../server/app.js';
import type { Worker } from '../worker/worker.js';
import type { BotIdentity } from './bot-identity.js';
import type { RefusalCatchUp } from '../queue/refusal-catch-up.js';

/** GitLab is asked at most this often, however often the orchestrator probes. */
const GITLAB_CHECK_MS = 30_000;
/**
 * …or this often while it fails: a failure may not have reached GitLab at all (Redis, which paces
 * the calls of replicas, was away), and readiness should come back soon after the cause goes.
 */
const GITLAB_RECHECK_MS = 5_000;

export interface ReadinessSources {
  /** Null when the inbox's store can take deliveries, else why not. */
  store: () => Promise<string | null>;
  worker: Worker | null;
  catchUp: RefusalCatchUp;
  identity: BotIdentity;
  configSource: ConfigSource;
}

/** The SQLite inbox's check: its file, space and a write; a lost file is copied beside the data. */
export function sqliteStoreCheck(
  inbox: SqliteInbox,
  rescue: () => Promise<void>,
  options?: Partial<InboxHealthOptions>,
): () => Promise<string | null> {
  const health = new InboxHealth(inbox, { ...DEFAULT_INBOX_HEALTH, ...options });
  return async () => {
    const problem = await health.problem(Date.now());
    if (problem && inboxFileProblem(inbox, false)) await rescue();
    return problem;
  };
}

/** `/readyz`: the store, the worker, refused deliveries, GitLab and the configuration, each with its word. */
export function readinessCheck(sources: ReadinessSources): () => Promise<ReadinessReport> {
  const { worker, catchUp, identity, configSource } = sources;
  let gitlabCheck: { at: number; ok: boolean; detail: string } | null = null;
  const checkGitLab = async (): Promise<{ ok: boolean; detail: string }> => {
    const maxAge = gitlabCheck?.ok ? GITLAB_CHECK_MS : GITLAB_RECHECK_MS;
    if (gitlabCheck !== null && Date.now() - gitlabCheck.at <= maxAge) return gitlabCheck;
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
    const storeProblem = await sources.store();
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
