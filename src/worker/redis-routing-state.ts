import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Config } from '../domain/config.js';
import type { EngagementRecord } from '../domain/plan.js';
import type { Workload } from '../domain/route.js';
import type { ApiIssue } from '../gitlab/api-schemas.js';
import type { GitLabClient } from '../gitlab/client.js';
import { closedRecord, countedOf, readRouting, workloadOf, type RoutingMemory } from './routing-state.js';

export interface RedisRoutingOptions {
  /** Key prefix (SCALE_BOT_REDIS_PREFIX); the replicas of one bot share it. */
  prefix: string;
  /** How long a full read of GitLab is trusted before one replica reads it again. */
  maxAgeMs: number;
  now: () => number;
  /** The decision lock expires after this long, should its holder die with it. */
  lockMs: number;
  /** A pass waits this long at most for the decision lock, then fails (and is retried). */
  lockWaitMs: number;
  /** A replica reading GitLab in full holds the reload this long at most (another takes over after). */
  reloadMs: number;
  /** How often a replica tries again while another holds the decision lock (with jitter). */
  pollMs: number;
}

export const DEFAULT_REDIS_ROUTING: Omit<RedisRoutingOptions, 'prefix' | 'maxAgeMs' | 'now'> = {
  lockMs: 5_000,
  lockWaitMs: 30_000,
  reloadMs: 5 * 60_000,
  pollMs: 5,
};

/**
 * Records whom one issue counts against, and the rotation it moved. With a lock token (ARGV[1]),
 * only while that token still holds the decision lock: a decision whose lock expired meanwhile
 * (its replica stalled) is refused rather than recorded over a later one. While a replica reads
 * GitLab in full, the record is also kept aside, to be laid over the fresh read.
 * KEYS: lock, counted, last, reloading, pending counted, pending last.
 * ARGV: token ('' for none), iid, whom it counts against (comma-separated), pool ('' for none), username.
 */
const RECORD = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local targets = {{KEYS[2], KEYS[3]}}
if redis.call('EXISTS', KEYS[4]) == 1 then targets[2] = {KEYS[5], KEYS[6]} end
for _, t in ipairs(targets) do
  redis.call('HSET', t[1], ARGV[2], ARGV[3])
  if ARGV[4] ~= '' then redis.call('HSET', t[2], ARGV[4], ARGV[5]) end
end
return 1`;

/** Takes the reload (KEYS[1]) for ARGV[1] for ARGV[2] ms and starts its pending records afresh. KEYS: reloading, pending counted, pending last. */
const BEGIN_RELOAD = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
return 1`;

/**
 * Puts a fresh read of GitLab in place, with the records made meanwhile laid over it, if ARGV[1]
 * still holds the reload. KEYS: reloading, counted, last, pending counted, pending last, fresh
 * counted, fresh last, loaded-at. ARGV: token, loaded-at (ms).
 */
const COMMIT_RELOAD = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  redis.call('DEL', KEYS[6], KEYS[7])
  return 0
end
for i = 0, 1 do
  local target, fresh, pending = KEYS[2 + i], KEYS[6 + i], KEYS[4 + i]
  if redis.call('EXISTS', fresh) == 1 then
    redis.call('RENAME', fresh, target)
    redis.call('PERSIST', target) -- RENAME keeps the fresh key's expiry
  else
    redis.call('DEL', target)
  end
  local over = redis.call('HGETALL', pending)
  for j = 1, #over, 2 do redis.call('HSET', target, over[j], over[j + 1]) end
