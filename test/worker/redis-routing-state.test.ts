import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngagementRecord } from '../../src/domain/plan.js';
import type { Workload } from '../../src/domain/route.js';
import type { ApiIssue } from '../../src/gitlab/api-schemas.js';
import type { GitLabClient } from '../../src/gitlab/client.js';
import { connected } from '../../src/queue/redis-inbox.js';
import { RedisRoutingState, RoutingLockError } from '../../src/worker/redis-routing-state.js';
import { exampleConfig } from '../helpers/config.js';
import { useRedisServer } from '../helpers/redis.js';

const redis = useRedisServer();
const clients: Redis[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openIssue(iid: number, assignee: string | null): ApiIssue {
  return {
    iid,
    labels: ['engagement::assigned'],
    assignees: assignee ? [{ username: assignee }] : [],
  } as unknown as ApiIssue;
}

/**
 * GitLab as routing reads it: the open issues, and a round-robin pool's newest requests (the
 * example has two: smb/amr-east and smb/amr-west). Counts the full reads; `gate` holds them.
 */
class GitLabListing {
  open: ApiIssue[] = [];
  newest: ApiIssue[] = [];
  fullReads = 0;
  gate: Promise<void> = Promise.resolve();
  readonly client = {
    listIssues: async () => {
      this.fullReads++;
      await this.gate;
      return this.open;
    },
    newestIssues: async () => this.newest,
  } as unknown as GitLabClient;
}

/** One replica's routing memory on its own connection (as the service opens it: fail fast). */
async function replica(gitlab: GitLabListing, prefix: string, clock = { now: 1_000_000 }, lockMs?: number) {
  const connection = new Redis(redis().url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  connection.on('error', () => {}); // Redis stopped on purpose below: the calls fail, which is the test
  clients.push(connection);
  await connected(connection, 5_000);
  return new RedisRoutingState(connection, gitlab.client, exampleConfig, {
    prefix,
    maxAgeMs: 60_000,
    now: () => clock.now,
    ...(lockMs ? { lockMs } : {}),
  });
}

const assignTo = (iid: number, assignee: string, pool?: string) => (): { engagement: EngagementRecord } => ({
  engagement: {
    iid,
    open: true,
    state: 'assigned',
    assignee,
    accountKey: null,
    rotation: pool ? { pool, username: assignee } : null,
  },
});

describe('RedisRoutingState: one routing memory for every replica', () => {
  it('one replica reads GitLab; the other routes from that read and sees every decision of the first', async () => {
    const gitlab = new GitLabListing();
    gitlab.open = [openIssue(1, 'casey.cse'), openIssue(2, 'casey.cse')];
    const [a, b] = [await replica(gitlab, 'r-share'), await replica(gitlab, 'r-share')];
    await Promise.all([a.ready(), b.ready()]);
    expect(gitlab.fullReads).toBe(1);
    await a.decideAndRecord(3, assignTo(3, 'drew.cse', 'smb/amr-east'));
    expect(await b.workload()).toEqual({
      open: { 'casey.cse': 2, 'drew.cse': 1 },
      lastAssigned: { 'smb/amr-east': 'drew.cse' },
    });
    // An issue never counts against itself, and a closed one against nobody.
    expect((await b.workload(3)).open).toEqual({ 'casey.cse': 2 });
    await b.markClosed(1);
    expect((await a.workload()).open).toEqual({ 'casey.cse': 1, 'drew.cse': 1 });
    expect(await a.loadedAt()).toBe(1_000_000);
    // Kept until the next read replaces it, not only as long as a read may take.
    const inspect = new Redis(redis().url);
    clients.push(inspect);
    for (const key of ['counted', 'last', 'loaded-at']) expect(await inspect.pttl(`r-share:routing:${key}`)).toBe(-1);
    expect(await inspect.keys('r-share:routing:fresh:*')).toEqual([]);
  });

  it('decisions of two replicas at once are made one after the other, each seeing the last', async () => {
    const gitlab = new GitLabListing();
    const replicas = [await replica(gitlab, 'r-serial'), await replica(gitlab, 'r-serial')];
    await replicas[0]!.ready();
    const seen: Workload[] = [];
    // 20 decisions from both replicas at once, each assigning to whoever holds the fewest so far.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        replicas[i % 2]!.decideAndRecord(100 + i, (workload) => {
          seen.push(workload);
          const drew = workload.open['drew.cse'] ?? 0;
          const casey = workload.open['casey.cse'] ?? 0;
          return assignTo(100 + i, drew <= casey ? 'drew.cse' : 'casey.cse')();
        }),
      ),
    );
    expect(seen.map((w) => Object.values(w.open).reduce((a, b) => a + b, 0))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect((await replicas[1]!.workload()).open).toEqual({ 'drew.cse': 10, 'casey.cse': 10 });
  });

  it('when the read is old, one replica reads again while the others route from what Redis holds; decisions made meanwhile are kept', async () => {
    const gitlab = new GitLabListing();
    const clock = { now: 1_000_000 };
    const [a, b] = [await replica(gitlab, 'r-reload', clock), await replica(gitlab, 'r-reload', clock)];
    gitlab.open = [openIssue(1, 'casey.cse')];
    await a.ready();
    clock.now += 61_000;
    // GitLab now shows issue 1 closed and issue 2 assigned by a person; A's read is held open.
    gitlab.open = [openIssue(2, 'gray.cse')];
    let open!: () => void;
    gitlab.gate = new Promise((r) => (open = r));
    const reading = a.ready();
    await sleep(50);
    await b.ready(); // does not wait for A's read
    await b.decideAndRecord(3, assignTo(3, 'drew.cse', 'smb/amr-west'));
    expect((await b.workload()).open).toEqual({ 'casey.cse': 1, 'drew.cse': 1 });
    open();
    await reading;
    expect(gitlab.fullReads).toBe(2);
    expect(await a.workload()).toEqual({
      open: { 'gray.cse': 1, 'drew.cse': 1 },
      lastAssigned: { 'smb/amr-west': 'drew.cse' },
    });
    expect(await b.loadedAt()).toBe(1_061_000);
  });

  it('a replica that died holding the decision lock holds routing up only until the lock expires', async () => {
    const gitlab = new GitLabListing();
    const a = await replica(gitlab, 'r-dead', undefined, 300);
    await a.ready();
    const lockKey = 'r-dead:routing:lock';
    const other = new Redis(redis().url);
    clients.push(other);
    await other.set(lockKey, 'a-dead-replica', 'PX', 300);
    const started = Date.now();
    await a.decideAndRecord(1, assignTo(1, 'drew.cse'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect((await a.workload()).open).toEqual({ 'drew.cse': 1 });
  });

  it('a decision whose lock expired before it was recorded is refused, not recorded over a later one', async () => {
    const gitlab = new GitLabListing();
    const a = await replica(gitlab, 'r-late', undefined, 100);
    await a.ready();
    await expect(
      a.decideAndRecord(1, () => {
        // As if this replica stalled past its lock (another replica may have decided meanwhile).
        const until = Date.now() + 150;
        while (Date.now() < until);
        return assignTo(1, 'drew.cse')();
      }),
    ).rejects.toBeInstanceOf(RoutingLockError);
    expect((await a.workload()).open).toEqual({});
  });

  it('Redis away: deciding fails loudly (the pass is retried), nothing is decided from local memory', async () => {
    const gitlab = new GitLabListing();
    const a = await replica(gitlab, 'r-gone');
    await a.ready();
    await redis().stop();
    try {
      let decided = false;
      await expect(
        a.decideAndRecord(1, () => {
          decided = true;
          return assignTo(1, 'drew.cse')();
        }),
      ).rejects.toThrow();
      expect(decided).toBe(false);
      await expect(a.ready()).rejects.toThrow();
    } finally {
      await redis().start();
    }
  });
});
