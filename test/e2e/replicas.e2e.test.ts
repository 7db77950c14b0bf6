import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load-config.js';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import type { Config } from '../../src/domain/config.js';
import { startRedisServer, type RedisServerProcess } from '../../src/dev/redis-server.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../../src/dev/round-robin-proxy.js';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { startService, type RunningService } from '../../src/service/service.js';
import { processIssue } from '../../src/worker/process-issue.js';
import { EXAMPLE_CONFIG_PATH, exampleConfig } from '../helpers/config.js';
import { projectLabels, settingsFor, WEBHOOK_SECRET } from './stack.js';

const SAMPLE = readFileSync(join(import.meta.dirname, '..', '..', 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A valid request with its own account, as a stream of real requests would have. */
function request(n: number) {
  const customer = `Replica Account ${String(n).padStart(3, '0')}`;
  const description = SAMPLE.replace('Northwind Traders', customer).replace(
    '0014M00001lAbCdQAK',
    `001RPLC${String(n).padStart(8, '0')}`,
  );
  return {
    title: `Scale request: ${customer}`,
    description: `${description.trimEnd()}\n\n/label ~"segment::mm" ~"region::amr"\n`,
  };
}

/**
 * The example configuration with its pool mm/amr (members drew.cse then casey.cse, backup
 * harper.mgr, a manager) set to `strategy`, every member holding at most `capacity` (drew.cse's own
 * capacity, which would override the pool's, left out).
 */
function mmPool(strategy: 'round-robin' | 'least-loaded', capacity: number): Config {
  const example = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8');
  const text = example
    .replace(
      '{ segment: mm, region: amr, strategy: least-loaded,',
      `{ segment: mm, region: amr, strategy: ${strategy}, capacity: ${capacity},`,
    )
    .replace(
      'roles: [cse], segments: [ent, mm], regions: [amr], capacity: 8 }',
      'roles: [cse], segments: [ent, mm], regions: [amr] }',
    );
  if (
    !text.includes(`strategy: ${strategy}, capacity: ${capacity}, members: [drew.cse, casey.cse]`) ||
    text.includes('capacity: 8')
  )
    throw new Error('the example configuration changed: adapt mmPool');
  return parseConfigText(text, EXAMPLE_CONFIG_PATH);
}

interface Cluster {
  redis: RedisServerProcess;
  fake: FakeGitLab;
  replicas: RunningService[];
  proxy: RoundRobinProxy;
}

let cluster: Cluster | null = null;
afterEach(async () => {
  const c = cluster;
  cluster = null;
  if (!c) return;
  await c.proxy.close();
  for (const r of c.replicas) await r.stop(2_000);
  await c.fake.stop();
  await c.redis.close();
});

/**
 * `webhooks: false` leaves the fake's webhook unset: the test runs each pass itself on the replica
 * it chooses (`processIssue` with that replica's own dependencies).
 */
async function startCluster(replicas: number, options: { config?: Config; webhooks?: boolean } = {}): Promise<Cluster> {
  const config = options.config ?? exampleConfig();
  const redis = await startRedisServer();
  const fake = await startFakeGitLab({ labels: projectLabels(config) });
  const settings = settingsFor(fake, mkdtempSync(join(tmpdir(), 'scale-bot-replicas-')), {
    queue: { kind: 'redis', url: redis.url, prefix: 'e2e', reconcileMinutes: 0, dashboard: false, lockSeconds: 30 },
  });
  const started: RunningService[] = [];
  for (let i = 0; i < replicas; i++) {
    started.push(
      await startService(settings, config, {
        server: true,
        worker: true,
        logger: pino({ level: process.env.E2E_LOG ?? 'silent' }),
        coalesce: { quietMs: 30, maxWaitMs: 300 },
        workerOptions: { backoffMs: () => 50, idlePollMs: 20 },
        catchUpRetryMs: 200,
      }),
    );
  }
  const proxy = await startRoundRobinProxy(started.map((s) => s.url!));
  if (options.webhooks !== false) fake.setWebhook({ url: `${proxy.url}/webhooks/gitlab`, token: WEBHOOK_SECRET });
  return { redis, fake, replicas: started, proxy };
}

/** Every webhook answered, nothing queued or running in Redis, no replica with a pass in flight. */
async function drain(c: Cluster, withinMs = 20_000): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    await c.fake.settled();
    const depth = await c.replicas[0]!.inbox.depth();
    if (depth.pending === 0 && depth.running === 0) {
      await Promise.all(c.replicas.map((r) => r.worker!.idle()));
      const again = await c.replicas[0]!.inbox.depth();
      if (again.pending === 0 && again.running === 0) return;
    }
    if (Date.now() > until) throw new Error(`not drained within ${withinMs} ms: ${JSON.stringify(depth)}`);
    await sleep(50);
  }
}

const assigneeOf = (fake: FakeGitLab, iid: number) =>
  fake
    .issue(iid)
    .assignees.map((a) => a.username)
    .join(',');

const requestNotes = (fake: FakeGitLab, iid: number) =>
  fake.botNotes(iid).filter((n) => readNoteMarker(n.body)?.key === 'request');

