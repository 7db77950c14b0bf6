import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createWebhookServer } from '../../src/server/app.js';
import { BodyBudget } from '../../src/server/body-budget.js';

describe('BodyBudget (issue #16, point 3)', () => {
  it('never holds more than its capacity: later bodies wait, first come first served', async () => {
    const budget = new BodyBudget(100);
    const order: string[] = [];
    const a = await budget.reserve(60);
    const b = budget.reserve(60).then((r) => (order.push('b'), r));
    const c = budget.reserve(30).then((r) => (order.push('c'), r));
    await new Promise((r) => setImmediate(r));
    expect(budget.inUse).toBe(60);
    expect(order).toEqual([]);
    a();
    a(); // a second release changes nothing
    const releaseB = await b;
    const releaseC = await c;
    expect(order).toEqual(['b', 'c']);
    expect(budget.inUse).toBe(90);
    releaseB();
    releaseC();
    expect(budget.inUse).toBe(0);
  });

  it('a body larger than the capacity still gets through, alone', async () => {
    const budget = new BodyBudget(10);
    const release = await budget.reserve(1_000);
    expect(budget.inUse).toBe(10);
    release();
  });
});

describe('slow senders (issue #16, point 3)', () => {
  it('a request whose body trickles in is cut off at the request timeout (30 slow connections were held 40 s and more)', async () => {
    const server = await createWebhookServer(
      (req, res) => {
        req.resume();
        req.on('end', () => res.end('ok'));
      },
      0,
      '127.0.0.1',
      { requestMs: 500, headersMs: 500, checkEveryMs: 100 },
    );
    try {
      const port = (server.address() as AddressInfo).port;
      const started = performance.now();
      const closedAfter = await Promise.all(
        Array.from(
          { length: 5 },
          () =>
            new Promise<number>((resolve) => {
              const socket = connect(port, '127.0.0.1', () =>
                socket.write('POST /webhooks/gitlab HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n'),
              );
              const drip = setInterval(() => socket.write('x'), 50);
              socket.on('data', () => {});
              socket.on('error', () => {});
              socket.on('close', () => {
                clearInterval(drip);
                resolve(performance.now() - started);
              });
            }),
        ),
      );
      expect(Math.max(...closedAfter)).toBeLessThan(3_000);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
