import type { Server } from 'node:http';
import type { RequestHandler } from 'express';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ConfigSource } from '../config/config-source.js';
import type { Config } from '../domain/config.js';
import type { GitLabClient } from '../gitlab/client.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { inboxFileProblem, type InboxHealthOptions } from '../queue/inbox-health.js';
import { INBOX_FILE, openServiceInbox } from '../queue/inbox-identity.js';
import type { GroupCommitOptions } from '../queue/group-commit.js';
import type { Inbox, IssueRef } from '../queue/inbox.js';
import type { SqliteInbox } from '../queue/sqlite-inbox.js';
import { renderNote } from '../render/notes.js';
import { createApp, createWebhookServer, type ServerTimeouts } from '../server/app.js';
import { statusRouter, type StatusDeps } from '../status/routes.js';
import { DEFAULT_WORKER_OPTIONS, Worker, type WorkerOptions } from '../worker/worker.js';
import { processIssue, type PassResult, type ProcessDeps } from '../worker/process-issue.js';
import type { RoutingMemory } from '../worker/routing-state.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { createLogger } from './logger.js';
import { createPassDeps, type PassDeps } from './pass-deps.js';
import { readinessCheck, sqliteStoreCheck } from './readiness.js';
import { openRedisMode, type RedisMode } from './redis-mode.js';
import { RefusalCatchUp } from '../queue/refusal-catch-up.js';
import type { ServiceSettings } from './settings.js';

/** How often the project's configuration is checked, for instances that send no Push Hook. */
const CONFIG_CHECK_MS = 5 * 60_000;

/** How often the inbox file is looked at: a deleted or replaced one is noticed within seconds even when nothing probes or writes. */
const INBOX_WATCH_MS = 5_000;

