import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { ConfigSource } from '../config/config-source.js';
import type { Config } from '../domain/config.js';
import { GitLabClient } from '../gitlab/client.js';
import { AccountIndex } from '../gitlab/account-index.js';
import { createRequester, GitLabHttpError, type Requester } from '../gitlab/requester.js';
import { DEFAULT_INBOX_HEALTH, InboxHealth, inboxFileProblem, type InboxHealthOptions } from '../queue/inbox-health.js';
import { INBOX_FILE, openServiceInbox } from '../queue/inbox-identity.js';
import type { GroupCommitOptions } from '../queue/group-commit.js';
import type { SqliteInbox } from '../queue/sqlite-inbox.js';
import { renderNote } from '../render/notes.js';
import { createApp, createWebhookServer, type ReadinessReport, type ServerTimeouts } from '../server/app.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { statusRouter } from '../status/routes.js';
import { DEFAULT_WORKER_OPTIONS, Worker, type WorkerOptions } from '../worker/worker.js';
import { processIssue, type ProcessDeps } from '../worker/process-issue.js';
import { RoutingState } from '../worker/routing-state.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { RefusalCatchUp } from './refusal-catch-up.js';
import type { ServiceSettings } from './settings.js';

/** How often the project's configuration is checked, for instances that send no Push Hook. */
const CONFIG_CHECK_MS = 5 * 60_000;

/** How long the routing state read from GitLab is trusted before it is read again (this process's own passes keep it current meanwhile). */
const ROUTING_STATE_MAX_AGE_MS = 15 * 60_000;

export interface ServiceOptions {
  server: boolean;
  worker: boolean;
  logger?: Logger;
  workerOptions?: Partial<WorkerOptions>;
  /** Coalescing window for bursts of deliveries about one issue. */
  coalesce?: { quietMs: number; maxWaitMs: number };
  /** Set aside the inbox in the data directory, whatever it is, and start with an empty one. */
  freshInbox?: boolean;
  /** Tests shorten these. */
  timeouts?: Partial<ServerTimeouts>;
  commits?: Partial<GroupCommitOptions>;
  inboxHealth?: Partial<InboxHealthOptions>;
  catchUpRetryMs?: number;
  /** How often the project's configuration is checked without a Push Hook (default 5 minutes). */
  configCheckMs?: number;
}

export interface RunningService {
  url: string | null;
  /** Null for one-shot runs (reconcile, replay), which touch no data directory. */
  inbox: SqliteInbox | null;
  routing: RoutingState;
  /** The configuration in use: fixed (a local file) or read from the project's repository. */
  configSource: ConfigSource;
  worker: Worker | null;
  metrics: Metrics;
  client: GitLabClient;
  processDeps: ProcessDeps;
  logger: Logger;
  /** Stops accepting, lets in-flight passes finish (or returns them to the queue), closes stores. */
  stop: (graceMs?: number) => Promise<void>;
}

/** Logs to stdout by default; commands whose stdout is their output log to stderr (fd 2). */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  // Secrets never reach the logger, and these paths are redacted should one ever be passed along.
  const options = {
    level,
    redact: ['token', '*.token', 'headers["private-token"]', 'headers["x-gitlab-token"]', 'headers.authorization'],
  };
  return fd === 1 ? pino(options) : pino(options, pino.destination({ fd, sync: true }));
}

/**
 * The data directory holds the webhook inbox and nothing else, for the server and the worker only;
 * each role takes its lock first, so a second `serve` (or worker) on the same directory refuses
 * to start instead of sharing it.
 */
