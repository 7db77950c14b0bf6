import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUESTER_SETTINGS } from '../../src/gitlab/requester.js';
import { openRedisMode } from '../../src/service/redis-mode.js';
import { useRedisServer } from '../helpers/redis.js';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redisServer = useRedisServer();

const settings = (prefix: string) => ({
  kind: 'redis' as const,
  url: redisServer().url,
  prefix,
  reconcileMinutes: 1,
  dashboard: false,
});

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
