import { afterEach, describe, expect, it } from 'vitest';
import { sendCta } from '../../src/crm/crm-sink.js';
import { startCrm } from './crm-server.js';

const record = {
  name: 'Northwind Traders - Ad-Hoc Scale CSE Engagement Request',
  company: 'Northwind Traders',
  type: 'Digital Journey',
  reason: 'Other Digital Journey Reason',
  priority: 'high',
  playbook: 'One-Off Scale CSM Outreach',
  issueUrl: 'https://gitlab.example.com/sales/requests/-/issues/7',
};
let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

describe('sendCta', () => {
  it('POSTs the record with the token and the per-issue idempotency key, and returns the CRM id', async () => {
    const crm = await startCrm();
    stop = crm.stop;
    const id = await sendCta({ url: crm.url, token: 'crm-secret', retries: 2, minBackoffMs: 10 }, 'key-7', record);
    expect(id).toBe('CTA-1');
    expect(crm.requests).toHaveLength(1);
    expect(crm.requests[0]!.headers.authorization).toBe('Bearer crm-secret');
    expect(crm.requests[0]!.headers['idempotency-key']).toBe('key-7');
    expect(crm.requests[0]!.body).toEqual(record);
  });

  it('retries 429 and 5xx with backoff; the same key never makes a second record', async () => {
    const crm = await startCrm([503, 429, 500]);
    stop = crm.stop;
    expect(await sendCta({ url: crm.url, token: 't', retries: 4, minBackoffMs: 10 }, 'key-7', record)).toBe('CTA-1');
    expect(crm.requests).toHaveLength(4);
    expect(await sendCta({ url: crm.url, token: 't', retries: 4, minBackoffMs: 10 }, 'key-7', record)).toBe('CTA-1');
    expect(crm.records.size).toBe(1);
  });

  it('gives up at once on a 4xx, and after the last retry on a lasting 5xx', async () => {
    const crm = await startCrm([401, 500, 500, 500]);
    stop = crm.stop;
    await expect(
      sendCta({ url: crm.url, token: 't', retries: 2, minBackoffMs: 10 }, 'k', record),
    ).rejects.toMatchObject({ name: 'CrmError', status: 401 });
    expect(crm.requests).toHaveLength(1);
    await expect(
      sendCta({ url: crm.url, token: 't', retries: 2, minBackoffMs: 10 }, 'k', record),
    ).rejects.toMatchObject({ status: 500 });
    expect(crm.requests).toHaveLength(4);
  });

  it('rejects an answer without a record id', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    stop = () => new Promise<void>((r) => server.close(() => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    await expect(sendCta({ url, token: 't', retries: 1, minBackoffMs: 10 }, 'k', record)).rejects.toThrow(
      /no record id/,
    );
  });
});
