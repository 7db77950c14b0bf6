import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { IssueRef } from '../../src/queue/inbox.js';
import type { RedisInboxOptions } from '../../src/queue/redis-inbox-options.js';
import { RedisInbox } from '../../src/queue/redis-inbox.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { useRedisServer } from '../helpers/redis.js';

const logger = pino({ level: 'silent' });
const workerOptions: WorkerOptions = {
  concurrency: 4,
  leaseMs: 10_000,
  maxAttempts: 3,
  backoffMs: () => 20,
  idlePollMs: 20,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redisServer = useRedisServer();
const opened: RedisInbox[] = [];
const workers: Worker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop(1_000);
  for (const i of opened.splice(0)) await i.close();
});

/** Each test has its own key prefix on the shared server: nothing leaks between tests. */
async function open(prefix: string, options: Partial<RedisInboxOptions> = {}): Promise<RedisInbox> {
  const inbox = await RedisInbox.connect(redisServer().url, { prefix, quietMs: 50, ...options });
  opened.push(inbox);
  return inbox;
}

function delivery(iid: number, key: string = crypto.randomUUID()) {
  return {
    key,
    event: 'Issue Hook',
    uuid: null,
    body: JSON.stringify({ iid, key }),
    issue: { projectId: 1, iid },
    receivedAt: Date.now(),
  };
}

async function claimSoon(inbox: RedisInbox, withinMs = 5_000) {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const job = await inbox.claim(Date.now());
    if (job) return job;
    await sleep(20);
  }
  return null;
}