export interface ServiceOptions {
  /** The webhook server, the worker, or both (one-shot passes use createPassDeps instead). */
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
  inbox: Inbox;
  routing: RoutingMemory;
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

/** The inbox and what goes with its kind: SQLite's data directory and file watch, or Redis's shared parts. */
interface Store {
  inbox: Inbox;
  redis: RedisMode | null;
  /** For /readyz: null when the store takes deliveries, else why not. */
  problem: () => Promise<string | null>;
  close: () => Promise<void>;
}

/**
 * SCALE_BOT_QUEUE=redis: the inbox, pacing and reconcile schedule in Redis, shared by every
 * replica (no data directory, no instance lock). Otherwise the SQLite inbox in the data directory.
 */
async function openStore(settings: ServiceSettings, options: ServiceOptions, logger: Logger): Promise<Store> {
  if (settings.queue.kind === 'redis') {
    const redis = await openRedisMode(settings.queue, settings.requester, logger, options.coalesce?.quietMs);
    return { inbox: redis.inbox, redis, problem: () => redis.inbox.problem(), close: () => redis.close() };
  }
  const { inbox, locks } = openDataDir(settings, options);
  const rescue = inboxRescue(inbox, resolve(settings.dataDir), logger);
  const watch = setInterval(() => {
    if (inboxFileProblem(inbox, false)) void rescue();
  }, INBOX_WATCH_MS).unref();
  return {
    inbox,
    redis: null,
    problem: sqliteStoreCheck(inbox, rescue, options.inboxHealth),
    close: async () => {
      clearInterval(watch);
      if (inboxFileProblem(inbox, false)) await rescue();
      inbox.close();
      for (const lock of locks) lock.release();
    },
  };
}

/** The reconcile sweep's issues: every open one, and those updated since the last sweep. */
function sweepSource(pass: PassDeps) {
  return async (since: string | null) => {
    if (!pass.identity.known) await pass.identity.learn();
    const open = await pass.client.listIssues({ state: 'opened' });
    const updated = since ? await pass.client.listIssues({ updatedAfter: since }) : [];
    const iids = [...new Set([...open, ...updated].map((i) => i.iid))];
    return { projectId: pass.identity.projectId!, iids };
  };
}

/**
 * The data directory holds the webhook inbox and nothing else, for the server and the worker only;
 * each role takes its lock first, so a second `serve` (or worker) on the same directory refuses
 * to start instead of sharing it.
 */
function openDataDir(
  settings: ServiceSettings,
  options: ServiceOptions,
): { inbox: SqliteInbox; locks: InstanceLock[] } {
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

/** Checks the project's configuration now (a push to the default branch) and every few minutes. */
function followConfig(configSource: ConfigSource, everyMs: number, logger: Logger) {
  const refresh = () =>
    configSource
      .refresh()
      .catch((err: unknown) =>
        logger.error({ err: (err as Error).message }, 'configuration check failed; keeping the one in use'),
      );
  const timer = setInterval(() => void refresh(), everyMs).unref();
  return { refresh, stop: () => clearInterval(timer) };
}

/**
 * The other side of a duplicate pair gets its own pass, so both issues link each other (only
 * after a real write: in a dry run nothing gets flagged, so it would never settle).
 */
async function queueFollowUps(inbox: Inbox, issue: IssueRef, result: PassResult): Promise<void> {
  for (const iid of result.outcome === 'applied' ? result.plan.followUps : []) {
    const at = Date.now();
    await inbox.accept(
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
}

/** The worker: one pass per queued issue, learning who the bot is first if GitLab has not said yet. */
function startWorker(
  inbox: Inbox,
  pass: PassDeps,
  settings: ServiceSettings,
  options: ServiceOptions,
  metrics: Metrics,
): Worker {
  const { logger, identity } = pass;
  const worker = new Worker(
    inbox,
    async (issue, job) => {
      if (!identity.known) await identity.learn();
      const result = await processIssue(pass.processDeps, issue.iid, logger.child({ job: job.id, iid: issue.iid }));
      await queueFollowUps(inbox, issue, result);
    },
    { ...DEFAULT_WORKER_OPTIONS, concurrency: settings.concurrency, ...options.workerOptions },
    logger.child({ component: 'worker' }),
    metrics,
  );
  worker.start();
  logger.info({ concurrency: settings.concurrency, dryRun: settings.dryRun }, 'worker started');
  return worker;
}

/** What the status page reads: the pass's own view of GitLab and the configuration, plus the inbox. */
function statusDeps(settings: ServiceSettings, pass: PassDeps, parts: HttpParts, wake: () => void): StatusDeps {
  const { inbox, catchUp } = parts;
  const { identity, configSource } = pass;
  return {
    settings: settings.status,
    gitlabUrl: settings.gitlabUrl,
    projectName: () => identity.projectPath ?? String(identity.projectId),
    accessLevel: (userId) => pass.client.memberAccessLevel(userId),
    get config() {
      return configSource.config;
    },
    configStatus: () => configSource.status(),
    client: pass.client,
    accounts: pass.processDeps.accounts,
    routing: pass.routing,
    inbox,
    botUsername: () => identity.username,
    render: renderNote,
    now: () => new Date(),
    rateLimit: () => pass.requester.rateLimit(),
    pacing: settings.requester,
    catchUp: () => catchUp.lastSweep(),
    // GitLab's page of the project's pipeline schedules (Build → Pipeline schedules).
    schedulesUrl: () =>
      `${settings.gitlabUrl.replace(/\/+$/, '')}/${identity.projectPath ?? settings.project}/-/pipeline_schedules`,
    scheduledSweep:
      settings.queue.kind === 'redis'
        ? { runs: 'in-service', everyMinutes: settings.queue.reconcileMinutes }
        : { runs: 'in-ci' },
    logger: pass.logger.child({ component: 'status' }),
    onRetried: wake,
    queueDashboard: parts.queueDashboard,
  };
}

interface HttpParts {
  inbox: Inbox;
  pass: PassDeps;
  worker: Worker | null;
  catchUp: RefusalCatchUp;
  store: () => Promise<string | null>;
  refreshConfig: () => void;
  metrics: Metrics;
  /** SCALE_BOT_QUEUE_DASHBOARD: bull-board over the Redis queues, for the status page to serve; else null. */
  queueDashboard: RequestHandler | null;
}

/** The HTTP server: the webhook route, the probes, the metrics and the status page. */
async function startHttp(
  settings: ServiceSettings,
  options: ServiceOptions,
  parts: HttpParts,
): Promise<{ server: Server; url: string }> {
  const { inbox, pass, worker, catchUp } = parts;
  const { identity, logger } = pass;
  const wake = () => worker?.wake();
  const app = createApp({
    inbox,
    settings: {
      secret: settings.webhookSecret,
      signingKey: settings.signingKey,
      get project() {
        return { id: identity.projectId, path: identity.projectPath };
      },
      botUsername: () => identity.username,
      botUserId: () => identity.userId,
    },
    logger: logger.child({ component: 'webhook' }),
    metrics: parts.metrics,
    now: Date.now,
    onQueued: wake,
    onRefused: (receivedAt) => catchUp.refused(receivedAt),
    commits: options.commits,
    onDefaultBranchPush: parts.refreshConfig,
    readiness: readinessCheck({ store: parts.store, worker, catchUp, identity, configSource: pass.configSource }),
    status: statusRouter(statusDeps(settings, pass, parts, wake)),
  });
  const server = await createWebhookServer(app, settings.port, settings.host, options.timeouts);
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url, dryRun: settings.dryRun, durability: settings.durability }, 'listening for GitLab webhooks');
  return { server, url };
}

/** bull-board over the Redis mode's queues when SCALE_BOT_QUEUE_DASHBOARD is on (imported only then: it is slow to load). */
async function queueDashboardFor(settings: ServiceSettings, redis: RedisMode | null): Promise<RequestHandler | null> {
  if (settings.queue.kind !== 'redis' || !settings.queue.dashboard || !redis) return null;
  const { queueDashboard } = await import('../status/queue-dashboard.js');
  return queueDashboard(redis.queues);
}

/** Stops accepting connections and waits for the open requests to be answered. */
async function closeServer(server: Server | null): Promise<void> {
  if (!server) return;
  const closing = new Promise<void>((r) => server.close(() => r()));
  server.closeIdleConnections();
  await closing;
}

/**
 * Wires the service: durable inbox, the pass's dependencies (createPassDeps), HTTP server and
 * worker. The bot user and the project are looked up at start; until GitLab answers, /readyz says
 * not ready and the configured bot username is used to recognise the bot's own events.
 */
export async function startService(
  settings: ServiceSettings,
  config: Config | 'repository',
  options: ServiceOptions,
): Promise<RunningService> {
  if (!options.server && !options.worker) throw new Error('startService runs the server, the worker or both');
  const logger = options.logger ?? createLogger(settings.logLevel);
  const store = await openStore(settings, options, logger);
  const { inbox } = store;
  const metrics = createMetrics(() => inbox.depth());
  let pass: PassDeps;
  try {
    pass = await createPassDeps(settings, config, {
      logger,
      metrics,
      pacer: store.redis?.pacer,
      routing: store.redis?.routing,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const configChecks = followConfig(pass.configSource, options.configCheckMs ?? CONFIG_CHECK_MS, logger);
  const worker = options.worker ? startWorker(inbox, pass, settings, options, metrics) : null;
  if (options.worker) await store.redis?.startSweep(sweepSource(pass), () => worker?.wake());
  const catchUp = new RefusalCatchUp({
    inbox,
    updatedAfter: (iso) => pass.client.listIssues({ updatedAfter: iso }),
    projectId: () => pass.identity.projectId,
    now: Date.now,
    logger: logger.child({ component: 'catch-up' }),
    onQueued: () => worker?.wake(),
    retryMs: options.catchUpRetryMs,
  });
  const http = options.server
    ? await startHttp(settings, options, {
        inbox,
        pass,
        worker,
        catchUp,
        store: store.problem,
        refreshConfig: () => void configChecks.refresh(),
        metrics,
        queueDashboard: await queueDashboardFor(settings, store.redis),
      })
    : null;

  // Stops accepting first, then the worker (within its grace), then GitLab calls, then the store.
  const stop = async (graceMs = 10_000): Promise<void> => {
    catchUp.stop();
    await closeServer(http?.server ?? null);
    configChecks.stop();
    if (worker) await worker.stop(graceMs);
    await pass.stop();
    await store.close();
  };

  const { routing, configSource, client, processDeps } = pass;
  return { url: http?.url ?? null, inbox, routing, configSource, worker, metrics, client, processDeps, logger, stop };
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
