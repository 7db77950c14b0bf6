import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Router } from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';
import { createApp, type AppDeps, type ReadinessReport } from '../../src/server/app.js';

let server: Server | undefined;
let inbox: SqliteInbox | undefined;

afterEach(async () => {
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  inbox?.close();
  server = undefined;
  inbox = undefined;
});

/** The app on a loopback port, with the given readiness and status page; returns its base URL and its log lines. */
async function start(options: { readiness?: () => Promise<ReadinessReport>; status?: AppDeps['status'] } = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  inbox = SqliteInbox.open(':memory:');
  const app = createApp({
    inbox,
    settings: {
      secret: 'hook-secret',
      signingKey: null,
      project: { id: 15, path: null },
      botUsername: () => 'scale-bot',
      botUserId: () => 77,
    },
    logger: pino({ level: 'info' }, sink),
    metrics: createMetrics(() => inbox!.depth()),
    now: Date.now,
    onQueued: () => {},
    readiness: options.readiness ?? (async () => ({ ok: true, checks: { store: 'ok' } })),
    ...(options.status ? { status: options.status } : {}),
  });
  server = await new Promise<Server>((resolve) => {
    const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines };
}

describe('the probes and metrics on node:http', () => {
  it('answer as express did: JSON with its Content-Type, any case, a final slash and a query string allowed, HEAD too', async () => {
    const { base } = await start();
    for (const path of ['/healthz', '/HEALTHZ', '/healthz/', '/healthz?probe=1']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await res.json()).toEqual({ status: 'ok' });
    }
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await metrics.text()).toContain('scale_bot_queue_jobs');
  });

  it('/readyz answers 503 with the report when not ready, and 500 "internal error" (logged) when the check throws', async () => {
    let fail = false;
    const { base, lines } = await start({
      readiness: async () => {
        if (fail) throw new Error('boom');
        return { ok: false, checks: { store: 'locked' } };
      },
    });
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ok: false, checks: { store: 'locked' } });
    fail = true;
    const broken = await fetch(`${base}/readyz`);
    expect(broken.status).toBe(500);
    expect(await broken.json()).toEqual({ error: 'internal error' });
    expect(lines.find((l) => l.msg === 'request failed')).toMatchObject({ path: '/readyz', status: 500 });
  });

  it('sends everything else to the status page, which never sees a probe, a metric scrape or a delivery', async () => {
    const seen: string[] = [];
    const status = Router();
    status.use((req, res) => {
      seen.push(`${req.method} ${req.path}`);
      res.status(418).json({ page: 'status' });
    });
    const { base } = await start({ status });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/webhooks/gitlab`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`${base}/requests`)).status).toBe(418);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(418);
    expect(seen).toEqual(['GET /requests', 'POST /healthz']);
  });

  it('answers 404 to anything else when there is no status page', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/requests`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
  });
});