function openDataDir(
  settings: ServiceSettings,
  options: ServiceOptions,
): { inbox: SqliteInbox | null; locks: InstanceLock[] } {
  if (!options.server && !options.worker) return { inbox: null, locks: [] };
  const dataDir = resolve(settings.dataDir);
  const locks: InstanceLock[] = [];
  try {
    if (options.server) locks.push(acquireInstanceLock(dataDir, 'server'));
    if (options.worker) locks.push(acquireInstanceLock(dataDir, 'worker'));
    // Never waits on another process's lock: better-sqlite3 would stand the event loop still. Writes
    // refused for now are retried from timers (webhooks: GroupCommit; worker: its backoff).
    const inbox = openServiceInbox(dataDir, {
      fresh: options.freshInbox,
      coalesce: options.coalesce,
      store: { busyTimeoutMs: 0, durability: settings.durability, checkFileOnWrite: true },
    });
    return { inbox, locks };
  } catch (err) {
    for (const lock of locks) lock.release();
    throw err;
  }
}

/**
 * Wires the service: durable inbox, routing state, GitLab client, HTTP server and worker. The
 * bot user and the project are looked up at start; until GitLab answers, /readyz says not ready
 * and the configured bot username is used to recognise the bot's own events.
 */
/** The configuration to start on: `'repository'` reads it from the project (and follows its changes). */
async function openConfig(
  config: Config | 'repository',
  client: GitLabClient,
  logger: Logger,
  release: () => Promise<void>,
): Promise<ConfigSource> {
  if (config !== 'repository') return ConfigSource.fixed(config);
  try {
    return await ConfigSource.fromRepository(client, logger.child({ component: 'config' }));
  } catch (err) {
    await release();
    throw err;
  }
}

