import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { GitLabClient } from '../../src/gitlab/client.js';
import { createRequester, DEFAULT_REQUESTER_SETTINGS } from '../../src/gitlab/requester.js';
import { redisPacer } from '../../src/queue/redis-pacing.js';
import { useRedisServer } from '../helpers/redis.js';

const redisServer = useRedisServer();
const clients: Redis[] = [];

afterAll(async () => {
  for (const c of clients.splice(0)) c.disconnect();
});

/** One replica's connection. */
function connect(): Redis {
  const c = new Redis(redisServer().url, { maxRetriesPerRequest: 1 });
  clients.push(c);
  return c;
}

const settings = (over: Partial<typeof DEFAULT_REQUESTER_SETTINGS>) => ({ ...DEFAULT_REQUESTER_SETTINGS, ...over });

/** The most calls seen in any window of `ms` (times sorted). */
function busiest(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('redisPacer: GitLab limits shared by replicas', () => {
  it('three replicas together stay within one requests-per-minute budget', async () => {
    const s = settings({ requestsPerMinute: 600 }); // 10 a second
    const pacers = [0, 1, 2].map(() => redisPacer(connect(), s, 'p-requests'));
    const granted: number[] = [];
    const until = Date.now() + 2_500;
    const signal = new AbortController().signal;
    await Promise.all(
      pacers.map(async (pacer) => {
        while (Date.now() < until) {
          await pacer.acquire('request', signal);
          granted.push(Date.now());
        }
      }),
    );
    // Three local pacers would let 30 a second through; the shared one 10 (±1 per window for the
    // few ms between Redis granting a call and this process seeing it).
    expect(busiest(granted, 900)).toBeLessThanOrEqual(10);
    expect(granted.length).toBeLessThanOrEqual(10 * 4);
    expect(granted.length).toBeGreaterThanOrEqual(20);
  });

  it('shares the search limit: the sixth search of a minute waits, whichever replica asks', async () => {
    const s = settings({ searchesPerMinute: 5 });
    const pacers = [0, 1, 2].map(() => redisPacer(connect(), s, 'p-search'));
    const outcomes = await Promise.all(
      [0, 1, 2, 0, 1, 2, 0, 1, 2].map((i) =>
        pacers[i]!.acquire('search', AbortSignal.timeout(1_500)).then(
          () => 'granted',
          () => 'waiting',
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'granted')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'waiting')).toHaveLength(4);
  });

  it("a 429 seen by one replica pauses the others' calls", async () => {
    const s = settings({ requestsPerMinute: 60_000 });
    const [a, b] = [redisPacer(connect(), s, 'p-pause'), redisPacer(connect(), s, 'p-pause')];
    await a.pause(Date.now() + 600);
    const started = Date.now();
    await b.acquire('request', new AbortController().signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('through the requester: three replicas posting notes never pass the notes limit together', async () => {
    const times: number[] = [];
    const server: Server = createServer((req, res) => {
      times.push(Date.now());
      req.resume();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 1, body: 'x', author: { id: 2, username: 'scale-bot' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const s = settings({ notesPerMinute: 300, requestsPerMinute: 60_000 }); // 5 notes a second
    const requesters = [0, 1, 2].map(() =>
      createRequester(s, pino({ level: 'silent' }), null, redisPacer(connect(), s, 'p-notes')),
    );
    try {
      const until = Date.now() + 2_000;
      await Promise.all(
        requesters.map(async (r) => {
          while (Date.now() < until) {
            await new GitLabClient({ url, token: 'glpat-test', project: 1 }, r).createNote(2, 'x');
          }
        }),
      );
    } finally {
      for (const r of requesters) await r.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
    // Calls are paced when they leave, GitLab counts them when they arrive: at most 5 are granted in
    // any second, and each lands a few ms later (more for a replica's first call, which opens its
    // connection; 30 ms were seen on a loaded machine). So at most 5 arrive in any second shortened by
    // that spread. Unshared, three replicas would send 15 a second.
    expect(busiest(times, 1_000 - 100)).toBeLessThanOrEqual(5);
    expect(times.length).toBeGreaterThanOrEqual(8);
    expect(times.length).toBeLessThanOrEqual(5 * 3);
  });

  it('many calls waiting on one stop signal add one abort listener, none once they are through', async () => {
    const pacer = redisPacer(connect(), settings({ requestsPerMinute: 60 }), 'p-listeners'); // 1 a second
    const stop = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      await pacer.acquire('request', stop.signal); // takes the second's one call: the rest wait
      const waiting = Array.from({ length: 15 }, () => pacer.acquire('request', stop.signal));
      await vi.waitFor(() => expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1));
      stop.abort(new Error('stopping'));
      const outcomes = await Promise.allSettled(waiting);
      expect(outcomes.map((o) => o.status === 'rejected' && (o.reason as Error).name)).toEqual(
        Array(15).fill('AbortError'),
      );
      expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
      // Node emits its leak warning on the next tick after the 11th listener.
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