end
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5])
redis.call('SET', KEYS[8], ARGV[2])
return 1`;

/** Deletes KEYS[1] only while it holds ARGV[1]. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The scripts above, keys first, then arguments. */
interface RoutingCommands {
  routingRecord(...keysThenArgs: string[]): Promise<number>;
  routingBeginReload(...keysThenArgs: Array<string | number>): Promise<number>;
  routingCommitReload(...keysThenArgs: Array<string | number>): Promise<number>;
  routingRelease(key: string, token: string): Promise<number>;
}

/** How often a replica looks whether another's first read of GitLab has landed. */
const FIRST_READ_POLL_MS = 100;

/** Thrown when a decision could not be made or kept as one step across replicas; the pass is retried. */
export class RoutingLockError extends Error {
  override readonly name = 'RoutingLockError';
}

/**
 * The routing memory shared by every replica (SCALE_BOT_QUEUE=redis). GitLab stays the truth: one
 * replica at a time reads it in full (the others carry on with what Redis holds, or wait for that
 * read when nothing is known yet) and puts the read in Redis; every pass's decision is recorded in
 * Redis on top of it, in the same step as the decision, under a short lock that every replica
 * takes for that step. So a round-robin pool rotates and capacity holds as if one process routed
 * every request. Redis unreachable fails the pass (it is retried), never routing from local memory.
 *
 * Keys under `<prefix>:routing:`: `counted` (iid → whom it counts against, comma-separated),
 * `last` (pool → last assignee), `loaded-at`, `lock`, `reloading`, and while a reload runs
 * `pending:*` (the records made meanwhile) and `fresh:<token>:*` (the read being written).
 */
export class RedisRoutingState implements RoutingMemory {
  private readonly redis: Redis & RoutingCommands;
  private readonly options: RedisRoutingOptions;
  /** This replica's own reload, shared by its passes. */
  private reloading: Promise<boolean> | null = null;

  constructor(
    redis: Redis,
    private readonly client: GitLabClient,
    private readonly config: () => Config,
    options: Pick<RedisRoutingOptions, 'prefix' | 'maxAgeMs' | 'now'> & Partial<RedisRoutingOptions>,
  ) {
    this.options = { ...DEFAULT_REDIS_ROUTING, ...options };
    this.redis = redis as Redis & RoutingCommands;
    this.redis.defineCommand('routingRecord', { numberOfKeys: 6, lua: RECORD });
    this.redis.defineCommand('routingBeginReload', { numberOfKeys: 3, lua: BEGIN_RELOAD });
    this.redis.defineCommand('routingCommitReload', { numberOfKeys: 8, lua: COMMIT_RELOAD });
    this.redis.defineCommand('routingRelease', { numberOfKeys: 1, lua: RELEASE });
  }

  private key(name: string): string {
    return `${this.options.prefix}:routing:${name}`;
  }

  async loadedAt(): Promise<number | null> {
    const at = await this.redis.get(this.key('loaded-at'));
    return at === null ? null : Number(at);
  }

  /**
   * Fresh enough: nothing to do. Otherwise this replica reads GitLab unless another already does;
   * then what Redis holds is used meanwhile, or, when Redis holds nothing yet, that read is awaited.
   */
  async ready(): Promise<void> {
    for (;;) {
      const loadedAt = await this.loadedAt();
      if (loadedAt !== null && this.options.now() - loadedAt < this.options.maxAgeMs) return;
      if (await this.reload()) return;
      if (loadedAt !== null) return;
      await sleep(FIRST_READ_POLL_MS);
    }
  }

  /** A listing of the open issues in hand (the reconcile sweep): read with it, unless another replica is reading. */
  async seed(openIssues: ApiIssue[]): Promise<void> {
    await this.reload(openIssues);
  }

  /** Reads GitLab into Redis; false when another replica holds the reload. */
  private reload(openIssues?: ApiIssue[]): Promise<boolean> {
    this.reloading ??= this.readIntoRedis(openIssues).finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async readIntoRedis(openIssues?: ApiIssue[]): Promise<boolean> {
    const token = randomUUID();
    const [reloading, pending, pendingLast] = [
      this.key('reloading'),
      this.key('pending:counted'),
      this.key('pending:last'),
    ];
    const started = this.options.now();
    if (!(await this.redis.routingBeginReload(reloading, pending, pendingLast, token, this.options.reloadMs)))
      return false;
    try {
      const read = await readRouting(this.client, this.config(), openIssues);
      const [fresh, freshLast] = [this.key(`fresh:${token}:counted`), this.key(`fresh:${token}:last`)];
      const write = this.redis.multi();
      if (read.counted.size > 0)
        write.hset(fresh, Object.fromEntries([...read.counted].map(([iid, who]) => [iid, who.join(',')])));
      if (Object.keys(read.lastAssigned).length > 0) write.hset(freshLast, read.lastAssigned);
      write.pexpire(fresh, this.options.reloadMs).pexpire(freshLast, this.options.reloadMs);
      await execOrThrow(write);
      const committed = await this.redis.routingCommitReload(
        ...[reloading, this.key('counted'), this.key('last'), pending, pendingLast, fresh, freshLast],
        this.key('loaded-at'),
        token,
        started,
      );
      return committed === 1;
    } finally {
      await this.redis.routingRelease(reloading, token);
    }
  }

  async workload(exceptIid: number | null = null): Promise<Workload> {
    const [counted, last] = await execOrThrow(
      this.redis.multi().hgetall(this.key('counted')).hgetall(this.key('last')),
    );
    const entries = Object.entries(counted as Record<string, string>).map(([iid, who]): [number, string[]] => [
      Number(iid),
      who === '' ? [] : who.split(','),
    ]);
    return workloadOf(entries, last as Record<string, string>, exceptIid);
  }

  async decideAndRecord<T extends { engagement: EngagementRecord | null }>(
    iid: number,
    decideWith: (workload: Workload) => T,
  ): Promise<{ decided: T; workload: Workload }> {
    const token = await this.lock();
    try {
      const workload = await this.workload(iid);
      const decided = decideWith(workload);
      if (decided.engagement && !(await this.record(decided.engagement, token)))
        throw new RoutingLockError(`routing lock for #${iid} expired before its decision was recorded`);
      return { decided, workload };
    } finally {
      await this.redis.routingRelease(this.key('lock'), token);
    }
  }

  async markClosed(iid: number): Promise<void> {
    // Only this issue's own pass writes its entry (one pass per issue at a time): no lock needed.
    await this.record(closedRecord(iid), '');
  }

  private async record(record: EngagementRecord, token: string): Promise<boolean> {
    const recorded = await this.redis.routingRecord(
      this.key('lock'),
      this.key('counted'),
      this.key('last'),
      this.key('reloading'),
      this.key('pending:counted'),
      this.key('pending:last'),
      token,
      String(record.iid),
      countedOf(record).join(','),
      record.rotation?.pool ?? '',
      record.rotation?.username ?? '',
    );
    return recorded === 1;
  }

  /** Takes the decision lock, waiting for whoever holds it; its token. */
  private async lock(): Promise<string> {
    const token = randomUUID();
    const giveUpAt = Date.now() + this.options.lockWaitMs;
    while ((await this.redis.set(this.key('lock'), token, 'PX', this.options.lockMs, 'NX')) === null) {
      if (Date.now() > giveUpAt)
        throw new RoutingLockError(`routing lock not free within ${this.options.lockWaitMs} ms`);
      await sleep(this.options.pollMs * (1 + Math.random()));
    }
    return token;
  }
}

/** Runs a MULTI and returns its replies, throwing the first error among them. */
async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
  const replies = await multi.exec();
  if (replies === null) throw new Error('Redis transaction aborted');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
