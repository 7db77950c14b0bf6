import { Redis } from 'ioredis';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUESTER_SETTINGS } from '../../src/gitlab/requester.js';
import type { RedisInbox } from '../../src/queue/redis-inbox.js';
import { openRedisMode } from '../../src/service/redis-mode.js';
import { useRedisServer } from '../helpers/redis.js';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redisServer = useRedisServer();

const settings = (prefix: string, lockSeconds = 30) => ({
  kind: 'redis' as const,
  url: redisServer().url,
  prefix,
  reconcileMinutes: 1,
  dashboard: false,
  lockSeconds,
});

/** The first pass `inbox` hands out within `ms`, or null. */
async function claimWithin(inbox: RedisInbox, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const job = await inbox.claim(Date.now());
    if (job) return job;
    await sleep(100);
  }
  return null;
}

describe('openRedisMode', () => {
  it('the scheduled sweep queues one pass per issue the source names, once for two replicas', async () => {
    const replicas = [
      await openRedisMode(settings('t-sweep'), DEFAULT_REQUESTER_SETTINGS, logger, 50),
      await openRedisMode(settings('t-sweep'), DEFAULT_REQUESTER_SETTINGS, logger, 50),
    ];
    const asked: Array<string | null> = [];
    let queued = 0;
    try {
      for (const r of replicas)
        await r.startSweep(
          async (since) => {
            asked.push(since);
            return { projectId: 7, iids: [1, 2, 3] };
          },
          () => queued++,
        );
      const until = Date.now() + 10_000;
      while (queued === 0 && Date.now() < until) await sleep(50);
      await sleep(300); // room for a second sweep, should one (wrongly) run
      expect(asked).toEqual([null]);
      expect(queued).toBe(1);
      const pending = await replicas[0]!.inbox.list({});
      expect(pending.map((j) => j.issue).sort((a, b) => a.iid - b.iid)).toEqual(
        [1, 2, 3].map((iid) => ({ projectId: 7, iid })),
      );
    } finally {
      for (const r of replicas) await r.close();
    }
  });

  it("SCALE_BOT_REDIS_LOCK_SECONDS: a pass holds its lock that long, renewed while it runs; a dead replica's pass moves on after it", async () => {
    const [a, b] = [
      await openRedisMode(settings('t-lock', 5), DEFAULT_REQUESTER_SETTINGS, logger, 20),
      await openRedisMode(settings('t-lock', 5), DEFAULT_REQUESTER_SETTINGS, logger, 20),
    ];
    const inspect = new Redis(redisServer().url);
    try {
      await b.inbox.recover();
      const issue = { projectId: 7, iid: 41 };
      await a.inbox.accept({ key: 'k41', event: 'Issue Hook', uuid: null, body: '{}', issue, receivedAt: Date.now() });
      const job = await claimWithin(a.inbox, 2_000);
      expect(job).not.toBeNull();
      // Both locks, BullMQ's and the per-issue lease, are the setting's 5 s.
      for (const key of [`t-lock:passes:${job!.id}:lock`, 't-lock:passes:lease:7:41']) {
        const ttl = await inspect.pttl(key);
        expect(ttl).toBeGreaterThan(4_000);
        expect(ttl).toBeLessThanOrEqual(5_000);
      }
      // A pass running past its lock keeps it (renewed every third of it): nobody else takes it.
      expect(await claimWithin(b.inbox, 6_500)).toBeNull();
      // Replica A dies (its renewals stop): B takes the pass once the lock expires and the next
      // stalled-job check sees it (every half lock): within 7.5 s, not after the former 120 s.
      await a.close();
      const died = Date.now();
      expect(await claimWithin(b.inbox, 15_000)).toMatchObject({ issue });
      expect(Date.now() - died).toBeLessThan(9_000);
    } finally {
      inspect.disconnect();
      await a.close();
      await b.close();
    }
  });

  it('closes within seconds while Redis is away', async () => {
    const mode = await openRedisMode(settings('t-close'), DEFAULT_REQUESTER_SETTINGS, logger, 50);
    await mode.startSweep(
      async () => ({ projectId: 7, iids: [] }),
      () => {},
    );
    await redisServer().stop();
    try {
      const hung = await Promise.race([mode.close().then(() => false), sleep(5_000).then(() => true)]);
      expect(hung).toBe(false);
    } finally {
      await redisServer().start();
    }
  });
});