describe('RedisInbox', () => {
  it('dedupes on the delivery key and keeps the body for replay', async () => {
    const inbox = await open('t-dedup');
    const first = await inbox.accept(delivery(1, 'key-1'));
    const again = await inbox.accept(delivery(1, 'key-1'));
    const other = await inbox.accept(delivery(1, 'key-2'));
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ duplicate: true, deliveryId: first.deliveryId });
    expect(other.duplicate).toBe(false);
    expect(other.deliveryId).not.toBe(first.deliveryId);
    expect(await inbox.delivery(first.deliveryId)).toMatchObject({
      event: 'Issue Hook',
      body: '{"iid":1,"key":"key-1"}',
    });
    expect(await inbox.delivery(999_999)).toBeNull();
  });

  it('folds a burst of deliveries for one issue into one job', async () => {
    const inbox = await open('t-burst');
    await inbox.acceptMany(Array.from({ length: 30 }, () => delivery(5)));
    expect((await inbox.depth()).pending).toBe(1);
    const job = await claimSoon(inbox);
    expect(job).toMatchObject({ issue: { projectId: 1, iid: 5 }, attempts: 1, deliveries: 30 });
    expect(await inbox.claim(Date.now())).toBeNull();
    expect(await inbox.complete(job!)).toBe(true);
    expect(await inbox.depth()).toMatchObject({ pending: 0, running: 0, done: 1 });
  });

  it('owes exactly one more pass for deliveries that arrive while the pass runs', async () => {
    const inbox = await open('t-dirty');
    await inbox.accept(delivery(8));
    const job = await claimSoon(inbox);
    for (let i = 0; i < 5; i++) await inbox.accept(delivery(8));
    // The issue is running: nothing else for it may be claimed meanwhile.
    await sleep(120);
    expect(await inbox.claim(Date.now())).toBeNull();
    await inbox.complete(job!);
    const next = await claimSoon(inbox);
    expect(next?.issue.iid).toBe(8);
    await inbox.complete(next!);
    await sleep(120);
    expect(await inbox.claim(Date.now())).toBeNull();
  });

  it('retries at the time given, counts attempts, dead-letters and re-queues a dead letter', async () => {
    const inbox = await open('t-retry');
    await inbox.accept(delivery(3));
    const first = await claimSoon(inbox);
    const runAt = Date.now() + 400;
    expect(await inbox.retry(first!, runAt, 'GitLabHttpError: 503')).toBe(true);
    expect(await inbox.claim(Date.now())).toBeNull();
    expect(await inbox.nextRunAt()).toBeGreaterThanOrEqual(runAt - 5);
    const second = await claimSoon(inbox);
    expect(Date.now()).toBeGreaterThanOrEqual(runAt - 5);
    expect(second).toMatchObject({ id: first!.id, attempts: 2, lastError: 'GitLabHttpError: 503' });
    expect(await inbox.fail(second!, 'UnexpectedResponseError: bad')).toBe(true);
    const dead = await inbox.list({ failed: true });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ id: first!.id, status: 'failed', lastError: 'UnexpectedResponseError: bad' });
    expect(await inbox.retryFailed(first!.id)).toBe(true);
    expect(await inbox.retryFailed(first!.id)).toBe(false);
    expect(await inbox.list({ failed: true })).toHaveLength(0);
    const third = await claimSoon(inbox);
    expect(third).toMatchObject({ issue: { iid: 3 }, attempts: 1 });
  });

  it('hands a pass whose replica died to another once its lease expires; the dead one records nothing', async () => {
    const a = await open('t-lease', { leaseMs: 1_000 });
    const b = await open('t-lease', { leaseMs: 1_000 });
    await b.recover();
    await a.accept(delivery(11));
    const taken = await claimSoon(a);
    // Replica A stops renewing (as if SIGKILLed): closing drops its timers and connections.
    opened.splice(opened.indexOf(a), 1);
    const stale = { ...taken! };
    await a.close();
    const again = await claimSoon(b, 8_000);
    expect(again).toMatchObject({ id: taken!.id, issue: { iid: 11 } });
    const a2 = await open('t-lease', { leaseMs: 1_000 });
    expect(await a2.complete(stale)).toBe(false);
    expect(await b.complete(again!)).toBe(true);
  });

  it('two replicas: one pass per issue at a time across both, bursts collapse, every delivery answered', async () => {
    const replicas = [await open('t-two'), await open('t-two')];
    const running = new Map<number, number>();
    let overlaps = 0;
    const passes: Array<{ iid: number; started: number; ended: number }> = [];
    const pass = async (issue: IssueRef) => {
      const now = (running.get(issue.iid) ?? 0) + 1;
      running.set(issue.iid, now);
      if (now > 1) overlaps++;
      const started = Date.now();
      await sleep(40);
      running.set(issue.iid, running.get(issue.iid)! - 1);
      passes.push({ iid: issue.iid, started, ended: Date.now() });
    };
    for (const inbox of replicas) {
      const w = new Worker(inbox, pass, workerOptions, logger, null);
      workers.push(w);
      w.start();
    }
    const lastDelivery = new Map<number, number>();
    let deliveries = 0;
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        [1, 2, 3, 4, 5].map(async (iid) => {
          await replicas[(round + iid) % 2]!.accept(delivery(iid));
          lastDelivery.set(iid, Date.now());
          deliveries++;
        }),
      );
      await sleep(15);
    }
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const d = await replicas[0]!.depth();
      if (d.pending === 0 && d.running === 0) break;
      await sleep(50);
    }
    await Promise.all(workers.map((w) => w.idle()));
    expect(overlaps).toBe(0);
    // Passes never overlapped in time per issue either (across both processes' clocks: one clock here).
    for (const iid of [1, 2, 3, 4, 5]) {
      const own = passes.filter((p) => p.iid === iid).sort((x, y) => x.started - y.started);
      for (let i = 1; i < own.length; i++) expect(own[i]!.started).toBeGreaterThanOrEqual(own[i - 1]!.ended);
      // The last pass started after the issue's last delivery: nothing was left unanswered.
      expect(own[own.length - 1]!.started).toBeGreaterThanOrEqual(lastDelivery.get(iid)!);
    }
    expect(deliveries).toBe(100);
    expect(passes.length).toBeLessThan(deliveries / 2);
  });

  it('reports Redis gone at once (deliveries refused, ping false) and works again when it is back', async () => {
    const inbox = await open('t-outage');
    expect(await inbox.problem()).toBeNull();
    await redisServer().stop();
    try {
      await expect(inbox.accept(delivery(21))).rejects.toThrow();
      expect(await inbox.ping()).toBe(false);
      expect(await inbox.problem()).toMatch(/redis/);
    } finally {
      await redisServer().start();
    }
    const until = Date.now() + 10_000;
    while (!(await inbox.ping()) && Date.now() < until) await sleep(100);
    expect((await inbox.accept(delivery(21))).duplicate).toBe(false);
    expect((await claimSoon(inbox))?.issue.iid).toBe(21);
  });

  it('shutting down while Redis is away ends within the grace period (no wait for the reconnect)', async () => {
    const inbox = await RedisInbox.connect(redisServer().url, { prefix: 't-stop-outage', quietMs: 50 });
    const worker = new Worker(inbox, async () => {}, workerOptions, logger, null);
    worker.start();
    await redisServer().stop();
    try {
      await sleep(300); // the worker is looking at the inbox again, with Redis gone
      const started = Date.now();
      const shutdown = (async () => {
        await worker.stop(500);
        await inbox.close();
      })();
      const hung = await Promise.race([shutdown.then(() => false), sleep(5_000).then(() => true)]);
      expect(hung).toBe(false);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await redisServer().start();
    }
  });
});