export async function startService(
  settings: ServiceSettings,
  config: Config | 'repository',
  options: ServiceOptions,
): Promise<RunningService> {
  const logger = options.logger ?? createLogger(settings.logLevel);
  const { inbox, locks } = openDataDir(settings, options);
  const metrics = createMetrics(() => inbox?.depth() ?? {});
  const requester: Requester = createRequester(settings.requester, logger.child({ component: 'gitlab' }), metrics);
  const client = new GitLabClient(
    { url: settings.gitlabUrl, token: settings.gitlabToken, project: settings.project },
    requester,
  );
  const configSource = await openConfig(config, client, logger, async () => {
    await requester.stop();
    inbox?.close();
    for (const lock of locks) lock.release();
  });
  const refreshConfig = () =>
    configSource
      .refresh()
      .catch((err: unknown) =>
        logger.error({ err: (err as Error).message }, 'configuration check failed; keeping the one in use'),
      );
  const configTimer =
    options.server || options.worker
      ? setInterval(() => void refreshConfig(), options.configCheckMs ?? CONFIG_CHECK_MS).unref()
      : null;

  let botUsername = configSource.config.bot.username;
  let botUserId: number | null = null;
  let projectId: number | null = typeof settings.project === 'number' ? settings.project : null;
  let projectPath: string | null = typeof settings.project === 'string' ? settings.project : null;
  let identityKnown = false;
  const learnIdentity = async (): Promise<void> => {
    const [user, project] = await Promise.all([client.currentUser(), client.getProject()]);
    botUsername = user.username;
    botUserId = user.id;
    projectId = project.id;
    projectPath = project.path_with_namespace;
    identityKnown = true;
    const configured = configSource.config.bot.username;
    if (user.username.toLowerCase() !== configured.toLowerCase()) {
      logger.warn(
        { tokenUser: user.username, configured },
        'the token belongs to another user than bot.username; using the token user',
      );
    }
  };
  /** Why GitLab could not be asked: a refused token or an unknown project is not an outage, and says what to fix. */
  const unreachable = (err: unknown): string => {
    if (err instanceof GitLabHttpError && (err.status === 401 || err.status === 403))
      return `GitLab refused the token (${err.status}): check GITLAB_TOKEN`;
    if (err instanceof GitLabHttpError && err.status === 404 && err.endpoint === 'projects/:id') {
      return `GitLab has no project ${JSON.stringify(settings.project)} that the token can see (404): check GITLAB_PROJECT`;
    }
    return `unreachable: ${(err as Error).message}`;
  };
  try {
    await learnIdentity();
  } catch (err) {
    logger.error({ reason: unreachable(err) }, 'GitLab not usable at start; will keep trying');
  }

  const routing = new RoutingState(client, () => configSource.config, {
    maxAgeMs: ROUTING_STATE_MAX_AGE_MS,
    now: Date.now,
  });
  const processDeps: ProcessDeps = {
    client,
    get config() {
      return configSource.config;
    },
    routing,
    accounts: new AccountIndex(client, () => new Date()),
    botUsername: () => botUsername,
    render: renderNote,
    now: () => new Date(),
    dryRun: settings.dryRun,
    crm: settings.crm,
  };

  let worker: Worker | null = null;
  if (options.worker && inbox) {
    worker = new Worker(
      inbox,
      async (issue, job) => {
        if (!identityKnown) await learnIdentity();
        const result = await processIssue(processDeps, issue.iid, logger.child({ job: job.id, iid: issue.iid }));
        // The other side of a duplicate pair gets its own pass, so both issues link each other
        // (only after a real write: in a dry run nothing gets flagged, so it would never settle).
        for (const iid of result.outcome === 'applied' ? result.plan.followUps : []) {
          const at = Date.now();
          inbox.accept(
            {
              key: `follow-up:${issue.projectId}:${iid}:from:${issue.iid}:${at}`,
              event: 'Follow-up',
              uuid: null,
              body: JSON.stringify({ reason: 'duplicate request', from: issue.iid }),
              issue: { projectId: issue.projectId, iid },
              receivedAt: at,
            },
            at,
          );
        }
      },
      { ...DEFAULT_WORKER_OPTIONS, concurrency: settings.concurrency, ...options.workerOptions },
      logger.child({ component: 'worker' }),
      metrics,
    );
    worker.start();
    logger.info({ concurrency: settings.concurrency, dryRun: settings.dryRun }, 'worker started');
  }

  const rescue = inbox ? inboxRescue(inbox, resolve(settings.dataDir), logger) : null;
  // A deleted or replaced inbox is noticed within seconds even when nothing probes or writes.
  const watch = setInterval(() => {
    if (inbox && inboxFileProblem(inbox, false)) void rescue?.();
  }, 5_000);
  watch.unref();
  const catchUp =
    inbox &&
    new RefusalCatchUp({
      inbox,
      updatedAfter: (iso) => client.listIssues({ updatedAfter: iso }),
      projectId: () => projectId,
      now: Date.now,
      logger: logger.child({ component: 'catch-up' }),
      onQueued: () => worker?.wake(),
      retryMs: options.catchUpRetryMs,
    });

  let server: Server | null = null;
  let url: string | null = null;
  if (options.server && inbox) {
    // GitLab is asked at most every 30 s, however often the orchestrator probes.
    let gitlabCheck: { at: number; ok: boolean; detail: string } | null = null;
    const health = new InboxHealth(inbox, { ...DEFAULT_INBOX_HEALTH, ...options.inboxHealth });
    const readiness = async (): Promise<ReadinessReport> => {
      const checks: Record<string, string> = {};
      const storeProblem = await health.problem(Date.now());
      if (storeProblem && inboxFileProblem(inbox, false)) await rescue?.();
      checks.store = storeProblem ?? 'ok';
      const workerProblem = worker?.storeProblem() ?? null;
      if (worker)
        checks.worker = workerProblem
          ? `inbox unusable since ${new Date(workerProblem.since).toISOString()}: ${workerProblem.error}`
          : 'ok';
      const refusedSince = catchUp?.pendingSince() ?? null;
      checks.deliveries =
        refusedSince === null
          ? 'ok'
          : `refused since ${new Date(refusedSince).toISOString()}; issues updated since are being reconciled`;
      if (gitlabCheck === null || Date.now() - gitlabCheck.at > 30_000) {
        try {
          await learnIdentity();
          gitlabCheck = {
            at: Date.now(),
            ok: true,
            detail: `ok (bot user ${botUsername}, project ${projectPath ?? projectId})`,
          };
        } catch (err) {
          gitlabCheck = { at: Date.now(), ok: false, detail: unreachable(err) };
        }
      }
      checks.gitlab = gitlabCheck.detail;
      checks.config = configSource.status();
      return { ok: storeProblem === null && workerProblem === null && gitlabCheck.ok && identityKnown, checks };
    };
    const app = createApp({
      inbox,
      settings: {
        secret: settings.webhookSecret,
        signingKey: settings.signingKey,
        get project() {
          return { id: projectId, path: projectPath };
        },
        botUsername: () => botUsername,
        botUserId: () => botUserId,
      },
      logger: logger.child({ component: 'webhook' }),
      metrics,
      now: Date.now,
      onQueued: () => worker?.wake(),
      onRefused: (receivedAt) => catchUp?.refused(receivedAt),
      commits: options.commits,
      onDefaultBranchPush: () => void refreshConfig(),
      readiness,
      status: statusRouter({
        settings: settings.status,
        gitlabUrl: settings.gitlabUrl,
        projectName: () => projectPath ?? String(projectId),
        accessLevel: (userId) => client.memberAccessLevel(userId),
        get config() {
          return configSource.config;
        },
        configStatus: () => configSource.status(),
        client,
        accounts: processDeps.accounts,
        routing,
        inbox,
        botUsername: () => botUsername,
        render: renderNote,
        now: () => new Date(),
        rateLimit: () => requester.rateLimit(),
        pacing: settings.requester,
        catchUp: () => catchUp?.lastSweep() ?? null,
        // GitLab's page of the project's pipeline schedules (Build → Pipeline schedules).
        schedulesUrl: () =>
          `${settings.gitlabUrl.replace(/\/+$/, '')}/${projectPath ?? settings.project}/-/pipeline_schedules`,
        logger: logger.child({ component: 'status' }),
        onRetried: () => worker?.wake(),
      }),
    });
    server = await createWebhookServer(app, settings.port, settings.host, options.timeouts);
    const address = server.address() as AddressInfo;
    url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    logger.info({ url, dryRun: settings.dryRun, durability: settings.durability }, 'listening for GitLab webhooks');
  }

  const stop = async (graceMs = 10_000): Promise<void> => {
    clearInterval(watch);
    catchUp?.stop();
    if (server) {
      const closing = new Promise<void>((r) => server!.close(() => r()));
      server.closeIdleConnections();
      await closing;
    }
    if (configTimer) clearInterval(configTimer);
    if (worker) await worker.stop(graceMs);
    await requester.stop();
    if (inbox && inboxFileProblem(inbox, false)) await rescue?.();
    inbox?.close();
    for (const lock of locks) lock.release();
  };

  return { url, inbox, routing, configSource, worker, metrics, client, processDeps, logger, stop };
}

/**
 * Once the inbox file is deleted or replaced under the running service, the open database is the
 * only copy of what it acknowledged: copy it (once) beside the data, for the operator to restore.
 * The next start refuses the missing inbox and names this copy (inbox-identity.ts).
 */
function inboxRescue(inbox: SqliteInbox, dataDir: string, logger: Logger): () => Promise<void> {
  let rescued: Promise<void> | null = null;
  return () =>
    (rescued ??= (async () => {
      const target = join(dataDir, `${INBOX_FILE}.rescued-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      try {
        await inbox.copyTo(target);
        logger.error(
          { problem: inboxFileProblem(inbox, false), copy: target },
          'the inbox file was lost under the service; its content is copied here: stop the service and move it back',
        );
      } catch (err) {
        logger.error(
          { err: (err as Error).message, problem: inboxFileProblem(inbox, false) },
          'the inbox file was lost under the service and could not be copied',
        );
      }
    })());
}
