import { Queue, Worker as BullWorker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pacer } from '../gitlab/pacing.js';
import type { RequesterSettings } from '../gitlab/requester.js';
import type { NewDelivery } from '../queue/inbox.js';
import { connected, RedisInbox } from '../queue/redis-inbox.js';
import { redisPacer } from '../queue/redis-pacing.js';
import { RedisRoutingState } from '../worker/redis-routing-state.js';
import type { RoutingFactory } from '../worker/routing-state.js';
import type { QueueSettings } from './settings.js';

type RedisSettings = Extract<QueueSettings, { kind: 'redis' }>;

/** The queue whose scheduled job is the reconcile sweep. */
const SWEEP_QUEUE = 'reconcile';
const SWEEP_SCHEDULER = 'reconcile-sweep';

/** Issues of the request project: every open one, and those updated after `since` (ISO), by iid. */
export type SweepSource = (since: string | null) => Promise<{ projectId: number; iids: number[] }>;

/** The service's parts that live in Redis when replicas share it (SCALE_BOT_QUEUE=redis). */
export interface RedisMode {
  inbox: RedisInbox;
  /** GitLab pacing shared by every replica. */
  pacer: Pacer;
  /** The BullMQ queues (passes, reconcile sweeps), for the read-only queue dashboard. */
  queues: Queue[];
  /** The routing memory shared by every replica (who holds what, each rotation's last assignee). */
  routing: RoutingFactory;
  /** Every replica runs this; each scheduled sweep is taken by one of them. */
  startSweep(source: SweepSource, onQueued: () => void): Promise<void>;
  close(): Promise<void>;
}

interface SweepParts {
  pacing: Redis;
  inbox: RedisInbox;
  lastSweepKey: string;
  jobId: string;
}

/** One scheduled sweep: a pass queued for every open issue and every one updated since the last sweep. */
async function queueSweep(parts: SweepParts, source: SweepSource, log: Logger): Promise<number> {
  const startedAt = Date.now();
  const since = await parts.pacing.get(parts.lastSweepKey);
  const { projectId, iids } = await source(since);
  const deliveries: NewDelivery[] = iids.map((iid) => ({
    key: `reconcile:${projectId}:${iid}:${parts.jobId}`,
    event: 'Reconcile',
    uuid: null,
    body: JSON.stringify({ reason: 'scheduled reconcile', since }),
    issue: { projectId, iid },
    receivedAt: startedAt,
  }));
  await parts.inbox.acceptMany(deliveries);
  // A minute of overlap: an issue updated while this sweep listed is caught by the next one.
  await parts.pacing.set(parts.lastSweepKey, new Date(startedAt - 60_000).toISOString());
  log.info({ issues: iids.length, since }, 'reconcile sweep: passes queued');
  return iids.length;
}

/** What passes share with the other replicas through Redis: GitLab pacing and the routing memory. */
export interface RedisShared {
  connection: Redis;
  pacer: Pacer;
  routing: RoutingFactory;
}

/**
 * The connection behind the shared pacing and routing memory. It fails fast while Redis is away
 * (no offline queue): a pass then fails and is retried, never paced or routed on its own. A
 * one-off `reconcile` or `replay` opens it too, so it paces and routes together with the replicas.
 */
export async function openRedisShared(
  settings: RedisSettings,
  requester: RequesterSettings,
  onError: (err: Error) => void,
): Promise<RedisShared> {
  const connection = new Redis(settings.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  connection.on('error', onError);
  try {
    await connected(connection, 10_000);
  } catch (err) {
    connection.disconnect();
    throw err;
  }
  return {
    connection,
    pacer: redisPacer(connection, requester, settings.prefix),
    routing: (client, config, options) =>
      new RedisRoutingState(connection, client, config, { prefix: settings.prefix, ...options }),
  };
}

/**
 * Connects the inbox, the shared pacing and routing memory, and the reconcile schedule to Redis.
 * A Redis that does not answer at start is an error (the orchestrator restarts the replica); once
 * running, an outage makes deliveries fail with 503 and the service carries on by itself when
 * Redis returns. (Some 65 lines: the returned parts close over the same connections and the sweep
 * worker, whose clean-up order matters in `close()`; the sweep itself is `queueSweep`.)
 */
export async function openRedisMode(
  settings: RedisSettings,
  requester: RequesterSettings,
  logger: Logger,
  quietMs?: number,
): Promise<RedisMode> {
  const log = logger.child({ component: 'redis' });
  // Errors repeat on every reconnection attempt; one line per distinct message is enough.
  let lastError = '';
  const onError = (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    log.error({ err: err.message }, 'redis error');
  };
  const inbox = await RedisInbox.connect(
    settings.url,
    { prefix: settings.prefix, quietMs, leaseMs: settings.lockSeconds * 1000 },
    onError,
  );
  let shared: RedisShared;
  try {
    shared = await openRedisShared(settings, requester, onError);
  } catch (err) {
    await inbox.close();
    throw err;
  }
  const pacing = shared.connection;
  pacing.on('ready', () => (lastError = ''));
  const sweepQueue = new Queue(SWEEP_QUEUE, { connection: pacing, prefix: settings.prefix });
  sweepQueue.on('error', onError);
  let sweeper: BullWorker | null = null;
  let sweeperConnection: Redis | null = null;
  const lastSweepKey = `${settings.prefix}:${SWEEP_QUEUE}:last`;

  return {
    inbox,
    pacer: shared.pacer,
    queues: [inbox.queue, sweepQueue],
    routing: shared.routing,
    async startSweep(source, onQueued) {
      if (settings.reconcileMinutes === 0) {
        await sweepQueue.removeJobScheduler(SWEEP_SCHEDULER);
        return;
      }
      // Every replica upserts the same scheduler: one schedule, whoever started last wrote it.
      await sweepQueue.upsertJobScheduler(
        SWEEP_SCHEDULER,
        { every: settings.reconcileMinutes * 60_000 },
        { name: 'sweep', opts: { removeOnComplete: 50, removeOnFail: 50 } },
      );
      sweeperConnection = new Redis(settings.url, { maxRetriesPerRequest: null });
      sweeperConnection.on('error', onError);
      sweeper = new BullWorker(
        SWEEP_QUEUE,
        async (job) => {
          const issues = await queueSweep({ pacing, inbox, lastSweepKey, jobId: job.id ?? 'sweep' }, source, log);
          onQueued();
          return { issues };
        },
        { connection: sweeperConnection, prefix: settings.prefix, concurrency: 1 },
      );
      sweeper.on('error', onError);
      sweeper.on('failed', (_job, err) =>
        log.warn({ err: err.message }, 'reconcile sweep failed; the next one retries'),
      );
    },
    async close() {
      // Not waiting for a sweep in progress: that wait lasts until Redis returns when it is away,
      // and a sweep cut short is idempotent (BullMQ hands it back once its lock expires).
      await sweeper?.close(true);
      sweeperConnection?.disconnect();
      await sweepQueue.close();
      pacing.disconnect();
      await inbox.close();
    },
  };
}