describe('replicas on Redis (two services, one Redis, fake GitLab, round-robin in front)', () => {
  it('each request is answered once and assigned once, whichever replica took its webhooks', async () => {
    cluster = await startCluster(2);
    const { fake } = cluster;
    const iids: number[] = [];
    for (let n = 0; n < 8; n++) iids.push((await fake.as('alex.ae').createIssue(request(n))).iid);
    await drain(cluster);
    for (const iid of iids) {
      const issue = fake.issue(iid);
      expect(issue.labels).toContain('engagement::assigned');
      expect(issue.assignees).toHaveLength(1);
      expect(requestNotes(fake, iid)).toHaveLength(1);
    }
    expect(fake.deliveries.every((d) => d.status === 200 || d.status === 202)).toBe(true);
    expect(await cluster.replicas[0]!.inbox.list({ failed: true })).toEqual([]);
    fake.assertNoViolations();
  });

  it('Redis gone: deliveries 503 and /readyz says so; back: passes resume and the refused updates are swept', async () => {
    cluster = await startCluster(2);
    const { fake, redis, replicas, proxy } = cluster;
    const first = await fake.as('alex.ae').createIssue(request(100));
    await drain(cluster);
    await redis.stop();
    const during = await fake.as('alex.ae').createIssue(request(101));
    const refused = fake.deliveries.filter((d) => d.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    const ready = await fetch(`${proxy.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { store: string } }).checks.store).toMatch(/redis/);
    const outageEnded = Date.now();
    await redis.start();
    // Nobody redelivers: the refusal catch-up lists the issues updated since and queues their passes.
    const until = Date.now() + 20_000;
    while (!fake.issue(during.iid).labels.includes('engagement::assigned') && Date.now() < until) await sleep(100);
    expect(fake.issue(during.iid).labels).toContain('engagement::assigned');
    expect(Date.now() - outageEnded).toBeLessThan(20_000);
    await drain(cluster);
    expect(requestNotes(fake, during.iid)).toHaveLength(1);
    expect(requestNotes(fake, first.iid)).toHaveLength(1);
    // Ready again within GitLab's re-check after a failure (5 s), without a restart.
    for (const r of replicas) {
      const by = Date.now() + 10_000;
      while ((await fetch(`${r.url}/readyz`)).status !== 200 && Date.now() < by) await sleep(250);
      expect((await fetch(`${r.url}/readyz`)).status).toBe(200);
    }
  });

  describe('routing decided once for all replicas (shared routing state in Redis)', () => {
    const quiet = pino({ level: 'silent' });
    /** Creates `n` requests, then runs their passes one after another, replica 0, 1, 0, 1, … */
    async function alternate(c: Cluster, n: number): Promise<string[]> {
      const iids: number[] = [];
      for (let i = 0; i < n; i++) iids.push((await c.fake.as('alex.ae').createIssue(request(200 + i))).iid);
      for (const [i, iid] of iids.entries()) {
        const replica = c.replicas[i % c.replicas.length]!;
        await processIssue(replica.processDeps, iid, quiet);
      }
      return iids.map((iid) => assigneeOf(c.fake, iid));
    }

    it('a round-robin pool rotates exactly as one process would, whichever replica runs each pass', async () => {
      cluster = await startCluster(2, { config: mmPool('round-robin', 10), webhooks: false });
      // Each replica remembering only its own assignments would give drew.cse, casey.cse, casey.cse, …
      expect(await alternate(cluster, 6)).toEqual([
        'drew.cse',
        'casey.cse',
        'drew.cse',
        'casey.cse',
        'drew.cse',
        'casey.cse',
      ]);
      cluster.fake.assertNoViolations();
    });

    it('least-loaded with a capacity: nobody is given more than the capacity; the backup takes the rest', async () => {
      cluster = await startCluster(2, { config: mmPool('least-loaded', 2), webhooks: false });
      // Ties go to the first member listed; once both hold 2 the manager (never at capacity) takes over.
      expect(await alternate(cluster, 6)).toEqual([
        'drew.cse',
        'casey.cse',
        'drew.cse',
        'casey.cse',
        'harper.mgr',
        'harper.mgr',
      ]);
      cluster.fake.assertNoViolations();
    });

    it('a burst of new requests through both replicas at once: the rotation stays even and capacity holds', async () => {
      cluster = await startCluster(2, { config: mmPool('round-robin', 4) });
      const { fake } = cluster;
      const iids: number[] = [];
      for (let n = 0; n < 10; n++) iids.push((await fake.as('alex.ae').createIssue(request(300 + n))).iid);
      await drain(cluster);
      const count: Record<string, number> = {};
      for (const iid of iids) {
        const assignee = assigneeOf(fake, iid);
        count[assignee] = (count[assignee] ?? 0) + 1;
      }
      // Round-robin alternates drew.cse and casey.cse, each up to 4; the manager takes the last 2.
      expect(count).toEqual({ 'drew.cse': 4, 'casey.cse': 4, 'harper.mgr': 2 });
      fake.assertNoViolations();
    });
  });
});
