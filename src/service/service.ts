import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from '../domain/config.js';
import { GitLabClient } from '../gitlab/client.js';
import { createRequester, GitLabHttpError, type Requester } from '../gitlab/requester.js';
import type { Inbox } from '../queue/inbox.js';
import { SqliteInbox } from '../queue/sqlite-inbox.js';
import { renderNote } from '../render/notes.js';
import { createApp, type ReadinessReport } from '../server/app.js';
import { createMetrics, type Metrics } from '../server/metrics.js';
import { DEFAULT_WORKER_OPTIONS, Worker, type WorkerOptions } from '../worker/worker.js';
import { processIssue, type ProcessDeps } from '../worker/process-issue.js';
import { RoutingState } from '../worker/routing-state.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import type { ServiceSettings } from './settings.js';

/** How long the routing state read from GitLab is trusted before it is read again (this process's own passes keep it current meanwhile). */
const ROUTING_STATE_MAX_AGE_MS = 15 * 60_000;

export interface ServiceOptions {
  server: boolean;
  worker: boolean;
  logger?: Logger;
  workerOptions?: Partial<WorkerOptions>;
  /** Coalescing window for bursts of deliveries about one issue. */
  coalesce?: { quietMs: number; maxWaitMs: number };
}

export interface RunningService {
  url: string | null;
  /** Null for one-shot runs (reconcile, replay), which touch no data directory. */
  inbox: Inbox | null;
  routing: RoutingState;
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
  const options = { level, redact: ['token', '*.token', 'headers["private-token"]', 'headers["x-gitlab-token"]', 'headers.authorization'] };
  return fd === 1 ? pino(options) : pino(options, pino.destination({ fd, sync: true }));
}

/**
 * The data directory holds the webhook inbox and nothing else, for the server and the worker only;
 * each role takes its lock first, so a second `serve` (or worker) on the same directory refuses
 * to start instead of sharing it.
 */
function openDataDir(settings: ServiceSettings, options: ServiceOptions): { inbox: Inbox | null; locks: InstanceLock[] } {
  if (!options.server && !options.worker) return { inbox: null, locks: [] };
  const dataDir = resolve(settings.dataDir);
  const locks: InstanceLock[] = [];
  try {
    if (options.server) locks.push(acquireInstanceLock(dataDir, 'server'));
    if (options.worker) locks.push(acquireInstanceLock(dataDir, 'worker'));
    return { inbox: SqliteInbox.open(join(dataDir, 'inbox.sqlite'), options.coalesce), locks };
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
export async function startService(settings: ServiceSettings, config: Config, options: ServiceOptions): Promise<RunningService> {
  const logger = options.logger ?? createLogger(settings.logLevel);
  const { inbox, locks } = openDataDir(settings, options);
  const metrics = createMetrics(() => inbox?.depth() ?? {});
  const requester: Requester = createRequester(settings.requester, logger.child({ component: 'gitlab' }), metrics);
  const client = new GitLabClient({ url: settings.gitlabUrl, token: settings.gitlabToken, project: settings.project }, requester);

  let botUsername = config.bot.username;
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
    if (user.username.toLowerCase() !== config.bot.username.toLowerCase()) {
      logger.warn({ tokenUser: user.username, configured: config.bot.username }, 'the token belongs to another user than bot.username; using the token user');
    }
  };
  /** Why GitLab could not be asked: a refused token or an unknown project is not an outage, and says what to fix. */
  const unreachable = (err: unknown): string => {
    if (err instanceof GitLabHttpError && (err.status === 401 || err.status === 403)) return `GitLab refused the token (${err.status}): check GITLAB_TOKEN`;
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

  const routing = new RoutingState(client, () => config, { maxAgeMs: ROUTING_STATE_MAX_AGE_MS, now: Date.now });
  const processDeps: ProcessDeps = {
    client,
    config,
    routing,
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

  let server: Server | null = null;
  let url: string | null = null;
  if (options.server && inbox) {
    // GitLab is asked at most every 30 s, however often the orchestrator probes.
    let gitlabCheck: { at: number; ok: boolean; detail: string } | null = null;
    const readiness = async (): Promise<ReadinessReport> => {
      const checks: Record<string, string> = {};
      checks.store = inbox.ping() ? 'ok' : 'failing';
      if (gitlabCheck === null || Date.now() - gitlabCheck.at > 30_000) {
        try {
          await learnIdentity();
          gitlabCheck = { at: Date.now(), ok: true, detail: `ok (bot user ${botUsername}, project ${projectPath ?? projectId})` };
        } catch (err) {
          gitlabCheck = { at: Date.now(), ok: false, detail: unreachable(err) };
        }
      }
      checks.gitlab = gitlabCheck.detail;
      return { ok: checks.store === 'ok' && gitlabCheck.ok && identityKnown, checks };
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
      readiness,
    });
    server = await new Promise<Server>((resolveServer, reject) => {
      const s = createServer(app).listen(settings.port, settings.host, () => resolveServer(s));
      s.once('error', reject);
    });
    // GitLab waits ~10 s for an answer; keep-alive sockets must not hold shutdown hostage.
    server.keepAliveTimeout = 5_000;
    const address = server.address() as AddressInfo;
    url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    logger.info({ url, dryRun: settings.dryRun }, 'listening for GitLab webhooks');
  }

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (server) {
      const closing = new Promise<void>((r) => server!.close(() => r()));
      server.closeIdleConnections();
      await closing;
    }
    if (worker) await worker.stop(graceMs);
    await requester.stop();
    inbox?.close();
    for (const lock of locks) lock.release();
  };

  return { url, inbox, routing, worker, metrics, client, processDeps, logger, stop };
}
